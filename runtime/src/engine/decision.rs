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
use super::index::{Cand, How};
use super::keys::Required;
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
    /// Whether every classify arm tried before the winner must be reported (the ledger's
    /// `lost` lists them all): then the arms are tried in order, none passed over by the
    /// classify index.
    const EVERY_ARM: bool;
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
    const EVERY_ARM: bool = false;
    #[inline]
    fn lost(&mut self, _: u32, _: Lost) {}
    #[inline]
    fn key(&mut self, _: Value) {}
    #[inline]
    fn clear_keys(&mut self) {}
}

/// Keeps nothing, but has every classify arm tried in order (the reference path of
/// `Engine::decide_unindexed`).
pub(crate) struct EveryArm;

impl Trace for EveryArm {
    const EVERY_ARM: bool = true;
    fn lost(&mut self, _: u32, _: Lost) {}
    fn key(&mut self, _: Value) {}
    fn clear_keys(&mut self) {}
}

/// What was tried before the winner, and the winning route's `key` values.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Tries {
    pub lost: SmallVec<[Tried; 4]>,
    pub keys: Vec<Value>,
}

impl Trace for Tries {
    const EVERY_ARM: bool = true;
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
    let pick = |i: usize| {
        cl.arms.get(i).map(|(variant, _)| ClassPick {
            variant: *variant,
            arm: Some(i),
        })
    };
    if !T::EVERY_ARM {
        // The classify index: the arms that can hold, in order (`index.rs`).
        for c in code.classify_dispatch.candidates(f) {
            let i = c.at as usize;
            let pred = match condition(
                &code.classify,
                &code.classify_residual,
                &code.classify_req,
                *c,
                f,
            ) {
                Decide::Skip => continue,
                Decide::Always => return pick(i),
                Decide::By(p) => p,
            };
            match pred(f) {
                Ok(true) => return pick(i),
                Ok(false) => trace.lost(c.at, Lost::False),
                Err(error) => trace.lost(
                    c.at,
                    Lost::Error {
                        part: "when",
                        error,
                    },
                ),
            }
        }
    } else {
        for (i, pred) in code.classify.iter().enumerate() {
            match pred(f) {
                Ok(true) => {
                    if let Some(p) = pick(i) {
                        return Some(p);
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
    }
    Some(ClassPick {
        variant: cl.otherwise,
        arm: None,
    })
}

/// The first of `candidates[from..]` (routes best first, from the route index) that takes
/// the case, decided on frame `f`: its condition holds (its residual when its key is known
/// to hold, see `index.rs`) and its `key` evaluates. Returns its position in `candidates`.
pub(crate) fn route<T: Trace>(
    code: &Compiled,
    candidates: &[Cand],
    from: usize,
    f: &Frame<'_>,
    trace: &mut T,
) -> Option<usize> {
    'candidates: for (i, c) in candidates.iter().enumerate().skip(from) {
        let r = c.at;
        match condition(
            &code.route_cond,
            &code.route_residual,
            &code.route_req,
            *c,
            f,
        ) {
            Decide::Skip => continue,
            Decide::Always => {}
            Decide::By(pred) => match pred(f) {
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
            },
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

/// How a candidate is decided on a frame.
pub(crate) enum Decide<'a> {
    /// Its key is known not to hold: it is not tried (and not reported).
    Skip,
    /// Nothing left to test: it holds.
    Always,
    By(&'a Pred),
}

/// How candidate `c` (a route or an arm; `full`, `residual` and `req` are indexed by its
/// id) is decided on `f`: by its residual when its key is known to hold, by its whole
/// condition when that is not known.
#[inline]
pub(crate) fn condition<'a, C: AsPred>(
    full: &'a [C],
    residual: &'a [Option<Pred>],
    req: &[Option<Required>],
    c: Cand,
    f: &Frame<'_>,
) -> Decide<'a> {
    let at = c.at as usize;
    let known = match c.how {
        How::Full => false,
        How::Residual => true,
        How::Guarded => match req
            .get(at)
            .and_then(Option::as_ref)
            .and_then(|r| r.holds(f))
        {
            Some(false) => return Decide::Skip,
            Some(true) => true,
            None => false,
        },
    };
    let pred = if known {
        residual.get(at).and_then(Option::as_ref)
    } else {
        full.get(at).and_then(AsPred::as_pred)
    };
    pred.map_or(Decide::Always, Decide::By)
}

/// A condition that may be absent (a route's) or not (an arm's).
pub(crate) trait AsPred {
    fn as_pred(&self) -> Option<&Pred>;
}

impl AsPred for Pred {
    fn as_pred(&self) -> Option<&Pred> {
        Some(self)
    }
}

impl AsPred for Option<Pred> {
    fn as_pred(&self) -> Option<&Pred> {
        self.as_ref()
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
/// its condition on the case's frame with them. `automation` is the automation issuing
/// the call: a gate scoped to automations by name (`on automation NAME`) covers only
/// theirs (`None`, a query about no particular run: none of them).
pub(crate) fn gates(
    program: &Program,
    code: &Compiled,
    action: u32,
    automation: Option<u32>,
    args: &[Value],
    mut eval: impl FnMut(&Code, &[Value]) -> Result<Value, EvalError>,
) -> Vec<(u32, GateCall)> {
    let Some(params) = program.actions.get(action as usize).map(|a| &a.params) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (g, gate) in program.gates.iter().enumerate() {
        let scoped = automation.is_some_and(|a| gate.automations.contains(&a));
        if !(gate.actions.contains(&action) || gate.all_automation_actions || scoped) {
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
