//! The rendered units, Caddyfile and Prometheus config pass the real tools that will load
//! them: systemd-analyze (verify and the offline security score), systemd-tmpfiles and
//! systemd-sysusers (into a scratch root), caddy validate/adapt, promtool, and Podman's quadlet
//! generator (Debian's Podman 4.3 has none; QUADLET_BIN is quadlet 5.4 from Debian trixie's
//! podman package). The drop-in's syscall filter is checked against what the real gateway
//! calls under strace.

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
    if let Some(l) = spec.litellm.as_mut() {
        l.paths.bin = "/bin/true".into();
    }
    if let Some(b) = spec.backup.as_mut() {
        b.bin = "/bin/true".into();
        b.restic_bin = "/bin/true".into();
    }
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
        "lab.toml",
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
        if example == "lab.toml" {
            // Both certificate renewals (the gateway's and LiteLLM's) go through verify.
            for u in [
                "openclaw-cert-renew.service",
                "openclaw-cert-renew.timer",
                "openclaw-litellm-cert-renew.service",
                "openclaw-litellm-cert-renew.timer",
            ] {
                assert!(units.iter().any(|x| x == u), "lab.toml: {u} not rendered");
            }
        }
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

/// LiteLLM's unit carries its hardening inline (no drop-in): the same bar as the gateway's.
#[test]
fn the_litellm_unit_scores_ok_with_systemd_analyze_security() {
    let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
    let arts = artifacts("lab.toml", runnable);
    let dir = tempfile::tempdir().unwrap();
    write_units(dir.path(), &arts);
    let unit = "openclaw-litellm.service";
    let out = Command::new(&sa)
        .args(["security", "--offline=true", unit])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let score: f32 = text
        .lines()
        .find_map(|l| l.split(&format!("exposure level for {unit}: ")).nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in:\n{text}"));
    println!("systemd-analyze security: {unit} exposure {score}");
    assert!(
        score < 2.0,
        "exposure {score}: LiteLLM's unit is weaker than promised"
    );
}

/// The backup units run as root (the password and the repository stay out of the gateway
/// user's reach), so their sandbox is what keeps them small: the same bar as the sidecars.
#[test]
fn the_backup_units_score_ok_with_systemd_analyze_security() {
    let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
    let arts = artifacts("lxc-homelab.toml", runnable);
    let dir = tempfile::tempdir().unwrap();
    write_units(dir.path(), &arts);
    for unit in ["openclaw-backup.service", "openclaw-backup-check.service"] {
        let out = Command::new(&sa)
            .args(["security", "--offline=true", unit])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let score: f32 = text
            .lines()
            .find_map(|l| l.split(&format!("exposure level for {unit}: ")).nth(1))
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no score in:\n{text}"));
        println!("systemd-analyze security: {unit} exposure {score}");
        assert!(
            score <= 3.0,
            "exposure {score}: {unit} is weaker than promised"
        );
    }
    // Control: the same unit without its sandbox scores far worse, so the bar can fail.
    let bare: String = get(&arts, "systemd/openclaw-backup.service")
        .lines()
        .take_while(|l| !l.starts_with("Nice="))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.path().join("bare-backup.service"), bare).unwrap();
    let out = Command::new(&sa)
        .args(["security", "--offline=true", "bare-backup.service"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let bare_score: f32 = text
        .lines()
        .find_map(|l| l.split("exposure level for bare-backup.service: ").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in:\n{text}"));
    assert!(
        bare_score > 8.0,
        "the unsandboxed control scores {bare_score}"
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

/// Values of `key=` lines (any section).
fn unit_key<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
    text.lines()
        .filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .collect()
}

/// `[Section]` -> keys used in it.
fn section_keys(text: &str, section: &str) -> Vec<String> {
    let mut cur = String::new();
    let mut keys = Vec::new();
    for l in text.lines().map(str::trim) {
        if l.starts_with('[') && l.ends_with(']') {
            cur = l[1..l.len() - 1].to_string();
        } else if cur == section && !l.is_empty() && !l.starts_with('#') {
            keys.push(l.split('=').next().unwrap().to_string());
        }
    }
    keys
}

/// systemd's Exec line splitting (systemd.service(5) "Command lines"): `%%` -> `%` (other
/// specifiers are an error here: the renderer never means one), `$$` -> `$` (a bare `$` is an
/// error: it would expand a variable), words split on whitespace, double and single quotes,
/// C escapes. Returns the argv systemd would exec.
fn systemd_split(line: &str) -> Result<Vec<String>, String> {
    split_exec(line, false)
}

/// As [`systemd_split`], keeping specifiers (`%t`) as written when `specifiers` is set: units
/// that quadlet generates use them on purpose.
fn split_exec(line: &str, specifiers: bool) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(words);
        }
        let mut w = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some('%') => w.push('%'),
                    Some(c) if specifiers && c.is_ascii_alphabetic() => {
                        w.push('%');
                        w.push(c);
                    }
                    other => return Err(format!("specifier %{other:?} in {line}")),
                },
                '$' => match chars.next() {
                    Some('$') => w.push('$'),
                    other => return Err(format!("variable ${other:?} in {line}")),
                },
                '\\' => {
                    let e = chars.next().ok_or("trailing backslash")?;
                    match e {
                        'n' => w.push('\n'),
                        't' => w.push('\t'),
                        'r' => w.push('\r'),
                        'x' => {
                            let h: String = [chars.next(), chars.next()].iter().flatten().collect();
                            w.push(u8::from_str_radix(&h, 16).map_err(|e| e.to_string())? as char);
                        }
                        '\\' | '"' | '\'' | ' ' => w.push(e),
                        other => return Err(format!("unknown escape \\{other}")),
                    }
                }
                q @ ('"' | '\'') if quote.is_none() && w.is_empty() => quote = Some(q),
                q if Some(q) == quote => {
                    quote = None;
                    // systemd requires whitespace (or the end) after a closing quote.
                    if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                        return Err(format!("text after closing quote in {line}"));
                    }
                    break;
                }
                c if c.is_whitespace() && quote.is_none() => break,
                c => w.push(c),
            }
        }
        if quote.is_some() {
            return Err(format!("unterminated quote in {line}"));
        }
        words.push(w);
    }
}

#[test]
fn exec_quoting_round_trips_through_systemds_rules() {
    use openclaw_render::render::systemd::exec_line;
    let tricky: Vec<String> = [
        "/usr/bin/openclaw",
        "0 8 * * 1-5",
        "Morning briefing: open alerts and today's calendar, five bullet points.",
        "say \"hi\" to $USER at 100% and C:\\path\\",
        "line one\nline two\ttabbed\r",
        "%n %i $HOME ${X} $$",
        ";",
        "",
        "ünïcödé — ok",
        "\u{1}ctl\u{7f}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let line = exec_line(&tricky);
    assert!(!line.contains('\n'), "one unit-file line: {line}");
    assert_eq!(systemd_split(&line).unwrap(), tricky, "{line}");
}

#[test]
fn cron_jobs_become_idempotent_declarations_that_survive_systemd_quoting() {
    let spec = Spec::from_path(&support::example("vps-agents-cron.toml")).unwrap();
    let arts = render_all(&spec).unwrap();
    let unit = get(&arts, "systemd/vps-ops-cron-sync.service");
    let lines = unit_key(unit, "ExecStart");
    assert_eq!(lines.len(), spec.cron.len(), "one declaration per job");
    for (line, job) in lines.iter().zip(&spec.cron) {
        let argv = systemd_split(line).unwrap();
        let flag = |f: &str| {
            let i = argv
                .iter()
                .position(|a| a == f)
                .unwrap_or_else(|| panic!("{f} in {argv:?}"));
            argv[i + 1].as_str()
        };
        assert_eq!(&argv[1..3], ["cron", "add"]);
        assert_eq!(
            flag("--declaration-key"),
            format!("openclaw-homelab/{}", job.name)
        );
        assert_eq!(flag("--cron"), job.schedule);
        assert_eq!(flag("--tz"), job.timezone);
        assert_eq!(flag("--agent"), job.agent);
        assert_eq!(
            flag("--message"),
            job.prompt,
            "the prompt arrives as one argument"
        );
        assert!(argv.contains(&"--exact".to_string()));
    }
    // A prompt with quotes, `$`, `%` and a newline still arrives intact.
    let mut odd = spec.clone();
    odd.cron[0].prompt = "Check \"disk\" at 90% for $HOME;\nthen reply.".into();
    let arts = render_all(&odd).unwrap();
    let unit = get(&arts, "systemd/vps-ops-cron-sync.service");
    let argv = systemd_split(unit_key(unit, "ExecStart")[0]).unwrap();
    assert!(argv.contains(&odd.cron[0].prompt), "{argv:?}");
}

/// The quadlet generator's output for one spec: (generated unit text, its podman argv).
fn quadlet_generate(arts: &[Artifact], name: &str) -> (String, Vec<String>) {
    let quadlet = support::tool("QUADLET_BIN", "/var/cache/openclaw-homelab/quadlet/quadlet");
    let src = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    for a in arts.iter().filter(|a| a.path.starts_with("quadlet/")) {
        std::fs::write(
            src.path().join(a.path.strip_prefix("quadlet/").unwrap()),
            &a.content,
        )
        .unwrap();
    }
    let run = Command::new(&quadlet)
        .arg("-no-kmsg-log")
        .arg(out.path())
        .env("QUADLET_UNIT_DIRS", src.path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success() && !log.contains("Error"),
        "quadlet: {log}"
    );
    let unit = std::fs::read_to_string(out.path().join(format!("{name}.service")))
        .unwrap_or_else(|e| panic!("quadlet generated no {name}.service ({e}): {log}"));
    let exec = unit_key(&unit, "ExecStart")[0].to_string();
    (unit, split_exec(&exec, true).unwrap())
}

fn podman_flag<'a>(argv: &'a [String], flag: &str) -> Vec<&'a str> {
    let mut v = Vec::new();
    for (i, a) in argv.iter().enumerate() {
        if a == flag {
            v.push(argv[i + 1].as_str());
        } else if let Some(r) = a.strip_prefix(flag).and_then(|r| r.strip_prefix('=')) {
            v.push(r);
        }
    }
    v
}

#[test]
fn the_quadlet_container_is_accepted_by_the_real_generator_and_runs_locked_down() {
    for (example, name, publish) in [
        ("hardened-vps.toml", "clincher", "127.0.0.1:18789:18789"),
        ("podman-multi-agent.toml", "octant", "10.20.0.5:18789:18789"),
        ("lxc-homelab.toml", "openclaw", "18789:18789"),
    ] {
        let arts = artifacts(example, |s| s.paths.secretcheck_bin = "/bin/true".into());
        let container = get(&arts, &format!("quadlet/{name}.container"));
        // Podman 4.4's quadlet refuses a whole file over one key it does not know.
        for section in ["Container", "Network"] {
            for a in arts.iter().filter(|a| a.path.starts_with("quadlet/")) {
                for k in section_keys(&a.content, section) {
                    assert!(
                        openclaw_render::render::quadlet::QUADLET_4_4_KEYS.contains(&k.as_str()),
                        "{}: [{section}] {k} is not a Podman 4.4 quadlet key",
                        a.path
                    );
                }
            }
        }
        assert!(
            unit_key(container, "Image")[0].contains("@sha256:"),
            "image pinned by digest"
        );

        let (unit, argv) = quadlet_generate(&arts, name);
        assert_eq!(&argv[..2], ["/usr/bin/podman", "run"]);
        assert_eq!(
            podman_flag(&argv, "--publish"),
            [publish],
            "{example}: published only where the spec binds"
        );
        assert!(
            !argv.iter().any(|a| a.contains("0.0.0.0")),
            "{example}: never every address by accident"
        );
        assert_eq!(podman_flag(&argv, "--cap-drop"), ["all"]);
        assert!(argv.contains(&"--read-only".into()));
        assert!(argv.contains(&"--security-opt=no-new-privileges".into()));
        assert_eq!(podman_flag(&argv, "--user"), ["1000:1000"], "never root");
        assert!(podman_flag(&argv, "--memory")[0].ends_with('m'));
        assert!(podman_flag(&argv, "--tmpfs")[0].starts_with("/tmp:"));
        let vols = podman_flag(&argv, "-v");
        assert!(
            vols.iter()
                .any(|v| v.starts_with("/run/secrets/") && v.ends_with(":ro")),
            "secrets read-only: {vols:?}"
        );
        // The health check reaches podman as an exec-form JSON array.
        let health: Vec<String> =
            serde_json::from_str(podman_flag(&argv, "--health-cmd")[0]).unwrap();
        assert_eq!(health[0], "node");
        assert!(health[2].contains("/readyz"));
        // The gateway inside binds its own interface unless the spec already says lan.
        let after_image = &argv[argv.iter().position(|a| a.contains("@sha256:")).unwrap() + 1..];
        if example == "lxc-homelab.toml" {
            assert!(after_image.is_empty());
        } else {
            assert_eq!(after_image, ["--bind", "lan"]);
        }
        assert!(unit_key(&unit, "ExecStartPre")[0].starts_with("/bin/true check"));

        // And systemd accepts the generated unit.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{name}.service")), &unit).unwrap();
        let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
        let v = Command::new(sa)
            .args(["verify", &format!("{name}.service")])
            .current_dir(dir.path())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&v.stderr);
        let real: Vec<&str> = err
            .lines()
            .filter(|l| !l.contains("not found") && !l.trim().is_empty())
            .collect();
        assert!(real.is_empty(), "{example}: generated unit: {err}");
    }
}

/// Runs the real systemd-sysusers on `conf` into the scratch root `sysroot`; returns the
/// gateway account's passwd fields.
fn sysusers_account(sysroot: &Path, conf: &Path) -> Vec<String> {
    let out = Command::new("systemd-sysusers")
        .arg(format!("--root={}", sysroot.display()))
        .arg(conf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "systemd-sysusers: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passwd = std::fs::read_to_string(sysroot.join("etc/passwd")).unwrap();
    passwd
        .lines()
        .find(|l| l.starts_with("openclaw:"))
        .unwrap_or_else(|| panic!("the gateway user exists: {passwd}"))
        .split(':')
        .map(str::to_string)
        .collect()
}

/// A host where the container's uid already belongs to someone else (uid 1000 is the first
/// login user on most distributions): systemd-sysusers treats our ids as suggestions and gives
/// the gateway's account other ones, without joining the other account's group. The
/// container's start check then demands the container's uid, so the start fails naming the
/// owner instead of the gateway failing to read files another uid owns.
#[test]
fn a_taken_container_uid_is_caught_by_the_container_start_check() {
    let arts = artifacts("lxc-homelab.toml", |_| {});
    let root = tempfile::tempdir().unwrap();
    let etc = root.path().join("etc");
    std::fs::create_dir_all(&etc).unwrap();
    std::fs::write(
        etc.join("passwd"),
        "alice:x:1000:1000::/home/alice:/bin/sh\n",
    )
    .unwrap();
    std::fs::write(etc.join("group"), "alice:x:1000:\n").unwrap();
    let conf = root.path().join("openclaw.conf");
    std::fs::write(&conf, get(&arts, "systemd/sysusers.d/openclaw.conf")).unwrap();
    let entry = sysusers_account(root.path(), &conf);
    assert_ne!(entry[2], "1000", "{entry:?}");
    assert_ne!(
        entry[3], "1000",
        "the gateway joined alice's group: {entry:?}"
    );

    // The container gates its start on the container's uid; the native unit on the account.
    let container = get(&arts, "quadlet/openclaw.container");
    let pre = unit_key(container, "ExecStartPre")[0].to_string();
    let argv = split_exec(&pre, true).unwrap();
    assert_eq!(podman_flag(&argv, "--owner"), ["1000"], "{pre}");
    let native = get(&arts, "systemd/openclaw.service");
    let pre = unit_key(native, "ExecStartPre")[0].to_string();
    let argv = split_exec(&pre, true).unwrap();
    assert_eq!(podman_flag(&argv, "--owner"), ["openclaw"], "{pre}");
}

#[test]
fn tmpfiles_and_sysusers_make_the_user_and_directories_the_units_need() {
    let arts = artifacts("lxc-homelab.toml", |_| {});
    let root = tempfile::tempdir().unwrap();
    let write = |p: &str| {
        let f = root.path().join("in").join(p.replace('/', "_"));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, get(&arts, p)).unwrap();
        f
    };
    let users = write("systemd/sysusers.d/openclaw.conf");
    let dirs = write("systemd/tmpfiles.d/openclaw.conf");
    let sysroot = root.path().join("root");
    std::fs::create_dir_all(sysroot.join("etc")).unwrap();
    let run = |tool: &str, args: &[&std::ffi::OsStr]| {
        let out = Command::new(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let entry = sysusers_account(&sysroot, &users);
    run(
        "systemd-tmpfiles",
        &[
            "--create".as_ref(),
            format!("--root={}", sysroot.display()).as_ref(),
            dirs.as_os_str(),
        ],
    );
    let uid: u32 = entry[2].parse().unwrap();
    // The container's ids: the rootful container reads the files this user owns.
    assert_eq!(
        format!("{}:{}", entry[2], entry[3]),
        Spec::from_path(&support::example("lxc-homelab.toml"))
            .unwrap()
            .container
            .user
    );
    use std::os::unix::fs::MetadataExt;
    let meta = |p: &str| std::fs::metadata(sysroot.join(p.trim_start_matches('/'))).unwrap();
    let state = meta("/var/lib/openclaw");
    // Nobody else reads the state (OpenClaw's audit: fs.state_dir.perms_readable).
    assert_eq!((state.uid(), state.mode() & 0o7777), (uid, 0o700));
    let secrets = meta("/run/secrets/openclaw");
    assert_eq!(
        (secrets.uid(), secrets.gid(), secrets.mode() & 0o7777),
        (0, uid, 0o750),
        "the gateway traverses the secrets dir, nobody else"
    );
    let staged = meta("/run/secrets/openclaw/.staged");
    assert_eq!((staged.uid(), staged.mode() & 0o7777), (0, 0o700));
}

/// Every syscall the real gateway makes while it starts, serves /readyz and rejects a bad
/// token (as an unprivileged user, like the unit's User=) passes the drop-in's filter.
#[test]
fn the_gateway_makes_no_syscall_the_hardening_filter_denies() {
    let sa = support::tool("SYSTEMD_ANALYZE_BIN", "/usr/bin/systemd-analyze");
    let strace = support::tool("STRACE_BIN", "/usr/bin/strace");
    let arts = artifacts("lxc-homelab.toml", |_| {});
    let dropin = get(&arts, "systemd/openclaw.service.d/hardening.conf");

    // Allowed = the allow-list groups minus the `~` groups, expanded by systemd itself.
    fn expand(sa: &Path, item: &str, out: &mut std::collections::BTreeSet<String>) {
        if !item.starts_with('@') {
            out.insert(item.to_string());
            return;
        }
        let o = Command::new(sa)
            .args(["syscall-filter", item])
            .output()
            .unwrap();
        assert!(o.status.success(), "syscall-filter {item}");
        for l in String::from_utf8_lossy(&o.stdout).lines().skip(1) {
            let t = l.trim();
            if !t.is_empty() && !t.starts_with('#') {
                expand(sa, t, out);
            }
        }
    }
    let (mut allow, mut deny) = (Default::default(), Default::default());
    for line in unit_key(dropin, "SystemCallFilter") {
        let (set, items) = match line.strip_prefix('~') {
            Some(rest) => (&mut deny, rest),
            None => (&mut allow, line),
        };
        for i in items.split_whitespace() {
            expand(&sa, i, set);
        }
    }
    assert!(allow.len() > 100 && deny.len() > 10, "filter parsed");

    let scratch = tempfile::tempdir().unwrap();
    let home = scratch.path().join("home");
    std::fs::create_dir_all(home.join("state")).unwrap();
    std::fs::create_dir_all(home.join("tmp")).unwrap();
    let nobody = Command::new("chown")
        .args(["-R", "nobody:nogroup"])
        .arg(&home)
        .status()
        .unwrap();
    assert!(nobody.success());
    std::fs::set_permissions(
        scratch.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let summary = scratch.path().join("syscalls.txt");
    let port = 18000 + (std::process::id() % 1000) as u16;
    // OpenClaw logs under $TMPDIR/openclaw: a private one the unprivileged user owns.
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let gw = support::openclaw(&home);
    let bin = gw.get_program().to_owned();
    let envs: Vec<(std::ffi::OsString, Option<std::ffi::OsString>)> = gw
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(|v| v.to_owned())))
        .collect();
    let mut cmd = Command::new(&strace);
    cmd.args(["-f", "-qq", "-c", "-S", "name", "-o"])
        .arg(&summary)
        .args([
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
        ])
        .arg(bin)
        .args([
            "gateway",
            "run",
            "--allow-unconfigured",
            "--bind",
            "loopback",
        ])
        .args(["--port", &port.to_string()])
        .args(["--token", "t0k3n-for-a-syscall-trace-only-000000"])
        .env("OPENCLAW_SUPERVISOR_MODE", "external")
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for (k, v) in envs {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let mut child = cmd.spawn().unwrap();
    let url = format!("127.0.0.1:{port}");
    let mut ready = false;
    for _ in 0..120 {
        std::thread::sleep(std::time::Duration::from_secs(1));
        if http_get(&url, "/readyz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            ready = true;
            break;
        }
    }
    let denied_token = http_post(&url, "/tools/invoke");
    // SIGTERM to the gateway (strace's child, by pid), then strace writes its summary. Under a
    // loaded CI machine the gateway can take longer than usual to exit: never SIGKILL strace
    // first (it would die without writing the summary); SIGINT makes it detach and write it.
    let children = format!("/proc/{0}/task/{0}/children", child.id());
    for pid in std::fs::read_to_string(children)
        .unwrap_or_default()
        .split_whitespace()
    {
        let _ = Command::new("kill").args(["-TERM", pid]).status();
    }
    let exited = |child: &mut std::process::Child, half_seconds: u32| {
        for _ in 0..half_seconds {
            if child.try_wait().unwrap().is_some() {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        false
    };
    if !exited(&mut child, 120) {
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        if !exited(&mut child, 60) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    assert!(ready, "the gateway never answered /readyz under strace");
    assert!(
        denied_token.is_some_and(|r| r.starts_with("HTTP/1.1 401")),
        "a request without the token is refused"
    );

    let text = std::fs::read_to_string(&summary).unwrap();
    let used: Vec<String> = text
        .lines()
        .filter_map(|l| l.split_whitespace().last())
        .filter(|w| {
            w.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .filter(|w| *w != "total" && *w != "syscall")
        .map(str::to_string)
        .collect();
    assert!(
        used.len() > 40,
        "strace wrote a summary of the gateway's syscalls (empty means strace was killed first): {text}"
    );
    // Syscalls before the exec into node are setpriv's own (it drops privileges first).
    let setpriv_only = ["setresuid", "setresgid", "setgroups", "capget", "capset"];
    let refused: Vec<&String> = used
        .iter()
        .filter(|s| !setpriv_only.contains(&s.as_str()))
        .filter(|s| !allow.contains(*s) || deny.contains(*s))
        .collect();
    println!("gateway syscalls traced: {}", used.len());
    assert!(
        refused.is_empty(),
        "the drop-in's SystemCallFilter would refuse {refused:?}"
    );
}

fn http(addr: &str, request: String) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn http_get(addr: &str, path: &str) -> Option<String> {
    http(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
}

fn http_post(addr: &str, path: &str) -> Option<String> {
    http(
        addr,
        format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
}

/// One-thread HTTP fixture: answers every request with `respond(request head)`, and records
/// the request heads it saw.
fn fixture(respond: fn(&str) -> String) -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            log.lock().unwrap().push(head.clone());
            let _ = (&s).write_all(respond(&head).as_bytes());
        }
    });
    (port, seen)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Header value (case-insensitive name) in a raw HTTP head.
fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The rendered site block, run by real Caddy: nobody reaches the gateway without the identity
/// provider's yes, a client cannot bring its own identity header, and responses carry the
/// security headers.
#[test]
fn caddy_lets_only_authenticated_requests_through_with_the_providers_identity() {
    let caddy = support::tool("CADDY_BIN", "/usr/bin/caddy");
    // The identity provider: a session cookie means alice, anything else is refused.
    let (auth_port, _) = fixture(|head| {
        if header(head, "Cookie") == Some("session=alice") {
            "HTTP/1.1 200 OK\r\nX-Forwarded-User: alice\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
        } else {
            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 6\r\nConnection: close\r\n\r\ndenied"
                .into()
        }
    });
    // The gateway stand-in: echoes the identity it was given.
    let (gw_port, gw_seen) = fixture(|head| {
        let user = header(head, "X-Forwarded-User").unwrap_or("-").to_string();
        format!(
            "HTTP/1.1 200 OK\r\nServer: leaky/1.0\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{user}",
            user.len()
        )
    });
    let site_port = free_port();
    let arts = artifacts("lxc-homelab.toml", |s| {
        let p = s.proxy.as_mut().unwrap();
        p.site = format!("http://127.0.0.1:{site_port}");
        p.upstream = format!("127.0.0.1:{gw_port}");
        p.tls = openclaw_render::spec::ProxyTls::Auto {
            acme_ca: None,
            acme_ca_root: None,
        };
        let fa = p.forward_auth.as_mut().unwrap();
        fa.upstream = format!("127.0.0.1:{auth_port}");
        fa.copy_headers = vec!["X-Forwarded-User".into()];
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Caddyfile");
    // The artifact is a site block for an existing Caddyfile; this one adds the global options.
    std::fs::write(
        &file,
        format!(
            "{{\n\tadmin off\n\tstorage file_system {}\n}}\n{}",
            dir.path().display(),
            get(&arts, "caddy/Caddyfile")
        ),
    )
    .unwrap();
    let mut child = Command::new(&caddy)
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&file)
        .env("HOME", dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{site_port}");
    let get_with = |extra: &str| {
        http(
            &addr,
            format!("GET /chat HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"),
        )
    };
    let mut up = false;
    for _ in 0..50 {
        if get_with("").is_some() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let anonymous = get_with("X-Forwarded-User: alice\r\n");
    let spoofed = get_with("Cookie: session=alice\r\nX-Forwarded-User: mallory\r\n");
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "caddy never listened on {addr}");

    let anonymous = anonymous.unwrap();
    assert!(anonymous.starts_with("HTTP/1.1 401"), "{anonymous}");
    let spoofed = spoofed.unwrap();
    assert!(spoofed.starts_with("HTTP/1.1 200"), "{spoofed}");
    assert!(
        spoofed.ends_with("alice"),
        "the gateway sees the provider's identity, not the client's: {spoofed}"
    );
    let seen = gw_seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        1,
        "only the authenticated request reached the gateway"
    );
    assert_eq!(header(&seen[0], "X-Forwarded-For"), Some("127.0.0.1"));
    let (head, _) = spoofed.split_once("\r\n\r\n").unwrap();
    assert!(header(head, "Strict-Transport-Security").is_some_and(|v| v.contains("max-age=")));
    assert_eq!(header(head, "X-Content-Type-Options"), Some("nosniff"));
    assert_eq!(header(head, "X-Frame-Options"), Some("DENY"));
    assert_eq!(header(head, "Server"), None, "the Server header is dropped");
}

/// `[litellm]`: LiteLLM's user and directories, and each agent's settings.json written by
/// systemd-tmpfiles as the gateway's user with the rendered content (the NixOS path).
#[test]
fn litellm_tmpfiles_and_agent_settings_make_what_the_units_need() {
    use std::os::unix::fs::MetadataExt;
    let arts = artifacts("lab.toml", |_| {});
    let spec = Spec::from_path(&support::example("lab.toml")).unwrap();
    let l = spec.litellm.as_ref().unwrap();
    let root = tempfile::tempdir().unwrap();
    let write = |p: &str| {
        let f = root.path().join("in").join(p.replace('/', "_"));
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(&f, get(&arts, p)).unwrap();
        f
    };
    let sysroot = root.path().join("root");
    std::fs::create_dir_all(sysroot.join("etc")).unwrap();
    let run = |tool: &str, args: Vec<std::ffi::OsString>| {
        let out = Command::new(tool).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let rootarg = std::ffi::OsString::from(format!("--root={}", sysroot.display()));
    run(
        "systemd-sysusers",
        vec![
            rootarg.clone(),
            write("systemd/sysusers.d/openclaw.conf").into(),
            write("systemd/sysusers.d/openclaw-litellm.conf").into(),
        ],
    );
    run(
        "systemd-tmpfiles",
        vec![
            "--create".into(),
            rootarg,
            write("systemd/tmpfiles.d/openclaw.conf").into(),
            write("systemd/tmpfiles.d/openclaw-litellm.conf").into(),
            write("systemd/tmpfiles.d/openclaw-agent-settings.conf").into(),
        ],
    );
    let passwd = std::fs::read_to_string(sysroot.join("etc/passwd")).unwrap();
    let uid_of = |name: &str| -> u32 {
        passwd
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {passwd}"))
            .split(':')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    };
    let (gw, ll) = (
        uid_of(&spec.paths.service_user),
        uid_of(&l.paths.service_user),
    );
    assert_ne!(gw, ll, "LiteLLM has an account of its own");
    let meta = |p: &str| std::fs::metadata(sysroot.join(p.trim_start_matches('/'))).unwrap();
    let secrets = meta(&l.paths.secrets_dir);
    assert_eq!(
        (secrets.uid(), secrets.gid(), secrets.mode() & 0o7777),
        (0, ll, 0o750),
        "LiteLLM traverses its secrets dir, the gateway does not"
    );
    let staged = meta(&l.paths.staging_dir());
    assert_eq!((staged.uid(), staged.mode() & 0o7777), (0, 0o700));
    let state = meta(&l.paths.state_dir);
    assert_eq!((state.uid(), state.mode() & 0o7777), (ll, 0o750));
    let settings = format!("{}/agents/main/agent/settings.json", spec.paths.state_dir);
    let m = meta(&settings);
    assert_eq!((m.uid(), m.mode() & 0o7777), (gw, 0o600));
    let written: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(sysroot.join(settings.trim_start_matches('/'))).unwrap(),
    )
    .unwrap();
    let rendered: serde_json::Value =
        serde_json::from_str(get(&arts, "openclaw-agents/main/settings.json")).unwrap();
    assert_eq!(written, rendered);
    assert_eq!(written["retry"]["provider"]["maxRetries"], 0);
}
