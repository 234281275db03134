//! Semantic rules a careful operator applies before deploying. Every problem names the field
//! and the fix, and all problems are reported at once, so one `check` run shows everything.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use crate::error::{Invalid, Problem};
use crate::net;
use crate::secretlike::looks_like_secret;
use crate::spec::text;
use crate::spec::{
    AuthMode, Bind, Cidr, Delivery, DmPolicy, GroupPolicy, Protocol, SecretBackend, Spec,
};

/// Below this the gateway risks an OOM kill: it peaks near 1.43 GB after one agent run.
pub const MIN_MEMORY_MIB: u64 = 2048;
/// Shortest gateway token we accept: it is the only thing between the LAN and the agent.
pub const MIN_GATEWAY_TOKEN_LEN: usize = 24;

pub fn validate(spec: &Spec) -> Result<(), Invalid> {
    let problems = problems(spec);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid(problems))
    }
}

/// Collects problems; each rule family lives in its own function below.
struct Report {
    problems: Vec<Problem>,
    /// Fields whose text does not fit their kind: later rules would only repeat that.
    misfits: BTreeSet<String>,
}

impl Report {
    fn add(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let field = field.into();
        if self.misfits.contains(&field) {
            return;
        }
        self.problems.push(Problem {
            field,
            message: message.into(),
            fix: fix.into(),
        });
    }
}

pub fn problems(spec: &Spec) -> Vec<Problem> {
    let mut r = Report {
        problems: Vec::new(),
        misfits: BTreeSet::new(),
    };
    text(spec, &mut r);
    name(spec, &mut r);
    gateway(spec, &mut r);
    secrets(spec, &mut r);
    models(spec, &mut r);
    channels(spec, &mut r);
    agents(spec, &mut r);
    egress(spec, &mut r);
    egress_domains(spec, &mut r);
    endpoints_reachable(spec, &mut r);
    ingress(spec, &mut r);
    observability(spec, &mut r);
    proxy(spec, &mut r);
    container(spec, &mut r);
    paths(spec, &mut r);
    settings(spec, &mut r);
    litellm(spec, &mut r);
    backup(spec, &mut r);
    r.problems
}

/// Every string field against its kind (spec/text.rs): the one gate against injection into
/// the line-oriented files we render.
fn text(spec: &Spec, r: &mut Report) {
    let value = serde_json::to_value(spec).expect("the spec serializes");
    for m in text::problems(&value) {
        r.add(m.field.clone(), m.misfit.message, m.misfit.fix);
        r.misfits.insert(m.field);
    }
}

fn is_slug(s: &str, extra: &[char]) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || extra.contains(&c))
}

fn name(spec: &Spec, r: &mut Report) {
    if !is_slug(&spec.name, &['-']) || spec.name.len() > 24 {
        r.add(
            "name",
            format!(
                "'{}' cannot be used in unit, table and file names",
                spec.name
            ),
            "use 1-24 lowercase letters, digits and '-', starting with a letter",
        );
    }
}

fn gateway(spec: &Spec, r: &mut Report) {
    let g = &spec.gateway;
    if g.port < 1024 {
        r.add(
            "gateway.port",
            format!("port {} needs root privileges", g.port),
            "use an unprivileged port such as 18789",
        );
    }
    match (g.bind, &g.custom_bind_host) {
        (Bind::Custom, None) => r.add(
            "gateway.custom_bind_host",
            "bind = \"custom\" needs the address to bind",
            "set gateway.custom_bind_host to one of the host's addresses",
        ),
        (Bind::Custom, Some(h))
            if h.parse::<IpAddr>()
                .map(|ip| {
                    // Any spelling of "everywhere" (::ffff:0.0.0.0, 0:0::0) and any
                    // non-canonical spelling is refused: write the one address plainly.
                    let c = ip.to_canonical();
                    c.is_unspecified() || c.is_multicast() || c.to_string() != *h
                })
                .unwrap_or(true) =>
        {
            r.add(
                "gateway.custom_bind_host",
                format!("'{h}' is not a specific IP address in canonical form"),
                "give one address of the host as written by `ip addr` (0.0.0.0 and :: in any spelling would listen everywhere)",
            )
        }
        (b, Some(_)) if b != Bind::Custom => r.add(
            "gateway.custom_bind_host",
            "is set but gateway.bind is not \"custom\"",
            "set gateway.bind = \"custom\" or remove custom_bind_host",
        ),
        _ => {}
    }
    let exposed = g.bind != Bind::Loopback;
    match g.auth {
        AuthMode::None if exposed => r.add(
            "gateway.auth",
            "the gateway listens beyond loopback without authentication",
            "set gateway.auth = \"token\" and gateway.token to a secret name, or bind = \"loopback\"",
        ),
        AuthMode::Token | AuthMode::Password if g.token.is_none() => r.add(
            "gateway.token",
            format!("auth = \"{}\" needs a secret", if g.auth == AuthMode::Token { "token" } else { "password" }),
            "set gateway.token to the name of an entry in [secrets.items]",
        ),
        AuthMode::TrustedProxy if g.trusted_proxies.is_empty() => r.add(
            "gateway.trusted_proxies",
            "auth = \"trusted-proxy\" trusts identity headers from proxies, but none is listed",
            "list the reverse proxy's address in gateway.trusted_proxies",
        ),
        _ => {}
    }
    if g.auth == AuthMode::TrustedProxy
        && spec
            .settings
            .pointer_get("/gateway/auth/trustedProxy/userHeader")
            .is_none()
    {
        r.add(
            "settings.gateway.auth.trustedProxy.userHeader",
            "auth = \"trusted-proxy\" needs the header that carries the user",
            "set settings.gateway.auth.trustedProxy.userHeader (e.g. \"X-Forwarded-User\")",
        );
    }
    for (i, p) in g.trusted_proxies.iter().enumerate() {
        if p.parse::<Cidr>().is_err() {
            r.add(
                format!("gateway.trusted_proxies[{i}]"),
                format!("'{p}' is not an address or CIDR"),
                "write e.g. \"10.0.3.2\"",
            );
        }
    }
    for (i, o) in g.allowed_origins.iter().enumerate() {
        if !(o.starts_with("https://") || o.starts_with("http://")) || o.ends_with('/') || o == "*"
        {
            r.add(
                format!("gateway.allowed_origins[{i}]"),
                format!("'{o}' is not a browser origin"),
                "write scheme://host[:port] without a path, e.g. \"https://openclaw.home.example\"",
            );
        }
    }
    let rl = &g.rate_limit;
    if rl.max_attempts == 0 || rl.max_attempts > 100 {
        r.add(
            "gateway.rate_limit.max_attempts",
            format!("{} attempts per window", rl.max_attempts),
            "use 3-100",
        );
    }
    if rl.window.as_secs() == 0 || rl.lockout.as_secs() == 0 {
        r.add(
            "gateway.rate_limit",
            "window and lockout must be longer than 0s",
            "use e.g. window = \"1m\", lockout = \"5m\"",
        );
    }
}

fn secrets(spec: &Spec, r: &mut Report) {
    let s = &spec.secrets;
    for (field, name) in spec.secret_references() {
        if let Some(why) = looks_like_secret(name) {
            r.add(
                field,
                format!("holds what looks like {why}, not the name of a secret"),
                "store the value in OpenBao (or a sops/agenix file) and put its name from [secrets.items] here",
            );
        } else if !s.items.contains_key(name) {
            r.add(
                field,
                format!("refers to secret '{name}', which [secrets.items] does not declare"),
                format!("add [secrets.items.{name}] or correct the name"),
            );
        }
    }
    if text::is_within(&s.dir, "/nix/store") {
        r.add(
            "secrets.dir",
            format!("'{}' must be an absolute path outside the Nix store", s.dir),
            "use e.g. /run/secrets/openclaw (a tmpfs)",
        );
    }
    let mut env_vars: BTreeMap<String, &str> = BTreeMap::new();
    for (name, item) in &s.items {
        let field = format!("secrets.items.{name}");
        if !is_slug(name, &['_']) {
            r.add(
                &field,
                format!("'{name}' cannot be a file name"),
                "use lowercase letters, digits and '_'",
            );
        }
        if item.deliver == Delivery::Env {
            let var = item.env_var_name(name);
            let valid = var
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                r.add(
                    format!("{field}.env_var"),
                    format!("'{var}' is not an environment variable name"),
                    "use [A-Za-z_][A-Za-z0-9_]*",
                );
            }
            if let Some(other) = env_vars.insert(var.clone(), name) {
                r.add(
                    format!("{field}.env_var"),
                    format!("'{var}' is also used by secrets.items.{other}"),
                    "give each secret its own variable",
                );
            }
        } else if item.env_var.is_some() {
            r.add(
                format!("{field}.env_var"),
                "is set but the secret is delivered as a file",
                "set deliver = \"env\" or remove env_var",
            );
        }
        if item.min_length < 8 {
            r.add(
                format!("{field}.min_length"),
                format!(
                    "{} is too short to catch truncated secrets",
                    item.min_length
                ),
                "use at least 8",
            );
        }
        match (s.backend, &item.path) {
            (SecretBackend::Files, None) if item.deliver == Delivery::File => r.add(
                format!("{field}.path"),
                "the files backend needs the path where the secret file already is",
                "set path to the sops-nix/agenix file, e.g. /run/secrets/openclaw-gateway-token",
            ),
            (SecretBackend::Openbao, Some(_)) => r.add(
                format!("{field}.path"),
                "is only for the files backend; the OpenBao agent renders into secrets.dir",
                "remove path or set secrets.backend = \"files\"",
            ),
            (_, Some(p)) if text::is_within(p, "/nix/store") => r.add(
                format!("{field}.path"),
                format!("'{p}' must be absolute and outside the world-readable Nix store"),
                "point it at the decrypted file under /run",
            ),
            _ => {}
        }
    }
    if let Some(t) = &spec.gateway.token {
        if let Some(item) = s.items.get(t) {
            if item.min_length < MIN_GATEWAY_TOKEN_LEN {
                r.add(
                    format!("secrets.items.{t}.min_length"),
                    format!("the gateway token may be as short as {} characters", item.min_length),
                    format!("set min_length to at least {MIN_GATEWAY_TOKEN_LEN} (generate it with `openssl rand -hex 32`)"),
                );
            }
        }
    }
    match (s.backend, &s.openbao) {
        (SecretBackend::Openbao, None) => r.add(
            "secrets.openbao",
            "backend = \"openbao\" needs the OpenBao address and KV path",
            "add [secrets.openbao] with address and kv_path, or set backend = \"files\"",
        ),
        (SecretBackend::Files, Some(_)) => r.add(
            "secrets.openbao",
            "is set but backend = \"files\"",
            "remove [secrets.openbao] or set backend = \"openbao\"",
        ),
        (SecretBackend::Openbao, Some(bao)) => {
            if spec.machine_cert.is_none() {
                // LiteLLM's agent logs in by cert auth too; its renewal uses machine_cert's CA.
                let litellm = spec.litellm.as_ref().is_some_and(|l| l.openbao.is_some());
                r.add(
                    "machine_cert",
                    if litellm {
                        "the OpenBao agents (the gateway's and LiteLLM's) log in with step-ca machine certificates, but none is configured and nothing would renew them"
                    } else {
                        "the OpenBao agent logs in with the step-ca machine certificate, but none is configured"
                    },
                    if litellm {
                        "add [machine_cert] with ca_url and root_ca (LiteLLM's litellm.openbao.cert is renewed with the same CA)"
                    } else {
                        "add [machine_cert] with ca_url and root_ca"
                    },
                );
            }
            if !bao.address.starts_with("https://") {
                r.add(
                    "secrets.openbao.address",
                    format!("'{}' is not https", bao.address),
                    "OpenBao cert auth needs TLS: use https://...",
                );
            }
            if bao.kv_path.starts_with('/')
                || bao.kv_path.contains("/data/")
                || bao.kv_path.is_empty()
            {
                r.add(
                    "secrets.openbao.kv_path",
                    format!("'{}' is not a path inside the KV v2 mount", bao.kv_path),
                    "write it without the mount and without /data/, e.g. \"aether/openclaw\"",
                );
            }
            if bao.refresh_interval.as_secs() < 5 {
                r.add(
                    "secrets.openbao.refresh_interval",
                    "re-reading more often than every 5s loads OpenBao for nothing",
                    "use 5s or more",
                );
            }
        }
        (SecretBackend::Files, None) => {}
    }
    if let Some(mc) = &spec.machine_cert {
        if !mc.ca_url.starts_with("https://") {
            r.add(
                "machine_cert.ca_url",
                format!("'{}' is not https", mc.ca_url),
                "step-ca serves https; use https://ca.example:9000",
            );
        }
        if mc.renew_before <= mc.check_interval {
            r.add(
                "machine_cert.renew_before",
                format!(
                    "renewal starts {} before expiry but the timer only checks every {}",
                    mc.renew_before, mc.check_interval
                ),
                "make renew_before several times check_interval",
            );
        }
        for (f, p) in [
            ("machine_cert.cert", &mc.cert),
            ("machine_cert.key", &mc.key),
            ("machine_cert.root_ca", &mc.root_ca),
        ] {
            if text::is_within(p, "/nix/store") && f == "machine_cert.key" {
                r.add(
                    f,
                    format!("'{p}' must be an absolute path (and the key outside the Nix store)"),
                    "use e.g. /var/lib/openclaw-cert/machine.key",
                );
            }
        }
    }
}

fn models(spec: &Spec, r: &mut Report) {
    let m = &spec.models;
    if !is_slug(&m.provider_id, &['-', '_']) {
        r.add(
            "models.provider_id",
            format!("'{}' is not a provider id", m.provider_id),
            "use lowercase letters, digits, '-' and '_'",
        );
    }
    if parse_url(&m.base_url).is_none() {
        r.add(
            "models.base_url",
            format!("'{}' is not an http(s) URL", m.base_url),
            "write e.g. https://litellm.home.example/v1",
        );
    }
    if m.models.is_empty() {
        r.add(
            "models.models",
            "no model is listed",
            "list the model ids the endpoint serves",
        );
    }
    let known = |id: &str| m.models.iter().any(|x| x == id);
    if !known(&m.primary) {
        r.add(
            "models.primary",
            format!("'{}' is not in models.models", m.primary),
            "add it to models.models or pick one of them",
        );
    }
    for (i, f) in m.fallbacks.iter().enumerate() {
        if !known(f) {
            r.add(
                format!("models.fallbacks[{i}]"),
                format!("'{f}' is not in models.models"),
                "add it to models.models or remove it",
            );
        }
        if f == &m.primary {
            r.add(
                format!("models.fallbacks[{i}]"),
                "repeats the primary model",
                "remove it",
            );
        }
    }
    if m.api_key.is_none() && !is_loopback_url(&m.base_url) {
        r.add(
            "models.api_key",
            "a remote model endpoint without a key lets anyone on the path spend your budget",
            "set models.api_key to a secret name (a LiteLLM virtual key)",
        );
    }
}

/// `[litellm]`: the chain is well formed, the gateway's `[models]` points at it without a
/// fallback layer of its own, its keys come from its own agent, and its egress reaches the
/// providers (and nothing else is needed).
fn litellm(spec: &Spec, r: &mut Report) {
    let Some(l) = &spec.litellm else {
        return;
    };
    let groups: BTreeSet<&str> = l.providers.iter().map(|p| p.model_group.as_str()).collect();
    if l.providers.is_empty() {
        r.add(
            "litellm.providers",
            "no provider is listed",
            "add [[litellm.providers]] with name, model_group, model, base_url and api_key",
        );
    }
    let mut vars = BTreeMap::new();
    for (i, p) in l.providers.iter().enumerate() {
        let f = format!("litellm.providers[{i}]");
        if let Some(j) = vars.insert(p.env_var(), i) {
            r.add(
                format!("{f}.name"),
                format!(
                    "'{}' gives the same key variable as litellm.providers[{j}]",
                    p.name
                ),
                "give every provider a distinct name",
            );
        }
        if !p.model.contains('/') {
            r.add(
                format!("{f}.model"),
                format!("'{}' does not name LiteLLM's provider", p.model),
                "write <provider>/<model>, e.g. \"openai/gpt-4o-mini\"",
            );
        }
        if p.api_key_min_length < 8 {
            r.add(
                format!("{f}.api_key_min_length"),
                "a provider key shorter than 8 characters is no key",
                "set at least 8 (16 by default)",
            );
        }
        for (name, c) in [
            ("input_cost_per_token", p.input_cost_per_token),
            ("output_cost_per_token", p.output_cost_per_token),
        ] {
            if c.is_some_and(|c| !c.is_finite() || c < 0.0) {
                r.add(
                    format!("{f}.{name}"),
                    "must be a finite, non-negative USD amount",
                    "write e.g. 0.000002",
                );
            }
        }
        match parse_url(&p.base_url) {
            None => r.add(
                format!("{f}.base_url"),
                format!("'{}' is not an http(s) URL", p.base_url),
                "write e.g. https://api.example.com/v1",
            ),
            Some(u) => {
                let allowed = l.egress.allow.iter().any(|a| {
                    a.protocol == Protocol::Tcp
                        && a.ports.contains(&u.port)
                        && match u.host.parse::<IpAddr>() {
                            Ok(ip) => a.to.contains(ip),
                            Err(_) => a.hosts.iter().any(|h| h == &u.host),
                        }
                });
                if !allowed {
                    r.add(
                        "litellm.egress.allow",
                        format!("nothing lets LiteLLM reach {}:{} ({f}.base_url)", u.host, u.port),
                        format!(
                            "add [[litellm.egress.allow]] with to = \"<address of {}>\", ports = [{}]{}",
                            u.host,
                            u.port,
                            if u.host.parse::<IpAddr>().is_ok() { String::new() } else { format!(", hosts = [\"{}\"]", u.host) }
                        ),
                    );
                }
                if u.host.parse::<IpAddr>().is_err() && l.egress.dns_resolvers.is_empty() {
                    r.add(
                        "litellm.egress.dns_resolvers",
                        format!("{f}.base_url names a host but no DNS resolver is allowed"),
                        "list the resolver's address in litellm.egress.dns_resolvers",
                    );
                }
            }
        }
    }
    for (i, d) in l.egress.dns_resolvers.iter().enumerate() {
        if d.parse::<IpAddr>().is_err() {
            r.add(
                format!("litellm.egress.dns_resolvers[{i}]"),
                format!("'{d}' is not an IP address"),
                "nftables needs addresses: write e.g. \"10.0.3.1\"",
            );
        }
    }
    for (i, a) in l.egress.allow.iter().enumerate() {
        let f = format!("litellm.egress.allow[{i}]");
        if a.ports.is_empty() || a.ports.contains(&0) {
            r.add(
                format!("{f}.ports"),
                "needs at least one port between 1 and 65535",
                "list the ports, e.g. [443]",
            );
        }
        if a.to.prefix() < if a.to.is_ipv4() { 8 } else { 32 } {
            r.add(
                format!("{f}.to"),
                format!("{} is too broad for an allow rule", a.to),
                "name the providers' hosts or a small subnet",
            );
        }
        if let Some(m) = net::metadata_addrs()
            .into_iter()
            .find(|m| a.to.contains(*m))
        {
            r.add(
                format!("{f}.to"),
                format!("{} reaches the cloud metadata service {m}", a.to),
                "no rule may open the metadata service: exclude it from the range",
            );
        }
    }
    if !groups.contains(l.primary.as_str()) {
        r.add(
            "litellm.primary",
            format!("'{}' is not a model_group of litellm.providers", l.primary),
            "name the model_group of one of the providers",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, f) in l.fallbacks.iter().enumerate() {
        if !groups.contains(f.as_str()) {
            r.add(
                format!("litellm.fallbacks[{i}]"),
                format!("'{f}' is not a model_group of litellm.providers"),
                "name the model_group of one of the providers, or remove it",
            );
        } else if f == &l.primary || !seen.insert(f.as_str()) {
            r.add(
                format!("litellm.fallbacks[{i}]"),
                "repeats the primary or an earlier fallback",
                "remove it",
            );
        }
    }
    if !(1..=600).contains(&l.timeout.as_secs()) {
        r.add(
            "litellm.timeout",
            format!("{} is outside 1s..10m", l.timeout),
            "set the longest a provider may take to answer, e.g. \"5s\" (a hang falls back after it)",
        );
    }
    if l.retries > 3 {
        r.add(
            "litellm.retries",
            format!(
                "{} retries delay every fallback by that many attempts",
                l.retries
            ),
            "set 0 (fall back at once) to 3",
        );
    }
    if l.budget_usd.is_some_and(|b| !b.is_finite() || b <= 0.0) {
        r.add(
            "litellm.budget_usd",
            "must be a positive USD amount",
            "write e.g. 20.0, or remove it",
        );
    }
    if l.budget_period.as_secs() == 0 {
        r.add("litellm.budget_period", "is zero", "write e.g. \"30d\"");
    }
    if l.master_key_min_length < text_min_master() {
        r.add(
            "litellm.master_key_min_length",
            format!(
                "below {}: the master key is the only key LiteLLM takes",
                text_min_master()
            ),
            format!("set at least {}", text_min_master()),
        );
    }
    let (host, port) = crate::render::litellm::listen_parts(&l.listen);
    // Seen in the lab: LiteLLM's server (uvicorn) binds `::` IPv6-only, so IPv4 clients of a
    // host with both families are refused.
    if host
        .parse::<std::net::Ipv6Addr>()
        .is_ok_and(|a| a.is_unspecified())
    {
        r.add(
            "litellm.listen",
            format!("{} listens on IPv6 only (LiteLLM's server sets IPV6_V6ONLY), so IPv4 clients are refused", l.listen),
            format!("listen on 0.0.0.0:{port} or on the one address the gateway uses"),
        );
    }
    let m = &spec.models;
    if let Some(u) = parse_url(&m.base_url) {
        if u.port.to_string() != port {
            r.add(
                "models.base_url",
                format!(
                    "points at port {} but LiteLLM listens on {}",
                    u.port, l.listen
                ),
                format!("write the address of litellm.listen with port {port}"),
            );
        }
    }
    if m.primary != l.primary {
        r.add(
            "models.primary",
            format!("'{}' is not LiteLLM's primary '{}'", m.primary, l.primary),
            format!("set models.primary = \"{}\"", l.primary),
        );
    }
    for (i, id) in m.models.iter().enumerate() {
        if !groups.contains(id.as_str()) {
            r.add(
                format!("models.models[{i}]"),
                format!("LiteLLM serves no model group '{id}'"),
                "list only model_group names of litellm.providers",
            );
        }
    }
    if !m.fallbacks.is_empty() {
        r.add(
            "models.fallbacks",
            "OpenClaw's own fallback behind LiteLLM multiplies the two layers' retries (OpenClaw alone waits about 60 s before its fallback)",
            "move them to litellm.fallbacks and leave models.fallbacks empty",
        );
    }
    if m.api_key.is_none() {
        r.add(
            "models.api_key",
            "the gateway needs LiteLLM's key",
            "set models.api_key to the secret holding LiteLLM's master key",
        );
    }
    let p = &l.paths;
    if p.service_user == spec.paths.service_user {
        r.add(
            "litellm.paths.service_user",
            "LiteLLM runs as the gateway's user, so the gateway could read the provider keys",
            "give LiteLLM its own user, e.g. \"litellm\"",
        );
    }
    if text::is_within(&p.secrets_dir, &spec.secrets.dir)
        || text::is_within(&spec.secrets.dir, &p.secrets_dir)
    {
        r.add(
            "litellm.paths.secrets_dir",
            "shares a directory with secrets.dir, where the gateway's files live",
            "use a directory of its own, e.g. /run/secrets/litellm",
        );
    }
    match (spec.secrets.backend, &l.openbao) {
        (SecretBackend::Openbao, None) => r.add(
            "litellm.openbao",
            "LiteLLM's keys need an OpenBao identity of their own",
            "add [litellm.openbao] with kv_path, cert and key (a cert-auth role reading only that path)",
        ),
        (SecretBackend::Openbao, Some(b)) => {
            if let Some(gw) = &spec.secrets.openbao {
                if gw.kv_path == b.kv_path {
                    r.add(
                        "litellm.openbao.kv_path",
                        "is the gateway's KV path: one policy would read both sets of keys",
                        "use a path of its own, e.g. \"homelab/litellm\"",
                    );
                }
                if gw.cert_auth_role == b.cert_auth_role {
                    r.add(
                        "litellm.openbao.cert_auth_role",
                        "is the gateway's role",
                        "use a role of its own whose policy reads only litellm.openbao.kv_path",
                    );
                }
            }
        }
        // sops-nix/agenix put litellm.paths.secrets_dir/litellm.env in place; no agent.
        (SecretBackend::Files, _) => {}
    }
}

/// `[backup]`: a password the agent renders as a file, a repository that survives losing the
/// state's disk and is not inside what is backed up, retention that keeps something, a
/// check subset restic accepts, and no secret inside the backed-up tree.
fn backup(spec: &Spec, r: &mut Report) {
    let Some(b) = &spec.backup else {
        return;
    };
    let state = spec.paths.state_dir.trim_end_matches('/');
    let within = |p: &str, dir: &str| std::path::Path::new(p).starts_with(dir);
    match spec.secrets.items.get(&b.password) {
        None => r.add(
            "backup.password",
            format!("'{}' is not an item of secrets.items", b.password),
            format!(
                "add [secrets.items.{}] (its value in OpenBao, or a path for the files backend), or name an existing item",
                b.password
            ),
        ),
        Some(item) if item.deliver != Delivery::File => r.add(
            format!("secrets.items.{}.deliver", b.password),
            "the restic password must be a file (restic reads it through RESTIC_PASSWORD_FILE)",
            "set deliver = \"file\"",
        ),
        Some(item) if item.min_length < 16 => r.add(
            format!("secrets.items.{}.min_length", b.password),
            "a repository password shorter than 16 characters can be guessed offline by whoever holds a copy of the repository",
            "set min_length = 16 or more (32 random characters is a good password)",
        ),
        Some(_) => {}
    }
    if [
        spec.gateway.token.as_deref(),
        spec.models.api_key.as_deref(),
    ]
    .contains(&Some(b.password.as_str()))
    {
        r.add(
            "backup.password",
            format!("'{}' is also a gateway credential", b.password),
            "give the repository its own secret item",
        );
    }
    let repo = b.repository.as_str();
    if let Some(path) = b.local_repository() {
        if text::check(text::Kind::AbsPath, path).is_some() {
            r.add(
                "backup.repository",
                format!("'{path}' is not an absolute, normalised path"),
                "write e.g. /var/backup/openclaw-restic (no trailing /, no . or ..)",
            );
        } else if within(path, state) || within(state, path) {
            r.add(
                "backup.repository",
                format!("'{path}' overlaps paths.state_dir ({state}): the repository would be in its own backup and lost with the state's disk"),
                "put the repository outside the state directory, ideally on another disk or host (e.g. /mnt/backup/openclaw-restic or sftp:backup-host:/srv/restic/openclaw)",
            );
        } else if within(path, spec.secrets.dir.trim_end_matches('/')) {
            r.add(
                "backup.repository",
                format!("'{path}' is inside secrets.dir (a tmpfs the agent owns)"),
                "put the repository on persistent storage outside the secrets directory",
            );
        }
    } else {
        const BACKENDS: &[&str] = &[
            "sftp:", "rest:", "s3:", "b2:", "azure:", "gs:", "swift:", "rclone:",
        ];
        let backend = BACKENDS.iter().find(|p| repo.starts_with(**p));
        match backend {
            None => r.add(
                "backup.repository",
                format!("'{repo}' is neither an absolute path nor a restic backend URL"),
                "write an absolute path or a URL starting with sftp:, rest:, s3:, b2:, azure:, gs:, swift: or rclone:",
            ),
            Some(_) => {
                // A password in the URL would land in the unit's environment and the store.
                let rest = repo.split_once("://").map(|(_, r)| r).unwrap_or(repo);
                let authority = rest.split('/').next().unwrap_or("");
                if authority.contains('@') && authority.split('@').next().unwrap_or("").contains(':') {
                    r.add(
                        "backup.repository",
                        "the URL carries a password (user:password@)",
                        "remove it: give the backend's credentials to restic through its environment (e.g. an EnvironmentFile drop-in the agent renders), never in the spec",
                    );
                }
            }
        }
    }
    let k = b.keep;
    if k.daily == 0 && k.weekly == 0 && k.monthly == 0 {
        r.add(
            "backup.keep",
            "keeps no snapshot: restic forget --prune would delete every backup after making it",
            "set backup.keep.daily (e.g. 7), weekly (4) and monthly (6)",
        );
    }
    for (field, n, max) in [
        ("daily", k.daily, 3660),
        ("weekly", k.weekly, 520),
        ("monthly", k.monthly, 240),
    ] {
        if n > max {
            r.add(
                format!("backup.keep.{field}"),
                format!("{n} is more than {max}: a repository this long-lived needs a plan of its own, not a typo"),
                format!("set at most {max}"),
            );
        }
    }
    if !verify_subset_ok(&b.verify_subset) {
        r.add(
            "backup.verify_subset",
            format!(
                "'{}' is not a subset restic check --read-data-subset takes",
                b.verify_subset
            ),
            "write a percentage (5%), a part (1/10) or a size (500M)",
        );
    }
    for (field, v) in [
        ("backup.schedule", &b.schedule),
        ("backup.verify_schedule", &b.verify_schedule),
    ] {
        let ok = !v.is_empty()
            && v.len() <= 64
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || " *:/,.~-".contains(c))
            && v.trim() == v;
        if !ok {
            r.add(
                field,
                format!("'{}' is not a systemd calendar expression", v.escape_debug()),
                "write e.g. \"daily\", \"*-*-* 03:15:00\" or \"Sun *-*-* 04:30:00\" (check with systemd-analyze calendar)",
            );
        }
    }
    let work = spec.backup_work_dir().unwrap_or_default();
    if within(&work, state) {
        r.add(
            "backup.work_dir",
            format!("'{work}' is inside paths.state_dir ({state}): the archive would be staged inside what it archives"),
            "put it beside the state directory (default /var/lib/<name>-backup)",
        );
    }
    if b.local_repository()
        .is_some_and(|p| within(p, &work) || within(&work, p))
    {
        r.add(
            "backup.work_dir",
            "overlaps backup.repository",
            "keep the work directory and the repository apart",
        );
    }
    // Secrets come back from OpenBao, never from a backup.
    let secrets = spec.secrets.dir.trim_end_matches('/');
    if within(secrets, state) {
        r.add(
            "secrets.dir",
            format!("'{secrets}' is inside paths.state_dir ({state}), so every backup would carry the rendered secrets"),
            "keep secrets.dir on a tmpfs outside the state directory (e.g. /run/secrets/openclaw)",
        );
    }
    for (name, _) in spec.secrets.items.iter() {
        if let Some(crate::spec::SecretLocation::File { path }) = spec.secret_location(name) {
            if within(&path, state) {
                r.add(
                    format!("secrets.items.{name}.path"),
                    format!("'{path}' is inside paths.state_dir ({state}), so every backup would carry it"),
                    "render it outside the state directory (under secrets.dir)",
                );
            }
        }
    }
}

fn verify_subset_ok(s: &str) -> bool {
    if let Some(p) = s.strip_suffix('%') {
        return p.parse::<f64>().is_ok_and(|x| x > 0.0 && x <= 100.0);
    }
    if let Some((n, t)) = s.split_once('/') {
        return matches!((n.parse::<u32>(), t.parse::<u32>()), (Ok(n), Ok(t)) if n >= 1 && n <= t);
    }
    let digits = s.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G', 't', 'T']);
    digits.len() + 1 >= s.len() && digits.parse::<u64>().is_ok_and(|x| x > 0)
}

fn text_min_master() -> usize {
    16
}

fn channels(spec: &Spec, r: &mut Report) {
    if let Some(mx) = &spec.channels.matrix {
        if !mx.homeserver.starts_with("https://") && !is_loopback_url(&mx.homeserver) {
            r.add(
                "channels.matrix.homeserver",
                format!("'{}' is not https", mx.homeserver),
                "use the homeserver's https:// URL",
            );
        }
        if !is_matrix_user(&mx.user_id) {
            r.add(
                "channels.matrix.user_id",
                format!("'{}' is not a Matrix user id", mx.user_id),
                "write @bot:server",
            );
        }
        match mx.dm_policy {
            DmPolicy::Allowlist if mx.allow_from.is_empty() => r.add(
                "channels.matrix.allow_from",
                "dm_policy = \"allowlist\" with an empty allow_from answers nobody",
                "list the Matrix users allowed to DM the bot, e.g. [\"@you:home.example\"]",
            ),
            DmPolicy::Open => r.add(
                "channels.matrix.dm_policy",
                "\"open\" lets anyone on the federation talk to an agent with tools",
                "use \"allowlist\" (with allow_from) or \"pairing\"",
            ),
            _ => {}
        }
        for (i, u) in mx.allow_from.iter().chain(&mx.group_allow_from).enumerate() {
            if !is_matrix_user(u) && u != "*" {
                r.add(
                    format!("channels.matrix.allow_from[{i}]"),
                    format!("'{u}' is not a Matrix user id"),
                    "write @user:server",
                );
            }
        }
        if mx.group_policy == GroupPolicy::Allowlist && mx.rooms.is_empty() {
            r.add(
                "channels.matrix.rooms",
                "group_policy = \"allowlist\" with no rooms answers in no room",
                "add [channels.matrix.rooms.\"!room:server\"] entries or set group_policy = \"disabled\"",
            );
        }
        if mx.group_policy == GroupPolicy::Open {
            for (room, cfg) in &mx.rooms {
                if !cfg.require_mention {
                    r.add(
                        format!("channels.matrix.rooms.\"{room}\".require_mention"),
                        "an open room without a mention gate lets every message drive the agent",
                        "set require_mention = true",
                    );
                }
            }
        }
    }
    if let Some(tg) = &spec.channels.telegram {
        match tg.dm_policy {
            DmPolicy::Allowlist if tg.allow_from.is_empty() => r.add(
                "channels.telegram.allow_from",
                "dm_policy = \"allowlist\" with an empty allow_from answers nobody",
                "list the numeric Telegram user ids allowed to talk to the bot",
            ),
            DmPolicy::Open => r.add(
                "channels.telegram.dm_policy",
                "\"open\" lets anyone who finds the bot talk to an agent with tools",
                "use \"allowlist\" with allow_from",
            ),
            _ => {}
        }
        for (i, u) in tg.allow_from.iter().enumerate() {
            if u.is_empty() || !u.bytes().all(|b| b.is_ascii_digit()) {
                r.add(
                    format!("channels.telegram.allow_from[{i}]"),
                    format!("'{u}' is not a numeric Telegram user id"),
                    "use the id @userinfobot reports",
                );
            }
        }
    }
}

fn agents(spec: &Spec, r: &mut Report) {
    let mut ids = BTreeSet::new();
    for (i, a) in spec.agents.iter().enumerate() {
        if !is_slug(&a.id, &['-', '_']) {
            r.add(
                format!("agents[{i}].id"),
                format!("'{}' is not an agent id", a.id),
                "use lowercase letters, digits, '-' and '_'",
            );
        }
        if !ids.insert(a.id.as_str()) {
            r.add(
                format!("agents[{i}].id"),
                format!("'{}' is declared twice", a.id),
                "give every agent its own id",
            );
        }
        for t in &a.tools_allow {
            if a.tools_deny.contains(t) {
                r.add(
                    format!("agents[{i}].tools_allow"),
                    format!("'{t}' is both allowed and denied"),
                    "keep it in one list",
                );
            }
        }
        if let Some(m) = &a.model {
            if !m.contains('/') && !spec.models.models.contains(m) {
                r.add(
                    format!("agents[{i}].model"),
                    format!("'{m}' is not in models.models"),
                    "use one of models.models or <provider>/<model>",
                );
            }
        }
        if let Some(w) = &a.workspace {
            if !w.starts_with('/') && !w.starts_with('~') {
                r.add(
                    format!("agents[{i}].workspace"),
                    format!("'{w}' is relative"),
                    "use an absolute path",
                );
            }
        }
    }
    if spec.agents.iter().filter(|a| a.default).count() > 1 {
        r.add(
            "agents",
            "more than one agent has default = true",
            "mark exactly one agent as default",
        );
    }
    let channels: Vec<&str> = [
        spec.channels.matrix.as_ref().map(|_| "matrix"),
        spec.channels.telegram.as_ref().map(|_| "telegram"),
        spec.channels.webchat.enabled.then_some("webchat"),
    ]
    .into_iter()
    .flatten()
    .collect();
    for (i, b) in spec.bindings.iter().enumerate() {
        if !ids.contains(b.agent.as_str()) {
            r.add(
                format!("bindings[{i}].agent"),
                format!("no agent '{}' is declared", b.agent),
                "declare it under [[agents]] or fix the name",
            );
        }
        if !channels.contains(&b.channel.as_str()) {
            r.add(
                format!("bindings[{i}].channel"),
                format!("channel '{}' is not configured", b.channel),
                format!("use one of: {}", channels.join(", ")),
            );
        }
    }
    let mut names = BTreeSet::new();
    for (i, c) in spec.cron.iter().enumerate() {
        if !is_slug(&c.name, &['-', '_']) || !names.insert(c.name.as_str()) {
            r.add(
                format!("cron[{i}].name"),
                format!("'{}' is not a unique job name", c.name),
                "use a unique lowercase name",
            );
        }
        if let Err(e) = check_cron(&c.schedule) {
            r.add(
                format!("cron[{i}].schedule"),
                format!("'{}': {e}", c.schedule),
                "write 5 fields: minute hour day-of-month month day-of-week, e.g. \"0 8 * * 1-5\"",
            );
        }
        let implicit_main = spec.agents.is_empty() && c.agent == "main";
        if !ids.contains(c.agent.as_str()) && !implicit_main {
            r.add(
                format!("cron[{i}].agent"),
                format!("no agent '{}' is declared", c.agent),
                "declare it under [[agents]] or fix the name",
            );
        }
        if c.prompt.trim().is_empty() {
            r.add(
                format!("cron[{i}].prompt"),
                "is empty",
                "write what the agent should do",
            );
        }
        if c.timezone.is_empty() || c.timezone.contains(' ') {
            r.add(
                format!("cron[{i}].timezone"),
                format!("'{}' is not a time zone", c.timezone),
                "use an IANA name such as \"Europe/Zurich\"",
            );
        }
    }
}

/// Croner's rules (cron.rs): OpenClaw refuses what it refuses, and never runs what never fires.
fn check_cron(expr: &str) -> Result<(), String> {
    crate::cron::check(expr)
}

fn egress(spec: &Spec, r: &mut Report) {
    let e = &spec.egress;
    for (i, d) in e.dns_resolvers.iter().enumerate() {
        match d.parse::<IpAddr>() {
            Err(_) => r.add(
                format!("egress.dns_resolvers[{i}]"),
                format!("'{d}' is not an IP address"),
                "nftables needs addresses: write e.g. \"10.0.3.1\"",
            ),
            Ok(ip) => {
                let ip = ip.to_canonical();
                let v4 = net::embedded_ipv4(ip, &e.nat64_prefixes).map(IpAddr::V4);
                let metadata = net::metadata_addrs()
                    .into_iter()
                    .any(|m| m == ip || Some(m) == v4);
                if metadata
                    || ip.is_unspecified()
                    || ip.is_multicast()
                    || ip == IpAddr::from([255, 255, 255, 255])
                {
                    r.add(
                        format!("egress.dns_resolvers[{i}]"),
                        format!("{d} is the metadata service, unspecified, multicast or broadcast, not a resolver"),
                        "list the address of the DNS server the gateway should use",
                    );
                }
            }
        }
    }
    for (i, p) in e.nat64_prefixes.iter().enumerate() {
        if p.is_ipv4() || !(32..=96).contains(&p.prefix()) {
            r.add(
                format!("egress.nat64_prefixes[{i}]"),
                format!("{p} is not a NAT64 prefix"),
                "write the IPv6 prefix (/32 to /96) your NAT64 gateway translates, e.g. \"2001:db8:64::/96\"",
            );
        }
    }
    for (i, rule) in e.allow.iter().enumerate() {
        let f = format!("egress.allow[{i}]");
        if rule.ports.is_empty() || rule.ports.contains(&0) {
            r.add(
                format!("{f}.ports"),
                "needs at least one port between 1 and 65535",
                "list the ports, e.g. [443]",
            );
        }
        let full = if rule.to.is_ipv4() { 32 } else { 128 };
        if rule.to.prefix() < if rule.to.is_ipv4() { 8 } else { 32 } {
            r.add(
                format!("{f}.to"),
                format!("{} is too broad for an allow rule", rule.to),
                "name the hosts or a small subnet",
            );
        }
        let blocked: Vec<(Cidr, String)> = net::blocked_ranges_of(&rule.to)
            .into_iter()
            .map(|(c, why)| (c, why.to_string()))
            .chain(
                e.nat64_prefixes
                    .iter()
                    .filter(|p| p.overlaps(&rule.to))
                    .map(|p| (*p, "NAT64 (egress.nat64_prefixes)".to_string())),
            )
            .collect();
        if let Some((range, why)) = blocked.first() {
            if !rule.allow_private {
                r.add(
                    format!("{f}.to"),
                    format!(
                        "{} lies inside the always-blocked {} ({why})",
                        rule.to, range
                    ),
                    "set allow_private = true on this rule if the gateway really must reach it",
                );
            } else if let Some((range, why)) =
                blocked.iter().find(|(b, _)| b.prefix() >= rule.to.prefix())
            {
                // allow_private admits a destination inside a private block, never a range
                // that swallows one (a /8 around 169.254.0.0/16 opens the metadata service).
                r.add(
                    format!("{f}.to"),
                    format!(
                        "{} covers the whole always-blocked {range} ({why})",
                        rule.to
                    ),
                    format!(
                        "allow the specific hosts (/32 or /128) inside {range} the gateway needs"
                    ),
                );
            } else if rule.to.prefix() < full - 8 {
                // A whole private subnet defeats the point of blocking the LAN.
                r.add(
                    format!("{f}.to"),
                    format!("{} opens a large private range", rule.to),
                    "allow the specific hosts (/32 or /128) the gateway needs",
                );
            }
        }
        let metadata = net::metadata_addrs().into_iter().find(|m| {
            rule.to.contains(*m)
                || net::embedded_ipv4(rule.to.addr(), &e.nat64_prefixes).is_some_and(|v4| {
                    rule.to.prefix() >= 96 && {
                        let bits = 128 - rule.to.prefix() as u32;
                        let net4 = Cidr::new(v4.into(), 32 - bits.min(32) as u8).expect("prefix");
                        net4.contains(*m)
                    }
                })
        });
        if let Some(m) = metadata {
            r.add(
                format!("{f}.to"),
                format!("{} reaches the cloud metadata service {m}", rule.to),
                "no rule may open the metadata service: exclude it from the range",
            );
        }
        if rule.name.is_empty() || rule.name.contains('"') {
            r.add(
                format!("{f}.name"),
                "must be a non-empty label without quotes",
                "write what it is for, e.g. \"litellm\"",
            );
        }
    }
    for (i, c) in e.container_interfaces.iter().enumerate() {
        if c.is_empty() || c.len() > 15 || c.contains(|ch: char| ch.is_whitespace() || ch == '"') {
            r.add(
                format!("egress.container_interfaces[{i}]"),
                format!("'{c}' is not an interface name"),
                "use the Podman bridge name, e.g. \"podman1\"",
            );
        }
    }
}

/// A URL endpoint the gateway or its sidecars must reach.
struct Endpoint<'a> {
    field: &'static str,
    url: &'a str,
}

fn endpoints(spec: &Spec) -> Vec<Endpoint<'_>> {
    let mut v = vec![Endpoint {
        field: "models.base_url",
        url: &spec.models.base_url,
    }];
    if let Some(b) = &spec.secrets.openbao {
        v.push(Endpoint {
            field: "secrets.openbao.address",
            url: &b.address,
        });
    }
    if let Some(mc) = &spec.machine_cert {
        v.push(Endpoint {
            field: "machine_cert.ca_url",
            url: &mc.ca_url,
        });
    }
    if let Some(mx) = &spec.channels.matrix {
        v.push(Endpoint {
            field: "channels.matrix.homeserver",
            url: &mx.homeserver,
        });
    }
    if let Some(o) = &spec.observability.otel {
        v.push(Endpoint {
            field: "observability.otel.endpoint",
            url: &o.endpoint,
        });
    }
    if spec.channels.telegram.is_some() {
        v.push(Endpoint {
            field: "channels.telegram",
            url: "https://api.telegram.org",
        });
    }
    if spec.models.catalog_refresh {
        v.push(Endpoint {
            field: "models.catalog_refresh",
            url: "https://catalog.openclaw.ai",
        });
    }
    v
}

/// Every endpoint the deployment uses must be allowed by the egress policy, or the gateway
/// would start and then fail at its first request.
fn endpoints_reachable(spec: &Spec, r: &mut Report) {
    let e = &spec.egress;
    for ep in endpoints(spec) {
        let Some(u) = parse_url(ep.url) else {
            if ep.field != "models.base_url" {
                r.add(
                    ep.field,
                    format!("'{}' is not an http(s) URL", ep.url),
                    "write scheme://host[:port]",
                );
            }
            continue;
        };
        let allowed = match u.host.parse::<IpAddr>() {
            Ok(ip) if ip.is_loopback() => true,
            Ok(ip) => {
                e.allow.iter().any(|a| {
                    a.protocol == Protocol::Tcp && a.to.contains(ip) && a.ports.contains(&u.port)
                }) || (e.allow_public_web
                    && matches!(u.port, 80 | 443)
                    && net::blocked_range_of_addr(ip).is_none())
            }
            Err(_) if u.host == "localhost" => true,
            // Through the egress proxy: CONNECT only, so https.
            Err(_) if u.https && crate::domains::allowed(&e.allow_domains, &u.host, u.port) => true,
            Err(_) => {
                e.allow.iter().any(|a| {
                    a.protocol == Protocol::Tcp
                        && a.hosts.iter().any(|h| h == &u.host)
                        && a.ports.contains(&u.port)
                }) || (e.allow_public_web
                    && matches!(u.port, 80 | 443)
                    && !e.allow.iter().any(|a| a.hosts.iter().any(|h| h == &u.host)))
            }
        };
        if !allowed {
            r.add(
                "egress.allow",
                format!("nothing lets the gateway reach {}:{} ({} = {})", u.host, u.port, ep.field, ep.url),
                if u.host.parse::<IpAddr>().is_ok() {
                    format!("add [[egress.allow]] with to = \"{}\", ports = [{}]", u.host, u.port)
                } else {
                    format!(
                        "add [[egress.allow]] with to = \"<address of {}>\", ports = [{}], hosts = [\"{}\"]",
                        u.host, u.port, u.host
                    )
                },
            );
        }
        if u.host.parse::<IpAddr>().is_err() && u.host != "localhost" && e.dns_resolvers.is_empty()
        {
            r.add(
                "egress.dns_resolvers",
                format!(
                    "{} = {} is a host name but no DNS resolver is allowed",
                    ep.field, ep.url
                ),
                "list the resolver's address in egress.dns_resolvers",
            );
        }
    }
}

/// `egress.allow_domains` entries (domains.rs has the grammar) and the proxy they render.
fn egress_domains(spec: &Spec, r: &mut Report) {
    let e = &spec.egress;
    let mut seen = BTreeSet::new();
    for (i, parsed) in crate::domains::parse_all(&e.allow_domains)
        .into_iter()
        .enumerate()
    {
        let field = format!("egress.allow_domains[{i}]");
        match parsed {
            Err((_, bad)) => r.add(
                field,
                format!("'{}' {}", e.allow_domains[i], bad.message),
                bad.fix,
            ),
            Ok(rule) => {
                if !seen.insert(rule.clone()) {
                    r.add(
                        field,
                        format!("'{rule}' is listed twice"),
                        "remove the duplicate",
                    );
                }
            }
        }
    }
    if !spec.uses_egress_proxy() {
        return;
    }
    let p = &e.proxy;
    if p.port == spec.gateway.port || p.port == 0 {
        r.add(
            "egress.proxy.port",
            format!("port {} cannot be the proxy's", p.port),
            "choose a free port other than gateway.port (default 3128)",
        );
    }
    if p.user == spec.paths.service_user || p.user == "root" {
        r.add(
            "egress.proxy.user",
            format!(
                "'{}' would let the gateway's own processes reach the internet",
                p.user
            ),
            "give the proxy its own system user (default openclaw-egress)",
        );
    }
}

fn ingress(spec: &Spec, r: &mut Report) {
    for (i, c) in spec.ingress.allow_from.iter().enumerate() {
        if c.prefix() == 0 {
            r.add(
                format!("ingress.allow_from[{i}]"),
                format!("{c} lets everyone reach the gateway"),
                "list the reverse proxy and monitoring hosts",
            );
        }
    }
    for v4 in [true, false] {
        if covers_everything(&spec.ingress.allow_from, v4) {
            r.add(
                "ingress.allow_from",
                format!(
                    "together these prefixes cover every {} address",
                    if v4 { "IPv4" } else { "IPv6" }
                ),
                "list the reverse proxy and monitoring hosts",
            );
        }
    }
    if spec.gateway.bind != Bind::Loopback && spec.ingress.allow_from.is_empty() {
        r.add(
            "ingress.allow_from",
            "the gateway listens beyond loopback but no source may reach it",
            "list the reverse proxy's address, or set gateway.bind = \"loopback\"",
        );
    }
}

/// True when the prefixes of one family leave no address of it out.
fn covers_everything(nets: &[Cidr], v4: bool) -> bool {
    let bits: u32 = if v4 { 32 } else { 128 };
    let mut ranges: Vec<(u128, u128)> = nets
        .iter()
        .filter(|c| c.is_ipv4() == v4)
        .map(|c| {
            let start = match c.addr() {
                IpAddr::V4(a) => u32::from(a) as u128,
                IpAddr::V6(a) => u128::from(a),
            };
            let host_bits = bits - c.prefix() as u32;
            let span = if host_bits == 128 {
                u128::MAX
            } else {
                (1u128 << host_bits) - 1
            };
            (start, start.saturating_add(span))
        })
        .collect();
    ranges.sort();
    let max = if v4 { u32::MAX as u128 } else { u128::MAX };
    let mut next: u128 = 0;
    for (s, e) in ranges {
        if s > next {
            return false;
        }
        if e >= max {
            return true;
        }
        next = next.max(e + 1);
    }
    false
}

fn observability(spec: &Spec, r: &mut Report) {
    if let Some(p) = &spec.observability.prometheus {
        if let Some(item) = spec.secrets.items.get(&p.token) {
            if item.deliver != Delivery::File {
                r.add(
                    format!("secrets.items.{}.deliver", p.token),
                    "Prometheus reads its bearer token from a file",
                    "set deliver = \"file\" for this secret",
                );
            }
        }
        if !p.target.contains(':') {
            r.add(
                "observability.prometheus.target",
                format!("'{}' has no port", p.target),
                "write host:port, e.g. \"10.0.3.20:18789\"",
            );
        }
        if !p.probe_textfile.starts_with('/') || !p.probe_textfile.ends_with(".prom") {
            r.add(
                "observability.prometheus.probe_textfile",
                "must be an absolute path ending in .prom",
                "node_exporter reads *.prom files",
            );
        }
    }
}

fn proxy(spec: &Spec, r: &mut Report) {
    let Some(p) = &spec.proxy else { return };
    if p.site.is_empty() || p.site.contains(char::is_whitespace) {
        r.add(
            "proxy.site",
            "must be one site address",
            "write e.g. \"openclaw.home.example\"",
        );
    }
    if !p.upstream.contains(':') {
        r.add(
            "proxy.upstream",
            format!("'{}' has no port", p.upstream),
            format!("write host:{}", spec.gateway.port),
        );
    }
    let local = p.upstream.starts_with("127.")
        || p.upstream.starts_with("localhost")
        || p.upstream.starts_with("[::1]");
    if local && spec.gateway.rate_limit.exempt_loopback {
        r.add(
            "gateway.rate_limit.exempt_loopback",
            "behind a proxy on the same host every client looks like loopback, so nobody is rate limited",
            "set exempt_loopback = false",
        );
    }
    if let Some(fa) = &p.forward_auth {
        if !fa.uri.starts_with('/') {
            r.add(
                "proxy.forward_auth.uri",
                format!("'{}' is not a path", fa.uri),
                "write the auth endpoint's path, e.g. /oauth2/auth",
            );
        }
    }
}

fn container(spec: &Spec, r: &mut Report) {
    let c = &spec.container;
    let digest_ok = c
        .image
        .rsplit_once("@sha256:")
        .is_some_and(|(_, d)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()));
    // An image archive on the host (Nix's dockerTools output, the lab's offline build) has
    // no registry behind it: what runs is that file, trusted like the host's binaries.
    let archive = c
        .image
        .strip_prefix("docker-archive:/")
        .is_some_and(|p| !p.is_empty() && !p.split('/').any(|s| s == ".." || s == "."));
    // ...but not from a world-writable directory, where anyone could swap it.
    let shared_dir = [
        "docker-archive:/tmp/",
        "docker-archive:/var/tmp/",
        "docker-archive:/dev/shm/",
    ]
    .iter()
    .any(|d| c.image.starts_with(d));
    if archive && shared_dir {
        r.add(
            "container.image",
            format!("'{}' lies in a world-writable directory: anyone on the host could replace what runs", c.image),
            "keep the archive in a root-owned directory (Nix's /nix/store, or e.g. /var/lib/openclaw/images)",
        );
    } else if !digest_ok && !archive {
        r.add(
            "container.image",
            format!(
                "'{}' is not pinned by digest, so a registry push changes what runs",
                c.image
            ),
            "write name@sha256:<64 hex digits> (podman image inspect --format '{{.Digest}}' NAME), or use an image archive on the host: docker-archive:/absolute/path.tar (Nix builds one at /nix/store/...)",
        );
    }
    if c.memory_max.as_mib() < MIN_MEMORY_MIB {
        r.add(
            "container.memory_max",
            format!(
                "{} is below what the gateway needs (it peaks near 1.43 GB after one agent run)",
                c.memory_max
            ),
            format!("set memory_max to at least {}M", MIN_MEMORY_MIB),
        );
    }
    if !(c.cpus > 0.0 && c.cpus <= 64.0) {
        r.add(
            "container.cpus",
            format!("{} CPUs", c.cpus),
            "use a value between 0.5 and the host's core count",
        );
    }
    if c.ulimit_nofile < 1024 {
        r.add(
            "container.ulimit_nofile",
            format!(
                "{} open files is too few for the gateway's sockets",
                c.ulimit_nofile
            ),
            "use at least 1024 (default 16384), at most the host's hard limit (ulimit -Hn)",
        );
    }
    if c.ulimit_nproc < c.pids_limit.min(256) {
        r.add(
            "container.ulimit_nproc",
            format!(
                "{} processes is too few for node and its tools",
                c.ulimit_nproc
            ),
            "use at least 256 (default 4096)",
        );
    }
    for (field, net, v4) in [
        ("container.subnet", Some(c.subnet), true),
        ("container.subnet6", c.subnet6, false),
    ] {
        let Some(n) = net else { continue };
        let bad_size = if v4 {
            n.prefix() > 28
        } else {
            n.prefix() > 120
        };
        if n.is_ipv4() != v4 || bad_size {
            r.add(
                field,
                format!(
                    "{}/{} is not a usable {} subnet",
                    n.addr(),
                    n.prefix(),
                    if v4 { "IPv4" } else { "IPv6" }
                ),
                if v4 {
                    "use a private /24 such as \"10.89.42.0/24\""
                } else {
                    "use a ULA /64 such as \"fd89:42::/64\""
                },
            );
        }
    }
    if c.pids_limit < 64 {
        r.add(
            "container.pids_limit",
            format!("{} tasks is too few for node and its tools", c.pids_limit),
            "use at least 64 (default 512)",
        );
    }
    match c
        .user
        .split_once(':')
        .map(|(u, g)| (u.parse::<u32>(), g.parse::<u32>()))
    {
        Some((Ok(0), _)) => r.add(
            "container.user",
            "the gateway would run as root inside the container",
            "use an unprivileged uid:gid such as \"1000:1000\"",
        ),
        Some((Ok(_), Ok(_))) => {}
        _ => r.add(
            "container.user",
            format!("'{}' is not uid:gid", c.user),
            "write numeric ids, e.g. \"1000:1000\"",
        ),
    }
    for (i, v) in c.volumes.iter().enumerate() {
        let parts: Vec<&str> = v.split(':').collect();
        if parts.len() < 2 || !parts[0].starts_with('/') || !parts[1].starts_with('/') {
            r.add(
                format!("container.volumes[{i}]"),
                format!("'{v}' is not host:container[:options]"),
                "use absolute paths on both sides",
            );
        } else if [
            "/",
            "/etc",
            "/run",
            "/var/run/docker.sock",
            "/run/podman/podman.sock",
        ]
        .contains(&parts[0])
        {
            r.add(
                format!("container.volumes[{i}]"),
                format!("mounting {} hands the host to the agent", parts[0]),
                "mount only the directories the gateway needs",
            );
        }
    }
}

fn paths(spec: &Spec, r: &mut Report) {
    let p = &spec.paths;
    for (f, v) in [
        ("paths.config", &p.config),
        ("paths.state_dir", &p.state_dir),
        ("paths.openclaw_bin", &p.openclaw_bin),
        ("paths.secretcheck_bin", &p.secretcheck_bin),
        ("paths.probe_bin", &p.probe_bin),
        ("paths.bao_bin", &p.bao_bin),
        ("paths.agent_dir", &p.agent_dir),
    ] {
        if !v.starts_with('/') {
            r.add(f, format!("'{v}' is relative"), "use an absolute path");
        }
    }
    // External channel plugins (@openclaw/matrix) are not required here: OpenClaw 2026.9.6
    // grants its durable channel state only to an official install recorded in the state
    // directory (`openclaw plugins install @openclaw/matrix@<version> --pin`); a copy loaded
    // from `paths.plugins_dir` loads but its channel refuses to start.
    if let Some(d) = &p.plugins_dir {
        if !d.starts_with('/') {
            r.add(
                "paths.plugins_dir",
                format!("'{d}' is relative"),
                "use an absolute path",
            );
        }
    }
    if p.service_user == "root" || !is_slug(&p.service_user, &['-', '_']) {
        r.add(
            "paths.service_user",
            format!("'{}' cannot be the gateway's user", p.service_user),
            "use a dedicated unprivileged user such as \"openclaw\"",
        );
    }
    if let Some(f) = &spec.hardening.log_file {
        if !f.starts_with('/') || f.starts_with("/tmp/") {
            r.add(
                "hardening.log_file",
                format!("'{f}' is relative or in the shared /tmp"),
                "log under the state dir, e.g. /var/lib/openclaw/logs/openclaw.log",
            );
        }
    }
}

/// openclaw.json keys the spec owns, with the spec field that sets them. The passthrough is
/// merged last, so any of these in `settings` would silently undo what the spec guarantees
/// (a port the ingress rules do not filter, auth off, a literal token).
pub const SPEC_OWNED: &[(&str, &str)] = &[
    (
        "gateway.mode",
        "gateway (the generator always runs a local gateway)",
    ),
    ("gateway.port", "gateway.port"),
    ("gateway.bind", "gateway.bind"),
    ("gateway.customBindHost", "gateway.custom_bind_host"),
    ("gateway.auth.mode", "gateway.auth"),
    ("gateway.auth.token", "gateway.token"),
    ("gateway.auth.password", "gateway.token"),
    ("gateway.auth.rateLimit", "gateway.rate_limit"),
    ("gateway.trustedProxies", "gateway.trusted_proxies"),
    (
        "gateway.controlUi.allowedOrigins",
        "gateway.allowed_origins",
    ),
    ("gateway.controlUi.enabled", "gateway.control_ui"),
    (
        "gateway.tailscale",
        "gateway.bind = \"tailnet\" (Serve/Funnel exposure is not configurable here)",
    ),
    ("secrets", "secrets.items"),
    ("proxy", "egress.allow_domains (the egress proxy)"),
    (
        "tools.web.fetch.useTrustedEnvProxy",
        "egress.allow_domains (the egress proxy)",
    ),
    ("models.providers", "models"),
    (
        "channels.matrix.accessToken",
        "channels.matrix.access_token",
    ),
    ("channels.telegram.botToken", "channels.telegram.bot_token"),
];

/// Key names that carry credentials in OpenClaw's config: a string there is a literal secret
/// (a SecretRef is an object).
fn is_credential_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    [
        "token",
        "apikey",
        "api_key",
        "password",
        "secret",
        "accesstoken",
        "bottoken",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|w| k.ends_with(w))
}

/// The passthrough may add what the spec does not model, never undo what it does.
fn settings(spec: &Spec, r: &mut Report) {
    fn walk(spec: &Spec, v: &serde_json::Value, path: &str, key: &str, r: &mut Report) {
        let field = format!("settings.{path}");
        if let Some((_, owner)) = SPEC_OWNED.iter().find(|(p, _)| *p == path) {
            r.add(
                &field,
                "sets what the spec owns; the passthrough is merged last and would override it",
                format!("remove it from settings and set {owner} instead"),
            );
            return;
        }
        if key.starts_with("dangerously")
            && !matches!(v, serde_json::Value::Bool(false) | serde_json::Value::Null)
            && !spec.hardening.dangerous_settings.iter().any(|d| d == path)
        {
            r.add(
                &field,
                "turns on one of OpenClaw's dangerously* switches without an explicit opt-in",
                format!("remove it, or list \"{path}\" in hardening.dangerous_settings to accept the risk"),
            );
        }
        match v {
            serde_json::Value::String(s) => {
                if let Some(why) = looks_like_secret(s) {
                    r.add(&field, format!("holds what looks like {why}"), "use a SecretRef to a secret declared in [secrets.items] instead of the value");
                } else if is_credential_key(key) && !s.is_empty() {
                    r.add(&field, "holds a literal credential, which would land in the world-readable openclaw.json", "declare it in [secrets.items] and refer to it with a SecretRef ({ source = \"file\", ... })");
                }
            }
            serde_json::Value::Object(m) => m
                .iter()
                .for_each(|(k, x)| walk(spec, x, &format!("{path}.{k}"), k, r)),
            serde_json::Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, x)| walk(spec, x, &format!("{path}[{i}]"), key, r)),
            _ => {}
        }
    }
    for (k, v) in &spec.settings {
        walk(spec, v, k, k, r);
    }
    for (i, d) in spec.hardening.dangerous_settings.iter().enumerate() {
        let last = d.rsplit('.').next().unwrap_or(d);
        if !last.starts_with("dangerously") {
            r.add(
                format!("hardening.dangerous_settings[{i}]"),
                format!("'{d}' is not a dangerously* key"),
                "list only the dotted settings paths of dangerously* keys you set",
            );
        }
    }
}

/// What passes but deserves a second look: every accepted `dangerously*` opt-in.
pub fn warnings(spec: &Spec) -> Vec<Problem> {
    let mut out = Vec::new();
    if spec.egress.allow_public_web && spec.uses_egress_proxy() {
        out.push(Problem {
            field: "egress.allow_public_web".into(),
            message: "is on next to egress.allow_domains: the gateway can reach every public web \
                      server directly, so the domain list restricts nothing"
                .into(),
            fix: "set allow_public_web = false and list the names the gateway needs".into(),
        });
    }
    if spec.hardening.fs_beyond_workspace {
        out.push(Problem {
            field: "hardening.fs_beyond_workspace".into(),
            message: "is on: read/write/edit reach every file the gateway's user can, other \
                      agents' workspaces, openclaw.json and the rendered secrets included"
                .into(),
            fix: "remove it; give an agent the files it needs inside its workspace".into(),
        });
    }
    if spec.hardening.cross_agent_sessions {
        out.push(Problem {
            field: "hardening.cross_agent_sessions".into(),
            message: "is on: an agent's session tools read and drive every other agent's \
                      sessions, so a prompt-injected agent borrows the most privileged one"
                .into(),
            fix: "remove it unless agents must hand work to each other".into(),
        });
    }
    if spec.hardening.message_other_chats {
        out.push(Problem {
            field: "hardening.message_other_chats".into(),
            message: "is on: the message tool may post to any chat its channels reach, so a \
                      prompt-injected model in an allowlisted DM can message strangers and rooms \
                      off the allowlist"
                .into(),
            fix: "remove it unless an agent must post beyond the conversation it answers".into(),
        });
    }
    out.extend(spec.hardening.dangerous_settings.iter().map(|d| Problem {
        field: format!("settings.{d}"),
        message:
            "a dangerously* switch is on (opted in through hardening.dangerous_settings)".into(),
        fix: "remove it from settings and hardening.dangerous_settings unless you need it".into(),
    }));
    out
}

trait PointerGet {
    fn pointer_get(&self, ptr: &str) -> Option<&serde_json::Value>;
}

impl PointerGet for serde_json::Map<String, serde_json::Value> {
    fn pointer_get(&self, ptr: &str) -> Option<&serde_json::Value> {
        let (first, rest) = ptr
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((ptr.trim_start_matches('/'), ""));
        let v = self.get(first)?;
        if rest.is_empty() {
            Some(v)
        } else {
            v.pointer(&format!("/{rest}"))
        }
    }
}

fn is_matrix_user(s: &str) -> bool {
    s.strip_prefix('@')
        .and_then(|r| r.split_once(':'))
        .is_some_and(|(l, h)| !l.is_empty() && !h.is_empty())
}

/// scheme, host and port of an http(s) URL.
pub struct Url {
    pub https: bool,
    pub host: String,
    pub port: u16,
}

pub fn parse_url(s: &str) -> Option<Url> {
    let (https, rest) = if let Some(r) = s.strip_prefix("https://") {
        (true, r)
    } else {
        (false, s.strip_prefix("http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']')?;
        (h.to_string(), after.strip_prefix(':').map(str::to_string))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (authority.to_string(), None),
        }
    };
    if host.is_empty() || host.contains('@') {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok().filter(|p| *p != 0)?,
        None if https => 443,
        None => 80,
    };
    Some(Url { https, host, port })
}

fn is_loopback_url(s: &str) -> bool {
    parse_url(s).is_some_and(|u| {
        u.host == "localhost" || u.host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let u = parse_url("https://litellm.home.example/v1").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("litellm.home.example", 443));
        let u = parse_url("http://[fd00::5]:8080/v1").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("fd00::5", 8080));
        assert!(parse_url("ftp://x").is_none());
        assert!(parse_url("https://:443").is_none());
    }

    #[test]
    fn cron_fields() {
        assert!(check_cron("0 8 * * 1-5").is_ok());
        assert!(check_cron("*/15 * * * *").is_ok());
        assert!(check_cron("0 19 * * 5").is_ok());
        assert!(check_cron("0 25 * * *").is_err());
        assert!(check_cron("0 8 * *").is_err());
        assert!(check_cron("0 8 * * mon").is_ok());
        assert!(check_cron("5-1 * * * *").is_err());
        assert!(check_cron("0 0 31 2 *").is_err());
        assert!(check_cron("0 0 29 2 *").is_ok());
        assert!(check_cron("5/15 * * * *").is_err());
    }
}
