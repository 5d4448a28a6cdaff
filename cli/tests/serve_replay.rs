//! The auditor's replay: a served history with wall-clock ticks, hot deployments and a
//! SIGKILL in between is exported (inputs with control lines, ledger, bundles), and
//! `meshline run`, following the recipe the export prints, reproduces the stored ledger
//! byte for byte.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::process::Command;
use std::time::Duration;

mod serve_support;
use serve_support::root;
use serve_support::server::{Server, http, post_bundle, variant};

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

#[test]
fn ticks_and_deployments_replay_with_meshline_run() {
    // Wall clock on (the default): events stamped in the past leave timers overdue.
    let s = Server::new("admin_token_env = \"MESHLINE_TEST_ADMIN\"\n");
    let env = [("MESHLINE_TEST_ADMIN".to_string(), "adm1n".to_string())];
    // Deployment 1 adds a gate on every refund; rolling back removes it while it holds
    // refunds, which stay held under it (docs/deploy.md, "Migrations by name").
    let newer = variant(
        s.dir.path(),
        "newer",
        "rules/billing/gates.mesh",
        "gate two_step on",
        "gate a_all_refunds on stripe.refund {\n  require approval from finance_managers\n}\n\ngate two_step on",
    );
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let lines: Vec<&str> = sample.lines().filter(|l| !l.trim().is_empty()).collect();
    let (first, rest) = lines.split_at(lines.len() / 2);

    let child = s.start_with(&s.bundle, &env);
    // Deployment 1, then events decided by the newer bundle; the wall clock fires their
    // overdue timers as ticks.
    let (code, out) = post_bundle(s.port, "adm1n", &std::fs::read(&newer).unwrap());
    assert_eq!(code, 200, "{out}");
    let (code, out) = http(s.port, "POST", "/events", first.join("\n").as_bytes()).unwrap();
    assert!(code == 202 || code == 400, "{out}");
    std::thread::sleep(Duration::from_millis(1500));
    // Deployment 2 (rollback to the first bundle) after the ticks, then more events.
    let (code, out) = post_bundle(s.port, "adm1n", &std::fs::read(&s.bundle).unwrap());
    assert_eq!(code, 200, "{out}");
    let (code, out) = http(s.port, "POST", "/events", rest.join("\n").as_bytes()).unwrap();
    assert!(code == 202 || code == 400, "{out}");
    s.kill(child);
    // The restart replays all of it (and checks it against the stored ledger).
    let child = s.start_with(&s.bundle, &env);
    std::thread::sleep(Duration::from_millis(1200));
    s.stop(child);

    let (events, ledger, msg) = s.export();
    // Ticks and deployments are control lines, in the order they were applied.
    let kinds: Vec<&str> = events
        .lines()
        .map(|l| {
            if l.starts_with(r#"{"meshline":"tick""#) {
                "tick"
            } else if l.starts_with(r#"{"meshline":"deploy""#) {
                "deploy"
            } else {
                "event"
            }
        })
        .collect();
    let ticks = kinds.iter().filter(|k| **k == "tick").count();
    assert!(ticks > 0, "no wall-clock tick was recorded: {msg}");
    assert!(
        msg.contains(&format!(", {ticks} wall-clock ticks, 2 deployments")),
        "{msg}"
    );
    let deploys: Vec<usize> = (0..kinds.len()).filter(|i| kinds[*i] == "deploy").collect();
    assert_eq!(deploys.len(), 2);
    assert_eq!(deploys[0], 0, "the first deployment came before any event");
    let first_tick = kinds.iter().position(|k| *k == "tick").unwrap();
    assert!(
        first_tick < deploys[1] && deploys[1] < kinds.len() - 1,
        "ticks, then deployment 2, then events: {kinds:?}"
    );
    assert!(ledger.contains("\"kind\":\"sla_breached\""));
    assert!(
        ledger.contains("\"retired_gates\""),
        "no held step was carried"
    );

    // The recipe the export printed, as is.
    let recipe = msg
        .lines()
        .find_map(|l| l.strip_prefix("replay: meshline run "))
        .unwrap_or_else(|| panic!("no recipe in {msg}"));
    let args: Vec<&str> = recipe
        .split(" (the state's first bundle)")
        .next()
        .unwrap()
        .split(' ')
        .collect();
    assert!(args.contains(&"--bundles"), "{recipe}");
    let run = Command::new(BIN)
        .arg("run")
        .args(&args)
        .arg("--ledger")
        .arg(s.path("replayed.jsonl"))
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let replayed = std::fs::read_to_string(s.path("replayed.jsonl")).unwrap();
    assert!(
        replayed == ledger,
        "the replay differs from the stored ledger"
    );

    // Without the bundles the run stops at the first deploy line, naming it.
    let run = Command::new(BIN)
        .arg("run")
        .arg("--bundle")
        .arg(&s.bundle)
        .arg("--events")
        .arg(s.path("events.jsonl"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{err}");
    assert!(
        err.contains("events.jsonl, line 1: deploy of bundle "),
        "{err}"
    );
    assert!(err.contains("--bundles"), "{err}");
}
