//! The equalities a condition requires, for indexing routes and classify arms
//! (docs/runtime.md, "The route index").
//!
//! A condition *requires* `FIELD == LITERAL` when that comparison (or an `or` of such
//! comparisons on the same field) is one of its top-level conjuncts: `ticket.type ==
//! "incident" and ticket.severity <= 2` requires `ticket.type` ∈ {"incident"}. The literal
//! is an enum variant, a string or an integer; the field is `class` or a path of `.` steps
//! from a fact or event field. When the field's value is known and is not one of the
//! literals, the condition is false; when it is one of them, the conjunct is true and
//! evaluating it raises no error (these comparisons never fail on values of their own
//! type), so the rest of the conjunction, its *residual*, decides alone.

use std::sync::Arc;

use crate::eval::Frame;
use crate::ir::{BinOp, Ctx, Discriminant, Expr, Lit};
use crate::value::Value;

/// A literal an indexed equality compares with.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    /// An enum variant: (enum id, variant).
    Variant(u32, u32),
    Str(Arc<str>),
    Int(i64),
}

impl Key {
    fn of(l: &Lit) -> Option<Key> {
        match l {
            Lit::Variant(e, v) => Some(Key::Variant(*e, *v)),
            Lit::Str(s) => Some(Key::Str(Arc::from(s.as_str()))),
            Lit::Int(i) => Some(Key::Int(*i)),
            _ => None,
        }
    }

    fn same_kind(&self, other: &Key) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }

    /// Whether `v` equals this literal: `None` when `v` is not a value of the literal's
    /// kind (then nothing is known and the condition must decide).
    #[inline]
    pub(crate) fn matches(&self, v: &Value) -> Option<bool> {
        match (self, v) {
            (Key::Variant(e, x), Value::Enum(e2, x2)) if e == e2 => Some(x == x2),
            (Key::Str(s), Value::Str(s2)) => Some(**s == **s2),
            (Key::Int(i), Value::Int(i2)) => Some(i == i2),
            _ => None,
        }
    }
}

/// `disc` is one of `keys` (all of one kind), required by a condition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Required {
    pub disc: Discriminant,
    pub keys: Vec<Key>,
}

impl Required {
    /// Whether the frame's value of the field is one of the keys (`None`: not known).
    #[inline]
    pub(crate) fn holds(&self, f: &Frame<'_>) -> Option<bool> {
        let v = known(&self.disc, f)?;
        let mut any = false;
        for k in &self.keys {
            any |= k.matches(&v)?;
        }
        Some(any)
    }
}

/// The field an equality tests: `class`, or `.` steps from a slot.
fn subject(e: &Expr) -> Option<Discriminant> {
    if let Expr::Ctx(Ctx::Class) = e {
        return Some(Discriminant::Class);
    }
    let mut path = Vec::new();
    let mut cur = e;
    loop {
        match cur {
            Expr::Field(b, i) => {
                path.push(*i);
                cur = b;
            }
            Expr::Slot(s) => {
                path.reverse();
                return Some(Discriminant::Path(*s, path));
            }
            _ => return None,
        }
    }
}

/// `FIELD == LITERAL` (either way round), or an `or` of such on one field, one kind.
fn alternatives(e: &Expr) -> Option<Required> {
    match e {
        Expr::Binary(BinOp::Eq, l, r) => {
            let (s, k) = match (&**l, &**r) {
                (s, Expr::Lit(lit)) | (Expr::Lit(lit), s) => (s, Key::of(lit)?),
                _ => return None,
            };
            Some(Required {
                disc: subject(s)?,
                keys: vec![k],
            })
        }
        Expr::Binary(BinOp::Or, l, r) => {
            let (mut a, b) = (alternatives(l)?, alternatives(r)?);
            if a.disc != b.disc || !a.keys[0].same_kind(&b.keys[0]) {
                return None;
            }
            for k in b.keys {
                if !a.keys.contains(&k) {
                    a.keys.push(k);
                }
            }
            Some(a)
        }
        _ => None,
    }
}

/// Every equality `e` requires at its top level, left to right.
pub(crate) fn required(e: &Expr) -> Vec<Required> {
    let mut out = Vec::new();
    collect(e, &mut out);
    out
}

fn collect(e: &Expr, out: &mut Vec<Required>) {
    match e {
        Expr::Binary(BinOp::And, l, r) => {
            collect(l, out);
            collect(r, out);
        }
        _ => out.extend(alternatives(e)),
    }
}

/// The condition without its (first) conjunct that requires `req`, for when that conjunct
/// is known to hold: `Some(None)` if nothing is left (always true), `None` if there is no
/// such conjunct. Dropping a true conjunct that raises no error leaves `and`'s meaning,
/// short-circuits and errors included, as it was.
pub(crate) fn without(e: &Expr, req: &Required) -> Option<Option<Expr>> {
    match e {
        Expr::Binary(BinOp::And, l, r) => {
            if let Some(rest) = without(l, req) {
                return Some(Some(match rest {
                    None => (**r).clone(),
                    Some(x) => Expr::Binary(BinOp::And, Box::new(x), r.clone()),
                }));
            }
            let rest = without(r, req)?;
            Some(Some(match rest {
                None => (**l).clone(),
                Some(x) => Expr::Binary(BinOp::And, l.clone(), Box::new(x)),
            }))
        }
        _ if alternatives(e).as_ref() == Some(req) => Some(None),
        _ => None,
    }
}

/// For each condition, the required equality to index it by: of those it requires, the
/// one on the field most of `conds` require something of (ties: the leftmost), so that
/// one table holds most of them.
pub(crate) fn choose<'a>(conds: impl Iterator<Item = Option<&'a Expr>>) -> Vec<Option<Required>> {
    let all: Vec<Vec<Required>> = conds.map(|c| c.map(required).unwrap_or_default()).collect();
    let mut count: Vec<(&Discriminant, usize)> = Vec::new();
    for reqs in &all {
        for (i, r) in reqs.iter().enumerate() {
            // A field counts once per condition.
            if reqs[..i].iter().any(|x| x.disc == r.disc) {
                continue;
            }
            match count.iter_mut().find(|(d, _)| **d == r.disc) {
                Some((_, n)) => *n += 1,
                None => count.push((&r.disc, 1)),
            }
        }
    }
    let popularity = |d: &Discriminant| count.iter().find(|(x, _)| *x == d).map_or(0, |(_, n)| *n);
    all.iter()
        .map(|reqs| {
            let mut best: Option<&Required> = None;
            for r in reqs {
                if best.is_none_or(|b| popularity(&r.disc) > popularity(&b.disc)) {
                    best = Some(r);
                }
            }
            best.cloned()
        })
        .collect()
}

/// The value of `disc` as frame `f` sees it (the event's field shadows the fact), when it
/// is there; `None` when reading it would give an error or `none`, or is not a plain read.
#[inline]
pub(crate) fn known<'f>(
    disc: &Discriminant,
    f: &'f Frame<'f>,
) -> Option<std::borrow::Cow<'f, Value>> {
    match disc {
        Discriminant::Class => f
            .ctx
            .class
            .map(|(e, v)| std::borrow::Cow::Owned(Value::Enum(e, v))),
        Discriminant::Path(slot, path) => {
            let from_event = f.event.as_ref().and_then(|ev| {
                let i = ev.slots.iter().position(|s| s == slot)?;
                Some(ev.values.get(i))
            });
            let mut cur = match from_event {
                Some(v) => v?,
                None => f.facts.get(*slot as usize)?.as_ref()?,
            };
            for i in path {
                match cur {
                    Value::Record(items) => cur = items.get(*i as usize)?,
                    _ => return None,
                }
            }
            Some(std::borrow::Cow::Borrowed(cur))
        }
    }
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;
