//! One input per rejection reason: `apply_*` returns the outcome, and a `rejected` outcome's
//! reason is the one the ledger entry records.

use serde_json::json;

use super::{ApplyOutcome, RejectReason};
use crate::engine::{Engine, Envelope};
use crate::ir::{EventDef, FieldDef, Program, SlotDef, WireTy};
use crate::value::{DecodeError, PathStep, Problem, Value};

const HASH: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn engine() -> Engine {
    let event = |name: &str| EventDef {
        name: name.into(),
        fields: vec![FieldDef {
            name: "amount".into(),
            ty: WireTy::Int,
        }],
        slots: vec![0],
        updates_facts: true,
        builtin: None,
    };
    let program = Program {
        package: "p".into(),
        version: "1".into(),
        events: vec![event("Paid"), event("Opened")],
        slots: vec![SlotDef {
            name: "amount".into(),
            ty: WireTy::Int,
            fact: true,
        }],
        ..Default::default()
    };
    Engine::new(program, HASH).unwrap()
}

/// The outcome of `line`, checked against the one ledger entry it wrote.
fn outcome_of(e: &mut Engine, line: &[u8]) -> ApplyOutcome {
    let outcome = e.apply_bytes(line);
    let (entries, _) = e.drain();
    let last = entries.last().unwrap();
    let kind = match &outcome {
        ApplyOutcome::Accepted => "received",
        ApplyOutcome::Duplicate => "duplicate",
        ApplyOutcome::Rejected(r) => {
            assert_eq!(last.detail["reason"], json!(r.recorded()));
            "rejected"
        }
    };
    assert!(entries.iter().any(|x| x.kind == kind), "{entries:?}");
    outcome
}

fn rejected(line: &str) -> RejectReason {
    match outcome_of(&mut engine(), line.as_bytes()) {
        ApplyOutcome::Rejected(r) => r,
        other => panic!("{line}: {other:?}"),
    }
}

const AT: &str = "2026-01-05T10:00:00Z";

#[test]
fn accepted_then_duplicate() {
    let mut e = engine();
    let line =
        format!(r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","data":{{"amount":3}}}}"#);
    assert_eq!(outcome_of(&mut e, line.as_bytes()), ApplyOutcome::Accepted);
    assert_eq!(outcome_of(&mut e, line.as_bytes()), ApplyOutcome::Duplicate);
    // A redelivery is a duplicate even if it is malformed (dedupe comes first).
    assert_eq!(
        outcome_of(&mut e, br#"{"id":"e1","type":"Nope"}"#),
        ApplyOutcome::Duplicate
    );
}

#[test]
fn each_reason_of_a_bad_line() {
    let ok = |over: &str| {
        format!(r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","data":{{"amount":3}}{over}}}"#)
    };
    let cases: Vec<(String, RejectReason, &str)> = vec![
        (
            "{".into(),
            RejectReason::NotJson(String::new()),
            "not valid JSON: ",
        ),
        (
            "[1]".into(),
            RejectReason::NotAnObject,
            "an envelope is a JSON object with id, type, at, case and data",
        ),
        (
            r#"{"id":1,"type":"Paid"}"#.into(),
            RejectReason::IdNotString,
            "`id` must be a string",
        ),
        (
            r#"{"type":"Paid"}"#.into(),
            RejectReason::MissingId,
            "missing `id` (a unique string)",
        ),
        (
            r#"{"id":"","type":"Paid"}"#.into(),
            RejectReason::EmptyId,
            "`id` is empty",
        ),
        (
            r#"{"id":"e1"}"#.into(),
            RejectReason::MissingType,
            "missing `type` (the event name)",
        ),
        (
            r#"{"id":"e1","type":"Lost"}"#.into(),
            RejectReason::UnknownType {
                found: "Lost".into(),
                receives: vec!["Opened".into(), "Paid".into()],
            },
            "unknown event type `Lost` (this bundle receives: Opened, Paid)",
        ),
        (
            r#"{"id":"e1","type":"Paid"}"#.into(),
            RejectReason::MissingCase,
            "missing `case` (the ticket's id)",
        ),
        (
            r#"{"id":"e1","type":"Paid","case":""}"#.into(),
            RejectReason::EmptyCase,
            "`case` is empty",
        ),
        (
            r#"{"id":"e1","type":"Paid","case":"c","at":"soon"}"#.into(),
            RejectReason::BadTimestamp(String::new()),
            "`at` is not an RFC 3339 timestamp: ",
        ),
        (
            r#"{"id":"e1","type":"Paid","case":"c"}"#.into(),
            RejectReason::MissingTimestamp,
            "missing `at` (an RFC 3339 timestamp)",
        ),
        (
            ok(r#","extra":1"#),
            RejectReason::UnknownKey("extra".into()),
            "unknown envelope key `extra`",
        ),
        (
            format!(r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","data":[1]}}"#),
            RejectReason::DataNotObject("[1]".into()),
            "`data` must be an object, found [1]",
        ),
        (
            format!(
                r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","data":{{"amount":"x"}}}}"#
            ),
            RejectReason::BadData {
                event: "Paid".into(),
                error: Box::new(DecodeError {
                    path: vec![PathStep::Field("amount".into())],
                    problem: Problem::Expected {
                        what: "a whole number".into(),
                        found: "\"x\"".into(),
                    },
                }),
            },
            "Paid: field `amount`: expected a whole number, found \"x\"",
        ),
        (
            format!(
                r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","data":{{"amount":3,"x":1}}}}"#
            ),
            RejectReason::BadData {
                event: "Paid".into(),
                error: Box::new(DecodeError {
                    path: Vec::new(),
                    problem: Problem::UnknownField {
                        field: "x".into(),
                        fields: vec!["amount".into()],
                    },
                }),
            },
            "Paid: unknown field `x` (fields: amount)",
        ),
    ];
    for (line, want, text) in cases {
        let got = rejected(&line);
        // Reasons that quote a parser's message are compared by variant and text prefix.
        assert_eq!(
            std::mem::discriminant(&got),
            std::mem::discriminant(&want),
            "{line}"
        );
        if !matches!(
            want,
            RejectReason::NotJson(_) | RejectReason::BadTimestamp(_)
        ) {
            assert_eq!(got, want, "{line}");
        }
        assert!(got.to_string().starts_with(text), "{line}: {got}");
    }
}

#[test]
fn bytes_that_are_not_utf8() {
    let got = rejected_bytes(b"{\"id\":\"\xff\"}");
    assert_eq!(got, RejectReason::NotUtf8 { valid_up_to: 7 });
    assert_eq!(got.to_string(), "not valid UTF-8 (at byte 7)");
}

fn rejected_bytes(line: &[u8]) -> RejectReason {
    match outcome_of(&mut engine(), line) {
        ApplyOutcome::Rejected(r) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_envelope_built_in_code_that_does_not_fit() {
    let mut e = engine();
    let env = Envelope {
        id: "e1".into(),
        event: 0,
        at: AT.parse().unwrap(),
        case: "c".into(),
        values: vec![Value::None, Value::None],
    };
    assert_eq!(
        e.apply(env),
        ApplyOutcome::Rejected(RejectReason::ValuesMismatch)
    );
    assert_eq!(
        RejectReason::ValuesMismatch.to_string(),
        "the envelope's values do not match its event's declaration"
    );
}

#[test]
fn a_long_reason_is_recorded_bounded() {
    let key = "k".repeat(2000);
    let got = rejected(&format!(
        r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","{key}":1}}"#
    ));
    assert_eq!(got, RejectReason::UnknownKey(key));
    let recorded = got.recorded();
    assert!(recorded.len() <= 512 + '…'.len_utf8() && recorded.ends_with('…'));
}
