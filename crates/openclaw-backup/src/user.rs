//! The gateway's user: its ids for the CLI's children and for ownership of staged files.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    pub uid: u32,
    pub gid: u32,
}

pub fn lookup(name: &str) -> Result<Ids, Error> {
    let c = CString::new(name).map_err(|_| Error::UnknownUser(name.into()))?;
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0u8; 16 * 1024];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwnam_r writes into our passwd and buffer only.
    let rc = unsafe {
        libc::getpwnam_r(
            c.as_ptr(),
            &mut pw,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut out,
        )
    };
    if rc != 0 || out.is_null() {
        return Err(Error::UnknownUser(name.into()));
    }
    Ok(Ids {
        uid: pw.pw_uid,
        gid: pw.pw_gid,
    })
}

/// This process's effective ids.
pub fn current() -> Ids {
    // SAFETY: no arguments, no side effects.
    unsafe {
        Ids {
            uid: libc::geteuid(),
            gid: libc::getegid(),
        }
    }
}

pub fn is_root() -> bool {
    // SAFETY: no arguments, no side effects.
    unsafe { libc::geteuid() == 0 }
}

/// chown without following a final symlink.
pub fn chown(path: &Path, ids: Ids) -> Result<(), Error> {
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::io(format!("chown {}", path.display()))(std::io::ErrorKind::InvalidInput.into())
    })?;
    // SAFETY: a valid C string; lchown touches only that path.
    if unsafe { libc::lchown(c.as_ptr(), ids.uid, ids.gid) } != 0 {
        return Err(Error::io(format!("chown {}", path.display()))(
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// A private directory (0700) owned by `ids`; created if missing.
pub fn private_dir(path: &Path, ids: Ids) -> Result<(), Error> {
    dir_with_mode(path, ids, 0o700)
}

/// The work directory: root's, traversable (0711) so the gateway's user reaches its own
/// 0700 staging directory inside without seeing anything else.
pub fn work_dir(path: &Path) -> Result<(), Error> {
    dir_with_mode(path, current(), 0o711)
}

fn dir_with_mode(path: &Path, ids: Ids, mode: u32) -> Result<(), Error> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(Error::io(format!("create {}", path.display())))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(Error::io(format!("chmod {}", path.display())))?;
    if is_root() {
        chown(path, ids)?;
    }
    Ok(())
}
