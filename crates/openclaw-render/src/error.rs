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
        write!(f, "{}: {} (fix: {})", self.field, self.message, self.fix)
    }
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
    #[error("cannot write artifacts to {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
