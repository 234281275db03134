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
//!   chown to the gateway user, fsync, rename) and, if any live file actually changed, runs
//!   `systemctl try-restart <gateway unit>`. Unchanged renders (the periodic re-read of static
//!   secrets) restart nothing.
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
//! The host must provide `<secrets.dir>` (0700/0750) and `<secrets.dir>/.staged` (0700) before
//! the agent starts (`create_dest_dirs = false`: the agent would make them world-readable),
//! and the agent runs as root so promote can hand the files to the gateway's user.

use serde_json::Value;

use super::Artifact;
use crate::spec::{RenderedSecretFile, SecretBackend, SecretFileKind, Spec};

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
    let mut args = vec!["--owner".to_string(), spec.paths.service_user.clone()];
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
    cmd.extend([
        "--".into(),
        "systemctl".into(),
        "try-restart".into(),
        spec.gateway_unit(),
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
            field(&f.values[0].kv_key)
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
                    field(&v.kv_key)
                ));
            }
            t.push_str("{{ end -}}\n");
            t
        }
    }
}

/// `.Data.data.key` when the key is a Go identifier (so a missing key fails the render),
/// `index .Data.data "key"` otherwise.
fn field(key: &str) -> String {
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
fn go_str(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// An HCL string literal: JSON escapes, plus `${`/`%{` escaped so nothing interpolates.
fn hcl_str(s: &str) -> String {
    go_str(s).replace("${", "$${").replace("%{", "%%{")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/lxc-homelab.toml"
        ))
        .unwrap();
        Spec::from_toml(&text).unwrap()
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
            ]
        );
        let hcl = &arts[0].content;
        assert!(hcl.contains("mount_path = \"auth/cert\""));
        assert!(
            hcl.contains("destination          = \"/run/secrets/openclaw/.staged/gateway_token\"")
        );
        assert!(hcl.contains("\"systemctl\", \"try-restart\", \"openclaw.service\""));
        assert!(hcl.contains("static_secret_render_interval = \"60s\""));
        assert!(!hcl.contains("{{"));
        assert!(arts[1]
            .content
            .contains("with secret \"kv/data/aether/openclaw\" }}{{ .Data.data.gateway_token }}"));
    }

    #[test]
    fn odd_keys_use_index_and_strings_are_escaped() {
        assert_eq!(field("my-key"), "index .Data.data \"my-key\"");
        assert_eq!(field("ok_key1"), ".Data.data.ok_key1");
        assert_eq!(hcl_str("a${b}\"c"), "\"a$${b}\\\"c\"");
    }

    #[test]
    fn files_backend_renders_no_agent() {
        let mut s = spec();
        s.secrets.backend = SecretBackend::Files;
        assert!(render(&s).is_empty());
    }
}
