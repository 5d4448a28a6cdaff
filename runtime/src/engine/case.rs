//! Cases: facts, classification, ownership with the acknowledgement TTL, escalation, and
//! routing (brief §3.4, §3.5, §7.6–7.8).

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value as Json, json};

pub use super::assignee::Assignee;
use super::decision::{self, Tries};
use super::reads;
use super::routing::RouteDecision;
use super::sla::Clock;
use super::{Engine, EventData, TimerKind};
use crate::ir::Builtin;
use crate::value::Value;

/// Everything the engine keeps per case.
#[derive(Clone, Debug)]
pub struct CaseState {
    pub id: Arc<str>,
    pub opened_at: Timestamp,
    /// Case facts by slot; `None` is unset.
    pub facts: Vec<Option<crate::value::Value>>,
    pub class: Option<u32>,
    pub owner: Option<u32>,
    pub escalated: bool,
    pub assignee: Option<Assignee>,
    pub acknowledged: bool,
    pub ack_generation: u64,
    /// One per SLA policy of the program (most stay `None`).
    pub clocks: Vec<Option<Clock>>,
    pub sagas: Vec<super::actions::Saga>,
    /// The last evaluation error recorded per rule and part, in the order first seen: a
    /// repeat of the same error is not recorded again (docs/runtime.md).
    pub errors: Vec<ErrorMemo>,
    /// Open, solved or closed (docs/runtime.md, "Case lifecycle").
    pub life: super::lifecycle::Life,
}

/// An evaluation error remembered for a case: `rule`'s `part` last failed with `error`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorMemo {
    pub rule: String,
    pub part: String,
    pub error: String,
}

impl CaseState {
    pub fn new(id: Arc<str>, opened_at: Timestamp, slots: usize, slas: usize) -> CaseState {
        CaseState {
            id,
            opened_at,
            facts: vec![None; slots],
            class: None,
            owner: None,
            escalated: false,
            assignee: None,
            acknowledged: false,
            ack_generation: 0,
            clocks: vec![None; slas],
            sagas: Vec::new(),
            errors: Vec::new(),
            life: super::lifecycle::Life::default(),
        }
    }
}

impl Engine {
    pub(crate) fn team_name(&self, t: u32) -> &str {
        self.program
            .teams
            .get(t as usize)
            .map_or("", |t| t.name.as_str())
    }

    pub(crate) fn assignee_json(&self, a: &Assignee) -> Json {
        match a {
            Assignee::Team(t) => json!(self.team_name(*t)),
            Assignee::Person(p) => json!(&**p),
        }
    }

    /// Change the assignee and record it (no entry when nothing changes).
    pub(crate) fn set_assignee(
        &mut self,
        case_id: &str,
        to: Assignee,
        rule: &str,
        why: AssignWhy<'_>,
    ) {
        let Some(case) = self.cases.get_mut(case_id) else {
            return;
        };
        if case.assignee.as_ref() == Some(&to) {
            return;
        }
        let old = case.assignee.replace(to.clone());
        // Only open cases count for `least_open` (docs/runtime.md, "Case lifecycle").
        let open = case.life.status == super::lifecycle::Status::Open;
        if open
            && let Some(Assignee::Person(p)) = &old
            && let Some(n) = self.open_by_person.get_mut(p)
        {
            *n = n.saturating_sub(1);
        }
        if open && let Assignee::Person(p) = &to {
            *self.open_by_person.entry(p.clone()).or_insert(0) += 1;
        }
        let mut d = self.detail();
        match &to {
            Assignee::Team(t) => d.str("assignee", self.team_name(*t)),
            Assignee::Person(p) => d.str("assignee", p),
        };
        match why {
            AssignWhy::Plain => {}
            AssignWhy::Flag(flag) => {
                d.bool(flag, true);
            }
            AssignWhy::NoRoute(decided) => {
                self.write_lost(&mut d, decided.tries, Engine::route_str);
                self.write_route_reads(&mut d, case_id, &decided);
            }
            AssignWhy::Route {
                key,
                decided,
                priority,
                route,
            } => {
                if let Some(key) = key {
                    d.json("key", &key);
                }
                self.write_lost(&mut d, decided.tries, Engine::route_str);
                d.int("priority", priority);
                self.write_route_reads(&mut d, case_id, &decided);
                d.str("route", route);
            }
        }
        self.log_detail(Some(case_id), "assigned", Some(rule), d);
        if self.assignment_commands {
            let (whom, name) = match &to {
                Assignee::Team(t) => ("team", self.team_name(*t).to_string()),
                Assignee::Person(p) => ("person", p.to_string()),
            };
            self.command(
                json!({ "kind": "assignment", "case": case_id, "rule": rule, whom: name }),
            );
        }
        self.follow_work(case_id);
    }

    pub(crate) fn builtin_event(&mut self, case_id: &Arc<str>, b: Builtin, ev: &EventData) {
        match b {
            Builtin::OwnerAcknowledged => {
                let by = self.field(ev, "by");
                if let Some(c) = self.cases.get_mut(case_id)
                    && !c.acknowledged
                {
                    c.acknowledged = true;
                    c.ack_generation = 0;
                    self.log(
                        Some(case_id),
                        "acknowledged",
                        Some("owners"),
                        json!({ "by": by }),
                    );
                }
            }
            Builtin::ApprovalGranted | Builtin::ApprovalDenied => {
                self.approval_event(case_id, b == Builtin::ApprovalGranted, ev)
            }
            Builtin::BreakerReset => self.breaker_reset(case_id, ev),
            Builtin::ActionSucceeded | Builtin::ActionFailed => {
                self.action_outcome(case_id, b == Builtin::ActionSucceeded, ev)
            }
        }
    }

    /// A field of the triggering event by name, as JSON (built-in events only).
    pub(crate) fn field(&self, ev: &EventData, name: &str) -> Json {
        let def = &self.program.events[ev.event as usize];
        def.fields
            .iter()
            .position(|f| f.name == name)
            .map_or(Json::Null, |i| {
                ev.values.get(i).map_or(Json::Null, |v| self.value_json(v))
            })
    }

    pub(crate) fn field_str(&self, ev: &EventData, name: &str) -> Option<String> {
        let def = &self.program.events[ev.event as usize];
        let i = def.fields.iter().position(|f| f.name == name)?;
        match ev.values.get(i)? {
            Value::Str(s) | Value::Person(s) => Some(s.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// Classify on the classify's events; returns whether the class changed. The class is
    /// decided by `decision::class`; this commits it: errors recorded, the `classified`
    /// entry (with the arms tried before the winner and the facts they read), ownership.
    pub(crate) fn classify(&mut self, case_id: &Arc<str>, ev: &EventData) -> bool {
        let Some(case) = self.cases.get(case_id) else {
            return false;
        };
        let mut tries = Tries::default();
        let pick = self.in_frame(case, Some(ev), &[], |f| {
            decision::class(&self.program, &self.code, ev.event, f, &mut tries)
        });
        let Some(pick) = pick else {
            return false;
        };
        self.commit_tries(
            case_id,
            &tries,
            pick.arm.map(|i| i as u32),
            Engine::arm_name,
            |_, _| true,
        );
        let Some(case) = self.cases.get(case_id) else {
            return false;
        };
        // §7.6: re-classification to the same class changes nothing.
        if case.class == Some(pick.variant) {
            return false;
        }
        let from = case.class;
        if let Some(c) = self.cases.get_mut(case_id) {
            c.class = Some(pick.variant);
        }
        let mut d = self.detail();
        let program = &*self.program;
        if let Some(cl) = &program.classify {
            let variants = &program.enums[cl.enum_id as usize].variants;
            let variant = |v: u32| variants.get(v as usize).map_or("", String::as_str);
            d.str("class", variant(pick.variant));
            if let Some(f) = from {
                d.str("from", variant(f));
            }
        }
        self.write_lost(&mut d, &tries, Engine::arm_str);
        if let Some(case) = self.cases.get(case_id) {
            let tried = tries.lost.iter().map(|t| t.at as usize).chain(pick.arm);
            let places = tried.flat_map(|i| self.code.classify_reads.get(i).into_iter().flatten());
            self.in_frame(case, Some(ev), &[], |f| {
                reads::write(&mut d, program, places, f)
            });
        }
        let rule = pick
            .arm
            .map_or_else(|| "otherwise".into(), |i| self.arm_name(i as u32));
        self.log_detail(Some(case_id), "classified", Some(&rule), d);
        self.take_ownership(case_id, pick.variant);
        true
    }

    fn take_ownership(&mut self, case_id: &Arc<str>, class: u32) {
        let Some(owner) = self.program.owners.get(class as usize).map(|o| o.owner) else {
            return;
        };
        let generation = self.next_generation();
        let now = self.clock;
        let Some(case) = self.cases.get_mut(case_id) else {
            return;
        };
        case.owner = Some(owner);
        case.escalated = false;
        case.acknowledged = false;
        case.ack_generation = generation;
        let mut d = self.detail();
        if let (Some(ttl), Some(now)) = (self.program.acknowledge_within, now) {
            let cal = self.team_calendar(owner);
            if let Some(due) = self.add_duration(cal, now, ttl) {
                d.str("acknowledge_by", &crate::value::format_time(due));
                self.schedule(due, case_id, TimerKind::Ack { generation });
            }
        }
        d.str("owner", self.team_name(owner));
        self.log_detail(Some(case_id), "owned", Some("owners"), d);
    }

    pub(crate) fn ack_timeout(&mut self, case_id: &Arc<str>, generation: u64) {
        let Some(case) = self.cases.get(case_id) else {
            return;
        };
        if case.acknowledged || case.ack_generation != generation || case.escalated {
            return;
        }
        self.escalate(case_id, "owners", Some("not acknowledged in time"));
    }

    /// §7.8: owner (and assignee, if it was the owner) go to the class's escalation owner,
    /// one level only.
    pub(crate) fn escalate(&mut self, case_id: &str, rule: &str, reason: Option<&str>) {
        let Some(case) = self.cases.get(case_id) else {
            return;
        };
        let Some(class) = case.class else { return };
        let Some(esc) = self.program.owners.get(class as usize).map(|o| o.escalate) else {
            return;
        };
        let was_owner_assigned =
            case.assignee.is_none() || case.assignee == case.owner.map(Assignee::Team);
        let already = case.escalated;
        if let Some(c) = self.cases.get_mut(case_id) {
            c.owner = Some(esc);
            c.escalated = true;
        }
        let mut d = self.detail();
        if already {
            d.bool("already_escalated", true);
        }
        if let Some(reason) = reason {
            d.str("reason", reason);
        }
        d.str("to", self.team_name(esc));
        self.log_detail(Some(case_id), "escalated", Some(rule), d);
        if was_owner_assigned {
            self.set_assignee(
                case_id,
                Assignee::Team(esc),
                rule,
                AssignWhy::Flag("escalation"),
            );
        }
    }
}

/// Why an assignee changed, for the `assigned` entry's detail (beside `assignee`).
pub(crate) enum AssignWhy<'a> {
    Plain,
    /// A `true` flag: `breaker`, `escalation` or `exception`.
    Flag(&'static str),
    /// No route took the case: the owner team; the routes tried and the facts they read.
    NoRoute(RouteDecision<'a>),
    /// A route took the case; the routes tried before it and the facts all of them read.
    Route {
        key: Option<Json>,
        decided: RouteDecision<'a>,
        priority: i64,
        route: &'a str,
    },
}
