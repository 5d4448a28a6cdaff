//! Acknowledgement TTLs and gate expiries in business time (docs/language.md §8.2 and the
//! gate expiry): `acknowledge within 30 business minutes` and `expire after 1 business day`
//! count in the owner team's calendar, not on the wall clock.

use serde_json::json;

use crate::common::{self, Lab, envelope, ticket};

const RULES: &str = r#"
import std.helpdesk.{TicketCreated}

enum Kind { Work, Other }

classify Kind on TicketCreated {
  Other when ticket.type == "other"
  otherwise Work
}

calendar london {
  timezone "Europe/London"
  hours mon-fri 09:00-17:30
}

team desk    { members ["ann@lab.io"] calendar london }
team finance { members ["fay@lab.io"] calendar london }

owners {
  Work  -> desk escalate finance
  Other -> desk escalate finance
  acknowledge within 30 business minutes
}

gate money_gate on stripe.refund when amount > 250 USD {
  require approval from finance
  expire after 1 business day -> deny
}

automation refund {
  version 1
  owner desk
  on TicketCreated when ticket.tags contains "refund"
  do {
    stripe.refund(charge: ticket.id, amount: 300 USD)
  }
}
"#;

fn lab() -> Lab {
    let dir = common::project("business-timeouts", &[("main.mesh", RULES)]);
    Lab::new(&common::build(dir.path()))
}

fn created(at: &str, case: &str, tags: &[&str]) -> String {
    envelope(
        &format!("c-{case}"),
        "TicketCreated",
        at,
        case,
        json!({ "ticket": ticket(case, tags, "Normal", "New"), "channel": "Email" }),
    )
}

/// Friday 17:20 in London (GMT in March): 10 open minutes on Friday, 20 on Monday.
#[test]
fn acknowledgement_in_business_minutes_counts_open_hours() {
    let mut lab = lab();
    lab.send(&created("2026-03-06T17:20:00Z", "T-1", &[]));
    let owned = lab.of("T-1", "owned");
    assert_eq!(owned.len(), 1, "{}", lab.dump());
    assert_eq!(owned[0].detail["acknowledge_by"], "2026-03-09T09:20:00Z");
    // On the wall clock, 30 minutes would have run out on Friday at 17:50.
    lab.advance("2026-03-09T09:19:59Z");
    assert!(lab.of("T-1", "escalated").is_empty(), "{}", lab.dump());
    lab.advance("2026-03-09T09:20:00Z");
    let esc = lab.of("T-1", "escalated");
    assert_eq!(esc.len(), 1, "{}", lab.dump());
    assert_eq!(esc[0].rule.as_deref(), Some("owners"));
}

/// Held on Friday 16:00: one business day later is Monday 16:00 (docs/language.md §10.5),
/// not Saturday 16:00.
#[test]
fn gate_expiry_in_business_days_counts_the_owner_calendar() {
    let mut lab = lab();
    lab.send(&created("2026-03-06T16:00:00Z", "T-2", &["refund"]));
    assert_eq!(lab.of("T-2", "held").len(), 1, "{}", lab.dump());
    lab.advance("2026-03-09T15:59:59Z");
    assert!(lab.of("T-2", "expired").is_empty(), "{}", lab.dump());
    lab.advance("2026-03-09T16:00:00Z");
    assert_eq!(lab.of("T-2", "expired").len(), 1, "{}", lab.dump());
}
