//! Every string field of the spec's JSON Schema, fed a newline, a NUL, a quote and a terminal
//! escape: each is refused naming the field, or (free-text fields only) rendered escaped, so
//! the injected text adds no line to any artifact. The field list comes from the schema, so a
//! new field is covered without anyone editing this test.

mod support;

use openclaw_render::{render_all, RenderError, Spec};
use serde_json::{json, Value};

const HOSTILE: &[&str] = &["\nExecStartPre=/bin/sh", "\0", "\"", "\u{1b}[31m", "\\"];

/// Fields whose text may legitimately carry these characters; their renderers escape them.
const FREE_TEXT: &[&str] = &[
    "agents[].name",
    "cron[].prompt",
    "hardening.redact_patterns[]",
];

#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index,
    /// Inside a tagged enum variant: the object gets `tag = value` and these required fields.
    Variant {
        tag: String,
        value: String,
        required: Vec<String>,
    },
}

fn resolve<'a>(root: &'a Value, s: &'a Value) -> &'a Value {
    match s.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(root, &root["definitions"][r.rsplit('/').next().unwrap()]),
        None => s,
    }
}

fn is_string(s: &Value) -> bool {
    match &s["type"] {
        Value::String(t) => t == "string",
        Value::Array(ts) => ts.iter().any(|t| t == "string"),
        _ => false,
    }
}

/// Every string leaf under `s`, as a list of segments.
fn string_fields(root: &Value, s: &Value, at: Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    let s = resolve(root, s);
    if is_string(s) {
        out.push(at.clone());
    }
    for alt in ["anyOf", "allOf"] {
        for v in s[alt].as_array().into_iter().flatten() {
            string_fields(root, v, at.clone(), out);
        }
    }
    for v in s["oneOf"].as_array().into_iter().flatten() {
        let v = resolve(root, v);
        let tag = v["properties"].as_object().and_then(|p| {
            p.iter()
                .find(|(_, x)| x["enum"].as_array().is_some_and(|e| e.len() == 1))
        });
        match tag {
            Some((k, x)) => {
                let mut at = at.clone();
                at.push(Seg::Variant {
                    tag: k.clone(),
                    value: x["enum"][0].as_str().unwrap().to_string(),
                    required: v["required"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|r| r.as_str().map(str::to_string))
                        .filter(|r| r != k)
                        .collect(),
                });
                for (name, p) in v["properties"].as_object().unwrap() {
                    if name != k {
                        let mut at = at.clone();
                        at.push(Seg::Key(name.clone()));
                        string_fields(root, p, at, out);
                    }
                }
            }
            None => string_fields(root, v, at.clone(), out),
        }
    }
    if let Some(props) = s["properties"].as_object() {
        for (k, p) in props {
            let mut at = at.clone();
            at.push(Seg::Key(k.clone()));
            string_fields(root, p, at, out);
        }
    }
    if s["items"].is_object() {
        let mut at = at.clone();
        at.push(Seg::Index);
        string_fields(root, &s["items"], at, out);
    }
    if s["additionalProperties"].is_object() {
        // Map values: the test edits the first entry (keys are covered by map_keys_*).
        let mut at = at.clone();
        at.push(Seg::Key("*".into()));
        string_fields(root, &s["additionalProperties"], at, out);
    }
}

/// The field as the spec names it (`agents[0].name`) and as the kind table does (`agents[].name`).
fn names(doc: &Value, segs: &[Seg]) -> (String, String) {
    let (mut field, mut place) = (String::new(), String::new());
    let mut at = doc;
    for s in segs {
        match s {
            Seg::Key(k) if k == "*" => {
                let first = at
                    .as_object()
                    .and_then(|m| m.keys().next())
                    .cloned()
                    .unwrap_or_default();
                field = format!("{field}.{first}");
                place = format!("{place}.*");
                at = &at[&first];
            }
            Seg::Key(k) => {
                field = if field.is_empty() {
                    k.clone()
                } else {
                    format!("{field}.{k}")
                };
                place = if place.is_empty() {
                    k.clone()
                } else {
                    format!("{place}.{k}")
                };
                at = &at[k];
            }
            Seg::Index => {
                field.push_str("[0]");
                place.push_str("[]");
                at = &at[0];
            }
            Seg::Variant { .. } => {}
        }
    }
    (field, place)
}

/// Sets the string at `segs` to `value`; None when the example lacks a parent of the field.
fn set(doc: &mut Value, segs: &[Seg], value: &str) -> Option<()> {
    let (last, parents) = segs.split_last().unwrap();
    let mut at = doc;
    for (i, s) in parents.iter().enumerate() {
        at = match s {
            Seg::Key(k) if k == "*" => {
                let first = at.as_object()?.keys().next()?.clone();
                at.get_mut(&first)?
            }
            // A list left at its default: the edit writes a one-item list.
            Seg::Key(k) if i + 1 == parents.len() && matches!(last, Seg::Index) => {
                at.as_object_mut()?.entry(k.clone()).or_insert(json!([]))
            }
            Seg::Key(k) => at.get_mut(k.as_str())?,
            Seg::Index => at.get_mut(0)?,
            Seg::Variant {
                tag,
                value,
                required,
            } => {
                let mut obj = json!({ tag: value });
                for r in required {
                    obj[r] = json!("/etc/openclaw/placeholder.pem");
                }
                *at = obj;
                at
            }
        };
    }
    match last {
        Seg::Key(k) => {
            at.as_object_mut()?.insert(k.clone(), json!(value));
        }
        Seg::Index => match at {
            Value::Array(a) if !a.is_empty() => a[0] = json!(value),
            Value::Array(a) => a.push(json!(value)),
            _ => return None,
        },
        Seg::Variant { .. } => return None,
    }
    Some(())
}

fn get<'a>(doc: &'a Value, segs: &[Seg]) -> Option<&'a Value> {
    let mut at = doc;
    for s in segs {
        at = match s {
            Seg::Key(k) if k == "*" => at.as_object()?.values().next()?,
            Seg::Key(k) => at.get(k.as_str())?,
            Seg::Index => at.get(0)?,
            Seg::Variant { tag, value, .. } => {
                if at.get(tag)? != value {
                    return None;
                }
                at
            }
        };
    }
    Some(at)
}

fn examples() -> Vec<Value> {
    let dir = support::repo_root().join("examples");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let t: toml::Value = toml::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            serde_json::to_value(t).unwrap()
        })
        .collect()
}

enum Outcome {
    Refused(String),
    Rendered(openclaw_render::Artifacts),
}

fn run(doc: &Value) -> Outcome {
    match Spec::from_json(&doc.to_string()) {
        Err(e) => Outcome::Refused(e.to_string()),
        Ok(spec) => match render_all(&spec) {
            Ok(a) => Outcome::Rendered(a),
            Err(RenderError::Invalid(inv)) => Outcome::Refused(
                inv.0
                    .iter()
                    .map(|p| format!("{}: {}\n", p.field, p.message))
                    .collect(),
            ),
            Err(e) => Outcome::Refused(e.to_string()),
        },
    }
}

fn lines(a: &openclaw_render::Artifacts) -> Vec<(String, usize)> {
    a.iter()
        .map(|x| (x.path.clone(), x.content.lines().count()))
        .collect()
}

#[test]
fn every_string_field_refuses_or_escapes_injection() {
    let schema = serde_json::to_value(schemars::schema_for!(Spec)).unwrap();
    let mut fields = Vec::new();
    string_fields(&schema, &schema, Vec::new(), &mut fields);
    assert!(
        fields.len() > 60,
        "only {} string fields found",
        fields.len()
    );
    let examples = examples();
    let mut failures = Vec::new();
    let mut untested = Vec::new();
    for segs in &fields {
        // A field is tried in the first example that has its parent and renders.
        let Some((base, doc)) = examples.iter().find_map(|ex| {
            let mut doc = ex.clone();
            let base = get(ex, segs)
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| "x".into());
            set(&mut doc, segs, &base)?;
            Some((base, doc))
        }) else {
            untested.push(format!("{segs:?}"));
            continue;
        };
        let (field, place) = names(&doc, segs);
        let baseline = match run(&doc) {
            Outcome::Rendered(a) => Some(a),
            Outcome::Refused(_) => None,
        };
        for bad in HOSTILE {
            let mut d = doc.clone();
            let value = format!("{base}{bad}");
            set(&mut d, segs, &value).unwrap();
            match run(&d) {
                Outcome::Refused(text) => {
                    let named = text.lines().any(|l| {
                        l.starts_with(&format!("{field}:")) || l.contains(&format!(": {field}:"))
                    });
                    if !named {
                        failures.push(format!(
                            "{field} = {value:?}: refused without naming it: {text}"
                        ));
                    }
                }
                Outcome::Rendered(a) if FREE_TEXT.contains(&place.as_str()) => {
                    // Escaped: no injected line anywhere and no raw control character outside JSON.
                    if let Some(b) = &baseline {
                        if lines(b) != lines(&a) {
                            failures
                                .push(format!("{field} = {value:?} changed the line structure"));
                        }
                    }
                    for x in &a {
                        if x.content
                            .chars()
                            .any(|c| c.is_control() && c != '\n' && c != '\t')
                        {
                            failures.push(format!(
                                "{field} = {value:?} left a raw control character in {}",
                                x.path
                            ));
                        }
                    }
                    let json: Value = serde_json::from_str(
                        &a.iter()
                            .find(|x| x.path == "openclaw.json")
                            .unwrap()
                            .content,
                    )
                    .unwrap();
                    if !json
                        .to_string()
                        .contains(&serde_json::to_string(&value).unwrap()[1..value.len()])
                    {
                        // The exact value must survive where OpenClaw reads it (JSON-escaped).
                        let all = a.iter().map(|x| x.content.as_str()).collect::<String>();
                        if !all.contains(&base) {
                            failures.push(format!("{field} = {value:?} was lost"));
                        }
                    }
                }
                Outcome::Rendered(_) => failures.push(format!("{field} = {value:?} was accepted")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Every field of the schema must be reachable from some example.
    assert!(
        untested.is_empty(),
        "no example has the parent of: {untested:#?}"
    );
}

#[test]
fn map_keys_refuse_injection() {
    let examples = examples();
    for (map, needle) in [
        ("secrets.items", "secrets"),
        ("channels.matrix.rooms", "channels"),
    ] {
        let ex = examples
            .iter()
            .find(|e| {
                e.pointer(&format!("/{}", map.replace('.', "/")))
                    .is_some_and(|m| m.as_object().is_some_and(|m| !m.is_empty()))
            })
            .unwrap_or_else(|| panic!("no example has {map}"));
        let _ = needle;
        for bad in HOSTILE {
            let mut doc = ex.clone();
            let m = doc
                .pointer_mut(&format!("/{}", map.replace('.', "/")))
                .unwrap()
                .as_object_mut()
                .unwrap();
            let (k, v) = m
                .iter()
                .next()
                .map(|(k, v)| (k.clone(), v.clone()))
                .unwrap();
            m.insert(format!("{k}{bad}"), v);
            match run(&doc) {
                Outcome::Refused(text) => assert!(
                    text.lines().any(|l| l.starts_with(&format!("{map}."))),
                    "{map} key {bad:?}: {text}"
                ),
                Outcome::Rendered(_) => panic!("{map} key {k}{bad:?} was accepted"),
            }
        }
    }
}
