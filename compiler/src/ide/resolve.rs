//! What every name in a module refers to.
//!
//! A walk over the owned AST that follows the checker's resolution rules (see
//! `semantic::expr`): parameters and the triggering events' fields first, then case facts,
//! the module's data and its imports, teams and calendars, and enum variants of the type
//! the checker gave the expression. It reads the checker's expression types instead of
//! re-deriving them, so `a.b` resolves to the field of whatever record `a` is.

use std::collections::BTreeMap;

use super::{Occurrence, SymbolId};
use crate::diagnostics::FileName;
use crate::semantic::ModuleInference;
use crate::semantic::index::{DataKind, OpKind, ProjectIndex};
use crate::semantic::sig::TypeRef;
use crate::semantic::types::{DefId, Ty};
use crate::source::Span;
use crate::syntax::ast::*;

mod rules;

/// Every resolved name of one module, declarations included.
pub fn occurrences(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    ast: &Module,
    types: &ModuleInference,
) -> Vec<Occurrence> {
    let mut w = Walker {
        index,
        module,
        file,
        types,
        out: Vec::new(),
        events: Vec::new(),
        params: BTreeMap::new(),
        bound: Vec::new(),
    };
    for item in &ast.items {
        w.events.clear();
        w.params.clear();
        w.item(item);
    }
    w.out
}

struct Walker<'a> {
    index: &'a ProjectIndex,
    module: &'a str,
    file: &'a FileName,
    types: &'a ModuleInference,
    out: Vec<Occurrence>,
    /// The events that trigger the rule being walked.
    events: Vec<DefId>,
    /// Function parameters in scope: name → declaration span.
    params: BTreeMap<String, Span>,
    /// Names bound by the enclosing `all`/`any`: left unresolved, so hover shows their
    /// type (docs/language.md §4.6).
    bound: Vec<String>,
}

impl Walker<'_> {
    fn push(&mut self, span: Span, id: SymbolId) {
        self.out.push(Occurrence {
            span,
            id,
            is_def: false,
        });
    }
    fn def(&mut self, span: Span, id: SymbolId) {
        self.out.push(Occurrence {
            span,
            id,
            is_def: true,
        });
    }
    fn data(&self, name: &str) -> DefId {
        DefId::new(self.module, name)
    }

    fn op(&mut self, kind: OpKind, id: &Ident) {
        if self.index.op(kind, &id.name).is_some() {
            self.push(id.span, SymbolId::Op(kind, id.name.clone()));
        }
    }

    fn team_or_person(&mut self, t: &Target) {
        if let Target::Name(id) = t {
            self.op(OpKind::Team, id);
        }
    }

    fn class(&mut self, id: &Ident) {
        if let Some(c) = &self.index.classify
            && c.variants.contains(&id.name)
        {
            self.push(
                id.span,
                SymbolId::Variant(c.enum_def.clone(), id.name.clone()),
            );
        }
    }

    /// A type or event path: data names, qualified or not.
    fn data_path(&mut self, p: &Path) -> Option<DefId> {
        let names: Vec<String> = p.segments.iter().map(|s| s.name.clone()).collect();
        let found = if names.len() == 1 {
            self.index.lookup_data(self.module, &names[0])
        } else {
            self.index.lookup_qualified(self.module, &names)
        };
        let (def, _) = found?;
        if names.len() > 1 {
            let prefix = &p.segments[..p.segments.len() - 1];
            let span = prefix[0].span.to(prefix[prefix.len() - 1].span);
            self.push(span, SymbolId::Module(def.module.to_string()));
        }
        self.push(p.last().span, SymbolId::Data(def.clone()));
        Some(def)
    }

    fn type_expr(&mut self, t: &TypeExpr) {
        match &t.kind {
            TypeExprKind::Named(p) => {
                self.data_path(p);
            }
            TypeExprKind::List(e) | TypeExprKind::Optional(e) => self.type_expr(e),
        }
    }

    fn trigger_events(&mut self, events: &[Path]) {
        for p in events {
            if let Some(def) = self.data_path(p) {
                self.events.push(def);
            }
        }
    }

    /// `connector.action` written as a path.
    fn action_path(&mut self, p: &Path) {
        if let [c, a] = p.segments.as_slice()
            && self.index.op(OpKind::Connector, &c.name).is_some()
        {
            self.push(c.span, SymbolId::Op(OpKind::Connector, c.name.clone()));
            if self.index.action(&c.name, &a.name).is_some() {
                self.push(a.span, SymbolId::Action(c.name.clone(), a.name.clone()));
            }
        }
    }

    fn item(&mut self, item: &Item) {
        match &item.kind {
            ItemKind::Error(_) => {}
            ItemKind::Import(i) => {
                let target = i.module.dotted();
                if self.index.modules.contains_key(&target) {
                    self.push(i.module.span, SymbolId::Module(target.clone()));
                    for n in i.names.iter().flatten() {
                        if self.index.sig(&target).is_some_and(|s| s.has_data(&n.name)) {
                            self.push(n.span, SymbolId::Data(DefId::new(&target, &n.name)));
                        }
                    }
                }
            }
            ItemKind::Enum(e) => {
                let owner = self.data(&e.name.name);
                self.def(e.name.span, SymbolId::Data(owner.clone()));
                for v in &e.variants {
                    self.def(
                        v.name.span,
                        SymbolId::Variant(owner.clone(), v.name.name.clone()),
                    );
                }
            }
            // The added fields are fields of the standard record (hover, references).
            ItemKind::Extend(x) => {
                let owner = self.data_path(&x.target);
                for f in &x.fields {
                    if let Some(o) = &owner {
                        self.def(f.name.span, SymbolId::Field(o.clone(), f.name.name.clone()));
                    }
                    self.type_expr(&f.ty);
                }
            }
            ItemKind::Record(r) | ItemKind::Event(r) => {
                let owner = self.data(&r.name.name);
                self.def(r.name.span, SymbolId::Data(owner.clone()));
                for f in &r.fields {
                    self.def(
                        f.name.span,
                        SymbolId::Field(owner.clone(), f.name.name.clone()),
                    );
                    self.type_expr(&f.ty);
                }
            }
            ItemKind::Table(t) => {
                let owner = self.data(&t.name.name);
                self.def(t.name.span, SymbolId::Data(owner.clone()));
                for f in &t.columns {
                    self.def(
                        f.name.span,
                        SymbolId::Field(owner.clone(), f.name.name.clone()),
                    );
                    self.type_expr(&f.ty);
                }
            }
            ItemKind::Aggregate(a) => {
                let owner = self.data(&a.name.name);
                self.def(a.name.span, SymbolId::Data(owner.clone()));
                self.type_expr(&a.key.ty);
                for f in &a.feeds {
                    self.trigger_events(&f.events);
                    self.expr(&f.key);
                    if let Some(w) = &f.when {
                        self.expr(w);
                    }
                }
                for c in &a.cases {
                    self.expr(&c.key);
                    if let Some(w) = &c.when {
                        self.expr(w);
                    }
                }
                for f in &a.fields {
                    let name = &f.field.name;
                    self.def(name.span, SymbolId::Field(owner.clone(), name.name.clone()));
                    self.type_expr(&f.field.ty);
                    if let AggOpDecl::Sum(e) | AggOpDecl::Latest(e) = &f.op {
                        self.expr(e);
                    }
                }
            }
            ItemKind::Let(l) => {
                self.def(l.name.span, SymbolId::Data(self.data(&l.name.name)));
                if let Some(t) = &l.ty {
                    self.type_expr(t);
                }
                self.expr(&l.value);
            }
            ItemKind::Fixture(f) => {
                self.def(f.name.span, SymbolId::Data(self.data(&f.name.name)));
                if let Some(t) = &f.ty {
                    self.type_expr(t);
                }
                self.expr(&f.value);
            }
            ItemKind::Fn(f) => {
                self.def(f.name.span, SymbolId::Data(self.data(&f.name.name)));
                for p in &f.params {
                    let local = SymbolId::Local {
                        file: self.file.clone(),
                        span: p.name.span,
                    };
                    self.def(p.name.span, local);
                    self.params.insert(p.name.name.clone(), p.name.span);
                    self.type_expr(&p.ty);
                }
                self.type_expr(&f.ret);
                self.expr(&f.body);
            }
            ItemKind::Calendar(c) => {
                self.def(
                    c.name.span,
                    SymbolId::Op(OpKind::Calendar, c.name.name.clone()),
                );
            }
            ItemKind::Team(t) => {
                self.def(t.name.span, SymbolId::Op(OpKind::Team, t.name.name.clone()));
                for c in &t.clauses {
                    if let TeamClause::Calendar(id) = c {
                        self.op(OpKind::Calendar, id);
                    }
                }
            }
            ItemKind::Classify(c) => {
                let enum_def = self.data_path(&c.enum_name);
                self.trigger_events(&c.events);
                for arm in &c.arms {
                    if let Some(d) = &enum_def {
                        self.push(
                            arm.variant.span,
                            SymbolId::Variant(d.clone(), arm.variant.name.clone()),
                        );
                    }
                    self.expr(&arm.cond);
                }
                if let (Some(d), Some(o)) = (&enum_def, &c.otherwise) {
                    self.push(o.span, SymbolId::Variant(d.clone(), o.name.clone()));
                }
            }
            ItemKind::Owners(o) => {
                for arm in &o.arms {
                    self.class(&arm.variant);
                    self.op(OpKind::Team, &arm.owner);
                    if let Some(e) = &arm.escalate {
                        self.op(OpKind::Team, e);
                    }
                }
                if let Some(a) = &o.acknowledge {
                    self.expr(a);
                }
            }
            ItemKind::Route(r) => {
                self.def(
                    r.name.span,
                    SymbolId::Op(OpKind::Route, r.name.name.clone()),
                );
                self.trigger_events(&r.events);
                if let Some(c) = &r.cond {
                    self.expr(c);
                }
                for c in &r.clauses {
                    match c {
                        RouteClause::Assign(a) => self.team_or_person(&a.target),
                        RouteClause::Key(es) => es.iter().for_each(|e| self.expr(e)),
                        RouteClause::Priority { .. } | RouteClause::Rebalance(_) => {}
                        RouteClause::Notify(n) => self.team_or_person(&n.to),
                    }
                }
            }
            ItemKind::Sla(s) => self.sla(s),
            ItemKind::Connector(c) => {
                self.def(
                    c.name.span,
                    SymbolId::Op(OpKind::Connector, c.name.name.clone()),
                );
                for a in &c.actions {
                    self.def(
                        a.name.span,
                        SymbolId::Action(c.name.name.clone(), a.name.name.clone()),
                    );
                    for p in &a.params {
                        self.type_expr(&p.ty);
                    }
                    if let Some(comp) = &a.compensate {
                        self.push(
                            comp.span,
                            SymbolId::Action(c.name.name.clone(), comp.name.clone()),
                        );
                    }
                    if let Some(Effect::Money(e)) = &a.effect {
                        self.expr(e);
                    }
                }
            }
            ItemKind::Gate(g) => {
                self.def(g.name.span, SymbolId::Op(OpKind::Gate, g.name.name.clone()));
                for s in &g.selectors {
                    match s {
                        GateSelector::Action(p) => self.action_path(p),
                        GateSelector::AutomationNamed(n, _) => self.op(OpKind::Automation, n),
                        _ => {}
                    }
                }
                if let Some(c) = &g.cond {
                    self.expr(c);
                }
                for c in &g.clauses {
                    match c {
                        GateClause::RequireApproval { team, .. }
                        | GateClause::RequireReview { team, .. } => self.op(OpKind::Team, team),
                        GateClause::RequireConfirmation(_) | GateClause::ReleaseWhenClear(_) => {}
                        GateClause::Notify(n) => self.team_or_person(&n.to),
                        GateClause::Expire { after, actions, .. } => {
                            self.expr(after);
                            self.sla_actions(actions);
                        }
                    }
                }
            }
            ItemKind::Automation(a) => {
                self.def(
                    a.name.span,
                    SymbolId::Op(OpKind::Automation, a.name.name.clone()),
                );
                for c in &a.clauses {
                    if let AutomationClause::On { events, .. } = c {
                        self.trigger_events(events);
                    }
                }
                for c in &a.clauses {
                    match c {
                        AutomationClause::Version { .. } | AutomationClause::OncePerCase(_) => {}
                        AutomationClause::Owner(id) => self.op(OpKind::Team, id),
                        AutomationClause::On { cond, .. } => {
                            if let Some(e) = cond {
                                self.expr(e);
                            }
                        }
                        AutomationClause::Do { steps, .. } => {
                            for s in steps {
                                match s {
                                    DoStep::Call(s) => self.expr(&s.call),
                                    DoStep::Wait(w) => match &w.kind {
                                        WaitKind::For(d) => self.expr(d),
                                        WaitKind::Until { cond, within } => {
                                            self.expr(cond);
                                            within.iter().for_each(|d| self.expr(d));
                                        }
                                    },
                                    DoStep::Notify(n) => self.team_or_person(&n.to),
                                }
                            }
                        }
                        AutomationClause::Rollout(r) => {
                            if let Some(p) = &r.percent {
                                self.expr(p);
                            }
                            r.by.iter().for_each(|e| self.expr(e));
                            if let Some(st) = &r.stages {
                                self.stages(st);
                            }
                        }
                        AutomationClause::Breaker(b) => {
                            self.expr(&b.threshold);
                            for act in &b.actions {
                                match act {
                                    BreakerAction::Halt(_) => {}
                                    BreakerAction::Assign(t) | BreakerAction::Notify(t) => {
                                        self.team_or_person(t)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            ItemKind::Test(t) => self.test(t),
            ItemKind::Lifecycle(l) => {
                for c in &l.clauses {
                    for p in &c.events {
                        self.data_path(p);
                    }
                    if let Some(d) = &c.duration {
                        self.expr(d);
                    }
                }
            }
            ItemKind::Acceptance(a) => {
                for c in &a.clauses {
                    if let AcceptanceClause::Threshold { value, .. } = c {
                        self.expr(value);
                    }
                }
            }
        }
    }

    /// A match or `target by` pattern over the value at `scrutinee`.
    fn pattern(&mut self, p: &Pattern, scrutinee: ExprId) {
        let Pattern::Alternatives(paths) = p else {
            return;
        };
        let enum_def = self
            .types
            .type_of(scrutinee)
            .and_then(|t| t.strip_optional().enum_def().cloned());
        for path in paths {
            match path.segments.as_slice() {
                [v] => {
                    if let Some(d) = &enum_def {
                        self.variant(d, v);
                    }
                }
                [.., e, v] => {
                    let prefix = Path {
                        segments: path.segments[..path.segments.len() - 1].to_vec(),
                        span: path.segments[0].span.to(e.span),
                    };
                    if let Some(d) = self.data_path(&prefix) {
                        self.variant(&d, v);
                    }
                }
                [] => {}
            }
        }
    }

    fn variant(&mut self, def: &DefId, v: &Ident) {
        if self
            .index
            .enum_variants(def)
            .is_some_and(|vs| vs.contains(&v.name))
        {
            self.push(v.span, SymbolId::Variant(def.clone(), v.name.clone()));
        }
    }

    /// A field `name` of one of the triggering events, or a case fact.
    fn event_field(&self, name: &str) -> Option<SymbolId> {
        for ev in &self.events {
            if self
                .index
                .event_fields(ev)
                .is_some_and(|fs| fs.iter().any(|(n, _)| n == name))
            {
                return Some(SymbolId::Field(ev.clone(), name.to_string()));
            }
        }
        if self.index.facts.contains_key(name) {
            for ev in self.index.receivable.values() {
                if self
                    .index
                    .event_fields(ev)
                    .is_some_and(|fs| fs.iter().any(|(n, _)| n == name))
                {
                    return Some(SymbolId::Field(ev.clone(), name.to_string()));
                }
            }
        }
        None
    }

    fn name(&mut self, e: &Expr, id: &Ident) {
        if self.bound.contains(&id.name) {
            return;
        }
        if let Some(span) = self.params.get(&id.name) {
            let local = SymbolId::Local {
                file: self.file.clone(),
                span: *span,
            };
            self.push(id.span, local);
            return;
        }
        if let Some(f) = self.event_field(&id.name) {
            self.push(id.span, f);
            return;
        }
        if let Some((def, kind)) = self.index.lookup_data(self.module, &id.name) {
            let is_variant = matches!(kind, DataKind::Enum | DataKind::Record | DataKind::Event)
                && self.ty(e).and_then(Ty::enum_def).is_some_and(|d| {
                    self.index
                        .enum_variants(d)
                        .is_some_and(|vs| vs.contains(&id.name))
                });
            if !is_variant {
                self.push(id.span, SymbolId::Data(def));
                return;
            }
        }
        if let Some(d) = self.ty(e).and_then(Ty::enum_def).cloned()
            && self
                .index
                .enum_variants(&d)
                .is_some_and(|vs| vs.contains(&id.name))
        {
            self.push(id.span, SymbolId::Variant(d, id.name.clone()));
            return;
        }
        self.op(OpKind::Team, id);
        self.op(OpKind::Calendar, id);
    }

    fn ty(&self, e: &Expr) -> Option<&Ty> {
        self.types.type_of(e.id).map(Ty::strip_optional)
    }

    fn expr(&mut self, e: &Expr) {
        match &e.kind {
            ExprKind::Name(id) => self.name(e, id),
            ExprKind::Field { base, field, .. } => self.field(base, field),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Record { ty, spread, fields } => {
                let owner = match ty {
                    Some(p) => self.data_path(p),
                    None => match self.ty(e) {
                        Some(Ty::Record(d) | Ty::Event(d)) => Some(d.clone()),
                        _ => None,
                    },
                };
                if let Some(s) = spread {
                    self.expr(s);
                }
                for f in fields {
                    if let Some(d) = &owner {
                        self.field_of(d, &f.name);
                    }
                    self.expr(&f.value);
                }
            }
            ExprKind::Unwrap(inner) => self.expr(inner),
            ExprKind::Index { base, index } => {
                self.expr(base);
                self.expr(index);
            }
            ExprKind::IsSet { operand, .. } => self.expr(operand),
            ExprKind::Quant {
                var, list, body, ..
            } => {
                self.expr(list);
                self.bound.push(var.name.clone());
                self.expr(body);
                self.bound.pop();
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                args.iter().for_each(|a| self.expr(&a.value));
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Match { scrutinee, arms } => {
                self.expr(scrutinee);
                for arm in arms {
                    self.pattern(&arm.pattern, scrutinee.id);
                    self.expr(&arm.value);
                }
            }
            _ => {}
        }
    }

    fn field_of(&mut self, owner: &DefId, name: &Ident) {
        let fields = self
            .index
            .record_fields(owner)
            .or_else(|| self.index.event_fields(owner));
        if fields.is_some_and(|fs| fs.iter().any(|(n, _)| *n == name.name)) {
            self.push(name.span, SymbolId::Field(owner.clone(), name.name.clone()));
        }
    }

    fn field(&mut self, base: &Expr, field: &Ident) {
        if let ExprKind::Name(b) = &base.kind
            && !self.params.contains_key(&b.name)
            && self.event_field(&b.name).is_none()
        {
            // `Enum.Variant`
            if let Some((def, DataKind::Enum)) = self.index.lookup_data(self.module, &b.name) {
                self.push(b.span, SymbolId::Data(def.clone()));
                self.variant(&def, field);
                return;
            }
            // `connector.action`
            if self.index.lookup_data(self.module, &b.name).is_none()
                && self.index.op(OpKind::Connector, &b.name).is_some()
            {
                self.push(b.span, SymbolId::Op(OpKind::Connector, b.name.clone()));
                if self.index.action(&b.name, &field.name).is_some() {
                    self.push(
                        field.span,
                        SymbolId::Action(b.name.clone(), field.name.clone()),
                    );
                }
                return;
            }
            // `alias.name`
            if let Some(target) = self.index.module_alias(self.module, &b.name) {
                self.push(b.span, SymbolId::Module(target.clone()));
                if self
                    .index
                    .sig(&target)
                    .is_some_and(|s| s.has_data(&field.name))
                {
                    self.push(field.span, SymbolId::Data(DefId::new(&target, &field.name)));
                }
                return;
            }
        }
        self.expr(base);
        match self.ty(base) {
            Some(Ty::Record(d) | Ty::Event(d)) => {
                let d = d.clone();
                self.field_of(&d, field);
            }
            Some(Ty::Enum(d)) => {
                let d = d.clone();
                self.variant(&d, field);
            }
            _ => {}
        }
    }
}

/// The declared type of a data name, as written (for hover).
pub fn type_ref_text(t: &TypeRef) -> String {
    match t {
        TypeRef::Named(p) => p.join("."),
        TypeRef::Builtin(ty) => ty.to_string(),
        TypeRef::List(e) => format!("List<{}>", type_ref_text(e)),
        TypeRef::Optional(e) => format!("{}?", type_ref_text(e)),
        TypeRef::Unknown => "?".into(),
    }
}
