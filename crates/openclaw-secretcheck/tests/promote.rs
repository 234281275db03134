//! Promote: a rejected staged set leaves the live files (and the gateway) untouched; a good one
//! replaces them atomically and triggers the on-change command once.

mod support;

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use support::*;

fn stage(dir: &Path, gw: &str, env_value: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    write(&dir.join("gateway_token"), gw.as_bytes(), 0o600);
    write(
        &dir.join("openclaw.env"),
        format!("LITELLM_API_KEY={env_value}\n").as_bytes(),
        0o600,
    );
}

fn promote(live: &Path, marker: &Path, extra: &[&str]) -> Run {
    let staged = live.join(".staged").display().to_string();
    let gw = format!("{}/gateway_token:32", live.display());
    let envf = format!("{}/openclaw.env", live.display());
    let cmd = format!("echo restart >> {}", marker.display());
    let uid = uid().to_string();
    let mut args = vec![
        "promote",
        "--staged-dir",
        &staged,
        "--owner",
        &uid,
        "--file",
        &gw,
        "--env-file",
        &envf,
        "--env",
        "LITELLM_API_KEY:16",
    ];
    args.extend_from_slice(extra);
    args.extend(["--", "/bin/sh", "-c", &cmd]);
    secretcheck(&args)
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>, u64, i64)> {
    ["gateway_token", "openclaw.env"]
        .iter()
        .map(|n| {
            let p = dir.join(n);
            let md = std::fs::metadata(&p).unwrap();
            (
                n.to_string(),
                std::fs::read(&p).unwrap(),
                md.ino(),
                md.mtime_nsec(),
            )
        })
        .collect()
}

fn restarts(marker: &Path) -> usize {
    std::fs::read_to_string(marker)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn good_set_replaces_live_and_restarts_once_bad_set_changes_nothing() {
    let live = private_dir();
    let marker = live.path().join("restarts.log");
    let staged = live.path().join(".staged");

    // First promotion: nothing live yet.
    stage(&staged, &token(1, 40), &token(2, 24));
    let r = promote(live.path(), &marker, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        std::fs::read_to_string(live.path().join("gateway_token")).unwrap(),
        token(1, 40)
    );
    assert_eq!(restarts(&marker), 1);

    // Same content again (the agent's periodic re-render): no restart.
    let r = promote(live.path(), &marker, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        restarts(&marker),
        1,
        "an unchanged set must not restart the gateway"
    );

    let before = snapshot(live.path());
    // Bad staged sets of several kinds: the live set stays byte-for-byte and inode-for-inode.
    for (gw, envv, code) in [
        (token(3, 40), "changeme".to_string(), 5),
        (token(3, 10), token(4, 24), 5),
        (
            "{{ .Data.data.gateway_token }}".to_string(),
            token(4, 24),
            5,
        ),
        (token(3, 40), format!("\"{}\"", token(4, 24)), 4),
    ] {
        stage(&staged, &gw, &envv);
        let r = promote(live.path(), &marker, &["--discard-rejected"]);
        assert_eq!(r.code, code, "{}", r.stdout);
        assert_eq!(
            snapshot(live.path()),
            before,
            "live set changed after a rejected promote"
        );
        assert_eq!(restarts(&marker), 1);
        assert!(
            !staged.join("gateway_token").exists(),
            "--discard-rejected keeps the bad set"
        );
    }
    // An incomplete staged set (one file not yet rendered) is rejected too.
    stage(&staged, &token(5, 40), &token(6, 24));
    std::fs::remove_file(staged.join("openclaw.env")).unwrap();
    let r = promote(live.path(), &marker, &[]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert_eq!(snapshot(live.path()), before);

    // A good rotation replaces the live files (new inode: rename, not rewrite in place).
    stage(&staged, &token(5, 40), &token(6, 24));
    let r = promote(live.path(), &marker, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let after = snapshot(live.path());
    assert_eq!(after[0].1, token(5, 40).as_bytes());
    assert_ne!(after[0].2, before[0].2);
    assert_eq!(restarts(&marker), 2);
    // The staged copy stays, so the agent sees its rendering in place and does not loop.
    assert!(staged.join("gateway_token").exists());
    let md = std::fs::metadata(live.path().join("gateway_token")).unwrap();
    assert_eq!(md.mode() & 0o7777, 0o600);
    assert_eq!(md.nlink(), 1);
}

#[test]
fn a_failing_restart_command_is_reported() {
    let live = private_dir();
    let staged = live.path().join(".staged");
    stage(&staged, &token(11, 40), &token(12, 24));
    let gw = format!("{}/gateway_token:32", live.path().display());
    let uid = uid().to_string();
    let sd = staged.display().to_string();
    let r = secretcheck(&[
        "promote",
        "--staged-dir",
        &sd,
        "--owner",
        &uid,
        "--file",
        &gw,
        "--",
        "/bin/false",
    ]);
    assert_eq!(r.code, 8, "{}{}", r.stdout, r.stderr);
}

/// `promote` with a reload-style on-change command and a restart fallback, as the OpenBao
/// agent runs it: `--on-change-env` names the live token file, the commands log what they saw.
fn promote_with_fallback(live: &Path, log: &Path, reload_ok: bool) -> Run {
    let staged = live.join(".staged").display().to_string();
    let gw_path = live.join("gateway_token");
    let gw = format!("{}:32", gw_path.display());
    let envf = format!("{}/openclaw.env", live.display());
    let prev = format!("OPENCLAW_GATEWAY_TOKEN={}", gw_path.display());
    // The reload proves which token it got by comparing with a file, never by printing it.
    let expected = live.join("expected-previous");
    let reload = format!(
        "if [ \"$OPENCLAW_GATEWAY_TOKEN\" = \"$(cat {e} 2>/dev/null)\" ]; then echo reload-with-previous; else echo reload-other; fi >> {l}; {rc}",
        e = expected.display(),
        l = log.display(),
        rc = if reload_ok { "true" } else { "false" }
    );
    let restart_sh = live.join("restart.sh");
    write(
        &restart_sh,
        format!("#!/bin/sh\necho restart >> {}\n", log.display()).as_bytes(),
        0o700,
    );
    let fallback = restart_sh.display().to_string();
    let uid = uid().to_string();
    secretcheck(&[
        "promote",
        "--staged-dir",
        &staged,
        "--owner",
        &uid,
        "--file",
        &gw,
        "--env-file",
        &envf,
        "--env",
        "LITELLM_API_KEY:16",
        "--on-change-env",
        &prev,
        "--fallback",
        &fallback,
        "--fallback-if-changed",
        &envf,
        "--",
        "/bin/sh",
        "-c",
        &reload,
    ])
}

fn log_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn reload_gets_the_previous_token_and_the_restart_is_the_fallback() {
    let live = private_dir();
    let log = live.path().join("actions.log");
    let staged = live.path().join(".staged");
    let (t1, t2, t3) = (token(21, 40), token(22, 40), token(23, 40));
    let key = token(24, 24);

    // First render: the env file is new (read only at process start), and there is no
    // previous token -> restart, no reload.
    stage(&staged, &t1, &key);
    let r = promote_with_fallback(live.path(), &log, true);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(log_lines(&log), ["restart"]);
    assert!(r.stdout.contains("on-change skipped"), "{}", r.stdout);

    // Only the token file changes -> the reload runs, with the token it replaces in its env.
    write(&live.path().join("expected-previous"), t1.as_bytes(), 0o600);
    stage(&staged, &t2, &key);
    let r = promote_with_fallback(live.path(), &log, true);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(log_lines(&log), ["restart", "reload-with-previous"]);
    assert!(r.stdout.contains("on-change ok"), "{}", r.stdout);

    // Nothing changed -> nothing runs.
    let r = promote_with_fallback(live.path(), &log, true);
    assert_eq!(r.code, 0);
    assert_eq!(log_lines(&log).len(), 2);

    // The reload fails -> the restart fallback runs; the new token is live, exit 0.
    write(&live.path().join("expected-previous"), t2.as_bytes(), 0o600);
    stage(&staged, &t3, &key);
    let r = promote_with_fallback(live.path(), &log, false);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        log_lines(&log),
        [
            "restart",
            "reload-with-previous",
            "reload-with-previous",
            "restart"
        ]
    );
    assert!(r.stderr.contains("succeeded"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(live.path().join("gateway_token")).unwrap(),
        t3
    );
    // No token in any output.
    for t in [&t1, &t2, &t3] {
        assert!(!r.stdout.contains(t.as_str()) && !r.stderr.contains(t.as_str()));
    }
}

#[test]
fn reload_and_fallback_both_failing_is_exit_8() {
    let live = private_dir();
    let staged = live.path().join(".staged");
    stage(&staged, &token(31, 40), &token(32, 24));
    let gw = format!("{}/gateway_token:32", live.path().display());
    let uid = uid().to_string();
    let sd = staged.display().to_string();
    let r = secretcheck(&[
        "promote",
        "--staged-dir",
        &sd,
        "--owner",
        &uid,
        "--file",
        &gw,
        "--fallback",
        "/bin/false",
        "--",
        "/bin/false",
    ]);
    assert_eq!(r.code, 8, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("on-change") && r.stderr.contains("fallback"),
        "{}",
        r.stderr
    );
}
