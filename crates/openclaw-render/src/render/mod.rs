//! Every artifact of a deployment, rendered from a validated spec.
//!
//! Each submodule renders one kind of artifact and knows nothing of the others; this module
//! collects them, validates the result against OpenClaw's schema and builds the manifest.

pub mod bao_agent;
pub mod caddy;
pub mod manifest;
pub mod nftables;
pub mod openclaw_json;
pub mod prometheus;
pub mod quadlet;
pub mod systemd;

use serde::Serialize;

use crate::error::RenderError;
use crate::spec::Spec;

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    /// Path relative to the output directory (`nftables/openclaw-egress.nft`).
    pub path: String,
    #[serde(skip)]
    pub content: String,
    /// Mode it should have where it is installed.
    pub mode: u32,
    /// Owner it should have where it is installed (`root`, or the service user).
    pub owner: String,
    /// Where it is installed on a target host, when it has a fixed place.
    pub install_path: Option<String>,
    /// What it is, for people reading the manifest.
    pub description: String,
}

impl Artifact {
    /// A root-owned, world-readable file: configs that carry no secret.
    pub fn public(path: &str, content: String, description: &str) -> Self {
        Artifact {
            path: path.to_string(),
            content,
            mode: 0o644,
            owner: "root".into(),
            install_path: None,
            description: description.to_string(),
        }
    }

    pub fn installed_at(mut self, path: impl Into<String>) -> Self {
        self.install_path = Some(path.into());
        self
    }

    pub fn with_mode(mut self, mode: u32) -> Self {
        self.mode = mode;
        self
    }

    pub fn owned_by(mut self, owner: impl Into<String>) -> Self {
        self.owner = owner.into();
        self
    }
}

/// The full set of artifacts for one spec, sorted by path (deterministic output).
pub type Artifacts = Vec<Artifact>;

/// Validates the spec, renders every artifact, checks openclaw.json against OpenClaw's
/// schema and appends the manifest. Nothing is written here.
pub fn render_all(spec: &Spec) -> Result<Artifacts, RenderError> {
    crate::validate::validate(spec)?;
    let openclaw_json = openclaw_json::render(spec);
    crate::openclaw_schema::validate(&openclaw_json).map_err(RenderError::Schema)?;

    let mut artifacts = vec![openclaw_json::artifact(spec, &openclaw_json)];
    artifacts.extend(bao_agent::render(spec));
    artifacts.extend(nftables::render(spec));
    artifacts.extend(quadlet::render(spec));
    artifacts.extend(systemd::render(spec));
    artifacts.extend(caddy::render(spec));
    artifacts.extend(prometheus::render(spec));
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    artifacts.push(manifest::render(spec, &artifacts));
    Ok(artifacts)
}
