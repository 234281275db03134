//! OpenBao 2.7.2 as a real server (not `-dev`): file storage, a TLS listener with a
//! certificate from the lab CA, initialised and unsealed by the lab. The unseal key and root
//! token are kept in a 0600 file in the state directory and handed to tools only through
//! stdin or the `BAO_TOKEN` environment variable, never argv.
//!
//! Configuration: KV v2 at the spec's mount holding the gateway's secrets, cert auth trusting
//! the lab root with the spec's role, and a policy that reads only the gateway's KV path.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::spec::OpenBao;
use serde_json::Value;

use crate::cmd::{describe, wait_for};
use crate::pki::{Leaf, Pki};
use crate::state::{mkdir, netns_command, spawn, write_file, Spawn};
use crate::topology::{GATEWAY, VAULT};

pub const PORT: u16 = 8200;

/// A machine's place in OpenBao: its KV path, its policy and cert-auth role (one name), the
/// certificate CN the role admits, and the CA that CN must chain to.
pub struct Role<'a> {
    pub kv_path: &'a str,
    pub name: &'a str,
    pub cn: &'a str,
    pub root_ca: &'a Path,
}

pub struct Vault {
    pub dir: PathBuf,
    pub bao: PathBuf,
    pub root_ca: PathBuf,
}

impl Vault {
    pub fn new(state: &Path, bao: PathBuf, pki: &Pki) -> Self {
        Vault {
            dir: state.join("vault"),
            bao,
            root_ca: pki.root_crt(),
        }
    }

    pub fn addr() -> String {
        format!("https://{}:{PORT}", VAULT.dns)
    }

    fn init_file(&self) -> PathBuf {
        self.dir.join("init.json")
    }

    /// Runs `bao <args>` inside the vault namespace as the root token, `stdin` piped in.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> Result<String> {
        let token = self.root_token()?;
        let mut argv = vec![self.bao.display().to_string()];
        argv.extend(args.iter().map(|s| s.to_string()));
        let mut c = netns_command(&VAULT.netns(), None, &argv);
        c.env("BAO_ADDR", Self::addr())
            .env("BAO_CACERT", &self.root_ca)
            .env("BAO_TOKEN", token)
            .env("HOME", &self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().with_context(|| describe(&c))?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.unwrap_or("").as_bytes())?;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while child.try_wait()?.is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                bail!("bao {} timed out", args.join(" "));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!(
                "bao {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn root_token(&self) -> Result<String> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(self.init_file())?)?;
        Ok(v["root_token"]
            .as_str()
            .context("root_token in init.json")?
            .to_string())
    }

    /// An HTTP API call with curl from the vault namespace, JSON body on stdin.
    fn api(&self, method: &str, path: &str, body: &str, token: bool) -> Result<(u16, Value)> {
        let mut argv: Vec<String> = [
            "curl",
            "-sS",
            "--max-time",
            "40",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-X",
            method,
            "--cacert",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        argv.push(self.root_ca.display().to_string());
        if token {
            // Header from stdin would mix with the body; read it from a 0600 file instead.
            let hf = self.dir.join("token.header");
            write_file(
                &hf,
                format!("X-Vault-Token: {}", self.root_token()?).as_bytes(),
                0o600,
            )?;
            argv.push("-H".into());
            argv.push(format!("@{}", hf.display()));
        }
        argv.extend([
            "--data-binary".into(),
            "@-".into(),
            format!("{}/v1/{path}", Self::addr()),
        ]);
        let mut c = netns_command(&VAULT.netns(), None, &argv);
        c.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn()?;
        child.stdin.take().unwrap().write_all(body.as_bytes())?;
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout);
        let (json, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
        Ok((
            code.trim().parse().unwrap_or(0),
            serde_json::from_str(json).unwrap_or(Value::Null),
        ))
    }

    /// Server config, TLS certificate, start, init (once) and unseal.
    pub fn start(&self, state: &Path, pki: &Pki) -> Result<()> {
        mkdir(&self.dir, 0o700)?;
        mkdir(&self.dir.join("data"), 0o700)?;
        let (crt, key) = (self.dir.join("tls.crt"), self.dir.join("tls.key"));
        if !crt.exists() {
            pki.issue(
                &Leaf::server(
                    VAULT.dns,
                    &[VAULT.dns],
                    &[VAULT.v4.to_string(), VAULT.v6.to_string()],
                ),
                &crt,
                &key,
            )?;
        }
        let hcl = format!(
            "# OpenBao server of openclaw-lab (2.x has no file storage: single-node raft)\n\
             storage \"raft\" {{\n  path = \"{}\"\n  node_id = \"vault\"\n}}\n\
             listener \"tcp\" {{\n  address = \"[::]:{PORT}\"\n  tls_cert_file = \"{}\"\n  tls_key_file = \"{}\"\n}}\n\
             api_addr = \"{}\"\ncluster_addr = \"https://{}:8201\"\nui = false\n",
            self.dir.join("data").display(),
            crt.display(),
            key.display(),
            Self::addr(),
            VAULT.dns
        );
        let cfg = self.dir.join("server.hcl");
        write_file(&cfg, hcl.as_bytes(), 0o600)?;
        spawn(
            state,
            &Spawn {
                name: "vault",
                netns: &VAULT.netns(),
                argv: vec![
                    self.bao.display().to_string(),
                    "server".into(),
                    format!("-config={}", cfg.display()),
                ],
                env: vec![],
                user: None,
                cwd: Some(self.dir.clone()),
            },
        )?;
        let up = wait_for(Duration::from_secs(30), Duration::from_millis(200), || {
            self.api("GET", "sys/seal-status", "", false)
                .ok()
                .filter(|(c, _)| *c == 200)
                .map(|(_, v)| v)
        });
        let Some(status) = up else {
            bail!(
                "OpenBao did not answer within 30 s; see {}",
                crate::state::logfile(state, "vault").display()
            );
        };
        if status["initialized"] == Value::Bool(false) {
            let (code, v) = self.api(
                "PUT",
                "sys/init",
                r#"{"secret_shares":1,"secret_threshold":1}"#,
                false,
            )?;
            if code != 200 {
                bail!("OpenBao init answered {code}");
            }
            write_file(&self.init_file(), v.to_string().as_bytes(), 0o600)?;
        }
        self.unseal()
    }

    pub fn unseal(&self) -> Result<()> {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(self.init_file())?)?;
        let key = v["keys_base64"][0]
            .as_str()
            .context("unseal key in init.json")?;
        let (code, s) = self.api(
            "PUT",
            "sys/unseal",
            &serde_json::json!({"key": key}).to_string(),
            false,
        )?;
        if code != 200 || s["sealed"] != Value::Bool(false) {
            bail!("OpenBao unseal answered {code}, sealed={}", s["sealed"]);
        }
        // Active node ready for requests.
        wait_for(Duration::from_secs(20), Duration::from_millis(200), || {
            self.api("GET", "sys/health", "", false)
                .ok()
                .filter(|(c, _)| *c == 200)
                .map(|_| ())
        })
        .context("OpenBao unsealed but not active within 20 s")?;
        Ok(())
    }

    /// KV v2, cert auth, and the gateway's secrets with its read-only policy and role.
    pub fn configure(
        &self,
        bao: &OpenBao,
        secrets: &serde_json::Map<String, Value>,
        root_ca: &Path,
    ) -> Result<()> {
        let mount = bao.kv_mount.trim_matches('/');
        self.cli(
            &["secrets", "enable", &format!("-path={mount}"), "kv-v2"],
            None,
        )?;
        let cm = bao.cert_auth_mount.trim_matches('/');
        self.cli(&["auth", "enable", &format!("-path={cm}"), "cert"], None)?;
        let role = Role {
            kv_path: &bao.kv_path,
            name: &bao.cert_auth_role,
            cn: GATEWAY.dns,
            root_ca,
        };
        self.configure_role(bao, &role, secrets)
    }

    /// One machine's secrets at `kv_path`, a policy that reads only that path, and a cert-auth
    /// role (named like the policy) that only a certificate for `cn` from the lab root logs
    /// in to. The gateway and LiteLLM each get their own.
    pub fn configure_role(
        &self,
        bao: &OpenBao,
        r: &Role,
        secrets: &serde_json::Map<String, Value>,
    ) -> Result<()> {
        let (kv_path, role, cn) = (r.kv_path, r.name, r.cn);
        let mount = bao.kv_mount.trim_matches('/');
        self.put_at(bao, kv_path, secrets)?;
        let policy = format!(
            "# openclaw-lab: {cn} may read its own secrets and nothing else\n\
             path \"{mount}/data/{kv_path}\" {{\n  capabilities = [\"read\"]\n}}\n"
        );
        self.cli(&["policy", "write", role, "-"], Some(&policy))?;
        let cm = bao.cert_auth_mount.trim_matches('/');
        self.cli(
            &[
                "write",
                &format!("auth/{cm}/certs/{role}"),
                &format!("display_name={role}"),
                &format!("token_policies={role}"),
                &format!("certificate=@{}", r.root_ca.display()),
                &format!("allowed_common_names={cn}"),
                "token_ttl=10m",
                "token_max_ttl=30m",
            ],
            None,
        )?;
        Ok(())
    }

    /// Writes the gateway's secrets (a new KV version); values go through stdin.
    pub fn put(&self, bao: &OpenBao, secrets: &serde_json::Map<String, Value>) -> Result<()> {
        self.put_at(bao, &bao.kv_path, secrets)
    }

    /// Writes `secrets` at `kv_path` of the spec's KV mount; values go through stdin.
    pub fn put_at(
        &self,
        bao: &OpenBao,
        kv_path: &str,
        secrets: &serde_json::Map<String, Value>,
    ) -> Result<()> {
        self.cli(
            &[
                "kv",
                "put",
                &format!("-mount={}", bao.kv_mount.trim_matches('/')),
                kv_path,
                "-",
            ],
            Some(&Value::Object(secrets.clone()).to_string()),
        )?;
        Ok(())
    }

    /// Current KV data (root token), for tests.
    pub fn get(&self, bao: &OpenBao) -> Result<serde_json::Map<String, Value>> {
        let out = self.cli(
            &[
                "kv",
                "get",
                "-format=json",
                &format!("-mount={}", bao.kv_mount.trim_matches('/')),
                &bao.kv_path,
            ],
            None,
        )?;
        let v: Value = serde_json::from_str(&out)?;
        Ok(v["data"]["data"].as_object().cloned().unwrap_or_default())
    }

    /// Seal status through the API (no token).
    pub fn healthy(&self) -> bool {
        matches!(self.api("GET", "sys/health", "", false), Ok((200, _)))
    }
}

/// A random token of `n` hex characters from the kernel's CSPRNG.
pub fn random_token(n: usize) -> Result<String> {
    let mut buf = vec![0u8; n.div_ceil(2)];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut buf)?;
    let mut s: String = buf.iter().map(|b| format!("{b:02x}")).collect();
    s.truncate(n);
    Ok(s)
}
