//! Case lifecycle (docs/runtime.md, "Case lifecycle"; language.md §8.5): the scenario
//! tests written in the language (`cli/tests/fixtures/lifecycle`), the ledger entries the
//! engine writes, snapshots taken in every lifecycle state, and the reopen rate report.

use std::path::PathBuf;
use std::sync::OnceLock;

use meshline_runtime::Engine;

use crate::common::{self, Lab};

fn project() -> PathBuf {
    common::repo().join("cli/tests/fixtures/lifecycle")
}

fn bundle() -> &'static [u8] {
    static BUNDLE: OnceLock<Vec<u8>> = OnceLock::new();
    BUNDLE.get_or_init(|| common::build(&project()))
}

fn event(id: &str, ty: &str, case: &str, at: &str, status: &str) -> String {
    let channel = if ty == "TicketCreated" {
        r#","channel":"Email""#
    } else {
        ""
    };
    format!(
        r#"{{"id":"{id}","type":"{ty}","at":"{at}","case":"{case}","data":{{"ticket":{{"id":"{case}","type":"question","subject":"s","tags":[],"status":"{status}","priority":"Normal","requester":"cu@client.io"}}{channel}}}}}"#
    )
}

fn kinds(entries: &[meshline_runtime::ledger::Entry]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.rule.as_deref() == Some("lifecycle"))
        .map(|e| {
            format!(
                "{} {} {}",
                e.case.as_deref().unwrap_or("-"),
                e.kind,
                e.detail
            )
        })
        .collect()
}

#[test]
fn the_scenario_tests_in_the_language_pass() {
    let out = common::meshline(["test".as_ref(), project().as_os_str()]);
    out.assert_code(0, "meshline test lifecycle");
    assert!(
        out.stdout.ends_with("7 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
    common::meshline(["fmt".as_ref(), "--check".as_ref(), project().as_os_str()])
        .assert_code(0, "the fixture is formatted");
}

#[test]
fn transitions_write_lifecycle_entries() {
    let mut lab = Lab::new(bundle());
    lab.send(&event(
        "e1",
        "TicketCreated",
        "T-1",
        "2026-03-02T10:00:00Z",
        "New",
    ));
    lab.send(&event(
        "e2",
        "TicketSolved",
        "T-1",
        "2026-03-02T12:00:00Z",
        "Solved",
    ));
    lab.send(&event(
        "e3",
        "TicketReopened",
        "T-1",
        "2026-03-03T12:00:00Z",
        "Open",
    ));
    lab.send(&event(
        "e4",
        "TicketSolved",
        "T-1",
        "2026-03-04T12:00:00Z",
        "Solved",
    ));
    // The window (7d) runs out: the engine closes the case; the late reopen is ignored.
    lab.send(&event(
        "e5",
        "TicketReopened",
        "T-1",
        "2026-03-12T12:00:00Z",
        "Open",
    ));
    lab.advance("2026-04-20T00:00:00Z");
    assert_eq!(
        kinds(&lab.entries),
        [
            r#"T-1 solved {"close_at":"2026-03-09T12:00:00Z"}"#,
            r#"T-1 reopened {"after":"1d","solved_at":"2026-03-02T12:00:00Z"}"#,
            r#"T-1 solved {"close_at":"2026-03-11T12:00:00Z"}"#,
            r#"T-1 closed {"evict_at":"2026-04-10T12:00:00Z","from":"solved","reason":"not reopened within 7d"}"#,
            r#"T-1 ignored {"closed_at":"2026-03-11T12:00:00Z","reason":"the case is closed; its events run no rules"}"#,
            r#"T-1 evicted {"closed_at":"2026-03-11T12:00:00Z"}"#,
        ]
    );
    assert!(lab.engine.case("T-1").is_none(), "evicted");
    assert_eq!(lab.engine.state_summary().timers, 0, "no timer is left");
}

#[test]
fn snapshots_in_every_lifecycle_state_replay_byte_for_byte() {
    let lines = [
        event("e1", "TicketCreated", "T-1", "2026-03-02T10:00:00Z", "New"),
        event("e2", "TicketCreated", "T-2", "2026-03-02T10:05:00Z", "New"),
        event(
            "e3",
            "TicketSolved",
            "T-1",
            "2026-03-02T12:00:00Z",
            "Solved",
        ),
        event(
            "e4",
            "TicketClosed",
            "T-2",
            "2026-03-02T13:00:00Z",
            "Closed",
        ),
        event("e5", "TicketCreated", "T-3", "2026-03-03T09:00:00Z", "New"),
        event(
            "e6",
            "TicketReopened",
            "T-1",
            "2026-03-04T09:00:00Z",
            "Open",
        ),
        event(
            "e7",
            "TicketSolved",
            "T-3",
            "2026-03-05T09:00:00Z",
            "Solved",
        ),
        event("e8", "TicketCreated", "T-4", "2026-04-20T09:00:00Z", "New"),
        event("e9", "TicketCreated", "T-2", "2026-04-21T09:00:00Z", "New"),
    ];
    let run = |split: Option<usize>| -> String {
        let mut engine = common::engine(bundle());
        let mut out = String::new();
        for (i, line) in lines.iter().enumerate() {
            if split == Some(i) {
                let bytes = engine.snapshot().unwrap();
                let hash = engine.bundle_hash().to_string();
                let program = engine.program().clone();
                engine = Engine::restore(program, &hash, &bytes).unwrap();
                assert_eq!(engine.snapshot().unwrap(), bytes, "restore then snapshot");
            }
            engine.apply_line(line);
            out.push_str(&engine.drain_jsonl().0);
        }
        out
    };
    let whole = run(None);
    assert!(whole.contains(r#""kind":"evicted""#), "T-2 was evicted");
    for split in 1..lines.len() {
        assert_eq!(run(Some(split)), whole, "snapshot before input {split}");
    }
}

#[test]
fn the_reopen_rate_counts_lifecycle_reopens_once_and_not_after_the_window() {
    let dir = common::tempdir();
    let events = dir.path().join("events.jsonl");
    let lines = [
        event("e1", "TicketCreated", "T-1", "2026-03-02T10:00:00Z", "New"),
        event("e2", "TicketCreated", "T-2", "2026-03-02T10:00:00Z", "New"),
        event(
            "e3",
            "TicketSolved",
            "T-1",
            "2026-03-02T12:00:00Z",
            "Solved",
        ),
        event(
            "e4",
            "TicketSolved",
            "T-2",
            "2026-03-02T12:00:00Z",
            "Solved",
        ),
        event(
            "e5",
            "TicketReopened",
            "T-1",
            "2026-03-03T12:00:00Z",
            "Open",
        ),
        // After T-2's window: it is closed, so this is no reopen.
        event(
            "e6",
            "TicketReopened",
            "T-2",
            "2026-03-20T12:00:00Z",
            "Open",
        ),
    ];
    std::fs::write(&events, lines.join("\n") + "\n").unwrap();
    let bundle_path = dir.path().join("b.meshb");
    std::fs::write(&bundle_path, bundle()).unwrap();
    common::run_cli(dir.path(), &bundle_path, &events, None);
    let ledger = dir.path().join("ledger.jsonl");
    let out = common::meshline([
        "report".as_ref(),
        ledger.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    out.assert_code(0, "meshline report");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let reopens = &report["reopens"]["General"];
    assert_eq!(reopens["solved"], 2, "{report:#}");
    assert_eq!(reopens["reopened"], 1, "{report:#}");
}
