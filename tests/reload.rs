//! Deploying a new bundle over live state (`Engine::reload`): new team members and new
//! calendar hours or holidays are accepted (running clocks are rescheduled on the new
//! calendar); anything that would change what stored state means is refused with the
//! reason.

use meshline_compiler::db::{self, Database};
use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;

use crate::witness::project;

const BASE: &str = r#"
enum Tier { Gold, Silver }
enum Klass { Billing, Triage }
record Ticket { id: String, tier: Tier }
event TicketCreated { ticket: Ticket }
calendar office { timezone "UTC" hours mon-fri 09:00-17:00 }
team desk { members ["ana@x.io"] calendar office }
team leads { members ["lee@x.io"] calendar office }
classify Klass on TicketCreated {
  Billing when ticket.tier == Gold
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
sla first_reply for Billing, Triage {
  start on TicketCreated
  target 4 business hours
  calendar office
  breach -> escalate
}
"#;

pub(crate) fn program(text: &str) -> meshline_runtime::ir::Program {
    let files = project(text);
    meshline_compiler::with_large_stack(|| {
        let database = Database::default();
        let handle = db::load_project(&database, &files);
        let errors: Vec<_> = db::project_diagnostics(&database, handle)
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        assert!(errors.is_empty(), "{errors:#?}");
        db::lower(&database, handle, &files.manifest)
    })
}

fn created(engine: &mut Engine, id: &str, case: &str, at: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"TicketCreated","at":"{at}","case":"{case}","data":{{"ticket":{{"id":"{case}","tier":"Gold"}}}}}}"#
    ));
}

fn kinds(entries: &[Entry], kind: &str) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| format!("{} {}", e.at, e.detail))
        .collect()
}

#[test]
fn new_members_and_holidays_deploy_and_running_clocks_follow_them() {
    let mut engine = Engine::new(program(BASE), "v1").expect("loads");
    // Monday 16:00: 1 open hour today, 3 tomorrow → due Tuesday 12:00 without a holiday.
    created(&mut engine, "e1", "T-1", "2026-03-02T16:00:00Z");
    // A new team member and a holiday on Tuesday (and a changed target: a rule body).
    let grown = BASE
        .replace("[\"ana@x.io\"]", "[\"ana@x.io\", \"ben@x.io\"]")
        .replace(
            "hours mon-fri 09:00-17:00 }",
            "hours mon-fri 09:00-17:00 holidays [2026-03-03] }",
        );
    let v2 = program(&grown);
    assert_eq!(engine.reload_incompatibility(&v2), None);
    engine.reload(v2, "v2").expect("compatible");
    created(&mut engine, "e3", "T-2", "2026-03-02T16:40:00Z");
    engine.advance_to("2026-03-05T00:00:00Z".parse().expect("time"));
    let (entries, _) = engine.drain();
    let deployed = kinds(&entries, "deployed");
    assert_eq!(deployed.len(), 1, "{deployed:?}");
    assert!(
        deployed[0].contains(r#""rescheduled_clocks":1"#),
        "{deployed:?}"
    );
    // Tuesday is now a holiday: T-1's clock breaches Wednesday 12:00, not Tuesday 12:00,
    // and T-2's clock (started after the deployment) is on the new calendar.
    let breached = kinds(&entries, "sla_breached");
    assert!(
        breached
            .iter()
            .any(|b| b.starts_with("2026-03-04T12:00:00Z")),
        "{breached:#?}"
    );
    assert!(
        !breached
            .iter()
            .any(|b| b.starts_with("2026-03-03T12:00:00Z")),
        "the stale timer must not fire: {breached:#?}"
    );
    assert!(
        breached
            .iter()
            .any(|b| b.starts_with("2026-03-04T12:40:00Z")),
        "{breached:#?}"
    );
    assert_eq!(breached.len(), 2, "{breached:#?}");
    assert!(kinds(&entries, "eval_error").is_empty());
}

#[test]
fn changed_meanings_are_refused_with_the_reason() {
    let engine = Engine::new(program(BASE), "v1").expect("loads");
    // Enums, events, facts, teams and SLA policies are carried by name (tests/migrate.rs),
    // and so are calendars, gates, connector actions and automations
    // (tests/migrate_flow.rs); what a kept declaration means may not change.
    let cases = [
        (
            BASE.replace(
                "record Ticket { id: String, tier: Tier }",
                "record Ticket { id: String, tier: Tier, vip: Bool? }",
            ),
            "record Ticket changes its fields",
        ),
        (
            BASE.replace("enum Klass", "enum Kind")
                .replace("classify Klass", "classify Kind"),
            "the classification's enum",
        ),
    ];
    for (text, want) in cases {
        let why = engine
            .reload_incompatibility(&program(&text))
            .unwrap_or_else(|| panic!("accepted: {want}"));
        assert!(why.contains(want), "{want}: {why}");
    }
}

#[test]
fn a_deadline_the_new_calendar_puts_in_the_past_breaches_right_after_the_deployment() {
    // Monday is a holiday: a clock started Monday 10:00 counts from Tuesday 09:00.
    let holiday = BASE.replace(
        "hours mon-fri 09:00-17:00 }",
        "hours mon-fri 09:00-17:00 holidays [2026-03-02] }",
    );
    let mut engine = Engine::new(program(&holiday), "v1").expect("loads");
    created(&mut engine, "e1", "T-1", "2026-03-02T10:00:00Z");
    engine.advance_to("2026-03-02T15:00:00Z".parse().expect("time"));
    // Without the holiday, 4 business hours from Monday 10:00 ended at 14:00.
    engine.reload(program(BASE), "v2").expect("compatible");
    let (entries, _) = engine.drain();
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    let deployed = kinds
        .iter()
        .position(|k| *k == "deployed")
        .expect("deployed");
    let breached = kinds
        .iter()
        .position(|k| *k == "sla_breached")
        .expect("breached");
    assert!(deployed < breached, "{kinds:?}");
    assert_eq!(entries[breached].at, "2026-03-02T15:00:00Z");
    assert!(
        entries[deployed]
            .detail
            .to_string()
            .contains(r#""rescheduled_clocks":1"#)
    );
}
