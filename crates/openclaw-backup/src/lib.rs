//! Backups of an OpenClaw 2026.9.6 gateway's state, built on OpenClaw's own archive.
//!
//! `openclaw backup create` knows what the state is (config, credentials, sessions, agent
//! databases, workspaces), snapshots every SQLite store through SQLite's backup API inside a
//! read transaction (safe while the gateway writes) and seals a manifest; `openclaw backup
//! verify` checks it; `openclaw backup restore` verifies again and extracts into a fresh
//! directory. This crate adds what OpenClaw leaves to the operator: encryption, retention
//! and an off-site copy (restic), the repository check, and activation of a restore into
//! the live state directory with the previous state kept aside.
//!
//! The restic password only ever travels as `RESTIC_PASSWORD_FILE`: never argv, never a log.

pub mod config;
pub mod error;
pub mod lock;
pub mod openclaw;
pub mod restic;
pub mod restore;
pub mod run;
pub mod user;

pub use config::{Config, Keep};
pub use error::Error;
pub use restore::{restore, RestoreOptions, RestoreReport};
pub use run::{check, run, RunReport};

/// The one file in every snapshot: the archive `openclaw backup create` wrote.
pub const ARCHIVE_NAME: &str = "openclaw-backup.tar.gz";
/// Tag on every snapshot this tool makes; `forget` and `latest` only consider these.
pub const TAG: &str = "openclaw-homelab";
