//! `openclaw-lab test`: up, every check from its host, down.

use std::path::Path;

use anyhow::Result;

pub fn run(spec: &Path, keep: bool, mode: crate::container_host::GatewayMode) -> Result<u8> {
    let up = crate::lab::up(spec, mode)?;
    crate::lab::print_up(&up);
    let st = up.state.clone();
    let lab = st.join("bin/openclaw-lab").display().to_string();
    let spec_json = st.join("spec.json").display().to_string();
    let mut failed = 0;
    for which in ["egress", "secrets", "auth"] {
        let status = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &crate::topology::GATEWAY.netns(),
                &lab,
                "check",
                which,
                "--spec",
                &spec_json,
            ])
            .status()?;
        if !status.success() {
            failed += 1;
        }
    }
    if !keep {
        crate::lab::down()?;
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
