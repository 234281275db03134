//! Errors of the generator library. Every semantic problem names the spec field and the fix.

use std::fmt;

use thiserror::Error;

#[derive(Debug, Error)]
pub enum LoadError {
    #[error("cannot read spec {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("spec is not valid {format}: {message}")]
    Parse {
        format: &'static str,
        message: String,
    },
}

/// One problem with a spec: which field, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: String,
    pub message: String,
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (fix: {})",
            printable(&self.field, MAX_SHOWN),
            printable(&self.message, MAX_SHOWN),
            printable(&self.fix, MAX_SHOWN)
        )
    }
}

/// Most characters of one user-supplied text an error shows.
pub const MAX_SHOWN: usize = 300;

/// `s` safe for a terminal and a log line: control characters (newlines, escapes, bidi
/// overrides) shown as escapes, and text beyond `max` characters cut with a count, so an error
/// never replays a terminal sequence or a megabyte value.
pub fn printable(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            let rest = s.chars().count() - i;
            out.push_str(&format!("... ({rest} more characters)"));
            break;
        }
        if crate::spec::text::is_control(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// [`printable`] for multi-line reports: each line on its own, line breaks kept.
pub fn printable_lines(s: &str, max_per_line: usize) -> String {
    s.split('\n')
        .map(|l| printable(l, max_per_line))
        .collect::<Vec<_>>()
        .join("\n")
}

/// All problems found in a spec (validation reports every one, not just the first).
#[derive(Debug, Clone, Error)]
pub struct Invalid(pub Vec<Problem>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "the spec has {} problem(s):", self.0.len())?;
        for p in &self.0 {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Error)]
pub enum RenderError {
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("generated openclaw.json is rejected by OpenClaw's schema:\n{0}")]
    Schema(String),
    #[error("artifact path {0:?} would leave the output directory or cannot be created (a spec field the validation missed: please report it)")]
    UnsafeArtifactPath(String),
    #[error("cannot write artifacts to {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
