//! OpenClaw's own JSON Schema for the pinned version, embedded so a NixOS build (or any
//! render) rejects an invalid openclaw.json without Node. `scripts/refresh-openclaw-schema.sh`
//! regenerates the file from `openclaw config schema`; a test proves they are identical.

use std::sync::OnceLock;

/// The OpenClaw version the embedded schema belongs to.
pub const OPENCLAW_VERSION: &str = "2026.9.6";

/// The schema text exactly as `openclaw config schema` printed it.
pub const SCHEMA_JSON: &str = include_str!("../openclaw-schema/openclaw-2026.9.6.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let mut schema: serde_json::Value =
            serde_json::from_str(SCHEMA_JSON).expect("embedded OpenClaw schema is JSON");
        patterns_to_rust(&mut schema);
        rebase_local_defs(&mut schema, "");
        jsonschema::draft7::options()
            .with_pattern_options(jsonschema::PatternOptions::fancy_regex())
            .build(&schema)
            .expect("embedded OpenClaw schema compiles")
    })
}

/// Validates a config against the schema; the error lists each failing path.
pub fn validate(config: &serde_json::Value) -> Result<(), String> {
    let errors: Vec<String> = validator()
        .iter_errors(config)
        .map(|e| format!("  - at '{}': {}", e.instance_path, e))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}

/// OpenClaw's `pattern`s are ECMAScript regexes, where a bare `[` inside a character class is
/// a literal (`^[^.[\]]+$`); Rust's regex engines read it as a nested class. Escaping it keeps
/// the meaning and lets the schema compile. The embedded text itself stays untouched.
fn patterns_to_rust(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, child) in m.iter_mut() {
                match child {
                    serde_json::Value::String(p) if k == "pattern" => *p = to_rust_dialect(p),
                    _ => patterns_to_rust(child),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(patterns_to_rust),
        _ => {}
    }
}

/// Plugin config schemas are embedded whole, and their `#/$defs/x` refs mean *their own*
/// `$defs`, not the document root's. Rewrite each to the absolute pointer of the nearest
/// enclosing `$defs` that has it.
fn rebase_local_defs(v: &mut serde_json::Value, here: &str) {
    fn rewrite(v: &mut serde_json::Value, defs_ptr: &str, names: &[String]) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::String(r)) = m.get_mut("$ref") {
                    if let Some(name) = r.strip_prefix("#/$defs/") {
                        if names.iter().any(|n| n == name) {
                            *r = format!("#{defs_ptr}/{name}");
                        }
                    }
                }
                m.values_mut().for_each(|c| rewrite(c, defs_ptr, names));
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|c| rewrite(c, defs_ptr, names)),
            _ => {}
        }
    }
    match v {
        serde_json::Value::Object(m) => {
            if !here.is_empty() {
                if let Some(serde_json::Value::Object(defs)) = m.get("$defs") {
                    let names: Vec<String> = defs.keys().cloned().collect();
                    let ptr = format!("{here}/$defs");
                    m.values_mut().for_each(|c| rewrite(c, &ptr, &names));
                    return;
                }
            }
            for (k, c) in m.iter_mut() {
                let key = k.replace('~', "~0").replace('/', "~1");
                rebase_local_defs(c, &format!("{here}/{key}"));
            }
        }
        serde_json::Value::Array(a) => {
            for (i, c) in a.iter_mut().enumerate() {
                rebase_local_defs(c, &format!("{here}/{i}"));
            }
        }
        _ => {}
    }
}

/// Surrogates (`\p{Cs}`) cannot occur in a Rust string, so excluding them is a no-op here;
/// Rust's regex engine has no such class, so it is dropped.
fn to_rust_dialect(p: &str) -> String {
    escape_class_brackets(p)
        .replace("[^\\p{Cs}]", "[\\s\\S]")
        .replace("\\p{Cs}", "")
}

fn escape_class_brackets(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut in_class = false;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                match chars.next() {
                    // ECMA's `\0` is NUL; Rust spells it `\x00`.
                    Some('0') => out.push_str("\\x00"),
                    Some(n) => {
                        out.push(c);
                        out.push(n);
                    }
                    None => out.push(c),
                }
                continue;
            }
            '[' if in_class => out.push_str("\\["),
            '[' => {
                in_class = true;
                out.push(c);
                // A `]` right after `[` or `[^` is a literal in both dialects.
                if chars.peek() == Some(&'^') {
                    out.push(chars.next().unwrap());
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecma_class_brackets_are_escaped() {
        assert_eq!(escape_class_brackets(r"^[^.[\]]+$"), r"^[^.\[\]]+$");
        assert_eq!(escape_class_brackets(r"^[a-z]+\[x\]$"), r"^[a-z]+\[x\]$");
    }

    #[test]
    fn surrogate_classes_are_dropped() {
        assert_eq!(
            to_rust_dialect(r"^(?!\s)[^\p{Cs}]{1,64}$"),
            r"^(?!\s)[\s\S]{1,64}$"
        );
        assert_eq!(to_rust_dialect(r"[^\p{Cc}\p{Cs}/]"), r"[^\p{Cc}/]");
    }

    #[test]
    fn rejects_keys_this_openclaw_version_rejects() {
        let bad = serde_json::json!({ "logging": { "redactSensitive": "tools" } });
        let err = validate(&bad).unwrap_err();
        assert!(err.contains("redactSensitive"), "{err}");
        let bad_bind = serde_json::json!({ "gateway": { "bind": "0.0.0.0" } });
        assert!(validate(&bad_bind).is_err());
        assert!(validate(&serde_json::json!({ "gateway": { "bind": "loopback" } })).is_ok());
    }
}
