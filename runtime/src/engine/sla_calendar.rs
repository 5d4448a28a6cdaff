//! SLA calendars follow the work (docs/runtime.md, "Which calendar a clock counts in"): a
//! policy without a calendar of its own counts in the calendar of the team the case is
//! assigned to, and a reassignment to a team on another calendar moves its running and
//! paused clocks to that calendar, recorded as `sla_rescheduled`.

use std::sync::Arc;

use super::Engine;
use super::assignee::Assignee;
use super::sla::ClockState;

impl Engine {
    /// The team a case's work is with: its assigned team, or for a person the first team
    /// (in declaration order) that lists them; `None` when unassigned or a person no team
    /// lists.
    fn work_team(&self, case_id: &str) -> Option<u32> {
        match self.cases.get(case_id)?.assignee.as_ref()? {
            Assignee::Team(t) => Some(*t),
            Assignee::Person(p) => self
                .members
                .iter()
                .position(|m| m.iter().any(|x| x == p))
                .and_then(|i| u32::try_from(i).ok()),
        }
    }

    /// The calendar a clock of a policy without its own counts in: the work team's, if it
    /// declares one; else the owner team's; else the project's default (`always`).
    pub(crate) fn work_calendar(&self, case_id: &str) -> Option<u32> {
        let own = |t: u32| {
            self.program
                .teams
                .get(t as usize)
                .and_then(|team| team.calendar)
        };
        self.work_team(case_id)
            .and_then(own)
            .or_else(|| {
                self.cases
                    .get(case_id)
                    .and_then(|c| c.owner)
                    .and_then(|o| self.team_calendar(o))
            })
            .or(self.program.default_calendar)
    }

    /// After the assignee changed: move each running or paused clock of a policy without a
    /// calendar of its own to the work calendar, if that changed (in policy order).
    pub(crate) fn follow_work(&mut self, case_id: &str) {
        let Some(now) = self.clock else { return };
        let to = self.work_calendar(case_id);
        let Some(case) = self.cases.get(case_id) else {
            return;
        };
        let id = case.id.clone();
        let moved: Vec<usize> = case
            .clocks
            .iter()
            .enumerate()
            .filter_map(|(s, k)| {
                let k = k.as_ref()?;
                let own = self.program.slas.get(s)?.calendar.is_some();
                let live = matches!(k.state, ClockState::Running | ClockState::Paused);
                (!own && live && k.calendar != to).then_some(s)
            })
            .collect();
        for s in moved {
            self.move_clock(&id, s, to, now);
        }
    }

    /// Business time so far stays as counted in the old calendar; what remains is counted
    /// in the new one from now. A running clock gets new deadlines (its old timers go stale).
    fn move_clock(&mut self, case_id: &Arc<str>, s: usize, to: Option<u32>, now: jiff::Timestamp) {
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        if k.state == ClockState::Running {
            self.accumulate(case_id, s, now);
        }
        // A paused clock's open time paused so far counts in the calendar it was paused in.
        let paused_open = match (k.state, k.paused_since) {
            (ClockState::Paused, Some(p)) => self.calendar(k.calendar).open_seconds_between(p, now),
            _ => 0,
        };
        let from = self.calendar(k.calendar).name().to_string();
        let name = self.calendar(to).name().to_string();
        if let Some(k) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            k.calendar = to;
            if k.state == ClockState::Paused {
                k.paused_open += paused_open;
                k.paused_since = Some(now);
            }
        }
        let rule = self.program.slas[s].name.clone();
        let mut d = self.detail();
        d.str("calendar", &name);
        d.str("from", &from);
        self.log_detail(Some(case_id), "sla_rescheduled", Some(&rule), d);
        if k.state == ClockState::Running {
            self.sla_schedule(case_id, s);
        }
    }
}
