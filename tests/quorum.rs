//! Quorum approvals (docs/language.md §11.2, docs/runtime.md "Gates, approvals, dual
//! control"; issue 18 item 9): `require 2 approvals from TEAM` counts distinct approvers,
//! none of them a requester; each approval is recorded with its count, the last releases
//! the step; the count survives a snapshot and shows in the case view.

use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;

use crate::reload::program;

const RULES: &str = r#"
enum Klass { Refund, Other }
event RefundRequested { amount: Money, agent: Person }
team desk { members ["ana@x.io"] }
team finance { members ["fay@x.io", "gus@x.io", "hal@x.io"] }
classify Klass on RefundRequested {
  Refund when amount > 0 USD
  otherwise Other
}
owners {
  Refund -> desk escalate finance
  Other -> desk escalate finance
}
gate big_refund on stripe.refund when amount >= 250 USD {
  require 2 approvals from finance
}
automation refunds {
  version 1
  owner desk
  on RefundRequested
  do {
    stripe.refund(charge: "ch_1", amount: amount)
  }
}
"#;

fn requested(engine: &mut Engine, agent: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"r","type":"RefundRequested","at":"2026-03-02T10:00:00Z","case":"T-1","data":{{"amount":"300.00 USD","agent":"{agent}"}}}}"#
    ));
}

fn grant(engine: &mut Engine, n: u32, by: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"g{n}","type":"ApprovalGranted","at":"2026-03-02T10:0{n}:00Z","case":"T-1","data":{{"approval":"big_refund","by":"{by}"}}}}"#
    ));
}

fn of_kind<'a>(entries: &'a [Entry], kind: &str) -> Vec<&'a Entry> {
    entries.iter().filter(|e| e.kind == kind).collect()
}

#[test]
fn two_distinct_approvers_release_the_step_and_each_is_counted() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    requested(&mut engine, "fay@x.io");
    // The requester (the agent the event names) is refused; so is a repeated approval.
    grant(&mut engine, 1, "fay@x.io");
    grant(&mut engine, 2, "gus@x.io");
    grant(&mut engine, 3, "GUS@x.io");
    let view = engine.case_json("T-1").expect("case");
    assert_eq!(
        view["held"][0]["approvals"],
        serde_json::json!(["gus@x.io"])
    );
    assert_eq!(view["held"][0]["required"], 2);
    let (entries, _) = engine.drain();
    assert!(
        of_kind(&entries, "executed").is_empty(),
        "one approval of two"
    );
    let refused: Vec<String> = of_kind(&entries, "refused")
        .iter()
        .map(|e| e.detail["reason"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused[0].contains("requester"), "{refused:?}");
    assert!(refused[1].contains("already approved"), "{refused:?}");

    grant(&mut engine, 4, "hal@x.io");
    let (entries, _) = engine.drain();
    let approved = of_kind(&entries, "approved");
    assert_eq!(approved.len(), 1);
    assert_eq!(approved[0].detail["approvals"], 2);
    assert_eq!(approved[0].detail["required"], 2);
    assert_eq!(approved[0].detail["by"], "hal@x.io");
    assert_eq!(of_kind(&entries, "executed").len(), 1, "released at quorum");
}

#[test]
fn the_count_survives_a_snapshot() {
    let rules = program(RULES);
    let mut engine = Engine::new(rules.clone(), "v1").expect("loads");
    requested(&mut engine, "ana@x.io");
    grant(&mut engine, 1, "gus@x.io");
    engine.drain();
    let bytes = engine.snapshot().expect("snapshot");
    let mut restored = Engine::restore(rules, "v1", &bytes).expect("restores");
    // gus again is still a repeat after the restore; hal completes the quorum.
    grant(&mut restored, 2, "gus@x.io");
    grant(&mut restored, 3, "hal@x.io");
    let (entries, _) = restored.drain();
    assert_eq!(of_kind(&entries, "refused").len(), 1);
    assert_eq!(of_kind(&entries, "executed").len(), 1);
}

#[test]
fn one_denial_denies_whatever_the_count() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    requested(&mut engine, "ana@x.io");
    grant(&mut engine, 1, "gus@x.io");
    engine.apply_line(
        r#"{"id":"d","type":"ApprovalDenied","at":"2026-03-02T10:05:00Z","case":"T-1","data":{"approval":"big_refund","by":"hal@x.io"}}"#,
    );
    grant(&mut engine, 2, "fay@x.io");
    let (entries, _) = engine.drain();
    assert_eq!(of_kind(&entries, "denied").len(), 1);
    assert!(of_kind(&entries, "executed").is_empty());
}
