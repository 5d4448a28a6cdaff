//! SLA calendars follow the work (docs/runtime.md, "Which calendar a clock counts in"): a
//! policy without a calendar of its own starts in the calendar of the team the case is
//! assigned to, and a reassignment to a team on another calendar moves the running clock,
//! recorded as `sla_rescheduled`; a policy that names its calendar keeps it. Instants are
//! worked out by hand: on Monday 2026-03-02, London is UTC+0 and New York UTC-5 (daylight
//! time starts there on 8 March), both open 09:00-17:00 local.

use std::sync::OnceLock;

use serde_json::json;

use crate::common::{self, Lab, envelope, ticket as std_ticket};

const RULES: &str = r#"
import std.helpdesk.{TicketCreated, TicketUpdated}

enum Kind { Normal }

classify Kind on TicketCreated, TicketUpdated {
  otherwise Normal
}

calendar london {
  timezone "Europe/London"
  hours mon-fri 09:00-17:00
}

calendar new_york {
  timezone "America/New_York"
  hours mon-fri 09:00-17:00
}

team emea { members ["ann@lab.io"] calendar london }
team americas { members ["bob@lab.io"] calendar new_york }
team leads { members ["cat@lab.io"] calendar london }

owners {
  Normal -> emea escalate leads
  acknowledge within 1w
}

/// Tickets tagged `us` are worked from New York.
route to_americas on TicketCreated, TicketUpdated when ticket.tags contains "us" {
  assign americas
  priority 1
}

/// Follows the work.
sla response for Normal {
  start on TicketCreated
  target 4 business hours
  breach -> notify leads
}

/// Always in London, whoever works the case.
sla london_response for Normal {
  start on TicketCreated
  target 4 business hours
  calendar london
  breach -> notify leads
}
"#;

fn bundle() -> &'static [u8] {
    static B: OnceLock<Vec<u8>> = OnceLock::new();
    B.get_or_init(|| {
        let dir = common::project("sla-follow", &[("main.mesh", RULES)]);
        common::build(dir.path())
    })
}

fn ticket(ty: &str, at: &str, tags: &[&str]) -> String {
    envelope(
        &format!("{ty}-{at}"),
        ty,
        at,
        "T-1",
        if ty == "TicketCreated" {
            json!({ "ticket": std_ticket("T-1", tags, "Normal", "Open"), "channel": "Email" })
        } else {
            json!({ "ticket": std_ticket("T-1", tags, "Normal", "Open") })
        },
    )
}

#[test]
fn a_reassigned_case_moves_its_clock_to_the_new_teams_calendar() {
    let mut lab = Lab::new(bundle());
    // 10:00Z: London is open; assigned to emea, both clocks count in London (due 14:00Z).
    lab.send(&ticket("TicketCreated", "2026-03-02T10:00:00Z", &[]));
    let started = lab.of("T-1", "sla_started");
    let calendars: Vec<(&str, &str)> = started
        .iter()
        .map(|e| {
            (
                e.rule.as_deref().unwrap_or(""),
                e.detail["calendar"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        calendars,
        [("response", "london"), ("london_response", "london")],
        "{}",
        lab.dump()
    );
    // 11:00Z: 1 business hour spent in London; the case moves to New York, which opens at
    // 09:00 EST = 14:00Z, so the 3 remaining hours end at 17:00Z.
    let out = lab.send(&ticket("TicketUpdated", "2026-03-02T11:00:00Z", &["us"]));
    let moved: Vec<&str> = out
        .iter()
        .filter(|e| e.kind == "sla_rescheduled")
        .map(|e| e.rule.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(moved, ["response"], "{}", lab.dump());
    let r = lab.of("T-1", "sla_rescheduled")[0];
    assert_eq!(
        r.detail,
        json!({ "calendar": "new_york", "from": "london" })
    );
    // The London policy breaches at 14:00Z as it always would have.
    lab.advance("2026-03-02T16:59:59Z");
    let breached: Vec<(String, String)> = lab
        .of("T-1", "sla_breached")
        .iter()
        .map(|e| (e.rule.clone().unwrap_or_default(), e.at.clone()))
        .collect();
    assert_eq!(
        breached,
        [(
            "london_response".to_string(),
            "2026-03-02T14:00:00Z".to_string()
        )]
    );
    lab.advance("2026-03-02T17:00:00Z");
    let last = lab.of("T-1", "sla_breached");
    let follow = last
        .iter()
        .find(|e| e.rule.as_deref() == Some("response"))
        .unwrap_or_else(|| panic!("{}", lab.dump()));
    assert_eq!(follow.at, "2026-03-02T17:00:00Z");
    assert_eq!(
        follow.detail["elapsed"], "4h",
        "1h in London + 3h in New York"
    );
}

/// A case that starts in New York counts there from the start: created at 10:00Z (05:00
/// in New York), nothing counts until 14:00Z, so 4 business hours end at 18:00Z.
#[test]
fn a_clock_starts_in_the_calendar_of_the_team_assigned() {
    let mut lab = Lab::new(bundle());
    lab.send(&ticket("TicketCreated", "2026-03-02T10:00:00Z", &["us"]));
    let started = lab.of("T-1", "sla_started");
    assert_eq!(started[0].detail["calendar"], "new_york", "{}", lab.dump());
    assert!(lab.of("T-1", "sla_rescheduled").is_empty());
    lab.advance("2026-03-02T17:59:59Z");
    assert!(
        lab.of("T-1", "sla_breached")
            .iter()
            .all(|e| e.rule.as_deref() != Some("response"))
    );
    lab.advance("2026-03-02T18:00:00Z");
    assert!(
        lab.of("T-1", "sla_breached")
            .iter()
            .any(|e| e.rule.as_deref() == Some("response") && e.at == "2026-03-02T18:00:00Z"),
        "{}",
        lab.dump()
    );
}
