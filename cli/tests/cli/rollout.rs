//! Staged rollouts and gates scoped to one automation (docs/language.md §11.2, §11.3;
//! docs/runtime.md "Staged rollout") over `cli/tests/fixtures/rollout`: its scenario
//! tests pass under `meshline test`; a promotion is one `promoted` entry with its
//! evidence; a redeploy keeps the stage of an automation whose `rollout { … }` is
//! unchanged and starts over when it changed; the bundle carries the stages in a section.

use std::path::{Path, PathBuf};

use meshline_runtime::{bundle, ir};
use serde_json::json;

use crate::common::{self, Lab, envelope};

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rollout")
}

fn requested(id: &str, at: &str, case: &str, charge: &str) -> String {
    envelope(
        id,
        "RefundRequested",
        at,
        case,
        json!({ "charge": charge, "amount": "20.00 USD" }),
    )
}

fn issued(id: &str, at: &str, case: &str, charge: &str) -> String {
    envelope(id, "RefundIssued", at, case, json!({ "charge": charge }))
}

/// Three shadowed runs that people followed within the window.
fn agreed_three(lab: &mut Lab) {
    for (i, charge) in ["ch_1", "ch_2", "ch_3"].iter().enumerate() {
        let case = format!("T-{i}");
        lab.send(&requested(
            &format!("r{i}"),
            "2026-03-02T10:00:00Z",
            &case,
            charge,
        ));
        lab.send(&issued(
            &format!("i{i}"),
            "2026-03-02T11:00:00Z",
            &case,
            charge,
        ));
    }
}

#[test]
fn the_scenario_tests_pass() {
    let out = common::meshline(["test".as_ref(), project().as_os_str()]);
    out.assert_code(0, "meshline test");
    assert!(out.stdout.contains("6 passed, 0 failed"), "{}", out.stdout);
}

#[test]
fn a_promotion_is_recorded_with_its_evidence() {
    let bytes = common::build(&project());
    let mut lab = Lab::new(&bytes);
    agreed_three(&mut lab);
    assert_eq!(lab.of("T-0", "shadowed")[0].detail["stage"], "shadow");
    // Nothing before 14 days; the stage's timer promotes at 14 days, with no event.
    assert!(lab.advance("2026-03-16T09:59:59Z").is_empty());
    let out = lab.advance("2026-03-16T10:00:00Z");
    let promoted: Vec<_> = out.iter().filter(|e| e.kind == "promoted").collect();
    assert_eq!(promoted.len(), 1, "{}", lab.dump());
    let p = promoted[0];
    assert_eq!(p.rule.as_deref(), Some("refund_small"));
    assert_eq!(p.case, None);
    assert_eq!(p.detail["from"], "shadow");
    assert_eq!(p.detail["to"], "10%");
    assert_eq!(p.detail["since"], "2026-03-02T10:00:00Z");
    assert_eq!(p.detail["shadow_runs"], 3);
    assert_eq!(p.detail["evidence"]["after"], "14d");
    assert_eq!(
        p.detail["evidence"]["criteria"],
        json!([{ "metric": "agreement", "value": "100%", "cmp": ">=", "threshold": "90%", "runs": 3 }])
    );
    // Live at 10% now: the entry of a run says which stage decided it.
    lab.send(&requested("r9", "2026-03-16T11:00:00Z", "T-9", "ch_1"));
    let n = lab.of("T-9", "not_in_rollout");
    assert_eq!(n[0].detail["stage"], "10%", "{}", lab.dump());
}

#[test]
fn a_redeploy_keeps_the_stage_unless_the_rollout_changed() {
    let bytes = common::build(&project());
    let (_, program, hash) = bundle::decode::<ir::Program>(&bytes).unwrap();
    assert!(
        program.automations[0].stages.is_some(),
        "the section decodes"
    );
    let mut lab = Lab::new(&bytes);
    agreed_three(&mut lab);
    lab.advance("2026-03-16T10:00:00Z");
    assert_eq!(lab.engine.rollout_stages()[0].1, "10%");

    // The same rollout under another bundle (a new version of another automation).
    let mut same = program.clone();
    same.automations[1].version = 2;
    lab.engine.reload(same, "h2").unwrap();
    assert_eq!(lab.engine.rollout_stages()[0].1, "10%");
    // Its `after` still counts from the promotion: 7 days on, live runs permitting.
    for (i, at) in ["2026-03-17T10:00:00Z", "2026-03-17T11:00:00Z"]
        .iter()
        .enumerate()
    {
        let case = format!("L-{i}");
        lab.send(&requested(&format!("l{i}"), at, &case, "ch_16"));
        let key = lab.key_of(&case, "stripe.refund");
        lab.send(&common::action_succeeded(
            &format!("s{i}"),
            at,
            &case,
            &key,
            "stripe.refund",
        ));
    }
    lab.advance("2026-03-23T10:00:00Z");
    assert_eq!(lab.engine.rollout_stages()[0].1, "100%", "{}", lab.dump());

    // A changed `rollout { … }` starts over at its `start`, from the deployment.
    let mut changed = program.clone();
    if let Some(s) = changed.automations[0].stages.as_mut() {
        s.promotions[0].after = Some(ir::DurationSpec::Wall(7 * 86_400));
    }
    lab.engine.reload(changed, &hash).unwrap();
    let (name, stage, since) = lab.engine.rollout_stages()[0].clone();
    assert_eq!((name.as_str(), stage.as_str()), ("refund_small", "shadow"));
    assert_eq!(since, Some(common::ts("2026-03-23T10:00:00Z")));
}

#[test]
fn report_and_explain_tell_the_stages() {
    let bytes = common::build(&project());
    let mut lab = Lab::new(&bytes);
    agreed_three(&mut lab);
    lab.advance("2026-03-16T10:00:00Z");
    lab.send(&requested("r9", "2026-03-16T11:00:00Z", "T-9", "ch_1"));
    let dir = common::tempdir();
    let ledger = dir.path().join("ledger.jsonl");
    std::fs::write(&ledger, lab.ledger_text()).unwrap();

    let report = common::meshline(["report".as_ref(), ledger.as_os_str()]);
    report.assert_code(0, "meshline report");
    assert!(
        report.stdout.contains(
            "refund_small rollout stage: 10%\n    2026-03-16T10:00:00Z promoted shadow -> 10%"
        ),
        "{}",
        report.stdout
    );
    let json = common::meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["automations"]["refund_small"]["stage"], "10%");

    let explain = common::meshline([
        "explain".as_ref(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
        "T-9".as_ref(),
    ]);
    explain.assert_code(0, "meshline explain");
    assert!(
        explain
            .stdout
            .contains("`refund_small` not in rollout (bucket 7576) [rollout stage 10%]"),
        "{}",
        explain.stdout
    );
    let explain = common::meshline([
        "explain".as_ref(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
        "T-0".as_ref(),
    ]);
    assert!(
        explain
            .stdout
            .contains("shadowed (not executed) [rollout stage shadow]"),
        "{}",
        explain.stdout
    );
}
