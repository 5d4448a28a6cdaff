//! Expressions compiled to closures, once, when a bundle is loaded.
//!
//! Each IR node becomes a boxed closure over its compiled children; names are already
//! slots, parameters or constant indices, regular expressions are compiled here, and
//! literals are converted here, so evaluation does no lookups by name and no parsing.
//! Evaluation errors (a `none` unwrapped, a currency mismatch, an unset fact) are values of
//! [`EvalError`], never panics (§6.7).

use std::fmt;
use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;

use crate::ir::{BinOp, BuiltinFn, Ctx, Expr, Lit, Program, SlotId, WireTy};
use crate::value::Value;

pub mod aggregate;
mod change;
mod operand;
mod quant;
mod table;
pub use aggregate::AggState;
pub use change::Before;
pub use quant::Bound;
pub use table::TableIndex;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    NoneUnwrapped,
    /// The two currency codes.
    CurrencyMismatch([u8; 3], [u8; 3]),
    /// The fact's name (shared: raising the error allocates nothing).
    UnsetFact(Arc<str>),
    DivideByZero,
    Overflow,
    /// A value of an unexpected shape (the checker rules this out for checked programs).
    Type(Box<str>),
    /// `convert` given a rate or a target currency it cannot use (docs/language.md §4.4).
    Conversion(Box<str>),
}

impl EvalError {
    /// A value of an unexpected shape, described. (Errors stay small: results of every
    /// evaluation step carry this type.)
    pub fn ty(message: impl Into<Box<str>>) -> EvalError {
        EvalError::Type(message.into())
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::NoneUnwrapped => f.write_str("`!` on a value that is none"),
            EvalError::CurrencyMismatch(a, b) => write!(
                f,
                "currency mismatch: {} and {}",
                crate::value::currency_str(a),
                crate::value::currency_str(b)
            ),
            EvalError::UnsetFact(n) => write!(f, "case fact `{n}` has no value yet"),
            EvalError::DivideByZero => f.write_str("division by zero"),
            EvalError::Overflow => f.write_str("arithmetic overflow"),
            EvalError::Type(m) => write!(f, "unexpected value: {m}"),
            EvalError::Conversion(m) => write!(f, "cannot convert: {m}"),
        }
    }
}

pub type R = Result<Value, EvalError>;
pub type Code = Box<dyn Fn(&Frame<'_>) -> R + Send + Sync>;
/// A compiled condition: the same meaning as its [`Code`] followed by [`truthy`], without
/// wrapping each intermediate boolean in a [`Value`].
pub type Pred = Box<dyn Fn(&Frame<'_>) -> Result<bool, EvalError> + Send + Sync>;

/// What `event`, `case`, `class`, `assignee` and `now` refer to in one evaluation. Borrowed
/// and converted to values only when an expression reads them (no allocation otherwise).
#[derive(Clone, Debug, Default)]
pub struct CtxVals<'a> {
    pub event_id: Option<&'a str>,
    pub event_at: Option<Timestamp>,
    pub event_type: Option<&'a str>,
    pub case_id: Option<&'a str>,
    pub opened_at: Option<Timestamp>,
    pub class: Option<(u32, u32)>,
    pub assignee: Who<'a>,
    pub now: Option<Timestamp>,
    /// The facts the event being applied wrote, as they were before it (`previous`,
    /// `changed`); `None` outside that event's rules.
    pub before: Option<&'a Before>,
    /// The elements bound by the quantifiers being evaluated, innermost first (`all`,
    /// `any`).
    pub bound: Option<&'a Bound<'a>>,
}

impl CtxVals<'_> {
    fn value(&self, c: Ctx) -> Value {
        let time = |t: Option<Timestamp>| t.map_or(Value::None, Value::Time);
        let s = |x: Option<&str>| x.map_or(Value::None, Value::str);
        match c {
            Ctx::Event => Value::Record(
                vec![s(self.event_id), time(self.event_at), s(self.event_type)].into(),
            ),
            Ctx::EventId => s(self.event_id),
            Ctx::EventAt => time(self.event_at),
            Ctx::EventType => s(self.event_type),
            Ctx::Case => Value::Record(vec![s(self.case_id), time(self.opened_at)].into()),
            Ctx::CaseId => s(self.case_id),
            Ctx::CaseOpenedAt => time(self.opened_at),
            Ctx::Class => self.class.map_or(Value::None, |(e, v)| Value::Enum(e, v)),
            Ctx::Assignee => match self.assignee {
                Who::Nobody => Value::None,
                Who::Team(t) => Value::Team(t),
                Who::Person(p) => Value::Person(p.clone()),
            },
            Ctx::Now => time(self.now),
        }
    }
}

/// A case's assignee as rules see it, borrowed.
#[derive(Clone, Copy, Debug, Default)]
pub enum Who<'a> {
    #[default]
    Nobody,
    Team(u32),
    Person(&'a Arc<str>),
}

/// The triggering event's fields by slot.
#[derive(Clone, Copy)]
pub struct EventView<'a> {
    pub slots: &'a [SlotId],
    pub values: &'a [Value],
}

pub struct Frame<'a> {
    pub facts: &'a [Option<Value>],
    pub event: Option<EventView<'a>>,
    pub params: &'a [Value],
    pub ctx: &'a CtxVals<'a>,
    pub env: &'a Env,
}

/// Everything compiled code may refer to.
pub struct Env {
    pub program: Arc<Program>,
    pub consts: Vec<Value>,
    pub functions: Vec<Code>,
    pub zones: Vec<jiff::tz::TimeZone>,
    /// The program's reference tables, indexed by key (by `TableId`).
    pub tables: Vec<TableIndex>,
    /// The aggregates' live state (by `AggId`): engine state, kept here so that rules read
    /// it like the tables (docs/runtime.md, "Aggregates").
    pub aggregates: Vec<AggState>,
}

/// Convert a literal.
pub fn lit(l: &Lit) -> Value {
    match l {
        Lit::None => Value::None,
        Lit::Bool(b) => Value::Bool(*b),
        Lit::Int(i) => Value::Int(*i),
        Lit::Decimal(d) => d.parse().map(Value::Decimal).unwrap_or(Value::None),
        Lit::Money { amount, currency } => {
            let c = currency.as_bytes();
            match (amount.parse::<Decimal>(), c.len()) {
                (Ok(a), 3) => Value::Money(a, [c[0], c[1], c[2]]),
                _ => Value::None,
            }
        }
        Lit::Percent(p) => p.parse().map(Value::Percent).unwrap_or(Value::None),
        Lit::Duration(s) => Value::Duration(*s),
        Lit::Business(n, u) => Value::Business(*n, *u),
        Lit::Date { year, month, day } => jiff::civil::Date::new(*year, *month, *day)
            .map(Value::Date)
            .unwrap_or(Value::None),
        Lit::TimeOfDay(m) => Value::TimeOfDay(*m),
        Lit::Time(t) => t
            .parse::<Timestamp>()
            .map(Value::Time)
            .unwrap_or(Value::None),
        Lit::Str(s) => Value::str(s),
        Lit::Person(s) => Value::person(s),
        Lit::Variant(e, v) => Value::Enum(*e, *v),
        Lit::Team(t) => Value::Team(*t),
        Lit::Calendar(c) => Value::Calendar(*c),
    }
}

/// A case fact's value, by slot: the triggering event's field if it has one, else the fact.
/// An unset fact is an evaluation error, unless its type is optional or `maybe_unset` says
/// the read is one that asks whether it is set (docs/language.md §6.1: the base of `?.`,
/// the left of `??`, a side of `== none` / `!= none`); then it reads `none`.
fn slot(s: SlotId, program: &Program, maybe_unset: bool) -> Code {
    let def = &program.slots[s as usize];
    let optional = maybe_unset || matches!(def.ty, WireTy::Optional(_));
    let name: Arc<str> = Arc::from(def.name.as_str());
    Box::new(move |f| {
        if let Some(ev) = &f.event
            && let Some(i) = ev.slots.iter().position(|x| *x == s)
        {
            return Ok(ev.values.get(i).cloned().unwrap_or(Value::None));
        }
        match f.facts.get(s as usize) {
            Some(Some(v)) => Ok(v.clone()),
            _ if optional => Ok(Value::None),
            _ => Err(EvalError::UnsetFact(name.clone())),
        }
    })
}

/// [`compile`], except that a bare fact read where `maybe_unset` reads `none` when unset.
fn compile_read(e: &Expr, program: &Program, maybe_unset: bool) -> Code {
    match e {
        Expr::Slot(s) if maybe_unset => slot(*s, program, true),
        _ => compile(e, program),
    }
}

/// [`compile`], except that a fact read along a path of fields (`ticket.legal_name`) reads
/// `none` when the fact is unset, and a field of none is none (`x is set`,
/// docs/language.md §6.1).
fn compile_unset_as_none(e: &Expr, program: &Program) -> Code {
    match e {
        Expr::Slot(s) => slot(*s, program, true),
        Expr::Field(b, i) | Expr::OptField(b, i) => {
            let (b, i) = (compile_unset_as_none(b, program), *i as usize);
            Box::new(move |f| match b(f)? {
                Value::Record(items) => Ok(items.get(i).cloned().unwrap_or(Value::None)),
                _ => Ok(Value::None),
            })
        }
        _ => compile(e, program),
    }
}

/// A binary operator on the general path (the in-place comparisons of `operand.rs` must
/// mean the same). `??` and `== none` / `!= none` read a bare unset fact as `none`.
fn general_binary(op: BinOp, l: &Expr, r: &Expr, program: &Program) -> Code {
    let none = |e: &Expr| matches!(e, Expr::Lit(Lit::None));
    let eq = matches!(op, BinOp::Eq | BinOp::Ne);
    let l_maybe = op == BinOp::Coalesce || (eq && none(r));
    binary(
        op,
        compile_read(l, program, l_maybe),
        compile_read(r, program, eq && none(l)),
    )
}

/// Compile an expression. `program` gives slot names and optionality.
pub fn compile(e: &Expr, program: &Program) -> Code {
    match e {
        Expr::Lit(l) => {
            let v = lit(l);
            Box::new(move |_| Ok(v.clone()))
        }
        Expr::Slot(s) => slot(*s, program, false),
        Expr::Param(i) => {
            let i = *i as usize;
            Box::new(move |f| Ok(f.params.get(i).cloned().unwrap_or(Value::None)))
        }
        Expr::Const(i) => {
            let i = *i as usize;
            Box::new(move |f| Ok(f.env.consts.get(i).cloned().unwrap_or(Value::None)))
        }
        Expr::Ctx(c) => {
            let c = *c;
            Box::new(move |f| Ok(f.ctx.value(c)))
        }
        Expr::Field(b, i) => {
            let (b, i) = (compile(b, program), *i as usize);
            Box::new(move |f| match b(f)? {
                Value::Record(items) => items
                    .get(i)
                    .cloned()
                    .ok_or_else(|| EvalError::ty("field out of range")),
                Value::None => Err(EvalError::NoneUnwrapped),
                other => Err(EvalError::ty(format!("field of {other:?}"))),
            })
        }
        Expr::OptField(b, i) => {
            let (b, i) = (compile_read(b, program, true), *i as usize);
            Box::new(move |f| match b(f)? {
                Value::Record(items) => Ok(items.get(i).cloned().unwrap_or(Value::None)),
                _ => Ok(Value::None),
            })
        }
        Expr::Unwrap(b) => {
            let b = compile(b, program);
            Box::new(move |f| match b(f)? {
                Value::None => Err(EvalError::NoneUnwrapped),
                v => Ok(v),
            })
        }
        Expr::Not(b) => {
            let b = compile(b, program);
            Box::new(move |f| Ok(Value::Bool(!truthy(&b(f)?)?)))
        }
        Expr::Neg(b) => {
            let b = compile(b, program);
            Box::new(move |f| match b(f)? {
                Value::Int(i) => i.checked_neg().map(Value::Int).ok_or(EvalError::Overflow),
                Value::Decimal(d) => Ok(Value::Decimal(-d)),
                Value::Money(a, c) => Ok(Value::Money(-a, c)),
                Value::Percent(p) => Ok(Value::Percent(-p)),
                Value::Duration(s) => Ok(Value::Duration(-s)),
                other => Err(EvalError::ty(format!("negate {other:?}"))),
            })
        }
        Expr::Binary(op, l, r) => match operand::compile(*op, l, r, program) {
            Some(p) => Box::new(move |f| p(f).map(Value::Bool)),
            None => general_binary(*op, l, r, program),
        },
        Expr::Matches(b, pattern) => {
            let b = compile(b, program);
            let re = regex::Regex::new(pattern).ok();
            Box::new(move |f| match (b(f)?, &re) {
                (Value::Str(s), Some(re)) => Ok(Value::Bool(re.is_match(&s))),
                (Value::None, _) => Ok(Value::Bool(false)),
                (_, None) => Err(EvalError::ty("invalid pattern")),
                (other, _) => Err(EvalError::ty(format!("matches on {other:?}"))),
            })
        }
        Expr::Call(fid, args) => {
            let fid = *fid as usize;
            let args: Vec<Code> = args.iter().map(|a| compile(a, program)).collect();
            Box::new(move |f| {
                let mut vals = Vec::with_capacity(args.len());
                for a in &args {
                    vals.push(a(f)?);
                }
                let func = f
                    .env
                    .functions
                    .get(fid)
                    .ok_or_else(|| EvalError::ty("unknown function"))?;
                let frame = Frame {
                    facts: &[],
                    event: None,
                    params: &vals,
                    ctx: f.ctx,
                    env: f.env,
                };
                func(&frame)
            })
        }
        Expr::Builtin(bf, args) => builtin(*bf, args.iter().map(|a| compile(a, program)).collect()),
        Expr::If(c, t, e) => {
            let (c, t, e) = (
                compile(c, program),
                compile(t, program),
                compile(e, program),
            );
            Box::new(move |f| if truthy(&c(f)?)? { t(f) } else { e(f) })
        }
        Expr::Match {
            scrutinee,
            arms,
            default,
        } => {
            let s = compile(scrutinee, program);
            let arms: Vec<(Vec<u32>, Code)> = arms
                .iter()
                .map(|(vs, e)| (vs.clone(), compile(e, program)))
                .collect();
            let default = default.as_ref().map(|d| compile(d, program));
            Box::new(move |f| {
                let v = s(f)?;
                let Value::Enum(_, variant) = v else {
                    return if v.is_none() {
                        Err(EvalError::NoneUnwrapped)
                    } else {
                        Err(EvalError::ty(format!("match on {v:?}")))
                    };
                };
                for (vs, code) in &arms {
                    if vs.contains(&variant) {
                        return code(f);
                    }
                }
                match &default {
                    Some(d) => d(f),
                    None => Err(EvalError::ty("no match arm")),
                }
            })
        }
        Expr::List(items) => {
            let items: Vec<Code> = items.iter().map(|i| compile(i, program)).collect();
            Box::new(move |f| {
                let mut out = Vec::with_capacity(items.len());
                for i in &items {
                    out.push(i(f)?);
                }
                Ok(Value::List(out.into()))
            })
        }
        Expr::Record { base, fields } => {
            let base = base.as_ref().map(|b| compile(b, program));
            let fields: Vec<Option<Code>> = fields
                .iter()
                .map(|x| x.as_ref().map(|e| compile(e, program)))
                .collect();
            Box::new(move |f| {
                let base_vals = match &base {
                    Some(b) => match b(f)? {
                        Value::Record(items) => Some(items),
                        _ => None,
                    },
                    None => None,
                };
                let mut out = Vec::with_capacity(fields.len());
                for (i, x) in fields.iter().enumerate() {
                    out.push(match x {
                        Some(code) => code(f)?,
                        None => base_vals
                            .as_ref()
                            .and_then(|b| b.get(i).cloned())
                            .unwrap_or(Value::None),
                    });
                }
                Ok(Value::Record(out.into()))
            })
        }
        Expr::IsSet(b) => {
            let b = compile_unset_as_none(b, program);
            Box::new(move |f| Ok(Value::Bool(!b(f)?.is_none())))
        }
        Expr::Previous(b) => change::previous(b, program),
        Expr::Changed(b) => change::changed(b, program),
        Expr::Quant { all, list, body } => quant::quant(*all, list, body, program),
        Expr::Elem(i) => quant::elem(*i),
        Expr::Lookup(t, k) => {
            let (t, k) = (*t as usize, compile_read(k, program, true));
            Box::new(move |f| {
                let key = k(f)?;
                Ok(f.env.tables.get(t).map_or(Value::None, |ix| ix.get(&key)))
            })
        }
        Expr::Aggregate(a, k) => {
            let (a, k) = (*a as usize, compile_read(k, program, true));
            Box::new(move |f| {
                let key = k(f)?;
                let now = f.ctx.now.or(f.ctx.event_at);
                match f.env.aggregates.get(a) {
                    Some(s) => s.get(&key, now),
                    None => Ok(Value::None),
                }
            })
        }
    }
}

/// Compile a condition (a boolean expression). `and`, `or` and `not` short-circuit and
/// report errors exactly as the general path does; comparisons read operands in place.
pub fn compile_pred(e: &Expr, program: &Program) -> Pred {
    match e {
        Expr::Not(b) => {
            let b = compile_pred(b, program);
            Box::new(move |f| Ok(!b(f)?))
        }
        Expr::Binary(BinOp::And, l, r) => {
            let (l, r) = (compile_pred(l, program), compile_pred(r, program));
            Box::new(move |f| Ok(l(f)? && r(f)?))
        }
        Expr::Binary(BinOp::Or, l, r) => {
            let (l, r) = (compile_pred(l, program), compile_pred(r, program));
            Box::new(move |f| Ok(l(f)? || r(f)?))
        }
        Expr::Binary(op, l, r) => match operand::compile(*op, l, r, program) {
            Some(p) => p,
            None => general_pred(e, program),
        },
        _ => general_pred(e, program),
    }
}

fn general_pred(e: &Expr, program: &Program) -> Pred {
    let code = compile(e, program);
    Box::new(move |f| truthy(&code(f)?))
}

pub fn truthy(v: &Value) -> Result<bool, EvalError> {
    match v {
        Value::Bool(b) => Ok(*b),
        other => Err(EvalError::ty(format!(
            "expected a boolean, found {other:?}"
        ))),
    }
}

fn money_pair(a: &[u8; 3], b: &[u8; 3]) -> Result<(), EvalError> {
    if a == b {
        Ok(())
    } else {
        Err(EvalError::CurrencyMismatch(*a, *b))
    }
}

/// Equality with the language's rules (persons are stored lower case; money of two
/// currencies is an evaluation error, not "unequal").
pub fn equals(a: &Value, b: &Value) -> Result<bool, EvalError> {
    if let (Value::Money(_, c1), Value::Money(_, c2)) = (a, b) {
        money_pair(c1, c2)?;
    }
    Ok(a == b)
}

pub fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering, EvalError> {
    use Value::*;
    Ok(match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Decimal(x), Decimal(y)) | (Percent(x), Percent(y)) => x.cmp(y),
        (Money(x, c1), Money(y, c2)) => {
            money_pair(c1, c2)?;
            x.cmp(y)
        }
        (Duration(x), Duration(y)) => x.cmp(y),
        (Business(x, u1), Business(y, u2)) if u1 == u2 => x.cmp(y),
        (Date(x), Date(y)) => x.cmp(y),
        (TimeOfDay(x), TimeOfDay(y)) => x.cmp(y),
        (Time(x), Time(y)) => x.cmp(y),
        (Str(x), Str(y)) => x.cmp(y),
        (None, _) | (_, None) => return Err(EvalError::NoneUnwrapped),
        _ => return Err(EvalError::ty(format!("cannot order {a:?} and {b:?}"))),
    })
}

/// `convert(m, to, rate)`: `m`'s amount times `rate`, in currency `to`, exact (no rounding;
/// docs/language.md §4.4). A rate that is not above zero or a target that is not a currency
/// code is an evaluation error, so a gate over it holds (a missing FX row reaches here as
/// `none` and fails the same way, through `!`).
fn convert(m: Value, to: Option<&Value>, rate: Option<&Value>) -> R {
    let Value::Money(amount, _) = m else {
        return Err(EvalError::ty(format!("convert of {m:?}")));
    };
    let code = match to {
        Some(Value::Str(s)) => {
            let b = s.as_bytes();
            if b.len() != 3 || !b.iter().all(u8::is_ascii_uppercase) {
                return Err(EvalError::Conversion(
                    format!("`{s}` is not a currency code").into(),
                ));
            }
            [b[0], b[1], b[2]]
        }
        other => return Err(EvalError::ty(format!("convert to {other:?}"))),
    };
    let rate = match rate {
        Some(Value::Decimal(d)) => *d,
        Some(Value::Int(i)) => rust_decimal::Decimal::from(*i),
        Some(Value::None) | None => return Err(EvalError::NoneUnwrapped),
        Some(other) => return Err(EvalError::ty(format!("convert at {other:?}"))),
    };
    if rate <= rust_decimal::Decimal::ZERO {
        return Err(EvalError::Conversion(
            format!("the rate {rate} is not above zero").into(),
        ));
    }
    let converted = amount.checked_mul(rate).ok_or(EvalError::Overflow)?;
    Ok(Value::Money(converted, code))
}

fn arith(op: BinOp, a: Value, b: Value) -> R {
    use Value::*;
    let ov = || EvalError::Overflow;
    let dec = |x: Option<rust_decimal::Decimal>| x.ok_or(EvalError::Overflow);
    Ok(match (op, a, b) {
        (BinOp::Add, Int(x), Int(y)) => Int(x.checked_add(y).ok_or_else(ov)?),
        (BinOp::Sub, Int(x), Int(y)) => Int(x.checked_sub(y).ok_or_else(ov)?),
        (BinOp::Mul, Int(x), Int(y)) => Int(x.checked_mul(y).ok_or_else(ov)?),
        (BinOp::Div, Int(_), Int(0)) => return Err(EvalError::DivideByZero),
        (BinOp::Div, Int(x), Int(y)) => Int(x.checked_div(y).ok_or_else(ov)?),
        (BinOp::Add, Decimal(x), Decimal(y)) => Decimal(dec(x.checked_add(y))?),
        (BinOp::Sub, Decimal(x), Decimal(y)) => Decimal(dec(x.checked_sub(y))?),
        (BinOp::Mul, Decimal(x), Decimal(y)) => Decimal(dec(x.checked_mul(y))?),
        (BinOp::Div, Decimal(x), Decimal(y)) => {
            Decimal(x.checked_div(y).ok_or(EvalError::DivideByZero)?)
        }
        (BinOp::Div, Decimal(x), Int(y)) => {
            Decimal(x.checked_div(y.into()).ok_or(EvalError::DivideByZero)?)
        }
        (BinOp::Add | BinOp::Sub, Money(x, c1), Money(y, c2)) => {
            money_pair(&c1, &c2)?;
            Money(
                dec(if op == BinOp::Add {
                    x.checked_add(y)
                } else {
                    x.checked_sub(y)
                })?,
                c1,
            )
        }
        (BinOp::Mul, Money(x, c), Decimal(y)) | (BinOp::Mul, Decimal(y), Money(x, c)) => {
            Money(dec(x.checked_mul(y))?, c)
        }
        (BinOp::Mul, Money(x, c), Int(y)) | (BinOp::Mul, Int(y), Money(x, c)) => {
            Money(dec(x.checked_mul(y.into()))?, c)
        }
        (BinOp::Mul, Money(x, c), Percent(p)) | (BinOp::Mul, Percent(p), Money(x, c)) => Money(
            dec(x
                .checked_mul(p)
                .and_then(|v| v.checked_div(rust_decimal::Decimal::ONE_HUNDRED)))?,
            c,
        ),
        (BinOp::Div, Money(x, c), Decimal(y)) => {
            Money(x.checked_div(y).ok_or(EvalError::DivideByZero)?, c)
        }
        (BinOp::Div, Money(x, c), Int(y)) => {
            Money(x.checked_div(y.into()).ok_or(EvalError::DivideByZero)?, c)
        }
        (BinOp::Div, Money(x, c1), Money(y, c2)) => {
            money_pair(&c1, &c2)?;
            Decimal(x.checked_div(y).ok_or(EvalError::DivideByZero)?)
        }
        (BinOp::Add, Percent(x), Percent(y)) => Percent(dec(x.checked_add(y))?),
        (BinOp::Sub, Percent(x), Percent(y)) => Percent(dec(x.checked_sub(y))?),
        (BinOp::Mul, Percent(x), Int(y)) | (BinOp::Mul, Int(y), Percent(x)) => {
            Percent(dec(x.checked_mul(y.into()))?)
        }
        (BinOp::Mul, Percent(x), Decimal(y)) | (BinOp::Mul, Decimal(y), Percent(x)) => {
            Percent(dec(x.checked_mul(y))?)
        }
        (BinOp::Add, Duration(x), Duration(y)) => Duration(x.checked_add(y).ok_or_else(ov)?),
        (BinOp::Sub, Duration(x), Duration(y)) => Duration(x.checked_sub(y).ok_or_else(ov)?),
        (BinOp::Mul, Duration(x), Int(y)) | (BinOp::Mul, Int(y), Duration(x)) => {
            Duration(x.checked_mul(y).ok_or_else(ov)?)
        }
        (BinOp::Div, Duration(_), Int(0)) => return Err(EvalError::DivideByZero),
        (BinOp::Div, Duration(x), Int(y)) => Duration(x / y),
        (BinOp::Add | BinOp::Sub, Business(x, u1), Business(y, u2)) if u1 == u2 => Business(
            if op == BinOp::Add {
                x.checked_add(y)
            } else {
                x.checked_sub(y)
            }
            .ok_or_else(ov)?,
            u1,
        ),
        (BinOp::Add, Time(t), Duration(d)) | (BinOp::Add, Duration(d), Time(t)) => Time(
            t.checked_add(jiff::SignedDuration::from_secs(d))
                .map_err(|_| ov())?,
        ),
        (BinOp::Sub, Time(t), Duration(d)) => Time(
            t.checked_sub(jiff::SignedDuration::from_secs(d))
                .map_err(|_| ov())?,
        ),
        (BinOp::Sub, Time(a), Time(b)) => Duration(a.as_second() - b.as_second()),
        (_, None, _) | (_, _, None) => return Err(EvalError::NoneUnwrapped),
        (op, a, b) => return Err(EvalError::ty(format!("{op:?} on {a:?} and {b:?}"))),
    })
}

fn binary(op: BinOp, l: Code, r: Code) -> Code {
    match op {
        BinOp::And => Box::new(move |f| Ok(Value::Bool(truthy(&l(f)?)? && truthy(&r(f)?)?))),
        BinOp::Or => Box::new(move |f| Ok(Value::Bool(truthy(&l(f)?)? || truthy(&r(f)?)?))),
        BinOp::Coalesce => Box::new(move |f| match l(f)? {
            Value::None => r(f),
            v => Ok(v),
        }),
        BinOp::Eq => Box::new(move |f| Ok(Value::Bool(equals(&l(f)?, &r(f)?)?))),
        BinOp::Ne => Box::new(move |f| Ok(Value::Bool(!equals(&l(f)?, &r(f)?)?))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Box::new(move |f| {
            let o = compare(&l(f)?, &r(f)?)?;
            Ok(Value::Bool(match op {
                BinOp::Lt => o.is_lt(),
                BinOp::Le => o.is_le(),
                BinOp::Gt => o.is_gt(),
                _ => o.is_ge(),
            }))
        }),
        BinOp::In => Box::new(move |f| {
            let x = l(f)?;
            match r(f)? {
                Value::List(items) => Ok(Value::Bool(items.contains(&x))),
                Value::None => Ok(Value::Bool(false)),
                other => Err(EvalError::ty(format!("`in` on {other:?}"))),
            }
        }),
        BinOp::Contains => Box::new(move |f| match (l(f)?, r(f)?) {
            (Value::List(items), x) => Ok(Value::Bool(items.contains(&x))),
            (Value::Str(s), Value::Str(x)) => Ok(Value::Bool(s.contains(&*x))),
            (Value::None, _) => Err(EvalError::NoneUnwrapped),
            (a, _) => Err(EvalError::ty(format!("`contains` on {a:?}"))),
        }),
        BinOp::StartsWith => Box::new(move |f| match (l(f)?, r(f)?) {
            (Value::Str(s), Value::Str(x)) => Ok(Value::Bool(s.starts_with(&*x))),
            (Value::None, _) | (_, Value::None) => Err(EvalError::NoneUnwrapped),
            (a, _) => Err(EvalError::ty(format!("`starts_with` on {a:?}"))),
        }),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
            Box::new(move |f| arith(op, l(f)?, r(f)?))
        }
    }
}

fn builtin(bf: BuiltinFn, args: Vec<Code>) -> Code {
    Box::new(move |f| {
        let mut vals = Vec::with_capacity(args.len());
        for a in &args {
            vals.push(a(f)?);
        }
        let first = vals.first().cloned().unwrap_or(Value::None);
        match bf {
            BuiltinFn::Len => match first {
                Value::List(items) => Ok(Value::Int(items.len() as i64)),
                Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
                other => Err(EvalError::ty(format!("len of {other:?}"))),
            },
            BuiltinFn::Lower | BuiltinFn::Upper => match first {
                Value::Str(s) => Ok(Value::str(&if bf == BuiltinFn::Lower {
                    s.to_lowercase()
                } else {
                    s.to_uppercase()
                })),
                other => Err(EvalError::ty(format!("case of {other:?}"))),
            },
            BuiltinFn::Min | BuiltinFn::Max => {
                let second = vals.get(1).cloned().unwrap_or(Value::None);
                let o = compare(&first, &second)?;
                Ok(if (bf == BuiltinFn::Min) == o.is_le() {
                    first
                } else {
                    second
                })
            }
            BuiltinFn::Since => match (first, &f.ctx.now) {
                (Value::Time(t), Some(now)) => Ok(Value::Duration(now.as_second() - t.as_second())),
                (other, _) => Err(EvalError::ty(format!("since of {other:?}"))),
            },
            BuiltinFn::HourOf => match (first, vals.get(1)) {
                (Value::Time(t), Some(Value::Calendar(c))) => {
                    let tz = f
                        .env
                        .zones
                        .get(*c as usize)
                        .cloned()
                        .unwrap_or(jiff::tz::TimeZone::UTC);
                    Ok(Value::Int(i64::from(tz.to_datetime(t).hour())))
                }
                (other, _) => Err(EvalError::ty(format!("hour_of {other:?}"))),
            },
            BuiltinFn::CurrencyOf => match first {
                Value::Money(_, c) => Ok(Value::str(crate::value::currency_str(&c))),
                other => Err(EvalError::ty(format!("currency_of {other:?}"))),
            },
            BuiltinFn::AmountOf => match first {
                Value::Money(a, _) => Ok(Value::Decimal(a)),
                other => Err(EvalError::ty(format!("amount_of {other:?}"))),
            },
            BuiltinFn::Convert => convert(first, vals.get(1), vals.get(2)),
        }
    })
}
