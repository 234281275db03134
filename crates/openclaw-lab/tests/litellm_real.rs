//! LiteLLM for real, from the generator's artifacts: the real LiteLLM proxy (PyPI 1.106.2,
//! offline, no database) runs the rendered `config.yaml` in front of two instances of the lab's
//! LLM fixture standing in for two cloud providers, each told to fail in turn (503, 500, 502,
//! 429, hang, slow). Keys reach LiteLLM only through its env file (0600, LiteLLM's uid), the
//! way systemd's `EnvironmentFile=` hands them over. Then the real OpenClaw gateway, on the
//! generator's openclaw.json and agent settings, answers a chat turn through LiteLLM while
//! the primary returns 503, side by side with OpenClaw's own fallback alone.
//! Everything listens on 127.0.0.1. Needs the installed components; never skips.
//!
//! Figures (fallback times, LiteLLM's RSS and added latency) are printed as one JSON line
//! each, prefixed `litellm-figures:`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use openclaw_lab::fixtures::llm::named_reply;
use openclaw_render::render::litellm as lrender;
use openclaw_render::{render_all, Spec};
use serde_json::{json, Value};

mod support;
use support::{free_port, spawn, Proc};

/// uids the test's services run as: the gateway (nobody) and LiteLLM (another account).
const GATEWAY_IDS: (u32, u32) = (65534, 65534);
const LITELLM_IDS: (u32, u32) = (65533, 65533);
/// LiteLLM's per-attempt timeout in the test spec.
const TIMEOUT_S: u64 = 3;

/// The tests measure seconds on a 2-core machine: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn rand_hex() -> String {
    let mut b = [0u8; 16];
    let f = std::fs::File::open("/dev/urandom").unwrap();
    std::io::Read::read_exact(&mut &f, &mut b).unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn write_secret(path: &Path, value: &str, ids: (u32, u32)) {
    std::fs::write(path, value).unwrap();
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(path, Some(ids.0), Some(ids.1)).unwrap();
}

/// One HTTP call with curl (bounded): (status, body, seconds).
fn post(url: &str, key: Option<&str>, body: &Value, max_s: u64) -> (u16, String, f64) {
    let mut c = Command::new("curl");
    c.args([
        "-sS",
        "-m",
        &max_s.to_string(),
        "-o",
        "-",
        "-w",
        "\n%{http_code}",
    ])
    .args(["-H", "Content-Type: application/json"]);
    // The key through a header file on stdin-less curl would be neater; the test's own argv
    // is not the deployment's, and the keys are random per run.
    if let Some(k) = key {
        c.args(["-H", &format!("Authorization: Bearer {k}")]);
    }
    c.args(["--data-binary", &body.to_string(), url]);
    let t = Instant::now();
    let out = c.output().unwrap();
    let secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string(), secs)
}

fn chat(port: u16, key: Option<&str>) -> (u16, String, f64) {
    post(
        &format!("http://127.0.0.1:{port}/v1/chat/completions"),
        key,
        &json!({"model": "lab-model", "messages": [{"role": "user", "content": "ping"}]}),
        30,
    )
}

fn answer(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["choices"][0]["message"]["content"]
                .as_str()
                .map(String::from)
        })
        .unwrap_or_default()
}

fn wait_http(port: u16, path: &str, limit: Duration) -> bool {
    openclaw_lab::cmd::wait_for(limit, Duration::from_millis(250), || {
        let out = Command::new("curl")
            .args(["-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}"])
            .arg(format!("http://127.0.0.1:{port}{path}"))
            .output()
            .ok()?;
        (String::from_utf8_lossy(&out.stdout) == "200").then_some(())
    })
    .is_some()
}

fn fixture_hits(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("POST /v1/chat/completions")
        .count()
}

/// RSS of a process and its descendants, in MiB.
fn tree_rss_mib(pid: u32) -> f64 {
    let mut total_kib = 0u64;
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        if let Ok(s) = std::fs::read_to_string(format!("/proc/{p}/status")) {
            if let Some(l) = s.lines().find(|l| l.starts_with("VmRSS:")) {
                total_kib += l
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
        if let Ok(c) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            todo.extend(c.split_whitespace().filter_map(|x| x.parse::<u32>().ok()));
        }
    }
    total_kib as f64 / 1024.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

struct Providers {
    dir: PathBuf,
    ports: [u16; 2],
    _procs: Vec<Proc>,
    keys: [String; 2],
}

impl Providers {
    /// Two fixture "providers", each checking its own key.
    fn start(dir: &Path) -> Providers {
        let ports = [free_port(), free_port()];
        let keys = [
            format!("prov-a-{}", rand_hex()),
            format!("prov-b-{}", rand_hex()),
        ];
        let mut procs = Vec::new();
        for (i, name) in ["provider-a", "provider-b"].iter().enumerate() {
            let kf = dir.join(format!("{name}.key"));
            std::fs::write(&kf, &keys[i]).unwrap();
            std::fs::write(dir.join(format!("{name}.mode")), "up").unwrap();
            procs.push(spawn(
                name,
                Command::new(env!("CARGO_BIN_EXE_openclaw-lab"))
                    .args(["serve", "llm", "--listen"])
                    .arg(format!("127.0.0.1:{}", ports[i]))
                    .args(["--model", "lab-model", "--name", name, "--key-file"])
                    .arg(&kf)
                    .arg("--mode-file")
                    .arg(dir.join(format!("{name}.mode"))),
                &dir.join(format!("{name}.log")),
            ));
        }
        for p in ports {
            assert!(wait_http(p, "/health", Duration::from_secs(10)));
        }
        Providers {
            dir: dir.to_path_buf(),
            ports,
            _procs: procs,
            keys,
        }
    }
    fn set(&self, which: usize, mode: &str) {
        let name = ["provider-a", "provider-b"][which];
        std::fs::write(self.dir.join(format!("{name}.mode")), mode).unwrap();
    }
    fn hits(&self, which: usize) -> usize {
        fixture_hits(
            &self
                .dir
                .join(format!("{}.log", ["provider-a", "provider-b"][which])),
        )
    }
}

/// The test deployment: the gateway on loopback pointing at LiteLLM, LiteLLM in front of the
/// two providers. `files` backend: the test writes the files an agent would render.
/// `cost`: USD per token (both directions); `budget`: USD per provider and day.
fn spec_text(
    d: &Path,
    gw_port: u16,
    ll_port: u16,
    prov: [u16; 2],
    cost: f64,
    budget: f64,
) -> String {
    format!(
        r#"
name = "ll"
[gateway]
port = {gw_port}
bind = "loopback"
auth = "token"
token = "gateway_token"
[models]
provider_id = "litellm"
base_url = "http://127.0.0.1:{ll_port}/v1"
api_key = "litellm_key"
models = ["lab-model"]
primary = "lab-model"
[litellm]
listen = "127.0.0.1:{ll_port}"
primary = "lab-model"
fallbacks = ["lab-fallback"]
timeout = "{TIMEOUT_S}s"
retries = 0
budget_usd = {budget}
budget_period = "1d"
[[litellm.providers]]
name = "provider-a"
model_group = "lab-model"
model = "openai/lab-model"
base_url = "http://127.0.0.1:{pa}/v1"
api_key = "provider_a_key"
input_cost_per_token = {cost}
output_cost_per_token = {cost}
[[litellm.providers]]
name = "provider-b"
model_group = "lab-fallback"
model = "openai/lab-model"
base_url = "http://127.0.0.1:{pb}/v1"
api_key = "provider_b_key"
input_cost_per_token = {cost}
output_cost_per_token = {cost}
[[litellm.egress.allow]]
name = "providers"
to = "127.0.0.1"
ports = [{pa}, {pb}]
[litellm.paths]
bin = "{bin}"
config = "{dir}/litellm/config.yaml"
service_user = "olab-litellm"
state_dir = "{dir}/litellm/state"
secrets_dir = "{dir}/litellm/secrets"
agent_dir = "{dir}/litellm/agent"
[secrets]
backend = "files"
dir = "{dir}/gw-secrets"
[secrets.items.gateway_token]
path = "{dir}/gw-secrets/gateway_token"
min_length = 32
[secrets.items.litellm_key]
path = "{dir}/gw-secrets/litellm_key"
[container]
image = "localhost/openclaw-gateway@sha256:{zeros}"
[paths]
state_dir = "{dir}/gw-state"
config = "{dir}/openclaw.json"
[settings.gateway.http.endpoints.chatCompletions]
enabled = true
"#,
        pa = prov[0],
        pb = prov[1],
        bin = openclaw_lab::components::litellm().unwrap().display(),
        dir = d.display(),
        zeros = "0".repeat(64),
    )
}

struct Litellm {
    proc: Proc,
    port: u16,
    log: PathBuf,
    master: String,
}

/// Starts LiteLLM as its own uid from the rendered artifacts: config.yaml as rendered, the
/// env file as its agent would render it (0600, LiteLLM's uid), its values handed over as
/// environment the way systemd's EnvironmentFile= does, argv from the rendered ExecStart.
/// With `trace`, LiteLLM runs under `strace -f -e trace=connect` (seccomp-filtered, so only
/// connect() is stopped) writing there: every connection it attempts, from its start on.
fn start_litellm(spec: &Spec, d: &Path, prov: &Providers, trace: Option<&Path>) -> Litellm {
    let l = spec.litellm.as_ref().unwrap();
    let arts = render_all(spec).unwrap_or_else(|e| panic!("{e}"));
    let config = &arts
        .iter()
        .find(|a| a.path == lrender::CONFIG_PATH)
        .unwrap()
        .content;
    for (i, k) in prov.keys.iter().enumerate() {
        assert!(
            !config.contains(k.as_str()),
            "provider key {i} in config.yaml"
        );
    }
    std::fs::create_dir_all(d.join("litellm/state")).unwrap();
    std::fs::create_dir_all(d.join("litellm/secrets")).unwrap();
    std::fs::write(&l.paths.config, config).unwrap();
    // A master key that does not start with sk-: LiteLLM takes any.
    let master = format!("gwkey-{}", rand_hex());
    let env_file = l.paths.env_file();
    let env_text = format!(
        "{}={master}\n{}={}\n{}={}\n",
        openclaw_render::spec::litellm::MASTER_KEY_VAR,
        l.providers[0].env_var(),
        prov.keys[0],
        l.providers[1].env_var(),
        prov.keys[1],
    );
    write_secret(Path::new(&env_file), &env_text, LITELLM_IDS);
    std::os::unix::fs::chown(
        d.join("litellm/state"),
        Some(LITELLM_IDS.0),
        Some(LITELLM_IDS.1),
    )
    .unwrap();
    let argv = lrender::exec_start(l);
    // strace (as root, outside setpriv: the trace file stays root's) follows setpriv's exec.
    let mut cmd = match trace {
        Some(t) => {
            let mut c = Command::new(
                std::env::var("STRACE_BIN").unwrap_or_else(|_| "/usr/bin/strace".into()),
            );
            c.args(["-f", "-qq", "--seccomp-bpf", "-e", "trace=connect", "-o"])
                .arg(t)
                .arg("setpriv");
            c
        }
        None => Command::new("setpriv"),
    };
    cmd.args([
        &format!("--reuid={}", LITELLM_IDS.0),
        &format!("--regid={}", LITELLM_IDS.1),
        "--clear-groups",
        "--",
    ])
    .args(&argv)
    .env_clear()
    .env("PATH", "/usr/bin:/bin")
    .current_dir(d.join("litellm/state"));
    for (k, v) in lrender::environment(l) {
        cmd.env(k, v);
    }
    for line in env_text.lines() {
        let (k, v) = line.split_once('=').unwrap();
        cmd.env(k, v);
    }
    let log = d.join("litellm.log");
    let t = Instant::now();
    let proc = spawn("litellm", &mut cmd, &log);
    let port: u16 = lrender::listen_parts(&l.listen).1.parse().unwrap();
    assert!(
        wait_http(port, "/health/liveliness", Duration::from_secs(90)),
        "LiteLLM did not start:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    eprintln!(
        "litellm-figures: {}",
        json!({"litellm_start_s": (t.elapsed().as_secs_f64() * 10.0).round() / 10.0})
    );
    // argv: paths and the address only.
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", proc.0.id())).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline);
    for k in prov.keys.iter().chain([&master]) {
        assert!(!cmdline.contains(k.as_str()), "a key in LiteLLM's argv");
    }
    Litellm {
        proc,
        port,
        log,
        master,
    }
}

fn make_dir(d: &Path) {
    // The services' uids must traverse the test's (root, 0700) directory.
    std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
}

#[test]
fn litellm_falls_back_within_seconds_refuses_other_keys_and_enforces_the_budget() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_dir(d);
    let prov = Providers::start(d);
    let ll_port = free_port();
    // 8 tokens at 0.002 USD a call: provider-b's 0.1 lasts a dozen fallback answers.
    let spec = Spec::from_toml(&spec_text(d, free_port(), ll_port, prov.ports, 0.001, 0.1))
        .unwrap_or_else(|e| panic!("{e}"));
    let trace = d.join("litellm.connect.trace");
    let ll = start_litellm(&spec, d, &prov, Some(&trace));
    let key = Some(ll.master.as_str());
    let primary = named_reply(Some("provider-a"));
    let fallback = named_reply(Some("provider-b"));
    let mut figures = serde_json::Map::new();

    // The primary answers.
    let (code, body, _) = chat(ll.port, key);
    assert_eq!(code, 200, "{body}");
    assert_eq!(answer(&body), primary);

    // Added latency: the same request straight to the fixture and through LiteLLM.
    let direct: Vec<f64> = (0..8)
        .map(|_| {
            post(
                &format!("http://127.0.0.1:{}/v1/chat/completions", prov.ports[0]),
                Some(&prov.keys[0]),
                &json!({"model": "lab-model", "messages": [{"role": "user", "content": "ping"}]}),
                10,
            )
            .2
        })
        .collect();
    let via: Vec<f64> = (0..8).map(|_| chat(ll.port, key).2).collect();
    figures.insert(
        "added_latency_ms".into(),
        json!(((median(via) - median(direct)) * 1000.0).round()),
    );
    figures.insert(
        "rss_mib_after_requests".into(),
        json!(tree_rss_mib(ll.proc.0.id()).round()),
    );

    // Each failure kind of the primary: the fallback's answer, within seconds, and the
    // primary asked exactly once (no retries multiplying the wait).
    for (mode, limit) in [
        ("503", 2.0),
        ("500", 2.0),
        ("502", 2.0),
        ("429", 2.0),
        ("hang", TIMEOUT_S as f64 + 2.0),
        ("slow 8000", TIMEOUT_S as f64 + 2.0),
    ] {
        prov.set(0, mode);
        let before = prov.hits(0);
        let (code, body, secs) = chat(ll.port, key);
        assert_eq!(code, 200, "primary {mode}: {body}");
        assert_eq!(answer(&body), fallback, "primary {mode}: {body}");
        assert!(secs < limit, "primary {mode}: fallback after {secs:.1}s");
        assert_eq!(prov.hits(0) - before, 1, "primary {mode}: retried");
        figures.insert(
            format!("fallback_s_{}", mode.split(' ').next().unwrap()),
            json!((secs * 100.0).round() / 100.0),
        );
    }
    prov.set(0, "up");
    let (_, body, _) = chat(ll.port, key);
    assert_eq!(answer(&body), primary, "the primary back: {body}");

    // Every provider down: a clear error, quickly; LiteLLM stays live.
    prov.set(0, "503");
    prov.set(1, "503");
    let (code, body, secs) = chat(ll.port, key);
    assert_eq!(code, 503, "{body}");
    assert!(
        body.contains("Fallback to lab-fallback also failed"),
        "{body}"
    );
    assert!(secs < 3.0, "all down: error after {secs:.1}s");
    figures.insert(
        "all_down_error_s".into(),
        json!((secs * 100.0).round() / 100.0),
    );
    prov.set(0, "hang");
    prov.set(1, "hang");
    let (code, body, secs) = chat(ll.port, key);
    // LiteLLM answers a timed-out chain with 408.
    assert!(code == 408 || code >= 500, "{code} {body}");
    assert!(
        body.contains("Timeout") || body.contains("timed out"),
        "{body}"
    );
    assert!(
        secs < (2 * TIMEOUT_S) as f64 + 2.0,
        "all hanging: error after {secs:.1}s"
    );
    figures.insert(
        "all_hang_error_s".into(),
        json!((secs * 100.0).round() / 100.0),
    );
    prov.set(0, "up");
    prov.set(1, "up");
    assert!(wait_http(
        ll.port,
        "/health/liveliness",
        Duration::from_secs(5)
    ));

    // Keys: none, a wrong one, a provider's own key: refused before any provider is asked.
    // Without a database LiteLLM 1.106.2 answers another key with 400 "No connected db." and
    // no key with a 500 (its error handler imports the absent Prisma client): refusals both.
    let hits = (prov.hits(0), prov.hits(1));
    for (what, k, want) in [
        ("no key", None, 500),
        ("a wrong key", Some(format!("sk-{}", rand_hex())), 400),
        ("a provider's key", Some(prov.keys[0].clone()), 400),
    ] {
        let (code, body, _) = chat(ll.port, k.as_deref());
        assert_eq!(code, want, "{what}: {body}");
        assert!(answer(&body).is_empty(), "{what} got an answer");
    }
    assert_eq!(
        (prov.hits(0), prov.hits(1)),
        hits,
        "a refused key reached a provider"
    );

    // The budget: spend until LiteLLM refuses, with the primary down so every answer is the
    // fallback's (provider-b's budget); then every request is refused, none reaches it.
    prov.set(0, "503");
    let mut refused = None;
    for i in 0..60 {
        let (code, body, _) = chat(ll.port, key);
        if code != 200 {
            refused = Some((i, code, body));
            break;
        }
    }
    let (calls, code, body) = refused.expect("LiteLLM never refused over budget");
    assert_eq!(code, 429, "{body}");
    assert!(body.contains("budget"), "{body}");
    let hits = prov.hits(1);
    let (code, _, _) = chat(ll.port, key);
    assert_eq!(code, 429);
    assert_eq!(
        prov.hits(1),
        hits,
        "a request over budget reached the provider"
    );
    figures.insert("budget_refused_after_calls".into(), json!(calls));
    prov.set(0, "up");

    // No key in LiteLLM's output.
    let log = std::fs::read_to_string(&ll.log).unwrap_or_default();
    for k in prov.keys.iter().chain([&ll.master]) {
        assert!(!log.contains(k.as_str()), "a key in LiteLLM's log");
    }
    figures.insert(
        "rss_mib".into(),
        json!(tree_rss_mib(ll.proc.0.id()).round()),
    );

    // Offline: from its start on, LiteLLM connected only to its two providers (no cost-map
    // fetch, no telemetry, no DNS lookup).
    let trace = std::fs::read_to_string(&trace).unwrap_or_default();
    let connects: Vec<&str> = trace
        .lines()
        .filter(|l| l.contains("connect(") && !l.contains("AF_UNIX"))
        .collect();
    assert!(!connects.is_empty(), "no connect() traced:\n{trace}");
    let allowed: Vec<String> = prov
        .ports
        .iter()
        .map(|p| format!("sin_port=htons({p}), sin_addr=inet_addr(\"127.0.0.1\")"))
        .collect();
    for c in &connects {
        assert!(
            allowed.iter().any(|a| c.contains(a.as_str())),
            "LiteLLM connected somewhere else than its providers: {c}"
        );
    }
    figures.insert(
        "connect_calls_all_to_providers".into(),
        json!(connects.len()),
    );
    eprintln!("litellm-figures: {}", Value::Object(figures));
}

struct Gateway {
    proc: Proc,
    port: u16,
    token: String,
    log: PathBuf,
}

/// The real gateway as nobody, on `config` (and `settings`, the agent runner's settings.json,
/// if given), from a state directory of its own under `d/<name>`.
fn start_gateway(
    d: &Path,
    name: &str,
    port: u16,
    token: &str,
    config: &str,
    settings: Option<&str>,
) -> Gateway {
    let state = d.join(name);
    std::fs::create_dir_all(state.join("logs")).unwrap();
    if let Some(s) = settings {
        std::fs::create_dir_all(state.join("agents/main/agent")).unwrap();
        std::fs::write(state.join("agents/main/agent/settings.json"), s).unwrap();
    }
    let cfg_path = d.join(format!("{name}.json"));
    std::fs::write(&cfg_path, config).unwrap();
    let chown = Command::new("chown")
        .args(["-R", &format!("{}:{}", GATEWAY_IDS.0, GATEWAY_IDS.1)])
        .arg(&state)
        .status()
        .unwrap();
    assert!(chown.success());
    let node_dir = openclaw_lab::components::node_bin_dir().unwrap();
    let openclaw = openclaw_lab::components::openclaw().unwrap();
    let log = d.join(format!("{name}.log"));
    let proc = spawn(
        name,
        Command::new("setpriv")
            .args([
                &format!("--reuid={}", GATEWAY_IDS.0),
                &format!("--regid={}", GATEWAY_IDS.1),
                "--clear-groups",
                "--",
            ])
            .arg(openclaw)
            .args(["gateway", "run"])
            .env_clear()
            .env("PATH", format!("{}:/usr/bin:/bin", node_dir.display()))
            .env("HOME", &state)
            .env("OPENCLAW_STATE_DIR", &state)
            .env("OPENCLAW_CONFIG_PATH", &cfg_path)
            .env("OPENCLAW_NIX_MODE", "1"),
        &log,
    );
    assert!(
        wait_http(port, "/readyz", Duration::from_secs(120)),
        "{name} did not get ready:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    Gateway {
        proc,
        port,
        token: token.to_string(),
        log,
    }
}

impl Gateway {
    /// One chat turn through the gateway's OpenAI-compatible endpoint (a normal agent run).
    fn turn(&self, max_s: u64) -> (u16, String, f64) {
        post(
            &format!("http://127.0.0.1:{}/v1/chat/completions", self.port),
            Some(&self.token),
            &json!({"model": "openclaw", "messages": [{"role": "user", "content": "ping"}]}),
            max_s,
        )
    }
    fn live(&self) -> bool {
        wait_http(self.port, "/healthz", Duration::from_secs(5))
    }
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// Every process of a tree (the gateway's CLI may re-exec itself).
fn tree(pid: u32) -> Vec<u32> {
    let mut all = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        all.push(p);
        if let Ok(c) = std::fs::read_to_string(format!("/proc/{p}/task/{p}/children")) {
            todo.extend(c.split_whitespace().filter_map(|x| x.parse::<u32>().ok()));
        }
    }
    all
}

#[test]
fn a_gateway_turn_falls_back_through_litellm_in_seconds_and_openclaw_alone_takes_a_minute() {
    let _one = serial();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_dir(d);
    let prov = Providers::start(d);
    let (gw_port, ll_port) = (free_port(), free_port());
    let spec = Spec::from_toml(&spec_text(d, gw_port, ll_port, prov.ports, 0.0001, 8.0))
        .unwrap_or_else(|e| panic!("{e}"));
    let ll = start_litellm(&spec, d, &prov, None);
    let arts = render_all(&spec).unwrap_or_else(|e| panic!("{e}"));
    let content = |path: &str| {
        arts.iter()
            .find(|a| a.path == path)
            .unwrap_or_else(|| panic!("no {path}"))
            .content
            .clone()
    };
    let config = content("openclaw.json");
    let cfg: Value = serde_json::from_str(&config).unwrap();
    let provider = &cfg["models"]["providers"]["litellm"];
    assert_eq!(
        provider["timeoutSeconds"],
        json!(lrender::gateway_timeout_secs(
            spec.litellm.as_ref().unwrap()
        ))
    );
    assert_eq!(cfg["agents"]["defaults"]["model"]["fallbacks"], json!([]));
    let settings = content("openclaw-agents/main/settings.json");

    // The gateway's secrets (the files an agent would render): its token, and LiteLLM's key.
    let sec = d.join("gw-secrets");
    std::fs::create_dir_all(&sec).unwrap();
    let token = format!("gw-{}", rand_hex());
    write_secret(&sec.join("gateway_token"), &token, GATEWAY_IDS);
    write_secret(&sec.join("litellm_key"), &ll.master, GATEWAY_IDS);
    let mut figures = serde_json::Map::new();

    // ---- through LiteLLM
    let gw = start_gateway(d, "gw-state", gw_port, &token, &config, Some(&settings));
    let (code, body, secs) = gw.turn(60);
    assert_eq!(code, 200, "{body}\n{}", gw.log());
    assert_eq!(answer(&body), named_reply(Some("provider-a")), "{body}");
    figures.insert(
        "gateway_turn_s_primary".into(),
        json!((secs * 100.0).round() / 100.0),
    );

    for mode in ["503", "500", "502", "429", "hang", "slow 8000"] {
        prov.set(0, mode);
        let (code, body, secs) = gw.turn(60);
        assert_eq!(code, 200, "primary {mode}: {body}\n{}", gw.log());
        assert_eq!(
            answer(&body),
            named_reply(Some("provider-b")),
            "primary {mode}: {body}"
        );
        let limit = if matches!(mode, "hang" | "slow 8000") {
            TIMEOUT_S as f64 + 5.0
        } else {
            5.0
        };
        assert!(
            secs < limit,
            "primary {mode}: the fallback answered after {secs:.1}s"
        );
        figures.insert(
            format!(
                "gateway_turn_s_via_litellm_primary_{}",
                mode.split(' ').next().unwrap()
            ),
            json!((secs * 100.0).round() / 100.0),
        );
    }

    // Every provider down: the user gets an error, not a hang, and the gateway stays live.
    prov.set(0, "503");
    prov.set(1, "503");
    let (code, body, secs) = gw.turn(120);
    eprintln!("all down through the gateway: {code} after {secs:.1}s: {body}");
    assert!(
        secs < 15.0,
        "all down: the gateway answered after {secs:.1}s"
    );
    assert!(answer(&body) != named_reply(Some("provider-b")), "{body}");
    assert!(gw.live(), "the gateway died with every provider down");
    figures.insert(
        "gateway_all_down_s".into(),
        json!((secs * 100.0).round() / 100.0),
    );

    // Over budget: turns until LiteLLM refuses the gateway's key (a turn is OpenClaw's whole
    // prompt, about 7500 tokens, so about 0.75 USD of provider-b's 8 at the test's prices);
    // the gateway reports LiteLLM's refusal at once and stays live.
    prov.set(0, "503");
    prov.set(1, "up");
    let mut refused = None;
    for i in 0..30 {
        let (code, body, secs) = gw.turn(120);
        if answer(&body) != named_reply(Some("provider-b")) {
            refused = Some((i, code, body, secs));
            break;
        }
    }
    let (turns, code, body, secs) =
        refused.expect("LiteLLM never refused the gateway's key over budget");
    eprintln!(
        "over budget through the gateway after {turns} turns: {code} after {secs:.1}s: {body}"
    );
    assert!(body.contains("budget"), "over budget: {body}\n{}", gw.log());
    assert!(
        secs < 5.0,
        "over budget: the gateway answered after {secs:.1}s"
    );
    assert!(gw.live());
    figures.insert(
        "gateway_over_budget_s".into(),
        json!((secs * 100.0).round() / 100.0),
    );
    prov.set(0, "up");

    // No provider key is readable by the gateway's user or in its processes' environment.
    let env_file = spec.litellm.as_ref().unwrap().paths.env_file();
    let read = Command::new("setpriv")
        .args([
            &format!("--reuid={}", GATEWAY_IDS.0),
            &format!("--regid={}", GATEWAY_IDS.1),
            "--clear-groups",
            "--",
            "cat",
            &env_file,
        ])
        .output()
        .unwrap();
    assert!(
        !read.status.success(),
        "the gateway's user reads LiteLLM's env file"
    );
    for pid in tree(gw.proc.0.id()) {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let environ = String::from_utf8_lossy(&environ);
        for k in &prov.keys {
            assert!(
                !environ.contains(k.as_str()),
                "a provider key in the gateway's environment"
            );
        }
    }
    let log = gw.log();
    for k in prov.keys.iter().chain([&ll.master]) {
        assert!(!log.contains(k.as_str()), "a key in the gateway's log");
    }
    drop(gw);

    // ---- OpenClaw's own fallback alone (its defaults: no settings.json), side by side: the
    // same two providers as two OpenClaw providers, primary and fallback, primary 503.
    prov.set(0, "503");
    prov.set(1, "up");
    let mut alone = cfg.clone();
    let direct = |port: u16, key: &str| {
        json!({"baseUrl": format!("http://127.0.0.1:{port}/v1"), "api": "openai-completions",
               "apiKey": key, "models": [{"id": "lab-model", "name": "lab-model"}]})
    };
    alone["models"]["providers"] = json!({
        "provider-a": direct(prov.ports[0], &prov.keys[0]),
        "provider-b": direct(prov.ports[1], &prov.keys[1]),
    });
    alone["agents"]["defaults"]["model"] =
        json!({"primary": "provider-a/lab-model", "fallbacks": ["provider-b/lab-model"]});
    let alone_port = free_port();
    alone["gateway"]["port"] = json!(alone_port);
    let gw = start_gateway(
        d,
        "gw-alone",
        alone_port,
        &token,
        &serde_json::to_string_pretty(&alone).unwrap(),
        None,
    );
    let (code, body, secs) = gw.turn(240);
    assert_eq!(code, 200, "{body}\n{}", gw.log());
    assert_eq!(answer(&body), named_reply(Some("provider-b")), "{body}");
    figures.insert(
        "gateway_turn_s_openclaw_alone_primary_503".into(),
        json!((secs * 10.0).round() / 10.0),
    );
    eprintln!("litellm-figures: {}", Value::Object(figures));
}
