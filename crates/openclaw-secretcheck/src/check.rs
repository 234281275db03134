//! Checks a set of targets and builds the report.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use crate::content;
use crate::envfile;
use crate::fsrules::{self, Rules};
use crate::report::{Class, FileSummary, Report, ValueSummary};
use crate::target::{Target, TargetKind};

/// Files larger than this are not secrets (OpenClaw's own file provider limit is similar).
const MAX_BYTES: u64 = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Options {
    pub rules: Rules,
}

/// Checks every target and returns the full report. `contents` receives each file's bytes
/// when it was read (promote installs exactly what was checked).
pub fn check(targets: &[Target], opts: &Options) -> Report {
    check_with_contents(targets, opts).0
}

pub fn check_with_contents(targets: &[Target], opts: &Options) -> (Report, Vec<Option<Vec<u8>>>) {
    let mut report = Report::default();
    let mut contents = Vec::new();
    for t in targets {
        contents.push(check_one(t, opts, &mut report));
    }
    (report, contents)
}

fn check_one(t: &Target, opts: &Options, report: &mut Report) -> Option<Vec<u8>> {
    let path = t.path.as_str();
    let mut summary = FileSummary {
        path: path.to_string(),
        kind: t.kind_name(),
        exists: false,
        mode: None,
        uid: None,
        age_seconds: None,
        values: Vec::new(),
    };
    let md = match std::fs::symlink_metadata(path) {
        Ok(md) => md,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            report.add(
                Class::Missing,
                path,
                None,
                "does not exist (has the secret agent rendered it?)",
            );
            report.files.push(summary);
            return None;
        }
        Err(e) => {
            report.add(
                Class::Missing,
                path,
                None,
                format!("cannot be examined: {e}"),
            );
            report.files.push(summary);
            return None;
        }
    };
    summary.exists = true;
    summary.mode = Some(format!("{:04o}", md.mode() & 0o7777));
    summary.uid = Some(md.uid());
    summary.age_seconds = fsrules::age(&md);
    for p in fsrules::file_problems(&md, &opts.rules) {
        report.add(Class::Permissions, path, None, p);
    }
    for p in fsrules::location_problems(Path::new(path), &opts.rules) {
        report.add(Class::Permissions, path, None, p);
    }
    if let (Some(max), Some(age)) = (opts.rules.max_age, summary.age_seconds) {
        if age > max.as_secs() {
            report.add(
                Class::Stale,
                path,
                None,
                format!(
                    "last changed {age}s ago, more than the allowed {}s",
                    max.as_secs()
                ),
            );
        }
    }
    if !md.file_type().is_file() {
        report.files.push(summary);
        return None;
    }
    if md.len() > MAX_BYTES {
        report.add(
            Class::Syntax,
            path,
            None,
            format!(
                "is {} bytes; a secret file is at most {MAX_BYTES}",
                md.len()
            ),
        );
        report.files.push(summary);
        return None;
    }
    let bytes = match read_nofollow(path) {
        Ok(b) => b,
        Err(e) => {
            report.add(Class::Missing, path, None, format!("cannot be read: {e}"));
            report.files.push(summary);
            return None;
        }
    };
    match &t.kind {
        TargetKind::Single { min_length } => {
            if let Some(v) = single_value(path, &bytes, report) {
                summary.values.push(summarise("value", &v));
                value_rules(path, None, &v, *min_length, report);
            }
        }
        TargetKind::Env { required } => match envfile::parse(&bytes) {
            Err(errors) => {
                for e in errors {
                    report.add(
                        Class::Syntax,
                        path,
                        e.key.as_deref(),
                        format!("line {}: {}", e.line, e.message),
                    );
                }
            }
            Ok(entries) => {
                for (k, v) in &entries {
                    summary.values.push(summarise(k, v));
                }
                for (var, min) in required {
                    match entries.iter().find(|(k, _)| k == var) {
                        None => report.add(
                            Class::Missing,
                            path,
                            Some(var),
                            "is not set in the env file",
                        ),
                        Some((_, v)) => value_rules(path, Some(var), v, *min, report),
                    }
                }
                for (k, v) in &entries {
                    if !required.iter().any(|(r, _)| r == k) {
                        // Not required, but still a value the gateway receives.
                        value_rules(path, Some(k), v, 1, report);
                    }
                }
            }
        },
    }
    report.files.push(summary);
    Some(bytes)
}

/// A single-value file as OpenClaw reads it: one trailing newline is stripped; anything
/// that would make other readers see a different value is a syntax error.
fn single_value(path: &str, bytes: &[u8], report: &mut Report) -> Option<String> {
    let body = bytes
        .strip_suffix(b"\r\n")
        .or_else(|| bytes.strip_suffix(b"\n"))
        .unwrap_or(bytes);
    if body.starts_with(&[0xef, 0xbb, 0xbf]) {
        report.add(
            Class::Syntax,
            path,
            None,
            "starts with a byte-order mark; write plain text",
        );
        return None;
    }
    let Ok(text) = std::str::from_utf8(body) else {
        report.add(Class::Syntax, path, None, "is not UTF-8 text");
        return None;
    };
    if text.contains(['\n', '\r']) {
        report.add(
            Class::Syntax,
            path,
            None,
            "has more than one line; a single-value file holds one value",
        );
        return None;
    }
    if text.trim() != text {
        report.add(
            Class::Syntax,
            path,
            None,
            "has leading or trailing whitespace, which would become part of the secret",
        );
        return None;
    }
    if text.chars().any(char::is_control) {
        report.add(Class::Syntax, path, None, "contains control characters");
        return None;
    }
    Some(text.to_string())
}

fn value_rules(path: &str, key: Option<&str>, v: &str, min_length: usize, report: &mut Report) {
    if v.is_empty() {
        report.add(Class::Missing, path, key, "is empty");
        return;
    }
    for p in content::problems(v, min_length) {
        report.add(Class::Content, path, key, format!("value {p}"));
    }
}

fn summarise(key: &str, v: &str) -> ValueSummary {
    ValueSummary {
        key: key.to_string(),
        length: v.chars().count(),
    }
}

fn read_nofollow(path: &str) -> std::io::Result<Vec<u8>> {
    let f = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    let mut bytes = Vec::new();
    f.take(MAX_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_BYTES} bytes"
        )));
    }
    Ok(bytes)
}
