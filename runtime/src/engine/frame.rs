//! Evaluating compiled rule code against a case and its triggering event.

use super::{Assignee, CaseState, Engine, EventData};
use crate::eval::{self, Code, CtxVals, EvalError, Frame};
use crate::value::Value;

impl Engine {
    /// An evaluation context for a case and (optionally) its triggering event.
    pub(crate) fn ctx<'a>(&'a self, case: &'a CaseState, ev: Option<&'a EventData>) -> CtxVals<'a> {
        let assignee = match &case.assignee {
            Some(Assignee::Team(t)) => eval::Who::Team(*t),
            Some(Assignee::Person(p)) => eval::Who::Person(p),
            None => eval::Who::Nobody,
        };
        CtxVals {
            event_id: ev.map(|e| e.id.as_str()),
            event_at: ev.map(|e| e.at),
            event_type: ev.map(|e| self.program.events[e.event as usize].name.as_str()),
            case_id: Some(&case.id),
            opened_at: Some(case.opened_at),
            class: case
                .class
                .zip(self.program.classify.as_ref().map(|c| c.enum_id))
                .map(|(v, e)| (e, v)),
            assignee,
            now: self.clock,
            // Only the case the event being applied belongs to sees what it changed.
            before: self
                .before
                .as_ref()
                .filter(|(c, _)| **c == *case.id)
                .map(|(_, b)| b),
            bound: None,
        }
    }

    /// Run `f` on the frame of a case, with the triggering event's fields in scope.
    pub(crate) fn in_frame<T>(
        &self,
        case: &CaseState,
        ev: Option<&EventData>,
        params: &[Value],
        f: impl FnOnce(&Frame<'_>) -> T,
    ) -> T {
        let ctx = self.ctx(case, ev);
        let event = ev.map(|e| eval::EventView {
            slots: &self.program.events[e.event as usize].slots,
            values: &e.values,
        });
        f(&Frame {
            facts: &case.facts,
            event,
            params,
            ctx: &ctx,
            env: &self.env,
        })
    }

    /// Evaluate compiled code for a case.
    pub(crate) fn eval(
        &self,
        code: &Code,
        case: &CaseState,
        ev: Option<&EventData>,
        params: &[Value],
    ) -> Result<Value, EvalError> {
        self.in_frame(case, ev, params, |f| code(f))
    }
}
