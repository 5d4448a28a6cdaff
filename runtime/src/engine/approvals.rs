//! Approvals on held steps (docs/runtime.md, "Gates, approvals, dual control"): a gate's
//! expiry, and `ApprovalGranted` / `ApprovalDenied` — who may decide, dual control, quorum,
//! and what a decision does to the held step (the next gate is asked, or the step runs).

use std::sync::Arc;

use serde_json::json;

use super::actions::SagaState;
use super::{Engine, EventData};
use crate::ir::Requirement;

impl Engine {
    pub(crate) fn gate_expired(&mut self, rid: u64, gate: u32) {
        let Some(req) = self.requests.get(&rid).cloned() else {
            return;
        };
        // The timer belongs to one gate: once that gate released the request, it is void.
        if req.pending.first() != Some(&gate) {
            return;
        }
        // A retired gate (`migrate_flow.rs`) still expires the steps it holds.
        let Some(g) = self.gate_def(gate).cloned() else {
            return;
        };
        self.log(
            Some(&req.case),
            "expired",
            Some(&g.name),
            json!({ "request": rid }),
        );
        let actions = g
            .expire
            .as_ref()
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        if actions.contains(&crate::ir::Action::Deny) {
            self.requests.remove(&rid);
            self.log(
                Some(&req.case),
                "denied",
                Some(&g.name),
                json!({ "request": rid, "by": "expiry" }),
            );
            self.set_saga_state(&req.case, req.saga, SagaState::Cancelled);
        }
        // After `-> escalate` the request stays held and approvable (§7.8).
        self.run_actions(&req.case, &g.name, &actions);
    }

    pub(crate) fn approval_event(&mut self, case_id: &Arc<str>, granted: bool, ev: &EventData) {
        let gate_name = self.field_str(ev, "approval").unwrap_or_default();
        let by = self.field_str(ev, "by").unwrap_or_default().to_lowercase();
        // The oldest pending request of that gate on this case (§7.9).
        let found = self.requests.iter().find(|(_, r)| {
            *r.case == **case_id
                && r.pending
                    .first()
                    .and_then(|g| self.gate_def(*g))
                    .is_some_and(|g| g.name == gate_name)
        });
        let Some((&rid, req)) = found else {
            let reason = format!("no pending request of gate `{gate_name}` on this case");
            self.log(
                Some(case_id),
                "refused",
                Some(&gate_name),
                json!({ "by": by, "reason": reason }),
            );
            return;
        };
        let req = req.clone();
        let gate = req.pending[0];
        // Also a retired gate: its held steps are decided by its name (`migrate_flow.rs`).
        let Some(g) = self.gate_def(gate).cloned() else {
            return;
        };
        let requesters = self
            .cases
            .get(&**case_id)
            .and_then(|c| c.sagas.get(req.saga))
            .map(|s| s.requesters.clone())
            .unwrap_or_default();
        if requesters.iter().any(|r| r.eq_ignore_ascii_case(&by)) {
            self.log(Some(case_id), "refused", Some(&g.name), json!({ "by": by, "request": rid, "reason": "dual control: the requester cannot approve their own request" }));
            return;
        }
        for r in &g.require {
            let team = match r {
                Requirement::Approval(t) | Requirement::Review(t) | Requirement::Quorum(t, _) => {
                    Some(*t)
                }
                Requirement::Confirmation => None,
            };
            if let Some(t) = team
                && !self.program.teams[t as usize].members.contains(&by)
            {
                let reason = format!("{by} is not a member of {}", self.team_name(t));
                self.log(
                    Some(case_id),
                    "refused",
                    Some(&g.name),
                    json!({ "by": by, "request": rid, "reason": reason }),
                );
                return;
            }
        }
        if !granted {
            self.requests.remove(&rid);
            self.log(
                Some(case_id),
                "denied",
                Some(&g.name),
                json!({ "by": by, "request": rid }),
            );
            self.set_saga_state(case_id, req.saga, SagaState::Cancelled);
            return;
        }
        // A quorum (docs/runtime.md, "Gates and approvals"): distinct approvers, counted;
        // the request stays held until the count is reached.
        let quorum = g.require.iter().find_map(|r| match r {
            Requirement::Quorum(_, n) => Some(*n as usize),
            _ => None,
        });
        if let Some(required) = quorum {
            if req.approvals.contains(&by) {
                let reason = format!(
                    "{by} already approved this request: a quorum needs {required} different approvers"
                );
                self.log(
                    Some(case_id),
                    "refused",
                    Some(&g.name),
                    json!({ "by": by, "request": rid, "reason": reason }),
                );
                return;
            }
            let count = req.approvals.len() + 1;
            self.log(
                Some(case_id),
                "approved",
                Some(&g.name),
                json!({ "approvals": count, "by": by, "request": rid, "required": required }),
            );
            if count < required {
                if let Some(r) = self.requests.get_mut(&rid) {
                    r.approvals.push(by);
                }
                return;
            }
        } else {
            self.log(
                Some(case_id),
                "approved",
                Some(&g.name),
                json!({ "by": by, "request": rid }),
            );
        }
        let mut rest = req.pending.clone();
        rest.remove(0);
        if let Some(&next) = rest.first() {
            if let Some(r) = self.requests.get_mut(&rid) {
                r.pending = rest;
                r.approvals.clear();
            }
            self.request_approval(case_id, rid, next);
            return;
        }
        self.requests.remove(&rid);
        self.set_saga_state(case_id, req.saga, SagaState::Running);
        self.advance_saga(case_id, req.saga, true);
    }
}
