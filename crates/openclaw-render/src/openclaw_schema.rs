//! OpenClaw's own JSON Schema for the pinned version, embedded so a NixOS build (or any
//! render) rejects an invalid openclaw.json without Node. `scripts/refresh-openclaw-schema.sh`
//! regenerates the file from `openclaw config schema`; a test proves they are identical.

use std::sync::OnceLock;

/// The OpenClaw version the embedded schema belongs to.
pub const OPENCLAW_VERSION: &str = "2026.9.6";

/// The schema text exactly as `openclaw config schema` printed it.
pub const SCHEMA_JSON: &str = include_str!("../openclaw-schema/openclaw-2026.9.6.schema.json");

/// The schema, prepared at build time (see `schema_prep`), parsed once per process.
fn schema() -> &'static serde_json::Value {
    static S: OnceLock<serde_json::Value> = OnceLock::new();
    S.get_or_init(|| {
        serde_json::from_str(include_str!(concat!(
            env!("OUT_DIR"),
            "/openclaw-schema.prepared.json"
        )))
        .expect("prepared OpenClaw schema is JSON")
    })
}

/// Validates a config against the schema; the error lists each failing path.
///
/// Compiling all 2.4 MB of OpenClaw's schema takes most of a second, so only the part the
/// config can touch is compiled: `properties` keep just the keys the config has. That is
/// exact for this config, because `properties` only ever constrains keys that are present
/// (`required` and `additionalProperties` are kept as they are).
pub fn validate(config: &serde_json::Value) -> Result<(), String> {
    let rejected = rejections(config);
    if rejected.is_empty() {
        Ok(())
    } else {
        Err(describe(&rejected))
    }
}

/// Rejections as the lines of an error message.
pub fn describe(rejected: &[Rejection]) -> String {
    rejected
        .iter()
        .map(|r| format!("  - at '{}': {}", r.pointer, r.message))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One place where OpenClaw's schema rejects a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// JSON pointer of the rejected value (`""` for the top level).
    pub pointer: String,
    /// Keys the schema does not allow there (an `additionalProperties` refusal), if any.
    pub unexpected: Vec<String>,
    pub message: String,
}

/// Every rejection of `config` by the embedded schema (empty: valid).
pub fn rejections(config: &serde_json::Value) -> Vec<Rejection> {
    let pruned = prune(schema(), config);
    let validator = jsonschema::draft7::options()
        .with_pattern_options(jsonschema::PatternOptions::fancy_regex())
        .build(&pruned)
        .expect("embedded OpenClaw schema compiles");
    validator
        .iter_errors(config)
        .map(|e| Rejection {
            pointer: e.instance_path.to_string(),
            unexpected: match &e.kind {
                jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected } => {
                    unexpected.clone()
                }
                _ => Vec::new(),
            },
            message: e.to_string(),
        })
        .collect()
}

/// A copy of `schema` whose `properties` hold only the keys `instance` has, recursively:
/// through anyOf/oneOf/allOf (same instance), `additionalProperties`/`patternProperties`
/// (against the union of the object's values) and `items` (the union of the elements).
/// Everything else, `$ref` targets included, is kept.
fn prune(schema: &serde_json::Value, instance: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    let Value::Object(m) = schema else {
        return schema.clone();
    };
    let mut out = serde_json::Map::with_capacity(m.len());
    for (k, v) in m {
        let pruned = match (k.as_str(), v, instance) {
            ("properties", Value::Object(props), Value::Object(inst)) => Value::Object(
                props
                    .iter()
                    .filter_map(|(pk, pv)| inst.get(pk).map(|iv| (pk.clone(), prune(pv, iv))))
                    .collect(),
            ),
            ("additionalProperties", Value::Object(_), Value::Object(inst)) => {
                prune(v, &union(inst.values()))
            }
            ("patternProperties", Value::Object(pats), Value::Object(inst)) => {
                let u = union(inst.values());
                Value::Object(
                    pats.iter()
                        .map(|(pk, pv)| (pk.clone(), prune(pv, &u)))
                        .collect(),
                )
            }
            ("items", Value::Object(_), Value::Array(elems)) => prune(v, &union(elems.iter())),
            ("anyOf" | "oneOf" | "allOf", Value::Array(branches), _) => {
                Value::Array(branches.iter().map(|b| prune(b, instance)).collect())
            }
            _ => v.clone(),
        };
        out.insert(k.clone(), pruned);
    }
    Value::Object(out)
}

/// One value carrying every object key (recursively) any of `values` has, so pruning against it
/// keeps whatever any of them needs. Arrays concatenate; scalars keep the first.
fn union<'a>(values: impl Iterator<Item = &'a serde_json::Value>) -> serde_json::Value {
    use serde_json::Value;
    let mut acc = Value::Null;
    for v in values {
        merge_union(&mut acc, v);
    }
    acc
}

fn merge_union(acc: &mut serde_json::Value, v: &serde_json::Value) {
    use serde_json::Value;
    match (acc, v) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, bv) in b {
                merge_union(a.entry(k.clone()).or_insert(Value::Null), bv);
            }
        }
        (Value::Array(a), Value::Array(b)) => a.extend(b.iter().cloned()),
        (a @ Value::Null, b) => *a = b.clone(),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema_prep::*;

    #[test]
    fn ecma_class_brackets_are_escaped() {
        assert_eq!(escape_class_brackets(r"^[^.[\]]+$"), r"^[^.\[\]]+$");
        assert_eq!(escape_class_brackets(r"^[a-z]+\[x\]$"), r"^[a-z]+\[x\]$");
    }

    #[test]
    fn bounded_unicode_classes_become_max_length() {
        assert_eq!(
            split_bounded_class(r"^(?!\s)(?![\s\S]*\s$)[\s\S]{1,128}$"),
            Some((r"^(?!\s)(?![\s\S]*\s$)[\s\S]+$".to_string(), 128))
        );
        assert_eq!(
            split_bounded_class(r"^(?!\s)(?![\s\S]*\.\.)[^\p{Cc}/\\]{1,512}$"),
            Some((r"^(?!\s)(?![\s\S]*\.\.)[^\p{Cc}/\\]+$".to_string(), 512))
        );
        // Not the shape: a literal before the class, or other repetition bounds.
        assert_eq!(split_bounded_class(r"^a[b-z]{1,5}$"), None);
        assert_eq!(split_bounded_class(r"^[a-z0-9][a-z0-9-]{0,63}$"), None);
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
    fn the_build_time_preparation_is_what_is_embedded() {
        let mut v: serde_json::Value = serde_json::from_str(SCHEMA_JSON).unwrap();
        prepare(&mut v);
        assert!(&v == schema());
    }

    /// Pruning must not change any verdict: compare with the whole schema compiled.
    #[test]
    fn pruned_validation_matches_the_full_schema() {
        let full = jsonschema::draft7::options()
            .with_pattern_options(jsonschema::PatternOptions::fancy_regex())
            .build(schema())
            .unwrap();
        let configs = [
            serde_json::json!({ "gateway": { "bind": "loopback", "port": 18789 } }),
            serde_json::json!({ "gateway": { "bind": "0.0.0.0" } }),
            serde_json::json!({ "agents": { "entries": { "a": { "tools": { "allow": ["read"] } }, "b": { "bogus": 1 } } } }),
            serde_json::json!({ "agents": { "entries": { "a": { "name": "A" }, "b": { "workspace": "/w" } } } }),
            serde_json::json!({ "bindings": [ { "agentId": "a", "match": { "channel": "matrix" } }, { "agentId": "b", "match": {} } ] }),
            serde_json::json!({ "channels": { "matrix": { "groups": { "!r:x": { "requireMention": "yes" } } } } }),
            serde_json::json!({ "secrets": { "providers": { "f": { "source": "file", "path": "/run/x", "mode": "singleValue" } } } }),
            serde_json::json!({ "secrets": { "providers": { "f": { "source": "file" } } } }),
            serde_json::json!({ "plugins": { "entries": { "imap": { "enabled": true, "config": { "accounts": { "x": { "bogus": true } } } } } } }),
        ];
        for c in configs {
            assert_eq!(
                full.is_valid(&c),
                validate(&c).is_ok(),
                "verdicts differ for {c}"
            );
        }
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
