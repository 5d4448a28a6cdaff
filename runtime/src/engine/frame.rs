//! Evaluating compiled rule code against a case and its triggering event.

use super::{Assignee, CaseState, Engine, EventData};
use crate::eval::{self, Code, CtxVals, EvalError, Frame, Pred};
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

    /// Evaluate a compiled condition for a case.
    pub(crate) fn holds(
        &self,
        pred: &Pred,
        case: &CaseState,
        ev: Option<&EventData>,
    ) -> Result<bool, EvalError> {
        self.in_frame(case, ev, &[], |f| pred(f))
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

/// Where a scan of conditions in order stopped.
pub(crate) enum Scan {
    /// The first condition that holds (or that there is none of: always).
    Hit(usize),
    /// The first condition that could not be evaluated, before any held.
    Failed(usize, EvalError),
    /// None held.
    Miss,
}

/// Evaluates `cond(i)` for `i` in `from..n`, in order and in one frame, until one holds or
/// fails: classify's arms and a route's candidates are decided this way, in `apply` and in
/// the decision step alike. (`None` from `cond` means "no condition": it holds.)
pub(crate) fn scan<'c>(
    f: &Frame<'_>,
    from: usize,
    n: usize,
    cond: impl Fn(usize) -> Option<&'c Pred>,
) -> Scan {
    for i in from..n {
        match cond(i) {
            None => return Scan::Hit(i),
            Some(p) => match p(f) {
                Ok(true) => return Scan::Hit(i),
                Ok(false) => {}
                Err(e) => return Scan::Failed(i, e),
            },
        }
    }
    Scan::Miss
}

/// The first of `cond(0..n)` that holds, passing over any that fail (as `apply` does after
/// recording the failure): the decision step, which records nothing.
pub(crate) fn first_hit<'c>(
    f: &Frame<'_>,
    n: usize,
    cond: impl Fn(usize) -> Option<&'c Pred> + Copy,
) -> Option<usize> {
    let mut from = 0;
    loop {
        match scan(f, from, n, cond) {
            Scan::Hit(i) => return Some(i),
            Scan::Miss => return None,
            Scan::Failed(i, _) => from = i + 1,
        }
    }
}
