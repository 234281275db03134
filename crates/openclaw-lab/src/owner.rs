//! Which process holds the lab: `up` records its caller (pid and start time, so a reused
//! pid does not count), and `down` and `bench` refuse to pull the lab from under a live
//! holder (an end-to-end test, `openclaw-lab test`, a bench). A lab brought up by the CLI's
//! `up` is free once that command exits; so is the lab of a crashed holder.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

fn owner_file(st: &Path) -> PathBuf {
    st.join("owner")
}

/// Field 22 of /proc/PID/stat: start time in clock ticks since boot.
fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' are plain.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Records the calling process as the lab's holder.
pub fn claim(st: &Path) -> Result<()> {
    let pid = std::process::id() as i32;
    let line = format!("{pid} {}\n", start_time(pid).unwrap_or(0));
    crate::state::write_file(&owner_file(st), line.as_bytes(), 0o644)
}

/// The live holder other than this process, with its command line.
pub fn other_holder(st: &Path) -> Option<(i32, String)> {
    let text = std::fs::read_to_string(owner_file(st)).ok()?;
    let mut it = text.split_whitespace();
    let pid: i32 = it.next()?.parse().ok()?;
    let started: u64 = it.next()?.parse().ok()?;
    if pid == std::process::id() as i32 || start_time(pid) != Some(started) {
        return None;
    }
    let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| {
            String::from_utf8_lossy(&c)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .unwrap_or_default();
    Some((pid, cmd))
}

fn kept_file(st: &Path) -> PathBuf {
    st.join("kept-by-user")
}

/// `openclaw-lab up` (the CLI, for a person) marks its lab as theirs: only their own
/// `openclaw-lab down` removes it, never the next test run.
pub fn mark_kept(st: &Path) -> Result<()> {
    let when = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    crate::state::write_file(&kept_file(st), format!("{when}\n").as_bytes(), 0o644)
}

/// Fails when the lab up now is one a person brought up with `openclaw-lab up`.
pub fn ensure_not_kept(st: &Path, what: &str) -> Result<()> {
    if kept_file(st).exists() {
        bail!("a lab brought up with `openclaw-lab up` (scripts/lab.sh up) is running: {what} would tear it down. Take it down yourself first: `bash scripts/lab.sh down`");
    }
    Ok(())
}

/// Fails when another live process holds the lab.
pub fn ensure_free(st: &Path, what: &str) -> Result<()> {
    if let Some((pid, cmd)) = other_holder(st) {
        bail!("the lab is in use by pid {pid} ({cmd}): {what} would pull it from under that run; wait for it to finish (or stop it) first");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lab a person brought up with `openclaw-lab up` is never torn down by a test run.
    #[test]
    fn a_kept_lab_is_refused_to_tests() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ensure_not_kept(dir.path(), "the end-to-end test").is_ok());
        mark_kept(dir.path()).unwrap();
        let e = ensure_not_kept(dir.path(), "the end-to-end test")
            .unwrap_err()
            .to_string();
        assert!(e.contains("scripts/lab.sh down"), "{e}");
    }

    #[test]
    fn a_live_other_holder_blocks_and_a_dead_or_reused_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        claim(dir.path()).unwrap();
        // We hold it ourselves: free for us.
        assert!(ensure_free(dir.path(), "down").is_ok());
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        let line = format!("{pid} {}\n", start_time(pid).unwrap());
        std::fs::write(owner_file(dir.path()), &line).unwrap();
        let e = ensure_free(dir.path(), "down").unwrap_err().to_string();
        assert!(e.contains(&pid.to_string()) && e.contains("sleep"), "{e}");
        // Same pid, other start time: a reused pid, not the holder.
        std::fs::write(owner_file(dir.path()), format!("{pid} 1\n")).unwrap();
        assert!(ensure_free(dir.path(), "down").is_ok());
        child.kill().unwrap();
        child.wait().unwrap();
        std::fs::write(owner_file(dir.path()), &line).unwrap();
        assert!(ensure_free(dir.path(), "down").is_ok());
    }
}
