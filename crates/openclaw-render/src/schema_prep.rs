//! Prepares OpenClaw's schema for validation in Rust. Shared by build.rs (which runs it once at
//! build time, so a render only parses the result) and the library's tests.

/// Annotation keywords: they document, they never constrain, and they are half the bytes.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "examples",
    "default",
    "$comment",
    "markdownDescription",
];

/// Every preparation step, in order.
pub fn prepare(schema: &mut serde_json::Value) {
    strip_annotations(schema);
    patterns_to_rust(schema);
    bounded_classes_to_max_length(schema);
    rebase_local_defs(schema, "");
}

/// Drops annotation keywords from schema objects (not from maps of property names, where
/// `title` or `description` may be a real property).
fn strip_annotations(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            m.retain(|k, _| !ANNOTATIONS.contains(&k.as_str()));
            for (k, child) in m.iter_mut() {
                match (k.as_str(), child) {
                    (
                        "properties" | "patternProperties" | "$defs" | "definitions",
                        serde_json::Value::Object(names),
                    ) => names.values_mut().for_each(strip_annotations),
                    (_, c) => strip_annotations(c),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(strip_annotations),
        _ => {}
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
pub(crate) fn to_rust_dialect(p: &str) -> String {
    escape_class_brackets(p)
        .replace("[^\\p{Cs}]", "[\\s\\S]")
        .replace("\\p{Cs}", "")
}

pub(crate) fn escape_class_brackets(p: &str) -> String {
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

/// `^(?!..)[class]{1,512}$` compiles to an automaton with one copy of a Unicode class per
/// repetition: hundreds of MB and most of a render's time. For a pattern of exactly that shape
/// (lookaheads, then one character class repeated to the end) it is equivalent to
/// `^(?!..)[class]+$` with `maxLength: 512`, which JSON Schema counts in characters too.
fn bounded_classes_to_max_length(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            let rewritten = m
                .get("pattern")
                .and_then(|p| p.as_str())
                .and_then(split_bounded_class);
            if let Some((pattern, max)) = rewritten {
                let max = m
                    .get("maxLength")
                    .and_then(|x| x.as_u64())
                    .map_or(max, |old| old.min(max));
                m.insert("pattern".into(), pattern.into());
                m.insert("maxLength".into(), max.into());
            }
            m.values_mut().for_each(bounded_classes_to_max_length);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(bounded_classes_to_max_length),
        _ => {}
    }
}

/// `^<lookaheads>[class]{1,N}$` -> (`^<lookaheads>[class]+$`, N); anything else -> None.
pub(crate) fn split_bounded_class(p: &str) -> Option<(String, u64)> {
    let body = p.strip_prefix('^')?.strip_suffix('$')?;
    let (head, n) = body.strip_suffix('}')?.rsplit_once("{1,")?;
    let n: u64 = n.parse().ok()?;
    let class = head.strip_suffix(']')?;
    // Find the `[` opening the final class: the last one not escaped.
    let open = class
        .char_indices()
        .filter(|(i, c)| *c == '[' && !class[..*i].ends_with('\\'))
        .map(|(i, _)| i)
        .next_back()?;
    let (prefix, class_body) = (&head[..open], &head[open..]);
    if class_body[1..class_body.len() - 1].contains(['[', ']']) && !class_body.contains("\\]") {
        return None;
    }
    if !lookaheads_only(prefix) {
        return None;
    }
    Some((format!("^{prefix}{class_body}+$"), n))
}

/// True when `s` is a run of `(?!...)` groups (balanced parentheses, nothing between).
fn lookaheads_only(s: &str) -> bool {
    let mut rest = s;
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix("(?!") else {
            return false;
        };
        let mut depth = 1;
        let mut end = None;
        let mut escaped = false;
        for (i, c) in inner.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(e) = end else { return false };
        rest = &inner[e + 1..];
    }
    true
}
