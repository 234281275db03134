//! The stand-in for systemd timers, for the rendered oneshot units a `.timer` drives (the
//! probe: `<name>-probe.service` + `<name>-probe.timer`).
//!
//! systemd is not PID 1 here, so `openclaw-lab timer` reads the rendered `.timer`
//! (`OnBootSec=`, `OnUnitActiveSec=`; the lab's start counts as boot) and runs the rendered
//! `.service`'s `ExecStart=` lines once per tick, as its `User=`, with its `Environment=`,
//! judging the exit with `SuccessExitStatus=`. SIGHUP runs it now: that is what the lab's
//! `systemctl start <service>` does. Each run is recorded in `<state>/units/<timer>.json`.
//! Not emulated: `OnCalendar=`, `RandomizedDelaySec=`, `Persistent=`, sandboxing options.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};
use openclaw_render::spec::Spec;
use openclaw_render::Artifact;
use serde::{Deserialize, Serialize};

use crate::cmd::{output_within, wait_for};
use crate::state::{self, mkdir, spawn, write_file, Spawn};
use crate::topology::GATEWAY;
use crate::units::Unit;

/// A oneshot run longer than this is killed and counted as failed.
const RUN_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    pub on_boot: Duration,
    pub every: Duration,
}

/// `[Section] Key=Value` pairs (no continuation lines: timers and these units have none).
fn keys<'a>(text: &'a str, section: &str) -> Vec<(&'a str, &'a str)> {
    let mut cur = "";
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') && line.ends_with(']') {
            cur = &line[1..line.len() - 1];
        } else if cur == section && !line.starts_with('#') && !line.starts_with(';') {
            if let Some((k, v)) = line.split_once('=') {
                out.push((k.trim(), v.trim()));
            }
        }
    }
    out
}

/// systemd time spans: `30s`, `1m`, `2min`, `1h`, `500ms`, combinations like `1m 30s`.
pub fn parse_span(s: &str) -> Result<Duration> {
    let mut total = 0.0f64;
    let mut rest = s.trim();
    if rest.is_empty() {
        bail!("empty time span");
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let n: f64 = rest[..num_end]
            .parse()
            .with_context(|| format!("time span `{s}`"))?;
        rest = rest[num_end..].trim_start();
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ms" | "msec" => 0.001,
            "" | "s" | "sec" | "second" | "seconds" => 1.0,
            "m" | "min" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hour" | "hours" => 3600.0,
            u => bail!("time span `{s}`: unit `{u}` is not emulated by the lab"),
        };
        total += n * mult;
        rest = rest[unit_end..].trim_start();
    }
    Ok(Duration::from_secs_f64(total))
}

impl Timer {
    pub fn parse(text: &str) -> Result<Timer> {
        let mut t = Timer {
            on_boot: Duration::ZERO,
            every: Duration::ZERO,
        };
        for (k, v) in keys(text, "Timer") {
            match k {
                "OnBootSec" | "OnStartupSec" | "OnActiveSec" => t.on_boot = parse_span(v)?,
                "OnUnitActiveSec" | "OnUnitInactiveSec" => t.every = parse_span(v)?,
                "OnCalendar" => bail!("OnCalendar= is not emulated by the lab's timer"),
                _ => {}
            }
        }
        if t.every.is_zero() {
            bail!("the timer has no OnUnitActiveSec=: the lab's timer only repeats");
        }
        Ok(t)
    }
}

/// Whether a unit file is `Type=oneshot` (the supervisor runs services, not oneshots).
pub fn is_oneshot(unit_text: &str) -> bool {
    keys(unit_text, "Service").contains(&("Type", "oneshot"))
}

/// `SuccessExitStatus=` codes besides 0.
fn success_codes(unit_text: &str) -> Vec<i32> {
    keys(unit_text, "Service")
        .into_iter()
        .filter(|(k, _)| *k == "SuccessExitStatus")
        .flat_map(|(_, v)| v.split_whitespace().filter_map(|c| c.parse().ok()))
        .collect()
}

/// A rendered oneshot service and the rendered timer that drives it.
#[derive(Debug, Clone)]
pub struct TimedUnit {
    pub service: String,
    pub timer: String,
    pub timer_text: String,
}

/// The timer that drives the unit file the lab is about to run, if that file is a oneshot
/// and a `systemd/X.timer` was rendered for it. (The lab's own stand-in for a rendered unit,
/// like the certificate renewal loop, is a service and stays with the supervisor.)
pub fn for_unit(arts: &[Artifact], name: &str, unit_file: &Path) -> Option<TimedUnit> {
    let text = std::fs::read_to_string(unit_file).ok()?;
    if !is_oneshot(&text) {
        return None;
    }
    timer_driven(arts).into_iter().find(|t| t.service == name)
}

/// Every rendered `systemd/X.service` that is a oneshot with a rendered `systemd/X.timer`.
pub fn timer_driven(arts: &[Artifact]) -> Vec<TimedUnit> {
    let mut out = Vec::new();
    for a in arts {
        let Some(svc) = a.path.strip_prefix("systemd/").filter(|n| !n.contains('/')) else {
            continue;
        };
        let Some(stem) = svc.strip_suffix(".service") else {
            continue;
        };
        if !is_oneshot(&a.content) {
            continue;
        }
        let timer = format!("{stem}.timer");
        if let Some(t) = arts.iter().find(|t| t.path == format!("systemd/{timer}")) {
            out.push(TimedUnit {
                service: svc.to_string(),
                timer,
                timer_text: t.content.clone(),
            });
        }
    }
    out
}

/// What the timer records after each run.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TimerStatus {
    pub timer: String,
    pub service: String,
    pub runs: u32,
    pub failures: u32,
    pub last_exit_code: Option<i32>,
    /// `success` (0 or a SuccessExitStatus= code), `failed`, `timeout`, `spawn-failed`.
    pub last_result: String,
    pub last_run_unix: u64,
    pub last_millis: u64,
}

pub fn status_file(st: &Path, timer: &str) -> PathBuf {
    st.join("units").join(format!("{timer}.json"))
}

pub fn read_status(st: &Path, timer: &str) -> Option<TimerStatus> {
    serde_json::from_str(&std::fs::read_to_string(status_file(st, timer)).ok()?).ok()
}

/// The command for one Exec line: through setpriv as `User=`, env from the unit only.
pub(crate) fn command(unit: &Unit, argv: &[String], path: &str) -> Result<Command> {
    let mut c = match unit.setpriv_args() {
        Some(drop) => {
            let mut c = Command::new("setpriv");
            c.args(drop).args(argv);
            c
        }
        None => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    c.env_clear().env("PATH", path).env("LANG", "C.UTF-8");
    if let Some(u) = &unit.user {
        c.env("USER", u).env("LOGNAME", u);
    }
    for (k, v) in unit.resolved_env()? {
        c.env(k, v);
    }
    if let Some(d) = &unit.working_directory {
        c.current_dir(d);
    }
    Ok(c)
}

/// Runs the service's ExecStartPre and ExecStart lines once; returns (result, exit code).
pub fn run_once(unit: &Unit, unit_text: &str, path: &str) -> (String, Option<i32>) {
    let ok_codes = success_codes(unit_text);
    if let Err(e) = unit.load_credentials() {
        eprintln!("[{}] {e:#}", unit.name);
        return ("credentials".into(), None);
    }
    let lines = unit.exec_start_pre.iter().chain(unit.exec_start.iter());
    let mut last = None;
    for line in lines {
        let mut c = match command(unit, &line.argv, path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("[{}] {e:#}", unit.name);
                return ("spawn-failed".into(), None);
            }
        };
        let out = match output_within(&mut c, RUN_LIMIT) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("[{}] {e:#}", unit.name);
                return ("timeout".into(), None);
            }
        };
        // The probe prints names, states and numbers only, never the token.
        eprint!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        let code = out.status.code();
        eprintln!("[{}] {}: {}", unit.name, line.argv.join(" "), out.status);
        last = code;
        let ok = code == Some(0) || code.is_some_and(|c| ok_codes.contains(&c));
        if !ok && !line.ignore_failure {
            return ("failed".into(), code);
        }
    }
    ("success".into(), last)
}

static RUN_NOW: AtomicBool = AtomicBool::new(false);

extern "C" fn on_hup(_: libc::c_int) {
    RUN_NOW.store(true, Ordering::SeqCst);
}

/// `openclaw-lab timer`: runs the service on the timer's schedule until killed.
pub fn run(service: &Path, timer: &Path, path: &str, st: &Path) -> Result<()> {
    let text = std::fs::read_to_string(service)
        .with_context(|| format!("reading {}", service.display()))?;
    let unit = Unit::from_file(service)?;
    let tname = timer.file_name().unwrap().to_string_lossy().into_owned();
    let t = Timer::parse(&std::fs::read_to_string(timer)?)
        .with_context(|| format!("{}", timer.display()))?;
    // SAFETY: an async-signal-safe handler that only stores to an atomic.
    unsafe { libc::signal(libc::SIGHUP, on_hup as *const () as libc::sighandler_t) };
    let mut s = TimerStatus {
        timer: tname.clone(),
        service: unit.name.clone(),
        last_result: "waiting".into(),
        ..Default::default()
    };
    let sf = status_file(st, &tname);
    let _ = write_file(&sf, &serde_json::to_vec_pretty(&s)?, 0o644);
    eprintln!(
        "[{tname}] first run in {:?}, then every {:?} (SIGHUP: now)",
        t.on_boot, t.every
    );
    let mut next = Instant::now() + t.on_boot;
    loop {
        // Sleep in short steps so SIGHUP is served within 50 ms.
        while Instant::now() < next && !RUN_NOW.swap(false, Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let t0 = Instant::now();
        let (result, code) = run_once(&unit, &text, path);
        s.runs += 1;
        if result != "success" {
            s.failures += 1;
        }
        s.last_result = result;
        s.last_exit_code = code;
        s.last_millis = t0.elapsed().as_millis() as u64;
        s.last_run_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let _ = write_file(&sf, &serde_json::to_vec_pretty(&s)?, 0o644);
        // OnUnitActiveSec counts from the last activation.
        next = t0 + t.every;
    }
}

/// Writes the timer next to the units and starts `openclaw-lab timer` in the gateway's
/// namespace, recorded as `unit-<timer>` so `down` stops it with the supervisors.
pub fn start(st: &Path, spec: &Spec, t: &TimedUnit, service_path: &Path) -> Result<u32> {
    let timer_path = st.join("units").join(&t.timer);
    write_file(&timer_path, t.timer_text.as_bytes(), 0o644)?;
    prepare_probe_paths(spec)?;
    spawn(
        st,
        &Spawn {
            name: &format!("unit-{}", t.timer),
            netns: &GATEWAY.netns(),
            argv: vec![
                st.join("bin/openclaw-lab").display().to_string(),
                "timer".into(),
                "--service".into(),
                service_path.display().to_string(),
                "--timer".into(),
                timer_path.display().to_string(),
            ],
            env: vec![("OPENCLAW_LAB_STATE".into(), st.display().to_string())],
            user: None,
            cwd: None,
        },
    )
}

/// What the rendered probe unit needs on the host: its textfile directory owned by the
/// gateway's user. (The machine certificate reaches it through `LoadCredential=`, read as root:
/// its directory stays as step-ca's renewal leaves it.)
pub fn prepare_probe_paths(spec: &Spec) -> Result<()> {
    let user = &spec.paths.service_user;
    if let Some(p) = &spec.observability.prometheus {
        if let Some(dir) = Path::new(&p.probe_textfile).parent() {
            mkdir(dir, 0o755)?;
            crate::cmd::run(
                "chown",
                &[&format!("{user}:{user}"), &dir.display().to_string()],
            )?;
        }
    }
    Ok(())
}

/// `systemctl start <service>` for a timer-driven oneshot: SIGHUP to its timer process.
/// Returns false when no timer runs it.
pub fn trigger(st: &Path, service: &str) -> bool {
    let timer = format!("{}.timer", service.trim_end_matches(".service"));
    match state::read_pid(st, &format!("unit-{timer}")).filter(|p| state::alive(*p)) {
        Some(pid) => {
            // SAFETY: kill(2) on the pid of the lab's timer process.
            unsafe { libc::kill(pid, libc::SIGHUP) };
            true
        }
        None => false,
    }
}

/// Triggers a run and waits (bounded) until it is recorded; returns its status.
pub fn run_now(st: &Path, service: &str, limit: Duration) -> Result<TimerStatus> {
    let timer = format!("{}.timer", service.trim_end_matches(".service"));
    let before = read_status(st, &timer).map(|s| s.runs).unwrap_or(0);
    if !trigger(st, service) {
        bail!("no lab timer runs {service} (is [observability.prometheus] in the spec?)");
    }
    wait_for(limit, Duration::from_millis(100), || {
        read_status(st, &timer).filter(|s| s.runs > before)
    })
    .with_context(|| format!("{service} did not run within {limit:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_timers_parse_like_systemd() {
        assert_eq!(parse_span("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_span("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_span("1min 30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_span("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_span("1w").is_err());
        let t =
            Timer::parse("[Timer]\nOnBootSec=1m\nOnUnitActiveSec=10s\nAccuracySec=1s\n").unwrap();
        assert_eq!(t.on_boot, Duration::from_secs(60));
        assert_eq!(t.every, Duration::from_secs(10));
        assert!(Timer::parse("[Timer]\nOnCalendar=daily\nOnUnitActiveSec=1m\n").is_err());
    }

    /// The rendered probe unit is picked up; the services the supervisor runs are not.
    #[test]
    fn the_rendered_probe_is_timer_driven() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab.toml");
        let spec = Spec::from_path(&p).unwrap();
        let arts = openclaw_render::render_all(&spec).unwrap();
        let timed = timer_driven(&arts);
        let probe = format!("{}-probe.service", spec.name);
        let t = timed.iter().find(|t| t.service == probe).unwrap();
        let svc = arts
            .iter()
            .find(|a| a.path == format!("systemd/{probe}"))
            .unwrap();
        assert_eq!(success_codes(&svc.content), [1, 2]);
        assert_eq!(
            Timer::parse(&t.timer_text).unwrap().every,
            Duration::from_secs(15)
        );
        // The lab's renewal stand-in (a looping service) is not timer-driven.
        let dir = tempfile::tempdir().unwrap();
        let renew = format!("{}-cert-renew.service", spec.name);
        let f = dir.path().join(&renew);
        std::fs::write(&f, "[Service]\nExecStart=/bin/true\nRestart=always\n").unwrap();
        assert!(for_unit(&arts, &renew, &f).is_none());
        std::fs::write(&f, &svc.content).unwrap();
        assert!(for_unit(&arts, &probe, &f).is_some());
        assert!(!is_oneshot(
            &arts
                .iter()
                .find(|a| a.path == format!("systemd/{}", spec.gateway_unit()))
                .unwrap()
                .content
        ));
    }

    #[test]
    fn a_run_honours_success_exit_status() {
        let text =
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c \"exit 2\"\nSuccessExitStatus=1 2\n";
        let u = Unit::parse("t.service", text).unwrap();
        assert_eq!(
            run_once(&u, text, "/usr/bin:/bin"),
            ("success".into(), Some(2))
        );
        let text =
            "[Service]\nType=oneshot\nExecStart=/bin/sh -c \"exit 3\"\nSuccessExitStatus=1 2\n";
        let u = Unit::parse("t.service", text).unwrap();
        assert_eq!(
            run_once(&u, text, "/usr/bin:/bin"),
            ("failed".into(), Some(3))
        );
    }
}
