//! End-to-end: the whole lab up once, then every check, rotation and fault, then down.
//!
//! One test function on purpose: the lab is a single shared system (namespaces, users, the
//! state directory), so its phases run in order and the teardown always runs. Needs root and
//! the real components (scripts/install-components.sh); it fails, never skips, without them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use openclaw_lab::checks::auth::{gateway_token, token_accepted};
use openclaw_lab::container_host::{self, GatewayMode};
use openclaw_lab::fixtures::canary;
use openclaw_lab::lab::{self, canary_file, http_status, unit_status};
use openclaw_lab::topology::{GATEWAY, LAN_CANARY, PROXY};
use openclaw_lab::{netns, state};
use openclaw_render::spec::Runtime;
use serde_json::{Map, Value};

mod e2e_litellm;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn lab_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_openclaw-lab"))
}

/// Runs `openclaw-lab check <which>` inside the gateway's namespace, as a user would.
fn check(which: &str) -> (bool, String) {
    check_with(which, &[])
}

/// `openclaw-lab check <which> <extra>` on the gateway host (its namespaces and Podman).
fn check_with(which: &str, extra: &[&str]) -> (bool, String) {
    let st = state::state_dir();
    let mut argv = vec![
        st.join("bin/openclaw-lab").display().to_string(),
        "check".into(),
        which.into(),
    ];
    if !extra.contains(&"--spec") {
        argv.extend(["--spec".into(), st.join("spec.json").display().to_string()]);
    }
    argv.extend(extra.iter().map(|s| s.to_string()));
    let out = state::netns_command(&GATEWAY.netns(), None, &argv)
        .env("CONTAINERS_CONF", container_host::containers_conf(&st))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// `openclaw-lab check browser` from this machine, screenshots under target/lab-browser.
fn browser_check() {
    let out_dir = repo().join("target/lab-browser");
    let _ = std::fs::remove_dir_all(&out_dir);
    let out = std::process::Command::new(state::state_dir().join("bin/openclaw-lab"))
        .args(["check", "browser", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(out.status.success(), "browser check failed:\n{text}");
    for shot in [
        "01-sign-in-required",
        "06-webchat-answer",
        "07-other-origin-refused",
    ] {
        let png = out_dir.join(format!("{shot}.png"));
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(
            size > 10_000,
            "{} missing or empty ({size} bytes)",
            png.display()
        );
    }
}

/// 4c. A deploy whose gateway cannot start (its token is a secret OpenBao does not hold, so
/// secretcheck never lets the gateway start) is rolled back by the deploy itself: the
/// previous gateway serves again with its token and its stored sessions. The rollback's own
/// gate passing is the control that the gate can pass.
fn health_gated_deploy(spec: &openclaw_render::Spec) {
    let st = state::state_dir();
    let token_before = in_netns(&GATEWAY.netns(), {
        let s = spec.clone();
        move || gateway_token(&s).unwrap()
    });
    let mut bad: Value =
        serde_json::from_str(&std::fs::read_to_string(st.join("spec.json")).unwrap()).unwrap();
    bad["secrets"]["items"]["gateway_token_missing"] = serde_json::json!({"min_length": 32});
    bad["gateway"]["token"] = "gateway_token_missing".into();
    let bad_path = st.join("bad-deploy.json");
    std::fs::write(&bad_path, serde_json::to_string_pretty(&bad).unwrap()).unwrap();
    let out = Command::new(st.join("bin/openclaw-lab"))
        .args(["deploy", "--within", "30s", "--json", "--spec"])
        .arg(&bad_path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(3),
        "the deploy did not report a rollback"
    );
    let o: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(o["deployed"], false);
    let reason = o["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains(&spec.gateway_unit()),
        "the rollback does not say why: {reason}"
    );
    assert!(
        o["probe_failures"].as_u64().unwrap() > 0,
        "no probe failed: {o}"
    );
    assert!(
        o["sessions_before"].as_u64().unwrap() > 0,
        "no session to keep: {o}"
    );
    assert_eq!(
        o["sessions_before"], o["sessions_after"],
        "sessions lost: {o}"
    );
    let effective: Value =
        serde_json::from_str(&std::fs::read_to_string(st.join("spec.json")).unwrap()).unwrap();
    assert_eq!(
        effective["gateway"]["token"], "gateway_token",
        "the bad spec stayed recorded"
    );
    assert!(
        accepted_in_gateway(Some(&token_before)),
        "the previous gateway does not accept its token after the rollback"
    );
    eprintln!(
        "rollback: applied in {:.1} s, gate failed after {:.1} s, previous deployment serving {:.1} s later, {} of {} probes failed",
        o["apply_seconds"].as_f64().unwrap(),
        o["gate_seconds"].as_f64().unwrap(),
        o["rollback_seconds"].as_f64().unwrap(),
        o["probe_failures"],
        o["probes"]
    );
}

/// Whether the gateway accepts `token`, asked from inside its namespace (curl on loopback).
fn accepted_in_gateway(token: Option<&str>) -> bool {
    let token = token.map(str::to_string);
    in_netns(&GATEWAY.netns(), move || {
        token_accepted("http://127.0.0.1:18789", token.as_deref())
            .map(|(ok, _)| ok)
            .unwrap_or(false)
    })
}

/// Runs `f` on a thread that joined the namespace (network only; files are shared).
fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let path = format!("/run/netns/{ns}");
    std::thread::spawn(move || {
        let fd = std::fs::File::open(&path).unwrap();
        use std::os::fd::AsRawFd;
        // SAFETY: setns on this thread only, with a namespace fd we just opened.
        assert_eq!(
            unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) },
            0
        );
        f()
    })
    .join()
    .unwrap()
}

struct Down;
impl Drop for Down {
    fn drop(&mut self) {
        if std::env::var_os("OPENCLAW_LAB_KEEP").is_none() {
            lab::down().expect("teardown");
            assert!(netns::existing().is_empty());
        }
    }
}

fn secrets_with(
    vault: &openclaw_lab::vault::Vault,
    spec: &openclaw_render::Spec,
    key: &str,
    value: &str,
) -> Map<String, Value> {
    let mut m = vault.get(spec.secrets.openbao.as_ref().unwrap()).unwrap();
    m.insert(key.into(), Value::String(value.into()));
    m
}

/// Runs the rendered probe unit now (`systemctl start <name>-probe.service`, the lab's
/// shim) and checks what it wrote for node_exporter, then asks it for JSON directly.
/// The probe checks the gateway (live, ready, auth over HTTP and WebSocket, certificates),
/// not the model endpoint: with the LLM down it must still say the gateway is up and ready.
fn probe_tells_gateway_up(spec: &openclaw_render::Spec, st: &Path) {
    let svc = format!("{}-probe.service", spec.name);
    let timer = format!("{}-probe.timer", spec.name);
    let before = openclaw_lab::timer::read_status(st, &timer)
        .map(|s| s.runs)
        .unwrap_or(0);
    let out = Command::new(st.join("bin/systemctl"))
        .args(["start", &svc])
        .env("OPENCLAW_LAB_STATE", st)
        .output()
        .unwrap();
    assert!(out.status.success(), "systemctl start {svc}: {out:?}");
    let run = probe_run_after(st, &timer, before);
    eprintln!("PROBE unit run: {run:?}");
    let prom = std::fs::read_to_string(
        &spec
            .observability
            .prometheus
            .as_ref()
            .unwrap()
            .probe_textfile,
    )
    .expect("the probe unit wrote no textfile");
    for want in ["openclaw_probe_up{", "openclaw_probe_ready{"] {
        let line = prom
            .lines()
            .find(|l| l.starts_with(want))
            .unwrap_or_else(|| panic!("no {want} in the probe's textfile:\n{prom}"));
        assert!(line.ends_with(" 1"), "{line}");
    }
    // The machine certificate reaches the unit's user through LoadCredential= (its directory
    // stays root's 0700): a parsed expiry in the future, not an unreadable file.
    let cert = prom
        .lines()
        .find(|l| l.starts_with("openclaw_probe_cert_days_left{check=\"cert_file\""))
        .unwrap_or_else(|| panic!("no machine certificate in the probe's textfile:\n{prom}"));
    let days: f64 = cert.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(days > 0.0, "{cert}");
    // The egress proxy's refusals (the by-name check made some), read through its group.
    if spec.uses_egress_proxy() {
        let denied = prom
            .lines()
            .find(|l| l.starts_with("openclaw_probe_egress_denied{"))
            .unwrap_or_else(|| panic!("no egress proxy count in the probe's textfile:\n{prom}"));
        let n: f64 = denied.rsplit(' ').next().unwrap().parse().unwrap();
        eprintln!("PROBE egress proxy refusals: {denied}");
        assert!(
            n >= 1.0,
            "the by-name check's refusals are not counted: {denied}"
        );
    }
    // The same check as JSON, as the gateway's user, from the gateway host.
    let token = match spec.secret_location("gateway_token").unwrap() {
        openclaw_render::spec::SecretLocation::File { path } => path,
        other => panic!("token delivered as {other:?}"),
    };
    let out = Command::new("ip")
        .args(["netns", "exec", &GATEWAY.netns(), "setpriv"])
        .arg(format!("--reuid={}", spec.paths.service_user))
        .arg(format!("--regid={}", spec.paths.service_user))
        .args(["--init-groups", "--"])
        .arg(st.join("bin/openclaw-probe"))
        .args([
            "--url",
            "http://127.0.0.1:18789",
            "--token-file",
            &token,
            "--json",
        ])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("probe JSON: {e}: {}", String::from_utf8_lossy(&out.stdout)));
    eprintln!(
        "PROBE with the LLM down: status {} state {}",
        v["status"], v["state"]
    );
    assert_eq!(v["state"], "up", "{v:#}");
    assert_eq!(v["status"], "ok", "{v:#}");
    assert_eq!(out.status.code(), Some(0));
}

fn probe_run_after(st: &Path, timer: &str, before: u32) -> openclaw_lab::timer::TimerStatus {
    openclaw_lab::cmd::wait_for(Duration::from_secs(60), Duration::from_millis(100), || {
        openclaw_lab::timer::read_status(st, timer).filter(|s| s.runs > before)
    })
    .unwrap_or_else(|| panic!("{timer} did not run within 60 s of systemctl start"))
}

/// The lab is one system (namespaces, users, state): the two modes take turns.
static LAB: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What users deploy: the gateway as the rootful Podman container from the rendered quadlet.
#[test]
fn the_lab_end_to_end_container() {
    let _lab = LAB.lock().unwrap_or_else(|e| e.into_inner());
    end_to_end(GatewayMode::Container);
}

/// Issue 11's step alone against a lab someone brought up (`openclaw-lab up`), for
/// development: `cargo test --test e2e -- --ignored litellm_step_on_a_running_lab`.
#[test]
#[ignore = "needs a running lab"]
fn litellm_step_on_a_running_lab() {
    let spec = lab::load_effective_spec().unwrap();
    e2e_litellm::run(&spec, &state::state_dir());
}

/// Hosts without Podman: the rendered native unit.
#[test]
fn the_lab_end_to_end_native() {
    let _lab = LAB.lock().unwrap_or_else(|e| e.into_inner());
    end_to_end(GatewayMode::Native);
}

/// The egress matrix from inside the container (its packets cross the host's forward hook),
/// and its control: with the rendered table removed the same probes get through, so the
/// check can fail and the table is what stops them.
fn container_egress(st: &Path) {
    let (ok, out) = check_with("egress", &["--from-container"]);
    eprintln!("{out}");
    assert!(ok, "egress check from the container failed:\n{out}");
    assert!(out.contains("\"unexpected\":0"), "{out}");
    let table = format!(
        "inet {}",
        openclaw_render::render::nftables::table_name(&lab::load_effective_spec().unwrap())
    );
    let ns = GATEWAY.netns();
    let del = Command::new("ip")
        .args(["netns", "exec", &ns, "nft", "delete", "table"])
        .args(table.split(' '))
        .status()
        .unwrap();
    assert!(del.success());
    let (ok_off, out_off) = check_with("egress", &["--from-container"]);
    let restored = Command::new("ip")
        .args(["netns", "exec", &ns, "nft", "-f"])
        .arg(
            st.join("render")
                .join(openclaw_render::render::nftables::ARTIFACT_PATH),
        )
        .status()
        .unwrap();
    assert!(restored.success(), "restoring the rendered ruleset");
    let off = out_off
        .lines()
        .rev()
        .find(|l| l.contains("unexpected"))
        .unwrap_or("")
        .to_string();
    eprintln!("CONTROL egress from the container without the table: {off}");
    assert!(
        !ok_off && !out_off.contains("\"unexpected\":0"),
        "without the egress table the container still reached nothing: the check cannot fail\n{out_off}"
    );
    let (ok, out) = check_with("egress", &["--from-container"]);
    assert!(ok, "egress after restoring the table:\n{out}");
}

/// Restarts a lab unit (SIGHUP to its supervisor, the lab's `systemctl restart`) and waits
/// until it has started again.
fn restart_unit(st: &Path, unit: &str) {
    let before = unit_status(st, unit).expect("unit status").starts;
    let sup = state::read_pid(st, &format!("unit-{unit}")).expect("supervisor pid");
    // SAFETY: kill(2) on the supervisor's pid from its pidfile.
    unsafe { libc::kill(sup, libc::SIGHUP) };
    let restarted =
        openclaw_lab::cmd::wait_for(Duration::from_secs(30), Duration::from_millis(100), || {
            unit_status(st, unit).filter(|s| s.starts > before && s.state == "running")
        });
    assert!(restarted.is_some(), "{unit} did not restart");
    std::thread::sleep(Duration::from_secs(2));
}

/// The gateway's token as a curl header file (0600, never argv).
fn token_header(spec: &openclaw_render::Spec, dir: &Path) -> PathBuf {
    let tok = in_netns(&GATEWAY.netns(), {
        let s = spec.clone();
        move || gateway_token(&s).unwrap()
    });
    let f = dir.join("auth.header");
    state::write_file(
        &f,
        format!("Authorization: Bearer {tok}\n").as_bytes(),
        0o600,
    )
    .unwrap();
    f
}

/// POST `body` to the gateway's `path` from its own host with the token; (status, body).
fn gateway_post(
    spec: &openclaw_render::Spec,
    header: &Path,
    path: &str,
    body: &str,
) -> (u16, String) {
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &GATEWAY.netns(),
            "curl",
            "-sS",
            "--max-time",
            "120",
        ])
        .args(["-w", "\n%{http_code}", "-H"])
        .arg(format!("@{}", header.display()))
        .args(["-H", "Content-Type: application/json", "-d", body])
        .arg(format!("http://127.0.0.1:{}{path}", spec.gateway.port))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// 3b for LiteLLM: its certificate (5 min, minted with the gateway's) was renewed by the llm
/// host's renewal unit, its agent restarted and logged in again with the new certificate, and
/// a chat turn through the gateway still reaches the provider through LiteLLM.
fn litellm_cert_renewed(spec: &openclaw_render::Spec, st: &Path) {
    let t = Instant::now();
    let lb = spec.litellm.as_ref().unwrap().openbao.as_ref().unwrap();
    let log = |unit: &str| std::fs::read_to_string(state::logfile(st, &format!("unit-{unit}")));
    let renew = openclaw_lab::llm_host::renew_unit_name(spec);
    let renewed =
        openclaw_lab::cmd::wait_for(Duration::from_secs(200), Duration::from_secs(2), || {
            log(&renew).ok()?.contains("Renewed").then_some(())
        });
    assert!(
        renewed.is_some(),
        "LiteLLM's certificate was not renewed: {:?}",
        log(&renew)
    );
    let left = openclaw_lab::pki::seconds_left(Path::new(&lb.cert)).unwrap();
    assert!(left > 120, "LiteLLM's certificate: {left} s left");
    // The agent's run after the renewal's restart logged in (with the new certificate).
    let agent = openclaw_render::render::litellm::agent_unit_name(spec);
    let relogin =
        openclaw_lab::cmd::wait_for(Duration::from_secs(30), Duration::from_secs(1), || {
            let s = unit_status(st, &agent)?;
            let text = log(&agent).ok()?;
            let last_run = &text[text.rfind("(start #")?..];
            (s.starts >= 2 && last_run.contains("authentication successful")).then_some(s.starts)
        });
    assert!(
        relogin.is_some(),
        "LiteLLM's agent did not log in again after the renewal:\n{}",
        log(&agent).unwrap_or_default()
    );
    let scratch = tempfile::tempdir().unwrap();
    let header = token_header(spec, scratch.path());
    let (code, body) = gateway_post(
        spec,
        &header,
        "/v1/chat/completions",
        r#"{"model":"openclaw","messages":[{"role":"user","content":"hello after LiteLLM's renewal"}]}"#,
    );
    assert_eq!(code, 200, "chat turn after LiteLLM's renewal: {body}");
    assert!(
        body.contains(&openclaw_lab::fixtures::llm::named_reply(Some(
            openclaw_lab::lab::PRIMARY_PROVIDER.name
        ))),
        "the primary provider's answer through LiteLLM after its renewal: {body}"
    );
    eprintln!(
        "LITELLM CERT renewed ({left} s left), agent logged in again (start #{}), chat turn ok; checked in {:.1} s",
        relogin.unwrap(),
        t.elapsed().as_secs_f64()
    );
}

/// Egress by host name with the real gateway: its model call goes through the egress proxy to
/// LiteLLM on the llm host (by address: the spec's address rule) and is answered by the
/// primary provider behind it; web_fetch reaches a listed name (the cloud edge, in front of
/// provider A) and not an unlisted one, the cloud edge never sees an unlisted name, and
/// (control) a proxy that allows everything makes the by-name check fail.
fn egress_by_name(spec: &openclaw_render::Spec, st: &Path) {
    let count_denied =
        |log: &str| openclaw_probe::egress_log::EgressCounts::from_text("", log).denied;
    let scratch = tempfile::tempdir().unwrap();
    let header = token_header(spec, scratch.path());
    let proxy_log = || std::fs::read_to_string(spec.egress_proxy_access_log()).unwrap_or_default();

    let t = Instant::now();
    let (code, body) = gateway_post(
        spec,
        &header,
        "/v1/chat/completions",
        r#"{"model":"openclaw","messages":[{"role":"user","content":"hello through the egress proxy"}]}"#,
    );
    eprintln!(
        "chat turn through the egress proxy: {code} in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    assert_eq!(code, 200, "chat turn: {body}");
    assert!(
        body.contains(&openclaw_lab::fixtures::llm::named_reply(Some(
            openclaw_lab::lab::PRIMARY_PROVIDER.name
        ))),
        "the primary provider's answer through LiteLLM: {body}"
    );
    let litellm_at = spec
        .models
        .base_url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    assert!(
        proxy_log()
            .lines()
            .any(|l| l.contains(&format!("TCP_TUNNEL/200 CONNECT {litellm_at}"))),
        "the model call did not go through the egress proxy to LiteLLM ({litellm_at}):\n{}",
        proxy_log()
    );

    let fetch = |url: &str| {
        gateway_post(
            spec,
            &header,
            "/tools/invoke",
            &format!(r#"{{"tool":"web_fetch","args":{{"url":"{url}"}}}}"#),
        )
    };
    let (_, allowed) = fetch("https://www.docs.olab.test/health");
    assert!(
        allowed.contains("\"ok\":true"),
        "web_fetch of a listed name: {allowed}"
    );
    let denied_before = count_denied(&proxy_log());
    let (_, refused) = fetch("https://other.cloud.olab.test/health");
    assert!(
        refused.contains("\"ok\":false"),
        "web_fetch of an unlisted name: {refused}"
    );
    assert!(
        count_denied(&proxy_log()) > denied_before
            && proxy_log().contains("TCP_DENIED/403 CONNECT other.cloud.olab.test:443"),
        "the proxy did not record the refused web_fetch:\n{}",
        proxy_log()
    );
    let reached = openclaw_lab::cloud::hosts_reached(st);
    eprintln!(
        "cloud edge saw requests for: {:?}",
        reached.iter().collect::<std::collections::BTreeSet<_>>()
    );
    assert!(reached.iter().any(|h| h == "www.docs.olab.test"));
    for never in ["other.cloud.olab.test", "docs.olab.test"] {
        assert!(
            !reached.iter().any(|h| h == never),
            "the cloud edge was reached as {never}"
        );
    }

    // Control: the same check against a proxy that allows everything must fail.
    let conf = openclaw_render::render::egress_proxy::installed_config(spec);
    let rendered = std::fs::read_to_string(&conf).unwrap();
    let open = rendered.replace("http_access deny !gateway_src", "http_access allow all");
    std::fs::write(&conf, open).unwrap();
    restart_unit(st, &spec.egress_proxy_unit());
    let (ok_open, out_open) = check("egress");
    std::fs::write(&conf, &rendered).unwrap();
    restart_unit(st, &spec.egress_proxy_unit());
    let line = out_open
        .lines()
        .rev()
        .find(|l| l.contains("unexpected"))
        .unwrap_or("")
        .to_string();
    eprintln!("CONTROL egress by name through a proxy that allows everything: {line}");
    assert!(
        !ok_open && !out_open.contains("\"unexpected\":0"),
        "an allow-everything proxy still refused the unlisted names: the check cannot fail\n{out_open}"
    );
    let (ok, out) = check("egress");
    assert!(ok, "egress after restoring the proxy's config:\n{out}");
}

/// Control for `check container`: the same image run without the unit's hardening (as root,
/// capabilities, writable root) must fail it on exactly those lines.
fn container_check_control(spec: &openclaw_render::Spec, st: &Path) {
    let name = "olab-control";
    let image = spec.container.image.clone();
    container_host::podman(
        st,
        &[
            "run",
            "-d",
            "--replace",
            "--name",
            name,
            "--user",
            "0:0",
            "--ulimit",
            "nofile=16384:16384",
            "--ulimit",
            "nproc=4096:4096",
            "--entrypoint",
            "/bin/node",
            &image,
            "-e",
            "setInterval(()=>{},1e9)",
        ],
        Duration::from_secs(60),
    )
    .expect("starting the unhardened control container");
    let mut control = spec.clone();
    control.name = name.into();
    let path = st.join("control-spec.json");
    std::fs::write(&path, serde_json::to_vec(&control).unwrap()).unwrap();
    let (ok, out) = check_with("container", &["--spec", &path.display().to_string()]);
    let _ = container_host::podman(st, &["rm", "-f", name], Duration::from_secs(30));
    eprintln!("CONTROL container check on an unhardened container:\n{out}");
    assert!(
        !ok,
        "the container check passed an unhardened container:\n{out}"
    );
    for line in [
        "CapEff (no capabilities)",
        "no-new-privileges",
        "write to the root filesystem",
        "runs as container.user's uid",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("FAIL") && l.contains(line)),
            "the control did not fail `{line}`:\n{out}"
        );
    }
}

fn end_to_end(mode: GatewayMode) {
    let t_all = Instant::now();
    // The test binary's siblings are the lab's binaries (cargo builds them for the test).
    std::env::set_var("OPENCLAW_LAB_BIN", lab_bin());
    std::env::set_var(
        "OPENCLAW_SECRETCHECK_BIN",
        lab_bin().with_file_name("openclaw-secretcheck"),
    );
    assert!(
        lab_bin().with_file_name("openclaw-secretcheck").exists(),
        "build openclaw-secretcheck first: cargo build -p openclaw-secretcheck"
    );
    std::env::set_var(
        "OPENCLAW_PROBE_BIN",
        lab_bin().with_file_name("openclaw-probe"),
    );
    assert!(
        lab_bin().with_file_name("openclaw-probe").exists(),
        "build openclaw-probe first: cargo build -p openclaw-probe"
    );
    lab::clear_leftovers("the end-to-end test").unwrap();
    let _down = Down;
    let up = lab::up(&repo().join("examples/lab.toml"), mode).expect("lab up");
    let spec = up.spec.clone();
    eprintln!("lab up in {:.1} s", up.seconds);
    let st = up.state.clone();

    // 1. Egress matrix as the gateway's user, and the canaries saw nothing from the gateway.
    let (ok, out) = check("egress");
    eprintln!("{out}");
    assert!(ok, "egress check failed:\n{out}");
    assert!(out.contains("\"unexpected\":0"), "{out}");
    for c in ["lan", "internet"] {
        let from_gw: Vec<_> = canary::hits(&canary_file(&st, c))
            .into_iter()
            .filter(|h| {
                let f = h["from"].as_str().unwrap_or("");
                f.contains(&GATEWAY.v4.to_string()) || f.contains(&GATEWAY.v6.to_string())
            })
            .collect();
        assert!(
            from_gw.is_empty(),
            "{c} canary was reached from the gateway: {from_gw:?}"
        );
    }

    egress_by_name(&spec, &st);

    // The hostile-model suite: every attack stopped by the layer it names; in the container
    // run also the controls (layers off one after another, then everything restored).
    let t = Instant::now();
    if spec.runtime == Runtime::Container {
        let hostile = openclaw_lab::hostile::run(&spec, &st, true).expect("hostile suite");
        eprintln!("{}", hostile.to_text());
        assert!(
            hostile.ok(),
            "the hostile-model suite found an unexpected outcome"
        );
        assert_eq!(hostile.counts["unexpected"], 0);
    } else {
        // The defaults as a user runs them on one host: `check hostile` on the gateway host.
        let (ok, out) = check_with("hostile", &["--json"]);
        eprintln!("{out}");
        assert!(ok, "check hostile found an unexpected outcome:\n{out}");
        let report: Value = serde_json::Deserializer::from_str(&out[out.find('{').unwrap_or(0)..])
            .into_iter()
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("check hostile --json printed no report:\n{out}"));
        assert_eq!(report["counts"]["unexpected"], 0, "{out}");
        assert_eq!(report["counts"]["scenarios"], 30, "{out}");
    }
    eprintln!("hostile suite in {:.0} s", t.elapsed().as_secs_f64());
    // The seed specs the lab can host, deployed on this lab (health-gated) and attacked through
    // their agents, then their control, then lab.toml back: the multi-agent one in the
    // container (what users of seed 002 deploy), the sandboxed one natively (a native gateway
    // has a shell, so the control's unsandboxed exec can really run).
    let variant = if spec.runtime == Runtime::Container {
        "examples/lab-multi-agent.toml"
    } else {
        "examples/lab-sandboxed.toml"
    };
    let t = Instant::now();
    let agents = openclaw_lab::hostile_agents::run_variant(
        &repo().join(variant),
        &repo().join("examples/lab.toml"),
    )
    .expect("hostile suite on the variant");
    eprintln!("{}", agents.to_text());
    eprintln!(
        "hostile suite on {variant} (deploy, attacks, control, deploy back) in {:.0} s",
        t.elapsed().as_secs_f64()
    );
    assert!(
        agents.ok(),
        "the hostile suite found an unexpected outcome on {variant}"
    );

    // Issue 11: the real LiteLLM between the gateway and the providers (fallbacks, budget,
    // keys, egress).
    e2e_litellm::run(&spec, &st);

    let container = spec.runtime == Runtime::Container;
    if container {
        container_egress(&st);
        // The hardening on the live container, not only in the unit text.
        let (ok, out) = check("container");
        eprintln!("{out}");
        assert!(ok, "container check failed:\n{out}");
        let status = unit_status(&st, &spec.gateway_unit()).unwrap();
        eprintln!(
            "PODMAN compat in the unit runner: {:?}",
            status.podman_compat
        );
        container_check_control(&spec, &st);
    }

    // 2. Secrets: rendered through cert auth, secretcheck passes, no value in argv/config/logs.
    let (ok, out) = check("secrets");
    eprintln!("{out}");
    assert!(ok, "secrets check failed:\n{out}");

    // 4. Auth, direct, through Caddy, and from the LAN.
    let (ok, out) = check("auth");
    eprintln!("{out}");
    assert!(ok, "auth check failed:\n{out}");
    // WebSocket `connect`: no token -> NOT_PAIRED, wrong -> AUTH_TOKEN_MISMATCH (close 1008),
    // the rendered token -> hello-ok.
    for (case, seen) in [
        ("WebSocket connect without a token", "NOT_PAIRED"),
        (
            "WebSocket connect with a wrong token",
            "AUTH_TOKEN_MISMATCH",
        ),
        ("WebSocket connect with the rendered token", "hello-ok"),
    ] {
        let line = out.lines().find(|l| l.contains(case)).unwrap_or_default();
        assert!(
            line.starts_with("ok") && line.contains(seen),
            "{case}: expected {seen}:\n{out}"
        );
    }
    // 4a. OpenClaw's own security audit on the live gateway, judged by the allowlist; one chat
    // turn with a tool call leaves exactly one redacted audit record.
    let (ok, out) = check("audit");
    eprintln!("{out}");
    assert!(ok, "OpenClaw's security audit of the live gateway:\n{out}");
    let (ok, out) = check("audit-trail");
    eprintln!("{out}");
    assert!(ok, "audit-trail check failed:\n{out}");
    let root = st.join("pki/root_ca.crt").display().to_string();
    let site = format!("https://{}/healthz", spec.proxy.as_ref().unwrap().site);
    let no_id = http_status(&LAN_CANARY.netns(), &site, &["--cacert", &root]);
    let with_id = http_status(
        &LAN_CANARY.netns(),
        &site,
        &["--cacert", &root, "-H", "X-Lab-Identity: alice"],
    );
    eprintln!("through Caddy from the LAN: without identity {no_id}, with identity {with_id}");
    assert_eq!(
        no_id, 401,
        "Caddy let a request without forward-auth identity through"
    );
    assert_eq!(with_id, 200, "Caddy + identity should reach the gateway");
    // 4b. The WebChat in real Chromium on this machine, through the published loopback port
    // (what users get is the container, so the browser runs against it).
    if spec.runtime == Runtime::Container {
        browser_check();
        health_gated_deploy(&spec);
    }
    let direct = http_status(
        &LAN_CANARY.netns(),
        &format!("http://{}:{}/healthz", GATEWAY.v4, spec.gateway.port),
        &[],
    );
    assert_eq!(
        direct, 0,
        "the gateway port answered the LAN directly ({direct})"
    );
    let from_proxy = http_status(
        &PROXY.netns(),
        &format!("http://{}:{}/healthz", GATEWAY.v4, spec.gateway.port),
        &[],
    );
    assert_eq!(
        from_proxy, 200,
        "ingress.allow_from (the proxy) must reach the gateway"
    );

    // 3. Rotation: a new token in OpenBao until the gateway takes it and drops the old one.
    let vault = lab::vault_handle().unwrap();
    let bao = spec.secrets.openbao.clone().unwrap();
    let tok_key = spec.secrets.items["gateway_token"]
        .kv_key("gateway_token")
        .to_string();
    let old = in_netns(&GATEWAY.netns(), {
        let s = spec.clone();
        move || gateway_token(&s).unwrap()
    });
    assert!(accepted_in_gateway(Some(&old)));
    let new = openclaw_lab::vault::random_token(48).unwrap();
    // The agent's promote runs `openclaw secrets reload` (bao_agent.rs), the restart only as
    // its fallback: the gateway process must stay the same, and no probe may find both
    // tokens refused. Each probe asks with the old token first, then the new one: with an
    // atomic swap that order can never see both refused, so a failed probe is a real gap
    // (new-then-old can straddle the swap and count a gap that never was).
    let gw_unit = spec.gateway_unit();
    let before_rotation = unit_status(&st, &gw_unit).unwrap();
    let t0 = Instant::now();
    vault
        .put(&bao, &secrets_with(&vault, &spec, &tok_key, &new))
        .unwrap();
    let (mut probes, mut failed) = (0, 0);
    let deadline = t0 + Duration::from_secs(150);
    let latency = loop {
        assert!(
            Instant::now() < deadline,
            "rotation not done within 150 s ({probes} probes, {failed} failed)"
        );
        let o = accepted_in_gateway(Some(&old));
        let n = accepted_in_gateway(Some(&new));
        probes += 1;
        if !n && !o {
            failed += 1;
        }
        if n && !o {
            break t0.elapsed();
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let after_rotation = unit_status(&st, &gw_unit).unwrap();
    let restarted = after_rotation.starts != before_rotation.starts
        || after_rotation.main_pid != before_rotation.main_pid;
    eprintln!(
        "ROTATION latency {:.1} s, {probes} probes, {failed} failed, gateway {}",
        latency.as_secs_f64(),
        if restarted {
            "RESTARTED"
        } else {
            "reloaded in place"
        }
    );
    // The WebSocket `connect` follows the same snapshot: old refused, new accepted.
    let (ws_old, ws_new) = in_netns(&GATEWAY.netns(), {
        let (old, new) = (old.clone(), new.clone());
        move || {
            use openclaw_probe::ws::{connect_check, WsOutcome};
            let target: openclaw_probe::HttpTarget = "http://127.0.0.1:18789".parse().unwrap();
            let limit = Duration::from_secs(10);
            let ask = |t: &str| {
                let tok = openclaw_probe::Token::from_secret(t).unwrap();
                let o = connect_check(&target, Some(&tok), limit);
                (matches!(o, WsOutcome::Accepted { .. }), o.describe())
            };
            (ask(&old), ask(&new))
        }
    });
    eprintln!(
        "ROTATION WebSocket: old token {}, new token {}",
        ws_old.1, ws_new.1
    );
    assert!(
        !ws_old.0,
        "the old token still opens a WebSocket: {}",
        ws_old.1
    );
    assert!(
        ws_new.0,
        "the new token is refused on the WebSocket: {}",
        ws_new.1
    );
    assert!(
        !restarted,
        "the rotation restarted the gateway (secrets reload failed, fallback taken): see the agent's log"
    );
    assert_eq!(failed, 0, "{failed} probes found both tokens refused");

    // 5a. A broken render (placeholder in OpenBao): secretcheck's promote refuses it, the
    // running gateway keeps its process and token.
    let before = unit_status(&st, &gw_unit).unwrap();
    vault
        .put(&bao, &secrets_with(&vault, &spec, &tok_key, "changeme"))
        .unwrap();
    std::thread::sleep(Duration::from_secs(12));
    let after = unit_status(&st, &gw_unit).unwrap();
    assert_eq!(
        before.starts, after.starts,
        "the gateway restarted on a broken render"
    );
    assert_eq!(before.main_pid, after.main_pid);
    assert!(
        accepted_in_gateway(Some(&new)),
        "the live token changed to a rejected render"
    );
    let agent_log = std::fs::read_to_string(state::logfile(
        &st,
        &format!(
            "unit-{}",
            openclaw_render::render::systemd::agent_unit(&spec)
        ),
    ))
    .unwrap();
    assert!(
        !agent_log.contains("changeme"),
        "the agent's log shows a secret value"
    );
    vault
        .put(&bao, &secrets_with(&vault, &spec, &tok_key, &new))
        .unwrap();

    // 5b. OpenBao down: the gateway keeps serving with the last good files; back up, it heals.
    lab::stop_process("vault");
    std::thread::sleep(Duration::from_secs(8));
    assert!(
        accepted_in_gateway(Some(&new)),
        "gateway stopped serving while OpenBao was down"
    );
    assert_eq!(
        http_status(&GATEWAY.netns(), "http://127.0.0.1:18789/readyz", &[]),
        200
    );
    vault
        .start(&st, &openclaw_lab::pki::Pki::new(st.join("pki")))
        .unwrap();
    let newer = openclaw_lab::vault::random_token(48).unwrap();
    vault
        .put(&bao, &secrets_with(&vault, &spec, &tok_key, &newer))
        .unwrap();
    // Wait for the agent's delivery on disk, then ask the gateway once: polling the gateway
    // with a token it does not have yet would trip its auth rate limit (in container mode the
    // host's requests reach it from the bridge address, which the loopback exemption skips).
    let live_token = match spec.secret_location("gateway_token").unwrap() {
        openclaw_render::spec::SecretLocation::File { path } => PathBuf::from(path),
        other => panic!("token delivered as {other:?}"),
    };
    let delivered =
        openclaw_lab::cmd::wait_for(Duration::from_secs(150), Duration::from_millis(500), || {
            (std::fs::read_to_string(&live_token).ok()?.trim() == newer).then_some(())
        });
    assert!(
        delivered.is_some(),
        "after OpenBao came back the agent did not deliver the new token"
    );
    let healed =
        openclaw_lab::cmd::wait_for(Duration::from_secs(30), Duration::from_secs(3), || {
            accepted_in_gateway(Some(&newer)).then_some(())
        });
    assert!(
        healed.is_some(),
        "after OpenBao came back the agent did not deliver the new token"
    );

    // 5c. Every model provider answering 503 (LiteLLM then answers errors): the gateway stays
    // live, and the probe (the rendered probe unit, run now by `systemctl start` through the
    // lab's timer) tells so.
    for p in openclaw_lab::topology::PROVIDERS {
        lab::set_provider_mode(&st, &p, "503").unwrap();
    }
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        http_status(&GATEWAY.netns(), "http://127.0.0.1:18789/healthz", &[]),
        200
    );
    probe_tells_gateway_up(&spec, &st);
    for p in openclaw_lab::topology::PROVIDERS {
        lab::set_provider_mode(&st, &p, "up").unwrap();
    }

    // 5d. The gateway killed: the supervisor (systemd's Restart=always) brings it back.
    let s = unit_status(&st, &gw_unit).unwrap();
    if container {
        // The container's gateway process, as the OOM killer would: conmon sees it die, the
        // unit's main process exits, Restart=always starts a new container.
        let pid = container_host::container_pid(&spec, &st).unwrap();
        // SAFETY: SIGKILL to the container's first process (host pid from podman inspect).
        unsafe { libc::kill(pid, libc::SIGKILL) };
    } else {
        let pid = s.main_pid.unwrap();
        // SAFETY: killing the gateway's main process group, as an OOM kill would.
        unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
    }
    let t_kill = Instant::now();
    lab::wait_ready(&spec, Duration::from_secs(180)).expect("gateway back after a kill");
    let s2 = unit_status(&st, &gw_unit).unwrap();
    assert!(s2.starts > s.starts);
    eprintln!(
        "RESTART after kill: ready again in {:.1} s",
        t_kill.elapsed().as_secs_f64()
    );
    // The audit record of 4a survived the kill: the next turn's check still finds it.
    let (ok, out) = check_with("audit-trail", &["--json"]);
    assert!(ok, "audit-trail check after the kill:\n{out}");
    let report: serde_json::Value =
        serde_json::Deserializer::from_str(&out[out.find('{').unwrap_or(0)..])
            .into_iter()
            .next()
            .and_then(Result::ok)
            .unwrap_or_default();
    assert!(
        report["counts"]["earlier_check_records"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "the audit record made before the kill is gone:\n{out}"
    );

    // 3b. The machine certificate was renewed by step-ca before expiry (5 min certs, renewal
    // 3 min before the end), and the agent kept authenticating (the token above got through).
    let cert = PathBuf::from(&spec.machine_cert.as_ref().unwrap().cert);
    let renewed =
        openclaw_lab::cmd::wait_for(Duration::from_secs(200), Duration::from_secs(2), || {
            let log = std::fs::read_to_string(state::logfile(
                &st,
                &format!("unit-{}-cert-renew.service", spec.name),
            ))
            .ok()?;
            log.contains("Renewed").then_some(())
        });
    assert!(renewed.is_some(), "the machine certificate was not renewed");
    assert!(openclaw_lab::pki::seconds_left(&cert).unwrap() > 120);
    litellm_cert_renewed(&spec, &st);

    // Secrets scan again after all of that (logs now include the faults).
    let (ok, out) = check("secrets");
    assert!(ok, "secrets check after faults:\n{out}");
    eprintln!(
        "E2E ({mode:?}) total {:.0} s",
        t_all.elapsed().as_secs_f64()
    );
}
