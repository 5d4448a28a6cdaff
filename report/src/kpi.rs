//! Reading entries in ledger order and folding them into the figures of docs/kpis.md.
//!
//! State (a case's class, owner, last route, pending holds, which automation issued which
//! idempotency key) is followed through every entry; counts take only the entries inside
//! the window. Case-based figures are grouped at the end, by each case's final group, so a
//! case counts under one group however often it was reclassified.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rustc_hash::FxHashMap as HashMap;

use crate::cases::CaseOutcome;
use crate::model::*;
use crate::read::Entry;
use crate::stats::{self, duration_seconds, histogram, percent, reason_class};

/// Std help-desk events that mark a case solved and reopened (docs/kpis.md, "Reopen rate"),
/// beside the engine's `solved` and `reopened` lifecycle entries.
const SOLVED: &str = "TicketSolved";
const REOPENED: &str = "TicketReopened";

#[derive(Clone, Default)]
struct Case {
    class: Option<String>,
    owner: Option<String>,
    route: Option<String>,
    automation: Option<String>,
    received_at: Option<Timestamp>,
    owned: bool,
    acknowledged: bool,
    solved: bool,
    /// A `closed` lifecycle entry was written: later solve and reopen events do not count.
    closed: bool,
    exception_queue: bool,
}

/// One ended SLA clock cycle, grouped at the end.
#[derive(Clone)]
struct ClockEnd {
    case: u32,
    policy: String,
    met: bool,
    elapsed: Option<i64>,
    target: String,
    day: String,
}

#[derive(Clone, Default)]
struct Clock {
    paused_since: Option<Timestamp>,
}

/// A held step waiting for its approval.
#[derive(Clone)]
struct Hold {
    case: u32,
    automation: String,
    step: u64,
}

/// Folds entries into figures; [`Fold::finish`] groups and summarises.
#[derive(Clone)]
pub(crate) struct Fold {
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    by: GroupBy,
    entries: u64,
    first_at: Option<String>,
    last_at: Option<String>,
    case_ids: HashMap<String, u32>,
    cases: Vec<Case>,
    volumes: Volumes,
    opened: Vec<u32>,
    automations: BTreeMap<String, Automation>,
    key_owner: HashMap<String, String>,
    holds: HashMap<u64, Hold>,
    released: HashMap<(u32, String, u64), u32>,
    clocks: HashMap<(u32, String), Clock>,
    sla_counts: BTreeMap<(u32, String), (u64, u64, u64)>,
    sla_paused: HashMap<(u32, String), i64>,
    clock_ends: Vec<ClockEnd>,
    tto: Vec<(u32, i64)>,
    ack_misses: Vec<u32>,
    escalations: Vec<u32>,
    solved: Vec<u32>,
    reopened: Vec<u32>,
    exception_assignments: Vec<u32>,
    exceptions: Exceptions,
    /// Per case, when comparing runs (`meshline replay`).
    outcomes: Option<Vec<CaseOutcome>>,
}

impl Fold {
    pub(crate) fn new(since: Option<Timestamp>, until: Option<Timestamp>, by: GroupBy) -> Fold {
        Fold {
            since,
            until,
            by,
            entries: 0,
            first_at: None,
            last_at: None,
            case_ids: HashMap::default(),
            cases: Vec::new(),
            volumes: Volumes::default(),
            opened: Vec::new(),
            automations: BTreeMap::new(),
            key_owner: HashMap::default(),
            holds: HashMap::default(),
            released: HashMap::default(),
            clocks: HashMap::default(),
            sla_counts: BTreeMap::new(),
            sla_paused: HashMap::default(),
            clock_ends: Vec::new(),
            tto: Vec::new(),
            ack_misses: Vec::new(),
            escalations: Vec::new(),
            solved: Vec::new(),
            reopened: Vec::new(),
            exception_assignments: Vec::new(),
            exceptions: Exceptions::default(),
            outcomes: None,
        }
    }

    /// Also follow each case's outcome ([`CaseOutcome`]).
    pub(crate) fn track_cases(&mut self) {
        self.outcomes = Some(Vec::new());
    }

    fn solve(&mut self, c: u32, counted: bool) {
        self.cases[c as usize].solved = true;
        if counted {
            self.solved.push(c);
        }
    }

    /// A reopen counts only for a solved case.
    fn reopen(&mut self, c: u32, counted: bool) {
        if !self.cases[c as usize].solved {
            return;
        }
        self.cases[c as usize].solved = false;
        if counted {
            self.reopened.push(c);
        }
    }

    fn case(&mut self, id: &str) -> u32 {
        if let Some(&i) = self.case_ids.get(id) {
            return i;
        }
        let i = u32::try_from(self.cases.len()).unwrap_or(u32::MAX);
        self.cases.push(Case::default());
        self.case_ids.insert(id.to_string(), i);
        i
    }

    fn automation(&mut self, name: &str) -> &mut Automation {
        if !self.automations.contains_key(name) {
            self.automations
                .insert(name.to_string(), Automation::default());
        }
        self.automations
            .get_mut(name)
            .unwrap_or_else(|| unreachable!("inserted above"))
    }

    /// Fold one entry; `at` is the entry's parsed instant, `line` its text.
    pub(crate) fn push(&mut self, e: &Entry<'_>, at: Timestamp, line: &str) {
        self.entries += 1;
        if self.first_at.is_none() {
            self.first_at = Some(e.at.to_string());
        }
        self.last_at = Some(e.at.to_string());
        let counted = self.since.is_none_or(|s| at >= s) && self.until.is_none_or(|u| at < u);
        let case = e.case.as_deref().map(|c| self.case(c));
        let rule = e.rule.as_deref().unwrap_or("");
        let d = &e.detail;
        let day = e.at.get(..10).unwrap_or("").to_string();
        if let (Some(c), Some(outcomes)) = (case, self.outcomes.as_mut()) {
            let i = c as usize;
            if outcomes.len() <= i {
                outcomes.resize_with(i + 1, CaseOutcome::default);
            }
            outcomes[i].push(e, line);
        }
        match &*e.kind {
            "received" => {
                if let Some(c) = case {
                    let first = self.cases[c as usize].received_at.is_none();
                    if first {
                        self.cases[c as usize].received_at = Some(at);
                    }
                    let ty = d.event_type.as_deref().unwrap_or("");
                    if self.cases[c as usize].closed {
                        // A closed case's events run no rules and count for nothing.
                    } else if ty == SOLVED {
                        self.solve(c, counted);
                    } else if ty == REOPENED {
                        self.reopen(c, counted);
                    }
                    if counted {
                        self.volumes.events += 1;
                        *self
                            .volumes
                            .by_event_type
                            .entry(ty.to_string())
                            .or_default() += 1;
                        let v = self.volumes.by_day.entry(day).or_default();
                        v.events += 1;
                        if first {
                            v.cases_opened += 1;
                            self.volumes.cases_opened += 1;
                            self.opened.push(c);
                        }
                    }
                }
            }
            // Lifecycle entries (docs/runtime.md, "Case lifecycle"): a project's own solve
            // and reopen events count; the std events' were counted at `received`.
            "solved" => {
                if let Some(c) = case
                    && !self.cases[c as usize].solved
                {
                    self.solve(c, counted);
                }
            }
            "reopened" => {
                if let Some(c) = case {
                    self.reopen(c, counted);
                }
            }
            "closed" => {
                if let Some(c) = case {
                    self.cases[c as usize].closed = true;
                    self.cases[c as usize].solved = false;
                }
            }
            "duplicate" if counted => self.volumes.duplicates += 1,
            "rejected" if counted => {
                self.volumes.rejected += 1;
                let reason = reason_class(d.reason.as_deref().unwrap_or(""));
                *self
                    .exceptions
                    .rejected_by_reason
                    .entry(reason)
                    .or_default() += 1;
            }
            "classified" => {
                if let (Some(c), Some(class)) = (case, d.class.as_deref()) {
                    self.cases[c as usize].class = Some(class.to_string());
                }
            }
            "owned" => {
                if let (Some(c), Some(owner)) = (case, d.owner.as_deref()) {
                    let k = &mut self.cases[c as usize];
                    k.owner = Some(owner.to_string());
                    k.owned = true;
                }
            }
            "assigned" => {
                if let Some(c) = case {
                    let exception = d.exception == Some(true);
                    let k = &mut self.cases[c as usize];
                    k.exception_queue = exception;
                    if let Some(route) = d.route.as_deref() {
                        k.route = Some(route.to_string());
                    }
                    if exception && counted {
                        self.exception_assignments.push(c);
                    }
                }
            }
            "acknowledged" => {
                if let Some(c) = case {
                    let k = &mut self.cases[c as usize];
                    if !k.acknowledged {
                        k.acknowledged = true;
                        if counted && let Some(r) = k.received_at {
                            self.tto.push((c, (at.as_second() - r.as_second()).max(0)));
                        }
                    }
                }
            }
            "escalated" if counted => {
                if let Some(c) = case {
                    self.escalations.push(c);
                    if rule == "owners" {
                        self.ack_misses.push(c);
                    }
                }
            }
            "sla_started" | "sla_paused" | "sla_resumed" | "sla_warned" | "sla_met"
            | "sla_breached" | "sla_reset" => {
                if let Some(c) = case {
                    self.sla(c, &e.kind, rule, d, at, counted, day);
                }
            }
            "executed" | "held" | "shadowed" | "approved" | "denied" | "expired" | "succeeded"
            | "failed" | "compensated" | "halted" | "not_in_rollout" => {
                self.action(case, &e.kind, rule, d, counted);
            }
            // A staged rollout's transitions (docs/language.md §11.3), in ledger order.
            "promoted" | "rolled_back" if counted => {
                let stage = |k: &Option<crate::read::Key<'_>>| {
                    k.as_ref().and_then(|k| k.text()).unwrap_or("").to_string()
                };
                let (from, to) = (stage(&d.from), stage(&d.to));
                let a = self.automation(rule);
                a.stage = Some(to.clone());
                a.stage_changes.push(crate::model::StageChange {
                    at: e.at.to_string(),
                    kind: e.kind.to_string(),
                    from,
                    to,
                });
            }
            "eval_error" if counted => {
                *self
                    .exceptions
                    .eval_errors_by_rule
                    .entry(rule.to_string())
                    .or_default() += 1;
                if self.automations.contains_key(rule) {
                    self.automation(rule).eval_errors += 1;
                }
            }
            "refused" if counted => {
                let reason = reason_class(d.reason.as_deref().unwrap_or(""));
                *self.exceptions.refused_by_reason.entry(reason).or_default() += 1;
            }
            _ => {}
        }
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one entry's parts, already split"
    )]
    fn sla(
        &mut self,
        c: u32,
        kind: &str,
        policy: &str,
        d: &crate::read::Detail<'_>,
        at: Timestamp,
        counted: bool,
        day: String,
    ) {
        let key = (c, policy.to_string());
        let clock = self.clocks.entry(key.clone()).or_default();
        // Paused time is wall time between `sla_paused` and whatever ends the pause.
        if kind != "sla_paused"
            && kind != "sla_warned"
            && let Some(p) = clock.paused_since.take()
            && counted
        {
            *self.sla_paused.entry(key.clone()).or_default() +=
                (at.as_second() - p.as_second()).max(0);
        }
        if kind == "sla_paused" {
            clock.paused_since = Some(at);
        }
        if !counted {
            return;
        }
        let counts = self.sla_counts.entry(key).or_default();
        match kind {
            "sla_started" => counts.0 += 1,
            "sla_warned" => counts.1 += 1,
            "sla_reset" => {
                // A reset ends a cycle (its outcome is `previous`) and starts the next.
                counts.2 += 1;
                counts.0 += 1;
            }
            "sla_met" | "sla_breached" => {
                let met = kind == "sla_met";
                self.clock_ends.push(ClockEnd {
                    case: c,
                    policy: policy.to_string(),
                    met,
                    elapsed: d.elapsed.as_deref().and_then(duration_seconds),
                    target: d.target.as_deref().unwrap_or("").to_string(),
                    day: day.clone(),
                });
                let v = self.volumes.by_day.entry(day).or_default();
                if met {
                    v.sla_met += 1;
                } else {
                    v.sla_breached += 1;
                }
            }
            _ => {}
        }
    }

    fn action(
        &mut self,
        case: Option<u32>,
        kind: &str,
        rule: &str,
        d: &crate::read::Detail<'_>,
        counted: bool,
    ) {
        let step = d.step.unwrap_or(0);
        match kind {
            "held" => {
                let Some(auto) = d.automation.as_deref() else {
                    return;
                };
                if let (Some(c), Some(r)) = (case, d.request) {
                    self.holds.insert(
                        r,
                        Hold {
                            case: c,
                            automation: auto.to_string(),
                            step,
                        },
                    );
                    *self
                        .released
                        .entry((c, auto.to_string(), step))
                        .or_default() += 1;
                }
                if let Some(c) = case {
                    self.note_automation(c, auto);
                }
                if counted {
                    let gates: Vec<String> = d.gates.iter().map(|g| g.to_string()).collect();
                    let a = self.automation(auto);
                    a.held += 1;
                    a.runs += u64::from(step == 0);
                    for g in gates {
                        *a.held_by_gate.entry(g).or_default() += 1;
                    }
                }
            }
            "executed" => {
                if let Some(k) = d.key.as_ref().and_then(|k| k.text()) {
                    self.key_owner.insert(k.to_string(), rule.to_string());
                }
                // A step released from a hold is the hold's run, not a new one.
                let released = case.is_some_and(|c| {
                    match self.released.get_mut(&(c, rule.to_string(), step)) {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            true
                        }
                        _ => false,
                    }
                });
                if let Some(c) = case {
                    self.note_automation(c, rule);
                }
                if counted {
                    let a = self.automation(rule);
                    a.executed += 1;
                    a.released += u64::from(released);
                    a.runs += u64::from(step == 0 && !released);
                }
            }
            // A quorum's approvals before the last leave the request held: not a decision.
            "approved" if d.approvals < d.required => {}
            "approved" | "denied" | "expired" => {
                let Some(hold) = d.request.and_then(|r| self.holds.get(&r)) else {
                    return;
                };
                let auto = hold.automation.clone();
                let slot = (hold.case, auto.clone(), hold.step);
                // A denial ends the hold: no release will follow.
                if kind == "denied"
                    && let Some(n) = self.released.get_mut(&slot)
                {
                    *n = n.saturating_sub(1);
                }
                let by_expiry = d.by.as_deref() == Some("expiry");
                if kind != "expired"
                    && !by_expiry
                    && let Some(o) = self
                        .outcomes
                        .as_mut()
                        .and_then(|o| o.get_mut(slot.0 as usize))
                {
                    o.decided.insert(auto.clone(), kind == "approved");
                }
                if !counted {
                    return;
                }
                let a = self.automation(&auto);
                match kind {
                    "approved" => a.approved += 1,
                    "denied" if !by_expiry => a.denied += 1,
                    "expired" => {
                        a.expired += 1;
                        self.exceptions.approvals_expired += 1;
                    }
                    _ => {}
                }
            }
            "succeeded" | "failed" => {
                let Some(auto) = d
                    .key
                    .as_ref()
                    .and_then(|k| k.text())
                    .and_then(|k| self.key_owner.get(k))
                    .cloned()
                else {
                    return;
                };
                if !counted || d.compensation == Some(true) {
                    return;
                }
                let a = self.automation(&auto);
                if kind == "succeeded" {
                    a.succeeded += 1;
                } else if d.retryable == Some(true) {
                    a.retried += 1;
                } else {
                    a.failed += 1;
                }
            }
            "compensated" if counted => self.automation(rule).compensated += 1,
            "halted" if counted => self.automation(rule).halted += 1,
            "not_in_rollout" if counted => self.automation(rule).not_in_rollout += 1,
            "shadowed" if counted => {
                let a = self.automation(rule);
                a.shadowed += 1;
                a.shadow_runs += u64::from(step == 0);
            }
            _ => {}
        }
    }

    fn note_automation(&mut self, c: u32, auto: &str) {
        let k = &mut self.cases[c as usize];
        if k.automation.is_none() {
            k.automation = Some(auto.to_string());
        }
    }

    fn group(&self, c: u32) -> String {
        let k = &self.cases[c as usize];
        let g = match self.by {
            GroupBy::Class => k.class.as_deref(),
            GroupBy::Team => k.owner.as_deref(),
            GroupBy::Route => Some(k.route.as_deref().unwrap_or("(owner)")),
            GroupBy::Automation => Some(k.automation.as_deref().unwrap_or("(none)")),
        };
        g.unwrap_or("(unclassified)").to_string()
    }

    /// The report, and each case's outcome by case id if [`Fold::track_cases`] was called.
    pub(crate) fn finish_with_cases(mut self) -> (Report, BTreeMap<String, CaseOutcome>) {
        let mut by_id = BTreeMap::new();
        if let Some(mut outcomes) = self.outcomes.take() {
            for (id, &i) in &self.case_ids {
                if let Some(o) = outcomes.get_mut(i as usize) {
                    by_id.insert(id.clone(), std::mem::take(o));
                }
            }
        }
        (self.finish(), by_id)
    }

    pub(crate) fn finish(mut self) -> Report {
        for &c in &self.opened {
            *self
                .volumes
                .cases_by_group
                .entry(self.group(c))
                .or_default() += 1;
        }
        // SLA: counts and ended clocks, grouped by (group, policy).
        let mut sla: BTreeMap<(String, String), (Sla, Vec<i64>)> = BTreeMap::new();
        for ((c, policy), (started, warned, reset)) in &self.sla_counts {
            let s = &mut sla.entry((self.group(*c), policy.clone())).or_default().0;
            s.started += started;
            s.warned += warned;
            s.reset += reset;
        }
        for ((c, policy), paused) in &self.sla_paused {
            sla.entry((self.group(*c), policy.clone()))
                .or_default()
                .0
                .paused_seconds += paused;
        }
        let mut sla_by_day: BTreeMap<String, BTreeMap<String, (u64, u64)>> = BTreeMap::new();
        for end in &self.clock_ends {
            let d = sla_by_day
                .entry(self.group(end.case))
                .or_default()
                .entry(end.day.clone())
                .or_default();
            if end.met {
                d.0 += 1;
            } else {
                d.1 += 1;
            }
            let (s, elapsed) = sla
                .entry((self.group(end.case), end.policy.clone()))
                .or_default();
            if end.met {
                s.met += 1;
            } else {
                s.breached += 1;
            }
            if let Some(e) = end.elapsed {
                elapsed.push(e);
            }
            if !s.targets.contains(&end.target) {
                s.targets.push(end.target.clone());
            }
        }
        let sla = sla
            .into_iter()
            .map(|((group, policy), (mut s, mut elapsed))| {
                s.group = group;
                s.policy = policy;
                s.attainment = percent(s.met, s.met + s.breached);
                s.elapsed = stats::summary(&mut elapsed);
                s.targets.sort();
                s
            })
            .collect();
        let time_to_ownership_histogram = histogram(self.tto.iter().map(|&(_, s)| s));
        // Ownership by group.
        let mut ownership: BTreeMap<String, (Ownership, Vec<i64>)> = BTreeMap::new();
        for &c in &self.opened {
            if self.cases[c as usize].owned {
                ownership.entry(self.group(c)).or_default().0.cases_owned += 1;
            }
        }
        for &(c, secs) in &self.tto {
            let (o, v) = ownership.entry(self.group(c)).or_default();
            o.acknowledged += 1;
            v.push(secs);
        }
        for &c in &self.ack_misses {
            ownership
                .entry(self.group(c))
                .or_default()
                .0
                .acknowledgement_misses += 1;
        }
        for &c in &self.escalations {
            ownership.entry(self.group(c)).or_default().0.escalations += 1;
        }
        let ownership = ownership
            .into_iter()
            .map(|(g, (mut o, mut v))| {
                o.time_to_ownership = stats::summary(&mut v);
                (g, o)
            })
            .collect();
        // Reopens by group.
        let mut reopens: BTreeMap<String, Reopens> = BTreeMap::new();
        for &c in &self.solved {
            reopens.entry(self.group(c)).or_default().solved += 1;
        }
        for &c in &self.reopened {
            reopens.entry(self.group(c)).or_default().reopened += 1;
        }
        for r in reopens.values_mut() {
            r.reopen_rate = percent(r.reopened, r.solved);
        }
        for &c in &self.exception_assignments {
            *self
                .exceptions
                .exception_assignments
                .entry(self.group(c))
                .or_default() += 1;
        }
        self.exceptions.cases_in_exception_queue =
            self.cases.iter().filter(|k| k.exception_queue).count() as u64;
        for a in self.automations.values_mut() {
            a.success_rate = percent(a.succeeded, a.succeeded + a.failed);
            // Steps tried: every hold, and every execution that was not a hold's release.
            let attempts = a.held + a.executed.saturating_sub(a.released);
            a.exception_rate = percent(a.held + a.failed + a.halted, attempts + a.halted);
        }
        Report {
            since: self.since.map(|t| t.to_string()),
            until: self.until.map(|t| t.to_string()),
            first_at: self.first_at,
            last_at: self.last_at,
            entries: self.entries,
            by: self.by,
            volumes: self.volumes,
            automations: self.automations,
            sla,
            sla_by_day,
            ownership,
            reopens,
            time_to_ownership_histogram,
            exceptions: self.exceptions,
        }
    }
}
