//! The public API listings in `crates/*/public-api.txt` match the code.

use std::path::PathBuf;

use h2ring_public_api::{build_json, diff, listings, workspace_root, CRATES};

/// The nested cargo's own target directory (the outer `cargo test` holds the lock on its
/// own), kept inside the outer one so that a CI cache of that also keeps this warm.
fn target_dir() -> PathBuf {
    // A relative CARGO_TARGET_DIR was meant from where cargo was run, usually the
    // workspace root; this test runs in its package's directory.
    let outer =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), PathBuf::from);
    workspace_root().join(outer).join("public-api")
}

#[test]
fn public_api_matches_snapshots() {
    let root = workspace_root();
    let target = target_dir();
    build_json(&root, &target, &CRATES).unwrap_or_else(|e| panic!("{e}"));
    let update = std::env::var_os("UPDATE_PUBLIC_API").is_some_and(|v| !v.is_empty() && v != "0");
    let mut failures = String::new();
    let listings = listings(&target, &CRATES).unwrap_or_else(|e| panic!("{e}"));
    for (krate, new) in CRATES.iter().zip(listings) {
        let file = root.join(krate.dir).join("public-api.txt");
        let old = std::fs::read_to_string(&file).unwrap_or_default();
        if new == old {
            continue;
        }
        if update {
            std::fs::write(&file, &new).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            eprintln!("updated {}", file.display());
        } else {
            failures += &format!(
                "\n{} ({}/public-api.txt):\n{}",
                krate.package,
                krate.dir,
                diff(&old, &new)
            );
        }
    }
    assert!(
        failures.is_empty(),
        "the public API differs from its checked-in listing (- listed, + now):\n{failures}\n\
         If the change is intended, run `UPDATE_PUBLIC_API=1 cargo test -p h2ring-public-api` \
         and commit the listings."
    );
}
