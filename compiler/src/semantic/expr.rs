//! Type checking of expressions (brief §2, §7.3), bidirectional: [`Cx::check`] takes the
//! expected type when the context knows it, so bare enum variants, `none`, `[]` and
//! untyped record literals get their type from it.
//!
//! Name resolution for values, in order: the scope's locals (parameters, the triggering
//! event's fields, case facts, `event`/`case`/`class`/`assignee`/`now`), the module's
//! constants and fixtures, imported ones, project-wide teams and calendars, and finally
//! enum variants of the expected type.

use std::collections::{BTreeMap, BTreeSet};

use super::index::{DataKind, OpKind, ProjectIndex};
use super::types::{DefId, Ty, accepts, unify};
use super::values;
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, FieldInit, Ident, UnaryOp};

mod names;
pub use names::{did_you_mean, suggest};

/// Something a module refers to, for unused-declaration warnings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Use {
    Data(DefId),
    Op(OpKind, String),
}

/// What the checker knows about one expression.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ExprFacts {
    pub span: Span,
    /// Its type (`None`: the checker never reached it, e.g. inside a declaration it skipped).
    pub ty: Option<Ty>,
    /// The type its context expected, where the context knew one.
    pub expected: Option<Ty>,
}

/// Names visible in an expression besides top-level declarations.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    pub locals: BTreeMap<String, Ty>,
}

impl Scope {
    pub fn with(mut self, name: &str, ty: Ty) -> Scope {
        self.locals.insert(name.to_string(), ty);
        self
    }
}

/// The checking context of one module.
pub struct Cx<'a> {
    pub index: &'a ProjectIndex,
    pub module: &'a str,
    pub file: &'a FileName,
    pub diags: Vec<Diagnostic>,
    pub uses: BTreeSet<Use>,
    /// Imports that resolved something: (module, Some(name)) or (module, None) for aliases.
    pub used_imports: BTreeSet<(String, Option<String>)>,
    /// What was found about each expression, indexed by its `ExprId` (the module's
    /// inference result, `semantic::inference`).
    pub exprs: Vec<ExprFacts>,
}

pub const BUILTIN_FNS: &[&str] = &[
    "len",
    "lower",
    "upper",
    "min",
    "max",
    "since",
    "hour_of",
    "name_of",
    "currency_of",
    "amount_of",
    "changed",
    "previous",
    "convert",
];

impl<'a> Cx<'a> {
    pub fn new(index: &'a ProjectIndex, module: &'a str, file: &'a FileName) -> Cx<'a> {
        Cx {
            index,
            module,
            file,
            diags: Vec::new(),
            uses: BTreeSet::new(),
            used_imports: BTreeSet::new(),
            exprs: Vec::new(),
        }
    }

    pub fn error(
        &mut self,
        code: Code,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::new(code, self.file, span, message, label));
        self.diags.last_mut().expect("just pushed")
    }

    /// Report a name given twice: the second place is primary, the first a secondary label.
    pub fn duplicate(
        &mut self,
        span: Span,
        first: Span,
        message: String,
        first_label: &str,
    ) -> &mut Diagnostic {
        let file = self.file;
        let d = self.error(Code::DuplicateName, span, message, "again here");
        d.secondary
            .push(crate::diagnostics::Label::new(file, first, first_label));
        d
    }

    /// Check `e` against `expected` and report a mismatch.
    pub fn expect(&mut self, e: &Expr, expected: &Ty, scope: &Scope) -> Ty {
        let actual = self.check(e, Some(expected), scope);
        if !accepts(expected, &actual) {
            self.mismatch(e.span, expected, &actual);
        }
        actual
    }

    pub fn mismatch(&mut self, span: Span, expected: &Ty, actual: &Ty) {
        if actual.is_optional() && accepts(expected, actual.strip_optional()) {
            self.error(Code::OptionalMisuse, span, format!("expected `{expected}`, found `{actual}` (it may be none)"), "this may be none")
                .help = Some("unwrap it with `!` (an evaluation error when none) or give a default with `?? value`".into());
        } else {
            let d = self.error(
                Code::TypeMismatch,
                span,
                format!("expected `{expected}`, found `{actual}`"),
                format!("this is `{actual}`"),
            );
            d.help = match (expected, actual) {
                (Ty::Decimal, Ty::Int) => Some("there are no implicit conversions: write the number with a decimal point, e.g. `5.0`".into()),
                (Ty::Money, Ty::Int | Ty::Decimal) => Some("money needs a currency: write e.g. `250 USD`".into()),
                (Ty::Percent, Ty::Int | Ty::Decimal) => Some("write a percentage, e.g. `85%`".into()),
                (Ty::Duration | Ty::BusinessDuration, Ty::Int) => Some("write a unit, e.g. `30m`, `4h` or `2 business days`".into()),
                _ => None,
            };
        }
    }

    /// Infer or check the type of an expression.
    pub fn check(&mut self, e: &Expr, expected: Option<&Ty>, scope: &Scope) -> Ty {
        let ty = self.check_inner(e, expected, scope);
        let i = e.id.index();
        if i >= self.exprs.len() {
            self.exprs.resize_with(i + 1, Default::default);
        }
        // An expression checked twice keeps its last type, and the last type a context
        // expected of it.
        if let Some(facts) = self.exprs.get_mut(i) {
            facts.span = e.span;
            facts.ty = Some(ty.clone());
            if let Some(exp) = expected {
                facts.expected = Some(exp.clone());
            }
        }
        ty
    }

    pub(crate) fn check_inner(&mut self, e: &Expr, expected: Option<&Ty>, scope: &Scope) -> Ty {
        match &e.kind {
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Decimal(_) => Ty::Decimal,
            ExprKind::Money { currency, .. } => {
                if !values::is_currency(currency) {
                    self.error(
                        Code::InvalidLiteral,
                        e.span,
                        format!("unknown currency `{currency}`"),
                        "not an ISO 4217 code",
                    )
                    .help = Some(
                        "use a three-letter ISO 4217 code such as `USD`, `EUR` or `GBP`".into(),
                    );
                }
                Ty::Money
            }
            ExprKind::Percent(_) => Ty::Percent,
            ExprKind::Duration(_) => Ty::Duration,
            ExprKind::BusinessDuration { .. } => Ty::BusinessDuration,
            ExprKind::Date(d) => {
                if let Err(msg) = values::check_date(d) {
                    self.error(Code::InvalidDate, e.span, msg, "invalid date");
                }
                Ty::Date
            }
            ExprKind::TimeOfDay(t) => {
                if let Err(msg) = values::check_time(t, false) {
                    self.error(Code::InvalidTime, e.span, msg, "invalid time of day");
                }
                Ty::TimeOfDay
            }
            ExprKind::Timestamp(text) => {
                if let Err(msg) = values::check_timestamp(text) {
                    self.error(Code::InvalidDate, e.span, msg, "invalid timestamp");
                }
                Ty::Time
            }
            ExprKind::Str(s) => match expected.map(Ty::strip_optional) {
                Some(Ty::Person) | Some(Ty::Assignee) => {
                    if !values::is_person(s) {
                        self.error(
                            Code::InvalidPerson,
                            e.span,
                            format!("`{s}` is not a person"),
                            "expected an e-mail address",
                        )
                        .help = Some(
                            "persons are written as e-mail addresses, e.g. \"ana@agency.io\""
                                .into(),
                        );
                    }
                    Ty::Person
                }
                _ => Ty::String,
            },
            ExprKind::None => Ty::NoneLit,
            ExprKind::List(items) => self.list(items, expected, scope),
            ExprKind::Record { ty, spread, fields } => self.record(
                e.span,
                ty.as_ref(),
                spread.as_deref(),
                fields,
                expected,
                scope,
            ),
            ExprKind::Name(id) => self.name(id, expected, scope),
            ExprKind::Field {
                base,
                field,
                optional,
            } => self.field(e, base, field, *optional, expected, scope),
            ExprKind::Index { base, index } => self.check_index(base, index, scope),
            ExprKind::IsSet { operand, .. } => self.check_is_set(operand, scope),
            ExprKind::Quant {
                all,
                var,
                list,
                body,
            } => self.check_quant(*all, var, list, body, scope),
            ExprKind::Unwrap(inner) => {
                let t = self.check(
                    inner,
                    expected.map(|t| t.clone().optional()).as_ref(),
                    scope,
                );
                match t {
                    Ty::Optional(inner_ty) => *inner_ty,
                    Ty::NoneLit => {
                        self.error(
                            Code::OptionalMisuse,
                            e.span,
                            "`none!` always fails",
                            "unwraps none",
                        );
                        Ty::Error
                    }
                    Ty::Error => Ty::Error,
                    other => {
                        let d = self.error(
                            Code::NeedlessUnwrap,
                            e.span,
                            format!("`!` on a value of type `{other}`, which is never none"),
                            "needless `!`",
                        );
                        d.help = Some("remove the `!`".into());
                        other
                    }
                }
            }
            ExprKind::Call { callee, args } => self.call(e, callee, args, scope),
            ExprKind::Unary { op, operand } => match op {
                UnaryOp::Not => {
                    self.expect(operand, &Ty::Bool, scope);
                    Ty::Bool
                }
                UnaryOp::Neg => {
                    let t = self.check(operand, expected, scope);
                    if !matches!(
                        t,
                        Ty::Int | Ty::Decimal | Ty::Money | Ty::Duration | Ty::Percent | Ty::Error
                    ) {
                        self.error(
                            Code::BadOperands,
                            e.span,
                            format!("cannot negate a value of type `{t}`"),
                            "here",
                        );
                        return Ty::Error;
                    }
                    t
                }
            },
            ExprKind::Binary { op, lhs, rhs } => self.binary(e, *op, lhs, rhs, expected, scope),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expect(cond, &Ty::Bool, scope);
                let a = self.check(then, expected, scope);
                let b = self.check(otherwise, expected.or(Some(&a)), scope);
                unify(&a, &b).unwrap_or_else(|| {
                    let file = self.file;
                    self.error(
                        Code::TypeMismatch,
                        otherwise.span,
                        format!("`if` branches differ: `{a}` and `{b}`"),
                        format!("this is `{b}`"),
                    )
                    .secondary
                    .push(crate::diagnostics::Label::new(
                        file,
                        then.span,
                        format!("this is `{a}`"),
                    ));
                    Ty::Error
                })
            }
            ExprKind::Match { scrutinee, arms } => {
                self.match_expr(e, scrutinee, arms, expected, scope)
            }
            ExprKind::Error => Ty::Error,
        }
    }

    pub(crate) fn list(&mut self, items: &[Expr], expected: Option<&Ty>, scope: &Scope) -> Ty {
        let mut elem = match expected.map(Ty::strip_optional) {
            Some(Ty::List(t)) => Some((**t).clone()),
            _ => None,
        };
        if items.is_empty() {
            return elem.map(|t| Ty::List(Box::new(t))).unwrap_or(Ty::EmptyList);
        }
        for item in items {
            match &elem {
                Some(t) => {
                    let t = t.clone();
                    self.expect(item, &t, scope);
                }
                None => elem = Some(self.check(item, None, scope)),
            }
        }
        Ty::List(Box::new(elem.unwrap_or(Ty::Error)))
    }

    /// `Name { f: e, ..base }` or `{ .. }` typed by context.
    pub fn record(
        &mut self,
        span: Span,
        ty_path: Option<&crate::syntax::ast::Path>,
        spread: Option<&Expr>,
        fields: &[FieldInit],
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        let ty = match ty_path {
            Some(p) => {
                let names: Vec<String> = p.segments.iter().map(|s| s.name.clone()).collect();
                match self.resolve_type_path(&names, p.span) {
                    Some(t @ (Ty::Record(_) | Ty::Event(_))) => t,
                    Some(Ty::Error) | None => Ty::Error,
                    Some(other) => {
                        self.error(
                            Code::WrongKind,
                            p.span,
                            format!("`{other}` is not a record or event type"),
                            "not a record",
                        );
                        Ty::Error
                    }
                }
            }
            None => match expected.map(Ty::strip_optional) {
                Some(t @ (Ty::Record(_) | Ty::Event(_))) => t.clone(),
                Some(Ty::Error) => Ty::Error,
                _ => {
                    if let Some(base) = spread {
                        let t = self.check(base, None, scope);
                        if matches!(t, Ty::Record(_) | Ty::Event(_)) {
                            return self.record_fields(span, t, spread, fields, scope, true);
                        }
                    }
                    self.error(
                        Code::NeedsContext,
                        span,
                        "cannot tell which record type this is",
                        "untyped record",
                    )
                    .help = Some(
                        "write the type before the braces, e.g. `Ticket { id: \"T-1\", … }`".into(),
                    );
                    for f in fields {
                        self.check(&f.value, None, scope);
                    }
                    return Ty::Error;
                }
            },
        };
        self.record_fields(span, ty, spread, fields, scope, false)
    }

    pub(crate) fn record_fields(
        &mut self,
        span: Span,
        ty: Ty,
        spread: Option<&Expr>,
        fields: &[FieldInit],
        scope: &Scope,
        spread_checked: bool,
    ) -> Ty {
        if ty.is_error() {
            for f in fields {
                self.check(&f.value, None, scope);
            }
            return Ty::Error;
        }
        if let (Some(base), false) = (spread, spread_checked) {
            self.expect(base, &ty, scope);
        }
        let declared = self.index.fields_of(&ty).unwrap_or_default();
        let mut seen = BTreeSet::new();
        for f in fields {
            if !seen.insert(f.name.name.as_str()) {
                self.error(
                    Code::DuplicateName,
                    f.name.span,
                    format!("field `{}` given twice", f.name.name),
                    "again here",
                );
                continue;
            }
            match declared.iter().find(|(n, _)| *n == f.name.name) {
                Some((_, fty)) => {
                    let fty = fty.clone();
                    self.expect(&f.value, &fty, scope);
                }
                None => {
                    self.check(&f.value, None, scope);
                    let names: Vec<&str> = declared.iter().map(|(n, _)| n.as_str()).collect();
                    let d = self.error(
                        Code::UnknownField,
                        f.name.span,
                        format!("`{ty}` has no field `{}`", f.name.name),
                        "unknown field",
                    );
                    d.help = Some(did_you_mean(&f.name.name, &names, "its fields are"));
                }
            }
        }
        if spread.is_none() {
            let missing: Vec<&str> = declared
                .iter()
                .filter(|(n, t)| !t.is_optional() && !seen.contains(n.as_str()))
                .map(|(n, _)| n.as_str())
                .collect();
            if !missing.is_empty() {
                let list = missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(Code::MissingField, span, format!("`{ty}` is missing {list}"), "missing fields")
                    .help = Some("give every non-optional field, or copy a fixture with `{ ..fixture, field: value }`".into());
            }
        }
        ty
    }
}
