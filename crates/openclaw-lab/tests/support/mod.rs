//! What the standalone real-component tests (audit trail, backups, LiteLLM, Matrix) share:
//! where the installed components are, free loopback ports, and child processes in their own
//! process group that a failing assertion cannot leave running.
#![allow(dead_code)] // each test binary uses its own subset

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The installer's cache (`scripts/install-components.sh`).
pub fn cache() -> PathBuf {
    std::env::var_os("OPENCLAW_HOMELAB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/openclaw-homelab"))
}

/// A component from its env.sh variable, else its place in the cache; must exist.
pub fn component(var: &str, in_cache: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| cache().join(in_cache));
    assert!(
        p.exists(),
        "{var}: {} is missing; run scripts/install-components.sh",
        p.display()
    );
    p
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    std::fs::File::open("/dev/urandom")
        .unwrap()
        .read_exact(&mut b)
        .unwrap();
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Kills the process group on drop, so a failing assertion leaves nothing running.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: signalling the process group this test started (setsid in `spawn`).
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGKILL) };
        let _ = self.0.wait();
    }
}

impl Proc {
    /// SIGTERM to the group, as systemd stops the unit; waits for the exit.
    pub fn stop(mut self) {
        // SAFETY: as in drop.
        unsafe { libc::kill(-(self.0.id() as i32), libc::SIGTERM) };
        let _ = self.0.wait();
    }
}

/// Starts `cmd` in its own session, stdout and stderr appended to `log`.
pub fn spawn(name: &str, cmd: &mut Command, log: &Path) -> Proc {
    use std::os::unix::process::CommandExt;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    // SAFETY: setsid in the child before exec; nothing else runs there.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    Proc(child)
}
