//! Checks that run on one host each and take the spec, so the NixOS VM tests can run the
//! very same code inside their VMs: `openclaw-lab check egress|secrets|auth --spec FILE`.
//! `audit` and `audit-trail` run on the gateway host against the live gateway.
//! [`suite`] runs them from the right lab hosts and adds what needs several hosts.

pub mod audit;
pub mod auth;
pub mod browser;
pub mod container;
pub mod egress;
pub mod egress_names;
pub mod location;
pub mod secrets;
pub mod suite;

use anyhow::Result;
use openclaw_render::spec::Spec;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Which {
    Egress,
    Secrets,
    Auth,
    /// The running gateway container's hardening (container runtime only).
    Container,
    /// OpenClaw's `security audit --deep` on the live gateway, judged by the allowlist.
    Audit,
    /// One chat turn with a tool call leaves exactly one redacted audit record.
    AuditTrail,
    /// The WebChat in headless Chromium on this machine, through the published proxy.
    Browser,
    /// The hostile-model suite's scenarios (defaults only) against the running gateway.
    Hostile,
}

/// One observation.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub name: String,
    pub expected: String,
    pub observed: String,
    pub ok: bool,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    pub check: String,
    pub items: Vec<Item>,
    /// Summary counts (egress: allowed / denied / unexpected).
    pub counts: serde_json::Map<String, serde_json::Value>,
}

impl Report {
    pub fn new(check: &str) -> Self {
        Report {
            check: check.into(),
            ..Default::default()
        }
    }
    pub fn push(
        &mut self,
        name: impl Into<String>,
        expected: impl Into<String>,
        observed: impl Into<String>,
        ok: bool,
    ) {
        self.items.push(Item {
            name: name.into(),
            expected: expected.into(),
            observed: observed.into(),
            ok,
        });
    }
    pub fn ok(&self) -> bool {
        self.items.iter().all(|i| i.ok)
    }
    pub fn failures(&self) -> Vec<&Item> {
        self.items.iter().filter(|i| !i.ok).collect()
    }
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for i in &self.items {
            s.push_str(&format!(
                "{} {:<58} expected {:<10} observed {}\n",
                if i.ok { "ok  " } else { "FAIL" },
                i.name,
                i.expected,
                i.observed
            ));
        }
        if !self.counts.is_empty() {
            s.push_str(&format!(
                "{}: {}\n",
                self.check,
                serde_json::Value::Object(self.counts.clone())
            ));
        }
        s.push_str(&format!(
            "{}: {}\n",
            self.check,
            if self.ok() { "PASS" } else { "FAIL" }
        ));
        s
    }
}

pub fn run(which: Which, spec: &Spec, user: Option<&str>) -> Result<Report> {
    match which {
        Which::Egress => egress::run(
            spec,
            user.unwrap_or(&spec.paths.service_user),
            &egress::lab_targets(),
            &egress_names::lab_targets(),
        ),
        Which::Secrets => secrets::run(spec),
        Which::Auth => auth::run(spec),
        Which::Container => container::run(spec),
        Which::Audit => audit::security(spec),
        Which::AuditTrail => audit::trail(spec),
        Which::Hostile => crate::hostile::run(spec, &crate::state::state_dir(), false),
        Which::Browser => browser::run(
            spec,
            &crate::state::state_dir(),
            &browser::default_out(&crate::state::state_dir()),
        ),
    }
}
