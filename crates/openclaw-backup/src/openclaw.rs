//! OpenClaw's own backup commands, run as the gateway's user with a clean environment.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::user::{self, Ids};
use crate::{Config, Error};

/// Where the CLI runs: the live state (create) or a scratch state (verify and restore,
/// so activating a restore never depends on, or writes into, the state it replaces).
pub struct Cli<'a> {
    cfg: &'a Config,
    ids: Ids,
    state_dir: PathBuf,
    home: PathBuf,
    config_path: PathBuf,
}

impl<'a> Cli<'a> {
    pub fn live(cfg: &'a Config, ids: Ids) -> Self {
        Cli {
            cfg,
            ids,
            state_dir: cfg.state_dir.clone(),
            home: cfg.state_dir.clone(),
            config_path: cfg.config_path.clone(),
        }
    }

    /// The live config is not used either: its `logging.file` would send the CLI's log
    /// lines into the live state (seen: a refused restore appended to `logs/openclaw.log`).
    pub fn scratch(cfg: &'a Config, ids: Ids, dir: &Path) -> Result<Self, Error> {
        let config_path = dir.join("openclaw.json");
        std::fs::write(&config_path, "{}\n")
            .map_err(Error::io(format!("write {}", config_path.display())))?;
        if user::is_root() {
            user::chown(&config_path, ids)?;
        }
        Ok(Cli {
            cfg,
            ids,
            state_dir: dir.join("state"),
            home: dir.to_path_buf(),
            config_path,
        })
    }

    fn command(&self) -> Command {
        let mut c = Command::new(&self.cfg.openclaw_bin);
        c.env_clear()
            .env("PATH", self.cfg.child_path())
            .env("HOME", &self.home)
            .env("OPENCLAW_STATE_DIR", &self.state_dir)
            .env("OPENCLAW_CONFIG_PATH", &self.config_path)
            .env("OPENCLAW_NIX_MODE", "1")
            .current_dir(&self.home);
        if user::is_root() && self.ids.uid != 0 {
            // std clears the supplementary groups when it sets the uid as root.
            c.uid(self.ids.uid).gid(self.ids.gid);
        }
        c
    }

    /// Runs `openclaw <args> --json` and returns its JSON; a failure carries OpenClaw's own
    /// error message (it prints `{"ok":false,"error":{"message":...}}`).
    pub fn json(&self, what: &str, args: &[&str]) -> Result<Value, Error> {
        let out = self
            .command()
            .args(args)
            .arg("--json")
            .output()
            .map_err(Error::io(format!(
                "run {}",
                self.cfg.openclaw_bin.display()
            )))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let json = stdout
            .find('{')
            .and_then(|i| serde_json::from_str::<Value>(&stdout[i..]).ok());
        let failed = !out.status.success()
            || json
                .as_ref()
                .and_then(|v| v.get("ok"))
                .and_then(Value::as_bool)
                == Some(false);
        if failed {
            let detail = json
                .as_ref()
                .and_then(|v| v.pointer("/error/message"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| tail(&String::from_utf8_lossy(&out.stderr)));
            return Err(Error::Command {
                what: what.into(),
                status: out.status.to_string(),
                detail,
            });
        }
        json.ok_or_else(|| Error::Command {
            what: what.into(),
            status: out.status.to_string(),
            detail: format!("no JSON in its output: {}", tail(&stdout)),
        })
    }

    pub fn create(&self, archive: &Path, include_workspace: bool) -> Result<Value, Error> {
        let out = archive.to_string_lossy();
        let mut args = vec!["backup", "create", "--output", &out];
        if !include_workspace {
            args.push("--no-include-workspace");
        }
        self.json("openclaw backup create", &args)
    }

    pub fn verify(&self, archive: &Path) -> Result<Value, Error> {
        self.json(
            "openclaw backup verify",
            &["backup", "verify", &archive.to_string_lossy()],
        )
    }

    pub fn restore(&self, archive: &Path, target: &Path) -> Result<Value, Error> {
        self.json(
            "openclaw backup restore",
            &[
                "backup",
                "restore",
                &archive.to_string_lossy(),
                "--target",
                &target.to_string_lossy(),
            ],
        )
    }
}

/// The last lines of a command's output, for an error message.
pub fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(4)..].join(" | ")
}
