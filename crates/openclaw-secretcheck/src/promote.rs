//! `promote`: validate a staged set, then install it over the live files.
//!
//! The agent renders into a staging directory; promote checks the whole staged set with every
//! rule (owner: the agent's own user), and only if all of it passes copies each file into its
//! live path: a temp file in the live directory (0600, chowned to the gateway user, fsynced)
//! renamed over the old one, then the directory fsynced. Unchanged files are left alone, and
//! the on-change command (the gateway restart) runs only when something changed. A rejected
//! set leaves every live file untouched. Staged files are copied, not moved, so the agent
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
    pub exit_code: i32,
    pub error: Option<String>,
}

pub struct PromoteArgs<'a> {
    pub targets: &'a [Target],
    pub staged_dir: &'a Path,
    pub live_rules: Rules,
    pub discard_rejected: bool,
    pub on_change: &'a [String],
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
    if live_ok && !out.changed.is_empty() && !a.on_change.is_empty() {
        match Command::new(&a.on_change[0])
            .args(&a.on_change[1..])
            .status()
        {
            Ok(s) if s.success() => {}
            Ok(s) => {
                out.error = Some(format!(
                    "on-change command {:?} exited with {s}",
                    a.on_change[0]
                ));
                out.exit_code = exit::ON_CHANGE_FAILED;
            }
            Err(e) => {
                out.error = Some(format!(
                    "on-change command {:?} could not run: {e}",
                    a.on_change[0]
                ));
                out.exit_code = exit::ON_CHANGE_FAILED;
            }
        }
    }
    out
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
