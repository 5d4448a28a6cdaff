//! Checking one module's declarations: imports, duplicates within the module, and each
//! declaration's clauses and expressions in the scope the brief gives it (§3, §7.4–7.12).
//! Whole-project properties (ownership totality, gate coverage, unused names) live in
//! `project.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::expr::{Cx, Scope, Use, suggest};
use super::index::OpKind;
use super::sig::TypeRef;
use super::types::Ty;
use super::values;
use crate::diagnostics::{Code, Label};
use crate::source::Span;
use crate::syntax::ast::*;

impl Cx<'_> {
    pub fn check_module(&mut self, module: &Module) {
        self.check_imports(module);
        self.check_local_duplicates(module);
        for item in &module.items {
            match &item.kind {
                ItemKind::Import(_) | ItemKind::Error(_) => {}
                ItemKind::Enum(e) => self.check_enum(e),
                ItemKind::Record(r) | ItemKind::Event(r) => {
                    self.check_record(r, matches!(item.kind, ItemKind::Event(_)))
                }
                ItemKind::Let(l) => self.check_let(l),
                ItemKind::Fn(f) => self.check_fn(f),
                ItemKind::Calendar(c) => {
                    let ds = values::check_calendar(self.file, c);
                    self.diags.extend(ds);
                }
                ItemKind::Team(t) => self.check_team(t),
                ItemKind::Classify(c) => self.check_classify(c),
                ItemKind::Owners(o) => self.check_owners(o),
                ItemKind::Route(r) => self.check_route(r),
                ItemKind::Sla(s) => self.check_sla(s),
                ItemKind::Connector(c) => self.check_connector(c),
                ItemKind::Gate(g) => self.check_gate(g),
                ItemKind::Automation(a) => self.check_automation(a),
                ItemKind::Fixture(f) => self.check_fixture(f),
                ItemKind::Test(t) => self.check_test(t),
                ItemKind::Acceptance(a) => self.check_acceptance(a),
                ItemKind::Lifecycle(l) => self.check_lifecycle(l),
                ItemKind::Table(t) => self.check_table(t),
                ItemKind::Aggregate(a) => self.check_aggregate(a),
                ItemKind::Extend(e) => self.check_extend(e),
            }
        }
        self.check_unused_imports(module);
    }

    // --- imports and duplicates -----------------------------------------------------------

    pub(crate) fn check_imports(&mut self, module: &Module) {
        let mut brought: BTreeMap<String, (String, Span)> = BTreeMap::new();
        let sig = self.index.sig(self.module).cloned().unwrap_or_default();
        for item in &module.items {
            let ItemKind::Import(imp) = &item.kind else {
                continue;
            };
            let target = imp.module.dotted();
            let Some(tsig) = self.index.sig(&target).cloned() else {
                let mods: Vec<&str> = self.index.modules.keys().map(String::as_str).collect();
                let d = self.error(
                    Code::UnknownModule,
                    imp.module.span,
                    format!("unknown module `{target}`"),
                    "no such module",
                );
                d.help = Some(suggest(&target, &mods).map_or_else(
                    || "modules are named by their path under the source folder (`rules/billing/refunds.mesh` is `billing.refunds`)".to_string(),
                    |s| format!("did you mean `{s}`?"),
                ));
                continue;
            };
            if target == self.module {
                self.error(
                    Code::UnknownModule,
                    imp.module.span,
                    "a module cannot import itself",
                    "this module",
                );
                continue;
            }
            for name in imp.names.iter().flatten() {
                if !tsig.has_data(&name.name) {
                    let op = self.index.op_kinds(&name.name);
                    let d = self.error(
                        Code::UnknownImport,
                        name.span,
                        format!("`{target}` has no `{}`", name.name),
                        "not declared there",
                    );
                    if let Some(k) = op.first() {
                        d.help = Some(format!(
                            "`{}` is {}: operational names are usable everywhere without an import",
                            name.name,
                            k.describe()
                        ));
                    } else {
                        let mut cands: Vec<&str> = tsig
                            .enums
                            .keys()
                            .chain(tsig.records.keys())
                            .chain(tsig.events.keys())
                            .map(String::as_str)
                            .collect();
                        cands.extend(
                            tsig.lets
                                .keys()
                                .chain(tsig.fns.keys())
                                .chain(tsig.fixtures.keys())
                                .map(String::as_str),
                        );
                        d.help =
                            suggest(&name.name, &cands).map(|s| format!("did you mean `{s}`?"));
                    }
                    continue;
                }
                if sig.has_data(&name.name) {
                    self.error(
                        Code::ImportConflict,
                        name.span,
                        format!(
                            "`{}` is imported but also declared in this module",
                            name.name
                        ),
                        "imported here",
                    )
                    .help = Some("rename the local declaration or drop the import".into());
                    continue;
                }
                match brought.get(&name.name) {
                    Some((other, span)) if *other != target => {
                        let span = *span;
                        let file = self.file.clone();
                        let d = self.error(
                            Code::ImportConflict,
                            name.span,
                            format!(
                                "`{}` is imported from both `{other}` and `{target}`",
                                name.name
                            ),
                            "second import",
                        );
                        d.secondary
                            .push(Label::new(&file, span, "first imported here"));
                        d.help = Some(format!(
                            "import one of them as a module instead, e.g. `import {target}` and write `{}.{}`",
                            target.rsplit('.').next().unwrap_or(&target),
                            name.name
                        ));
                    }
                    _ => {
                        brought.insert(name.name.clone(), (target.clone(), name.span));
                    }
                }
            }
        }
    }

    pub(crate) fn check_unused_imports(&mut self, module: &Module) {
        // Names already reported by `check_imports` (E0106) are not reported again as unused.
        let local = self.index.sig(self.module).cloned().unwrap_or_default();
        let mut brought: BTreeMap<&str, String> = BTreeMap::new();
        for item in &module.items {
            let ItemKind::Import(imp) = &item.kind else {
                continue;
            };
            let target = imp.module.dotted();
            if self.index.sig(&target).is_none() || target == self.module {
                continue;
            }
            match &imp.names {
                None => {
                    if !self.used_imports.contains(&(target.clone(), None)) {
                        self.error(
                            Code::UnusedImport,
                            imp.module.span,
                            format!("module `{target}` is imported but never used"),
                            "unused import",
                        )
                        .help = Some("remove the import".into());
                    }
                }
                Some(names) => {
                    for n in names {
                        let first = brought.entry(&n.name).or_insert_with(|| target.clone());
                        if *first != target || local.has_data(&n.name) {
                            continue;
                        }
                        // Importing a std event makes it receivable: that is a use.
                        let is_std_event = target.starts_with("std.")
                            && self
                                .index
                                .sig(&target)
                                .is_some_and(|s| s.events.contains_key(&n.name));
                        if !is_std_event
                            && !self
                                .used_imports
                                .contains(&(target.clone(), Some(n.name.clone())))
                            && self.index.sig(&target).is_some_and(|s| s.has_data(&n.name))
                        {
                            self.error(
                                Code::UnusedImport,
                                n.span,
                                format!("`{}` is imported but never used", n.name),
                                "unused import",
                            )
                            .help = Some("remove it from the import list".into());
                        }
                    }
                }
            }
        }
    }

    /// Duplicate data/helper names within the module (operational names are project-wide
    /// and checked in `project.rs`).
    pub(crate) fn check_local_duplicates(&mut self, module: &Module) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for item in &module.items {
            let name = match &item.kind {
                ItemKind::Enum(e) => &e.name,
                ItemKind::Record(r) | ItemKind::Event(r) => &r.name,
                ItemKind::Let(l) => &l.name,
                ItemKind::Fn(f) => &f.name,
                ItemKind::Fixture(f) => &f.name,
                ItemKind::Table(t) => &t.name,
                ItemKind::Aggregate(a) => &a.name,
                _ => continue,
            };
            if let Some(first) = seen.get(name.name.as_str()) {
                let first = *first;
                let file = self.file.clone();
                let d = self.error(
                    Code::DuplicateName,
                    name.span,
                    format!("`{}` is declared twice in this module", name.name),
                    "declared again here",
                );
                d.secondary
                    .push(Label::new(&file, first, "first declared here"));
                d.help = Some("rename one of them".into());
            } else {
                seen.insert(&name.name, name.span);
            }
        }
        let mut tests: BTreeMap<&str, Span> = BTreeMap::new();
        for item in &module.items {
            if let ItemKind::Test(t) = &item.kind {
                if let Some(first) = tests.get(t.name.value.as_str()) {
                    let first = *first;
                    self.duplicate(
                        t.name.span,
                        first,
                        format!("test \"{}\" is declared twice", t.name.value),
                        "first declared here",
                    );
                } else {
                    tests.insert(&t.name.value, t.name.span);
                }
            }
        }
    }

    // --- data ----------------------------------------------------------------------------

    pub fn resolve_type_expr(&mut self, t: &TypeExpr) -> Ty {
        let tref = TypeRef::from_ast(t);
        match self.index.resolve_type(self.module, &tref) {
            Ok(ty) => {
                let names = match &t.kind {
                    TypeExprKind::Named(p) => p.segments.iter().map(|s| s.name.clone()).collect(),
                    _ => vec![String::new()],
                };
                self.note_type_use(&ty, &names);
                ty
            }
            Err(_) if self.from_failed_import(&innermost_path(t)) => Ty::Error,
            Err(msg) => {
                let name = msg.split('`').nth(1).unwrap_or("").to_string();
                let local = self.index.sig(self.module).cloned().unwrap_or_default();
                let mut cands: Vec<&str> = BUILTIN_TYPES.to_vec();
                cands.extend(
                    local
                        .enums
                        .keys()
                        .chain(local.records.keys())
                        .chain(local.events.keys())
                        .map(String::as_str),
                );
                let hint = self
                    .import_hint(&name)
                    .or_else(|| suggest(&name, &cands).map(|s| format!("did you mean `{s}`?")));
                let d = self.error(Code::UnknownType, t.span, msg, "unknown type");
                d.help = hint.or_else(|| Some("built-in types: Bool Int Decimal Money Percent Duration BusinessDuration Date TimeOfDay Time String Person, List<T>, T?".into()));
                Ty::Error
            }
        }
    }

    pub(crate) fn check_enum(&mut self, e: &EnumDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for v in &e.variants {
            if let Some(first) = seen.insert(&v.name.name, v.name.span) {
                self.duplicate(
                    v.name.span,
                    first,
                    format!("variant `{}` is listed twice", v.name.name),
                    "first listed here",
                );
            }
        }
        if e.variants.is_empty() {
            self.error(
                Code::TypeMismatch,
                e.name.span,
                format!("enum `{}` has no variants", e.name.name),
                "empty enum",
            );
        }
    }

    pub(crate) fn check_record(&mut self, r: &RecordDecl, is_event: bool) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for f in &r.fields {
            if let Some(first) = seen.insert(&f.name.name, f.name.span) {
                self.duplicate(
                    f.name.span,
                    first,
                    format!("field `{}` is declared twice", f.name.name),
                    "first declared here",
                );
            }
            if is_event && f.name.name == "case" {
                self.error(
                    Code::DuplicateName,
                    f.name.span,
                    "an event cannot have a field named `case`",
                    "reserved",
                )
                .help = Some("`case` is the envelope's case id; rename the field".into());
            }
            self.resolve_type_expr(&f.ty);
        }
    }

    pub(crate) fn check_let(&mut self, l: &LetDecl) {
        let scope = Scope::default();
        match &l.ty {
            Some(t) => {
                let ty = self.resolve_type_expr(t);
                self.expect(&l.value, &ty, &scope);
            }
            None => {
                let ty = self.check(&l.value, None, &scope);
                let shallow = self
                    .index
                    .sig(self.module)
                    .and_then(|s| s.lets.get(&l.name.name))
                    .map(|s| s.ty.clone());
                if shallow == Some(TypeRef::Unknown) && !ty.is_error() {
                    self.error(
                        Code::NeedsContext,
                        l.name.span,
                        format!("the type of `{}` must be written", l.name.name),
                        "add a type",
                    )
                    .help = Some(match ty {
                        Ty::EmptyList => format!(
                            "write the element type, e.g. `let {}: List<String> = []`",
                            l.name.name
                        ),
                        Ty::NoneLit => {
                            format!("write the type, e.g. `let {}: Person? = none`", l.name.name)
                        }
                        _ => format!(
                            "write `let {}: {ty} = …` (constants whose value is not a literal need their type)",
                            l.name.name
                        ),
                    });
                }
            }
        }
    }

    pub(crate) fn check_fn(&mut self, f: &FnDecl) {
        let mut scope = Scope::default();
        for p in &f.params {
            let t = self.resolve_type_expr(&p.ty);
            if scope.locals.insert(p.name.name.clone(), t).is_some() {
                self.error(
                    Code::DuplicateName,
                    p.name.span,
                    format!("parameter `{}` is declared twice", p.name.name),
                    "again here",
                );
            }
        }
        let ret = self.resolve_type_expr(&f.ret);
        self.expect(&f.body, &ret, &scope);
    }

    pub(crate) fn check_fixture(&mut self, f: &FixtureDecl) {
        let scope = Scope::default();
        match &f.ty {
            Some(t) => {
                let ty = self.resolve_type_expr(t);
                self.expect(&f.value, &ty, &scope);
            }
            None => {
                self.check(&f.value, None, &scope);
            }
        }
    }

    // --- operational names ----------------------------------------------------------------

    /// Resolve an operational name of one kind, reporting unknown or wrong-kind names.
    pub fn op_ref(&mut self, kind: OpKind, id: &Ident) -> bool {
        if self.index.op(kind, &id.name).is_some() {
            self.uses.insert(Use::Op(kind, id.name.clone()));
            return true;
        }
        let others = self.index.op_kinds(&id.name);
        if let Some(k) = others.first() {
            self.error(
                Code::WrongKind,
                id.span,
                format!("`{}` is {}, not {}", id.name, k.describe(), kind.describe()),
                format!("expected {}", kind.describe()),
            );
            return false;
        }
        let names: Vec<String> = self
            .index
            .ops
            .keys()
            .filter(|(k, _)| *k == kind)
            .map(|(_, n)| n.clone())
            .collect();
        let cands: Vec<&str> = names.iter().map(String::as_str).collect();
        let d = self.error(
            Code::UnknownName,
            id.span,
            format!(
                "unknown {} `{}`",
                &kind.describe()[kind.describe().find(' ').map_or(0, |i| i + 1)..],
                id.name
            ),
            "not declared",
        );
        d.help = suggest(&id.name, &cands)
            .map(|s| format!("did you mean `{s}`?"))
            .or_else(|| {
                Some(format!(
                    "declare it with `{} {} {{ … }}`",
                    op_keyword(kind),
                    id.name
                ))
            });
        false
    }

    /// A team or a person (`assign`, `notify`, expectations).
    pub fn target(&mut self, t: &Target, allow_dynamic: bool) {
        match t {
            Target::Person(s) => {
                if !values::is_person(&s.value) {
                    self.error(
                        Code::InvalidPerson,
                        s.span,
                        format!("`{}` is not a person", s.value),
                        "expected an e-mail address",
                    )
                    .help = Some(
                        "persons are written as e-mail addresses, e.g. \"ana@agency.io\"".into(),
                    );
                }
            }
            Target::Name(id)
                if allow_dynamic && matches!(id.name.as_str(), "assignee" | "owner") => {}
            Target::Name(id) => {
                self.op_ref(OpKind::Team, id);
            }
        }
    }

    pub(crate) fn check_team(&mut self, t: &TeamDecl) {
        let mut members = 0;
        let mut calendars = 0;
        for c in &t.clauses {
            match c {
                TeamClause::Members(ms) => {
                    members += 1;
                    let mut seen = BTreeSet::new();
                    for m in ms {
                        if !values::is_person(&m.value) {
                            self.error(
                                Code::InvalidPerson,
                                m.span,
                                format!("`{}` is not a person", m.value),
                                "expected an e-mail address",
                            )
                            .help = Some(
                                "team members are e-mail addresses, e.g. \"ana@agency.io\"".into(),
                            );
                        } else if !seen.insert(m.value.to_lowercase()) {
                            self.error(
                                Code::DuplicateName,
                                m.span,
                                format!("`{}` is listed twice", m.value),
                                "again here",
                            );
                        }
                    }
                    if members > 1 {
                        self.error(
                            Code::DuplicateClause,
                            ms.first().map_or(t.name.span, |m| m.span),
                            "`members` given twice",
                            "second list",
                        );
                    }
                }
                TeamClause::Calendar(c) => {
                    calendars += 1;
                    if calendars > 1 {
                        self.error(
                            Code::DuplicateClause,
                            c.span,
                            "`calendar` given twice",
                            "second calendar",
                        );
                    }
                    self.op_ref(OpKind::Calendar, c);
                }
            }
        }
    }
}

/// Built-in type names, for "did you mean" suggestions.
const BUILTIN_TYPES: &[&str] = &[
    "Bool",
    "Int",
    "Decimal",
    "Money",
    "Percent",
    "Duration",
    "BusinessDuration",
    "Date",
    "TimeOfDay",
    "Time",
    "String",
    "Person",
    "Team",
    "Calendar",
];

/// The named type inside `List<…>` and `…?`, as path segments.
fn innermost_path(t: &TypeExpr) -> Vec<String> {
    match &t.kind {
        TypeExprKind::Named(p) => p.segments.iter().map(|s| s.name.clone()).collect(),
        TypeExprKind::List(e) | TypeExprKind::Optional(e) => innermost_path(e),
    }
}

pub fn op_keyword(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Team => "team",
        OpKind::Calendar => "calendar",
        OpKind::Connector => "connector",
        OpKind::Route => "route",
        OpKind::Sla => "sla",
        OpKind::Gate => "gate",
        OpKind::Automation => "automation",
    }
}
