//! Shared test helpers: run the real binary, make secret files, find real components.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("{e}: {}", self.stdout))
    }
}

pub fn secretcheck(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_openclaw-secretcheck"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// A private directory (0700) like the tmpfs the agent renders into.
pub fn private_dir() -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("sc-test-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    d
}

pub fn write(path: &Path, content: &[u8], mode: u32) {
    std::fs::write(path, content).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

pub fn uid() -> u32 {
    unsafe { libc::geteuid() }
}

/// A real component: its env var from env.sh, the install cache, or PATH; otherwise fail.
pub fn component(env: &str, cache_rel: &str, name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(env) {
        if Path::new(&p).is_file() {
            return p.into();
        }
    }
    let cache = std::env::var("OPENCLAW_HOMELAB_CACHE")
        .unwrap_or_else(|_| "/var/cache/openclaw-homelab".into());
    let p = Path::new(&cache).join(cache_rel);
    if p.is_file() {
        return p;
    }
    if let Some(p) = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    }) {
        return p;
    }
    panic!("{name} not found ({env} unset): run scripts/install-components.sh");
}

/// Random-looking but deterministic tokens (no placeholder patterns).
pub fn token(seed: u64, len: usize) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            ALPHA[(x % ALPHA.len() as u64) as usize] as char
        })
        .collect()
}
