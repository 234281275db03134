//! Writes a set of artifacts to a directory atomically: everything is written into a fresh
//! sibling directory first and swapped in with renames, so a failed render (or a crash
//! half-way) leaves the previous output exactly as it was.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::error::RenderError;
use crate::render::Artifact;

fn write_err(path: &Path) -> impl FnOnce(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Replaces `out` with exactly these artifacts.
///
/// Files are created with their final mode bits, but never wider than 0644 and secrets-free by
/// construction (templates carry references, not values). Ownership is the installer's job.
pub fn write_atomically(out: &Path, artifacts: &[Artifact]) -> Result<(), RenderError> {
    // `out` is replaced by a directory: never let that swallow a file someone named by mistake.
    if let Ok(meta) = fs::symlink_metadata(out) {
        if !meta.is_dir() {
            return Err(RenderError::Write {
                path: out.display().to_string(),
                source: std::io::Error::other(
                    "exists and is not a directory; name a directory (or a new path) for --out",
                ),
            });
        }
    }
    for a in artifacts {
        crate::render::check_artifact_path(&a.path)?;
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(write_err(parent))?;
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(parent)
        .map_err(write_err(parent))?;

    for a in artifacts {
        let path = staging.path().join(&a.path);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(write_err(dir))?;
        }
        let mut f = fs::File::create(&path).map_err(write_err(&path))?;
        f.write_all(a.content.as_bytes())
            .map_err(write_err(&path))?;
        f.sync_all().map_err(write_err(&path))?;
        fs::set_permissions(&path, fs::Permissions::from_mode(a.mode & 0o755))
            .map_err(write_err(&path))?;
    }
    fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o755))
        .map_err(write_err(staging.path()))?;

    // Swap: old -> backup, staging -> out, then drop the backup. Two renames in one
    // directory; readers see either the old tree or the new one.
    let staged: PathBuf = staging.keep();
    let backup = parent.join(format!(".{name}.old-{}", std::process::id()));
    let had_old = out.exists();
    if had_old {
        fs::rename(out, &backup).map_err(write_err(out))?;
    }
    if let Err(e) = fs::rename(&staged, out) {
        if had_old {
            let _ = fs::rename(&backup, out);
        }
        let _ = fs::remove_dir_all(&staged);
        return Err(write_err(out)(e));
    }
    if had_old {
        let _ = fs::remove_dir_all(&backup);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(path: &str) -> Artifact {
        Artifact::public(path, "x".into(), "test")
    }

    #[test]
    fn artifacts_never_leave_out() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        for bad in [
            "../escape",
            "quadlet/../../escape",
            "/etc/escape",
            "a//b",
            "",
            "a/./b",
        ] {
            assert!(
                write_atomically(&out, &[artifact(bad)]).is_err(),
                "{bad:?} was written"
            );
        }
        assert!(!tmp.path().join("escape").exists());
        write_atomically(&out, &[artifact("quadlet/x.network")]).unwrap();
        assert!(out.join("quadlet/x.network").exists());
    }

    #[test]
    fn out_naming_a_file_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("precious");
        fs::write(&file, "keep me").unwrap();
        let e = write_atomically(&file, &[artifact("a")]).unwrap_err();
        assert!(e.to_string().contains("not a directory"), "{e}");
        assert_eq!(fs::read_to_string(&file).unwrap(), "keep me");
    }
}
