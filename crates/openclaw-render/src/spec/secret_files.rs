//! The secret files a deployment puts on the host, derived from the spec.
//!
//! One list shared by the OpenBao agent renderer (one template per file), the secret check
//! (what must be present and how long) and the lab, so they can never disagree.

use serde::{Deserialize, Serialize};

use super::{Delivery, SecretBackend, Spec};

/// How OpenClaw (or systemd/Podman) reads a rendered file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecretFileKind {
    /// One value, read by a `singleValue` file provider (one trailing newline is stripped).
    Single,
    /// `KEY=VALUE` lines for `EnvironmentFile=` / `podman --env-file`.
    Env,
}

/// One value a rendered file must carry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequiredValue {
    /// Name under `[secrets.items]`.
    pub secret: String,
    /// Key inside the KV v2 entry.
    pub kv_key: String,
    /// Variable name, for env files.
    pub env_var: Option<String>,
    /// Shortest value the secret check accepts.
    pub min_length: usize,
}

/// One file on the host holding secret material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedSecretFile {
    /// Absolute path where the gateway (or systemd/Podman) reads it.
    pub path: String,
    pub kind: SecretFileKind,
    /// Single files carry exactly one value; the env file one per env-delivered secret.
    pub values: Vec<RequiredValue>,
}

impl RenderedSecretFile {
    /// The file name inside its directory (templates and the staging area use it).
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

impl Spec {
    /// Every secret file of this deployment, sorted by path: one per file-delivered secret,
    /// plus the env file when any secret is delivered as an environment variable.
    pub fn rendered_secret_files(&self) -> Vec<RenderedSecretFile> {
        let mut files = Vec::new();
        let mut env_values = Vec::new();
        for (name, item) in &self.secrets.items {
            let value = RequiredValue {
                secret: name.clone(),
                kv_key: item.kv_key(name).to_string(),
                env_var: None,
                min_length: item.min_length,
            };
            match item.deliver {
                Delivery::File => {
                    let path = match (&self.secrets.backend, &item.path) {
                        (SecretBackend::Files, Some(p)) => p.clone(),
                        _ => format!("{}/{}", self.secrets.dir.trim_end_matches('/'), name),
                    };
                    files.push(RenderedSecretFile {
                        path,
                        kind: SecretFileKind::Single,
                        values: vec![value],
                    });
                }
                Delivery::Env => env_values.push(RequiredValue {
                    env_var: Some(item.env_var_name(name)),
                    ..value
                }),
            }
        }
        if !env_values.is_empty() {
            files.push(RenderedSecretFile {
                path: self.env_file_path(),
                kind: SecretFileKind::Env,
                values: env_values,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }

    /// The systemd unit running the gateway: a native service, or the service Podman's quadlet
    /// generator makes of `<name>.container`. The secret agent restarts it after a promotion.
    pub fn gateway_unit(&self) -> String {
        format!("{}.service", self.name)
    }
}
