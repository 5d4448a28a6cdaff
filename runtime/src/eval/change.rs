//! `previous(x)` and `changed(x)` (docs/language.md §6.4): a case fact as it was before
//! the event being applied wrote it.
//!
//! The engine moves the old values of the facts an event writes into a [`Before`] as it
//! writes the new ones (no copy, nothing kept in the case state, so snapshots do not
//! change); it lives for that one event's rules. Reading it scans the event's own fields,
//! as reading one of the event's fields does.

use super::{Code, Expr, Program, SlotId, Value, compile, slot};

/// The facts the event being applied wrote, as they were before it.
#[derive(Clone, Debug, Default)]
pub struct Before {
    /// The event (its `slots` are the facts it wrote, in order).
    pub event: u32,
    /// The old value of each of those facts (`None`: unset). Shorter than the event's
    /// slots (empty for a fresh case) means the rest were unset.
    pub old: Vec<Option<Value>>,
}

impl Before {
    /// `Some(old value)` when the event wrote fact `s` (the old value `None` when unset);
    /// `None` when it did not write it.
    fn get<'a>(&'a self, program: &Program, s: SlotId) -> Option<Option<&'a Value>> {
        let slots = &program.events.get(self.event as usize)?.slots;
        let i = slots.iter().position(|x| *x == s)?;
        Some(self.old.get(i).and_then(Option::as_ref))
    }
}

/// The fact a path of fields starts from (`ticket` in `ticket.priority`).
fn root(e: &Expr) -> Option<SlotId> {
    match e {
        Expr::Slot(s) => Some(*s),
        Expr::Field(b, _) | Expr::OptField(b, _) => root(b),
        _ => None,
    }
}

/// A path read with every unset fact and every field of `none` as `none` (never an
/// error); with `old`, the fact is read as it was before the event.
fn path(e: &Expr, program: &Program, old: bool) -> Code {
    match e {
        Expr::Slot(s) => {
            let (s, now) = (*s, slot(*s, program, true));
            if !old {
                return now;
            }
            Box::new(move |f| {
                match f.ctx.before.and_then(|b| b.get(&f.env.program, s)) {
                    Some(v) => Ok(v.cloned().unwrap_or(Value::None)),
                    // Not written by this event: its value before is its value now.
                    None => now(f),
                }
            })
        }
        Expr::Field(b, i) | Expr::OptField(b, i) => {
            let (b, i) = (path(b, program, old), *i as usize);
            Box::new(move |f| match b(f)? {
                Value::Record(items) => Ok(items.get(i).cloned().unwrap_or(Value::None)),
                _ => Ok(Value::None),
            })
        }
        _ => compile(e, program),
    }
}

/// `previous(x)`.
pub(super) fn previous(e: &Expr, program: &Program) -> Code {
    path(e, program, true)
}

/// `changed(x)`: the event wrote the fact and the path's value differs from before. Two
/// amounts in different currencies differ (no currency error: a new currency is a change).
pub(super) fn changed(e: &Expr, program: &Program) -> Code {
    let (old, now) = (path(e, program, true), path(e, program, false));
    let Some(s) = root(e) else {
        return Box::new(|_| Ok(Value::Bool(false)));
    };
    Box::new(move |f| {
        let written = f
            .ctx
            .before
            .is_some_and(|b| b.get(&f.env.program, s).is_some());
        Ok(Value::Bool(written && old(f)? != now(f)?))
    })
}
