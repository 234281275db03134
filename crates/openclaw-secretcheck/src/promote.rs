//! `promote`: validate a staged set, then install it over the live files.
//!
//! The agent renders into a staging directory; promote checks the whole staged set with every
//! rule (owner: the agent's own user), and only if all of it passes copies each file into its
//! live path: a temp file in the live directory (0600, chowned to the gateway user, fsynced)
//! renamed over the old one, then the directory fsynced. Unchanged files are left alone, and
//! the on-change command runs only when something changed. A rejected set leaves every live
//! file untouched.
//!
//! The on-change command is normally `openclaw secrets reload` (re-resolve the file
//! SecretRefs, swap the runtime snapshot atomically: no downtime), with a `--fallback`
//! (`systemctl try-restart`) for whatever the reload cannot do: it failed or could not run
//! (gateway down or wedged, the CLI missing in a container deployment), or a changed file
//! is only read at process start (`--fallback-if-changed`, the env file). The reload must
//! authenticate with the credential the running gateway still holds, the one just replaced,
//! so `--on-change-env VAR=PATH` hands the command PATH's content from *before* this
//! promotion in its environment (never argv, never another file). When there is no previous
//! credential (the first render at boot) the fallback runs directly: nothing running holds
//! one, and a reload attempt would only delay the fallback while the gateway starts. Staged files are copied, not moved, so the agent
//! sees its own rendering still in place and does not re-render (and re-promote) every
//! refresh interval.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::check::{check, check_with_contents, Options};
use crate::fsrules::{self, Owner, Rules};
use crate::report::{exit, Report};
use crate::target::Target;

#[derive(Debug)]
pub struct PromoteOutcome {
    /// Findings about the staged set (empty when it passed).
    pub staged: Report,
    /// Findings about the live set after installing (empty when it passed).
    pub live: Option<Report>,
    pub changed: Vec<String>,
    pub unchanged: Vec<String>,
    pub discarded: bool,
    /// What ran after the change, in order (`on-change ok`, `on-change failed: ...`,
    /// `fallback ok`, ...). Commands and exit statuses only.
    pub actions: Vec<String>,
    pub exit_code: i32,
    pub error: Option<String>,
}

pub struct PromoteArgs<'a> {
    pub targets: &'a [Target],
    pub staged_dir: &'a Path,
    pub live_rules: Rules,
    pub discard_rejected: bool,
    pub on_change: &'a [String],
    /// `(VAR, live path)`: the on-change command gets VAR = the file's content before this
    /// promotion (one trailing newline stripped, like OpenClaw's singleValue provider).
    pub on_change_env: &'a [(String, PathBuf)],
    /// Runs when the on-change command fails, or instead of it when a file listed in
    /// `fallback_if_changed` changed.
    pub fallback: &'a [String],
    pub fallback_if_changed: &'a [PathBuf],
}

pub fn promote(a: PromoteArgs<'_>) -> PromoteOutcome {
    let staged_targets: Vec<Target> = a
        .targets
        .iter()
        .map(|t| Target {
            path: a.staged_dir.join(t.file_name()).display().to_string(),
            kind: t.kind.clone(),
        })
        .collect();
    // Staged files belong to whoever runs the agent (and this command), not to the gateway.
    let staged_rules = Rules {
        owner: fsrules::current_owner(),
        ..a.live_rules.clone()
    };
    let (staged, contents) = check_with_contents(
        &staged_targets,
        &Options {
            rules: staged_rules,
        },
    );
    let mut out = PromoteOutcome {
        exit_code: staged.exit_code(),
        staged,
        live: None,
        changed: Vec::new(),
        unchanged: Vec::new(),
        discarded: false,
        actions: Vec::new(),
        error: None,
    };
    if !out.staged.ok() {
        if a.discard_rejected {
            // The agent re-renders missing files on its next retry, and runs promote again.
            for t in &staged_targets {
                let _ = fs::remove_file(&t.path);
            }
            out.discarded = true;
        }
        return out;
    }
    // The credentials the running service still accepts, read before anything is replaced.
    let previous: Vec<(String, String)> = a
        .on_change_env
        .iter()
        .filter_map(|(var, path)| {
            let v = fs::read_to_string(path).ok()?;
            let v = v.strip_suffix('\n').unwrap_or(&v).to_string();
            (!v.is_empty()).then(|| (var.clone(), v))
        })
        .collect();
    for (t, bytes) in a.targets.iter().zip(contents) {
        let bytes = bytes.expect("a passing file was read");
        match install(Path::new(&t.path), &bytes, a.live_rules.owner) {
            Ok(true) => out.changed.push(t.path.clone()),
            Ok(false) => out.unchanged.push(t.path.clone()),
            Err(e) => {
                out.error = Some(format!("installing {}: {e}", t.path));
                out.exit_code = exit::INTERNAL;
                return out;
            }
        }
    }
    let live = check(
        a.targets,
        &Options {
            rules: a.live_rules.clone(),
        },
    );
    out.exit_code = live.exit_code();
    let live_ok = live.ok();
    out.live = Some(live);
    if !live_ok || out.changed.is_empty() {
        return out;
    }
    let needs_fallback = !a.fallback.is_empty()
        && out
            .changed
            .iter()
            .any(|c| a.fallback_if_changed.iter().any(|f| Path::new(c) == f));
    // A credential file that did not exist before (the first render, at boot): nothing is
    // running that could hold it, and the on-change command could not authenticate anyway.
    let no_previous = !a.fallback.is_empty() && previous.len() < a.on_change_env.len();
    let mut failure = None;
    if needs_fallback {
        out.actions
            .push("on-change skipped: a changed file is only read at process start".into());
    } else if no_previous {
        out.actions
            .push("on-change skipped: no previous credential to present (first render)".into());
    } else if !a.on_change.is_empty() {
        match run(a.on_change, &previous) {
            Ok(()) => {
                out.actions.push("on-change ok".into());
                return out;
            }
            Err(e) => {
                out.actions.push(format!("on-change failed: {e}"));
                failure = Some(format!("on-change command {:?} {e}", a.on_change[0]));
            }
        }
    }
    if a.fallback.is_empty() {
        if let Some(f) = failure {
            out.error = Some(f);
            out.exit_code = exit::ON_CHANGE_FAILED;
        }
        return out;
    }
    // The fallback never sees the previous credentials: it does not need them.
    match run(a.fallback, &[]) {
        Ok(()) => {
            out.actions.push("fallback ok".into());
            if let Some(f) = failure {
                // The new secrets are live either way; say why the slow path was taken.
                eprintln!(
                    "openclaw-secretcheck: {f}; the fallback {:?} succeeded",
                    a.fallback[0]
                );
            }
        }
        Err(e) => {
            out.actions.push(format!("fallback failed: {e}"));
            let f = format!("fallback command {:?} {e}", a.fallback[0]);
            out.error = Some(match failure {
                Some(first) => format!("{first}; {f}"),
                None => f,
            });
            out.exit_code = exit::ON_CHANGE_FAILED;
        }
    }
    out
}

/// Runs `argv` with `env` added to this process's environment; Err describes the failure.
fn run(argv: &[String], env: &[(String, String)]) -> Result<(), String> {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..]);
    for (k, v) in env {
        c.env(k, v);
    }
    match c.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("exited with {s}")),
        Err(e) => Err(format!("could not run: {e}")),
    }
}

/// Installs `bytes` at `live` atomically; false when the live file already had exactly this
/// content, owner and mode.
fn install(live: &Path, bytes: &[u8], owner: Owner) -> std::io::Result<bool> {
    if let Ok(md) = fs::symlink_metadata(live) {
        let same_meta = md.file_type().is_file()
            && md.uid() == owner.uid
            && md.mode() & 0o7777 == 0o600
            && md.nlink() == 1;
        if same_meta && fs::read(live).is_ok_and(|old| old == bytes) {
            return Ok(false);
        }
    }
    let dir = live.parent().unwrap_or(Path::new("/"));
    let name = live
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("secret");
    let tmp: PathBuf = dir.join(format!(".{name}.promote-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let result = (|| {
        let mut f = File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        std::os::unix::fs::fchown(&f, Some(owner.uid), owner.gid)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, live)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map(|_| true)
}
