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
