//! The gateway token: read from a file only (argv is visible to every user through
//! /proc), never formatted by `Debug`, redacted from anything the probe prints.

use std::io::Read;
use std::path::Path;

use crate::Error;

/// Largest token file read; a token is a few dozen bytes, anything bigger is a wrong path.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

impl Token {
    /// Reads the token as `openclaw-render` / the OpenBao agent render it: the whole file,
    /// surrounding whitespace (the trailing newline) trimmed.
    pub fn from_file(path: &Path) -> Result<Token, Error> {
        let err = |msg: String| Error::TokenFile {
            path: path.display().to_string(),
            msg,
        };
        let f = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
        let mut buf = Vec::new();
        f.take(MAX_TOKEN_FILE + 1)
            .read_to_end(&mut buf)
            .map_err(|e| err(e.to_string()))?;
        if buf.len() as u64 > MAX_TOKEN_FILE {
            return Err(err("larger than 64 KiB: not a token file".into()));
        }
        let s = String::from_utf8(buf).map_err(|_| err("not UTF-8".into()))?;
        Self::from_secret(s.trim()).map_err(|m| err(m.into()))
    }

    /// A token from memory (tests, the lab). Rejects what could not travel in an HTTP header
    /// (and could smuggle one), without echoing the value.
    pub fn from_secret(s: &str) -> Result<Token, &'static str> {
        if s.is_empty() {
            return Err("empty");
        }
        if !s.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err("contains whitespace, control or non-ASCII characters");
        }
        Ok(Token(s.to_string()))
    }

    /// A token guaranteed to differ from `real` (random, so a wrong-token check never
    /// derives anything from the real one).
    pub fn wrong(real: Option<&Token>) -> Token {
        loop {
            let t = Token(format!("openclaw-probe-wrong-{}", random_hex(16)));
            if Some(&t) != real {
                return t;
            }
        }
    }

    /// The secret itself, for the two places that send it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the token replaced.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.0, "<redacted>")
    }
}

fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    let ok = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .is_ok();
    if !ok {
        // No /dev/urandom (odd sandbox): the std hasher's per-process random keys suffice for
        // a value that only has to differ from the real token.
        use std::hash::{BuildHasher, Hasher};
        for (i, chunk) in b.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn debug_is_redacted() {
        let t = Token::from_secret("hunter2-secret").unwrap();
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(format!("{:?}", Some(&t)), "Some(Token(<redacted>))");
        assert_eq!(t.redact("a hunter2-secret b"), "a <redacted> b");
    }

    #[test]
    fn file_trims_and_validates() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tok");
        std::fs::File::create(&p)
            .unwrap()
            .write_all(b"abc-123_XYZ\n")
            .unwrap();
        assert_eq!(Token::from_file(&p).unwrap().expose(), "abc-123_XYZ");
        std::fs::write(&p, "\n  \n").unwrap();
        let e = Token::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        std::fs::write(&p, "abc\r\nX-Injected: yes").unwrap();
        let e = Token::from_file(&p).unwrap_err().to_string();
        assert!(e.contains("whitespace") && !e.contains("Injected"), "{e}");
        std::fs::write(&p, vec![b'a'; 70 * 1024]).unwrap();
        assert!(Token::from_file(&p).is_err());
        assert!(Token::from_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn wrong_token_differs() {
        let real = Token::from_secret("real").unwrap();
        let a = Token::wrong(Some(&real));
        let b = Token::wrong(Some(&real));
        assert_ne!(a, real);
        assert_ne!(a, b);
        assert!(a.expose().starts_with("openclaw-probe-wrong-"));
    }
}
