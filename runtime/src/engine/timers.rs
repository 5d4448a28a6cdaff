//! Pending timers: scheduling, firing in (due, creation) order, and dropping the ones that
//! went stale.
//!
//! A timer goes stale when what it was set for no longer holds: the SLA clock it belongs to
//! was met, paused, reset or rescheduled (its generation moved on), the case was
//! acknowledged or changed owner, or the gate it would expire was approved or its request
//! ended. A stale timer would do nothing when it fires, so dropping it early changes no
//! output (docs/runtime.md, "Timers"): the clock it would have moved to its due instant is
//! moved at least as far by whatever comes next (a live timer due later, the event, or the
//! tick). Every staleness check here is permanent — generations only grow, request ids are
//! never reused, a gate left a request's pending list for good — so a dropped timer could
//! never have become live again.
//!
//! Stale timers are dropped for the case an event or a fired timer just touched (found
//! through `timers_by_case`, an index derived from `timers`), and for all cases after a
//! deployment and a snapshot restore. So `GET /cases/{id}` and `meshline_timers_pending`
//! show only timers that will act.

use std::sync::Arc;

use jiff::Timestamp;

use super::sla::ClockState;
use super::{Engine, Timer, TimerKind};

impl Engine {
    pub(crate) fn schedule(&mut self, due: Timestamp, case: &Arc<str>, kind: TimerKind) {
        self.timer_seq += 1;
        self.timers.insert(
            (due, self.timer_seq),
            Timer {
                case: case.clone(),
                kind,
            },
        );
        match self.timers_by_case.get_mut(&**case) {
            Some(keys) => keys.push((due, self.timer_seq)),
            None => {
                self.timers_by_case
                    .insert(case.clone(), vec![(due, self.timer_seq)]);
            }
        }
    }

    pub(crate) fn fire_timers_until(&mut self, t: Timestamp) {
        while let Some((&(due, seq), _)) = self.timers.first_key_value() {
            if due > t {
                break;
            }
            let Some(timer) = self.timers.remove(&(due, seq)) else {
                break;
            };
            self.unindex(&timer.case, (due, seq));
            if self.clock.is_none_or(|c| c < due) {
                self.clock = Some(due);
            }
            let case = timer.case.clone();
            self.fire(timer);
            self.drop_stale_timers(&case);
        }
    }

    fn unindex(&mut self, case: &str, key: (Timestamp, u64)) {
        if let Some(keys) = self.timers_by_case.get_mut(case) {
            keys.retain(|k| *k != key);
            if keys.is_empty() {
                self.timers_by_case.remove(case);
            }
        }
    }

    /// Drop the case's timers that would do nothing when they fire.
    pub(crate) fn drop_stale_timers(&mut self, case: &str) {
        let Some(keys) = self.timers_by_case.get(case) else {
            return;
        };
        let stale: Vec<(Timestamp, u64)> = keys
            .iter()
            .copied()
            .filter(|k| self.timers.get(k).is_none_or(|t| !self.timer_live(t)))
            .collect();
        if stale.is_empty() {
            return;
        }
        for k in &stale {
            self.timers.remove(k);
        }
        if let Some(keys) = self.timers_by_case.get_mut(case) {
            keys.retain(|k| !stale.contains(k));
            if keys.is_empty() {
                self.timers_by_case.remove(case);
            }
        }
    }

    /// Drop every stale timer and rebuild the case index from the timers (after a
    /// deployment or a restore, which can make many timers stale at once).
    pub(crate) fn drop_all_stale_timers(&mut self) {
        let stale: Vec<(Timestamp, u64)> = self
            .timers
            .iter()
            .filter(|(_, t)| !self.timer_live(t))
            .map(|(k, _)| *k)
            .collect();
        for k in stale {
            self.timers.remove(&k);
        }
        self.timers_by_case.clear();
        for (k, t) in &self.timers {
            match self.timers_by_case.get_mut(&*t.case) {
                Some(keys) => keys.push(*k),
                None => {
                    self.timers_by_case.insert(t.case.clone(), vec![*k]);
                }
            }
        }
    }

    /// Whether firing the timer now would act: the same conditions the firing code checks
    /// (`ack_timeout`, `sla_warn`, `sla_breach`, `gate_expired`), restricted to the ones that
    /// can never become true again.
    pub(crate) fn timer_live(&self, t: &Timer) -> bool {
        let case = self.cases.get(&*t.case);
        let closed = case.is_some_and(|c| c.life.status == super::lifecycle::Status::Closed);
        match t.kind {
            TimerKind::Ack { .. } | TimerKind::SlaWarn { .. } | TimerKind::SlaBreach { .. }
                if closed =>
            {
                false
            }
            TimerKind::Close { generation } | TimerKind::Evict { generation } => {
                case.is_some_and(|c| c.life.generation == generation)
            }
            TimerKind::Ack { generation } => case
                .is_some_and(|c| !c.acknowledged && c.ack_generation == generation && !c.escalated),
            TimerKind::SlaWarn { sla, generation } => clock_of(case, sla).is_some_and(|k| {
                k.generation == generation && k.state == ClockState::Running && !k.warned
            }),
            TimerKind::SlaBreach { sla, generation } => clock_of(case, sla)
                .is_some_and(|k| k.generation == generation && k.state == ClockState::Running),
            TimerKind::GateExpire { request, gate } => self
                .requests
                .get(&request)
                .is_some_and(|r| r.pending.contains(&gate)),
            TimerKind::SagaWait { saga, step } => self.sleeps_on(&t.case, saga, step).is_some(),
            TimerKind::RolloutStage {
                automation,
                generation,
            } => self.stage_timer_live(automation, generation),
        }
    }
}

fn clock_of(case: Option<&super::CaseState>, sla: u32) -> Option<&super::sla::Clock> {
    case?.clocks.get(sla as usize)?.as_ref()
}
