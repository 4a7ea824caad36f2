//! Rust syntax for rustdoc JSON's types, generics, bounds and signatures.
//!
//! Every item a type names is written by its public path (what a user writes), falling
//! back to its definition path, so a listing does not change when an author only renames
//! an import.

use serde_json::Value;

/// How a listing names the items that types refer to.
pub(crate) trait Names {
    /// The path to print for the item `id`, written as `written` in the source.
    fn path_of(&self, id: &Value, written: &str) -> String;
}

/// The `i`-th element of a JSON array, or `Null`.
fn at(v: &Value, i: usize) -> &Value {
    v.get(i).unwrap_or(&Value::Null)
}

pub(crate) fn array(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// The single key of an externally tagged enum value and its payload; a bare string is a
/// unit variant.
pub(crate) fn variant(v: &Value) -> (&str, &Value) {
    match v {
        Value::String(s) => (s, &Value::Null),
        Value::Object(map) if map.len() == 1 => {
            let (k, inner) = map.iter().next().expect("one entry");
            (k, inner)
        }
        _ => ("", &Value::Null),
    }
}

/// `word` if the boolean field `name` of `v` is set, else nothing.
pub(crate) fn flag(v: &Value, name: &str, word: &'static str) -> &'static str {
    if v[name] == true {
        word
    } else {
        ""
    }
}

/// `&'a mut target` for a `borrowed_ref` payload.
fn reference(v: &Value, target: &str) -> String {
    let lifetime = v["lifetime"]
        .as_str()
        .map(|l| format!("{l} "))
        .unwrap_or_default();
    let mutability = flag(v, "is_mutable", "mut ");
    format!("&{lifetime}{mutability}{target}")
}

pub(crate) struct Render<'a, N: Names> {
    pub(crate) names: &'a N,
}

impl<N: Names> Render<'_, N> {
    pub(crate) fn ty(&self, t: &Value) -> String {
        let (kind, v) = variant(t);
        match kind {
            "resolved_path" => self.path(v),
            "generic" | "primitive" => str_of(v).to_owned(),
            "borrowed_ref" => reference(v, &self.ty(&v["type"])),
            "raw_pointer" => {
                let mutability = if v["is_mutable"] == true {
                    "mut"
                } else {
                    "const"
                };
                format!("*{mutability} {}", self.ty(&v["type"]))
            }
            "tuple" => {
                let parts: Vec<_> = array(v).iter().map(|t| self.ty(t)).collect();
                if parts.len() == 1 {
                    format!("({},)", parts[0])
                } else {
                    format!("({})", parts.join(", "))
                }
            }
            "slice" => format!("[{}]", self.ty(v)),
            "array" => format!("[{}; {}]", self.ty(&v["type"]), str_of(&v["len"])),
            "pat" => self.ty(&v["type"]),
            "impl_trait" => format!("impl {}", self.bounds(v)),
            "dyn_trait" => {
                let mut parts: Vec<_> = array(&v["traits"])
                    .iter()
                    .map(|p| {
                        format!(
                            "{}{}",
                            self.hrtb(&p["generic_params"]),
                            self.path(&p["trait"])
                        )
                    })
                    .collect();
                if let Some(l) = v["lifetime"].as_str() {
                    parts.push(l.to_owned());
                }
                format!("dyn {}", parts.join(" + "))
            }
            "qualified_path" => {
                let name = format!("{}{}", str_of(&v["name"]), self.args(&v["args"]));
                let self_type = self.ty(&v["self_type"]);
                if v["trait"].is_null() || self_type == "Self" {
                    format!("{self_type}::{name}")
                } else {
                    format!("<{self_type} as {}>::{name}", self.path(&v["trait"]))
                }
            }
            "function_pointer" => format!(
                "{}{}fn{}",
                self.hrtb(&v["generic_params"]),
                self.header(&v["header"]),
                // A pointer's parameter names are only documentation.
                self.signature(&v["sig"], |_, t| self.ty(t))
            ),
            "infer" => "_".to_owned(),
            _ => format!("/* {kind} */"),
        }
    }

    /// A `Path` (`{path, id, args}`): the item's public path and its generic arguments.
    pub(crate) fn path(&self, p: &Value) -> String {
        format!(
            "{}{}",
            self.names.path_of(&p["id"], str_of(&p["path"])),
            self.args(&p["args"])
        )
    }

    fn args(&self, args: &Value) -> String {
        let (kind, v) = variant(args);
        match kind {
            "angle_bracketed" => {
                let mut parts: Vec<String> = array(&v["args"])
                    .iter()
                    .map(|a| {
                        let (k, a) = variant(a);
                        match k {
                            "lifetime" => str_of(a).to_owned(),
                            "type" => self.ty(a),
                            "const" => self.constant(a),
                            _ => "_".to_owned(),
                        }
                    })
                    .collect();
                parts.extend(array(&v["constraints"]).iter().map(|c| {
                    let name = format!("{}{}", str_of(&c["name"]), self.args(&c["args"]));
                    let (k, b) = variant(&c["binding"]);
                    match k {
                        "equality" => {
                            let (term, t) = variant(b);
                            let value = if term == "type" {
                                self.ty(t)
                            } else {
                                self.constant(t)
                            };
                            format!("{name} = {value}")
                        }
                        _ => format!("{name}: {}", self.bounds(b)),
                    }
                }));
                if parts.is_empty() {
                    String::new()
                } else {
                    format!("<{}>", parts.join(", "))
                }
            }
            "parenthesized" => {
                let inputs: Vec<_> = array(&v["inputs"]).iter().map(|t| self.ty(t)).collect();
                format!("({}){}", inputs.join(", "), self.output(&v["output"]))
            }
            "return_type_notation" => "(..)".to_owned(),
            _ => String::new(),
        }
    }

    /// A constant expression: its evaluated value where rustdoc has one, else its source.
    pub(crate) fn constant(&self, c: &Value) -> String {
        c["value"]
            .as_str()
            .or(c["expr"].as_str())
            .unwrap_or("_")
            .to_owned()
    }

    fn output(&self, output: &Value) -> String {
        if output.is_null() {
            String::new()
        } else {
            format!(" -> {}", self.ty(output))
        }
    }

    pub(crate) fn bounds(&self, bounds: &Value) -> String {
        let parts: Vec<_> = array(bounds)
            .iter()
            .map(|b| {
                let (kind, v) = variant(b);
                match kind {
                    "trait_bound" => {
                        let modifier = match str_of(&v["modifier"]) {
                            "maybe" => "?",
                            "maybe_const" => "~const ",
                            _ => "",
                        };
                        format!(
                            "{}{modifier}{}",
                            self.hrtb(&v["generic_params"]),
                            self.path(&v["trait"])
                        )
                    }
                    "outlives" => str_of(v).to_owned(),
                    "use" => {
                        let captured: Vec<_> = array(v)
                            .iter()
                            .map(|a| str_of(variant(a).1).to_owned())
                            .collect();
                        format!("use<{}>", captured.join(", "))
                    }
                    _ => format!("/* {kind} */"),
                }
            })
            .collect();
        parts.join(" + ")
    }

    /// `: A + B` after a declared name, or nothing when there are no bounds.
    pub(crate) fn declared_bounds(&self, bounds: &Value) -> String {
        if array(bounds).is_empty() {
            String::new()
        } else {
            format!(": {}", self.bounds(bounds))
        }
    }

    /// `for<'a> ` from higher-ranked parameters, or nothing.
    fn hrtb(&self, params: &Value) -> String {
        if array(params).is_empty() {
            String::new()
        } else {
            format!("for{} ", self.params(params))
        }
    }

    /// `<'a, T: Bound = Default, const N: usize>`, without the parameters rustdoc invents for
    /// argument-position `impl Trait`.
    fn params(&self, params: &Value) -> String {
        let parts: Vec<_> = array(params)
            .iter()
            .filter_map(|p| {
                let name = str_of(&p["name"]);
                let (kind, v) = variant(&p["kind"]);
                match kind {
                    "lifetime" => {
                        let outlives: Vec<_> = array(&v["outlives"]).iter().map(str_of).collect();
                        Some(if outlives.is_empty() {
                            name.to_owned()
                        } else {
                            format!("{name}: {}", outlives.join(" + "))
                        })
                    }
                    "type" if v["is_synthetic"] == true => None,
                    "type" => {
                        let mut s = format!("{name}{}", self.declared_bounds(&v["bounds"]));
                        if !v["default"].is_null() {
                            s += &format!(" = {}", self.ty(&v["default"]));
                        }
                        Some(s)
                    }
                    "const" => {
                        let mut s = format!("const {name}: {}", self.ty(&v["type"]));
                        if let Some(d) = v["default"].as_str() {
                            s += &format!(" = {d}");
                        }
                        Some(s)
                    }
                    _ => None,
                }
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("<{}>", parts.join(", "))
        }
    }

    /// A `Generics` value split into its parameter list and its where-clause.
    pub(crate) fn generics(&self, g: &Value) -> (String, String) {
        let predicates: Vec<_> = array(&g["where_predicates"])
            .iter()
            .map(|p| {
                let (kind, v) = variant(p);
                match kind {
                    "bound_predicate" => format!(
                        "{}{}: {}",
                        self.hrtb(&v["generic_params"]),
                        self.ty(&v["type"]),
                        self.bounds(&v["bounds"])
                    ),
                    "lifetime_predicate" => {
                        let outlives: Vec<_> = array(&v["outlives"]).iter().map(str_of).collect();
                        format!("{}: {}", str_of(&v["lifetime"]), outlives.join(" + "))
                    }
                    "eq_predicate" => {
                        let (term, t) = variant(&v["rhs"]);
                        let rhs = if term == "type" {
                            self.ty(t)
                        } else {
                            self.constant(t)
                        };
                        format!("{} = {rhs}", self.ty(&v["lhs"]))
                    }
                    _ => format!("/* {kind} */"),
                }
            })
            .collect();
        let where_clause = if predicates.is_empty() {
            String::new()
        } else {
            format!(" where {}", predicates.join(", "))
        };
        (self.params(&g["params"]), where_clause)
    }

    /// `const async unsafe extern "C" ` as the function header asks.
    fn header(&self, h: &Value) -> String {
        let mut s = [
            ("is_const", "const "),
            ("is_async", "async "),
            ("is_unsafe", "unsafe "),
        ]
        .map(|(name, word)| flag(h, name, word))
        .concat();
        match variant(&h["abi"]).0 {
            "Rust" | "" => {}
            abi => s += &format!("extern \"{abi}\" "),
        }
        s
    }

    /// `pub fn PATH<G>(params) -> R where ..` for a `function` item's payload.
    pub(crate) fn function(&self, path: &str, f: &Value) -> String {
        let (params, where_clause) = self.generics(&f["generics"]);
        format!(
            "pub {}fn {path}{params}{}{where_clause}",
            self.header(&f["header"]),
            self.signature(&f["sig"], |name, t| self.param(name, t))
        )
    }

    /// `(a: A, b: B) -> R`, each parameter written by `param(name, type)`.
    fn signature(&self, sig: &Value, param: impl Fn(&str, &Value) -> String) -> String {
        let inputs: Vec<_> = array(&sig["inputs"])
            .iter()
            .map(|p| param(str_of(at(p, 0)), at(p, 1)))
            .collect();
        format!("({}){}", inputs.join(", "), self.output(&sig["output"]))
    }

    /// One parameter, with `self` receivers in their short forms.
    fn param(&self, name: &str, t: &Value) -> String {
        if name == "self" {
            let (kind, v) = variant(t);
            if kind == "generic" && str_of(v) == "Self" {
                return "self".to_owned();
            }
            if kind == "borrowed_ref" && v["type"] == serde_json::json!({"generic": "Self"}) {
                return reference(v, "self");
            }
        }
        format!("{name}: {}", self.ty(t))
    }
}
