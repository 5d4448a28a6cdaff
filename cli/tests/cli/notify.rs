//! `notify` without a connector of its own (docs/language.md §8.3, §11.2, §11.3): as a route
//! clause (on assignment), a gate clause (on hold) and a saga step, each a `notified` entry
//! and a `notify` command for the notification connector, with its template.

use serde_json::json;

use crate::common::{self, Lab, envelope, ticket};

const RULES: &str = r#"
import std.helpdesk.{TicketCreated}

enum Kind { Vip, Work }

classify Kind on TicketCreated {
  Vip when ticket.tags contains "vip"
  otherwise Work
}

team desk    { members ["ann@lab.io"] }
team vip     { members ["vic@lab.io", "val@lab.io"] }
team finance { members ["fay@lab.io"] }

owners {
  Vip  -> vip  escalate finance
  Work -> desk escalate finance
}

route vip_desk on TicketCreated when class == Vip {
  assign vip by round_robin
  notify assignee with template "vip_assigned"
  notify finance
}

gate big_refund on stripe.refund when amount > 250 USD {
  require approval from finance
  notify finance with template "refund_waiting"
}

automation refund {
  version 1
  owner desk
  on TicketCreated when ticket.tags contains "refund"
  do {
    notify owner with template "refund_started"
    stripe.refund(charge: ticket.id, amount: 300 USD)
  }
}
"#;

fn created(case: &str, tags: &[&str]) -> String {
    envelope(
        &format!("c-{case}"),
        "TicketCreated",
        "2026-03-02T10:00:00Z",
        case,
        json!({ "ticket": ticket(case, tags, "Normal", "New"), "channel": "Email" }),
    )
}

fn lab() -> Lab {
    let dir = common::project("notify-lab", &[("main.mesh", RULES)]);
    Lab::new(&common::build(dir.path()))
}

/// (rule, to, template) of each `notify` command.
fn notices(lab: &Lab) -> Vec<(String, String, Option<String>)> {
    lab.commands
        .iter()
        .filter(|c| c.body["kind"] == "notify")
        .map(|c| {
            (
                c.body["rule"].as_str().unwrap_or("").to_string(),
                c.body["to"].as_str().unwrap_or("").to_string(),
                c.body["template"].as_str().map(str::to_string),
            )
        })
        .collect()
}

#[test]
fn a_route_notifies_when_it_assigns() {
    let mut lab = lab();
    lab.send(&created("T-1", &["vip"]));
    assert_eq!(
        notices(&lab),
        [
            (
                "vip_desk".into(),
                "vic@lab.io".into(),
                Some("vip_assigned".into())
            ),
            ("vip_desk".into(), "finance".into(), None),
        ],
        "{}",
        lab.dump()
    );
    assert_eq!(lab.of("T-1", "notified").len(), 2);
    // A case the route does not take is not announced.
    lab.send(&created("T-2", &[]));
    assert_eq!(notices(&lab).len(), 2);
}

#[test]
fn a_gate_notifies_when_it_holds_and_a_step_notifies_in_order() {
    let mut lab = lab();
    let out = lab.send(&created("T-3", &["refund"]));
    let kinds = common::kind_list(&out);
    let step = kinds
        .iter()
        .position(|k| *k == "notified")
        .expect("notified");
    let held = kinds.iter().position(|k| *k == "held").expect("held");
    assert!(step < held, "the step before the hold: {kinds:?}");
    assert_eq!(
        notices(&lab),
        [
            (
                "refund".into(),
                "desk".into(),
                Some("refund_started".into())
            ),
            (
                "big_refund".into(),
                "finance".into(),
                Some("refund_waiting".into())
            ),
        ],
        "{}",
        lab.dump()
    );
    let cmd = lab
        .commands
        .iter()
        .find(|c| c.body["kind"] == "notify" && c.body["rule"] == "refund")
        .expect("the step's command");
    assert_eq!(cmd.body["automation"], "refund");
    assert_eq!(cmd.body["step"], 0);
}

#[test]
fn meshline_fmt_keeps_the_notify_clauses() {
    let dir = common::project("notify-lab", &[("main.mesh", RULES)]);
    common::meshline_in(dir.path(), ["fmt"]).assert_code(0, "fmt");
    let text = std::fs::read_to_string(dir.path().join("rules/main.mesh")).expect("read");
    for line in [
        "  notify assignee with template \"vip_assigned\"\n  notify finance\n}",
        "  notify finance with template \"refund_waiting\"\n}",
        "    notify owner with template \"refund_started\"\n",
    ] {
        assert!(text.contains(line), "{line:?} not in\n{text}");
    }
    common::meshline_in(dir.path(), ["fmt", "--check"]).assert_code(0, "fmt is stable");
    common::meshline_in(dir.path(), ["check"]).assert_code(0, "check");
}
