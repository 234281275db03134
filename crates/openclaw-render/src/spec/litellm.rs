//! `[litellm]`: the LiteLLM proxy between the gateway and the model providers (seeds 000/004).
//!
//! The gateway holds one key (its `models.api_key`) and talks only to LiteLLM; LiteLLM holds
//! the provider keys, falls back from a failing provider within seconds and enforces the
//! spend budget. Its secrets come from its own OpenBao agent (its own KV path and cert-auth
//! role), never from the gateway's, so the gateway's user can read none of them.
//!
//! Without a database (the LiteLLM here has none: Prisma's engines download from outside the
//! package registries) LiteLLM accepts exactly one key, its master key, so the gateway's key
//! *is* the master key, and budgets are LiteLLM's deployment budgets (per provider, spend
//! counted in memory), not per-virtual-key budgets.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Duration, EgressRule};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Litellm {
    /// host:port LiteLLM listens on (the address the gateway's `models.base_url` names).
    pub listen: String,
    /// Model group the gateway asks for: one of `providers[].model_group`, and the gateway's
    /// `models.primary`.
    pub primary: String,
    /// Model groups LiteLLM tries, in order, when the primary fails. They belong here, not in
    /// `models.fallbacks`: OpenClaw's own fallback waits out its retries first (about 60 s).
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// Per attempt: a provider that hangs or answers slower than this counts as failed.
    #[serde(default = "defaults::timeout")]
    pub timeout: Duration,
    /// Retries of a failed model group before its fallback (0: fall back at once).
    #[serde(default)]
    pub retries: u32,
    /// Spend limit in USD per provider deployment and `budget_period`; over it LiteLLM refuses
    /// (HTTP 429, "crossed budget"). Counted in LiteLLM's memory: a restart resets it.
    #[serde(default)]
    pub budget_usd: Option<f64>,
    #[serde(default = "defaults::budget_period")]
    pub budget_period: Duration,
    /// Key (inside `openbao.kv_path`) of LiteLLM's master key: the same value as the
    /// gateway's `models.api_key` secret (without a database it is the only key LiteLLM takes).
    #[serde(default = "defaults::master_key")]
    pub master_key: String,
    /// Shortest master key the secret check accepts.
    #[serde(default = "defaults::min_length")]
    pub master_key_min_length: usize,
    pub providers: Vec<LitellmProvider>,
    /// LiteLLM's own OpenBao identity (address, CA and KV mount are `secrets.openbao`'s).
    #[serde(default)]
    pub openbao: Option<LitellmOpenBao>,
    /// LiteLLM's egress, deny by default: only these destinations (the providers).
    #[serde(default)]
    pub egress: LitellmEgress,
    #[serde(default)]
    pub paths: LitellmPaths,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LitellmProvider {
    /// Deployment name: env var `LITELLM_KEY_<NAME>`, rule comments.
    pub name: String,
    /// Model group this deployment serves (what clients ask for).
    pub model_group: String,
    /// LiteLLM model string, `<provider>/<model>` (`openai/gpt-4o-mini`).
    pub model: String,
    /// The provider's API base (`https://api.example.com/v1`).
    pub base_url: String,
    /// Key (inside LiteLLM's KV entry) of this provider's API key.
    pub api_key: String,
    #[serde(default = "defaults::min_length")]
    pub api_key_min_length: usize,
    /// USD per input token, for models LiteLLM's bundled cost map does not know.
    #[serde(default)]
    pub input_cost_per_token: Option<f64>,
    #[serde(default)]
    pub output_cost_per_token: Option<f64>,
}

impl LitellmProvider {
    pub fn env_var(&self) -> String {
        format!(
            "LITELLM_KEY_{}",
            self.name.to_ascii_uppercase().replace(['-', '.'], "_")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LitellmOpenBao {
    /// Path inside the KV v2 mount holding the provider keys and the master key.
    pub kv_path: String,
    /// Cert auth role LiteLLM's machine certificate logs in as (a policy reading only kv_path).
    #[serde(default = "defaults::cert_role")]
    pub cert_auth_role: String,
    /// LiteLLM host's machine certificate and key (step-ca).
    pub cert: String,
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LitellmEgress {
    /// The only DNS servers LiteLLM may query.
    #[serde(default)]
    pub dns_resolvers: Vec<String>,
    /// The providers' addresses and ports.
    #[serde(default)]
    pub allow: Vec<EgressRule>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct LitellmPaths {
    /// The `litellm` executable (the proxy CLI of `litellm[proxy]`).
    #[serde(default = "defaults::bin")]
    pub bin: String,
    #[serde(default = "defaults::config")]
    pub config: String,
    /// Unix user LiteLLM runs as (its egress rules match it).
    #[serde(default = "defaults::user")]
    pub service_user: String,
    /// Home and working directory (LiteLLM writes caches there).
    #[serde(default = "defaults::state_dir")]
    pub state_dir: String,
    /// Where LiteLLM's agent renders its env file (`litellm.env`, 0600, LiteLLM's user).
    #[serde(default = "defaults::secrets_dir")]
    pub secrets_dir: String,
    /// LiteLLM's agent config and templates as installed.
    #[serde(default = "defaults::agent_dir")]
    pub agent_dir: String,
}

impl Default for LitellmPaths {
    fn default() -> Self {
        Self {
            bin: defaults::bin(),
            config: defaults::config(),
            service_user: defaults::user(),
            state_dir: defaults::state_dir(),
            secrets_dir: defaults::secrets_dir(),
            agent_dir: defaults::agent_dir(),
        }
    }
}

impl LitellmPaths {
    /// The env file LiteLLM's unit reads (`EnvironmentFile=`).
    pub fn env_file(&self) -> String {
        format!("{}/litellm.env", self.secrets_dir.trim_end_matches('/'))
    }
    pub fn staging_dir(&self) -> String {
        format!("{}/.staged", self.secrets_dir.trim_end_matches('/'))
    }
}

/// Env var of the master key in LiteLLM's env file.
pub const MASTER_KEY_VAR: &str = "LITELLM_MASTER_KEY";

pub mod defaults {
    use super::Duration;

    pub fn timeout() -> Duration {
        Duration::from_secs(5)
    }
    pub fn budget_period() -> Duration {
        Duration::from_secs(30 * 86400)
    }
    pub fn master_key() -> String {
        "master_key".into()
    }
    pub fn min_length() -> usize {
        16
    }
    pub fn cert_role() -> String {
        "litellm".into()
    }
    pub fn bin() -> String {
        "/usr/bin/litellm".into()
    }
    pub fn config() -> String {
        "/etc/litellm/config.yaml".into()
    }
    pub fn user() -> String {
        "litellm".into()
    }
    pub fn state_dir() -> String {
        "/var/lib/litellm".into()
    }
    pub fn secrets_dir() -> String {
        "/run/secrets/litellm".into()
    }
    pub fn agent_dir() -> String {
        "/etc/litellm/agent".into()
    }
}
