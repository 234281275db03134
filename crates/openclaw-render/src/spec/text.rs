//! What every string field of the spec may contain.
//!
//! Spec strings end up in line-oriented formats (systemd units, tmpfiles.d, quadlet, Caddyfile,
//! Prometheus YAML, nft), where a newline, quote or brace starts a new directive. So each field
//! has a [`Kind`] with its own grammar, assigned in [`KINDS`] by its place in the spec, and
//! [`problems`] checks every string of the serialized spec (map keys included) against it. A
//! field missing from the table gets the strict default ([`Kind::Label`]), so a new field is
//! safe before anyone thinks about it. Only [`Kind::FreeText`] fields may carry quotes,
//! spaces or newlines, and they reach only renderers that escape them (JSON, systemd Exec words).

use std::fmt;

/// The grammar of one string field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Absolute, normalised path (no `.`, `..` or empty segments, no trailing `/`), made of
    /// characters no target format treats specially.
    AbsPath,
    /// One path component (a file name inside a directory the spec names).
    FileName,
    /// A name used in unit, file, table or interface names: `[A-Za-z0-9._-]`, at most 64.
    Name,
    /// `host:port` (DNS name, IPv4 or `[IPv6]`).
    HostPort,
    /// A DNS name or an IP address.
    Host,
    /// An http(s) URL without quotes, spaces, `%`, `$` or backslashes.
    Url,
    /// A container image reference (`registry/name[:tag][@sha256:...]`) or a
    /// `docker-archive:` path.
    Image,
    /// A one-word identifier or value: printable, no whitespace, quotes, backslash, `$`, `%`,
    /// `` ` ``, braces, `;`, `|`, `&`, `<`, `>`.
    Label,
    /// A cron expression: fields separated by spaces; its grammar lives in `cron.rs`.
    Cron,
    /// A systemd calendar expression (`OnCalendar=`): names, digits, spaces, `* , / - : . ~`.
    Calendar,
    /// Text for people or programs (prompts, display names, regexes): anything but NUL. Only
    /// rendered through escaping writers (JSON, `systemd::exec_word`).
    FreeText,
}

/// Field kinds by place: `[]` stands for any list index, `{}` for a map key and `*` for any
/// map entry. Everything not listed is a [`Kind::Label`].
pub const KINDS: &[(&str, Kind)] = &[
    ("name", Kind::Name),
    ("gateway.custom_bind_host", Kind::Host),
    ("gateway.token", Kind::Name),
    ("gateway.allowed_origins[]", Kind::Url),
    ("gateway.extra_ca_certs", Kind::AbsPath),
    ("models.provider_id", Kind::Name),
    ("models.base_url", Kind::Url),
    ("models.api_key", Kind::Name),
    ("channels.matrix.homeserver", Kind::Url),
    ("channels.matrix.access_token", Kind::Name),
    ("channels.telegram.bot_token", Kind::Name),
    ("agents[].id", Kind::Name),
    ("agents[].name", Kind::FreeText),
    ("agents[].workspace", Kind::AbsPath),
    ("bindings[].agent", Kind::Name),
    ("cron[].name", Kind::Name),
    ("cron[].agent", Kind::Name),
    ("cron[].prompt", Kind::FreeText),
    ("cron[].schedule", Kind::Cron),
    ("hardening.log_file", Kind::AbsPath),
    ("hardening.redact_patterns[]", Kind::FreeText),
    ("secrets.dir", Kind::AbsPath),
    ("secrets.env_file", Kind::FileName),
    ("secrets.openbao.address", Kind::Url),
    ("secrets.openbao.ca_cert", Kind::AbsPath),
    ("secrets.openbao.kv_mount", Kind::Name),
    ("secrets.openbao.cert_auth_role", Kind::Name),
    ("secrets.openbao.cert_auth_mount", Kind::Name),
    ("secrets.items.{}", Kind::Name),
    ("secrets.items.*.env_var", Kind::Name),
    ("secrets.items.*.path", Kind::AbsPath),
    ("machine_cert.ca_url", Kind::Url),
    ("machine_cert.root_ca", Kind::AbsPath),
    ("machine_cert.cert", Kind::AbsPath),
    ("machine_cert.key", Kind::AbsPath),
    ("egress.dns_resolvers[]", Kind::Host),
    ("egress.allow[].name", Kind::Name),
    ("egress.allow[].hosts[]", Kind::Host),
    ("egress.container_interfaces[]", Kind::Name),
    // Label keeps `*` and `:`; domains.rs owns the grammar.
    ("egress.allow_domains[]", Kind::Label),
    ("egress.proxy.user", Kind::Name),
    ("egress.proxy.squid_bin", Kind::AbsPath),
    ("egress.proxy.access_log", Kind::AbsPath),
    ("egress.proxy.config", Kind::AbsPath),
    ("observability.prometheus.job_name", Kind::Name),
    ("observability.prometheus.target", Kind::HostPort),
    ("observability.prometheus.token", Kind::Name),
    ("observability.prometheus.probe_textfile", Kind::AbsPath),
    ("observability.otel.endpoint", Kind::Url),
    ("observability.otel.service_name", Kind::Name),
    ("proxy.upstream", Kind::HostPort),
    ("proxy.forward_auth.upstream", Kind::HostPort),
    ("proxy.tls.acme_ca", Kind::Url),
    ("proxy.tls.acme_ca_root", Kind::AbsPath),
    ("proxy.tls.cert", Kind::AbsPath),
    ("proxy.tls.key", Kind::AbsPath),
    ("container.image", Kind::Image),
    ("container.network", Kind::Name),
    ("paths.config", Kind::AbsPath),
    ("paths.state_dir", Kind::AbsPath),
    ("paths.openclaw_bin", Kind::AbsPath),
    ("paths.secretcheck_bin", Kind::AbsPath),
    ("paths.probe_bin", Kind::AbsPath),
    ("paths.bao_bin", Kind::AbsPath),
    ("paths.service_user", Kind::Name),
    ("paths.agent_dir", Kind::AbsPath),
    ("paths.plugins_dir", Kind::AbsPath),
    ("litellm.listen", Kind::HostPort),
    ("litellm.master_key", Kind::Name),
    ("litellm.providers[].name", Kind::Name),
    ("litellm.providers[].base_url", Kind::Url),
    ("litellm.providers[].api_key", Kind::Name),
    ("litellm.openbao.kv_path", Kind::Label),
    ("litellm.openbao.cert_auth_role", Kind::Name),
    ("litellm.openbao.cert", Kind::AbsPath),
    ("litellm.openbao.key", Kind::AbsPath),
    ("litellm.egress.dns_resolvers[]", Kind::Host),
    ("litellm.egress.allow[].name", Kind::Name),
    ("litellm.egress.allow[].hosts[]", Kind::Host),
    ("litellm.paths.bin", Kind::AbsPath),
    ("litellm.paths.config", Kind::AbsPath),
    ("litellm.paths.service_user", Kind::Name),
    ("litellm.paths.state_dir", Kind::AbsPath),
    ("litellm.paths.secrets_dir", Kind::AbsPath),
    ("litellm.paths.agent_dir", Kind::AbsPath),
    // Label keeps the `:`, `/` and `@` of restic's backend URLs; validate.rs owns the rest.
    ("backup.repository", Kind::Label),
    ("backup.password", Kind::Name),
    ("backup.schedule", Kind::Calendar),
    ("backup.verify_schedule", Kind::Calendar),
    // `5%`: reaches only backup.json and restic's argv (no shell); validate.rs owns its grammar.
    ("backup.verify_subset", Kind::FreeText),
    ("backup.work_dir", Kind::AbsPath),
    ("backup.bin", Kind::AbsPath),
    ("backup.restic_bin", Kind::AbsPath),
    ("backup.config", Kind::AbsPath),
    // litellm.primary, .fallbacks[], .providers[].model_group and .model: Label (model names
    // like `openai/gpt-4o-mini`; they reach YAML only through its string escaping).
    // The passthrough only reaches openclaw.json (serde_json escapes); validate.rs owns it.
    ("settings", Kind::FreeText),
];

/// Longest path and path component Linux accepts (PATH_MAX, NAME_MAX).
pub const PATH_MAX: usize = 4095;
pub const NAME_MAX: usize = 255;

/// Why a value does not fit its kind, and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit {
    pub message: String,
    pub fix: String,
}

impl fmt::Display for Misfit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (fix: {})", self.message, self.fix)
    }
}

fn misfit(message: impl Into<String>, fix: impl Into<String>) -> Option<Misfit> {
    Some(Misfit {
        message: message.into(),
        fix: fix.into(),
    })
}

/// Characters that end a line, steer a terminal or reorder text in any format or viewer.
pub fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn first_control(s: &str) -> Option<char> {
    s.chars().find(|c| is_control(*c))
}

fn describe(c: char) -> String {
    match c {
        '\n' => "a newline".into(),
        '\r' => "a carriage return".into(),
        '\0' => "a NUL byte".into(),
        '\u{1b}' => "an escape character".into(),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

/// Characters with a meaning in some format we write (quotes, escapes, expansions, blocks).
const SPECIAL: &str = "\"'\\`$%{}<>;|&";

/// Checks `s` against `kind`; `None` when it fits.
pub fn check(kind: Kind, s: &str) -> Option<Misfit> {
    if kind == Kind::FreeText {
        return s.contains('\0').then(|| Misfit {
            message: "contains a NUL byte".into(),
            fix: "remove it".into(),
        });
    }
    if let Some(c) = first_control(s) {
        return misfit(
            format!("contains {}", describe(c)),
            "write it on one line without control characters",
        );
    }
    if kind == Kind::Cron {
        return s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || " *,/-?#".contains(*c)))
            .and_then(|c| {
                misfit(
                    format!("contains '{c}'"),
                    "write cron fields with digits, names, * , / - ? # L W and spaces",
                )
            });
    }
    if kind == Kind::Calendar {
        return s
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || " *,/-:.~".contains(*c)))
            .and_then(|c| {
                misfit(
                    format!("contains '{c}'"),
                    "write a systemd calendar expression: names, digits, spaces and * , / - : . ~",
                )
            });
    }
    if let Some(c) = s.chars().find(|c| c.is_whitespace()) {
        return misfit(
            format!("contains whitespace ({:?})", c),
            "remove the spaces",
        );
    }
    if let Some(c) = s.chars().find(|c| SPECIAL.contains(*c)) {
        return misfit(
            format!("contains '{c}', which the rendered files would interpret"),
            "remove quotes, backslashes, braces and $ % ; | & < > `",
        );
    }
    match kind {
        Kind::AbsPath => abs_path(s),
        Kind::FileName => file_name(s),
        Kind::Name => name(s),
        Kind::HostPort => host_port(s),
        Kind::Host => host(s)
            .err()
            .and_then(|m| misfit(m, "write a DNS name or an IP address")),
        Kind::Url => url(s),
        Kind::Image => image(s),
        Kind::Label => s.is_empty().then(|| Misfit {
            message: "is empty".into(),
            fix: "give a value or remove the key".into(),
        }),
        Kind::FreeText | Kind::Cron | Kind::Calendar => None,
    }
}

fn path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "/._+@,=-".contains(c)
}

fn abs_path(s: &str) -> Option<Misfit> {
    if !s.starts_with('/') {
        return misfit(
            "is not an absolute path",
            "write it from the root, e.g. /var/lib/openclaw",
        );
    }
    if let Some(c) = s.chars().find(|c| !path_char(*c)) {
        return misfit(
            format!("contains '{c}', which paths here may not"),
            "use letters, digits and / . _ + @ , = - only",
        );
    }
    if s.len() > PATH_MAX {
        return misfit(
            format!("is {} bytes long", s.len()),
            format!("use at most {PATH_MAX}"),
        );
    }
    let normal = normalise(s);
    if normal != s {
        return misfit(
            "is not a normalised path (empty, '.' or '..' segments, or a trailing '/')",
            format!("write '{normal}'; '..' is never accepted"),
        );
    }
    if s.split('/').any(|seg| seg == "..") {
        return misfit("has a '..' segment", "write the path without '..'");
    }
    if let Some(seg) = s.split('/').find(|seg| seg.len() > NAME_MAX) {
        return misfit(
            format!("has a {}-byte component", seg.len()),
            format!("use components of at most {NAME_MAX} bytes"),
        );
    }
    None
}

/// `s` without empty and `.` segments and trailing slashes; `..` segments are kept (and
/// refused by the caller: whether `a/..` is `.` depends on symlinks on the target host).
pub fn normalise(s: &str) -> String {
    let segs: Vec<&str> = s
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", segs.join("/"))
}

/// True when normalised `path` is `dir` or lies below it, compared segment by segment.
pub fn is_within(path: &str, dir: &str) -> bool {
    let (p, d) = (normalise(path), normalise(dir));
    p == d || d == "/" || p.starts_with(&format!("{d}/"))
}

fn file_name(s: &str) -> Option<Misfit> {
    if s.is_empty() || s == "." || s == ".." || s.contains('/') {
        return misfit("must be a plain file name", "use e.g. \"openclaw.env\"");
    }
    if let Some(c) = s.chars().find(|c| !path_char(*c)) {
        return misfit(
            format!("contains '{c}'"),
            "use letters, digits and . _ + @ , = -",
        );
    }
    (s.len() > NAME_MAX).then(|| Misfit {
        message: format!("is {} bytes long", s.len()),
        fix: format!("use at most {NAME_MAX}"),
    })
}

fn name(s: &str) -> Option<Misfit> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && !s.starts_with(['-', '.'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    (!ok).then(|| Misfit {
        message: "is not a name that can be used in unit, file and table names".into(),
        fix: "use 1-64 letters, digits, '.', '_' and '-', not starting with '-' or '.'".into(),
    })
}

/// A DNS name, IPv4 address or bare IPv6 address.
pub fn host(s: &str) -> Result<(), String> {
    if s.parse::<std::net::IpAddr>().is_ok() {
        return Ok(());
    }
    let dns = !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        });
    if dns {
        Ok(())
    } else {
        Err(format!("'{s}' is not a DNS name or IP address"))
    }
}

fn host_port(s: &str) -> Option<Misfit> {
    let fix = "write host:port, e.g. \"10.0.3.20:18789\" or \"[fd00::5]:18789\"";
    let (h, p) = if let Some(rest) = s.strip_prefix('[') {
        match rest.split_once("]:") {
            Some((h, p)) if h.parse::<std::net::Ipv6Addr>().is_ok() => (h, p),
            _ => return misfit("is not [IPv6]:port", fix),
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, p),
            _ => return misfit("is not host:port", fix),
        }
    };
    if let Err(e) = host(h) {
        return misfit(e, fix);
    }
    match p.parse::<u16>() {
        Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => None,
        _ => misfit(format!("'{p}' is not a port"), fix),
    }
}

fn url(s: &str) -> Option<Misfit> {
    let fix = "write scheme://host[:port][/path] with http or https";
    let Some(rest) = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    else {
        return misfit("is not an http(s) URL", fix);
    };
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._~:/?#[]@!+,=".contains(*c)))
    {
        return misfit(format!("contains '{c}', which URLs here may not"), fix);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_part = if authority.starts_with('[') {
        authority
            .strip_prefix('[')
            .and_then(|a| a.split_once(']'))
            .map(|(h, _)| h)
            .unwrap_or_default()
    } else {
        authority
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(authority)
    };
    host(host_part).err().and_then(|m| misfit(m, fix))
}

fn image(s: &str) -> Option<Misfit> {
    if let Some(p) = s.strip_prefix("docker-archive:") {
        return abs_path(p);
    }
    let ok = !s.is_empty()
        && !s.starts_with(['-', '.', '/', ':', '@'])
        && !s.contains("//")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:@-".contains(c));
    (!ok).then(|| Misfit {
        message: "is not a container image reference".into(),
        fix: "write registry/name[:tag]@sha256:<digest> or docker-archive:/nix/store/...".into(),
    })
}

/// The kind of the string at `place` (a path with `[]`, `*` and `{}` as in [`KINDS`]).
pub fn kind_of(place: &str) -> Kind {
    KINDS
        .iter()
        .find(|(p, _)| *p == place)
        .map(|(_, k)| *k)
        .unwrap_or(Kind::Label)
}

/// One string of the spec that does not fit its kind: the field as users write it.
pub struct FieldMisfit {
    pub field: String,
    pub misfit: Misfit,
}

/// Every string (and map key) of the serialized spec checked against its kind.
pub fn problems(spec: &serde_json::Value) -> Vec<FieldMisfit> {
    let mut out = Vec::new();
    walk(spec, "", "", &mut out);
    out
}

fn join(base: &str, key: &str) -> String {
    if base.is_empty() {
        key.to_string()
    } else {
        format!("{base}.{key}")
    }
}

fn walk(v: &serde_json::Value, field: &str, place: &str, out: &mut Vec<FieldMisfit>) {
    match v {
        serde_json::Value::String(s) => {
            if let Some(m) = check(kind_of(place), s) {
                out.push(FieldMisfit {
                    field: field.to_string(),
                    misfit: m,
                });
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                walk(x, &format!("{field}[{i}]"), &format!("{place}[]"), out);
            }
        }
        serde_json::Value::Object(m) => {
            // Maps the spec keys by user-chosen names: their keys are values too.
            let is_map = matches!(place, "secrets.items" | "channels.matrix.rooms");
            for (k, x) in m {
                let f = join(field, k);
                if place == "settings" || place.starts_with("settings.") {
                    walk(x, &f, "settings", out);
                } else if is_map {
                    if let Some(mf) = check(kind_of(&format!("{place}.{{}}")), k) {
                        out.push(FieldMisfit {
                            field: f.clone(),
                            misfit: mf,
                        });
                    }
                    walk(x, &f, &format!("{place}.*"), out);
                } else {
                    walk(x, &f, &join(place, k), out);
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_before_anything_else() {
        assert!(check(Kind::AbsPath, "/var/lib/openclaw").is_none());
        for bad in [
            "/run/../nix/store/x",
            "/nix//store/x",
            "/etc/./x",
            "/etc/x/",
            "relative",
            "/etc/x\n",
            "/a b",
            "/a%b",
        ] {
            assert!(check(Kind::AbsPath, bad).is_some(), "{bad:?} accepted");
        }
        assert!(is_within("/nix/store/x", "/nix/store"));
        assert!(!is_within("/nix/storex", "/nix/store"));
        assert!(check(Kind::FileName, "..").is_some());
        assert!(check(Kind::FileName, ".").is_some());
    }

    #[test]
    fn host_ports_images_urls() {
        assert!(check(Kind::HostPort, "10.0.3.20:18789").is_none());
        assert!(check(Kind::HostPort, "[fd00::5]:18789").is_none());
        assert!(check(Kind::HostPort, "gw.home.example:443").is_none());
        assert!(check(Kind::HostPort, "10.0.3.20").is_some());
        assert!(check(Kind::HostPort, "a:1\" other:2").is_some());
        assert!(check(Kind::Image, "localhost/openclaw@sha256:00").is_none());
        assert!(check(Kind::Image, "docker-archive:/nix/store/x.tar.gz").is_none());
        assert!(check(Kind::Image, "x@sha256:00\nPublishPort=1:1").is_some());
        assert!(check(Kind::Url, "https://litellm.home.example/v1").is_none());
        assert!(check(Kind::Url, "https://x {\n}").is_some());
        assert!(check(Kind::FreeText, "line one\nline \"two\"").is_none());
        assert!(check(Kind::FreeText, "a\0b").is_some());
    }
}
