//! The gateway host in container mode: rootful Podman as the host runs it, configured only by
//! the rendered quadlet files.
//!
//! The rendered `.container` and `.network` go through the real quadlet generator (the one
//! NixOS's Podman 5.4 ships); the generated `<name>.service` and `<network>-network.service`
//! are what the lab's unit runner executes, unchanged on disk (its `podman run` adaptations for
//! the lab's Podman 4.3 are in [`crate::podman_compat`], reported per unit). The host's own
//! Podman configuration (cgroupfs and a file event log: no systemd here; its /etc/hosts as the
//! containers' base; networks kept in the lab's state) is a containers.conf the lab's units get
//! through `CONTAINERS_CONF`, the stand-in for /etc/containers/containers.conf.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::spec::Spec;
use openclaw_render::Artifact;
use serde_json::Value;

use crate::cmd::output_within;
use crate::state::{mkdir, netns_command, write_file};
use crate::topology::GATEWAY;

/// `--gateway container|native` of `up`, `test` and `bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum GatewayMode {
    /// The rootful Podman container from the rendered quadlet unit (what users deploy).
    #[default]
    Container,
    /// The rendered native systemd unit (hosts without Podman).
    Native,
}

pub fn containers_conf(state: &Path) -> PathBuf {
    state.join("podman/containers.conf")
}

/// Writes the gateway host's Podman configuration.
pub fn write_podman_config(state: &Path) -> Result<()> {
    let dir = state.join("podman");
    mkdir(&dir.join("networks"), 0o755)?;
    let conf = format!(
        "# openclaw-lab: the gateway host's Podman configuration (CONTAINERS_CONF).\n\
         [containers]\n\
         # The containers' /etc/hosts starts from the host's (the lab's names).\n\
         base_hosts_file = \"/etc/netns/{ns}/hosts\"\n\
         [engine]\n\
         runtime = \"runc\"\n\
         # systemd is not PID 1 here.\n\
         cgroup_manager = \"cgroupfs\"\n\
         events_logger = \"file\"\n\
         events_logfile_path = \"{dir}/events.log\"\n\
         [network]\n\
         network_config_dir = \"{dir}/networks\"\n",
        ns = GATEWAY.netns(),
        dir = dir.display()
    );
    write_file(&containers_conf(state), conf.as_bytes(), 0o644)
}

/// Runs the real quadlet generator over the rendered quadlet files; returns the generated
/// units as (name, text), the network's first.
pub fn quadlet_units(
    spec: &Spec,
    state: &Path,
    arts: &[Artifact],
) -> Result<Vec<(String, String)>> {
    let input = state.join("quadlet/in");
    let output = state.join("quadlet/out");
    for d in [&input, &output] {
        if d.exists() {
            std::fs::remove_dir_all(d)?;
        }
        mkdir(d, 0o755)?;
    }
    for a in arts.iter().filter(|a| a.path.starts_with("quadlet/")) {
        let name = a.path.rsplit('/').next().unwrap_or(&a.path);
        write_file(&input.join(name), a.content.as_bytes(), 0o644)?;
    }
    let quadlet = crate::components::quadlet()?;
    let mut c = std::process::Command::new(&quadlet);
    c.arg("-v").arg(&output).env("QUADLET_UNIT_DIRS", &input);
    let out = output_within(&mut c, Duration::from_secs(30))?;
    if !out.status.success() {
        bail!(
            "quadlet refused the rendered files: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut units = Vec::new();
    for name in [
        format!("{}-network.service", spec.container.network),
        spec.gateway_unit(),
    ] {
        let text = std::fs::read_to_string(output.join(&name)).with_context(|| {
            format!(
                "quadlet generated no {name} ({}): {}",
                output.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            )
        })?;
        units.push((name, text));
    }
    Ok(units)
}

/// `podman ARGS` on the gateway host (its namespaces and Podman configuration).
pub fn podman(state: &Path, args: &[&str], limit: Duration) -> Result<String> {
    let mut argv = vec!["podman".to_string()];
    argv.extend(args.iter().map(|s| s.to_string()));
    let mut c = netns_command(&GATEWAY.netns(), None, &argv);
    c.env("CONTAINERS_CONF", containers_conf(state));
    let out = output_within(&mut c, limit)?;
    if !out.status.success() {
        bail!(
            "podman {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `podman inspect` of the gateway container.
pub fn inspect(spec: &Spec, state: &Path) -> Result<Value> {
    let text = podman(state, &["inspect", &spec.name], Duration::from_secs(30))?;
    let v: Value = serde_json::from_str(&text).context("podman inspect output")?;
    v.get(0).cloned().context("podman inspect: no container")
}

/// Host pid of the container's first process (the gateway's node).
pub fn container_pid(spec: &Spec, state: &Path) -> Result<i32> {
    let v = inspect(spec, state)?;
    match v["State"]["Pid"].as_i64() {
        Some(p) if p > 0 => Ok(p as i32),
        _ => bail!(
            "the gateway container is not running ({})",
            v["State"]["Status"]
        ),
    }
}

/// Removes what the gateway host's Podman left (after its units stopped): the container,
/// should a unit have died without its ExecStopPost.
pub fn cleanup(spec: &Spec, state: &Path) {
    if containers_conf(state).exists() {
        let _ = podman(
            state,
            &["rm", "-f", "-i", &spec.name],
            Duration::from_secs(40),
        );
        let _ = podman(
            state,
            &[
                "network",
                "rm",
                "-f",
                &format!("systemd-{}", spec.container.network),
            ],
            Duration::from_secs(20),
        );
    }
}
