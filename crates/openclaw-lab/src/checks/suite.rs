//! `openclaw-lab test`: up, every check from its host, down.

use std::path::Path;

use anyhow::Result;
use openclaw_render::spec::Runtime;

use crate::container_host::{containers_conf, GatewayMode};
use crate::state::netns_command;
use crate::topology::GATEWAY;

pub fn run(spec: &Path, keep: bool, mode: GatewayMode) -> Result<u8> {
    let up = crate::lab::up(spec, mode)?;
    crate::lab::print_up(&up);
    let st = up.state.clone();
    let lab = st.join("bin/openclaw-lab").display().to_string();
    let spec_json = st.join("spec.json").display().to_string();
    let mut checks: Vec<Vec<&str>> = vec![
        vec!["egress"],
        vec!["secrets"],
        vec!["auth"],
        vec!["audit"],
        vec!["audit-trail"],
    ];
    if up.spec.runtime == Runtime::Container {
        checks.push(vec!["egress", "--from-container"]);
        checks.push(vec!["container"]);
    }
    let mut failed = 0;
    for args in checks {
        let mut argv = vec![lab.clone(), "check".into()];
        argv.extend(args.iter().map(|s| s.to_string()));
        argv.extend(["--spec".into(), spec_json.clone()]);
        // On the gateway host: its namespaces and its Podman configuration.
        let status = netns_command(&GATEWAY.netns(), None, &argv)
            .env("CONTAINERS_CONF", containers_conf(&st))
            .status()?;
        if !status.success() {
            failed += 1;
        }
    }
    // The browser stands on this machine, where the proxy is published.
    let status = std::process::Command::new(&lab)
        .args(["check", "browser"])
        .status()?;
    if !status.success() {
        failed += 1;
    }
    if !keep {
        crate::lab::down()?;
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
