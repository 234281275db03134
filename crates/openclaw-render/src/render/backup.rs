//! `[backup]`: the config of `openclaw-backup` and its units: the backup (OpenClaw's archive,
//! verified, into restic, then retention) and the repository check, each a hardened oneshot
//! on its own timer, plus the work directory's tmpfiles.d entry.
//!
//! The units run as root so the restic password file and the repository stay out of the
//! gateway user's reach; `openclaw-backup` runs OpenClaw's CLI as the gateway's user (nothing
//! in the state becomes root's), and reads the archive that user wrote with
//! CAP_DAC_READ_SEARCH. The password reaches restic only as `RESTIC_PASSWORD_FILE`.

use serde_json::json;

use super::systemd::{exec_line, KERNEL_SANDBOX};
use super::Artifact;
use crate::spec::{SecretLocation, Spec};

pub fn render(spec: &Spec) -> Vec<Artifact> {
    let Some(b) = &spec.backup else {
        return Vec::new();
    };
    let unit = |name: String, content: String, description: &str| {
        Artifact::public(&format!("systemd/{name}"), content, description)
            .installed_at(format!("/etc/systemd/system/{name}"))
    };
    vec![
        Artifact::public("backup/backup.json", config(spec), "openclaw-backup's config (paths, repository, retention; no secret)")
            .installed_at(b.config.clone()),
        unit(
            format!("{}.service", spec.backup_unit()),
            service(spec, "run", "Back up the OpenClaw state"),
            "OpenClaw's archive, verified, into restic; then retention",
        ),
        unit(
            format!("{}.timer", spec.backup_unit()),
            timer(spec, &b.schedule, "Back up the OpenClaw state"),
            "when the backup runs",
        ),
        unit(
            format!("{}.service", spec.backup_check_unit()),
            service(spec, "check", "Check the OpenClaw backup repository"),
            "restic check --read-data-subset",
        ),
        unit(
            format!("{}.timer", spec.backup_check_unit()),
            timer(spec, &b.verify_schedule, "Check the OpenClaw backup repository"),
            "when the repository check runs",
        ),
        Artifact::public(
            &format!("systemd/tmpfiles.d/{}-backup.conf", spec.name),
            tmpfiles(spec),
            "the backup's work directory: root's, traversable to the gateway user's own staging (systemd-tmpfiles)",
        )
        .installed_at(format!("/etc/tmpfiles.d/{}-backup.conf", spec.name)),
    ]
}

/// The password item's file (validation guarantees a file delivery).
pub fn password_file(spec: &Spec) -> Option<String> {
    let b = spec.backup.as_ref()?;
    match spec.secret_location(&b.password)? {
        SecretLocation::File { path } => Some(path),
        SecretLocation::Env { .. } => None,
    }
}

fn config(spec: &Spec) -> String {
    let b = spec.backup.as_ref().expect("rendered only with [backup]");
    let doc = json!({
        "name": spec.name,
        "openclaw_bin": spec.paths.openclaw_bin,
        "restic_bin": b.restic_bin,
        "state_dir": spec.paths.state_dir.trim_end_matches('/'),
        "config_path": spec.paths.config,
        "service_user": spec.paths.service_user,
        "repository": b.repository,
        "password_file": password_file(spec).unwrap_or_default(),
        "work_dir": spec.backup_work_dir(),
        "keep": { "daily": b.keep.daily, "weekly": b.keep.weekly, "monthly": b.keep.monthly },
        "verify_subset": b.verify_subset,
        "include_workspace": b.include_workspace,
        "initialize": b.initialize,
        "gateway_unit": spec.gateway_unit(),
        "gateway_port": spec.gateway.port,
    });
    serde_json::to_string_pretty(&doc).expect("plain JSON") + "\n"
}

fn service(spec: &Spec, verb: &str, description: &str) -> String {
    let b = spec.backup.as_ref().expect("rendered only with [backup]");
    let work = spec.backup_work_dir().unwrap_or_default();
    let mut rw = vec![spec.paths.state_dir.trim_end_matches('/').to_string(), work];
    if let Some(repo) = b.local_repository() {
        rw.push(repo.trim_end_matches('/').to_string());
    }
    // The check reads only the repository; the backup also runs OpenClaw's CLI on the state
    // (it records the run in its database).
    if verb == "check" {
        rw.remove(0);
    }
    let exec = exec_line(&[
        b.bin.clone(),
        "--config".into(),
        b.config.clone(),
        verb.into(),
    ]);
    let after = if verb == "run" {
        // The password file comes from the agent; OpenClaw's state from the gateway's start.
        format!(
            "After=network-online.target {}\nWants=network-online.target\n",
            spec.gateway_unit()
        )
    } else {
        format!(
            "After=network-online.target {}.service\nWants=network-online.target\n",
            spec.backup_unit()
        )
    };
    format!(
        "# Rendered by openclaw-render for deployment '{name}': openclaw-backup {verb}.\n\
[Unit]\n\
Description={description} ({name})\n\
{after}\
ConditionPathExists={config}\n\
\n\
[Service]\n\
Type=oneshot\n\
ExecStart={exec}\n\
Nice=10\n\
IOSchedulingClass=idle\n\
TimeoutStartSec=6h\n\
# Root for the password file and the repository; the CLI steps run as {user}.\n\
CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_CHOWN CAP_FOWNER CAP_DAC_READ_SEARCH\n\
AmbientCapabilities=\n\
NoNewPrivileges=true\n\
UMask=0077\n\
ProtectSystem=strict\n\
ReadWritePaths={rw}\n\
ProtectHome=true\n\
PrivateTmp=true\n\
PrivateDevices=true\n\
DevicePolicy=closed\n\
{kernel}RemoveIPC=true\n\
KeyringMode=private\n\
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n\
SystemCallArchitectures=native\n\
SystemCallFilter=@system-service\n\
SystemCallFilter=~@resources @mount @debug @cpu-emulation @obsolete @raw-io @reboot @swap @module\n\
SystemCallErrorNumber=EPERM\n",
        name = spec.name,
        config = b.config,
        user = spec.paths.service_user,
        kernel = KERNEL_SANDBOX,
        rw = rw.join(" "),
    )
}

fn timer(spec: &Spec, on_calendar: &str, description: &str) -> String {
    format!(
        "[Unit]\nDescription={description} ({name}): {on_calendar}\n\n\
[Timer]\nOnCalendar={on_calendar}\nRandomizedDelaySec=15m\nPersistent=true\n\n\
[Install]\nWantedBy=timers.target\n",
        name = spec.name,
    )
}

/// The work directory, and a local repository's directory (ReadWritePaths= needs it to
/// exist; restic initialises an empty one).
fn tmpfiles(spec: &Spec) -> String {
    let mut out = format!(
        "# Rendered by openclaw-render. Type Path Mode User Group Age\nd {} 0711 root root -\n",
        spec.backup_work_dir().unwrap_or_default()
    );
    if let Some(repo) = spec.backup.as_ref().and_then(|b| b.local_repository()) {
        out.push_str(&format!(
            "d {} 0700 root root -\n",
            repo.trim_end_matches('/')
        ));
    }
    out
}
