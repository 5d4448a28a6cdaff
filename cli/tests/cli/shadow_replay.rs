//! `meshline replay`: a candidate bundle over the agency example's recorded history, in
//! shadow, compared with the recorded ledger and with the deployed bundle (docs/kpis.md,
//! "Replays").

use crate::common::*;

const UNTIL: &str = "2026-03-10T00:00:00Z";

/// The agency example with its refund limit raised from 250 USD to 1000 USD.
fn candidate(dir: &std::path::Path) -> std::path::PathBuf {
    let project = dir.join("candidate");
    copy_dir(&example("agency-support"), &project);
    let policy = project.join("rules/policy.mesh");
    let text = std::fs::read_to_string(&policy).expect("policy.mesh");
    assert!(
        text.contains("let refund_limit = 250 USD"),
        "the example still sets the limit"
    );
    std::fs::write(&policy, text.replace("250 USD", "1000 USD")).expect("write");
    project
}

#[test]
fn replay_names_the_cases_a_candidate_changes() {
    let dir = tempdir();
    let run = run_cli(
        dir.path(),
        &example("agency-support"),
        &sample_events("agency-support"),
        Some(UNTIL),
    );
    assert!(!run.ledger.is_empty());
    let project = candidate(dir.path());
    let html = dir.path().join("replay.html");
    let out = meshline([
        "replay".as_ref(),
        "--bundle".as_ref(),
        project.as_os_str(),
        "--inputs".as_ref(),
        sample_events("agency-support").as_os_str(),
        "--baseline".as_ref(),
        dir.path().join("ledger.jsonl").as_os_str(),
        "--until".as_ref(),
        UNTIL.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--report".as_ref(),
        html.as_os_str(),
    ]);
    out.assert_code(0, "meshline replay");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("JSON");
    // T-3002 asks for 900 USD: held under the 250 USD limit, not under 1000 USD.
    assert_eq!(v["cases_compared"], 8);
    assert_eq!(v["cases_changed"], 1);
    assert_eq!(v["changed"][0]["case"], "T-3002");
    assert_eq!(
        v["changed"][0]["changes"][0],
        "no longer holds refund_small: stripe.refund by refund_approval"
    );
    // A person approved that refund in the history: the candidate (which executes it) agrees.
    assert_eq!(v["agreement"]["refund_small"]["true_positives"], 1);
    assert_eq!(v["agreement"]["refund_small"]["precision"], 100.0);
    let held = v["kpi_deltas"]
        .as_array()
        .expect("deltas")
        .iter()
        .find(|d| d["figure"] == "refund_small: held")
        .expect("the held figure");
    assert_eq!(
        (held["baseline"].as_f64(), held["candidate"].as_f64()),
        (Some(1.0), Some(0.0))
    );
    let page = std::fs::read_to_string(&html).expect("the HTML report");
    assert!(page.contains("T-3002") && page.contains("<svg"));
    assert!(!page.contains("<script") && !page.contains("src="));
}

#[test]
fn replay_of_the_deployed_bundle_changes_nothing() {
    let out = meshline([
        "replay".as_ref(),
        "--bundle".as_ref(),
        example("agency-support").as_os_str(),
        "--inputs".as_ref(),
        sample_events("agency-support").as_os_str(),
        "--baseline-bundle".as_ref(),
        example("agency-support").as_os_str(),
        "--until".as_ref(),
        UNTIL.as_ref(),
    ]);
    out.assert_code(0, "meshline replay against itself");
    assert!(
        out.stdout
            .starts_with("Replay: 8 cases compared, 0 would change"),
        "{}",
        out.stdout
    );
    let none = meshline([
        "replay".as_ref(),
        "--bundle".as_ref(),
        example("agency-support").as_os_str(),
        "--inputs".as_ref(),
        sample_events("agency-support").as_os_str(),
    ]);
    none.assert_code(2, "no baseline");
    assert!(none.stderr.contains("name the baseline"), "{}", none.stderr);
}
