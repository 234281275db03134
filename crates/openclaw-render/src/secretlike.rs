//! Recognises strings that look like secret values, so a token pasted where a reference
//! belongs is refused, and the leak test can scan artifacts for anything secret-shaped.

/// Why a string looks like a secret, or None.
pub fn looks_like_secret(s: &str) -> Option<&'static str> {
    const PREFIXES: &[(&str, &str)] = &[
        ("sk-", "an OpenAI/LiteLLM-style API key (sk-...)"),
        ("syt_", "a Synapse access token (syt_...)"),
        ("hvs.", "an OpenBao/Vault token (hvs....)"),
        ("s.", "a Vault service token (s....)"),
        ("ghp_", "a GitHub token (ghp_...)"),
        ("xoxb-", "a Slack bot token (xoxb-...)"),
        ("-----BEGIN", "a PEM private key or certificate"),
    ];
    let t = s.trim();
    for (p, what) in PREFIXES {
        if t.starts_with(p) && t.len() >= p.len() + 12 {
            return Some(what);
        }
    }
    if is_telegram_token(t) {
        return Some("a Telegram bot token (digits:secret)");
    }
    if t.len() >= 24 && !t.contains(char::is_whitespace) && !t.contains('/') && looks_random(t) {
        return Some("a long random string (token or key)");
    }
    None
}

fn is_telegram_token(t: &str) -> bool {
    match t.split_once(':') {
        Some((id, secret)) => {
            (6..=12).contains(&id.len())
                && id.bytes().all(|b| b.is_ascii_digit())
                && secret.len() >= 30
                && secret
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        }
        None => false,
    }
}

/// Mixed letters and digits with enough distinct characters: hex/base64-ish blobs, not words.
fn looks_random(t: &str) -> bool {
    let allowed = t
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'+' | b'=' | b'~'));
    if !allowed {
        return false;
    }
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    let letters = t.bytes().filter(u8::is_ascii_alphabetic).count();
    let mut distinct: Vec<u8> = t.bytes().collect();
    distinct.sort_unstable();
    distinct.dedup();
    digits >= 4 && letters >= 4 && distinct.len() >= 12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_common_token_shapes() {
        assert!(looks_like_secret("sk-1234567890abcdefghij").is_some());
        assert!(looks_like_secret("syt_b3BlbmNsYXc_abcdefghijklmnop_1a2b3c").is_some());
        assert!(looks_like_secret("123456789:AAHk9aQ-abcdefghijklmnopqrstuvwxyz0").is_some());
        assert!(looks_like_secret(
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        )
        .is_some());
    }

    #[test]
    fn leaves_names_and_urls_alone() {
        for s in [
            "gateway_token",
            "litellm_api_key",
            "https://litellm.home.example/v1",
            "@you:home.example",
            "OPENCLAW_GATEWAY_TOKEN",
            "claude-opus-4-6",
        ] {
            assert!(looks_like_secret(s).is_none(), "{s}");
        }
    }
}
