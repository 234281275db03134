//! The gateway image's two builders follow one layout (`lib/gateway-image-layout.json`): the
//! lab's offline archive (scripts/build-gateway-image.sh, checked here on the built bytes) and
//! Nix's dockerTools expression (lib/gateway-image.nix, evaluated here with a stand-in package
//! set: nothing is built, what it would hand dockerTools is compared).
//! Needs the installed components (scripts/install-components.sh builds the archive).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn layout() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(repo().join("lib/gateway-image-layout.json")).unwrap(),
    )
    .unwrap()
}

fn openclaw_version() -> String {
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("scripts/npm/openclaw/package-lock.json")).unwrap(),
    )
    .unwrap();
    lock["packages"]["node_modules/openclaw"]["version"]
        .as_str()
        .unwrap()
        .to_string()
}

fn archive() -> PathBuf {
    openclaw_lab::components::gateway_image()
        .expect("the gateway image archive (scripts/install-components.sh builds it)")
}

fn tar_read(archive: &Path, member: &str) -> Vec<u8> {
    let out = Command::new("tar")
        .arg("-xOf")
        .arg(archive)
        .arg(member)
        .output()
        .unwrap();
    assert!(out.status.success(), "tar {member}: {out:?}");
    out.stdout
}

fn env_map(env: &Value) -> BTreeMap<String, String> {
    env.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let (k, v) = e.as_str().unwrap().split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

fn expected_labels(l: &Value) -> Value {
    let mut labels = l["labels"].clone();
    labels["org.opencontainers.image.version"] = json!(openclaw_version());
    labels
}

/// An image config (OCI `config` or dockerTools' `config` argument) against the layout.
fn assert_config_follows_layout(c: &Value, l: &Value) {
    assert_eq!(c["Entrypoint"], l["entrypoint"]);
    assert_eq!(c["User"], l["user"]);
    assert_eq!(c["WorkingDir"], l["workdir"]);
    let want_env: BTreeMap<String, String> = serde_json::from_value(l["env"].clone()).unwrap();
    assert_eq!(env_map(&c["Env"]), want_env);
    assert_eq!(c["Labels"], expected_labels(l));
}

#[test]
fn the_built_archive_has_the_layouts_config_and_files() {
    let l = layout();
    let a = archive();
    let manifest: Value = serde_json::from_slice(&tar_read(&a, "manifest.json")).unwrap();
    let config_name = manifest[0]["Config"].as_str().unwrap();
    let config: Value = serde_json::from_slice(&tar_read(&a, config_name)).unwrap();
    let c = &config["config"];
    assert_config_follows_layout(c, &l);
    // Every path the layout names is in the layer, /tmp is sticky and world-writable, and the
    // entry point resolves to OpenClaw's CLI.
    let layers: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let mut listing = String::new();
    for layer in &layers {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!("tar -xOf '{}' '{layer}' | tar -tvf -", a.display()))
            .output()
            .unwrap();
        listing.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    for f in l["files"].as_array().unwrap() {
        let f = f.as_str().unwrap().trim_start_matches('/');
        assert!(
            listing.lines().any(|line| {
                let name = line.split_whitespace().nth(5).unwrap_or("");
                name.trim_start_matches("./").trim_end_matches('/') == f
            }),
            "the layout's /{f} is not in the image"
        );
    }
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("drwxrwxrwt") && l.contains("./tmp")),
        "/tmp is not 1777"
    );
    assert!(
        listing.contains("./bin/openclaw -> ../lib/openclaw/node_modules/openclaw/openclaw.mjs")
    );
    let passwd = String::from_utf8(tar_read_layer(&a, &layers, "./etc/passwd")).unwrap();
    assert_eq!(passwd, l["passwd"].as_str().unwrap());
    let (uid, gid) = l["user"].as_str().unwrap().split_once(':').unwrap();
    assert!(
        passwd
            .lines()
            .any(|p| p.split(':').nth(2) == Some(uid) && p.split(':').nth(3) == Some(gid)),
        "no passwd entry for the image's user {uid}:{gid}"
    );
}

fn tar_read_layer(a: &Path, layers: &[String], member: &str) -> Vec<u8> {
    for layer in layers {
        let out = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "tar -xOf '{}' '{layer}' | tar -xOf - '{member}'",
                a.display()
            ))
            .output()
            .unwrap();
        if out.status.success() && !out.stdout.is_empty() {
            return out.stdout;
        }
    }
    panic!("{member} in no layer");
}

/// lib/gateway-image.nix evaluated with a stand-in `pkgs` whose dockerTools returns its
/// arguments: the config Nix would build is the layout's, and the passwd/group it writes are.
#[test]
fn the_nix_expression_follows_the_layout() {
    let expr = format!(
        r#"
let
  pkgs = {{
    dockerTools.buildLayeredImage = args: args;
    lib.escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] s + "'";
    cacert = "CACERT"; tzdata = "TZDATA"; nodejs_24 = "NODE";
  }};
  gateway = {{ version = "{v}"; node = "NODE24"; outPath = "GATEWAY"; }};
  img = import {path} {{ inherit pkgs gateway; }};
in {{ inherit (img) name tag config extraCommands; contents = map toString img.contents; }}
"#,
        v = openclaw_version(),
        path = repo().join("lib/gateway-image.nix").display()
    );
    let out = Command::new("nix-instantiate")
        .args(["--eval", "--strict", "--json", "-E", &expr])
        .env("NIX_CONFIG", "build-users-group =")
        .output()
        .expect("nix-instantiate (Debian nix-bin, scripts/install-components.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let l = layout();
    assert_eq!(v["name"], l["name"]);
    assert_eq!(v["tag"], json!(openclaw_version()));
    let c = &v["config"];
    assert_config_follows_layout(c, &l);
    assert_eq!(
        v["contents"],
        json!(["NODE24", "GATEWAY", "CACERT", "TZDATA"])
    );
    // Run the extraCommands in a scratch root: they write the layout's passwd and group.
    let root = tempfile::tempdir().unwrap();
    let st = Command::new("sh")
        .arg("-ec")
        .arg(v["extraCommands"].as_str().unwrap())
        .current_dir(root.path())
        .status()
        .unwrap();
    assert!(st.success());
    for f in ["passwd", "group"] {
        assert_eq!(
            std::fs::read_to_string(root.path().join("etc").join(f)).unwrap(),
            l[f].as_str().unwrap(),
            "/etc/{f}"
        );
    }
}

/// The renderer's reload runs the CLI where the layout puts it.
#[test]
fn the_renderer_execs_the_cli_where_the_image_has_it() {
    let l = layout();
    assert_eq!(
        l["entrypoint"][0].as_str().unwrap(),
        openclaw_render::render::bao_agent::CONTAINER_OPENCLAW_BIN
    );
}
