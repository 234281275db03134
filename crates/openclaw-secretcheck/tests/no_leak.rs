//! No secret value ever appears in secretcheck's output, passing or failing, text or JSON,
//! check or promote.

mod support;

use support::*;

#[test]
fn values_never_appear_in_output() {
    let good_gw = token(21, 40);
    let good_env = token(22, 28);
    // Bad but distinctive values: each would be visible if any message echoed a value.
    let short = token(23, 12);
    let placeholder = format!("YOUR_TOKEN_{}", token(24, 16));
    let quoted = token(25, 20);
    let spaced = token(26, 20);
    let secrets = [&good_gw, &good_env, &short, &placeholder, &quoted, &spaced];

    let mut runs = Vec::new();
    for bad in [false, true] {
        let dir = private_dir();
        let gw = dir.path().join("gateway_token");
        let envf = dir.path().join("openclaw.env");
        if bad {
            write(&gw, short.as_bytes(), 0o644);
            write(
                &envf,
                format!(
                    "A_KEY={placeholder}\nB_KEY=\"{quoted}\"\nC_KEY = {spaced}\nD_KEY={good_env}\n"
                )
                .as_bytes(),
                0o600,
            );
        } else {
            write(&gw, good_gw.as_bytes(), 0o600);
            write(&envf, format!("D_KEY={good_env}\n").as_bytes(), 0o600);
        }
        let gwa = format!("{}:32", gw.display());
        let enva = envf.display().to_string();
        let uid = uid().to_string();
        for json in [false, true] {
            let mut args = vec![
                "check",
                "--owner",
                &uid,
                "--file",
                &gwa,
                "--env-file",
                &enva,
                "--env",
                "D_KEY",
                "--env",
                "A_KEY",
            ];
            if json {
                args.push("--json");
            }
            runs.push(secretcheck(&args));
            // Promote the same files as a staged set.
            let live = private_dir();
            let sd = dir.path().display().to_string();
            let lgw = format!("{}/gateway_token:32", live.path().display());
            let lenv = format!("{}/openclaw.env", live.path().display());
            let mut args = vec![
                "promote",
                "--staged-dir",
                &sd,
                "--owner",
                &uid,
                "--file",
                &lgw,
                "--env-file",
                &lenv,
                "--env",
                "D_KEY",
            ];
            if json {
                args.push("--json");
            }
            runs.push(secretcheck(&args));
        }
    }
    assert!(runs.iter().any(|r| r.code == 0), "no passing run");
    assert!(runs.iter().any(|r| r.code != 0), "no failing run");
    for r in &runs {
        for s in secrets {
            assert!(
                !r.stdout.contains(s.as_str()) && !r.stderr.contains(s.as_str()),
                "a value leaked:\n{}\n{}",
                r.stdout,
                r.stderr
            );
        }
    }
}
