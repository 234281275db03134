//! End to end with the real OpenBao 2.7.2: a dev server started here holds the gateway's
//! secrets in KV v2, the real `bao agent` runs the agent.hcl and templates rendered by
//! openclaw-render, renders into the staging directory and runs `openclaw-secretcheck
//! promote`, which installs the files; then `openclaw-secretcheck --spec` passes on them.
//! A rotation to a placeholder is refused (live files and the "gateway" untouched); the first
//! render (which creates the env file, read only at process start) takes the restart
//! fallback; a good rotation of the token file takes the reload, which gets the previous
//! token in its environment.
//!
//! Test-only changes to the rendered config, and why: the agent logs in with the step-ca
//! machine certificate (cert auth over TLS), which needs step-ca; the lab covers that path.
//! Here the `auto_auth` stanza is swapped for the `token_file` method reading the dev root
//! token from a 0600 file (never argv), the address is the dev server's plain-HTTP loopback
//! listener, and the two post-change commands (no gateway, no systemd here) become scripts:
//! the `openclaw secrets reload` one appends `reload-with-previous` to a log when
//! `$OPENCLAW_GATEWAY_TOKEN` is the token being replaced, the `systemctl try-restart`
//! fallback appends `restart`.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use openclaw_render::spec::{Delivery, Spec};
use support::*;

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `bao` CLI with address and token in the environment (never argv); `stdin` for secret data.
fn bao_cli(bao: &Path, addr: &str, token_file: &Path, args: &[&str], stdin: Option<&str>) {
    let token = std::fs::read_to_string(token_file).unwrap();
    let mut child = Command::new(bao)
        .args(args)
        .env("BAO_ADDR", addr)
        .env("BAO_TOKEN", token.trim())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.unwrap_or("").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "bao {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn put(bao: &Path, addr: &str, tok: &Path, data: &serde_json::Value) {
    bao_cli(
        bao,
        addr,
        tok,
        &["kv", "put", "-mount=kv", "aether/openclaw", "-"],
        Some(&data.to_string()),
    );
}

#[test]
fn real_agent_renders_what_secretcheck_accepts_and_bad_rotations_are_held_back() {
    let bao = component("BAO_BIN", "openbao/bin/bao", "bao");
    let tmp = private_dir();
    let root = tmp.path();
    let port = free_port();
    let addr = format!("http://127.0.0.1:{port}");

    // Dev server on loopback; it prints a random root token, read from its output.
    let mut server = Command::new(&bao)
        .args([
            "server",
            "-dev",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ])
        .env_remove("BAO_TOKEN")
        .env("HOME", root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let _server = Kill(server);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(t) = line.strip_prefix("Root Token: ") {
                let _ = tx.send(t.trim().to_string());
            }
        }
    });
    let root_token = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("dev server printed no root token");
    let token_file = root.join("bao-token");
    write(&token_file, root_token.as_bytes(), 0o600);
    bao_cli(
        &bao,
        &addr,
        &token_file,
        &["secrets", "enable", "-path=kv", "kv-v2"],
        None,
    );

    // The deployment: the homelab example, with the LiteLLM key delivered through the env file.
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/lxc-homelab.toml"
    ))
    .unwrap();
    let mut spec = Spec::from_toml(&text).unwrap();
    // The native reload (setpriv ... openclaw secrets reload) is replaced by a stub below; the
    // container's (`podman exec`) runs for real in the lab's end-to-end test.
    spec.runtime = openclaw_render::spec::Runtime::Native;
    let secrets_dir = root.join("secrets");
    let agent_dir = root.join("agent");
    spec.secrets.dir = secrets_dir.display().to_string();
    spec.secrets
        .items
        .get_mut("litellm_api_key")
        .unwrap()
        .deliver = Delivery::Env;
    spec.paths.agent_dir = agent_dir.display().to_string();
    spec.paths.secretcheck_bin = env!("CARGO_BIN_EXE_openclaw-secretcheck").into();
    spec.paths.service_user = "root".into();
    let bao_spec = spec.secrets.openbao.as_mut().unwrap();
    bao_spec.address = addr.clone();
    bao_spec.ca_cert = None;
    bao_spec.refresh_interval = openclaw_render::spec::Duration::from_secs(1);
    let spec_file = root.join("spec.json");
    std::fs::write(&spec_file, serde_json::to_string(&spec).unwrap()).unwrap();

    let values = |gw: &str| {
        serde_json::json!({
            "gateway_token": gw,
            "litellm_api_key": token(102, 32),
            "matrix_access_token": format!("syt_{}", token(103, 30)),
            // The example backs up: the agent renders the restic password like every item.
            "restic_password": token(104, 48),
        })
    };
    let gw1 = token(101, 48);
    put(&bao, &addr, &token_file, &values(&gw1));

    // Install the rendered artifacts where the spec says.
    for dir in [
        &secrets_dir,
        &secrets_dir.join(".staged"),
        &agent_dir,
        &agent_dir.join("templates"),
    ] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    }
    let restarts = root.join("restarts.log");
    let expected_previous = root.join("expected-previous");
    write(&expected_previous, gw1.as_bytes(), 0o600);
    let reload_sh = root.join("reload.sh");
    let restart_sh = root.join("restart.sh");
    write(
        &reload_sh,
        format!(
            "#!/bin/sh\nif [ \"$OPENCLAW_GATEWAY_TOKEN\" = \"$(cat {})\" ]; then echo reload-with-previous; else echo reload-without-previous; fi >> {}\n",
            expected_previous.display(),
            restarts.display()
        )
        .as_bytes(),
        0o700,
    );
    write(
        &restart_sh,
        format!("#!/bin/sh\necho restart >> {}\n", restarts.display()).as_bytes(),
        0o700,
    );
    let mut hcl_path = PathBuf::new();
    for a in openclaw_render::render::bao_agent::render(&spec) {
        let dest = PathBuf::from(a.install_path.clone().unwrap());
        let mut content = a.content.clone();
        if a.path.ends_with("agent.hcl") {
            content = test_variant(&content, &token_file, &reload_sh, &restart_sh);
            hcl_path = dest.clone();
        }
        std::fs::write(&dest, content).unwrap();
    }

    let log = std::fs::File::create(root.join("agent.log")).unwrap();
    let agent = Command::new(&bao)
        .args(["agent", &format!("-config={}", hcl_path.display())])
        .env_remove("BAO_TOKEN")
        .env("HOME", root)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let _agent = Kill(agent);
    let agent_log = || std::fs::read_to_string(root.join("agent.log")).unwrap_or_default();
    let files = ["gateway_token", "matrix_access_token", "openclaw.env"];
    let live = |n: &str| std::fs::read_to_string(secrets_dir.join(n)).unwrap_or_default();
    let count = || {
        std::fs::read_to_string(&restarts)
            .map(|s| s.lines().count())
            .unwrap_or(0)
    };

    wait_for(
        "the agent to render and promote",
        Duration::from_secs(60),
        || files.iter().all(|f| secrets_dir.join(f).exists()) && count() == 1,
    );
    assert_eq!(live("gateway_token"), gw1, "{}", agent_log());
    assert_eq!(
        live("openclaw.env"),
        format!("LITELLM_API_KEY={}\n", token(102, 32))
    );

    let spec_arg = spec_file.display().to_string();
    let r = secretcheck(&["--spec", &spec_arg, "--max-age", "10m"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // A placeholder lands in OpenBao: the agent re-renders, promote refuses, nothing changes.
    put(
        &bao,
        &addr,
        &token_file,
        &values("changeme-changeme-changeme-changeme"),
    );
    wait_for(
        "the agent to run promote on the bad value",
        Duration::from_secs(60),
        || agent_log().contains("failed to execute command"),
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(live("gateway_token"), gw1);
    assert_eq!(count(), 1, "a rejected render restarted the gateway");
    assert_eq!(secretcheck(&["--spec", &spec_arg]).code, 0);
    assert!(
        !agent_log().contains("changeme"),
        "the agent's log shows the rejected value"
    );

    assert_eq!(
        log_lines(&restarts),
        ["restart"],
        "the first render (new env file) restarts"
    );

    // A good rotation goes through: new live value, exactly one reload, authenticated with
    // the token it replaces.
    let gw2 = token(104, 48);
    put(&bao, &addr, &token_file, &values(&gw2));
    wait_for(
        "the rotated token to go live",
        Duration::from_secs(60),
        || live("gateway_token") == gw2,
    );
    wait_for("the reload", Duration::from_secs(10), || count() == 2);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        log_lines(&restarts),
        ["restart", "reload-with-previous"],
        "a token rotation reloads (with the previous token), once; periodic re-renders of unchanged values do nothing"
    );
    let r = secretcheck(&["--spec", &spec_arg, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    for v in [&gw1, &gw2] {
        assert!(
            !r.stdout.contains(v.as_str()) && !agent_log().contains(v.as_str()),
            "a value leaked"
        );
    }
}

fn log_lines(p: &Path) -> Vec<String> {
    std::fs::read_to_string(p)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The rendered config with the test-only substitutions described at the top.
fn test_variant(hcl: &str, token_file: &Path, reload_sh: &Path, restart_sh: &Path) -> String {
    let start = hcl.find("auto_auth {").expect("auto_auth stanza");
    let end = hcl
        .find("template_config {")
        .expect("template_config stanza");
    assert!(hcl[start..end].contains("method \"cert\""));
    let auth = format!(
        "auto_auth {{\n  method \"token_file\" {{\n    config = {{\n      token_file_path = \"{}\"\n    }}\n  }}\n}}\n\n",
        token_file.display()
    );
    let mut out = format!("{}{}{}", &hcl[..start], auth, &hcl[end..]);
    let fallback = "\"systemctl try-restart openclaw.service\"";
    assert!(out.contains(fallback));
    out = out.replace(fallback, &format!("\"{}\"", restart_sh.display()));
    // Every template's command: `... "--", "setpriv", ..., "secrets", "reload", ...]`.
    let mut rebuilt = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find("\"--\", \"setpriv\"") {
        let j = i + rest[i..].find(']').expect("end of the command list");
        assert!(rest[i..j].contains("\"secrets\", \"reload\""));
        rebuilt.push_str(&rest[..i]);
        rebuilt.push_str(&format!("\"--\", \"{}\"", reload_sh.display()));
        rest = &rest[j..];
    }
    rebuilt.push_str(rest);
    assert!(rebuilt.contains(&reload_sh.display().to_string()));
    rebuilt
}
