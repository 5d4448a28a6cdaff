//! Decisions as values (docs/runtime.md, "Decisions"): which classify arm gives the class
//! and which route takes the case, decided by pure functions over one evaluation frame.
//!
//! `Engine::apply` (`case.rs`), the decision step (`Engine::decide`) and the witness probe
//! (`probe.rs`) all call these functions; only `apply` then commits what they return
//! (errors recorded, class and assignee changed, ledger entries written). What was tried is
//! reported to a [`Trace`]: [`NoTrace`] keeps nothing (the decision step stays
//! allocation-free, docs/performance.md), [`Tries`] keeps the losers in the order they
//! were tried and the winning route's `key` values.

use smallvec::SmallVec;

use super::Compiled;
use crate::eval::{EvalError, Frame, Pred};
use crate::ir::Program;
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
