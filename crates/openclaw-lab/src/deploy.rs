//! `openclaw-lab deploy --spec NEW`: a health-gated deployment with automatic rollback on the
//! running lab, the way `nixos-rebuild switch` plus the module's health gate behaves on NixOS.
//!
//! 1. The new spec is rendered first; a spec the generator refuses changes nothing.
//! 2. Its artifacts are installed and the units restarted as a switch does (the OpenBao agent,
//!    every unit whose file changed, the gateway).
//! 3. The gate: `openclaw-probe`'s checks (library, from the gateway host) until the gateway
//!    reports started (`/startupz`, without the channels' deep checks), auth enforced and the
//!    token accepted, within `within`.
//! 4. Otherwise the previous spec's artifacts go back the same way, the gateway must pass the
//!    same gate, and the outcome says why the new one failed.
//!
//! Throughout, a watcher probes once a second and counts the failures a user would have seen.
//! The gateway's state directory (sessions, memory, cron jobs) is never touched.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use openclaw_probe::probe::TokenSource;
use openclaw_probe::{Config, GatewayState, HttpTarget, Readiness, Report, Status};
use openclaw_render::spec::{Runtime, SecretLocation, Spec};
use serde::Serialize;

use crate::container_host::GatewayMode;
use crate::state::{self, write_file};
use crate::topology::GATEWAY;

/// Refused starts before the gate gives up early: the first may only mean the agent has not
/// rendered a new secret yet; three, RestartSec apart, mean it will not.
const START_LIMIT: u32 = 3;

/// The least time the rolled-back deployment has to pass the gate again.
const ROLLBACK_GATE: Duration = Duration::from_secs(180);

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The new spec is serving.
    pub deployed: bool,
    /// Why the new spec was rolled back (its gate's last verdict).
    pub reason: Option<String>,
    /// Installing the new spec's artifacts and restarting its units.
    pub apply_seconds: f64,
    /// From the switch to the gate's verdict on the new spec.
    pub gate_seconds: f64,
    /// From the failed verdict to the previous deployment passing the gate again.
    pub rollback_seconds: Option<f64>,
    /// The watcher's probes during the whole episode, and how many failed.
    pub probes: u32,
    pub probe_failures: u32,
    /// Stored sessions (`openclaw sessions --json`) before and after the episode.
    pub sessions_before: usize,
    pub sessions_after: usize,
}

impl Outcome {
    pub fn to_text(&self) -> String {
        let mut s = if self.deployed {
            format!(
                "deployed: the new spec passed the gate in {:.1} s\n",
                self.gate_seconds
            )
        } else {
            format!(
                "ROLLED BACK: the new spec failed the gate after {:.1} s: {}\n\
                 the previous deployment serves again after {:.1} s more\n",
                self.gate_seconds,
                self.reason.as_deref().unwrap_or("?"),
                self.rollback_seconds.unwrap_or(0.0)
            )
        };
        s.push_str(&format!(
            "probes during the episode: {} ({} failed, one a second)\n\
             stored sessions: {} before, {} after\n",
            self.probes, self.probe_failures, self.sessions_before, self.sessions_after
        ));
        s
    }
}

/// How many sessions the gateway has stored, asked as the gateway runs.
pub fn stored_sessions(spec: &Spec) -> Result<usize> {
    let out = crate::checks::audit::openclaw_on_gateway_host(
        spec,
        &["sessions", "--json", "--all-agents", "--limit", "all"],
        Duration::from_secs(90),
    )?;
    let text = String::from_utf8_lossy(&out.stdout);
    let start = text.find(['{', '[']).unwrap_or(0);
    let v: serde_json::Value = serde_json::from_str(&text[start..]).with_context(|| {
        format!(
            "openclaw sessions --json: no JSON: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })?;
    Ok(v.as_array()
        .or_else(|| v["sessions"].as_array())
        .map(Vec::len)
        .unwrap_or(0))
}

fn mode_of(spec: &Spec) -> GatewayMode {
    match spec.runtime {
        Runtime::Container => GatewayMode::Container,
        Runtime::Native => GatewayMode::Native,
    }
}

/// The probe's gateway checks as the deploy gate runs them.
fn gate_config(spec: &Spec) -> Result<Config> {
    let target: HttpTarget = format!("http://127.0.0.1:{}", spec.gateway.port).parse()?;
    let token = spec
        .gateway
        .token
        .as_ref()
        .and_then(|t| spec.secret_location(t))
        .and_then(|l| match l {
            SecretLocation::File { path } => Some(TokenSource::File(PathBuf::from(path))),
            _ => None,
        });
    let mut cfg = Config::gateway(target, token);
    if let Some(gw) = cfg.gateway.as_mut() {
        gw.readiness = Readiness::Started;
        // A wrong token per probe would count against the gateway's rate limit.
        gw.auth.wrong_token = false;
    }
    Ok(cfg)
}

fn passes(r: &Report) -> bool {
    r.state == Some(GatewayState::Up) && r.status == Status::Ok
}

fn failing(r: &Report) -> String {
    let bad: Vec<String> = r
        .checks
        .iter()
        .filter(|c| c.status != Status::Ok)
        .map(|c| format!("{}: {}", c.name, c.detail))
        .collect();
    if bad.is_empty() {
        "no check failed".into()
    } else {
        bad.join("; ")
    }
}

/// One probe run from the gateway host's network.
fn probe_once(cfg: Config) -> Result<Report> {
    std::thread::spawn(move || -> Result<Report> {
        crate::netns::enter_on_this_thread(&GATEWAY.netns())?;
        Ok(openclaw_probe::run(&cfg))
    })
    .join()
    .map_err(|_| anyhow::anyhow!("the probe thread panicked"))?
}

/// Waits for the gate; the reason when it does not pass within `within`.
fn gate(spec: &Spec, st: &Path, within: Duration) -> std::result::Result<(), String> {
    let cfg = gate_config(spec).map_err(|e| format!("{e:#}"))?;
    let t0 = Instant::now();
    let mut last = String::from("no probe ran");
    while t0.elapsed() < within {
        // As systemd's start limit would: a gateway whose start keeps failing before it runs
        // (ExecStartPre refused it) will not pass by waiting longer.
        if let Some(u) = crate::lab::unit_status(st, &spec.gateway_unit()) {
            if u.state == "pre-failed" && u.starts == 0 && u.pre_failures >= START_LIMIT {
                break;
            }
        }
        match probe_once(cfg.clone()) {
            Ok(r) if passes(&r) => return Ok(()),
            Ok(r) => last = failing(&r),
            Err(e) => last = format!("{e:#}"),
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    let unit = spec.gateway_unit();
    let unit_state = crate::lab::unit_status(st, &unit)
        .map(|s| {
            format!(
                "{unit} {} after {} starts{}",
                s.state,
                s.starts,
                s.last_exit
                    .map(|e| format!(", last: {e}"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_else(|| format!("{unit}: no status"));
    Err(format!(
        "not started with auth enforced after {:.0} s of {} s ({unit_state}; probe: {last})",
        t0.elapsed().as_secs_f64(),
        within.as_secs()
    ))
}

/// Probes once a second until stopped; counts what a user would have seen fail.
struct Watcher {
    stop: Arc<AtomicBool>,
    probes: Arc<AtomicU32>,
    failures: Arc<AtomicU32>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watcher {
    fn start(cfg: Config) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let probes = Arc::new(AtomicU32::new(0));
        let failures = Arc::new(AtomicU32::new(0));
        let (s, p, f) = (stop.clone(), probes.clone(), failures.clone());
        let thread = std::thread::spawn(move || {
            if crate::netns::enter_on_this_thread(&GATEWAY.netns()).is_err() {
                return;
            }
            // Bounded by the deploy: it stops the watcher on every path.
            while !s.load(Ordering::SeqCst) {
                let t = Instant::now();
                p.fetch_add(1, Ordering::SeqCst);
                if !passes(&openclaw_probe::run(&cfg)) {
                    f.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::sleep(Duration::from_secs(1).saturating_sub(t.elapsed()));
            }
        });
        Watcher {
            stop,
            probes,
            failures,
            thread: Some(thread),
        }
    }
    fn finish(mut self) -> (u32, u32) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        (
            self.probes.load(Ordering::SeqCst),
            self.failures.load(Ordering::SeqCst),
        )
    }
}

/// Installs `spec`'s artifacts and restarts what a switch restarts.
fn apply(spec: &Spec, st: &Path) -> Result<()> {
    let before = |p: &Path| std::fs::read_to_string(p).ok();
    let units_dir = st.join("units");
    let previous: std::collections::BTreeMap<String, Option<String>> =
        std::fs::read_dir(&units_dir)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().extension().is_some_and(|x| x != "json"))
                    .map(|e| {
                        (
                            e.file_name().to_string_lossy().into_owned(),
                            before(&e.path()),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
    let arts = crate::gateway::render_and_install(spec, st)?;
    crate::gateway::load_nftables(st)?;
    let units = crate::gateway::write_units(spec, st, &arts)?;
    for (name, path) in &units {
        if crate::timer::for_unit(&arts, name, path).is_some() {
            continue;
        }
        let changed = previous.get(name).cloned().flatten() != before(path);
        let restart =
            changed || name.ends_with("-openbao-agent.service") || *name == spec.gateway_unit();
        if !restart {
            continue;
        }
        let t = Instant::now();
        state::stop(st, &format!("unit-{name}"), Duration::from_secs(40));
        // The stopped supervisor's status must not speak for the new one (the gate reads it).
        let _ = std::fs::remove_file(units_dir.join(format!("{name}.json")));
        crate::lab::start_unit(st, name, path)?;
        eprintln!(
            "deploy: restarted {name} ({:.1} s)",
            t.elapsed().as_secs_f64()
        );
    }
    write_file(
        &st.join("spec.json"),
        serde_json::to_string_pretty(spec)?.as_bytes(),
        0o644,
    )
}

pub fn deploy(new_spec: &Path, within: Duration) -> Result<Outcome> {
    crate::lab::require_root()?;
    let st = state::state_dir();
    let old = crate::lab::load_effective_spec()?;
    let new = crate::gateway::effective_spec(new_spec, &st, mode_of(&old))?;
    if new.runtime != old.runtime {
        bail!("runtime: the running lab's gateway is {:?}; a deploy keeps it (fix: bring the lab up with the other --gateway)", old.runtime);
    }
    // A spec the generator refuses changes nothing.
    openclaw_render::render_all(&new)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("{}: not deployed, nothing changed", new_spec.display()))?;
    let sessions_before = stored_sessions(&old)?;
    let watcher = Watcher::start(gate_config(&old)?);
    let t0 = Instant::now();
    let result = (|| -> Result<Outcome> {
        apply(&new, &st)?;
        let apply_seconds = t0.elapsed().as_secs_f64();
        let verdict = gate(&new, &st, within);
        let gate_seconds = t0.elapsed().as_secs_f64();
        match verdict {
            Ok(()) => Ok(Outcome {
                deployed: true,
                reason: None,
                apply_seconds,
                gate_seconds,
                rollback_seconds: None,
                probes: 0,
                probe_failures: 0,
                sessions_before,
                sessions_after: 0,
            }),
            Err(reason) => {
                eprintln!("deploy: {reason}; rolling back");
                let t1 = Instant::now();
                apply(&old, &st).context("rolling back")?;
                // The previous deployment gets at least the time a cold start needs here.
                gate(&old, &st, within.max(ROLLBACK_GATE))
                    .map_err(|e| anyhow::anyhow!("the rollback did not come back either: {e}"))?;
                Ok(Outcome {
                    deployed: false,
                    reason: Some(reason),
                    apply_seconds,
                    gate_seconds,
                    rollback_seconds: Some(t1.elapsed().as_secs_f64()),
                    probes: 0,
                    probe_failures: 0,
                    sessions_before,
                    sessions_after: 0,
                })
            }
        }
    })();
    let (probes, failures) = watcher.finish();
    let mut o = result?;
    o.probes = probes;
    o.probe_failures = failures;
    o.sessions_after = stored_sessions(&crate::lab::load_effective_spec()?)?;
    Ok(o)
}
