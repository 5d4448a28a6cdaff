//! Holds that release themselves (docs/runtime.md, "Gates, approvals, dual control"): a
//! gate with `release when clear` lets go of the step it holds once its condition, over the
//! held step's arguments and the case facts as they are now, no longer holds.
//!
//! Checked after every event of the case, once its facts are recorded. The gate leaves the
//! request's pending list (`released`), exactly as if it had been approved: approvals
//! already given to earlier gates stay given, the next holding gate (if any) is asked, and
//! once no gate is pending the saga runs the step. The triggering event's fields are not
//! in scope (a gate's condition reads facts and the step's arguments only, language.md
//! §11.2), so the check sees the facts the new event brought.

use std::sync::Arc;

use serde_json::json;

use super::actions::SagaState;
use super::{Engine, OnError};
use crate::ir::StepKind;

impl Engine {
    /// Release every request on the case whose pending gate says `release when clear`
    /// and whose condition no longer holds.
    pub(crate) fn release_cleared(&mut self, case_id: &Arc<str>) {
        if !self.program.gates.iter().any(|g| g.release_when_clear) {
            return;
        }
        let rids: Vec<u64> = self
            .requests
            .iter()
            .filter(|(_, r)| *r.case == **case_id)
            .map(|(id, _)| *id)
            .collect();
        for rid in rids {
            self.release_if_clear(case_id, rid);
        }
    }

    fn release_if_clear(&mut self, case_id: &Arc<str>, rid: u64) {
        let Some(req) = self.requests.get(&rid).cloned() else {
            return;
        };
        let Some(&gate) = req.pending.first() else {
            return;
        };
        let program = self.program.clone();
        let Some(g) = program.gates.get(gate as usize) else {
            return;
        };
        if !g.release_when_clear {
            return;
        }
        let Some(saga) = self
            .cases
            .get(&**case_id)
            .and_then(|c| c.sagas.get(req.saga))
            .cloned()
        else {
            return;
        };
        let Some(step) = program
            .automations
            .get(saga.automation as usize)
            .and_then(|a| a.steps.get(saga.next_step))
        else {
            return;
        };
        if step.kind != StepKind::Action {
            return;
        }
        let Some(args) = self.step_args(case_id, &saga.trigger, saga.automation, saga.next_step)
        else {
            return;
        };
        let Some(case) = self.cases.get(&**case_id) else {
            return;
        };
        let call = super::decision::gates(
            &program,
            &self.code,
            step.action,
            Some(saga.automation),
            &args,
            |c, p| self.eval(c, case, None, p),
        )
        .into_iter()
        .find(|(x, _)| *x == gate)
        .map(|(_, call)| call);
        let clear = match call {
            Some(super::decision::GateCall::Passes) => true,
            Some(super::decision::GateCall::Fails(e)) => {
                // Unevaluable: the gate keeps holding, as when it first held (§4.5).
                self.eval_error(case_id, &g.name, "release", &e, OnError::Keep);
                false
            }
            _ => false,
        };
        if !clear {
            return;
        }
        let action = program
            .actions
            .get(step.action as usize)
            .map(|d| format!("{}.{}", d.connector, d.name))
            .unwrap_or_default();
        self.log(
            Some(case_id),
            "released",
            Some(&g.name),
            json!({ "action": action, "reason": "condition no longer holds", "request": rid, "step": saga.next_step }),
        );
        let mut rest = req.pending.clone();
        rest.remove(0);
        if let Some(&next) = rest.first() {
            if let Some(r) = self.requests.get_mut(&rid) {
                r.pending = rest;
                r.approvals.clear();
            }
            self.request_approval(case_id, rid, next);
            // The next gate may say `release when clear` and be clear already.
            self.release_if_clear(case_id, rid);
            return;
        }
        self.requests.remove(&rid);
        self.set_saga_state(case_id, req.saga, SagaState::Running);
        self.advance_saga(case_id, req.saga, true);
    }
}
