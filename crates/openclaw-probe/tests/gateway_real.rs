//! The probe against a REAL OpenClaw 2026.9.6 gateway on loopback. One gateway per test
//! function (start takes ~15 s on 2 cores), each function running several sub-checks.

mod support;

use std::time::{Duration, Instant};

use support::*;

/// Boot (down -> starting -> up), then live/ready/auth with the right token, a wrong token,
/// the token never printed in any output mode, Prometheus text valid, down after stop.
#[test]
fn token_gateway_from_boot_to_stop() {
    let mut gw = Gateway::start(Auth::TokenFile);
    let url = gw.url();
    let tf = gw.token_file.display().to_string();

    // --- Boot, watched the way a healthcheck would: every 100 ms, bounded.
    let mut states: Vec<String> = Vec::new();
    let mut starting: Vec<serde_json::Value> = Vec::new();
    let start = Instant::now();
    loop {
        gw.assert_running();
        // Without the wrong-token tries: quicker runs, more samples of the short window.
        let (code, out, err) = probe(&[
            "--url",
            &url,
            "--token-file",
            &tf,
            "--no-wrong-token",
            "--json",
        ]);
        let r = json(&out);
        let state = r["state"].as_str().unwrap().to_string();
        match state.as_str() {
            "down" => {
                assert_eq!(code, 2, "down is critical: {out}{err}");
                // Before the port is bound: refused. On a loaded machine the first samples can
                // also time out while Node sets up (seen in CI): still "down", still explained.
                let detail = check(&r, "live")["detail"].as_str().unwrap().to_string();
                assert!(
                    detail.contains("connection refused") || detail.contains("timed out"),
                    "{out}"
                );
            }
            "starting" => {
                assert_eq!(code, 1, "starting is a warning: {out}{err}");
                starting.push(r.clone());
            }
            "up" => {}
            s => panic!("unknown state {s}"),
        }
        if states.last() != Some(&state) {
            eprintln!(
                "{:>6.2}s state {state} (exit {code})",
                start.elapsed().as_secs_f64()
            );
            states.push(state.clone());
        }
        if state == "up" && code == 0 {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(150),
            "gateway not up after 150 s; states {states:?}\n{}",
            gw.output_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // The deploy gate's question: started (/startupz), not every channel ready.
    let (code, out, _) = probe(&[
        "--url",
        &url,
        "--token-file",
        &tf,
        "--no-wrong-token",
        "--startup",
        "--json",
    ]);
    let r = json(&out);
    assert_eq!(code, 0, "{out}");
    assert_eq!(check(&r, "ready")["detail"], "GET /startupz: 200", "{out}");
    assert_eq!(
        states.first().map(String::as_str),
        Some("down"),
        "{states:?}"
    );
    assert!(
        !starting.is_empty(),
        "the probe never saw the gateway starting (healthz ok, readyz not): {states:?}"
    );
    // While starting: /readyz not 200, and the WebSocket connect closed with 1013.
    let ready_503 = starting
        .iter()
        .any(|r| check(r, "ready")["http_status"] == 503);
    let ws_1013 = starting.iter().any(|r| {
        check(r, "ws_auth_token")["ws_close"] == 1013
            && check(r, "ws_auth_token")["status"] == "warning"
    });
    eprintln!(
        "starting samples: {}, readyz 503 seen: {ready_503}, ws close 1013 seen: {ws_1013}",
        starting.len()
    );
    assert!(ready_503, "{starting:#?}");
    assert!(
        ws_1013,
        "no WebSocket close 1013 while starting: {starting:#?}"
    );

    let phase = |what: &str| eprintln!("{:>6.2}s {what}", start.elapsed().as_secs_f64());
    phase("up");

    // --- Up: every check observed, with the answers OpenClaw gives.
    let (code, out, err) = probe(&["--url", &url, "--token-file", &tf, "--json"]);
    assert_eq!(code, 0, "{out}{err}");
    let r = json(&out);
    assert_eq!(r["state"], "up");
    for name in [
        "live",
        "ready",
        "http_auth_missing",
        "http_auth_wrong",
        "http_auth_token",
        "ws_auth_missing",
        "ws_auth_wrong",
        "ws_auth_token",
    ] {
        assert_eq!(check(&r, name)["status"], "ok", "{name}: {out}");
    }
    assert_eq!(check(&r, "live")["http_status"], 200);
    assert_eq!(check(&r, "ready")["http_status"], 200);
    assert_eq!(check(&r, "http_auth_missing")["http_status"], 401);
    assert_eq!(check(&r, "http_auth_wrong")["http_status"], 401);
    // Past auth, the empty invocation is refused as a bad request: nothing ran.
    assert_eq!(check(&r, "http_auth_token")["http_status"], 400);
    assert_eq!(check(&r, "ws_auth_missing")["ws_close"], 1008);
    assert_eq!(check(&r, "ws_auth_wrong")["ws_close"], 1008);
    let wrong = check(&r, "ws_auth_wrong")["detail"].as_str().unwrap();
    assert!(wrong.contains("AUTH_TOKEN_MISMATCH"), "{wrong}");
    let right = check(&r, "ws_auth_token")["detail"].as_str().unwrap();
    assert!(
        right.contains("hello-ok") && right.contains("2026.9.6"),
        "{right}"
    );

    // Text form and timing: a full run is bounded by the gateway's 250 ms penalty on the
    // wrong token; without the wrong-token tries it is a few ms of work.
    let t = Instant::now();
    let (code, out, _) = probe(&["--url", &url, "--token-file", &tf]);
    let full = t.elapsed();
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("openclaw-probe OK: gateway"), "{out}");
    let t = Instant::now();
    let (code, out, _) = probe(&["--url", &url, "--token-file", &tf, "--no-wrong-token"]);
    let quick = t.elapsed();
    assert_eq!(code, 0, "{out}");
    eprintln!("full run {full:?}, without wrong-token tries {quick:?}");
    assert!(full < Duration::from_secs(3), "{full:?}");
    assert!(quick < Duration::from_secs(1), "{quick:?}");
    // Liveness/readiness only (container healthcheck without the token).
    let (code, out, _) = probe(&["--url", &url, "--no-auth", "--json"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(json(&out)["checks"].as_array().unwrap().len(), 2);

    phase("prometheus");
    // --- Prometheus: valid exposition text, to stdout and atomically to a file.
    let (code, prom, _) = probe(&["--url", &url, "--token-file", &tf, "--prometheus"]);
    assert_eq!(code, 0);
    promtool_check(&prom);
    assert!(
        prom.contains("openclaw_probe_auth_enforced{gateway=\""),
        "{prom}"
    );
    assert!(
        prom.contains(&format!(
            "openclaw_probe_token_accepted{{gateway=\"{url}\"}} 1"
        )),
        "{prom}"
    );
    assert!(prom.contains(&format!(
        "openclaw_probe_gateway_state{{gateway=\"{url}\",state=\"up\"}} 1"
    )));
    let textfile = gw.dir.path().join("textfile").join("openclaw.prom");
    std::fs::create_dir(textfile.parent().unwrap()).unwrap();
    let (code, _, _) = probe(&[
        "--url",
        &url,
        "--token-file",
        &tf,
        "--quiet",
        "--textfile",
        textfile.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    promtool_check(&std::fs::read_to_string(&textfile).unwrap());

    phase("wrong token");
    // --- A wrong configured token: rejected on both paths; auth itself still enforced.
    let bad = gw.dir.path().join("wrong-token");
    let bad_token = random_token();
    write_private(&bad, &bad_token);
    let bad_s = bad.to_str().unwrap();
    // OpenClaw delays each failed auth from loopback (250 ms doubling to 5 s within a minute)
    // until a success resets it: one right-token run before each wrong one keeps this quick.
    let reset = || {
        assert_eq!(
            probe(&["--url", &url, "--token-file", &tf, "--no-wrong-token", "-q"]).0,
            0
        )
    };
    reset();
    let (code, out, _) = probe(&[
        "--url",
        &url,
        "--token-file",
        bad_s,
        "--no-wrong-token",
        "--json",
    ]);
    assert_eq!(code, 2, "{out}");
    let r = json(&out);
    assert_eq!(check(&r, "http_auth_token")["status"], "critical");
    assert_eq!(check(&r, "http_auth_token")["http_status"], 401);
    assert_eq!(check(&r, "ws_auth_token")["status"], "critical");
    assert!(check(&r, "ws_auth_token")["detail"]
        .as_str()
        .unwrap()
        .contains("AUTH_TOKEN_MISMATCH"));
    assert_eq!(check(&r, "http_auth_missing")["status"], "ok");
    reset();
    let (code, prom, _) = probe(&[
        "--url",
        &url,
        "--token-file",
        bad_s,
        "--no-wrong-token",
        "--prometheus",
    ]);
    assert_eq!(code, 2);
    assert!(
        prom.contains(&format!(
            "openclaw_probe_auth_enforced{{gateway=\"{url}\"}} 1"
        )),
        "{prom}"
    );
    assert!(
        prom.contains(&format!(
            "openclaw_probe_token_accepted{{gateway=\"{url}\"}} 0"
        )),
        "{prom}"
    );
    // Docker reserves exit code 2.
    reset();
    let (code, _, _) = probe(&[
        "--url",
        &url,
        "--token-file",
        bad_s,
        "--no-wrong-token",
        "--docker-exit-codes",
        "-q",
    ]);
    assert_eq!(code, 1);

    phase("redaction");
    // --- The token never appears in stdout, stderr or the textfile, in any mode, with debug
    // and trace logging, whether the gateway accepts it or not.
    let tf2 = gw.dir.path().join("leak.prom");
    let tf2s = tf2.to_str().unwrap();
    let modes: [&[&str]; 6] = [
        &[],
        &["--json"],
        &["--prometheus"],
        &["--textfile", tf2s],
        &["-v"],
        &["--json", "-v", "--textfile", tf2s],
    ];
    for (i, mode) in modes.iter().enumerate() {
        // Right then wrong (the right one resets the gateway's failure penalty).
        for (token, file) in [(&gw.token, tf.as_str()), (&bad_token, bad_s)] {
            let mut args = vec![
                "--url",
                url.as_str(),
                "--token-file",
                file,
                "--no-wrong-token",
            ];
            args.extend_from_slice(mode);
            let env: &[(&str, &str)] = if i == 4 {
                &[("OPENCLAW_PROBE_LOG", "trace")]
            } else {
                &[]
            };
            let (_, out, err) = probe_env(&args, env);
            assert!(!out.is_empty() || mode.contains(&"--textfile"), "{args:?}");
            assert!(!out.contains(token.as_str()), "token in stdout of {args:?}");
            assert!(!err.contains(token.as_str()), "token in stderr of {args:?}");
            if mode.contains(&"--textfile") {
                let t = std::fs::read_to_string(&tf2).unwrap();
                assert!(!t.contains(token.as_str()), "token in the textfile");
            }
            if mode.contains(&"-v") {
                assert!(err.contains("http"), "debug logging ran: {err}");
            }
        }
    }

    phase("stop");
    // --- Stopped: down, at once.
    gw.stop();
    phase("stopped");
    let t = Instant::now();
    let (code, out, _) = probe(&["--url", &url, "--token-file", &tf, "--json"]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(json(&out)["state"], "down");
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

/// A gateway with `gateway.auth.mode=none` is unhealthy for us: the unauthenticated request
/// is accepted, so the auth check fails (exit 2); liveness alone would pass.
#[test]
fn auth_none_gateway_fails_the_auth_check() {
    let mut gw = Gateway::start(Auth::None);
    gw.wait_ready();
    let url = gw.url();
    let tf = gw.token_file.display().to_string();
    let (code, out, err) = probe(&["--url", &url, "--token-file", &tf, "--json"]);
    assert_eq!(code, 2, "{out}{err}");
    let r = json(&out);
    assert_eq!(r["state"], "up");
    let missing = check(&r, "http_auth_missing");
    assert_eq!(missing["status"], "critical", "{out}");
    assert_eq!(missing["http_status"], 400, "answered past auth: {out}");
    assert!(
        missing["detail"].as_str().unwrap().contains("not enforced"),
        "{out}"
    );
    assert_eq!(check(&r, "http_auth_wrong")["status"], "critical");
    // Without a token file too (the probe needs no token to see this).
    let (code, prom, _) = probe(&["--url", &url, "--prometheus"]);
    assert_eq!(code, 2);
    assert!(
        prom.contains(&format!(
            "openclaw_probe_auth_enforced{{gateway=\"{url}\"}} 0"
        )),
        "{prom}"
    );
    // Liveness and readiness are fine: it is the auth check that fails it.
    let (code, out, _) = probe(&["--url", &url, "--no-auth"]);
    assert_eq!(code, 0, "{out}");
}

/// Nothing listening: critical at once. A listener that never answers: critical within
/// --timeout (no gateway needed).
#[test]
fn dead_port_fails_fast() {
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let (code, out, _) = probe(&["--url", &url, "--json"]);
    let took = t.elapsed();
    assert_eq!(code, 2, "{out}");
    let r = json(&out);
    assert_eq!(r["state"], "down");
    assert!(check(&r, "live")["detail"]
        .as_str()
        .unwrap()
        .contains("connection refused"));
    assert_eq!(check(&r, "ws_auth_missing")["status"], "skipped");
    assert!(took < Duration::from_millis(1000), "{took:?}");

    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let t = Instant::now();
    let (code, out, _) = probe(&["--url", &url, "--timeout", "500ms", "--json"]);
    let took = t.elapsed();
    assert_eq!(code, 2, "{out}");
    let r = json(&out);
    assert_eq!(r["state"], "down");
    assert!(
        check(&r, "live")["detail"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{out}"
    );
    assert!(took < Duration::from_millis(1500), "{took:?}");
    drop(silent);
}

/// Command line: help documents the exit codes; bad input is exit 3 (unknown), never a
/// token on argv.
#[test]
fn command_line() {
    let (code, out, _) = probe(&["--help"]);
    assert_eq!(code, 0);
    for s in [
        "Exit codes",
        "Consul",
        "--docker-exit-codes",
        "--token-file",
        "--textfile",
    ] {
        assert!(out.contains(s), "--help lacks {s}:\n{out}");
    }
    let (code, out, _) = probe(&["--version"]);
    assert_eq!(
        (code, out.trim()),
        (0, concat!("openclaw-probe ", env!("CARGO_PKG_VERSION")))
    );
    for bad in [
        &["--token", "abc"][..],
        &["--url", "https://127.0.0.1:1"],
        &["--url", "http://user:pw-in-argv@127.0.0.1:1"],
        &["--timeout", "soon"],
        &["--cert-warn", "200%"],
        &["--json", "--prometheus"],
        &["--ca-file", "/x"],
        &["--no-gateway"],
    ] {
        let (code, out, err) = probe(bad);
        assert_eq!(code, 3, "{bad:?}: {out}{err}");
        assert!(!err.contains("pw-in-argv"), "{err}");
    }
}
