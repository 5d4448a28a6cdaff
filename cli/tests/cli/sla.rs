//! SLA clocks through the engine (§3.6, §7.11): wall-clock breach at the exact instant,
//! pause/resume, business hours over a weekend, the Europe/London DST change and a
//! holiday, stop → met, reset → a new cycle. Expected instants are worked out by hand in
//! the comments (London is UTC+0 until 2026-03-29 01:00 UTC, UTC+1 after).

use std::sync::OnceLock;

use meshline_runtime::ledger::Entry;
use serde_json::json;

use crate::common::{self, Lab, envelope, ticket};

const RULES: &str = r#"
import std.helpdesk.{TicketCreated, TicketUpdated, ReplySent, CustomerReplied}

enum Kind { Normal, Other }

classify Kind on TicketCreated, TicketUpdated {
  Other when ticket.type == "other"
  otherwise Normal
}

calendar london {
  timezone "Europe/London"
  hours mon-fri 09:00-17:30
  holidays [2026-04-03]
}

team desk { members ["ann@lab.io", "bob@lab.io"] calendar london }
team leads { members ["cat@lab.io"] calendar london }

owners {
  Normal -> desk escalate leads
  Other  -> desk escalate leads
  acknowledge within 1w
}

/// Wall clock: 2h of running time.
sla wall for Normal, Other {
  start on TicketCreated
  pause when ticket.status == Pending
  stop  on ReplySent when public
  reset on CustomerReplied
  target 2h
  warn at 50% -> notify assignee
  breach -> escalate
}

/// Business time in London.
sla biz for Normal {
  start on TicketCreated
  pause when ticket.status == OnHold
  stop  on ReplySent when public
  target by ticket.priority {
    Urgent -> 2 business days
    _      -> 4 business hours
  }
  calendar london
  breach -> notify leads
}
"#;

fn bundle() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let dir = common::project("sla-lab", &[("main.mesh", RULES)]);
        common::build(dir.path())
    })
}

fn created(at: &str, case: &str, priority: &str, status: &str) -> String {
    envelope(
        &format!("c-{case}-{at}"),
        "TicketCreated",
        at,
        case,
        json!({ "ticket": ticket(case, &[], priority, status), "channel": "Email" }),
    )
}

fn updated(at: &str, case: &str, priority: &str, status: &str) -> String {
    envelope(
        &format!("u-{case}-{at}"),
        "TicketUpdated",
        at,
        case,
        json!({ "ticket": ticket(case, &[], priority, status) }),
    )
}

fn reply(at: &str, case: &str, public: bool) -> String {
    envelope(
        &format!("r-{case}-{at}"),
        "ReplySent",
        at,
        case,
        json!({ "by": "ann@lab.io", "public": public }),
    )
}

fn customer(at: &str, case: &str) -> String {
    envelope(
        &format!("cr-{case}-{at}"),
        "CustomerReplied",
        at,
        case,
        json!({ "body": "hi" }),
    )
}

/// `(kind, at)` of the SLA entries of one policy on one case.
fn sla_log(lab: &Lab, case: &str, rule: &str) -> Vec<(String, String)> {
    lab.entries
        .iter()
        .filter(|e| e.case.as_deref() == Some(case) && e.rule.as_deref() == Some(rule))
        .filter(|e| e.kind.starts_with("sla_"))
        .map(|e| (e.kind.clone(), e.at.clone()))
        .collect()
}

fn log(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, a)| (k.to_string(), a.to_string()))
        .collect()
}

fn one<'a>(lab: &'a Lab, case: &str, rule: &str, kind: &str) -> &'a Entry {
    let v: Vec<&Entry> = lab
        .entries
        .iter()
        .filter(|e| {
            e.case.as_deref() == Some(case) && e.rule.as_deref() == Some(rule) && e.kind == kind
        })
        .collect();
    assert_eq!(
        v.len(),
        1,
        "one {kind} for {rule} on {case}:\n{}",
        lab.dump()
    );
    v[0]
}

// --- wall clock, through the CLI's --until ----------------------------------------------

#[test]
fn wall_clock_breach_fires_at_the_exact_instant_with_until() {
    let dir = common::tempdir();
    let bundle_path = dir.path().join("sla.meshb");
    std::fs::write(&bundle_path, bundle()).expect("write bundle");
    let events = dir.path().join("events.jsonl");
    std::fs::write(
        &events,
        created("2026-03-02T10:00:00Z", "T-1", "Normal", "New") + "\n",
    )
    .expect("write");

    let breached = |until: &str| -> Vec<Entry> {
        let run = common::run_cli(dir.path(), &bundle_path, &events, Some(until));
        common::parse_ledger(&run.ledger)
            .into_iter()
            .filter(|e| e.rule.as_deref() == Some("wall"))
            .collect()
    };
    // One second early: warned at 50% (11:00), not breached.
    let early = breached("2026-03-02T11:59:59Z");
    assert_eq!(
        common::kind_list(&early),
        ["sla_started", "sla_warned", "notified"]
    );
    assert_eq!(early[1].at, "2026-03-02T11:00:00Z");
    assert_eq!(early[2].detail["to"], "desk");
    // At the instant: breached at 12:00:00 exactly, then escalated.
    let on_time = breached("2026-03-02T12:00:00Z");
    assert_eq!(
        common::kind_list(&on_time),
        [
            "sla_started",
            "sla_warned",
            "notified",
            "sla_breached",
            "escalated",
            "assigned"
        ]
    );
    assert_eq!(on_time[3].at, "2026-03-02T12:00:00Z");
    assert_eq!(on_time[3].detail["elapsed"], "2h");
    assert_eq!(on_time[4].detail["to"], "leads");
    assert_eq!(on_time[5].detail["assignee"], "leads");
}

// --- in-process --------------------------------------------------------------------------

#[test]
fn pause_and_resume_push_the_wall_breach_out() {
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Open"));
    lab.send(&updated("2026-03-02T10:20:00Z", "T-1", "Normal", "Pending"));
    lab.send(&updated("2026-03-02T11:15:00Z", "T-1", "Normal", "Open"));
    // 20m ran before the pause; 1h40m remain from 11:15 → 12:55; 50% (1h) at 11:55.
    assert!(
        lab.advance("2026-03-02T12:54:59Z")
            .iter()
            .all(|e| e.kind != "sla_breached")
    );
    lab.advance("2026-03-02T13:00:00Z");
    assert_eq!(
        sla_log(&lab, "T-1", "wall"),
        log(&[
            ("sla_started", "2026-03-02T10:00:00Z"),
            ("sla_paused", "2026-03-02T10:20:00Z"),
            ("sla_resumed", "2026-03-02T11:15:00Z"),
            ("sla_warned", "2026-03-02T11:55:00Z"),
            ("sla_breached", "2026-03-02T12:55:00Z"),
        ])
    );
    assert_eq!(
        one(&lab, "T-1", "wall", "sla_breached").detail["elapsed"],
        "2h"
    );
}

#[test]
fn a_clock_started_while_its_pause_holds_starts_paused() {
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Pending"));
    lab.advance("2026-03-03T10:00:00Z");
    assert_eq!(
        sla_log(&lab, "T-1", "wall"),
        log(&[
            ("sla_started", "2026-03-02T10:00:00Z"),
            ("sla_paused", "2026-03-02T10:00:00Z")
        ])
    );
    // Resumed a day later: the full 2h are still ahead.
    lab.send(&updated("2026-03-03T10:00:00Z", "T-1", "Normal", "Open"));
    lab.advance("2026-03-03T13:00:00Z");
    assert_eq!(
        one(&lab, "T-1", "wall", "sla_breached").at,
        "2026-03-03T12:00:00Z"
    );
}

/// `(created at, priority, expected biz breach)`: 4 business hours, or 2 business days
/// for Urgent, in the London calendar (Mon-Fri 09:00-17:30, Good Friday closed).
const BUSINESS: &[(&str, &str, &str, &str)] = &[
    // Fri 15:30 GMT: 2h on Friday, 2h from Monday 09:00 → Mon 11:00 GMT.
    (
        "over a weekend",
        "2026-03-06T15:30:00Z",
        "Normal",
        "2026-03-09T11:00:00Z",
    ),
    // Sat noon: closed, counting starts Mon 09:00 → 13:00.
    (
        "started on a Saturday",
        "2026-03-07T12:00:00Z",
        "Normal",
        "2026-03-09T13:00:00Z",
    ),
    // Mon 13:30: exactly 4h to the 17:30 close → due at the closing instant.
    (
        "due at closing time",
        "2026-03-02T13:30:00Z",
        "Normal",
        "2026-03-02T17:30:00Z",
    ),
    // Fri 27 March 15:30 GMT: 2h on Friday; the clocks go forward on Sunday; Monday 09:00
    // BST is 08:00 UTC, + 2h → 10:00 UTC.
    (
        "over the DST change",
        "2026-03-27T15:30:00Z",
        "Normal",
        "2026-03-30T10:00:00Z",
    ),
    // Thu 26 March 16:00 GMT, 2 business days: Fri 27 (1), Mon 30 (2) at 16:00 BST.
    (
        "business days over DST",
        "2026-03-26T16:00:00Z",
        "Urgent",
        "2026-03-30T15:00:00Z",
    ),
    // Thu 2 April 11:00 BST, 2 business days: Good Friday is closed; Mon 6 (1), Tue 7 (2).
    (
        "business days over a holiday",
        "2026-04-02T10:00:00Z",
        "Urgent",
        "2026-04-07T10:00:00Z",
    ),
    // Thu 2 April 16:30 BST, 4h: 1h Thursday, Friday closed, 3h Monday → 12:00 BST.
    (
        "hours over a holiday weekend",
        "2026-04-02T15:30:00Z",
        "Normal",
        "2026-04-06T11:00:00Z",
    ),
];

#[test]
fn business_hours_breach_at_the_expected_instants() {
    let mut failures = Vec::new();
    for (label, at, priority, due) in BUSINESS {
        let mut lab = Lab::new(bundle());
        lab.send(&created(at, "T-1", priority, "Open"));
        // One second before: not breached. At the instant: breached.
        let before = common::ts(due)
            .checked_sub(jiff::SignedDuration::from_secs(1))
            .expect("in range");
        lab.engine.advance_to(before);
        lab.advance(due);
        let log = sla_log(&lab, "T-1", "biz");
        let breach: Vec<&(String, String)> =
            log.iter().filter(|(k, _)| k == "sla_breached").collect();
        if breach.len() != 1 || breach[0].1 != *due {
            failures.push(format!(
                "{label}: created {at}, expected breach at {due}, got {log:?}"
            ));
            continue;
        }
        // The breach notifies the leads (a command goes out).
        assert!(
            lab.commands
                .iter()
                .any(|c| c.body["kind"] == "notify" && c.body["to"] == "leads")
        );
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn a_pause_over_closed_hours_pushes_a_business_deadline_by_the_open_time_it_spans() {
    let mut lab = Lab::new(bundle());
    // Fri 15:00: 4 business hours. On hold 16:00 (1h counted) → Mon 10:00 (the pause
    // spans 1h30m of Friday and 1h of Monday). 3h remain from Mon 10:00 → 13:00.
    lab.send(&created("2026-03-06T15:00:00Z", "T-1", "Normal", "Open"));
    lab.send(&updated("2026-03-06T16:00:00Z", "T-1", "Normal", "OnHold"));
    lab.send(&updated("2026-03-09T10:00:00Z", "T-1", "Normal", "Open"));
    lab.advance("2026-03-10T00:00:00Z");
    assert_eq!(
        sla_log(&lab, "T-1", "biz"),
        log(&[
            ("sla_started", "2026-03-06T15:00:00Z"),
            ("sla_paused", "2026-03-06T16:00:00Z"),
            ("sla_resumed", "2026-03-09T10:00:00Z"),
            ("sla_breached", "2026-03-09T13:00:00Z"),
        ])
    );
    assert_eq!(
        one(&lab, "T-1", "biz", "sla_breached").detail["elapsed"],
        "4h"
    );
}

#[test]
fn stop_records_met_and_cancels_the_timers() {
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Open"));
    // An internal note does not stop the clocks; a public reply does.
    let out = lab.send(&reply("2026-03-02T10:30:00Z", "T-1", false));
    assert!(out.iter().all(|e| e.kind != "sla_met"));
    lab.send(&reply("2026-03-02T10:45:00Z", "T-1", true));
    // A stop while paused also ends the clock as met.
    lab.send(&created("2026-03-02T11:00:00Z", "T-2", "Normal", "Pending"));
    lab.send(&reply("2026-03-02T11:30:00Z", "T-2", true));
    lab.advance("2026-03-10T00:00:00Z");
    for rule in ["wall", "biz"] {
        assert_eq!(
            sla_log(&lab, "T-1", rule),
            log(&[
                ("sla_started", "2026-03-02T10:00:00Z"),
                ("sla_met", "2026-03-02T10:45:00Z")
            ]),
            "{rule}"
        );
        let met = one(&lab, "T-1", rule, "sla_met");
        assert_eq!(
            (&met.detail["elapsed"], &met.detail["cycle"]),
            (&json!("45m"), &json!(0)),
            "{rule}"
        );
    }
    assert_eq!(one(&lab, "T-1", "wall", "sla_met").detail["target"], "2h");
    assert_eq!(
        one(&lab, "T-1", "biz", "sla_met").detail["target"],
        "4 business hours"
    );
    assert_eq!(
        sla_log(&lab, "T-2", "wall"),
        log(&[
            ("sla_started", "2026-03-02T11:00:00Z"),
            ("sla_paused", "2026-03-02T11:00:00Z"),
            ("sla_met", "2026-03-02T11:30:00Z"),
        ])
    );
    assert_eq!(one(&lab, "T-2", "wall", "sla_met").detail["elapsed"], "0s");
}

#[test]
fn reset_starts_a_new_cycle() {
    let mut lab = Lab::new(bundle());
    // After a met cycle: the customer writes again, a new 2h cycle starts.
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Open"));
    lab.send(&reply("2026-03-02T10:30:00Z", "T-1", true));
    lab.send(&customer("2026-03-02T11:00:00Z", "T-1"));
    lab.advance("2026-03-02T14:00:00Z");
    assert_eq!(
        sla_log(&lab, "T-1", "wall"),
        log(&[
            ("sla_started", "2026-03-02T10:00:00Z"),
            ("sla_met", "2026-03-02T10:30:00Z"),
            ("sla_reset", "2026-03-02T11:00:00Z"),
            ("sla_started", "2026-03-02T11:00:00Z"),
            ("sla_warned", "2026-03-02T12:00:00Z"),
            ("sla_breached", "2026-03-02T13:00:00Z"),
        ])
    );
    let reset = one(&lab, "T-1", "wall", "sla_reset");
    assert_eq!(reset.detail["previous"], "met");
    assert_eq!(reset.detail["elapsed"], "30m");
    assert_eq!(reset.detail["cycle"], 0);
    let breached = one(&lab, "T-1", "wall", "sla_breached");
    assert_eq!(breached.detail["cycle"], 1);

    // While running: the old deadline (12:00) and warning are dropped; elapsed restarts.
    lab.send(&created("2026-03-02T14:00:00Z", "T-2", "Normal", "Open"));
    lab.send(&customer("2026-03-02T15:30:00Z", "T-2"));
    lab.advance("2026-03-02T18:00:00Z");
    assert_eq!(
        sla_log(&lab, "T-2", "wall"),
        log(&[
            ("sla_started", "2026-03-02T14:00:00Z"),
            ("sla_warned", "2026-03-02T15:00:00Z"),
            ("sla_reset", "2026-03-02T15:30:00Z"),
            ("sla_started", "2026-03-02T15:30:00Z"),
            ("sla_warned", "2026-03-02T16:30:00Z"),
            ("sla_breached", "2026-03-02T17:30:00Z"),
        ])
    );
    let reset = one(&lab, "T-2", "wall", "sla_reset");
    assert_eq!(
        (&reset.detail["previous"], &reset.detail["elapsed"]),
        (&json!("running"), &json!("1h30m"))
    );
    // `biz` has no reset clause: one cycle only.
    assert_eq!(
        lab.entries
            .iter()
            .filter(|e| e.case.as_deref() == Some("T-2")
                && e.rule.as_deref() == Some("biz")
                && e.kind == "sla_started")
            .count(),
        1
    );
}

/// `start` only starts a clock that has not started: a second TicketCreated on the same
/// case is not a new clock.
#[test]
fn start_does_not_restart_a_running_clock() {
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Open"));
    let mut again: serde_json::Value =
        serde_json::from_str(&created("2026-03-02T11:00:00Z", "T-1", "Normal", "Open")).unwrap();
    again["id"] = json!("another-id");
    lab.send(&again.to_string());
    lab.advance("2026-03-02T13:00:00Z");
    assert_eq!(
        one(&lab, "T-1", "wall", "sla_breached").at,
        "2026-03-02T12:00:00Z"
    );
    assert_eq!(
        sla_log(&lab, "T-1", "wall")
            .iter()
            .filter(|(k, _)| k == "sla_started")
            .count(),
        1
    );
}

/// §3.6: when a `target by` field changes, the target is recomputed on the same clock;
/// a new target already exceeded breaches at once (examples/incidents: Medium = 2
/// business days, Critical = 1h wall).
#[test]
fn a_new_target_already_exceeded_breaches_at_once() {
    let bytes = common::build(&common::example("incidents"));
    let mut lab = Lab::new(&bytes);
    let incident = |severity: &str| {
        json!({ "id": "INC-1", "title": "t", "service": "api", "severity": severity,
                "status": "Investigating", "customer_impact": false, "affected_customers": 0,
                "reported_by": "ops@parcelwise.com" })
    };
    lab.send(&envelope(
        "a",
        "IncidentReported",
        "2026-03-10T14:00:00Z",
        "INC-1",
        json!({ "incident": incident("Medium"), "source": "Staff" }),
    ));
    let out = lab.send(&envelope(
        "b",
        "IncidentUpdated",
        "2026-03-10T16:00:00Z",
        "INC-1",
        json!({ "incident": incident("Critical") }),
    ));
    let k: Vec<&str> = out
        .iter()
        .filter(|e| e.rule.as_deref() == Some("time_to_mitigate"))
        .map(|e| e.kind.as_str())
        .collect();
    // The route to engineering (on call around the clock) moves the clock to `always`
    // first (docs/runtime.md, "Which calendar a clock counts in").
    assert_eq!(
        &k[..3],
        ["sla_rescheduled", "sla_target_changed", "sla_breached"],
        "{}",
        lab.dump()
    );
    let breached = one(&lab, "INC-1", "time_to_mitigate", "sla_breached");
    assert_eq!(breached.at, "2026-03-10T16:00:00Z");
    assert_eq!(
        (&breached.detail["elapsed"], &breached.detail["target"]),
        (&json!("2h"), &json!("1h"))
    );
}

/// §7.11: a business-days deadline is pushed later by the open time of each pause.
/// Urgent = 2 business days from Mon 2026-03-02 10:00 GMT → Wed 10:00; on hold
/// 12:00-14:00 Monday (2h open) → Wed 12:00. A second pause from Tue 17:00 to Wed 10:00
/// spans 30m of Tuesday and 1h of Wednesday → Wed 13:30.
#[test]
fn pauses_push_a_business_days_deadline() {
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Urgent", "Open"));
    lab.send(&updated("2026-03-02T12:00:00Z", "T-1", "Urgent", "OnHold"));
    lab.send(&updated("2026-03-02T14:00:00Z", "T-1", "Urgent", "Open"));
    let mut other = Lab::new(bundle());
    for l in [
        created("2026-03-02T10:00:00Z", "T-1", "Urgent", "Open"),
        updated("2026-03-02T12:00:00Z", "T-1", "Urgent", "OnHold"),
        updated("2026-03-02T14:00:00Z", "T-1", "Urgent", "Open"),
        updated("2026-03-03T17:00:00Z", "T-1", "Urgent", "OnHold"),
        updated("2026-03-04T10:00:00Z", "T-1", "Urgent", "Open"),
    ] {
        other.send(&l);
    }
    lab.advance("2026-03-06T00:00:00Z");
    other.advance("2026-03-06T00:00:00Z");
    assert_eq!(
        one(&lab, "T-1", "biz", "sla_breached").at,
        "2026-03-04T12:00:00Z",
        "{}",
        lab.dump()
    );
    assert_eq!(
        one(&other, "T-1", "biz", "sla_breached").at,
        "2026-03-04T13:30:00Z",
        "{}",
        other.dump()
    );
}

/// §6.2: timers due at or before an event's instant fire before it. A public reply at the
/// exact breach instant is too late: breached first, and the stop finds nothing running.
#[test]
fn an_event_at_the_due_instant_comes_after_the_breach() {
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Open"));
    let out = lab.send(&reply("2026-03-02T12:00:00Z", "T-1", true));
    let k: Vec<(&str, Option<&str>)> = out
        .iter()
        .map(|e| (e.kind.as_str(), e.rule.as_deref()))
        .collect();
    let breach = k
        .iter()
        .position(|x| *x == ("sla_breached", Some("wall")))
        .expect("breached");
    let received = k.iter().position(|x| x.0 == "received").expect("received");
    assert!(breach < received, "{k:?}");
    assert!(
        lab.of("T-1", "sla_met")
            .iter()
            .all(|e| e.rule.as_deref() != Some("wall"))
    );
    // One second earlier would have been met.
    let mut lab = Lab::new(bundle());
    lab.send(&created("2026-03-02T10:00:00Z", "T-1", "Normal", "Open"));
    lab.send(&reply("2026-03-02T11:59:59Z", "T-1", true));
    assert_eq!(
        one(&lab, "T-1", "wall", "sla_met").detail["elapsed"],
        "1h59m59s"
    );
}

/// examples/refunds, `first_response` for a Normal ticket: 1 business day in the eastern
/// calendar (America/New_York, Mon-Fri 08:00-18:00, Thanksgiving 26-27 Nov closed).
#[test]
fn new_york_business_days_across_dst_and_holidays() {
    let cases = [
        // Fri 10:00 EDT → Mon 10:00 EST (the clocks went back on Sun 1 Nov).
        ("2026-10-30T14:00:00Z", "2026-11-02T15:00:00Z"),
        // Fri 10:00 EST → Mon 10:00 EDT (forward on Sun 8 March).
        ("2026-03-06T15:00:00Z", "2026-03-09T14:00:00Z"),
        // Wed 10:00 EST before Thanksgiving → Mon 10:00 EST.
        ("2026-11-25T15:00:00Z", "2026-11-30T15:00:00Z"),
    ];
    for (start, due) in cases {
        let mut lab = Lab::refunds();
        let mut t: serde_json::Value = serde_json::from_str(&common::ticket_created(
            "e-1",
            start,
            "T-1",
            &["invoice"],
            "Normal",
        ))
        .unwrap();
        t["data"]["ticket"]["type"] = json!("question");
        lab.send(&t.to_string());
        lab.advance("2026-12-31T00:00:00Z");
        let b = one(&lab, "T-1", "first_response", "sla_breached");
        assert_eq!(b.at, due, "started {start}");
        assert_eq!(b.detail["elapsed"], "10h", "started {start}");
    }
}
