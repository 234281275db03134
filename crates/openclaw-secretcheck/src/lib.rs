//! `openclaw-secretcheck`: validates the secret files the OpenBao agent rendered (or sops-nix /
//! agenix put in place) before the OpenClaw gateway may start or restart with them.
//!
//! It runs as the gateway unit's `ExecStartPre=` (`check`) and as the agent's post-render
//! command (`promote`: validate a staged set, then move it into place). It never prints a
//! secret value: reports name files and keys, and give lengths at most (no digest: a hash
//! prefix would let a reader confirm a guessed weak secret offline).

pub mod check;
pub mod content;
pub mod envfile;
pub mod fsrules;
pub mod promote;
pub mod report;
pub mod target;

pub use check::{check, Options};
pub use report::{Class, Finding, Report};
pub use target::{Target, TargetKind};
