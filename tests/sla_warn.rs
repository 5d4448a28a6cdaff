//! `warn at 0%` fires when the clock starts running (docs/language.md §9.2; issue 15, item
//! 12): at once on a clock that starts running, and on the resume of one that starts
//! paused, never while it is paused.

use meshline_runtime::Engine;

use crate::reload::program;

const RULES: &str = r#"
enum Klass { Billing, Triage }
event CaseOpened { topic: String, hold: Bool }
event Released { hold: Bool }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on CaseOpened {
  Billing when topic == "billing"
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
sla first_look for Billing {
  start on CaseOpened
  pause when hold
  target 4h
  warn at 0% -> notify leads
  breach -> escalate
}
"#;

/// `kind rule` of each entry about the SLA.
fn sla_lines(engine: &mut Engine) -> Vec<String> {
    engine
        .drain()
        .0
        .iter()
        .filter(|e| e.rule.as_deref() == Some("first_look"))
        .map(|e| format!("{} {}", e.at, e.kind))
        .collect()
}

#[test]
fn warn_at_zero_percent_fires_when_the_clock_starts() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    engine.apply_line(
        r#"{"id":"e1","type":"CaseOpened","at":"2026-03-02T10:00:00Z","case":"C-1","data":{"topic":"billing","hold":false}}"#,
    );
    assert_eq!(
        sla_lines(&mut engine),
        [
            "2026-03-02T10:00:00Z sla_started",
            "2026-03-02T10:00:00Z sla_warned",
            "2026-03-02T10:00:00Z notified",
        ]
    );
}

#[test]
fn warn_at_zero_percent_waits_for_a_paused_clock_to_run() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    engine.apply_line(
        r#"{"id":"e1","type":"CaseOpened","at":"2026-03-02T10:00:00Z","case":"C-1","data":{"topic":"billing","hold":true}}"#,
    );
    engine.apply_line(
        r#"{"id":"e2","type":"Released","at":"2026-03-02T11:00:00Z","case":"C-1","data":{"hold":false}}"#,
    );
    assert_eq!(
        sla_lines(&mut engine),
        [
            "2026-03-02T10:00:00Z sla_started",
            "2026-03-02T10:00:00Z sla_paused",
            "2026-03-02T11:00:00Z sla_resumed",
            "2026-03-02T11:00:00Z sla_warned",
            "2026-03-02T11:00:00Z notified",
        ]
    );
}
