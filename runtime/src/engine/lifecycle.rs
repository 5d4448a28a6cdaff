//! Case lifecycle (docs/runtime.md, "Case lifecycle"): a case is open, solved or closed,
//! moved by the events a `lifecycle` declaration names; a solved case not reopened within
//! the reopen window closes; a closed case leaves the working set after the retention.
//!
//! Only open cases count for `least_open` (`open_by_person`), so every transition into or
//! out of *open* moves the assignee's count. A closed case's later events are recorded and
//! run no rules, and its acknowledgement and SLA timers do nothing; its held steps still
//! expire. Leaving the working set (`evicted`) waits while the case has a saga waiting for
//! an outcome or held for approval: the engine needs the case to settle them.

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::json;

use super::actions::SagaState;
use super::assignee::Assignee;
use super::{Engine, EventData, TimerKind};
use crate::ir::DurationSpec;
use crate::value::{format_duration, format_time};

/// Where a case is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    #[default]
    Open,
    Solved,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }
}

/// A case's lifecycle state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Life {
    pub status: Status,
    /// When the case entered its status (`None` for a case open since it was opened).
    pub since: Option<Timestamp>,
    /// The generation of its pending close or eviction timer (a transition moves it on).
    pub generation: u64,
}

/// How long a closed case stays in the working set when the declaration does not say.
pub(super) const DEFAULT_RETENTION: DurationSpec = DurationSpec::Wall(30 * 86_400);

/// Which transition an event makes, if any.
enum Move {
    Solve,
    Reopen,
    Close,
}

impl Engine {
    /// Whether the case is closed: its events run no rules (the caller records that).
    pub(crate) fn is_closed(&self, case_id: &str) -> bool {
        self.cases
            .get(case_id)
            .is_some_and(|c| c.life.status == Status::Closed)
    }

    /// Record that a closed case's event ran no rules.
    pub(crate) fn closed_case_event(&mut self, case_id: &str) {
        let since = self
            .cases
            .get(case_id)
            .and_then(|c| c.life.since)
            .map(format_time);
        let mut d = json!({ "reason": "the case is closed; its events run no rules" });
        if let Some(since) = since {
            d["closed_at"] = json!(since);
        }
        self.log(Some(case_id), "ignored", Some("lifecycle"), d);
    }

    /// The transition the event makes on the case, after its facts are updated and before
    /// the rules run (so `stop on TicketSolved` and `reset on TicketReopened` still apply).
    pub(crate) fn lifecycle_event(&mut self, case_id: &Arc<str>, ev: &EventData) {
        let lc = &self.program.lifecycle;
        let mv = if lc.solved.contains(&ev.event) {
            Move::Solve
        } else if lc.reopened.contains(&ev.event) {
            Move::Reopen
        } else if lc.closed.contains(&ev.event) {
            Move::Close
        } else {
            return;
        };
        let Some(status) = self.cases.get(&**case_id).map(|c| c.life.status) else {
            return;
        };
        match (mv, status) {
            (Move::Solve, Status::Open) => self.solve(case_id),
            (Move::Reopen, Status::Solved) => self.reopen(case_id),
            (Move::Close, Status::Open | Status::Solved) => self.close(case_id, None),
            // Solving a solved case, reopening an open one: nothing changes.
            _ => {}
        }
    }

    fn solve(&mut self, case_id: &Arc<str>) {
        let now = self.now();
        self.set_status(case_id, Status::Solved, now);
        let mut d = json!({});
        if let Some(within) = self.program.lifecycle.reopen_within {
            let generation = self.life_generation(case_id);
            let cal = self.program.default_calendar;
            if let Some(due) = self.add_duration(cal, now, within) {
                d["close_at"] = json!(format_time(due));
                self.schedule(due, case_id, TimerKind::Close { generation });
            }
        }
        self.log(Some(case_id), "solved", Some("lifecycle"), d);
    }

    fn reopen(&mut self, case_id: &Arc<str>) {
        let now = self.now();
        let solved_at = self.cases.get(&**case_id).and_then(|c| c.life.since);
        self.set_status(case_id, Status::Open, now);
        self.life_generation(case_id);
        let mut d = json!({});
        if let Some(at) = solved_at {
            d["solved_at"] = json!(format_time(at));
            d["after"] = json!(format_duration(now.as_second() - at.as_second()));
        }
        self.log(Some(case_id), "reopened", Some("lifecycle"), d);
    }

    /// Close the case; `reason` when the engine closes it (the reopen window ran out).
    fn close(&mut self, case_id: &Arc<str>, reason: Option<&str>) {
        let now = self.now();
        let from = self
            .cases
            .get(&**case_id)
            .map_or(Status::Open, |c| c.life.status);
        self.set_status(case_id, Status::Closed, now);
        let generation = self.life_generation(case_id);
        let retain = self
            .program
            .lifecycle
            .retain_closed
            .unwrap_or(DEFAULT_RETENTION);
        let mut d = json!({ "from": from.as_str() });
        if let Some(reason) = reason {
            d["reason"] = json!(reason);
        }
        if let Some(due) = self.add_duration(self.program.default_calendar, now, retain) {
            d["evict_at"] = json!(format_time(due));
            self.schedule(due, case_id, TimerKind::Evict { generation });
        }
        self.log(Some(case_id), "closed", Some("lifecycle"), d);
    }

    /// A close or eviction timer fired.
    pub(crate) fn lifecycle_timer(&mut self, case_id: &Arc<str>, generation: u64, evict: bool) {
        let Some(life) = self.cases.get(&**case_id).map(|c| c.life) else {
            return;
        };
        if life.generation != generation {
            return;
        }
        match (evict, life.status) {
            (false, Status::Solved) => {
                let within = self
                    .program
                    .lifecycle
                    .reopen_within
                    .map(|w| crate::engine::sla::spec_text(&w))
                    .unwrap_or_default();
                let reason = format!("not reopened within {within}");
                self.close(case_id, Some(&reason));
                self.sync_open_cases(case_id);
            }
            (true, Status::Closed) => self.evict(case_id),
            _ => {}
        }
    }

    /// Remove a closed case from the working set, unless a saga of it still waits for an
    /// outcome or an approval: then try again one retention later.
    fn evict(&mut self, case_id: &Arc<str>) {
        let busy = self.cases.get(&**case_id).is_some_and(|c| {
            c.sagas
                .iter()
                .any(|s| matches!(s.state, SagaState::Waiting(_) | SagaState::Held(_)))
        });
        let now = self.now();
        if busy {
            let generation = self.life_generation(case_id);
            let retain = self
                .program
                .lifecycle
                .retain_closed
                .unwrap_or(DEFAULT_RETENTION);
            if let Some(due) = self.add_duration(self.program.default_calendar, now, retain) {
                self.schedule(due, case_id, TimerKind::Evict { generation });
            }
            return;
        }
        let closed_at = self.cases.get(&**case_id).and_then(|c| c.life.since);
        let mut d = json!({});
        if let Some(at) = closed_at {
            d["closed_at"] = json!(format_time(at));
        }
        self.log(Some(case_id), "evicted", Some("lifecycle"), d);
        self.forget_open_case(case_id);
        self.cases.remove(&**case_id);
        // Its timers (acknowledgement, SLA, the eviction just fired) can no longer act.
        if let Some(keys) = self.timers_by_case.remove(&**case_id) {
            for k in keys {
                self.timers.remove(&k);
            }
        }
    }

    /// Move the case to `to` at `now`, keeping the open counts per person right.
    fn set_status(&mut self, case_id: &str, to: Status, now: Timestamp) {
        let Some(case) = self.cases.get_mut(case_id) else {
            return;
        };
        let was_open = case.life.status == Status::Open;
        case.life.status = to;
        case.life.since = Some(now);
        let person = match &case.assignee {
            Some(Assignee::Person(p)) => Some(p.clone()),
            _ => None,
        };
        let is_open = to == Status::Open;
        if let Some(p) = person
            && was_open != is_open
        {
            let n = self.open_by_person.entry(p).or_insert(0);
            *n = if is_open { *n + 1 } else { n.saturating_sub(1) };
        }
    }

    fn life_generation(&mut self, case_id: &str) -> u64 {
        let g = self.next_generation();
        if let Some(c) = self.cases.get_mut(case_id) {
            c.life.generation = g;
        }
        g
    }

    fn now(&self) -> Timestamp {
        self.clock.unwrap_or(Timestamp::UNIX_EPOCH)
    }
}
