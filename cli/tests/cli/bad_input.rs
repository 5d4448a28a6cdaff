//! Bad input to `meshline run` (§6.1, §6.2, §7.13): every bad line is recorded with a
//! reason and the run goes on; duplicates are recorded and ignored; late events are
//! applied at the clock and marked late; nothing is silently dropped; exit status 0.

use serde_json::{Value, json};

use crate::common::{self, envelope, refund_requested, ticket, ticket_created};

/// What the intake entry of one line must be.
struct Expect {
    line: String,
    kind: &'static str,
    /// `None`: `case` must be null; `Some(c)`: it must be `c`.
    case: Option<&'static str>,
    /// Words the rejection reason must contain.
    reason: &'static [&'static str],
}

fn ok(line: String, case: &'static str) -> Expect {
    Expect {
        line,
        kind: "received",
        case: Some(case),
        reason: &[],
    }
}

fn rejected(line: String, case: Option<&'static str>, reason: &'static [&'static str]) -> Expect {
    Expect {
        line,
        kind: "rejected",
        case,
        reason,
    }
}

fn dup(line: String, case: &'static str) -> Expect {
    Expect {
        line,
        kind: "duplicate",
        case: Some(case),
        reason: &[],
    }
}

fn reply(id: &str, at: &str, case: &str) -> String {
    envelope(
        id,
        "ReplySent",
        at,
        case,
        json!({ "by": "agent@tallyhub.com", "public": true }),
    )
}

/// Monday 2026-03-02, New York business hours (13:00Z-23:00Z).
fn script() -> Vec<Expect> {
    let t2 = ticket_created("ev-6", "2026-03-02T16:00:00Z", "T-2", &["refund"], "Normal");
    let mut bad_tags = ticket("T-2", &[], "Normal", "New");
    bad_tags["tags"] = json!("refund");
    let mut bad_channel: Value = serde_json::from_str(&t2).unwrap();
    bad_channel["id"] = json!("ev-14");
    bad_channel["data"]["channel"] = json!("Pigeon");
    let mut no_amount: Value = serde_json::from_str(&refund_requested(
        "ev-5",
        "2026-03-02T15:05:00Z",
        "T-1",
        "79.00 USD",
        "a@b.io",
    ))
    .unwrap();
    no_amount["data"].as_object_mut().unwrap().remove("amount");
    let bad_money = refund_requested(
        "ev-15",
        "2026-03-02T16:10:00Z",
        "T-1",
        "79 dollars",
        "a@b.io",
    );
    let bad_person = refund_requested("ev-17", "2026-03-02T16:10:00Z", "T-1", "79.00 USD", "bob");
    let payment_failed = envelope(
        "ev-16",
        "PaymentFailed",
        "2026-03-02T16:10:00Z",
        "ch_1",
        json!({
            "charge": { "id": "ch_1", "customer": "cus_1", "amount": "10.00 USD",
                        "amount_refunded": "0.00 USD", "status": "Failed",
                        "created_at": "2026-03-02T16:00:00Z" },
            "failure_code": "processing_error", "attempt": "1",
        }),
    );
    vec![
        ok(ticket_created("ev-1", "2026-03-02T15:00:00Z", "T-1", &["refund"], "Normal"), "T-1"),
        rejected("this is not json".into(), None, &["not valid JSON"]),
        rejected(
            envelope("ev-3", "NoSuchEvent", "2026-03-02T15:01:00Z", "T-1", json!({})),
            None,
            &["unknown event type `NoSuchEvent`", "TicketCreated"],
        ),
        rejected(
            envelope("ev-4", "TicketCreated", "2026-03-02T15:02:00Z", "T-2",
                     json!({ "ticket": bad_tags, "channel": "Email" })),
            Some("T-2"),
            &["field `ticket`", "tags", "expected a list"],
        ),
        rejected(no_amount.to_string(), Some("T-1"), &["missing field `amount`"]),
        ok(t2.clone(), "T-2"),
        // Late: stamped 15:30, the clock is at 16:00.
        ok(reply("ev-7", "2026-03-02T15:30:00Z", "T-1"), "T-1"),
        // The same delivery again, and another event reusing ev-1's id.
        dup(t2, "T-2"),
        dup(reply("ev-1", "2026-03-02T16:05:00Z", "T-2"), "T-2"),
        rejected("[1, 2, 3]".into(), None, &["JSON object"]),
        rejected("{}".into(), None, &["missing `id`"]),
        rejected(
            envelope("ev-12", "ReplySent", "yesterday", "T-1", json!({ "by": "a@b.io", "public": true })),
            Some("T-1"),
            &["`at` is not an RFC 3339 timestamp"],
        ),
        rejected(
            json!({ "id": "ev-13", "type": "ReplySent", "at": "2026-03-02T16:10:00Z", "case": "T-1",
                    "data": { "by": "a@b.io", "public": true }, "extra": 1 }).to_string(),
            Some("T-1"),
            &["unknown envelope key `extra`"],
        ),
        rejected(bad_channel.to_string(), Some("T-2"), &["field `channel`", "Pigeon", "Email"]),
        rejected(bad_money, Some("T-1"), &["field `amount`", "money"]),
        rejected(payment_failed, Some("ch_1"), &["field `attempt`", "whole number"]),
        rejected(bad_person, Some("T-1"), &["field `requested_by`", "person"]),
        rejected(
            envelope("ev-18", "ReplySent", "2026-03-02T16:10:00Z", "T-1",
                     json!({ "by": "a@b.io", "public": true, "mood": "happy" })),
            Some("T-1"),
            &["unknown field `mood`"],
        ),
        rejected(
            envelope("ev-19", "ReplySent", "2026-03-02T16:10:00Z", "T-1", json!("hello")),
            Some("T-1"),
            &["`data` must be an object"],
        ),
        rejected(
            envelope("ev-20", "ReplySent", "2026-03-02T16:10:00Z", "T-1", Value::Null),
            Some("T-1"),
            &["missing field `by`"],
        ),
        rejected(
            json!({ "id": 21, "type": "ReplySent", "at": "2026-03-02T16:10:00Z", "case": "T-1",
                    "data": { "by": "a@b.io", "public": true } }).to_string(),
            Some("T-1"),
            &["`id`"],
        ),
        rejected(
            envelope("ev-22", "ReplySent", "2026-03-02T16:10:00Z", "", json!({ "by": "a@b.io", "public": true })),
            None,
            &["`case` is empty"],
        ),
        rejected(format!("{} trailing", reply("ev-23", "2026-03-02T16:10:00Z", "T-1")), None, &["not valid JSON"]),
        // The run goes on: a good event after all that is applied.
        ok(reply("ev-24", "2026-03-02T16:30:00Z", "T-2"), "T-2"),
        // An id whose first delivery was rejected can be delivered again, correctly.
        ok(reply("ev-3", "2026-03-02T16:31:00Z", "T-2"), "T-2"),
        // Very late: a new case stamped the day before is opened at the clock.
        ok(ticket_created("ev-26", "2026-03-01T00:00:00Z", "T-3", &["invoice"], "High"), "T-3"),
    ]
}

#[test]
fn every_bad_line_is_recorded_and_the_run_goes_on() {
    let script = script();
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    std::fs::write(&bundle, common::refunds_bundle()).expect("write bundle");
    let events = dir.path().join("events.jsonl");
    // Blank lines are not events; they are skipped.
    let mut text = String::new();
    for (i, e) in script.iter().enumerate() {
        text.push_str(&e.line);
        text.push('\n');
        if i == 3 {
            text.push_str("   \n\n");
        }
    }
    std::fs::write(&events, &text).expect("write events");
    let run = common::run_cli(dir.path(), &bundle, &events, None);
    meshline_runtime::ledger::verify(&run.ledger).expect("the ledger verifies");
    let entries = common::parse_ledger(&run.ledger);

    // One intake entry per line, in order.
    let intake: Vec<_> = entries
        .iter()
        .filter(|e| common::is_intake(&e.kind))
        .collect();
    assert_eq!(
        intake.len(),
        script.len(),
        "nothing dropped, nothing invented"
    );
    for (i, (exp, e)) in script.iter().zip(&intake).enumerate() {
        let ctx = format!(
            "line {}: {}\n  entry: {} {:?} {}",
            i + 1,
            exp.line,
            e.kind,
            e.case,
            e.detail
        );
        assert_eq!(e.kind, exp.kind, "{ctx}");
        assert_eq!(e.case.as_deref(), exp.case, "{ctx}");
        if exp.kind == "rejected" {
            let reason = e.detail["reason"]
                .as_str()
                .unwrap_or_else(|| panic!("no reason: {ctx}"));
            for w in exp.reason {
                assert!(reason.contains(w), "reason lacks {w:?}: {ctx}");
            }
            assert!(e.rule.is_none(), "{ctx}");
        }
        // The envelope id is recorded whenever there is one.
        if let Ok(v) = serde_json::from_str::<Value>(&exp.line)
            && let Some(id) = v.get("id").and_then(Value::as_str)
        {
            assert_eq!(e.detail["id"], id, "{ctx}");
        }
    }

    // §7.13: unparsable lines and unknown types are stamped with the runtime clock.
    let not_json = intake[1];
    assert_eq!(not_json.at, "2026-03-02T15:00:00Z");
    assert_eq!(intake[2].at, "2026-03-02T15:00:00Z");

    // §6.2: the late ReplySent is applied at the clock (16:00), keeps its own `at`, is
    // marked late, and stops T-1's first_response clock then: 1h of business time.
    let late = intake[6];
    assert_eq!(late.at, "2026-03-02T16:00:00Z");
    assert_eq!(late.detail["at"], "2026-03-02T15:30:00Z");
    assert_eq!(late.detail["late"], true);
    let met = entries
        .iter()
        .find(|e| e.case.as_deref() == Some("T-1") && e.kind == "sla_met")
        .expect("T-1's first_response is met");
    assert_eq!(
        (met.at.as_str(), &met.detail["elapsed"]),
        ("2026-03-02T16:00:00Z", &json!("1h"))
    );
    // On-time entries are not marked late.
    assert!(intake[0].detail.get("late").is_none());

    // The duplicate of ev-1 (a ReplySent on T-2) was ignored: T-2's clock stops only at
    // ev-24, 16:30.
    let t2_met: Vec<_> = entries
        .iter()
        .filter(|e| e.case.as_deref() == Some("T-2") && e.kind == "sla_met")
        .collect();
    assert_eq!(t2_met.len(), 1);
    assert_eq!(t2_met[0].at, "2026-03-02T16:30:00Z");

    // The very late ticket opens its case at the clock: the acknowledgement is due 30m
    // after the clock, not after its own stamp.
    let owned = entries
        .iter()
        .find(|e| e.case.as_deref() == Some("T-3") && e.kind == "owned")
        .expect("T-3 is owned");
    assert_eq!(owned.at, "2026-03-02T16:31:00Z");
    assert_eq!(owned.detail["acknowledge_by"], "2026-03-02T17:01:00Z");

    // The ledger's clock never goes back.
    for w in entries.windows(2) {
        assert!(w[0].at <= w[1].at, "clock went back at seq {}", w[1].seq);
    }

    // The summary counts what was recorded.
    let received = script.iter().filter(|e| e.kind == "received").count();
    let rej = script.iter().filter(|e| e.kind == "rejected").count();
    let dups = script.iter().filter(|e| e.kind == "duplicate").count();
    assert!(
        run.out.stderr.starts_with(&format!(
            "refunds 0.3.0: {} events ({rej} rejected, {dups} duplicate), ",
            received + rej + dups
        )),
        "{}",
        run.out.stderr
    );
}

/// The same script fed one line at a time in-process never panics and writes the same
/// ledger as the CLI.
#[test]
fn bad_lines_in_process_match_the_cli() {
    let script = script();
    let mut lab = common::Lab::refunds();
    for e in &script {
        let out = lab.send(&e.line);
        assert!(!out.is_empty(), "no entry for {}", e.line);
        // A rejected or duplicate line changes nothing: it writes exactly one entry (and
        // fires no timers, since it does not move the clock).
        if e.kind != "received" {
            assert_eq!(common::kind_list(&out), [e.kind], "{}", e.line);
        }
    }
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    std::fs::write(&bundle, common::refunds_bundle()).expect("write bundle");
    let events = dir.path().join("events.jsonl");
    let text: String = script.iter().map(|e| e.line.clone() + "\n").collect();
    std::fs::write(&events, text).expect("write events");
    let run = common::run_cli(dir.path(), &bundle, &events, None);
    assert_eq!(lab.ledger_text(), run.ledger);
}

/// CRLF line endings (a file from Windows) are read like LF.
#[test]
fn crlf_events_equal_lf_events() {
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    std::fs::write(&bundle, common::refunds_bundle()).expect("write bundle");
    let lf = common::sample_events("refunds");
    let crlf = dir.path().join("crlf.jsonl");
    let text = std::fs::read_to_string(&lf).expect("sample");
    std::fs::write(&crlf, text.replace('\n', "\r\n")).expect("write");
    let a_dir = dir.path().join("a");
    let b_dir = dir.path().join("b");
    std::fs::create_dir_all(&a_dir).unwrap();
    std::fs::create_dir_all(&b_dir).unwrap();
    let a = common::run_cli(&a_dir, &bundle, &lf, None);
    let b = common::run_cli(&b_dir, &bundle, &crlf, None);
    assert_eq!(a.ledger, b.ledger);
    assert!(!b.ledger.contains("rejected"));
}

/// An empty events file is a run over nothing: exit 0, empty ledger.
#[test]
fn an_empty_stream_is_fine() {
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    std::fs::write(&bundle, common::refunds_bundle()).expect("write bundle");
    let events = dir.path().join("empty.jsonl");
    std::fs::write(&events, "").expect("write");
    let run = common::run_cli(dir.path(), &bundle, &events, Some("2026-03-02T00:00:00Z"));
    assert_eq!(run.ledger, "");
    assert_eq!(run.commands, "");
    assert!(
        run.out
            .stderr
            .contains("0 events (0 rejected, 0 duplicate), 0 cases"),
        "{}",
        run.out.stderr
    );
}

/// Usage and I/O errors exit 2 with a message.
#[test]
fn usage_and_io_errors_exit_2() {
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    std::fs::write(&bundle, common::refunds_bundle()).expect("write bundle");
    let events = common::sample_events("refunds");
    let b = bundle.as_os_str();
    let e = events.as_os_str();
    let until = common::meshline([
        "run".as_ref(),
        "--bundle".as_ref(),
        b,
        "--events".as_ref(),
        e,
        "--until".as_ref(),
        "next week".as_ref(),
    ]);
    until.assert_code(2, "--until garbage");
    assert!(until.stderr.contains("--until"), "{}", until.stderr);
    let missing = dir.path().join("missing.jsonl");
    let m = common::meshline([
        "run".as_ref(),
        "--bundle".as_ref(),
        b,
        "--events".as_ref(),
        missing.as_os_str(),
    ]);
    m.assert_code(2, "missing events file");
    assert!(m.stderr.contains("missing.jsonl"), "{}", m.stderr);
    let unwritable = dir.path().join("no-such-dir").join("ledger.jsonl");
    common::meshline([
        "run".as_ref(),
        "--bundle".as_ref(),
        b,
        "--events".as_ref(),
        e,
        "--ledger".as_ref(),
        unwritable.as_os_str(),
    ])
    .assert_code(2, "unwritable ledger");
    common::meshline(["run".as_ref(), "--bundle".as_ref(), b]).assert_code(2, "no --events");
    common::meshline([
        "run".as_ref(),
        "--bundle".as_ref(),
        b,
        "--events".as_ref(),
        e,
        "--frobnicate".as_ref(),
    ])
    .assert_code(2, "unknown flag");
}

/// A line that is not UTF-8 is a malformed line like any other: recorded as rejected,
/// and the run goes on with the next line.
#[test]
fn a_non_utf8_line_is_rejected_and_the_run_goes_on() {
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    std::fs::write(&bundle, common::refunds_bundle()).expect("write bundle");
    let events = dir.path().join("events.jsonl");
    let mut bytes = Vec::new();
    bytes.extend_from_slice(
        ticket_created("ev-1", "2026-03-02T15:00:00Z", "T-1", &["refund"], "Normal").as_bytes(),
    );
    bytes.extend_from_slice(b"\n{\"id\":\"ev-2\",\"type\":\"ReplySent\",\"note\":\"caf\xe9\"}\n");
    bytes.extend_from_slice(reply("ev-3", "2026-03-02T15:30:00Z", "T-1").as_bytes());
    bytes.push(b'\n');
    std::fs::write(&events, bytes).expect("write");
    let run = common::run_cli(dir.path(), &bundle, &events, None);
    let entries = common::parse_ledger(&run.ledger);
    let intake: Vec<_> = entries
        .iter()
        .filter(|e| common::is_intake(&e.kind))
        .collect();
    assert_eq!(
        intake.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(),
        ["received", "rejected", "received"]
    );
    assert!(entries.iter().any(|e| e.kind == "sla_met"));
}
