//! `openclaw-lab`: the hardened OpenClaw homelab on one Linux box.
//!
//! Hosts are network namespaces ([`netns`], addresses in [`topology`]), every component is
//! the real thing started from `openclaw-render` artifacts of one spec, and the checks in
//! [`checks`] run on one host each so the NixOS VM tests can run the very same checks.
//! The two stand-ins are named as such: the LLM fixture ([`fixtures::llm`]) and the identity
//! fixture for Keycloak ([`fixtures::identity`]); [`units`] stands in for systemd.

pub mod audit_trail;
pub mod bench;
pub mod bench_litellm;
pub mod ca;
pub mod checks;
pub mod cloud;
pub mod cmd;
pub mod components;
pub mod container_host;
pub mod deploy;
pub mod fixtures;
pub mod gateway;
pub mod hostile;
pub mod hostile_agents;
pub mod lab;
pub mod llm_host;
pub mod netns;
pub mod owner;
pub mod pki;
pub mod podman_compat;
pub mod proxy;
pub mod publish;
pub mod renew;
pub mod state;
pub mod status;
pub mod timer;
pub mod topology;
pub mod units;
pub mod vault;
