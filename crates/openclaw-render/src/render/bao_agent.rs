//! TODO(owner: in progress) — renders the bao_agent artifacts.

use super::Artifact;
use crate::spec::Spec;

pub fn render(_spec: &Spec) -> Vec<Artifact> {
    Vec::new()
}
