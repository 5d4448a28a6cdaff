//! Aggregates over history through the engine (docs/runtime.md, "Aggregates"): the event
//! counts itself before rules run, the state survives a snapshot and restore (and replays
//! byte for byte), a deployment keeps an unchanged aggregate and restarts a changed one,
//! and the key cap evicts with a ledger entry.

use meshline_runtime::Engine;

use crate::reload::program;

const BASE: &str = r#"
enum Klass { Billing, Triage }
record Ticket { id: String, customer: String }
event Refund { ticket: Ticket, amount: Money }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on Refund {
  Billing when amount > 0 USD
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
aggregate refunds[customer: String] over 30d keep 100 keys {
  on Refund by ticket.customer
  n: Int = count
  total: Money? = sum(amount)
}
route repeat on Refund when refunds[ticket.customer].n >= 3 {
  assign leads
}
"#;

fn refund(engine: &mut Engine, id: &str, case: &str, customer: &str, at: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"Refund","at":"{at}","case":"{case}","data":{{"ticket":{{"id":"{case}","customer":"{customer}"}},"amount":"10.00 USD"}}}}"#
    ));
}

fn assignee(engine: &Engine, case: &str) -> Option<String> {
    engine.case_view(case).and_then(|c| c.assignee)
}

fn lines(engine: &mut Engine) -> Vec<String> {
    engine
        .drain()
        .0
        .iter()
        .map(|e| format!("{} {:?} {} {}", e.at, e.case, e.kind, e.detail))
        .collect()
}

#[test]
fn the_third_refund_counts_itself_and_a_snapshot_keeps_the_counts() {
    let p = program(BASE);
    let mut straight = Engine::new(p.clone(), "v1").expect("loads");
    let mut restored = Engine::new(p.clone(), "v1").expect("loads");
    let mut out_straight = Vec::new();
    let mut out_restored = Vec::new();
    let events = [
        ("e1", "T-1", "acme", "2026-03-02T10:00:00Z"),
        ("e2", "T-2", "acme", "2026-03-05T10:00:00Z"),
        ("e3", "T-3", "other", "2026-03-06T10:00:00Z"),
        ("e4", "T-4", "acme", "2026-03-20T10:00:00Z"),
        ("e5", "T-5", "acme", "2026-04-02T10:00:00Z"),
    ];
    for (i, (id, case, customer, at)) in events.iter().enumerate() {
        refund(&mut straight, id, case, customer, at);
        out_straight.extend(lines(&mut straight));
        refund(&mut restored, id, case, customer, at);
        out_restored.extend(lines(&mut restored));
        // A snapshot after every event, restored into a fresh engine.
        let bytes = restored.snapshot().expect("snapshot");
        restored = Engine::restore(p.clone(), "v1", &bytes).expect("restores");
        if i == 0 {
            assert!(
                bytes.len()
                    > Engine::new(p.clone(), "v1")
                        .unwrap()
                        .snapshot()
                        .unwrap()
                        .len(),
                "the aggregates part is written once there is state"
            );
        }
    }
    assert_eq!(out_straight, out_restored);
    // Three acme refunds within 30 days by the third: this one included.
    assert_eq!(assignee(&straight, "T-2").as_deref(), Some("desk"));
    assert_eq!(assignee(&straight, "T-4").as_deref(), Some("leads"));
    // 31 days after the first: e2, e4, e5 are in the window (3), e1 is not.
    assert_eq!(assignee(&straight, "T-5").as_deref(), Some("leads"));
    assert_eq!(assignee(&restored, "T-5").as_deref(), Some("leads"));
}

#[test]
fn a_deployment_keeps_an_unchanged_aggregate_and_restarts_a_changed_one() {
    let mut engine = Engine::new(program(BASE), "v1").expect("loads");
    refund(&mut engine, "e1", "T-1", "acme", "2026-03-02T10:00:00Z");
    refund(&mut engine, "e2", "T-2", "acme", "2026-03-03T10:00:00Z");
    // An unrelated change (a new member): the counts stay.
    let v2 = program(&BASE.replace("[\"ana@x.io\"]", "[\"ana@x.io\", \"ben@x.io\"]"));
    engine.reload(v2, "v2").expect("compatible");
    refund(&mut engine, "e3", "T-3", "acme", "2026-03-04T10:00:00Z");
    assert_eq!(assignee(&engine, "T-3").as_deref(), Some("leads"));
    // A changed window: the aggregate starts empty.
    let v3 = program(
        &BASE
            .replace("[\"ana@x.io\"]", "[\"ana@x.io\", \"ben@x.io\"]")
            .replace("over 30d", "over 60d"),
    );
    engine.reload(v3, "v3").expect("compatible");
    refund(&mut engine, "e4", "T-4", "acme", "2026-03-05T10:00:00Z");
    assert_eq!(assignee(&engine, "T-4").as_deref(), Some("desk"));
}

#[test]
fn beyond_keep_keys_the_least_recently_updated_key_is_evicted_and_recorded() {
    let mut engine =
        Engine::new(program(&BASE.replace("keep 100 keys", "keep 1 keys")), "v1").expect("loads");
    refund(&mut engine, "e1", "T-1", "acme", "2026-03-02T10:00:00Z");
    refund(&mut engine, "e2", "T-2", "acme", "2026-03-02T11:00:00Z");
    refund(&mut engine, "e3", "T-3", "other", "2026-03-02T12:00:00Z");
    let evicted: Vec<String> = lines(&mut engine)
        .into_iter()
        .filter(|l| l.contains("aggregate_evicted"))
        .collect();
    assert_eq!(evicted.len(), 1, "{evicted:?}");
    assert!(
        evicted[0].contains(r#""aggregate":"refunds""#) && evicted[0].contains(r#""key":"acme""#)
    );
    // acme starts again from this one.
    refund(&mut engine, "e4", "T-4", "acme", "2026-03-02T13:00:00Z");
    assert_eq!(assignee(&engine, "T-4").as_deref(), Some("desk"));
}
