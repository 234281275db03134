//! Findings, their classes (each with its exit code) and the report printed as text or JSON.

use serde::Serialize;

/// What kind of problem a finding is. The process exits with the code of the most
/// fundamental class found (lowest code first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    /// A file, a required key or a value is absent or empty (exit 3).
    Missing,
    /// The env file or single-value file is not in the accepted syntax (exit 4).
    Syntax,
    /// Unrendered template markers, placeholders, too-short tokens (exit 5).
    Content,
    /// Mode, owner, symlink, hard link, store path, directory permissions (exit 6).
    Permissions,
    /// Older than `--max-age` (exit 7).
    Stale,
}

impl Class {
    pub fn exit_code(self) -> i32 {
        match self {
            Class::Missing => 3,
            Class::Syntax => 4,
            Class::Content => 5,
            Class::Permissions => 6,
            Class::Stale => 7,
        }
    }
}

/// Exit codes besides the classes'.
pub mod exit {
    pub const OK: i32 = 0;
    /// An unexpected I/O error (reading a directory, writing during promote).
    pub const INTERNAL: i32 = 1;
    /// Bad command line or unreadable spec.
    pub const USAGE: i32 = 2;
    /// Promote installed the files but the on-change command (the restart) failed.
    pub const ON_CHANGE_FAILED: i32 = 8;
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub class: Class,
    pub path: String,
    /// Env variable (env files) the finding is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// What is wrong and how to fix it. Never contains a value.
    pub message: String,
}

/// What was found in one value: never the value itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValueSummary {
    /// Env variable name, or `value` for a single-value file.
    pub key: String,
    /// No digest of any kind: even a short hash prefix lets whoever reads the report confirm
    /// a guess of a weak secret offline.
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileSummary {
    pub path: String,
    pub kind: &'static str,
    pub exists: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_seconds: Option<u64>,
    pub values: Vec<ValueSummary>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub files: Vec<FileSummary>,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn add(&mut self, class: Class, path: &str, key: Option<&str>, message: impl Into<String>) {
        self.findings.push(Finding {
            class,
            path: path.to_string(),
            key: key.map(str::to_string),
            message: message.into(),
        });
    }

    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }

    /// The most fundamental class found, if any.
    pub fn worst(&self) -> Option<Class> {
        self.findings.iter().map(|f| f.class).min()
    }

    pub fn exit_code(&self) -> i32 {
        self.worst().map_or(exit::OK, Class::exit_code)
    }

    pub fn has(&self, class: Class) -> bool {
        self.findings.iter().any(|f| f.class == class)
    }

    /// Human-readable: one line per finding, then a summary per file.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for f in &self.findings {
            let key = f
                .key
                .as_deref()
                .map(|k| format!(" {k}"))
                .unwrap_or_default();
            s.push_str(&format!(
                "FAIL [{}] {}{key}: {}\n",
                serde_json::to_value(f.class).unwrap().as_str().unwrap(),
                f.path,
                f.message
            ));
        }
        for file in &self.files {
            let values: Vec<String> = file
                .values
                .iter()
                .map(|v| format!("{} ({} chars)", v.key, v.length))
                .collect();
            s.push_str(&format!(
                "{} {} [{}]{}\n",
                if file.exists { "file" } else { "absent" },
                file.path,
                file.kind,
                if values.is_empty() {
                    String::new()
                } else {
                    format!(": {}", values.join(", "))
                }
            ));
        }
        s.push_str(&match self.worst() {
            None => "ok: every secret file passed\n".to_string(),
            Some(c) => format!(
                "rejected: {} problem(s), exit {}\n",
                self.findings.len(),
                c.exit_code()
            ),
        });
        s
    }
}
