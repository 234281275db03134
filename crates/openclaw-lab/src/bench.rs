//! `openclaw-lab bench`: the lab's figures as one JSON document.
//!
//! - `rss`: resident memory of the gateway (main process and its tree) and of every sidecar
//!   (OpenBao agent and server, Caddy, step-ca, the fixtures, the lab's own supervisors), from
//!   /proc, with the lab idle.
//! - `probe_cost`: wall time and peak RSS of `openclaw-probe --json` vs `openclaw health --json`
//!   against the same running gateway, both as the gateway's user from the gateway's host.
//! - `rotation`: a new token written to OpenBao until the gateway accepts it and rejects the
//!   old one, polled every 250 ms exactly as the end-to-end test does; a poll where neither
//!   token is accepted is a failed probe.
//! - `cold_start`: the rendered gateway unit restarted under the lab's supervisor
//!   (secretcheck ExecStartPre, then `openclaw gateway run`) until `/readyz` answers 200, and
//!   a plain `openclaw gateway run` with a minimal config on another loopback port of the same
//!   host, one after the other in the same run.
//!
//! - `litellm`: LiteLLM's added latency and RSS, and a turn with the primary answering 503
//!   through LiteLLM vs OpenClaw's own fallback alone, side by side (see [`crate::bench_litellm`]).
//!
//! The lab is brought up when it is not, and torn down afterwards only in that case. Every
//! wait is bounded. No secret value is ever part of the output.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use openclaw_render::spec::Spec;
use serde_json::{json, Map, Value};

use crate::checks::auth::{gateway_token, token_accepted};
use crate::lab::{self, unit_status};
use crate::state::{self, mkdir, write_file};
use crate::topology::GATEWAY;
use crate::units::Unit;
use crate::vault::random_token;

/// The port of the plain gateway (loopback of the gateway host only).
pub const PLAIN_PORT: u16 = 28789;
const ROTATION_LIMIT: Duration = Duration::from_secs(150);
const READY_LIMIT: Duration = Duration::from_secs(180);
const PROBE_RUNS: usize = 5;
const HEALTH_RUNS: usize = 3;

/// Runs `f` on a thread that joined the network namespace `ns` (files stay shared).
/// Processes spawned from inside `f` live in that namespace too.
pub fn in_netns<T: Send + 'static>(ns: &str, f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let path = format!("/run/netns/{ns}");
    let fd = std::fs::File::open(&path).with_context(|| format!("opening {path}"))?;
    std::thread::spawn(move || {
        use std::os::fd::AsRawFd;
        // SAFETY: setns on this thread only, with a namespace fd we just opened.
        if unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(anyhow::anyhow!(
                "setns: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(f())
    })
    .join()
    .map_err(|_| anyhow::anyhow!("thread in {ns} panicked"))?
}

/// `GET path` over plain HTTP/1.1 from the calling thread's namespace; 0 when no answer.
pub fn http_get_status(addr: SocketAddr, path: &str, timeout: Duration) -> u16 {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, timeout) else {
        return 0;
    };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return 0;
    }
    let mut buf = [0u8; 64];
    let mut got = 0;
    while got < 12 {
        match s.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => got += n,
        }
    }
    std::str::from_utf8(&buf[..got])
        .ok()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

// ---------------------------------------------------------------- /proc

/// (pid, ppid, rss KiB, comm) of every process.
pub(crate) fn proc_table() -> Vec<(i32, i32, u64, String)> {
    let mut v = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return v;
    };
    for e in rd.flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(e.path().join("status")) else {
            continue;
        };
        let field = |k: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(|r| r.trim().to_string())
        };
        let ppid = field("PPid:").and_then(|p| p.parse().ok()).unwrap_or(0);
        let rss = field("VmRSS:")
            .and_then(|r| r.split_whitespace().next().and_then(|n| n.parse().ok()))
            .unwrap_or(0);
        v.push((pid, ppid, rss, field("Name:").unwrap_or_default()));
    }
    v
}

/// RSS of `pid` and of it plus all its descendants, in KiB, with the process count.
pub(crate) fn tree_rss(
    table: &[(i32, i32, u64, String)],
    pid: i32,
) -> Option<(u64, u64, usize, String)> {
    let (_, _, own, comm) = table.iter().find(|p| p.0 == pid)?;
    let mut total = 0;
    let mut n = 0;
    let mut stack = vec![pid];
    // Bounded: every pid is visited once (the table is a snapshot, a tree has no cycles).
    let mut seen = std::collections::BTreeSet::new();
    while let Some(p) = stack.pop() {
        if !seen.insert(p) {
            continue;
        }
        if let Some(e) = table.iter().find(|e| e.0 == p) {
            total += e.2;
            n += 1;
        }
        stack.extend(table.iter().filter(|e| e.1 == p).map(|e| e.0));
    }
    Some((*own, total, n, comm.clone()))
}

fn rss_entry(table: &[(i32, i32, u64, String)], what: &str, pid: Option<i32>) -> Value {
    match pid.and_then(|p| tree_rss(table, p).map(|t| (p, t))) {
        Some((pid, (own, tree, n, comm))) => json!({
            "what": what, "pid": pid, "comm": comm,
            "rss_mib": mib(own), "tree_rss_mib": mib(tree), "tree_processes": n,
        }),
        None => json!({"what": what, "error": "not running"}),
    }
}

/// The gateway container's memory as its cgroup counts it (page cache included, which
/// `memory.max` limits too): v1 `memory.usage_in_bytes`, v2 `memory.current`.
fn container_memory(spec: &Spec, st: &Path) -> Value {
    let read = || -> Result<(u64, String)> {
        let pid = crate::container_host::container_pid(spec, st)?;
        let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))?;
        let path = cg
            .lines()
            .find_map(|l| {
                let mut p = l.splitn(3, ':');
                let (_, ctrl, path) = (p.next()?, p.next()?, p.next()?);
                ctrl.split(',')
                    .any(|c| c == "memory")
                    .then(|| format!("/sys/fs/cgroup/memory{path}/memory.usage_in_bytes"))
                    .or_else(|| {
                        (ctrl.is_empty()).then(|| format!("/sys/fs/cgroup{path}/memory.current"))
                    })
            })
            .context("no memory cgroup for the container")?;
        let bytes = std::fs::read_to_string(&path)?.trim().parse()?;
        Ok((bytes, path))
    };
    match read() {
        Ok((b, path)) => {
            json!({"what": "gateway container, cgroup memory (RSS + page cache)", "mib": mib(b / 1024), "file": path})
        }
        Err(e) => json!({"what": "gateway container, cgroup memory", "error": format!("{e:#}")}),
    }
}

pub(crate) fn mib(kib: u64) -> f64 {
    (kib as f64 / 1024.0 * 10.0).round() / 10.0
}

/// The gateway's and every sidecar's RSS, from the lab's pidfiles and unit status files.
pub fn rss(spec: &Spec, st: &Path) -> Result<Value> {
    let table = proc_table();
    let unit_pid = |u: &str| {
        unit_status(st, u)
            .and_then(|s| s.main_pid)
            .map(|p| p as i32)
    };
    let pid = |n: &str| state::read_pid(st, n).filter(|p| state::alive(*p));
    let agent = openclaw_render::render::systemd::agent_unit(spec);
    let mut m = Map::new();
    m.insert(
        "gateway".into(),
        rss_entry(
            &table,
            "openclaw gateway run (rendered unit)",
            unit_pid(&spec.gateway_unit()),
        ),
    );
    if spec.runtime == openclaw_render::spec::Runtime::Container {
        m.insert(
            "gateway_container_cgroup".into(),
            container_memory(spec, st),
        );
    }
    m.insert(
        "openbao_agent".into(),
        rss_entry(&table, "bao agent (rendered unit)", unit_pid(&agent)),
    );
    if spec.uses_egress_proxy() {
        m.insert(
            "egress_proxy".into(),
            rss_entry(
                &table,
                "squid (rendered egress proxy unit)",
                unit_pid(&spec.egress_proxy_unit()),
            ),
        );
    }
    m.insert(
        "cert_renewal".into(),
        rss_entry(
            &table,
            "machine certificate renewal (lab client; step CLI on real hosts)",
            unit_pid(&format!("{}-cert-renew.service", spec.name)),
        ),
    );
    for (key, name, what) in [
        ("openbao_server", "vault", "bao server (the vault host)"),
        ("step_ca", "ca", "step-ca"),
        ("caddy", "proxy", "caddy (reverse proxy)"),
        (
            "identity_fixture",
            "identity",
            "forward_auth identity fixture (stand-in for Keycloak)",
        ),
        (
            "provider_a_fixture",
            "provider-a",
            "LLM fixture (stand-in for cloud provider A)",
        ),
        (
            "provider_b_fixture",
            "provider-b",
            "LLM fixture (stand-in for cloud provider B)",
        ),
    ] {
        m.insert(key.into(), rss_entry(&table, what, pid(name)));
    }
    if spec.litellm.is_some() {
        use openclaw_render::render::litellm as lr;
        m.insert(
            "litellm".into(),
            rss_entry(
                &table,
                "LiteLLM proxy (one worker)",
                unit_pid(&lr::unit_name(spec)),
            ),
        );
        m.insert(
            "litellm_openbao_agent".into(),
            rss_entry(
                &table,
                "LiteLLM's OpenBao agent",
                unit_pid(&lr::agent_unit_name(spec)),
            ),
        );
    }
    // The lab's own processes: supervisors (systemd's part), the probe timer, canaries.
    let mut lab_kib = 0;
    let mut lab_n = 0;
    for (name, p, alive) in state::processes(st) {
        let lab_side = name.starts_with("unit-") || name.starts_with("canary-");
        if let (true, Some(p), true) = (lab_side, p, alive) {
            if let Some((own, ..)) = tree_rss(&table, p) {
                lab_kib += own;
                lab_n += 1;
            }
        }
    }
    m.insert(
        "lab_overhead".into(),
        json!({"what": "openclaw-lab supervisors, probe timer and canaries (stand-ins for systemd and for hosts)",
               "processes": lab_n, "rss_mib": mib(lab_kib)}),
    );
    Ok(Value::Object(m))
}

// ---------------------------------------------------------------- measured runs

/// Wall time, exit code and peak RSS of one command.
///
/// The peak is GNU time's (`%M`, wait4's ru_maxrss of a child forked from `time` itself):
/// ru_maxrss of a child spawned straight from this process would include this process's
/// own RSS, because the kernel carries the old address space's high-water mark across
/// exec. `time`'s floor is about 1 MiB. The tree peak is sampled every 20 ms.
#[derive(Debug, Clone)]
pub struct Measured {
    pub wall: Duration,
    pub exit: Option<i32>,
    pub max_rss_kib: u64,
    pub tree_peak_kib: u64,
    pub stdout: String,
}

/// GNU time (Debian package `time`).
pub fn gnu_time() -> Result<PathBuf> {
    let p = std::env::var_os("TIME_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/time"));
    if !p.is_file() {
        bail!("{} not found: the bench measures peak RSS with GNU time (apt-get install time; run scripts/install-components.sh)", p.display());
    }
    Ok(p)
}

/// `c` run under GNU time writing `%M` to `out` (same environment and directory).
fn under_time(c: &Command, out: &Path) -> Result<Command> {
    let mut t = Command::new(gnu_time()?);
    t.args(["-f", "%M", "-o"])
        .arg(out)
        .arg("--")
        .arg(c.get_program())
        .args(c.get_args());
    // Every caller builds its command from a cleared environment.
    t.env_clear();
    for (k, v) in c.get_envs() {
        match v {
            Some(v) => t.env(k, v),
            None => t.env_remove(k),
        };
    }
    if let Some(d) = c.get_current_dir() {
        t.current_dir(d);
    }
    Ok(t)
}

pub fn measure(c: Command, limit: Duration) -> Result<Measured> {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let rss_file = std::env::temp_dir().join(format!(
        "olab-bench-{}-{}.rss",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let mut c = under_time(&c, &rss_file)?;
    {
        // Its own group, so the watchdog kills what it started too.
        use std::os::unix::process::CommandExt;
        c.process_group(0);
    }
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let t0 = Instant::now();
    let mut child = c.spawn().context("starting the measured command")?;
    let pid = child.id() as i32;
    let mut out = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut peak = 0;
            let deadline = Instant::now() + limit;
            while !done.load(Ordering::SeqCst) && Instant::now() < deadline {
                if let Some((_, tree, ..)) = tree_rss(&proc_table(), pid) {
                    peak = peak.max(tree);
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            peak
        })
    };
    let watchdog = {
        let done = done.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + limit;
            while !done.load(Ordering::SeqCst) {
                if Instant::now() > deadline {
                    // SAFETY: kill(2) on the group of our own, not yet reaped child.
                    unsafe { libc::kill(-pid, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let mut status = 0;
    // SAFETY: waitpid on our own child, blocking (the watchdog bounds it).
    let r = unsafe { libc::waitpid(pid, &mut status, 0) };
    let wall = t0.elapsed();
    done.store(true, Ordering::SeqCst);
    let _ = watchdog.join();
    let tree_peak = sampler.join().unwrap_or(0);
    // The pid is reaped by waitpid; the Child must not wait again.
    std::mem::forget(child);
    if r != pid {
        bail!("waitpid: {}", std::io::Error::last_os_error());
    }
    let exit = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    let rss_text = std::fs::read_to_string(&rss_file).unwrap_or_default();
    let _ = std::fs::remove_file(&rss_file);
    if wall >= limit {
        bail!("the measured command did not finish within {limit:?}");
    }
    // The last line is %M; a line before it may say "Command exited with non-zero status".
    let max_rss_kib: u64 = rss_text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .with_context(|| format!("GNU time reported no peak RSS: {rss_text:?}"))?;
    Ok(Measured {
        wall,
        exit,
        max_rss_kib,
        tree_peak_kib: tree_peak.max(max_rss_kib),
        stdout: reader.join().unwrap_or_default(),
    })
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn summary(runs: &[Measured]) -> Value {
    let walls: Vec<f64> = runs.iter().map(|m| m.wall.as_secs_f64() * 1000.0).collect();
    json!({
        "runs": runs.len(),
        "wall_ms_median": (median(walls.clone()) * 10.0).round() / 10.0,
        "wall_ms_each": walls.iter().map(|w| (w * 10.0).round() / 10.0).collect::<Vec<_>>(),
        "max_rss_mib": mib(runs.iter().map(|m| m.max_rss_kib).max().unwrap_or(0)),
        "tree_peak_rss_mib": mib(runs.iter().map(|m| m.tree_peak_kib).max().unwrap_or(0)),
        "exit_codes": runs.iter().map(|m| m.exit).collect::<Vec<_>>(),
    })
}

/// The gateway unit as rendered and parsed by the lab's supervisor.
fn gateway_unit(st: &Path, spec: &Spec) -> Result<Unit> {
    Unit::from_file(&st.join("units").join(spec.gateway_unit()))
}

/// `openclaw-probe` (as the probe unit runs it, but `--json`) vs `openclaw health --json`,
/// both as the gateway's user with the gateway unit's environment, from the gateway's host.
pub fn probe_cost(spec: &Spec, st: &Path) -> Result<Value> {
    let probe = st.join("bin/openclaw-probe");
    if !probe.exists() {
        bail!(
            "{} is missing: build it (cargo build -p openclaw-probe) and bring the lab up again",
            probe.display()
        );
    }
    let unit = gateway_unit(st, spec)?;
    let path = state::base_path(st);
    let token_file = match spec
        .gateway
        .token
        .as_ref()
        .and_then(|t| spec.secret_location(t))
    {
        Some(openclaw_render::spec::SecretLocation::File { path }) => path,
        _ => bail!("gateway.token is not delivered as a file: the probe reads it from one"),
    };
    let probe_argv: Vec<String> = vec![
        probe.display().to_string(),
        "--url".into(),
        format!("http://127.0.0.1:{}", spec.gateway.port),
        "--token-file".into(),
        token_file,
        "--json".into(),
    ];
    // Liveness and readiness only: what the probe costs without the auth round trips.
    let mut light_argv = probe_argv.clone();
    light_argv.truncate(3);
    light_argv.extend(["--no-auth".into(), "--json".into()]);
    let health_argv: Vec<String> = vec![
        spec.paths.openclaw_bin.clone(),
        "health".into(),
        "--json".into(),
    ];
    let runs = |argv: Vec<String>, n: usize, limit: Duration| -> Result<Vec<Measured>> {
        let mut v = Vec::new();
        for _ in 0..n {
            let c = crate::timer::command(&unit, &argv, &path)?;
            v.push(in_netns(&GATEWAY.netns(), move || measure(c, limit))??);
        }
        Ok(v)
    };
    let p = runs(probe_argv, PROBE_RUNS, Duration::from_secs(30))?;
    let light = runs(light_argv, PROBE_RUNS, Duration::from_secs(30))?;
    let h = runs(health_argv, HEALTH_RUNS, Duration::from_secs(90))?;
    let probe_status: Value = serde_json::from_str(&p[0].stdout).unwrap_or(Value::Null);
    let (ps, hs) = (summary(&p), summary(&h));
    let ratio = |a: &Value, b: &Value, k: &str| {
        let (a, b) = (a[k].as_f64().unwrap_or(0.0), b[k].as_f64().unwrap_or(0.0));
        if a > 0.0 {
            (b / a * 10.0).round() / 10.0
        } else {
            0.0
        }
    };
    let wall_ratio = ratio(&ps, &hs, "wall_ms_median");
    let rss_ratio = ratio(&ps, &hs, "tree_peak_rss_mib");
    Ok(json!({
        "openclaw_probe": ps,
        "openclaw_probe_verdict": probe_status.get("status").cloned().unwrap_or(Value::Null),
        "openclaw_probe_duration_ms_self_reported": probe_status.get("duration_ms").cloned().unwrap_or(Value::Null),
        "openclaw_probe_no_auth": summary(&light),
        "health_over_probe_no_auth_wall_ratio": ratio(&summary(&light), &hs, "wall_ms_median"),
        "openclaw_health_json": hs,
        "health_over_probe_wall_ratio": wall_ratio,
        "health_over_probe_rss_ratio": rss_ratio,
        "goal": "probe at least 100x less wall time, at most 10 MB RSS",
        "meets_goal": wall_ratio >= 100.0 && ps["max_rss_mib"].as_f64().unwrap_or(99.0) <= 10.0,
    }))
}

// ---------------------------------------------------------------- rotation

fn accepted(port: u16, token: &str) -> Result<(bool, u16)> {
    let t = token.to_string();
    in_netns(&GATEWAY.netns(), move || {
        token_accepted(&format!("http://127.0.0.1:{port}"), Some(&t))
    })?
}

/// A new gateway token in OpenBao until the gateway accepts it and rejects the old one.
pub fn rotation(spec: &Spec, st: &Path) -> Result<Value> {
    let vault = lab::vault_handle()?;
    let bao = spec
        .secrets
        .openbao
        .clone()
        .context("no [secrets.openbao]")?;
    let name = spec
        .gateway
        .token
        .clone()
        .context("gateway.token is not set")?;
    let key = spec
        .secrets
        .items
        .get(&name)
        .with_context(|| format!("secrets.items.{name} is missing"))?
        .kv_key(&name)
        .to_string();
    let old = gateway_token(spec)?;
    let port = spec.gateway.port;
    if !accepted(port, &old)?.0 {
        bail!("the gateway does not accept its current token before the rotation");
    }
    let before = unit_status(st, &spec.gateway_unit())
        .map(|s| s.starts)
        .unwrap_or(0);
    let new = random_token(48)?;
    let mut data = vault.get(&bao)?;
    data.insert(key, Value::String(new.clone()));
    let t0 = Instant::now();
    vault.put(&bao, &data)?;
    let t_written = t0.elapsed();
    let (mut probes, mut failed, mut unanswered) = (0u32, 0u32, 0u32);
    let latency = loop {
        if t0.elapsed() > ROTATION_LIMIT {
            bail!("rotation not done within {ROTATION_LIMIT:?} ({probes} probes, {failed} failed)");
        }
        let (n, cn) = accepted(port, &new)?;
        let (o, co) = accepted(port, &old)?;
        probes += 1;
        if !n && !o {
            failed += 1;
        }
        if cn == 0 && co == 0 {
            unanswered += 1;
        }
        if n && !o {
            break t0.elapsed();
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let after = unit_status(st, &spec.gateway_unit())
        .map(|s| s.starts)
        .unwrap_or(0);
    Ok(json!({
        "latency_s": secs(latency),
        "openbao_write_s": secs(t_written),
        "probes": probes,
        "failed_probes": failed,
        "unanswered_probes": unanswered,
        "gateway_restarts": after.saturating_sub(before),
        "poll_interval_ms": 250,
        "refresh_interval": spec.secrets.openbao.as_ref().map(|b| b.refresh_interval.to_string()),
        "goal": "at most 5 s and zero failed probes",
        "meets_goal": latency <= Duration::from_secs(5) && failed == 0,
    }))
}

// ---------------------------------------------------------------- cold start

/// Waits (bounded) until `GET path` on the gateway host's loopback answers 200.
fn wait_200(port: u16, path: &'static str, limit: Duration) -> Result<bool> {
    in_netns(&GATEWAY.netns(), move || {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        crate::cmd::wait_for(limit, Duration::from_millis(50), || {
            (http_get_status(addr, path, Duration::from_secs(1)) == 200).then_some(())
        })
        .is_some()
    })
}

/// The rendered unit restarted by the lab's supervisor: old process stopped, ExecStartPre
/// (secretcheck), ExecStart, then `/readyz`.
pub fn cold_start_lab(spec: &Spec, st: &Path) -> Result<Value> {
    let unit = spec.gateway_unit();
    let sup = state::read_pid(st, &format!("unit-{unit}"))
        .filter(|p| state::alive(*p))
        .with_context(|| format!("no supervisor runs {unit}"))?;
    let before = unit_status(st, &unit).context("no unit status")?;
    // ExecStartPre alone, as the unit runs it, to show its share.
    let u = gateway_unit(st, spec)?;
    let path = state::base_path(st);
    let mut pre = Vec::new();
    for line in &u.exec_start_pre {
        let c = crate::timer::command(&u, &line.argv, &path)?;
        let m = measure(c, Duration::from_secs(30))?;
        pre.push(json!({"argv0": line.argv[0], "wall_ms": (m.wall.as_secs_f64() * 10000.0).round() / 10.0, "exit": m.exit, "max_rss_mib": mib(m.max_rss_kib)}));
    }
    let t0 = Instant::now();
    // What `systemctl restart` is in the lab: SIGHUP to the unit's supervisor.
    // SAFETY: kill(2) on the supervisor's pid from its pidfile.
    unsafe { libc::kill(sup, libc::SIGHUP) };
    let mut t_stopped = None;
    let mut t_spawned = None;
    let deadline = t0 + READY_LIMIT;
    while Instant::now() < deadline && t_spawned.is_none() {
        if let Some(s) = unit_status(st, &unit) {
            if t_stopped.is_none() && s.restart_requests > before.restart_requests {
                t_stopped = Some(t0.elapsed());
            }
            if s.starts > before.starts {
                t_spawned = Some(t0.elapsed());
                t_stopped.get_or_insert(t0.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (Some(stopped), Some(spawned)) = (t_stopped, t_spawned) else {
        bail!("the supervisor did not restart {unit} within {READY_LIMIT:?}");
    };
    let healthz = wait_200(spec.gateway.port, "/healthz", READY_LIMIT)?.then(|| t0.elapsed());
    if !wait_200(spec.gateway.port, "/readyz", READY_LIMIT)? {
        bail!("the restarted gateway never answered /readyz 200");
    }
    let ready_at = t0.elapsed();
    Ok(json!({
        "what": "rendered unit under the lab's supervisor: secretcheck ExecStartPre + openclaw gateway run",
        "old_process_stopped_s": secs(stopped),
        "exec_start_pre_and_spawn_s": secs(spawned - stopped),
        "exec_start_pre_alone": pre,
        "to_healthz_s": healthz.map(|h| secs(h - stopped)),
        "cold_start_to_readyz_s": secs(ready_at - stopped),
    }))
}

/// `openclaw gateway run` as the gateway's user outside the lab's units: `config` written 0600
/// into `dir` (its state directory, given to the user), the token through the environment
/// (never argv), in a process group of its own so the caller can signal the whole tree.
pub(crate) fn plain_gateway(
    spec: &Spec,
    st: &Path,
    dir: &Path,
    config: &Value,
    token: &str,
) -> Result<Command> {
    let user = &spec.paths.service_user;
    let cfg = dir.join("openclaw.json");
    write_file(
        &cfg,
        serde_json::to_string_pretty(config)?.as_bytes(),
        0o600,
    )?;
    crate::cmd::run(
        "chown",
        &["-R", &format!("{user}:{user}"), &dir.display().to_string()],
    )?;
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={user}"))
        .arg(format!("--regid={user}"))
        .args(["--init-groups", "--inh-caps=-all", "--"])
        .arg(&spec.paths.openclaw_bin)
        .args(["gateway", "run"])
        .env_clear()
        .env("PATH", state::base_path(st))
        .env("LANG", "C.UTF-8")
        .env("HOME", dir)
        .env("OPENCLAW_STATE_DIR", dir)
        .env("OPENCLAW_CONFIG_PATH", &cfg)
        .env("OPENCLAW_GATEWAY_TOKEN", token)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    {
        use std::os::unix::process::CommandExt;
        c.process_group(0);
    }
    Ok(c)
}

/// A plain `openclaw gateway run` with a minimal config (token auth, loopback, the model
/// catalog refresh off as in the lab) on the gateway host, as the gateway's user.
pub fn cold_start_plain(spec: &Spec, st: &Path) -> Result<Value> {
    let user = spec.paths.service_user.clone();
    let dir = st.join("bench/plain");
    let _ = std::fs::remove_dir_all(&dir);
    mkdir(&dir, 0o700)?;
    crate::cmd::run(
        "chown",
        &[&format!("{user}:{user}"), &dir.display().to_string()],
    )?;
    let config = json!({
        "gateway": {"mode": "local", "port": PLAIN_PORT, "bind": "loopback", "auth": {"mode": "token"}},
        "logging": {"file": dir.join("openclaw.log")},
        "models": {"catalogRefresh": {"enabled": false}},
    });
    // A throwaway token for this gateway only, through the environment (never argv).
    let token = random_token(48)?;
    let mut c = plain_gateway(spec, st, &dir, &config, &token)?;
    let t0 = Instant::now();
    let child =
        in_netns(&GATEWAY.netns(), move || c.spawn())?.context("starting the plain gateway")?;
    let pid = child.id() as i32;
    let kill = |sig| unsafe { libc::kill(-pid, sig) };
    let result = (|| -> Result<Value> {
        let healthz = wait_200(PLAIN_PORT, "/healthz", READY_LIMIT)?.then(|| t0.elapsed());
        if !wait_200(PLAIN_PORT, "/readyz", READY_LIMIT)? {
            bail!("the plain gateway never answered /readyz 200");
        }
        let readyz = t0.elapsed();
        let table = proc_table();
        let rss = tree_rss(&table, pid);
        Ok(json!({
            "what": "plain `openclaw gateway run`, minimal config, same host and user",
            "to_healthz_s": healthz.map(secs),
            "cold_start_to_readyz_s": secs(readyz),
            "rss_mib_at_ready": rss.as_ref().map(|r| mib(r.0)),
            "tree_rss_mib_at_ready": rss.as_ref().map(|r| mib(r.1)),
        }))
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
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// One HTTPS request to the cloud edge from the gateway host, as `user`, through the egress
/// proxy or directly; seconds curl reports for the whole request.
fn cloud_request(spec: &Spec, user: &str, via_proxy: bool) -> Result<f64> {
    let mut argv: Vec<String> = [
        "curl",
        "-sS",
        "-o",
        "/dev/null",
        "-w",
        "%{time_total}",
        "--max-time",
        "10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(ca) = &spec.gateway.extra_ca_certs {
        argv.extend(["--cacert".into(), ca.clone()]);
    }
    if via_proxy {
        argv.extend(["--proxy".into(), spec.egress_proxy_url()]);
    }
    argv.push(format!("https://{}/health", crate::topology::CLOUD.dns));
    let mut c = state::netns_command(&GATEWAY.netns(), Some(user), &argv);
    let out = crate::cmd::output_within(&mut c, Duration::from_secs(15))?;
    if !out.status.success() {
        bail!(
            "curl {} failed: {}",
            if via_proxy {
                "through the proxy"
            } else {
                "direct"
            },
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// Added latency of the egress proxy: the same HTTPS request to the cloud edge, alternately
/// through the proxy (as the gateway's user) and directly (as the proxy's user, the only one
/// nftables lets out), in one run.
pub fn egress_proxy_latency(spec: &Spec) -> Result<Value> {
    if !spec.uses_egress_proxy() {
        bail!("the spec has no egress.allow_domains");
    }
    const RUNS: usize = 15;
    let (mut via, mut direct) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        via.push(cloud_request(spec, &spec.paths.service_user, true)? * 1000.0);
        direct.push(cloud_request(spec, &spec.egress.proxy.user, false)? * 1000.0);
    }
    let (v, d) = (median(via), median(direct));
    Ok(json!({
        "what": "HTTPS GET to the cloud edge: through the egress proxy vs direct, alternating",
        "runs": RUNS,
        "via_proxy_ms_median": (v * 10.0).round() / 10.0,
        "direct_ms_median": (d * 10.0).round() / 10.0,
        "added_ms": ((v - d) * 10.0).round() / 10.0,
        "ratio": ((v / d) * 100.0).round() / 100.0,
    }))
}

// ---------------------------------------------------------------- the whole run

/// Tears the lab down on drop when the bench brought it up.
struct Teardown(bool);
impl Drop for Teardown {
    fn drop(&mut self) {
        if self.0 {
            if let Err(e) = lab::down() {
                eprintln!("openclaw-lab bench: teardown failed: {e:#}");
            }
        }
    }
}

fn section(name: &str, f: impl FnOnce() -> Result<Value>) -> (Value, bool) {
    tracing::info!("bench: {name}");
    let t = Instant::now();
    match f() {
        Ok(mut v) => {
            if let Value::Object(m) = &mut v {
                m.insert("bench_seconds".into(), json!(secs(t.elapsed())));
            }
            (v, true)
        }
        Err(e) => (json!({"error": format!("{e:#}")}), false),
    }
}

/// Runs every benchmark; returns the JSON document and whether every section succeeded.
pub fn run(
    spec_path: &Path,
    mode: crate::container_host::GatewayMode,
    only: &[String],
) -> Result<(Value, bool)> {
    let wanted = |s: &str| only.is_empty() || only.iter().any(|o| o == s);
    lab::require_root()?;
    let t_all = Instant::now();
    let brought_up = crate::netns::existing().is_empty();
    let mut up_seconds = None;
    let (spec, st): (Spec, PathBuf) = if brought_up {
        let up = lab::up(spec_path, mode).context("bringing the lab up for the bench")?;
        up_seconds = Some(secs(Duration::from_secs_f64(up.seconds)));
        (up.spec, up.state)
    } else {
        // Rotating tokens and restarting the gateway under someone's test would break it.
        crate::owner::ensure_free(&state::state_dir(), "the bench")?;
        let spec = lab::load_effective_spec()?;
        lab::wait_ready(&spec, Duration::from_secs(30))
            .context("the running lab's gateway is not ready")?;
        (spec, state::state_dir())
    };
    let _teardown = Teardown(brought_up);
    let mut doc = Map::new();
    let mut all_ok = true;
    let mut add = |k: &str, (v, ok): (Value, bool)| {
        all_ok &= ok;
        doc.insert(k.into(), v);
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    add(
        "machine",
        (
            json!({
                "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
                "loadavg_at_start": load.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
                "unix_time": SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0),
            }),
            true,
        ),
    );
    add(
        "lab",
        (
            json!({"brought_up_by_bench": brought_up, "up_seconds": up_seconds, "spec": spec.name}),
            true,
        ),
    );
    if wanted("rss") {
        add("rss", section("rss", || rss(&spec, &st)));
    }
    if wanted("probe_cost") {
        add(
            "probe_cost",
            section("probe cost", || probe_cost(&spec, &st)),
        );
    }
    if wanted("rotation") {
        add("rotation", section("rotation", || rotation(&spec, &st)));
    }
    if spec.uses_egress_proxy() && wanted("egress_proxy") {
        add(
            "egress_proxy",
            section("egress proxy latency", || egress_proxy_latency(&spec)),
        );
    }
    if spec.litellm.is_some() && wanted("litellm") {
        add(
            "litellm",
            section("litellm", || crate::bench_litellm::run(&spec, &st)),
        );
    }
    // The hostile-model suite's defaults (its controls restart the gateway: the e2e runs them).
    if wanted("hostile") {
        add(
            "hostile",
            section("hostile suite", || {
                let r = crate::hostile::run(&spec, &st, false)?;
                if !r.ok() {
                    anyhow::bail!("unexpected outcomes: {}", serde_json::to_string(&r)?);
                }
                Ok(serde_json::to_value(&r)?)
            }),
        );
    }
    if wanted("cold_start") {
        let lab_cs = section("cold start (lab)", || cold_start_lab(&spec, &st));
        let plain_cs = section("cold start (plain)", || cold_start_plain(&spec, &st));
        let diff = match (
            lab_cs.0["cold_start_to_readyz_s"].as_f64(),
            plain_cs.0["cold_start_to_readyz_s"].as_f64(),
        ) {
            (Some(a), Some(b)) => json!(((a - b) * 1000.0).round() / 1000.0),
            _ => Value::Null,
        };
        let ok = lab_cs.1 && plain_cs.1;
        add(
            "cold_start",
            (
                json!({"lab_unit": lab_cs.0, "plain": plain_cs.0, "lab_minus_plain_s": diff}),
                ok,
            ),
        );
    }
    doc.insert("total_seconds".into(), json!(secs(t_all.elapsed())));
    Ok((Value::Object(doc), all_ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measure_reports_exit_wall_and_rss() {
        let mut c = Command::new("sh");
        c.args(["-c", "echo hi; exit 3"]);
        let m = measure(c, Duration::from_secs(10)).unwrap();
        assert_eq!(m.exit, Some(3));
        assert_eq!(m.stdout.trim(), "hi");
        // GNU time's figure, not this (much larger) test process's high-water mark.
        assert!(
            m.max_rss_kib > 0 && m.max_rss_kib < 8 * 1024,
            "{}",
            m.max_rss_kib
        );
        assert!(m.wall < Duration::from_secs(5));
        let mut c = Command::new("sleep");
        c.arg("5");
        let t = Instant::now();
        assert!(measure(c, Duration::from_millis(300)).is_err());
        assert!(t.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn tree_rss_sums_descendants() {
        let me = std::process::id() as i32;
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let t = proc_table();
        let (own, tree, n, _) = tree_rss(&t, me).unwrap();
        assert!(tree > own && n >= 2, "{own} {tree} {n}");
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn http_status_of_a_dead_port_is_zero() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        assert_eq!(http_get_status(a, "/", Duration::from_millis(300)), 0);
    }
}
