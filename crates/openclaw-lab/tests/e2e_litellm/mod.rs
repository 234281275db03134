//! Issue 11 on the shared lab: the real LiteLLM on the llm host, between the real gateway and
//! the two provider fixtures (provider-a the primary, provider-b the fallback). Every turn is
//! a real agent run through the gateway's OpenAI-compatible endpoint; every negative has its
//! control next to it. Figures are printed as `LITELLM ...` lines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use openclaw_lab::fixtures::llm::named_reply;
use openclaw_lab::lab::{self, http_status, set_provider_mode};
use openclaw_lab::topology::{
    Host, GATEWAY, INTERNET_CANARY, LAN_CANARY, LLM, PROVIDER_A, PROVIDER_B,
};
use openclaw_lab::{llm_host, state};
use openclaw_render::render::litellm as lrender;
use openclaw_render::spec::{Runtime, SecretLocation};
use openclaw_render::Spec;

/// LiteLLM's per-attempt timeout in examples/lab.toml (a hang falls back after it).
const TIMEOUT_S: f64 = 3.0;

/// A header file (0600) with `Bearer <value>`: keys never go on argv.
fn bearer_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    openclaw_lab::bench_litellm::header(dir, name, value).unwrap()
}

/// POST from the gateway host (root, in its namespace): (status, body, seconds).
fn post(url: &str, header: &Path, body: &str, max_s: u64) -> (u16, String, f64) {
    let t = Instant::now();
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &GATEWAY.netns(),
            "curl",
            "-sS",
            "--max-time",
        ])
        .arg(max_s.to_string())
        .args(["-w", "\n%{http_code}", "-H"])
        .arg(format!("@{}", header.display()))
        .args(["-H", "Content-Type: application/json", "-d", body, url])
        .output()
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_string(), secs)
}

fn answer(body: &str) -> String {
    openclaw_lab::bench_litellm::answer(body)
}

fn secret_file(spec: &Spec, name: &str) -> PathBuf {
    match spec.secret_location(name) {
        Some(SecretLocation::File { path }) => PathBuf::from(path),
        other => panic!("{name} delivered as {other:?}"),
    }
}

fn hits(st: &Path, h: &Host) -> usize {
    std::fs::read_to_string(state::logfile(st, h.name))
        .unwrap_or_default()
        .matches("POST /v1/chat/completions")
        .count()
}

/// `cmd` as `user` (setpriv, no capabilities), in the host namespace `netns` when given.
fn as_user(netns: Option<&str>, user: &str, cmd: &[&str]) -> std::process::Output {
    let mut c = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns, "setpriv"]);
            c
        }
        None => Command::new("setpriv"),
    };
    c.args([
        &format!("--reuid={user}"),
        &format!("--regid={user}"),
        "--init-groups",
        "--inh-caps=-all",
        "--",
    ])
    .args(cmd);
    openclaw_lab::cmd::output_within(&mut c, Duration::from_secs(15)).unwrap()
}

/// Does `user` on the host of `netns` get a TCP connection to addr:port?
fn connects(netns: &str, user: &str, addr: &str, port: u16) -> bool {
    let script = format!("exec 3<>/dev/tcp/{addr}/{port}");
    as_user(Some(netns), user, &["timeout", "4", "bash", "-c", &script])
        .status
        .success()
}

/// Every pid of the tree under `pid` (host pid namespace).
fn tree(pid: i32) -> Vec<i32> {
    let mut all = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        all.push(p);
        for t in std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            if let Ok(c) = std::fs::read_to_string(t.path().join("children")) {
                todo.extend(c.split_whitespace().filter_map(|x| x.parse::<i32>().ok()));
            }
        }
    }
    all
}

fn environ_has(pid: i32, values: &[String]) -> bool {
    let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
    let env = String::from_utf8_lossy(&env);
    values.iter().any(|v| env.contains(v.as_str()))
}

pub fn run(spec: &Spec, st: &Path) {
    let t_all = Instant::now();
    let l = spec
        .litellm
        .as_ref()
        .expect("examples/lab.toml has [litellm]");
    let scratch = tempfile::tempdir().unwrap();
    let gw_key =
        std::fs::read_to_string(secret_file(spec, spec.models.api_key.as_deref().unwrap()))
            .unwrap()
            .trim()
            .to_string();
    let gw_header = {
        let tok =
            std::fs::read_to_string(secret_file(spec, spec.gateway.token.as_deref().unwrap()))
                .unwrap();
        bearer_file(scratch.path(), "gw.header", tok.trim())
    };
    let turn = |max_s: u64| {
        post(
            &format!("http://127.0.0.1:{}/v1/chat/completions", spec.gateway.port),
            &gw_header,
            r#"{"model":"openclaw","messages":[{"role":"user","content":"ping through LiteLLM"}]}"#,
            max_s,
        )
    };
    let ready = || {
        http_status(
            &GATEWAY.netns(),
            &format!("http://127.0.0.1:{}/readyz", spec.gateway.port),
            &[],
        ) == 200
    };
    let set = |h: &Host, m: &str| set_provider_mode(st, h, m).unwrap();
    let (primary, fallback) = (
        named_reply(Some(PROVIDER_A.name)),
        named_reply(Some(PROVIDER_B.name)),
    );
    // Spend counted by earlier steps (the hostile suite's turns) starts again at 0.
    llm_host::restart(spec, st, Duration::from_secs(120)).expect("LiteLLM restart");

    // 1. The primary's answer.
    set(&PROVIDER_A, "up");
    set(&PROVIDER_B, "up");
    let (code, body, secs) = turn(120);
    assert_eq!(code, 200, "a turn through LiteLLM: {body}");
    assert_eq!(answer(&body), primary, "the primary's answer: {body}");
    eprintln!("LITELLM primary answers: {secs:.2} s");

    // 2. Each failure kind of the primary: the fallback's answer within seconds, the primary
    // asked once (no retry layer multiplying the wait). The answers before and after are the
    // controls: the same turn gets the primary's answer when it is up.
    for (mode, limit) in [
        ("503", 5.0),
        ("500", 5.0),
        ("429", 5.0),
        ("hang", TIMEOUT_S + 5.0),
        ("slow 8000", TIMEOUT_S + 5.0),
    ] {
        set(&PROVIDER_A, mode);
        let before = hits(st, &PROVIDER_A);
        let (code, body, secs) = turn(120);
        eprintln!("LITELLM primary {mode}: fallback answered in {secs:.2} s");
        assert_eq!(code, 200, "primary {mode}: {body}");
        assert_eq!(answer(&body), fallback, "primary {mode}: {body}");
        assert!(
            secs < limit,
            "primary {mode}: the fallback answered after {secs:.1} s"
        );
        assert_eq!(
            hits(st, &PROVIDER_A) - before,
            1,
            "primary {mode}: asked more than once"
        );
    }
    set(&PROVIDER_A, "up");
    let (_, body, _) = turn(120);
    assert_eq!(answer(&body), primary, "the primary back: {body}");

    // 3. Every provider down: a clear error at once, not a hang; the gateway stays live.
    set(&PROVIDER_A, "503");
    set(&PROVIDER_B, "503");
    let (code, body, secs) = turn(120);
    eprintln!(
        "LITELLM every provider down: {code} in {secs:.2} s: {}",
        body.chars().take(300).collect::<String>()
    );
    assert!(
        secs < 15.0,
        "every provider down: answered after {secs:.1} s"
    );
    assert!(
        !answer(&body).contains(openclaw_lab::fixtures::llm::REPLY),
        "{body}"
    );
    assert!(ready(), "the gateway is not ready with every provider down");
    // Every provider hanging: LiteLLM gives up after one timeout per model group.
    set(&PROVIDER_A, "hang");
    set(&PROVIDER_B, "hang");
    let (code, body, secs) = turn(120);
    eprintln!(
        "LITELLM every provider hanging: {code} in {secs:.2} s: {}",
        body.chars().take(200).collect::<String>()
    );
    assert!(
        secs < 2.0 * TIMEOUT_S + 8.0,
        "every provider hanging: answered after {secs:.1} s"
    );
    assert!(
        !answer(&body).contains(openclaw_lab::fixtures::llm::REPLY),
        "{body}"
    );
    assert!(
        ready(),
        "the gateway is not ready with every provider hanging"
    );
    set(&PROVIDER_A, "503");

    // 4. Over budget: the fallback (the pricier provider) answers until LiteLLM refuses its
    // deployment; OpenClaw reports LiteLLM's refusal at once and stays live; the refused
    // request reaches no provider.
    set(&PROVIDER_B, "up");
    let mut refused = None;
    for i in 0..40 {
        let (code, body, secs) = turn(120);
        if answer(&body) != fallback {
            refused = Some((i, code, body, secs));
            break;
        }
    }
    let (turns, code, body, secs) = refused.expect("LiteLLM never refused over budget (40 turns)");
    eprintln!(
        "LITELLM over budget after {turns} fallback turns: {code} in {secs:.2} s: {}",
        body.chars().take(300).collect::<String>()
    );
    assert!(body.contains("budget"), "over budget: {body}");
    assert!(secs < 5.0, "over budget: answered after {secs:.1} s");
    assert!(ready(), "the gateway is not ready over budget");
    let b_hits = hits(st, &PROVIDER_B);
    let (_, body, _) = turn(120);
    assert!(answer(&body) != fallback, "still over budget: {body}");
    assert_eq!(
        hits(st, &PROVIDER_B),
        b_hits,
        "a request over budget reached the provider"
    );
    // Reset (no database: spend lives in LiteLLM's memory) and the control: answered again.
    set(&PROVIDER_A, "up");
    llm_host::restart(spec, st, Duration::from_secs(120)).expect("LiteLLM restart");
    let (_, body, _) = turn(120);
    assert_eq!(answer(&body), primary, "after LiteLLM's restart: {body}");

    // 5. A key that is not the gateway's, from the gateway host: refused by LiteLLM before any
    // provider is asked; control: the gateway's key, the same request, answered.
    let url = format!(
        "http://{}:{}/v1/chat/completions",
        LLM.v4,
        llm_host::port(spec).unwrap()
    );
    let req = r#"{"model":"lab-model","messages":[{"role":"user","content":"ping"}]}"#;
    let hits_before = (hits(st, &PROVIDER_A), hits(st, &PROVIDER_B));
    let wrong = bearer_file(
        scratch.path(),
        "wrong.header",
        &openclaw_lab::vault::random_token(48).unwrap(),
    );
    let (code, body, _) = post(&url, &wrong, req, 30);
    eprintln!(
        "LITELLM a random key from the gateway host: {code} {}",
        body.chars().take(200).collect::<String>()
    );
    assert!((400..500).contains(&code), "a random key: {code} {body}");
    assert!(answer(&body).is_empty());
    assert_eq!(
        (hits(st, &PROVIDER_A), hits(st, &PROVIDER_B)),
        hits_before,
        "a refused key reached a provider"
    );
    // No key, and a provider's own key: refused the same way (no key is a 500 in LiteLLM
    // 1.106.2 without a database: its error handler imports the absent Prisma client).
    let provider_key = std::fs::read_to_string(l.paths.env_file())
        .unwrap()
        .lines()
        .find_map(|line| {
            line.strip_prefix(&format!("{}=", l.providers[0].env_var()))
                .map(str::to_string)
        })
        .unwrap();
    let prov = bearer_file(scratch.path(), "provider.header", provider_key.trim());
    let none = scratch.path().join("none.header");
    std::fs::write(&none, "X-Nothing: 1\n").unwrap();
    for (what, h) in [("a provider's key", &prov), ("no key", &none)] {
        let (code, body, _) = post(&url, h, req, 30);
        eprintln!("LITELLM {what} from the gateway host: {code}");
        assert!(
            (400..=500).contains(&code) && answer(&body).is_empty(),
            "{what}: {code} {body}"
        );
    }
    assert_eq!(
        (hits(st, &PROVIDER_A), hits(st, &PROVIDER_B)),
        hits_before,
        "a refused key reached a provider"
    );
    let right = bearer_file(scratch.path(), "right.header", &gw_key);
    let (code, body, _) = post(&url, &right, req, 30);
    assert_eq!(
        (code, answer(&body)),
        (200, primary.clone()),
        "control, the gateway's key: {body}"
    );

    // 6. Provider keys: none readable by the gateway's user (each file in LiteLLM's secrets
    // directory), none in the gateway's process environments, config or logs. Controls:
    // LiteLLM's user reads its env file, and LiteLLM's own environment holds the keys.
    let kv = std::fs::read_to_string(l.paths.env_file()).unwrap();
    let provider_keys: Vec<String> = kv
        .lines()
        .filter(|line| line.starts_with("LITELLM_KEY_"))
        .filter_map(|line| line.split_once('=').map(|(_, v)| v.trim().to_string()))
        .collect();
    assert_eq!(
        provider_keys.len(),
        l.providers.len(),
        "provider keys in LiteLLM's env file"
    );
    let gw_user = &spec.paths.service_user;
    let mut files = vec![PathBuf::from(&l.paths.secrets_dir)];
    let mut opened = 0;
    while let Some(f) = files.pop() {
        if f.is_dir() {
            files.extend(std::fs::read_dir(&f).unwrap().flatten().map(|e| e.path()));
            continue;
        }
        let out = as_user(None, gw_user, &["cat", &f.display().to_string()]);
        assert!(
            !out.status.success(),
            "the gateway's user reads {}",
            f.display()
        );
        opened += 1;
    }
    assert!(opened >= 1);
    let ll_read = as_user(None, &l.paths.service_user, &["cat", &l.paths.env_file()]);
    assert!(
        ll_read.status.success(),
        "control: LiteLLM's user cannot read its own env file"
    );
    let gw_pid = match spec.runtime {
        Runtime::Container => openclaw_lab::container_host::container_pid(spec, st).unwrap(),
        Runtime::Native => lab::unit_status(st, &spec.gateway_unit())
            .unwrap()
            .main_pid
            .unwrap() as i32,
    };
    let gw_tree = tree(gw_pid);
    for pid in &gw_tree {
        assert!(
            !environ_has(*pid, &provider_keys),
            "a provider key in the environment of gateway pid {pid}"
        );
    }
    let ll_pid = lab::unit_status(st, &lrender::unit_name(spec))
        .unwrap()
        .main_pid
        .unwrap() as i32;
    assert!(
        environ_has(ll_pid, &provider_keys),
        "control: LiteLLM's environment lacks the provider keys"
    );
    let mut texts = vec![std::fs::read_to_string(&spec.paths.config).unwrap()];
    for log in [
        spec.hardening.log_file.clone().map(PathBuf::from),
        Some(state::logfile(st, &format!("unit-{}", spec.gateway_unit()))),
        Some(state::logfile(
            st,
            &format!("unit-{}", lrender::unit_name(spec)),
        )),
        Some(state::logfile(
            st,
            &format!("unit-{}", lrender::agent_unit_name(spec)),
        )),
    ]
    .into_iter()
    .flatten()
    {
        texts.push(std::fs::read_to_string(&log).unwrap_or_default());
    }
    for t in &texts {
        for k in &provider_keys {
            assert!(
                !t.contains(k.as_str()),
                "a provider key in the gateway's config or a log"
            );
        }
        // The gateway's key (LiteLLM's master key) is in no log either (the config names it
        // only by SecretRef).
        assert!(
            !t.contains(gw_key.as_str()),
            "the gateway's LiteLLM key in its config or a log"
        );
    }
    eprintln!(
        "LITELLM provider keys: {opened} files refused to {gw_user}, absent from {} gateway processes' environments, its config and {} logs",
        gw_tree.len(),
        texts.len() - 1
    );

    // 7a. LiteLLM worked offline from its start: its table's reject counters are still 0 (no
    // connection anywhere but its providers and resolver: no cost-map fetch, no telemetry) and
    // the lab's resolver never heard from the llm host (no DNS lookup). The probes below are
    // the control: they must move the counter.
    let rejected = || -> u64 {
        let out = Command::new("ip")
            .args([
                "netns",
                "exec",
                &LLM.netns(),
                "nft",
                "list",
                "table",
                "inet",
                &lrender::table_name(spec),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("reject"))
            .filter_map(|l| {
                l.split_whitespace()
                    .skip_while(|w| *w != "packets")
                    .nth(1)?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    };
    assert_eq!(
        rejected(),
        0,
        "LiteLLM tried to connect somewhere else than its providers"
    );
    let dns_from_llm = openclaw_lab::fixtures::canary::hits(&lab::canary_file(st, "resolver"))
        .into_iter()
        .filter(|h| {
            let f = h["from"].as_str().unwrap_or("");
            f.contains(&LLM.v4.to_string()) || f.contains(&LLM.v6.to_string())
        })
        .count();
    assert_eq!(dns_from_llm, 0, "the llm host asked the lab's resolver");

    // 7. Egress: the gateway's user never reaches a provider directly; LiteLLM's user reaches
    // its providers (the control) and neither the LAN nor the internet canary.
    for p in [PROVIDER_A, PROVIDER_B] {
        assert!(
            !connects(
                &GATEWAY.netns(),
                gw_user,
                &p.v4.to_string(),
                lab::PROVIDER_PORT
            ),
            "the gateway's user reached {}",
            p.name
        );
        assert!(
            connects(
                &LLM.netns(),
                &l.paths.service_user,
                &p.v4.to_string(),
                lab::PROVIDER_PORT
            ),
            "control: LiteLLM's user cannot reach {}",
            p.name
        );
    }
    for (c, port) in [
        (LAN_CANARY, 80),
        (LAN_CANARY, 443),
        (INTERNET_CANARY, 443),
        (INTERNET_CANARY, 80),
    ] {
        assert!(
            !connects(&LLM.netns(), &l.paths.service_user, &c.v4.to_string(), port),
            "LiteLLM's user reached the {} canary:{port}",
            c.name
        );
        assert!(
            connects(&LLM.netns(), "root", &c.v4.to_string(), port),
            "control: nothing listens on the {} canary:{port}",
            c.name
        );
    }
    assert!(
        rejected() >= 4,
        "control: the reject counter did not count LiteLLM's refused probes"
    );
    eprintln!("LITELLM egress: gateway -> providers dropped, LiteLLM -> providers allowed, LiteLLM -> LAN/internet canaries dropped; offline: 0 rejected connections and 0 DNS queries before the probes");
    eprintln!("LITELLM step in {:.0} s", t_all.elapsed().as_secs_f64());
}
