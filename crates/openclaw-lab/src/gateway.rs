//! The gateway host: the spec rendered by `openclaw-render`, its artifacts installed where the
//! spec says (all inside the lab's state directory), the machine certificate, the nftables
//! ruleset loaded in the gateway's namespace, and the units run by [`crate::units`].
//!
//! Nothing here configures the gateway by hand: OpenClaw reads the rendered openclaw.json, the
//! OpenBao agent the rendered agent.hcl and templates, the firewall is the rendered ruleset.
//! The only lab-side inputs are the binary paths (filled into the spec from the installed
//! components) and, until `openclaw-render`'s systemd renderer exists, fallback unit files
//! written here in the same shape (see [`fallback_units`]).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use openclaw_render::render::bao_agent;
use openclaw_render::spec::{Runtime, Spec};
use openclaw_render::Artifact;

use crate::container_host::GatewayMode;

use crate::cmd::{run, wait_for};
use crate::components;
use crate::pki::{Leaf, Pki};
use crate::state::{mkdir, write_file};
use crate::topology::GATEWAY;

/// Every absolute path in the spec the lab writes to must lie inside the state directory,
/// so `down` can remove all of it.
pub fn check_paths(spec: &Spec, state: &Path) -> Result<()> {
    let mut fields: Vec<(&str, &str)> = vec![
        ("secrets.dir", &spec.secrets.dir),
        ("paths.config", &spec.paths.config),
        ("paths.state_dir", &spec.paths.state_dir),
        ("paths.agent_dir", &spec.paths.agent_dir),
    ];
    if let Some(m) = &spec.machine_cert {
        fields.push(("machine_cert.cert", &m.cert));
        fields.push(("machine_cert.key", &m.key));
    }
    let proxy_log = spec.egress_proxy_access_log();
    if spec.uses_egress_proxy() {
        fields.push(("egress.proxy.access_log", &proxy_log));
    }
    if let Some(l) = &spec.litellm {
        let p = &l.paths;
        fields.push(("litellm.paths.config", &p.config));
        fields.push(("litellm.paths.state_dir", &p.state_dir));
        fields.push(("litellm.paths.secrets_dir", &p.secrets_dir));
        fields.push(("litellm.paths.agent_dir", &p.agent_dir));
        if let Some(b) = &l.openbao {
            fields.push(("litellm.openbao.cert", &b.cert));
            fields.push(("litellm.openbao.key", &b.key));
        }
    }
    for (field, p) in fields {
        if !Path::new(p).starts_with(state) {
            bail!("{field} = {p} is outside the lab's state directory {} (fix: put it under that directory, as examples/lab.toml does)", state.display());
        }
    }
    if spec.machine_cert.is_none() || spec.secrets.openbao.is_none() {
        bail!("the lab needs [machine_cert] and [secrets.openbao] in the spec (see examples/lab.toml)");
    }
    Ok(())
}

/// The spec as the lab runs it: binary paths pointed at the installed components and the
/// lab's copies of this workspace's binaries. Written to `<state>/spec.json` for the checks.
pub fn effective_spec(spec_path: &Path, state: &Path, mode: GatewayMode) -> Result<Spec> {
    let mut spec =
        Spec::from_path(spec_path).with_context(|| format!("loading {}", spec_path.display()))?;
    check_paths(&spec, state)?;
    let bin = state.join("bin");
    spec.runtime = match mode {
        GatewayMode::Container => {
            // The image built here from the same bytes as the native run, as a docker-archive
            // (the transport the NixOS module uses).
            spec.container.image =
                format!("docker-archive:{}", components::gateway_image()?.display());
            Runtime::Container
        }
        GatewayMode::Native => Runtime::Native,
    };
    spec.paths.openclaw_bin = components::openclaw()?.display().to_string();
    spec.paths.bao_bin = components::bao()?.display().to_string();
    spec.paths.secretcheck_bin = bin.join("openclaw-secretcheck").display().to_string();
    spec.paths.probe_bin = bin.join("openclaw-probe").display().to_string();
    if let Some(l) = spec.litellm.as_mut() {
        l.paths.bin = components::litellm()?.display().to_string();
    }
    if spec.uses_egress_proxy() {
        spec.egress.proxy.squid_bin = components::squid()?.display().to_string();
    }
    Ok(spec)
}

/// Copies this workspace's binaries into `<state>/bin` (world-executable, so the gateway's
/// user can run secretcheck) and links the lab's `systemctl` shim and Node.
pub fn install_binaries(state: &Path) -> Result<()> {
    let bin = state.join("bin");
    mkdir(&bin, 0o755)?;
    // Under `cargo test` the running executable is the test; the lab binary is its sibling.
    let me = std::env::current_exe()?;
    let me = if me.file_name().is_some_and(|n| n == "openclaw-lab") {
        me
    } else {
        components::sibling("openclaw-lab")?
    };
    copy_exec(&me, &bin.join("openclaw-lab"))?;
    copy_exec(
        &components::sibling("openclaw-secretcheck")?,
        &bin.join("openclaw-secretcheck"),
    )?;
    match components::sibling("openclaw-probe") {
        Ok(p) => copy_exec(&p, &bin.join("openclaw-probe"))?,
        Err(e) => tracing::warn!("{e:#}: the probe is not part of this lab run"),
    }
    let _ = std::fs::remove_file(bin.join("systemctl"));
    std::os::unix::fs::symlink("openclaw-lab", bin.join("systemctl"))?;
    let _ = std::fs::remove_file(bin.join("node"));
    std::os::unix::fs::symlink(components::node_bin_dir()?.join("node"), bin.join("node"))?;
    Ok(())
}

fn copy_exec(from: &Path, to: &Path) -> Result<()> {
    let tmp = to.with_extension("tmp");
    std::fs::copy(from, &tmp).with_context(|| format!("copying {}", from.display()))?;
    std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
    std::fs::rename(&tmp, to)?;
    Ok(())
}

/// Creates the gateway's system user when missing; records that the lab made it. In
/// container mode it gets the container's uid and gid (what sysusers.d asks for), since the
/// container reads its secret files as that uid.
pub fn ensure_user(spec: &Spec) -> Result<()> {
    let user = &spec.paths.service_user;
    let (uid, gid) = spec.container.ids();
    let container = spec.runtime == Runtime::Container;
    if let Ok(have) = run("id", &["-u", user]) {
        if container && have.trim() != uid {
            bail!("user {user} exists with uid {} but the container runs as {uid} (fix: set container.user to \"{}:{}\" or remove the user)", have.trim(), have.trim(), have.trim());
        }
        return Ok(());
    }
    let mut args = SYSTEM_USER.to_vec();
    if container {
        if let Ok(other) = run("getent", &["passwd", uid]) {
            bail!("container.user {uid}:{gid}: uid {uid} belongs to {} on this host (fix: choose a free uid in the spec)", other.split(':').next().unwrap_or("?"));
        }
        if run("getent", &["group", gid]).is_err() {
            run("groupadd", &["--system", "--gid", gid, user])?;
        }
        args.extend(["--uid", uid, "--gid", gid]);
    }
    args.push(user);
    run("useradd", &args)?;
    mark_created(user)
}

/// `useradd` arguments for a service account: no home, no login.
const SYSTEM_USER: [&str; 6] = [
    "--system",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
];

/// The egress proxy's system user (a plain one: no container runs as it).
pub fn ensure_proxy_user(spec: &Spec) -> Result<()> {
    if !spec.uses_egress_proxy() {
        return Ok(());
    }
    ensure_system_user(&spec.egress.proxy.user)
}

/// A plain service account (no home, no login), made when missing and recorded for `down`.
pub fn ensure_system_user(user: &str) -> Result<()> {
    if run("id", &["-u", user]).is_ok() {
        return Ok(());
    }
    let mut args = SYSTEM_USER.to_vec();
    args.push(user);
    run("useradd", &args)?;
    mark_created(user)
}

fn mark_created(user: &str) -> Result<()> {
    // Outside the state dir on purpose: `down` must still know after the state dir is gone.
    mkdir(Path::new("/run/openclaw-lab"), 0o700)?;
    write_file(
        &Path::new("/run/openclaw-lab").join(format!("user-{user}")),
        b"created by openclaw-lab\n",
        0o600,
    )
}

/// Removes users the lab created.
pub fn remove_created_users() {
    if let Ok(rd) = std::fs::read_dir("/run/openclaw-lab") {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if let Some(user) = n.strip_prefix("user-") {
                let _ = run("userdel", &[user]);
                let _ = run("groupdel", &[user]);
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

fn chown(path: &Path, user: &str) -> Result<()> {
    run(
        "chown",
        &[&format!("{user}:{user}"), &path.display().to_string()],
    )
    .map(|_| ())
}

/// Renders every artifact into `<state>/render` and installs those with an install path
/// inside the state directory. Returns the artifacts.
pub fn render_and_install(spec: &Spec, state: &Path) -> Result<Vec<Artifact>> {
    let arts = openclaw_render::render_all(spec).map_err(|e| anyhow::anyhow!("{e}"))?;
    let out = state.join("render");
    mkdir(&out, 0o755)?;
    for a in &arts {
        write_file(&out.join(&a.path), a.content.as_bytes(), 0o644)?;
        if let Some(dest) = &a.install_path {
            let dest = Path::new(dest);
            if dest.starts_with(state) {
                write_file(dest, a.content.as_bytes(), a.mode)?;
                if a.owner != "root" {
                    chown(dest, &a.owner)?;
                    // Directories write_file made inside the gateway's state dir (an agent's
                    // settings.json) are the gateway's too, as tmpfiles.d would make them.
                    let sd = Path::new(&spec.paths.state_dir);
                    for dir in dest.ancestors().skip(1) {
                        if !dir.starts_with(sd) || dir == sd {
                            break;
                        }
                        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
                        chown(dir, &a.owner)?;
                    }
                }
            }
        }
    }
    Ok(arts)
}

/// Directories the gateway host needs before its units start, with their owners and modes.
pub fn prepare_dirs(spec: &Spec) -> Result<()> {
    let user = &spec.paths.service_user;
    let sd = PathBuf::from(&spec.paths.state_dir);
    mkdir(&sd, 0o700)?;
    chown(&sd, user)?;
    if let Some(log) = &spec.hardening.log_file {
        let d = Path::new(log).parent().unwrap();
        mkdir(d, 0o700)?;
        chown(d, user)?;
    }
    // Secrets: root-owned, the gateway's group may enter; staging is root's alone.
    let sec = PathBuf::from(&spec.secrets.dir);
    mkdir(&sec, 0o750)?;
    run(
        "chown",
        &[&format!("root:{user}"), &sec.display().to_string()],
    )?;
    mkdir(&PathBuf::from(bao_agent::staging_dir(spec)), 0o700)?;
    let m = spec.machine_cert.as_ref().expect("checked");
    mkdir(Path::new(&m.cert).parent().unwrap(), 0o700)?;
    mkdir(Path::new(&m.key).parent().unwrap(), 0o700)?;
    if spec.uses_egress_proxy() {
        // What the rendered tmpfiles.d line makes on a real host.
        let log = spec.egress_proxy_access_log();
        let d = Path::new(&log).parent().unwrap();
        mkdir(d, 0o750)?;
        chown(d, &spec.egress.proxy.user)?;
    }
    Ok(())
}

/// The first machine certificate, minted from the intermediate the way cloud-init would
/// provision it; step-ca renews it from then on. Lifetime 5 minutes like step-ca's default here.
pub fn provision_machine_cert(spec: &Spec, pki: &Pki) -> Result<()> {
    let m = spec.machine_cert.as_ref().expect("checked");
    pki.issue(
        &Leaf {
            cn: GATEWAY.dns,
            dns: &[GATEWAY.dns],
            ips: &[GATEWAY.v4.to_string()],
            server: false,
            client: true,
            lifetime: Duration::from_secs(300),
        },
        Path::new(&m.cert),
        Path::new(&m.key),
    )
}

/// Loads the rendered ruleset in the gateway namespace.
pub fn load_nftables(state: &Path) -> Result<()> {
    let nft = components::nft()?;
    let file = state
        .join("render")
        .join(openclaw_render::render::nftables::ARTIFACT_PATH);
    run(
        "ip",
        &[
            "netns",
            "exec",
            &GATEWAY.netns(),
            &nft.display().to_string(),
            "-f",
            &file.display().to_string(),
        ],
    )
    .context("loading the rendered nftables ruleset")?;
    Ok(())
}

/// Quotes a word for a unit file's Exec line.
fn q(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=:@,".contains(c))
    {
        s.to_string()
    } else {
        format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// Units written by the lab while `openclaw-render` renders none (its systemd renderer is
/// being written). Same shape the renderer is expected to produce: the gateway gated by
/// `openclaw-secretcheck` in ExecStartPre, the OpenBao agent, and the certificate renewal
/// (here the lab's own client, since the step CLI cannot be built on these machines).
pub fn fallback_units(spec: &Spec, state: &Path) -> Vec<(String, String)> {
    let mut check = vec![spec.paths.secretcheck_bin.clone(), "check".into()];
    check.extend(bao_agent::secretcheck_args(spec));
    let check: Vec<String> = check.iter().map(|a| q(a)).collect();
    let gw = format!(
        "# Lab fallback unit (openclaw-render renders no systemd units yet).\n\
         [Unit]\nDescription=OpenClaw gateway ({name})\n\n[Service]\nUser={user}\n\
         Environment=OPENCLAW_CONFIG_PATH={cfg} OPENCLAW_STATE_DIR={sd} OPENCLAW_NIX_MODE=1 HOME={sd}\n\
         ExecStartPre={check}\nExecStart={bin} gateway run\nRestart=always\nRestartSec=2s\n",
        name = spec.name,
        user = spec.paths.service_user,
        cfg = spec.paths.config,
        sd = spec.paths.state_dir,
        check = check.join(" "),
        bin = q(&spec.paths.openclaw_bin),
    );
    let agent = format!(
        "# Lab fallback unit (openclaw-render renders no systemd units yet).\n\
         [Unit]\nDescription=OpenBao agent for {name}\n\n[Service]\n\
         ExecStart={bao} agent -config={dir}/agent.hcl\nRestart=always\nRestartSec=2s\n",
        name = spec.name,
        bao = q(&spec.paths.bao_bin),
        dir = spec.paths.agent_dir.trim_end_matches('/'),
    );
    let renew = renew_unit(spec, state, "");
    vec![
        (spec.gateway_unit(), gw),
        (openclaw_render::render::systemd::agent_unit(spec), agent),
        (format!("{}-cert-renew.service", spec.name), renew),
    ]
}

/// The lab's stand-in for a rendered step-cli renewal unit: `openclaw-lab renew --loop`
/// (`extra`: e.g. " --litellm" for LiteLLM's certificate).
pub fn renew_unit(spec: &Spec, state: &Path, extra: &str) -> String {
    format!(
        "# Lab unit: step-ca machine certificate renewal through /renew (no step CLI here).\n\
         [Unit]\nDescription=Machine certificate renewal for {name}{extra}\n\n[Service]\n\
         ExecStart={lab} renew --spec {spec} --loop{extra}\nRestart=always\nRestartSec=5s\n",
        name = spec.name,
        lab = state.join("bin/openclaw-lab").display(),
        spec = state.join("spec.json").display(),
    )
}

/// Unit files to run: rendered ones (`systemd/*.service`) when the renderer produced them,
/// else the fallback. Written to `<state>/units`. Returns (unit name, path), agent first.
/// A rendered unit of LiteLLM's (its proxy or its OpenBao agent), by artifact path.
pub fn is_litellm_unit(spec: &Spec, path: &str) -> bool {
    use openclaw_render::render::litellm;
    spec.litellm.is_some()
        && [litellm::unit_name(spec), litellm::agent_unit_name(spec)]
            .iter()
            .any(|u| path == format!("systemd/{u}"))
}

pub fn write_units(spec: &Spec, state: &Path, arts: &[Artifact]) -> Result<Vec<(String, PathBuf)>> {
    let dir = state.join("units");
    mkdir(&dir, 0o755)?;
    let rendered: Vec<(String, String)> = arts
        .iter()
        .filter(|a| a.path.starts_with("systemd/") && a.path.ends_with(".service"))
        // LiteLLM's units (`[litellm]`) belong to the llm host, not the gateway's.
        .filter(|a| !is_litellm_unit(spec, &a.path))
        .map(|a| {
            (
                a.path.rsplit('/').next().unwrap().to_string(),
                a.content.clone(),
            )
        })
        .collect();
    let units = if rendered.iter().any(|(n, _)| *n == spec.gateway_unit()) {
        let mut u = rendered;
        if spec.runtime == Runtime::Container {
            // The gateway is the unit quadlet generates from the rendered .container.
            u.retain(|(n, _)| *n != spec.gateway_unit());
            u.extend(crate::container_host::quadlet_units(spec, state, arts)?);
        }
        // The renewal through step CLI cannot run here; the lab's client stands in.
        u.retain(|(_, c)| !c.contains("step ca renew"));
        u.extend(
            fallback_units(spec, state)
                .into_iter()
                .filter(|(n, _)| n.ends_with("-cert-renew.service")),
        );
        u
    } else {
        fallback_units(spec, state)
    };
    let mut out = Vec::new();
    for (name, content) in units {
        let p = dir.join(&name);
        write_file(&p, content.as_bytes(), 0o644)?;
        out.push((name, p));
    }
    // The gateway last: its secrets must exist before it starts.
    out.sort_by_key(|(n, _)| *n == spec.gateway_unit());
    Ok(out)
}

/// Waits until every rendered secret file is live (promoted by secretcheck).
pub fn wait_for_secrets(spec: &Spec, limit: Duration) -> Result<()> {
    let files = spec.rendered_secret_files();
    wait_for(limit, Duration::from_millis(200), || {
        files
            .iter()
            .all(|f| Path::new(&f.path).exists())
            .then_some(())
    })
    .with_context(|| {
        format!(
            "the OpenBao agent did not render {} within {limit:?}",
            files
                .iter()
                .map(|f| f.path.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{self, CA, LLM, PROXY, VAULT};

    /// examples/lab.toml and the namespaces must agree, or the checks test the wrong hosts.
    #[test]
    fn lab_spec_matches_the_topology() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab.toml");
        let spec = Spec::from_path(&p).unwrap();
        check_paths(&spec, Path::new(crate::state::DEFAULT_STATE_DIR)).unwrap();
        let allow: Vec<(String, Vec<u16>)> = spec
            .egress
            .allow
            .iter()
            .map(|r| (r.to.addr().to_string(), r.ports.clone()))
            .collect();
        for (ip, port) in [
            (LLM.v4.to_string(), crate::lab::LLM_PORT),
            (VAULT.v4.to_string(), crate::vault::PORT),
            (CA.v4.to_string(), crate::ca::PORT),
        ] {
            assert!(
                allow.iter().any(|(a, p)| *a == ip && p.contains(&port)),
                "{ip}:{port} not allowed"
            );
        }
        assert_eq!(spec.egress.dns_resolvers, [topology::RESOLVER.to_string()]);
        assert!(spec
            .ingress
            .allow_from
            .iter()
            .any(|c| c.addr() == std::net::IpAddr::V4(PROXY.v4)));
        assert_eq!(
            spec.proxy.as_ref().unwrap().upstream,
            format!("{}:{}", GATEWAY.v4, spec.gateway.port)
        );
        assert_eq!(
            spec.secrets.openbao.as_ref().unwrap().address,
            crate::vault::Vault::addr()
        );
        assert_eq!(spec.machine_cert.as_ref().unwrap().ca_url, crate::ca::url());
    }
}
