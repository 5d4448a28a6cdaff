//! `meshline report` over the examples' ledgers: the JSON figures (snapshot), the CSV and
//! HTML forms, and its refusals (docs/kpis.md).

use crate::common::*;

fn example_ledger(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    run_cli(
        dir,
        &example(name),
        &sample_events(name),
        Some("2026-03-10T00:00:00Z"),
    );
    dir.join("ledger.jsonl")
}

#[test]
fn report_figures_of_the_agency_example() {
    let dir = tempdir();
    let ledger = example_ledger(dir.path(), "agency-support");
    let out = meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    out.assert_code(0, "meshline report --format json");
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("the report is JSON");
    // Hand-checked against the sample: 8 tickets, one refund held for approval.
    assert_eq!(v["volumes"]["cases_opened"], 8);
    assert_eq!(v["volumes"]["duplicates"], 1);
    assert_eq!(
        v["automations"]["refund_small"]["held_by_gate"]["refund_approval"],
        1
    );
    let text = meshline(["report".as_ref(), ledger.as_os_str()]);
    text.assert_code(0, "meshline report");
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "meshline report over the ledger of examples/agency-support/events/sample.jsonl",
    }, {
        insta::assert_snapshot!("report_agency_support_json", out.stdout);
        insta::assert_snapshot!("report_agency_support_text", text.stdout);
    });
}

#[test]
fn report_csv_and_html_are_complete_and_self_contained() {
    let dir = tempdir();
    let ledger = example_ledger(dir.path(), "refunds");
    let csv = meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--format".as_ref(),
        "csv".as_ref(),
    ]);
    csv.assert_code(0, "meshline report --format csv");
    let mut lines = csv.stdout.lines();
    assert_eq!(lines.next(), Some("section,group,item,metric,value"));
    assert!(
        lines.all(|l| l.split(',').count() >= 5),
        "every row has five cells"
    );
    let html_path = dir.path().join("report.html");
    meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--format".as_ref(),
        "html".as_ref(),
        "--by".as_ref(),
        "team".as_ref(),
        "-o".as_ref(),
        html_path.as_os_str(),
    ])
    .assert_code(0, "meshline report --format html");
    let html = std::fs::read_to_string(&html_path).expect("the page was written");
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<svg"), "the page has charts");
    for outside in ["<script", "src=", "href=", "@import", "url("] {
        assert!(
            !html.contains(outside),
            "the page loads nothing from elsewhere: {outside}"
        );
    }
}

#[test]
fn report_refuses_what_it_cannot_compute() {
    let dir = tempdir();
    let ledger = example_ledger(dir.path(), "incidents");
    let client = meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--by".as_ref(),
        "client".as_ref(),
    ]);
    client.assert_code(2, "--by client");
    assert!(
        client.stderr.contains("does not record a case's client"),
        "{}",
        client.stderr
    );
    let since = meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--since".as_ref(),
        "monday".as_ref(),
    ]);
    since.assert_code(2, "--since monday");
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "not a ledger\n").expect("write");
    let out = meshline(["report".as_ref(), bad.as_os_str()]);
    out.assert_code(1, "a file that is not a ledger");
    assert!(
        out.stderr.contains("bad.jsonl:1: not a ledger entry"),
        "{}",
        out.stderr
    );
    let missing = meshline(["report", "/nonexistent/ledger.jsonl"]);
    missing.assert_code(2, "a missing file");
}
