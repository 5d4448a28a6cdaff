//! Aggregates over history (docs/language.md §5.6): the declaration's checks and
//! `aggregate[key]` in expressions.
//!
//! An aggregate declares the record type of a lookup under its own name (its fields, as
//! declared), so `.field`, hover and completion work as for records. A lookup is never
//! none: a key never seen reads zero counts and sums (docs/runtime.md, "Aggregates").

use std::collections::BTreeMap;

use super::expr::{Cx, Scope, Use};
use super::index::{DataKind, ProjectIndex};
use super::types::{DefId, Ty, accepts};
use crate::diagnostics::Code;
use crate::source::Span;
use crate::syntax::ast::{AggOpDecl, AggregateDecl, Expr, ExprKind};

/// The shortest window: 30 buckets of at least a second.
pub const MIN_WINDOW: i64 = 30;
/// The longest window: ten years of 365 days.
pub const MAX_WINDOW: i64 = 3650 * 86_400;
/// The most keys an aggregate may keep.
pub const MAX_KEEP: i64 = 10_000_000;

/// What a key may be (compared exactly, as table keys are).
fn key_type_ok(t: &Ty) -> bool {
    matches!(
        t,
        Ty::Int | Ty::String | Ty::Person | Ty::Enum(_) | Ty::Error
    )
}

/// The type a field with this operation over a value of type `value` has.
pub fn field_type(op: &AggOpDecl, value: &Ty) -> Option<Ty> {
    match op {
        AggOpDecl::Count(_) => Some(Ty::Int),
        AggOpDecl::Sum(_) => match value.strip_optional() {
            Ty::Int => Some(Ty::Int),
            Ty::Decimal => Some(Ty::Decimal),
            // Zero money has no currency: an empty window sums to none.
            Ty::Money => Some(Ty::Money.optional()),
            Ty::Error => Some(Ty::Error),
            _ => None,
        },
        AggOpDecl::Latest(_) => Some(value.strip_optional().clone().optional()),
    }
}

impl Cx<'_> {
    pub(crate) fn check_aggregate(&mut self, a: &AggregateDecl) {
        let key_ty = self.resolve_type_expr(&a.key.ty);
        if !key_type_ok(&key_ty) {
            self.error(
                Code::AggregateKey,
                a.key.ty.span,
                format!("an aggregate's key cannot be `{key_ty}`"),
                "not a key type",
            )
            .help = Some("a key is an Int, a String, a Person or an enum".into());
        }
        if let Some((d, span)) = a.window
            && !(MIN_WINDOW..=MAX_WINDOW).contains(&d)
        {
            self.error(
                Code::AggregateWindow,
                span,
                "a window is between 30s and 3650d",
                "out of range",
            )
            .help = Some(
                "the runtime cuts a window into 30 buckets: write e.g. `over 30d` or `over 1h`; \
                 leave `over` out to count all history"
                    .into(),
            );
        }
        if let Some((n, span)) = a.keep
            && !(1..=MAX_KEEP).contains(&n)
        {
            self.error(
                Code::AggregateWindow,
                span,
                "`keep` is between 1 and 10000000 keys",
                "out of range",
            )
            .help = Some("leave `keep` out for the default, 100000 keys".into());
        }
        if !a.cases.is_empty() {
            self.check_open_cases(a, &key_ty);
        } else if a.feeds.is_empty() || a.fields.is_empty() {
            let d = self.error(
                Code::AggregateStructure,
                a.name.span,
                format!(
                    "aggregate `{}` needs at least one `on` clause and one field",
                    a.name.name
                ),
                "incomplete",
            );
            d.help = Some(
                "e.g. `on RefundRequested by charge.customer` and `requests: Int = count`".into(),
            );
        }
        let mut all_events = Vec::new();
        for f in &a.feeds {
            let events = self.events(&f.events);
            let scope = self.rule_scope(&events);
            all_events.extend(events);
            let t = self.check(&f.key, None, &scope);
            if !t.is_error() && !key_ty.is_error() && !accepts(&key_ty.clone().optional(), &t) {
                self.error(
                    Code::AggregateKey,
                    f.key.span,
                    format!(
                        "this key is `{t}`; aggregate `{}` is keyed by `{key_ty}`",
                        a.name.name
                    ),
                    format!("this is `{t}`"),
                )
                .help = Some(format!(
                    "every `on … by KEY` gives a `{key_ty}` (an optional one is fine: none feeds nothing)"
                ));
            }
            if let Some(w) = &f.when {
                self.expect(w, &Ty::Bool, &scope);
            }
        }
        let scope = self.rule_scope(&all_events);
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for f in &a.fields {
            let name = &f.field.name;
            if let Some(first) = seen.insert(&name.name, name.span) {
                self.duplicate(
                    name.span,
                    first,
                    format!("field `{}` is declared twice", name.name),
                    "first declared here",
                );
            }
            let declared = self.resolve_type_expr(&f.field.ty);
            let value = match &f.op {
                AggOpDecl::Count(_) => Ty::Int,
                AggOpDecl::Sum(e) | AggOpDecl::Latest(e) => self.check(e, None, &scope),
            };
            if !a.cases.is_empty() && !matches!(f.op, AggOpDecl::Count(_)) {
                self.error(
                    Code::OpenCasesField,
                    f.span,
                    format!(
                        "aggregate `{}` counts open cases: its fields are `count`",
                        a.name.name
                    ),
                    "not `count`",
                )
                .help = Some(format!(
                    "write `{}: Int = count` (the number of open cases under the key); sums and \
                     latest values come from events, in an aggregate with `on` clauses",
                    name.name
                ));
                continue;
            }
            let Some(want) = field_type(&f.op, &value) else {
                let span = match &f.op {
                    AggOpDecl::Sum(e) | AggOpDecl::Latest(e) => e.span,
                    AggOpDecl::Count(s) => *s,
                };
                self.error(
                    Code::AggregateSum,
                    span,
                    format!("`sum` adds numbers, and this is `{value}`"),
                    "not a number",
                )
                .help = Some(
                    "sum an Int, a Decimal or a Money value; `count` counts events and \
                     `latest(…)` keeps the last value"
                        .into(),
                );
                continue;
            };
            if !declared.is_error() && !want.is_error() && declared != want {
                self.error(
                    Code::AggregateFieldType,
                    f.field.ty.span,
                    format!("this field is `{want}`, not `{declared}`"),
                    format!("declared `{declared}`"),
                )
                .help = Some(format!(
                    "declare it `{}: {want}`: `count` is an Int, `sum` has its values' type \
                     (Money sums are `Money?`: none while the window is empty), `latest` is \
                     optional",
                    name.name
                ));
            }
        }
    }

    /// `open cases by KEY [when COND]` (§5.6): one clause, no events, no window, no cap; the
    /// key and condition read the case's facts (no event is in scope: the lifecycle, not
    /// an event, moves a case in and out).
    fn check_open_cases(&mut self, a: &AggregateDecl, key_ty: &Ty) {
        let shape = |what: &str| {
            format!(
                "aggregate `{}` counts open cases, so it has no {what}",
                a.name.name
            )
        };
        let mut wrong: Vec<(Span, String, &str)> = Vec::new();
        for c in a.cases.iter().skip(1) {
            wrong.push((c.span, shape("second `open cases` clause"), "second clause"));
        }
        for f in &a.feeds {
            wrong.push((f.span, shape("`on` clauses"), "an event feed"));
        }
        if let Some((_, span)) = a.window {
            wrong.push((span, shape("window"), "a window"));
        }
        if let Some((_, span)) = a.keep {
            wrong.push((span, shape("key cap"), "a key cap"));
        }
        for (span, msg, label) in wrong {
            self.error(Code::OpenCasesShape, span, msg, label).help = Some(
                "a case counts while it is open, under the key its facts give; memory follows \
                 the open cases, so there is no window and no `keep`. Count events in a \
                 separate aggregate with `on` clauses"
                    .into(),
            );
        }
        if a.fields.is_empty() {
            self.error(
                Code::AggregateStructure,
                a.name.span,
                format!("aggregate `{}` needs a field", a.name.name),
                "incomplete",
            )
            .help = Some("e.g. `open: Int = count`".into());
        }
        let scope = self.rule_scope(&[]);
        for c in &a.cases {
            let t = self.check(&c.key, None, &scope);
            if !t.is_error() && !key_ty.is_error() && !accepts(&key_ty.clone().optional(), &t) {
                self.error(
                    Code::AggregateKey,
                    c.key.span,
                    format!(
                        "this key is `{t}`; aggregate `{}` is keyed by `{key_ty}`",
                        a.name.name
                    ),
                    format!("this is `{t}`"),
                )
                .help = Some(format!(
                    "`open cases by KEY` gives a `{key_ty}` from the case's facts (an optional \
                     one is fine: a case whose key is none counts nowhere)"
                ));
            }
            if let Some(w) = &c.when {
                self.expect(w, &Ty::Bool, &scope);
            }
        }
    }

    /// `base[index]` when `base` names an aggregate: its fields for the key, never none.
    pub(crate) fn check_aggregate_index(
        &mut self,
        base: &Expr,
        index: &Expr,
        scope: &Scope,
    ) -> Option<Ty> {
        let ExprKind::Name(n) = &base.kind else {
            return None;
        };
        if scope.locals.contains_key(&n.name) {
            return None;
        }
        let (def, _) = self
            .index
            .lookup_data(self.module, &n.name)
            .filter(|(d, k)| *k == DataKind::Record && is_aggregate(self.index, d))?;
        self.uses.insert(Use::Data(def.clone()));
        self.note_import(&def, false);
        let row = Ty::Record(def.clone());
        self.record_fact(base, row.clone());
        let key_ty = key_type(self.index, &def).unwrap_or(Ty::Error);
        let t = self.check(index, Some(&key_ty), scope);
        if !t.is_error() && !key_ty.is_error() && !accepts(&key_ty.clone().optional(), &t) {
            self.error(
                Code::AggregateLookupKey,
                index.span,
                format!(
                    "aggregate `{}` is keyed by `{key_ty}`, and this is `{t}`",
                    n.name
                ),
                format!("this is `{t}`"),
            )
            .help = Some(format!(
                "look it up with the same kind of key its `on … by` clauses give (`{key_ty}`)"
            ));
        }
        Some(row)
    }
}

/// Whether the record `def` is an aggregate's lookup type.
pub fn is_aggregate(index: &ProjectIndex, def: &DefId) -> bool {
    index
        .sig(&def.module)
        .is_some_and(|s| s.aggregates.contains_key(&*def.name))
}

/// An aggregate's declared key type.
pub fn key_type(index: &ProjectIndex, def: &DefId) -> Option<Ty> {
    let sig = index.sig(&def.module)?.aggregates.get(&*def.name)?;
    index.resolve_type(&def.module, &sig.key_ty).ok()
}
