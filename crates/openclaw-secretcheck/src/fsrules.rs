//! File rules: the ones OpenClaw's secure file read enforces (mode 0400/0600, owned by the
//! gateway's user, not a symlink, not a hard link) plus ours (not in the world-readable Nix
//! store, parent directory not readable or writable by others, optionally fresh).

use std::ffi::CString;
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// A resolved owner: uid, plus the primary gid when it was given by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner {
    pub uid: u32,
    pub gid: Option<u32>,
}

/// `openclaw` or `1000`. Names go through NSS (getpwnam_r), so LDAP/userdb users work.
pub fn resolve_owner(name: &str) -> Result<Owner, String> {
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()) {
        let uid = name
            .parse()
            .map_err(|_| format!("uid '{name}' is out of range"))?;
        return Ok(Owner { uid, gid: None });
    }
    let cname = CString::new(name).map_err(|_| format!("'{name}' is not a user name"))?;
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16384];
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: all pointers are valid for the call; buf outlives the use of pwd's fields.
    let rc = unsafe {
        libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if rc != 0 || result.is_null() {
        return Err(format!("user '{name}' does not exist on this host"));
    }
    Ok(Owner {
        uid: pwd.pw_uid,
        gid: Some(pwd.pw_gid),
    })
}

pub fn current_owner() -> Owner {
    // SAFETY: geteuid/getegid cannot fail.
    unsafe {
        Owner {
            uid: libc::geteuid(),
            gid: Some(libc::getegid()),
        }
    }
}

/// What the rules require of a file.
#[derive(Debug, Clone)]
pub struct Rules {
    pub owner: Owner,
    /// Paths under these prefixes are refused (the Nix store is world-readable).
    pub forbidden_prefixes: Vec<String>,
    pub max_age: Option<std::time::Duration>,
}

/// Problems with a file's own metadata (from lstat: a symlink is judged, never followed).
pub fn file_problems(md: &Metadata, rules: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    let ft = md.file_type();
    if ft.is_symlink() {
        out.push(
            "is a symlink; OpenClaw refuses symlinked secret files, render a regular file".into(),
        );
        return out;
    }
    if !ft.is_file() {
        out.push("is not a regular file".into());
        return out;
    }
    let mode = md.permissions().mode() & 0o7777;
    if mode != 0o600 && mode != 0o400 {
        out.push(format!(
            "has mode {mode:04o}; OpenClaw accepts only 0600 or 0400 (chmod 0600)"
        ));
    }
    if md.uid() != rules.owner.uid {
        out.push(format!(
            "is owned by uid {}, not the gateway's uid {}; chown it to the gateway's user",
            md.uid(),
            rules.owner.uid
        ));
    }
    if md.nlink() > 1 {
        out.push(format!(
            "has {} hard links; OpenClaw refuses hard-linked secret files, render a separate file",
            md.nlink()
        ));
    }
    out
}

/// Problems with where the file lives: the resolved path must not be in a forbidden prefix
/// and its directory must not be readable or writable by others.
pub fn location_problems(path: &Path, rules: &Rules) -> Vec<String> {
    let mut out = Vec::new();
    let parent = path.parent().unwrap_or(Path::new("/"));
    let resolved = std::fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    for p in &rules.forbidden_prefixes {
        let p = p.trim_end_matches('/');
        let under = |x: &Path| x == Path::new(p) || x.starts_with(format!("{p}/"));
        if under(path) || under(&resolved) {
            out.push(format!(
                "lies under {p}, which every local user can read; render secrets to a tmpfs such as /run/secrets"
            ));
        }
    }
    match std::fs::metadata(&resolved) {
        Ok(md) => {
            // Whoever owns the directory can swap the file after this check passed.
            if md.uid() != 0 && md.uid() != rules.owner.uid {
                out.push(format!(
                    "its directory {} is owned by uid {}, who could replace the file after this check; chown it to root or the gateway's user",
                    resolved.display(),
                    md.uid()
                ));
            }
            let mode = md.permissions().mode() & 0o777;
            if mode & 0o006 != 0 {
                out.push(format!(
                    "its directory {} has mode {mode:04o}, readable or writable by every user; chmod o-rwx it",
                    resolved.display()
                ));
            }
        }
        Err(e) => out.push(format!(
            "its directory {} cannot be read: {e}",
            resolved.display()
        )),
    }
    out
}

/// Seconds since the last change, and whether that exceeds the limit.
pub fn age(md: &Metadata) -> Option<u64> {
    md.modified().ok()?.elapsed().ok().map(|d| d.as_secs())
}
