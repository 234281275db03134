//! The rendered units, Caddyfile and Prometheus config pass the real tools that will load
//! them: systemd-analyze (verify and the offline security score), caddy validate/adapt and
//! promtool. Quadlet's generator is not in Debian's Podman 4.3, so the .container file is
//! checked for what a user would notice: where the port is published, what is dropped.

mod support;

use std::path::Path;
use std::process::Command;

use openclaw_render::{render_all, Artifact, Spec};

fn artifacts(example: &str, edit: impl FnOnce(&mut Spec)) -> Vec<Artifact> {
    let mut spec = Spec::from_path(&support::example(example)).unwrap();
    edit(&mut spec);
    render_all(&spec).unwrap()
}

fn get<'a>(arts: &'a [Artifact], path: &str) -> &'a str {
    &arts
        .iter()
        .find(|a| a.path == path)
        .unwrap_or_else(|| panic!("no artifact {path}"))
        .content
}

/// Points the unit's binaries at real executables so verify checks everything else.
fn runnable(spec: &mut Spec) {
    spec.paths.openclaw_bin = "/bin/true".into();
    spec.paths.secretcheck_bin = "/bin/true".into();
    spec.paths.probe_bin = "/bin/true".into();
    spec.paths.bao_bin = "/bin/true".into();
}

fn write_units(dir: &Path, arts: &[Artifact]) {
    for a in arts.iter().filter(|a| a.path.starts_with("systemd/")) {
        let p = dir.join(a.path.strip_prefix("systemd/").unwrap());
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, &a.content).unwrap();
    }
}

#[test]
fn every_rendered_unit_passes_systemd_analyze_verify() {
    let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
    for example in [
        "lxc-homelab.toml",
        "vps-agents-cron.toml",
        "hardened-vps.toml",
    ] {
        let arts = artifacts(example, runnable);
        let dir = tempfile::tempdir().unwrap();
        write_units(dir.path(), &arts);
        let units: Vec<String> = arts
            .iter()
            .filter(|a| a.path.starts_with("systemd/") && !a.path.contains(".d/"))
            .map(|a| a.path.strip_prefix("systemd/").unwrap().to_string())
            .collect();
        assert!(
            units.iter().any(|u| u.ends_with(".service")),
            "{example}: units rendered"
        );
        let out = Command::new(&sa)
            .arg("verify")
            .args(&units)
            .current_dir(dir.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Units refer to each other and to step/systemctl, which verify cannot see here.
        let real: Vec<&str> = stderr
            .lines()
            .filter(|l| {
                !l.contains("not found")
                    && !l.contains("No such file")
                    && !l.contains("is not executable")
                    && !l.trim().is_empty()
            })
            .collect();
        assert!(
            out.status.success() || real.is_empty(),
            "{example}: {stderr}"
        );
        assert!(
            real.is_empty(),
            "{example}: systemd-analyze verify complains:\n{}",
            real.join("\n")
        );
    }
}

#[test]
fn the_hardened_gateway_unit_scores_ok_with_systemd_analyze_security() {
    let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
    let arts = artifacts("lxc-homelab.toml", runnable);
    let dir = tempfile::tempdir().unwrap();
    write_units(dir.path(), &arts);
    let out = Command::new(&sa)
        .args(["security", "--offline=true", "openclaw.service"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f32 = text
        .lines()
        .find_map(|l| l.split("exposure level for openclaw.service: ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in:\n{text}"));
    println!("systemd-analyze security: openclaw.service exposure {score}");
    // 0 is a fully locked-down unit, 10 an unsandboxed one; below 2 is rated OK.
    assert!(
        score < 2.0,
        "exposure {score} is weaker than the hardening promises"
    );

    // Without the drop-in the same unit is far more exposed: the drop-in is what hardens it.
    std::fs::remove_dir_all(dir.path().join("openclaw.service.d")).unwrap();
    let bare = Command::new(&sa)
        .args(["security", "--offline=true", "openclaw.service"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let bare_text = String::from_utf8_lossy(&bare.stdout);
    let bare_score: f32 = bare_text
        .lines()
        .find_map(|l| l.split("exposure level for openclaw.service: ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(
        bare_score > score + 3.0,
        "drop-in barely changes the score ({bare_score} vs {score})"
    );
}

#[test]
fn the_caddyfile_validates_and_adapts_with_real_caddy() {
    let caddy = support::tool("CADDY_BIN", "/usr/bin/caddy");
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    let cert = dir.path().join("tls.crt");
    let key = dir.path().join("tls.key");
    // Caddy loads the files it is pointed at: give it a real self-signed pair.
    let st = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=openclaw.test",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    std::fs::copy(&cert, &root).unwrap();
    let root_s = root.display().to_string();
    let (cert_s, key_s) = (cert.display().to_string(), key.display().to_string());
    type Edit = Box<dyn FnOnce(&mut Spec)>;
    let variants: Vec<(&str, Edit)> = vec![
        (
            "acme via step-ca",
            Box::new(move |s: &mut Spec| {
                if let Some(p) = s.proxy.as_mut() {
                    p.tls = openclaw_render::spec::ProxyTls::Auto {
                        acme_ca: Some("https://ca.home.example:9000/acme/acme/directory".into()),
                        acme_ca_root: Some(root_s),
                    };
                }
            }),
        ),
        (
            "internal",
            Box::new(|s: &mut Spec| {
                s.proxy.as_mut().unwrap().tls = openclaw_render::spec::ProxyTls::Internal
            }),
        ),
        (
            "files",
            Box::new(move |s: &mut Spec| {
                s.proxy.as_mut().unwrap().tls = openclaw_render::spec::ProxyTls::Files {
                    cert: cert_s,
                    key: key_s,
                }
            }),
        ),
    ];
    for (what, edit) in variants {
        let arts = artifacts("lxc-homelab.toml", edit);
        let file = dir.path().join("Caddyfile");
        std::fs::write(&file, get(&arts, "caddy/Caddyfile")).unwrap();
        let v = Command::new(&caddy)
            .args(["validate", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            v.status.success(),
            "{what}: caddy validate: {}",
            String::from_utf8_lossy(&v.stderr)
        );
        let a = Command::new(&caddy)
            .args(["adapt", "--adapter", "caddyfile", "--config"])
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            a.status.success(),
            "{what}: caddy adapt: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        let json = String::from_utf8_lossy(&a.stdout);
        // What a user relies on: the identity check and the proxy to the gateway.
        assert!(
            json.contains("/realms/home/protocol/openid-connect/auth"),
            "{what}: forward_auth missing"
        );
        assert!(
            json.contains("10.0.3.20:18789"),
            "{what}: the gateway upstream is missing"
        );
    }
}

#[test]
fn the_prometheus_config_passes_promtool() {
    let promtool = support::tool("PROMTOOL_BIN", "/usr/bin/promtool");
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "x").unwrap();
    let arts = artifacts("lxc-homelab.toml", |s| {
        s.secrets.dir = dir.path().display().to_string();
        s.secrets.items.get_mut("gateway_token").unwrap().path = None;
    });
    let yml = get(&arts, "prometheus/prometheus.yml").replace(
        &format!("{}/gateway_token", dir.path().display()),
        &token.display().to_string(),
    );
    assert!(
        yml.contains("credentials_file:") && !yml.contains("credentials:"),
        "the token is read from a file, never inline"
    );
    let file = dir.path().join("prometheus.yml");
    std::fs::write(&file, yml).unwrap();
    let out = Command::new(&promtool)
        .args(["check", "config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn quadlet_key<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .collect()
}

#[test]
fn the_quadlet_container_publishes_only_where_the_spec_binds_and_drops_everything() {
    let loopback = artifacts("hardened-vps.toml", |_| {});
    let c = get(&loopback, "quadlet/clincher.container");
    assert_eq!(
        quadlet_key(c, "PublishPort"),
        ["127.0.0.1:18789:18789"],
        "a loopback gateway is never published on every address"
    );
    assert_eq!(quadlet_key(c, "DropCapability"), ["ALL"]);
    assert_eq!(quadlet_key(c, "ReadOnly"), ["true"]);
    assert_eq!(quadlet_key(c, "NoNewPrivileges"), ["true"]);
    assert!(
        quadlet_key(c, "Image")[0].contains("@sha256:"),
        "image pinned by digest"
    );
    assert!(
        quadlet_key(c, "PodmanArgs")[0].contains("--memory=2560m"),
        "memory limit from the spec"
    );
    assert!(
        quadlet_key(c, "Volume")
            .iter()
            .any(|v| v.starts_with("/run/secrets/openclaw:") && v.ends_with(":ro")),
        "secrets mounted read-only"
    );
    assert!(
        quadlet_key(c, "ExecStartPre")[0].contains("openclaw-secretcheck check"),
        "secretcheck gates the start"
    );

    let custom = artifacts("podman-multi-agent.toml", |_| {});
    let c = get(&custom, "quadlet/octant.container");
    assert_eq!(quadlet_key(c, "PublishPort"), ["10.20.0.5:18789:18789"]);
    assert!(
        quadlet_key(c, "EnvironmentFile")[0].ends_with("/openclaw.env"),
        "env-delivered secrets come from the env file"
    );
    assert!(
        quadlet_key(c, "Volume")
            .iter()
            .any(|v| v.starts_with("/srv/octant/notes:")),
        "the spec's extra volume"
    );
}

#[test]
fn cron_jobs_become_idempotent_declarations_that_survive_systemd_quoting() {
    let arts = artifacts("vps-agents-cron.toml", |_| {});
    let unit = get(&arts, "systemd/vps-ops-cron-sync.service");
    let lines = quadlet_key(unit, "ExecStart");
    assert_eq!(lines.len(), 3, "one declaration per job");
    assert!(lines[0].contains("--declaration-key openclaw-homelab/morning-briefing"));
    assert!(lines[0].contains("--cron \"0 8 * * 1-5\""), "{}", lines[0]);
    assert!(lines[0].contains("--tz Europe/Berlin"));
    assert!(lines[0]
        .contains("\"Morning briefing: open alerts and today's calendar, five bullet points.\""));
}
