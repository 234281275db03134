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
                .map(|r| format!("\t\tca_root {}\n", token(r)))
                .unwrap_or_default();
            format!("\ttls {{\n\t\tca {}\n{root}\t}}\n", token(ca))
        }
        ProxyTls::Internal => "\ttls internal\n".into(),
        ProxyTls::Files { cert, key } => format!("\ttls {} {}\n", token(cert), token(key)),
    };
    let auth = p
        .forward_auth
        .as_ref()
        .map(|f| {
            format!(
                "\t# Nobody reaches the gateway without the identity provider's approval.\n\tforward_auth {} {{\n\t\turi {}\n\t\tcopy_headers {}\n\t}}\n",
                token(&f.upstream),
                token(&f.uri),
                f.copy_headers
                    .iter()
                    .map(|h| token(h))
                    .collect::<Vec<_>>()
                    .join(" ")
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
        site = token(&p.site),
        upstream = token(&p.upstream),
    );
    vec![Artifact::public(
        "caddy/Caddyfile",
        text,
        "Caddy site block: TLS, forward_auth, reverse proxy to the gateway",
    )]
}

/// One Caddyfile token. Values are validated to plain words (spec/text.rs); anything else is
/// quoted with `\\` and `"` escaped, so it can never open a block, end a line or start a
/// comment.
fn token(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with('#')
        && s.chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"\"'`{}\\".contains(c));
    if plain {
        return s.to_string();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            // Caddy has no escape for these; validation refuses them before this point.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::token;

    #[test]
    fn tokens_cannot_open_blocks_or_lines() {
        assert_eq!(token("10.0.3.20:18789"), "10.0.3.20:18789");
        assert_eq!(token("a {\n}"), "\"a {}\"");
        assert_eq!(token("a\"b"), "\"a\\\"b\"");
        assert_eq!(token("#x"), "\"#x\"");
    }
}
