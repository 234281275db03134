//! The deployment spec: one typed description of a hardened OpenClaw deployment.
//!
//! People write it as TOML, the NixOS module hands it over as JSON; both go through the same
//! serde model, and `deny_unknown_fields` everywhere means a typo is an error naming the key,
//! never a silently ignored setting.

pub mod backup;
pub mod litellm;
mod secret_files;
mod strict_json;
pub mod text;
mod units;

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use backup::Backup;
pub use litellm::{Litellm, LitellmProvider};
pub use secret_files::{RenderedSecretFile, RequiredValue, SecretFileKind};
pub use units::{ByteSize, Cidr, Duration};

use crate::error::LoadError;

/// The whole deployment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Spec {
    /// Deployment name: used for unit, table and file names. Lowercase letters, digits, '-'.
    #[serde(default = "defaults::name")]
    pub name: String,
    #[serde(default)]
    pub gateway: Gateway,
    pub models: Models,
    #[serde(default)]
    pub channels: Channels,
    /// Named agents. Empty means OpenClaw's single default agent.
    #[serde(default)]
    pub agents: Vec<Agent>,
    /// Routing of (channel, account, peer) to agents.
    #[serde(default)]
    pub bindings: Vec<Binding>,
    /// Scheduled agent runs, declared idempotently in OpenClaw's own scheduler.
    #[serde(default)]
    pub cron: Vec<CronJob>,
    #[serde(default)]
    pub hardening: Hardening,
    pub secrets: Secrets,
    /// step-ca machine certificate: the secret agent's cert-auth identity.
    #[serde(default)]
    pub machine_cert: Option<MachineCert>,
    #[serde(default)]
    pub egress: Egress,
    #[serde(default)]
    pub ingress: Ingress,
    #[serde(default)]
    pub observability: Observability,
    /// Caddy reverse proxy in front of the gateway.
    #[serde(default)]
    pub proxy: Option<Proxy>,
    /// The LiteLLM proxy between the gateway and the model providers (its own host, user,
    /// secrets and egress); `models` then points at it.
    #[serde(default)]
    pub litellm: Option<Litellm>,
    /// Encrypted backups of the gateway's state (OpenClaw's archive, kept by restic). Absent:
    /// no backups.
    #[serde(default)]
    pub backup: Option<Backup>,
    /// How the gateway runs: as the Podman container (quadlet; what the NixOS module deploys)
    /// or as a native systemd service (hosts without Podman).
    #[serde(default)]
    pub runtime: Runtime,
    #[serde(default)]
    pub container: Container,
    /// Where things live on the target host.
    #[serde(default)]
    pub paths: Paths,
    /// Free-form JSON merged over the generated openclaw.json last (RFC 42 style passthrough).
    /// It is validated against OpenClaw's schema like everything else, and may not set what the
    /// spec owns (port, bind, auth, tokens, secrets, origins, proxies, Tailscale exposure).
    #[serde(default, deserialize_with = "strict_json::map")]
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub settings: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Gateway {
    #[serde(default = "defaults::port")]
    pub port: u16,
    /// Always explicit: OpenClaw's own default (`auto`) binds 0.0.0.0 inside containers.
    #[serde(default)]
    pub bind: Bind,
    /// Address to bind when `bind = "custom"`.
    #[serde(default)]
    pub custom_bind_host: Option<String>,
    #[serde(default)]
    pub auth: AuthMode,
    /// Name of the secret (under `[secrets.items]`) holding the gateway token or password.
    #[serde(default)]
    pub token: Option<String>,
    /// Reverse proxies whose X-Forwarded-For the gateway trusts.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Browser origins allowed to open the Control UI / WebChat WebSocket.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    #[serde(default)]
    pub rate_limit: RateLimit,
    /// Serve the Control UI / WebChat web app.
    #[serde(default = "defaults::yes")]
    pub control_ui: bool,
    /// PEM file of extra CA certificates the gateway trusts besides the system store
    /// (`NODE_EXTRA_CA_CERTS`): a private CA of LAN services. Mounted read-only into the
    /// container.
    #[serde(default)]
    pub extra_ca_certs: Option<String>,
    /// Hot-reload config changes (`hybrid`) or require a restart (`off`).
    #[serde(default)]
    pub reload: ReloadMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Bind {
    #[default]
    Loopback,
    Lan,
    Custom,
    Tailnet,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    #[default]
    Token,
    Password,
    TrustedProxy,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReloadMode {
    #[default]
    Off,
    Hybrid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct RateLimit {
    #[serde(default = "defaults::max_attempts")]
    pub max_attempts: u32,
    #[serde(default = "defaults::rate_window")]
    pub window: Duration,
    #[serde(default = "defaults::lockout")]
    pub lockout: Duration,
    /// Loopback clients skip the limit (OpenClaw's default). Behind a local reverse proxy every
    /// client looks like loopback, so set this false there.
    #[serde(default = "defaults::yes")]
    pub exempt_loopback: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Models {
    /// Provider id used in model references (`<provider>/<model>`).
    #[serde(default = "defaults::provider_id")]
    pub provider_id: String,
    /// OpenAI-compatible endpoint, e.g. LiteLLM's `https://litellm.home.example/v1`.
    pub base_url: String,
    /// Name of the secret holding the API key (a LiteLLM virtual key).
    #[serde(default)]
    pub api_key: Option<String>,
    /// Model ids served by the endpoint.
    pub models: Vec<String>,
    /// Primary model id (one of `models`).
    pub primary: String,
    #[serde(default)]
    pub fallbacks: Vec<String>,
    /// Fetch OpenClaw's public model catalog at start (an egress to catalog.openclaw.ai).
    #[serde(default)]
    pub catalog_refresh: bool,
    #[serde(default)]
    pub timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Channels {
    #[serde(default)]
    pub matrix: Option<Matrix>,
    #[serde(default)]
    pub telegram: Option<Telegram>,
    #[serde(default)]
    pub webchat: WebChat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DmPolicy {
    #[default]
    Allowlist,
    Pairing,
    Open,
    Disabled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupPolicy {
    #[default]
    Allowlist,
    Open,
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Matrix {
    pub homeserver: String,
    pub user_id: String,
    /// Name of the secret holding the bot's access token.
    pub access_token: String,
    /// End-to-end encryption (needs the crypto module in the Matrix plugin).
    #[serde(default)]
    pub encryption: bool,
    #[serde(default)]
    pub dm_policy: DmPolicy,
    /// Matrix user ids allowed to DM the bot (`@you:example.org`).
    #[serde(default)]
    pub allow_from: Vec<String>,
    #[serde(default)]
    pub group_policy: GroupPolicy,
    /// Users allowed to trigger the bot in rooms.
    #[serde(default)]
    pub group_allow_from: Vec<String>,
    /// Rooms by id or alias (`*` for all), each with its own mention gate.
    #[serde(default)]
    pub rooms: BTreeMap<String, MatrixRoom>,
    /// Join invites automatically only from allowlisted rooms.
    #[serde(default)]
    pub auto_join: AutoJoin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MatrixRoom {
    #[serde(default = "defaults::yes")]
    pub require_mention: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AutoJoin {
    #[default]
    Allowlist,
    Always,
    Off,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Telegram {
    /// Name of the secret holding the bot token.
    pub bot_token: String,
    #[serde(default)]
    pub dm_policy: DmPolicy,
    /// Telegram numeric user ids allowed to talk to the bot.
    #[serde(default)]
    pub allow_from: Vec<String>,
    #[serde(default = "defaults::group_disabled")]
    pub group_policy: GroupPolicy,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct WebChat {
    /// WebChat is the Control UI's chat; it follows `gateway.control_ui`.
    #[serde(default = "defaults::yes")]
    pub enabled: bool,
}

impl Default for WebChat {
    fn default() -> Self {
        Self { enabled: true }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Agent {
    /// Agent id: lowercase letters, digits, '-' and '_'.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Workspace directory inside the gateway's view of the filesystem.
    #[serde(default)]
    pub workspace: Option<String>,
    /// The agent that takes everything no binding routes elsewhere.
    #[serde(default)]
    pub default: bool,
    /// Model override, `<provider>/<model>` or a model id of `models.models`.
    #[serde(default)]
    pub model: Option<String>,
    /// Tools this agent may use (empty = the global policy).
    #[serde(default)]
    pub tools_allow: Vec<String>,
    #[serde(default)]
    pub tools_deny: Vec<String>,
    #[serde(default)]
    pub sandbox: Option<SandboxMode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    Off,
    NonMain,
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Binding {
    pub agent: String,
    /// Channel id: `matrix`, `telegram`, `webchat`, ...
    pub channel: String,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub peer: Option<Peer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Peer {
    pub kind: PeerKind,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PeerKind {
    Direct,
    Group,
    Channel,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct CronJob {
    /// Stable job name; the idempotent declaration key derives from it.
    pub name: String,
    /// 5-field cron expression (`0 8 * * 1-5`).
    pub schedule: String,
    #[serde(default = "defaults::timezone")]
    pub timezone: String,
    pub agent: String,
    pub prompt: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Hardening {
    /// mDNS/Bonjour announcement of the gateway on the LAN.
    #[serde(default)]
    pub mdns: bool,
    /// Tools denied to every agent.
    #[serde(default = "defaults::tools_deny")]
    pub tools_deny: Vec<String>,
    /// Tool profile every agent starts from.
    #[serde(default = "defaults::tools_profile")]
    pub tools_profile: ToolsProfile,
    /// Only these plugins may load (channel plugins in use are added automatically).
    #[serde(default)]
    pub plugins_allow: Vec<String>,
    /// How DMs map to sessions: one per channel and peer keeps people apart.
    #[serde(default = "defaults::dm_scope")]
    pub dm_scope: DmScope,
    #[serde(default)]
    pub update_check: bool,
    /// Log file; OpenClaw's default is a /tmp file shared by every instance.
    #[serde(default)]
    pub log_file: Option<String>,
    /// Extra regular expressions whose matches OpenClaw redacts from logs.
    #[serde(default = "defaults::redact_patterns")]
    pub redact_patterns: Vec<String>,
    /// Exec tool policy.
    #[serde(default = "defaults::exec_security")]
    pub exec_security: ExecSecurity,
    /// OpenClaw `dangerously*` switches `settings` may turn on, by their dotted path below
    /// `settings` (`gateway.controlUi.dangerouslyDisableDeviceAuth`). Each one is a warning.
    #[serde(default)]
    pub dangerous_settings: Vec<String>,
    /// Let the `message` tool post to chats other than the one the session answers (OpenClaw's
    /// default). Off: a prompt-injected model in an allowlisted DM cannot message a stranger or
    /// another room through the same channel (`tools.message.crossContext`).
    #[serde(default)]
    pub message_other_chats: bool,
    /// Let read/write/edit/apply_patch reach files outside the agent's workspace (OpenClaw's
    /// default). Off: another agent's workspace, the config and the secrets are out of reach of
    /// the file tools (`tools.fs.workspaceOnly`).
    #[serde(default)]
    pub fs_beyond_workspace: bool,
    /// Let an agent's session tools reach other agents' sessions (OpenClaw's default: any
    /// session on the gateway). Off: `sessions_history`/`sessions_send` see only the session
    /// and its own sub-agents, and agent-to-agent access is off (`tools.sessions.visibility`,
    /// `tools.agentToAgent`).
    #[serde(default)]
    pub cross_agent_sessions: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ToolsProfile {
    Minimal,
    Coding,
    Messaging,
    Full,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DmScope {
    Main,
    PerPeer,
    PerChannelPeer,
    PerAccountChannelPeer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExecSecurity {
    Deny,
    Allowlist,
    Full,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Secrets {
    #[serde(default)]
    pub backend: SecretBackend,
    /// Directory the secret files are rendered to (tmpfs, e.g. /run/secrets/openclaw).
    #[serde(default = "defaults::secrets_dir")]
    pub dir: String,
    /// Name of the env file (inside `dir`) for secrets delivered as environment variables.
    #[serde(default = "defaults::env_file")]
    pub env_file: String,
    #[serde(default)]
    pub openbao: Option<OpenBao>,
    /// The secrets, by name. Other sections refer to them by this name.
    pub items: BTreeMap<String, SecretItem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecretBackend {
    /// An OpenBao (vault-compatible) agent renders the files from KV v2.
    #[default]
    Openbao,
    /// Files put in place by something else (sops-nix, agenix).
    Files,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct OpenBao {
    /// `https://openbao.home.example:8200`
    pub address: String,
    /// CA bundle that signs the OpenBao server certificate.
    #[serde(default)]
    pub ca_cert: Option<String>,
    #[serde(default = "defaults::kv_mount")]
    pub kv_mount: String,
    /// Path inside the KV v2 mount (`aether/openclaw`).
    pub kv_path: String,
    /// Cert auth role the machine certificate logs in as.
    #[serde(default = "defaults::cert_role")]
    pub cert_auth_role: String,
    #[serde(default = "defaults::cert_mount")]
    pub cert_auth_mount: String,
    /// How often the agent re-reads static KV secrets (rotation latency).
    #[serde(default = "defaults::static_lease")]
    pub refresh_interval: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct SecretItem {
    /// Key inside the KV entry (openbao backend). Defaults to the item name.
    #[serde(default)]
    pub key: Option<String>,
    /// Env var (in the env file) or single-value file OpenClaw reads it from.
    #[serde(default)]
    pub deliver: Delivery,
    /// Variable name when delivered as env (defaults to the upper-cased item name).
    #[serde(default)]
    pub env_var: Option<String>,
    /// Existing file (files backend), e.g. a sops-nix path.
    #[serde(default)]
    pub path: Option<String>,
    /// Shortest value the secret check accepts.
    #[serde(default = "defaults::min_length")]
    pub min_length: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// A 0600 single-value file read through OpenClaw's file secret provider; not inherited
    /// by the agent's tool subprocesses the way an environment variable is.
    #[default]
    File,
    /// A line in the env file (`EnvironmentFile=` / `podman --env-file`).
    Env,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct MachineCert {
    /// step-ca URL, `https://ca.home.example:9000`.
    pub ca_url: String,
    /// Root certificate of the CA (trust anchor for renewals and for OpenBao cert auth).
    pub root_ca: String,
    #[serde(default = "defaults::cert_path")]
    pub cert: String,
    #[serde(default = "defaults::key_path")]
    pub key: String,
    /// Renew when less than this much validity is left.
    #[serde(default = "defaults::renew_before")]
    pub renew_before: Duration,
    /// How often the renewal timer checks.
    #[serde(default = "defaults::renew_check")]
    pub check_interval: Duration,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Egress {
    /// Whole host (a dedicated LXC/VM) or only the gateway's processes.
    #[serde(default)]
    pub scope: EgressScope,
    /// The only DNS servers the gateway may query.
    #[serde(default)]
    pub dns_resolvers: Vec<String>,
    /// Allow TCP 80/443 to public (non-blocked) addresses.
    #[serde(default)]
    pub allow_public_web: bool,
    /// Explicit destinations, checked before the always-blocked ranges.
    #[serde(default)]
    pub allow: Vec<EgressRule>,
    /// Extra ranges to block on top of the built-in private/link-local/metadata list.
    #[serde(default)]
    pub extra_blocked: Vec<Cidr>,
    /// NAT64 prefixes of this network beyond the well-known ones (64:ff9b::/96 and the
    /// RFC 8215 64:ff9b:1::/48, always blocked): blocked too, since they reach IPv4 space
    /// including the metadata service.
    #[serde(default)]
    pub nat64_prefixes: Vec<Cidr>,
    /// Interfaces whose forwarded traffic is the gateway's (rootful Podman bridge).
    #[serde(default)]
    pub container_interfaces: Vec<String>,
    /// Log denied packets (rate limited) with this prefix.
    #[serde(default = "defaults::yes")]
    pub log_denied: bool,
    /// Host names the gateway may reach over HTTPS, only through the egress proxy:
    /// `api.example.com`, `*.example.com` (every name below, not the apex), with an optional
    /// `:port` (default 443). Non-empty renders the proxy and points OpenClaw at it.
    #[serde(default)]
    pub allow_domains: Vec<String>,
    /// The egress proxy (Squid) that enforces `allow_domains`.
    #[serde(default)]
    pub proxy: EgressProxy,
}

/// The local forward proxy: the only way from the gateway to a host name on the internet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct EgressProxy {
    /// Port on loopback (and, for the container runtime, on the container network's gateway
    /// address) where the gateway reaches the proxy.
    #[serde(default = "defaults::egress_proxy_port")]
    pub port: u16,
    /// System user the proxy runs as; nftables lets only it reach public addresses.
    #[serde(default = "defaults::egress_proxy_user")]
    pub user: String,
    /// The Squid binary.
    #[serde(default = "defaults::squid_bin")]
    pub squid_bin: String,
    /// Access log: one line per request (time, client, verdict, method, host:port, server
    /// address), never a path, header or body. Default `/var/log/<name>-egress-proxy/access.log`.
    #[serde(default)]
    pub access_log: Option<String>,
    /// Where the rendered Squid config is installed. Default `/etc/<name>-egress-proxy/squid.conf`.
    #[serde(default)]
    pub config: Option<String>,
}

impl Default for EgressProxy {
    fn default() -> Self {
        Self {
            port: defaults::egress_proxy_port(),
            user: defaults::egress_proxy_user(),
            squid_bin: defaults::squid_bin(),
            access_log: None,
            config: None,
        }
    }
}

impl Default for Egress {
    fn default() -> Self {
        Self {
            scope: EgressScope::default(),
            dns_resolvers: Vec::new(),
            allow_public_web: false,
            allow: Vec::new(),
            extra_blocked: Vec::new(),
            nat64_prefixes: Vec::new(),
            container_interfaces: Vec::new(),
            log_denied: true,
            allow_domains: Vec::new(),
            proxy: EgressProxy::default(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EgressScope {
    #[default]
    Host,
    Service,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct EgressRule {
    /// What this is for (`litellm`), shown in rule comments.
    pub name: String,
    /// Address or CIDR (IPv4 or IPv6).
    pub to: Cidr,
    pub ports: Vec<u16>,
    #[serde(default)]
    pub protocol: Protocol,
    /// Host names served at this address, so endpoints given by name can be checked.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Required when `to` lies inside an always-blocked range (RFC 1918, ULA, ...).
    #[serde(default)]
    pub allow_private: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Ingress {
    /// Sources allowed to reach the gateway port (loopback always may).
    #[serde(default)]
    pub allow_from: Vec<Cidr>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Observability {
    #[serde(default)]
    pub prometheus: Option<Prometheus>,
    #[serde(default)]
    pub otel: Option<Otel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Prometheus {
    #[serde(default = "defaults::job_name")]
    pub job_name: String,
    /// host:port Prometheus scrapes (the gateway as seen from Prometheus).
    pub target: String,
    #[serde(default = "defaults::scrape_interval")]
    pub scrape_interval: Duration,
    /// Secret (file delivery) holding the bearer token Prometheus presents. The metrics
    /// endpoint sits behind the gateway's own auth, so this is usually the gateway token.
    pub token: String,
    /// Also scrape the gateway's own metrics (the `diagnostics-prometheus` plugin, which is
    /// not on npm: ship it in `paths.plugins_dir`). Without it Prometheus gets the probe's
    /// metrics through node_exporter's textfile collector.
    #[serde(default)]
    pub gateway_metrics: bool,
    /// node_exporter textfile the probe timer writes.
    #[serde(default = "defaults::probe_textfile")]
    pub probe_textfile: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Otel {
    /// OTLP/HTTP endpoint (`http://otel-collector:4318`); OpenClaw speaks http/protobuf only.
    pub endpoint: String,
    #[serde(default = "defaults::otel_service")]
    pub service_name: String,
    #[serde(default = "defaults::yes")]
    pub metrics: bool,
    /// Spans, among them one per tool call (`openclaw.tool.execution`: tool, call id, outcome)
    /// and per model call (hashed request id): the audit trail's metadata, never arguments.
    #[serde(default = "defaults::yes")]
    pub traces: bool,
    #[serde(default)]
    pub logs: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Proxy {
    /// Site address (`openclaw.home.example`).
    pub site: String,
    /// Gateway as the proxy reaches it (`10.0.3.20:18789`).
    pub upstream: String,
    #[serde(default)]
    pub forward_auth: Option<ForwardAuth>,
    #[serde(default)]
    pub tls: ProxyTls,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ForwardAuth {
    /// host:port of the auth service (Keycloak/oauth2-proxy/Authelia).
    pub upstream: String,
    pub uri: String,
    #[serde(default = "defaults::copy_headers")]
    pub copy_headers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case", tag = "mode")]
pub enum ProxyTls {
    /// Caddy's automatic HTTPS (ACME; point `acme_ca` at step-ca for a homelab).
    Auto {
        #[serde(default)]
        acme_ca: Option<String>,
        #[serde(default)]
        acme_ca_root: Option<String>,
    },
    /// Caddy's internal CA.
    Internal,
    /// Certificate and key files.
    Files { cert: String, key: String },
}

impl Default for ProxyTls {
    fn default() -> Self {
        ProxyTls::Auto {
            acme_ca: None,
            acme_ca_root: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Runtime {
    // container: rootful Podman from the rendered quadlet `.container` (quadlet-nix on NixOS);
    // native: the rendered `<name>.service` with its hardening drop-in.
    #[default]
    Container,
    Native,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Container {
    /// Image pinned by digest (`registry/openclaw@sha256:...`).
    #[serde(default = "defaults::image")]
    pub image: String,
    /// `uid:gid` the gateway runs as inside the container.
    #[serde(default = "defaults::container_user")]
    pub user: String,
    /// Hard memory limit. The gateway peaks near 1.4 GB after an agent run.
    #[serde(default = "defaults::memory_max")]
    pub memory_max: ByteSize,
    #[serde(default = "defaults::cpus")]
    pub cpus: f32,
    #[serde(default = "defaults::pids_limit")]
    pub pids_limit: u32,
    #[serde(default = "defaults::yes")]
    pub read_only: bool,
    /// Podman network the container joins.
    #[serde(default = "defaults::network")]
    pub network: String,
    /// The network's IPv4 subnet, pinned so the egress policy filters the container's
    /// forwarded traffic by source address: no bridge name to look up and list by hand.
    #[serde(default = "defaults::container_subnet")]
    pub subnet: Cidr,
    /// IPv6 subnet of the network (a ULA /64); unset: the container has no IPv6.
    #[serde(default)]
    pub subnet6: Option<Cidr>,
    /// RLIMIT_NOFILE (soft = hard) set explicitly: Podman's default (1048576) exceeds what
    /// unprivileged LXC hosts allow, and then every start fails with "error setting rlimit".
    #[serde(default = "defaults::ulimit_nofile")]
    pub ulimit_nofile: u32,
    /// RLIMIT_NPROC (soft = hard), for the same reason. Counted per uid on the whole host.
    #[serde(default = "defaults::ulimit_nproc")]
    pub ulimit_nproc: u32,
    /// Extra bind mounts `host:container[:options]`.
    #[serde(default)]
    pub volumes: Vec<String>,
}

impl Container {
    /// The host's address on the container network: the subnet's first address, which the
    /// rendered network pins as its gateway (Podman's default too).
    pub fn network_gateway(&self) -> std::net::IpAddr {
        match self.subnet.addr() {
            std::net::IpAddr::V4(a) => std::net::IpAddr::V4((u32::from(a) | 1).into()),
            std::net::IpAddr::V6(a) => std::net::IpAddr::V6((u128::from(a) | 1).into()),
        }
    }
    /// `user` split into `(uid, gid)`; a bare id stands for both. validate.rs requires numbers.
    pub fn ids(&self) -> (&str, &str) {
        self.user
            .split_once(':')
            .unwrap_or((&self.user, &self.user))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct Paths {
    /// Where openclaw.json is installed on the host.
    #[serde(default = "defaults::config_path")]
    pub config: String,
    /// Gateway state (sessions, pairing, cron store).
    #[serde(default = "defaults::state_dir")]
    pub state_dir: String,
    /// The `openclaw` executable for native (non-container) units.
    #[serde(default = "defaults::openclaw_bin")]
    pub openclaw_bin: String,
    #[serde(default = "defaults::secretcheck_bin")]
    pub secretcheck_bin: String,
    #[serde(default = "defaults::probe_bin")]
    pub probe_bin: String,
    #[serde(default = "defaults::bao_bin")]
    pub bao_bin: String,
    /// Unix user the gateway runs as (native units, service-scoped egress, file ownership).
    #[serde(default = "defaults::service_user")]
    pub service_user: String,
    /// Agent config and templates as installed on the host.
    #[serde(default = "defaults::agent_dir")]
    pub agent_dir: String,
    /// Plugins shipped with the deployment (the ClawHub diagnostics plugins), loaded through
    /// `plugins.load.paths`. Not `@openclaw/matrix`: a copy loaded from here is not trusted with
    /// channel state; install it with `openclaw plugins install @openclaw/matrix@2026.9.6 --pin`.
    #[serde(default)]
    pub plugins_dir: Option<String>,
}

impl Default for Gateway {
    fn default() -> Self {
        Self {
            port: defaults::port(),
            bind: Bind::default(),
            custom_bind_host: None,
            auth: AuthMode::default(),
            token: None,
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            rate_limit: RateLimit::default(),
            control_ui: true,
            extra_ca_certs: None,
            reload: ReloadMode::default(),
        }
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        Self {
            max_attempts: defaults::max_attempts(),
            window: defaults::rate_window(),
            lockout: defaults::lockout(),
            exempt_loopback: true,
        }
    }
}

impl Default for Hardening {
    fn default() -> Self {
        Self {
            mdns: false,
            tools_deny: defaults::tools_deny(),
            tools_profile: defaults::tools_profile(),
            plugins_allow: Vec::new(),
            dm_scope: defaults::dm_scope(),
            update_check: false,
            log_file: None,
            redact_patterns: defaults::redact_patterns(),
            exec_security: defaults::exec_security(),
            dangerous_settings: Vec::new(),
            message_other_chats: false,
            fs_beyond_workspace: false,
            cross_agent_sessions: false,
        }
    }
}

impl Default for Container {
    fn default() -> Self {
        Self {
            image: defaults::image(),
            user: defaults::container_user(),
            memory_max: defaults::memory_max(),
            cpus: defaults::cpus(),
            pids_limit: defaults::pids_limit(),
            read_only: true,
            network: defaults::network(),
            subnet: defaults::container_subnet(),
            subnet6: None,
            ulimit_nofile: defaults::ulimit_nofile(),
            ulimit_nproc: defaults::ulimit_nproc(),
            volumes: Vec::new(),
        }
    }
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            config: defaults::config_path(),
            state_dir: defaults::state_dir(),
            openclaw_bin: defaults::openclaw_bin(),
            secretcheck_bin: defaults::secretcheck_bin(),
            probe_bin: defaults::probe_bin(),
            bao_bin: defaults::bao_bin(),
            service_user: defaults::service_user(),
            agent_dir: defaults::agent_dir(),
            plugins_dir: None,
        }
    }
}

/// Defaults a careful operator would pick; each is documented on its field.
pub mod defaults {
    use super::*;

    pub fn name() -> String {
        "openclaw".into()
    }
    pub fn port() -> u16 {
        18789
    }
    pub fn yes() -> bool {
        true
    }
    pub fn max_attempts() -> u32 {
        10
    }
    pub fn rate_window() -> Duration {
        Duration::from_secs(60)
    }
    pub fn lockout() -> Duration {
        Duration::from_secs(300)
    }
    pub fn provider_id() -> String {
        "litellm".into()
    }
    pub fn group_disabled() -> GroupPolicy {
        GroupPolicy::Disabled
    }
    pub fn timezone() -> String {
        "UTC".into()
    }
    pub fn tools_deny() -> Vec<String> {
        // Tools that let a prompt-injected agent reconfigure or escape the gateway.
        ["gateway", "nodes", "cron"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }
    pub fn tools_profile() -> ToolsProfile {
        ToolsProfile::Messaging
    }
    pub fn dm_scope() -> DmScope {
        DmScope::PerChannelPeer
    }
    pub fn redact_patterns() -> Vec<String> {
        [
            r"sk-[A-Za-z0-9_-]{16,}",
            r"syt_[A-Za-z0-9_=-]{16,}",
            r"[0-9]{6,12}:[A-Za-z0-9_-]{30,}",
            r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{16,}",
            r"hvs\.[A-Za-z0-9_-]{20,}",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }
    pub fn exec_security() -> ExecSecurity {
        ExecSecurity::Allowlist
    }
    pub fn secrets_dir() -> String {
        "/run/secrets/openclaw".into()
    }
    pub fn env_file() -> String {
        "openclaw.env".into()
    }
    pub fn kv_mount() -> String {
        "kv".into()
    }
    pub fn cert_role() -> String {
        "openclaw".into()
    }
    pub fn cert_mount() -> String {
        "cert".into()
    }
    pub fn static_lease() -> Duration {
        Duration::from_secs(60)
    }
    pub fn min_length() -> usize {
        16
    }
    pub fn cert_path() -> String {
        "/var/lib/openclaw-cert/machine.crt".into()
    }
    pub fn key_path() -> String {
        "/var/lib/openclaw-cert/machine.key".into()
    }
    pub fn renew_before() -> Duration {
        Duration::from_secs(8 * 3600)
    }
    pub fn renew_check() -> Duration {
        Duration::from_secs(15 * 60)
    }
    pub fn job_name() -> String {
        "openclaw".into()
    }
    pub fn scrape_interval() -> Duration {
        Duration::from_secs(30)
    }
    pub fn probe_textfile() -> String {
        "/var/lib/prometheus-node-exporter/textfile/openclaw.prom".into()
    }
    pub fn otel_service() -> String {
        "openclaw-gateway".into()
    }
    pub fn copy_headers() -> Vec<String> {
        vec!["X-Forwarded-User".into(), "X-Forwarded-Email".into()]
    }
    pub fn image() -> String {
        "localhost/openclaw-gateway:2026.9.6".into()
    }
    pub fn container_user() -> String {
        "1000:1000".into()
    }
    pub fn memory_max() -> ByteSize {
        ByteSize::mib(2560)
    }
    pub fn cpus() -> f32 {
        2.0
    }
    pub fn pids_limit() -> u32 {
        512
    }
    pub fn network() -> String {
        "openclaw".into()
    }
    pub fn container_subnet() -> Cidr {
        "10.89.42.0/24".parse().expect("valid")
    }
    pub fn ulimit_nofile() -> u32 {
        16384
    }
    pub fn ulimit_nproc() -> u32 {
        4096
    }
    pub fn config_path() -> String {
        "/etc/openclaw/openclaw.json".into()
    }
    pub fn state_dir() -> String {
        "/var/lib/openclaw".into()
    }
    pub fn openclaw_bin() -> String {
        "/usr/bin/openclaw".into()
    }
    pub fn secretcheck_bin() -> String {
        "/usr/bin/openclaw-secretcheck".into()
    }
    pub fn probe_bin() -> String {
        "/usr/bin/openclaw-probe".into()
    }
    pub fn bao_bin() -> String {
        "/usr/bin/bao".into()
    }
    pub fn service_user() -> String {
        "openclaw".into()
    }
    pub fn egress_proxy_port() -> u16 {
        3128
    }
    pub fn egress_proxy_user() -> String {
        "openclaw-egress".into()
    }
    pub fn squid_bin() -> String {
        "/usr/sbin/squid".into()
    }
    pub fn agent_dir() -> String {
        "/etc/openclaw/agent".into()
    }
}

impl Spec {
    /// Parses TOML or JSON (chosen by extension; `-`/unknown tries JSON first, then TOML).
    pub fn from_path(path: &Path) -> Result<Spec, LoadError> {
        let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
            path: path.display().to_string(),
            source,
        })?;
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Self::from_toml(&text),
            Some("json") => Self::from_json(&text),
            _ => Self::from_json(&text).or_else(|_| Self::from_toml(&text)),
        }
    }

    /// Parse errors name the field path (`gateway.rate_limit.window: ...`), not just a line.
    pub fn from_toml(text: &str) -> Result<Spec, LoadError> {
        serde_path_to_error::deserialize(toml::Deserializer::new(text)).map_err(|e| {
            LoadError::Parse {
                format: "TOML",
                message: field_error(e.path().to_string(), e.into_inner().message().to_string()),
            }
        })
    }

    pub fn from_json(text: &str) -> Result<Spec, LoadError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let spec = serde_path_to_error::deserialize(&mut de).map_err(|e| LoadError::Parse {
            format: "JSON",
            message: field_error(e.path().to_string(), e.into_inner().to_string()),
        })?;
        de.end().map_err(|e| LoadError::Parse {
            format: "JSON",
            message: crate::error::printable(&e.to_string(), crate::error::MAX_SHOWN),
        })?;
        Ok(spec)
    }

    /// The agent everything unrouted goes to.
    pub fn default_agent(&self) -> Option<&Agent> {
        self.agents
            .iter()
            .find(|a| a.default)
            .or(self.agents.first())
    }

    /// Every secret name another section refers to, with the field that refers to it.
    pub fn secret_references(&self) -> Vec<(&'static str, &str)> {
        let mut refs = Vec::new();
        if let Some(t) = &self.gateway.token {
            refs.push(("gateway.token", t.as_str()));
        }
        if let Some(k) = &self.models.api_key {
            refs.push(("models.api_key", k.as_str()));
        }
        if let Some(m) = &self.channels.matrix {
            refs.push(("channels.matrix.access_token", m.access_token.as_str()));
        }
        if let Some(t) = &self.channels.telegram {
            refs.push(("channels.telegram.bot_token", t.bot_token.as_str()));
        }
        if let Some(p) = &self.observability.prometheus {
            refs.push(("observability.prometheus.token", p.token.as_str()));
        }
        refs
    }

    /// Where a secret lands on the host, as OpenClaw and the secret check see it.
    pub fn secret_location(&self, name: &str) -> Option<SecretLocation> {
        let item = self.secrets.items.get(name)?;
        Some(match item.deliver {
            Delivery::File => SecretLocation::File {
                path: match (&self.secrets.backend, &item.path) {
                    (SecretBackend::Files, Some(p)) => p.clone(),
                    _ => format!("{}/{}", self.secrets.dir.trim_end_matches('/'), name),
                },
            },
            Delivery::Env => SecretLocation::Env {
                file: self.env_file_path(),
                var: item.env_var_name(name),
            },
        })
    }

    pub fn env_file_path(&self) -> String {
        format!(
            "{}/{}",
            self.secrets.dir.trim_end_matches('/'),
            self.secrets.env_file
        )
    }

    /// True when `egress.allow_domains` is set: the egress proxy is rendered and used.
    pub fn uses_egress_proxy(&self) -> bool {
        !self.egress.allow_domains.is_empty()
    }

    /// The egress proxy's access log (`egress.proxy.access_log` or its default).
    pub fn egress_proxy_access_log(&self) -> String {
        self.egress
            .proxy
            .access_log
            .clone()
            .unwrap_or_else(|| format!("/var/log/{}-egress-proxy/access.log", self.name))
    }

    /// The gateway's `Environment=` line for the egress proxy (empty without one): the
    /// standard variables for clients that honour them (web_fetch's trusted env proxy, exec'd
    /// tools), loopback exempt.
    pub fn egress_proxy_environment(&self) -> String {
        let ca = match &self.gateway.extra_ca_certs {
            Some(f) => format!(
                "# gateway.extra_ca_certs: trusted besides the system store.\nEnvironment=NODE_EXTRA_CA_CERTS={f}\n"
            ),
            None => String::new(),
        };
        if !self.uses_egress_proxy() {
            return ca;
        }
        let url = self.egress_proxy_url();
        ca + &format!(
            "# The egress proxy (egress.allow_domains) for every client that reads these.\n\
             Environment=HTTPS_PROXY={url} HTTP_PROXY={url} https_proxy={url} http_proxy={url} NO_PROXY=localhost,127.0.0.1,::1 no_proxy=localhost,127.0.0.1,::1\n"
        )
    }

    /// The egress proxy's unit name.
    pub fn egress_proxy_unit(&self) -> String {
        format!("{}-egress-proxy.service", self.name)
    }

    /// Where the gateway reaches the egress proxy: loopback for a native gateway, the
    /// container network's gateway address (the host side of the bridge) for a container.
    pub fn egress_proxy_url(&self) -> String {
        let port = self.egress.proxy.port;
        match self.runtime {
            Runtime::Native => format!("http://127.0.0.1:{port}"),
            Runtime::Container => format!("http://{}:{port}", self.container.network_gateway()),
        }
    }

    /// True when at least one secret goes through the env file.
    pub fn uses_env_file(&self) -> bool {
        self.secrets
            .items
            .values()
            .any(|i| i.deliver == Delivery::Env)
    }
}

impl SecretItem {
    pub fn kv_key<'a>(&'a self, name: &'a str) -> &'a str {
        self.key.as_deref().unwrap_or(name)
    }

    pub fn env_var_name(&self, name: &str) -> String {
        self.env_var
            .clone()
            .unwrap_or_else(|| name.to_ascii_uppercase().replace('-', "_"))
    }
}

fn field_error(path: String, message: String) -> String {
    // Parser messages quote the offending text; it comes from the user, so make it printable.
    let message = crate::error::printable_lines(&message, crate::error::MAX_SHOWN);
    if path.is_empty() || path == "." {
        message
    } else {
        format!(
            "{}: {message}",
            crate::error::printable(&path, crate::error::MAX_SHOWN)
        )
    }
}

/// Where one rendered secret ends up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretLocation {
    File { path: String },
    Env { file: String, var: String },
}
