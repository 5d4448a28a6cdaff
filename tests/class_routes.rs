//! Routes on a class change (docs/language.md §8.3; issue 15, item 15): on an event that
//! changes the class, the routes evaluated are those that list the event plus those whose
//! `when` reads `class`, not every route. The route analysis compares the pairs that can
//! meet that way, and its witnesses replay through the runtime.

use meshline_compiler::diagnostics::Code;
use meshline_runtime::Engine;

use crate::reload::program;
use crate::witness::{check, replay_all};

const RULES: &str = r#"
enum Klass { Billing, Access, Triage }
event TicketCreated { topic: String }
event PaymentFailed { code: String }
event Escalated { level: Int }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
team revenue_ops { members ["rev@x.io"] }
team access_desk { members ["acc@x.io"] }
classify Klass on TicketCreated {
  Billing when topic == "billing"
  Access when topic == "access"
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Access -> desk escalate leads
  Triage -> desk escalate leads
}
route payment_exception on PaymentFailed { assign revenue_ops }
route access on Escalated when class == Access { assign access_desk }
"#;

fn created(id: &str, topic: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"TicketCreated","at":"2026-03-02T10:00:00Z","case":"T-{id}","data":{{"topic":"{topic}"}}}}"#
    )
}

fn assignee(engine: &Engine, case: &str) -> Option<String> {
    engine.case_view(case).and_then(|v| v.assignee)
}

#[test]
fn a_class_change_evaluates_the_routes_on_the_event_and_those_reading_class() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    // A newly classified case is not taken by `payment_exception` (it lists only
    // `PaymentFailed`): the owner is the assignee.
    engine.apply_line(&created("1", "billing"));
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("desk"));
    // `access` reads `class`: it is evaluated when the class changes to Access.
    engine.apply_line(&created("2", "access"));
    assert_eq!(assignee(&engine, "T-2").as_deref(), Some("access_desk"));
    // Its own event still works, and `payment_exception` on its event too.
    engine.apply_line(
        r#"{"id":"3","type":"PaymentFailed","at":"2026-03-02T10:01:00Z","case":"T-1","data":{"code":"x"}}"#,
    );
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("revenue_ops"));
    // The decision step agrees: no route for a fresh billing case, `access` for access.
    let decide = |line: &str| {
        let env = engine
            .parse_envelope(&serde_json::from_str(line).expect("json"))
            .expect("valid");
        let (_, route) = engine.decide(&env);
        route.map(|r| engine.program().routes[r as usize].name.clone())
    };
    assert_eq!(decide(&created("4", "billing")), None);
    assert_eq!(decide(&created("5", "access")).as_deref(), Some("access"));
}

/// `access` reads `class` and `vip_desk` lists the classify's event: on a class change to
/// Access both are evaluated, with equal priority and different targets.
const AMBIGUOUS: &str = r#"
enum Klass { Access, Triage }
event TicketCreated { topic: String, vip: Bool }
event Escalated { level: Int }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Access when topic == "access"
  otherwise Triage
}
owners {
  Access -> desk escalate leads
  Triage -> desk escalate leads
}
route vip_desk on TicketCreated when vip { assign leads }
route access on Escalated when class == Access { assign desk } //~ E0406
"#;

#[test]
fn routes_that_meet_on_a_class_change_are_checked_for_ambiguity() {
    let diags = check(AMBIGUOUS);
    let e0406: Vec<_> = diags
        .iter()
        .filter(|d| d.code == Code::AmbiguousRoute)
        .collect();
    assert_eq!(e0406.len(), 1, "{diags:#?}");
    assert!(
        e0406[0].message.contains("TicketCreated"),
        "{}",
        e0406[0].message
    );
    // The witness makes both conditions true in the runtime.
    assert_eq!(replay_all(AMBIGUOUS), 1);
    // Routes that cannot meet (different events, neither reads `class`) are not compared.
    let apart = AMBIGUOUS.replace("when class == Access", "when level > 1");
    assert!(
        !check(&apart)
            .iter()
            .any(|d| d.code == Code::AmbiguousRoute || d.code == Code::UndecidedRouteOverlap),
        "{:#?}",
        check(&apart)
    );
}

/// `Escalated` is not one of the classify's events, though its `topic` would classify a
/// case as Access.
const UNCLASSIFIED: &str = r#"
enum Klass { Access, Triage }
event TicketCreated { topic: String }
event Escalated { topic: String, level: Int }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Access when topic == "access"
  otherwise Triage
}
owners {
  Access -> desk escalate leads
  Triage -> desk escalate leads
}
route access on Escalated when class == Access { assign leads }
"#;

/// The witness probe, the decision step and `apply` make the same decisions
/// (docs/runtime.md, "Decisions"). The probe used to classify on every event: on a fresh
/// case, `Escalated` with topic "access" was classified Access and matched `access`, which
/// `apply` never does (classify does not run on `Escalated`, so the case has no class).
#[test]
fn probe_agrees_with_apply() {
    let mut engine = Engine::new(program(UNCLASSIFIED), "v1").expect("loads");
    let line = r#"{"id":"e1","type":"Escalated","at":"2026-03-02T10:00:00Z","case":"T-9","data":{"topic":"access","level":2}}"#;
    let env = engine
        .parse_envelope(&serde_json::from_str(line).expect("json"))
        .expect("valid");
    assert_eq!(engine.matching_routes(&env), (None, Vec::new()));
    assert_eq!(engine.decide(&env), (None, None));
    engine.apply_line(line);
    assert_eq!(assignee(&engine, "T-9"), None);
    // On the classify's own event, all three classify, and `access` (it reads `class`)
    // takes the case.
    let created = created("c1", "access");
    let env = engine
        .parse_envelope(&serde_json::from_str(&created).expect("json"))
        .expect("valid");
    assert_eq!(engine.matching_routes(&env), (Some(0), vec![0]));
    assert_eq!(engine.decide(&env), (Some(0), Some(0)));
    engine.apply_line(&created);
    assert_eq!(assignee(&engine, "T-c1").as_deref(), Some("leads"));
}
