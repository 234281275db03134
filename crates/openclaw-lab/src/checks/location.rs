//! Where a host check is running, and whether it may run there.
//!
//! The checks probe the lab's addresses (the LAN and "internet" canaries, the metadata
//! address). Those exist only inside the lab's network namespaces or a NixOS test VM's own
//! network; run from this machine's root namespace the same probes would leave through its
//! real interface. So a check runs only:
//! - inside a lab host's network namespace (`--host NAME` gets there: `olab-NAME`),
//! - inside the gateway container's namespace entered by `--from-container`,
//! - or in a NixOS test VM, said explicitly with `--vm` (refused on a machine with lab
//!   namespaces, where the root namespace is the real one).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::{bail, Result};

use crate::topology::PREFIX;

/// Set by `check egress --from-container` for the run it starts inside the container.
pub const IN_CONTAINER_ENV: &str = "OPENCLAW_LAB_IN_CONTAINER";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    LabHost(String),
    LabContainer(String),
    Vm,
}

fn ns_id(p: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()))
}

/// The lab namespace this process's network namespace is, if any.
fn lab_namespace() -> Option<String> {
    let me = ns_id(Path::new("/proc/self/ns/net"))?;
    std::fs::read_dir("/run/netns")
        .ok()?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(PREFIX))
        .find(|n| ns_id(&Path::new("/run/netns").join(n)) == Some(me))
}

fn in_root_namespace() -> bool {
    ns_id(Path::new("/proc/self/ns/net")) == ns_id(Path::new("/proc/1/ns/net"))
}

/// Where this check is; an error saying where to run it when that is nowhere it may run.
pub fn ensure(which: &str, vm: bool) -> Result<Location> {
    if let Some(ns) = lab_namespace() {
        return Ok(Location::LabHost(ns));
    }
    if !in_root_namespace() {
        if let Some(c) = std::env::var_os(IN_CONTAINER_ENV) {
            return Ok(Location::LabContainer(c.to_string_lossy().into_owned()));
        }
    }
    let lab_up = !crate::netns::existing().is_empty();
    if vm && in_root_namespace() && !lab_up {
        return Ok(Location::Vm);
    }
    let why = if vm && lab_up {
        "this machine runs the lab, so its root namespace is not a test VM"
    } else {
        "its probes target the lab's addresses, which from here would leave through this machine's real network"
    };
    bail!(
        "`check {which}` refuses to run here: {why}. Run it on a lab host: `openclaw-lab check {which} --host gateway` \
         (the gateway host, olab-gateway; `bash scripts/lab.sh check {which}` does the same), or inside a NixOS test VM with `--vm`"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Run from this machine's root namespace (as `cargo test` is), a check refuses and says
    /// where to run it; `--vm` is no way around that while lab namespaces exist.
    #[test]
    fn the_root_namespace_is_refused_with_where_to_run() {
        if !in_root_namespace() {
            return; // inside a namespace already: nothing to refuse here
        }
        let e = ensure("egress", false).unwrap_err().to_string();
        assert!(e.contains("--host gateway") && e.contains("--vm"), "{e}");
        if !crate::netns::existing().is_empty() {
            let e = ensure("egress", true).unwrap_err().to_string();
            assert!(e.contains("not a test VM"), "{e}");
        }
    }
}
