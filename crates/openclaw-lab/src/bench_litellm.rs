//! `openclaw-lab bench`, section `litellm`: what LiteLLM costs and what it buys, on the lab.
//!
//! - `added_latency`: the same chat request from the llm host straight to the primary provider
//!   and through LiteLLM, alternating; LiteLLM's added milliseconds are the medians' difference.
//! - `rss`: LiteLLM's process tree after those requests.
//! - `primary_503_side_by_side`: time from a user's message to the answer while the primary
//!   answers 503, in one run: through the lab's gateway and LiteLLM (the deployment), and
//!   through a second real gateway with OpenClaw's own fallback alone (both providers as
//!   OpenClaw providers, primary and fallback, its default retries). That gateway runs on the
//!   llm host, whose firewall lets it reach the providers (the gateway host's never does), as
//!   the gateway's user, from a throwaway state directory; each gateway gets one warm-up turn
//!   with the primary up first, so neither figure holds a first agent run.
//!
//! Keys go through 0600 header and config files, never argv. LiteLLM is restarted first, so
//! the fallback's budget (examples/lab.toml: about ten turns) holds for the measured turns.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use openclaw_render::render::litellm as lrender;
use openclaw_render::spec::{SecretLocation, Spec};
use serde_json::{json, Value};

use crate::bench::{in_netns, median, mib, proc_table, tree_rss, PLAIN_PORT};
use crate::fixtures::llm::named_reply;
use crate::lab::{self, set_provider_mode, unit_status, PROVIDER_PORT};
use crate::state::{self, mkdir, write_file};
use crate::topology::{GATEWAY, LLM, PROVIDER_A, PROVIDER_B};
use crate::vault::random_token;

/// Turns through LiteLLM with the primary answering 503.
const VIA_RUNS: usize = 3;
/// Requests each way for the added latency.
const LATENCY_RUNS: usize = 10;
/// OpenClaw alone retries for up to 90 s before its fallback (plus the turn itself).
const ALONE_LIMIT_S: u64 = 240;
/// The port of the gateway with OpenClaw's own fallback (loopback of the llm host).
const ALONE_PORT: u16 = PLAIN_PORT + 1;

/// POST `body` to `url` from `netns` (root) with the header file; (status, body, seconds).
fn post(
    netns: &str,
    url: &str,
    header: &Path,
    body: &str,
    max_s: u64,
) -> Result<(u16, String, f64)> {
    let argv: Vec<String> = vec![
        "curl".into(),
        "-sS".into(),
        "--max-time".into(),
        max_s.to_string(),
        "-w".into(),
        "\n%{http_code} %{time_total}".into(),
        "-H".into(),
        format!("@{}", header.display()),
        "-H".into(),
        "Content-Type: application/json".into(),
        "-d".into(),
        body.into(),
        url.into(),
    ];
    let mut c = state::netns_command(netns, None, &argv);
    let out = crate::cmd::output_within(&mut c, Duration::from_secs(max_s + 5))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, tail) = text.rsplit_once('\n').unwrap_or(("", &text));
    let (code, t) = tail.trim().split_once(' ').unwrap_or(("0", "0"));
    Ok((
        code.parse().unwrap_or(0),
        body.to_string(),
        t.parse().unwrap_or(0.0),
    ))
}

/// The assistant's text of an OpenAI-style chat completion (empty when there is none).
pub fn answer(body: &str) -> String {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            v["choices"][0]["message"]["content"]
                .as_str()
                .map(String::from)
        })
        .unwrap_or_default()
}

/// A 0600 curl header file `Authorization: Bearer <key>`: keys never go on argv.
pub fn header(dir: &Path, name: &str, key: &str) -> Result<PathBuf> {
    let f = dir.join(name);
    write_file(
        &f,
        format!("Authorization: Bearer {key}\n").as_bytes(),
        0o600,
    )?;
    Ok(f)
}

fn r2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A value of LiteLLM's env file (root reads it; the values never leave this process).
fn env_value(spec: &Spec, var: &str) -> Result<String> {
    let l = spec.litellm.as_ref().context("no [litellm]")?;
    let text = std::fs::read_to_string(l.paths.env_file())?;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{var}=")))
        .map(|v| v.trim().to_string())
        .with_context(|| format!("{var} not in LiteLLM's env file"))
}

const TURN: &str = r#"{"model":"openclaw","messages":[{"role":"user","content":"ping"}]}"#;

pub fn run(spec: &Spec, st: &Path) -> Result<Value> {
    let l = spec.litellm.as_ref().context("the spec has no [litellm]")?;
    let dir = st.join("bench/litellm");
    let _ = std::fs::remove_dir_all(&dir);
    mkdir(&dir, 0o700)?;
    let result = measure(spec, st, l, &dir);
    for p in [PROVIDER_A, PROVIDER_B] {
        let _ = set_provider_mode(st, &p, "up");
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(
    spec: &Spec,
    st: &Path,
    l: &openclaw_render::spec::litellm::Litellm,
    dir: &Path,
) -> Result<Value> {
    crate::llm_host::restart(spec, st, Duration::from_secs(120))?;
    for p in [PROVIDER_A, PROVIDER_B] {
        set_provider_mode(st, &p, "up")?;
    }
    let port = crate::llm_host::port(spec)?;
    let master = header(
        dir,
        "litellm.header",
        &env_value(spec, openclaw_render::spec::litellm::MASTER_KEY_VAR)?,
    )?;
    let pa = l
        .providers
        .iter()
        .find(|p| p.name == PROVIDER_A.name)
        .context("provider-a")?;
    let direct = header(dir, "provider.header", &env_value(spec, &pa.env_var())?)?;
    let req = r#"{"model":"lab-model","messages":[{"role":"user","content":"ping"}]}"#;
    let (mut via, mut straight) = (Vec::new(), Vec::new());
    for _ in 0..LATENCY_RUNS {
        let u = format!(
            "http://{}:{PROVIDER_PORT}/v1/chat/completions",
            PROVIDER_A.v4
        );
        let (c, b, t) = post(&LLM.netns(), &u, &direct, req, 10)?;
        if c != 200 {
            bail!("provider-a directly: {c} {b}");
        }
        straight.push(t * 1000.0);
        let u = format!("http://127.0.0.1:{port}/v1/chat/completions");
        let (c, b, t) = post(&LLM.netns(), &u, &master, req, 10)?;
        if c != 200 {
            bail!("through LiteLLM: {c} {b}");
        }
        via.push(t * 1000.0);
    }
    let (v, d) = (median(via), median(straight));
    let table = proc_table();
    let rss = unit_status(st, &lrender::unit_name(spec))
        .and_then(|s| s.main_pid)
        .and_then(|p| tree_rss(&table, p as i32));

    // Side by side, primary 503: the lab's gateway through LiteLLM...
    let tok = match spec
        .gateway
        .token
        .as_deref()
        .and_then(|t| spec.secret_location(t))
    {
        Some(SecretLocation::File { path }) => std::fs::read_to_string(path)?,
        other => bail!("the gateway token is delivered as {other:?}"),
    };
    let gw = header(dir, "gateway.header", tok.trim())?;
    let gw_url = format!("http://127.0.0.1:{}/v1/chat/completions", spec.gateway.port);
    let (c, b, _) = post(&GATEWAY.netns(), &gw_url, &gw, TURN, 120)?;
    if answer(&b) != named_reply(Some(PROVIDER_A.name)) {
        bail!("warm-up turn through LiteLLM: {c} {b}");
    }
    set_provider_mode(st, &PROVIDER_A, "503")?;
    let mut via_litellm = Vec::new();
    for _ in 0..VIA_RUNS {
        let t = Instant::now();
        let (c, b, _) = post(&GATEWAY.netns(), &gw_url, &gw, TURN, 120)?;
        if answer(&b) != named_reply(Some(PROVIDER_B.name)) {
            bail!("through LiteLLM, primary 503: {c} {b}");
        }
        via_litellm.push(r2(t.elapsed().as_secs_f64()));
    }
    // ...and a gateway with OpenClaw's own fallback alone.
    set_provider_mode(st, &PROVIDER_A, "up")?;
    let alone = alone_gateway(spec, st, l, dir)?;
    let m = via_litellm.iter().cloned().fold(f64::MAX, f64::min);
    Ok(json!({
        "added_latency": {
            "what": "POST /v1/chat/completions from the llm host: straight to provider-a vs through LiteLLM, alternating",
            "runs": LATENCY_RUNS,
            "direct_ms_median": r2(d),
            "via_litellm_ms_median": r2(v),
            "added_ms": r2(v - d),
        },
        "rss": {
            "what": "LiteLLM (one worker) after the requests above",
            "rss_mib": rss.as_ref().map(|r| mib(r.0)),
            "tree_rss_mib": rss.as_ref().map(|r| mib(r.1)),
        },
        "primary_503_side_by_side": {
            "what": "a user's chat turn through a warm gateway while the primary answers 503: the answer is the fallback's",
            "via_litellm_s": via_litellm,
            "openclaw_alone_s": alone,
            "alone_over_litellm_min": alone.as_f64().map(|a| r2(a / m)),
        },
    }))
}

/// A second real gateway on the llm host, both providers as its own providers (primary and
/// fallback), no settings.json (OpenClaw's default retries): one warm-up turn, then one turn
/// with the primary answering 503. Returns that turn's seconds.
fn alone_gateway(
    spec: &Spec,
    st: &Path,
    l: &openclaw_render::spec::litellm::Litellm,
    dir: &Path,
) -> Result<Value> {
    // Beside `dir` (root's alone): the gateway's user must reach its own directory.
    let gdir = st.join("bench/litellm-alone");
    let _ = std::fs::remove_dir_all(&gdir);
    mkdir(&gdir, 0o700)?;
    let provider = |h: &crate::topology::Host| -> Result<Value> {
        let p = l
            .providers
            .iter()
            .find(|p| p.name == h.name)
            .context("provider")?;
        Ok(
            json!({"baseUrl": format!("http://{}:{PROVIDER_PORT}/v1", h.v4), "api": "openai-completions",
            "apiKey": env_value(spec, &p.env_var())?, "models": [{"id": "lab-model", "name": "lab-model"}]}),
        )
    };
    let config = json!({
        "gateway": {"mode": "local", "port": ALONE_PORT, "bind": "loopback", "auth": {"mode": "token"},
            "http": {"endpoints": {"chatCompletions": {"enabled": true}}}},
        "logging": {"file": gdir.join("openclaw.log")},
        "models": {"catalogRefresh": {"enabled": false},
            "providers": {"provider-a": provider(&PROVIDER_A)?, "provider-b": provider(&PROVIDER_B)?}},
        "agents": {"defaults": {"model": {"primary": "provider-a/lab-model", "fallbacks": ["provider-b/lab-model"]}}},
    });
    // The provider keys sit in this 0600 file of the gateway's user for the bench's minute.
    let token = random_token(48)?;
    let mut c = crate::bench::plain_gateway(spec, st, &gdir, &config, &token)?;
    c.env("OPENCLAW_NIX_MODE", "1");
    let child = in_netns(&LLM.netns(), move || c.spawn())?.context("starting the gateway alone")?;
    let pid = child.id() as i32;
    // SAFETY: signals to the process group of the child started above.
    let kill = |sig| unsafe { libc::kill(-pid, sig) };
    let result = (|| -> Result<Value> {
        let ready =
            crate::cmd::wait_for(Duration::from_secs(180), Duration::from_millis(500), || {
                (lab::http_status(
                    &LLM.netns(),
                    &format!("http://127.0.0.1:{ALONE_PORT}/readyz"),
                    &[],
                ) == 200)
                    .then_some(())
            });
        if ready.is_none() {
            bail!("the gateway alone never answered /readyz 200");
        }
        let h = header(dir, "alone.header", &token)?;
        let url = format!("http://127.0.0.1:{ALONE_PORT}/v1/chat/completions");
        let (c, b, _) = post(&LLM.netns(), &url, &h, TURN, 120)?;
        if answer(&b) != named_reply(Some(PROVIDER_A.name)) {
            bail!("warm-up turn of the gateway alone: {c} {b}");
        }
        set_provider_mode(st, &PROVIDER_A, "503")?;
        let t = Instant::now();
        let (c, b, _) = post(&LLM.netns(), &url, &h, TURN, ALONE_LIMIT_S)?;
        let secs = t.elapsed().as_secs_f64();
        if answer(&b) != named_reply(Some(PROVIDER_B.name)) {
            bail!("the gateway alone, primary 503, after {secs:.0} s: {c} {b}");
        }
        Ok(json!((secs * 10.0).round() / 10.0))
    })();
    kill(libc::SIGTERM);
    let mut child = child;
    let gone = crate::cmd::wait_for(Duration::from_secs(10), Duration::from_millis(50), || {
        child.try_wait().ok().flatten()
    });
    if gone.is_none() {
        kill(libc::SIGKILL);
        let _ = child.wait();
    }
    if result.is_err() {
        // What the gateway said, for the error (its log holds no key: OpenClaw redacts them).
        let log = std::fs::read_to_string(gdir.join("openclaw.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        tracing::warn!("the gateway alone's last log lines: {tail:?}");
    }
    let _ = std::fs::remove_dir_all(&gdir);
    result
}
