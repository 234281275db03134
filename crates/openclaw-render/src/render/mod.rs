//! Every artifact of a deployment, rendered from a validated spec.
//!
//! Each submodule renders one kind of artifact and knows nothing of the others; this module
//! collects them, validates the result against OpenClaw's schema and builds the manifest.

pub mod backup;
pub mod bao_agent;
pub mod caddy;
pub mod egress_proxy;
pub mod litellm;
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

/// When OpenClaw's schema rejects the config only because of `settings` (the generator's own
/// output passes), the `rejected` places as spec problems: `settings.<path>` and the fix.
fn settings_problems(
    spec: &Spec,
    rejected: &[crate::openclaw_schema::Rejection],
) -> Option<Vec<crate::error::Problem>> {
    if spec.settings.is_empty() {
        return None;
    }
    let mut own = spec.clone();
    own.settings.clear();
    if crate::openclaw_schema::validate(&openclaw_json::render(&own)).is_err() {
        return None;
    }
    let settings = serde_json::Value::Object(spec.settings.clone());
    let problems = rejected
        .iter()
        .flat_map(|r| {
            let base: Vec<String> = r
                .pointer
                .split('/')
                .skip(1)
                .map(|s| s.replace("~1", "/").replace("~0", "~"))
                .collect();
            // An additionalProperties refusal names the keys one level below the pointer.
            let paths: Vec<Vec<String>> = if r.unexpected.is_empty() {
                vec![base]
            } else {
                r.unexpected
                    .iter()
                    .map(|k| base.iter().cloned().chain([k.clone()]).collect())
                    .collect()
            };
            paths.into_iter().map(|p| crate::error::Problem {
                field: settings_field(&settings, &p),
                message: format!(
                    "OpenClaw {} rejects it: {}",
                    crate::openclaw_schema::OPENCLAW_VERSION,
                    r.message
                ),
                fix: "remove or correct it; `openclaw config schema` prints the keys this version takes"
                    .into(),
            })
        })
        .collect();
    Some(problems)
}

/// The key the user wrote for a rejected config path: its longest prefix present in `settings`.
fn settings_field(settings: &serde_json::Value, path: &[String]) -> String {
    let mut at = settings;
    let mut named = Vec::new();
    for seg in path {
        match at.get(seg.as_str()) {
            Some(v) => {
                named.push(seg.as_str());
                at = v;
            }
            None => break,
        }
    }
    if named.is_empty() {
        "settings".to_string()
    } else {
        format!("settings.{}", named.join("."))
    }
}

/// The full set of artifacts for one spec, sorted by path (deterministic output).
pub type Artifacts = Vec<Artifact>;

/// Validates the spec, renders every artifact, checks openclaw.json against OpenClaw's
/// schema and appends the manifest. Nothing is written here.
pub fn render_all(spec: &Spec) -> Result<Artifacts, RenderError> {
    crate::validate::validate(spec)?;
    let openclaw_json = openclaw_json::render(spec);
    let rejected = crate::openclaw_schema::rejections(&openclaw_json);
    if !rejected.is_empty() {
        return Err(settings_problems(spec, &rejected)
            .map(|p| RenderError::Invalid(crate::error::Invalid(p)))
            .unwrap_or_else(|| RenderError::Schema(crate::openclaw_schema::describe(&rejected))));
    }

    let mut artifacts = vec![openclaw_json::artifact(spec, &openclaw_json)];
    artifacts.extend(bao_agent::render(spec));
    artifacts.extend(nftables::render(spec));
    artifacts.extend(egress_proxy::render(spec));
    artifacts.extend(quadlet::render(spec));
    artifacts.extend(systemd::render(spec));
    artifacts.extend(caddy::render(spec));
    artifacts.extend(prometheus::render(spec));
    artifacts.extend(litellm::render(spec));
    artifacts.extend(backup::render(spec));
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    artifacts.push(manifest::render(spec, &artifacts));
    // `check` runs this too, so what it passes can be written (one validation path).
    for a in &artifacts {
        check_artifact_path(&a.path)?;
    }
    Ok(artifacts)
}

/// An artifact path must stay inside `--out` and be creatable: relative, no empty, `.` or
/// `..` segments, components within NAME_MAX and the whole within a margin of PATH_MAX.
pub fn check_artifact_path(path: &str) -> Result<(), RenderError> {
    use crate::spec::text::{is_control, NAME_MAX, PATH_MAX};
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.len() > PATH_MAX / 2
        || path.chars().any(is_control)
        || path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == ".." || seg.len() > NAME_MAX);
    if bad {
        Err(RenderError::UnsafeArtifactPath(
            path.escape_debug().to_string(),
        ))
    } else {
        Ok(())
    }
}
