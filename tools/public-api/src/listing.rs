//! The listing: one line per public item reachable from the crate root, in a fixed order.
//!
//! Items are found by walking public modules and `pub use`s from the root, so an item
//! defined in a private module appears at the path its re-export gives it; an item with
//! several public paths is listed in full at the shortest and as `pub use LONGER = SHORTEST`
//! at the others, and another crate's item re-exported here as `pub use OURS = THEIRS`.
//! Signatures name types by those same shortest paths.
//!
//! Each type's lines follow it: declaration, fields or variants (declaration order, which
//! derives and `repr` make meaningful), methods, trait impls, then the stable auto traits,
//! which say whether a type may cross threads in a runtime built on `!Send` tasks.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{Map, Value};

use crate::types::{array, flag, variant, Names, Render};

/// The rustdoc JSON format versions this reader was written and checked against.
///
/// rustdoc's JSON is unstable: a new toolchain may rename fields, and a reader that guessed
/// would produce a plausible but wrong listing. A version outside this range stops the test
/// so that someone checks the rendering (and extends the range) first.
pub const FORMAT_VERSIONS: std::ops::RangeInclusive<u64> = 57..=57;

/// Auto traits a user can name on stable; `Freeze` and `UnsafeUnpin` are compiler-internal
/// and would only add noise.
const AUTO_TRAITS: [&str; 5] = ["Send", "Sync", "Unpin", "UnwindSafe", "RefUnwindSafe"];

/// Where a line sorts: the item's path, then its section within that item, then its
/// position in the source where that order means something.
type Key = (Vec<String>, u8, usize);

const DECLARATION: u8 = 0;
const MEMBER: u8 = 1;
const METHOD: u8 = 2;
const TRAIT_IMPL: u8 = 3;
const AUTO_IMPL: u8 = 4;

/// The public path of each item by its definition path (`h2ring_frame::stream_id::StreamId`
/// → `h2ring_frame::StreamId`), so that one crate's listing names a sibling crate's types
/// as users write them rather than by the sibling's private modules.
pub type PublicPaths = HashMap<String, String>;

/// The [`PublicPaths`] of one crate's rustdoc JSON.
pub fn public_paths(doc: &Value) -> Result<PublicPaths, String> {
    let none = PublicPaths::new();
    let (crate_, _) = Crate::new(doc, &none)?;
    Ok(crate_
        .public
        .iter()
        .filter_map(|(id, path)| Some((crate_.definition_path(id)?, path.clone())))
        .collect())
}

/// Renders the listing of one crate's rustdoc JSON; `siblings` are the [`public_paths`] of
/// the crates it depends on.
pub fn render(doc: &Value, siblings: &PublicPaths) -> Result<String, String> {
    let (crate_, name) = Crate::new(doc, siblings)?;
    let mut lines: Vec<(Key, String)> =
        vec![(key(&name, DECLARATION, 0), format!("pub mod {name}"))];
    for (path, id) in &crate_.reached {
        crate_.item_lines(path, id, &mut lines);
    }
    for (path, source) in &crate_.reexports {
        lines.push((
            key(path, DECLARATION, 0),
            format!("pub use {path} = {source}"),
        ));
    }
    lines.sort();
    // A module reached by a glob and by name, or two impls differing only in what the
    // listing leaves out, would otherwise show twice.
    lines.dedup();
    let mut out = String::new();
    for (_, line) in lines {
        out += &line;
        out.push('\n');
    }
    Ok(out)
}

fn key(path: &str, section: u8, position: usize) -> Key {
    (
        path.split("::").map(str::to_owned).collect(),
        section,
        position,
    )
}

struct Crate<'a> {
    index: &'a Map<String, Value>,
    paths: &'a Map<String, Value>,
    siblings: &'a PublicPaths,
    /// Each local item's shortest public path: how signatures name it.
    public: HashMap<String, String>,
    /// The same for other crates' items that this one re-exports.
    reexported: HashMap<String, String>,
    /// Every (public path, item id) found from the root.
    reached: Vec<(String, Value)>,
    /// `pub use`s of other crates' items: (our path, the path written in the `use`).
    reexports: Vec<(String, String)>,
}

impl Names for Crate<'_> {
    fn path_of(&self, id: &Value, written: &str) -> String {
        let key = id.to_string();
        if let Some(path) = self.public.get(&key).or(self.reexported.get(&key)) {
            return path.clone();
        }
        match self.definition_path(&key) {
            Some(path) => self.siblings.get(&path).cloned().unwrap_or(path),
            None => written.to_owned(),
        }
    }
}

impl<'a> Crate<'a> {
    /// The crate in `doc`, walked from its root, and the root's name.
    fn new(doc: &'a Value, siblings: &'a PublicPaths) -> Result<(Self, String), String> {
        let version = doc["format_version"]
            .as_u64()
            .ok_or("no format_version: not rustdoc JSON?")?;
        if !FORMAT_VERSIONS.contains(&version) {
            return Err(format!(
                "rustdoc JSON format version {version}; this reader knows {FORMAT_VERSIONS:?}. \
                 Check its rendering against the new format (rustdoc-json-types' changelog), \
                 then extend FORMAT_VERSIONS in tools/public-api/src/listing.rs"
            ));
        }
        let mut crate_ = Crate {
            index: doc["index"].as_object().ok_or("no index")?,
            paths: doc["paths"].as_object().ok_or("no paths")?,
            siblings,
            public: HashMap::new(),
            reexported: HashMap::new(),
            reached: Vec::new(),
            reexports: Vec::new(),
        };
        let root = crate_
            .item(&doc["root"])
            .ok_or("root module missing from the index")?;
        let name = root["name"]
            .as_str()
            .ok_or("root module has no name")?
            .to_owned();
        crate_.walk(&doc["root"], &name, &mut HashSet::new());
        Ok((crate_, name))
    }

    /// Where the item `key` is defined, private modules included.
    fn definition_path(&self, key: &str) -> Option<String> {
        let segments = self.paths.get(key)?["path"].as_array()?;
        Some(
            segments
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("::"),
        )
    }

    fn item(&self, id: &Value) -> Option<&'a Value> {
        self.index.get(&id.to_string())
    }

    /// A local item: one rustdoc documents, rather than a std trait it only refers to.
    fn local(&self, id: &Value) -> Option<&'a Value> {
        self.item(id).filter(|item| item["crate_id"] == 0)
    }

    fn render(&self) -> Render<'_, Self> {
        Render { names: self }
    }

    fn walk(&mut self, module: &Value, prefix: &str, seen: &mut HashSet<(String, String)>) {
        if !seen.insert((module.to_string(), prefix.to_owned())) {
            return;
        }
        let Some(item) = self.item(module) else {
            return;
        };
        for child_id in array(&item["inner"]["module"]["items"]) {
            let Some(child) = self.item(child_id) else {
                continue;
            };
            if child["visibility"] != "public" {
                continue;
            }
            let (kind, inner) = variant(&child["inner"]);
            if kind != "use" {
                let path = format!("{prefix}::{}", child["name"].as_str().unwrap_or("_"));
                self.reach(path, child_id, seen);
                continue;
            }
            let target = &inner["id"];
            let source = inner["source"].as_str().unwrap_or("_");
            let local = self.local(target);
            if inner["is_glob"] == true {
                match local {
                    Some(_) => self.walk(target, prefix, seen),
                    None => self
                        .reexports
                        .push((format!("{prefix}::*"), format!("{source}::*"))),
                }
                continue;
            }
            let path = format!("{prefix}::{}", inner["name"].as_str().unwrap_or("_"));
            match local {
                Some(_) => self.reach(path, target, seen),
                None => {
                    shortest(&mut self.reexported, target, &path);
                    self.reexports.push((path, source.to_owned()));
                }
            }
        }
    }

    fn reach(&mut self, path: String, id: &Value, seen: &mut HashSet<(String, String)>) {
        shortest(&mut self.public, id, &path);
        self.reached.push((path.clone(), id.clone()));
        if self
            .item(id)
            .is_some_and(|item| variant(&item["inner"]).0 == "module")
        {
            self.walk(id, &path, seen);
        }
    }

    fn item_lines(&self, path: &str, id: &Value, lines: &mut Vec<(Key, String)>) {
        let Some(item) = self.item(id) else { return };
        let canonical = &self.public[&id.to_string()];
        if canonical != path {
            lines.push((
                key(path, DECLARATION, 0),
                format!("pub use {path} = {canonical}"),
            ));
            return;
        }
        let r = self.render();
        let attrs = attributes(item);
        let (kind, inner) = variant(&item["inner"]);
        let mut push =
            |section, position, line: String| lines.push((key(path, section, position), line));
        match kind {
            "module" => push(DECLARATION, 0, format!("pub mod {path}")),
            "struct" | "union" => {
                let (params, where_clause) = r.generics(&inner["generics"]);
                let (shape, fields) = variant(&inner["kind"]);
                let body = match shape {
                    "unit" => ";".to_owned(),
                    "tuple" => {
                        let fields: Vec<_> = array(fields)
                            .iter()
                            .map(|f| match self.item(f) {
                                Some(field) => {
                                    format!("pub {}", r.ty(&field["inner"]["struct_field"]))
                                }
                                None => "_".to_owned(),
                            })
                            .collect();
                        format!("({})", fields.join(", "))
                    }
                    _ if inner["has_stripped_fields"] == true
                        || fields["has_stripped_fields"] == true =>
                    {
                        " { /* private fields */ }".to_owned()
                    }
                    _ => String::new(),
                };
                push(
                    DECLARATION,
                    0,
                    format!("{attrs}pub {kind} {path}{params}{body}{where_clause}"),
                );
                let named = if shape == "plain" {
                    &fields["fields"]
                } else {
                    &inner["fields"]
                };
                for (i, field) in array(named).iter().enumerate() {
                    if let Some(field) = self.item(field) {
                        let name = field["name"].as_str().unwrap_or("_");
                        let ty = r.ty(&field["inner"]["struct_field"]);
                        push(
                            MEMBER,
                            i,
                            format!("{}pub {path}::{name}: {ty}", attributes(field)),
                        );
                    }
                }
                self.impl_lines(path, &inner["impls"], &mut push);
            }
            "enum" => {
                let (params, where_clause) = r.generics(&inner["generics"]);
                push(
                    DECLARATION,
                    0,
                    format!("{attrs}pub enum {path}{params}{where_clause}"),
                );
                for (i, v) in array(&inner["variants"]).iter().enumerate() {
                    if let Some(v) = self.item(v) {
                        push(MEMBER, i, self.variant_line(path, v));
                    }
                }
                self.impl_lines(path, &inner["impls"], &mut push);
            }
            "trait" => {
                let (params, where_clause) = r.generics(&inner["generics"]);
                let supertraits = r.declared_bounds(&inner["bounds"]);
                let unsafety = flag(inner, "is_unsafe", "unsafe ");
                let auto = flag(inner, "is_auto", "auto ");
                let dyn_note = if inner["is_dyn_compatible"] == true {
                    ""
                } else {
                    " // not dyn-compatible"
                };
                push(
                    DECLARATION,
                    0,
                    format!("{attrs}pub {unsafety}{auto}trait {path}{params}{supertraits}{where_clause}{dyn_note}"),
                );
                for member in array(&inner["items"]) {
                    if let Some(member) = self.item(member) {
                        if let Some(line) = self.assoc_line(path, member, true) {
                            push(METHOD, 0, line);
                        }
                    }
                }
                // Impls for this crate's listed types appear under those types; the rest
                // (blanket impls, impls for other crates' types) belong here.
                for imp in array(&inner["implementations"]) {
                    let Some(imp) = self.item(imp) else { continue };
                    let for_id = &imp["inner"]["impl"]["for"]["resolved_path"]["id"];
                    if !self.public.contains_key(&for_id.to_string()) {
                        push(TRAIT_IMPL, 0, self.trait_impl_line(&imp["inner"]["impl"]));
                    }
                }
            }
            "function" => push(
                DECLARATION,
                0,
                format!("{attrs}{}", r.function(path, inner)),
            ),
            "constant" => {
                let ty = r.ty(&inner["type"]);
                push(
                    DECLARATION,
                    0,
                    format!(
                        "{attrs}pub const {path}: {ty}{}",
                        const_value(&inner["const"])
                    ),
                );
            }
            "static" => {
                let mutability = flag(inner, "is_mutable", "mut ");
                push(
                    DECLARATION,
                    0,
                    format!(
                        "{attrs}pub static {mutability}{path}: {}",
                        r.ty(&inner["type"])
                    ),
                );
            }
            "type_alias" => {
                let (params, where_clause) = r.generics(&inner["generics"]);
                let ty = r.ty(&inner["type"]);
                push(
                    DECLARATION,
                    0,
                    format!("{attrs}pub type {path}{params}{where_clause} = {ty}"),
                );
            }
            "macro" | "proc_macro" => push(DECLARATION, 0, format!("{attrs}pub macro {path}!")),
            other => push(DECLARATION, 0, format!("{attrs}pub {other} {path}")),
        }
    }

    fn variant_line(&self, owner: &str, v: &Value) -> String {
        let r = self.render();
        let name = v["name"].as_str().unwrap_or("_");
        let inner = &v["inner"]["variant"];
        let field = |id: &Value| {
            self.item(id).map(|f| {
                (
                    f["name"].as_str().unwrap_or("_"),
                    r.ty(&f["inner"]["struct_field"]),
                )
            })
        };
        let (shape, fields) = variant(&inner["kind"]);
        let body = match shape {
            "tuple" => {
                let types: Vec<_> = array(fields)
                    .iter()
                    .map(|f| field(f).map_or("_".to_owned(), |(_, ty)| ty))
                    .collect();
                format!("({})", types.join(", "))
            }
            "struct" => {
                let mut named: Vec<_> = array(&fields["fields"])
                    .iter()
                    .filter_map(field)
                    .map(|(n, ty)| format!("{n}: {ty}"))
                    .collect();
                if fields["has_stripped_fields"] == true {
                    named.push("..".to_owned());
                }
                format!(" {{ {} }}", named.join(", "))
            }
            _ => String::new(),
        };
        let discriminant = match inner["discriminant"]["value"].as_str() {
            Some(value) => format!(" = {value}"),
            None => String::new(),
        };
        format!("{}pub {owner}::{name}{body}{discriminant}", attributes(v))
    }

    /// A method, associated constant or associated type, of a trait (`in_trait`) or of an
    /// inherent impl.
    fn assoc_line(&self, owner: &str, item: &Value, in_trait: bool) -> Option<String> {
        if !in_trait && item["visibility"] != "public" {
            return None;
        }
        let r = self.render();
        let path = format!("{owner}::{}", item["name"].as_str().unwrap_or("_"));
        let attrs = attributes(item);
        let (kind, inner) = variant(&item["inner"]);
        let line = match kind {
            "function" => {
                let provided = if in_trait && inner["has_body"] == true {
                    " { .. }"
                } else {
                    ""
                };
                format!("{}{provided}", r.function(&path, inner))
            }
            "assoc_const" => {
                // rustdoc writes `_` for a value it does not evaluate.
                let value = match inner["value"].as_str() {
                    Some(v) if v != "_" => format!(" = {v}"),
                    _ => String::new(),
                };
                format!("pub const {path}: {}{value}", r.ty(&inner["type"]))
            }
            "assoc_type" => {
                let (params, where_clause) = r.generics(&inner["generics"]);
                let bounds = r.declared_bounds(&inner["bounds"]);
                let default = if inner["type"].is_null() {
                    String::new()
                } else {
                    format!(" = {}", r.ty(&inner["type"]))
                };
                format!("pub type {path}{params}{bounds}{where_clause}{default}")
            }
            _ => return None,
        };
        Some(format!("{attrs}{line}"))
    }

    fn impl_lines(&self, owner: &str, impls: &Value, push: &mut impl FnMut(u8, usize, String)) {
        let r = self.render();
        for imp in array(impls) {
            let Some(imp) = self.item(imp) else { continue };
            let inner = &imp["inner"]["impl"];
            // `impl<T> From<T> for T` and friends hold for every type: listing them says nothing.
            if !inner["blanket_impl"].is_null() {
                continue;
            }
            if inner["trait"].is_null() {
                let (params, where_clause) = r.generics(&inner["generics"]);
                if !params.is_empty() || !where_clause.is_empty() {
                    push(
                        METHOD,
                        0,
                        format!("impl{params} {}{where_clause}", r.ty(&inner["for"])),
                    );
                }
                for member in array(&inner["items"]) {
                    if let Some(line) = self
                        .item(member)
                        .and_then(|m| self.assoc_line(owner, m, false))
                    {
                        push(METHOD, 1, line);
                    }
                }
                continue;
            }
            if inner["is_synthetic"] == true {
                let name = inner["trait"]["path"].as_str().unwrap_or("");
                if !AUTO_TRAITS.contains(&name.rsplit("::").next().unwrap_or("")) {
                    continue;
                }
                push(AUTO_IMPL, 0, self.trait_impl_line(inner));
                continue;
            }
            push(TRAIT_IMPL, 0, self.trait_impl_line(inner));
        }
    }

    /// `unsafe impl<G> !Trait<A> for Type where .. { type Assoc = T }`.
    fn trait_impl_line(&self, inner: &Value) -> String {
        let r = self.render();
        let (params, where_clause) = r.generics(&inner["generics"]);
        let unsafety = flag(inner, "is_unsafe", "unsafe ");
        let negation = flag(inner, "is_negative", "!");
        let trait_ = r.path(&inner["trait"]);
        let for_ = r.ty(&inner["for"]);
        let assoc: BTreeSet<String> = array(&inner["items"])
            .iter()
            .filter_map(|m| self.item(m))
            .filter(|m| variant(&m["inner"]).0 == "assoc_type")
            .map(|m| {
                let ty = &m["inner"]["assoc_type"]["type"];
                format!("type {} = {}", m["name"].as_str().unwrap_or("_"), r.ty(ty))
            })
            .collect();
        let assoc = if assoc.is_empty() {
            String::new()
        } else {
            format!(
                " {{ {} }}",
                assoc.into_iter().collect::<Vec<_>>().join("; ")
            )
        };
        format!("{unsafety}impl{params} {negation}{trait_} for {for_}{where_clause}{assoc}")
    }
}

/// Records `path` for `id` unless a shorter one is known; between paths of one length the
/// first in sort order wins, so the choice does not depend on the walk.
fn shortest(paths: &mut HashMap<String, String>, id: &Value, path: &str) {
    let depth = |p: &str| p.matches("::").count();
    let key = id.to_string();
    if paths
        .get(&key)
        .is_none_or(|old| (depth(path), path) < (depth(old), old.as_str()))
    {
        paths.insert(key, path.to_owned());
    }
}

/// The attributes that are part of an item's API, as a prefix.
fn attributes(item: &Value) -> String {
    let mut out = String::new();
    if !item["deprecation"].is_null() {
        out += "#[deprecated] ";
    }
    for attr in array(&item["attrs"]) {
        match variant(attr) {
            ("non_exhaustive", _) => out += "#[non_exhaustive] ",
            ("must_use", _) => out += "#[must_use] ",
            _ => {}
        }
    }
    out
}

/// ` = VALUE` for a constant whose value is short enough to read in a listing: a changed
/// default then shows in review, but a page of HTML does not fill a line.
fn const_value(c: &Value) -> String {
    const MAX: usize = 48;
    let value = match (c["value"].as_str(), c["is_literal"] == true) {
        (Some(value), _) => value,
        (None, true) => c["expr"].as_str().unwrap_or("_"),
        (None, false) => return String::new(),
    };
    if value.len() > MAX {
        String::new()
    } else {
        format!(" = {value}")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::render;

    /// A crate `c` with `pub use inner::Thing;` from a private module, where `Thing` is a
    /// `#[non_exhaustive]` struct with one public field, one method and a synthetic
    /// `!Send`.
    fn reexported_struct() -> serde_json::Value {
        let path = |p: &str, id: u32| json!({"resolved_path": {"path": p, "id": id, "args": null}});
        json!({
            "format_version": 57,
            "root": 0,
            "paths": {"9": {"crate_id": 1, "path": ["core", "marker", "Send"], "kind": "trait"}},
            "index": {
                "0": {"crate_id": 0, "name": "c", "visibility": "public", "attrs": [], "deprecation": null,
                      "inner": {"module": {"is_crate": true, "items": [1]}}},
                "1": {"crate_id": 0, "name": null, "visibility": "public", "attrs": [], "deprecation": null,
                      "inner": {"use": {"source": "inner::Thing", "name": "Thing", "id": 2, "is_glob": false}}},
                "2": {"crate_id": 0, "name": "Thing", "visibility": "public", "attrs": ["non_exhaustive"],
                      "deprecation": null,
                      "inner": {"struct": {"kind": {"plain": {"fields": [3], "has_stripped_fields": true}},
                                           "generics": {"params": [], "where_predicates": []},
                                           "impls": [4, 6]}}},
                "3": {"crate_id": 0, "name": "len", "visibility": "public", "attrs": [], "deprecation": null,
                      "inner": {"struct_field": {"primitive": "usize"}}},
                "4": {"crate_id": 0, "name": null, "visibility": "default", "attrs": [], "deprecation": null,
                      "inner": {"impl": {"is_unsafe": false, "generics": {"params": [], "where_predicates": []},
                                         "trait": null, "for": path("Thing", 2), "items": [5],
                                         "is_negative": false, "is_synthetic": false, "blanket_impl": null}}},
                "5": {"crate_id": 0, "name": "get", "visibility": "public", "attrs": [], "deprecation": null,
                      "inner": {"function": {
                          "sig": {"inputs": [["self", {"borrowed_ref": {"lifetime": null, "is_mutable": false,
                                                                        "type": {"generic": "Self"}}}],
                                             ["at", {"primitive": "usize"}]],
                                  "output": {"resolved_path": {"path": "Option", "id": 8, "args": {"angle_bracketed": {
                                      "args": [{"type": {"borrowed_ref": {"lifetime": null, "is_mutable": false,
                                                                           "type": {"slice": {"primitive": "u8"}}}}}],
                                      "constraints": []}}}},
                                  "is_c_variadic": false},
                          "generics": {"params": [], "where_predicates": []},
                          "header": {"is_const": false, "is_unsafe": false, "is_async": false, "abi": "Rust"},
                          "has_body": true}}},
                "6": {"crate_id": 0, "name": null, "visibility": "default", "attrs": [], "deprecation": null,
                      "inner": {"impl": {"is_unsafe": false, "generics": {"params": [], "where_predicates": []},
                                         "trait": {"path": "Send", "id": 9, "args": null},
                                         "for": path("Thing", 2), "items": [],
                                         "is_negative": true, "is_synthetic": true, "blanket_impl": null}}}
            }
        })
    }

    #[test]
    fn lists_a_reexport_at_the_path_users_write() {
        assert_eq!(
            render(&reexported_struct(), &Default::default()).unwrap(),
            "pub mod c\n\
             #[non_exhaustive] pub struct c::Thing { /* private fields */ }\n\
             pub c::Thing::len: usize\n\
             pub fn c::Thing::get(&self, at: usize) -> Option<&[u8]>\n\
             impl !core::marker::Send for c::Thing\n"
        );
    }

    #[test]
    fn refuses_an_unknown_format_version() {
        let mut doc = reexported_struct();
        doc["format_version"] = json!(1);
        assert!(render(&doc, &Default::default())
            .unwrap_err()
            .contains("format version 1"));
    }
}
