//! Checking one module's declarations: imports, duplicates within the module, and each
//! declaration's clauses and expressions in the scope the brief gives it (§3, §7.4–7.12).
//! Whole-project properties (ownership totality, gate coverage, unused names) live in
//! `project.rs`.

use std::collections::{BTreeMap, BTreeSet};

use super::expr::{Cx, Scope, Use, suggest};
use super::index::{DataKind, OpKind};
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
                ItemKind::Import(_) | ItemKind::Error => {}
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
            }
        }
        self.check_unused_imports(module);
    }

    // --- imports and duplicates -----------------------------------------------------------

    fn check_imports(&mut self, module: &Module) {
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

    fn check_unused_imports(&mut self, module: &Module) {
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
    fn check_local_duplicates(&mut self, module: &Module) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for item in &module.items {
            let name = match &item.kind {
                ItemKind::Enum(e) => &e.name,
                ItemKind::Record(r) | ItemKind::Event(r) => &r.name,
                ItemKind::Let(l) => &l.name,
                ItemKind::Fn(f) => &f.name,
                ItemKind::Fixture(f) => &f.name,
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
                    let file = self.file.clone();
                    self.error(
                        Code::DuplicateName,
                        t.name.span,
                        format!("test \"{}\" is declared twice", t.name.value),
                        "again here",
                    )
                    .secondary
                    .push(Label::new(&file, first, "first declared here"));
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

    fn check_enum(&mut self, e: &EnumDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for v in &e.variants {
            if let Some(first) = seen.insert(&v.name.name, v.name.span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateName,
                    v.name.span,
                    format!("variant `{}` is listed twice", v.name.name),
                    "again here",
                )
                .secondary
                .push(Label::new(&file, first, "first listed here"));
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

    fn check_record(&mut self, r: &RecordDecl, is_event: bool) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for f in &r.fields {
            if let Some(first) = seen.insert(&f.name.name, f.name.span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateName,
                    f.name.span,
                    format!("field `{}` is declared twice", f.name.name),
                    "again here",
                )
                .secondary
                .push(Label::new(&file, first, "first declared here"));
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

    fn check_let(&mut self, l: &LetDecl) {
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

    fn check_fn(&mut self, f: &FnDecl) {
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

    fn check_fixture(&mut self, f: &FixtureDecl) {
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

    fn check_team(&mut self, t: &TeamDecl) {
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

    // --- rules: classify, owners, routes -----------------------------------------------------

    /// Resolve the events of an `on` list; returns the event types found.
    pub fn events(&mut self, paths: &[Path]) -> Vec<Ty> {
        let mut out = Vec::new();
        for p in paths {
            let names: Vec<String> = p.segments.iter().map(|s| s.name.clone()).collect();
            let found = if names.len() == 1 {
                self.index.lookup_data(self.module, &names[0])
            } else {
                self.index.lookup_qualified(self.module, &names)
            };
            match found {
                Some((def, DataKind::Event)) => {
                    self.uses.insert(Use::Data(def.clone()));
                    self.note_import(&def, names.len() > 1);
                    out.push(Ty::Event(def));
                }
                Some((_, kind)) => {
                    self.error(
                        Code::WrongKind,
                        p.span,
                        format!("`{}` is {}, not an event", p.dotted(), kind.describe()),
                        "not an event",
                    );
                }
                None if self.from_failed_import(&names) => {}
                None => {
                    let hint = self.import_hint(&p.last().name);
                    let d = self.error(
                        Code::UnknownName,
                        p.span,
                        format!("unknown event `{}`", p.dotted()),
                        "no such event in scope",
                    );
                    d.help = hint.or_else(|| Some("declare it with `event Name { … }` or import a standard one, e.g. `import std.helpdesk.{TicketCreated}`".into()));
                }
            }
        }
        out
    }

    /// The scope of a rule triggered by `events`: case facts, then the events' own fields,
    /// then `event`, `case`, `class`, `assignee`, `now` (§3.1, §7.6).
    pub fn rule_scope(&self, events: &[Ty]) -> Scope {
        let mut scope = Scope {
            locals: self.index.facts.clone(),
        };
        for ev in events {
            for (name, ty) in self.index.fields_of(ev).unwrap_or_default() {
                scope.locals.insert(name, ty);
            }
        }
        let class = self
            .index
            .classify
            .as_ref()
            .map_or(Ty::Error, |c| Ty::Enum(c.enum_def.clone()));
        scope
            .with("event", Ty::Envelope)
            .with("case", Ty::CaseInfo)
            .with("class", class)
            .with("assignee", Ty::Assignee)
            .with("now", Ty::Time)
    }

    /// A class name (a variant of the classify enum).
    pub fn class_ref(&mut self, id: &Ident) {
        let Some(info) = self.index.classify.clone() else {
            return;
        };
        self.uses.insert(Use::Data(info.enum_def.clone()));
        if !info.variants.contains(&id.name) {
            let vs: Vec<&str> = info.variants.iter().map(String::as_str).collect();
            let d = self.error(
                Code::UnknownVariant,
                id.span,
                format!("`{}` is not a class of `{}`", id.name, info.enum_def.name),
                "unknown class",
            );
            d.help = Some(suggest(&id.name, &vs).map_or_else(
                || format!("the classes are: {}", vs.join(", ")),
                |s| format!("did you mean `{s}`?"),
            ));
        }
    }

    fn check_classify(&mut self, c: &ClassifyDecl) {
        let names: Vec<String> = c
            .enum_name
            .segments
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let enum_ty = match self.resolve_type_path(&names, c.enum_name.span) {
            Some(t @ Ty::Enum(_)) => t,
            Some(Ty::Error) | None => Ty::Error,
            Some(other) => {
                self.error(
                    Code::WrongKind,
                    c.enum_name.span,
                    format!("`{other}` is not an enum"),
                    "classify needs an enum",
                );
                Ty::Error
            }
        };
        let events = self.events(&c.events);
        let scope = self.rule_scope(&events);
        for arm in &c.arms {
            self.arm_variant(&enum_ty, &arm.variant);
            self.expect(&arm.cond, &Ty::Bool, &scope);
        }
        match &c.otherwise {
            Some(v) => self.arm_variant(&enum_ty, v),
            None => {
                self.error(Code::MissingOtherwise, c.enum_name.span, "`classify` has no `otherwise` arm", "not total")
                    .help = Some("add `otherwise Triage` (or another class) as the last arm, so every ticket gets a class".into());
            }
        }
    }

    fn arm_variant(&mut self, enum_ty: &Ty, v: &Ident) {
        let Some(def) = enum_ty.enum_def() else {
            return;
        };
        let variants = self.index.enum_variants(def).cloned().unwrap_or_default();
        if !variants.contains(&v.name) {
            let vs: Vec<&str> = variants.iter().map(String::as_str).collect();
            let d = self.error(
                Code::UnknownVariant,
                v.span,
                format!("`{}` has no variant `{}`", def.name, v.name),
                "unknown variant",
            );
            d.help = Some(suggest(&v.name, &vs).map_or_else(
                || format!("its variants are: {}", vs.join(", ")),
                |s| format!("did you mean `{s}`?"),
            ));
        }
    }

    fn check_owners(&mut self, o: &OwnersDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for arm in &o.arms {
            self.class_ref(&arm.variant);
            if let Some(first) = seen.insert(&arm.variant.name, arm.variant.span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateClause,
                    arm.variant.span,
                    format!("class `{}` has two owners", arm.variant.name),
                    "second owner",
                )
                .secondary
                .push(Label::new(&file, first, "first owner here"));
            }
            self.op_ref(OpKind::Team, &arm.owner);
            match &arm.escalate {
                Some(e) => {
                    self.op_ref(OpKind::Team, e);
                }
                None => {
                    self.error(
                        Code::MissingEscalation,
                        arm.span,
                        format!("class `{}` has no escalation owner", arm.variant.name),
                        "no `escalate`",
                    )
                    .help = Some(format!(
                        "write `{} -> {} escalate TEAM`",
                        arm.variant.name, arm.owner.name
                    ));
                }
            }
        }
        if let Some(ack) = &o.acknowledge {
            let t = self.check(ack, None, &Scope::default());
            if !t.is_duration_like() {
                self.error(
                    Code::TypeMismatch,
                    ack.span,
                    format!("expected a duration, found `{t}`"),
                    "not a duration",
                )
                .help = Some("write a duration such as `30m` or `4 business hours`".into());
            }
        }
    }

    fn check_route(&mut self, r: &RouteDecl) {
        let events = self.events(&r.events);
        let scope = self.rule_scope(&events);
        if let Some(c) = &r.cond {
            self.expect(c, &Ty::Bool, &scope);
        }
        let mut assigns = 0;
        let mut priorities = 0;
        let mut keys = 0;
        for c in &r.clauses {
            match c {
                RouteClause::Assign(a) => {
                    assigns += 1;
                    if assigns == 2 {
                        self.error(
                            Code::DuplicateClause,
                            a.span,
                            "a route assigns once",
                            "second `assign`",
                        );
                    }
                    self.target(&a.target, false);
                    if let Some(s) = &a.strategy {
                        if !matches!(s.name.as_str(), "round_robin" | "least_open") {
                            self.error(
                                Code::UnknownName,
                                s.span,
                                format!("unknown assignment strategy `{}`", s.name),
                                "not a strategy",
                            )
                            .help = Some("use `by round_robin` or `by least_open`".into());
                        } else if matches!(a.target, Target::Person(_)) {
                            self.error(Code::TypeMismatch, s.span, "a strategy needs a team", "assigning a person")
                                .help = Some("strategies pick a member of a team; remove `by …` to assign the person".into());
                        }
                    }
                }
                RouteClause::Key(exprs) => {
                    keys += 1;
                    if keys == 2 {
                        self.error(
                            Code::DuplicateClause,
                            exprs.first().map_or(r.name.span, |e| e.span),
                            "`key` given twice",
                            "second key",
                        );
                    }
                    for e in exprs {
                        self.check(e, None, &scope);
                    }
                }
                RouteClause::Priority { span, .. } => {
                    priorities += 1;
                    if priorities == 2 {
                        self.error(
                            Code::DuplicateClause,
                            *span,
                            "`priority` given twice",
                            "second priority",
                        );
                    }
                }
            }
        }
        if assigns == 0 {
            self.error(
                Code::AutomationStructure,
                r.name.span,
                format!("route `{}` assigns nobody", r.name.name),
                "no `assign`",
            )
            .help = Some(
                "add `assign TEAM`, `assign TEAM by round_robin` or `assign \"person@agency.io\"`"
                    .into(),
            );
        }
    }

    // --- SLA -----------------------------------------------------------------------------------

    fn sla_actions(&mut self, actions: &[SlaAction], allow_deny: bool) {
        for a in actions {
            match a {
                SlaAction::Escalate(_) => {}
                SlaAction::Deny(s) if !allow_deny => {
                    self.error(
                        Code::WrongKind,
                        *s,
                        "`deny` applies only to gate expiry",
                        "not here",
                    );
                }
                SlaAction::Deny(_) => {}
                SlaAction::Notify(t) => self.target(t, true),
                SlaAction::Assign(t) => self.target(t, false),
            }
        }
    }

    fn check_sla(&mut self, s: &SlaDecl) {
        for c in &s.classes {
            self.class_ref(c);
        }
        let all_events: Vec<Ty> = Vec::new();
        let fact_scope = self.rule_scope(&all_events);
        let mut counts: BTreeMap<&str, (usize, Span)> = BTreeMap::new();
        for c in &s.clauses {
            let (kw, span) = match c {
                SlaClause::Start(t) => ("start", t.span),
                SlaClause::Stop(t) => ("stop", t.span),
                SlaClause::Reset(t) => ("reset", t.span),
                SlaClause::Pause { span, .. } => ("pause", *span),
                SlaClause::Target(SlaTarget::Fixed(e)) => ("target", e.span),
                SlaClause::Target(SlaTarget::By { span, .. }) => ("target", *span),
                SlaClause::Calendar(i) => ("calendar", i.span),
                SlaClause::Warn { span, .. } => ("warn", *span),
                SlaClause::Breach { span, .. } => ("breach", *span),
            };
            let entry = counts.entry(kw).or_insert((0, span));
            entry.0 += 1;
            if entry.0 == 2 && matches!(kw, "target" | "calendar" | "pause" | "breach") {
                self.error(
                    Code::DuplicateClause,
                    span,
                    format!("`{kw}` given twice"),
                    "second clause",
                )
                .help = Some(format!("an SLA has one `{kw}`; merge the two"));
            }
            match c {
                SlaClause::Start(t) | SlaClause::Stop(t) | SlaClause::Reset(t) => {
                    let evs = self.events(std::slice::from_ref(&t.event));
                    if let Some(cond) = &t.cond {
                        let scope = self.rule_scope(&evs);
                        self.expect(cond, &Ty::Bool, &scope);
                    }
                }
                SlaClause::Pause { cond, .. } => {
                    self.expect(cond, &Ty::Bool, &fact_scope);
                }
                SlaClause::Target(SlaTarget::Fixed(e)) => self.duration_value(e),
                SlaClause::Target(SlaTarget::By { field, arms, span }) => {
                    let ft = self.check(field, None, &fact_scope);
                    for arm in arms {
                        self.duration_value(&arm.value);
                    }
                    self.patterns(
                        *span,
                        &ft,
                        arms.iter().map(|a| &a.pattern).collect(),
                        "target by",
                    );
                }
                SlaClause::Calendar(i) => {
                    self.op_ref(OpKind::Calendar, i);
                }
                SlaClause::Warn { at, actions, .. } => {
                    self.percent_value(at);
                    self.sla_actions(actions, false);
                }
                SlaClause::Breach { actions, .. } => self.sla_actions(actions, false),
            }
        }
        if !counts.contains_key("start") {
            self.error(
                Code::SlaStructure,
                s.name.span,
                format!("SLA `{}` never starts", s.name.name),
                "no `start on`",
            )
            .help =
                Some("add `start on TicketCreated` (or the event that starts the clock)".into());
        }
        if !counts.contains_key("target") {
            self.error(
                Code::SlaStructure,
                s.name.span,
                format!("SLA `{}` has no target", s.name.name),
                "no `target`",
            )
            .help = Some(
                "add `target 4h` or `target by ticket.tier { Gold -> 1h, _ -> 1 business day }`"
                    .into(),
            );
        }
        if !counts.contains_key("breach") {
            self.error(
                Code::SlaWithoutBreach,
                s.name.span,
                format!("SLA `{}` has no breach action", s.name.name),
                "nothing happens on breach",
            )
            .help = Some(
                "add `breach -> escalate` (or `notify …`) so a missed target reaches someone"
                    .into(),
            );
        }
    }

    fn duration_value(&mut self, e: &Expr) {
        let t = self.check(e, None, &Scope::default());
        if !t.is_duration_like() {
            self.error(
                Code::TypeMismatch,
                e.span,
                format!("expected a duration, found `{t}`"),
                "not a duration",
            )
            .help = Some("write a duration such as `4h` or `2 business days`".into());
        }
    }

    fn percent_value(&mut self, e: &Expr) {
        self.expect(e, &Ty::Percent, &Scope::default());
        if let ExprKind::Percent(p) = &e.kind
            && p.parse::<f64>().is_ok_and(|v| !(0.0..=100.0).contains(&v))
        {
            self.error(
                Code::OutOfRange,
                e.span,
                format!("{p}% is not between 0% and 100%"),
                "out of range",
            );
        }
    }

    // --- connectors, gates, automations ----------------------------------------------------------

    fn check_connector(&mut self, c: &ConnectorDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for a in &c.actions {
            if let Some(first) = seen.insert(&a.name.name, a.name.span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateName,
                    a.name.span,
                    format!("action `{}` is declared twice", a.name.name),
                    "again here",
                )
                .secondary
                .push(Label::new(&file, first, "first declared here"));
            }
            let mut scope = Scope::default();
            for p in &a.params {
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
            if let Some(Effect::Money(e)) = &a.effect {
                self.expect(e, &Ty::Money, &scope);
            }
            if let Some(comp) = &a.compensate {
                match c.actions.iter().find(|x| x.name.name == comp.name) {
                    None => {
                        self.error(
                            Code::UnknownName,
                            comp.span,
                            format!("`{}` has no action `{}`", c.name.name, comp.name),
                            "not declared",
                        )
                        .help = Some(
                            "the compensating action must be declared in the same connector".into(),
                        );
                    }
                    Some(other) => {
                        let same = other.params.len() == a.params.len()
                            && other.params.iter().zip(&a.params).all(|(x, y)| {
                                x.name.name == y.name.name
                                    && TypeRef::from_ast(&x.ty) == TypeRef::from_ast(&y.ty)
                            });
                        if !same {
                            let file = self.file.clone();
                            self.error(
                                Code::BadArguments,
                                comp.span,
                                format!(
                                    "`{}` must take the same parameters as `{}`",
                                    comp.name, a.name.name
                                ),
                                "different parameters",
                            )
                            .secondary
                            .push(Label::new(
                                &file,
                                other.name.span,
                                "declared here",
                            ));
                        }
                    }
                }
            }
        }
    }

    /// The parameters a gate's condition sees: those common to every selected action.
    fn gate_params(&self, g: &GateDecl) -> Option<BTreeMap<String, Ty>> {
        let mut common: Option<BTreeMap<String, Ty>> = None;
        let mut any_action = false;
        for (cname, aname, a) in self.index.all_actions() {
            let selected = g.selectors.iter().any(|s| match s {
                GateSelector::Action(p) => {
                    p.segments.len() == 2
                        && p.segments[0].name == cname
                        && p.segments[1].name == aname
                }
                GateSelector::EffectMoney(_) => a.effect == super::sig::EffectKind::Money,
                GateSelector::EffectDestructive(_) => {
                    a.effect == super::sig::EffectKind::Destructive
                }
                GateSelector::Automation(_) => false,
            });
            if !selected {
                continue;
            }
            any_action = true;
            let module = self.index.op(OpKind::Connector, cname).unwrap_or_default();
            let params: BTreeMap<String, Ty> = a
                .params
                .iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        self.index.resolve_type(module, t).unwrap_or(Ty::Error),
                    )
                })
                .collect();
            common = Some(match common {
                None => params,
                Some(prev) => prev
                    .into_iter()
                    .filter(|(n, t)| params.get(n) == Some(t))
                    .collect(),
            });
        }
        if any_action { common } else { None }
    }

    fn check_gate(&mut self, g: &GateDecl) {
        for s in &g.selectors {
            if let GateSelector::Action(p) = s {
                self.action_ref(p);
            }
        }
        let mut scope = self.rule_scope(&[]);
        if let Some(params) = self.gate_params(g) {
            scope.locals.extend(params);
        }
        if let Some(c) = &g.cond {
            self.expect(c, &Ty::Bool, &scope);
        }
        let mut requires = 0;
        let mut expires = 0;
        for c in &g.clauses {
            match c {
                GateClause::RequireApproval { team, .. }
                | GateClause::RequireReview { team, .. } => {
                    requires += 1;
                    self.op_ref(OpKind::Team, team);
                }
                GateClause::RequireConfirmation(_) => requires += 1,
                GateClause::Expire {
                    after,
                    actions,
                    span,
                } => {
                    expires += 1;
                    if expires == 2 {
                        self.error(
                            Code::DuplicateClause,
                            *span,
                            "`expire` given twice",
                            "second expiry",
                        );
                    }
                    self.duration_value(after);
                    self.sla_actions(actions, true);
                }
            }
        }
        if requires == 0 {
            self.error(Code::GateStructure, g.name.span, format!("gate `{}` requires nothing", g.name.name), "no `require`")
                .help = Some("add `require approval from TEAM`, `require confirmation` or `require review by TEAM`".into());
        }
    }

    /// Resolve `connector.action`; returns its parameters (resolved) and effect.
    pub fn action_ref(&mut self, p: &Path) -> Option<(Vec<(String, Ty)>, super::sig::EffectKind)> {
        if p.segments.len() != 2 {
            self.error(
                Code::UnknownName,
                p.span,
                format!("`{}` is not an action", p.dotted()),
                "expected `connector.action`",
            );
            return None;
        }
        let (c, a) = (&p.segments[0], &p.segments[1]);
        if !self.op_ref(OpKind::Connector, c) {
            return None;
        }
        match self.index.action(&c.name, &a.name) {
            Some(sig) => {
                let module = self
                    .index
                    .op(OpKind::Connector, &c.name)
                    .unwrap_or_default()
                    .to_string();
                let params = sig
                    .params
                    .iter()
                    .map(|(n, t)| {
                        (
                            n.clone(),
                            self.index.resolve_type(&module, t).unwrap_or(Ty::Error),
                        )
                    })
                    .collect();
                Some((params, sig.effect))
            }
            None => {
                let names: Vec<String> = self
                    .index
                    .connector_actions(&c.name)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                let cands: Vec<&str> = names.iter().map(String::as_str).collect();
                let d = self.error(
                    Code::UnknownName,
                    a.span,
                    format!("connector `{}` has no action `{}`", c.name, a.name),
                    "unknown action",
                );
                d.help = Some(suggest(&a.name, &cands).map_or_else(
                    || format!("its actions are: {}", cands.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                ));
                None
            }
        }
    }

    fn check_automation(&mut self, a: &AutomationDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut events: Vec<Ty> = Vec::new();
        // `on` first: steps and rollout keys see its events' fields.
        for c in &a.clauses {
            if let AutomationClause::On { events: evs, .. } = c {
                events = self.events(evs);
            }
        }
        let scope = self.rule_scope(&events);
        for c in &a.clauses {
            let (kw, span) = match c {
                AutomationClause::Version { span, .. } => ("version", *span),
                AutomationClause::Owner(i) => ("owner", i.span),
                AutomationClause::On { span, .. } => ("on", *span),
                AutomationClause::Do { span, .. } => ("do", *span),
                AutomationClause::Rollout(r) => ("rollout", r.span),
                AutomationClause::Breaker(b) => ("breaker", b.span),
            };
            if let Some(first) = seen.insert(kw, span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateClause,
                    span,
                    format!("`{kw}` given twice"),
                    "second clause",
                )
                .secondary
                .push(Label::new(&file, first, "first here"));
            }
            match c {
                AutomationClause::Version { value, span } => {
                    if *value < 1 {
                        self.error(
                            Code::OutOfRange,
                            *span,
                            "versions start at 1",
                            "not a version",
                        );
                    }
                }
                AutomationClause::Owner(i) => {
                    self.op_ref(OpKind::Team, i);
                }
                AutomationClause::On { cond, .. } => {
                    if let Some(c) = cond {
                        self.expect(c, &Ty::Bool, &scope);
                    }
                }
                AutomationClause::Do { steps, span } => {
                    if steps.is_empty() {
                        self.error(
                            Code::AutomationStructure,
                            *span,
                            "`do` has no steps",
                            "empty",
                        );
                    }
                    for s in steps {
                        self.check_step(s, &scope);
                    }
                }
                AutomationClause::Rollout(r) => {
                    if let Some(p) = &r.percent {
                        self.percent_value(p);
                    } else if !r.shadow {
                        self.error(
                            Code::AutomationStructure,
                            r.span,
                            "rollout needs a percentage",
                            "missing",
                        );
                    }
                    for e in &r.by {
                        self.check(e, None, &scope);
                    }
                }
                AutomationClause::Breaker(b) => {
                    self.percent_value(&b.threshold);
                    if b.window < 1 {
                        self.error(
                            Code::OutOfRange,
                            b.span,
                            "the breaker window must be at least 1 run",
                            "here",
                        );
                    }
                    for act in &b.actions {
                        match act {
                            BreakerAction::Halt(_) => {}
                            BreakerAction::Assign(t) => self.target(t, false),
                            BreakerAction::Notify(t) => self.target(t, true),
                        }
                    }
                }
            }
        }
        let name = &a.name;
        if !seen.contains_key("owner") {
            self.error(Code::AutomationWithoutOwner, name.span, format!("automation `{}` has no owner", name.name), "no `owner`")
                .help = Some("add `owner TEAM`: the team that answers for this automation and gets its reconciliation tasks".into());
        }
        if !seen.contains_key("version") {
            self.error(
                Code::AutomationWithoutVersion,
                name.span,
                format!("automation `{}` has no version", name.name),
                "no `version`",
            )
            .help = Some("add `version 1` and raise it whenever the steps change".into());
        }
        if !seen.contains_key("on") {
            self.error(
                Code::AutomationStructure,
                name.span,
                format!("automation `{}` has no trigger", name.name),
                "no `on`",
            )
            .help = Some("add `on EVENT when CONDITION`".into());
        }
        if !seen.contains_key("do") {
            self.error(
                Code::AutomationStructure,
                name.span,
                format!("automation `{}` does nothing", name.name),
                "no `do`",
            )
            .help = Some("add `do { connector.action(arg: value) }`".into());
        }
    }

    fn check_step(&mut self, s: &Step, scope: &Scope) {
        if let Some(w) = &s.waiver
            && w.value.trim().is_empty()
        {
            self.error(Code::EmptyWaiver, w.span, "`@ungated` needs a reason", "empty reason")
                .help = Some("say why this action may run without a gate, e.g. `@ungated(\"refunds under 5 USD are pre-approved by finance\")`".into());
        }
        let ExprKind::Call { callee, args } = &s.call.kind else {
            self.error(
                Code::AutomationStructure,
                s.call.span,
                "a step is an action call",
                "not a call",
            )
            .help = Some("write `connector.action(arg: value)`".into());
            return;
        };
        let path = match &callee.kind {
            ExprKind::Field {
                base,
                field,
                optional: false,
            } => match &base.kind {
                ExprKind::Name(c) => Some(Path {
                    segments: vec![c.clone(), field.clone()],
                    span: callee.span,
                }),
                _ => None,
            },
            _ => None,
        };
        let Some(path) = path else {
            self.error(
                Code::AutomationStructure,
                callee.span,
                "a step calls an action: `connector.action(…)`",
                "not an action",
            );
            return;
        };
        match self.action_ref(&path) {
            Some((params, _)) => {
                self.check_args(s.call.span, &path.dotted(), &params, args, scope, true)
            }
            None => {
                for a in args {
                    self.check(&a.value, None, scope);
                }
            }
        }
    }

    // --- tests -----------------------------------------------------------------------------------

    fn check_test(&mut self, t: &TestDecl) {
        let mut clock_set = false;
        let mut given_seen = false;
        for step in &t.steps {
            match step {
                TestStep::At { time, .. } => {
                    self.expect(time, &Ty::Time, &Scope::default());
                    clock_set = true;
                }
                TestStep::Advance { by, span } => {
                    if !clock_set {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`advance` before the first `at`",
                            "the clock is not set yet",
                        )
                        .help = Some("start the test with `at 2026-03-02T10:00:00Z`".into());
                    }
                    self.expect(by, &Ty::Duration, &Scope::default());
                }
                TestStep::Given { event, span } => {
                    if !clock_set {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`given` before the first `at`",
                            "the clock is not set yet",
                        )
                        .help = Some("start the test with `at 2026-03-02T10:00:00Z`".into());
                    }
                    self.check_given(event, given_seen);
                    given_seen = true;
                }
                TestStep::Stub { action, .. } => {
                    self.action_ref(action);
                }
                TestStep::Expect { expectation, span } => {
                    if !given_seen && !matches!(expectation, Expectation::NoAction(_)) {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`expect` before any `given`",
                            "no case yet",
                        )
                        .help = Some(
                            "expectations speak of the case of the most recent `given`".into(),
                        );
                    }
                    self.check_expectation(expectation);
                }
            }
        }
    }

    fn check_given(&mut self, event: &Expr, case_known: bool) {
        let ExprKind::Record {
            ty: Some(path),
            spread,
            fields,
        } = &event.kind
        else {
            self.error(
                Code::TestStructure,
                event.span,
                "`given` takes an event, e.g. `TicketCreated { … }`",
                "not an event",
            );
            return;
        };
        let names: Vec<String> = path.segments.iter().map(|s| s.name.clone()).collect();
        let Some(ty) = self.resolve_type_path(&names, path.span) else {
            return;
        };
        let Ty::Event(def) = &ty else {
            if !ty.is_error() {
                self.error(
                    Code::WrongKind,
                    path.span,
                    format!("`{}` is not an event", path.dotted()),
                    "not an event",
                );
            }
            return;
        };
        if !self.index.is_receivable(def) && !def.module.starts_with("std.") {
            self.error(
                Code::WrongKind,
                path.span,
                format!("`{}` cannot be received by this project", def.name),
                "not receivable",
            );
        }
        // `case:` names the envelope's case (§7.12); the rest are the event's fields.
        let mut rest = Vec::new();
        let mut has_case = false;
        for f in fields {
            if f.name.name == "case" {
                has_case = true;
                self.expect(&f.value, &Ty::String, &Scope::default());
            } else {
                rest.push(f.clone());
            }
        }
        if !has_case && !case_known {
            self.error(
                Code::TestStructure,
                event.span,
                "the first `given` needs a `case:`",
                "which case?",
            )
            .help = Some("add `case: \"T-1\"`; later steps default to the previous case".into());
        }
        self.record(
            event.span,
            Some(path),
            spread.as_deref(),
            &rest,
            None,
            &Scope::default(),
        );
    }

    fn check_expectation(&mut self, e: &Expectation) {
        match e {
            Expectation::Assigned(t) | Expectation::Owner(t) | Expectation::Notified(t) => {
                self.target(t, true)
            }
            Expectation::Class(c) => self.class_ref(c),
            Expectation::Held { action, gate } => {
                self.action_ref(action);
                if let Some(g) = gate {
                    self.op_ref(OpKind::Gate, g);
                }
            }
            Expectation::Executed(a) | Expectation::Shadowed(a) => {
                self.action_ref(a);
            }
            Expectation::Escalated(Some(id)) => {
                let ok = id.name == "owners"
                    || self.index.op(OpKind::Gate, &id.name).is_some()
                    || self.index.op(OpKind::Sla, &id.name).is_some();
                if !ok {
                    self.error(Code::UnknownName, id.span, format!("`{}` is not a gate, an SLA or `owners`", id.name), "cannot escalate")
                        .help = Some("name the gate or SLA policy that escalated, or `owners` for the acknowledgement timeout".into());
                }
            }
            Expectation::Escalated(None) | Expectation::NoAction(_) => {}
            Expectation::Sla { name, state } => {
                self.op_ref(OpKind::Sla, name);
                if !matches!(
                    state.name.as_str(),
                    "running" | "paused" | "met" | "breached"
                ) {
                    self.error(
                        Code::UnknownVariant,
                        state.span,
                        format!("`{}` is not an SLA state", state.name),
                        "unknown state",
                    )
                    .help = Some("SLA states are `running`, `paused`, `met` and `breached`".into());
                }
            }
        }
    }

    fn check_acceptance(&mut self, a: &AcceptanceDecl) {
        self.op_ref(OpKind::Automation, &a.name);
        let mut samples = 0;
        for c in &a.clauses {
            match c {
                AcceptanceClause::Samples(s) => {
                    samples += 1;
                    if s.value.trim().is_empty() {
                        self.error(Code::TestStructure, s.span, "empty samples path", "here");
                    }
                }
                AcceptanceClause::Threshold { metric, value, .. } => {
                    if !matches!(
                        metric.name.as_str(),
                        "precision" | "recall" | "false_positive_rate"
                    ) {
                        self.error(
                            Code::UnknownName,
                            metric.span,
                            format!("unknown metric `{}`", metric.name),
                            "not a metric",
                        )
                        .help = Some(
                            "metrics are `precision`, `recall` and `false_positive_rate`".into(),
                        );
                    }
                    self.percent_value(value);
                }
            }
        }
        if samples != 1 {
            self.error(Code::TestStructure, a.name.span, "an acceptance set needs exactly one `samples \"FILE\"`", "samples")
                .help = Some("add `samples \"acceptance/NAME.jsonl\"` (JSONL of events and the outcome a human chose)".into());
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
