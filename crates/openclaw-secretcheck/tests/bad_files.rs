//! Each bad secret file is rejected by the real binary with the class (and exit code) a user
//! would look up: 3 missing, 4 syntax, 5 content, 6 permissions, 7 stale.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::*;

/// Builds files in `dir`, returns the check arguments.
type Setup = fn(&Path) -> Vec<String>;

fn single(dir: &Path, content: &[u8], mode: u32, min: usize) -> Vec<String> {
    let p = dir.join("gateway_token");
    write(&p, content, mode);
    vec!["--file".into(), format!("{}:{min}", p.display())]
}

fn env(dir: &Path, content: &[u8], required: &[&str]) -> Vec<String> {
    let p = dir.join("openclaw.env");
    write(&p, content, 0o600);
    let mut a = vec!["--env-file".into(), p.display().to_string()];
    for r in required {
        a.push("--env".into());
        a.push(format!("{r}:16"));
    }
    a
}

fn good() -> String {
    token(7, 40)
}

const CASES: &[(&str, Setup, &str, i32)] = &[
    (
        "missing file",
        |d| vec!["--file".into(), format!("{}/absent:16", d.display())],
        "missing",
        3,
    ),
    (
        "missing env key",
        |d| {
            env(
                d,
                format!("OTHER_KEY={}\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "missing",
        3,
    ),
    (
        "empty single file",
        |d| single(d, b"", 0o600, 16),
        "missing",
        3,
    ),
    (
        "single file with only a newline",
        |d| single(d, b"\n", 0o600, 16),
        "missing",
        3,
    ),
    (
        "empty env value",
        |d| env(d, b"LITELLM_API_KEY=\n", &["LITELLM_API_KEY"]),
        "missing",
        3,
    ),
    (
        "leftover {{ in single file",
        |d| single(d, b"{{ .Data.data.gateway_token }}", 0o600, 16),
        "content",
        5,
    ),
    (
        "leftover }} in env value",
        |d| {
            env(
                d,
                b"LITELLM_API_KEY=abc}}defghijklmnopq\n",
                &["LITELLM_API_KEY"],
            )
        },
        "content",
        5,
    ),
    (
        "<no value> in env file is syntax (space)",
        |d| env(d, b"LITELLM_API_KEY=<no value>\n", &["LITELLM_API_KEY"]),
        "syntax",
        4,
    ),
    (
        "<no value> in single file",
        |d| single(d, b"<no value>", 0o600, 8),
        "content",
        5,
    ),
    (
        "changeme",
        |d| single(d, b"changeme-changeme-changeme-changeme", 0o600, 16),
        "content",
        5,
    ),
    (
        "YOUR_..._HERE",
        |d| single(d, b"YOUR_GATEWAY_TOKEN_HERE_PLEASE_123", 0o600, 16),
        "content",
        5,
    ),
    (
        "docs sample key sk-1234...",
        |d| {
            env(
                d,
                b"LITELLM_API_KEY=sk-1234567890abcdef1234567890abcdef\n",
                &["LITELLM_API_KEY"],
            )
        },
        "content",
        5,
    ),
    (
        "xxxx mask",
        |d| single(d, b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", 0o600, 16),
        "content",
        5,
    ),
    (
        "the word password",
        |d| single(d, b"password", 0o600, 8),
        "content",
        5,
    ),
    (
        "REPLACE_ME",
        |d| single(d, b"REPLACE_ME_4f9a2c71d0b38e65a", 0o600, 16),
        "content",
        5,
    ),
    (
        "token shorter than min_length",
        |d| single(d, token(3, 20).as_bytes(), 0o600, 32),
        "content",
        5,
    ),
    (
        "mode 0644",
        |d| single(d, good().as_bytes(), 0o644, 16),
        "permissions",
        6,
    ),
    (
        "mode 0640",
        |d| single(d, good().as_bytes(), 0o640, 16),
        "permissions",
        6,
    ),
    (
        "mode 0700 (executable)",
        |d| single(d, good().as_bytes(), 0o700, 16),
        "permissions",
        6,
    ),
    (
        "wrong owner",
        |d| {
            let a = single(d, good().as_bytes(), 0o600, 16);
            std::os::unix::fs::chown(d.join("gateway_token"), Some(65534), None).unwrap();
            a
        },
        "permissions",
        6,
    ),
    (
        "symlink",
        |d| {
            write(&d.join("real"), good().as_bytes(), 0o600);
            std::os::unix::fs::symlink(d.join("real"), d.join("gateway_token")).unwrap();
            vec!["--file".into(), format!("{}/gateway_token:16", d.display())]
        },
        "permissions",
        6,
    ),
    (
        "hard link",
        |d| {
            let a = single(d, good().as_bytes(), 0o600, 16);
            std::fs::hard_link(d.join("gateway_token"), d.join("other-name")).unwrap();
            a
        },
        "permissions",
        6,
    ),
    (
        "a directory, not a file",
        |d| {
            std::fs::create_dir(d.join("gateway_token")).unwrap();
            vec!["--file".into(), format!("{}/gateway_token:16", d.display())]
        },
        "permissions",
        6,
    ),
    (
        "store-like path",
        |d| {
            let store = d.join("nix/store/abc123-secrets");
            std::fs::create_dir_all(&store).unwrap();
            for p in [d.join("nix"), d.join("nix/store"), store.clone()] {
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700)).unwrap();
            }
            write(&store.join("gateway_token"), good().as_bytes(), 0o600);
            vec![
                "--forbid-prefix".into(),
                format!("{}/nix/store", d.display()),
                "--file".into(),
                format!("{}/gateway_token:16", store.display()),
            ]
        },
        "permissions",
        6,
    ),
    (
        "world-readable directory",
        |d| {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
            single(d, good().as_bytes(), 0o600, 16)
        },
        "permissions",
        6,
    ),
    (
        "world-writable directory",
        |d| {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o702)).unwrap();
            single(d, good().as_bytes(), 0o600, 16)
        },
        "permissions",
        6,
    ),
    (
        "env: export",
        |d| {
            env(
                d,
                format!("export LITELLM_API_KEY={}\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: double quotes",
        |d| {
            env(
                d,
                format!("LITELLM_API_KEY=\"{}\"\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: single quotes",
        |d| {
            env(
                d,
                format!("LITELLM_API_KEY='{}'\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: spaces around =",
        |d| {
            env(
                d,
                format!("LITELLM_API_KEY = {}\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: missing =",
        |d| env(d, b"LITELLM_API_KEY\n", &["LITELLM_API_KEY"]),
        "syntax",
        4,
    ),
    (
        "env: dash in name",
        |d| env(d, format!("LITELLM-API-KEY={}\n", good()).as_bytes(), &[]),
        "syntax",
        4,
    ),
    (
        "env: CRLF",
        |d| {
            env(
                d,
                format!("LITELLM_API_KEY={}\r\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: line continuation",
        |d| {
            env(
                d,
                format!("LITELLM_API_KEY={}\\\nMORE\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: $ expansion",
        |d| {
            env(
                d,
                format!("LITELLM_API_KEY=${{HOME}}{}\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: duplicate key",
        |d| {
            env(
                d,
                format!(
                    "LITELLM_API_KEY={}\nLITELLM_API_KEY={}\n",
                    good(),
                    token(9, 30)
                )
                .as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "env: leading whitespace",
        |d| {
            env(
                d,
                format!("  LITELLM_API_KEY={}\n", good()).as_bytes(),
                &["LITELLM_API_KEY"],
            )
        },
        "syntax",
        4,
    ),
    (
        "single: two lines",
        |d| {
            single(
                d,
                format!("{}\n{}\n", good(), token(8, 30)).as_bytes(),
                0o600,
                16,
            )
        },
        "syntax",
        4,
    ),
    (
        "single: trailing space",
        |d| single(d, format!("{} \n", good()).as_bytes(), 0o600, 16),
        "syntax",
        4,
    ),
    (
        "single: byte-order mark",
        |d| single(d, format!("\u{feff}{}", good()).as_bytes(), 0o600, 16),
        "syntax",
        4,
    ),
    (
        "stale",
        |d| {
            let a = single(d, good().as_bytes(), 0o600, 16);
            let old = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
            std::fs::File::options()
                .write(true)
                .open(d.join("gateway_token"))
                .unwrap()
                .set_modified(old)
                .unwrap();
            let mut a = a;
            a.extend(["--max-age".into(), "1h".into()]);
            a
        },
        "stale",
        7,
    ),
];

#[test]
fn at_least_25_bad_files_each_rejected_with_its_class() {
    assert!(CASES.len() >= 25, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for (name, setup, class, code) in CASES {
        let dir = private_dir();
        let mut args = setup(dir.path());
        args.extend(["--owner".into(), uid().to_string(), "--json".into()]);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = secretcheck(&argv);
        let report = run.json();
        let classes: Vec<&str> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["class"].as_str().unwrap())
            .collect();
        if run.code != *code || !classes.contains(class) || report["class"] != *class {
            failures.push(format!(
                "{name}: exit {} classes {classes:?}, want {class}/{code}\n{}",
                run.code, run.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn a_good_set_passes() {
    let dir = private_dir();
    let mut args = single(dir.path(), format!("{}\n", good()).as_bytes(), 0o400, 32);
    args.extend(env(
        dir.path(),
        format!(
            "# rendered\nLITELLM_API_KEY={}\nMATRIX_TOKEN=syt_{}\n",
            token(1, 32),
            token(2, 30)
        )
        .as_bytes(),
        &["LITELLM_API_KEY", "MATRIX_TOKEN"],
    ));
    args.extend([
        "--owner".into(),
        uid().to_string(),
        "--max-age".into(),
        "1h".into(),
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = secretcheck(&argv);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(secretcheck(&[]).code, 2);
    assert_eq!(secretcheck(&["--env", "X"]).code, 2);
    assert_eq!(
        secretcheck(&["--file", "/x:16", "--owner", "no-such-user-here"]).code,
        2
    );
    assert_eq!(secretcheck(&["--bogus"]).code, 2);
}
