//! OpenClaw's own judgement of a rendered config: `openclaw security audit --deep --json`.
//!
//! The audit knows the gateway's risky combinations better than our rules, and it changes with
//! every OpenClaw version, so it is the cheapest independent check of the renderer. It needs
//! the config at `OPENCLAW_CONFIG_PATH`, a state directory and resolvable SecretRefs;
//! [`stage`] lays a rendered `openclaw.json` out that way in a scratch directory, with the
//! modes the manifest gives and random placeholder secrets (never real ones), and
//! [`command`] runs the audit on it. Never with `--fix`: that would write behind the
//! generator.
//!
//! Every finding is either fixed in the renderer or listed, with its reason, in
//! `audit-allowlist.toml` beside this crate's manifest ([`Allowlist::embedded`]).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;
use serde_json::Value;

use crate::Artifact;

/// The committed allowlist: every finding the renderer leaves on purpose, with the reason.
pub const ALLOWLIST_TOML: &str = include_str!("../audit-allowlist.toml");

/// One finding of `openclaw security audit --json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub check_id: String,
    /// `info`, `warn` or `critical`.
    pub severity: String,
    pub title: String,
    pub detail: String,
}

/// The parsed audit output.
#[derive(Debug, Clone)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// `deep.gateway` of the output: whether the live probe reached a gateway.
    pub deep_gateway: Value,
    pub raw: Value,
}

impl Report {
    /// Parses the audit's stdout (it may print log lines before the JSON object).
    pub fn parse(stdout: &str) -> Result<Report, String> {
        let start = stdout
            .find("\n{")
            .map(|i| i + 1)
            .or_else(|| stdout.starts_with('{').then_some(0))
            .ok_or_else(|| "the audit printed no JSON object".to_string())?;
        let raw: Value = serde_json::from_str(stdout[start..].trim())
            .map_err(|e| format!("the audit's JSON does not parse: {e}"))?;
        let findings = raw["findings"]
            .as_array()
            .ok_or_else(|| "the audit's JSON has no findings array".to_string())?
            .iter()
            .map(|f| Finding {
                check_id: f["checkId"].as_str().unwrap_or("?").to_string(),
                severity: f["severity"].as_str().unwrap_or("?").to_string(),
                title: f["title"].as_str().unwrap_or("").to_string(),
                detail: f["detail"].as_str().unwrap_or("").to_string(),
            })
            .collect();
        Ok(Report {
            findings,
            deep_gateway: raw["deep"]["gateway"].clone(),
            raw,
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowed {
    /// The finding's `checkId`.
    pub check: String,
    /// Spec names (file stem: `lxc-homelab`) it is allowed for; `"*"` for every spec.
    pub specs: Vec<String>,
    /// Only in this mode: `render` (a rendered config, no gateway running) or `live` (the
    /// running gateway's config and state); both when absent.
    #[serde(default)]
    pub mode: Option<String>,
    /// Why it stays.
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allowlist {
    pub allow: Vec<Allowed>,
}

impl Allowlist {
    pub fn embedded() -> Allowlist {
        Allowlist::parse(ALLOWLIST_TOML).expect("the committed allowlist parses")
    }

    pub fn parse(text: &str) -> Result<Allowlist, String> {
        let list: Allowlist = toml::from_str(text).map_err(|e| e.to_string())?;
        for a in &list.allow {
            if a.reason.trim().is_empty() {
                return Err(format!("allowlist entry {}: reason is empty", a.check));
            }
            if let Some(m) = &a.mode {
                if m != "render" && m != "live" {
                    return Err(format!(
                        "allowlist entry {}: mode must be render or live",
                        a.check
                    ));
                }
            }
        }
        Ok(list)
    }

    /// The entry that allows `check` for spec `spec` in `mode`, if any.
    pub fn find(&self, spec: &str, mode: &str, check: &str) -> Option<&Allowed> {
        self.allow.iter().find(|a| {
            a.check == check
                && a.specs.iter().any(|s| s == "*" || s == spec)
                && a.mode.as_deref().map_or(true, |m| m == mode)
        })
    }
}

/// A rendered config laid out for the audit in a scratch directory.
#[derive(Debug)]
pub struct Staged {
    pub config: PathBuf,
    pub state_dir: PathBuf,
    pub home: PathBuf,
    /// Placeholder values for env-delivered secrets (`name`, value).
    pub env: Vec<(String, String)>,
}

fn placeholder() -> String {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("read /dev/urandom");
    format!("placeholder-{}", hex::encode(b))
}

fn private_dir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("{}: {e}", p.display()))?;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("{}: {e}", p.display()))
}

/// Lays `openclaw.json` of `artifacts` out under `dir` the way a deployment has it: the config
/// with its manifest mode, a 0700 state directory, and every secret the config refers to as a
/// random placeholder (files 0600, owned by the running user; env secrets in [`Staged::env`]).
/// Paths that point into the deployment (secret files, the log file, plugin load paths) are
/// moved under `dir`; nothing else in the config changes.
pub fn stage(artifacts: &[Artifact], dir: &Path) -> Result<Staged, String> {
    let art = artifacts
        .iter()
        .find(|a| a.path == "openclaw.json")
        .ok_or("no openclaw.json artifact")?;
    let mut cfg: Value = serde_json::from_str(&art.content).map_err(|e| e.to_string())?;
    let secrets = dir.join("secrets");
    private_dir(&secrets)?;
    let mut env = Vec::new();
    if let Some(providers) = cfg
        .pointer_mut("/secrets/providers")
        .and_then(Value::as_object_mut)
    {
        for (name, p) in providers.iter_mut() {
            match p["source"].as_str() {
                Some("file") => {
                    let f = secrets.join(name);
                    std::fs::write(&f, placeholder()).map_err(|e| e.to_string())?;
                    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600))
                        .map_err(|e| e.to_string())?;
                    p["path"] = Value::String(f.display().to_string());
                }
                Some("env") => {
                    for var in p["allowlist"].as_array().into_iter().flatten() {
                        if let Some(v) = var.as_str() {
                            env.push((v.to_string(), placeholder()));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let logs = dir.join("logs");
    private_dir(&logs)?;
    if cfg["logging"].is_object() {
        cfg["logging"]["file"] = Value::String(logs.join("openclaw.log").display().to_string());
    }
    if let Some(paths) = cfg
        .pointer_mut("/plugins/load/paths")
        .and_then(Value::as_array_mut)
    {
        for (i, p) in paths.iter_mut().enumerate() {
            let d = dir.join(format!("plugins-{i}"));
            private_dir(&d)?;
            *p = Value::String(d.display().to_string());
        }
    }
    let state_dir = dir.join("state");
    let home = dir.join("home");
    private_dir(&state_dir)?;
    private_dir(&home)?;
    let config = dir.join("openclaw.json");
    std::fs::write(&config, serde_json::to_vec_pretty(&cfg).unwrap()).map_err(|e| e.to_string())?;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(art.mode))
        .map_err(|e| e.to_string())?;
    Ok(Staged {
        config,
        state_dir,
        home,
        env,
    })
}

/// `openclaw security audit --deep --json` on `staged`, with a clean environment but `PATH`
/// (`path` first: where Node 24 is). npm is told to stay offline: the audit otherwise tries
/// to install configured plugins it does not find.
pub fn command(openclaw: &Path, path: &str, staged: &Staged) -> Command {
    let mut c = Command::new(openclaw);
    c.args(["security", "audit", "--deep", "--json"])
        .env_clear()
        .env("PATH", path)
        .env("HOME", &staged.home)
        .env("OPENCLAW_STATE_DIR", &staged.state_dir)
        .env("OPENCLAW_CONFIG_PATH", &staged.config)
        .env("npm_config_offline", "true")
        .env("NO_COLOR", "1");
    for (k, v) in &staged.env {
        c.env(k, v);
    }
    c
}

/// Findings no allowlist entry covers for `spec` in `mode`.
pub fn unallowed<'a>(
    report: &'a Report,
    list: &Allowlist,
    spec: &str,
    mode: &str,
) -> Vec<&'a Finding> {
    report
        .findings
        .iter()
        .filter(|f| list.find(spec, mode, &f.check_id).is_none())
        .collect()
}

/// The findings as a plain table: severity, checkId, verdict (allowed or not) and title.
pub fn table(report: &Report, list: &Allowlist, spec: &str, mode: &str) -> String {
    let w = report
        .findings
        .iter()
        .map(|f| f.check_id.len())
        .max()
        .unwrap_or(8)
        .max(8);
    let mut out = format!(
        "{:<8}  {:<w$}  {:<9}  title\n",
        "severity", "checkId", "verdict"
    );
    for f in &report.findings {
        let verdict = if list.find(spec, mode, &f.check_id).is_some() {
            "allowed"
        } else {
            "NOT ALLOWED"
        };
        out.push_str(&format!(
            "{:<8}  {:<w$}  {:<9}  {}\n",
            f.severity,
            f.check_id,
            verdict,
            crate::error::printable_lines(&f.title, 200)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_allowlist_parses_and_gives_reasons() {
        let list = Allowlist::embedded();
        assert!(!list.allow.is_empty());
        assert!(list
            .find("any-spec", "render", "summary.attack_surface")
            .is_some());
        assert!(list
            .find("any-spec", "render", "gateway.bind_no_auth")
            .is_none());
    }

    #[test]
    fn the_audit_output_parses_after_log_lines() {
        let out = "[plugins] something\n{\"findings\":[{\"checkId\":\"a.b\",\"severity\":\"warn\",\"title\":\"t\",\"detail\":\"d\"}],\"deep\":{\"gateway\":{\"ok\":false}}}\n";
        let r = Report::parse(out).unwrap();
        assert_eq!(r.findings[0].check_id, "a.b");
        assert_eq!(r.deep_gateway["ok"], false);
        assert!(Report::parse("no json here").is_err());
    }
}
