//! `manifest.json`: every artifact with its sha256, intended mode, owner and install path,
//! so an installer (the NixOS module, a Podman host's script) and auditors know what goes where.

use sha2::{Digest, Sha256};

use super::Artifact;
use crate::spec::Spec;

pub fn render(spec: &Spec, artifacts: &[Artifact]) -> Artifact {
    let entries: Vec<serde_json::Value> = artifacts
        .iter()
        .map(|a| {
            serde_json::json!({
                "path": a.path,
                "sha256": hex::encode(Sha256::digest(a.content.as_bytes())),
                "mode": format!("{:04o}", a.mode),
                "owner": a.owner,
                "install_path": a.install_path,
                "description": a.description,
            })
        })
        .collect();
    let manifest = serde_json::json!({
        "deployment": spec.name,
        "generator": concat!("openclaw-render ", env!("CARGO_PKG_VERSION")),
        "openclaw_version": crate::openclaw_schema::OPENCLAW_VERSION,
        "artifacts": entries,
    });
    let mut text = serde_json::to_string_pretty(&manifest).expect("manifest serialises");
    text.push('\n');
    Artifact::public(
        "manifest.json",
        text,
        "every artifact with its sha256, mode, owner and install path",
    )
}
