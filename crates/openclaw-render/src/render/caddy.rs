//! A Caddy site block for the reverse proxy in front of the gateway: TLS, forward auth to the
//! identity provider, security headers, WebSockets passed through by reverse_proxy. Only a
//! site block (no global options), so it can be imported into an existing Caddyfile.

use super::Artifact;
use crate::spec::{ProxyTls, Spec};

pub fn render(spec: &Spec) -> Vec<Artifact> {
    let Some(p) = &spec.proxy else {
        return Vec::new();
    };
    let tls = match &p.tls {
        ProxyTls::Auto { acme_ca: None, .. } => String::new(),
        ProxyTls::Auto {
            acme_ca: Some(ca),
            acme_ca_root,
        } => {
            let root = acme_ca_root
                .as_ref()
                .map(|r| format!("\t\tca_root {r}\n"))
                .unwrap_or_default();
            format!("\ttls {{\n\t\tca {ca}\n{root}\t}}\n")
        }
        ProxyTls::Internal => "\ttls internal\n".into(),
        ProxyTls::Files { cert, key } => format!("\ttls {cert} {key}\n"),
    };
    let auth = p
        .forward_auth
        .as_ref()
        .map(|f| {
            format!(
                "\t# Nobody reaches the gateway without the identity provider's approval.\n\tforward_auth {} {{\n\t\turi {}\n\t\tcopy_headers {}\n\t}}\n",
                f.upstream,
                f.uri,
                f.copy_headers.join(" ")
            )
        })
        .unwrap_or_default();
    let text = format!(
        "# Rendered by openclaw-render for deployment '{name}'.\n\
{site} {{\n\
{tls}\
\theader {{\n\
\t\tStrict-Transport-Security \"max-age=31536000; includeSubDomains\"\n\
\t\tX-Content-Type-Options nosniff\n\
\t\tX-Frame-Options DENY\n\
\t\tReferrer-Policy no-referrer\n\
\t\t-Server\n\
\t}}\n\
{auth}\
\treverse_proxy {upstream}\n\
}}\n",
        name = spec.name,
        site = p.site,
        upstream = p.upstream,
    );
    vec![Artifact::public(
        "caddy/Caddyfile",
        text,
        "Caddy site block: TLS, forward_auth, reverse proxy to the gateway",
    )]
}
