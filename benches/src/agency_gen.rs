//! A policy shaped the way agencies write theirs, for the decision-step benchmark
//! (`decide_bench`, docs/performance.md): 20 routes whose conditions compare the help desk's
//! ticket type as a **string** (`ticket.type == "incident"`) together with enums, an integer
//! severity, money and a percent, and optionally `overrides` per-client routes keyed by a
//! `client_id` string. [`hand_decide`] is the same decision written by hand (a `match`, and
//! a hash map from client id for the overrides): the baseline.

use std::collections::HashMap;
use std::fmt::Write as _;

use meshline_runtime::value::Value;
use rust_decimal::Decimal;

use crate::runtime_gen::Rng;

/// Ticket types the events carry (the last two no route or arm names).
pub const TYPES: &[&str] = &[
    "incident", "outage", "access", "billing", "change", "question", "feature", "other",
];
/// Client ids the events carry: `c0000` … `c1999` (overrides cover the first ones).
pub const CLIENTS: usize = 2000;

/// What an override route requires besides its client (by `k % 4`).
fn override_rest(k: usize) -> String {
    match k % 4 {
        0 => format!("ticket.type == \"{}\"", TYPES[k % 6]),
        1 => "ticket.severity <= 2".into(),
        2 => "ticket.tier == Gold".into(),
        _ => "ticket.amount >= 500 USD".into(),
    }
}

/// The project's single source file: 20 routes, then `overrides` client routes.
pub fn project(overrides: usize) -> String {
    let mut s = String::from(
        "enum Tier { Gold, Silver, Bronze }\n\
         enum Priority { Low, Normal, High, Urgent }\n\
         enum Channel { Email, Chat, Phone, Web }\n\
         enum TicketClass { Incident, Access, Billing, Change, Question, Triage }\n\
         record Ticket { id: String, type: String, client_id: String, tier: Tier, priority: Priority, channel: Channel, severity: Int, amount: Money, discount: Percent }\n\
         event TicketCreated { ticket: Ticket }\n\
         event TicketUpdated { ticket: Ticket }\n\
         event ReplySent { by: Person, public: Bool }\n\
         calendar london { timezone \"Europe/London\" hours mon-fri 09:00-17:30 holidays [2026-12-25] }\n",
    );
    for t in 0..10 {
        let _ = writeln!(
            s,
            "team t{t} {{ members [\"a{t}@x.io\", \"b{t}@x.io\", \"c{t}@x.io\"] calendar london }}"
        );
    }
    s.push_str(
        "team desk { members [\"desk@x.io\"] calendar london }\nteam leads { members [\"lead@x.io\"] calendar london }\n\
         classify TicketClass on TicketCreated, TicketUpdated {\n\
         \x20 Incident when ticket.type == \"incident\" or ticket.type == \"outage\"\n\
         \x20 Access when ticket.type == \"access\"\n\
         \x20 Billing when ticket.type == \"billing\" or ticket.amount > 0 USD\n\
         \x20 Change when ticket.type == \"change\"\n\
         \x20 Question when ticket.type == \"question\"\n\
         \x20 otherwise Triage\n}\n\
         owners {\n  Incident -> desk escalate leads\n  Access -> desk escalate leads\n  Billing -> desk escalate leads\n  Change -> desk escalate leads\n  Question -> desk escalate leads\n  Triage -> desk escalate leads\n  acknowledge within 30m\n}\n\
         sla first_reply for Incident, Access, Billing, Change, Question, Triage {\n  start on TicketCreated\n  stop on ReplySent when public\n  target by ticket.tier { Gold -> 1h, Silver -> 4 business hours, Bronze -> 2 business days }\n  calendar london\n  warn at 75% -> notify assignee\n  breach -> escalate\n}\n",
    );
    for (i, (name, cond)) in ROUTES.iter().enumerate() {
        let _ = writeln!(
            s,
            "route {name} on TicketCreated, TicketUpdated when {cond} {{ assign t{} by round_robin priority {} }}",
            i % 10,
            200 - 10 * i as i64
        );
    }
    for k in 0..overrides {
        let _ = writeln!(
            s,
            "route client_c{k:04} on TicketCreated, TicketUpdated when ticket.client_id == \"c{k:04}\" and {} {{ assign t{} priority 300 }}",
            override_rest(k),
            k % 10
        );
    }
    s
}

/// The 20 routes, best first (priority 200, 190, …).
const ROUTES: &[(&str, &str)] = &[
    (
        "inc_sev1",
        "ticket.type == \"incident\" and ticket.severity == 1",
    ),
    (
        "inc_gold_urgent",
        "ticket.type == \"incident\" and ticket.tier == Gold and ticket.priority == Urgent",
    ),
    ("outage", "ticket.type == \"outage\""),
    (
        "inc_sev2_phone",
        "ticket.type == \"incident\" and ticket.severity <= 2 and ticket.channel == Phone",
    ),
    (
        "inc_gold",
        "ticket.type == \"incident\" and ticket.tier == Gold",
    ),
    ("inc", "ticket.type == \"incident\""),
    (
        "bill_big",
        "ticket.type == \"billing\" and ticket.amount >= 500 USD",
    ),
    (
        "bill_discount",
        "ticket.type == \"billing\" and ticket.discount >= 25%",
    ),
    (
        "bill_gold",
        "ticket.type == \"billing\" and ticket.tier == Gold",
    ),
    ("bill", "ticket.type == \"billing\""),
    (
        "access_urgent",
        "ticket.type == \"access\" and ticket.priority == Urgent",
    ),
    (
        "access",
        "ticket.type == \"access\" and ticket.tier != Bronze",
    ),
    (
        "change_big",
        "ticket.type == \"change\" and ticket.amount > 1000 USD",
    ),
    (
        "change",
        "ticket.type == \"change\" and ticket.severity <= 3",
    ),
    (
        "question_chat",
        "ticket.type == \"question\" and ticket.channel == Chat",
    ),
    ("question", "ticket.type == \"question\""),
    ("sev1_gold", "ticket.severity == 1 and ticket.tier == Gold"),
    (
        "urgent_phone",
        "ticket.priority == Urgent and ticket.channel == Phone",
    ),
    ("discount_high", "ticket.discount > 50%"),
    ("triage_gold", "class == Triage and ticket.tier == Gold"),
];

/// `events` JSON lines over `cases` cases: a TicketCreated per case, then updates (and one
/// reply in ten), 100 ms apart, every field drawn at random.
pub fn events(cases: usize, events: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let start: i64 = 1_772_442_000; // 2026-03-02T09:00:00Z
    let tiers = ["Gold", "Silver", "Bronze"];
    let prios = ["Low", "Normal", "High", "Urgent"];
    let channels = ["Email", "Chat", "Phone", "Web"];
    let amounts = ["0", "50", "600", "1500"];
    let discounts = ["0", "10", "30", "60"];
    let mut out = Vec::with_capacity(events);
    for i in 0..events {
        let at = jiff::Timestamp::from_second(start + (i as i64) / 10)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let (case, ty) = if i < cases {
            (i, "TicketCreated")
        } else if rng.below(10) == 0 {
            (rng.below(cases as u64) as usize, "ReplySent")
        } else {
            (rng.below(cases as u64) as usize, "TicketUpdated")
        };
        let line = if ty == "ReplySent" {
            format!(
                r#"{{"id":"e{i}","type":"ReplySent","at":"{at}","case":"C{case}","data":{{"by":"a1@x.io","public":true}}}}"#
            )
        } else {
            format!(
                r#"{{"id":"e{i}","type":"{ty}","at":"{at}","case":"C{case}","data":{{"ticket":{{"id":"C{case}","type":"{}","client_id":"c{:04}","tier":"{}","priority":"{}","channel":"{}","severity":{},"amount":"{} USD","discount":"{}%"}}}}}}"#,
                TYPES[rng.below(TYPES.len() as u64) as usize],
                rng.below(CLIENTS as u64),
                tiers[rng.below(3) as usize],
                prios[rng.below(4) as usize],
                channels[rng.below(4) as usize],
                1 + rng.below(5),
                amounts[rng.below(4) as usize],
                discounts[rng.below(4) as usize],
            )
        };
        out.push(line);
    }
    out
}

/// The hand-written decision: what an engineer would write for this policy, with the
/// overrides looked up in a map built once (`Hand::new`).
pub struct Hand {
    overrides: HashMap<Box<str>, (u32, usize)>,
    d0: Decimal,
    d25: Decimal,
    d50: Decimal,
    d500: Decimal,
    d1000: Decimal,
}

impl Hand {
    pub fn new(overrides: usize) -> Hand {
        Hand {
            overrides: (0..overrides)
                .map(|k| (format!("c{k:04}").into(), (20 + k as u32, k)))
                .collect(),
            d0: Decimal::ZERO,
            d25: Decimal::from(25),
            d50: Decimal::from(50),
            d500: Decimal::from(500),
            d1000: Decimal::from(1000),
        }
    }

    /// (class variant, route id) as `Engine::decide` gives them on a fresh case.
    pub fn decide(&self, values: &[Value]) -> (Option<u32>, Option<u32>) {
        let Some(Value::Record(t)) = values.first() else {
            return (None, None);
        };
        let (
            Value::Str(ty),
            Value::Str(client),
            Value::Enum(_, tier),
            Value::Enum(_, prio),
            Value::Enum(_, channel),
            Value::Int(sev),
            Value::Money(amount, _),
            Value::Percent(discount),
        ) = (&t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7], &t[8])
        else {
            return (None, None);
        };
        let (tier, prio, channel, sev) = (*tier, *prio, *channel, *sev);
        let (gold, urgent, phone) = (tier == 0, prio == 3, channel == 2);
        let class = match &**ty {
            "incident" | "outage" => 0,
            "access" => 1,
            _ if &**ty == "billing" || *amount > self.d0 => 2,
            "change" => 3,
            "question" => 4,
            _ => 5,
        };
        if let Some(&(id, k)) = self.overrides.get(&**client) {
            let holds = match k % 4 {
                0 => **ty == *TYPES[k % 6],
                1 => sev <= 2,
                2 => gold,
                _ => *amount >= self.d500,
            };
            if holds {
                return (Some(class), Some(id));
            }
        }
        let route = match &**ty {
            "incident" if sev == 1 => Some(0),
            "incident" if gold && urgent => Some(1),
            "outage" => Some(2),
            "incident" if sev <= 2 && phone => Some(3),
            "incident" if gold => Some(4),
            "incident" => Some(5),
            "billing" if *amount >= self.d500 => Some(6),
            "billing" if *discount >= self.d25 => Some(7),
            "billing" if gold => Some(8),
            "billing" => Some(9),
            "access" if urgent => Some(10),
            "access" if tier != 2 => Some(11),
            "change" if *amount > self.d1000 => Some(12),
            "change" if sev <= 3 => Some(13),
            "question" if channel == 1 => Some(14),
            "question" => Some(15),
            _ => None,
        };
        let route = route.or(match () {
            _ if sev == 1 && gold => Some(16),
            _ if urgent && phone => Some(17),
            _ if *discount > self.d50 => Some(18),
            _ if class == 5 && gold => Some(19),
            _ => None,
        });
        (Some(class), route)
    }
}
