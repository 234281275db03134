//! Value rules: a rendered secret must be a real value, not a leftover template marker, a
//! placeholder copied from documentation, or a truncated token.

/// Why a value cannot be a real secret, or None. The reason names the rule, never the value.
pub fn marker(value: &str) -> Option<&'static str> {
    if value.contains("{{") || value.contains("}}") {
        return Some("contains an unrendered template marker ({{ or }})");
    }
    if value.contains("<no value>") {
        return Some("contains `<no value>`: the key was missing when the agent rendered");
    }
    if value.contains("${") {
        return Some("contains an unexpanded `${...}` variable");
    }
    None
}

/// Placeholder words: values people paste from examples and forget to replace.
const EXACT: &[&str] = &[
    "secret",
    "password",
    "passwd",
    "token",
    "apikey",
    "api_key",
    "api-key",
    "key",
    "test",
    "testing",
    "todo",
    "tbd",
    "null",
    "none",
    "nil",
    "undefined",
    "default",
    "dummy",
    "fake",
    "foo",
    "bar",
    "foobar",
    "admin",
    "root",
    "letmein",
    "qwerty",
    "redacted",
    "example",
    "placeholder",
    "sample",
    "value",
];
const CONTAINS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "replaceme",
    "replace_me",
    "replace-me",
    "your_",
    "your-",
    "yourtoken",
    "yourkey",
    "yoursecret",
    "example",
    "placeholder",
    "insert_",
    "insert-",
    "fixme",
    "dummy",
    "redacted",
    "<",
    ">",
    "...",
    "sk-1234",
    "sk-xxxx",
    "sk-abcd",
    "1234567890",
    "abcdefghij",
    "0123456789",
];

pub fn placeholder(value: &str) -> Option<String> {
    let lower = value.to_ascii_lowercase();
    if EXACT.contains(&lower.as_str()) {
        return Some("is a placeholder word".into());
    }
    // The matched fragment is not named: it is part of the value.
    if CONTAINS.iter().any(|p| lower.contains(*p)) {
        return Some(
            "looks like a placeholder or a documentation sample, not a generated secret".into(),
        );
    }
    if lower.len() >= 3
        && lower
            .bytes()
            .all(|b| b == b'x' || b == b'*' || b == b'-' || b == b'.')
    {
        return Some("is a masked/placeholder pattern (xxx, ***)".into());
    }
    let mut distinct: Vec<u8> = value.bytes().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if value.len() >= 8 && distinct.len() < 5 {
        return Some(format!(
            "uses only {} distinct characters; a generated token has many",
            distinct.len()
        ));
    }
    None
}

/// Every content rule for one value; returns the reasons it fails.
pub fn problems(value: &str, min_length: usize) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(m) = marker(value) {
        out.push(m.to_string());
    } else if let Some(p) = placeholder(value) {
        out.push(p);
    }
    let len = value.chars().count();
    if len < min_length {
        out.push(format!(
            "is {len} characters, shorter than the required {min_length}; generate it e.g. with `openssl rand -hex 32`"
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_tokens_pass() {
        for v in [
            "9f2c41d0b7e8a6c3f5d4e2b1a0c9d8e7f6a5b4c3",
            "syt_b3BlbmNsYXc_QxWvTbRzYpLmNkJh_3kF9aZ",
            "123456789:AAHk9aQ-mZpLxWvTbRzYqNkJhGfDsAeRtyU",
        ] {
            assert!(problems(v, 16).is_empty(), "{v}: {:?}", problems(v, 16));
        }
    }

    #[test]
    fn placeholders_fail() {
        for v in [
            "changeme",
            "CHANGE_ME_PLEASE",
            "YOUR_API_KEY_HERE",
            "sk-1234567890abcdef",
            "xxxxxxxxxxxxxxxx",
            "<token>",
            "secret",
            "aaaaaaaaaaaaaaaaaaaa",
            "{{ .Data }}",
            "<no value>",
            "example-token-value",
        ] {
            assert!(!problems(v, 4).is_empty(), "{v}");
        }
    }
}
