//! What to check: files and their required values, from the deployment spec or from explicit
//! `--file PATH[:MIN]`, `--env-file PATH`, `--env VAR[:MIN]` arguments.

use openclaw_render::spec::{SecretFileKind, Spec};

/// Used when an argument gives no minimum length (the spec's default).
pub const DEFAULT_MIN_LENGTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetKind {
    /// A single-value file as OpenClaw's `singleValue` file provider reads it.
    Single { min_length: usize },
    /// An env file and the variables it must set (name, min length).
    Env { required: Vec<(String, usize)> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub path: String,
    pub kind: TargetKind,
}

impl Target {
    pub fn file_name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }

    pub fn kind_name(&self) -> &'static str {
        match self.kind {
            TargetKind::Single { .. } => "single",
            TargetKind::Env { .. } => "env",
        }
    }
}

pub fn from_spec(spec: &Spec) -> Vec<Target> {
    spec.rendered_secret_files()
        .into_iter()
        .map(|f| Target {
            path: f.path.clone(),
            kind: match f.kind {
                SecretFileKind::Single => TargetKind::Single {
                    min_length: f.values[0].min_length,
                },
                SecretFileKind::Env => TargetKind::Env {
                    required: f
                        .values
                        .iter()
                        .map(|v| {
                            (
                                v.env_var.clone().unwrap_or_else(|| v.secret.clone()),
                                v.min_length,
                            )
                        })
                        .collect(),
                },
            },
        })
        .collect()
}

/// `PATH:MIN` or `PATH` (the suffix counts only when it is all digits).
pub fn split_min(arg: &str) -> Result<(String, usize), String> {
    match arg.rsplit_once(':') {
        Some((p, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            let n = n
                .parse()
                .map_err(|_| format!("'{arg}': minimum length too large"))?;
            Ok((p.to_string(), n))
        }
        _ => Ok((arg.to_string(), DEFAULT_MIN_LENGTH)),
    }
}

/// Builds targets from explicit arguments.
pub fn from_args(
    files: &[String],
    env_file: Option<&str>,
    env: &[String],
) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for f in files {
        let (path, min_length) = split_min(f)?;
        out.push(Target {
            path,
            kind: TargetKind::Single { min_length },
        });
    }
    match (env_file, env.is_empty()) {
        (Some(path), _) => out.push(Target {
            path: path.to_string(),
            kind: TargetKind::Env {
                required: env.iter().map(|e| split_min(e)).collect::<Result<_, _>>()?,
            },
        }),
        (None, false) => return Err("--env needs --env-file naming the env file".into()),
        (None, true) => {}
    }
    for t in &out {
        if !t.path.starts_with('/') {
            return Err(format!("'{}' is not an absolute path", t.path));
        }
    }
    Ok(out)
}
