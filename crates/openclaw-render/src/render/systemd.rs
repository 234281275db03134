//! systemd units for hosts that run the gateway natively (and the lab, which runs exactly
//! these files): the gateway gated by `openclaw-secretcheck`, its hardening drop-in, the
//! OpenBao agent, step-ca certificate renewal, the cron declaration sync and the probe timer,
//! plus the sysusers.d/tmpfiles.d entries that create the gateway's user and directories.
//!
//! The hardening drop-in is for the native unit only: the quadlet container's service runs
//! rootful podman, which those settings would break (see quadlet.rs).
//!
//! Exec lines never carry a secret: only paths, names and minimum lengths.

use super::bao_agent;
use super::Artifact;
use crate::spec::{SecretBackend, Spec};

pub fn render(spec: &Spec) -> Vec<Artifact> {
    let mut out = vec![
        unit(
            &spec.gateway_unit(),
            gateway(spec),
            "the OpenClaw gateway, native (non-container) hosts",
        ),
        Artifact::public(
            &format!("systemd/{}.d/hardening.conf", spec.gateway_unit()),
            hardening(spec),
            "sandboxing and resource limits for the native gateway unit",
        )
        .installed_at(format!(
            "/etc/systemd/system/{}.d/hardening.conf",
            spec.gateway_unit()
        )),
    ];
    out.push(
        Artifact::public(
            &format!("systemd/sysusers.d/{}.conf", spec.name),
            sysusers(spec),
            "the gateway's system user (systemd-sysusers)",
        )
        .installed_at(format!("/etc/sysusers.d/{}.conf", spec.name)),
    );
    out.push(
        Artifact::public(
            &format!("systemd/tmpfiles.d/{}.conf", spec.name),
            tmpfiles(spec),
            "state, log and secret directories with their owners and modes (systemd-tmpfiles)",
        )
        .installed_at(format!("/etc/tmpfiles.d/{}.conf", spec.name)),
    );
    if spec.secrets.backend == SecretBackend::Openbao && spec.secrets.openbao.is_some() {
        out.push(unit(
            &agent_unit(spec),
            openbao_agent(spec),
            "OpenBao agent rendering the gateway's secrets",
        ));
    }
    out.extend(cert_renewal_units(
        spec,
        &CertRenewal {
            unit: format!("{}-cert-renew", spec.name),
            cert: spec.machine_cert.as_ref().map(|m| m.cert.as_str()),
            key: spec.machine_cert.as_ref().map(|m| m.key.as_str()),
            agent_units: gateway_cert_agents(spec),
            whose: "the machine certificate",
        },
    ));
    if !spec.cron.is_empty() {
        out.push(unit(
            &format!("{}-cron-sync.service", spec.name),
            cron_sync(spec),
            "declares the spec's scheduled jobs in OpenClaw's scheduler (idempotent)",
        ));
    }
    if let Some(p) = &spec.observability.prometheus {
        out.push(unit(
            &format!("{}-probe.service", spec.name),
            probe(spec, &p.probe_textfile),
            "writes the probe's metrics for node_exporter",
        ));
        out.push(unit(
            &format!("{}-probe.timer", spec.name),
            probe_timer(spec),
            "how often the probe runs",
        ));
    }
    out
}

fn unit(name: &str, content: String, description: &str) -> Artifact {
    Artifact::public(&format!("systemd/{name}"), content, description)
        .installed_at(format!("/etc/systemd/system/{name}"))
}

/// The OpenBao agent's unit name.
pub fn agent_unit(spec: &Spec) -> String {
    format!("{}-openbao-agent.service", spec.name)
}

/// One Exec word, quoted the way systemd splits it: `%` and `$` are doubled so neither a
/// specifier nor a variable is expanded, and words with anything but safe characters are
/// double-quoted with C escapes for `\\`, `"` and control characters (a newline in a prompt
/// would otherwise end the unit-file line).
pub fn exec_word(w: &str) -> String {
    let escaped = w.replace('%', "%%").replace('$', "$$");
    let safe = !escaped.is_empty()
        && escaped
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:@,+%$".contains(c));
    if safe {
        return escaped;
    }
    let mut out = String::with_capacity(escaped.len() + 2);
    out.push('"');
    for c in escaped.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn exec_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| exec_word(a))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `openclaw-secretcheck check ...` for this spec: the ExecStartPre that gates every start.
pub fn secretcheck_line(spec: &Spec) -> String {
    let mut argv = vec![spec.paths.secretcheck_bin.clone(), "check".into()];
    argv.extend(bao_agent::secretcheck_args(spec));
    exec_line(&argv)
}

/// The same check for the container: the files must belong to `container.user`'s uid, which
/// is who reads them inside (no user namespace). sysusers only suggests that uid to
/// `paths.service_user`; if another account holds it, this fails the start by name instead of
/// the gateway failing to read its secrets.
pub fn container_secretcheck_line(spec: &Spec) -> String {
    let mut argv = vec![spec.paths.secretcheck_bin.clone(), "check".into()];
    argv.extend(bao_agent::secretcheck_args_owned_by(
        spec,
        spec.container.ids().0,
    ));
    exec_line(&argv)
}

fn gateway(spec: &Spec) -> String {
    let state = spec.paths.state_dir.trim_end_matches('/');
    let mut deps = vec!["network-online.target".to_string()];
    if spec.secrets.backend == SecretBackend::Openbao {
        deps.push(agent_unit(spec));
    }
    if spec.uses_egress_proxy() {
        deps.push(spec.egress_proxy_unit());
    }
    let (after, wants) = (deps.join(" "), deps.join(" "));
    // `-`: a missing env file is reported by the secret check (naming the file and the fix),
    // not by systemd's terse "Failed to load environment files".
    let env_file = if spec.uses_env_file() {
        format!("EnvironmentFile=-{}\n", spec.env_file_path())
    } else {
        String::new()
    };
    format!(
        "# Rendered by openclaw-render for deployment '{name}'. Hardening: {unit}.d/hardening.conf\n\
[Unit]\n\
Description=OpenClaw gateway ({name})\n\
After={after} systemd-tmpfiles-setup.service\n\
Wants={wants}\n\
StartLimitIntervalSec=600\n\
StartLimitBurst=5\n\
\n\
[Service]\n\
Type=simple\n\
User={user}\n\
Group={user}\n\
# The config is read-only and managed here; systemd supervises (fast failure on bad secrets).\n\
Environment=OPENCLAW_CONFIG_PATH={config} OPENCLAW_STATE_DIR={state} HOME={state} OPENCLAW_NIX_MODE=1 OPENCLAW_SUPERVISOR_MODE=external NODE_ENV=production\n\
{proxy_env}\
{env_file}\
# A missing, half-rendered or placeholder secret fails the start: the gateway never runs with it.\n\
ExecStartPre={check}\n\
ExecStart={bin} gateway run\n\
Restart=always\n\
RestartSec=2s\n\
TimeoutStartSec=120s\n\
TimeoutStopSec=20s\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n",
        name = spec.name,
        unit = spec.gateway_unit(),
        user = spec.paths.service_user,
        proxy_env = spec.egress_proxy_environment(),
        config = spec.paths.config,
        check = secretcheck_line(spec),
        bin = exec_word(&spec.paths.openclaw_bin),
    )
}

/// What a careful operator adds on top of the unit. Node needs W+X memory for its JIT, so
/// MemoryDenyWriteExecute stays off; everything else is as tight as the gateway allows. The
/// syscall filter is checked against the syscalls the real gateway makes (tests/units_real.rs);
/// as a non-root user it needs nothing from @privileged or @resources (SQLite's journal
/// fchown, the one privileged call seen, happens only as root).
fn hardening(spec: &Spec) -> String {
    let c = &spec.container;
    let mib = c.memory_max.as_mib();
    let mut rw = vec![spec.paths.state_dir.trim_end_matches('/').to_string()];
    if let Some(f) = &spec.hardening.log_file {
        if let Some(dir) = std::path::Path::new(f).parent() {
            let d = dir.display().to_string();
            if !rw.iter().any(|r| d.starts_with(r.as_str())) {
                rw.push(d);
            }
        }
    }
    format!(
        "# Rendered by openclaw-render. Applies to {unit}.\n\
[Service]\n\
# Resources: the gateway peaks near 1.43 GB after one agent run.\n\
MemoryMax={mib}M\n\
MemoryHigh={high}M\n\
MemorySwapMax=0\n\
CPUQuota={cpu}%\n\
TasksMax={tasks}\n\
# Filesystem: read-only system, private /tmp, writable state only.\n\
ProtectSystem=strict\n\
ReadWritePaths={rw}\n\
ProtectHome=true\n\
PrivateTmp=true\n\
PrivateDevices=true\n\
DevicePolicy=closed\n\
UMask=0077\n\
# Kernel and process isolation.\n\
NoNewPrivileges=true\n\
CapabilityBoundingSet=\n\
AmbientCapabilities=\n\
{kernel}RemoveIPC=true\n\
KeyringMode=private\n\
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK\n\
SystemCallArchitectures=native\n\
SystemCallFilter=@system-service\n\
SystemCallFilter=~@privileged @resources @mount @debug @cpu-emulation @obsolete @raw-io @reboot @swap @module\n\
SystemCallErrorNumber=EPERM\n",
        unit = spec.gateway_unit(),
        kernel = KERNEL_SANDBOX,
        high = mib * 9 / 10,
        cpu = (c.cpus * 100.0).round() as u32,
        tasks = c.pids_limit,
        rw = rw.join(" "),
    )
}

/// The gateway's system user: no login, home in the state directory, with the ids of
/// `container.user`. The rootful container runs as those ids without a user namespace and
/// must read the secret files this user owns; the native unit runs as the same account.
fn sysusers(spec: &Spec) -> String {
    // The group by name: with a bare gid, a host whose gid is taken would make the gateway a
    // member of that other group.
    let (uid, gid) = spec.container.ids();
    format!(
        "# Rendered by openclaw-render: the OpenClaw gateway's system user, with the container's ids\n\
# (suggested: if another account holds them sysusers picks others, and the container's start\n\
# check names the mismatch).\n\
g {user} {gid}\n\
u {user} {uid}:{user} \"OpenClaw gateway ({name})\" {state} /usr/sbin/nologin\n",
        user = spec.paths.service_user,
        name = spec.name,
        state = spec.paths.state_dir.trim_end_matches('/'),
    )
}

/// Directories that must exist before the units start (ProtectSystem=strict's ReadWritePaths
/// fails a unit whose path is missing). The secrets directory is made here rather than with
/// the agent's RuntimeDirectory=: systemd removes a RuntimeDirectory when its unit stops (by
/// default), pulling the live secrets from under a running gateway on every agent restart,
/// and a RuntimeDirectory belongs to the unit's own user and group (root for the agent), so
/// the gateway's user could not traverse a 0750 one.
fn tmpfiles(spec: &Spec) -> String {
    let user = &spec.paths.service_user;
    let state = spec.paths.state_dir.trim_end_matches('/');
    let mut lines = vec![
        "# Rendered by openclaw-render. Type Path Mode User Group Age".to_string(),
        format!("d {state} 0700 {user} {user} -"),
    ];
    if let Some(dir) = spec
        .hardening
        .log_file
        .as_deref()
        .and_then(|f| std::path::Path::new(f).parent())
        .map(|d| d.display().to_string())
    {
        if dir != state && dir != "/" {
            lines.push(format!("d {dir} 0700 {user} {user} -"));
        }
    }
    if spec.secrets.backend == SecretBackend::Openbao {
        let secrets = spec.secrets.dir.trim_end_matches('/');
        // The gateway may traverse it and read its own files; .staged is the agent's alone.
        lines.push(format!("d {secrets} 0750 root {user} -"));
        lines.push(format!(
            "d {secrets}/{} 0700 root root -",
            bao_agent::STAGING_DIR
        ));
    }
    lines.join("\n") + "\n"
}

fn openbao_agent(spec: &Spec) -> String {
    let dir = spec.paths.agent_dir.trim_end_matches('/');
    format!(
        "# Rendered by openclaw-render. Renders {dir_secrets}/.staged; openclaw-secretcheck promote\n\
# installs a valid set and restarts {gw} only when a value changed.\n\
[Unit]\n\
Description=OpenBao agent for OpenClaw ({name})\n\
# {dir_secrets} and its .staged/ come from tmpfiles.d/{name}.conf (ReadWritePaths needs them).\n\
After=network-online.target systemd-tmpfiles-setup.service\n\
Wants=network-online.target\n\
\n\
[Service]\n\
# Root so promote can hand the files to {user}; the capabilities are cut to what that needs.\n\
ExecStart={bao} agent -config={dir}/agent.hcl\n\
Restart=always\n\
RestartSec=5s\n\
CapabilityBoundingSet=CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_SETUID CAP_SETGID\n\
NoNewPrivileges=true\n\
ProtectSystem=strict\n\
ReadWritePaths={dir_secrets} {state}\n\
{sidecar_sandbox}LockPersonality=true\n\
UMask=0077\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n",
        name = spec.name,
        gw = spec.gateway_unit(),
        user = spec.paths.service_user,
        bao = exec_word(&spec.paths.bao_bin),
        dir_secrets = spec.secrets.dir.trim_end_matches('/'),
        sidecar_sandbox = SIDECAR_SANDBOX,
        state = spec.paths.state_dir.trim_end_matches('/'),
    )
}

/// Kernel and process isolation every long-running service of ours gets (the native gateway's
/// drop-in, the egress proxy).
pub const KERNEL_SANDBOX: &str = "ProtectKernelTunables=true
ProtectKernelModules=true
ProtectKernelLogs=true
ProtectControlGroups=true
ProtectClock=true
ProtectHostname=true
ProtectProc=invisible
RestrictNamespaces=true
RestrictRealtime=true
RestrictSUIDSGID=true
LockPersonality=true
";

/// Sandboxing shared by the small root sidecars (agent, certificate renewal).
const SIDECAR_SANDBOX: &str = "ProtectHome=true
PrivateTmp=true
PrivateDevices=true
ProtectKernelTunables=true
ProtectKernelModules=true
ProtectControlGroups=true
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
";

/// The agents logging in with the gateway's machine certificate: the gateway's, and LiteLLM's
/// when it shares that certificate (LiteLLM on the gateway's host), which then gets no renewal
/// of its own (two units renewing one file could race).
fn gateway_cert_agents(spec: &Spec) -> Vec<String> {
    let mut agents = vec![agent_unit(spec)];
    if super::litellm::shares_gateway_cert(spec) {
        agents.push(super::litellm::agent_unit_name(spec));
    }
    agents
}

/// One step-ca certificate renewal: whose certificate (and key) it is, the unit stem
/// (`<stem>.service` and `<stem>.timer`), and the OpenBao agents that log in with it. The CA
/// settings (`ca_url`, `root_ca`, `renew_before`, `check_interval`) are `machine_cert`'s.
pub struct CertRenewal<'a> {
    pub unit: String,
    /// `None` takes `machine_cert.cert` / `.key` (the gateway's).
    pub cert: Option<&'a str>,
    pub key: Option<&'a str>,
    /// Restarted after a real renewal, so they log in with the new certificate at once.
    pub agent_units: Vec<String>,
    /// Shown in the units' descriptions: "the machine certificate", "LiteLLM's certificate".
    pub whose: &'a str,
}

/// The renewal service and its timer, or nothing without `[machine_cert]` (no CA to renew at).
pub fn cert_renewal_units(spec: &Spec, r: &CertRenewal) -> Vec<Artifact> {
    let Some(m) = spec.machine_cert.as_ref() else {
        return Vec::new();
    };
    let cert = r.cert.unwrap_or(&m.cert);
    let key = r.key.unwrap_or(&m.key);
    vec![
        unit(
            &format!("{}.service", r.unit),
            cert_renew(spec, r, cert, key),
            &format!("step-ca renewal of {}", r.whose),
        ),
        unit(
            &format!("{}.timer", r.unit),
            cert_timer(spec, r),
            "when to try the renewal",
        ),
    ]
}

/// step-cli's own systemd pattern: `step certificate needs-renewal` as ExecCondition (0 = due,
/// 1 = not yet: the run is skipped, not failed; 255 = error: failed), so `step ca renew
/// --force` runs only when due and the agent is restarted only after a real renewal. (`step ca
/// renew --expires-in` alone exits 0 when it skips, which would restart the agent every check.)
fn cert_renew(spec: &Spec, r: &CertRenewal, cert: &str, key: &str) -> String {
    let m = spec
        .machine_cert
        .as_ref()
        .expect("only rendered with a machine_cert");
    let due = exec_line(&[
        "step".into(),
        "certificate".into(),
        "needs-renewal".into(),
        "--expires-in".into(),
        m.renew_before.to_string(),
        cert.into(),
    ]);
    let renew = exec_line(&[
        "step".into(),
        "ca".into(),
        "renew".into(),
        "--force".into(),
        "--ca-url".into(),
        m.ca_url.clone(),
        "--root".into(),
        m.root_ca.clone(),
        cert.into(),
        key.into(),
    ]);
    let dir = |p: &str| {
        std::path::Path::new(p)
            .parent()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|| "/var/lib".into())
    };
    let mut rw = vec![dir(cert)];
    if !rw.contains(&dir(key)) {
        rw.push(dir(key));
    }
    format!(
        "# Rendered by openclaw-render. step-cli renews over mTLS with the current certificate\n\
# once less than {before} is left; {agent} restarted only after a renewal.\n\
[Unit]\n\
Description=Renew {whose} from step-ca ({name})\n\
After=network-online.target\n\
Wants=network-online.target\n\
ConditionPathExists={cert}\n\
\n\
[Service]\n\
Type=oneshot\n\
# step keeps defaults under $HOME/.step; nothing there is needed.\n\
Environment=HOME=/run/{stem}\n\
RuntimeDirectory={stem}\n\
RuntimeDirectoryMode=0700\n\
ExecCondition={due}\n\
ExecStart={renew}\n\
ExecStartPost=systemctl try-reload-or-restart {agent}\n\
UMask=0077\n\
NoNewPrivileges=true\n\
ProtectSystem=strict\n\
ReadWritePaths={rw}\n\
{sidecar_sandbox}SystemCallArchitectures=native\n\
LockPersonality=true\n",
        before = m.renew_before,
        sidecar_sandbox = SIDECAR_SANDBOX,
        whose = r.whose,
        name = spec.name,
        stem = r.unit,
        agent = r.agent_units.join(" "),
        rw = rw.join(" "),
    )
}

fn cert_timer(spec: &Spec, r: &CertRenewal) -> String {
    let m = spec
        .machine_cert
        .as_ref()
        .expect("only rendered with a machine_cert");
    format!(
        "[Unit]\nDescription=Check {whose} ({name}) every {every}\n\n\
[Timer]\nOnBootSec=1m\nOnUnitActiveSec={every}\nRandomizedDelaySec={jitter}s\nPersistent=true\n\n\
[Install]\nWantedBy=timers.target\n",
        whose = r.whose,
        name = spec.name,
        every = m.check_interval,
        jitter = (m.check_interval.as_secs() / 10).max(1),
    )
}

/// One `openclaw cron add` per job with a stable declaration key: re-running the unit
/// updates the jobs in place instead of adding copies.
fn cron_sync(spec: &Spec) -> String {
    let state = spec.paths.state_dir.trim_end_matches('/');
    let mut lines = String::new();
    for job in &spec.cron {
        let argv = vec![
            spec.paths.openclaw_bin.clone(),
            "cron".into(),
            "add".into(),
            "--declaration-key".into(),
            format!("openclaw-homelab/{}", job.name),
            // 2026.9.6 refuses a job without --name ("Cron job name is required").
            "--name".into(),
            job.name.clone(),
            "--display-name".into(),
            job.name.clone(),
            "--cron".into(),
            job.schedule.clone(),
            "--tz".into(),
            job.timezone.clone(),
            "--agent".into(),
            job.agent.clone(),
            "--message".into(),
            job.prompt.clone(),
            "--exact".into(),
        ];
        lines.push_str(&format!("ExecStart={}\n", exec_line(&argv)));
    }
    let env_file = if spec.uses_env_file() {
        format!("EnvironmentFile={}\n", spec.env_file_path())
    } else {
        String::new()
    };
    format!(
        "# Rendered by openclaw-render: the spec's cron jobs, declared idempotently.\n\
[Unit]\n\
Description=Declare OpenClaw scheduled jobs ({name})\n\
After={gw}\n\
Requires={gw}\n\
\n\
[Service]\n\
Type=oneshot\n\
RemainAfterExit=true\n\
User={user}\n\
Environment=OPENCLAW_CONFIG_PATH={config} OPENCLAW_STATE_DIR={state} HOME={state}\n\
{env_file}\
{lines}\
\n\
[Install]\n\
WantedBy={gw}\n",
        name = spec.name,
        gw = spec.gateway_unit(),
        user = spec.paths.service_user,
        config = spec.paths.config,
    )
}

fn probe(spec: &Spec, textfile: &str) -> String {
    let token = spec
        .gateway
        .token
        .as_deref()
        .and_then(|t| spec.secret_location(t))
        .and_then(|l| match l {
            crate::spec::SecretLocation::File { path } => Some(path),
            crate::spec::SecretLocation::Env { .. } => None,
        });
    let host = match spec.gateway.bind {
        crate::spec::Bind::Custom => spec
            .gateway
            .custom_bind_host
            .clone()
            .unwrap_or_else(|| "127.0.0.1".into()),
        _ => "127.0.0.1".into(),
    };
    let mut argv = vec![
        spec.paths.probe_bin.clone(),
        "--url".into(),
        format!("http://{host}:{}", spec.gateway.port),
    ];
    if let Some(t) = token {
        argv.extend(["--token-file".into(), t]);
    }
    argv.extend(["--textfile".into(), textfile.to_string()]);
    // Refused egress attempts from the egress proxy's log, readable through its group.
    let groups = if spec.uses_egress_proxy() {
        argv.extend(["--egress-proxy-log".into(), spec.egress_proxy_access_log()]);
        format!("SupplementaryGroups={}\n", spec.egress.proxy.user)
    } else {
        String::new()
    };
    // The machine certificate through a credential: systemd reads it as root before each run,
    // so its directory (step's, 0700 root) needs no loosening for the probe's user.
    let (credential, cert_arg) = match &spec.machine_cert {
        Some(m) => (
            format!("LoadCredential=machine-cert:{}\n", m.cert),
            " --cert-file %d/machine-cert",
        ),
        None => (String::new(), ""),
    };
    format!(
        "# Rendered by openclaw-render: the probe's metrics for node_exporter's textfile collector.\n\
[Unit]\n\
Description=Probe the OpenClaw gateway ({name})\n\
After={gw}\n\
\n\
[Service]\n\
Type=oneshot\n\
User={user}\n\
{groups}{credential}ExecStart={probe}{cert_arg}\n\
# Unhealthy is a metric, not a unit failure.\n\
SuccessExitStatus=1 2\n\
NoNewPrivileges=true\n\
ProtectSystem=strict\n\
ReadWritePaths={dir}\n\
PrivateTmp=true\n",
        name = spec.name,
        gw = spec.gateway_unit(),
        user = spec.paths.service_user,
        probe = exec_line(&argv),
        dir = std::path::Path::new(textfile).parent().map(|d| d.display().to_string()).unwrap_or_else(|| "/var/lib".into()),
    )
}

fn probe_timer(spec: &Spec) -> String {
    let every = spec
        .observability
        .prometheus
        .as_ref()
        .map(|p| p.scrape_interval)
        .unwrap_or(crate::spec::Duration::from_secs(30));
    format!(
        "[Unit]\nDescription=Probe the OpenClaw gateway ({name}) every {every}\n\n\
[Timer]\nOnBootSec=1m\nOnUnitActiveSec={every}\nAccuracySec=1s\n\n[Install]\nWantedBy=timers.target\n",
        name = spec.name,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_words_survive_systemd_splitting() {
        assert_eq!(exec_word("/usr/bin/openclaw"), "/usr/bin/openclaw");
        assert_eq!(exec_word("0 8 * * 1-5"), "\"0 8 * * 1-5\"");
        assert_eq!(
            exec_word("100% \"done\" $HOME"),
            "\"100%% \\\"done\\\" $$HOME\""
        );
        assert_eq!(exec_word(""), "\"\"");
    }
}
