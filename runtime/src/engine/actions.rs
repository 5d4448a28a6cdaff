//! Automations as sagas, safety gates and approvals, rollout and breakers (brief §3.8, §3.9,
//! §7.9, §7.10).
//!
//! A saga issues its steps in order: a step is gated (held until every holding gate
//! releases it), or executed (the command enters the outbox with its idempotency key and
//! the saga waits for `ActionSucceeded`/`ActionFailed`). A step that fails for good
//! compensates the earlier steps in reverse order and gives the owner a reconciliation task.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::{Value as Json, json};
use sha2::{Digest, Sha256};

use super::AssignWhy;
use super::{Engine, EventData, OnError, TimerKind};
use crate::ir::{Requirement, Rollout, StepKind, Target, WireTy};
use crate::value::{self, Value};

#[derive(Clone, Debug, Default)]
pub(crate) struct BreakerState {
    /// Outcomes of the last runs (true = failed), at most the window.
    pub runs: VecDeque<bool>,
    pub halted: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SagaState {
    Running,
    Waiting(String),
    Held(u64),
    Done,
    Failed,
    Cancelled,
    /// Suspended on a wait step (`flow.rs`); `true` for `wait until`.
    Sleeping(bool),
}

#[derive(Clone, Debug)]
pub struct Saga {
    pub automation: u32,
    pub trigger: EventData,
    pub next_step: usize,
    /// Executed steps: (step, arguments, key).
    pub executed: Vec<(usize, Vec<Value>, String)>,
    pub state: SagaState,
    /// People who may not approve this saga's actions (dual control).
    pub requesters: Vec<String>,
}

/// An approval request for a held step.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub case: Arc<str>,
    pub saga: usize,
    /// Gates still to release it, in declaration order.
    pub pending: Vec<u32>,
    /// Who approved it for the first pending gate so far (lower-case), for a quorum
    /// (`require N approvals`); emptied when that gate releases it.
    pub approvals: Vec<String>,
}

/// SHA-256 over NUL-separated parts, as lower-case hex.
fn sha_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update([0u8]);
        }
        h.update(p.as_bytes());
    }
    crate::ledger::hex(&h.finalize())
}

/// §7.10: SHA-256 of (automation, case, trigger event id, step index, connector.action).
pub(super) fn idempotency_key(
    automation: &str,
    case: &str,
    trigger: &str,
    step: usize,
    action: &str,
) -> String {
    sha_hex(&[automation, case, trigger, &step.to_string(), action])
}

/// §7.10: first 8 bytes of SHA-256(automation ‖ 0x00 ‖ canonical JSON of the key) mod 10000.
pub(super) fn rollout_bucket(automation: &str, key_json: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(automation.as_bytes());
    h.update([0u8]);
    h.update(key_json.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(first) % 10_000) as u32
}

impl Engine {
    fn action_name(&self, a: u32) -> String {
        let d = &self.program.actions[a as usize];
        format!("{}.{}", d.connector, d.name)
    }

    pub(crate) fn automations(&mut self, case_id: &Arc<str>, ev: &EventData) {
        let autos = self
            .autos_by_event
            .get(ev.event as usize)
            .cloned()
            .unwrap_or_default();
        for a in autos {
            let name = self.program.automations[a as usize].name.clone();
            let result = match (
                self.code.auto_cond[a as usize].as_ref(),
                self.cases.get(&**case_id),
            ) {
                (None, _) => Ok(true),
                (Some(code), Some(case)) => self
                    .eval(code, case, Some(ev), &[])
                    .and_then(|v| crate::eval::truthy(&v)),
                (Some(_), None) => Ok(false),
            };
            let fire = match result {
                Ok(b) => {
                    self.eval_ok(case_id, &name, "when");
                    b
                }
                Err(e) => {
                    self.eval_error(case_id, &name, "when", &e, OnError::Keep);
                    false
                }
            };
            if !fire || self.skip_once(case_id, ev, a) {
                continue;
            }
            if self.breakers[a as usize].halted {
                self.log(
                    Some(case_id),
                    "halted",
                    Some(&name),
                    json!({ "trigger": ev.id, "reason": "breaker open" }),
                );
                if let Some(t) = self.program.automations[a as usize]
                    .breaker
                    .as_ref()
                    .and_then(|b| b.assign.clone())
                {
                    let to = match t {
                        Target::Team(t) => super::Assignee::Team(t),
                        Target::Person(p) => super::Assignee::Person(Arc::from(p.as_str())),
                    };
                    self.set_assignee(case_id, to, &name, AssignWhy::Flag("breaker"));
                }
                continue;
            }
            // A staged rollout's current stage, else the declared `rollout` (rollout.rs).
            match self.effective_rollout(a) {
                Rollout::Live => self.start_saga(case_id, ev, a),
                Rollout::Percent { percent, .. } => match self.bucket(case_id, ev, a) {
                    Some(b) if b < percent => self.start_saga(case_id, ev, a),
                    Some(b) => {
                        let mut detail =
                            json!({ "bucket": b, "percent": f64::from(percent) / 100.0 });
                        self.with_stage(a, &mut detail);
                        self.log(Some(case_id), "not_in_rollout", Some(&name), detail);
                    }
                    None => {}
                },
                Rollout::Shadow { sample, .. } => {
                    let sampled = match sample {
                        None => true,
                        Some(p) => self.bucket(case_id, ev, a).is_some_and(|b| b < p),
                    };
                    if sampled {
                        self.shadow(case_id, ev, a);
                        self.rollout_shadowed(case_id, a);
                    }
                }
            }
        }
    }

    fn bucket(&mut self, case_id: &Arc<str>, ev: &EventData, a: u32) -> Option<u32> {
        let name = self.program.automations[a as usize].name.clone();
        let mut vals = Vec::new();
        let n = self.code.auto_key[a as usize].len();
        for i in 0..n {
            let case = self.cases.get(&**case_id)?;
            match self.eval(&self.code.auto_key[a as usize][i], case, Some(ev), &[]) {
                Ok(v) => vals.push(v),
                Err(e) => {
                    self.eval_error(case_id, &name, "key", &e, OnError::Keep);
                    return None;
                }
            }
        }
        let key = if vals.is_empty() {
            Json::String(case_id.to_string()).to_string()
        } else {
            value::canonical_json(&self.program, &vals)
        };
        Some(rollout_bucket(&name, &key))
    }

    pub(super) fn step_args(
        &mut self,
        case_id: &str,
        ev: &EventData,
        a: u32,
        step: usize,
    ) -> Option<Vec<Value>> {
        let name = self.program.automations[a as usize].name.clone();
        let mut out = Vec::new();
        for i in 0..self.code.step_args[a as usize][step].len() {
            let case = self.cases.get(case_id)?;
            match self.eval(
                &self.code.step_args[a as usize][step][i],
                case,
                Some(ev),
                &[],
            ) {
                Ok(v) => out.push(v),
                Err(e) => {
                    self.eval_error(case_id, &name, "step", &e, OnError::Keep);
                    return None;
                }
            }
        }
        Some(out)
    }

    fn args_json(&self, action: u32, args: &[Value]) -> Json {
        let d = &self.program.actions[action as usize];
        let mut m = serde_json::Map::new();
        for (p, v) in d.params.iter().zip(args) {
            m.insert(p.name.clone(), self.value_json(v));
        }
        Json::Object(m)
    }

    /// Gates that hold this step now (their condition over the step's arguments holds).
    fn holding_gates(
        &mut self,
        case_id: &str,
        ev: &EventData,
        automation: u32,
        action: u32,
        args: &[Value],
    ) -> Vec<u32> {
        let Some(case) = self.cases.get(case_id) else {
            return Vec::new();
        };
        let calls = super::decision::gates(
            &self.program,
            &self.code,
            action,
            Some(automation),
            args,
            |cond, params| self.eval(cond, case, Some(ev), params),
        );
        // Commit: each gate's condition evaluated or failed (an unevaluable gate holds).
        let mut held = Vec::new();
        for (g, call) in calls {
            let name = self.gate_name(g);
            match &call {
                super::decision::GateCall::Fails(e) => {
                    self.eval_error(case_id, &name, "when", e, OnError::Keep);
                }
                _ if self
                    .code
                    .gate_cond
                    .get(g as usize)
                    .is_some_and(Option::is_some) =>
                {
                    self.eval_ok(case_id, &name, "when");
                }
                _ => {}
            }
            if call.holds() {
                held.push(g);
            }
        }
        held
    }

    fn gate_name(&self, g: u32) -> Arc<str> {
        self.program
            .gates
            .get(g as usize)
            .map_or_else(|| Arc::from(""), |g| Arc::from(g.name.as_str()))
    }

    fn shadow(&mut self, case_id: &Arc<str>, ev: &EventData, a: u32) {
        let program = self.program.clone();
        let auto = &program.automations[a as usize];
        for (i, step) in auto.steps.iter().enumerate() {
            // A shadow run issues nothing, so it does not wait or notify either: those
            // steps are recorded as what the live run would do.
            match &step.kind {
                StepKind::Action => {}
                StepKind::Wait(d) | StepKind::WaitUntil { within: d, .. } => {
                    let mut detail = json!({ "step": i, "wait": super::sla::spec_text(d), "version": auto.version });
                    self.with_stage(a, &mut detail);
                    self.log(Some(case_id), "shadowed", Some(&auto.name), detail);
                    continue;
                }
                StepKind::Notify { to, .. } => {
                    let mut detail = json!({ "step": i, "notify": self.recipient_json(case_id, to), "version": auto.version });
                    self.with_stage(a, &mut detail);
                    self.log(Some(case_id), "shadowed", Some(&auto.name), detail);
                    continue;
                }
            }
            let Some(args) = self.step_args(case_id, ev, a, i) else {
                return;
            };
            let gates: Vec<String> = self
                .holding_gates(case_id, ev, a, step.action, &args)
                .iter()
                .map(|g| self.program.gates[*g as usize].name.clone())
                .collect();
            let mut detail = json!({ "action": self.action_name(step.action), "args": self.args_json(step.action, &args), "step": i, "would_hold": gates, "version": auto.version });
            self.with_stage(a, &mut detail);
            self.log(Some(case_id), "shadowed", Some(&auto.name), detail);
        }
    }

    fn requesters(&self, ev: &EventData) -> Vec<String> {
        // The automation is the requester (§7.9); so is every person the triggering event
        // names, directly or one record deep (the agent who asked for the refund).
        let def = &self.program.events[ev.event as usize];
        let mut out = Vec::new();
        for (f, v) in def.fields.iter().zip(&ev.values) {
            match (&f.ty, v) {
                (_, Value::Person(p)) => out.push(p.to_string()),
                (WireTy::Record(r), Value::Record(items)) => {
                    for (rf, rv) in self.program.records[*r as usize]
                        .fields
                        .iter()
                        .zip(items.iter())
                    {
                        if let (WireTy::Person | WireTy::Optional(_), Value::Person(p)) =
                            (&rf.ty, rv)
                        {
                            out.push(p.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn start_saga(&mut self, case_id: &Arc<str>, ev: &EventData, a: u32) {
        let requesters = self.requesters(ev);
        let Some(case) = self.cases.get_mut(&**case_id) else {
            return;
        };
        case.sagas.push(Saga {
            automation: a,
            trigger: ev.clone(),
            next_step: 0,
            executed: Vec::new(),
            state: SagaState::Running,
            requesters,
        });
        let idx = case.sagas.len() - 1;
        self.advance_saga(case_id, idx, false);
    }

    pub(super) fn saga(&self, case_id: &str, idx: usize) -> Option<Saga> {
        self.cases
            .get(case_id)
            .and_then(|c| c.sagas.get(idx))
            .cloned()
    }

    /// Issue the saga's next step: hold it, or execute it and wait for its outcome.
    pub(super) fn advance_saga(&mut self, case_id: &Arc<str>, idx: usize, released: bool) {
        let Some(saga) = self.saga(case_id, idx) else {
            return;
        };
        let program = self.program.clone();
        let auto = &program.automations[saga.automation as usize];
        let step_i = saga.next_step;
        if step_i >= auto.steps.len() {
            self.set_saga_state(case_id, idx, SagaState::Done);
            self.breaker_record(case_id, saga.automation, false);
            return;
        }
        let step = &auto.steps[step_i];
        if step.kind != StepKind::Action {
            self.flow_step(case_id, idx, step_i);
            return;
        }
        let Some(args) = self.step_args(case_id, &saga.trigger, saga.automation, step_i) else {
            self.fail_saga(case_id, idx, "a step's arguments could not be evaluated");
            return;
        };
        let action = self.action_name(step.action);
        if !released {
            let gates =
                self.holding_gates(case_id, &saga.trigger, saga.automation, step.action, &args);
            if !gates.is_empty() {
                self.request_seq += 1;
                let rid = self.request_seq;
                let names: Vec<String> = gates
                    .iter()
                    .map(|g| self.program.gates[*g as usize].name.clone())
                    .collect();
                self.requests.insert(
                    rid,
                    Request {
                        case: case_id.clone(),
                        saga: idx,
                        pending: gates.clone(),
                        approvals: Vec::new(),
                    },
                );
                self.set_saga_state(case_id, idx, SagaState::Held(rid));
                let detail = json!({ "action": action, "args": self.args_json(step.action, &args), "automation": auto.name, "gates": names, "request": rid, "step": step_i });
                self.log(Some(case_id), "held", Some(&names[0]), detail);
                self.request_approval(case_id, rid, gates[0]);
                // `notify …` on the holding gates: told of the hold (language.md §11.2).
                for g in &gates {
                    if let Some(gate) = program.gates.get(*g as usize) {
                        for n in &gate.notify {
                            self.notice(case_id, &gate.name, n, None);
                        }
                    }
                }
                return;
            }
        }
        let key = idempotency_key(&auto.name, case_id, &saga.trigger.id, step_i, &action);
        let args_json = self.args_json(step.action, &args);
        let mut detail = json!({ "action": action, "args": args_json, "key": key, "step": step_i, "version": auto.version });
        if let Some(w) = &step.waiver {
            detail["ungated"] = json!(w);
        }
        self.with_stage(saga.automation, &mut detail);
        self.log(Some(case_id), "executed", Some(&auto.name), detail);
        let d = &self.program.actions[step.action as usize];
        let body = json!({ "kind": "action", "key": key, "connector": d.connector, "action": d.name, "args": args_json, "case": &**case_id, "automation": auto.name, "step": step_i });
        self.command(body);
        self.outstanding
            .insert(key.clone(), (case_id.clone(), idx, false));
        if let Some(s) = self
            .cases
            .get_mut(&**case_id)
            .and_then(|c| c.sagas.get_mut(idx))
        {
            s.executed.push((step_i, args, key.clone()));
            s.state = SagaState::Waiting(key);
        }
    }

    pub(super) fn set_saga_state(&mut self, case_id: &str, idx: usize, state: SagaState) {
        if let Some(s) = self
            .cases
            .get_mut(case_id)
            .and_then(|c| c.sagas.get_mut(idx))
        {
            s.state = state;
        }
    }

    pub(super) fn request_approval(&mut self, case_id: &Arc<str>, rid: u64, gate: u32) {
        // A retired gate (`migrate_flow.rs`) asks for its approval as before.
        let Some(g) = self.gate_def(gate).cloned() else {
            return;
        };
        let who: Vec<Json> = g
            .require
            .iter()
            .map(|r| match r {
                Requirement::Approval(t) => json!({ "approval": self.team_name(*t) }),
                Requirement::Quorum(t, n) => {
                    json!({ "approval": self.team_name(*t), "approvals": n })
                }
                Requirement::Review(t) => json!({ "review": self.team_name(*t) }),
                Requirement::Confirmation => json!("confirmation"),
            })
            .collect();
        self.command(json!({ "kind": "approval_request", "case": &**case_id, "gate": g.name, "request": rid, "require": who }));
        if let (Some((after, _)), Some(now)) = (&g.expire, self.clock) {
            let cal = self
                .cases
                .get(&**case_id)
                .and_then(|c| c.owner)
                .and_then(|o| self.team_calendar(o));
            if let Some(due) = self.add_duration(cal, now, *after) {
                self.schedule(due, case_id, TimerKind::GateExpire { request: rid, gate });
            }
        }
    }

    pub(crate) fn action_outcome(&mut self, case_id: &Arc<str>, success: bool, ev: &EventData) {
        let key = self.field_str(ev, "key").unwrap_or_default();
        let Some((case, idx, compensation)) = self.outstanding.get(&key).cloned() else {
            self.log(
                Some(case_id),
                "refused",
                None,
                json!({ "key": key, "reason": "no outstanding action with this key" }),
            );
            return;
        };
        let action = self.field(ev, "action");
        if compensation {
            // A compensation's outcome is recorded; the saga has already failed. A retryable
            // failure stays outstanding (the executor retries); a final one needs a person.
            let retryable =
                !success && self.field_str(ev, "retryable").is_some_and(|r| r == "true");
            if !retryable {
                self.outstanding.remove(&key);
            }
            let kind = if success { "succeeded" } else { "failed" };
            let mut detail = json!({ "key": key, "action": action, "compensation": true });
            if !success {
                detail["retryable"] = json!(retryable);
                detail["reason"] = self.field(ev, "reason");
            }
            self.log(Some(&case), kind, None, detail);
            return;
        }
        if success {
            self.outstanding.remove(&key);
            self.log(
                Some(&case),
                "succeeded",
                None,
                json!({ "key": key, "action": action }),
            );
            if let Some(s) = self
                .cases
                .get_mut(&*case)
                .and_then(|c| c.sagas.get_mut(idx))
            {
                s.next_step += 1;
                s.state = SagaState::Running;
            }
            self.advance_saga(&case, idx, false);
            return;
        }
        let retryable = self.field_str(ev, "retryable").is_some_and(|r| r == "true");
        let reason = self.field(ev, "reason");
        self.log(
            Some(&case),
            "failed",
            None,
            json!({ "key": key, "action": action, "retryable": retryable, "reason": reason }),
        );
        if retryable {
            // The executor retries under the same key; the saga keeps waiting.
            return;
        }
        self.outstanding.remove(&key);
        self.fail_saga(&case, idx, "a step failed for good");
    }

    /// Compensate executed steps in reverse order and hand the owner a reconciliation task.
    pub(super) fn fail_saga(&mut self, case_id: &Arc<str>, idx: usize, why: &str) {
        let Some(saga) = self.saga(case_id, idx) else {
            return;
        };
        let program = self.program.clone();
        let auto = &program.automations[saga.automation as usize];
        let failed_step = saga.next_step;
        for (step, args, _) in saga
            .executed
            .iter()
            .rev()
            .filter(|(s, _, _)| *s != failed_step)
        {
            let a = auto.steps[*step].action;
            let Some(comp) = self.program.actions[a as usize].compensate else {
                continue;
            };
            let comp_name = self.action_name(comp);
            let key = idempotency_key(
                &auto.name,
                case_id,
                &saga.trigger.id,
                *step,
                &format!("compensate:{comp_name}"),
            );
            let args_json = self.args_json(comp, args);
            self.log(
                Some(case_id),
                "compensated",
                Some(&auto.name),
                json!({ "action": comp_name, "args": args_json, "key": key, "step": step }),
            );
            let d = &self.program.actions[comp as usize];
            let body = json!({ "kind": "action", "key": key, "connector": d.connector, "action": d.name, "args": args_json, "case": &**case_id, "automation": auto.name, "step": step, "compensates": self.action_name(a) });
            self.command(body);
            self.outstanding
                .insert(key.clone(), (case_id.clone(), idx, true));
        }
        let owner = self.team_name(auto.owner).to_string();
        self.log(
            Some(case_id),
            "reconciliation",
            Some(&auto.name),
            json!({ "owner": owner, "reason": why }),
        );
        self.command(json!({ "kind": "reconciliation", "case": &**case_id, "automation": auto.name, "owner": owner, "reason": why }));
        self.set_saga_state(case_id, idx, SagaState::Failed);
        self.breaker_record(case_id, saga.automation, true);
    }

    /// A run ended: the breaker counts it, then the staged rollout (which may roll back
    /// on the breaker's trip).
    fn breaker_record(&mut self, case_id: &str, a: u32, failed: bool) {
        self.breaker_count(case_id, a, failed);
        self.rollout_outcome(a, failed);
    }

    fn breaker_count(&mut self, case_id: &str, a: u32, failed: bool) {
        let Some(b) = self.program.automations[a as usize].breaker.clone() else {
            return;
        };
        let st = &mut self.breakers[a as usize];
        st.runs.push_back(failed);
        while st.runs.len() > b.window as usize {
            st.runs.pop_front();
        }
        let failures = st.runs.iter().filter(|f| **f).count() as u64;
        // "failures > 5% over 50 runs": more than 5% of the window's runs failed.
        let tripped = failures * 10_000 > u64::from(b.threshold) * u64::from(b.window);
        if tripped && !st.halted && b.halt {
            st.halted = true;
            let name = self.program.automations[a as usize].name.clone();
            self.log(
                Some(case_id),
                "halted",
                Some(&name),
                json!({ "failures": failures, "window": b.window }),
            );
            for r in &b.notify {
                self.notify(case_id, &name, r);
            }
        }
    }

    pub(crate) fn breaker_reset(&mut self, case_id: &Arc<str>, ev: &EventData) {
        let name = self.field_str(ev, "automation").unwrap_or_default();
        let by = self.field(ev, "by");
        match self.program.automations.iter().position(|a| a.name == name) {
            Some(a) => {
                self.breakers[a] = BreakerState::default();
                self.log(
                    Some(case_id),
                    "breaker_reset",
                    Some(&name),
                    json!({ "by": by }),
                );
            }
            None => self.log(
                Some(case_id),
                "refused",
                Some(&name),
                json!({ "by": by, "reason": format!("no automation named `{name}`") }),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_buckets_are_stable() {
        let k = idempotency_key("refund_small", "T-1", "evt-1", 0, "stripe.refund");
        assert_eq!(k.len(), 64);
        assert_eq!(
            k,
            idempotency_key("refund_small", "T-1", "evt-1", 0, "stripe.refund")
        );
        assert_ne!(
            k,
            idempotency_key("refund_small", "T-1", "evt-1", 1, "stripe.refund")
        );
        let b = rollout_bucket("refund_small", "\"c-9\"");
        assert!(b < 10_000);
        assert_eq!(b, rollout_bucket("refund_small", "\"c-9\""));
    }
}
