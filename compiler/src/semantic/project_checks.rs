//! Whole-project checks: the properties no single module can decide (brief §3.4, §3.8, §4,
//! §7.4–7.6): exactly one `classify` and one total `owners`; every money or destructive
//! action an automation issues is covered by a gate (or waived); project-wide uniqueness of
//! operational names; one type per case fact; one receivable event per name; no recursion;
//! no unused declarations. The safety analysis of conditions (`safety/`: ambiguous
//! and unreachable routes, shadowed classify arms, never-true conditions, conflicting gates)
//! is whole-project too, but a query of its own (`db::safety_check`): it costs more, and
//! an editor may want the rest first.

use std::collections::{BTreeMap, BTreeSet};

use super::expr::Use;
use super::index::{DataKind, OpKind, ProjectIndex};
use super::sig::{EffectKind, GateSel};
use super::types::{DefId, Ty};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;
use crate::syntax::ast::*;

/// One project module as the project checks see it.
pub struct ModuleView<'a> {
    pub module: &'a str,
    pub file: &'a FileName,
    pub ast: &'a Module,
    pub is_std: bool,
}

pub fn project_checks(
    index: &ProjectIndex,
    modules: &[ModuleView<'_>],
    uses: &BTreeSet<Use>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let project: Vec<&ModuleView<'_>> = modules.iter().filter(|m| !m.is_std).collect();
    duplicate_operational_names(&project, &mut out);
    classify_and_owners(index, &project, &mut out);
    gate_coverage(index, &project, &mut out);
    facts_and_events(index, &project, &mut out);
    recursion(index, &project, &mut out);
    unused(&project, uses, &mut out);
    out
}

fn op_decl(item: &Item) -> Option<(OpKind, &Ident)> {
    Some(match &item.kind {
        ItemKind::Team(t) => (OpKind::Team, &t.name),
        ItemKind::Calendar(c) => (OpKind::Calendar, &c.name),
        ItemKind::Connector(c) => (OpKind::Connector, &c.name),
        ItemKind::Route(r) => (OpKind::Route, &r.name),
        ItemKind::Sla(s) => (OpKind::Sla, &s.name),
        ItemKind::Gate(g) => (OpKind::Gate, &g.name),
        ItemKind::Automation(a) => (OpKind::Automation, &a.name),
        _ => return None,
    })
}

fn duplicate_operational_names(project: &[&ModuleView<'_>], out: &mut Vec<Diagnostic>) {
    // Operational names are recorded in the ledger by name: one name, one declaration,
    // whatever its kind.
    let mut seen: BTreeMap<&str, (&FileName, Span, OpKind)> = BTreeMap::new();
    for m in project {
        for item in &m.ast.items {
            let Some((kind, name)) = op_decl(item) else {
                continue;
            };
            match seen.get(name.name.as_str()) {
                Some((file, span, first_kind)) => {
                    let what = if *first_kind == kind {
                        kind.describe().to_string()
                    } else {
                        format!("{} and {}", first_kind.describe(), kind.describe())
                    };
                    out.push(
                        Diagnostic::new(Code::DuplicateName, m.file, name.span, format!("`{}` is declared twice ({what})", name.name), "declared again here")
                            .with_label(file, *span, "first declared here")
                            .with_note("teams, calendars, connectors, routes, SLA policies, gates and automations share one project-wide namespace")
                            .with_help("rename one of them"),
                    );
                }
                None => {
                    seen.insert(&name.name, (m.file, name.span, kind));
                }
            }
        }
    }
}

fn classify_and_owners(
    index: &ProjectIndex,
    project: &[&ModuleView<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let mut classifies: Vec<(&FileName, &ClassifyDecl)> = Vec::new();
    let mut owners: Vec<(&FileName, &OwnersDecl)> = Vec::new();
    let mut lifecycles: Vec<(&FileName, &LifecycleDecl)> = Vec::new();
    let mut needs_classes: Option<(&FileName, Span, &str)> = None;
    for m in project {
        for item in &m.ast.items {
            match &item.kind {
                ItemKind::Classify(c) => classifies.push((m.file, c)),
                ItemKind::Owners(o) => owners.push((m.file, o)),
                ItemKind::Lifecycle(l) => lifecycles.push((m.file, l)),
                ItemKind::Sla(s) => {
                    needs_classes = needs_classes.or(Some((m.file, s.name.span, "an SLA policy")))
                }
                ItemKind::Route(r) => {
                    needs_classes = needs_classes.or(Some((m.file, r.name.span, "a route")))
                }
                ItemKind::Automation(a) => {
                    needs_classes = needs_classes.or(Some((m.file, a.name.span, "an automation")))
                }
                _ => {}
            }
        }
    }
    for (file, extra) in classifies.iter().skip(1) {
        let (ffile, first) = classifies[0];
        out.push(
            Diagnostic::new(
                Code::ClassifyCount,
                file,
                extra.enum_name.span,
                "a project has exactly one `classify`",
                "second classify",
            )
            .with_label(ffile, first.enum_name.span, "first classify here")
            .with_help("merge the arms into one `classify`: its arms are tried in order"),
        );
    }
    for (file, extra) in owners.iter().skip(1) {
        let (ffile, first) = owners[0];
        out.push(
            Diagnostic::new(
                Code::ClassifyCount,
                file,
                extra.keyword,
                "a project has exactly one `owners` block",
                "second owners block",
            )
            .with_label(ffile, first.keyword, "first owners block here")
            .with_help("merge them into one `owners { … }`"),
        );
    }
    for (file, extra) in lifecycles.iter().skip(1) {
        let (ffile, first) = lifecycles[0];
        out.push(
            Diagnostic::new(
                Code::DuplicateClause,
                file,
                extra.keyword,
                "`lifecycle` given twice: a project has at most one lifecycle",
                "second lifecycle",
            )
            .with_label(ffile, first.keyword, "first lifecycle here")
            .with_help("merge them into one `lifecycle { … }`"),
        );
    }
    let Some(info) = &index.classify else {
        if classifies.is_empty()
            && let Some((file, span, what)) = needs_classes.or_else(|| {
                owners
                    .first()
                    .map(|(f, o)| (*f, o.keyword, "an owners block"))
            })
        {
            out.push(
                Diagnostic::new(Code::ClassifyCount, file, span, "the project has no `classify`", format!("{what} needs ticket classes"))
                    .with_help("add `enum TicketClass { … }` and `classify TicketClass on TicketCreated { … otherwise Triage }`"),
            );
        }
        return;
    };
    let Some((ofile, o)) = owners.first() else {
        let (cfile, c) = classifies[0];
        out.push(
            Diagnostic::new(
                Code::OwnershipNotTotal,
                cfile,
                c.enum_name.span,
                "no class has an owner: the project has no `owners` block",
                "these classes",
            )
            .with_help(format!(
                "add `owners {{ {} -> TEAM escalate TEAM … }}`",
                info.variants.first().map_or("Class", String::as_str)
            )),
        );
        return;
    };
    let covered: BTreeSet<&str> = o.arms.iter().map(|a| a.variant.name.as_str()).collect();
    let missing: Vec<&String> = info
        .variants
        .iter()
        .filter(|v| !covered.contains(v.as_str()))
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|m| format!("`{m}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let arms = missing
            .iter()
            .map(|m| format!("{m} -> TEAM escalate TEAM"))
            .collect::<Vec<_>>()
            .join("; ");
        let noun = if missing.len() == 1 {
            "class has"
        } else {
            "classes have"
        };
        out.push(
            Diagnostic::new(Code::OwnershipNotTotal, ofile, o.keyword, format!("ownership is not total: {list} {} no owner", if missing.len() == 1 { "has" } else { "have" }), format!("{} {noun} no owner", missing.len()))
                .with_note("every class needs an owner and an escalation owner, or tickets of that class belong to nobody")
                .with_help(format!("add: {arms}")),
        );
    }
}

fn gate_coverage(index: &ProjectIndex, project: &[&ModuleView<'_>], out: &mut Vec<Diagnostic>) {
    // Which actions some gate selects by name or by effect. `on automation` and `on
    // automation NAME` do not count (docs/language.md §11.2): a gate scoped to one
    // automation covers nothing for the others, and it is not counted for its own either,
    // like every gate on automations.
    let mut by_name: BTreeSet<(String, String)> = BTreeSet::new();
    let mut money = false;
    let mut destructive = false;
    for (kind, gname) in index.ops.keys() {
        if *kind != OpKind::Gate {
            continue;
        }
        for sel in index.gate_selectors(gname).into_iter().flatten() {
            match sel {
                GateSel::Action(c, a) => {
                    by_name.insert((c.clone(), a.clone()));
                }
                GateSel::Money => money = true,
                GateSel::Destructive => destructive = true,
                GateSel::Automation | GateSel::AutomationNamed(_) => {}
            }
        }
    }
    for m in project {
        for item in &m.ast.items {
            let ItemKind::Automation(a) = &item.kind else {
                continue;
            };
            for clause in &a.clauses {
                let AutomationClause::Do { steps, .. } = clause else {
                    continue;
                };
                for step in steps.iter().filter_map(DoStep::call) {
                    if step.waiver.is_some() {
                        continue;
                    }
                    let ExprKind::Call { callee, .. } = &step.call.kind else {
                        continue;
                    };
                    let ExprKind::Field { base, field, .. } = &callee.kind else {
                        continue;
                    };
                    let ExprKind::Name(conn) = &base.kind else {
                        continue;
                    };
                    let Some(sig) = index.action(&conn.name, &field.name) else {
                        continue;
                    };
                    let covered = match sig.effect {
                        EffectKind::None => true,
                        EffectKind::Money => {
                            money || by_name.contains(&(conn.name.clone(), field.name.clone()))
                        }
                        EffectKind::Destructive => {
                            destructive
                                || by_name.contains(&(conn.name.clone(), field.name.clone()))
                        }
                    };
                    if !covered {
                        let effect = if sig.effect == EffectKind::Money {
                            "money"
                        } else {
                            "destructive"
                        };
                        let action = format!("{}.{}", conn.name, field.name);
                        out.push(
                            Diagnostic::new(Code::UngatedAction, m.file, callee.span, format!("`{action}` has a {effect} effect and no gate can hold it"), "ungated")
                                .with_note(format!("automation `{}` would run it with no approval, confirmation or review", a.name.name))
                                .with_help(format!(
                                    "add a gate, e.g. `gate {}_approval on {action} {{ require approval from TEAM }}`, or waive it with `@ungated(\"reason\")` before the call",
                                    field.name
                                )),
                        );
                    }
                }
            }
        }
    }
}

fn facts_and_events(index: &ProjectIndex, project: &[&ModuleView<'_>], out: &mut Vec<Diagnostic>) {
    // Receivable events declared in the project, with spans, plus std events imported by name.
    struct Ev<'a> {
        def: DefId,
        file: &'a FileName,
        span: Span,
    }
    let mut evs: Vec<Ev<'_>> = Vec::new();
    for m in project {
        for item in &m.ast.items {
            match &item.kind {
                ItemKind::Event(e) => evs.push(Ev {
                    def: DefId::new(m.module, &e.name.name),
                    file: m.file,
                    span: e.name.span,
                }),
                ItemKind::Import(imp) if imp.module.dotted().starts_with("std.") => {
                    let target = imp.module.dotted();
                    for n in imp.names.iter().flatten() {
                        if index
                            .sig(&target)
                            .is_some_and(|s| s.events.contains_key(&n.name))
                        {
                            evs.push(Ev {
                                def: DefId::new(&target, &n.name),
                                file: m.file,
                                span: n.span,
                            });
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // Two receivable events with one name (§3.10), including the always-receivable built-ins.
    let mut by_name: BTreeMap<&str, &Ev<'_>> = BTreeMap::new();
    for ev in &evs {
        if let Some((bmod, _)) = super::index::BUILTIN_EVENTS
            .iter()
            .find(|(m, n)| *n == &*ev.def.name && *m != &*ev.def.module)
        {
            out.push(
                Diagnostic::new(
                    Code::DuplicateEvent,
                    ev.file,
                    ev.span,
                    format!(
                        "event `{}` clashes with the built-in `{bmod}.{}`",
                        ev.def.name, ev.def.name
                    ),
                    "same name",
                )
                .with_help("built-in events are always receivable; rename this event"),
            );
            continue;
        }
        match by_name.get(&*ev.def.name) {
            Some(first) if first.def != ev.def => out.push(
                Diagnostic::new(Code::DuplicateEvent, ev.file, ev.span, format!("two receivable events are named `{}`", ev.def.name), "second event")
                    .with_label(first.file, first.span, format!("`{}.{}` here", first.def.module, first.def.name))
                    .with_note("an envelope's `type` is the event's name, so the runtime could not tell them apart")
                    .with_help("rename one of them"),
            ),
            Some(_) => {}
            None => {
                by_name.insert(&ev.def.name, ev);
            }
        }
    }
    // One type per case fact (§3.1).
    let mut fact_first: BTreeMap<String, (Ty, &Ev<'_>)> = BTreeMap::new();
    let mut seen_defs = BTreeSet::new();
    for ev in &evs {
        if !seen_defs.insert(ev.def.clone()) {
            continue;
        }
        for (field, tref) in index.event_fields(&ev.def).cloned().unwrap_or_default() {
            let ty = index
                .resolve_type(&ev.def.module, &tref)
                .unwrap_or(Ty::Error);
            if ty.is_error() {
                continue;
            }
            match fact_first.get(&field) {
                Some((t0, first)) if *t0 != ty => out.push(
                    Diagnostic::new(
                        Code::FactTypeConflict,
                        ev.file,
                        ev.span,
                        format!("case fact `{field}` is `{ty}` in `{}` but `{t0}` in `{}`", ev.def.name, first.def.name),
                        format!("`{field}: {ty}`"),
                    )
                    .with_label(first.file, first.span, format!("`{field}: {t0}` here"))
                    .with_note("rules read the latest value of each event field by name, so one name must have one type")
                    .with_help(format!("rename the field in one of the events, or give both the type `{t0}`")),
                ),
                Some(_) => {}
                None => {
                    fact_first.insert(field, (ty, ev));
                }
            }
        }
    }
    // A top-level name equal to a case-fact name (§7.4).
    for m in project {
        for item in &m.ast.items {
            let name = match &item.kind {
                ItemKind::Let(l) => &l.name,
                ItemKind::Fn(f) => &f.name,
                ItemKind::Fixture(f) => &f.name,
                ItemKind::Enum(e) => &e.name,
                ItemKind::Record(r) => &r.name,
                _ => match op_decl(item) {
                    Some((_, n)) => n,
                    None => continue,
                },
            };
            if index.facts.contains_key(&name.name) {
                out.push(
                    Diagnostic::new(
                        Code::FactNameClash,
                        m.file,
                        name.span,
                        format!("`{}` is also a case fact", name.name),
                        "same name as an event field",
                    )
                    .with_note(
                        "rules see case facts by field name, so this name would be ambiguous",
                    )
                    .with_help("rename the declaration"),
                );
            }
        }
    }
}

fn recursion(index: &ProjectIndex, project: &[&ModuleView<'_>], out: &mut Vec<Diagnostic>) {
    let mut graph: BTreeMap<DefId, (Vec<DefId>, &FileName, Span)> = BTreeMap::new();
    for m in project {
        for item in &m.ast.items {
            let ItemKind::Fn(f) = &item.kind else {
                continue;
            };
            let mut calls = Vec::new();
            collect_calls(&f.body, &mut |path| {
                let found = if path.len() == 1 {
                    index.lookup_data(m.module, &path[0])
                } else {
                    index.lookup_qualified(m.module, &path)
                };
                if let Some((def, DataKind::Fn)) = found {
                    calls.push(def);
                }
            });
            graph.insert(
                DefId::new(m.module, &f.name.name),
                (calls, m.file, f.name.span),
            );
        }
    }
    // Depth-first search for cycles; report each function on a cycle once.
    let mut reported: BTreeSet<DefId> = BTreeSet::new();
    for start in graph.keys() {
        let mut stack: Vec<(DefId, usize)> = vec![(start.clone(), 0)];
        let mut path: Vec<DefId> = vec![start.clone()];
        let mut visited: BTreeSet<DefId> = BTreeSet::new();
        while let Some((node, i)) = stack.pop() {
            let Some((edges, _, _)) = graph.get(&node) else {
                path.pop();
                continue;
            };
            if i < edges.len() {
                stack.push((node.clone(), i + 1));
                let next = edges[i].clone();
                if next == *start {
                    if reported.insert(start.clone()) {
                        let (_, file, span) = graph[start];
                        let cycle: Vec<String> = path
                            .iter()
                            .chain(std::iter::once(start))
                            .map(|d| d.name.to_string())
                            .collect();
                        let label = if cycle.len() > 2 {
                            "calls itself through another function"
                        } else {
                            "calls itself"
                        };
                        out.push(
                            Diagnostic::new(Code::Recursion, file, span, format!("function `{}` is recursive", start.name), label)
                                .with_note(format!("call cycle: {}", cycle.join(" → ")))
                                .with_help("functions are pure and total: rewrite it without recursion (lists have `len`, `contains`, `in`)"),
                        );
                    }
                } else if visited.insert(next.clone()) {
                    path.push(next.clone());
                    stack.push((next, 0));
                }
            } else {
                path.pop();
            }
        }
    }
}

fn collect_calls(e: &Expr, f: &mut impl FnMut(Vec<String>)) {
    match &e.kind {
        ExprKind::Call { callee, args } => {
            let mut path = Vec::new();
            let mut cur = &**callee;
            loop {
                match &cur.kind {
                    ExprKind::Name(id) => {
                        path.push(id.name.clone());
                        path.reverse();
                        f(path);
                        break;
                    }
                    ExprKind::Field { base, field, .. } => {
                        path.push(field.name.clone());
                        cur = base;
                    }
                    _ => {
                        collect_calls(cur, f);
                        break;
                    }
                }
            }
            for a in args {
                collect_calls(&a.value, f);
            }
        }
        ExprKind::List(items) => items.iter().for_each(|i| collect_calls(i, f)),
        ExprKind::Record { spread, fields, .. } => {
            if let Some(s) = spread {
                collect_calls(s, f);
            }
            fields.iter().for_each(|fi| collect_calls(&fi.value, f));
        }
        ExprKind::Field { base, .. } => collect_calls(base, f),
        ExprKind::Index { index, .. } => collect_calls(index, f),
        ExprKind::IsSet { operand, .. } => collect_calls(operand, f),
        ExprKind::Quant { list, body, .. } => {
            collect_calls(list, f);
            collect_calls(body, f);
        }
        ExprKind::Unwrap(x) | ExprKind::Unary { operand: x, .. } => collect_calls(x, f),
        ExprKind::Binary { lhs, rhs, .. } => {
            collect_calls(lhs, f);
            collect_calls(rhs, f);
        }
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => {
            collect_calls(cond, f);
            collect_calls(then, f);
            collect_calls(otherwise, f);
        }
        ExprKind::Match { scrutinee, arms } => {
            collect_calls(scrutinee, f);
            arms.iter().for_each(|a| collect_calls(&a.value, f));
        }
        _ => {}
    }
}

fn unused(project: &[&ModuleView<'_>], uses: &BTreeSet<Use>, out: &mut Vec<Diagnostic>) {
    for m in project {
        for item in &m.ast.items {
            let (name, what, used) = match &item.kind {
                ItemKind::Enum(e) => (
                    &e.name,
                    "enum",
                    uses.contains(&Use::Data(DefId::new(m.module, &e.name.name))),
                ),
                ItemKind::Record(r) => (
                    &r.name,
                    "record",
                    uses.contains(&Use::Data(DefId::new(m.module, &r.name.name))),
                ),
                ItemKind::Let(l) => (
                    &l.name,
                    "constant",
                    uses.contains(&Use::Data(DefId::new(m.module, &l.name.name))),
                ),
                ItemKind::Fn(f) => (
                    &f.name,
                    "function",
                    uses.contains(&Use::Data(DefId::new(m.module, &f.name.name))),
                ),
                ItemKind::Fixture(f) => (
                    &f.name,
                    "fixture",
                    uses.contains(&Use::Data(DefId::new(m.module, &f.name.name))),
                ),
                ItemKind::Team(t) => (
                    &t.name,
                    "team",
                    uses.contains(&Use::Op(OpKind::Team, t.name.name.clone())),
                ),
                ItemKind::Calendar(c) => (
                    &c.name,
                    "calendar",
                    uses.contains(&Use::Op(OpKind::Calendar, c.name.name.clone())),
                ),
                _ => continue,
            };
            if !used && !name.name.starts_with('_') {
                out.push(
                    Diagnostic::new(
                        Code::Unused,
                        m.file,
                        name.span,
                        format!("{what} `{}` is never used", name.name),
                        "unused",
                    )
                    .with_help(format!(
                        "remove it, or prefix its name with `_` to keep it: `_{}`",
                        name.name
                    )),
                );
            }
        }
    }
}
