//! Feeding aggregates (docs/runtime.md, "Aggregates"): when an event is applied, after the
//! case's facts take its fields and before any rule runs, each aggregate that lists the
//! event adds it under its key, so rules on that event already count it. A deployment keeps
//! an aggregate's state only when its declaration is unchanged.

use std::sync::Arc;

use serde_json::json;

use super::{Engine, EventData, OnError};
use crate::eval::{self, AggState, Code};
use crate::ir::{AggOp, Program};
use crate::value::Value;

/// One aggregate's compiled code: per feed (event, key, `when`), per field its value.
pub(crate) struct AggCode {
    pub feeds: Vec<(u32, Code, Option<Code>)>,
    pub fields: Vec<Option<Code>>,
    /// The rule name in `eval_error` entries: `aggregate.NAME`.
    pub rule: Arc<str>,
}

pub(crate) fn compile(p: &Program) -> Vec<AggCode> {
    let c = |e: &crate::ir::Expr| eval::compile(e, p);
    p.aggregates
        .iter()
        .map(|a| AggCode {
            feeds: a
                .feeds
                .iter()
                .map(|f| (f.event, c(&f.key), f.when.as_ref().map(c)))
                .collect(),
            fields: a
                .fields
                .iter()
                .map(|f| match &f.op {
                    AggOp::Count => None,
                    AggOp::Sum(e) | AggOp::Latest(e) => Some(c(e)),
                })
                .collect(),
            rule: Arc::from(format!("aggregate.{}", a.name)),
        })
        .collect()
}

impl Engine {
    /// Add the event to every aggregate it feeds (evaluated on the case with the event's
    /// fields in scope). A key or `when` that fails to evaluate is an `eval_error` and feeds
    /// nothing; a field that fails adds nothing for that field.
    pub(crate) fn feed_aggregates(&mut self, case_id: &str, ev: &EventData) {
        if self.code.aggregates.is_empty() {
            return;
        }
        let now = self.clock.unwrap_or(ev.at);
        let mut updates: Vec<(usize, Value, Vec<Option<Value>>)> = Vec::new();
        let mut errors = Vec::new();
        if let Some(case) = self.cases.get(case_id) {
            for (a, code) in self.code.aggregates.iter().enumerate() {
                for (event, key, when) in &code.feeds {
                    if *event != ev.event {
                        continue;
                    }
                    if let Some(w) = when {
                        match self
                            .eval(w, case, Some(ev), &[])
                            .and_then(|v| eval::truthy(&v))
                        {
                            Ok(true) => {}
                            Ok(false) => continue,
                            Err(e) => {
                                errors.push((code.rule.clone(), "when", e));
                                continue;
                            }
                        }
                    }
                    let k = match self.eval(key, case, Some(ev), &[]) {
                        Ok(k) => k,
                        Err(e) => {
                            errors.push((code.rule.clone(), "key", e));
                            continue;
                        }
                    };
                    let values = code
                        .fields
                        .iter()
                        .map(|f| {
                            f.as_ref()
                                .and_then(|f| match self.eval(f, case, Some(ev), &[]) {
                                    Ok(v) => Some(v),
                                    Err(e) => {
                                        errors.push((code.rule.clone(), "value", e));
                                        None
                                    }
                                })
                        })
                        .collect();
                    updates.push((a, k, values));
                }
            }
        }
        for (rule, part, e) in errors {
            self.eval_error(case_id, &rule, part, &e, OnError::Keep);
        }
        for (a, key, values) in updates {
            let Some(state) = self.env.aggregates.get_mut(a) else {
                continue;
            };
            if let Some(gone) = state.feed(&key, ev.at, now, &values) {
                let name = self
                    .program
                    .aggregates
                    .get(a)
                    .map(|d| d.name.clone())
                    .unwrap_or_default();
                let key = match gone {
                    eval::aggregate::Key::Str(s) => json!(&*s),
                    eval::aggregate::Key::Int(i) => json!(i),
                    eval::aggregate::Key::Enum(e, v) => self.value_json(&Value::Enum(e, v)),
                };
                self.log(
                    None,
                    "aggregate_evicted",
                    None,
                    json!({ "aggregate": name, "key": key }),
                );
            }
        }
    }

    /// After a deployment: each aggregate of the new program takes the old state of the one
    /// with its name when the declaration is unchanged (same fingerprint, same `keep`) and
    /// so are the enums and teams (a key or a `latest` value may hold their numbers);
    /// otherwise it starts empty. Removed aggregates are dropped.
    /// An aggregate of open cases that does not keep its state is counted afresh from the
    /// live cases (docs/runtime.md, "Open cases per key").
    pub(crate) fn carry_aggregates(&mut self, old: &Program, states: Vec<AggState>) {
        let program = self.program.clone();
        let carried = self.carry_states(old, states);
        for (i, def) in program.aggregates.iter().enumerate() {
            if def.cases.is_some() && !carried.contains(&i) {
                self.recount_open_cases(i);
            }
        }
    }

    /// The aggregates that took their old state.
    fn carry_states(&mut self, old: &Program, mut states: Vec<AggState>) -> Vec<usize> {
        let program = self.program.clone();
        let mut carried = Vec::new();
        let teams = |p: &Program| p.teams.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
        if old.enums != program.enums || teams(old) != teams(&program) {
            return carried;
        }
        for (i, def) in program.aggregates.iter().enumerate() {
            let Some(j) = old.aggregates.iter().position(|o| o.name == def.name) else {
                continue;
            };
            let same = old.aggregates[j].fingerprint == def.fingerprint
                && old.aggregates[j].keep == def.keep
                && old.aggregates[j].cases == def.cases;
            if let (true, Some(slot), Some(prev)) =
                (same, self.env.aggregates.get_mut(i), states.get_mut(j))
                && slot.same_shape(prev)
            {
                std::mem::swap(slot, prev);
                carried.push(i);
            }
        }
        carried
    }
}
