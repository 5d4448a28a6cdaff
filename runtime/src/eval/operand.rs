//! Comparisons that read their operands in place.
//!
//! Most rule conditions compare a field of an event or fact with a literal
//! (`ticket.queue == Q7`, `ticket.tags contains "refund"`, `amount > 100 USD`). Compiled the
//! general way, each operand is a closure returning an owned [`Value`], so reading
//! `ticket.tags` clones the record and then the list (reference counts, and a drop after).
//! Here such an operand is a *place* — a slot and a path of field indices — resolved to a
//! reference into the case or event, and a literal is converted once at load time; the
//! comparison then borrows both. The meaning is the general path's, step for step: the
//! event's field shadows the fact, an unset optional fact is `none`, an unset required one
//! is an error, `.` on `none` is an error and `?.` gives `none` (the tests in `eval_tests`
//! compare both paths).

use crate::ir::{BinOp, Expr, Program, WireTy};
use crate::value::Value;

use super::{EvalError, Frame, Pred, compare, equals, lit};

static NONE: Value = Value::None;

/// A slot followed by field accesses (`?.` steps are optional).
#[derive(Clone)]
struct Place {
    slot: u32,
    optional: bool,
    name: std::sync::Arc<str>,
    path: Vec<(u32, bool)>,
}

enum Operand {
    Place(Place),
    Value(Value),
    Const(u32),
}

impl Place {
    fn of(e: &Expr, program: &Program) -> Option<Place> {
        match e {
            Expr::Slot(s) => {
                let def = program.slots.get(*s as usize)?;
                Some(Place {
                    slot: *s,
                    optional: matches!(def.ty, WireTy::Optional(_)),
                    name: std::sync::Arc::from(def.name.as_str()),
                    path: Vec::new(),
                })
            }
            Expr::Field(b, i) | Expr::OptField(b, i) => {
                let mut p = Place::of(b, program)?;
                let optional = matches!(e, Expr::OptField(..));
                // `fact?.field` on an unset fact reads none (docs/language.md §6.1).
                if optional && p.path.is_empty() {
                    p.optional = true;
                }
                p.path.push((*i, optional));
                Some(p)
            }
            _ => None,
        }
    }

    /// The value when it is there (the common case), `None` when [`get`](Self::get) must
    /// say why not (or give `none`): a single register to return, no error to build.
    #[inline]
    fn peek<'r>(&self, f: &'r Frame<'r>) -> Option<&'r Value> {
        let mut cur = match f.event.as_ref().and_then(|ev| {
            let i = ev.slots.iter().position(|x| *x == self.slot)?;
            Some(ev.values.get(i))
        }) {
            Some(v) => v?,
            None => f.facts.get(self.slot as usize)?.as_ref()?,
        };
        for (i, _) in &self.path {
            match cur {
                Value::Record(items) => cur = items.get(*i as usize)?,
                _ => return None,
            }
        }
        Some(cur)
    }

    fn get<'r>(&self, f: &'r Frame<'r>) -> Result<&'r Value, EvalError> {
        let from_event = f.event.as_ref().and_then(|ev| {
            let i = ev.slots.iter().position(|x| *x == self.slot)?;
            Some(ev.values.get(i).unwrap_or(&NONE))
        });
        let mut cur = match from_event {
            Some(v) => v,
            None => match f.facts.get(self.slot as usize) {
                Some(Some(v)) => v,
                _ if self.optional => &NONE,
                _ => return Err(EvalError::UnsetFact(self.name.clone())),
            },
        };
        for (i, optional) in &self.path {
            cur = match cur {
                Value::Record(items) if *optional => items.get(*i as usize).unwrap_or(&NONE),
                Value::Record(items) => items
                    .get(*i as usize)
                    .ok_or_else(|| EvalError::ty("field out of range"))?,
                _ if *optional => &NONE,
                Value::None => return Err(EvalError::NoneUnwrapped),
                other => return Err(EvalError::ty(format!("field of {other:?}"))),
            };
        }
        Ok(cur)
    }
}

impl Operand {
    fn of(e: &Expr, program: &Program) -> Option<Operand> {
        match e {
            Expr::Lit(l) => Some(Operand::Value(lit(l))),
            Expr::Const(i) => Some(Operand::Const(*i)),
            Expr::List(items) => {
                let values: Option<Vec<Value>> = items
                    .iter()
                    .map(|i| match i {
                        Expr::Lit(l) => Some(lit(l)),
                        _ => None,
                    })
                    .collect();
                Some(Operand::Value(Value::List(values?.into())))
            }
            _ => Place::of(e, program).map(Operand::Place),
        }
    }

    fn get<'r>(&'r self, f: &'r Frame<'r>) -> Result<&'r Value, EvalError> {
        match self {
            Operand::Place(p) => p.get(f),
            Operand::Value(v) => Ok(v),
            Operand::Const(i) => Ok(f.env.consts.get(*i as usize).unwrap_or(&NONE)),
        }
    }
}

/// A comparison whose operands are both places, literals or constants (and not both
/// literals: the checker folds nothing, but such a condition is rare and cheap anyway),
/// compiled to borrow them. `None` when the general path must handle it.
pub(super) fn compile(op: BinOp, l: &Expr, r: &Expr, program: &Program) -> Option<Pred> {
    let borrowable = matches!(
        op,
        BinOp::Eq
            | BinOp::Ne
            | BinOp::Lt
            | BinOp::Le
            | BinOp::Gt
            | BinOp::Ge
            | BinOp::In
            | BinOp::Contains
            | BinOp::StartsWith
    );
    if !borrowable {
        return None;
    }
    let (mut a, mut b) = (Operand::of(l, program)?, Operand::of(r, program)?);
    if !matches!(a, Operand::Place(_)) && !matches!(b, Operand::Place(_)) {
        return None;
    }
    // `fact == none` / `fact != none` asks whether the fact is set: an unset fact reads
    // none there, whatever its type (docs/language.md §6.1).
    if matches!(op, BinOp::Eq | BinOp::Ne) {
        let (a_none, b_none) = (
            matches!(b, Operand::Value(Value::None)),
            matches!(a, Operand::Value(Value::None)),
        );
        for (x, with_none) in [(&mut a, a_none), (&mut b, b_none)] {
            if with_none
                && let Operand::Place(p) = x
                && p.path.is_empty()
            {
                p.optional = true;
            }
        }
    }
    // The commonest conditions of all, `field == Variant` / `field != Variant` and
    // `list_field contains "literal"`: one place read and one integer or string compare.
    // Any other value falls back to the general comparison (same meaning, same errors).
    // `literal == place` errs as written: the literal is the left operand of an error's
    // message (a currency mismatch names the left currency first).
    let swapped = matches!((&a, &b), (Operand::Value(_), Operand::Place(_)));
    let (a, b) = match (op, a, b) {
        (BinOp::Eq | BinOp::Ne, Operand::Value(v), Operand::Place(p))
        | (BinOp::Eq | BinOp::Ne, Operand::Place(p), Operand::Value(v)) => {
            if let Value::Enum(e, x) = v {
                let eq = matches!(op, BinOp::Eq);
                return Some(Box::new(move |f| match p.peek(f) {
                    Some(Value::Enum(e2, x2)) => Ok((*e2 == e && *x2 == x) == eq),
                    _ => {
                        let (place, lit) = (p.get(f)?, &Value::Enum(e, x));
                        let same = if swapped {
                            equals(lit, place)?
                        } else {
                            equals(place, lit)?
                        };
                        Ok(same == eq)
                    }
                }));
            }
            if let Some(fast) = ordered(op, &p, &v, swapped) {
                return Some(fast);
            }
            if swapped {
                (Operand::Value(v), Operand::Place(p))
            } else {
                (Operand::Place(p), Operand::Value(v))
            }
        }
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, Operand::Place(p), Operand::Value(v)) => {
            if let Some(fast) = ordered(op, &p, &v, false) {
                return Some(fast);
            }
            (Operand::Place(p), Operand::Value(v))
        }
        (BinOp::Contains, Operand::Place(p), Operand::Value(Value::Str(x))) => {
            return Some(Box::new(move |f| {
                match p.peek(f).map_or_else(|| p.get(f), Ok)? {
                    Value::List(items) => Ok(items
                        .iter()
                        .any(|i| matches!(i, Value::Str(s) if **s == *x))),
                    Value::Str(s) => Ok(s.contains(&*x)),
                    Value::None => Err(EvalError::NoneUnwrapped),
                    a => Err(EvalError::ty(format!("`contains` on {a:?}"))),
                }
            }));
        }
        (_, a, b) => (a, b),
    };
    Some(match op {
        BinOp::Eq => Box::new(move |f| equals(a.get(f)?, b.get(f)?)),
        BinOp::Ne => Box::new(move |f| Ok(!equals(a.get(f)?, b.get(f)?)?)),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Box::new(move |f| {
            let o = compare(a.get(f)?, b.get(f)?)?;
            Ok(match op {
                BinOp::Lt => o.is_lt(),
                BinOp::Le => o.is_le(),
                BinOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            })
        }),
        BinOp::In => Box::new(move |f| {
            let x = a.get(f)?;
            match b.get(f)? {
                Value::List(items) => Ok(items.iter().any(|i| i == x)),
                Value::None => Ok(false),
                other => Err(EvalError::ty(format!("`in` on {other:?}"))),
            }
        }),
        BinOp::Contains => Box::new(move |f| match (a.get(f)?, b.get(f)?) {
            (Value::List(items), x) => Ok(items.iter().any(|i| i == x)),
            (Value::Str(s), Value::Str(x)) => Ok(s.contains(&**x)),
            (Value::None, _) => Err(EvalError::NoneUnwrapped),
            (a, _) => Err(EvalError::ty(format!("`contains` on {a:?}"))),
        }),
        _ => Box::new(move |f| match (a.get(f)?, b.get(f)?) {
            (Value::Str(s), Value::Str(x)) => Ok(s.starts_with(&**x)),
            (Value::None, _) | (_, Value::None) => Err(EvalError::NoneUnwrapped),
            (a, _) => Err(EvalError::ty(format!("`starts_with` on {a:?}"))),
        }),
    })
}

/// `place OP literal` for an integer, string, money, percent or decimal literal (`ticket.type
/// == "incident"`, `ticket.severity <= 2`, `ticket.amount >= 500 USD`): one place read and
/// one comparison of two values of the literal's kind; any other value (none, unset, another
/// currency, another kind) takes the general comparison, with its meaning and errors.
/// `swapped`: the literal is written first (`"incident" == ticket.type`; only for `==` and
/// `!=`, which are symmetric but for the order their errors name the operands in).
fn ordered(op: BinOp, p: &Place, v: &Value, swapped: bool) -> Option<Pred> {
    if !matches!(
        v,
        Value::Int(_) | Value::Str(_) | Value::Money(..) | Value::Percent(_) | Value::Decimal(_)
    ) {
        return None;
    }
    let test: fn(std::cmp::Ordering) -> bool = match op {
        BinOp::Eq => std::cmp::Ordering::is_eq,
        BinOp::Ne => std::cmp::Ordering::is_ne,
        BinOp::Lt => std::cmp::Ordering::is_lt,
        BinOp::Le => std::cmp::Ordering::is_le,
        BinOp::Gt => std::cmp::Ordering::is_gt,
        BinOp::Ge => std::cmp::Ordering::is_ge,
        _ => return None,
    };
    let (p, v) = (p.clone(), v.clone());
    Some(Box::new(move |f| {
        let o = match (p.peek(f), &v) {
            (Some(Value::Int(a)), Value::Int(b)) => a.cmp(b),
            (Some(Value::Str(a)), Value::Str(b)) => (**a).cmp(&**b),
            (Some(Value::Money(a, c1)), Value::Money(b, c2)) if c1 == c2 => a.cmp(b),
            (Some(Value::Percent(a)), Value::Percent(b))
            | (Some(Value::Decimal(a)), Value::Decimal(b)) => a.cmp(b),
            _ => {
                let x = p.get(f)?;
                let same = |x: &Value| {
                    if swapped {
                        equals(&v, x)
                    } else {
                        equals(x, &v)
                    }
                };
                return Ok(match op {
                    BinOp::Eq => same(x)?,
                    BinOp::Ne => !same(x)?,
                    _ => test(compare(x, &v)?),
                });
            }
        };
        Ok(test(o))
    }))
}

#[cfg(test)]
#[path = "operand_tests.rs"]
mod tests;
