//! Error output is safe for a terminal: values a spec carries are shown escaped and cut, so a
//! terminal escape sequence is never replayed and a megabyte value is never echoed.

mod support;

use std::process::Command;

fn check_stderr(spec_text: &str, ext: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("spec.{ext}"));
    std::fs::write(&path, spec_text).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw-render"))
        .arg("check")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success(), "hostile spec passed check");
    String::from_utf8(out.stderr).unwrap()
}

fn assert_safe(stderr: &str) {
    assert!(
        !stderr.chars().any(|c| c.is_control() && c != '\n'),
        "raw control character in: {stderr:?}"
    );
    assert!(
        stderr.len() < 20_000,
        "{} bytes of error output",
        stderr.len()
    );
}

fn example_with(edit: &str, value: &str) -> String {
    let text = std::fs::read_to_string(support::example("lxc-homelab.toml")).unwrap();
    let mut doc: toml::Table = toml::from_str(&text).unwrap();
    let (table, key) = edit.split_once('.').unwrap();
    doc.entry(table)
        .or_insert(toml::Value::Table(Default::default()))
        .as_table_mut()
        .unwrap()
        .insert(key.into(), toml::Value::String(value.into()));
    toml::to_string(&doc).unwrap()
}

#[test]
fn terminal_escapes_in_values_are_shown_escaped() {
    let stderr = check_stderr(
        &example_with("paths.config", "/etc/\u{1b}]0;owned\u{7}\u{1b}[2J"),
        "toml",
    );
    assert_safe(&stderr);
    assert!(stderr.contains("paths.config"), "{stderr}");
    // serde quotes an unknown enum value as it was written.
    let stderr = check_stderr(
        "{\"gateway\": {\"bind\": \"\\u001b]0;owned\\u0007\"}}",
        "json",
    );
    assert_safe(&stderr);
    assert!(stderr.contains("\\u{1b}"), "{stderr}");
}

#[test]
fn huge_values_are_cut() {
    let huge = format!("/{}", "a".repeat(1 << 20));
    let stderr = check_stderr(&example_with("paths.state_dir", &huge), "toml");
    assert_safe(&stderr);
    // A semantic rule that quotes the value.
    let stderr = check_stderr(&example_with("models.primary", &huge[1..]), "toml");
    assert_safe(&stderr);
    assert!(stderr.contains("more characters"), "{stderr}");
    // A parse error that quotes the offending line.
    let stderr = check_stderr(
        &format!("name = \"{}\u{1b}[2J\"\nbroken", "x".repeat(1 << 20)),
        "toml",
    );
    assert_safe(&stderr);
    let stderr = check_stderr(
        &format!("{{\"name\": 1, \"x{}\u{1b}[2J\": 2}}", "y".repeat(1 << 20)),
        "json",
    );
    assert_safe(&stderr);
}
