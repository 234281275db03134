//! restic 0.14, with the repository and the password file in its environment (never argv).

use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::openclaw::tail;
use crate::{Config, Error, ARCHIVE_NAME, TAG};

pub struct Restic<'a> {
    cfg: &'a Config,
}

/// What one `restic backup` added.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Backup {
    pub snapshot_id: String,
    pub bytes: u64,
    pub data_added: u64,
}

impl<'a> Restic<'a> {
    pub fn new(cfg: &'a Config) -> Self {
        Restic { cfg }
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.cfg.restic_bin);
        // Backend credentials (for sftp/rest/s3 repositories) may come from the unit's
        // environment; a password may come only from the file.
        c.env_remove("RESTIC_PASSWORD")
            .env_remove("RESTIC_PASSWORD_COMMAND")
            .env("RESTIC_REPOSITORY", &self.cfg.repository)
            .env("RESTIC_PASSWORD_FILE", &self.cfg.password_file)
            .env("RESTIC_CACHE_DIR", self.cfg.cache_dir())
            .env("HOME", &self.cfg.work_dir)
            .stdin(Stdio::null());
        c
    }

    fn output(&self, what: &str, c: &mut Command) -> Result<String, Error> {
        let out = c
            .output()
            .map_err(Error::io(format!("run {}", self.cfg.restic_bin.display())))?;
        if !out.status.success() {
            return Err(Error::Command {
                what: format!("restic {what}"),
                status: out.status.to_string(),
                detail: tail(&String::from_utf8_lossy(&out.stderr)),
            });
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Whether the repository exists: its `config` file for a local one, `cat config`
    /// for a backend URL.
    pub fn exists(&self) -> bool {
        let repo = Path::new(&self.cfg.repository);
        if repo.is_absolute() {
            return repo.join("config").is_file();
        }
        self.output("cat config", self.command().args(["cat", "config"]))
            .is_ok()
    }

    pub fn init(&self) -> Result<(), Error> {
        self.output("init", self.command().arg("init")).map(drop)
    }

    /// The archive as the snapshot's only file, `/openclaw-backup.tar.gz`.
    pub fn backup(&self, archive: &Path) -> Result<Backup, Error> {
        let f = File::open(archive).map_err(Error::io(format!("open {}", archive.display())))?;
        let out = self.output(
            "backup",
            self.command()
                .args([
                    "backup",
                    "--json",
                    "--stdin",
                    "--stdin-filename",
                    ARCHIVE_NAME,
                ])
                .args(["--host", &self.cfg.name, "--tag", TAG])
                .stdin(f),
        )?;
        let summary = out
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["message_type"] == "summary")
            .ok_or_else(|| Error::Command {
                what: "restic backup".into(),
                status: "exit status: 0".into(),
                detail: format!("no summary in its output: {}", tail(&out)),
            })?;
        Ok(Backup {
            snapshot_id: summary["snapshot_id"].as_str().unwrap_or_default().into(),
            bytes: summary["total_bytes_processed"].as_u64().unwrap_or(0),
            data_added: summary["data_added"].as_u64().unwrap_or(0),
        })
    }

    pub fn forget(&self) -> Result<String, Error> {
        let k = self.cfg.keep;
        self.output(
            "forget --prune",
            self.command()
                .args(["forget", "--prune", "--host", &self.cfg.name, "--tag", TAG])
                .args(["--keep-daily", &k.daily.to_string()])
                .args(["--keep-weekly", &k.weekly.to_string()])
                .args(["--keep-monthly", &k.monthly.to_string()]),
        )
    }

    pub fn check(&self) -> Result<String, Error> {
        self.output(
            "check",
            self.command()
                .args(["check", "--read-data-subset", &self.cfg.verify_subset]),
        )
    }

    /// This deployment's snapshots, oldest first (restic's JSON).
    pub fn snapshots(&self) -> Result<Vec<Value>, Error> {
        let out = self.output(
            "snapshots",
            self.command().args([
                "snapshots",
                "--json",
                "--host",
                &self.cfg.name,
                "--tag",
                TAG,
            ]),
        )?;
        serde_json::from_str::<Vec<Value>>(out.trim()).map_err(|e| Error::Command {
            what: "restic snapshots".into(),
            status: "exit status: 0".into(),
            detail: e.to_string(),
        })
    }

    /// Restores `snapshot` (an id or `latest`, of this host and tag) into `target`.
    pub fn restore(&self, snapshot: &str, target: &Path) -> Result<(), Error> {
        self.output(
            "restore",
            self.command()
                .args(["restore", snapshot, "--host", &self.cfg.name, "--tag", TAG])
                .arg("--target")
                .arg(target),
        )
        .map(drop)
    }
}
