//! Gates and dual control (§3.8, §7.8, §7.9): a held action is released once by an
//! eligible approver distinct from the requester; self-approval and approval by a
//! non-member are refused and recorded; a denial cancels; expiry escalates (the request
//! stays approvable) or denies.

use meshline_runtime::ledger::Entry;
use serde_json::json;

use crate::common::{
    self, Lab, action_succeeded, approval, envelope, refund_requested, ticket_created,
};

const GATE: &str = "manager_approval";

/// examples/refunds: a Refund case acknowledged by its owner, then a refund request of
/// `amount` by `requester` at 15:05Z on Monday 2026-03-02. Returns the `held` entry.
fn held_refund(lab: &mut Lab, case: &str, amount: &str, requester: &str) -> Entry {
    lab.send(&ticket_created(
        "t-1",
        "2026-03-02T15:00:00Z",
        case,
        &["refund"],
        "Normal",
    ));
    lab.send(&envelope(
        "ack-1",
        "OwnerAcknowledged",
        "2026-03-02T15:01:00Z",
        case,
        json!({ "by": "marcus@tallyhub.com" }),
    ));
    let out = lab.send(&refund_requested(
        "rr-1",
        "2026-03-02T15:05:00Z",
        case,
        amount,
        requester,
    ));
    let held: Vec<&Entry> = out.iter().filter(|e| e.kind == "held").collect();
    assert_eq!(held.len(), 1, "{}", lab.dump());
    assert_eq!(held[0].rule.as_deref(), Some(GATE));
    assert_eq!(held[0].detail["action"], "stripe.refund");
    assert_eq!(held[0].detail["args"]["amount"], amount);
    assert_eq!(held[0].detail["gates"], json!([GATE]));
    assert!(
        lab.of(case, "executed").is_empty(),
        "held means nothing executes"
    );
    // An approval request went out, naming the gate and who may approve.
    let req = lab.commands.last().expect("an approval request");
    assert_eq!(req.body["kind"], "approval_request");
    assert_eq!(req.body["gate"], GATE);
    assert_eq!(req.body["require"], json!([{ "approval": "managers" }]));
    assert_eq!(req.body["request"], held[0].detail["request"]);
    held[0].clone()
}

fn refused_reason(out: &[Entry]) -> String {
    let r: Vec<&Entry> = out.iter().filter(|e| e.kind == "refused").collect();
    assert_eq!(
        r.len(),
        1,
        "expected one refused entry, got {:?}",
        common::kind_list(out)
    );
    r[0].detail["reason"]
        .as_str()
        .expect("a reason")
        .to_string()
}

#[test]
fn an_eligible_approver_releases_the_held_refund_once() {
    let mut lab = Lab::refunds();
    let held = held_refund(&mut lab, "T-1", "480.00 USD", "marcus@tallyhub.com");
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T15:10:00Z",
        "T-1",
        true,
        GATE,
        "dana@tallyhub.com",
    ));
    assert_eq!(
        common::kinds(&out),
        [
            ("received".into(), None),
            ("approved".into(), Some(GATE.into())),
            ("executed".into(), Some("refund_and_sync".into())),
        ]
    );
    assert_eq!(out[1].detail["by"], "dana@tallyhub.com");
    assert_eq!(out[1].detail["request"], held.detail["request"]);
    assert_eq!(out[2].detail["action"], "stripe.refund");
    assert_eq!(out[2].detail["args"]["amount"], "480.00 USD");
    assert_eq!(out[2].detail["step"], 0);
    let cmd = lab.commands.last().expect("the action command");
    assert_eq!(
        (
            &cmd.body["kind"],
            &cmd.body["connector"],
            &cmd.body["action"]
        ),
        (&json!("action"), &json!("stripe"), &json!("refund"))
    );
    assert_eq!(cmd.body["key"], out[2].detail["key"]);

    // A second grant finds nothing pending: refused, nothing runs twice.
    let out = lab.send(&approval(
        "g-2",
        "2026-03-02T15:11:00Z",
        "T-1",
        true,
        GATE,
        "luis@tallyhub.com",
    ));
    assert!(refused_reason(&out).contains("no pending request"));
    assert_eq!(lab.of("T-1", "executed").len(), 1);

    // The saga goes on as outcomes arrive: sync to accounting, then reply; neither gated.
    let key = lab.key_of("T-1", "stripe.refund");
    let out = lab.send(&action_succeeded(
        "s-1",
        "2026-03-02T15:12:00Z",
        "T-1",
        &key,
        "stripe.refund",
    ));
    let exec: Vec<&Entry> = out.iter().filter(|e| e.kind == "executed").collect();
    assert_eq!(exec.len(), 1);
    assert_eq!(exec[0].detail["action"], "accounting.sync_refund");
    let key = lab.key_of("T-1", "accounting.sync_refund");
    let out = lab.send(&action_succeeded(
        "s-2",
        "2026-03-02T15:13:00Z",
        "T-1",
        &key,
        "accounting.sync_refund",
    ));
    assert!(
        out.iter()
            .any(|e| e.kind == "executed" && e.detail["action"] == "helpdesk.reply")
    );
    // Well past the 24h expiry: a released request never expires.
    let out = lab.advance("2026-03-05T00:00:00Z");
    assert!(
        out.iter().all(|e| e.kind != "expired"),
        "{:?}",
        common::kind_list(&out)
    );
}

#[test]
fn the_requester_cannot_approve_their_own_refund() {
    let mut lab = Lab::refunds();
    // Dana is a manager (an eligible approver) but she asked for this refund.
    held_refund(&mut lab, "T-1", "480.00 USD", "dana@tallyhub.com");
    // Persons compare case-insensitively (§7.3).
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T15:10:00Z",
        "T-1",
        true,
        GATE,
        "Dana@TallyHub.com",
    ));
    let reason = refused_reason(&out);
    assert!(reason.contains("dual control"), "{reason}");
    let refused = out.iter().find(|e| e.kind == "refused").expect("refused");
    assert_eq!(refused.rule.as_deref(), Some(GATE));
    assert_eq!(refused.detail["by"], "dana@tallyhub.com");
    assert!(lab.of("T-1", "executed").is_empty());
    assert!(lab.of("T-1", "approved").is_empty());
    // Her denial is refused too: she cannot cancel it either.
    let out = lab.send(&approval(
        "d-1",
        "2026-03-02T15:11:00Z",
        "T-1",
        false,
        GATE,
        "dana@tallyhub.com",
    ));
    assert!(refused_reason(&out).contains("dual control"));
    // The request is still pending: the other manager releases it.
    let out = lab.send(&approval(
        "g-2",
        "2026-03-02T15:12:00Z",
        "T-1",
        true,
        GATE,
        "luis@tallyhub.com",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
}

#[test]
fn a_non_member_cannot_approve() {
    let mut lab = Lab::refunds();
    held_refund(&mut lab, "T-1", "480.00 USD", "olivia@brightlane.co");
    // A billing agent (member of another team) and an outsider.
    for (i, who) in [
        "marcus@tallyhub.com",
        "rachel@tallyhub.com",
        "mallory@example.com",
    ]
    .iter()
    .enumerate()
    {
        let out = lab.send(&approval(
            &format!("g-{i}"),
            "2026-03-02T15:10:00Z",
            "T-1",
            true,
            GATE,
            who,
        ));
        let reason = refused_reason(&out);
        assert!(
            reason.contains(&format!("{who} is not a member of managers")),
            "{reason}"
        );
    }
    // A non-member's denial does not cancel it either.
    let out = lab.send(&approval(
        "d-1",
        "2026-03-02T15:11:00Z",
        "T-1",
        false,
        GATE,
        "marcus@tallyhub.com",
    ));
    assert!(refused_reason(&out).contains("not a member"));
    assert!(lab.of("T-1", "executed").is_empty());
    assert!(lab.of("T-1", "denied").is_empty());
    let out = lab.send(&approval(
        "g-9",
        "2026-03-02T15:12:00Z",
        "T-1",
        true,
        GATE,
        "luis@tallyhub.com",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
}

#[test]
fn a_grant_for_another_gate_or_case_is_refused() {
    let mut lab = Lab::refunds();
    held_refund(&mut lab, "T-1", "480.00 USD", "olivia@brightlane.co");
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T15:10:00Z",
        "T-1",
        true,
        "no_such_gate",
        "dana@tallyhub.com",
    ));
    assert!(refused_reason(&out).contains("no pending request of gate `no_such_gate`"));
    // The right gate on another case releases nothing here.
    let out = lab.send(&approval(
        "g-2",
        "2026-03-02T15:10:00Z",
        "T-2",
        true,
        GATE,
        "dana@tallyhub.com",
    ));
    assert!(refused_reason(&out).contains("no pending request"));
    assert!(lab.of("T-1", "executed").is_empty());
}

#[test]
fn a_denial_cancels_the_held_refund() {
    let mut lab = Lab::refunds();
    let held = held_refund(&mut lab, "T-1", "480.00 USD", "olivia@brightlane.co");
    let out = lab.send(&approval(
        "d-1",
        "2026-03-02T15:10:00Z",
        "T-1",
        false,
        GATE,
        "luis@tallyhub.com",
    ));
    assert_eq!(common::kind_list(&out), ["received", "denied"]);
    assert_eq!(out[1].detail["by"], "luis@tallyhub.com");
    assert_eq!(out[1].detail["request"], held.detail["request"]);
    // Nothing left to approve; no expiry fires later.
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T15:20:00Z",
        "T-1",
        true,
        GATE,
        "dana@tallyhub.com",
    ));
    assert!(refused_reason(&out).contains("no pending request"));
    let out = lab.advance("2026-03-05T00:00:00Z");
    assert!(
        out.iter()
            .all(|e| !matches!(e.kind.as_str(), "expired" | "executed"))
    );
    assert!(lab.of("T-1", "executed").is_empty());
}

#[test]
fn expiry_escalates_and_the_request_stays_approvable() {
    let mut lab = Lab::refunds();
    held_refund(&mut lab, "T-1", "480.00 USD", "olivia@brightlane.co");
    // `expire after 24h -> escalate`: nothing one second before…
    let out = lab.advance("2026-03-03T15:04:59Z");
    assert!(
        out.iter().all(|e| e.kind != "expired"),
        "{:?}",
        common::kind_list(&out)
    );
    // …then, at the exact instant, expired and escalated to the Refund escalation owner.
    let out = lab.advance("2026-03-03T15:05:00Z");
    let k = common::kinds(&out);
    let expired = out
        .iter()
        .position(|e| e.kind == "expired")
        .expect("expired");
    assert_eq!(out[expired].at, "2026-03-03T15:05:00Z");
    assert_eq!(k[expired].1.as_deref(), Some(GATE));
    let esc = &out[expired + 1];
    assert_eq!(
        (esc.kind.as_str(), esc.rule.as_deref()),
        ("escalated", Some(GATE))
    );
    assert_eq!(esc.detail["to"], "finance_leads");
    assert!(out.iter().all(|e| e.kind != "denied"));
    // Still held and approvable by a manager.
    let out = lab.send(&approval(
        "g-1",
        "2026-03-03T16:00:00Z",
        "T-1",
        true,
        GATE,
        "dana@tallyhub.com",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
    // It expires only once.
    lab.advance("2026-03-10T00:00:00Z");
    assert_eq!(lab.of("T-1", "expired").len(), 1);
}

#[test]
fn small_refunds_are_not_held() {
    let mut lab = Lab::refunds();
    lab.send(&ticket_created(
        "t-1",
        "2026-03-02T15:00:00Z",
        "T-1",
        &["refund"],
        "Normal",
    ));
    // Exactly the limit is not "over" it.
    let out = lab.send(&refund_requested(
        "rr-1",
        "2026-03-02T15:05:00Z",
        "T-1",
        "250.00 USD",
        "marcus@tallyhub.com",
    ));
    assert!(out.iter().all(|e| e.kind != "held"));
    assert!(
        out.iter()
            .any(|e| e.kind == "executed" && e.detail["action"] == "stripe.refund")
    );
}

// --- a small project: requesters one record deep, confirmation, two gates, deny ---------

const RULES: &str = r#"
import std.helpdesk.{TicketCreated}

enum Kind { Work, Other }

classify Kind on TicketCreated {
  Other when ticket.type == "other"
  otherwise Work
}

team desk { members ["ann@lab.io", "bob@lab.io"] calendar always }
team finance { members ["fay@lab.io", "gus@lab.io", "req@client.io"] calendar always }
team risk { members ["rita@lab.io"] calendar always }

owners {
  Work  -> desk escalate finance
  Other -> desk escalate finance
  acknowledge within 1w
}

gate money_gate on stripe.refund when amount > 250 USD {
  require approval from finance
  expire after 2h -> deny
}

gate risk_gate on stripe.refund when amount > 1000 USD {
  require approval from risk
}

gate erase on effect destructive {
  require confirmation
}

automation refund_then_erase {
  version 1
  owner desk
  on TicketCreated when ticket.tags contains "refund"
  do {
    stripe.refund(charge: ticket.id, amount: if ticket.priority == Urgent then 5000 USD else 300 USD)
    helpdesk.delete_user(user: ticket.id)
  }
}
"#;

fn gate_lab() -> Lab {
    let dir = common::project("gate-lab", &[("main.mesh", RULES)]);
    Lab::new(&common::build(dir.path()))
}

/// A ticket whose requester (a Person one record deep: `ticket.requester`) is `requester`.
fn created(id: &str, at: &str, case: &str, priority: &str, requester: &str) -> String {
    let mut t = common::ticket(case, &["refund"], priority, "New");
    t["requester"] = json!(requester);
    envelope(
        id,
        "TicketCreated",
        at,
        case,
        json!({ "ticket": t, "channel": "Email" }),
    )
}

#[test]
fn requesters_one_record_deep_and_confirmation() {
    let mut lab = gate_lab();
    // The ticket's requester happens to be in finance; still not allowed to approve.
    let out = lab.send(&created(
        "e-1",
        "2026-03-02T10:00:00Z",
        "T-1",
        "Normal",
        "req@client.io",
    ));
    let held = out.iter().find(|e| e.kind == "held").expect("held");
    assert_eq!(held.detail["gates"], json!(["money_gate"]));
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T10:05:00Z",
        "T-1",
        true,
        "money_gate",
        "req@client.io",
    ));
    assert!(refused_reason(&out).contains("dual control"));
    let out = lab.send(&approval(
        "g-2",
        "2026-03-02T10:06:00Z",
        "T-1",
        true,
        "money_gate",
        "fay@lab.io",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
    // Step 2 is destructive: held for a confirmation by any person but the requester.
    let key = lab.key_of("T-1", "stripe.refund");
    let out = lab.send(&action_succeeded(
        "s-1",
        "2026-03-02T10:07:00Z",
        "T-1",
        &key,
        "stripe.refund",
    ));
    let held = out
        .iter()
        .find(|e| e.kind == "held")
        .expect("delete_user is held");
    assert_eq!(held.rule.as_deref(), Some("erase"));
    assert_eq!(held.detail["action"], "helpdesk.delete_user");
    assert_eq!(
        lab.commands.last().unwrap().body["require"],
        json!(["confirmation"])
    );
    let out = lab.send(&approval(
        "c-1",
        "2026-03-02T10:08:00Z",
        "T-1",
        true,
        "erase",
        "REQ@client.io",
    ));
    assert!(refused_reason(&out).contains("dual control"));
    let out = lab.send(&approval(
        "c-2",
        "2026-03-02T10:09:00Z",
        "T-1",
        true,
        "erase",
        "anyone@else.example",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
    assert_eq!(out[2].detail["action"], "helpdesk.delete_user");
}

#[test]
fn two_gates_release_in_declaration_order() {
    let mut lab = gate_lab();
    let out = lab.send(&created(
        "e-1",
        "2026-03-02T10:00:00Z",
        "T-1",
        "Urgent",
        "cust@client.io",
    ));
    let held = out.iter().find(|e| e.kind == "held").expect("held");
    assert_eq!(held.detail["gates"], json!(["money_gate", "risk_gate"]));
    assert_eq!(held.detail["args"]["amount"], "5000.00 USD");
    assert_eq!(lab.commands.last().unwrap().body["gate"], "money_gate");
    // risk_gate is not the pending gate yet.
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T10:01:00Z",
        "T-1",
        true,
        "risk_gate",
        "rita@lab.io",
    ));
    assert!(refused_reason(&out).contains("no pending request of gate `risk_gate`"));
    // money_gate first: approved, not executed; the request moves on to risk_gate.
    let out = lab.send(&approval(
        "g-2",
        "2026-03-02T10:02:00Z",
        "T-1",
        true,
        "money_gate",
        "gus@lab.io",
    ));
    assert_eq!(common::kind_list(&out), ["received", "approved"]);
    let req = lab.commands.last().unwrap();
    assert_eq!(
        (&req.body["kind"], &req.body["gate"]),
        (&json!("approval_request"), &json!("risk_gate"))
    );
    // A finance member is not a risk member.
    let out = lab.send(&approval(
        "g-3",
        "2026-03-02T10:03:00Z",
        "T-1",
        true,
        "risk_gate",
        "fay@lab.io",
    ));
    assert!(refused_reason(&out).contains("not a member of risk"));
    let out = lab.send(&approval(
        "g-4",
        "2026-03-02T10:04:00Z",
        "T-1",
        true,
        "risk_gate",
        "rita@lab.io",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
}

/// money_gate's `expire after 2h -> deny` belongs to money_gate. Once money_gate has
/// released the action and only risk_gate (which has no `expire`) is pending, nothing
/// expires: risk_gate waits for its approver.
#[test]
fn a_released_gates_expiry_does_not_expire_the_next_gate() {
    let mut lab = gate_lab();
    lab.send(&created(
        "e-1",
        "2026-03-02T10:00:00Z",
        "T-1",
        "Urgent",
        "cust@client.io",
    ));
    lab.send(&approval(
        "g-1",
        "2026-03-02T10:02:00Z",
        "T-1",
        true,
        "money_gate",
        "gus@lab.io",
    ));
    let out = lab.advance("2026-03-02T13:00:00Z");
    assert!(
        out.iter()
            .all(|e| e.kind != "expired" && e.kind != "denied"),
        "risk_gate has no expiry, yet: {}",
        lab.dump()
    );
    let out = lab.send(&approval(
        "g-2",
        "2026-03-02T13:30:00Z",
        "T-1",
        true,
        "risk_gate",
        "rita@lab.io",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "approved", "executed"]
    );
}

#[test]
fn expiry_with_deny_cancels() {
    let mut lab = gate_lab();
    lab.send(&created(
        "e-1",
        "2026-03-02T10:00:00Z",
        "T-1",
        "Normal",
        "cust@client.io",
    ));
    assert!(lab.advance("2026-03-02T11:59:59Z").is_empty());
    let out = lab.advance("2026-03-02T12:00:00Z");
    assert_eq!(
        common::kinds(&out),
        [
            ("expired".into(), Some("money_gate".into())),
            ("denied".into(), Some("money_gate".into()))
        ]
    );
    assert_eq!(out[1].detail["by"], "expiry");
    assert!(out.iter().all(|e| e.at == "2026-03-02T12:00:00Z"));
    let out = lab.send(&approval(
        "g-1",
        "2026-03-02T12:01:00Z",
        "T-1",
        true,
        "money_gate",
        "fay@lab.io",
    ));
    assert!(refused_reason(&out).contains("no pending request"));
    assert!(lab.of("T-1", "executed").is_empty());
}
