//! The egress proxy's rendered files against the real tools: Squid parses the config the
//! generator writes (container and native runtimes), and its unit is sandboxed as claimed
//! (`systemd-analyze security --offline`, against the same unit with the sandboxing removed).
//! The proxy's behaviour (listed names, rebinding, IP literals, CONNECT only) is proven with
//! the real gateway in the lab (crates/openclaw-lab/tests/e2e.rs).

mod support;

use std::path::Path;
use std::process::Command;

use openclaw_render::{render_all, Spec};

fn lab_spec() -> Spec {
    Spec::from_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab.toml")).unwrap()
}

fn artifact(spec: &Spec, path: &str) -> String {
    render_all(spec)
        .unwrap()
        .into_iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .content
}

#[test]
fn squid_parses_the_rendered_config_for_both_runtimes() {
    let squid = support::tool("SQUID_BIN", "/usr/sbin/squid");
    for runtime in [
        openclaw_render::spec::Runtime::Container,
        openclaw_render::spec::Runtime::Native,
    ] {
        let mut spec = lab_spec();
        spec.runtime = runtime;
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("squid.conf");
        // The log path must exist for a parse with -k parse only if Squid opened it; it does
        // not, but keep the rendered path inside the scratch directory anyway.
        let text = artifact(&spec, "egress-proxy/squid.conf").replace(
            &spec.egress_proxy_access_log(),
            &dir.path().join("access.log").display().to_string(),
        );
        std::fs::write(&conf, &text).unwrap();
        let out = Command::new(&squid)
            .args(["-k", "parse", "-f"])
            .arg(&conf)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{runtime:?}: squid -k parse failed:\n{err}\n{text}"
        );
        for bad in ["FATAL", "ERROR", "Bungled", "UNRECOGNIZED"] {
            assert!(!err.contains(bad), "{runtime:?}: squid says {bad}:\n{err}");
        }
    }
}

fn exposure(sa: &Path, dir: &Path, unit: &str) -> f32 {
    let out = Command::new(sa)
        .args(["security", "--offline=true", unit])
        .current_dir(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.split(&format!("exposure level for {unit}: ")).nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in:\n{text}"))
}

#[test]
fn the_proxy_unit_is_sandboxed() {
    let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
    let spec = lab_spec();
    let unit = spec.egress_proxy_unit();
    let text = artifact(&spec, &format!("systemd/{unit}"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(&unit), &text).unwrap();
    let score = exposure(&sa, dir.path(), &unit);
    println!("systemd-analyze security: {unit} exposure {score}");
    assert!(
        score < 2.5,
        "exposure {score} is weaker than the unit promises"
    );
    // Control: the same unit without its sandboxing lines scores far worse.
    let bare: String = text
        .lines()
        .filter(|l| {
            !l.starts_with("Protect")
                && !l.starts_with("Restrict")
                && !l.starts_with("SystemCall")
                && !l.starts_with("Private")
                && !l.starts_with("Capability")
                && !l.starts_with("NoNewPrivileges")
                && !l.starts_with("MemoryDeny")
                && !l.starts_with("LockPersonality")
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join(&unit), bare).unwrap();
    let bare_score = exposure(&sa, dir.path(), &unit);
    assert!(
        bare_score > score + 3.0,
        "the sandboxing barely changes the score ({bare_score} vs {score})"
    );
}
