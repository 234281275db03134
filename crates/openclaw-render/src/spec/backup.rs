//! `[backup]`: encrypted backups of the gateway's state (absent: no backups).
//!
//! OpenClaw 2026.9.6's own `openclaw backup create` makes the archive (config, credentials,
//! sessions and agent databases through SQLite's backup API, workspaces), `openclaw backup
//! verify` checks it, and restic keeps it encrypted with retention; `openclaw-backup` (its own
//! crate) runs those steps and the verify-first restore. The restic password is a secret item
//! like the others, rendered by the OpenBao agent; the secrets directory is never in the
//! backup (the secrets come back from OpenBao).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Backup {
    /// restic repository: an absolute path (outside the state directory) or a restic backend
    /// URL (`sftp:host:/path`, `rest:https://host/repo`, `s3:...`) without credentials in it.
    pub repository: String,
    /// Name of the secret item (in `secrets.items`, delivered as a file) holding the
    /// repository password.
    pub password: String,
    /// When the backup runs (systemd `OnCalendar=`).
    #[serde(default = "defaults::schedule")]
    pub schedule: String,
    /// When the repository check runs (systemd `OnCalendar=`).
    #[serde(default = "defaults::verify_schedule")]
    pub verify_schedule: String,
    /// How much of the repository's data each check reads back (`restic check
    /// --read-data-subset`): `5%`, `1/10` or a size such as `500M`.
    #[serde(default = "defaults::verify_subset")]
    pub verify_subset: String,
    #[serde(default)]
    pub keep: Keep,
    /// Include agent workspaces (files the agents wrote).
    #[serde(default = "defaults::yes")]
    pub include_workspace: bool,
    /// Create the repository on the first run when it does not exist.
    #[serde(default = "defaults::yes")]
    pub initialize: bool,
    /// Root-only working directory (archive staging, restic's cache, restore stages). Keep
    /// it on the state directory's filesystem so a restore's swap is a rename.
    #[serde(default)]
    pub work_dir: Option<String>,
    #[serde(default = "defaults::bin")]
    pub bin: String,
    #[serde(default = "defaults::restic_bin")]
    pub restic_bin: String,
    /// Where the rendered `backup.json` is installed.
    #[serde(default = "defaults::config")]
    pub config: String,
}

/// Snapshots `restic forget --prune` keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Keep {
    #[serde(default = "defaults::daily")]
    pub daily: u32,
    #[serde(default = "defaults::weekly")]
    pub weekly: u32,
    #[serde(default = "defaults::monthly")]
    pub monthly: u32,
}

impl Default for Keep {
    fn default() -> Self {
        Keep {
            daily: defaults::daily(),
            weekly: defaults::weekly(),
            monthly: defaults::monthly(),
        }
    }
}

impl Backup {
    /// A local repository's path (None for a backend URL).
    pub fn local_repository(&self) -> Option<&str> {
        self.repository
            .starts_with('/')
            .then_some(self.repository.as_str())
    }
}

pub mod defaults {
    pub fn schedule() -> String {
        "*-*-* 03:15:00".into()
    }
    pub fn verify_schedule() -> String {
        "Sun *-*-* 04:30:00".into()
    }
    pub fn verify_subset() -> String {
        "5%".into()
    }
    pub fn yes() -> bool {
        true
    }
    pub fn daily() -> u32 {
        7
    }
    pub fn weekly() -> u32 {
        4
    }
    pub fn monthly() -> u32 {
        6
    }
    pub fn bin() -> String {
        "/usr/bin/openclaw-backup".into()
    }
    pub fn restic_bin() -> String {
        "/usr/bin/restic".into()
    }
    pub fn config() -> String {
        "/etc/openclaw/backup.json".into()
    }
}

impl super::Spec {
    /// `backup.work_dir`, or `/var/lib/<name>-backup`.
    pub fn backup_work_dir(&self) -> Option<String> {
        let b = self.backup.as_ref()?;
        Some(
            b.work_dir
                .clone()
                .unwrap_or_else(|| format!("/var/lib/{}-backup", self.name)),
        )
    }

    pub fn backup_unit(&self) -> String {
        format!("{}-backup", self.name)
    }

    pub fn backup_check_unit(&self) -> String {
        format!("{}-backup-check", self.name)
    }
}
