//! Decisions as values (docs/runtime.md, "Decisions"): which classify arm gives the class,
//! which route takes the case, which gates hold an action call and what target an SLA
//! policy sets, decided by pure functions over one evaluation frame.
//!
//! `Engine::apply` (`case.rs`), the decision step (`Engine::decide`) and the witness probe
//! (`probe.rs`) all call these functions; only `apply` then commits what they return
//! (errors recorded, class and assignee changed, ledger entries written). What was tried is
//! reported to a [`Trace`]: [`NoTrace`] keeps nothing (the decision step stays
//! allocation-free, docs/performance.md), [`Tries`] keeps the losers in the order they
//! were tried and the winning route's `key` values.

use smallvec::SmallVec;

use super::Compiled;
use crate::eval::{Code, EvalError, Frame, Pred};
use crate::ir::{DurationSpec, Program, SlaTarget};
use crate::value::Value;

/// Why a classify arm or a route tried before the winner did not win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lost {
    /// Its condition evaluated to false.
    False,
    /// Its `when` (or, for a route whose `when` held, its `key`) could not be evaluated:
    /// an arm or route that fails does not match (docs/language.md §8.3).
    Error {
        part: &'static str,
        error: EvalError,
    },
}

/// One loser: a classify arm's index, or a route's id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Tried {
    pub at: u32,
    pub lost: Lost,
}

/// Where a decision reports what it tried.
pub(crate) trait Trace {
    /// `at` was tried and lost (called in the order of trying).
    fn lost(&mut self, at: u32, lost: Lost);
    /// One `key` value of the route being tried (in `key` order).
    fn key(&mut self, v: Value);
    /// The keys reported so far belong to a route that lost after all.
    fn clear_keys(&mut self);
}

/// Keeps nothing: the decision step's trace.
pub(crate) struct NoTrace;

impl Trace for NoTrace {
    #[inline]
    fn lost(&mut self, _: u32, _: Lost) {}
    #[inline]
    fn key(&mut self, _: Value) {}
    #[inline]
    fn clear_keys(&mut self) {}
}

/// What was tried before the winner, and the winning route's `key` values.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tries {
    pub lost: SmallVec<[Tried; 4]>,
    pub keys: Vec<Value>,
}

impl Trace for Tries {
    fn lost(&mut self, at: u32, lost: Lost) {
        self.lost.push(Tried { at, lost });
    }
    fn key(&mut self, v: Value) {
        self.keys.push(v);
    }
    fn clear_keys(&mut self) {
        self.keys.clear();
    }
}

/// The class a classify gives: the variant, and the arm that gave it (`None`: `otherwise`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClassPick {
    pub variant: u32,
    pub arm: Option<usize>,
}

/// The class for an event, decided on frame `f` (the case with the event's fields in
/// scope): `None` when the program has no classify or it does not run on `event`. The arms
/// are tried in order; the first that holds wins, one that fails counts as not holding.
pub(crate) fn class<T: Trace>(
    program: &Program,
    code: &Compiled,
    event: u32,
    f: &Frame<'_>,
    trace: &mut T,
) -> Option<ClassPick> {
    let cl = program.classify.as_ref()?;
    if !code
        .classify_on
        .get(event as usize)
        .copied()
        .unwrap_or(false)
    {
        return None;
    }
    for (i, pred) in code.classify.iter().enumerate() {
        match pred(f) {
            Ok(true) => {
                if let Some((variant, _)) = cl.arms.get(i) {
                    return Some(ClassPick {
                        variant: *variant,
                        arm: Some(i),
                    });
                }
            }
            Ok(false) => trace.lost(i as u32, Lost::False),
            Err(error) => trace.lost(
                i as u32,
                Lost::Error {
                    part: "when",
                    error,
                },
            ),
        }
    }
    Some(ClassPick {
        variant: cl.otherwise,
        arm: None,
    })
}

/// The first of `candidates[from..]` (route ids, best first) that takes the case, decided on
/// frame `f`: its condition holds (the residual when `known`, see `index.rs`) and its `key`
/// evaluates. Returns its position in `candidates`.
pub(crate) fn route<T: Trace>(
    code: &Compiled,
    candidates: &[u32],
    known: bool,
    from: usize,
    f: &Frame<'_>,
    trace: &mut T,
) -> Option<usize> {
    'candidates: for (i, &r) in candidates.iter().enumerate().skip(from) {
        if let Some(pred) = route_condition(code, r, known) {
            match pred(f) {
                Ok(true) => {}
                Ok(false) => {
                    trace.lost(r, Lost::False);
                    continue;
                }
                Err(error) => {
                    trace.lost(
                        r,
                        Lost::Error {
                            part: "when",
                            error,
                        },
                    );
                    continue;
                }
            }
        }
        if let Some(keys) = code.route_key.get(r as usize) {
            for k in keys {
                match k(f) {
                    Ok(v) => trace.key(v),
                    Err(error) => {
                        trace.clear_keys();
                        trace.lost(r, Lost::Error { part: "key", error });
                        continue 'candidates;
                    }
                }
            }
        }
        return Some(i);
    }
    None
}

/// The condition that decides route `r` among candidates: its residual when its required
/// equality is `known` to hold, else the whole condition (`None`: always).
pub(crate) fn route_condition(code: &Compiled, r: u32, known: bool) -> Option<&Pred> {
    let r = r as usize;
    if known && code.route_keyed.get(r).copied().unwrap_or(false) {
        code.route_residual.get(r)?.as_ref()
    } else {
        code.route_cond.get(r)?.as_ref()
    }
}

/// How one gate decides an action call (docs/runtime.md, "Gates, approvals, dual control").
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum GateCall {
    /// Its condition holds (or it has none): the call waits for approval.
    Holds,
    /// Its condition is false: this gate lets the call through.
    Passes,
    /// Its condition could not be evaluated: it holds (safety first).
    Fails(EvalError),
}

impl GateCall {
    pub(crate) fn holds(&self) -> bool {
        !matches!(self, GateCall::Passes)
    }
}

/// Each gate that covers `action` (in declaration order) and how it decides a call with
/// `args`: its parameters are bound by name to the action's arguments, and `eval` evaluates
/// its condition on the case's frame with them.
pub(crate) fn gates(
    program: &Program,
    code: &Compiled,
    action: u32,
    args: &[Value],
    mut eval: impl FnMut(&Code, &[Value]) -> Result<Value, EvalError>,
) -> Vec<(u32, GateCall)> {
    let Some(params) = program.actions.get(action as usize).map(|a| &a.params) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (g, gate) in program.gates.iter().enumerate() {
        if !(gate.actions.contains(&action) || gate.all_automation_actions) {
            continue;
        }
        let call = match code.gate_cond.get(g).and_then(Option::as_ref) {
            None => GateCall::Holds,
            Some(cond) => {
                let bound: Vec<Value> = gate
                    .param_names
                    .iter()
                    .map(|n| {
                        params
                            .iter()
                            .position(|p| p.name == *n)
                            .and_then(|i| args.get(i).cloned())
                            .unwrap_or(Value::None)
                    })
                    .collect();
                match eval(cond, &bound).and_then(|v| crate::eval::truthy(&v)) {
                    Ok(true) => GateCall::Holds,
                    Ok(false) => GateCall::Passes,
                    Err(e) => GateCall::Fails(e),
                }
            }
        };
        out.push((g as u32, call));
    }
    out
}

/// The target SLA policy `s` sets: its fixed target, or, for `target by FIELD`, the arm of
/// the field's variant as `eval` computes it on the case's frame (`Ok(None)`: no arm for
/// that value).
pub(crate) fn sla_target(
    program: &Program,
    code: &Compiled,
    s: usize,
    eval: impl FnOnce(&Code) -> Result<Value, EvalError>,
) -> Result<Option<DurationSpec>, EvalError> {
    match program.slas.get(s).map(|p| &p.target) {
        None => Ok(None),
        Some(SlaTarget::Fixed(d)) => Ok(Some(*d)),
        Some(SlaTarget::By { arms, .. }) => {
            let Some(field) = code.sla_target_field.get(s).and_then(Option::as_ref) else {
                return Ok(None);
            };
            Ok(match eval(field)? {
                Value::Enum(_, v) => arms.get(v as usize).copied(),
                _ => None,
            })
        }
    }
}
