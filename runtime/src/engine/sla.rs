//! SLA clocks (brief §3.6, §7.11): not started → running ⇄ paused → met | breached, with
//! business time counted in the clock's calendar (the policy's, else the one of the team
//! the work is with: `sla_calendar.rs`).
//!
//! A clock keeps the wall time and the open time it has run; a deadline is computed from
//! the remaining target when the clock (re)starts running, and a timer fires at the exact
//! instant. Timers carry the clock's generation: any change (pause, target change, stop)
//! bumps it, so a stale timer does nothing.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value as Json, json};

use super::AssignWhy;
use super::assignee::Assignee;
use super::{Engine, EventData, OnError, TimerKind};
use crate::calendar::Calendar;
use crate::ir::{Action, BusinessUnit, DurationSpec, Recipient, SlaTarget, Target};
use crate::ledger::Detail;
use crate::value::{format_duration, format_time};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockState {
    Running,
    Paused,
    Met,
    Breached,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::Breached => "breached",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Clock {
    pub state: ClockState,
    pub cycle: u32,
    pub calendar: Option<u32>,
    pub target: DurationSpec,
    /// The first open instant at or after the start (where business time begins).
    pub counting_start: Timestamp,
    pub running_since: Option<Timestamp>,
    pub paused_since: Option<Timestamp>,
    pub elapsed_wall: i64,
    pub elapsed_open: i64,
    /// Open time spent paused (pushes a business-days deadline).
    pub paused_open: i64,
    pub warned: bool,
    pub generation: u64,
    pub due: Option<Timestamp>,
}

fn plus(t: Timestamp, secs: i64) -> Option<Timestamp> {
    t.checked_add(SignedDuration::from_secs(secs)).ok()
}

fn unit_secs(u: BusinessUnit) -> i64 {
    match u {
        BusinessUnit::Minutes => 60,
        BusinessUnit::Hours => 3600,
        BusinessUnit::Days => 0,
    }
}

pub(crate) fn spec_json(d: &DurationSpec) -> Json {
    Json::String(spec_text(d))
}

/// A target as people write it: `4h`, `2 business days`.
pub(crate) fn spec_text(d: &DurationSpec) -> String {
    match d {
        DurationSpec::Wall(s) => format_duration(*s),
        DurationSpec::Business(n, u) => {
            let unit = match u {
                BusinessUnit::Minutes => "minute",
                BusinessUnit::Hours => "hour",
                BusinessUnit::Days => "day",
            };
            format!("{n} business {unit}{}", if *n == 1 { "" } else { "s" })
        }
    }
}

/// Elapsed open time in hours, minutes and seconds (a "day" of open time is not 24 hours).
fn format_open(secs: i64) -> String {
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

impl Engine {
    pub(crate) fn calendar(&self, id: Option<u32>) -> &Calendar {
        id.and_then(|i| self.calendars.get(i as usize))
            .unwrap_or(&self.always)
    }

    pub(crate) fn team_calendar(&self, team: u32) -> Option<u32> {
        self.program
            .teams
            .get(team as usize)
            .and_then(|t| t.calendar)
            .or(self.program.default_calendar)
    }

    /// `from` plus a duration of either kind, in a calendar.
    pub(crate) fn add_duration(
        &self,
        cal: Option<u32>,
        from: Timestamp,
        d: DurationSpec,
    ) -> Option<Timestamp> {
        let c = self.calendar(cal);
        match d {
            DurationSpec::Wall(s) => plus(from, s),
            DurationSpec::Business(n, BusinessUnit::Days) => {
                c.add_business_days(c.next_open(from)?, n)
            }
            DurationSpec::Business(n, u) => c.add_open_seconds(from, n * unit_secs(u)),
        }
    }

    pub(crate) fn slas(&mut self, case_id: &Arc<str>, ev: &EventData) {
        for s in 0..self.program.slas.len() {
            self.sla_triggers(case_id, ev, s);
        }
        // §7.11: start/stop/reset first, then re-check `pause` (and the target).
        for s in 0..self.program.slas.len() {
            let live = self
                .cases
                .get(&**case_id)
                .and_then(|c| c.clocks[s].as_ref())
                .is_some_and(|k| matches!(k.state, ClockState::Running | ClockState::Paused));
            if live {
                self.sla_recheck(case_id, ev, s);
            }
        }
    }

    fn trigger_hits(&mut self, case_id: &Arc<str>, ev: &EventData, s: usize, which: u8) -> bool {
        let sla = &self.program.slas[s];
        let triggers = match which {
            0 => &sla.start,
            1 => &sla.stop,
            _ => &sla.reset,
        };
        // Most events trigger nothing here: answer that without allocating.
        if !triggers.iter().any(|t| t.event == ev.event) {
            return false;
        }
        let hits: smallvec::SmallVec<[usize; 8]> = triggers
            .iter()
            .enumerate()
            .filter(|(_, t)| t.event == ev.event)
            .map(|(i, _)| i)
            .collect();
        let program = self.program.clone();
        let name = &program.slas[s].name;
        for i in hits {
            let code = match which {
                0 => &self.code.sla_start[s][i],
                1 => &self.code.sla_stop[s][i],
                _ => &self.code.sla_reset[s][i],
            };
            let Some(case) = self.cases.get(&**case_id) else {
                return false;
            };
            let part = match which {
                0 => "start",
                1 => "stop",
                _ => "reset",
            };
            let ok = match code {
                None => true,
                Some(c) => match self
                    .eval(c, case, Some(ev), &[])
                    .and_then(|v| crate::eval::truthy(&v))
                {
                    Ok(b) => {
                        self.eval_ok(case_id, name, part);
                        b
                    }
                    Err(e) => {
                        self.eval_error(case_id, name, part, &e, OnError::Keep);
                        false
                    }
                },
            };
            if ok {
                return true;
            }
        }
        false
    }

    fn sla_triggers(&mut self, case_id: &Arc<str>, ev: &EventData, s: usize) {
        let state = self
            .cases
            .get(&**case_id)
            .and_then(|c| c.clocks[s].as_ref().map(|k| k.state));
        if state.is_some() && self.trigger_hits(case_id, ev, s, 2) {
            self.sla_reset(case_id, ev, s);
            return;
        }
        if matches!(state, Some(ClockState::Running | ClockState::Paused))
            && self.trigger_hits(case_id, ev, s, 1)
        {
            self.sla_stop(case_id, s);
            return;
        }
        if state.is_none() && self.trigger_hits(case_id, ev, s, 0) {
            // §7.11: `for` is checked when the clock starts.
            let class = self.cases.get(&**case_id).and_then(|c| c.class);
            if class.is_some_and(|c| self.program.slas[s].classes.contains(&c)) {
                self.sla_start(case_id, ev, s, 0);
            }
        }
    }

    fn target_for(
        &mut self,
        case_id: &Arc<str>,
        ev: Option<&EventData>,
        s: usize,
    ) -> Option<DurationSpec> {
        let case = self.cases.get(&**case_id)?;
        let target = super::decision::sla_target(&self.program, &self.code, s, |field| {
            self.eval(field, case, ev, &[])
        });
        let by = matches!(
            self.program.slas.get(s).map(|p| &p.target),
            Some(SlaTarget::By { .. })
        );
        let name: Arc<str> = Arc::from(self.program.slas.get(s)?.name.as_str());
        match target {
            Ok(d) => {
                if by {
                    self.eval_ok(case_id, &name, "target");
                }
                d
            }
            Err(e) => {
                self.eval_error(case_id, &name, "target", &e, OnError::Keep);
                None
            }
        }
    }

    fn sla_start(&mut self, case_id: &Arc<str>, ev: &EventData, s: usize, cycle: u32) {
        let Some(target) = self.target_for(case_id, Some(ev), s) else {
            return;
        };
        let now = self.clock.unwrap_or(ev.at);
        let sla = &self.program.slas[s];
        // The policy's calendar, else the work's (docs/runtime.md, "Which calendar a clock
        // counts in"): a later reassignment may move the clock (`sla_calendar.rs`).
        let calendar = sla.calendar.or_else(|| self.work_calendar(case_id));
        let counting_start = match target {
            DurationSpec::Wall(_) => now,
            DurationSpec::Business(..) => self.calendar(calendar).next_open(now).unwrap_or(now),
        };
        let clock = Clock {
            state: ClockState::Running,
            cycle,
            calendar,
            target,
            counting_start,
            running_since: Some(now),
            paused_since: None,
            elapsed_wall: 0,
            elapsed_open: 0,
            paused_open: 0,
            warned: false,
            generation: 0,
            due: None,
        };
        let name = sla.name.clone();
        let cal_name = self.calendar(calendar).name().to_string();
        if let Some(c) = self.cases.get_mut(&**case_id) {
            c.clocks[s] = Some(clock);
        }
        let mut d = self.detail();
        d.str("calendar", &cal_name);
        if cycle > 0 {
            d.int("cycle", i64::from(cycle));
        }
        d.str("target", &spec_text(&target));
        self.log_detail(Some(case_id), "sla_started", Some(&name), d);
        // A clock started while its pause condition holds starts paused.
        if self.pause_holds(case_id, Some(ev), s) {
            self.sla_pause(case_id, s, now);
        } else {
            self.sla_schedule(case_id, s);
        }
    }

    fn pause_holds(&mut self, case_id: &Arc<str>, ev: Option<&EventData>, s: usize) -> bool {
        let Some(code) = self.code.sla_pause[s].as_ref() else {
            return false;
        };
        let Some(case) = self.cases.get(&**case_id) else {
            return false;
        };
        let result = self
            .eval(code, case, ev, &[])
            .and_then(|v| crate::eval::truthy(&v));
        let program = self.program.clone();
        let name = &program.slas[s].name;
        match result {
            Ok(b) => {
                self.eval_ok(case_id, name, "pause");
                b
            }
            Err(e) => {
                // The clock stays as it is; the assignee too (docs/runtime.md).
                self.eval_error(case_id, name, "pause", &e, OnError::Keep);
                false
            }
        }
    }

    fn sla_recheck(&mut self, case_id: &Arc<str>, ev: &EventData, s: usize) {
        let now = self.clock.unwrap_or(ev.at);
        let Some(state) = self
            .cases
            .get(&**case_id)
            .and_then(|c| c.clocks[s].as_ref().map(|k| k.state))
        else {
            return;
        };
        let pause = self.pause_holds(case_id, Some(ev), s);
        match (state, pause) {
            (ClockState::Running, true) => self.sla_pause(case_id, s, now),
            (ClockState::Paused, false) => self.sla_resume(case_id, s, now),
            _ => {}
        }
        // `target by`: recompute on the same clock (elapsed kept).
        if matches!(self.program.slas[s].target, SlaTarget::By { .. })
            && let Some(t) = self.target_for(case_id, Some(ev), s)
        {
            let changed = self
                .cases
                .get(&**case_id)
                .and_then(|c| c.clocks[s].as_ref())
                .is_some_and(|k| k.target != t);
            if changed {
                let program = self.program.clone();
                let name = &program.slas[s].name;
                if let Some(k) = self
                    .cases
                    .get_mut(&**case_id)
                    .and_then(|c| c.clocks[s].as_mut())
                {
                    k.target = t;
                }
                self.log(
                    Some(case_id),
                    "sla_target_changed",
                    Some(name),
                    json!({ "target": spec_json(&t) }),
                );
                if self
                    .cases
                    .get(&**case_id)
                    .and_then(|c| c.clocks[s].as_ref())
                    .is_some_and(|k| k.state == ClockState::Running)
                {
                    self.sla_schedule(case_id, s);
                }
            }
        }
    }

    /// Accumulate running time up to `now`.
    pub(super) fn accumulate(&mut self, case_id: &Arc<str>, s: usize, now: Timestamp) {
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        let Some(since) = k.running_since else { return };
        let open = self.calendar(k.calendar).open_seconds_between(since, now);
        if let Some(k) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            k.elapsed_wall += (now.as_second() - since.as_second()).max(0);
            k.elapsed_open += open;
            k.running_since = Some(now);
        }
    }

    fn sla_pause(&mut self, case_id: &Arc<str>, s: usize, now: Timestamp) {
        self.accumulate(case_id, s, now);
        let generation = self.next_generation();
        let program = self.program.clone();
        let name = &program.slas[s].name;
        if let Some(k) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            k.state = ClockState::Paused;
            k.running_since = None;
            k.paused_since = Some(now);
            k.generation = generation;
            k.due = None;
        }
        let d = self.detail();
        self.log_detail(Some(case_id), "sla_paused", Some(name), d);
    }

    fn sla_resume(&mut self, case_id: &Arc<str>, s: usize, now: Timestamp) {
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        let paused_open = k.paused_since.map_or(0, |p| {
            self.calendar(k.calendar).open_seconds_between(p, now)
        });
        let program = self.program.clone();
        let name = &program.slas[s].name;
        if let Some(k) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            k.state = ClockState::Running;
            k.running_since = Some(now);
            k.paused_since = None;
            k.paused_open += paused_open;
        }
        let d = self.detail();
        self.log_detail(Some(case_id), "sla_resumed", Some(name), d);
        self.sla_schedule(case_id, s);
    }

    /// Compute the due and warning instants of a running clock and set their timers.
    pub(crate) fn sla_schedule(&mut self, case_id: &Arc<str>, s: usize) {
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        let Some(since) = k.running_since else { return };
        let cal = self.calendar(k.calendar);
        let warn_pct = self.program.slas[s]
            .warn
            .as_ref()
            .map(|(p, _)| i64::from(*p));
        // A remaining amount of zero (or less) is due now, not at the next opening.
        let after = |secs: i64| {
            if secs <= 0 {
                Some(since)
            } else {
                cal.add_open_seconds(since, secs)
            }
        };
        let (due, warn_at) = match k.target {
            DurationSpec::Wall(w) => {
                let due = plus(since, w - k.elapsed_wall);
                let warn = warn_pct.and_then(|p| plus(since, w * p / 10_000 - k.elapsed_wall));
                (due, warn)
            }
            DurationSpec::Business(n, BusinessUnit::Days) => {
                let base = cal.add_business_days(k.counting_start, n);
                // §7.11: pushed later by the open time of each pause (only when there was some).
                let due = if k.paused_open > 0 {
                    base.and_then(|b| cal.add_open_seconds(b, k.paused_open))
                } else {
                    base
                };
                let size = base.map_or(0, |b| cal.open_seconds_between(k.counting_start, b));
                let warn = warn_pct.and_then(|p| after(size * p / 10_000 - k.elapsed_open));
                (due, warn)
            }
            DurationSpec::Business(n, u) => {
                let size = n * unit_secs(u);
                let due = if size == 0 {
                    Some(k.counting_start)
                } else {
                    after(size - k.elapsed_open)
                };
                let warn = warn_pct.and_then(|p| after(size * p / 10_000 - k.elapsed_open));
                (due, warn)
            }
        };
        let generation = self.next_generation();
        if let Some(kk) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            kk.generation = generation;
            kk.due = due;
        }
        let now = self.clock.unwrap_or(since);
        if let Some(w) = warn_at
            && !k.warned
        {
            if w > now {
                self.schedule(
                    w,
                    case_id,
                    TimerKind::SlaWarn {
                        sla: s as u32,
                        generation,
                    },
                );
            } else if warn_pct == Some(0) {
                // `warn at 0%` fires when the clock starts running: now (docs/language.md
                // §9.2). A later warning whose instant a smaller recomputed target has put
                // in the past stays silent, as before: the breach says more.
                self.sla_warn(case_id, s as u32, generation);
            }
        }
        match due {
            // An already exceeded target breaches at once.
            Some(d) if d <= now => self.sla_breach(case_id, s as u32, generation),
            Some(d) => self.schedule(
                d,
                case_id,
                TimerKind::SlaBreach {
                    sla: s as u32,
                    generation,
                },
            ),
            None => {}
        }
    }

    /// A stopped, warned, breached or reset clock's detail: `cycle`, `due` (warnings),
    /// `elapsed`, `previous` (resets) and `target`, in canonical key order.
    fn outcome_detail(
        &mut self,
        k: &Clock,
        now: Timestamp,
        due: Option<Timestamp>,
        previous: Option<&str>,
    ) -> Detail {
        let (mut wall, mut open) = (k.elapsed_wall, k.elapsed_open);
        if let Some(since) = k.running_since {
            wall += (now.as_second() - since.as_second()).max(0);
            open += self.calendar(k.calendar).open_seconds_between(since, now);
        }
        let elapsed = match k.target {
            DurationSpec::Wall(_) => format_duration(wall),
            DurationSpec::Business(..) => format_open(open),
        };
        let mut d = self.detail();
        d.int("cycle", i64::from(k.cycle));
        if let Some(due) = due {
            d.str("due", &format_time(due));
        }
        d.str("elapsed", &elapsed);
        if let Some(p) = previous {
            d.str("previous", p);
        }
        d.str("target", &spec_text(&k.target));
        d
    }

    fn sla_stop(&mut self, case_id: &Arc<str>, s: usize) {
        let now = self.clock.unwrap_or(Timestamp::UNIX_EPOCH);
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        let detail = self.outcome_detail(&k, now, None, None);
        let program = self.program.clone();
        let name = &program.slas[s].name;
        let generation = self.next_generation();
        self.accumulate(case_id, s, now);
        if let Some(k) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            k.state = ClockState::Met;
            k.running_since = None;
            k.generation = generation;
            k.due = None;
        }
        self.log_detail(Some(case_id), "sla_met", Some(name), detail);
    }

    fn sla_reset(&mut self, case_id: &Arc<str>, ev: &EventData, s: usize) {
        let now = self.clock.unwrap_or(ev.at);
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        let detail = self.outcome_detail(&k, now, None, Some(k.state.as_str()));
        let program = self.program.clone();
        let name = &program.slas[s].name;
        self.log_detail(Some(case_id), "sla_reset", Some(name), detail);
        if let Some(c) = self.cases.get_mut(&**case_id) {
            c.clocks[s] = None;
        }
        self.sla_start(case_id, ev, s, k.cycle + 1);
    }

    pub(crate) fn sla_warn(&mut self, case_id: &Arc<str>, s: u32, generation: u64) {
        let s = s as usize;
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        if k.generation != generation || k.state != ClockState::Running || k.warned {
            return;
        }
        if let Some(kk) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            kk.warned = true;
        }
        let now = self.clock.unwrap_or(Timestamp::UNIX_EPOCH);
        let detail = self.outcome_detail(&k, now, k.due, None);
        let program = self.program.clone();
        let name = &program.slas[s].name;
        self.log_detail(Some(case_id), "sla_warned", Some(name), detail);
        let actions = program.slas[s]
            .warn
            .as_ref()
            .map_or(&[][..], |(_, a)| a.as_slice());
        self.run_actions(case_id, name, actions);
    }

    pub(crate) fn sla_breach(&mut self, case_id: &Arc<str>, s: u32, generation: u64) {
        let s = s as usize;
        let Some(k) = self.cases.get(&**case_id).and_then(|c| c.clocks[s].clone()) else {
            return;
        };
        if k.generation != generation || k.state != ClockState::Running {
            return;
        }
        let now = self.clock.unwrap_or(Timestamp::UNIX_EPOCH);
        let detail = self.outcome_detail(&k, now, None, None);
        self.accumulate(case_id, s, now);
        if let Some(kk) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.clocks[s].as_mut())
        {
            kk.state = ClockState::Breached;
            kk.running_since = None;
        }
        let program = self.program.clone();
        let name = &program.slas[s].name;
        self.log_detail(Some(case_id), "sla_breached", Some(name), detail);
        let actions = &program.slas[s].breach;
        self.run_actions(case_id, name, actions);
    }

    /// Escalate, notify, assign (SLA warnings and breaches, gate expiry).
    pub(crate) fn run_actions(&mut self, case_id: &str, rule: &str, actions: &[Action]) {
        for a in actions {
            match a {
                Action::Escalate => self.escalate(case_id, rule, None),
                Action::Deny => {}
                Action::Notify(r) => self.notify(case_id, rule, r),
                Action::Assign(t) => {
                    let to = match t {
                        Target::Team(t) => Assignee::Team(*t),
                        Target::Person(p) => Assignee::Person(Arc::from(p.as_str())),
                    };
                    self.set_assignee(case_id, to, rule, AssignWhy::Plain);
                }
            }
        }
    }

    pub(crate) fn notify(&mut self, case_id: &str, rule: &str, r: &Recipient) {
        let to = match r {
            Recipient::Assignee => self
                .cases
                .get(case_id)
                .and_then(|c| c.assignee.clone())
                .map(|a| self.assignee_json(&a)),
            Recipient::Owner => self
                .cases
                .get(case_id)
                .and_then(|c| c.owner)
                .map(|o| json!(self.team_name(o))),
            Recipient::Target(t) => Some(self.target_json(t)),
        };
        let to = to.unwrap_or(Json::Null);
        self.log(Some(case_id), "notified", Some(rule), json!({ "to": to }));
        self.command(json!({ "kind": "notify", "case": case_id, "rule": rule, "to": to }));
    }
}
