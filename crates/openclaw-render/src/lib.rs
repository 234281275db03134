//! `openclaw-render`: one typed deployment spec in, every hardened OpenClaw artifact out.
//!
//! The NixOS module, the lab and Podman/Nomad users all consume these artifacts, so the
//! semantics of the whole project live here: [`spec`] is the model, [`validate`] the rules a
//! careful operator applies, [`render`] the artifacts, [`output`] the atomic write.

pub mod cron;
pub mod domains;
pub mod error;
pub mod net;
pub mod nix_options;
pub mod openclaw_schema;
pub mod output;
pub mod render;
#[cfg(test)]
mod schema_prep;
pub mod secretlike;
pub mod spec;
pub mod validate;

pub use error::{Invalid, LoadError, Problem, RenderError};
pub use render::{render_all, Artifact, Artifacts};
pub use spec::Spec;
