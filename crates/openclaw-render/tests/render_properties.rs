//! Properties of the generator as a whole: no input makes it panic, output is deterministic,
//! a failed render never replaces a good one, and no artifact but a secret template carries
//! anything secret-shaped.

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use openclaw_render::secretlike::looks_like_secret;
use openclaw_render::{output, render_all, Spec};
use proptest::prelude::*;

fn all_example_specs() -> Vec<Spec> {
    support::examples()
        .iter()
        .map(|p| Spec::from_path(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary text through the TOML and JSON parsers: an error, never a panic.
    #[test]
    fn parser_never_panics_on_arbitrary_text(text in "\\PC{0,400}") {
        let _ = Spec::from_toml(&text);
        let _ = Spec::from_json(&text);
    }

    /// Valid examples with one line replaced by garbage: parse, validate and render never panic.
    #[test]
    fn mutated_examples_never_panic(example in 0usize..5, line in 0usize..140, junk in "[ -~]{0,40}") {
        let paths = support::examples();
        let text = std::fs::read_to_string(&paths[example % paths.len()]).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        let idx = line % lines.len();
        lines[idx] = &junk;
        if let Ok(spec) = Spec::from_toml(&lines.join("\n")) {
            let _ = render_all(&spec);
        }
    }
}

#[test]
fn rendering_is_deterministic() {
    for spec in all_example_specs() {
        let a = render_all(&spec).unwrap();
        let b = render_all(&spec).unwrap();
        assert_eq!(a, b, "{}: two renders differ", spec.name);
    }
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                m.insert(
                    p.strip_prefix(dir).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                );
            }
        }
    }
    m
}

#[test]
fn a_failed_render_leaves_the_previous_output_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let bin = env!("CARGO_BIN_EXE_openclaw-render");
    let good = support::example("lxc-homelab.toml");
    let st = std::process::Command::new(bin)
        .arg("render")
        .arg(&good)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    let before = snapshot(&out);
    assert!(before.contains_key("openclaw.json") && before.contains_key("manifest.json"));

    let bad = tmp.path().join("bad.toml");
    let text = std::fs::read_to_string(&good)
        .unwrap()
        .replace("memory_max = \"2560M\"", "memory_max = \"512M\"");
    std::fs::write(&bad, text).unwrap();
    let res = std::process::Command::new(bin)
        .arg("render")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!res.status.success(), "a bad spec must fail");
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(
        stderr.contains("container.memory_max"),
        "error names the field: {stderr}"
    );
    assert_eq!(
        before,
        snapshot(&out),
        "the previous render must be untouched"
    );
    // No staging directories are left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "only out/ and bad.toml remain: {leftovers:?}"
    );
}

#[test]
fn a_good_render_replaces_the_previous_output_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("stale")).unwrap();
    std::fs::write(out.join("stale/leftover.conf"), "old").unwrap();
    let spec = Spec::from_path(&support::example("hardened-vps.toml")).unwrap();
    output::write_atomically(&out, &render_all(&spec).unwrap()).unwrap();
    let snap = snapshot(&out);
    assert!(
        !snap.contains_key("stale/leftover.conf"),
        "files of the old render do not linger"
    );
    let manifest: serde_json::Value = serde_json::from_slice(&snap["manifest.json"]).unwrap();
    let listed = manifest["artifacts"].as_array().unwrap().len();
    assert_eq!(
        listed + 1,
        snap.len(),
        "the manifest lists every other file"
    );
}

#[test]
fn manifest_hashes_match_the_files() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().unwrap();
    let spec = Spec::from_path(&support::example("lxc-homelab.toml")).unwrap();
    output::write_atomically(tmp.path().join("o").as_path(), &render_all(&spec).unwrap()).unwrap();
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("o/manifest.json")).unwrap())
            .unwrap();
    for a in m["artifacts"].as_array().unwrap() {
        let bytes = std::fs::read(tmp.path().join("o").join(a["path"].as_str().unwrap())).unwrap();
        assert_eq!(
            a["sha256"].as_str().unwrap(),
            hex::encode(Sha256::digest(&bytes)),
            "{}",
            a["path"]
        );
    }
}

fn strip_digests(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find("sha256") {
            Some(i) => &line[..i],
            None => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// Secret templates are the only artifacts allowed to mention secrets at all (as template
/// markers, never values); everything else must be free of anything secret-shaped.
#[test]
fn no_artifact_contains_a_secret_shaped_value() {
    for spec in all_example_specs() {
        for a in render_all(&spec).unwrap() {
            if a.path.ends_with(".ctmpl") {
                continue;
            }
            // Content digests (image pins, manifest hashes) are public by design.
            let text = strip_digests(&a.content);
            for word in text.split(|c: char| c.is_whitespace() || "\"'=,;{}[]()<>".contains(c)) {
                if let Some(why) = looks_like_secret(word) {
                    panic!("{} of {}: '{word}' looks like {why}", a.path, spec.name);
                }
            }
            assert!(
                !a.content.contains("{{"),
                "{}: template markers outside a template",
                a.path
            );
        }
    }
}

#[test]
fn artifacts_are_never_world_writable_and_secrets_never_world_readable() {
    for spec in all_example_specs() {
        for a in render_all(&spec).unwrap() {
            assert_eq!(a.mode & 0o002, 0, "{} is world-writable", a.path);
            if a.path.contains("secret") && !a.path.ends_with(".ctmpl") {
                assert_eq!(a.mode & 0o004, 0, "{} is world-readable", a.path);
            }
        }
    }
}

/// `openclaw-render schema` describes what the parser accepts: every example, as the JSON the
/// NixOS module hands over, validates against it, and a typo'd key does not.
#[test]
fn the_spec_schema_accepts_the_examples_and_rejects_unknown_keys() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_openclaw-render"))
        .arg("schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("spec schema compiles");
    for spec in all_example_specs() {
        let json = serde_json::to_value(&spec).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&json)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", spec.name);
        // The JSON round-trips through the parser the NixOS module uses.
        assert_eq!(Spec::from_json(&json.to_string()).unwrap(), spec);
    }
    let mut typo = serde_json::to_value(&all_example_specs()[0]).unwrap();
    typo["gateway"]["prot"] = serde_json::json!(1);
    assert!(
        !validator.is_valid(&typo),
        "unknown keys are rejected by the schema too"
    );
}
