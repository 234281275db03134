//! The env-file syntax we accept: the subset that systemd's `EnvironmentFile=` and
//! `podman --env-file` read identically (proved by tests/envfile_parsers.rs against both).
//!
//! - `KEY=VALUE` lines, `KEY` matching `[A-Za-z_][A-Za-z0-9_]*`, nothing around the `=`;
//! - `VALUE` is printable ASCII without space, quotes, backslash or `$`: systemd strips
//!   quotes, unescapes backslashes, trims whitespace and joins continuation lines, Podman
//!   keeps all of that literally, so any of these would give the gateway a different secret
//!   depending on how it runs (`$` is refused too: systemd expands it in some code paths);
//! - empty lines and lines starting with `#` are comments; no `export`, no `;` comments, no
//!   bare `KEY` (Podman would copy the host's variable), no duplicate keys, no CR, no tabs,
//!   nothing outside ASCII.
//!
//! Errors name the line and the rule, never the value.

/// One syntax error: line number (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub key: Option<String>,
    pub message: String,
}

/// `[A-Za-z_][A-Za-z0-9_]*`: the only text of a line a report may print.
pub fn is_var_name(key: &str) -> bool {
    key.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Parses an env file; returns the entries in file order or every syntax error found.
pub fn parse(bytes: &[u8]) -> Result<Vec<(String, String)>, Vec<SyntaxError>> {
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut errors = Vec::new();
    for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = i + 1;
        // Only a valid variable name is ever shown: anything else may be part of a value
        // (the second line of a multi-line secret), so it is named by line number alone.
        let err = |key: Option<&str>, message: &str| SyntaxError {
            line,
            key: key.filter(|k| is_var_name(k)).map(str::to_string),
            message: message.to_string(),
        };
        if raw.is_empty() || raw[0] == b'#' {
            continue;
        }
        if let Some(bad) = raw.iter().find(|b| !(0x20..=0x7e).contains(*b)) {
            let what = match bad {
                b'\r' => "a carriage return (CRLF line endings)",
                b'\t' => "a tab",
                0x80.. => "a non-ASCII byte",
                _ => "a control character",
            };
            errors.push(err(
                None,
                &format!("contains {what}; write plain ASCII KEY=VALUE lines"),
            ));
            continue;
        }
        let text = std::str::from_utf8(raw).expect("checked ASCII");
        if text.starts_with(' ') {
            errors.push(err(
                None,
                "starts with whitespace; start each line with the variable name",
            ));
            continue;
        }
        if text.starts_with("export ") {
            errors.push(err(
                None,
                "uses `export`, which systemd rejects; write KEY=VALUE",
            ));
            continue;
        }
        if text.starts_with(';') {
            errors.push(err(None, "starts with `;` (a comment for systemd, a variable for Podman); use `#` for comments"));
            continue;
        }
        let Some((key, value)) = text.split_once('=') else {
            errors.push(err(None, "has no `=` (Podman would copy the variable from its own environment); write KEY=VALUE"));
            continue;
        };
        if key.ends_with(' ') || value.starts_with(' ') {
            errors.push(err(
                Some(key.trim()),
                "has spaces around `=` (systemd trims them, Podman keeps them); write KEY=VALUE",
            ));
            continue;
        }
        if !is_var_name(key) {
            errors.push(err(
                None,
                "has a variable name outside [A-Za-z_][A-Za-z0-9_]*",
            ));
            continue;
        }
        let bad_char = value.chars().find_map(|c| match c {
            ' ' => {
                Some("a space (systemd trims or keeps it depending on position, Podman keeps it)")
            }
            '"' | '\'' => Some("a quote (systemd strips quotes, Podman keeps them)"),
            '\\' => Some("a backslash (systemd unescapes or joins lines, Podman keeps it)"),
            '$' => Some("a `$` (variable expansion differs between readers)"),
            _ => None,
        });
        if let Some(why) = bad_char {
            errors.push(err(
                Some(key),
                &format!("value contains {why}; store a value without it"),
            ));
            continue;
        }
        if entries.iter().any(|(k, _)| k == key) {
            errors.push(err(Some(key), "is set twice; keep one line per variable"));
            continue;
        }
        entries.push((key.to_string(), value.to_string()));
    }
    if errors.is_empty() {
        Ok(entries)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_subset() {
        let e = parse(b"# comment\n\nA=1\n_B2=x#y;z=w\nC=https://h.example/p?q=1&r=%20\n").unwrap();
        assert_eq!(e.len(), 3);
        assert_eq!(e[1], ("_B2".into(), "x#y;z=w".into()));
        // The last line may lack its newline.
        assert_eq!(parse(b"A=1").unwrap(), vec![("A".into(), "1".into())]);
    }

    #[test]
    fn rejects_what_readers_disagree_on() {
        for bad in [
            &b"export A=1\n"[..],
            b"A = 1\n",
            b"A= 1\n",
            b"A=\"1\"\n",
            b"A='1'\n",
            b"A=a\\\nb\n",
            b"A=a b\n",
            b"A\n",
            b" A=1\n",
            b"A=1\r\n",
            b"A=\t1\n",
            b"1A=1\n",
            b"A-B=1\n",
            b"A=1\nA=2\n",
            b";A=1\n",
            b"A=x$HOME\n",
            "A=\u{e9}\n".as_bytes(),
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn errors_never_carry_values() {
        let errs = parse(b"A=\"topsecretvalue\"\nB= topsecretvalue\n").unwrap_err();
        for e in errs {
            assert!(!e.message.contains("topsecret"), "{}", e.message);
        }
    }
}
