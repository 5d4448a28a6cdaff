//! A generated project and event stream for the runtime benchmark: `routes` routes keyed
//! on a 2,000-variant `Queue` enum (plus 4 classify arms and an SLA policy), and a stream of
//! ticket events over many cases with SLA clocks running, pauses, replies and timers.

use std::fmt::Write as _;

use meshline_runtime::engine::Envelope;
use meshline_runtime::value::Value;

pub const QUEUES: usize = 2000;
/// Events only name the first 20 queues: with more routes, the extra ones can never match.
pub const LIVE_QUEUES: usize = 20;

pub fn project(routes: usize) -> String {
    let mut s = String::new();
    let queues: Vec<String> = (0..QUEUES).map(|i| format!("Q{i}")).collect();
    let _ = write!(
        s,
        "enum Tier {{ Gold, Silver, Bronze }}\nenum Priority {{ Low, Normal, High, Urgent }}\nenum Status {{ New, Open, Pending, Solved }}\n\
         enum Queue {{ {} }}\nenum TicketClass {{ Billing, Access, Incident, Triage }}\n\
         record Ticket {{ id: String, tags: List<String>, tier: Tier, priority: Priority, status: Status, queue: Queue, client_id: String }}\n\
         event TicketCreated {{ ticket: Ticket }}\nevent TicketUpdated {{ ticket: Ticket }}\nevent ReplySent {{ by: Person, public: Bool }}\n\
         calendar london {{ timezone \"Europe/London\" hours mon-fri 09:00-17:30 holidays [2026-12-25] }}\n",
        queues.join(", ")
    );
    for t in 0..10 {
        let _ = writeln!(
            s,
            "team t{t} {{ members [\"a{t}@x.io\", \"b{t}@x.io\", \"c{t}@x.io\"] calendar london }}"
        );
    }
    s.push_str(
        "team desk { members [\"desk@x.io\"] calendar london }\nteam leads { members [\"lead@x.io\"] calendar london }\n\
         classify TicketClass on TicketCreated, TicketUpdated {\n  Billing when ticket.tags contains \"refund\"\n  Access when ticket.queue == Q1\n  Incident when ticket.priority == Urgent\n  otherwise Triage\n}\n\
         owners {\n  Billing -> desk escalate leads\n  Access -> desk escalate leads\n  Incident -> desk escalate leads\n  Triage -> desk escalate leads\n  acknowledge within 30m\n}\n\
         sla first_reply for Billing, Access, Incident, Triage {\n  start on TicketCreated\n  pause when ticket.status == Pending\n  stop on ReplySent when public\n  target by ticket.tier { Gold -> 1h, Silver -> 4 business hours, Bronze -> 2 business days }\n  calendar london\n  warn at 75% -> notify assignee\n  breach -> escalate\n}\n",
    );
    for i in 0..routes {
        let _ = writeln!(
            s,
            "route r{i} on TicketCreated, TicketUpdated when ticket.queue == Q{i} and ticket.tier != Bronze {{ assign t{} by round_robin priority {} }}",
            i % 10,
            i % 7
        );
    }
    s
}

/// A small deterministic generator (xorshift).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// `events` JSON lines over `cases` cases: first a TicketCreated for each case, then random
/// updates (status, priority, queue) and public replies, 100 ms apart from 2026-03-02.
pub fn events(cases: usize, events: usize, seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let start: i64 = 1_772_442_000; // 2026-03-02T09:00:00Z
    let tiers = ["Gold", "Silver", "Bronze"];
    let prios = ["Low", "Normal", "High", "Urgent"];
    let statuses = ["Open", "Open", "Pending", "Open"];
    let mut out = Vec::with_capacity(events);
    for i in 0..events {
        let at = jiff::Timestamp::from_second(start + (i as i64) / 10)
            .map(|t| t.to_string())
            .unwrap_or_default();
        let (case, ty) = if i < cases {
            (i, "TicketCreated")
        } else {
            (
                rng.below(cases as u64) as usize,
                if rng.below(10) == 0 {
                    "ReplySent"
                } else {
                    "TicketUpdated"
                },
            )
        };
        let line = if ty == "ReplySent" {
            format!(
                r#"{{"id":"e{i}","type":"ReplySent","at":"{at}","case":"C{case}","data":{{"by":"a1@x.io","public":true}}}}"#
            )
        } else {
            let tags = if rng.below(5) == 0 {
                r#"["refund"]"#
            } else {
                "[]"
            };
            format!(
                r#"{{"id":"e{i}","type":"{ty}","at":"{at}","case":"C{case}","data":{{"ticket":{{"id":"C{case}","tags":{tags},"tier":"{}","priority":"{}","status":"{}","queue":"Q{}","client_id":"cl{}"}}}}}}"#,
                tiers[case % 3],
                prios[rng.below(4) as usize],
                if ty == "TicketCreated" {
                    "New"
                } else {
                    statuses[rng.below(4) as usize]
                },
                rng.below(LIVE_QUEUES as u64),
                case % 997
            )
        };
        out.push(line);
    }
    out
}

/// The same decisions as the 20-rule bundle, written by hand.
pub fn hand_decide(env: &Envelope, routes: usize) -> (Option<u32>, Option<u32>) {
    // A reply is not classified (classify lists only the ticket events) and no route
    // lists it.
    let Some(Value::Record(t)) = env.values.first() else {
        return (None, None);
    };
    let refund = matches!(&t[1], Value::List(tags) if tags.iter().any(|x| matches!(x, Value::Str(s) if &**s == "refund")));
    let (tier, prio, queue) = match (&t[2], &t[3], &t[5]) {
        (Value::Enum(_, a), Value::Enum(_, b), Value::Enum(_, c)) => (*a, *b, *c),
        _ => return (Some(3), None),
    };
    let class = match () {
        _ if refund => 0,
        _ if queue == 1 => 1,
        _ if prio == 3 => 2,
        _ => 3,
    };
    let route = match queue {
        q if (q as usize) < routes && tier != 2 => Some(q),
        _ => None,
    };
    (Some(class), route)
}
