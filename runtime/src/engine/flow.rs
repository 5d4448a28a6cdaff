//! Saga steps that are not action calls (docs/runtime.md, "Automations as sagas"): waits
//! on durable timers and notifications.
//!
//! A wait suspends the saga (`waiting`) on a `SagaWait` timer set from the event time, so
//! it fires at the same instant in a replay, `meshline run` or `serve`. `wait until`
//! re-evaluates its condition over the case facts after every event of the case; the saga
//! goes on (`wait_over`) when the condition holds or, for a plain wait, when the timer
//! fires. A `wait until` whose timer fires first ends the run: nothing is compensated (the
//! executed steps did what they were asked) and the owner gets a reconciliation task.
//! The timer is live only while the saga still sleeps on that step, so a saga that ended
//! any other way (cancelled, failed) leaves no timer that acts (`timers.rs`).

use std::sync::Arc;

use serde_json::{Value as Json, json};

use super::actions::SagaState;
use super::{Engine, OnError, TimerKind};
use crate::ir::{DurationSpec, Notice, Recipient, StepKind};
use crate::value;

impl Engine {
    /// Run a step that is not an action call: notify and go on, or go to sleep.
    pub(super) fn flow_step(&mut self, case_id: &Arc<str>, idx: usize, step_i: usize) {
        let Some(saga) = self.cases.get(&**case_id).and_then(|c| c.sagas.get(idx)) else {
            return;
        };
        let a = saga.automation;
        let program = self.program.clone();
        let Some(auto) = program.automations.get(a as usize) else {
            return;
        };
        let Some(step) = auto.steps.get(step_i) else {
            return;
        };
        match &step.kind {
            StepKind::Action => {}
            StepKind::Notify { to, template } => {
                let n = Notice {
                    to: to.clone(),
                    template: template.clone(),
                };
                self.notice(case_id, &auto.name, &n, Some(step_i));
                self.next_step(case_id, idx);
            }
            StepKind::Wait(d) => self.sleep(case_id, idx, step_i, *d, false),
            StepKind::WaitUntil { within, .. } => {
                if self.wait_condition(case_id, idx, step_i) {
                    self.log(
                        Some(case_id),
                        "wait_over",
                        Some(&auto.name),
                        json!({ "step": step_i, "reason": "condition" }),
                    );
                    self.next_step(case_id, idx);
                } else {
                    self.sleep(case_id, idx, step_i, *within, true);
                }
            }
        }
    }

    /// Whether a `wait until` step's condition holds now, over the case facts. An
    /// evaluation error is recorded and counts as not holding (the saga keeps waiting).
    fn wait_condition(&mut self, case_id: &Arc<str>, idx: usize, step_i: usize) -> bool {
        let Some(case) = self.cases.get(&**case_id) else {
            return false;
        };
        let Some(a) = case.sagas.get(idx).map(|s| s.automation as usize) else {
            return false;
        };
        let Some(Some(code)) = self.code.wait_cond.get(a).and_then(|w| w.get(step_i)) else {
            return false;
        };
        let name = self.program.automations[a].name.clone();
        // No triggering event: the condition reads the facts as they are now.
        match self
            .eval(code, case, None, &[])
            .and_then(|v| crate::eval::truthy(&v))
        {
            Ok(b) => {
                self.eval_ok(case_id, &name, "wait");
                b
            }
            Err(e) => {
                self.eval_error(case_id, &name, "wait", &e, OnError::Keep);
                false
            }
        }
    }

    /// Suspend the saga on step `step_i` until `d` has passed from now (business time in
    /// the case owner's team calendar, else the automation owner's).
    fn sleep(
        &mut self,
        case_id: &Arc<str>,
        idx: usize,
        step_i: usize,
        d: DurationSpec,
        until: bool,
    ) {
        let Some(a) = self.saga(case_id, idx).map(|s| s.automation) else {
            return;
        };
        let program = self.program.clone();
        let auto = &program.automations[a as usize];
        let cal = self
            .cases
            .get(&**case_id)
            .and_then(|c| c.owner)
            .and_then(|o| self.team_calendar(o))
            .or_else(|| self.team_calendar(auto.owner));
        let due = self.clock.and_then(|now| self.add_duration(cal, now, d));
        let Some(due) = due else {
            self.fail_saga(case_id, idx, "a wait's end could not be computed");
            return;
        };
        let mut detail = json!({ "step": step_i, "due": value::format_time(due) });
        detail[if until { "within" } else { "for" }] = json!(super::sla::spec_text(&d));
        self.log(Some(case_id), "waiting", Some(&auto.name), detail);
        self.set_saga_state(case_id, idx, SagaState::Sleeping(until));
        self.schedule(
            due,
            case_id,
            TimerKind::SagaWait {
                saga: u32::try_from(idx).unwrap_or(u32::MAX),
                step: u32::try_from(step_i).unwrap_or(u32::MAX),
            },
        );
    }

    /// Whether the saga still sleeps on that step (what a `SagaWait` timer needs to act).
    pub(crate) fn sleeps_on(&self, case_id: &str, saga: u32, step: u32) -> Option<bool> {
        let s = self.cases.get(case_id)?.sagas.get(saga as usize)?;
        match s.state {
            SagaState::Sleeping(until) if s.next_step == step as usize => Some(until),
            _ => None,
        }
    }

    /// A `SagaWait` timer fired: the wait is over, or a `wait until` timed out.
    pub(crate) fn wait_timer(&mut self, case_id: &Arc<str>, saga: u32, step: u32) {
        let Some(until) = self.sleeps_on(case_id, saga, step) else {
            return;
        };
        let idx = saga as usize;
        let Some(a) = self.saga(case_id, idx).map(|s| s.automation) else {
            return;
        };
        let program = self.program.clone();
        let auto = &program.automations[a as usize];
        if !until {
            self.log(
                Some(case_id),
                "wait_over",
                Some(&auto.name),
                json!({ "step": step, "reason": "elapsed" }),
            );
            self.next_step(case_id, idx);
            return;
        }
        self.log(
            Some(case_id),
            "wait_over",
            Some(&auto.name),
            json!({ "step": step, "reason": "timed_out" }),
        );
        let owner = self.team_name(auto.owner).to_string();
        let why = "a `wait until` timed out";
        self.log(
            Some(case_id),
            "reconciliation",
            Some(&auto.name),
            json!({ "owner": owner, "reason": why }),
        );
        self.command(json!({ "kind": "reconciliation", "case": &**case_id, "automation": auto.name, "owner": owner, "reason": why }));
        self.set_saga_state(case_id, idx, SagaState::Cancelled);
    }

    /// After an event on the case: every saga waiting `until` a condition that now holds
    /// goes on, oldest first.
    pub(crate) fn wake_waits(&mut self, case_id: &Arc<str>) {
        let Some(case) = self.cases.get(&**case_id) else {
            return;
        };
        let waiting: Vec<(usize, usize)> = case
            .sagas
            .iter()
            .enumerate()
            .filter(|(_, s)| s.state == SagaState::Sleeping(true))
            .map(|(i, s)| (i, s.next_step))
            .collect();
        for (idx, step_i) in waiting {
            if !self.wait_condition(case_id, idx, step_i) {
                continue;
            }
            let name = self
                .cases
                .get(&**case_id)
                .and_then(|c| c.sagas.get(idx))
                .and_then(|s| self.program.automations.get(s.automation as usize))
                .map(|a| a.name.clone())
                .unwrap_or_default();
            self.log(
                Some(case_id),
                "wait_over",
                Some(&name),
                json!({ "step": step_i, "reason": "condition" }),
            );
            self.next_step(case_id, idx);
        }
    }

    /// Move the saga past its current step and issue the next.
    fn next_step(&mut self, case_id: &Arc<str>, idx: usize) {
        if let Some(s) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.sagas.get_mut(idx))
        {
            s.next_step += 1;
            s.state = SagaState::Running;
        }
        self.advance_saga(case_id, idx, false);
    }

    /// Send a notification: `notified` and a `notify` command for the notification
    /// connector, naming the template when there is one and the saga step that sent it.
    pub(crate) fn notice(&mut self, case_id: &str, rule: &str, n: &Notice, step: Option<usize>) {
        let to = self.recipient_json(case_id, &n.to);
        let mut detail = json!({ "to": to });
        let mut body = json!({ "kind": "notify", "case": case_id, "rule": rule, "to": to });
        if let Some(s) = step {
            detail["step"] = json!(s);
            body["automation"] = json!(rule);
            body["step"] = json!(s);
        }
        if let Some(t) = &n.template {
            detail["template"] = json!(t);
            body["template"] = json!(t);
        }
        self.log(Some(case_id), "notified", Some(rule), detail);
        self.command(body);
    }

    /// Who a notification goes to, as the ledger and the command name them.
    pub(crate) fn recipient_json(&self, case_id: &str, r: &Recipient) -> Json {
        let case = self.cases.get(case_id);
        match r {
            Recipient::Assignee => case
                .and_then(|c| c.assignee.clone())
                .map(|a| self.assignee_json(&a)),
            Recipient::Owner => case.and_then(|c| c.owner).map(|o| json!(self.team_name(o))),
            Recipient::Target(t) => Some(self.target_json(t)),
        }
        .unwrap_or(Json::Null)
    }
}
