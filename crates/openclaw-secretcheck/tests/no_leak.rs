//! No secret value ever appears in secretcheck's output, passing or failing, text or JSON,
//! check or promote.

mod support;

use support::*;

#[test]
fn values_never_appear_in_output() {
    let good_gw = token(21, 40);
    let good_env = token(22, 28);
    // Bad but distinctive values: each would be visible if any message echoed a value.
    let short = token(23, 12);
    let placeholder = format!("YOUR_TOKEN_{}", token(24, 16));
    let quoted = token(25, 20);
    let spaced = token(26, 20);
    let secrets = [&good_gw, &good_env, &short, &placeholder, &quoted, &spaced];

    let mut runs = Vec::new();
    for bad in [false, true] {
        let dir = private_dir();
        let gw = dir.path().join("gateway_token");
        let envf = dir.path().join("openclaw.env");
        if bad {
            write(&gw, short.as_bytes(), 0o644);
            write(
                &envf,
                format!(
                    "A_KEY={placeholder}\nB_KEY=\"{quoted}\"\nC_KEY = {spaced}\nD_KEY={good_env}\n"
                )
                .as_bytes(),
                0o600,
            );
        } else {
            write(&gw, good_gw.as_bytes(), 0o600);
            write(&envf, format!("D_KEY={good_env}\n").as_bytes(), 0o600);
        }
        let gwa = format!("{}:32", gw.display());
        let enva = envf.display().to_string();
        let uid = uid().to_string();
        for json in [false, true] {
            let mut args = vec![
                "check",
                "--owner",
                &uid,
                "--file",
                &gwa,
                "--env-file",
                &enva,
                "--env",
                "D_KEY",
                "--env",
                "A_KEY",
            ];
            if json {
                args.push("--json");
            }
            runs.push(secretcheck(&args));
            // Promote the same files as a staged set.
            let live = private_dir();
            let sd = dir.path().display().to_string();
            let lgw = format!("{}/gateway_token:32", live.path().display());
            let lenv = format!("{}/openclaw.env", live.path().display());
            let mut args = vec![
                "promote",
                "--staged-dir",
                &sd,
                "--owner",
                &uid,
                "--file",
                &lgw,
                "--env-file",
                &lenv,
                "--env",
                "D_KEY",
            ];
            if json {
                args.push("--json");
            }
            runs.push(secretcheck(&args));
        }
    }
    assert!(runs.iter().any(|r| r.code == 0), "no passing run");
    assert!(runs.iter().any(|r| r.code != 0), "no failing run");
    for r in &runs {
        for s in secrets {
            assert!(
                !r.stdout.contains(s.as_str()) && !r.stderr.contains(s.as_str()),
                "a value leaked:\n{}\n{}",
                r.stdout,
                r.stderr
            );
        }
    }
}

/// Issue 15, class 9: a line whose text before `=` is not a variable name (here the second
/// line of a multi-line value, with spaces around `=`) is reported by line number only, and
/// no report carries any digest of a value.
#[test]
fn non_variable_keys_and_digests_never_appear() {
    let first = token(31, 24);
    let leaked = format!("second half {}", token(32, 12));
    let dir = private_dir();
    let envf = dir.path().join("openclaw.env");
    write(
        &envf,
        format!("A_KEY={first}\n{leaked} = {}\n", token(33, 12)).as_bytes(),
        0o600,
    );
    let enva = envf.display().to_string();
    let uid = uid().to_string();
    for json in [false, true] {
        let mut args = vec![
            "check",
            "--owner",
            &uid,
            "--env-file",
            &enva,
            "--env",
            "A_KEY",
        ];
        if json {
            args.push("--json");
        }
        let run = secretcheck(&args);
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!all.contains("second half"), "key text printed: {all}");
        assert!(all.contains("line 2"), "no line number: {all}");
        assert!(
            !all.to_lowercase().contains("sha256"),
            "digest printed: {all}"
        );
    }
    // A valid name around spaces is still named.
    write(&envf, format!("A_KEY = {first}\n").as_bytes(), 0o600);
    let run = secretcheck(&[
        "check",
        "--owner",
        &uid,
        "--env-file",
        &enva,
        "--env",
        "A_KEY",
    ]);
    assert!(format!("{}{}", run.stdout, run.stderr).contains("A_KEY"));
}

/// Issue 15, class 9: a secrets directory owned by another uid (even 0700) is refused: its
/// owner could swap the file after the check. Needs root to hand the directory away.
#[test]
fn directory_owned_by_another_uid_is_refused() {
    assert_eq!(
        uid(),
        0,
        "this test chowns a directory: run the tests as root (CI does)"
    );
    let dir = private_dir();
    let sub = dir.path().join("secrets");
    std::fs::create_dir(&sub).unwrap();
    let f = sub.join("gateway_token");
    write(&f, token(34, 40).as_bytes(), 0o600);
    std::os::unix::fs::chown(&sub, Some(4242), Some(4242)).unwrap();
    std::fs::set_permissions(&sub, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let fa = format!("{}:16", f.display());
    let run = secretcheck(&["check", "--owner", "0", "--file", &fa]);
    let all = format!("{}{}", run.stdout, run.stderr);
    assert_eq!(run.code, 6, "{all}");
    assert!(all.contains("owned by uid 4242"), "{all}");
    std::os::unix::fs::chown(&sub, Some(0), Some(0)).unwrap();
    let run = secretcheck(&["check", "--owner", "0", "--file", &fa]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
