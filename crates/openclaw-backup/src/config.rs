//! The rendered `backup.json`: everything the tool needs, no secret (the password is a path).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Deployment name: the restic host name of its snapshots.
    pub name: String,
    pub openclaw_bin: PathBuf,
    pub restic_bin: PathBuf,
    /// The gateway's state directory (`OPENCLAW_STATE_DIR`).
    pub state_dir: PathBuf,
    /// The gateway's `openclaw.json` (`OPENCLAW_CONFIG_PATH`).
    pub config_path: PathBuf,
    /// The gateway's user: OpenClaw's CLI runs as it, so nothing in the state becomes root's.
    pub service_user: String,
    /// restic repository (path or backend URL without credentials).
    pub repository: String,
    /// File holding the repository password (rendered by the OpenBao agent).
    pub password_file: PathBuf,
    /// Root-only working directory: archive staging, restic's cache, restore stages.
    pub work_dir: PathBuf,
    pub keep: Keep,
    /// `restic check --read-data-subset` (`5%`, `1/10`, `500M`).
    pub verify_subset: String,
    pub include_workspace: bool,
    /// Create the repository on the first run when it does not exist yet.
    pub initialize: bool,
    /// The gateway's systemd unit (stopped and started around a restore).
    pub gateway_unit: String,
    /// Its port on loopback: a restore refuses to swap while it answers.
    pub gateway_port: u16,
    /// PATH for OpenClaw's CLI (a Node script); the tool's own PATH when absent.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Keep {
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| Error::ConfigParse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }

    pub fn staging_dir(&self) -> PathBuf {
        self.work_dir.join("staging")
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.work_dir.join("restic-cache")
    }

    pub fn child_path(&self) -> String {
        self.path
            .clone()
            .or_else(|| std::env::var("PATH").ok())
            .unwrap_or_else(|| "/run/current-system/sw/bin:/usr/bin:/bin".into())
    }
}
