//! Facts that are not set yet (docs/language.md §4.5, §6.1; issue 15, item 14): `?.`, `??`
//! and `== none` / `!= none` read an unset fact as `none`, whatever its declared type; a
//! plain `fact.field` on it stays an evaluation error, but an error in an SLA, gate or
//! automation condition never changes the assignee, and a repeated identical error is
//! recorded once per case and rule until it changes (also across a snapshot).

use meshline_runtime::Engine;

use crate::reload::program;

/// `charge` is a fact only `PaymentFailed` sets (std.billing, imported by name).
const RULES: &str = r#"
import std.billing.{PaymentFailed}
enum Klass { Billing, Triage }
event CaseOpened { topic: String }
event Nudged { note: String }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
team revenue_ops { members ["rev@x.io"] }
classify Klass on CaseOpened {
  Billing when topic == "billing"
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
route billing_desk on CaseOpened when topic == "billing" { assign revenue_ops }
sla plain for Billing {
  start on CaseOpened
  pause when charge.status == Failed
  target 4h
  breach -> escalate
}
sla safe for Billing {
  start on CaseOpened
  pause when charge?.status == Failed
  stop on Nudged when (failure_code ?? "") == "card_declined"
  target 4h
  breach -> escalate
}
sla guarded for Billing {
  start on CaseOpened
  pause when charge != none and charge.status == Failed
  target 4h
  breach -> escalate
}
"#;

const OPENED: &str = r#"{"id":"e1","type":"CaseOpened","at":"2026-03-02T10:00:00Z","case":"C-1","data":{"topic":"billing"}}"#;

fn nudged(id: &str, at: &str) -> String {
    format!(r#"{{"id":"{id}","type":"Nudged","at":"{at}","case":"C-1","data":{{"note":"ping"}}}}"#)
}

fn failed(id: &str, at: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"PaymentFailed","at":"{at}","case":"C-1","data":{{"charge":{{"id":"ch_1","customer":"cus_1","amount":"40.00 USD","amount_refunded":"0.00 USD","status":"Failed","created_at":"2026-03-02T09:00:00Z"}},"failure_code":"card_declined","attempt":1}}}}"#
    )
}

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

fn assignee(engine: &Engine) -> Option<String> {
    engine.case_view("C-1").and_then(|v| v.assignee)
}

#[test]
fn an_unset_fact_in_a_pause_is_one_error_and_keeps_the_routes_assignee() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    engine.apply_line(OPENED);
    engine.apply_line(&nudged("e2", "2026-03-02T10:05:00Z"));
    engine.apply_line(&nudged("e3", "2026-03-02T10:10:00Z"));
    let log = lines(&mut engine);
    let errors: Vec<&String> = log.iter().filter(|l| l.starts_with("eval_error")).collect();
    // Only `plain` (a plain `charge.status`) fails, and only once over three events.
    assert_eq!(
        errors,
        [r#"eval_error plain {"error":"case fact `charge` has no value yet"}"#],
        "{log:#?}"
    );
    assert!(
        !log.iter().any(|l| l.contains("exception")),
        "an SLA condition error must not reassign: {log:#?}"
    );
    assert_eq!(assignee(&engine).as_deref(), Some("revenue_ops"));
    assert_eq!(
        engine.case_view("C-1").expect("case").slas,
        [
            ("plain".to_string(), "running"),
            ("safe".to_string(), "running"),
            ("guarded".to_string(), "running"),
        ]
    );
}

#[test]
fn optional_reads_see_none_until_the_fact_arrives_then_its_value() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    engine.apply_line(OPENED);
    engine.apply_line(&failed("e2", "2026-03-02T10:05:00Z"));
    let log = lines(&mut engine);
    // Once `charge` is set, all three pause; `plain`'s error is news no more.
    for sla in ["plain", "safe", "guarded"] {
        assert!(
            log.contains(&format!("sla_paused {sla} {{}}")),
            "{sla} did not pause: {log:#?}"
        );
    }
    // `failure_code ?? ""` read the unset fact as none on the first event, and the
    // failure code now: the stop on `Nudged` applies.
    engine.apply_line(&nudged("e3", "2026-03-02T10:10:00Z"));
    let log = lines(&mut engine);
    assert!(
        log.iter().any(|l| l.starts_with("sla_met safe")),
        "{log:#?}"
    );
    assert!(!log.iter().any(|l| l.starts_with("eval_error")), "{log:#?}");
}

/// `remark` is optional: `remark!` fails while it is none.
const BANG: &str = r#"
event Noted { remark: String? }
sla bang for Billing {
  start on CaseOpened
  pause when "hold" == remark!
  target 4h
  breach -> escalate
}
"#;

fn noted(id: &str, at: &str, remark: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"Noted","at":"{at}","case":"C-1","data":{{"remark":{remark}}}}}"#
    )
}

#[test]
fn an_error_that_returns_after_a_success_is_recorded_again() {
    let mut engine = Engine::new(program(&format!("{RULES}{BANG}")), "v1").expect("loads");
    engine.apply_line(OPENED);
    engine.apply_line(&noted("e2", "2026-03-02T10:05:00Z", "null"));
    engine.apply_line(&noted("e3", "2026-03-02T10:10:00Z", r#""fine""#));
    engine.apply_line(&noted("e4", "2026-03-02T10:15:00Z", "null"));
    engine.apply_line(&noted("e5", "2026-03-02T10:20:00Z", "null"));
    let log = lines(&mut engine);
    let bang: Vec<&String> = log
        .iter()
        .filter(|l| l.starts_with("eval_error bang"))
        .collect();
    // e1 (recorded), e2 (same: not again), e3 (evaluates: forgotten), e4 (news), e5 (not).
    assert_eq!(bang.len(), 2, "{log:#?}");
}

#[test]
fn the_remembered_error_survives_a_snapshot() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    engine.apply_line(OPENED);
    lines(&mut engine);
    let bytes = engine.snapshot().expect("snapshot");
    let mut restored = Engine::restore(program(RULES), "v1", &bytes).expect("restores");
    restored.apply_line(&nudged("e2", "2026-03-02T10:05:00Z"));
    let log = lines(&mut restored);
    assert!(!log.iter().any(|l| l.starts_with("eval_error")), "{log:#?}");
    // And the restored engine writes what one that never stopped writes.
    engine.apply_line(&nudged("e2", "2026-03-02T10:05:00Z"));
    assert_eq!(
        lines(&mut engine),
        log,
        "a restored engine must decide as the original"
    );
}
