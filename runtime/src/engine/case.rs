//! Cases: facts, classification, ownership with the acknowledgement TTL, escalation, and
//! routing (brief §3.4, §3.5, §7.6–7.8).

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value as Json, json};

pub use super::assignee::Assignee;
use super::frame::{Scan, scan};
use super::sla::Clock;
use super::{Engine, EventData, OnError, TimerKind};
use crate::ir::{Builtin, Strategy, Target};
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
        if let Some(Assignee::Person(p)) = &old
            && let Some(n) = self.open_by_person.get_mut(p)
        {
            *n = n.saturating_sub(1);
        }
        if let Assignee::Person(p) = &to {
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
            AssignWhy::Route {
                key,
                priority,
                route,
            } => {
                if let Some(key) = key {
                    d.json("key", &key);
                }
                d.int("priority", priority).str("route", route);
            }
        }
        self.log_detail(Some(case_id), "assigned", Some(rule), d);
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

    /// Classify on the classify's events; returns whether the class changed.
    pub(crate) fn classify(&mut self, case_id: &Arc<str>, ev: &EventData) -> bool {
        let program = self.program.clone();
        let Some(cl) = &program.classify else {
            return false;
        };
        if !self
            .code
            .classify_on
            .get(ev.event as usize)
            .copied()
            .unwrap_or(false)
        {
            return false;
        }
        // The arms in one frame; an arm that fails is recorded (which may change the
        // case) and the scan goes on after it in a fresh frame.
        let mut from = 0;
        let mut failed = smallvec::SmallVec::<[usize; 4]>::new();
        let hit = loop {
            let Some(case) = self.cases.get(case_id) else {
                return false;
            };
            let code = &self.code.classify;
            let scanned = self.in_frame(case, Some(ev), &[], |f| {
                scan(f, from, code.len(), |i| code.get(i))
            });
            match scanned {
                Scan::Hit(i) => break Some(i),
                Scan::Miss => break None,
                Scan::Failed(i, e) => {
                    let name = self.code.classify_rules[i].clone();
                    self.eval_error(case_id, &name, "when", &e, OnError::Reassign);
                    failed.push(i);
                    from = i + 1;
                }
            }
        };
        if self
            .cases
            .get(case_id)
            .is_some_and(|c| !c.errors.is_empty())
        {
            // The arms that evaluated (up to the hit) may fail again later: that is news.
            let end = hit.map_or(self.code.classify.len(), |i| i + 1);
            for i in (0..end).filter(|i| !failed.contains(i)) {
                let name = self.code.classify_rules[i].clone();
                self.eval_ok(case_id, &name, "when");
            }
        }
        let (class, rule) = match hit.and_then(|i| Some((cl.arms.get(i)?.0, i))) {
            Some((variant, i)) => (variant, Some(self.code.classify_rules[i].clone())),
            None => (cl.otherwise, None),
        };
        let Some(case) = self.cases.get_mut(case_id) else {
            return false;
        };
        // §7.6: re-classification to the same class changes nothing.
        if case.class == Some(class) {
            return false;
        }
        let from = case.class;
        case.class = Some(class);
        let mut d = self.detail();
        let variants = &self.program.enums[cl.enum_id as usize].variants;
        d.str("class", &variants[class as usize]);
        if let Some(f) = from {
            d.str("from", &variants[f as usize]);
        }
        self.log_detail(
            Some(case_id),
            "classified",
            Some(rule.as_deref().unwrap_or("otherwise")),
            d,
        );
        self.take_ownership(case_id, class);
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

    /// Routes (docs/language.md §8.3): on events some route lists; on an event that changes
    /// the class, also the routes whose condition reads `class`.
    ///
    /// Candidates come from the route index: routes whose condition requires an enum
    /// equality are looked up by the value the case has now, so routes that cannot match
    /// are never visited; the rest are tried best first (priority, then declaration order).
    pub(crate) fn route(&mut self, case_id: &Arc<str>, ev: &EventData, class_changed: bool) {
        let index = if class_changed {
            &self.route_index_class[ev.event as usize]
        } else {
            &self.route_index[ev.event as usize]
        };
        if index.is_empty() {
            if class_changed && let Some(owner) = self.cases.get(&**case_id).and_then(|c| c.owner) {
                self.set_assignee(case_id, Assignee::Team(owner), "owners", AssignWhy::Plain);
            }
            return;
        }
        let Some(case) = self.cases.get(&**case_id) else {
            return;
        };
        let event = crate::eval::EventView {
            slots: &self.program.events[ev.event as usize].slots,
            values: &ev.values,
        };
        let mut merged = super::index::Candidates::new();
        let (candidates, known) =
            self.route_candidates(index, case.class, &case.facts, Some(event), &mut merged);
        // (Copied out: deciding may write to the engine, which holds the index.)
        let candidates = super::index::Candidates::from_slice(candidates);
        // The candidates in one frame, best first; a failure is handled and the scan goes
        // on after it in a fresh frame (recording it may change the case). A route whose
        // `key` fails to evaluate counts as not matching, as a failing condition does
        // (docs/language.md §8.3).
        let mut from = 0;
        let mut failed = smallvec::SmallVec::<[usize; 4]>::new();
        let winner = loop {
            let Some(case) = self.cases.get(&**case_id) else {
                return;
            };
            let scanned = self.in_frame(case, Some(ev), &[], |f| {
                scan(f, from, candidates.len(), |i| {
                    self.route_condition(candidates[i], known)
                })
            });
            let (i, part, e) = match scanned {
                Scan::Hit(i) => match self.route_key(case, ev, candidates[i]) {
                    Ok(key) => break Some((i, key)),
                    Err(e) => (i, "key", e),
                },
                Scan::Miss => break None,
                Scan::Failed(i, e) => (i, "when", e),
            };
            let route = &self.program.routes[candidates[i] as usize];
            // A route considered only because the class changed (it does not list this
            // event) may read facts its own events would set: unset means "no match", not
            // an error.
            let outside_on = !route.events.contains(&ev.event);
            if !(outside_on && matches!(e, crate::eval::EvalError::UnsetFact(_))) {
                let name = route.name.clone();
                self.eval_error(case_id, &name, part, &e, OnError::Reassign);
            }
            failed.push(i);
            from = i + 1;
        };
        if self
            .cases
            .get(&**case_id)
            .is_some_and(|c| !c.errors.is_empty())
        {
            let end = winner.as_ref().map_or(candidates.len(), |(i, _)| i + 1);
            for i in (0..end).filter(|i| !failed.contains(i)) {
                let name = self.program.routes[candidates[i] as usize].name.clone();
                self.eval_ok(case_id, &name, "when");
                if winner.as_ref().is_some_and(|(w, _)| *w == i) {
                    self.eval_ok(case_id, &name, "key");
                }
            }
        }
        match winner {
            Some((i, key)) => self.assign_by_route(case_id, candidates[i], key),
            None => {
                // No match: the class owner is the assignee.
                if let Some(owner) = self.cases.get(&**case_id).and_then(|c| c.owner) {
                    self.set_assignee(case_id, Assignee::Team(owner), "owners", AssignWhy::Plain);
                }
            }
        }
    }

    /// A route's `key` values, as JSON (empty without a `key` clause).
    fn route_key(
        &self,
        case: &CaseState,
        ev: &EventData,
        r: u32,
    ) -> Result<Vec<Json>, crate::eval::EvalError> {
        self.code.route_key[r as usize]
            .iter()
            .map(|code| Ok(self.value_json(&self.eval(code, case, Some(ev), &[])?)))
            .collect()
    }

    fn assign_by_route(&mut self, case_id: &Arc<str>, r: u32, key: Vec<Json>) {
        let program = self.program.clone();
        let route = &program.routes[r as usize];
        let assignee = match (&route.target, route.strategy) {
            (Target::Person(p), _) => Assignee::Person(Arc::from(p.as_str())),
            (Target::Team(t), Strategy::Queue) => Assignee::Team(*t),
            (Target::Team(t), Strategy::RoundRobin) => {
                let members = &self.members[*t as usize];
                if members.is_empty() {
                    Assignee::Team(*t)
                } else {
                    let cursor = &mut self.rr_cursor[*t as usize];
                    let m = members[*cursor % members.len()].clone();
                    *cursor = (*cursor + 1) % members.len();
                    Assignee::Person(m)
                }
            }
            (Target::Team(t), Strategy::LeastOpen) => {
                let members = &self.members[*t as usize];
                let best = members
                    .iter()
                    .min_by_key(|m| self.open_by_person.get(&**m).copied().unwrap_or(0));
                match best {
                    Some(m) => Assignee::Person(m.clone()),
                    None => Assignee::Team(*t),
                }
            }
        };
        let why = AssignWhy::Route {
            key: (!key.is_empty()).then_some(Json::Array(key)),
            priority: route.priority,
            route: &route.name,
        };
        self.set_assignee(case_id, assignee, &route.name, why);
    }
}

/// Why an assignee changed, for the `assigned` entry's detail (beside `assignee`).
pub(crate) enum AssignWhy<'a> {
    Plain,
    /// A `true` flag: `breaker`, `escalation` or `exception`.
    Flag(&'static str),
    Route {
        key: Option<Json>,
        priority: i64,
        route: &'a str,
    },
}
