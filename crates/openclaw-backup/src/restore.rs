//! The 3 a.m. restore: restic brings the archive back into a private stage, OpenClaw verifies
//! it and extracts it into a fresh directory, and only then, with the gateway stopped, the
//! restored state replaces the live one (kept as `<state>.pre-restore`). Every failure before
//! the swap leaves the live state exactly as it was.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::Value;
use tracing::{info, warn};

use crate::openclaw::{tail, Cli};
use crate::restic::Restic;
use crate::user::{self, Ids};
use crate::{lock, Config, Error, ARCHIVE_NAME};

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    /// A snapshot id, or `latest` (of this deployment's snapshots).
    pub snapshot: String,
    /// The operator stopped the gateway; do not call systemctl (still refuses while the
    /// gateway answers).
    pub gateway_stopped: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreReport {
    pub snapshot: String,
    /// When OpenClaw made the archive.
    pub archive_created_at: String,
    pub state_dir: PathBuf,
    /// The state that was replaced (absent when there was none).
    pub previous_state: Option<PathBuf>,
    /// Assets of the archive not activated here (the config comes from the spec).
    pub not_activated: Vec<String>,
    /// OpenClaw's own rollback warnings.
    pub warnings: Vec<String>,
    pub restic_ms: u128,
    pub verify_ms: u128,
    pub extract_ms: u128,
    pub swap_ms: u128,
}

/// Removes the stage however the restore ends (it holds a plaintext copy of the state).
struct Stage(PathBuf);
impl Drop for Stage {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                warn!(path = %self.0.display(), error = %e, "could not remove the restore stage");
            }
        }
    }
}

pub fn restore(cfg: &Config, opts: &RestoreOptions) -> Result<RestoreReport, Error> {
    user::work_dir(&cfg.work_dir)?;
    let _lock = lock::take(&cfg.work_dir)?;
    let ids = user::lookup(&cfg.service_user)?;
    let stage = Stage(cfg.work_dir.join(format!("restore-{}", unix_now())));
    user::private_dir(&stage.0, ids)?;
    let restic = Restic::new(cfg);
    if !restic.exists() {
        return Err(Error::NoRepository(cfg.repository.clone()));
    }

    // 1. The archive, out of restic (which checks every blob it reads).
    let t = Instant::now();
    let from_restic = stage.0.join("snapshot");
    user::private_dir(&from_restic, ids)?;
    restic.restore(&opts.snapshot, &from_restic)?;
    let archive = from_restic.join(ARCHIVE_NAME);
    if !archive.is_file() {
        return Err(Error::NoArchive {
            snapshot: opts.snapshot.clone(),
            name: ARCHIVE_NAME.into(),
        });
    }
    if user::is_root() {
        user::chown(&archive, ids)?;
    }
    let restic_ms = t.elapsed().as_millis();
    info!(snapshot = %opts.snapshot, ms = restic_ms, "restic restore");

    // 2. OpenClaw's verification, with a scratch state: nothing live is read or written.
    let t = Instant::now();
    let scratch = stage.0.join("cli");
    user::private_dir(&scratch, ids)?;
    let cli = Cli::scratch(cfg, ids, &scratch)?;
    let verified = cli.verify(&archive).map_err(|e| verify_failed(opts, e))?;
    let verify_ms = t.elapsed().as_millis();
    info!(ms = verify_ms, "openclaw backup verify: ok");

    // 3. Extraction into a fresh directory (OpenClaw verifies again first).
    let t = Instant::now();
    let extracted = stage.0.join("extracted");
    let restored = cli
        .restore(&archive, &extracted)
        .map_err(|e| verify_failed(opts, e))?;
    let root = verified["archiveRoot"].as_str().unwrap_or_default();
    let manifest_path = extracted.join(root).join("manifest.json");
    let manifest: Value = std::fs::read_to_string(&manifest_path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| Error::NoStateAsset(manifest_path.display().to_string()))?;
    let assets = manifest["assets"].as_array().cloned().unwrap_or_default();
    let state_asset = assets
        .iter()
        .find(|a| a["kind"] == "state")
        .and_then(|a| a["archivePath"].as_str())
        .map(|p| extracted.join(p))
        .filter(|p| p.is_dir())
        .ok_or_else(|| Error::NoStateAsset(manifest_path.display().to_string()))?;
    let not_activated = assets
        .iter()
        .filter(|a| a["kind"] != "state")
        .map(|a| {
            format!(
                "{} {}",
                a["kind"].as_str().unwrap_or("?"),
                a["sourcePath"].as_str().unwrap_or("?")
            )
        })
        .collect();
    let extract_ms = t.elapsed().as_millis();
    info!(ms = extract_ms, "openclaw backup restore into the stage");

    // 4. The gateway stopped, then the swap.
    let t = Instant::now();
    let started_by_us = stop_gateway(cfg, opts)?;
    let previous_state = swap(cfg, &state_asset, ids)?;
    if started_by_us {
        systemctl(&["start", &cfg.gateway_unit])?;
    }
    let swap_ms = t.elapsed().as_millis();
    info!(state = %cfg.state_dir.display(), previous = ?previous_state, "restored state activated");

    Ok(RestoreReport {
        snapshot: opts.snapshot.clone(),
        archive_created_at: verified["createdAt"].as_str().unwrap_or_default().into(),
        state_dir: cfg.state_dir.clone(),
        previous_state,
        not_activated,
        warnings: restored["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        restic_ms,
        verify_ms,
        extract_ms,
        swap_ms,
    })
}

fn verify_failed(opts: &RestoreOptions, e: Error) -> Error {
    match e {
        Error::Command { detail, .. } => Error::VerifyFailed {
            snapshot: opts.snapshot.clone(),
            message: detail,
        },
        other => other,
    }
}

/// Stops the unit unless the operator did; either way refuses while the port answers.
/// Returns whether we stopped it (and so start it again).
fn stop_gateway(cfg: &Config, opts: &RestoreOptions) -> Result<bool, Error> {
    let ours = !opts.gateway_stopped;
    if ours {
        systemctl(&["stop", &cfg.gateway_unit])?;
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], cfg.gateway_port));
    let deadline = Instant::now() + Duration::from_secs(if ours { 20 } else { 2 });
    while TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
        if Instant::now() > deadline {
            return Err(Error::GatewayRunning {
                port: cfg.gateway_port,
                unit: cfg.gateway_unit.clone(),
            });
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    Ok(ours)
}

fn systemctl(args: &[&str]) -> Result<(), Error> {
    let out = Command::new("systemctl")
        .args(args)
        .output()
        .map_err(Error::io("run systemctl (fix: on a host without systemd, stop the gateway yourself and pass --gateway-stopped)"))?;
    if !out.status.success() {
        return Err(Error::Command {
            what: format!("systemctl {}", args.join(" ")),
            status: out.status.to_string(),
            detail: tail(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    Ok(())
}

/// `<state>` becomes `<state>.pre-restore` (an older one moves to `.pre-restore.<time>`) and
/// the restored tree becomes `<state>`. The restored tree first moves next to the state (same
/// filesystem), so the final step is one rename; if it fails the previous state goes back.
fn swap(cfg: &Config, restored: &Path, ids: Ids) -> Result<Option<PathBuf>, Error> {
    use std::os::unix::fs::PermissionsExt;
    let state = &cfg.state_dir;
    let sibling = |suffix: &str| {
        let mut s = state.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let incoming = sibling(".restoring");
    drop(std::fs::remove_dir_all(&incoming));
    move_tree(restored, &incoming)?;
    std::fs::set_permissions(&incoming, std::fs::Permissions::from_mode(0o700))
        .map_err(Error::io(format!("chmod {}", incoming.display())))?;
    if user::is_root() {
        user::chown(&incoming, ids)?;
    }

    let pre = sibling(".pre-restore");
    let previous = if std::fs::symlink_metadata(state).is_ok() {
        if std::fs::symlink_metadata(&pre).is_ok() {
            let older = sibling(&format!(".pre-restore.{}", unix_now()));
            std::fs::rename(&pre, &older)
                .map_err(Error::io(format!("move {} aside", pre.display())))?;
        }
        std::fs::rename(state, &pre).map_err(Error::io(format!(
            "move {} to {}",
            state.display(),
            pre.display()
        )))?;
        Some(pre)
    } else {
        None
    };
    if let Err(e) = std::fs::rename(&incoming, state) {
        if let Some(p) = &previous {
            drop(std::fs::rename(p, state));
        }
        return Err(Error::io(format!(
            "move the restored state to {} (the previous state is back)",
            state.display()
        ))(e));
    }
    Ok(previous)
}

/// rename, or `cp -a` then remove when the stage is on another filesystem.
fn move_tree(from: &Path, to: &Path) -> Result<(), Error> {
    match std::fs::rename(from, to) {
        Ok(()) => return Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {}
        Err(e) => {
            return Err(Error::io(format!(
                "move {} to {}",
                from.display(),
                to.display()
            ))(e))
        }
    }
    let out = Command::new("cp")
        .arg("-a")
        .arg("--")
        .arg(from)
        .arg(to)
        .output()
        .map_err(Error::io("run cp"))?;
    if !out.status.success() {
        drop(std::fs::remove_dir_all(to));
        return Err(Error::Command {
            what: format!("cp -a {} {}", from.display(), to.display()),
            status: out.status.to_string(),
            detail: tail(&String::from_utf8_lossy(&out.stderr)),
        });
    }
    Ok(())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
