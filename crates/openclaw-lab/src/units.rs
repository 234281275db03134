//! The stand-in for systemd: runs a rendered `.service` unit's `[Service]` lines.
//!
//! systemd is not PID 1 on the lab's machines, yet the lab must exercise the units the
//! generator renders. This module parses a unit file and supervises it the way systemd would
//! for the directives that matter here: `ExecStartPre=` (each must succeed, `-` ignores a
//! failure, `+` runs as root), `ExecStart=`, `Environment=`, `EnvironmentFile=`, `User=`,
//! `Group=`, `WorkingDirectory=`, `Restart=` and `RestartSec=`. A restart request
//! (`systemctl try-restart`, through the lab's `systemctl` shim, delivered as SIGHUP to the
//! supervisor, never to the gateway) stops the main process and starts again from
//! `ExecStartPre=`, as systemd does. A secret rotation normally does not get here: the
//! agent's promote runs the real `openclaw secrets reload` against the running gateway and
//! uses this restart only as its fallback (see openclaw-render's bao_agent.rs).
//! `Type=notify` gets a real `NOTIFY_SOCKET` (READY=1, MAINPID=; the runner is a child
//! subreaper so a forked main process such as Podman's conmon stays its child), `Type=oneshot`
//! with `RemainAfterExit=`, and `ExecStop=`/`ExecStopPost=` run as systemd runs them: that is
//! what a quadlet-generated container unit needs. `podman run` lines go through
//! [`crate::podman_compat`] (named adaptations for the lab's Podman 4.3).
//! Not emulated (reported, not silently dropped): sandboxing options, resource limits,
//! socket activation, `KillMode=` (mixed is what happens), `Delegate=`.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde::Serialize;

/// One `Exec*=` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecLine {
    pub argv: Vec<String>,
    /// `-` prefix: a failure is ignored.
    pub ignore_failure: bool,
    /// `+` prefix: runs with full privileges regardless of `User=`.
    pub privileged: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    Simple,
    Notify,
    Oneshot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    No,
    Always,
    OnFailure,
}

/// The parts of a unit the lab runs.
#[derive(Debug, Clone)]
pub struct Unit {
    pub name: String,
    pub exec_start_pre: Vec<ExecLine>,
    pub exec_start: Option<ExecLine>,
    pub environment: Vec<(String, String)>,
    /// Path and whether a missing file is fine (`-` prefix).
    pub environment_files: Vec<(PathBuf, bool)>,
    pub user: Option<String>,
    pub group: Option<String>,
    /// `SupplementaryGroups=`: added to the user's own groups.
    pub supplementary_groups: Vec<String>,
    pub working_directory: Option<PathBuf>,
    /// `LoadCredential=ID:PATH`: copied by root into `%d` for the unit's user before a start.
    pub credentials: Vec<(String, PathBuf)>,
    pub restart: RestartPolicy,
    pub restart_sec: Duration,
    pub kind: ServiceType,
    pub remain_after_exit: bool,
    pub exec_stop: Vec<ExecLine>,
    pub exec_stop_post: Vec<ExecLine>,
    pub timeout_start: Duration,
    pub timeout_stop: Duration,
    /// `[Service]` keys present but not emulated.
    pub ignored: Vec<String>,
}

/// Splits a unit file into `(section, key, value)` with continuation lines joined.
fn entries(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim_end();
        if pending.is_empty() {
            let t = line.trim_start();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                continue;
            }
            if t.starts_with('[') && t.ends_with(']') {
                section = t[1..t.len() - 1].to_string();
                continue;
            }
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            pending.push_str(stripped);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let full = std::mem::take(&mut pending);
        if let Some((k, v)) = full.split_once('=') {
            out.push((section.clone(), k.trim().to_string(), v.trim().to_string()));
        }
    }
    out
}

/// systemd's word splitting: whitespace-separated, "double" and 'single' quotes, C escapes.
pub fn split_words(s: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '"' | '\'' => {
                in_word = true;
                let q = c;
                loop {
                    match chars.next() {
                        None => bail!("unterminated quote in `{s}`"),
                        Some(c) if c == q => break,
                        Some('\\') => cur.push(unescape(chars.next())?),
                        Some(c) => cur.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                cur.push(unescape(chars.next())?);
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

fn unescape(c: Option<char>) -> Result<char> {
    Ok(match c {
        Some('n') => '\n',
        Some('t') => '\t',
        Some(c) => c,
        None => bail!("trailing backslash"),
    })
}

/// Where `%d` points: the unit's credentials, under the lab's state directory (systemd uses
/// `/run/credentials/<unit>`).
pub fn credentials_dir(unit: &str) -> PathBuf {
    crate::state::state_dir().join("credentials").join(unit)
}

/// `%%` -> `%`, `%n` -> unit name, `%d` -> credentials directory; other specifiers are
/// refused so nothing is guessed.
fn specifiers(s: &str, unit: &str) -> Result<String> {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('%') => out.push('%'),
            Some('n') => out.push_str(unit),
            Some('N') => out.push_str(unit.trim_end_matches(".service")),
            Some('d') => out.push_str(&credentials_dir(unit).display().to_string()),
            // The system manager's runtime directory.
            Some('t') => out.push_str("/run"),
            other => bail!(
                "specifier %{} is not emulated by the lab",
                other.unwrap_or(' ')
            ),
        }
    }
    Ok(out)
}

/// `$VAR` / `${VAR}` as whole words and `${VAR}` inside words, from the unit's environment.
fn expand(words: Vec<String>, env: &BTreeMap<String, String>) -> Vec<String> {
    let mut out = Vec::new();
    for w in words {
        if let Some(name) = w.strip_prefix('$').filter(|n| !n.starts_with('{')) {
            // `$VAR` alone: split on whitespace, like systemd.
            if let Some(v) = env.get(name) {
                out.extend(v.split_whitespace().map(str::to_string));
            }
            continue;
        }
        let mut s = w.clone();
        for (k, v) in env {
            s = s.replace(&format!("${{{k}}}"), v);
        }
        out.push(s);
    }
    out
}

fn exec_line(value: &str, unit: &str) -> Result<ExecLine> {
    let mut v = value.trim();
    let mut ignore_failure = false;
    let mut privileged = false;
    while let Some(c) = v.chars().next() {
        match c {
            '-' => ignore_failure = true,
            '+' | '!' => privileged = true,
            '@' | ':' => bail!("Exec prefix `{c}` is not emulated by the lab"),
            _ => break,
        }
        v = &v[1..];
    }
    let argv = split_words(&specifiers(v, unit)?)?;
    if argv.is_empty() {
        bail!("empty Exec line");
    }
    Ok(ExecLine {
        argv,
        ignore_failure,
        privileged,
    })
}

fn parse_duration(v: &str) -> Result<Duration> {
    let v = v.trim();
    let (num, mult) = if let Some(n) = v.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("min") {
        (n, 60.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    let n: f64 = num
        .trim()
        .parse()
        .with_context(|| format!("duration `{v}`"))?;
    Ok(Duration::from_secs_f64(n * mult))
}

impl Unit {
    pub fn parse(name: &str, text: &str) -> Result<Unit> {
        let mut u = Unit {
            name: name.to_string(),
            exec_start_pre: Vec::new(),
            exec_start: None,
            environment: Vec::new(),
            environment_files: Vec::new(),
            user: None,
            group: None,
            supplementary_groups: Vec::new(),
            working_directory: None,
            credentials: Vec::new(),
            restart: RestartPolicy::No,
            restart_sec: Duration::from_millis(100),
            kind: ServiceType::Simple,
            remain_after_exit: false,
            exec_stop: Vec::new(),
            exec_stop_post: Vec::new(),
            timeout_start: Duration::from_secs(90),
            timeout_stop: Duration::from_secs(90),
            ignored: Vec::new(),
        };
        for (section, k, v) in entries(text) {
            if section != "Service" {
                continue;
            }
            let ctx = || format!("{name}: {k}={v}");
            match k.as_str() {
                "ExecStartPre" => u
                    .exec_start_pre
                    .push(exec_line(&v, name).with_context(ctx)?),
                "ExecStart" => {
                    if v.is_empty() {
                        u.exec_start = None;
                    } else {
                        u.exec_start = Some(exec_line(&v, name).with_context(ctx)?);
                    }
                }
                "Environment" => {
                    for w in split_words(&specifiers(&v, name)?).with_context(ctx)? {
                        let (a, b) = w.split_once('=').with_context(ctx)?;
                        u.environment.push((a.to_string(), b.to_string()));
                    }
                }
                "EnvironmentFile" => {
                    let (p, opt) = match v.strip_prefix('-') {
                        Some(p) => (p, true),
                        None => (v.as_str(), false),
                    };
                    u.environment_files
                        .push((PathBuf::from(specifiers(p, name)?), opt));
                }
                "LoadCredential" => {
                    let (id, p) = v.split_once(':').with_context(ctx)?;
                    u.credentials
                        .push((id.to_string(), PathBuf::from(specifiers(p, name)?)));
                }
                "User" => u.user = Some(v),
                "Group" => u.group = Some(v),
                "SupplementaryGroups" => u
                    .supplementary_groups
                    .extend(v.split_whitespace().map(str::to_string)),
                "WorkingDirectory" => {
                    u.working_directory = Some(PathBuf::from(v.trim_start_matches('-')))
                }
                "Restart" => {
                    u.restart = match v.as_str() {
                        "always" => RestartPolicy::Always,
                        "no" => RestartPolicy::No,
                        // on-abnormal, on-abort, on-watchdog: close enough to on-failure here.
                        _ => RestartPolicy::OnFailure,
                    }
                }
                "RestartSec" => u.restart_sec = parse_duration(&v).with_context(ctx)?,
                "ExecStop" => u.exec_stop.push(exec_line(&v, name).with_context(ctx)?),
                "ExecStopPost" => u
                    .exec_stop_post
                    .push(exec_line(&v, name).with_context(ctx)?),
                "TimeoutStartSec" => u.timeout_start = parse_duration(&v).with_context(ctx)?,
                "TimeoutStopSec" => u.timeout_stop = parse_duration(&v).with_context(ctx)?,
                "RemainAfterExit" => {
                    u.remain_after_exit = matches!(v.as_str(), "yes" | "true" | "1")
                }
                "Type" if v == "simple" || v == "exec" => {}
                "Type" if v == "notify" => u.kind = ServiceType::Notify,
                "Type" if v == "oneshot" => u.kind = ServiceType::Oneshot,
                // The runner accepts notifications from every process of the unit.
                "NotifyAccess" if v == "all" || v == "main" => {}
                _ => u.ignored.push(k),
            }
        }
        if u.exec_start.is_none() {
            bail!("{name}: no ExecStart= in [Service]");
        }
        u.ignored.sort();
        u.ignored.dedup();
        Ok(u)
    }

    /// Like systemd before each start: the `LoadCredential=` files, read as root, copied
    /// fresh into `%d` (0500 dir, 0400 files, owned by `User=`). A missing source fails the
    /// start, as in systemd.
    pub fn load_credentials(&self) -> Result<()> {
        if self.credentials.is_empty() {
            return Ok(());
        }
        let dir = credentials_dir(&self.name);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).with_context(|| format!("clearing {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir)?;
        for (id, src) in &self.credentials {
            let dst = dir.join(id);
            std::fs::copy(src, &dst)
                .with_context(|| format!("{}: LoadCredential={id}:{}", self.name, src.display()))?;
            std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o400))?;
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500))?;
        if let Some(user) = &self.user {
            let owner = format!("{user}:{}", self.group.as_deref().unwrap_or(user));
            crate::cmd::run("chown", &["-R", &owner, &dir.display().to_string()])?;
        }
        Ok(())
    }

    /// `setpriv` arguments (up to `--`) that become `User=`/`Group=` with the user's groups
    /// plus `SupplementaryGroups=`, as systemd does; `None` without `User=`.
    pub fn setpriv_args(&self) -> Option<Vec<String>> {
        let u = self.user.as_ref()?;
        let mut args = vec![
            format!("--reuid={u}"),
            format!("--regid={}", self.group.as_deref().unwrap_or(u)),
        ];
        let own = if self.supplementary_groups.is_empty() {
            String::new()
        } else {
            crate::cmd::run("id", &["-Gn", u]).unwrap_or_default()
        };
        if own.trim().is_empty() {
            args.push("--init-groups".into());
        } else {
            let mut groups: Vec<String> = own.split_whitespace().map(str::to_string).collect();
            groups.extend(self.supplementary_groups.iter().cloned());
            args.push(format!("--groups={}", groups.join(",")));
        }
        args.extend(["--inh-caps=-all".into(), "--".into()]);
        Some(args)
    }

    pub fn from_file(path: &Path) -> Result<Unit> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading unit {}", path.display()))?;
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        Unit::parse(&name, &text)
    }

    /// The environment a command of this unit sees: `Environment=` then each
    /// `EnvironmentFile=` in order (later wins), read with systemd's parser rules.
    pub fn resolved_env(&self) -> Result<BTreeMap<String, String>> {
        let mut env: BTreeMap<String, String> = self.environment.iter().cloned().collect();
        for (p, optional) in &self.environment_files {
            match std::fs::read_to_string(p) {
                Ok(text) => {
                    for (k, v) in parse_env_file(&text) {
                        env.insert(k, v);
                    }
                }
                Err(_) if *optional => {}
                Err(e) => bail!("{}: EnvironmentFile {}: {e}", self.name, p.display()),
            }
        }
        Ok(env)
    }
}

/// `KEY=VALUE` lines, `#`/`;` comments, optional quotes: the subset of systemd's
/// EnvironmentFile syntax that openclaw-secretcheck accepts (it rejects the rest).
pub fn parse_env_file(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = t.split_once('=') {
            let v = v.trim();
            let v = if v.len() >= 2
                && ((v.starts_with('"') && v.ends_with('"'))
                    || (v.starts_with('\'') && v.ends_with('\'')))
            {
                &v[1..v.len() - 1]
            } else {
                v
            };
            out.push((k.trim().to_string(), v.to_string()));
        }
    }
    out
}

/// What the supervisor reports in `<state>/units/<unit>.json`.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct UnitStatus {
    pub unit: String,
    /// `starting`, `running`, `pre-failed`, `exited`, `stopped`.
    pub state: String,
    pub main_pid: Option<u32>,
    /// Main process starts so far (1 = first start).
    pub starts: u32,
    pub pre_failures: u32,
    pub last_exit: Option<String>,
    pub restart_requests: u32,
    pub ignored_directives: Vec<String>,
    /// Adaptations of a `podman run` line for the lab's Podman (see podman_compat.rs).
    #[serde(default)]
    pub podman_compat: Vec<String>,
    /// Last result of the health-check stand-in.
    #[serde(default)]
    pub health: Option<String>,
}

/// Variables of the gateway host's own configuration that every command of a unit gets,
/// as on a real host: the lab's Podman configuration (its stand-in for
/// /etc/containers/containers.conf, which the lab leaves alone).
pub const HOST_ENV: &[&str] = &["CONTAINERS_CONF"];

static RESTART: AtomicBool = AtomicBool::new(false);
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_hup(_: libc::c_int) {
    RESTART.store(true, Ordering::SeqCst);
}
extern "C" fn on_term(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

/// How the supervisor starts a command: as root or through setpriv as `User=`.
fn command_for(
    unit: &Unit,
    line: &ExecLine,
    env: &BTreeMap<String, String>,
    path: &str,
) -> Command {
    let argv = expand(line.argv.clone(), env);
    let mut c = match (unit.setpriv_args(), line.privileged) {
        (Some(drop), false) => {
            let mut c = Command::new("setpriv");
            c.args(drop).args(&argv);
            c
        }
        _ => {
            let mut c = Command::new(&argv[0]);
            c.args(&argv[1..]);
            c
        }
    };
    c.env_clear().env("PATH", path).env("LANG", "C.UTF-8");
    for k in HOST_ENV {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    if let Some(u) = &unit.user {
        c.env("USER", u).env("LOGNAME", u);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    if let Some(d) = &unit.working_directory {
        c.current_dir(d);
    }
    c.stdin(Stdio::null());
    c
}

fn write_status(status_file: &Path, st: &UnitStatus) {
    if let Ok(j) = serde_json::to_vec_pretty(st) {
        let _ = crate::state::write_file(status_file, &j, 0o644);
    }
}

/// The main process of one start: the runner's own child, or the pid a `Type=notify` unit
/// named with `MAINPID=` (a child too once its parent exits: the runner is a subreaper).
enum Main {
    Child(Child),
    Pid(i32),
}

impl Main {
    fn pid(&self) -> u32 {
        match self {
            Main::Child(c) => c.id(),
            Main::Pid(p) => *p as u32,
        }
    }

    /// The exit status once the main process has exited.
    fn exited(&mut self) -> Option<String> {
        match self {
            Main::Child(c) => c.try_wait().ok().flatten().map(|s| s.to_string()),
            Main::Pid(p) => {
                let mut status = 0;
                // SAFETY: waitpid with WNOHANG on one pid; kill with signal 0 only probes.
                let r = unsafe { libc::waitpid(*p, &mut status, libc::WNOHANG) };
                if r == *p {
                    Some(describe_wait(status))
                } else if r < 0 && unsafe { libc::kill(*p, 0) } != 0 {
                    Some("exited".into())
                } else {
                    None
                }
            }
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our main process (its group for our own child, as systemd's
        // cgroup kill would reach its helpers).
        unsafe {
            match self {
                Main::Child(c) => libc::kill(-(c.id() as i32), sig),
                Main::Pid(p) => libc::kill(*p, sig),
            };
        }
    }
}

fn describe_wait(status: i32) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status: {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("signal: {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status}")
    }
}

/// Reaps orphans reparented to the runner (conmon's helpers), keeping the main's status.
fn reap_orphans(main: &mut Main) -> Option<String> {
    let mut main_exit = None;
    loop {
        let mut status = 0;
        // SAFETY: waitpid on any child with WNOHANG; only called while no Command of ours
        // is waiting on its own child.
        let r = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if r <= 0 {
            return main_exit;
        }
        if r as u32 == main.pid() {
            main_exit = Some(describe_wait(status));
        }
    }
}

/// Runs one command line of the unit to completion within `limit`.
fn run_line(
    unit: &Unit,
    line: &ExecLine,
    env: &BTreeMap<String, String>,
    path: &str,
    what: &str,
    limit: Duration,
) -> bool {
    let desc = line.argv.join(" ");
    let mut c = command_for(unit, line, env, path);
    let ok = match crate::cmd::output_within(&mut c, limit) {
        Ok(o) => {
            let tail = String::from_utf8_lossy(&o.stderr);
            let tail = tail.trim();
            eprintln!(
                "[{}] {what} {desc}: {}{}{}",
                unit.name,
                o.status,
                if tail.is_empty() { "" } else { ": " },
                tail
            );
            o.status.success()
        }
        Err(e) => {
            eprintln!("[{}] {what} {desc}: {e:#}", unit.name);
            false
        }
    };
    ok || line.ignore_failure
}

/// A `NOTIFY_SOCKET` for one start: READY=1 and MAINPID= as systemd reads them.
struct NotifySocket {
    sock: std::os::unix::net::UnixDatagram,
    path: PathBuf,
}

impl NotifySocket {
    fn bind(unit: &str) -> Result<NotifySocket> {
        let dir = crate::state::state_dir().join("notify");
        crate::state::mkdir(&dir, 0o755)?;
        let path = dir.join(format!("{unit}.sock"));
        let _ = std::fs::remove_file(&path);
        let sock = std::os::unix::net::UnixDatagram::bind(&path)
            .with_context(|| format!("binding {}", path.display()))?;
        sock.set_nonblocking(true)?;
        // Any process of the unit may notify (NotifyAccess=all), whatever its uid.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777))?;
        Ok(NotifySocket { sock, path })
    }

    /// (ready, main pid) from the messages waiting now.
    fn read(&self) -> (bool, Option<i32>) {
        let (mut ready, mut pid) = (false, None);
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.sock.recv(&mut buf) {
            for line in String::from_utf8_lossy(&buf[..n]).lines() {
                if line == "READY=1" {
                    ready = true;
                } else if let Some(p) = line.strip_prefix("MAINPID=") {
                    pid = p.trim().parse().ok();
                }
            }
        }
        (ready, pid)
    }
}

impl Drop for NotifySocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Starts ExecStart the way the unit's `Type=` says; returns the main process.
fn start_main(
    unit: &Unit,
    main_line: &ExecLine,
    env: &BTreeMap<String, String>,
    path: &str,
) -> std::result::Result<Option<Main>, String> {
    use std::os::unix::process::CommandExt;
    let mut env = env.clone();
    let notify = match unit.kind {
        ServiceType::Notify => {
            let n = NotifySocket::bind(&unit.name).map_err(|e| format!("{e:#}"))?;
            env.insert("NOTIFY_SOCKET".into(), n.path.display().to_string());
            Some(n)
        }
        _ => None,
    };
    let mut c = command_for(unit, main_line, &env, path);
    c.process_group(0);
    let mut child = c.spawn().map_err(|e| format!("spawn failed: {e}"))?;
    let deadline = Instant::now() + unit.timeout_start;
    match (unit.kind, notify) {
        (ServiceType::Simple, _) | (ServiceType::Notify, None) => Ok(Some(Main::Child(child))),
        (ServiceType::Oneshot, _) => loop {
            if let Ok(Some(s)) = child.try_wait() {
                return if s.success() {
                    Ok(None)
                } else {
                    Err(format!("ExecStart: {s}"))
                };
            }
            if Instant::now() > deadline || STOP.load(Ordering::SeqCst) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "ExecStart: no exit within {:?}",
                    unit.timeout_start
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        },
        (ServiceType::Notify, Some(n)) => {
            let (mut ready, mut main_pid) = (false, None);
            let mut launcher_done = None;
            while !ready {
                let (r, p) = n.read();
                ready |= r;
                main_pid = p.or(main_pid);
                if launcher_done.is_none() {
                    if let Ok(Some(s)) = child.try_wait() {
                        launcher_done = Some(s);
                        if !s.success() {
                            return Err(format!("ExecStart: {s} before READY=1"));
                        }
                    }
                }
                if Instant::now() > deadline || STOP.load(Ordering::SeqCst) {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("no READY=1 within {:?}", unit.timeout_start));
                }
                if !ready {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
            match main_pid.filter(|p| *p as u32 != child.id()) {
                // The launcher (`podman run -d`) exits once the container runs; conmon, now
                // our child, is the main process.
                Some(p) => {
                    while launcher_done.is_none() && Instant::now() < deadline {
                        launcher_done = child.try_wait().ok().flatten();
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Ok(Some(Main::Pid(p)))
                }
                None => Ok(Some(Main::Child(child))),
            }
        }
    }
}

/// `podman healthcheck run NAME`: the stand-in for Podman's health-check timer.
fn health_check(unit: &Unit, h: &crate::podman_compat::Health, path: &str) -> bool {
    let mut c = Command::new("podman");
    c.args(["healthcheck", "run", &h.container])
        .env_clear()
        .env("PATH", path);
    for k in HOST_ENV {
        if let Some(v) = std::env::var_os(k) {
            c.env(k, v);
        }
    }
    match crate::cmd::output_within(&mut c, Duration::from_secs(30)) {
        Ok(o) => o.status.success(),
        Err(e) => {
            eprintln!("[{}] health check: {e:#}", unit.name);
            false
        }
    }
}

/// Stops the main process as systemd does: ExecStop=, then SIGTERM (and SIGKILL after the
/// stop timeout) to what is left, then ExecStopPost=.
fn stop_main(unit: &Unit, main: &mut Main, env: &BTreeMap<String, String>, path: &str) -> String {
    for line in &unit.exec_stop {
        run_line(unit, line, env, path, "ExecStop", unit.timeout_stop);
    }
    let wait = |main: &mut Main, d: Duration| {
        let deadline = Instant::now() + d;
        loop {
            if let Some(s) = main.exited().or_else(|| reap_if_pid(main)) {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    let grace = if unit.exec_stop.is_empty() {
        Duration::ZERO
    } else {
        unit.timeout_stop.min(Duration::from_secs(30))
    };
    let status = wait(main, grace).unwrap_or_else(|| {
        main.signal(libc::SIGTERM);
        wait(main, Duration::from_secs(10)).unwrap_or_else(|| {
            main.signal(libc::SIGKILL);
            wait(main, Duration::from_secs(5)).unwrap_or_else(|| "not reaped".into())
        })
    });
    if let Main::Child(c) = main {
        // Helpers left in the group; systemd would kill the cgroup.
        unsafe { libc::kill(-(c.id() as i32), libc::SIGKILL) };
    }
    for line in &unit.exec_stop_post {
        run_line(unit, line, env, path, "ExecStopPost", unit.timeout_stop);
    }
    status
}

fn reap_if_pid(main: &mut Main) -> Option<String> {
    match main {
        Main::Pid(_) => reap_orphans(main),
        Main::Child(_) => None,
    }
}

/// Supervises the unit until SIGTERM. `path` is the PATH its commands get.
pub fn supervise(unit: &Unit, path: &str, status_file: &Path) -> Result<()> {
    // SAFETY: installing async-signal-safe handlers that only store to atomics; prctl makes
    // orphaned descendants (a notify unit's forked main process) our children.
    unsafe {
        libc::signal(libc::SIGHUP, on_hup as *const () as libc::sighandler_t);
        libc::signal(libc::SIGTERM, on_term as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_term as *const () as libc::sighandler_t);
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
    let main_line = unit.exec_start.as_ref().expect("checked in parse");
    let adapted = crate::podman_compat::adapt(&main_line.argv);
    let main_line = ExecLine {
        argv: adapted.argv.clone(),
        ..main_line.clone()
    };
    let mut st = UnitStatus {
        unit: unit.name.clone(),
        state: "starting".into(),
        ignored_directives: unit.ignored.clone(),
        podman_compat: adapted.notes.clone(),
        ..Default::default()
    };
    if !unit.ignored.is_empty() {
        eprintln!(
            "[{}] not emulated by the lab: {}",
            unit.name,
            unit.ignored.join(", ")
        );
    }
    for n in &adapted.notes {
        eprintln!("[{}] podman compat: {n}", unit.name);
    }
    'outer: while !STOP.load(Ordering::SeqCst) {
        RESTART.store(false, Ordering::SeqCst);
        st.state = "starting".into();
        st.main_pid = None;
        write_status(status_file, &st);
        // Credentials first, as systemd sets them up before anything runs; a failure is
        // handled like an unreadable EnvironmentFile.
        let env = match unit.load_credentials().and_then(|_| unit.resolved_env()) {
            Ok(e) => e,
            Err(e) => {
                eprintln!("[{}] {e:#}", unit.name);
                st.pre_failures += 1;
                st.state = "pre-failed".into();
                write_status(status_file, &st);
                if !pause(unit.restart_sec.max(Duration::from_millis(500))) {
                    break;
                }
                continue;
            }
        };
        for pre in &unit.exec_start_pre {
            if !run_line(unit, pre, &env, path, "ExecStartPre", unit.timeout_start) {
                st.pre_failures += 1;
                st.state = "pre-failed".into();
                st.last_exit = Some(format!("ExecStartPre failed: {}", pre.argv.join(" ")));
                write_status(status_file, &st);
                if unit.restart == RestartPolicy::No || !pause(unit.restart_sec) {
                    break 'outer;
                }
                continue 'outer;
            }
        }
        if let Some(f) = &adapted.cidfile {
            let _ = std::fs::remove_file(f);
        }
        let mut main = match start_main(unit, &main_line, &env, path) {
            Ok(Some(m)) => m,
            Ok(None) => {
                // A oneshot that succeeded: active (RemainAfterExit) or done until stopped.
                st.starts += 1;
                st.state = if unit.remain_after_exit {
                    "active"
                } else {
                    "exited"
                }
                .into();
                write_status(status_file, &st);
                while !STOP.load(Ordering::SeqCst) {
                    if RESTART.swap(false, Ordering::SeqCst) {
                        st.restart_requests += 1;
                        continue 'outer;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                for line in &unit.exec_stop {
                    run_line(unit, line, &env, path, "ExecStop", unit.timeout_stop);
                }
                break 'outer;
            }
            Err(e) => {
                eprintln!("[{}] start failed: {e}", unit.name);
                st.last_exit = Some(e);
                st.state = "failed".into();
                write_status(status_file, &st);
                for line in &unit.exec_stop_post {
                    run_line(unit, line, &env, path, "ExecStopPost", unit.timeout_stop);
                }
                if unit.restart == RestartPolicy::No || !pause(unit.restart_sec) {
                    break;
                }
                continue;
            }
        };
        st.starts += 1;
        st.main_pid = Some(main.pid());
        let mut healthy = !adapted.health.as_ref().is_some_and(|h| h.gate_ready);
        st.state = if healthy { "running" } else { "starting" }.into();
        write_status(status_file, &st);
        eprintln!(
            "[{}] started pid {} (start #{})",
            unit.name,
            main.pid(),
            st.starts
        );
        let started = Instant::now();
        let mut next_health = Instant::now() + Duration::from_secs(1);
        loop {
            if STOP.load(Ordering::SeqCst) {
                st.last_exit = Some(stop_main(unit, &mut main, &env, path));
                break 'outer;
            }
            if RESTART.swap(false, Ordering::SeqCst) {
                st.restart_requests += 1;
                eprintln!("[{}] restart requested", unit.name);
                st.last_exit = Some(stop_main(unit, &mut main, &env, path));
                continue 'outer;
            }
            if let Some(s) = main.exited().or_else(|| reap_if_pid(&mut main)) {
                if let Main::Child(c) = &main {
                    // Its helpers may linger in the group; systemd would kill the cgroup.
                    unsafe { libc::kill(-(c.id() as i32), libc::SIGKILL) };
                }
                eprintln!("[{}] main process exited: {s}", unit.name);
                for line in &unit.exec_stop_post {
                    run_line(unit, line, &env, path, "ExecStopPost", unit.timeout_stop);
                }
                let success = s == "exit status: 0";
                st.last_exit = Some(s);
                st.state = "exited".into();
                st.main_pid = None;
                write_status(status_file, &st);
                let again = match unit.restart {
                    RestartPolicy::Always => true,
                    RestartPolicy::OnFailure => !success,
                    RestartPolicy::No => false,
                };
                if !again || !pause(unit.restart_sec) {
                    break 'outer;
                }
                continue 'outer;
            }
            if let Some(h) = &adapted.health {
                if Instant::now() >= next_health {
                    let ok = health_check(unit, h, path);
                    st.health = Some(if ok { "healthy" } else { "unhealthy" }.into());
                    if ok && !healthy {
                        healthy = true;
                        st.state = "running".into();
                        eprintln!(
                            "[{}] healthy after {:.1} s",
                            unit.name,
                            started.elapsed().as_secs_f64()
                        );
                    }
                    write_status(status_file, &st);
                    // Until the first pass: every second (the gate); then the interval.
                    next_health = Instant::now()
                        + if healthy {
                            h.interval
                        } else {
                            Duration::from_secs(1)
                        };
                    if !healthy && started.elapsed() > unit.timeout_start {
                        eprintln!(
                            "[{}] not healthy within {:?}",
                            unit.name, unit.timeout_start
                        );
                        st.last_exit = Some(stop_main(unit, &mut main, &env, path));
                        st.state = "failed".into();
                        write_status(status_file, &st);
                        if !pause(unit.restart_sec) {
                            break 'outer;
                        }
                        continue 'outer;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    st.state = "stopped".into();
    st.main_pid = None;
    write_status(status_file, &st);
    Ok(())
}

/// Sleeps, waking early on stop (returns false) or on a restart request.
fn pause(d: Duration) -> bool {
    let deadline = Instant::now() + d;
    while Instant::now() < deadline {
        if STOP.load(Ordering::SeqCst) {
            return false;
        }
        if RESTART.load(Ordering::SeqCst) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    !STOP.load(Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LiteLLM's rendered unit (examples/lab.toml) as the runner reads it: its user, working
    /// directory, every `Environment=` pair of the one line, the optional env file and the
    /// secretcheck gate; a missing env file is no error (`-`), its values win over the line's.
    #[test]
    fn the_rendered_litellm_unit_parses_as_systemd_reads_it() {
        use openclaw_render::render::litellm as lr;
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab.toml");
        let spec = openclaw_render::Spec::from_path(&p).unwrap();
        let l = spec.litellm.as_ref().unwrap();
        let arts = openclaw_render::render_all(&spec).unwrap();
        let name = lr::unit_name(&spec);
        let text = &arts
            .iter()
            .find(|a| a.path == format!("systemd/{name}"))
            .unwrap()
            .content;
        let u = Unit::parse(&name, text).unwrap();
        assert_eq!(u.user.as_deref(), Some(l.paths.service_user.as_str()));
        assert_eq!(u.working_directory, Some(PathBuf::from(&l.paths.state_dir)));
        assert_eq!(u.environment, lr::environment(l));
        assert_eq!(
            u.environment_files,
            [(PathBuf::from(l.paths.env_file()), true)]
        );
        assert_eq!(u.exec_start.as_ref().unwrap().argv, lr::exec_start(l));
        assert!(u.exec_start_pre[0].argv.contains(&"check".to_string()));
        assert!(u.resolved_env().is_ok(), "a missing optional env file");
    }

    /// `LoadCredential=` and `%d` as systemd does them: a fresh 0400 copy in a 0500 directory
    /// per start, `%d` pointing there; a missing source fails the start.
    #[test]
    fn credentials_are_copied_fresh_and_percent_d_points_at_them() {
        let state = tempfile::tempdir().unwrap();
        std::env::set_var("OPENCLAW_LAB_STATE", state.path());
        let src = state.path().join("machine.crt");
        std::fs::write(&src, "cert v1").unwrap();
        let text = format!(
            "[Service]\nLoadCredential=machine-cert:{}\nExecStart=/bin/cat %d/machine-cert\n",
            src.display()
        );
        let u = Unit::parse("cred-test.service", &text).unwrap();
        let copy = credentials_dir("cred-test.service").join("machine-cert");
        assert_eq!(
            u.exec_start.as_ref().unwrap().argv,
            ["/bin/cat".to_string(), copy.display().to_string()]
        );
        u.load_credentials().unwrap();
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "cert v1");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&copy), mode(copy.parent().unwrap())), (0o400, 0o500));
        std::fs::write(&src, "cert v2").unwrap();
        u.load_credentials().unwrap();
        assert_eq!(std::fs::read_to_string(&copy).unwrap(), "cert v2");
        std::fs::remove_file(&src).unwrap();
        assert!(u.load_credentials().is_err());
        std::env::remove_var("OPENCLAW_LAB_STATE");
    }

    const UNIT: &str = r#"
[Unit]
Description=test
[Service]
Type=simple
User=nobody
Environment="A=one two" B=3
EnvironmentFile=-/nonexistent/env
ExecStartPre=-/bin/false
ExecStartPre=+/bin/echo "%n pre" \
  continued
ExecStart=/bin/sh -c 'echo $$A ${B}' %%
Restart=on-failure
RestartSec=2s
ProtectSystem=strict
"#;

    #[test]
    fn parses_the_directives_the_lab_runs() {
        let u = Unit::parse("x.service", UNIT).unwrap();
        assert_eq!(u.user.as_deref(), Some("nobody"));
        assert_eq!(
            u.environment,
            [("A".into(), "one two".into()), ("B".into(), "3".into())]
        );
        assert_eq!(u.exec_start_pre.len(), 2);
        assert!(u.exec_start_pre[0].ignore_failure);
        assert!(u.exec_start_pre[1].privileged);
        assert_eq!(
            u.exec_start_pre[1].argv,
            ["/bin/echo", "x.service pre", "continued"]
        );
        let main = u.exec_start.unwrap();
        assert_eq!(main.argv, ["/bin/sh", "-c", "echo $$A ${B}", "%"]);
        assert_eq!(u.restart, RestartPolicy::OnFailure);
        assert_eq!(u.restart_sec, Duration::from_secs(2));
        assert_eq!(u.ignored, ["ProtectSystem"]);
        assert!(u.environment_files[0].1);
    }

    #[test]
    fn refuses_what_it_cannot_emulate() {
        assert!(Unit::parse("x", "[Service]\nExecStart=@/bin/true x\n").is_err());
        assert!(Unit::parse("x", "[Service]\nExecStart=/bin/echo %i\n").is_err());
        assert!(Unit::parse("x", "[Service]\nUser=a\n").is_err());
    }

    #[test]
    fn env_expansion_and_files() {
        let env: BTreeMap<_, _> = [("A".to_string(), "x y".to_string())].into();
        assert_eq!(
            expand(vec!["$A".into(), "--a=${A}".into()], &env),
            ["x", "y", "--a=x y"]
        );
        assert_eq!(
            parse_env_file("# c\nA=1\nB=\"two words\"\n\n"),
            [("A".into(), "1".into()), ("B".into(), "two words".into())]
        );
    }
}
