//! Proof that the env-file subset secretcheck accepts is read identically by both consumers:
//! - systemd: its real env-file parser, run through `systemd-environment-d-generator`
//!   (systemd is not PID 1 here, so `EnvironmentFile=` itself cannot run). The generator
//!   reads environment.d files with the same parser `EnvironmentFile=` uses; it differs only
//!   in expanding `$VAR`, which the accepted subset excludes.
//! - Podman 4.3.1: `podman run --env-file` in a container made from busybox-static, printing
//!   its environment (isolated storage under a temp dir, no network, no image pull).
//!
//! Also shown: for each kind of line secretcheck rejects, the two readers disagree.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use openclaw_secretcheck::envfile;
use support::*;

const GENERATOR: &str =
    "/usr/lib/systemd/user-environment-generators/30-systemd-environment-d-generator";
const PREFIX: &str = "SCX_";

/// systemd's view: variables with our prefix, unquoting the generator's shell-style output.
fn systemd_reads(file: &[u8]) -> BTreeMap<String, String> {
    assert!(
        Path::new(GENERATOR).is_file(),
        "{GENERATOR} missing: run scripts/install-components.sh"
    );
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir(d.path().join("environment.d")).unwrap();
    std::fs::write(d.path().join("environment.d/50-test.conf"), file).unwrap();
    let out = Command::new(GENERATOR)
        .env_clear()
        .env("XDG_CONFIG_HOME", d.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    parse_env_output(&String::from_utf8(out.stdout).unwrap(), true)
}

fn parse_env_output(text: &str, unquote: bool) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| l.starts_with(PREFIX))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = if unquote && v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                let mut out = String::new();
                let mut chars = v[1..v.len() - 1].chars();
                while let Some(c) = chars.next() {
                    out.push(if c == '\\' {
                        chars.next().unwrap_or('\\')
                    } else {
                        c
                    });
                }
                out
            } else {
                v.to_string()
            };
            (k.to_string(), v)
        })
        .collect()
}

struct Podman {
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Podman {
    fn new() -> Podman {
        let bin = component("PODMAN_BIN", "podman/bin/podman", "podman");
        let busybox = ["/bin/busybox", "/usr/bin/busybox"]
            .into_iter()
            .find(|p| Path::new(p).is_file())
            .expect("busybox-static missing: run scripts/install-components.sh");
        let dir = tempfile::Builder::new()
            .prefix("sc-podman-")
            .tempdir()
            .unwrap();
        let rootfs = dir.path().join("rootfs/bin");
        std::fs::create_dir_all(&rootfs).unwrap();
        std::fs::copy(busybox, rootfs.join("busybox")).unwrap();
        std::os::unix::fs::symlink("busybox", rootfs.join("env")).unwrap();
        std::fs::write(
            dir.path().join("containers.conf"),
            "[containers]\ndefault_ulimits = []\n[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n",
        ).unwrap();
        let tar = dir.path().join("rootfs.tar");
        assert!(Command::new("tar")
            .arg("-C")
            .arg(dir.path().join("rootfs"))
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .unwrap()
            .success());
        let p = Podman { dir, bin };
        let out = p
            .cmd()
            .arg("import")
            .arg("-q")
            .arg(&tar)
            .arg("localhost/sc-envtest:1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "podman import: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        p
    }

    fn cmd(&self) -> Command {
        let d = self.dir.path();
        let mut c = Command::new(&self.bin);
        c.env("CONTAINERS_CONF", d.join("containers.conf"))
            .arg("--root")
            .arg(d.join("root"))
            .arg("--runroot")
            .arg(d.join("runroot"))
            .arg("--storage-driver")
            .arg("vfs")
            .arg("--tmpdir")
            .arg(d.join("tmp"));
        c
    }

    fn reads(&self, file: &[u8]) -> BTreeMap<String, String> {
        let f = self.dir.path().join("test.env");
        std::fs::write(&f, file).unwrap();
        let out = self
            .cmd()
            .args(["run", "--rm", "--network", "none", "--env-file"])
            .arg(&f)
            .args(["localhost/sc-envtest:1", "/bin/env"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "podman run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        parse_env_output(&String::from_utf8(out.stdout).unwrap(), false)
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // vfs layers are plain directories; make sure nothing stays mounted.
        let _ = self.cmd().args(["rm", "-af"]).output();
        let _ = self.cmd().args(["system", "reset", "-f"]).output();
    }
}

/// Accepted files: every allowed character in values, comments, blank lines, no final newline.
fn accepted_corpus() -> Vec<Vec<u8>> {
    let allowed: Vec<char> = (0x21u8..=0x7e)
        .map(char::from)
        .filter(|c| !"\"'\\$".contains(*c))
        .collect();
    let mut big = String::from("# rendered by the OpenBao agent\n\n");
    for i in 0..60usize {
        let v: String = (0..(8 + i % 40))
            .map(|j| allowed[(i * 31 + j * 17) % allowed.len()])
            .collect();
        big.push_str(&format!("{PREFIX}V{i}={v}\n"));
    }
    big.push_str(&format!(
        "{PREFIX}ALL={}\n",
        allowed.iter().collect::<String>()
    ));
    vec![
        big.into_bytes(),
        format!("{PREFIX}A=x#y;z=w\n#c\n{PREFIX}lower_ok=1\n{PREFIX}B=last-line-without-newline")
            .into_bytes(),
        format!(
            "{PREFIX}TOKEN={}\n{PREFIX}URL=https://h.example/v1?a=b&c=%20\n",
            token(5, 48)
        )
        .into_bytes(),
    ]
}

#[test]
fn accepted_env_files_read_the_same_in_systemd_and_podman() {
    let podman = Podman::new();
    for file in accepted_corpus() {
        let ours: BTreeMap<String, String> = envfile::parse(&file)
            .expect("corpus is accepted")
            .into_iter()
            .collect();
        assert!(!ours.is_empty());
        let systemd = systemd_reads(&file);
        let pod = podman.reads(&file);
        assert_eq!(
            systemd,
            ours,
            "systemd reads differently:\n{}",
            String::from_utf8_lossy(&file)
        );
        assert_eq!(
            pod,
            ours,
            "podman reads differently:\n{}",
            String::from_utf8_lossy(&file)
        );
    }
}

#[test]
fn rejected_lines_are_ones_the_readers_disagree_on() {
    let podman = Podman::new();
    for line in [
        format!("{PREFIX}Q=\"quoted value\"\n"),
        format!("{PREFIX}S='single'\n"),
        format!("{PREFIX}SP = spaced\n"),
        format!("{PREFIX}T=trailing \n"),
        format!("{PREFIX}B=back\\slash\n"),
        format!("{PREFIX}C=continued\\\nline\n"),
    ] {
        assert!(
            envfile::parse(line.as_bytes()).is_err(),
            "accepted {line:?}"
        );
        let systemd = systemd_reads(line.as_bytes());
        let pod = podman.reads(line.as_bytes());
        assert_ne!(
            systemd, pod,
            "both read {line:?} the same; the rule may be too strict"
        );
    }
    // `export`: neither reader sets the variable (systemd ignores the line).
    let line = format!("export {PREFIX}E=exported\n");
    assert!(envfile::parse(line.as_bytes()).is_err());
    assert!(systemd_reads(line.as_bytes()).is_empty());
    assert!(podman.reads(line.as_bytes()).is_empty());
}
