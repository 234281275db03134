//! One run or restore at a time per work directory (a timer firing during a restore would
//! otherwise back up a half-swapped state).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::Path;

use crate::Error;

pub struct Lock(#[allow(dead_code)] File);

pub fn take(work_dir: &Path) -> Result<Lock, Error> {
    let path = work_dir.join(".lock");
    let f = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io(format!("open {}", path.display())))?;
    // SAFETY: flock on a descriptor we own; released when the file closes.
    if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        return Err(Error::Busy(path));
    }
    Ok(Lock(f))
}
