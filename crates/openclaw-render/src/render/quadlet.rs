//! Podman quadlet units (Podman >= 4.4; `Notify=healthy` needs >= 5.1) for hosts that run the
//! gateway as a container: read-only root, every capability dropped, limits from the spec,
//! secrets mounted read-only, start gated by `openclaw-secretcheck`.

use super::systemd::{agent_unit, exec_line};
use super::{bao_agent, Artifact};
use crate::spec::{Bind, SecretBackend, Spec};

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

/// Host address the published port binds to: never every address unless the spec says so.
fn publish_address(spec: &Spec) -> Option<String> {
    match spec.gateway.bind {
        Bind::Loopback => Some("127.0.0.1".into()),
        Bind::Custom => spec.gateway.custom_bind_host.clone(),
        Bind::Lan | Bind::Tailnet => None,
    }
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
    volumes.extend(c.volumes.iter().cloned());
    let publish = match publish_address(spec) {
        Some(a) if a.contains(':') => format!("[{a}]:{port}:{port}"),
        Some(a) => format!("{a}:{port}:{port}"),
        None => format!("{port}:{port}"),
    };
    let (after, wants) = match spec.secrets.backend {
        SecretBackend::Openbao => (agent_unit(spec), agent_unit(spec)),
        SecretBackend::Files => (String::new(), String::new()),
    };
    let env_file = if spec.uses_env_file() {
        format!("EnvironmentFile={}\n", spec.env_file_path())
    } else {
        String::new()
    };
    let mut check = vec![spec.paths.secretcheck_bin.clone(), "check".into()];
    check.extend(bao_agent::secretcheck_args(spec));
    // /readyz is public: the health check needs no token, and Node is in every gateway image.
    let health = format!(
        "node -e \"fetch('http://127.0.0.1:{port}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))\""
    );
    format!(
        "# Rendered by openclaw-render for deployment '{name}'.\n\
[Unit]\n\
Description=OpenClaw gateway ({name}, Podman)\n\
After=network-online.target {after}\n\
Wants=network-online.target {wants}\n\
\n\
[Container]\n\
ContainerName={name}\n\
Image={image}\n\
Network={network}.network\n\
User={user}\n\
ReadOnly=true\n\
Tmpfs=/tmp:rw,nosuid,nodev,size=256m\n\
DropCapability=ALL\n\
NoNewPrivileges=true\n\
{volumes}\
Environment=OPENCLAW_CONFIG_PATH={config} OPENCLAW_STATE_DIR={state} HOME={state} OPENCLAW_NIX_MODE=1 OPENCLAW_SUPERVISOR_MODE=external NODE_ENV=production\n\
{env_file}\
# The gateway inside listens per openclaw.json; the host side binds only where the spec allows.\n\
PublishPort={publish}\n\
PodmanArgs=--memory={mem}m --memory-swap={mem}m --cpus={cpus} --pids-limit={pids}\n\
HealthCmd={health}\n\
HealthInterval=30s\n\
HealthTimeout=5s\n\
HealthRetries=3\n\
HealthStartPeriod=90s\n\
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
        user = c.user,
        volumes = volumes.iter().map(|v| format!("Volume={v}\n")).collect::<String>(),
        config = spec.paths.config,
        mem = c.memory_max.as_mib(),
        cpus = c.cpus,
        pids = c.pids_limit,
        check = exec_line(&check),
    )
}

fn network(spec: &Spec) -> String {
    format!(
        "# Rendered by openclaw-render: the gateway's bridge. Its interface must be listed in\n\
# egress.container_interfaces so the egress policy filters the container's traffic.\n\
[Network]\n\
NetworkName={n}\n",
        n = spec.container.network
    )
}
