//! The crate's modules import only downward, in the layers `docs/ARCHITECTURE.md` draws:
//! every `crate::<module>` path in a file must name its own layer or a lower one, and the
//! two protocol drivers do not import each other. A change that reaches up (a runtime
//! that knows HTTP, a service type that names a driver's internals) fails here.

use std::path::{Path, PathBuf};

/// Layers from the bottom up; a module may use its own layer and those before it.
const LAYERS: &[(&str, &[&str])] = &[
    ("leaf", &["error", "metrics"]),
    ("runtime", &["runtime"]),
    ("transport", &["transport"]),
    ("service", &["service"]),
    ("driver", &["driver"]),
    ("server", &["server", "static_files"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/driver/h2/io.rs` → `driver`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.trim_end_matches(".rs").to_string()
}

/// Every `crate::name` in `text`, outside comments.
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let ident = |s: &str| -> String {
                s.trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            match after.strip_prefix('{') {
                // `use crate::{a::X, B};` on one line: each item's first segment.
                Some(group) => {
                    let group = group.split('}').next().unwrap_or("");
                    found.extend(group.split(',').map(ident).filter(|n| !n.is_empty()));
                }
                None => found.push(ident(after)),
            }
            rest = after;
        }
    }
    found
}

#[test]
fn modules_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in &files {
        let module = module_of(&src, file);
        // lib.rs is the facade (re-exports every layer); the binary uses `h2ring::` only.
        if module == "lib" || module == "bin" {
            continue;
        }
        let from = layer_of(&module)
            .unwrap_or_else(|| panic!("{}: module `{module}` is in no layer", file.display()));
        let text = std::fs::read_to_string(file).unwrap();
        let in_test = file.ends_with("tests.rs");
        for target in crate_paths(&text) {
            checked += 1;
            // Root re-exports (`crate::Http2Config`) name types of other crates or of
            // the layer that defines them; the first lowercase segment is a module.
            if target.starts_with(|c: char| c.is_ascii_uppercase()) {
                continue;
            }
            let Some(to) = layer_of(&target) else {
                violations.push(format!(
                    "{}: crate::{target} is in no layer",
                    file.display()
                ));
                continue;
            };
            // Unit tests may drive their layer through a higher one's configuration.
            if to > from && !in_test {
                violations.push(format!(
                    "{}: {} (layer {}) imports crate::{target} (layer {})",
                    file.display(),
                    module,
                    LAYERS[from].0,
                    LAYERS[to].0
                ));
            }
        }
        let rel = file.strip_prefix(&src).unwrap();
        for (me, other) in [("h2", "http1"), ("http1", "h2")] {
            if rel.starts_with(Path::new("driver").join(me))
                && text.contains(&format!("driver::{other}"))
            {
                violations.push(format!(
                    "{}: driver {me} imports driver {other}",
                    file.display()
                ));
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} crate paths found: is the scan broken?"
    );
    assert!(
        violations.is_empty(),
        "upward imports:\n{}",
        violations.join("\n")
    );
}

#[test]
fn the_scan_sees_paths_and_skips_comments() {
    let text = "use crate::runtime::ConnInfo; // crate::server is not real\n\
                let x = crate::service::respond::empty_response(s);\n\
                use crate::{driver::h2, Cores};";
    assert_eq!(
        crate_paths(text),
        vec!["runtime", "service", "driver", "Cores"]
    );
}
