//! Aggregates of open cases (docs/language.md §5.6, "Open cases per key"; docs/runtime.md,
//! "Open cases per key"): `open cases by KEY [when COND]` counts each case that is open
//! now once, under the key its facts give. The count is kept exact by re-evaluating the
//! case's key whenever the case may have changed — after each of its events (after the
//! lifecycle transition, so the event's rules see the new count) and when the engine
//! closes it — and moving it between keys: up on open or reopen, down on solve or close,
//! across when the key's fact changes. A deployment recounts from the live cases.

use std::sync::Arc;

use super::lifecycle::Status;
use super::{Engine, OnError};
use crate::eval::aggregate::Key;
use crate::eval::{self, AggState, Code};
use crate::ir::Program;

/// The compiled `open cases by KEY [when COND]` of one aggregate.
pub(crate) struct OpenCode {
    pub aggregate: usize,
    pub key: Code,
    pub when: Option<Code>,
}

pub(crate) fn compile(p: &Program) -> Vec<OpenCode> {
    p.aggregates
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            a.cases.as_ref().map(|c| OpenCode {
                aggregate: i,
                key: eval::compile(&c.key, p),
                when: c.when.as_ref().map(|w| eval::compile(w, p)),
            })
        })
        .collect()
}

/// What one evaluation gave: the key to count the case under (none: not counted), and
/// the errors met on the way (part, error).
type Placement = (Option<Key>, Option<(&'static str, eval::EvalError)>);

impl Engine {
    /// Where the case counts in aggregate `oc` now: nowhere unless it is open and `when`
    /// holds; the key is read from the case's facts alone (no event in scope).
    fn placement(&self, oc: &OpenCode, case_id: &str) -> Placement {
        let Some(case) = self.cases.get(case_id) else {
            return (None, None);
        };
        if case.life.status != Status::Open {
            return (None, None);
        }
        if let Some(w) = &oc.when {
            match self.eval(w, case, None, &[]).and_then(|v| eval::truthy(&v)) {
                Ok(true) => {}
                Ok(false) => return (None, None),
                Err(e) => return (None, Some(("when", e))),
            }
        }
        match self.eval(&oc.key, case, None, &[]) {
            Ok(v) => (eval::aggregate::key_of_value(&v), None),
            Err(e) => (None, Some(("key", e))),
        }
    }

    /// Bring the case's place in every aggregate of open cases up to date. A key or `when`
    /// that fails to evaluate counts the case nowhere and writes `eval_error` (rule
    /// `aggregate.NAME`), once per distinct error as for any rule.
    pub(crate) fn sync_open_cases(&mut self, case_id: &Arc<str>) {
        if self.code.open_cases.is_empty() {
            return;
        }
        let mut moves = Vec::new();
        for oc in &self.code.open_cases {
            let (key, err) = self.placement(oc, case_id);
            moves.push((oc.aggregate, key, err));
        }
        for (a, key, err) in moves {
            let rule = format!(
                "aggregate.{}",
                self.program
                    .aggregates
                    .get(a)
                    .map_or("", |d| d.name.as_str())
            );
            match &err {
                Some((part, e)) => self.eval_error(case_id, &rule, part, e, OnError::Keep),
                None => {
                    self.eval_ok(case_id, &rule, "key");
                    self.eval_ok(case_id, &rule, "when");
                }
            }
            if let Some(state) = self.env.aggregates.get_mut(a) {
                place(state, case_id, key);
            }
        }
    }

    /// A case left the working set: it counts nowhere (it was closed, so this only guards).
    pub(crate) fn forget_open_case(&mut self, case_id: &Arc<str>) {
        for oc in &self.code.open_cases {
            if let Some(state) = self.env.aggregates.get_mut(oc.aggregate) {
                place(state, case_id, None);
            }
        }
    }

    /// Count aggregate `a` afresh from the live cases (a deployment that added it or
    /// changed it). Cases are taken in id order; a key that fails to evaluate counts the
    /// case nowhere until its next event (no entry: a deployment writes only `deployed`).
    pub(crate) fn recount_open_cases(&mut self, a: usize) {
        let Some(oc) = self.code.open_cases.iter().position(|o| o.aggregate == a) else {
            return;
        };
        let mut ids: Vec<Arc<str>> = self.cases.keys().cloned().collect();
        ids.sort();
        let placed: Vec<(Arc<str>, Option<Key>)> = ids
            .into_iter()
            .map(|id| {
                let key = self
                    .code
                    .open_cases
                    .get(oc)
                    .and_then(|o| self.placement(o, &id).0);
                (id, key)
            })
            .collect();
        if let Some(state) = self.env.aggregates.get_mut(a) {
            for (id, key) in placed {
                place(state, &id, key);
            }
        }
    }
}

/// Move `case` to `key` (none: out) in an aggregate of open cases.
fn place(state: &mut AggState, case: &Arc<str>, key: Option<Key>) {
    if state.members.get(case) == key.as_ref() {
        return;
    }
    if let Some(old) = state.members.remove(case) {
        state.adjust(&old, -1);
    }
    if let Some(k) = key {
        state.adjust(&k, 1);
        state.members.insert(case.clone(), k);
    }
}
