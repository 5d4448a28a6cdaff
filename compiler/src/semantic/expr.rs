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
use super::types::{DefId, Ty, accepts, comparable, unify};
use super::values;
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;
use crate::syntax::ast::{
    Arg, BinOp, Expr, ExprKind, FieldInit, Ident, MatchArm, Pattern, UnaryOp,
};

/// Something a module refers to, for unused-declaration warnings.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Use {
    Data(DefId),
    Op(OpKind, String),
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
    /// When set, the type of every checked expression by span (for lowering to IR).
    pub types: Option<BTreeMap<Span, Ty>>,
}

pub const BUILTIN_FNS: &[&str] = &["len", "lower", "upper", "min", "max", "since", "hour_of"];

impl<'a> Cx<'a> {
    pub fn new(index: &'a ProjectIndex, module: &'a str, file: &'a FileName) -> Cx<'a> {
        Cx {
            index,
            module,
            file,
            diags: Vec::new(),
            uses: BTreeSet::new(),
            used_imports: BTreeSet::new(),
            types: None,
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
        if let Some(types) = &mut self.types {
            types.insert(e.span, ty.clone());
        }
        ty
    }

    fn check_inner(&mut self, e: &Expr, expected: Option<&Ty>, scope: &Scope) -> Ty {
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

    fn list(&mut self, items: &[Expr], expected: Option<&Ty>, scope: &Scope) -> Ty {
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

    fn record_fields(
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
                    d.help = Some(suggest(&f.name.name, &names).map_or_else(
                        || format!("its fields are: {}", names.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    ));
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

    /// Resolve a type written as a path in an expression (record literal head).
    pub fn resolve_type_path(&mut self, names: &[String], span: Span) -> Option<Ty> {
        match self
            .index
            .resolve_type(self.module, &super::sig::TypeRef::Named(names.to_vec()))
        {
            Ok(t) => {
                self.note_type_use(&t, names);
                Some(t)
            }
            Err(_) if self.from_failed_import(names) => None,
            Err(msg) => {
                self.error(Code::UnknownType, span, msg, "not a known type");
                None
            }
        }
    }

    /// Record that a type (and the import that brought it) is used.
    pub fn note_type_use(&mut self, t: &Ty, names: &[String]) {
        match t {
            Ty::Enum(d) | Ty::Record(d) | Ty::Event(d) => {
                self.uses.insert(Use::Data(d.clone()));
                self.note_import(d, names.len() > 1);
            }
            Ty::List(inner) | Ty::Optional(inner) => self.note_type_use(inner, names),
            _ => {}
        }
    }

    pub fn note_import(&mut self, d: &DefId, via_alias: bool) {
        if d.module != self.module {
            let key = if via_alias {
                (d.module.clone(), None)
            } else {
                (d.module.clone(), Some(d.name.clone()))
            };
            self.used_imports.insert(key);
        }
    }

    fn name(&mut self, id: &Ident, expected: Option<&Ty>, scope: &Scope) -> Ty {
        if let Some(t) = scope.locals.get(&id.name) {
            return t.clone();
        }
        if let Some((def, kind)) = self.index.lookup_data(self.module, &id.name) {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, false);
            return match kind {
                DataKind::Let | DataKind::Fixture => self.index.value_type(&def, kind),
                DataKind::Fn => {
                    self.error(
                        Code::WrongKind,
                        id.span,
                        format!("`{}` is a function", id.name),
                        "not called",
                    )
                    .help = Some(format!("call it: `{}(…)`", id.name));
                    Ty::Error
                }
                _ => {
                    if let Some(t) = expected.and_then(|t| self.variant_of(t, &id.name)) {
                        return t;
                    }
                    self.error(
                        Code::WrongKind,
                        id.span,
                        format!("`{}` is {}, not a value", id.name, kind.describe()),
                        "a type",
                    )
                    .help = Some("name one of its variants or fields instead".into());
                    Ty::Error
                }
            };
        }
        if let Some(t) = expected.and_then(|t| self.variant_of(t, &id.name)) {
            return t;
        }
        if self.index.op(OpKind::Team, &id.name).is_some() {
            self.uses.insert(Use::Op(OpKind::Team, id.name.clone()));
            return Ty::Team;
        }
        if self.index.op(OpKind::Calendar, &id.name).is_some() {
            self.uses.insert(Use::Op(OpKind::Calendar, id.name.clone()));
            return Ty::Calendar;
        }
        if let Some(kind) = self.index.op_kinds(&id.name).first() {
            self.error(
                Code::WrongKind,
                id.span,
                format!("`{}` is {}, not a value", id.name, kind.describe()),
                "not a value",
            );
            return Ty::Error;
        }
        // A bare variant compared with a value whose type is already in error (`t.prio ==
        // Urgent` with no field `prio`): the first mistake was reported; do not add a second.
        if expected.is_some_and(Ty::is_error) && id.name.starts_with(|c: char| c.is_uppercase())
            || self.from_failed_import(std::slice::from_ref(&id.name))
        {
            return Ty::Error;
        }
        self.unknown_name(id, expected, scope);
        Ty::Error
    }

    /// The enum type `t` (or `t?`) if `name` is one of its variants.
    fn variant_of(&mut self, t: &Ty, name: &str) -> Option<Ty> {
        let def = t.enum_def()?;
        let variants = self.index.enum_variants(def)?;
        if variants.iter().any(|v| v == name) {
            let def = def.clone();
            self.uses.insert(Use::Data(def.clone()));
            // §7.4: an import of an enum counts as used when any of its variants is used.
            self.note_import(&def, false);
            Some(Ty::Enum(def))
        } else {
            None
        }
    }

    fn unknown_name(&mut self, id: &Ident, expected: Option<&Ty>, scope: &Scope) {
        if let Some(def) = expected.and_then(Ty::enum_def) {
            let variants = self.index.enum_variants(def).cloned().unwrap_or_default();
            let names: Vec<&str> = variants.iter().map(String::as_str).collect();
            let d = self.error(
                Code::UnknownVariant,
                id.span,
                format!("`{}` has no variant `{}`", def.name, id.name),
                "unknown variant",
            );
            d.help = Some(suggest(&id.name, &names).map_or_else(
                || format!("its variants are: {}", names.join(", ")),
                |s| format!("did you mean `{s}`?"),
            ));
            return;
        }
        let mut candidates: Vec<String> = scope.locals.keys().cloned().collect();
        if let Some(sig) = self.index.sig(self.module) {
            candidates.extend(sig.lets.keys().cloned());
            candidates.extend(sig.fixtures.keys().cloned());
        }
        candidates.extend(
            self.index
                .ops
                .keys()
                .filter(|(k, _)| matches!(k, OpKind::Team | OpKind::Calendar))
                .map(|(_, n)| n.clone()),
        );
        let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let hint = self.import_hint(&id.name);
        let d = self.error(
            Code::UnknownName,
            id.span,
            format!("unknown name `{}`", id.name),
            "not found in this scope",
        );
        d.help = hint.or_else(|| suggest(&id.name, &names).map(|s| format!("did you mean `{s}`?")));
        // A bare variant with no expected type: say which enum has it.
        if d.help.is_none() {
            let owners: Vec<String> = self
                .index
                .modules
                .values()
                .flat_map(|m| {
                    m.enums
                        .iter()
                        .filter(|(_, vs)| vs.contains(&id.name))
                        .map(|(n, _)| n.clone())
                })
                .collect();
            if let Some(e) = owners.first() {
                let d = self.diags.last_mut().expect("just pushed");
                d.help = Some(format!("if you mean the variant, write `{e}.{}`", id.name));
            }
        }
    }

    /// Does `names` (a name or `alias.name`) come from an import that is already reported
    /// as broken (E0104 unknown module, E0105 name not found)? Such uses are not reported
    /// again: one mistake, one diagnostic.
    pub fn from_failed_import(&self, names: &[String]) -> bool {
        let Some(sig) = self.index.sig(self.module) else {
            return false;
        };
        let missing = |module: &str, name: Option<&str>| match self.index.sig(module) {
            None => true,
            Some(m) => name.is_some_and(|n| !m.has_data(n)),
        };
        sig.imports.iter().any(|imp| match (&imp.names, names) {
            (Some(list), [name]) => list.contains(name) && missing(&imp.module, Some(name)),
            (None, [alias, ..]) if names.len() > 1 => {
                imp.module.rsplit('.').next() == Some(alias.as_str()) && missing(&imp.module, None)
            }
            _ => false,
        })
    }

    /// "import it" help when another module declares this data name.
    pub fn import_hint(&self, name: &str) -> Option<String> {
        let m = self
            .index
            .modules
            .values()
            .find(|m| m.module != self.module && m.has_data(name))?;
        Some(format!(
            "`{name}` is declared in `{}`: add `import {}.{{{name}}}`",
            m.module, m.module
        ))
    }

    /// A dotted path of plain names (`Tier.Gold`, `refunds.limit`), if `e` is one.
    fn static_path(e: &Expr) -> Option<Vec<&Ident>> {
        match &e.kind {
            ExprKind::Name(id) => Some(vec![id]),
            ExprKind::Field {
                base,
                field,
                optional: false,
            } => {
                let mut p = Self::static_path(base)?;
                p.push(field);
                Some(p)
            }
            _ => None,
        }
    }

    /// Resolve `Enum.Variant`, `alias.value`, `alias.Enum.Variant` when the head is not a value.
    fn static_member(&mut self, e: &Expr, scope: &Scope) -> Option<Ty> {
        let path = Self::static_path(e)?;
        let head = &path[0].name;
        if scope.locals.contains_key(head) {
            return None;
        }
        if self
            .index
            .lookup_data(self.module, head)
            .is_some_and(|(_, k)| matches!(k, DataKind::Let | DataKind::Fixture))
        {
            return None;
        }
        let names: Vec<String> = path.iter().map(|i| i.name.clone()).collect();
        let (last, prefix) = names.split_last()?;
        // Enum.Variant (possibly module-qualified).
        if let Ok(Ty::Enum(def)) = self
            .index
            .resolve_type(self.module, &super::sig::TypeRef::Named(prefix.to_vec()))
        {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, prefix.len() > 1);
            let variants = self.index.enum_variants(&def).cloned().unwrap_or_default();
            if !variants.contains(last) {
                let vs: Vec<&str> = variants.iter().map(String::as_str).collect();
                let span = path[path.len() - 1].span;
                let d = self.error(
                    Code::UnknownVariant,
                    span,
                    format!("`{}` has no variant `{last}`", def.name),
                    "unknown variant",
                );
                d.help = Some(suggest(last, &vs).map_or_else(
                    || format!("its variants are: {}", vs.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                ));
                return Some(Ty::Error);
            }
            return Some(Ty::Enum(def));
        }
        // alias.value
        if let Some((def, kind)) = self.index.lookup_qualified(self.module, &names) {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, true);
            return Some(match kind {
                DataKind::Let | DataKind::Fixture => self.index.value_type(&def, kind),
                _ => {
                    self.error(
                        Code::WrongKind,
                        e.span,
                        format!("`{}` is {}, not a value", names.join("."), kind.describe()),
                        "not a value",
                    );
                    Ty::Error
                }
            });
        }
        if self.index.module_alias(self.module, head).is_some() {
            self.error(
                Code::UnknownName,
                path[1].span,
                format!("module `{head}` has no `{}`", path[1].name),
                "not declared there",
            );
            return Some(Ty::Error);
        }
        if self.index.op(OpKind::Connector, head).is_some() && path.len() == 2 {
            self.error(
                Code::WrongKind,
                e.span,
                format!("`{}` is an action", names.join(".")),
                "an action",
            )
            .help = Some("actions run only as steps of an automation's `do` block".into());
            return Some(Ty::Error);
        }
        None
    }

    fn field(
        &mut self,
        e: &Expr,
        base: &Expr,
        field: &Ident,
        optional: bool,
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        let _ = expected;
        if !optional && let Some(t) = self.static_member(e, scope) {
            return t;
        }
        let base_ty = self.check(base, None, scope);
        if base_ty.is_error() {
            return Ty::Error;
        }
        let (target, was_optional) = match &base_ty {
            Ty::Optional(inner) => (inner.as_ref().clone(), true),
            other => (other.clone(), false),
        };
        if was_optional && !optional {
            self.error(
                Code::OptionalMisuse,
                e.span,
                format!(
                    "`{base_ty}` may be none: `.{}` needs `?.` or `!`",
                    field.name
                ),
                "may be none",
            )
            .help = Some(format!(
                "write `?.{}` (gives none when it is none) or unwrap with `!`",
                field.name
            ));
            return Ty::Error;
        }
        let Some(fields) = self.index.fields_of(&target) else {
            self.error(
                Code::UnknownField,
                field.span,
                format!("`{target}` has no fields"),
                format!("`.{}` on a `{target}`", field.name),
            );
            return Ty::Error;
        };
        match fields.iter().find(|(n, _)| *n == field.name) {
            Some((_, t)) => {
                if optional {
                    t.clone().optional()
                } else {
                    t.clone()
                }
            }
            None => {
                let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                let d = self.error(
                    Code::UnknownField,
                    field.span,
                    format!("`{target}` has no field `{}`", field.name),
                    "unknown field",
                );
                d.help = Some(suggest(&field.name, &names).map_or_else(
                    || format!("its fields are: {}", names.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                ));
                Ty::Error
            }
        }
    }

    fn call(&mut self, e: &Expr, callee: &Expr, args: &[Arg], scope: &Scope) -> Ty {
        let path = Self::static_path(callee);
        let names: Option<Vec<String>> = path
            .as_ref()
            .map(|p| p.iter().map(|i| i.name.clone()).collect());
        let Some(names) = names else {
            self.error(
                Code::WrongKind,
                callee.span,
                "only functions can be called",
                "not a function",
            );
            return Ty::Error;
        };
        // A user function (local, imported, or module-qualified).
        let found = if names.len() == 1 {
            self.index.lookup_data(self.module, &names[0])
        } else {
            self.index.lookup_qualified(self.module, &names)
        };
        if let Some((def, kind)) = found {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, names.len() > 1);
            if kind != DataKind::Fn {
                self.error(
                    Code::WrongKind,
                    callee.span,
                    format!(
                        "`{}` is {}, not a function",
                        names.join("."),
                        kind.describe()
                    ),
                    "cannot be called",
                );
                return Ty::Error;
            }
            let sig = self
                .index
                .sig(&def.module)
                .and_then(|m| m.fns.get(&def.name))
                .cloned();
            let Some(sig) = sig else { return Ty::Error };
            let params: Vec<(String, Ty)> = sig
                .params
                .iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        self.index.resolve_type(&def.module, t).unwrap_or(Ty::Error),
                    )
                })
                .collect();
            self.check_args(e.span, &names.join("."), &params, args, scope, false);
            return self
                .index
                .resolve_type(&def.module, &sig.ret)
                .unwrap_or(Ty::Error);
        }
        if names.len() == 1 && BUILTIN_FNS.contains(&names[0].as_str()) {
            return self.builtin_call(e, &names[0], args, scope);
        }
        if names.len() == 2 && self.index.op(OpKind::Connector, &names[0]).is_some() {
            self.error(
                Code::WrongKind,
                callee.span,
                format!("`{}` is an action, not a function", names.join(".")),
                "an action",
            )
            .help = Some("actions run only as steps of an automation's `do` block".into());
            for a in args {
                self.check(&a.value, None, scope);
            }
            return Ty::Error;
        }
        if self.from_failed_import(&names) {
            for a in args {
                self.check(&a.value, None, scope);
            }
            return Ty::Error;
        }
        let id = path
            .and_then(|p| p.last().copied())
            .expect("static path is non-empty");
        let mut fns: Vec<&str> = BUILTIN_FNS.to_vec();
        let local_fns: Vec<String> = self
            .index
            .sig(self.module)
            .map(|m| m.fns.keys().cloned().collect())
            .unwrap_or_default();
        fns.extend(local_fns.iter().map(String::as_str));
        let hint = self.import_hint(&id.name);
        let d = self.error(
            Code::UnknownName,
            callee.span,
            format!("unknown function `{}`", names.join(".")),
            "not found",
        );
        d.help = hint.or_else(|| suggest(&id.name, &fns).map(|s| format!("did you mean `{s}`?")));
        for a in args {
            self.check(&a.value, None, scope);
        }
        Ty::Error
    }

    /// Check call arguments against parameters. Functions take positional or labelled
    /// arguments; actions (`labelled_only`) take labelled ones.
    pub fn check_args(
        &mut self,
        span: Span,
        what: &str,
        params: &[(String, Ty)],
        args: &[Arg],
        scope: &Scope,
        labelled_only: bool,
    ) {
        let mut given: BTreeSet<&str> = BTreeSet::new();
        for (i, a) in args.iter().enumerate() {
            let param = match &a.label {
                Some(l) => match params.iter().find(|(n, _)| *n == l.name) {
                    Some(p) => Some(p),
                    None => {
                        let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
                        let d = self.error(
                            Code::BadArguments,
                            l.span,
                            format!("`{what}` has no parameter `{}`", l.name),
                            "unknown parameter",
                        );
                        d.help = Some(suggest(&l.name, &names).map_or_else(
                            || format!("its parameters are: {}", names.join(", ")),
                            |s| format!("did you mean `{s}`?"),
                        ));
                        None
                    }
                },
                None if labelled_only => {
                    let d = self.error(
                        Code::BadArguments,
                        a.value.span,
                        format!("arguments of `{what}` need names"),
                        "unnamed argument",
                    );
                    d.help = params.get(i).map(|(n, _)| format!("write `{n}: …`"));
                    None
                }
                None => params.get(i),
            };
            match param {
                Some((name, ty)) => {
                    if !given.insert(name.as_str()) {
                        self.error(
                            Code::BadArguments,
                            a.value.span,
                            format!("parameter `{name}` given twice"),
                            "again here",
                        );
                    }
                    let ty = ty.clone();
                    self.expect(&a.value, &ty, scope);
                }
                None => {
                    if a.label.is_none() && !labelled_only {
                        self.error(
                            Code::BadArguments,
                            a.value.span,
                            format!("`{what}` takes {} argument(s)", params.len()),
                            "extra argument",
                        );
                    }
                    self.check(&a.value, None, scope);
                }
            }
        }
        let missing: Vec<String> = params
            .iter()
            .filter(|(n, t)| !given.contains(n.as_str()) && !t.is_optional())
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        if !missing.is_empty() {
            self.error(
                Code::BadArguments,
                span,
                format!("`{what}` is missing {}", missing.join(", ")),
                "missing arguments",
            );
        }
    }

    fn builtin_call(&mut self, e: &Expr, name: &str, args: &[Arg], scope: &Scope) -> Ty {
        let arity = match name {
            "min" | "max" | "hour_of" => 2,
            _ => 1,
        };
        if args.len() != arity {
            self.error(
                Code::BadArguments,
                e.span,
                format!("`{name}` takes {arity} argument(s), found {}", args.len()),
                "wrong number of arguments",
            );
            for a in args {
                self.check(&a.value, None, scope);
            }
            return Ty::Error;
        }
        let a0 = &args[0].value;
        match name {
            "len" => {
                let t = self.check(a0, None, scope);
                if !matches!(t, Ty::List(_) | Ty::EmptyList | Ty::String | Ty::Error) {
                    self.error(
                        Code::TypeMismatch,
                        a0.span,
                        format!("`len` needs a list or a string, found `{t}`"),
                        "here",
                    );
                }
                Ty::Int
            }
            "lower" | "upper" => {
                self.expect(a0, &Ty::String, scope);
                Ty::String
            }
            "since" => {
                self.expect(a0, &Ty::Time, scope);
                Ty::Duration
            }
            "hour_of" => {
                self.expect(a0, &Ty::Time, scope);
                self.expect(&args[1].value, &Ty::Calendar, scope);
                Ty::Int
            }
            _ => {
                let t = self.check(a0, None, scope);
                if !t.is_ordered() {
                    self.error(
                        Code::TypeMismatch,
                        a0.span,
                        format!("`{name}` needs ordered values, found `{t}`"),
                        "here",
                    );
                    return Ty::Error;
                }
                self.expect(&args[1].value, &t, scope);
                if t == Ty::Money {
                    self.currency_check(a0, &args[1].value);
                }
                t
            }
        }
    }

    /// Is `e` something whose type must come from context (`none`, `[]`, a bare name that
    /// is not in scope, an untyped record)?
    fn needs_context(&self, e: &Expr, scope: &Scope) -> bool {
        match &e.kind {
            ExprKind::None => true,
            ExprKind::List(items) => items.is_empty(),
            ExprKind::Record { ty: None, .. } => true,
            ExprKind::Name(id) => {
                !scope.locals.contains_key(&id.name)
                    && self.index.lookup_data(self.module, &id.name).is_none()
                    && self.index.op_kinds(&id.name).is_empty()
            }
            _ => false,
        }
    }

    /// Check two operands that must have one type: the one that needs context goes second.
    fn pair(&mut self, lhs: &Expr, rhs: &Expr, scope: &Scope) -> (Ty, Ty) {
        if self.needs_context(lhs, scope) && !self.needs_context(rhs, scope) {
            let r = self.check(rhs, None, scope);
            let l = self.check(lhs, Some(&r.strip_optional().clone()), scope);
            (l, r)
        } else {
            let l = self.check(lhs, None, scope);
            let r = self.check(rhs, Some(&l.strip_optional().clone()), scope);
            (l, r)
        }
    }

    /// The currency of a money expression when it is known at compile time.
    pub fn known_currency(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Money { currency, .. } => Some(currency.clone()),
            ExprKind::Name(id) => {
                let (def, kind) = self.index.lookup_data(self.module, &id.name)?;
                if kind != DataKind::Let {
                    return None;
                }
                self.index
                    .sig(&def.module)?
                    .lets
                    .get(&def.name)?
                    .currency
                    .clone()
            }
            ExprKind::Binary {
                op: BinOp::Add | BinOp::Sub,
                lhs,
                ..
            } => self.known_currency(lhs),
            ExprKind::Binary {
                op: BinOp::Mul | BinOp::Div,
                lhs,
                rhs,
            } => self
                .known_currency(lhs)
                .or_else(|| self.known_currency(rhs)),
            ExprKind::Unary { operand, .. } => self.known_currency(operand),
            _ => None,
        }
    }

    fn currency_check(&mut self, lhs: &Expr, rhs: &Expr) {
        if let (Some(a), Some(b)) = (self.known_currency(lhs), self.known_currency(rhs))
            && a != b
        {
            let file = self.file.clone();
            let d = self.error(
                Code::CurrencyMismatch,
                rhs.span,
                format!("currency mismatch: `{a}` and `{b}`"),
                format!("this is {b}"),
            );
            d.secondary.push(crate::diagnostics::Label::new(
                &file,
                lhs.span,
                format!("this is {a}"),
            ));
            d.help = Some(
                "money of different currencies cannot be compared or added; convert explicitly"
                    .into(),
            );
        }
    }

    fn binary(
        &mut self,
        e: &Expr,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        match op {
            BinOp::And | BinOp::Or => {
                self.expect(lhs, &Ty::Bool, scope);
                self.expect(rhs, &Ty::Bool, scope);
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                let (l, r) = self.pair(lhs, rhs, scope);
                if !comparable(&l, &r) {
                    self.error(
                        Code::TypeMismatch,
                        e.span,
                        format!("cannot compare `{l}` with `{r}`"),
                        "different types",
                    )
                    .help = Some(
                        "values of different types are never equal; compare like with like".into(),
                    );
                } else if l == Ty::Money || r == Ty::Money {
                    self.currency_check(lhs, rhs);
                }
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (l, r) = self.pair(lhs, rhs, scope);
                if l.is_optional() || r.is_optional() {
                    let which = if l.is_optional() { lhs.span } else { rhs.span };
                    self.error(
                        Code::OptionalMisuse,
                        which,
                        format!("`{}` needs values, not optionals", op.as_str()),
                        "may be none",
                    )
                    .help = Some("unwrap with `!` or give a default with `?? value`".into());
                } else if !comparable(&l, &r) {
                    let d = self.error(
                        Code::TypeMismatch,
                        e.span,
                        format!("cannot compare `{l}` with `{r}`"),
                        "different types",
                    );
                    if matches!((&l, &r), (Ty::Percent, _) | (_, Ty::Percent)) {
                        d.help = Some("a percent compares only with a percent, e.g. `85%`".into());
                    }
                } else if !l.is_ordered() {
                    self.error(
                        Code::BadOperands,
                        e.span,
                        format!("`{l}` values have no order"),
                        format!("`{}` on `{l}`", op.as_str()),
                    );
                } else if l == Ty::Money {
                    self.currency_check(lhs, rhs);
                }
                Ty::Bool
            }
            BinOp::In => {
                let l = self.check(lhs, None, scope);
                let want = Ty::List(Box::new(l.strip_optional().clone()));
                self.expect(rhs, &want, scope);
                Ty::Bool
            }
            BinOp::Contains => {
                let l = self.check(lhs, None, scope);
                match l.strip_optional() {
                    Ty::List(elem) => {
                        let elem = (**elem).clone();
                        self.expect(rhs, &elem, scope);
                    }
                    Ty::String => {
                        self.expect(rhs, &Ty::String, scope);
                    }
                    Ty::Error => {
                        self.check(rhs, None, scope);
                    }
                    other => {
                        self.error(
                            Code::BadOperands,
                            lhs.span,
                            format!("`contains` needs a list or a string, found `{other}`"),
                            "here",
                        );
                        self.check(rhs, None, scope);
                    }
                }
                if l.is_optional() {
                    self.error(
                        Code::OptionalMisuse,
                        lhs.span,
                        format!("`{l}` may be none"),
                        "may be none",
                    )
                    .help = Some("unwrap with `!` or give a default with `?? []`".into());
                }
                Ty::Bool
            }
            BinOp::Matches => {
                self.expect(lhs, &Ty::String, scope);
                match &rhs.kind {
                    ExprKind::Str(pattern) => {
                        if let Err(msg) = values::check_regex(pattern) {
                            self.error(Code::InvalidRegex, rhs.span, format!("invalid regular expression: {msg}"), "this pattern")
                                .help = Some("patterns use Rust `regex` syntax; escape special characters with `\\\\`".into());
                        }
                    }
                    _ => {
                        self.error(
                            Code::TypeMismatch,
                            rhs.span,
                            "`matches` takes a string literal pattern",
                            "not a literal",
                        )
                        .help = Some(
                            "write the regular expression in quotes, e.g. `matches \"(?i)refund\"`"
                                .into(),
                        );
                        self.check(rhs, None, scope);
                    }
                }
                Ty::Bool
            }
            BinOp::StartsWith => {
                self.expect(lhs, &Ty::String, scope);
                self.expect(rhs, &Ty::String, scope);
                Ty::Bool
            }
            BinOp::Coalesce => {
                let l = self.check(lhs, expected.map(|t| t.clone().optional()).as_ref(), scope);
                let inner = l.strip_optional().clone();
                let want = if inner == Ty::NoneLit {
                    expected.cloned()
                } else {
                    Some(inner.clone())
                };
                match want {
                    Some(w) => {
                        self.expect(rhs, &w, scope);
                        w
                    }
                    None => self.check(rhs, None, scope),
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => self.arith(e, op, lhs, rhs, scope),
        }
    }

    fn arith(&mut self, e: &Expr, op: BinOp, lhs: &Expr, rhs: &Expr, scope: &Scope) -> Ty {
        let l = self.check(lhs, None, scope);
        let r = self.check(rhs, None, scope);
        if l.is_error() || r.is_error() {
            return Ty::Error;
        }
        use Ty::*;
        let result = match (op, &l, &r) {
            (BinOp::Add | BinOp::Sub, Int, Int) => Some(Int),
            (BinOp::Add | BinOp::Sub, Decimal, Decimal) => Some(Decimal),
            (BinOp::Add | BinOp::Sub, Money, Money) => {
                self.currency_check(lhs, rhs);
                Some(Money)
            }
            (BinOp::Add | BinOp::Sub, Percent, Percent) => Some(Percent),
            (BinOp::Add | BinOp::Sub, Duration, Duration) => Some(Duration),
            (BinOp::Add | BinOp::Sub, BusinessDuration, BusinessDuration) => Some(BusinessDuration),
            (BinOp::Add | BinOp::Sub, Time, Duration) => Some(Time),
            (BinOp::Add, Duration, Time) => Some(Time),
            (BinOp::Sub, Time, Time) => Some(Duration),
            (BinOp::Mul, Int, Int) => Some(Int),
            (BinOp::Mul, Decimal, Decimal) => Some(Decimal),
            (BinOp::Mul, Money, Decimal | Int | Percent)
            | (BinOp::Mul, Decimal | Int | Percent, Money) => Some(Money),
            (BinOp::Mul, Duration, Int) | (BinOp::Mul, Int, Duration) => Some(Duration),
            (BinOp::Mul, Percent, Int | Decimal) | (BinOp::Mul, Int | Decimal, Percent) => {
                Some(Percent)
            }
            (BinOp::Div, Int, Int) => Some(Int),
            (BinOp::Div, Decimal, Decimal | Int) => Some(Decimal),
            (BinOp::Div, Money, Decimal | Int) => Some(Money),
            (BinOp::Div, Money, Money) => {
                self.currency_check(lhs, rhs);
                Some(Decimal)
            }
            (BinOp::Div, Duration, Int) => Some(Duration),
            _ => None,
        };
        result.unwrap_or_else(|| {
            let d = self.error(Code::BadOperands, e.span, format!("`{l} {} {r}` is not defined", op.as_str()), "unit error");
            if l.is_optional() || r.is_optional() {
                d.code = Code::OptionalMisuse;
                d.help = Some("unwrap optionals with `!` or give a default with `??` before arithmetic".into());
            } else {
                d.help = Some("arithmetic is unit-safe: Money ± Money, Money * Decimal, Time ± Duration, Time - Time, Int ± * Int".into());
            }
            Ty::Error
        })
    }

    fn match_expr(
        &mut self,
        e: &Expr,
        scrutinee: &Expr,
        arms: &[MatchArm],
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        let st = self.check(scrutinee, None, scope);
        let mut result: Option<Ty> = expected.cloned();
        let mut first_ty: Option<Ty> = None;
        for arm in arms {
            let t = match &result {
                Some(r) => {
                    let r = r.clone();
                    self.expect(&arm.value, &r, scope)
                }
                None => self.check(&arm.value, None, scope),
            };
            if first_ty.is_none() {
                first_ty = Some(t.clone());
                result = result.or(Some(t));
            }
        }
        self.patterns(
            e.span,
            &st,
            arms.iter().map(|a| &a.pattern).collect(),
            "match",
        );
        result.unwrap_or(Ty::Error)
    }

    /// Check arm patterns against an enum type and report missing variants (E0301).
    pub fn patterns(&mut self, span: Span, scrutinee: &Ty, patterns: Vec<&Pattern>, what: &str) {
        if scrutinee.is_error() {
            return;
        }
        let Some(def) = scrutinee.enum_def().cloned() else {
            self.error(
                Code::TypeMismatch,
                span,
                format!("`{what}` needs an enum value, found `{scrutinee}`"),
                "not an enum",
            );
            return;
        };
        if scrutinee.is_optional() {
            self.error(
                Code::OptionalMisuse,
                span,
                format!("`{what}` on `{scrutinee}`, which may be none"),
                "may be none",
            )
            .help = Some("unwrap it with `!` or give a default with `??`".into());
        }
        self.uses.insert(Use::Data(def.clone()));
        self.note_import(&def, false);
        let variants = self.index.enum_variants(&def).cloned().unwrap_or_default();
        let mut covered: BTreeSet<String> = BTreeSet::new();
        let mut wildcard = false;
        for p in patterns {
            match p {
                Pattern::Wildcard(_) => wildcard = true,
                Pattern::Alternatives(paths) => {
                    for path in paths {
                        let last = path.last();
                        let qualified_ok = path.segments.len() == 1
                            || matches!(self.index.resolve_type(self.module, &super::sig::TypeRef::Named(path.segments[..path.segments.len() - 1].iter().map(|s| s.name.clone()).collect())), Ok(Ty::Enum(ref d)) if *d == def);
                        if !variants.contains(&last.name) || !qualified_ok {
                            let vs: Vec<&str> = variants.iter().map(String::as_str).collect();
                            let d = self.error(
                                Code::UnknownVariant,
                                path.span,
                                format!("`{}` has no variant `{}`", def.name, path.dotted()),
                                "unknown variant",
                            );
                            d.help = Some(suggest(&last.name, &vs).map_or_else(
                                || format!("its variants are: {}", vs.join(", ")),
                                |s| format!("did you mean `{s}`?"),
                            ));
                        } else {
                            covered.insert(last.name.clone());
                        }
                    }
                }
            }
        }
        if !wildcard {
            let missing: Vec<&String> = variants.iter().filter(|v| !covered.contains(*v)).collect();
            if !missing.is_empty() {
                let list = missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    Code::NonExhaustive,
                    span,
                    format!("`{what}` does not cover {list}"),
                    "not exhaustive",
                )
                .help = Some(format!("add arms for {list}, or a catch-all `_ -> …`"));
            }
        }
    }
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'n>(name: &str, candidates: &[&'n str]) -> Option<&'n str> {
    let limit = (name.len() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&name.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
