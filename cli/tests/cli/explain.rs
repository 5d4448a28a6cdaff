//! `meshline explain`: a case's story from the ledger, located in the sources through the
//! bundle's source map.

use crate::common::*;

#[test]
fn explain_tells_a_held_refund_with_its_sources() {
    let dir = tempdir();
    run_cli(
        dir.path(),
        &example("agency-support"),
        &sample_events("agency-support"),
        Some("2026-03-10T00:00:00Z"),
    );
    let ledger = dir.path().join("ledger.jsonl");
    let bundle = dir.path().join("agency.meshb");
    build_cli(&example("agency-support"), &bundle);
    let out = meshline([
        "explain".as_ref(),
        "T-3002".as_ref(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
    ]);
    out.assert_code(0, "meshline explain");
    // The refund waits for a finance manager; a non-member's approval is refused.
    assert!(
        out.stdout.contains(
            "stripe.refund held by refund_approval (request 1)  [rules/billing/gates.mesh:6]"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("refused li@agency.io at"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("approved by cfo@agency.io"),
        "{}",
        out.stdout
    );
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "meshline explain T-3002 over examples/agency-support/events/sample.jsonl",
    }, {
        insta::assert_snapshot!("explain_agency_t3002", out.stdout);
    });
    let json = meshline([
        "explain".as_ref(),
        "T-3002".as_ref(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
        "--bundle".as_ref(),
        example("agency-support").as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    json.assert_code(0, "meshline explain --format json");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let classified = v["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["kind"] == "classified")
        .expect("classified");
    assert_eq!(classified["location"], "rules/ownership.mesh:10");
    assert_eq!(v["holds"][0]["decisions"].as_array().map(Vec::len), Some(2));
}

#[test]
fn explain_without_a_bundle_or_of_an_unknown_case() {
    let dir = tempdir();
    run_cli(
        dir.path(),
        &example("refunds"),
        &sample_events("refunds"),
        None,
    );
    let ledger = dir.path().join("ledger.jsonl");
    let bare = meshline([
        "explain".as_ref(),
        "T-6101".as_ref(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
    ]);
    bare.assert_code(0, "explain without --bundle");
    assert!(
        bare.stdout.contains("No source map for bundle(s)"),
        "{}",
        bare.stdout
    );
    let unknown = meshline([
        "explain".as_ref(),
        "NOPE".as_ref(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
    ]);
    unknown.assert_code(1, "an unknown case");
    assert!(unknown.stdout.contains("no ledger entry names it"));
}

/// The decisions under a step: the classify arm and the route tried before the winner,
/// why each lost, where each is declared, and the facts read (docs/runtime.md,
/// "Decisions").
#[test]
fn explain_shows_what_each_decision_tried_and_read() {
    let dir = tempdir();
    run_cli(
        dir.path(),
        &example("agency-support"),
        &sample_events("agency-support"),
        Some("2026-03-10T00:00:00Z"),
    );
    let ledger = dir.path().join("ledger.jsonl");
    let args = |format: &str| -> Vec<std::ffi::OsString> {
        vec![
            "explain".into(),
            "T-3004".into(),
            "--ledger".into(),
            ledger.clone().into_os_string(),
            "--bundle".into(),
            example("agency-support").into_os_string(),
            "--format".into(),
            format.into(),
        ]
    };
    let out = meshline(args("text"));
    out.assert_code(0, "meshline explain");
    assert!(
        out.stdout
            .contains("      tried `vip_access`: false  [rules/routing.mesh:"),
        "{}",
        out.stdout
    );
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "meshline explain T-3004 over examples/agency-support/events/sample.jsonl",
    }, {
        insta::assert_snapshot!("explain_agency_t3004_decisions", out.stdout);
    });
    let json = meshline(args("json"));
    json.assert_code(0, "meshline explain --format json");
    let v: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let steps = v["steps"].as_array().expect("steps");
    let classified = steps
        .iter()
        .find(|s| s["kind"] == "classified")
        .expect("classified");
    assert_eq!(
        classified["decision"]["lost"][0]["rule"],
        "classify.Billing"
    );
    assert_eq!(classified["decision"]["lost"][0]["why"], "false");
    assert_eq!(classified["decision"]["read"]["ticket.type"], "access");
    let assigned = steps
        .iter()
        .find(|s| s["kind"] == "assigned")
        .expect("assigned");
    // Best priority first: `busy_client` (rules/workload.mesh) before `vip_access`.
    assert_eq!(assigned["decision"]["lost"][0]["rule"], "busy_client");
    assert_eq!(assigned["decision"]["lost"][1]["rule"], "vip_access");
    assert_eq!(assigned["decision"]["read"]["ticket.tier"], "Silver");
    // An aggregate the routes read, under the key it was read with, with its value.
    assert_eq!(
        assigned["decision"]["read"]["client_cases[\"c-31\"].open"],
        1
    );
    // Steps that record no decision have none.
    assert!(
        steps
            .iter()
            .filter(|s| s["kind"] == "received")
            .all(|s| s.get("decision").is_none())
    );
}
