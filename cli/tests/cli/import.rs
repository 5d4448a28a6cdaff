//! `meshline import zendesk`: a Zendesk export → canonical events through the serve
//! configuration's webhook mapping (docs/adapters.md, "History from Zendesk").

use crate::common::*;

fn import_fixture(dir: &std::path::Path) -> (Out, String) {
    let fixture = example("refunds").join("import");
    let out_file = dir.join("events.jsonl");
    let out = meshline([
        "import".as_ref(),
        "zendesk".as_ref(),
        fixture.join("tickets.json").as_os_str(),
        fixture.join("ticket_events.json").as_os_str(),
        "--config".as_ref(),
        example("refunds").join("serve.toml").as_os_str(),
        "-o".as_ref(),
        out_file.as_os_str(),
    ]);
    out.assert_code(0, "meshline import zendesk");
    let events = std::fs::read_to_string(&out_file).unwrap();
    (out, events)
}

#[test]
fn a_zendesk_export_becomes_events_the_project_accepts() {
    let dir = tempdir();
    let (out, events) = import_fixture(dir.path());
    // Every record is accounted for: mapped, or counted with its reason.
    assert!(
        out.stderr
            .contains("imported 10 events from 4 tickets and 8 ticket events (5 not mapped)"),
        "{}",
        out.stderr
    );
    for reason in [
        "1  child event `Notification`: not a ticket change",
        "1  ticket event `measure` without child events",
        "1  child event `Change` of custom_fields: no ticket webhook carries it",
        // The requesters' own comments: the example maps only agents' replies.
        "2  ticket.comment_added: the payload matches no mapping of webhook source `zendesk`",
    ] {
        assert!(out.stderr.contains(reason), "{reason}\n{}", out.stderr);
    }
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "meshline import zendesk examples/refunds/import/*.json --config examples/refunds/serve.toml",
    }, {
        insta::assert_snapshot!("import_zendesk_refunds", events);
    });

    // The imported history runs: no event is rejected by the project's declarations, and
    // the ticket states rebuilt from the export drive its rules (6102 classifies as a
    // dispute from its tags).
    let events_file = dir.path().join("events.jsonl");
    let run = run_cli(
        dir.path(),
        &example("refunds"),
        &events_file,
        Some("2026-03-05T00:00:00Z"),
    );
    let summary = format!("{}{}", run.out.stdout, run.out.stderr);
    assert!(
        summary.contains("10 events (0 rejected, 0 duplicate), 4 cases"),
        "{summary}"
    );
    assert!(
        run.ledger.contains(r#""case":"6102","kind":"classified""#)
            && run.ledger.contains(r#""class":"Dispute""#),
        "{}",
        run.ledger
    );
}

#[test]
fn importing_twice_gives_the_same_event_ids() {
    // Ids come from Zendesk's audit and event ids, so a re-import (or an overlap with live
    // webhooks of the same changes under the same source) is deduplicated, not doubled.
    let a = tempdir();
    let b = tempdir();
    assert_eq!(import_fixture(a.path()).1, import_fixture(b.path()).1);
}

#[test]
fn a_config_without_a_zendesk_source_is_refused_by_name() {
    let dir = tempdir();
    let config = dir.path().join("serve.toml");
    std::fs::write(
        &config,
        "[webhooks.stripe]\nvendor = \"stripe\"\nsecret = \"x\"\n",
    )
    .unwrap();
    let page = dir.path().join("page.json");
    std::fs::write(&page, "{\"tickets\": []}").unwrap();
    let out = meshline([
        "import".as_ref(),
        "zendesk".as_ref(),
        page.as_os_str(),
        "--config".as_ref(),
        config.as_os_str(),
    ]);
    out.assert_code(2, "no zendesk source");
    assert!(
        out.stderr
            .contains("declares no webhook source with vendor = \"zendesk\""),
        "{}",
        out.stderr
    );
    // Not JSON: the file and the page are named, nothing is written.
    std::fs::write(&page, "{\"tickets\": [] } {oops").unwrap();
    let out = meshline([
        "import".as_ref(),
        "zendesk".as_ref(),
        page.as_os_str(),
        "--config".as_ref(),
        example("refunds").join("serve.toml").as_os_str(),
    ]);
    out.assert_code(2, "bad page");
    assert!(out.stderr.contains("page 2 is not JSON"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}
