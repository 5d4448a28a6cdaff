//! Staged rollouts: an automation that promotes itself (docs/runtime.md, "Staged
//! rollout"; docs/language.md §11.3).
//!
//! Each automation with a `rollout { … }` block has a [`StageState`], keyed by the
//! automation's *name* (so a redeploy that carries the automation by name keeps it). The
//! stage decides how a run is treated (shadow, a percentage of keys, every case). The
//! criteria are measured on the runs of the current stage only: live runs that ended
//! (failed for good or not, as the breaker counts them) and shadowed runs whose agreement
//! is decided (the agreement event arrived for the case within the window, or the window
//! passed). They are evaluated at event time — after every event, and at a durable timer
//! when the stage's `after` has passed, so a quiet automation still promotes on time —
//! never at wall time. Each transition writes `promoted` or `rolled_back` with its
//! evidence, and starts the new stage with no runs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use super::{Engine, EventData, TimerKind};
use crate::ir::{Criterion, Metric, Rollout, Stage, Stages};

/// One automation's place in its staged rollout.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StageState {
    /// Index into the automation's [`Stages::stages`] (0: the `start` stage).
    pub stage: u32,
    /// When it entered the stage; `None` until the engine's first event (a fresh engine
    /// has no clock yet).
    pub since: Option<Timestamp>,
    /// The generation of the stage's timer: a timer of another generation is stale.
    pub generation: u64,
    /// Live runs of this stage that ended, oldest first (true: failed for good); at most
    /// the longest `failures` window.
    pub outcomes: VecDeque<bool>,
    /// Shadowed runs of this stage whose agreement is decided, oldest first (true:
    /// agreed); at most the longest `agreement` window.
    pub agreed: VecDeque<bool>,
    /// Shadowed runs waiting for the agreement event: (case, deadline), in run order.
    pub pending: Vec<(Arc<str>, Timestamp)>,
}

/// A transition due: the stage to go to, `promoted` or `rolled_back`, since when the
/// automation was in the stage it leaves, and the evidence.
type Transition = (u32, &'static str, Timestamp, Json);

/// The engine's staged rollouts, by automation name.
pub(crate) type Rollouts = BTreeMap<String, StageState>;

/// A fresh state for every automation of the program with a staged rollout.
pub(crate) fn fresh(p: &crate::ir::Program) -> Rollouts {
    p.automations
        .iter()
        .filter(|a| a.stages.is_some())
        .map(|a| (a.name.clone(), StageState::default()))
        .collect()
}

/// How many of the last `c.over` measured runs were `true`, when there are that many.
fn measure(c: &Criterion, runs: &VecDeque<bool>) -> Option<u64> {
    let over = c.over as usize;
    if over == 0 || runs.len() < over {
        return None;
    }
    Some(runs.iter().skip(runs.len() - over).filter(|r| **r).count() as u64)
}

/// Whether the criterion holds over the state's runs, and its value in hundredths of a
/// percent (for the evidence).
fn holds(c: &Criterion, st: &StageState) -> Option<u64> {
    let runs = match c.metric {
        Metric::Agreement => &st.agreed,
        Metric::Failures => &st.outcomes,
    };
    let hits = measure(c, runs)?;
    let over = u64::from(c.over);
    // Compare hits / over with the threshold exactly: hits × 10000 against threshold × over.
    let (l, r) = (hits * 10_000, u64::from(c.threshold) * over);
    let ok = match c.cmp {
        crate::ir::Cmp::Ge => l >= r,
        crate::ir::Cmp::Gt => l > r,
        crate::ir::Cmp::Le => l <= r,
        crate::ir::Cmp::Lt => l < r,
    };
    ok.then_some(hits * 10_000 / over)
}

fn evidence(c: &Criterion, value: u64) -> Json {
    json!({
        "metric": c.metric.name(),
        "value": Stage::Percent(u32::try_from(value).unwrap_or(u32::MAX)).text(),
        "cmp": c.cmp.text(),
        "threshold": Stage::Percent(c.threshold).text(),
        "runs": c.over,
    })
}

fn keep(runs: &mut VecDeque<bool>, max: usize) {
    while runs.len() > max {
        runs.pop_front();
    }
}

impl Engine {
    fn stages_of(&self, a: u32) -> Option<(String, Stages)> {
        let auto = self.program.automations.get(a as usize)?;
        Some((auto.name.clone(), auto.stages.clone()?))
    }

    /// The stage an automation with a staged rollout is in now.
    pub(crate) fn current_stage(&self, a: u32) -> Option<Stage> {
        let auto = self.program.automations.get(a as usize)?;
        let stages = auto.stages.as_ref()?;
        let st = self.rollouts.get(&auto.name)?;
        Some(stages.stage(st.stage))
    }

    /// How a run of the automation is treated now: its stage's rollout, or the declared
    /// single-line `rollout`.
    pub(crate) fn effective_rollout(&self, a: u32) -> Rollout {
        match self.current_stage(a) {
            Some(Stage::Shadow) => Rollout::Shadow {
                sample: None,
                key: Vec::new(),
            },
            Some(Stage::Percent(p)) if p >= 10_000 => Rollout::Live,
            Some(Stage::Percent(p)) => Rollout::Percent {
                percent: p,
                key: Vec::new(),
            },
            None => self
                .program
                .automations
                .get(a as usize)
                .map_or(Rollout::Live, |x| x.rollout.clone()),
        }
    }

    /// Add `"stage"` to a run's entry detail when the automation rolls out in stages
    /// (`explain` shows it).
    pub(crate) fn with_stage(&self, a: u32, detail: &mut Json) {
        if let Some(s) = self.current_stage(a) {
            detail["stage"] = json!(s.text());
        }
    }

    /// A shadowed run: it waits for its case's agreement event.
    pub(crate) fn rollout_shadowed(&mut self, case_id: &Arc<str>, a: u32) {
        let Some((name, stages)) = self.stages_of(a) else {
            return;
        };
        let (Some(agreement), Some(now)) = (&stages.agreement, self.clock) else {
            return;
        };
        let cal = self.automation_calendar(a);
        let Some(due) = self.add_duration(cal, now, agreement.within) else {
            return;
        };
        if let Some(st) = self.rollouts.get_mut(&name) {
            st.pending.push((case_id.clone(), due));
        }
    }

    /// A live run ended (after the breaker counted it).
    pub(crate) fn rollout_outcome(&mut self, a: u32, failed: bool) {
        let Some((name, stages)) = self.stages_of(a) else {
            return;
        };
        let max = stages.window(Metric::Failures);
        let live = self
            .current_stage(a)
            .is_some_and(|s| matches!(s, Stage::Percent(_)));
        if let Some(st) = self.rollouts.get_mut(&name)
            && live
            && max > 0
        {
            st.outcomes.push_back(failed);
            keep(&mut st.outcomes, max);
        }
    }

    /// After every event: start the clocks of rollouts that have none, count agreements,
    /// decide the agreement windows that passed, and promote or roll back.
    pub(crate) fn rollout_event(&mut self, case_id: &Arc<str>, ev: &EventData) {
        if self.rollouts.is_empty() {
            return;
        }
        for a in 0..self.program.automations.len() as u32 {
            let Some((name, stages)) = self.stages_of(a) else {
                continue;
            };
            self.start_stage_clock(a, &name, &stages);
            if let (Some(agreement), Some(now), Some(st)) =
                (&stages.agreement, self.clock, self.rollouts.get_mut(&name))
                && agreement.event == ev.event
            {
                let mut agreed = 0;
                st.pending.retain(|(c, due)| {
                    let hit = c == case_id && *due >= now;
                    agreed += usize::from(hit);
                    !hit
                });
                st.agreed.extend(std::iter::repeat_n(true, agreed));
            }
            self.rollout_check(a);
        }
    }

    /// The stage's timer: its `after` has passed.
    pub(crate) fn rollout_timer(&mut self, a: u32, generation: u64) {
        let live = self.stage_timer_live(a, generation);
        if live {
            self.rollout_check(a);
        }
    }

    pub(crate) fn stage_timer_live(&self, a: u32, generation: u64) -> bool {
        self.program
            .automations
            .get(a as usize)
            .and_then(|auto| self.rollouts.get(&auto.name))
            .is_some_and(|st| st.generation == generation)
    }

    fn automation_calendar(&self, a: u32) -> Option<u32> {
        let owner = self.program.automations.get(a as usize)?.owner;
        self.team_calendar(owner)
    }

    /// A stage's clock starts at the engine's first event (or at a deployment, for an
    /// automation whose state was not carried); the runs already counted stay.
    fn start_stage_clock(&mut self, a: u32, name: &str, stages: &Stages) {
        let Some(now) = self.clock else {
            return;
        };
        if self.rollouts.get(name).is_none_or(|st| st.since.is_some()) {
            return;
        }
        self.generation += 1;
        let generation = self.generation;
        let mut stage = 0;
        if let Some(st) = self.rollouts.get_mut(name) {
            st.since = Some(now);
            st.generation = generation;
            stage = st.stage;
        }
        self.schedule_stage_timer(a, stages, stage, now, generation);
    }

    /// Put the automation in `stage` from `now`, with no runs, and set the timer for the
    /// `after` of a promotion out of it.
    fn enter(&mut self, a: u32, name: &str, stages: &Stages, stage: u32, now: Timestamp) {
        self.generation += 1;
        let generation = self.generation;
        self.rollouts.insert(
            name.to_string(),
            StageState {
                stage,
                since: Some(now),
                generation,
                ..StageState::default()
            },
        );
        self.schedule_stage_timer(a, stages, stage, now, generation);
    }

    /// The timer for the earliest `after` of a promotion out of `stage`, counted from
    /// `since` on the automation owner's calendar. It belongs to no case (case id `""`).
    pub(crate) fn schedule_stage_timer(
        &mut self,
        a: u32,
        stages: &Stages,
        stage: u32,
        since: Timestamp,
        generation: u64,
    ) {
        let cal = self.automation_calendar(a);
        let due = stages
            .promotions
            .iter()
            .filter(|p| p.from == stage)
            .filter_map(|p| p.after)
            .filter_map(|d| self.add_duration(cal, since, d))
            .min();
        if let Some(due) = due {
            self.schedule(
                due,
                &Arc::from(""),
                TimerKind::RolloutStage {
                    automation: a,
                    generation,
                },
            );
        }
    }

    /// Decide the agreement windows that passed, then roll back or promote (at most one
    /// transition).
    fn rollout_check(&mut self, a: u32) {
        let Some((name, stages)) = self.stages_of(a) else {
            return;
        };
        let Some(now) = self.clock else {
            return;
        };
        let max_agreed = stages.window(Metric::Agreement);
        let Some(st) = self.rollouts.get_mut(&name) else {
            return;
        };
        let mut missed = 0;
        st.pending.retain(|(_, due)| {
            let passed = *due < now;
            missed += usize::from(passed);
            !passed
        });
        st.agreed.extend(std::iter::repeat_n(false, missed));
        keep(&mut st.agreed, max_agreed);
        if let Some(t) = self.stage_decision(a, &name, &stages, now) {
            self.transition(a, &name, &stages, t);
        }
    }

    /// The transition due now, if any: a rollback first, then the first promotion out of
    /// the current stage whose `after` has passed and whose criteria all hold.
    fn stage_decision(
        &self,
        a: u32,
        name: &str,
        stages: &Stages,
        now: Timestamp,
    ) -> Option<Transition> {
        let st = self.rollouts.get(name)?;
        let since = st.since?;
        let cur = stages.stage(st.stage);
        if let Some(rb) = &stages.rollback
            && cur > stages.stage(rb.to)
        {
            let breaker = rb.breaker && self.breakers.get(a as usize).is_some_and(|b| b.halted);
            let hit: Vec<Json> = rb
                .criteria
                .iter()
                .filter_map(|c| holds(c, st).map(|v| evidence(c, v)))
                .collect();
            if breaker || !hit.is_empty() {
                let mut why = json!({ "criteria": hit });
                if breaker {
                    why["breaker"] = json!("tripped");
                }
                return Some((rb.to, "rolled_back", since, why));
            }
        }
        let cal = self.automation_calendar(a);
        for p in stages.promotions.iter().filter(|p| p.from == st.stage) {
            let waited = match p.after {
                None => true,
                Some(d) => self.add_duration(cal, since, d).is_some_and(|t| t <= now),
            };
            if !waited {
                continue;
            }
            let met: Option<Vec<Json>> = p
                .criteria
                .iter()
                .map(|c| holds(c, st).map(|v| evidence(c, v)))
                .collect();
            if let Some(met) = met {
                let mut why = json!({ "criteria": met });
                if let Some(d) = &p.after {
                    why["after"] = json!(super::sla::spec_text(d));
                }
                return Some((p.to, "promoted", since, why));
            }
        }
        None
    }

    fn transition(&mut self, a: u32, name: &str, stages: &Stages, t: Transition) {
        let (to, kind, since, evidence) = t;
        let Some(now) = self.clock else {
            return;
        };
        let from = self.rollouts.get(name).map_or(0, |st| st.stage);
        let (runs, agreed) = self
            .rollouts
            .get(name)
            .map_or((0, 0), |st| (st.outcomes.len(), st.agreed.len()));
        let mut detail = json!({
            "from": stages.stage(from).text(),
            "to": stages.stage(to).text(),
            "since": crate::value::format_time(since),
            "evidence": evidence,
        });
        if runs > 0 {
            detail["runs"] = json!(runs);
        }
        if agreed > 0 {
            detail["shadow_runs"] = json!(agreed);
        }
        self.log(None, kind, Some(name), detail);
        self.enter(a, name, stages, to, now);
    }

    /// After a deployment: an automation carried by name whose `rollout { … }` block is
    /// unchanged keeps its stage, its clock and its runs; any other staged automation
    /// starts at its `start` stage now (docs/deploy.md, "Staged rollouts").
    pub(crate) fn carry_rollouts(&mut self, old: &crate::ir::Program, mut states: Rollouts) {
        let now = self.clock;
        for a in 0..self.program.automations.len() as u32 {
            let Some((name, stages)) = self.stages_of(a) else {
                continue;
            };
            let same = old
                .automations
                .iter()
                .any(|o| o.name == name && o.stages.as_ref() == Some(&stages));
            match (states.remove(&name), now) {
                (Some(mut st), _) if same => {
                    // Its timer named the automation by index: set it again.
                    self.generation += 1;
                    st.generation = self.generation;
                    if let Some(since) = st.since {
                        self.schedule_stage_timer(a, &stages, st.stage, since, st.generation);
                    }
                    self.rollouts.insert(name, st);
                }
                (_, Some(now)) => self.enter(a, &name, &stages, 0, now),
                (_, None) => {
                    self.rollouts.insert(name, StageState::default());
                }
            }
        }
    }

    /// Each automation's current stage and since when, for `meshline report` and the
    /// harness: (automation, stage, since).
    pub fn rollout_stages(&self) -> Vec<(String, String, Option<Timestamp>)> {
        self.program
            .automations
            .iter()
            .enumerate()
            .filter_map(|(a, auto)| {
                let stage = self.current_stage(a as u32)?;
                let since = self.rollouts.get(&auto.name).and_then(|st| st.since);
                Some((auto.name.clone(), stage.text(), since))
            })
            .collect()
    }
}
