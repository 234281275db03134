//! `openclaw.json`: the gateway's own config, in the key names OpenClaw 2026.9.6 accepts.
//!
//! Secrets appear only as SecretRefs (`{source, provider, id}`); their values live in files the
//! secret agent renders. Keys that hardening guides use but this version rejects
//! (`logging.redactSensitive`, `gateway.bind = "0.0.0.0"`, ...) are never emitted.

use serde_json::{json, Map, Value};

use super::Artifact;
use crate::spec::{
    AuthMode, Bind, Delivery, DmPolicy, DmScope, ExecSecurity, GroupPolicy, PeerKind, ReloadMode,
    SandboxMode, SecretLocation, Spec, ToolsProfile,
};

/// Provider name under `secrets.providers` for env-delivered secrets.
pub const ENV_PROVIDER: &str = "homelab-env";

/// Provider name under `secrets.providers` for one file-delivered secret.
pub fn file_provider(name: &str) -> String {
    format!("homelab-file-{name}")
}

pub fn artifact(spec: &Spec, config: &Value) -> Artifact {
    let mut text = serde_json::to_string_pretty(config).expect("config serialises");
    text.push('\n');
    // Only SecretRefs inside, but OpenClaw's own audit treats a config others can read as
    // critical (`fs.config.perms_world_readable`): the gateway's user alone reads it.
    Artifact::public(
        "openclaw.json",
        text,
        "OpenClaw gateway config (SecretRefs only)",
    )
    .with_mode(0o600)
    .owned_by(spec.paths.service_user.clone())
    .installed_at(spec.paths.config.clone())
}

/// The SecretRef for a named secret, as OpenClaw resolves it.
pub fn secret_ref(spec: &Spec, name: &str) -> Value {
    match spec.secret_location(name) {
        Some(SecretLocation::Env { var, .. }) => {
            json!({ "source": "env", "provider": ENV_PROVIDER, "id": var })
        }
        // singleValue file providers ignore the id; "value" documents that.
        _ => json!({ "source": "file", "provider": file_provider(name), "id": "value" }),
    }
}

pub fn render(spec: &Spec) -> Value {
    let mut root = Map::new();
    root.insert("gateway".into(), gateway(spec));
    root.insert("secrets".into(), secrets(spec));
    root.insert("models".into(), models(spec));
    root.insert("agents".into(), agents(spec));
    let routes = bindings(spec);
    if routes.as_array().is_some_and(|r| !r.is_empty()) {
        root.insert("bindings".into(), routes);
    }
    let channels = channels(spec);
    if !channels.is_empty() {
        root.insert("channels".into(), Value::Object(channels));
    }
    root.insert("plugins".into(), plugins(spec));
    root.insert(
        "discovery".into(),
        json!({ "mdns": { "mode": if spec.hardening.mdns { "minimal" } else { "off" } } }),
    );
    root.insert("tools".into(), tools(spec));
    root.insert(
        "session".into(),
        json!({ "dmScope": dm_scope(spec.hardening.dm_scope) }),
    );
    root.insert(
        "update".into(),
        json!({ "checkOnStart": spec.hardening.update_check, "auto": { "enabled": false } }),
    );
    root.insert("logging".into(), logging(spec));
    if spec.uses_egress_proxy() {
        // Managed proxy routing: fetch, node:http(s) and WebSocket clients of the gateway go
        // through the egress proxy (loopback stays direct: the control plane).
        root.insert(
            "proxy".into(),
            json!({ "proxyUrl": spec.egress_proxy_url(), "loopbackMode": "gateway-only" }),
        );
    }
    if let Some(otel) = &spec.observability.otel {
        root.insert(
            "diagnostics".into(),
            json!({ "otel": {
                "enabled": true,
                "endpoint": otel.endpoint,
                "protocol": "http/protobuf",
                "serviceName": otel.service_name,
                "metrics": otel.metrics,
                "traces": otel.traces,
                "logs": otel.logs,
                "captureContent": false,
            }}),
        );
    }
    let mut config = Value::Object(root);
    merge(&mut config, &Value::Object(spec.settings.clone()));
    config
}

/// `gateway.trustedProxies` of a loopback gateway whose spec names none.
pub const LOOPBACK_PROXIES: [&str; 2] = ["127.0.0.1", "::1"];

fn control_ui_enabled(spec: &Spec) -> bool {
    spec.gateway.control_ui && spec.channels.webchat.enabled
}

fn gateway(spec: &Spec) -> Value {
    let g = &spec.gateway;
    let mut gw = Map::new();
    gw.insert("mode".into(), json!("local"));
    gw.insert("port".into(), json!(g.port));
    gw.insert(
        "bind".into(),
        json!(match g.bind {
            Bind::Loopback => "loopback",
            Bind::Lan => "lan",
            Bind::Custom => "custom",
            Bind::Tailnet => "tailnet",
        }),
    );
    if let (Bind::Custom, Some(host)) = (g.bind, &g.custom_bind_host) {
        gw.insert("customBindHost".into(), json!(host));
    }
    let mut auth = Map::new();
    auth.insert(
        "mode".into(),
        json!(match g.auth {
            AuthMode::Token => "token",
            AuthMode::Password => "password",
            AuthMode::TrustedProxy => "trusted-proxy",
            AuthMode::None => "none",
        }),
    );
    if let Some(name) = &g.token {
        let key = if g.auth == AuthMode::Password {
            "password"
        } else {
            "token"
        };
        auth.insert(key.into(), secret_ref(spec, name));
    }
    auth.insert(
        "rateLimit".into(),
        json!({
            "maxAttempts": g.rate_limit.max_attempts,
            "windowMs": g.rate_limit.window.as_millis(),
            "lockoutMs": g.rate_limit.lockout.as_millis(),
            "exemptLoopback": g.rate_limit.exempt_loopback,
        }),
    );
    gw.insert("auth".into(), Value::Object(auth));
    if !g.trusted_proxies.is_empty() {
        gw.insert("trustedProxies".into(), json!(g.trusted_proxies));
    } else if g.bind == Bind::Loopback && control_ui_enabled(spec) {
        // A loopback gateway is reached through a proxy on the same host, if at all: without
        // trusted proxies every proxied client would count as local (OpenClaw's audit:
        // `gateway.trusted_proxies_missing`). A direct local client sends no forwarded
        // header and stays local.
        gw.insert("trustedProxies".into(), json!(LOOPBACK_PROXIES));
    }
    let mut ui = Map::new();
    ui.insert("enabled".into(), json!(control_ui_enabled(spec)));
    if !g.allowed_origins.is_empty() {
        ui.insert("allowedOrigins".into(), json!(g.allowed_origins));
    }
    gw.insert("controlUi".into(), Value::Object(ui));
    gw.insert(
        "reload".into(),
        json!({ "mode": match g.reload { ReloadMode::Off => "off", ReloadMode::Hybrid => "hybrid" } }),
    );
    Value::Object(gw)
}

/// Providers only for the secrets openclaw.json itself refers to; others (a Prometheus
/// credential, say) are none of the gateway's business.
fn secrets(spec: &Spec) -> Value {
    let used: Vec<&str> = spec
        .secret_references()
        .into_iter()
        .filter(|(field, _)| !field.starts_with("observability."))
        .map(|(_, name)| name)
        .collect();
    let mut providers = Map::new();
    let env_vars: Vec<String> = spec
        .secrets
        .items
        .iter()
        .filter(|(n, i)| i.deliver == Delivery::Env && used.contains(&n.as_str()))
        .map(|(n, i)| i.env_var_name(n))
        .collect();
    if !env_vars.is_empty() {
        providers.insert(
            ENV_PROVIDER.into(),
            json!({ "source": "env", "allowlist": env_vars }),
        );
    }
    for name in spec
        .secrets
        .items
        .keys()
        .filter(|n| used.contains(&n.as_str()))
    {
        if let Some(SecretLocation::File { path }) = spec.secret_location(name) {
            providers.insert(
                file_provider(name),
                json!({ "source": "file", "path": path, "mode": "singleValue" }),
            );
        }
    }
    json!({ "providers": providers })
}

fn models(spec: &Spec) -> Value {
    let m = &spec.models;
    let mut provider = Map::new();
    provider.insert("baseUrl".into(), json!(m.base_url));
    provider.insert("api".into(), json!("openai-completions"));
    if let Some(key) = &m.api_key {
        provider.insert("apiKey".into(), secret_ref(spec, key));
    }
    // Behind LiteLLM: long enough for its whole fallback chain, so OpenClaw gets LiteLLM's
    // answer (or its error) instead of cutting the request off first.
    let timeout = m.timeout.map(|t| t.as_secs()).or_else(|| {
        spec.litellm
            .as_ref()
            .map(super::litellm::gateway_timeout_secs)
    });
    if let Some(t) = timeout {
        provider.insert("timeoutSeconds".into(), json!(t));
    }
    provider.insert(
        "models".into(),
        Value::Array(
            m.models
                .iter()
                .map(|id| json!({ "id": id, "name": id }))
                .collect(),
        ),
    );
    json!({
        // replace: only the providers declared here exist, so no built-in cloud provider
        // can be selected behind the egress policy's back.
        "mode": "replace",
        "catalogRefresh": { "enabled": m.catalog_refresh },
        "providers": { m.provider_id.clone(): provider },
    })
}

/// `<provider>/<model>` for a model id of the provider, or the reference unchanged.
pub fn model_ref(spec: &Spec, model: &str) -> String {
    if model.contains('/') && !spec.models.models.iter().any(|m| m == model) {
        model.to_string()
    } else {
        format!("{}/{}", spec.models.provider_id, model)
    }
}

fn agents(spec: &Spec) -> Value {
    let m = &spec.models;
    let mut defaults = Map::new();
    defaults.insert(
        "model".into(),
        json!({
            "primary": model_ref(spec, &m.primary),
            "fallbacks": m.fallbacks.iter().map(|f| model_ref(spec, f)).collect::<Vec<_>>(),
        }),
    );
    let default_id = spec.default_agent().map(|a| a.id.clone());
    let fleet = spec.agents.len() > 1;
    if let (true, Some(id)) = (fleet, &default_id) {
        // OpenClaw 2026.9 retired per-agent `default` markers: a fleet names the owner of
        // ambient work (system consults, heartbeat) explicitly, and unrouted channel traffic
        // reaches it through catch-all bindings (see `bindings`).
        defaults.insert("systemAgent".into(), json!({ "agentId": id }));
        defaults.insert("heartbeat".into(), json!({ "agentId": id }));
    }
    let mut root = Map::new();
    if fleet {
        root.insert("ownership".into(), json!("explicit"));
    }
    root.insert("defaults".into(), Value::Object(defaults));
    if !spec.agents.is_empty() {
        let mut entries = Map::new();
        for a in &spec.agents {
            let mut e = Map::new();
            if let Some(n) = &a.name {
                e.insert("name".into(), json!(n));
            }
            if let Some(w) = &a.workspace {
                e.insert("workspace".into(), json!(w));
            }
            if let Some(model) = &a.model {
                e.insert("model".into(), json!(model_ref(spec, model)));
            }
            let mut tools = Map::new();
            if !a.tools_allow.is_empty() {
                // OpenClaw intersects an agent's allow list with the profile: under the
                // messaging profile seed 002's lists left no tool at all and every turn failed
                // ("No callable tools remain"). The agent's list is the whole grant, so the
                // agent gets the full profile narrowed to it (global denies still win).
                tools.insert("profile".into(), json!("full"));
                tools.insert("allow".into(), json!(a.tools_allow));
            }
            if !a.tools_deny.is_empty() {
                tools.insert("deny".into(), json!(a.tools_deny));
            }
            if !tools.is_empty() {
                e.insert("tools".into(), Value::Object(tools));
            }
            if let Some(mode) = a.sandbox {
                e.insert(
                    "sandbox".into(),
                    json!({ "mode": match mode {
                        SandboxMode::Off => "off",
                        SandboxMode::NonMain => "non-main",
                        SandboxMode::All => "all",
                    }}),
                );
            }
            entries.insert(a.id.clone(), Value::Object(e));
        }
        root.insert("entries".into(), Value::Object(entries));
    }
    Value::Object(root)
}

/// Channels the gateway serves, by OpenClaw channel id.
fn configured_channels(spec: &Spec) -> Vec<&'static str> {
    let mut c = Vec::new();
    if spec.channels.matrix.is_some() {
        c.push("matrix");
    }
    if spec.channels.telegram.is_some() {
        c.push("telegram");
    }
    c
}

fn bindings(spec: &Spec) -> Value {
    let mut routes: Vec<Value> = spec
        .bindings
        .iter()
        .map(|b| {
            let mut m = Map::new();
            m.insert("channel".into(), json!(b.channel));
            if let Some(acc) = &b.account {
                m.insert("accountId".into(), json!(acc));
            }
            if let Some(p) = &b.peer {
                let kind = match p.kind {
                    PeerKind::Direct => "direct",
                    PeerKind::Group => "group",
                    PeerKind::Channel => "channel",
                };
                m.insert("peer".into(), json!({ "kind": kind, "id": p.id }));
            }
            json!({ "type": "route", "agentId": b.agent, "match": m })
        })
        .collect();
    // In an explicit-ownership fleet, traffic no specific binding claims would fail closed;
    // send it to the default agent, after the specific routes.
    if let (true, Some(default)) = (spec.agents.len() > 1, spec.default_agent()) {
        for ch in configured_channels(spec) {
            let has_catch_all = spec
                .bindings
                .iter()
                .any(|b| b.channel == ch && b.peer.is_none() && b.account.is_none());
            if !has_catch_all {
                routes.push(json!({
                    "type": "route",
                    "agentId": default.id,
                    "match": { "channel": ch, "accountId": "*" },
                }));
            }
        }
    }
    Value::Array(routes)
}

fn dm_policy(p: DmPolicy) -> &'static str {
    match p {
        DmPolicy::Allowlist => "allowlist",
        DmPolicy::Pairing => "pairing",
        DmPolicy::Open => "open",
        DmPolicy::Disabled => "disabled",
    }
}

fn group_policy(p: GroupPolicy) -> &'static str {
    match p {
        GroupPolicy::Allowlist => "allowlist",
        GroupPolicy::Open => "open",
        GroupPolicy::Disabled => "disabled",
    }
}

fn channels(spec: &Spec) -> Map<String, Value> {
    let mut channels = Map::new();
    if let Some(mx) = &spec.channels.matrix {
        let groups: Map<String, Value> = mx
            .rooms
            .iter()
            .map(|(room, r)| (room.clone(), json!({ "requireMention": r.require_mention })))
            .collect();
        let mut m = Map::new();
        m.insert("enabled".into(), json!(true));
        m.insert("homeserver".into(), json!(mx.homeserver));
        m.insert("userId".into(), json!(mx.user_id));
        m.insert("accessToken".into(), secret_ref(spec, &mx.access_token));
        m.insert("encryption".into(), json!(mx.encryption));
        // OpenClaw refuses private/LAN homeservers (SSRF guard) unless told; the spec already
        // says so where its egress rule for the homeserver has allow_private.
        if homeserver_is_private(spec, &mx.homeserver) {
            m.insert(
                "network".into(),
                json!({ "dangerouslyAllowPrivateNetwork": true }),
            );
        }
        m.insert(
            "dm".into(),
            json!({ "enabled": mx.dm_policy != DmPolicy::Disabled, "policy": dm_policy(mx.dm_policy), "allowFrom": mx.allow_from }),
        );
        m.insert("groupPolicy".into(), json!(group_policy(mx.group_policy)));
        if !mx.group_allow_from.is_empty() {
            m.insert("groupAllowFrom".into(), json!(mx.group_allow_from));
        }
        if !groups.is_empty() {
            m.insert("groups".into(), Value::Object(groups));
        }
        let auto_join = match mx.auto_join {
            crate::spec::AutoJoin::Allowlist => "allowlist",
            crate::spec::AutoJoin::Always => "always",
            crate::spec::AutoJoin::Off => "off",
        };
        m.insert("autoJoin".into(), json!(auto_join));
        if mx.auto_join == crate::spec::AutoJoin::Allowlist {
            m.insert(
                "autoJoinAllowlist".into(),
                json!(mx
                    .rooms
                    .keys()
                    .filter(|r| r.as_str() != "*")
                    .collect::<Vec<_>>()),
            );
        }
        channels.insert("matrix".into(), Value::Object(m));
    }
    if let Some(tg) = &spec.channels.telegram {
        channels.insert(
            "telegram".into(),
            json!({
                "enabled": true,
                "botToken": secret_ref(spec, &tg.bot_token),
                "dmPolicy": dm_policy(tg.dm_policy),
                "allowFrom": tg.allow_from,
                "groupPolicy": group_policy(tg.group_policy),
            }),
        );
    }
    channels
}

/// Plugins that must load for the configured channels and observability.
pub fn required_plugins(spec: &Spec) -> Vec<&'static str> {
    let mut p = Vec::new();
    if spec.channels.matrix.is_some() {
        p.push("matrix");
    }
    if spec.channels.telegram.is_some() {
        p.push("telegram");
    }
    if spec
        .observability
        .prometheus
        .as_ref()
        .is_some_and(|p| p.gateway_metrics)
    {
        p.push("diagnostics-prometheus");
    }
    if spec.observability.otel.is_some() {
        p.push("diagnostics-otel");
    }
    p
}

/// Whether the homeserver is a private/LAN target: a loopback or private address, or a host
/// name the egress policy lets through only by `allow_private`.
fn homeserver_is_private(spec: &Spec, url: &str) -> bool {
    let Some(u) = crate::validate::parse_url(url) else {
        return false;
    };
    match u.host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || crate::net::blocked_range_of_addr(ip).is_some(),
        Err(_) => {
            u.host == "localhost"
                || spec
                    .egress
                    .allow
                    .iter()
                    .any(|a| a.allow_private && a.hosts.iter().any(|h| h == &u.host))
        }
    }
}

fn plugins(spec: &Spec) -> Value {
    let required = required_plugins(spec);
    let mut allow: Vec<String> = spec.hardening.plugins_allow.clone();
    allow.extend(required.iter().map(|s| s.to_string()));
    allow.sort();
    allow.dedup();
    let entries: Map<String, Value> = required
        .iter()
        .map(|p| (p.to_string(), json!({ "enabled": true })))
        .collect();
    let mut m = Map::new();
    if !allow.is_empty() {
        m.insert("allow".into(), json!(allow));
    }
    if let Some(dir) = &spec.paths.plugins_dir {
        m.insert("load".into(), json!({ "paths": [dir] }));
    }
    if !entries.is_empty() {
        m.insert("entries".into(), Value::Object(entries));
    }
    Value::Object(m)
}

fn tools(spec: &Spec) -> Value {
    let h = &spec.hardening;
    let mut tools = json!({
        "profile": match h.tools_profile {
            ToolsProfile::Minimal => "minimal",
            ToolsProfile::Coding => "coding",
            ToolsProfile::Messaging => "messaging",
            ToolsProfile::Full => "full",
        },
        "deny": h.tools_deny,
        "exec": { "security": match h.exec_security {
            ExecSecurity::Deny => "deny",
            ExecSecurity::Allowlist => "allowlist",
            ExecSecurity::Full => "full",
        }},
        "elevated": { "enabled": false },
    });
    if !h.fs_beyond_workspace {
        // File tools otherwise read anything the gateway's user can: other agents' workspaces,
        // openclaw.json, the rendered secrets (the hostile suite's finding).
        tools["fs"] = json!({ "workspaceOnly": true });
    }
    if !h.cross_agent_sessions {
        // By default any agent's session tools reach every session on the gateway.
        tools["sessions"] = json!({ "visibility": "tree" });
        tools["agentToAgent"] = json!({ "enabled": false });
    }
    if !h.message_other_chats {
        // OpenClaw lets the message tool post anywhere its channels reach; a session bound to
        // a chat may then only post back into that chat (the hostile suite's finding).
        tools["message"] = json!({ "crossContext": {
            "allowWithinProvider": false,
            "allowAcrossProviders": false,
        }});
    }
    if spec.uses_egress_proxy() {
        // web_fetch otherwise resolves names itself and connects to the pinned address,
        // which the proxy refuses (IP literal); the proxy resolves and checks instead.
        tools["web"] = json!({ "fetch": { "useTrustedEnvProxy": true } });
    }
    tools
}

fn dm_scope(s: DmScope) -> &'static str {
    match s {
        DmScope::Main => "main",
        DmScope::PerPeer => "per-peer",
        DmScope::PerChannelPeer => "per-channel-peer",
        DmScope::PerAccountChannelPeer => "per-account-channel-peer",
    }
}

fn logging(spec: &Spec) -> Value {
    let h = &spec.hardening;
    let file = h.log_file.clone().unwrap_or_else(|| {
        format!(
            "{}/logs/openclaw.log",
            spec.paths.state_dir.trim_end_matches('/')
        )
    });
    json!({
        "level": "info",
        "file": file,
        "redactPatterns": h.redact_patterns,
        // The audit ledger: one metadata-only row per tool call (agent, session, run, tool,
        // status), the half of the audit trail without arguments (the session transcript,
        // redacted by redactPatterns, has those and the model's request id). On by default in
        // 2026.9.6; stated so a changed default cannot switch it off unseen.
        "audit": { "enabled": true },
    })
}

/// RFC 7396-style merge: objects merge key by key, everything else replaces.
pub fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(name: &str) -> Spec {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
        Spec::from_path(&dir.join(name)).unwrap()
    }

    #[test]
    fn the_audit_ledger_is_on_and_tool_arguments_are_redacted_by_our_patterns() {
        let spec = example("lab.toml");
        let cfg = render(&spec);
        assert_eq!(cfg["logging"]["audit"]["enabled"], true);
        assert_eq!(
            cfg["logging"]["redactPatterns"],
            json!(spec.hardening.redact_patterns)
        );
        crate::openclaw_schema::validate(&cfg).unwrap();
        // With an OTEL endpoint, tool-call and model-call spans go to it; content stays home.
        let otel = &render(&example("lxc-homelab.toml"))["diagnostics"]["otel"];
        assert_eq!(otel["traces"], true, "{otel}");
        assert_eq!(otel["captureContent"], false, "{otel}");
    }

    /// The hostile suite's findings: the message tool, the file tools and the session tools are
    /// confined by default; each opt-out drops its setting and warns; an agent's allow list is
    /// its whole grant (full profile narrowed to it).
    #[test]
    fn hostile_suite_defaults_confine_tools_and_opt_outs_warn() {
        let spec = example("lab-multi-agent.toml");
        let cfg = render(&spec);
        let t = &cfg["tools"];
        assert_eq!(t["message"]["crossContext"]["allowWithinProvider"], false);
        assert_eq!(t["message"]["crossContext"]["allowAcrossProviders"], false);
        assert_eq!(t["fs"]["workspaceOnly"], true);
        assert_eq!(t["sessions"]["visibility"], "tree");
        assert_eq!(t["agentToAgent"]["enabled"], false);
        let personal = &cfg["agents"]["entries"]["personal"]["tools"];
        assert_eq!(personal["profile"], "full", "{personal}");
        assert_eq!(
            personal["allow"],
            json!(["read", "write", "web_search", "memory"])
        );
        crate::openclaw_schema::validate(&cfg).unwrap();
        assert!(crate::validate::warnings(&spec).is_empty());

        let mut open = spec.clone();
        open.hardening.message_other_chats = true;
        open.hardening.fs_beyond_workspace = true;
        open.hardening.cross_agent_sessions = true;
        let t = &render(&open)["tools"];
        for key in ["message", "fs", "sessions", "agentToAgent"] {
            assert!(t[key].is_null(), "{key}: {t}");
        }
        let warned: Vec<String> = crate::validate::warnings(&open)
            .into_iter()
            .map(|w| w.field)
            .collect();
        for field in [
            "hardening.message_other_chats",
            "hardening.fs_beyond_workspace",
            "hardening.cross_agent_sessions",
        ] {
            assert!(warned.iter().any(|w| w == field), "{field}: {warned:?}");
        }
    }

    /// A LAN homeserver (its egress rule says allow_private) is let through OpenClaw's SSRF
    /// guard; a public one, or one given as a public address, is not.
    #[test]
    fn only_private_homeservers_get_the_private_network_opt_in() {
        let flag = |spec: &Spec| render(spec)["channels"]["matrix"]["network"].clone();
        let lan = example("lxc-homelab.toml");
        assert_eq!(flag(&lan)["dangerouslyAllowPrivateNetwork"], true);
        let public = example("vps-agents-cron.toml");
        assert!(flag(&public).is_null(), "{}", flag(&public));
        let mut by_ip = example("lxc-homelab.toml");
        by_ip.channels.matrix.as_mut().unwrap().homeserver = "https://10.0.3.11".into();
        assert_eq!(flag(&by_ip)["dangerouslyAllowPrivateNetwork"], true);
        by_ip.channels.matrix.as_mut().unwrap().homeserver = "https://203.0.113.7".into();
        assert!(flag(&by_ip).is_null());
    }
}
