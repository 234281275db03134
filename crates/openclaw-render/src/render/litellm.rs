//! LiteLLM, the model gateway between OpenClaw and the providers (`[litellm]`): its config,
//! its own OpenBao agent (config and env-file template), its hardened unit, sysusers.d and
//! tmpfiles.d entries, and an nftables table that lets LiteLLM's user reach only the
//! providers. On the gateway's side, `settings.json` of each agent turns OpenClaw's own
//! same-model retries off (see [`agent_settings`]).
//!
//! Secrets: `config.yaml` names every key as `os.environ/VAR`; the values come from the env
//! file LiteLLM's agent renders (0600, LiteLLM's user) from LiteLLM's own KV path with its own
//! cert-auth role, promoted through `openclaw-secretcheck` like the gateway's. Nothing here
//! holds a value, and LiteLLM's argv carries only paths and the listen address.
//!
//! Fallback timing: LiteLLM tries the primary once (`retries` = 0) with `timeout` per
//! attempt, then each fallback; a 5xx or 429 falls back at once, a hang or a slow answer after
//! `timeout`. OpenClaw gets the fallback's answer on the same request, so its provider
//! timeout is the whole chain's bound plus a margin, and its own transient retries are off:
//! the two layers do not multiply.

use serde_json::{json, Value};

use super::bao_agent::{go_str, hcl_str, kv_field};
use super::nftables::{allow_rule, comment, fam, set_of};
use super::systemd::{cert_renewal_units, exec_line, exec_word, CertRenewal};
use super::Artifact;
use crate::spec::litellm::{Litellm, MASTER_KEY_VAR};
use crate::spec::{SecretBackend, Spec};

/// Where the artifacts land in the output directory.
pub const CONFIG_PATH: &str = "litellm/config.yaml";
pub const NFT_PATH: &str = "nftables/litellm-egress.nft";
pub const ENV_TEMPLATE_NAME: &str = "litellm.env.ctmpl";

/// Seconds OpenClaw waits on top of LiteLLM's whole chain before it gives up on a request.
pub const GATEWAY_MARGIN_SECS: u64 = 5;

pub fn unit_name(spec: &Spec) -> String {
    format!("{}-litellm.service", spec.name)
}

pub fn agent_unit_name(spec: &Spec) -> String {
    format!("{}-litellm-openbao-agent.service", spec.name)
}

/// LiteLLM's certificate renewal: `<stem>.service` and `<stem>.timer`.
pub fn cert_renew_unit_stem(spec: &Spec) -> String {
    format!("{}-litellm-cert-renew", spec.name)
}

/// LiteLLM's agent logs in with the gateway's own machine certificate (same file).
pub fn shares_gateway_cert(spec: &Spec) -> bool {
    let lb = spec.litellm.as_ref().and_then(|l| l.openbao.as_ref());
    match (lb, &spec.machine_cert) {
        (Some(lb), Some(m)) => spec.secrets.backend == SecretBackend::Openbao && lb.cert == m.cert,
        _ => false,
    }
}

pub fn table_name(spec: &Spec) -> String {
    format!("litellm_{}", spec.name.replace('-', "_"))
}

/// The longest a request through LiteLLM can take: every model group of the chain, each with
/// its retries, each attempt bounded by `timeout`.
pub fn chain_bound_secs(l: &Litellm) -> u64 {
    let attempts = (1 + l.fallbacks.len() as u64) * (1 + u64::from(l.retries));
    attempts * l.timeout.as_secs()
}

/// OpenClaw's provider timeout (`timeoutSeconds`) for a spec with `[litellm]`.
pub fn gateway_timeout_secs(l: &Litellm) -> u64 {
    chain_bound_secs(l) + GATEWAY_MARGIN_SECS
}

pub fn render(spec: &Spec) -> Vec<Artifact> {
    let Some(l) = &spec.litellm else {
        return Vec::new();
    };
    let p = &l.paths;
    let mut out = vec![
        Artifact::public(
            CONFIG_PATH,
            config_yaml(spec, l),
            "LiteLLM proxy config: model list, fallbacks, timeouts, budgets (keys as os.environ/ references only)",
        )
        .installed_at(p.config.clone()),
        Artifact::public(
            &format!("systemd/{}", unit_name(spec)),
            unit(spec, l),
            "the LiteLLM proxy, hardened, gated by openclaw-secretcheck",
        )
        .installed_at(format!("/etc/systemd/system/{}", unit_name(spec))),
        Artifact::public(
            &format!("systemd/sysusers.d/{}-litellm.conf", spec.name),
            sysusers(spec, l),
            "LiteLLM's system user (systemd-sysusers)",
        )
        .installed_at(format!("/etc/sysusers.d/{}-litellm.conf", spec.name)),
        Artifact::public(
            &format!("systemd/tmpfiles.d/{}-litellm.conf", spec.name),
            tmpfiles(l),
            "LiteLLM's state and secret directories (systemd-tmpfiles)",
        )
        .installed_at(format!("/etc/tmpfiles.d/{}-litellm.conf", spec.name)),
        Artifact::public(
            NFT_PATH,
            nft(spec, l),
            "nftables table: LiteLLM's user may reach only its providers (and its DNS resolvers)",
        )
        .installed_at(format!("/etc/nftables.d/{}-litellm-egress.nft", spec.name)),
    ];
    if let (SecretBackend::Openbao, Some(_), Some(lb)) = (
        spec.secrets.backend,
        spec.secrets.openbao.as_ref(),
        l.openbao.as_ref(),
    ) {
        let dir = p.agent_dir.trim_end_matches('/');
        out.push(
            Artifact::public(
                "litellm/openbao-agent/agent.hcl",
                agent_hcl(spec, l),
                "LiteLLM's OpenBao agent: its own cert-auth role and KV path, env file staged and gated by openclaw-secretcheck",
            )
            .installed_at(format!("{dir}/agent.hcl")),
        );
        out.push(
            Artifact::public(
                &format!("litellm/openbao-agent/templates/{ENV_TEMPLATE_NAME}"),
                env_template(spec, l),
                "LiteLLM's env file template (references only, no values)",
            )
            .installed_at(format!("{dir}/templates/{ENV_TEMPLATE_NAME}")),
        );
        out.push(
            Artifact::public(
                &format!("systemd/{}", agent_unit_name(spec)),
                agent_unit(spec, l),
                "OpenBao agent rendering LiteLLM's secrets",
            )
            .installed_at(format!("/etc/systemd/system/{}", agent_unit_name(spec))),
        );
        // The agent's identity expires with LiteLLM's certificate: renewed like the gateway's
        // (by the gateway's renewal when it is the same file, see systemd.rs).
        if !shares_gateway_cert(spec) {
            out.extend(cert_renewal_units(
                spec,
                &CertRenewal {
                    unit: cert_renew_unit_stem(spec),
                    cert: Some(&lb.cert),
                    key: Some(&lb.key),
                    agent_units: vec![agent_unit_name(spec)],
                    whose: "LiteLLM's machine certificate",
                },
            ));
        }
    }
    out.extend(agent_settings(spec));
    out
}

/// `<state_dir>/agents/<id>/agent/settings.json` for every agent: OpenClaw 2026.9.6 reads
/// `retry.provider.maxRetries` there (the embedded runner's settings, not openclaw.json: the
/// config schema has no such key). Unset, the runner retries a failing model up to 8 times
/// with backoff for up to 90 s before its own fallback; with LiteLLM doing the fallbacks
/// that only delays the error LiteLLM already decided, so it is 0.
pub fn agent_settings(spec: &Spec) -> Vec<Artifact> {
    if spec.litellm.is_none() {
        return Vec::new();
    }
    let state = spec.paths.state_dir.trim_end_matches('/');
    let ids: Vec<String> = if spec.agents.is_empty() {
        vec!["main".into()]
    } else {
        spec.agents.iter().map(|a| a.id.clone()).collect()
    };
    let settings = json!({ "retry": { "provider": { "maxRetries": 0 } } });
    let mut text = serde_json::to_string_pretty(&settings).expect("serialises");
    text.push('\n');
    // The same file for hosts that install it with systemd-tmpfiles (the NixOS module): `f+`
    // rewrites it at every boot and `systemd-tmpfiles --create`, as the gateway's user.
    let user = &spec.paths.service_user;
    let mut tmpfiles = vec![
        "# Rendered by openclaw-render: each agent's runner settings (no same-model retries; LiteLLM falls back).".to_string(),
        "# Type Path Mode User Group Age Argument".to_string(),
        format!("d {state}/agents 0700 {user} {user} -"),
    ];
    for id in &ids {
        tmpfiles.push(format!("d {state}/agents/{id} 0700 {user} {user} -"));
        tmpfiles.push(format!("d {state}/agents/{id}/agent 0700 {user} {user} -"));
        tmpfiles.push(format!(
            "f+ {state}/agents/{id}/agent/settings.json 0600 {user} {user} - {settings}"
        ));
    }
    let tmpfiles = Artifact::public(
        &format!("systemd/tmpfiles.d/{}-agent-settings.conf", spec.name),
        tmpfiles.join("\n") + "\n",
        "each agent's settings.json as systemd-tmpfiles lines (for hosts that install it so)",
    )
    .installed_at(format!("/etc/tmpfiles.d/{}-agent-settings.conf", spec.name));
    let mut out: Vec<Artifact> = ids
        .iter()
        .map(|id| {
            Artifact::public(
                &format!("openclaw-agents/{id}/settings.json"),
                text.clone(),
                "the agent runner's settings: no same-model retries (LiteLLM falls back)",
            )
            .with_mode(0o600)
            .owned_by(spec.paths.service_user.clone())
            .installed_at(format!("{state}/agents/{id}/agent/settings.json"))
        })
        .collect();
    out.push(tmpfiles);
    out
}

/// A YAML scalar: JSON strings and numbers are YAML flow scalars with the same meaning.
fn y(v: impl Into<Value>) -> String {
    v.into().to_string()
}

fn config_yaml(spec: &Spec, l: &Litellm) -> String {
    let t = l.timeout.as_secs();
    let mut s = format!(
        "# Rendered by openclaw-render for deployment '{}': the LiteLLM proxy. Change the spec,\n\
         # not this file. No secret is here: every key is an os.environ/ reference, filled from\n\
         # the env file LiteLLM's OpenBao agent renders ({}).\n\
         # Fallbacks: the primary is tried once ({} retries), each attempt bounded by {t} s; a\n\
         # 5xx or 429 falls back at once, a hang or slow answer after {t} s.\n",
        spec.name,
        l.paths.env_file(),
        l.retries,
    );
    s.push_str("model_list:\n");
    for p in &l.providers {
        s.push_str(&format!("  - model_name: {}\n", y(p.model_group.as_str())));
        s.push_str("    litellm_params:\n");
        s.push_str(&format!("      model: {}\n", y(p.model.as_str())));
        s.push_str(&format!("      api_base: {}\n", y(p.base_url.as_str())));
        s.push_str(&format!(
            "      api_key: {}\n",
            y(format!("os.environ/{}", p.env_var()))
        ));
        s.push_str(&format!("      timeout: {t}\n      stream_timeout: {t}\n"));
        // The OpenAI client's own retries (2 by default) would hide a failure from the router.
        s.push_str("      max_retries: 0\n");
        if let Some(c) = p.input_cost_per_token {
            s.push_str(&format!("      input_cost_per_token: {}\n", y(c)));
        }
        if let Some(c) = p.output_cost_per_token {
            s.push_str(&format!("      output_cost_per_token: {}\n", y(c)));
        }
        if let Some(b) = l.budget_usd {
            s.push_str(&format!(
                "      max_budget: {}\n      budget_duration: {}\n",
                y(b),
                y(l.budget_period.to_string())
            ));
        }
        s.push_str(&format!(
            "    model_info:\n      id: {}\n",
            y(p.name.as_str())
        ));
    }
    let fallbacks: Value = if l.fallbacks.is_empty() {
        json!([])
    } else {
        json!([{ l.primary.clone(): l.fallbacks }])
    };
    s.push_str(&format!(
        "litellm_settings:\n\
         \x20 num_retries: {r}\n\
         \x20 request_timeout: {t}\n\
         \x20 drop_params: true\n\
         \x20 # Never put prompts or answers into logs or callbacks.\n\
         \x20 turn_off_message_logging: true\n\
         router_settings:\n\
         \x20 num_retries: {r}\n\
         \x20 timeout: {t}\n\
         \x20 fallbacks: {fb}\n\
         general_settings:\n\
         \x20 master_key: {mk}\n",
        r = l.retries,
        fb = fallbacks,
        mk = y(format!("os.environ/{MASTER_KEY_VAR}")),
    ));
    s
}

/// `(host, port)` LiteLLM binds, from `listen` (host:port or [v6]:port; checked by text.rs).
pub fn listen_parts(listen: &str) -> (String, String) {
    if let Some(rest) = listen.strip_prefix('[') {
        if let Some((h, p)) = rest.split_once("]:") {
            return (h.to_string(), p.to_string());
        }
    }
    match listen.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.to_string()),
        None => (listen.to_string(), String::new()),
    }
}

/// The argv LiteLLM runs with: paths and the listen address only.
pub fn exec_start(l: &Litellm) -> Vec<String> {
    let (host, port) = listen_parts(&l.listen);
    vec![
        l.paths.bin.clone(),
        "--config".into(),
        l.paths.config.clone(),
        "--host".into(),
        host,
        "--port".into(),
        port,
        "--num_workers".into(),
        "1".into(),
    ]
}

/// The environment LiteLLM's unit sets (no secret): offline cost map, no admin UI, no docs.
pub fn environment(l: &Litellm) -> Vec<(String, String)> {
    let state = l.paths.state_dir.trim_end_matches('/').to_string();
    [
        ("HOME", state.as_str()),
        // The bundled model cost map, not a fetch from the internet at every start.
        ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
        ("LITELLM_TELEMETRY", "False"),
        ("LITELLM_DONT_SHOW_FEEDBACK_BOX", "True"),
        ("DISABLE_ADMIN_UI", "True"),
        ("NO_DOCS", "True"),
        ("NO_REDOC", "True"),
        ("PYTHONDONTWRITEBYTECODE", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `openclaw-secretcheck` arguments for LiteLLM's env file: owner, file, variables, lengths.
pub fn secretcheck_args(l: &Litellm) -> Vec<String> {
    let mut a = vec![
        "--owner".to_string(),
        l.paths.service_user.clone(),
        "--env-file".into(),
        l.paths.env_file(),
        "--env".into(),
        format!("{MASTER_KEY_VAR}:{}", l.master_key_min_length),
    ];
    for p in &l.providers {
        a.push("--env".into());
        a.push(format!("{}:{}", p.env_var(), p.api_key_min_length));
    }
    a
}

fn unit(spec: &Spec, l: &Litellm) -> String {
    let p = &l.paths;
    let state = p.state_dir.trim_end_matches('/');
    let mut check = vec![spec.paths.secretcheck_bin.clone(), "check".into()];
    check.extend(secretcheck_args(l));
    let env = environment(l)
        .iter()
        .map(|(k, v)| exec_word(&format!("{k}={v}")))
        .collect::<Vec<_>>()
        .join(" ");
    let agent = if l.openbao.is_some() && spec.secrets.backend == SecretBackend::Openbao {
        format!(" {}", agent_unit_name(spec))
    } else {
        String::new()
    };
    format!(
        "# Rendered by openclaw-render for deployment '{name}': the LiteLLM proxy.\n\
[Unit]\n\
Description=LiteLLM proxy for OpenClaw ({name})\n\
After=network-online.target systemd-tmpfiles-setup.service{agent}\n\
Wants=network-online.target{agent}\n\
StartLimitIntervalSec=600\n\
StartLimitBurst=5\n\
\n\
[Service]\n\
Type=simple\n\
User={user}\n\
Group={user}\n\
WorkingDirectory={state}\n\
Environment={env}\n\
# Keys only through this file (0600, {user}), rendered by LiteLLM's OpenBao agent.\n\
EnvironmentFile=-{env_file}\n\
ExecStartPre={check}\n\
ExecStart={start}\n\
Restart=always\n\
RestartSec=2s\n\
TimeoutStartSec=120s\n\
TimeoutStopSec=20s\n\
# Resources: about 350 MiB RSS with one worker.\n\
MemoryMax=1024M\n\
MemoryHigh=900M\n\
MemorySwapMax=0\n\
TasksMax=256\n\
# Filesystem: read-only system, private /tmp, writable state only.\n\
ProtectSystem=strict\n\
ReadWritePaths={state}\n\
ProtectHome=true\n\
PrivateTmp=true\n\
PrivateDevices=true\n\
DevicePolicy=closed\n\
UMask=0077\n\
NoNewPrivileges=true\n\
CapabilityBoundingSet=\n\
AmbientCapabilities=\n\
ProtectKernelTunables=true\n\
ProtectKernelModules=true\n\
ProtectKernelLogs=true\n\
ProtectControlGroups=true\n\
ProtectClock=true\n\
ProtectHostname=true\n\
ProtectProc=invisible\n\
ProcSubset=pid\n\
RestrictNamespaces=true\n\
RestrictRealtime=true\n\
RestrictSUIDSGID=true\n\
LockPersonality=true\n\
RemoveIPC=true\n\
KeyringMode=private\n\
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n\
SystemCallArchitectures=native\n\
SystemCallFilter=@system-service\n\
SystemCallFilter=~@privileged @resources @mount @debug @cpu-emulation @obsolete @raw-io @reboot @swap @module\n\
SystemCallErrorNumber=EPERM\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n",
        name = spec.name,
        user = p.service_user,
        env_file = p.env_file(),
        check = exec_line(&check),
        start = exec_line(&exec_start(l)),
    )
}

fn sysusers(spec: &Spec, l: &Litellm) -> String {
    let p = &l.paths;
    format!(
        "# Rendered by openclaw-render: LiteLLM's system user.\n\
g {user} -\n\
u {user} -:{user} \"LiteLLM proxy ({name})\" {state} /usr/sbin/nologin\n",
        user = p.service_user,
        name = spec.name,
        state = p.state_dir.trim_end_matches('/'),
    )
}

fn tmpfiles(l: &Litellm) -> String {
    let p = &l.paths;
    let user = &p.service_user;
    let secrets = p.secrets_dir.trim_end_matches('/');
    format!(
        "# Rendered by openclaw-render. Type Path Mode User Group Age\n\
d {state} 0750 {user} {user} -\n\
# LiteLLM may traverse it and read its env file; .staged is the agent's alone.\n\
d {secrets} 0750 root {user} -\n\
d {staged} 0700 root root -\n",
        state = p.state_dir.trim_end_matches('/'),
        staged = p.staging_dir(),
    )
}

/// The command LiteLLM's agent runs after a render pass: validate the staged env file, install
/// it for LiteLLM's user, and restart LiteLLM (it reads the file only at start) if it changed.
pub fn promote_command(spec: &Spec, l: &Litellm) -> Vec<String> {
    let mut cmd = vec![
        spec.paths.secretcheck_bin.clone(),
        "promote".into(),
        "--staged-dir".into(),
        l.paths.staging_dir(),
        "--discard-rejected".into(),
    ];
    cmd.extend(secretcheck_args(l));
    cmd.extend([
        "--".into(),
        "systemctl".into(),
        "try-restart".into(),
        unit_name(spec),
    ]);
    cmd
}

fn agent_hcl(spec: &Spec, l: &Litellm) -> String {
    let bao = spec.secrets.openbao.as_ref().expect("checked by caller");
    let lb = l.openbao.as_ref().expect("checked by caller");
    let dir = l.paths.agent_dir.trim_end_matches('/');
    let mut s = format!(
        "# OpenBao agent for LiteLLM of deployment \"{}\", rendered by openclaw-render.\n\
         # Run: bao agent -config={dir}/agent.hcl\n\
         # Its own cert-auth role and KV path: the gateway's agent cannot read these keys.\n\n",
        spec.name
    );
    s.push_str(&format!(
        "vault {{\n  address = {}\n",
        hcl_str(&bao.address)
    ));
    if let Some(ca) = &bao.ca_cert {
        s.push_str(&format!("  ca_cert = {}\n", hcl_str(ca)));
    }
    s.push_str("}\n\nauto_auth {\n  method \"cert\" {\n");
    s.push_str(&format!(
        "    mount_path = {}\n    config = {{\n",
        hcl_str(&format!("auth/{}", bao.cert_auth_mount.trim_matches('/')))
    ));
    s.push_str(&format!(
        "      name        = {}\n",
        hcl_str(&lb.cert_auth_role)
    ));
    if let Some(ca) = &bao.ca_cert {
        s.push_str(&format!("      ca_cert     = {}\n", hcl_str(ca)));
    }
    s.push_str(&format!("      client_cert = {}\n", hcl_str(&lb.cert)));
    s.push_str(&format!("      client_key  = {}\n", hcl_str(&lb.key)));
    s.push_str("      reload      = true\n    }\n  }\n}\n\n");
    s.push_str(&format!(
        "template_config {{\n  static_secret_render_interval = {}\n  exit_on_retry_failure = false\n}}\n\n",
        hcl_str(&format!("{}s", bao.refresh_interval.as_secs()))
    ));
    let command = promote_command(spec, l)
        .iter()
        .map(|c| hcl_str(c))
        .collect::<Vec<_>>()
        .join(", ");
    s.push_str(&format!(
        "template {{\n  source               = {}\n  destination          = {}\n  perms                = \"0600\"\n  create_dest_dirs     = false\n  error_on_missing_key = true\n  exec {{\n    command = [{command}]\n    timeout = \"60s\"\n  }}\n}}\n",
        hcl_str(&format!("{dir}/templates/{ENV_TEMPLATE_NAME}")),
        hcl_str(&format!("{}/litellm.env", l.paths.staging_dir())),
    ));
    s
}

/// The KV v2 path LiteLLM's template reads (`<mount>/data/<kv_path>`).
pub fn secret_path(spec: &Spec, l: &Litellm) -> Option<String> {
    let bao = spec.secrets.openbao.as_ref()?;
    let lb = l.openbao.as_ref()?;
    Some(format!(
        "{}/data/{}",
        bao.kv_mount.trim_matches('/'),
        lb.kv_path
    ))
}

fn env_template(spec: &Spec, l: &Litellm) -> String {
    let path = secret_path(spec, l).expect("checked by caller");
    let mut t = format!(
        "{{{{- /* litellm.env: LiteLLM's keys, rendered by openclaw-render (references only) */ -}}}}\n\
         {{{{ with secret {} -}}}}\n",
        go_str(&path)
    );
    t.push_str(&format!(
        "{MASTER_KEY_VAR}={{{{ {} }}}}\n",
        kv_field(&l.master_key)
    ));
    for p in &l.providers {
        t.push_str(&format!(
            "{}={{{{ {} }}}}\n",
            p.env_var(),
            kv_field(&p.api_key)
        ));
    }
    t.push_str("{{ end -}}\n");
    t
}

fn agent_unit(spec: &Spec, l: &Litellm) -> String {
    let dir = l.paths.agent_dir.trim_end_matches('/');
    format!(
        "# Rendered by openclaw-render. Renders {staged}; openclaw-secretcheck promote installs a\n\
# valid env file for {user} and restarts {unit} only when a value changed.\n\
[Unit]\n\
Description=OpenBao agent for LiteLLM ({name})\n\
After=network-online.target systemd-tmpfiles-setup.service\n\
Wants=network-online.target\n\
\n\
[Service]\n\
ExecStart={bao} agent -config={dir}/agent.hcl\n\
Restart=always\n\
RestartSec=5s\n\
CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE\n\
NoNewPrivileges=true\n\
ProtectSystem=strict\n\
ReadWritePaths={secrets}\n\
ProtectHome=true\n\
PrivateTmp=true\n\
PrivateDevices=true\n\
ProtectKernelTunables=true\n\
ProtectKernelModules=true\n\
ProtectControlGroups=true\n\
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n\
LockPersonality=true\n\
UMask=0077\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n",
        name = spec.name,
        staged = l.paths.staging_dir(),
        user = l.paths.service_user,
        unit = unit_name(spec),
        bao = exec_word(&spec.paths.bao_bin),
        secrets = l.paths.secrets_dir.trim_end_matches('/'),
    )
}

/// LiteLLM's egress: its user may reach its providers and DNS resolvers, nothing else; its
/// port only from `allow_from` (and loopback) when that is set. Other users of the host are
/// not filtered by this table (on a host shared with the gateway under `egress.scope =
/// "host"`, the gateway's table must allow the providers too).
fn nft(spec: &Spec, l: &Litellm) -> String {
    let table = table_name(spec);
    let user = format!("\"{}\"", l.paths.service_user.replace('"', ""));
    let mut w = format!(
        "#!/usr/sbin/nft -f\n\
         # Rendered by openclaw-render for deployment '{}': LiteLLM's egress, deny by default.\n\
         # Loaded with `nft -f`, the next two lines replace this table in one transaction.\n\
         table inet {table} {{}}\n\
         delete table inet {table}\n\n\
         table inet {table} {{\n\
         \x20   chain litellm_egress {{\n\
         \x20       ct state established,related accept {}\n\
         \x20       ct state invalid drop\n",
        spec.name,
        comment("replies of allowed flows"),
    );
    for rule in &l.egress.allow {
        w.push_str(&format!("        {}\n", allow_rule(rule)));
    }
    let res: Vec<std::net::IpAddr> = l
        .egress
        .dns_resolvers
        .iter()
        .filter_map(|r| r.parse().ok())
        .collect();
    for v6 in [false, true] {
        let addrs: Vec<String> = res
            .iter()
            .filter(|a| a.is_ipv6() == v6)
            .map(|a| a.to_string())
            .collect();
        if !addrs.is_empty() {
            w.push_str(&format!(
                "        {} daddr {} meta l4proto {{ tcp, udp }} th dport 53 accept {}\n",
                fam(v6),
                set_of(&addrs),
                comment("dns")
            ));
        }
    }
    w.push_str(&format!(
        "        # Everything else: refused at once (a reset), so LiteLLM fails fast.\n\
         \x20       counter meta l4proto tcp reject with tcp reset\n\
         \x20       counter reject with icmpx admin-prohibited\n\
         \x20   }}\n\n\
         \x20   chain output {{\n\
         \x20       type filter hook output priority filter; policy accept;\n\
         \x20       oif lo accept {}\n\
         \x20       meta skuid {user} jump litellm_egress\n\
         \x20   }}\n",
        comment("the host's own services"),
    ));
    w.push_str("}\n");
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab() -> Spec {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/lab.toml"
        ))
        .unwrap();
        Spec::from_toml(&text).unwrap()
    }

    #[test]
    fn config_names_keys_only_by_env_reference() {
        let s = lab();
        let l = s.litellm.as_ref().unwrap();
        let y = config_yaml(&s, l);
        assert!(y.contains("master_key: \"os.environ/LITELLM_MASTER_KEY\""));
        for p in &l.providers {
            assert!(y.contains(&format!("api_key: \"os.environ/{}\"", p.env_var())));
        }
        assert!(y.contains(&format!("fallbacks: [{{\"{}\":", l.primary)));
        assert!(y.contains("max_retries: 0"));
        let t = env_template(&s, l);
        assert!(t.contains("LITELLM_MASTER_KEY={{ .Data.data.master_key }}"));
        assert!(!t.contains("os.environ"));
    }

    #[test]
    fn argv_and_unit_carry_no_secret_and_check_the_env_file() {
        let s = lab();
        let l = s.litellm.as_ref().unwrap();
        let u = unit(&s, l);
        assert!(u.contains(&format!("EnvironmentFile=-{}", l.paths.env_file())));
        assert!(u.contains("--env LITELLM_MASTER_KEY:"));
        assert!(u.contains("LITELLM_LOCAL_MODEL_COST_MAP=True"));
        let (h, p) = listen_parts("[::1]:4000");
        assert_eq!((h.as_str(), p.as_str()), ("::1", "4000"));
        let cmd = promote_command(&s, l);
        assert_eq!(
            cmd[cmd.len() - 3..],
            ["systemctl", "try-restart", "openclaw-litellm.service"]
        );
    }

    #[test]
    fn litellm_certificate_is_renewed_like_the_gateways() {
        let s = lab();
        let l = s.litellm.as_ref().unwrap();
        let lb = l.openbao.as_ref().unwrap();
        let m = s.machine_cert.as_ref().unwrap();
        let arts = render(&s);
        let unit = |n: &str| {
            arts.iter()
                .find(|a| a.path == format!("systemd/{n}"))
                .unwrap_or_else(|| panic!("no {n}"))
                .content
                .clone()
        };
        let u = unit("openclaw-litellm-cert-renew.service");
        assert!(u.contains(&format!(
            "ExecCondition=step certificate needs-renewal --expires-in {} {}",
            m.renew_before, lb.cert
        )));
        assert!(u.contains(&format!(
            "ExecStart=step ca renew --force --ca-url {} --root {} {} {}",
            m.ca_url, m.root_ca, lb.cert, lb.key
        )));
        assert!(u.contains(&format!(
            "ExecStartPost=systemctl try-reload-or-restart {}",
            agent_unit_name(&s)
        )));
        assert!(u.contains(&format!("ConditionPathExists={}\n", lb.cert)));
        assert!(
            !u.contains(&m.cert),
            "the gateway's certificate is not LiteLLM's"
        );
        let t = unit("openclaw-litellm-cert-renew.timer");
        assert!(t.contains(&format!("OnUnitActiveSec={}", m.check_interval)));
        // Without [machine_cert] there is no CA to renew at (validation names the field).
        let mut no_ca = s.clone();
        no_ca.machine_cert = None;
        assert!(!render(&no_ca)
            .iter()
            .any(|a| a.path.contains("litellm-cert-renew")));
        // LiteLLM on the gateway's host with the gateway's certificate: one renewal restarts
        // both agents.
        let mut shared = s.clone();
        let lb = shared.litellm.as_mut().unwrap().openbao.as_mut().unwrap();
        (lb.cert, lb.key) = (m.cert.clone(), m.key.clone());
        assert!(!render(&shared)
            .iter()
            .any(|a| a.path.contains("litellm-cert-renew")));
        let gw = crate::render::render_all(&shared).unwrap();
        let gw = &gw
            .iter()
            .find(|a| a.path == "systemd/openclaw-cert-renew.service")
            .unwrap()
            .content;
        assert!(gw.contains(&format!(
            "ExecStartPost=systemctl try-reload-or-restart openclaw-openbao-agent.service {}\n",
            agent_unit_name(&s)
        )));
    }

    #[test]
    fn chain_bound_counts_every_attempt() {
        let s = lab();
        let mut l = s.litellm.clone().unwrap();
        l.fallbacks = vec!["a".into(), "b".into()];
        l.retries = 1;
        l.timeout = crate::spec::Duration::from_secs(4);
        assert_eq!(chain_bound_secs(&l), 3 * 2 * 4);
        assert_eq!(gateway_timeout_secs(&l), 24 + GATEWAY_MARGIN_SECS);
    }
}
