//! Podman quadlet units for hosts that run the gateway as a container: read-only root, every
//! capability dropped, limits from the spec, secrets mounted read-only, start gated by
//! `openclaw-secretcheck`.
//!
//! Target: Podman >= 4.4 (the first quadlet). Quadlet 4.4 rejects the whole file on a key it
//! does not know, so `[Container]` and `[Network]` use only keys 4.4 has ([`QUADLET_4_4_KEYS`]);
//! everything newer (tmpfs, health check, DNS) goes through `PodmanArgs=`, which every
//! version passes to `podman run` as is. `Notify=healthy` is the one exception: 4.4-5.0 read
//! it as "not a boolean" and fall back to conmon's notify (ready when the container started),
//! 5.1+ reports ready only once the health check passes.
//!
//! No systemd sandboxing in `[Service]` on purpose: the unit runs rootful `podman`, which
//! needs capabilities, namespaces and the host's mount table. Mount-namespace options
//! (ProtectSystem, PrivateTmp, ...) hide the container's overlay mounts from every other
//! `podman` command (`podman exec`, the health-check timer), NoNewPrivileges breaks the
//! SELinux transition to container_t, and an empty capability set stops podman itself. The
//! sandbox is the container's: no capabilities, no-new-privileges, read-only root,
//! unprivileged uid, its own network, cgroup limits.

use super::systemd::{agent_unit, container_secretcheck_line, exec_word};
use super::Artifact;
use crate::spec::{Bind, SecretBackend, Spec};

/// The `[Container]` and `[Network]` keys Podman 4.4's quadlet accepts (from its
/// `supportedContainerKeys` / `supportedNetworkKeys`).
pub const QUADLET_4_4_KEYS: &[&str] = &[
    "AddCapability",
    "AddDevice",
    "Annotation",
    "ContainerName",
    "DropCapability",
    "Environment",
    "EnvironmentFile",
    "EnvironmentHost",
    "Exec",
    "ExposeHostPort",
    "Group",
    "Image",
    "Label",
    "Network",
    "NoNewPrivileges",
    "Notify",
    "PodmanArgs",
    "PublishPort",
    "ReadOnly",
    "RemapGid",
    "RemapUid",
    "RemapUidSize",
    "RemapUsers",
    "RunInit",
    "SeccompProfile",
    "Timezone",
    "User",
    "VolatileTmp",
    "Volume",
    // [Network]
    "DisableDNS",
    "Driver",
    "Gateway",
    "IPAMDriver",
    "IPRange",
    "IPv6",
    "Internal",
    "Options",
    "Subnet",
];

pub fn render(spec: &Spec) -> Vec<Artifact> {
    vec![
        Artifact::public(
            &format!("quadlet/{}.container", spec.name),
            container(spec),
            "the gateway as a Podman quadlet container",
        )
        .installed_at(format!("/etc/containers/systemd/{}.container", spec.name)),
        Artifact::public(
            &format!("quadlet/{}.network", spec.container.network),
            network(spec),
            "the gateway's own Podman network",
        )
        .installed_at(format!(
            "/etc/containers/systemd/{}.network",
            spec.container.network
        )),
    ]
}

/// Host address the published port binds to. Only `bind = "lan"` publishes on every address;
/// a tailnet address is not known when rendering, so `tailnet` publishes on loopback (expose
/// it with `tailscale serve`).
pub fn publish_address(spec: &Spec) -> Option<String> {
    match spec.gateway.bind {
        Bind::Lan => None,
        Bind::Custom => Some(
            spec.gateway
                .custom_bind_host
                .clone()
                .unwrap_or_else(|| "127.0.0.1".into()),
        ),
        Bind::Loopback | Bind::Tailnet => Some("127.0.0.1".into()),
    }
}

/// `User=`/`Group=` when numeric. Quadlet 4.4 parses them as numbers and silently uses 0
/// (root) for anything else, so a name goes through `--user` instead.
fn user_lines(user: &str) -> String {
    let (u, g) = user.split_once(':').unwrap_or((user, ""));
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match (numeric(u), g.is_empty() || numeric(g)) {
        (true, true) if g.is_empty() => format!("User={u}\n"),
        (true, true) => format!("User={u}\nGroup={g}\n"),
        _ => format!("PodmanArgs={}\n", exec_word(&format!("--user={user}"))),
    }
}

/// Podman's exec-form health check (a JSON array: no shell needed in the image). `/readyz`
/// is public, so the check needs no token; Node is in every gateway image.
fn health_cmd(port: u16) -> String {
    let js = format!(
        "fetch(`http://127.0.0.1:{port}/readyz`,{{signal:AbortSignal.timeout(4000)}}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
    );
    serde_json::to_string(&["node", "-e", &js]).expect("strings serialize")
}

fn container(spec: &Spec) -> String {
    let c = &spec.container;
    let state = spec.paths.state_dir.trim_end_matches('/');
    let secrets = spec.secrets.dir.trim_end_matches('/');
    let port = spec.gateway.port;
    let mut volumes = vec![
        format!("{0}:{0}:ro", spec.paths.config),
        format!("{state}:{state}:rw"),
        format!("{secrets}:{secrets}:ro"),
    ];
    if let Some(p) = &spec.paths.plugins_dir {
        volumes.push(format!("{0}:{0}:ro", p.trim_end_matches('/')));
    }
    if let Some(ca) = &spec.gateway.extra_ca_certs {
        volumes.push(format!("{ca}:{ca}:ro"));
    }
    volumes.extend(c.volumes.iter().cloned());
    let publish = match publish_address(spec) {
        Some(a) if a.contains(':') => format!("[{a}]:{port}:{port}"),
        Some(a) => format!("{a}:{port}:{port}"),
        None => format!("{port}:{port}"),
    };
    // The gateway must listen on the container's own interface for the published port to
    // reach it; who reaches that port is PublishPort's (and the firewall's) business.
    let exec = if spec.gateway.bind == Bind::Lan {
        String::new()
    } else {
        "# Inside its own network namespace the gateway listens on the container's interface;\n\
         # the host side is limited by PublishPort. (The image's entrypoint is `openclaw gateway run`.)\n\
         Exec=--bind lan\n"
            .to_string()
    };
    let mut deps: Vec<String> = Vec::new();
    if spec.secrets.backend == SecretBackend::Openbao {
        deps.push(agent_unit(spec));
    }
    if spec.uses_egress_proxy() {
        deps.push(spec.egress_proxy_unit());
    }
    let (after, wants) = (deps.join(" "), deps.join(" "));
    let env_file = if spec.uses_env_file() {
        format!("EnvironmentFile={}\n", spec.env_file_path())
    } else {
        String::new()
    };
    let dns: String = spec
        .egress
        .dns_resolvers
        .iter()
        .map(|r| format!(" --dns={}", exec_word(r)))
        .collect();
    format!(
        "# Rendered by openclaw-render for deployment '{name}'. Podman >= 4.4 (quadlet);\n\
# the unit is {name}.service. Sandboxing is the container's own (see the keys below), not\n\
# systemd's: rootful podman needs namespaces, capabilities and the host's mount table.\n\
[Unit]\n\
Description=OpenClaw gateway ({name}, Podman)\n\
After=network-online.target {after}\n\
Wants=network-online.target {wants}\n\
StartLimitIntervalSec=600\n\
StartLimitBurst=5\n\
\n\
[Container]\n\
ContainerName={name}\n\
Image={image}\n\
Network={network}.network\n\
{user}\
ReadOnly=true\n\
DropCapability=ALL\n\
NoNewPrivileges=true\n\
{volumes}\
Environment=OPENCLAW_CONFIG_PATH={config} OPENCLAW_STATE_DIR={state} HOME={state} OPENCLAW_NIX_MODE=1 OPENCLAW_SUPERVISOR_MODE=external NODE_ENV=production\n\
{proxy_env}\
{env_file}\
PublishPort={publish}\n\
{exec}\
# Keys newer than Podman 4.4 (Memory, PidsLimit, Tmpfs, Health*, DNS) as podman flags.\n\
PodmanArgs=--memory={mem}m --memory-swap={mem}m --cpus={cpus} --pids-limit={pids}{dns}\n\
# Explicit rlimits: Podman's defaults are above what unprivileged LXC hosts allow.\n\
# A stable host name: OpenClaw reclaims a dead gateway's state lease only when it was taken\n\
# on the same host name; a new container ID each start would leave a killed gateway's lease\n\
# \"still active\" for its 5 minute TTL and every restart until then fails.\n\
PodmanArgs=--hostname={name}\n\
PodmanArgs=--ulimit=nofile={nofile}:{nofile} --ulimit=nproc={nproc}:{nproc}\n\
PodmanArgs=--tmpfs=/tmp:rw,nosuid,nodev,size=256m\n\
PodmanArgs={health} --health-interval=30s --health-timeout=5s --health-retries=3 --health-start-period=90s --health-on-failure=kill\n\
Notify=healthy\n\
\n\
[Service]\n\
# A bad or half-rendered secret fails the start; the running container is left alone.\n\
ExecStartPre={check}\n\
Restart=always\n\
RestartSec=10s\n\
TimeoutStartSec=300s\n\
TimeoutStopSec=30s\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n",
        name = spec.name,
        image = c.image,
        network = c.network,
        user = user_lines(&c.user),
        volumes = volumes
            .iter()
            .map(|v| format!("Volume={v}\n"))
            .collect::<String>(),
        proxy_env = spec.egress_proxy_environment(),
        config = spec.paths.config,
        mem = c.memory_max.as_mib(),
        cpus = c.cpus,
        pids = c.pids_limit,
        nofile = c.ulimit_nofile,
        nproc = c.ulimit_nproc,
        health = exec_word(&format!("--health-cmd={}", health_cmd(port))),
        check = container_secretcheck_line(spec),
    )
}

fn network(spec: &Spec) -> String {
    let c = &spec.container;
    // The container resolves through egress.dns_resolvers directly (checked by the egress
    // policy), not through aardvark-dns on the host.
    let disable_dns = if spec.egress.dns_resolvers.is_empty() {
        ""
    } else {
        "DisableDNS=true\n"
    };
    let v6 = match &c.subnet6 {
        Some(s6) => format!("IPv6=true\nSubnet={}/{}\n", s6.addr(), s6.prefix()),
        None => String::new(),
    };
    format!(
        "# Rendered by openclaw-render: the gateway's bridge, Podman network systemd-{n}.\n\
# The subnet is pinned (container.subnet): the egress policy filters the container's\n\
# forwarded traffic by this source range, whatever Podman names the bridge.\n\
[Network]\n\
Driver=bridge\n\
Subnet={sub}/{len}\n\
# The host's side of the bridge, where the container reaches the egress proxy.\n\
Gateway={gw}\n\
{v6}\
{disable_dns}",
        n = c.network,
        gw = c.network_gateway(),
        sub = c.subnet.addr(),
        len = c.subnet.prefix(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_users_use_the_keys_and_names_never_fall_back_to_root() {
        assert_eq!(user_lines("1000:1000"), "User=1000\nGroup=1000\n");
        assert_eq!(user_lines("1000"), "User=1000\n");
        assert_eq!(user_lines("node:node"), "PodmanArgs=--user=node:node\n");
    }

    /// A killed gateway's state lease is reclaimed only from the same host name (OpenClaw
    /// 2026.9.6), so every start of the container must carry the same one.
    #[test]
    fn the_container_has_a_stable_host_name() {
        let spec = Spec::from_path(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/lab.toml"),
        )
        .unwrap();
        let text = container(&spec);
        assert!(text.contains("PodmanArgs=--hostname=openclaw\n"), "{text}");
    }

    #[test]
    fn the_health_check_is_exec_form_json() {
        let v: Vec<String> = serde_json::from_str(&health_cmd(18789)).unwrap();
        assert_eq!(v[0], "node");
        assert!(v[2].contains("http://127.0.0.1:18789/readyz"));
        assert!(!v[2].contains(' '), "no shell word splitting involved");
    }
}
