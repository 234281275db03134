//! The lab's state directory and the detached processes it starts inside namespaces.
//!
//! Everything the lab writes lives under one directory (default `/var/lib/openclaw-lab`,
//! `OPENCLAW_LAB_STATE` overrides it): pidfiles, logs, the rendered artifacts, PKI, OpenBao's
//! storage and the gateway's files. `down` deletes it whole.

use std::fs::{self, OpenOptions};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::cmd::wait_for;

pub const DEFAULT_STATE_DIR: &str = "/var/lib/openclaw-lab";

/// PATH for every lab process: the lab's own shims (`systemctl`) first.
pub fn base_path(state: &Path) -> String {
    format!(
        "{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        state.join("bin").display()
    )
}

pub fn state_dir() -> PathBuf {
    std::env::var_os("OPENCLAW_LAB_STATE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
}

/// Creates a directory (and parents) with `mode`.
pub fn mkdir(path: &Path, mode: u32) -> Result<()> {
    fs::create_dir_all(path).with_context(|| format!("creating {}", path.display()))?;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(())
}

/// Writes a file atomically (temp + rename) with `mode`, never briefly world-readable.
pub fn write_file(path: &Path, content: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().context("path without parent")?;
    fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    {
        use std::io::Write;
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(content)?;
        f.sync_all()?;
    }
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming onto {}", path.display()))?;
    Ok(())
}

/// A process to start detached inside a lab namespace.
pub struct Spawn<'a> {
    /// Pidfile and log name (`vault`, `gateway-unit`).
    pub name: &'a str,
    /// The lab namespace to run in; [`MACHINE`] for the machine's own (the loopback forwarder).
    pub netns: &'a str,
    pub argv: Vec<String>,
    /// Environment on top of a clean PATH/HOME/LANG. Secrets never go in argv; they may go
    /// here only when the component documents env as its secret input (BAO_TOKEN).
    pub env: Vec<(String, String)>,
    /// Run as this user (via setpriv, all capabilities dropped) instead of root.
    pub user: Option<&'a str>,
    pub cwd: Option<PathBuf>,
}

pub fn pidfile(state: &Path, name: &str) -> PathBuf {
    state.join("pids").join(format!("{name}.pid"))
}

pub fn logfile(state: &Path, name: &str) -> PathBuf {
    state.join("logs").join(format!("{name}.log"))
}

/// `Spawn::netns` for a process in the machine's own namespaces, not a lab host's.
pub const MACHINE: &str = "";

/// The command line that runs `argv` inside `netns` (optionally as `user`).
pub fn netns_command(netns: &str, user: Option<&str>, argv: &[String]) -> Command {
    let mnt = crate::netns::mount_ns(netns);
    let mut c = if netns == MACHINE {
        let mut c = Command::new("env");
        c.arg("--");
        c
    } else if mnt.exists() {
        // The host's own mount namespace (see netns.rs), shared by all its processes.
        let mut c = Command::new("nsenter");
        c.arg(format!("--net=/run/netns/{netns}"))
            .arg(format!("--mount={}", mnt.display()));
        c
    } else {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", netns]);
        c
    };
    if let Some(u) = user {
        c.args([
            "setpriv",
            &format!("--reuid={u}"),
            &format!("--regid={u}"),
            "--init-groups",
            "--inh-caps=-all",
            "--",
        ]);
    }
    c.args(argv);
    c
}

/// Starts the process in its own session (so `down` can kill its whole group), output
/// appended to its log, pid recorded. Returns the pid.
pub fn spawn(state: &Path, s: &Spawn) -> Result<u32> {
    mkdir(&state.join("pids"), 0o700)?;
    mkdir(&state.join("logs"), 0o700)?;
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(logfile(state, s.name))?;
    // Entering a mount namespace resets the working directory to its root: `env -C` sets it
    // again inside (Command::current_dir would only apply before the switch).
    let argv = match &s.cwd {
        Some(d) => [
            vec!["env".to_string(), "-C".into(), d.display().to_string()],
            s.argv.clone(),
        ]
        .concat(),
        None => s.argv.clone(),
    };
    let mut c = netns_command(s.netns, s.user, &argv);
    c.env_clear()
        .env("PATH", base_path(state))
        .env("LANG", "C.UTF-8")
        .env("HOME", s.cwd.clone().unwrap_or_else(|| state.to_path_buf()));
    for (k, v) in &s.env {
        c.env(k, v);
    }
    c.stdin(Stdio::null()).stdout(log.try_clone()?).stderr(log);
    // SAFETY: setsid is async-signal-safe; it detaches the child from our session.
    unsafe {
        c.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = c
        .spawn()
        .with_context(|| format!("starting {} in {}", s.name, s.netns))?;
    let pid = child.id();
    write_file(&pidfile(state, s.name), pid.to_string().as_bytes(), 0o600)?;
    // The child is reaped by init once we exit; a long-lived parent reaps in `reap`.
    std::mem::forget(child);
    Ok(pid)
}

pub fn read_pid(state: &Path, name: &str) -> Option<i32> {
    fs::read_to_string(pidfile(state, name))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn alive(pid: i32) -> bool {
    // Reap it first if it is our exited child, so a zombie does not count as alive.
    // SAFETY: waitpid with WNOHANG on a specific pid; kill with signal 0 only probes.
    let exists = unsafe {
        libc::waitpid(pid, std::ptr::null_mut(), libc::WNOHANG);
        libc::kill(pid, 0) == 0
    };
    // Another process's exited child (the lab brought up by a test, stopped by a separate
    // `openclaw-lab deploy`) stays a zombie until its parent reaps it: it has exited.
    exists && !is_zombie(pid)
}

fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        // The state follows the parenthesised command name, which may itself hold spaces.
        .and_then(|s| s.rsplit_once(") ").map(|(_, rest)| rest.starts_with('Z')))
        .unwrap_or(false)
}

/// Sends `sig` to the process group the pidfile names, then KILL after `grace`.
pub fn stop(state: &Path, name: &str, grace: Duration) {
    let Some(pid) = read_pid(state, name) else {
        return;
    };
    // SAFETY: kill(2) on the group our spawn created (setsid makes pid == pgid).
    unsafe { libc::kill(-pid, libc::SIGTERM) };
    if wait_for(grace, Duration::from_millis(50), || {
        (!alive(pid)).then_some(())
    })
    .is_none()
    {
        unsafe { libc::kill(-pid, libc::SIGKILL) };
        let _ = wait_for(Duration::from_secs(2), Duration::from_millis(20), || {
            (!alive(pid)).then_some(())
        });
    }
    let _ = fs::remove_file(pidfile(state, name));
}

/// Names with a pidfile and whether that process lives.
pub fn processes(state: &Path) -> Vec<(String, Option<i32>, bool)> {
    let mut v = Vec::new();
    if let Ok(rd) = fs::read_dir(state.join("pids")) {
        for e in rd.flatten() {
            let name = e
                .file_name()
                .to_string_lossy()
                .trim_end_matches(".pid")
                .to_string();
            let pid = read_pid(state, &name);
            v.push((name, pid, pid.is_some_and(alive)));
        }
    }
    v.sort();
    v
}
