//! The OpenBao agent (`bao agent -config=agent.hcl`): logs in with the step-ca machine
//! certificate, reads the gateway's secrets from KV v2 and renders them into files.
//!
//! Design: a bad render must never replace a good one, and the agent never restarts the
//! gateway on its own say-so.
//! - Every template renders into a staging directory `<secrets.dir>/.staged/` (same
//!   filesystem as the live files, so renames are atomic). The agent writes each file
//!   atomically itself (temp file + rename) with perms 0600.
//! - Every template carries the same `exec` command: `openclaw-secretcheck promote`. The agent
//!   runs an identical command once per render pass, after all templates of the pass. Promote
//!   validates the whole staged set (syntax, required keys, placeholders, lengths, file rules),
//!   and only then copies each file into the live path (temp file in the live directory,
//!   chown to the gateway user, fsync, rename) and, if any live file actually changed, tells
//!   the gateway (see "Applying a change" below). Unchanged renders (the periodic re-read of
//!   static secrets) touch nothing.
//! - On rejection promote exits non-zero (the agent logs the failure, with key names and
//!   reasons but never values) and deletes the staged set (`--discard-rejected`), so the
//!   agent's own retry re-renders it and promote runs again with the agent's back-off: a
//!   transient failure heals, a bad value in OpenBao is retried until someone fixes it, and the
//!   live files and the running gateway stay as they were.
//! - `exit_on_retry_failure = false`: while OpenBao is unreachable the agent keeps running
//!   and the last good files stay in place.
//! - Missing keys: identifier-like keys are read as `.Data.data.<key>` and
//!   `error_on_missing_key` makes the agent refuse to render the file at all; other keys go
//!   through `index`, which renders `<no value>`, which promote rejects.
//!
//!
//! Applying a change: `openclaw secrets reload` first, `systemctl try-restart` as fallback.
//! - A restart costs ~14 s of refused requests (the gateway's start), so when it can, promote
//!   runs `openclaw secrets reload` instead: the gateway re-resolves its file SecretRefs and
//!   swaps the runtime snapshot atomically (measured with OpenClaw 2026.9.6: the new token is
//!   accepted and the old one rejected from the same instant, no request refused in between).
//!   Neither a signal nor hybrid config reload does this: SIGUSR2 is an in-process restart
//!   (~5 s of 503s), SIGUSR1 opens Node's inspector, SIGHUP kills, and a config touch without
//!   a semantic change re-resolves nothing.
//! - The reload is an RPC that needs the gateway's credential, and the CLI would resolve it
//!   from the config, i.e. from the file just replaced, which the gateway does not accept yet.
//!   So the CLI gets the gateway URL (`OPENCLAW_GATEWAY_URL`: the CLI then takes credentials
//!   from the environment only) and promote hands it the *previous* token as
//!   `OPENCLAW_GATEWAY_TOKEN` (`--on-change-env`: read before the swap; environment only).
//! - It runs as the gateway's user with the gateway unit's environment (`setpriv`), so the
//!   CLI's own state writes (device identity, caches) never become root-owned files in the
//!   gateway's state directory.
//! - `--fallback systemctl try-restart <unit>` covers what a reload cannot: the reload failed
//!   or could not run (gateway down, the CLI absent in a container deployment, a stale previous
//!   token) and, with `--fallback-if-changed`, a changed env file (read only at process start).
//!   Deployments whose gateway credential the CLI cannot present (trusted-proxy auth, a token
//!   delivered as an env var, a tailnet-only bind) keep the plain restart.
//!
//! The host must provide `<secrets.dir>` (0700/0750) and `<secrets.dir>/.staged` (0700) before
//! the agent starts (`create_dest_dirs = false`: the agent would make them world-readable),
//! and the agent runs as root so promote can hand the files to the gateway's user.

use serde_json::Value;

use super::Artifact;
use crate::spec::{
    AuthMode, Bind, RenderedSecretFile, Runtime, SecretBackend, SecretFileKind, SecretLocation,
    Spec,
};

/// Staging directory name inside `secrets.dir`.
pub const STAGING_DIR: &str = ".staged";

pub fn render(spec: &Spec) -> Vec<Artifact> {
    let Some(bao) = spec.secrets.openbao.as_ref() else {
        return Vec::new();
    };
    if spec.secrets.backend != SecretBackend::Openbao {
        return Vec::new();
    }
    let files = spec.rendered_secret_files();
    let agent_dir = spec.paths.agent_dir.trim_end_matches('/');
    let secret_path = format!("{}/data/{}", bao.kv_mount.trim_matches('/'), bao.kv_path);

    let mut out = vec![Artifact::public(
        "openbao-agent/agent.hcl",
        agent_hcl(spec),
        "OpenBao agent config: cert auth, KV v2 templates staged and gated by openclaw-secretcheck",
    )
    .installed_at(format!("{agent_dir}/agent.hcl"))];
    for f in &files {
        out.push(
            Artifact::public(
                &format!("openbao-agent/templates/{}.ctmpl", f.file_name()),
                template(&secret_path, f),
                "OpenBao agent template (references only, no values)",
            )
            .installed_at(template_install_path(spec, f)),
        );
    }
    out
}

fn template_install_path(spec: &Spec, f: &RenderedSecretFile) -> String {
    format!(
        "{}/templates/{}.ctmpl",
        spec.paths.agent_dir.trim_end_matches('/'),
        f.file_name()
    )
}

/// `<secrets.dir>/.staged`, where the agent renders before promotion.
pub fn staging_dir(spec: &Spec) -> String {
    format!("{}/{STAGING_DIR}", spec.secrets.dir.trim_end_matches('/'))
}

/// The check arguments for `openclaw-secretcheck check|promote` that describe this spec's
/// secret files: the owner, then `--file PATH:MIN`, `--env-file PATH` and `--env VAR:MIN`.
/// The systemd renderer uses the same list for `ExecStartPre=`. Names and lengths only.
pub fn secretcheck_args(spec: &Spec) -> Vec<String> {
    secretcheck_args_owned_by(spec, &spec.paths.service_user)
}

/// `secretcheck_args` with another owner (the container's uid for the quadlet unit).
pub fn secretcheck_args_owned_by(spec: &Spec, owner: &str) -> Vec<String> {
    let mut args = vec!["--owner".to_string(), owner.to_string()];
    for f in spec.rendered_secret_files() {
        match f.kind {
            SecretFileKind::Single => {
                args.push("--file".into());
                args.push(format!("{}:{}", f.path, f.values[0].min_length));
            }
            SecretFileKind::Env => {
                args.push("--env-file".into());
                args.push(f.path.clone());
                for v in &f.values {
                    args.push("--env".into());
                    args.push(format!(
                        "{}:{}",
                        v.env_var.as_deref().unwrap_or(&v.secret),
                        v.min_length
                    ));
                }
            }
        }
    }
    args
}

/// The command the agent runs after a render pass.
pub fn promote_command(spec: &Spec) -> Vec<String> {
    let mut cmd = vec![
        spec.paths.secretcheck_bin.clone(),
        "promote".into(),
        "--staged-dir".into(),
        staging_dir(spec),
        "--discard-rejected".into(),
    ];
    cmd.extend(secretcheck_args(spec));
    let restart = restart_command(spec);
    let Some(reload) = reload_command(spec) else {
        cmd.push("--".into());
        cmd.extend(restart);
        return cmd;
    };
    if let Some((var, path)) = reload_credential(spec) {
        cmd.push("--on-change-env".into());
        cmd.push(format!("{var}={path}"));
    }
    cmd.push("--fallback".into());
    cmd.push(restart.join(" "));
    if spec.uses_env_file() {
        cmd.push("--fallback-if-changed".into());
        cmd.push(spec.env_file_path());
    }
    cmd.push("--".into());
    cmd.extend(reload);
    cmd
}

/// `systemctl try-restart <gateway unit>`: the fallback (and the only way when no reload is
/// possible). try-: a gateway that is not running stays stopped.
pub fn restart_command(spec: &Spec) -> Vec<String> {
    vec![
        "systemctl".into(),
        "try-restart".into(),
        spec.gateway_unit(),
    ]
}

/// Where the CLI on the gateway host reaches the gateway, if it can.
fn local_gateway_url(spec: &Spec) -> Option<String> {
    let host = match spec.gateway.bind {
        // `lan` listens on every address, loopback included.
        Bind::Loopback | Bind::Lan => "127.0.0.1".to_string(),
        Bind::Custom => match spec.gateway.custom_bind_host.as_deref()? {
            "0.0.0.0" | "::" => "127.0.0.1".to_string(),
            h if h.contains(':') => format!("[{h}]"),
            h => h.to_string(),
        },
        Bind::Tailnet => return None,
    };
    Some(format!("ws://{host}:{}", spec.gateway.port))
}

/// The env var and live file of the credential the reload presents; None when none is needed.
fn reload_credential(spec: &Spec) -> Option<(&'static str, String)> {
    let var = match spec.gateway.auth {
        AuthMode::Token => "OPENCLAW_GATEWAY_TOKEN",
        AuthMode::Password => "OPENCLAW_GATEWAY_PASSWORD",
        AuthMode::None | AuthMode::TrustedProxy => return None,
    };
    match spec.secret_location(spec.gateway.token.as_deref()?)? {
        SecretLocation::File { path } => Some((var, path)),
        SecretLocation::Env { .. } => None,
    }
}

/// `openclaw secrets reload` as the gateway's user with the gateway unit's environment, or
/// None when this deployment cannot reload (see the module docs).
pub fn reload_command(spec: &Spec) -> Option<Vec<String>> {
    // Inside its container the gateway always listens on every address (quadlet.rs), so
    // loopback reaches it whatever the host-side bind.
    let url = match spec.runtime {
        Runtime::Container => format!("ws://127.0.0.1:{}", spec.gateway.port),
        Runtime::Native => local_gateway_url(spec)?,
    };
    match spec.gateway.auth {
        AuthMode::Token | AuthMode::Password => {
            reload_credential(spec)?;
        }
        AuthMode::None => {}
        AuthMode::TrustedProxy => return None,
    }
    if spec.runtime == Runtime::Container {
        return Some(container_reload_command(spec, &url));
    }
    let user = &spec.paths.service_user;
    let state = spec.paths.state_dir.trim_end_matches('/');
    Some(vec![
        "setpriv".into(),
        format!("--reuid={user}"),
        format!("--regid={user}"),
        "--init-groups".into(),
        "--inh-caps=-all".into(),
        "--".into(),
        "env".into(),
        format!("HOME={state}"),
        format!("OPENCLAW_STATE_DIR={state}"),
        format!("OPENCLAW_CONFIG_PATH={}", spec.paths.config),
        "OPENCLAW_NIX_MODE=1".into(),
        format!("OPENCLAW_GATEWAY_URL={url}"),
        spec.paths.openclaw_bin.clone(),
        "secrets".into(),
        "reload".into(),
        "--json".into(),
        // Well inside the agent's 60 s exec timeout, so the fallback still gets its turn.
        "--timeout".into(),
        "15000".into(),
    ])
}

/// Where the gateway image keeps the CLI (`lib/gateway-image-layout.json`'s entrypoint; a test
/// holds the two together).
pub const CONTAINER_OPENCLAW_BIN: &str = "/bin/openclaw";

/// The same reload inside the running container (`podman exec`): the host needs no OpenClaw,
/// the CLI runs as the container's uid with the container's environment, and the previous
/// credential reaches it by name only (`--env VAR` copies the value from promote's
/// environment; it never appears in argv).
fn container_reload_command(spec: &Spec, url: &str) -> Vec<String> {
    let mut cmd = vec![
        "podman".into(),
        "exec".into(),
        format!("--user={}", spec.container.user),
        format!("--env=OPENCLAW_GATEWAY_URL={url}"),
    ];
    if let Some((var, _)) = reload_credential(spec) {
        cmd.push(format!("--env={var}"));
    }
    cmd.extend([
        spec.name.clone(),
        CONTAINER_OPENCLAW_BIN.into(),
        "secrets".into(),
        "reload".into(),
        "--json".into(),
        "--timeout".into(),
        "15000".into(),
    ]);
    cmd
}

fn agent_hcl(spec: &Spec) -> String {
    let bao = spec.secrets.openbao.as_ref().expect("checked by caller");
    let mut s = String::new();
    s.push_str(&format!(
        "# OpenBao agent for the OpenClaw deployment \"{}\", rendered by openclaw-render.\n\
         # Run: bao agent -config={}/agent.hcl\n\
         # Secret values never appear here: the templates read them from KV v2 at run time.\n\n",
        spec.name,
        spec.paths.agent_dir.trim_end_matches('/')
    ));
    s.push_str("vault {\n");
    s.push_str(&format!("  address = {}\n", hcl_str(&bao.address)));
    if let Some(ca) = &bao.ca_cert {
        s.push_str(&format!("  ca_cert = {}\n", hcl_str(ca)));
    }
    s.push_str("}\n\n");

    // Cert auth with the step-ca machine certificate; `reload` re-reads the files on every
    // login, so a renewed certificate is used without restarting the agent. No token sink:
    // the token stays in the agent's memory.
    let (cert, key) = spec
        .machine_cert
        .as_ref()
        .map(|m| (m.cert.clone(), m.key.clone()))
        .unwrap_or_else(|| {
            (
                crate::spec::defaults::cert_path(),
                crate::spec::defaults::key_path(),
            )
        });
    s.push_str("auto_auth {\n  method \"cert\" {\n");
    s.push_str(&format!(
        "    mount_path = {}\n",
        hcl_str(&format!("auth/{}", bao.cert_auth_mount.trim_matches('/')))
    ));
    s.push_str("    config = {\n");
    s.push_str(&format!(
        "      name        = {}\n",
        hcl_str(&bao.cert_auth_role)
    ));
    if let Some(ca) = &bao.ca_cert {
        s.push_str(&format!("      ca_cert     = {}\n", hcl_str(ca)));
    }
    s.push_str(&format!("      client_cert = {}\n", hcl_str(&cert)));
    s.push_str(&format!("      client_key  = {}\n", hcl_str(&key)));
    s.push_str("      reload      = true\n");
    s.push_str("    }\n  }\n}\n\n");

    s.push_str("template_config {\n");
    s.push_str(&format!(
        "  static_secret_render_interval = {}\n",
        hcl_str(&format!("{}s", bao.refresh_interval.as_secs()))
    ));
    s.push_str("  # Keep running (and keep the last good files) while OpenBao is unreachable.\n");
    s.push_str("  exit_on_retry_failure = false\n}\n");

    let staged = staging_dir(spec);
    let command = promote_command(spec);
    for f in spec.rendered_secret_files() {
        s.push_str("\ntemplate {\n");
        s.push_str(&format!(
            "  source               = {}\n",
            hcl_str(&template_install_path(spec, &f))
        ));
        s.push_str(&format!(
            "  destination          = {}\n",
            hcl_str(&format!("{staged}/{}", f.file_name()))
        ));
        s.push_str("  perms                = \"0600\"\n");
        s.push_str("  create_dest_dirs     = false\n");
        s.push_str("  error_on_missing_key = true\n");
        s.push_str("  exec {\n");
        s.push_str(&format!(
            "    command = [{}]\n",
            command
                .iter()
                .map(|c| hcl_str(c))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        s.push_str("    timeout = \"60s\"\n  }\n}\n");
    }
    s
}

/// Template for one file. Only references: the KV path and key names.
fn template(secret_path: &str, f: &RenderedSecretFile) -> String {
    let path = go_str(secret_path);
    match f.kind {
        // No trailing newline: OpenClaw's singleValue provider strips one, other readers
        // (Prometheus' credentials_file) may not.
        SecretFileKind::Single => format!(
            "{{{{- /* {}: rendered by openclaw-render; the value comes from OpenBao at run time */ -}}}}\n\
             {{{{- with secret {path} }}}}{{{{ {} }}}}{{{{ end -}}}}\n",
            f.file_name(),
            kv_field(&f.values[0].kv_key)
        ),
        SecretFileKind::Env => {
            let mut t = format!(
                "{{{{- /* {}: env file for EnvironmentFile= and podman --env-file, rendered by openclaw-render */ -}}}}\n\
                 {{{{ with secret {path} -}}}}\n",
                f.file_name()
            );
            for v in &f.values {
                t.push_str(&format!(
                    "{}={{{{ {} }}}}\n",
                    v.env_var.as_deref().unwrap_or(&v.secret),
                    kv_field(&v.kv_key)
                ));
            }
            t.push_str("{{ end -}}\n");
            t
        }
    }
}

/// `.Data.data.key` when the key is a Go identifier (so a missing key fails the render),
/// `index .Data.data "key"` otherwise.
pub(crate) fn kv_field(key: &str) -> String {
    let ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ident {
        format!(".Data.data.{key}")
    } else {
        format!("index .Data.data {}", go_str(key))
    }
}

/// A Go string literal (JSON escapes are a subset Go accepts).
pub(crate) fn go_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// An HCL string literal: JSON escapes, plus `${`/`%{` escaped so nothing interpolates.
pub(crate) fn hcl_str(s: &str) -> String {
    go_str(s).replace("${", "$${").replace("%{", "%%{")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The native runtime: these tests are about `setpriv ... openclaw secrets reload`.
    fn spec() -> Spec {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/lxc-homelab.toml"
        ))
        .unwrap();
        let mut s = Spec::from_toml(&text).unwrap();
        s.runtime = Runtime::Native;
        s
    }

    /// In a container deployment the reload runs inside the container as its uid, and the
    /// previous token reaches it by variable name only (never its value in argv).
    #[test]
    fn container_reload_is_podman_exec_with_the_token_by_name() {
        let mut s = spec();
        s.runtime = Runtime::Container;
        let cmd = promote_command(&s);
        let after = &cmd[cmd.iter().position(|a| a == "--").unwrap() + 1..];
        assert_eq!(&after[..2], ["podman", "exec"]);
        assert!(after.contains(&format!("--user={}", s.container.user)));
        assert!(after.contains(&"--env=OPENCLAW_GATEWAY_TOKEN".to_string()));
        assert!(after.contains(&format!(
            "--env=OPENCLAW_GATEWAY_URL=ws://127.0.0.1:{}",
            s.gateway.port
        )));
        let name = after.iter().position(|a| *a == s.name).unwrap();
        assert_eq!(after[name + 1], CONTAINER_OPENCLAW_BIN);
        assert_eq!(
            after[after.len() - 5..],
            ["secrets", "reload", "--json", "--timeout", "15000"]
        );
    }

    #[test]
    fn renders_config_and_one_template_per_file() {
        let s = spec();
        let arts = render(&s);
        let paths: Vec<&str> = arts.iter().map(|a| a.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "openbao-agent/agent.hcl",
                "openbao-agent/templates/gateway_token.ctmpl",
                "openbao-agent/templates/litellm_api_key.ctmpl",
                "openbao-agent/templates/matrix_access_token.ctmpl",
                // [backup]'s repository password: rendered like every other item.
                "openbao-agent/templates/restic_password.ctmpl",
            ]
        );
        let hcl = &arts[0].content;
        assert!(hcl.contains("mount_path = \"auth/cert\""));
        assert!(
            hcl.contains("destination          = \"/run/secrets/openclaw/.staged/gateway_token\"")
        );
        assert!(hcl.contains("\"--fallback\", \"systemctl try-restart openclaw.service\""));
        assert!(hcl.contains("\"secrets\", \"reload\""));
        assert!(hcl.contains("static_secret_render_interval = \"60s\""));
        assert!(!hcl.contains("{{"));
        assert!(arts[1]
            .content
            .contains("with secret \"kv/data/aether/openclaw\" }}{{ .Data.data.gateway_token }}"));
    }

    #[test]
    fn odd_keys_use_index_and_strings_are_escaped() {
        assert_eq!(kv_field("my-key"), "index .Data.data \"my-key\"");
        assert_eq!(kv_field("ok_key1"), ".Data.data.ok_key1");
        assert_eq!(hcl_str("a${b}\"c"), "\"a$${b}\\\"c\"");
    }

    /// After `--`: the reload as the gateway's user, authenticated with the previous token
    /// from the environment; the restart is the fallback.
    #[test]
    fn promote_reloads_with_the_previous_token_and_falls_back_to_a_restart() {
        let s = spec();
        let cmd = promote_command(&s);
        let token_file = match s
            .secret_location(s.gateway.token.as_deref().unwrap())
            .unwrap()
        {
            SecretLocation::File { path } => path,
            other => panic!("{other:?}"),
        };
        let pos = |w: &str| {
            cmd.iter()
                .position(|a| a == w)
                .unwrap_or_else(|| panic!("{w}"))
        };
        assert_eq!(
            cmd[pos("--on-change-env") + 1],
            format!("OPENCLAW_GATEWAY_TOKEN={token_file}")
        );
        assert_eq!(
            cmd[pos("--fallback") + 1],
            "systemctl try-restart openclaw.service"
        );
        let after = &cmd[pos("--") + 1..];
        assert_eq!(after[0], "setpriv");
        assert!(after.contains(&format!("--reuid={}", s.paths.service_user)));
        assert!(after.contains(&format!(
            "OPENCLAW_GATEWAY_URL=ws://127.0.0.1:{}",
            s.gateway.port
        )));
        assert!(after.contains(&format!("OPENCLAW_STATE_DIR={}", s.paths.state_dir)));
        assert_eq!(
            after[after.len() - 5..],
            ["secrets", "reload", "--json", "--timeout", "15000"]
        );
        // No credential anywhere in argv: only the file's path.
        assert!(!cmd
            .iter()
            .any(|a| a.starts_with("OPENCLAW_GATEWAY_TOKEN=") && !a.ends_with(&token_file)));
        if s.uses_env_file() {
            assert_eq!(cmd[pos("--fallback-if-changed") + 1], s.env_file_path());
        }
    }

    #[test]
    fn no_reload_where_the_cli_cannot_present_the_credential() {
        let mut s = spec();
        s.gateway.auth = AuthMode::TrustedProxy;
        assert!(reload_command(&s).is_none());
        assert_eq!(
            promote_command(&s).rsplit(|a| a == "--").next().unwrap(),
            ["systemctl", "try-restart", "openclaw.service"]
        );
        let mut s = spec();
        s.gateway.bind = Bind::Tailnet;
        assert!(!promote_command(&s).contains(&"--fallback".to_string()));
        let mut s = spec();
        let tok = s.gateway.token.clone().unwrap();
        s.secrets.items.get_mut(&tok).unwrap().deliver = crate::spec::Delivery::Env;
        assert!(reload_command(&s).is_none());
    }

    #[test]
    fn files_backend_renders_no_agent() {
        let mut s = spec();
        s.secrets.backend = SecretBackend::Files;
        assert!(render(&s).is_empty());
    }
}
