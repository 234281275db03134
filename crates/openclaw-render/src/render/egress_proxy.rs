//! The egress proxy for `egress.allow_domains`: Squid as a CONNECT-only forward proxy that
//! lets the gateway reach exactly the listed host names, and nothing that resolves into an
//! always-blocked range. nftables (nftables.rs) makes it the gateway's only way to a public
//! address: only the proxy's user may connect there, and only on the listed ports.
//!
//! Order of the access rules matters and is the design:
//! 1. only the gateway's sources may use the proxy at all;
//! 2. `egress.allow` destinations pass by address, exactly as nftables has them (OpenClaw's
//!    managed proxy routing sends LAN model calls here too);
//! 3. IP literals and anything that is not CONNECT are refused;
//! 4. a listed name on its port passes unless it resolves into a blocked range (DNS
//!    rebinding); the name is matched before any lookup, so unlisted names are never resolved
//!    by the proxy;
//! 5. everything else is refused.

use std::fmt::Write as _;

use super::nftables::blocked_ranges;
use super::systemd::exec_line;
use super::Artifact;
use crate::domains;
use crate::spec::{Protocol, Runtime, Spec};

/// Where the Squid config lands in the output directory.
pub const CONFIG_PATH: &str = "egress-proxy/squid.conf";

/// Installed path of the config (read by the unit).
pub fn installed_config(spec: &Spec) -> String {
    spec.egress
        .proxy
        .config
        .clone()
        .unwrap_or_else(|| format!("/etc/{}-egress-proxy/squid.conf", spec.name))
}

pub fn render(spec: &Spec) -> Vec<Artifact> {
    if !spec.uses_egress_proxy() {
        return Vec::new();
    }
    let unit = spec.egress_proxy_unit();
    vec![
        Artifact::public(
            CONFIG_PATH,
            squid_conf(spec),
            "Squid egress proxy: CONNECT only to egress.allow_domains, never into blocked ranges",
        )
        .installed_at(installed_config(spec)),
        Artifact::public(
            &format!("systemd/{unit}"),
            proxy_unit(spec),
            "the egress proxy's sandboxed unit",
        )
        .installed_at(format!("/etc/systemd/system/{unit}")),
        Artifact::public(
            &format!("systemd/sysusers.d/{}-egress-proxy.conf", spec.name),
            sysusers(spec),
            "the egress proxy's system user (systemd-sysusers)",
        )
        .installed_at(format!("/etc/sysusers.d/{}-egress-proxy.conf", spec.name)),
        Artifact::public(
            &format!("systemd/tmpfiles.d/{}-egress-proxy.conf", spec.name),
            tmpfiles(spec),
            "the egress proxy's log directory (systemd-tmpfiles)",
        )
        .installed_at(format!("/etc/tmpfiles.d/{}-egress-proxy.conf", spec.name)),
    ]
}

fn log_dir(spec: &Spec) -> String {
    let log = spec.egress_proxy_access_log();
    std::path::Path::new(&log)
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|| "/var/log".into())
}

/// ACL names from spec names: Squid takes `[A-Za-z0-9_-]`.
fn acl_name(prefix: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{clean}")
}

fn squid_conf(spec: &Spec) -> String {
    let e = &spec.egress;
    let port = e.proxy.port;
    let mut w = String::new();
    let _ = writeln!(
        w,
        "# Rendered by openclaw-render for deployment '{}'. Change the spec, not this file.\n\
         # The gateway's only way to a host name on the internet: egress.allow_domains.\n",
        spec.name
    );
    let _ = writeln!(w, "# Where the gateway reaches the proxy.");
    match spec.runtime {
        Runtime::Native => {
            let _ = writeln!(w, "http_port 127.0.0.1:{port}\nhttp_port [::1]:{port}");
        }
        Runtime::Container => {
            // The container network's bridge address exists only while a container runs on
            // it, so the proxy cannot bind it at start: it listens on every address and the
            // nftables input chain admits only loopback and the container subnet.
            let _ = writeln!(
                w,
                "# All addresses: nftables admits only loopback and container.subnet to this port.\n\
                 http_port {port}"
            );
        }
    }
    let _ = writeln!(
        w,
        "\n# No cache, no pid file, no helpers; runs in the foreground under its unit.\n\
         cache deny all\n\
         cache_mem 0 MB\n\
         pid_filename none\n\
         coredump_dir none\n\
         netdb_filename none\n\
         pinger_enable off\n\
         max_filedescriptors 4096\n\
         shutdown_lifetime 1 seconds\n\
         connect_timeout 15 seconds\n\
         \n\
         # Nothing about the gateway leaks upstream.\n\
         via off\n\
         forwarded_for delete\n\
         httpd_suppress_version_string on\n\
         visible_hostname {}-egress-proxy\n\
         \n\
         # One line per request: time, client, verdict/status, method, host:port, server address.\n\
         # Never a path, query, header or body.\n\
         logformat openclaw %ts.%03tu %>a %Ss/%03>Hs %rm %>rd:%>rP %<a\n\
         access_log stdio:{} openclaw\n\
         # Diagnostics go to stderr (the journal) through -d1 in the unit.\n\
         cache_log /dev/null\n\
         logfile_rotate 0",
        spec.name,
        spec.egress_proxy_access_log()
    );
    if !e.dns_resolvers.is_empty() {
        let _ = writeln!(
            w,
            "\n# The same resolvers the gateway may use (egress.dns_resolvers).\n\
             dns_nameservers {}",
            e.dns_resolvers.join(" ")
        );
    }

    let _ = writeln!(w, "\n# 1. Only the gateway may use the proxy.");
    let mut srcs = vec!["127.0.0.1/32".to_string(), "::1".to_string()];
    if spec.runtime == Runtime::Container {
        srcs.push(spec.container.subnet.to_string());
        if let Some(s6) = spec.container.subnet6 {
            srcs.push(s6.to_string());
        }
    }
    let _ = writeln!(w, "acl gateway_src src {}", srcs.join(" "));
    let _ = writeln!(w, "http_access deny !gateway_src");

    let _ = writeln!(
        w,
        "\n# 2. egress.allow destinations, by address and port as nftables allows them."
    );
    for rule in e.allow.iter().filter(|r| r.protocol == Protocol::Tcp) {
        let mut ports = rule.ports.clone();
        ports.sort_unstable();
        ports.dedup();
        let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
        let (p, d) = (
            acl_name("allow_port", &rule.name),
            acl_name("allow_dst", &rule.name),
        );
        let _ = writeln!(w, "acl {p} port {}", ports.join(" "));
        let _ = writeln!(w, "acl {d} dst {}", rule.to);
        let _ = writeln!(w, "http_access allow {p} {d}");
    }

    let _ = writeln!(
        w,
        "\n# 3. No IP literals (a listed name is the only way out), CONNECT only.\n\
         acl ip_literal dstdom_regex -n ^[0-9.]+$ ^\\[.*\\]$ ^[0-9a-f:]+$\n\
         acl CONNECT method CONNECT\n\
         http_access deny ip_literal\n\
         http_access deny !CONNECT"
    );

    let _ = writeln!(
        w,
        "\n# 4. Listed names on their ports, unless they resolve into a blocked range."
    );
    let blocked: Vec<String> = blocked_ranges(spec)
        .iter()
        .map(|(c, _)| c.to_string())
        .collect();
    let _ = writeln!(w, "acl blocked_dst dst {}", blocked.join(" "));
    for (port, rules) in domains::by_port(&e.allow_domains) {
        let names = format!("domains_{port}");
        for r in &rules {
            let _ = writeln!(w, "acl {names} dstdom_regex -n -i {} # {r}", r.regex());
        }
        let _ = writeln!(w, "acl port_{port} port {port}");
        let _ = writeln!(w, "http_access allow {names} port_{port} !blocked_dst");
    }
    let _ = writeln!(w, "\n# 5. Everything else.\nhttp_access deny all");
    w
}

fn proxy_unit(spec: &Spec) -> String {
    let conf = installed_config(spec);
    let squid = &spec.egress.proxy.squid_bin;
    let parse = exec_line(&[
        squid.clone(),
        "-k".into(),
        "parse".into(),
        "-f".into(),
        conf.clone(),
    ]);
    let run = exec_line(&[
        squid.clone(),
        "-N".into(),
        "-d".into(),
        "1".into(),
        "-f".into(),
        conf,
    ]);
    format!(
        "# Rendered by openclaw-render for deployment '{name}': the egress proxy for\n\
# egress.allow_domains. nftables lets only this unit's user reach public addresses.\n\
[Unit]\n\
Description=OpenClaw egress proxy ({name}): HTTPS to egress.allow_domains only\n\
After=network-online.target systemd-tmpfiles-setup.service\n\
Wants=network-online.target\n\
Before={gateway}\n\
\n\
[Service]\n\
Type=simple\n\
User={user}\n\
Group={user}\n\
# A config Squid cannot parse fails the start with Squid's own message.\n\
ExecStartPre={parse}\n\
ExecStart={run}\n\
# Squid re-reads its config on SIGHUP.\n\
ExecReload=/bin/kill -HUP $MAINPID\n\
Restart=always\n\
RestartSec=2s\n\
LimitNOFILE=4096\n\
MemoryMax=256M\n\
TasksMax=64\n\
UMask=0027\n\
NoNewPrivileges=true\n\
CapabilityBoundingSet=\n\
AmbientCapabilities=\n\
ProtectSystem=strict\n\
ReadWritePaths={logs}\n\
ProtectHome=true\n\
PrivateTmp=true\n\
PrivateDevices=true\n\
{kernel}MemoryDenyWriteExecute=true\n\
RemoveIPC=true\n\
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX\n\
SystemCallArchitectures=native\n\
SystemCallFilter=@system-service\n\
SystemCallFilter=~@privileged @mount @debug @cpu-emulation @obsolete @raw-io @reboot @swap @module\n\
SystemCallErrorNumber=EPERM\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n",
        name = spec.name,
        gateway = spec.gateway_unit(),
        user = spec.egress.proxy.user,
        logs = log_dir(spec),
        kernel = super::systemd::KERNEL_SANDBOX,
    )
}

fn sysusers(spec: &Spec) -> String {
    format!(
        "# Rendered by openclaw-render: the egress proxy's system user.\n\
u {user} - \"OpenClaw egress proxy ({name})\" / /usr/sbin/nologin\n",
        user = spec.egress.proxy.user,
        name = spec.name,
    )
}

fn tmpfiles(spec: &Spec) -> String {
    format!(
        "# Rendered by openclaw-render. Type Path Mode User Group Age\n\
d {dir} 0750 {user} {user} -\n",
        dir = log_dir(spec),
        user = spec.egress.proxy.user,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(extra: &str) -> Spec {
        Spec::from_toml(&format!(
            r#"
            [models]
            base_url = "http://10.0.3.10:4000/v1"
            models = ["m"]
            primary = "m"
            [secrets.items.k]
            [egress]
            dns_resolvers = ["10.0.3.1"]
            allow_domains = ["api.example.com", "*.docs.example.org", "api.example.com:8443"]
            [[egress.allow]]
            name = "llm"
            to = "10.0.3.10"
            ports = [4000]
            allow_private = true
            {extra}
            "#
        ))
        .unwrap()
    }

    #[test]
    fn rules_run_in_the_designed_order() {
        let mut s = spec("");
        s.runtime = Runtime::Native;
        let conf = squid_conf(&s);
        let at = |needle: &str| {
            conf.find(needle)
                .unwrap_or_else(|| panic!("{needle}\n{conf}"))
        };
        assert!(at("http_access deny !gateway_src") < at("http_access allow allow_port_llm"));
        assert!(at("http_access allow allow_port_llm") < at("http_access deny ip_literal"));
        assert!(at("http_access deny !CONNECT") < at("http_access allow domains_443"));
        assert!(at("http_access allow domains_8443") < at("http_access deny all"));
        assert!(conf.contains("acl blocked_dst dst 0.0.0.0/8 10.0.0.0/8"));
        assert!(conf.contains("dns_nameservers 10.0.3.1"));
        assert!(conf.contains("http_port 127.0.0.1:3128"));
    }

    #[test]
    fn a_container_gateway_reaches_it_from_its_subnet() {
        let mut s = spec("");
        s.runtime = Runtime::Container;
        let conf = squid_conf(&s);
        assert!(
            conf.contains("acl gateway_src src 127.0.0.1/32 ::1 10.89.42.0/24"),
            "{conf}"
        );
        assert!(conf.contains("\nhttp_port 3128\n"));
    }

    #[test]
    fn nothing_is_rendered_without_domains() {
        let mut s = spec("");
        s.egress.allow_domains.clear();
        assert!(render(&s).is_empty());
    }
}
