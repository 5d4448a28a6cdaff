//! Carrying automation runs into a new program by name (docs/deploy.md, "Migrations by
//! name"): calendars, gates, connector actions and automations may be added, removed or
//! reordered over live cases; what live state holds of them (a saga's automation, a held
//! request's gates and their expiry timers, a wait's timer, a breaker, a clock's calendar)
//! is re-keyed through their names. `migrate.rs` does the same for enums, facts, events,
//! teams and SLA policies.
//!
//! Removals:
//! - a gate: the steps it holds stay held. The engine keeps the removed gate (its name,
//!   requirements and expiry, without its condition) as a *retired* gate for as long as a
//!   request names it, so an `ApprovalGranted`/`ApprovalDenied` naming it still decides the
//!   request and its expiry still fires; it holds no new step. Retired gates are numbered
//!   after the program's (`gate_def`) and carried in the snapshot part `retired_gates`.
//! - an automation: its runs held for approval or asleep on a wait end as `cancelled`, each
//!   with a reconciliation task for the automation's owner; its finished runs leave the
//!   case's state (the ledger keeps them). Refused while one of its runs waits for an
//!   action's outcome or a compensation's: the outcome would find no automation.
//! - a connector action: refused while a command of it waits for its outcome.
//! - a calendar: refused while a running or paused SLA clock counts in it; a finished
//!   clock forgets it.
//!
//! A kept automation's live run keeps the steps it has reached (their kind and action, and
//! the executed actions' parameters); the steps after it may change, be added or removed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value as Json, json};

use super::Engine;
use super::TimerKind;
use super::actions::{BreakerState, SagaState};
use super::migrate::{Carry, by_name, same_fields};
use super::sla::ClockState;
use crate::ir::{Action, GateDef, Program, Recipient, Requirement, Step, StepKind, Target};

/// Old number → new number (or `None`: removed) for the declarations automation runs
/// depend on, and the gates the new engine keeps retired.
pub(super) struct Flow {
    calendars: Vec<Option<u32>>,
    /// Over the old program's gates, then the old retired ones; a removed gate a request
    /// still names maps to its retired number (after the new program's gates).
    gates: Vec<Option<u32>>,
    retired: Vec<GateDef>,
    automations: Vec<Option<u32>>,
    /// Per old automation: its name and its owner team's name (for the reconciliation
    /// task of a run its removal cancels).
    old_autos: Vec<(String, String)>,
    identity: bool,
}

/// A run a removal cancelled: (case, automation, owner team).
pub(super) type Cancelled = (Arc<str>, String, String);

fn live(s: &SagaState) -> bool {
    matches!(
        s,
        SagaState::Running | SagaState::Waiting(_) | SagaState::Held(_) | SagaState::Sleeping(_)
    )
}

fn state_name(s: &SagaState) -> &'static str {
    match s {
        SagaState::Held(_) => "held",
        SagaState::Sleeping(_) => "waiting",
        SagaState::Waiting(_) => "executing",
        _ => "running",
    }
}

fn action_name(p: &Program, a: u32) -> Option<String> {
    p.actions
        .get(a as usize)
        .map(|d| format!("{}.{}", d.connector, d.name))
}

/// Whether a step keeps its meaning for a run that reached it: its kind and, for an
/// action call, the action (by name).
fn same_step(op: &Program, a: &Step, np: &Program, b: Option<&Step>) -> bool {
    let Some(b) = b else { return false };
    let kind = |s: &Step| std::mem::discriminant(&s.kind);
    kind(a) == kind(b)
        && (a.kind != StepKind::Action || action_name(op, a.action) == action_name(np, b.action))
}

/// A retired gate's team in the new numbering, or why it cannot be kept.
fn team_of(carry: &Carry, old: &Program, t: u32, gate: &str, case: &str) -> Result<u32, String> {
    carry.team(t).ok_or_else(|| {
        let team = old.teams.get(t as usize).map_or("", |x| x.name.as_str());
        format!(
            "case {case}: a step held by gate {gate}, which the new bundle removes, needs team \
             {team}, which it removes too"
        )
    })
}

/// The removed gate `g`, as the new engine keeps it: requirements and expiry with teams in
/// the new numbering; no condition, selection or notices (it holds no new step).
fn retire(carry: &Carry, old: &Program, g: &GateDef, case: &str) -> Result<GateDef, String> {
    let team = |t: u32| team_of(carry, old, t, &g.name, case);
    let require = g
        .require
        .iter()
        .map(|r| {
            Ok(match r {
                Requirement::Approval(t) => Requirement::Approval(team(*t)?),
                Requirement::Review(t) => Requirement::Review(team(*t)?),
                Requirement::Quorum(t, n) => Requirement::Quorum(team(*t)?, *n),
                Requirement::Confirmation => Requirement::Confirmation,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let target = |t: &Target| -> Result<Target, String> {
        Ok(match t {
            Target::Team(t) => Target::Team(team(*t)?),
            Target::Person(p) => Target::Person(p.clone()),
        })
    };
    let expire = match &g.expire {
        None => None,
        Some((after, actions)) => {
            let actions = actions
                .iter()
                .map(|a| {
                    Ok(match a {
                        Action::Assign(t) => Action::Assign(target(t)?),
                        Action::Notify(Recipient::Target(t)) => {
                            Action::Notify(Recipient::Target(target(t)?))
                        }
                        other => other.clone(),
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            Some((*after, actions))
        }
    };
    Ok(GateDef {
        name: g.name.clone(),
        actions: Vec::new(),
        all_automation_actions: false,
        cond: None,
        param_names: Vec::new(),
        require,
        expire,
        release_when_clear: false,
        notify: Vec::new(),
    })
}

impl Engine {
    /// A gate by number: the program's, then the retired ones (see the module comment).
    pub(crate) fn gate_def(&self, g: u32) -> Option<&GateDef> {
        let g = g as usize;
        let n = self.program.gates.len();
        if g < n {
            self.program.gates.get(g)
        } else {
            self.retired_gates.get(g - n)
        }
    }

    /// How the runs of this engine's cases carry into `new`, or why they cannot (the first
    /// case in id order, then the first request, that cannot).
    pub(super) fn flow_between(&self, carry: &Carry, new: &Program) -> Result<Flow, String> {
        let old = &*self.program;
        let old_gates: Vec<&GateDef> = old.gates.iter().chain(&self.retired_gates).collect();
        let new_gates: Vec<&GateDef> = new.gates.iter().collect();
        let mut gates = by_name(&old_gates, &new_gates, |g| &g.name);
        let automations = by_name(&old.automations, &new.automations, |a| &a.name);
        let calendars = by_name(&old.calendars, &new.calendars, |c| &c.name);
        let names = |p: &Program| -> Vec<String> {
            (0..p.actions.len() as u32)
                .filter_map(|a| action_name(p, a))
                .collect()
        };
        let (old_actions, new_actions) = (names(old), names(new));
        let actions = by_name(&old_actions, &new_actions, String::as_str);
        for id in self.case_ids() {
            let Some(c) = self.cases.get(id) else {
                continue;
            };
            for (s, k) in c.clocks.iter().enumerate() {
                let Some(k) = k else { continue };
                // A clock of a removed SLA policy ends (`migrate.rs`): its calendar is moot.
                let kept = carry.slas.get(s).copied().flatten().is_some();
                let running = matches!(k.state, ClockState::Running | ClockState::Paused);
                if let Some(cal) = k.calendar
                    && kept
                    && running
                    && calendars.get(cal as usize).copied().flatten().is_none()
                {
                    let sla = old.slas.get(s).map_or("", |x| x.name.as_str());
                    let cal = old
                        .calendars
                        .get(cal as usize)
                        .map_or("", |x| x.name.as_str());
                    return Err(format!(
                        "case {id}: its SLA clock {sla} counts in calendar {cal}, which the new \
                         bundle removes"
                    ));
                }
            }
            for (i, s) in c.sagas.iter().enumerate() {
                let Some(auto) = old.automations.get(s.automation as usize) else {
                    continue;
                };
                let name = &auto.name;
                let step_action = |n: usize| {
                    auto.steps
                        .get(n)
                        .and_then(|st| action_name(old, st.action))
                        .unwrap_or_default()
                };
                // A command waiting for its outcome needs its action, its automation and
                // the steps the run has reached.
                if let SagaState::Waiting(key) = &s.state
                    && let Some(a) = auto.steps.get(s.next_step).map(|st| st.action)
                    && actions.get(a as usize).copied().flatten().is_none()
                {
                    return Err(format!(
                        "case {id}: a command for {} (key {key}) waits for its outcome, and the \
                         new bundle removes that connector action; deploy once the outcome is in",
                        step_action(s.next_step)
                    ));
                }
                let Some(n) = automations.get(s.automation as usize).copied().flatten() else {
                    if let SagaState::Waiting(_) = &s.state {
                        return Err(format!(
                            "case {id}: a run of automation {name} waits for the outcome of {} \
                             (step {}), and the new bundle removes the automation; deploy once \
                             the outcome is in",
                            step_action(s.next_step),
                            s.next_step
                        ));
                    }
                    let compensating = self
                        .outstanding
                        .values()
                        .any(|(cs, idx, _)| &**cs == id && *idx == i);
                    if compensating {
                        return Err(format!(
                            "case {id}: a compensation of a run of automation {name} waits for \
                             its outcome, and the new bundle removes the automation; deploy once \
                             the outcome is in"
                        ));
                    }
                    continue;
                };
                if !live(&s.state) {
                    continue;
                }
                let Some(now) = new.automations.get(n as usize) else {
                    continue;
                };
                let reached = s.next_step.min(auto.steps.len().saturating_sub(1));
                for step in 0..=reached {
                    let Some(was) = auto.steps.get(step) else {
                        break;
                    };
                    if !same_step(old, was, new, now.steps.get(step)) {
                        return Err(format!(
                            "case {id}: a run of automation {name} is at step {}, and the new \
                             bundle changes step {step} (a live run keeps the steps it has \
                             reached)",
                            s.next_step
                        ));
                    }
                }
                for (step, _, _) in &s.executed {
                    let Some(a) = auto.steps.get(*step).map(|st| st.action) else {
                        continue;
                    };
                    let na = actions.get(a as usize).copied().flatten();
                    let same = match (old.actions.get(a as usize), na) {
                        (Some(x), Some(na)) => new
                            .actions
                            .get(na as usize)
                            .is_some_and(|y| same_fields(old, &x.params, new, &y.params)),
                        _ => false,
                    };
                    if !same {
                        return Err(format!(
                            "case {id}: a run of automation {name} executed {}, whose parameters \
                             the new bundle changes or removes",
                            step_action(*step)
                        ));
                    }
                }
            }
        }
        // Requests naming a removed gate keep it, retired (in request order).
        let mut retired: Vec<GateDef> = Vec::new();
        let mut retired_of: BTreeMap<usize, u32> = BTreeMap::new();
        for r in self.requests.values() {
            let cancelled = self
                .cases
                .get(&*r.case)
                .and_then(|c| c.sagas.get(r.saga))
                .and_then(|s| automations.get(s.automation as usize).copied())
                .is_some_and(|a| a.is_none());
            if cancelled {
                continue;
            }
            for &g in &r.pending {
                let g = g as usize;
                if gates.get(g).copied().flatten().is_some() || retired_of.contains_key(&g) {
                    continue;
                }
                let Some(def) = old_gates.get(g) else {
                    continue;
                };
                retired.push(retire(carry, old, def, &r.case)?);
                let number = new.gates.len() + retired.len() - 1;
                retired_of.insert(g, u32::try_from(number).unwrap_or(u32::MAX));
            }
        }
        for (g, n) in &retired_of {
            if let Some(slot) = gates.get_mut(*g) {
                *slot = Some(*n);
            }
        }
        let same = |a: &[Option<u32>]| a.iter().enumerate().all(|(i, x)| *x == Some(i as u32));
        let identity = retired.is_empty()
            && self.retired_gates.is_empty()
            && old.gates.len() == new.gates.len()
            && same(&gates)
            && old.automations.len() == new.automations.len()
            && same(&automations)
            && old.calendars.len() == new.calendars.len()
            && same(&calendars);
        Ok(Flow {
            calendars,
            gates,
            retired,
            automations,
            old_autos: old
                .automations
                .iter()
                .map(|a| {
                    let owner = old.teams.get(a.owner as usize).map(|t| t.name.clone());
                    (a.name.clone(), owner.unwrap_or_default())
                })
                .collect(),
            identity,
        })
    }

    /// Re-key the runs (already in `self`, under the new program) by `flow`. What a
    /// removal did goes into `notes` per case; the runs it cancelled are returned, in case
    /// order, for their reconciliation tasks. Run after `flow_between`.
    pub(super) fn flow_apply(
        &mut self,
        flow: &Flow,
        notes: &mut BTreeMap<Arc<str>, Map<String, Json>>,
    ) -> Vec<Cancelled> {
        if flow.identity {
            return Vec::new();
        }
        let map = |m: &[Option<u32>], x: u32| m.get(x as usize).copied().flatten();
        // Per case whose sagas a removal dropped: old saga index → new.
        let mut moved: BTreeMap<Arc<str>, Vec<Option<usize>>> = BTreeMap::new();
        let mut cancelled: Vec<Cancelled> = Vec::new();
        let mut withdrawn: Vec<u64> = Vec::new();
        let mut ids: Vec<Arc<str>> = self.cases.keys().cloned().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(c) = self.cases.get_mut(&id) else {
                continue;
            };
            for k in c.clocks.iter_mut().flatten() {
                k.calendar = k.calendar.and_then(|cal| map(&flow.calendars, cal));
            }
            if c.sagas
                .iter()
                .all(|s| map(&flow.automations, s.automation).is_some())
            {
                for s in &mut c.sagas {
                    s.automation = map(&flow.automations, s.automation).unwrap_or(s.automation);
                }
                continue;
            }
            let mut index = Vec::with_capacity(c.sagas.len());
            let mut kept = Vec::with_capacity(c.sagas.len());
            let mut ended = Vec::new();
            for mut s in std::mem::take(&mut c.sagas) {
                if let Some(n) = map(&flow.automations, s.automation) {
                    s.automation = n;
                    index.push(Some(kept.len()));
                    kept.push(s);
                    continue;
                }
                index.push(None);
                if !live(&s.state) {
                    continue;
                }
                let (name, owner) = flow
                    .old_autos
                    .get(s.automation as usize)
                    .cloned()
                    .unwrap_or_default();
                ended.push(
                    json!({ "automation": name, "step": s.next_step, "was": state_name(&s.state) }),
                );
                if let SagaState::Held(rid) = s.state {
                    withdrawn.push(rid);
                }
                cancelled.push((id.clone(), name, owner));
            }
            c.sagas = kept;
            moved.insert(id.clone(), index);
            if !ended.is_empty() {
                notes
                    .entry(id.clone())
                    .or_default()
                    .insert("cancelled_runs".into(), json!(ended));
            }
        }
        let saga_of = |case: &str, idx: usize| -> Option<usize> {
            match moved.get(case) {
                Some(index) => index.get(idx).copied().flatten(),
                None => Some(idx),
            }
        };
        for rid in withdrawn {
            self.requests.remove(&rid);
        }
        let requests = std::mem::take(&mut self.requests);
        for (rid, mut r) in requests {
            let Some(saga) = saga_of(&r.case, r.saga) else {
                continue;
            };
            r.saga = saga;
            r.pending = r
                .pending
                .iter()
                .filter_map(|g| map(&flow.gates, *g))
                .collect();
            // A step now held by a gate the deployment retired (not one retired before).
            let gates = self.program.gates.len();
            let newly: Vec<&str> = r
                .pending
                .iter()
                .filter_map(|g| (*g as usize).checked_sub(gates))
                .filter_map(|k| flow.retired.get(k))
                .filter(|g| !self.retired_gates.iter().any(|o| o.name == g.name))
                .map(|g| g.name.as_str())
                .collect();
            if !newly.is_empty() {
                let note = notes.entry(r.case.clone()).or_default();
                let mut list = note
                    .get("retired_gates")
                    .and_then(Json::as_array)
                    .cloned()
                    .unwrap_or_default();
                list.push(json!({ "request": rid, "gates": newly }));
                note.insert("retired_gates".into(), Json::Array(list));
            }
            self.requests.insert(rid, r);
        }
        let timers = std::mem::take(&mut self.timers);
        for (k, mut t) in timers {
            let keep = match &mut t.kind {
                TimerKind::GateExpire { gate, .. } => {
                    map(&flow.gates, *gate).map(|n| *gate = n).is_some()
                }
                TimerKind::SagaWait { saga, .. } => saga_of(&t.case, *saga as usize)
                    .and_then(|n| u32::try_from(n).ok())
                    .map(|n| *saga = n)
                    .is_some(),
                _ => true,
            };
            if keep {
                self.timers.insert(k, t);
            }
        }
        for (case, idx, _) in self.outstanding.values_mut() {
            if let Some(n) = saga_of(case, *idx) {
                *idx = n;
            }
        }
        let old = std::mem::take(&mut self.breakers);
        self.breakers = vec![BreakerState::default(); self.program.automations.len()];
        for (a, b) in old.into_iter().enumerate() {
            if let Some(n) = map(&flow.automations, a as u32)
                && let Some(slot) = self.breakers.get_mut(n as usize)
            {
                *slot = b;
            }
        }
        self.retired_gates = flow.retired.clone();
        cancelled
    }

    /// The reconciliation task of a run a deployment cancelled (after its `migrated` entry).
    pub(super) fn cancelled_run(&mut self, (case, automation, owner): &Cancelled) {
        let why = "the automation was removed by a deployment";
        self.log(
            Some(case),
            "reconciliation",
            Some(automation),
            json!({ "owner": owner, "reason": why }),
        );
        self.command(json!({ "kind": "reconciliation", "case": &**case, "automation": automation, "owner": owner, "reason": why }));
    }
}
