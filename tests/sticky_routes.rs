//! Sticky assignment (docs/language.md §8.3, issue 18 item 3): a case whose assignee is a
//! member of the team a route (or the owner fallback) assigns keeps them; `round_robin` and
//! `least_open` choose only for a new target team or an unassigned case, and every time
//! with `rebalance`.

use meshline_runtime::Engine;

use crate::reload::program;

const RULES: &str = r#"
enum Klass { Billing, Triage }
event TicketCreated { topic: String }
event TicketUpdated { topic: String }
event PaymentFailed { code: String }
event PaymentRetried { code: String }
event Handover { to: String }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
team revenue_ops { members ["hannah@x.io", "kofi@x.io"] }
team collections { members ["kofi@x.io", "zoe@x.io"] }
team finance { members ["fay@x.io", "gus@x.io"] }
classify Klass on TicketCreated, TicketUpdated {
  Billing when topic == "billing"
  otherwise Triage
}
owners {
  Billing -> revenue_ops escalate leads
  Triage -> desk escalate leads
}
route payment_exception on PaymentFailed { assign revenue_ops by round_robin }
route access on TicketUpdated when topic == "access" { assign desk }
route retry on PaymentRetried {
  assign revenue_ops by round_robin
  rebalance
}
route to_collections on Handover when to == "collections" { assign collections by least_open }
route to_finance on Handover when to == "finance" { assign finance by round_robin }
"#;

fn event(engine: &mut Engine, id: &str, kind: &str, case: &str, data: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"{kind}","at":"2026-03-02T10:00:00Z","case":"{case}","data":{data}}}"#
    ));
}

fn assignee(engine: &Engine, case: &str) -> Option<String> {
    engine.case_view(case).and_then(|v| v.assignee)
}

/// The reported case: hannah → revenue_ops → kofi as events arrived. Now hannah keeps it:
/// the owner fallback (no route matches `TicketUpdated`) and `round_robin` on the second
/// `PaymentFailed` both find a member of their team already assigned.
#[test]
fn a_case_keeps_its_assignee_when_its_route_fires_again() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    event(
        &mut engine,
        "1",
        "TicketCreated",
        "T-1",
        r#"{"topic":"billing"}"#,
    );
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("revenue_ops"));
    event(
        &mut engine,
        "2",
        "PaymentFailed",
        "T-1",
        r#"{"code":"card_declined"}"#,
    );
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
    event(
        &mut engine,
        "3",
        "TicketUpdated",
        "T-1",
        r#"{"topic":"billing"}"#,
    );
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
    event(
        &mut engine,
        "4",
        "PaymentFailed",
        "T-1",
        r#"{"code":"card_declined"}"#,
    );
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
    // Keeping an assignee writes no `assigned` entry and advances no cursor: the next
    // unassigned case gets the next member.
    let (entries, _) = engine.drain();
    let assigned = entries
        .iter()
        .filter(|e| e.case.as_deref() == Some("T-1") && e.kind == "assigned")
        .count();
    assert_eq!(assigned, 2, "owner queue, then hannah");
    event(
        &mut engine,
        "5",
        "TicketCreated",
        "T-2",
        r#"{"topic":"billing"}"#,
    );
    event(
        &mut engine,
        "6",
        "PaymentFailed",
        "T-2",
        r#"{"code":"card_declined"}"#,
    );
    assert_eq!(assignee(&engine, "T-2").as_deref(), Some("kofi@x.io"));
}

/// A route to another team chooses among that team's members unless the assignee is one
/// of them too; `least_open` and `round_robin` alike.
#[test]
fn a_new_target_team_chooses_unless_the_assignee_belongs_to_it() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    event(
        &mut engine,
        "1",
        "TicketCreated",
        "T-1",
        r#"{"topic":"billing"}"#,
    );
    event(&mut engine, "2", "PaymentFailed", "T-1", r#"{"code":"x"}"#);
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
    // hannah is not in finance: round_robin chooses there.
    event(&mut engine, "3", "Handover", "T-1", r#"{"to":"finance"}"#);
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("fay@x.io"));

    event(
        &mut engine,
        "4",
        "TicketCreated",
        "T-2",
        r#"{"topic":"billing"}"#,
    );
    event(&mut engine, "5", "PaymentFailed", "T-2", r#"{"code":"x"}"#);
    assert_eq!(assignee(&engine, "T-2").as_deref(), Some("kofi@x.io"));
    // kofi is in collections too: least_open would pick zoe (0 open against kofi's 1),
    // but the case stays with kofi.
    event(
        &mut engine,
        "6",
        "Handover",
        "T-2",
        r#"{"to":"collections"}"#,
    );
    assert_eq!(assignee(&engine, "T-2").as_deref(), Some("kofi@x.io"));
}

/// `rebalance`: the strategy chooses every time the route fires.
#[test]
fn rebalance_chooses_again() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    event(
        &mut engine,
        "1",
        "TicketCreated",
        "T-1",
        r#"{"topic":"billing"}"#,
    );
    event(&mut engine, "2", "PaymentFailed", "T-1", r#"{"code":"x"}"#);
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
    event(&mut engine, "3", "PaymentRetried", "T-1", r#"{"code":"x"}"#);
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("kofi@x.io"));
    event(&mut engine, "4", "PaymentRetried", "T-1", r#"{"code":"x"}"#);
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
}

/// A deployment that removes the assignee from the team: the next time the team is
/// assigned, a current member is chosen.
#[test]
fn an_assignee_removed_from_the_team_is_chosen_away_from() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    event(
        &mut engine,
        "1",
        "TicketCreated",
        "T-1",
        r#"{"topic":"billing"}"#,
    );
    event(&mut engine, "2", "PaymentFailed", "T-1", r#"{"code":"x"}"#);
    assert_eq!(assignee(&engine, "T-1").as_deref(), Some("hannah@x.io"));
    let without_hannah = RULES.replace(
        r#"members ["hannah@x.io", "kofi@x.io"]"#,
        r#"members ["kofi@x.io", "ivy@x.io"]"#,
    );
    engine
        .reload(program(&without_hannah), "v2")
        .expect("compatible");
    event(&mut engine, "3", "PaymentFailed", "T-1", r#"{"code":"x"}"#);
    let now = assignee(&engine, "T-1");
    assert!(
        matches!(now.as_deref(), Some("kofi@x.io" | "ivy@x.io")),
        "{now:?}"
    );
}
