//! Each figure of docs/kpis.md on a small hand-written ledger whose answers are worked out
//! by hand in the comments.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failing test")]

use meshline_report::{GroupBy, Options, report_text};
use serde_json::json;

/// A ledger line with the fields the report reads (the chain fields are not checked).
fn line(
    at: &str,
    case: Option<&str>,
    kind: &str,
    rule: Option<&str>,
    detail: serde_json::Value,
) -> String {
    json!({"seq": 0, "at": at, "case": case, "kind": kind, "rule": rule, "detail": detail,
           "bundle": "b", "prev": "p", "hash": "h"})
    .to_string()
}

fn ledger() -> String {
    let l = [
        // T-1: billing, owned by billing_ops, acknowledged after 10 minutes.
        line(
            "2026-03-02T09:00:00Z",
            Some("T-1"),
            "received",
            None,
            json!({"type": "TicketCreated", "id": "e1", "at": "2026-03-02T09:00:00Z"}),
        ),
        line(
            "2026-03-02T09:00:00Z",
            Some("T-1"),
            "classified",
            Some("classify.Billing"),
            json!({"class": "Billing"}),
        ),
        line(
            "2026-03-02T09:00:00Z",
            Some("T-1"),
            "owned",
            Some("owners"),
            json!({"owner": "billing_ops", "acknowledge_by": "2026-03-02T09:30:00Z"}),
        ),
        line(
            "2026-03-02T09:00:00Z",
            Some("T-1"),
            "assigned",
            Some("owners"),
            json!({"assignee": "billing_ops"}),
        ),
        line(
            "2026-03-02T09:00:00Z",
            Some("T-1"),
            "sla_started",
            Some("first_reply"),
            json!({"calendar": "london", "target": "1h"}),
        ),
        // Step 0 executes at once; step 1 is held, then approved and released.
        line(
            "2026-03-02T09:00:00Z",
            Some("T-1"),
            "executed",
            Some("refund"),
            json!({"action": "stripe.refund", "key": "k1", "step": 0, "version": 1, "args": {}}),
        ),
        line(
            "2026-03-02T09:01:00Z",
            Some("T-1"),
            "succeeded",
            None,
            json!({"key": "k1", "action": "stripe.refund"}),
        ),
        line(
            "2026-03-02T09:01:00Z",
            Some("T-1"),
            "held",
            Some("big"),
            json!({"automation": "refund", "gates": ["big"], "request": 1, "step": 1, "action": "helpdesk.reply", "args": {}}),
        ),
        line(
            "2026-03-02T09:05:00Z",
            Some("T-1"),
            "refused",
            Some("big"),
            json!({"by": "ana@agency.io", "request": 1, "reason": "dual control: the requester cannot approve their own request"}),
        ),
        line(
            "2026-03-02T09:06:00Z",
            Some("T-1"),
            "approved",
            Some("big"),
            json!({"by": "li@agency.io", "request": 1}),
        ),
        line(
            "2026-03-02T09:06:00Z",
            Some("T-1"),
            "executed",
            Some("refund"),
            json!({"action": "helpdesk.reply", "key": "k2", "step": 1, "version": 1, "args": {}}),
        ),
        line(
            "2026-03-02T09:07:00Z",
            Some("T-1"),
            "failed",
            None,
            json!({"key": "k2", "action": "helpdesk.reply", "retryable": true, "reason": "503"}),
        ),
        line(
            "2026-03-02T09:08:00Z",
            Some("T-1"),
            "failed",
            None,
            json!({"key": "k2", "action": "helpdesk.reply", "retryable": false, "reason": "400"}),
        ),
        line(
            "2026-03-02T09:08:00Z",
            Some("T-1"),
            "compensated",
            Some("refund"),
            json!({"action": "stripe.void", "key": "k3", "step": 0, "args": {}}),
        ),
        line(
            "2026-03-02T09:08:00Z",
            Some("T-1"),
            "failed",
            None,
            json!({"key": "k3", "action": "stripe.void", "retryable": false, "compensation": true}),
        ),
        line(
            "2026-03-02T09:10:00Z",
            Some("T-1"),
            "received",
            None,
            json!({"type": "OwnerAcknowledged", "id": "e2", "at": "2026-03-02T09:10:00Z"}),
        ),
        line(
            "2026-03-02T09:10:00Z",
            Some("T-1"),
            "acknowledged",
            Some("owners"),
            json!({"by": "ana@agency.io"}),
        ),
        // Paused 09:20–09:30 (10 minutes), met at 09:40 after 30m of running time.
        line(
            "2026-03-02T09:20:00Z",
            Some("T-1"),
            "sla_paused",
            Some("first_reply"),
            json!({}),
        ),
        line(
            "2026-03-02T09:30:00Z",
            Some("T-1"),
            "sla_resumed",
            Some("first_reply"),
            json!({}),
        ),
        line(
            "2026-03-02T09:40:00Z",
            Some("T-1"),
            "sla_met",
            Some("first_reply"),
            json!({"cycle": 0, "elapsed": "30m", "target": "1h"}),
        ),
        line(
            "2026-03-02T10:00:00Z",
            Some("T-1"),
            "received",
            None,
            json!({"type": "TicketSolved", "id": "e3", "at": "2026-03-02T10:00:00Z"}),
        ),
        line(
            "2026-03-03T08:00:00Z",
            Some("T-1"),
            "received",
            None,
            json!({"type": "TicketReopened", "id": "e4", "at": "2026-03-03T08:00:00Z"}),
        ),
        // T-2: billing, never acknowledged; breaches; an eval error sends it to the exception queue.
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "received",
            None,
            json!({"type": "TicketCreated", "id": "e5", "at": "2026-03-03T09:00:00Z"}),
        ),
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "classified",
            Some("classify.Billing"),
            json!({"class": "Billing"}),
        ),
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "owned",
            Some("owners"),
            json!({"owner": "billing_ops", "acknowledge_by": "2026-03-03T09:30:00Z"}),
        ),
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "sla_started",
            Some("first_reply"),
            json!({"calendar": "london", "target": "1h"}),
        ),
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "eval_error",
            Some("vip_route"),
            json!({"error": "unset fact `ticket`"}),
        ),
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "assigned",
            Some("exception"),
            json!({"assignee": "billing_ops", "exception": true}),
        ),
        line(
            "2026-03-03T09:00:00Z",
            Some("T-2"),
            "held",
            Some("big"),
            json!({"automation": "refund", "gates": ["big"], "request": 2, "step": 0, "action": "stripe.refund", "args": {}}),
        ),
        line(
            "2026-03-03T09:30:00Z",
            Some("T-2"),
            "escalated",
            Some("owners"),
            json!({"reason": "not acknowledged in time", "to": "finance"}),
        ),
        line(
            "2026-03-03T10:00:00Z",
            Some("T-2"),
            "sla_breached",
            Some("first_reply"),
            json!({"cycle": 0, "elapsed": "1h", "target": "1h"}),
        ),
        line(
            "2026-03-03T10:00:00Z",
            Some("T-2"),
            "escalated",
            Some("first_reply"),
            json!({"to": "finance"}),
        ),
        line(
            "2026-03-04T09:00:00Z",
            Some("T-2"),
            "expired",
            Some("big"),
            json!({"request": 2}),
        ),
        line(
            "2026-03-04T09:00:00Z",
            Some("T-2"),
            "denied",
            Some("big"),
            json!({"request": 2, "by": "expiry"}),
        ),
        // Rejections and a duplicate.
        line(
            "2026-03-03T11:00:00Z",
            None,
            "rejected",
            None,
            json!({"reason": "unknown event type `Foo`"}),
        ),
        line(
            "2026-03-03T11:00:00Z",
            None,
            "rejected",
            None,
            json!({"reason": "unknown event type `Bar`"}),
        ),
        line(
            "2026-03-03T11:00:00Z",
            None,
            "rejected",
            None,
            json!({"reason": "not valid JSON: expected value at line 1 column 1"}),
        ),
        line(
            "2026-03-03T11:00:00Z",
            Some("T-2"),
            "duplicate",
            None,
            json!({"id": "e5", "type": "TicketCreated"}),
        ),
    ];
    l.join("\n") + "\n"
}

#[test]
fn figures_of_a_hand_worked_ledger() {
    let r = report_text(&ledger(), Options::default()).unwrap();
    let v = &r.volumes;
    assert_eq!(
        (v.events, v.cases_opened, v.duplicates, v.rejected),
        (5, 2, 1, 3)
    );
    assert_eq!(v.cases_by_group["Billing"], 2);
    assert_eq!(v.by_day["2026-03-02"].events, 3);
    assert_eq!(v.by_day["2026-03-03"].sla_breached, 1);

    let a = &r.automations["refund"];
    // Runs: step 0 executed (T-1) and step 0 held (T-2); step 1's execution is a release.
    assert_eq!((a.runs, a.executed, a.released, a.held), (2, 2, 1, 2));
    assert_eq!((a.approved, a.denied, a.expired), (1, 0, 1));
    assert_eq!(
        (a.succeeded, a.failed, a.retried, a.compensated),
        (1, 1, 1, 1)
    );
    assert_eq!(a.held_by_gate["big"], 2);
    assert_eq!(a.success_rate, Some(50.0));
    // (held 2 + failed 1 + halted 0) / (held 2 + executed 2 − released 1 + halted 0) = 3/3.
    assert_eq!(a.exception_rate, Some(100.0));

    assert_eq!(r.sla.len(), 1);
    let s = &r.sla[0];
    assert_eq!(
        (s.group.as_str(), s.policy.as_str()),
        ("Billing", "first_reply")
    );
    assert_eq!((s.started, s.met, s.breached), (2, 1, 1));
    assert_eq!(s.attainment, Some(50.0));
    assert_eq!((s.elapsed.p50, s.elapsed.max), (Some(1800), Some(3600)));
    assert_eq!(s.paused_seconds, 600);
    assert_eq!(s.targets, vec!["1h".to_string()]);

    let o = &r.ownership["Billing"];
    assert_eq!((o.cases_owned, o.acknowledged), (2, 1));
    assert_eq!(o.time_to_ownership.p50, Some(600));
    assert_eq!((o.acknowledgement_misses, o.escalations), (1, 2));

    let x = &r.reopens["Billing"];
    assert_eq!((x.solved, x.reopened, x.reopen_rate), (1, 1, Some(100.0)));

    let e = &r.exceptions;
    assert_eq!(e.rejected_by_reason["unknown event type …"], 2);
    assert_eq!(e.rejected_by_reason["not valid JSON"], 1);
    assert_eq!(e.eval_errors_by_rule["vip_route"], 1);
    assert_eq!(e.exception_assignments["Billing"], 1);
    assert_eq!(e.cases_in_exception_queue, 1);
    assert_eq!(e.refused_by_reason["dual control"], 1);
    assert_eq!(e.approvals_expired, 1);
}

#[test]
fn the_window_counts_only_its_entries_but_keeps_state() {
    let since = "2026-03-03T00:00:00Z".parse().unwrap();
    let r = report_text(
        &ledger(),
        Options {
            since: Some(since),
            until: None,
            by: GroupBy::Class,
        },
    )
    .unwrap();
    // Only T-2 opened in the window; the reopen of T-1 (solved before) still counts.
    assert_eq!(r.volumes.cases_opened, 1);
    assert_eq!(r.reopens["Billing"].reopened, 1);
    assert_eq!(r.reopens["Billing"].solved, 0);
    assert_eq!(r.automations["refund"].runs, 1);
    assert_eq!(r.automations["refund"].expired, 1);
}

#[test]
fn grouping_by_team_route_and_automation() {
    let team = report_text(
        &ledger(),
        Options {
            by: GroupBy::Team,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(team.volumes.cases_by_group["billing_ops"], 2);
    let route = report_text(
        &ledger(),
        Options {
            by: GroupBy::Route,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(route.volumes.cases_by_group["(owner)"], 2);
    let auto = report_text(
        &ledger(),
        Options {
            by: GroupBy::Automation,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(auto.volumes.cases_by_group["refund"], 2);
}

#[test]
fn a_line_that_is_not_an_entry_is_named() {
    let text = ledger() + "{\"kind\": 3}\n";
    let err = report_text(&text, Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("ledger:39: not a ledger entry"), "{err}");
    let bad_time = line("yesterday", None, "received", None, json!({}));
    let err = report_text(&bad_time, Options::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("RFC 3339"), "{err}");
}

/// The console reads the report while entries keep arriving (`Builder::report`); that
/// must not change what the fold ends with.
#[test]
fn a_running_report_does_not_disturb_the_fold() {
    let text = ledger();
    let whole = report_text(&text, Options::default()).unwrap();
    let mut b = meshline_report::Builder::new(Options::default());
    let mut halfway = None;
    let lines: Vec<&str> = text.lines().collect();
    for (i, l) in lines.iter().enumerate() {
        b.push_line("ledger", i as u64 + 1, l).unwrap();
        if i == lines.len() / 2 {
            halfway = Some(b.report());
        }
    }
    let running = b.report();
    let done = b.finish();
    let json = |r: &meshline_report::Report| serde_json::to_string(r).unwrap();
    assert_eq!(json(&running), json(&whole));
    assert_eq!(json(&done), json(&whole));
    assert_ne!(
        json(&halfway.unwrap()),
        json(&whole),
        "halfway is a partial report"
    );
}
