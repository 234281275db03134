//! Bad specs are rejected with a message naming the field, and nothing is written.
//! Each case starts from a valid example and breaks one thing, as a user would.

mod support;

use openclaw_render::{render_all, RenderError, Spec};

/// Sets `path` (dotted, with `[i]` for array items) to a TOML literal; `-` removes the key.
fn set(doc: &mut toml::Value, path: &str, literal: &str) {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('.') {
        match seg.split_once('[') {
            Some((k, idx)) => {
                parts.push(k);
                parts.push(idx.trim_end_matches(']'));
            }
            None => parts.push(seg),
        }
    }
    let last = parts.pop().unwrap();
    let mut cur = doc;
    for p in parts {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur.as_array_mut().unwrap()[i],
            Err(_) => cur
                .as_table_mut()
                .unwrap()
                .entry(p)
                .or_insert(toml::Value::Table(Default::default())),
        };
    }
    let t = cur.as_table_mut().unwrap();
    if literal == "-" {
        t.remove(last);
    } else {
        let v: toml::Table = toml::from_str(&format!("v = {literal}")).unwrap();
        t.insert(last.to_string(), v["v"].clone());
    }
}

/// Renders the example with the edits applied and returns the error text (panics if it renders).
fn rejection(example: &str, edits: &[(&str, &str)]) -> String {
    let text = std::fs::read_to_string(support::example(example)).unwrap();
    let mut doc: toml::Value = toml::from_str(&text).unwrap();
    for (path, lit) in edits {
        set(&mut doc, path, lit);
    }
    let text = toml::to_string(&doc).unwrap();
    match Spec::from_toml(&text) {
        Err(e) => e.to_string(),
        Ok(spec) => match render_all(&spec) {
            Ok(_) => panic!("spec with {edits:?} was accepted"),
            Err(e @ RenderError::Invalid(_)) => e.to_string(),
            Err(e) => panic!("{edits:?}: expected a field error, got {e}"),
        },
    }
}

const LXC: &str = "lxc-homelab.toml";
const AGENTS: &str = "vps-agents-cron.toml";
const MULTI: &str = "podman-multi-agent.toml";
const LAB: &str = "lab.toml";

/// (example, edits as (path, TOML literal), the field the message must name)
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

#[rustfmt::skip]
const CASES: &[Case] = &[
    (LXC, &[("name", "\"Open Claw\"")], "name"),
    (LXC, &[("gateway.port", "80")], "gateway.port"),
    (LXC, &[("gateway.port", "70000")], "gateway.port"),
    (LXC, &[("gateway.bind", "\"0.0.0.0\"")], "gateway.bind"),
    (LXC, &[("gateway.bind", "\"custom\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.bind", "\"custom\""), ("gateway.custom_bind_host", "\"0.0.0.0\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.custom_bind_host", "\"10.0.3.20\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.auth", "\"none\"")], "gateway.auth"),
    (LXC, &[("gateway.token", "-")], "gateway.token"),
    (LXC, &[("gateway.token", "\"gw_token_typo\"")], "gateway.token"),
    (LXC, &[("gateway.token", "\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c\"")], "gateway.token"),
    (LXC, &[("gateway.auth", "\"trusted-proxy\""), ("gateway.trusted_proxies", "[]")], "gateway.trusted_proxies"),
    (LXC, &[("gateway.trusted_proxies", "[\"proxy.home\"]")], "gateway.trusted_proxies[0]"),
    (LXC, &[("gateway.allowed_origins", "[\"*\"]")], "gateway.allowed_origins[0]"),
    (LXC, &[("gateway.allowed_origins", "[\"https://openclaw.home.example/\"]")], "gateway.allowed_origins[0]"),
    (LXC, &[("gateway.rate_limit.max_attempts", "0")], "gateway.rate_limit.max_attempts"),
    (LXC, &[("gateway.rate_limit.window", "\"0s\"")], "gateway.rate_limit"),
    (LXC, &[("gateway.rate_limit.window", "\"1 minute\"")], "gateway.rate_limit.window"),
    (LXC, &[("gateway.listen", "\"x\"")], "gateway.listen"),
    (LXC, &[("models.api_key", "\"sk-live-abcdefghijklmnopqrstuvwx\"")], "models.api_key"),
    (LXC, &[("models.api_key", "-")], "models.api_key"),
    (LXC, &[("models.base_url", "\"litellm.home.example/v1\"")], "models.base_url"),
    (LXC, &[("models.primary", "\"gpt-4\"")], "models.primary"),
    (LXC, &[("models.fallbacks", "[\"nope\"]")], "models.fallbacks[0]"),
    (LXC, &[("models.fallbacks", "[\"claude-opus-4-6\"]")], "models.fallbacks[0]"),
    (LXC, &[("models.models", "[]"), ("models.fallbacks", "[]")], "models.models"),
    (LXC, &[("models.provider_id", "\"Lite LLM\"")], "models.provider_id"),
    (LXC, &[("models.base_url", "\"https://litellm.elsewhere.example/v1\"")], "egress.allow"),
    (LXC, &[("channels.matrix.allow_from", "[]")], "channels.matrix.allow_from"),
    (LXC, &[("channels.matrix.dm_policy", "\"open\"")], "channels.matrix.dm_policy"),
    (LXC, &[("channels.matrix.allow_from", "[\"you@home.example\"]")], "channels.matrix.allow_from[0]"),
    (LXC, &[("channels.matrix.user_id", "\"openclaw\"")], "channels.matrix.user_id"),
    (LXC, &[("channels.matrix.homeserver", "\"http://matrix.home.example\"")], "channels.matrix.homeserver"),
    (LXC, &[("channels.matrix.rooms", "{}")], "channels.matrix.rooms"),
    (LXC, &[("channels.matrix.group_policy", "\"open\""), ("channels.matrix.rooms", "{ \"*\" = { require_mention = false } }")], "require_mention"),
    (LXC, &[("channels.matrix.access_token", "\"syt_b3BlbmNsYXc_FAKEtokenFAKEtoken_0a1b2c\"")], "channels.matrix.access_token"),
    (LXC, &[("channels.matrix.dm_policy", "\"whitelist\"")], "channels.matrix.dm_policy"),
    (LXC, &[("secrets.openbao", "-")], "secrets.openbao"),
    (LXC, &[("secrets.openbao.address", "\"http://openbao.home.example:8200\"")], "secrets.openbao.address"),
    (LXC, &[("secrets.openbao.kv_path", "\"kv/data/aether/openclaw\"")], "secrets.openbao.kv_path"),
    (LXC, &[("secrets.openbao.refresh_interval", "\"1s\"")], "secrets.openbao.refresh_interval"),
    (LXC, &[("machine_cert", "-")], "machine_cert"),
    (LXC, &[("machine_cert.renew_before", "\"10m\"")], "machine_cert.renew_before"),
    (LXC, &[("machine_cert.ca_url", "\"http://ca.home.example:9000\"")], "machine_cert.ca_url"),
    (LXC, &[("secrets.dir", "\"/nix/store/abc-secrets\"")], "secrets.dir"),
    (LXC, &[("secrets.env_file", "\"../openclaw.env\"")], "secrets.env_file"),
    (LXC, &[("secrets.items.gateway_token.min_length", "12")], "secrets.items.gateway_token.min_length"),
    (LXC, &[("secrets.items.litellm_api_key.min_length", "4")], "secrets.items.litellm_api_key.min_length"),
    (LXC, &[("secrets.items.litellm_api_key.env_var", "\"LITELLM\"")], "secrets.items.litellm_api_key.env_var"),
    (LXC, &[("secrets.items.litellm_api_key.deliver", "\"env\""), ("secrets.items.litellm_api_key.env_var", "\"1BAD\"")], "secrets.items.litellm_api_key.env_var"),
    (LXC, &[("secrets.items.litellm_api_key.path", "\"/run/x\"")], "secrets.items.litellm_api_key.path"),
    (LXC, &[("secrets.items.Bad-Name", "{}")], "secrets.items.Bad-Name"),
    (LXC, &[("secrets.backend", "\"files\"")], "secrets.openbao"),
    (LXC, &[("egress.allow[0].to", "\"10.0.0.0/8\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].allow_private", "false")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].ports", "[]")], "egress.allow[0].ports"),
    (LXC, &[("egress.allow[0].to", "\"10.0.3.300\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"0.0.0.0/0\"")], "egress.allow[0].to"),
    (LXC, &[("egress.dns_resolvers", "[]")], "egress.dns_resolvers"),
    (LXC, &[("egress.dns_resolvers", "[\"dns.home.example\"]")], "egress.dns_resolvers[0]"),
    (LXC, &[("egress.container_interfaces", "[\"a-very-long-interface-name\"]")], "egress.container_interfaces[0]"),
    (LXC, &[("egress.allow[2].ports", "[8201]")], "secrets.openbao.address"),
    (LXC, &[("egress.allow[3].hosts", "[]")], "machine_cert.ca_url"),
    (LXC, &[("egress.allow_domains", "[\"*\"]")], "egress.allow_domains[0]"),
    (LXC, &[("egress.allow_domains", "[\"*.com\"]")], "egress.allow_domains[0]"),
    (LXC, &[("egress.allow_domains", "[\"api.example.com\", \"203.0.113.7\"]")], "egress.allow_domains[1]"),
    (LXC, &[("egress.allow_domains", "[\"API.example.com\"]")], "egress.allow_domains[0]"),
    (LXC, &[("egress.allow_domains", "[\"api.example.com.\"]")], "egress.allow_domains[0]"),
    (LXC, &[("egress.allow_domains", "[\"bücher.example\"]")], "egress.allow_domains[0]"),
    (LXC, &[("egress.allow_domains", "[\"api.example.com:0\"]")], "egress.allow_domains[0]"),
    (LXC, &[("egress.allow_domains", "[\"a.example.com\", \"a.example.com:443\"]")], "egress.allow_domains[1]"),
    (LXC, &[("egress.allow_domains", "[\"a.example.com\"]"), ("egress.proxy.port", "18789")], "egress.proxy.port"),
    (LXC, &[("egress.allow_domains", "[\"a.example.com\"]"), ("egress.proxy.user", "\"openclaw\"")], "egress.proxy.user"),
    (LXC, &[("ingress.allow_from", "[]")], "ingress.allow_from"),
    (LXC, &[("ingress.allow_from", "[\"0.0.0.0/0\"]")], "ingress.allow_from[0]"),
    (LXC, &[("observability.prometheus.target", "\"gateway\"")], "observability.prometheus.target"),
    (LXC, &[("observability.prometheus.probe_textfile", "\"/tmp/openclaw.txt\"")], "observability.prometheus.probe_textfile"),
    (LXC, &[("observability.otel.endpoint", "\"otel:4318\"")], "observability.otel.endpoint"),
    (LXC, &[("proxy.upstream", "\"10.0.3.20\"")], "proxy.upstream"),
    (LXC, &[("proxy.forward_auth.uri", "\"realms/home\"")], "proxy.forward_auth.uri"),
    (LXC, &[("proxy.upstream", "\"127.0.0.1:18789\""), ("gateway.rate_limit.exempt_loopback", "true")], "gateway.rate_limit.exempt_loopback"),
    (LXC, &[("container.image", "\"ghcr.io/openclaw/openclaw:latest\"")], "container.image"),
    (LXC, &[("container.image", "\"docker-archive:/tmp/openclaw.tar\"")], "container.image"),
    (LXC, &[("container.memory_max", "\"1800M\"")], "container.memory_max"),
    (LXC, &[("container.memory_max", "\"2T\"")], "container.memory_max"),
    (LXC, &[("container.user", "\"0:0\"")], "container.user"),
    (LXC, &[("container.user", "\"node\"")], "container.user"),
    (LXC, &[("container.pids_limit", "16")], "container.pids_limit"),
    (LXC, &[("container.cpus", "0.0")], "container.cpus"),
    (LXC, &[("container.volumes", "[\"/run/podman/podman.sock:/var/run/docker.sock\"]")], "container.volumes[0]"),
    (LXC, &[("container.volumes", "[\"data:/data\"]")], "container.volumes[0]"),
    (LXC, &[("paths.service_user", "\"root\"")], "paths.service_user"),
    (LXC, &[("paths.plugins_dir", "\"plugins\"")], "paths.plugins_dir"),
    (LXC, &[("paths.openclaw_bin", "\"openclaw\"")], "paths.openclaw_bin"),
    (LXC, &[("hardening.log_file", "\"/tmp/openclaw/openclaw.log\"")], "hardening.log_file"),
    (LXC, &[("settings", "{ gateway = { auth = { mode = \"none\" } } }")], "settings.gateway"),
    (LXC, &[("settings", "{ channels = { telegram = { botToken = \"123456789:AAHk9aQ-abcdefghijklmnopqrstuvwxyz0\" } } }")], "settings.channels.telegram.botToken"),
    // Keys OpenClaw 2026.9.6's own schema rejects, written through `settings`.
    (LXC, &[("settings", "{ metrics = { enabled = true } }")], "settings.metrics:"),
    (LXC, &[("settings", "{ gateway = { reload = { mode = \"hot\" } } }")], "settings.gateway.reload.mode:"),
    (LXC, &[("settings", "{ agents = { defaults = { maxTokens = 4096 } } }")], "settings.agents.defaults.maxTokens:"),
    (AGENTS, &[("cron[0].schedule", "\"0 8 * *\"")], "cron[0].schedule"),
    (AGENTS, &[("cron[1].schedule", "\"0 25 * * 5\"")], "cron[1].schedule"),
    (AGENTS, &[("cron[2].agent", "\"ghost\"")], "cron[2].agent"),
    (AGENTS, &[("cron[0].prompt", "\"  \"")], "cron[0].prompt"),
    (AGENTS, &[("cron[1].name", "\"morning-briefing\"")], "cron[1].name"),
    (AGENTS, &[("cron[0].timezone", "\"Central European\"")], "cron[0].timezone"),
    (AGENTS, &[("agents[1].id", "\"briefer\"")], "agents[1].id"),
    (AGENTS, &[("agents[1].default", "true")], "agents"),
    (AGENTS, &[("agents[2].tools_allow", "[\"exec\"]")], "agents[2].tools_allow"),
    (AGENTS, &[("agents[0].model", "\"gpt-4o\"")], "agents[0].model"),
    (AGENTS, &[("channels.telegram.allow_from", "[]")], "channels.telegram.allow_from"),
    (AGENTS, &[("channels.telegram.allow_from", "[\"@owner\"]")], "channels.telegram.allow_from[0]"),
    (AGENTS, &[("channels.telegram.dm_policy", "\"open\"")], "channels.telegram.dm_policy"),
    (AGENTS, &[("egress.allow_public_web", "false")], "egress.allow"),
    (MULTI, &[("bindings[0].agent", "\"kids\"")], "bindings[0].agent"),
    (MULTI, &[("bindings[1].channel", "\"telegram\"")], "bindings[1].channel"),
    (MULTI, &[("agents[0].workspace", "\"workspace/personal\"")], "agents[0].workspace"),
    // Issue 15, class 3: paths are normalised before any check, never compared as strings.
    (LXC, &[("secrets.dir", "\"/run/../nix/store/x\"")], "secrets.dir"),
    (LXC, &[("secrets.dir", "\"/nix//store/x\"")], "secrets.dir"),
    (LXC, &[("secrets.dir", "\"/run/./secrets\"")], "secrets.dir"),
    (LXC, &[("secrets.env_file", "\"..\"")], "secrets.env_file"),
    (LXC, &[("secrets.env_file", "\".\"")], "secrets.env_file"),
    (LXC, &[("paths.config", "\"/etc/openclaw/../shadow\"")], "paths.config"),
    (LXC, &[("machine_cert.key", "\"/nix//store/k.key\"")], "machine_cert.key"),
    // Class 1: line-oriented injection, one example per renderer (the schema walk in
    // hostile_strings.rs covers every field).
    (LXC, &[("paths.state_dir", "\"/var/lib/openclaw\\nz /etc/shadow 0666 - - -\"")], "paths.state_dir"),
    (MULTI, &[("container.image", "\"localhost/openclaw@sha256:0000000000000000000000000000000000000000000000000000000000000000\\nPublishPort=0.0.0.0:2222:22\"")], "container.image"),
    (LXC, &[("paths.config", "\"/etc/openclaw/openclaw.json\\nExecStartPre=/bin/sh\"")], "paths.config"),
    (LXC, &[("proxy.upstream", "\"127.0.0.1:18789\\n}\\nevil.example {\\n\\treverse_proxy 127.0.0.1:18789\"")], "proxy.upstream"),
    (LXC, &[("observability.prometheus.target", "\"10.0.3.20:18789\\\", \\\"evil.example:80\"")], "observability.prometheus.target"),
    // Class 2: no artifact path may leave --out.
    (MULTI, &[("container.network", "\"../../../tmp/escape\"")], "container.network"),
    // Class 7: what `check` passes, `render` can write (a file name longer than NAME_MAX).
    (LXC, &[("secrets.items.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "{}")], "secrets.items.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
    // Class 4: the passthrough cannot undo the spec, carry a literal credential or turn on a
    // dangerously* switch without a named opt-in.
    (LXC, &[("settings.gateway.port", "18790")], "settings.gateway.port"),
    (LXC, &[("settings.gateway.bind", "\"lan\"")], "settings.gateway.bind"),
    (LXC, &[("settings.gateway.auth.mode", "\"none\"")], "settings.gateway.auth.mode"),
    (LXC, &[("settings.gateway.auth.token", "\"0123456789abcdef0123456789abcdef\"")], "settings.gateway.auth.token"),
    (LXC, &[("settings.gateway.trustedProxies", "[\"0.0.0.0/0\"]")], "settings.gateway.trustedProxies"),
    (LXC, &[("settings.gateway.controlUi.allowedOrigins", "[\"*\"]")], "settings.gateway.controlUi.allowedOrigins"),
    (LXC, &[("settings.gateway.tailscale.mode", "\"funnel\"")], "settings.gateway.tailscale"),
    (LXC, &[("settings.secrets.providers.x.source", "\"exec\"")], "settings.secrets"),
    (LXC, &[("settings.models.providers.litellm.apiKey", "\"abc\"")], "settings.models.providers"),
    (LXC, &[("settings.tools.web.search.apiKey", "\"BSAxyz1234\"")], "settings.tools.web.search.apiKey"),
    (LXC, &[("settings.gateway.controlUi.dangerouslyDisableDeviceAuth", "true")], "settings.gateway.controlUi.dangerouslyDisableDeviceAuth"),
    (LXC, &[("hardening.dangerous_settings", "[\"gateway.port\"]")], "hardening.dangerous_settings[0]"),
    // Class 5: allow rules may not swallow what is always blocked; NAT64, resolvers, ingress
    // coverage and unspecified bind addresses in other spellings.
    (LXC, &[("egress.allow[0].to", "\"169.0.0.0/8\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"172.0.0.0/8\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"100.0.0.0/8\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"169.254.169.254\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"169.254.169.0/24\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"64:ff9b::a9fe:a9fe\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"::ffff:169.254.169.254\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"fc00::/7\"")], "egress.allow[0].to"),
    (LXC, &[("egress.allow[0].to", "\"fc00::/6\"")], "egress.allow[0].to"),
    (LXC, &[("egress.dns_resolvers", "[\"169.254.169.254\"]")], "egress.dns_resolvers[0]"),
    (LXC, &[("egress.dns_resolvers", "[\"fd00:ec2::254\"]")], "egress.dns_resolvers[0]"),
    (LXC, &[("egress.dns_resolvers", "[\"0.0.0.0\"]")], "egress.dns_resolvers[0]"),
    (LXC, &[("egress.nat64_prefixes", "[\"10.0.0.0/8\"]")], "egress.nat64_prefixes[0]"),
    (LXC, &[("ingress.allow_from", "[\"0.0.0.0/1\", \"128.0.0.0/1\"]")], "ingress.allow_from"),
    (LXC, &[("ingress.allow_from", "[\"::/1\", \"8000::/1\"]")], "ingress.allow_from"),
    (LXC, &[("gateway.bind", "\"custom\""), ("gateway.custom_bind_host", "\"::ffff:0.0.0.0\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.bind", "\"custom\""), ("gateway.custom_bind_host", "\"0\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.bind", "\"custom\""), ("gateway.custom_bind_host", "\"0.0.0.0.\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.bind", "\"custom\""), ("gateway.custom_bind_host", "\"[::]\"")], "gateway.custom_bind_host"),
    (LXC, &[("gateway.bind", "\"custom\""), ("gateway.custom_bind_host", "\"0:0::0\"")], "gateway.custom_bind_host"),
    (LXC, &[("egress.allow_public_web", "true"), ("models.base_url", "\"https://[64:ff9b:1::a9fe:a9fe]/v1\"")], "egress.allow"),
    // Class 6: croner's semantics (tests/cron_croner.rs compares with the real croner).
    (AGENTS, &[("cron[0].schedule", "\"0 8 * * 5-1\"")], "cron[0].schedule"),
    (AGENTS, &[("cron[0].schedule", "\"0 8 31 2 *\"")], "cron[0].schedule"),
    (AGENTS, &[("cron[0].schedule", "\"5/15 * * * *\"")], "cron[0].schedule"),
    // [litellm]: the gateway points at it without a fallback layer of its own, its keys stay
    // its own, its egress reaches each provider.
    (LAB, &[("models.fallbacks", "[\"lab-fallback\"]"), ("models.models", "[\"lab-model\", \"lab-fallback\"]")], "models.fallbacks"),
    (LAB, &[("models.primary", "\"lab-fallback\""), ("models.models", "[\"lab-fallback\"]")], "models.primary"),
    (LAB, &[("models.base_url", "\"http://llm.olab.test:4001/v1\"")], "models.base_url"),
    (LAB, &[("litellm.primary", "\"nope\"")], "litellm.primary"),
    (LAB, &[("litellm.fallbacks", "[\"lab-model\"]")], "litellm.fallbacks[0]"),
    // LiteLLM's server binds `::` IPv6-only: IPv4 clients would be refused.
    (LAB, &[("litellm.listen", "\"[::]:4000\"")], "litellm.listen"),
    (LAB, &[("litellm.timeout", "\"0s\"")], "litellm.timeout"),
    (LAB, &[("litellm.retries", "9")], "litellm.retries"),
    (LAB, &[("litellm.budget_usd", "-1.0")], "litellm.budget_usd"),
    (LAB, &[("litellm.providers", "[]")], "litellm.providers"),
    (LAB, &[("litellm.providers[0].base_url", "\"http://203.0.113.99:8080/v1\"")], "litellm.egress.allow"),
    (LAB, &[("litellm.providers[0].model", "\"lab-model\"")], "litellm.providers[0].model"),
    (LAB, &[("litellm.providers[1].name", "\"provider_a\"")], "litellm.providers[1].name"),
    (LAB, &[("litellm.paths.service_user", "\"olab-gw\"")], "litellm.paths.service_user"),
    (LAB, &[("litellm.paths.secrets_dir", "\"/var/lib/openclaw-lab/gateway/secrets/litellm\"")], "litellm.paths.secrets_dir"),
    (LAB, &[("litellm.openbao.kv_path", "\"lab/openclaw\"")], "litellm.openbao.kv_path"),
    (LAB, &[("litellm.openbao.cert_auth_role", "\"openclaw\"")], "litellm.openbao.cert_auth_role"),
    (LAB, &[("litellm.openbao", "-")], "litellm.openbao"),
    (LAB, &[("litellm.egress.allow[0].to", "\"169.254.0.0/16\"")], "litellm.egress.allow[0].to"),
    (LAB, &[("litellm.listen", "\"4000\"")], "litellm.listen"),
    // [backup]: the password is a rendered file item, the repository survives the state's
    // disk, retention keeps something, nothing secret is inside what is backed up.
    (LXC, &[("backup.password", "\"nope\"")], "backup.password"),
    (LXC, &[("backup.password", "\"gateway_token\"")], "backup.password"),
    (LXC, &[("secrets.items.restic_password.deliver", "\"env\""), ("secrets.items.restic_password.env_var", "\"RESTIC_PW\"")], "secrets.items.restic_password.deliver"),
    (LXC, &[("secrets.items.restic_password.min_length", "8")], "secrets.items.restic_password.min_length"),
    (LXC, &[("backup.repository", "\"/var/lib/openclaw/restic\"")], "backup.repository"),
    (LXC, &[("backup.repository", "\"/var/lib\"")], "backup.repository"),
    (LXC, &[("backup.repository", "\"/run/secrets/openclaw/repo\"")], "backup.repository"),
    (LXC, &[("backup.repository", "\"relative/repo\"")], "backup.repository"),
    (LXC, &[("backup.repository", "\"/mnt/backup/../openclaw\"")], "backup.repository"),
    (LXC, &[("backup.repository", "\"rest:https://user:hunter2@backup.home.example/openclaw\"")], "backup.repository"),
    (LXC, &[("backup.keep", "{ daily = 0, weekly = 0, monthly = 0 }")], "backup.keep"),
    (LXC, &[("backup.keep", "{ daily = 100000 }")], "backup.keep.daily"),
    (LXC, &[("backup.verify_subset", "\"0%\"")], "backup.verify_subset"),
    (LXC, &[("backup.verify_subset", "\"150%\"")], "backup.verify_subset"),
    (LXC, &[("backup.verify_subset", "\"3/2\"")], "backup.verify_subset"),
    (LXC, &[("backup.verify_subset", "\"some\"")], "backup.verify_subset"),
    (LXC, &[("backup.schedule", "\"daily; rm -rf /\"")], "backup.schedule"),
    (LXC, &[("backup.verify_schedule", "\"\"")], "backup.verify_schedule"),
    (LXC, &[("backup.work_dir", "\"/var/lib/openclaw/backup\"")], "backup.work_dir"),
    (LXC, &[("backup.work_dir", "\"/mnt/backup/openclaw-restic/work\"")], "backup.work_dir"),
    (LXC, &[("secrets.dir", "\"/var/lib/openclaw/secrets\"")], "secrets.dir"),
];

#[test]
fn every_bad_spec_is_rejected_naming_its_field() {
    assert!(
        CASES.len() >= 50,
        "at least 50 bad specs ({} now)",
        CASES.len()
    );
    let mut failures = Vec::new();
    for (example, edits, field) in CASES {
        let msg = std::panic::catch_unwind(|| rejection(example, edits));
        match msg {
            Ok(m) if m.contains(field) => {}
            Ok(m) => failures.push(format!("{edits:?}: message does not name '{field}':\n{m}")),
            Err(_) => failures.push(format!("{edits:?}: was accepted or failed oddly")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Control for the [backup] cases: the example they break renders, with its backup units.
#[test]
fn the_backup_example_renders_its_units() {
    let spec = Spec::from_path(&support::example(LXC)).unwrap();
    let arts = render_all(&spec).unwrap_or_else(|e| panic!("{e}"));
    for p in [
        "backup/backup.json",
        "systemd/openclaw-backup.service",
        "systemd/openclaw-backup.timer",
        "systemd/openclaw-backup-check.service",
        "systemd/openclaw-backup-check.timer",
    ] {
        assert!(arts.iter().any(|a| a.path == p), "no {p}");
    }
    // The secrets directory is outside what OpenClaw archives (the state dir).
    let cfg: serde_json::Value = serde_json::from_str(
        &arts
            .iter()
            .find(|a| a.path == "backup/backup.json")
            .unwrap()
            .content,
    )
    .unwrap();
    let state = cfg["state_dir"].as_str().unwrap();
    let pw = cfg["password_file"].as_str().unwrap();
    assert!(
        pw.starts_with("/run/secrets/") && !pw.starts_with(state),
        "{cfg}"
    );
}

#[test]
fn every_problem_carries_a_fix() {
    let msg = rejection(
        LXC,
        &[
            ("container.memory_max", "\"1G\""),
            ("gateway.auth", "\"none\""),
        ],
    );
    assert!(
        msg.contains("2 problem(s)"),
        "both problems are reported at once: {msg}"
    );
    for line in msg.lines().skip(1) {
        assert!(line.contains("(fix: "), "no fix in: {line}");
    }
}

#[test]
fn unknown_keys_are_errors_not_ignored() {
    let msg = rejection(LXC, &[("gateway.auth_mode", "\"token\"")]);
    assert!(
        msg.contains("unknown field") && msg.contains("auth_mode"),
        "{msg}"
    );
}

/// Class 4: duplicate keys in the settings JSON are an error, as they are at top level.
#[test]
fn duplicate_settings_keys_are_refused() {
    let text = std::fs::read_to_string(support::example(LXC)).unwrap();
    let doc: toml::Value = toml::from_str(&text).unwrap();
    let json = serde_json::to_string(&doc).unwrap();
    let dup = json.replacen(
        '{',
        "{\"settings\": {\"logging\": {\"level\": \"info\", \"level\": \"debug\"}},",
        1,
    );
    let e = Spec::from_json(&dup).unwrap_err().to_string();
    assert!(
        e.contains("settings") && e.contains("duplicate key 'level'"),
        "{e}"
    );
}

/// Class 4: an opted-in dangerously* switch renders, with a warning naming it.
#[test]
fn dangerous_opt_in_renders_with_a_warning() {
    let text = std::fs::read_to_string(support::example(LXC)).unwrap();
    let mut doc: toml::Value = toml::from_str(&text).unwrap();
    set(
        &mut doc,
        "settings.gateway.controlUi.dangerouslyAllowHostHeaderOriginFallback",
        "true",
    );
    set(
        &mut doc,
        "hardening.dangerous_settings",
        "[\"gateway.controlUi.dangerouslyAllowHostHeaderOriginFallback\"]",
    );
    let spec = Spec::from_toml(&toml::to_string(&doc).unwrap()).unwrap();
    render_all(&spec).unwrap();
    let w = openclaw_render::validate::warnings(&spec);
    assert_eq!(w.len(), 1);
    assert!(w[0]
        .field
        .ends_with("dangerouslyAllowHostHeaderOriginFallback"));
}

/// LiteLLM's agent logs in by cert auth too: without [machine_cert] the error says so and
/// how to fix it (nothing would renew LiteLLM's certificate either).
#[test]
fn litellm_without_machine_cert_names_the_field_and_the_fix() {
    let e = rejection(LAB, &[("machine_cert", "-")]);
    assert!(e.contains("machine_cert"), "{e}");
    assert!(e.contains("LiteLLM"), "{e}");
    assert!(
        e.contains("add [machine_cert] with ca_url and root_ca"),
        "{e}"
    );
}
