//! Deduplication within a bounded window (issue 15 item 8, docs/runtime.md
//! "Deduplication"): an id is a duplicate while it is remembered — 7 days of engine-clock
//! time and at most `max_ids` ids — and applied again once forgotten.

use meshline_runtime::engine::DedupeWindow;

use crate::common::Lab;

fn ack(id: &str, at: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"OwnerAcknowledged","at":"{at}","case":"T-1","data":{{"by":"ann@x.io"}}}}"#
    )
}

fn kinds(lab: &mut Lab, line: &str) -> Vec<String> {
    lab.send(line).iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn duplicates_older_than_the_window_are_applied_again() {
    let mut lab = Lab::refunds();
    assert_eq!(lab.engine.dedupe_window(), DedupeWindow::default());
    assert_eq!(DedupeWindow::default().age, 7 * 86_400);
    assert!(kinds(&mut lab, &ack("a", "2026-03-02T00:00:00Z")).contains(&"received".into()));
    assert_eq!(
        kinds(&mut lab, &ack("a", "2026-03-08T23:59:59Z")),
        ["duplicate"]
    );
    // Exactly 7 days after it was applied, still remembered.
    assert_eq!(
        kinds(&mut lab, &ack("b", "2026-03-09T00:00:00Z"))[0],
        "received"
    );
    assert_eq!(
        kinds(&mut lab, &ack("a", "2026-03-09T00:00:00Z")),
        ["duplicate"]
    );
    // One second later the clock is past the window: `a` is forgotten, applied as new.
    assert_eq!(
        kinds(&mut lab, &ack("c", "2026-03-09T00:00:01Z"))[0],
        "received"
    );
    assert_eq!(
        kinds(&mut lab, &ack("a", "2026-03-02T00:00:00Z"))[0],
        "received"
    );
    assert_eq!(lab.engine.state_summary().events_seen, 3);
}

#[test]
fn past_the_count_the_oldest_id_is_forgotten() {
    let mut lab = Lab::refunds();
    lab.engine.set_dedupe_window(DedupeWindow {
        age: DedupeWindow::DEFAULT_AGE,
        max_ids: 2,
    });
    for id in ["a", "b", "c"] {
        assert_eq!(
            kinds(&mut lab, &ack(id, "2026-03-02T00:00:00Z"))[0],
            "received"
        );
    }
    assert_eq!(lab.engine.state_summary().events_seen, 2);
    assert_eq!(
        kinds(&mut lab, &ack("c", "2026-03-02T00:00:00Z")),
        ["duplicate"]
    );
    assert_eq!(
        kinds(&mut lab, &ack("a", "2026-03-02T00:00:00Z"))[0],
        "received"
    );
    // The window is state: a snapshot keeps it and the ids in order.
    let bytes = lab.engine.snapshot().unwrap();
    let program = lab.engine.program().clone();
    let hash = lab.engine.bundle_hash().to_string();
    let mut back = meshline_runtime::Engine::restore(program, &hash, &bytes).unwrap();
    assert_eq!(back.dedupe_window().max_ids, 2);
    assert_eq!(back.snapshot().unwrap(), bytes);
    back.apply_line(&ack("a", "2026-03-02T00:00:00Z"));
    let (entries, _) = back.drain();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].kind, "duplicate", "a is remembered");
    back.apply_line(&ack("b", "2026-03-02T00:00:00Z"));
    let (entries, _) = back.drain();
    assert_eq!(entries[0].kind, "received", "b was forgotten");
}
