//! The llm host: the real LiteLLM proxy run from the spec's `[litellm]` artifacts, in front
//! of the provider hosts. Nothing is configured by hand: LiteLLM reads the rendered
//! `config.yaml`, its own OpenBao agent the rendered `agent.hcl` and template (logging in with
//! the llm host's machine certificate, its own cert-auth role and KV path), the unit runner
//! executes the two rendered units (`EnvironmentFile=`, `ExecStartPre=openclaw-secretcheck`),
//! and the rendered nftables table filters LiteLLM's user.
//!
//! The lab's only inputs are LiteLLM's KV values (the master key is the gateway's
//! `models.api_key` value: without a database LiteLLM takes exactly one key) and the machine
//! certificate, minted as cloud-init would.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::render::litellm as lrender;
use openclaw_render::spec::litellm::Litellm;
use openclaw_render::spec::Spec;
use openclaw_render::Artifact;
use serde_json::{Map, Value};

use crate::cmd::{run, wait_for};
use crate::pki::{Leaf, Pki};
use crate::state::{mkdir, write_file};
use crate::topology::LLM;
use crate::vault::{random_token, Vault};

/// LiteLLM's machine certificate lives 5 minutes like the gateway's, so its renewal (the
/// llm host's own renewal unit) happens during the tests.
const CERT_LIFETIME: Duration = Duration::from_secs(300);

pub fn litellm(spec: &Spec) -> Result<&Litellm> {
    spec.litellm
        .as_ref()
        .context("the lab's spec has no [litellm] (fix: start from examples/lab.toml)")
}

/// LiteLLM's KV values: its master key (the gateway's LiteLLM key, the same value) and one
/// random key per provider (which the provider fixtures then require).
pub fn secrets(spec: &Spec, gateway_secrets: &Map<String, Value>) -> Result<Map<String, Value>> {
    let l = litellm(spec)?;
    let gw_key = spec
        .models
        .api_key
        .as_ref()
        .and_then(|n| spec.secrets.items.get(n).map(|i| i.kv_key(n).to_string()))
        .and_then(|k| gateway_secrets.get(&k).cloned())
        .context("models.api_key: the gateway's LiteLLM key is not among its secrets (fix: name a [secrets.items] entry)")?;
    let mut m = Map::new();
    m.insert(l.master_key.clone(), gw_key);
    for p in &l.providers {
        m.insert(
            p.api_key.clone(),
            Value::String(random_token(48.max(p.api_key_min_length))?),
        );
    }
    Ok(m)
}

/// The provider key of `name` from LiteLLM's KV values.
pub fn provider_key<'a>(spec: &Spec, kv: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    let p = spec
        .litellm
        .as_ref()?
        .providers
        .iter()
        .find(|p| p.name == name)?;
    kv.get(&p.api_key)?.as_str()
}

/// LiteLLM's user, directories (as the rendered tmpfiles.d lines make them) and machine
/// certificate.
pub fn prepare(spec: &Spec, st: &Path, pki: &Pki) -> Result<()> {
    let l = litellm(spec)?;
    let p = &l.paths;
    crate::gateway::ensure_system_user(&p.service_user)?;
    // The lab's llm directory holds LiteLLM's config and state: its user must traverse it.
    mkdir(&st.join("llm"), 0o755)?;
    let user = &p.service_user;
    let state = Path::new(&p.state_dir);
    mkdir(state, 0o750)?;
    run(
        "chown",
        &[&format!("{user}:{user}"), &state.display().to_string()],
    )?;
    let secrets = Path::new(&p.secrets_dir);
    mkdir(secrets, 0o750)?;
    run(
        "chown",
        &[&format!("root:{user}"), &secrets.display().to_string()],
    )?;
    mkdir(Path::new(&p.staging_dir()), 0o700)?;
    mkdir(Path::new(&p.agent_dir), 0o700)?;
    let lb = l
        .openbao
        .as_ref()
        .context("litellm.openbao: the lab delivers LiteLLM's keys through OpenBao (fix: add [litellm.openbao] as examples/lab.toml does)")?;
    for f in [&lb.cert, &lb.key] {
        mkdir(Path::new(f).parent().unwrap(), 0o700)?;
    }
    pki.issue(
        &Leaf {
            cn: LLM.dns,
            dns: &[LLM.dns],
            ips: &[LLM.v4.to_string()],
            server: false,
            client: true,
            lifetime: CERT_LIFETIME,
        },
        Path::new(&lb.cert),
        Path::new(&lb.key),
    )
}

/// LiteLLM's KV path, its read-only policy and its cert-auth role (the llm host's CN only).
pub fn configure_vault(vault: &Vault, spec: &Spec, kv: &Map<String, Value>) -> Result<()> {
    let l = litellm(spec)?;
    let bao = spec.secrets.openbao.as_ref().context("secrets.openbao")?;
    let lb = l.openbao.as_ref().context("litellm.openbao")?;
    let role = crate::vault::Role {
        kv_path: &lb.kv_path,
        name: &lb.cert_auth_role,
        cn: LLM.dns,
        root_ca: &vault.root_ca,
    };
    vault.configure_role(bao, &role, kv)
}

/// Loads the rendered table for LiteLLM's user in the llm host's namespace.
pub fn load_nftables(st: &Path) -> Result<()> {
    let nft = crate::components::nft()?;
    let file = st.join("render").join(lrender::NFT_PATH);
    run(
        "ip",
        &[
            "netns",
            "exec",
            &LLM.netns(),
            &nft.display().to_string(),
            "-f",
            &file.display().to_string(),
        ],
    )
    .context("loading LiteLLM's rendered nftables table")?;
    Ok(())
}

/// Writes LiteLLM's two rendered units to `<state>/units` and starts them on the llm host:
/// the agent first, LiteLLM once its env file is live (its ExecStartPre would refuse before),
/// then the renewal of LiteLLM's certificate (the lab's stand-in for the rendered step-cli
/// unit, which restarts LiteLLM's agent after a renewal as the rendered one does).
pub fn start(spec: &Spec, st: &Path, arts: &[Artifact]) -> Result<()> {
    let l = litellm(spec)?;
    let dir = st.join("units");
    mkdir(&dir, 0o755)?;
    let unit = |name: String| -> Result<(String, PathBuf)> {
        let a = arts
            .iter()
            .find(|a| a.path == format!("systemd/{name}"))
            .with_context(|| format!("the render has no {name}"))?;
        let p = dir.join(&name);
        write_file(&p, a.content.as_bytes(), 0o644)?;
        Ok((name, p))
    };
    let (agent, agent_path) = unit(lrender::agent_unit_name(spec))?;
    let (proxy, proxy_path) = unit(lrender::unit_name(spec))?;
    crate::lab::start_unit_on(st, &LLM.netns(), &agent, &agent_path)?;
    let env_file = l.paths.env_file();
    wait_for(Duration::from_secs(60), Duration::from_millis(200), || {
        Path::new(&env_file).exists().then_some(())
    })
    .with_context(|| {
        format!(
            "LiteLLM's agent did not render {env_file} within 60 s: see {}",
            crate::state::logfile(st, &format!("unit-{agent}")).display()
        )
    })?;
    crate::lab::start_unit_on(st, &LLM.netns(), &proxy, &proxy_path)?;
    let renew = renew_unit_name(spec);
    let renew_path = dir.join(&renew);
    write_file(
        &renew_path,
        crate::gateway::renew_unit(spec, st, " --litellm").as_bytes(),
        0o644,
    )?;
    crate::lab::start_unit_on(st, &LLM.netns(), &renew, &renew_path)?;
    Ok(())
}

/// The llm host's renewal unit of LiteLLM's certificate (the rendered unit's name).
pub fn renew_unit_name(spec: &Spec) -> String {
    format!("{}.service", lrender::cert_renew_unit_stem(spec))
}

/// LiteLLM's listen port (from `litellm.listen`).
pub fn port(spec: &Spec) -> Result<u16> {
    let (_, p) = lrender::listen_parts(&litellm(spec)?.listen);
    p.parse()
        .with_context(|| format!("litellm.listen: no port in {p}"))
}

/// Waits until LiteLLM answers its liveliness probe on the llm host.
pub fn wait_live(spec: &Spec, st: &Path, limit: Duration) -> Result<()> {
    let url = format!("http://127.0.0.1:{}/health/liveliness", port(spec)?);
    let up = wait_for(limit, Duration::from_millis(500), || {
        (crate::lab::http_status(&LLM.netns(), &url, &[]) == 200).then_some(())
    });
    if up.is_none() {
        bail!(
            "LiteLLM did not answer {url} within {limit:?}: see {}",
            crate::state::logfile(st, &format!("unit-{}", lrender::unit_name(spec))).display()
        );
    }
    Ok(())
}

/// Restarts LiteLLM through its unit (spend counted in memory starts again at 0) and waits
/// until it is live again.
pub fn restart(spec: &Spec, st: &Path, limit: Duration) -> Result<()> {
    let unit = lrender::unit_name(spec);
    let before = crate::lab::unit_status(st, &unit)
        .map(|s| s.starts)
        .unwrap_or(0);
    let pid = crate::state::read_pid(st, &format!("unit-{unit}"))
        .filter(|p| crate::state::alive(*p))
        .with_context(|| format!("{unit} is not running"))?;
    // SAFETY: SIGHUP to the lab's supervisor of that unit (its restart, as systemctl's).
    unsafe { libc::kill(pid, libc::SIGHUP) };
    wait_for(limit, Duration::from_millis(200), || {
        crate::lab::unit_status(st, &unit).filter(|s| s.starts > before && s.state == "running")
    })
    .with_context(|| format!("{unit} did not restart within {limit:?}"))?;
    wait_live(spec, st, limit)
}
