//! Classify arms and route candidates are tried in order (`engine/decision.rs`): an arm or
//! route whose condition cannot be evaluated loses, the next one decides, and the failure
//! writes `eval_error` and sends the case to its owner's exception queue. The decision step
//! (`Engine::decide`, what `run_bench` times) decides the same way.

use meshline_runtime::Engine;

use crate::reload::program;

const RULES: &str = r#"
enum Tier { Gold, Silver }
enum Level { Low, High }
enum Klass { Urgent, Billing, Triage }
record Ticket { id: String, tier: Tier }
event TicketCreated { ticket: Ticket }
event Raised { level: Level }
calendar office { timezone "UTC" hours mon-fri 09:00-17:00 }
team desk { members ["ana@x.io"] calendar office }
team leads { members ["lee@x.io"] calendar office }
classify Klass on TicketCreated {
  Urgent when level == High
  Billing when ticket.tier == Gold
  otherwise Triage
}
owners {
  Urgent -> leads escalate desk
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
route raised on TicketCreated when level == High { assign leads priority 2 }
route gold on TicketCreated when ticket.tier == Gold { assign desk by round_robin }
"#;

const CREATED: &str = r#"{"id":"e2","type":"TicketCreated","at":"2026-03-02T10:00:00Z","case":"T-1","data":{"ticket":{"id":"T-1","tier":"Gold"}}}"#;

/// `kind rule detail` of each entry.
fn lines(engine: &mut Engine) -> Vec<String> {
    engine
        .drain()
        .0
        .iter()
        .map(|e| {
            format!(
                "{} {} {}",
                e.kind,
                e.rule.as_deref().unwrap_or("-"),
                e.detail
            )
        })
        .collect()
}

#[test]
fn a_failing_arm_or_route_is_recorded_and_the_next_one_decides() {
    let program = program(RULES);
    let mut engine = Engine::new(program, "v1").expect("loads");
    // `level` is a case fact that only `Raised` sets: unset here, so the first arm and the
    // first route fail.
    engine.apply_line(CREATED);
    assert_eq!(
        lines(&mut engine),
        [
            r#"received - {"at":"2026-03-02T10:00:00Z","id":"e2","type":"TicketCreated"}"#,
            r#"eval_error classify.Urgent {"error":"case fact `level` has no value yet"}"#,
            // The decision records the arm that lost and why, and the facts read.
            r#"classified classify.Billing {"class":"Billing","lost":[{"error":"case fact `level` has no value yet","rule":"classify.Urgent"}],"read":{"level":null,"ticket.tier":"Gold"}}"#,
            r#"owned owners {"owner":"desk"}"#,
            r#"eval_error raised {"error":"case fact `level` has no value yet"}"#,
            r#"assigned exception {"assignee":"desk","exception":true}"#,
            r#"assigned gold {"assignee":"ana@x.io","lost":[{"error":"case fact `level` has no value yet","rule":"raised"}],"priority":0,"read":{"level":null,"ticket.tier":"Gold"},"route":"gold"}"#,
        ]
    );
    // The decision step passes over the failures the same way: Billing (1), route `gold`.
    let env = engine
        .parse_envelope(&serde_json::from_str(CREATED).expect("json"))
        .expect("valid");
    let gold = engine
        .program()
        .routes
        .iter()
        .position(|r| r.name == "gold");
    assert_eq!(engine.decide(&env), (Some(1), gold.map(|g| g as u32)));
}

#[test]
fn with_the_fact_set_the_first_arm_and_route_decide_without_errors() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    engine.apply_line(
        r#"{"id":"e1","type":"Raised","at":"2026-03-02T09:00:00Z","case":"T-1","data":{"level":"High"}}"#,
    );
    engine.apply_line(CREATED);
    let lines = lines(&mut engine);
    assert!(
        lines.iter().all(|l| !l.starts_with("eval_error")),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &r#"classified classify.Urgent {"class":"Urgent","read":{"level":"High"}}"#.to_string()
        ),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &r#"assigned raised {"assignee":"leads","priority":2,"read":{"level":"High"},"route":"raised"}"#
                .to_string()
        ),
        "{lines:#?}"
    );
}

/// A route whose `key` cannot be evaluated counts as not matching: the next route decides
/// (docs/language.md §8.3), in `apply` and in the decision step.
const KEYED: &str = r#"
enum Tier { Gold, Silver }
enum Level { Low, High }
enum Klass { Billing, Triage }
record Ticket { id: String, tier: Tier }
event TicketCreated { ticket: Ticket }
event Raised { level: Level }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Billing when ticket.tier == Gold
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
route keyed on TicketCreated when ticket.tier == Gold { assign leads key level priority 2 }
route gold on TicketCreated when ticket.tier == Gold { assign desk by round_robin }
"#;

#[test]
fn a_route_whose_key_fails_does_not_match_and_the_next_one_decides() {
    let program = program(KEYED);
    let mut engine = Engine::new(program, "v1").expect("loads");
    // `level` (the key of `keyed`) is unset: `keyed` does not match, `gold` assigns.
    engine.apply_line(CREATED);
    assert_eq!(
        lines(&mut engine),
        [
            r#"received - {"at":"2026-03-02T10:00:00Z","id":"e2","type":"TicketCreated"}"#,
            r#"classified classify.Billing {"class":"Billing","read":{"ticket.tier":"Gold"}}"#,
            r#"owned owners {"owner":"desk"}"#,
            r#"eval_error keyed {"error":"case fact `level` has no value yet"}"#,
            r#"assigned exception {"assignee":"desk","exception":true}"#,
            // `keyed`'s condition held; its `key` failed.
            r#"assigned gold {"assignee":"ana@x.io","lost":[{"error":"case fact `level` has no value yet","part":"key","rule":"keyed"}],"priority":0,"read":{"level":null,"ticket.tier":"Gold"},"route":"gold"}"#,
        ]
    );
    let env = engine
        .parse_envelope(&serde_json::from_str(CREATED).expect("json"))
        .expect("valid");
    let gold = engine
        .program()
        .routes
        .iter()
        .position(|r| r.name == "gold");
    assert_eq!(engine.decide(&env), (Some(0), gold.map(|g| g as u32)));
}

/// A route that reads `assignee` after one that fails: the decision sees the case as it
/// was when routing began (no assignee yet), not the exception assignment the failure
/// makes, which is recorded after the decision (docs/runtime.md, "Decisions"). Before
/// decisions were values, `apply` recorded the failure mid-scan, so `desk_held` saw `desk`
/// and took the case, while the decision step (fresh case, no assignee) said no route.
const READS_ASSIGNEE: &str = r#"
enum Level { Low, High }
enum Klass { Billing, Triage }
event TicketCreated { topic: String }
event Raised { level: Level }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Billing when topic == "billing"
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
route raised on TicketCreated when level == High { assign leads priority 2 }
route desk_held on TicketCreated when assignee == desk { assign leads priority 1 }
"#;

#[test]
fn a_decision_does_not_see_the_exception_its_own_failure_makes() {
    let mut engine = Engine::new(program(READS_ASSIGNEE), "v1").expect("loads");
    let line = r#"{"id":"e1","type":"TicketCreated","at":"2026-03-02T10:00:00Z","case":"T-1","data":{"topic":"billing"}}"#;
    engine.apply_line(line);
    let lines = lines(&mut engine);
    assert_eq!(
        lines[lines.len() - 2..],
        [
            r#"eval_error raised {"error":"case fact `level` has no value yet"}"#,
            r#"assigned exception {"assignee":"desk","exception":true}"#,
        ],
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.starts_with("assigned desk_held")),
        "{lines:#?}"
    );
    let env = engine
        .parse_envelope(&serde_json::from_str(line).expect("json"))
        .expect("valid");
    assert_eq!(engine.decide(&env), (Some(0), None));
}
