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
