//! The scheduled backup: OpenClaw's archive, verified, into restic; then retention.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use tracing::{info, warn};

use crate::openclaw::Cli;
use crate::restic::{self, Restic};
use crate::{lock, user, Config, Error, ARCHIVE_NAME};

#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub snapshot_id: String,
    /// The archive's size (what one snapshot stores before restic's own compression).
    pub archive_bytes: u64,
    /// New data the repository took for this snapshot.
    pub data_added: u64,
    pub create_ms: u128,
    pub verify_ms: u128,
    pub restic_ms: u128,
    pub forget_ms: u128,
    /// OpenClaw's count of files skipped as volatile (live logs).
    pub skipped_volatile: u64,
}

/// Removes the staged archive however the run ends: it is a plaintext copy of everything.
struct Staged(PathBuf);
impl Drop for Staged {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                warn!(path = %self.0.display(), error = %e, "could not remove the staged archive");
            }
        }
    }
}

pub fn run(cfg: &Config) -> Result<RunReport, Error> {
    user::work_dir(&cfg.work_dir)?;
    let _lock = lock::take(&cfg.work_dir)?;
    let ids = user::lookup(&cfg.service_user)?;
    let staging = cfg.staging_dir();
    user::private_dir(&staging, ids)?;
    let archive = Staged(staging.join(ARCHIVE_NAME));
    // A crashed run may have left one: OpenClaw refuses to overwrite.
    drop(std::fs::remove_file(&archive.0));

    let restic = Restic::new(cfg);
    ensure_repository(cfg, &restic)?;

    let t = Instant::now();
    let created = Cli::live(cfg, ids).create(&archive.0, cfg.include_workspace)?;
    let create_ms = t.elapsed().as_millis();
    let skipped_volatile = created["skippedVolatileCount"].as_u64().unwrap_or(0);
    info!(archive = %archive.0.display(), ms = create_ms, skipped_volatile, "openclaw backup create");

    let t = Instant::now();
    Cli::live(cfg, ids).verify(&archive.0)?;
    let verify_ms = t.elapsed().as_millis();
    info!(ms = verify_ms, "openclaw backup verify: ok");

    let t = Instant::now();
    let restic::Backup {
        snapshot_id,
        bytes,
        data_added,
    } = restic.backup(&archive.0)?;
    let restic_ms = t.elapsed().as_millis();
    info!(snapshot = %snapshot_id, bytes, data_added, ms = restic_ms, "restic backup");

    let t = Instant::now();
    restic.forget()?;
    let forget_ms = t.elapsed().as_millis();
    info!(ms = forget_ms, keep = ?cfg.keep, "restic forget --prune");

    Ok(RunReport {
        snapshot_id,
        archive_bytes: bytes,
        data_added,
        create_ms,
        verify_ms,
        restic_ms,
        forget_ms,
        skipped_volatile,
    })
}

/// `restic check --read-data-subset`: the repository's own integrity, on its own schedule.
pub fn check(cfg: &Config) -> Result<String, Error> {
    user::work_dir(&cfg.work_dir)?;
    let _lock = lock::take(&cfg.work_dir)?;
    let restic = Restic::new(cfg);
    if !restic.exists() {
        return Err(Error::NoRepository(cfg.repository.clone()));
    }
    restic.check()
}

pub fn init(cfg: &Config) -> Result<(), Error> {
    user::work_dir(&cfg.work_dir)?;
    Restic::new(cfg).init()
}

fn ensure_repository(cfg: &Config, restic: &Restic) -> Result<(), Error> {
    if restic.exists() {
        return Ok(());
    }
    if !cfg.initialize {
        return Err(Error::NoRepository(cfg.repository.clone()));
    }
    if let Some(parent) = Path::new(&cfg.repository)
        .parent()
        .filter(|_| Path::new(&cfg.repository).is_absolute())
    {
        std::fs::create_dir_all(parent)
            .map_err(Error::io(format!("create {}", parent.display())))?;
    }
    restic.init()?;
    info!(repository = %cfg.repository, "created the restic repository");
    Ok(())
}
