//! Lowering a checked project to the runtime's IR (`meshline_runtime::ir::Program`).
//!
//! Ids are assigned in a deterministic order (sorted names, or declaration order where the
//! language gives order a meaning: routes and gates), so the same sources always give the
//! same program and the same bundle bytes.

mod aggregates;
pub mod expr;
mod flow;
mod lifecycle;
mod rollout;
mod rules;
pub mod source_map;
mod spec;
mod tables;
pub mod tests;

use std::collections::{BTreeMap, BTreeSet};

use meshline_runtime::ir::{self};

use crate::semantic::index::{BUILTIN_EVENTS, DataKind, OpKind, ProjectIndex};
use crate::semantic::sig::EffectKind;
use crate::semantic::types::{DefId, Ty};
use crate::syntax::ast::{self, ItemKind, Module};
use expr::{LScope, LowerExpr};
use rules::{lower_automation, lower_gate, lower_route, lower_sla};
use spec::duration_spec;

/// One module as lowering sees it.
pub struct ModuleInput<'a> {
    pub module: &'a str,
    pub is_std: bool,
    pub ast: &'a Module,
    /// The module's semantic model (`db::module_inference`).
    pub inference: &'a crate::semantic::ModuleInference,
    /// Its reference tables' rows (`db::module_tables`).
    pub tables: &'a crate::semantic::tables::ModuleTables,
}

/// Name → id tables.
#[derive(Clone, Default)]
pub struct Ids {
    pub enums: BTreeMap<DefId, u32>,
    pub records: BTreeMap<DefId, u32>,
    pub events: BTreeMap<String, u32>,
    pub slots: BTreeMap<String, u32>,
    pub consts: BTreeMap<DefId, u32>,
    pub fns: BTreeMap<DefId, u32>,
    pub teams: BTreeMap<String, u32>,
    pub calendars: BTreeMap<String, u32>,
    pub actions: BTreeMap<(String, String), u32>,
    pub tables: BTreeMap<DefId, u32>,
    pub aggregates: BTreeMap<DefId, u32>,
}

pub fn unit(u: ast::BusinessUnit) -> ir::BusinessUnit {
    match u {
        ast::BusinessUnit::Minutes => ir::BusinessUnit::Minutes,
        ast::BusinessUnit::Hours => ir::BusinessUnit::Hours,
        ast::BusinessUnit::Days => ir::BusinessUnit::Days,
    }
}

fn ids_of<'k, K: Ord + Clone + 'k>(keys: impl IntoIterator<Item = &'k K>) -> BTreeMap<K, u32> {
    keys.into_iter()
        .enumerate()
        .map(|(i, k)| (k.clone(), i as u32))
        .collect()
}

/// Lower a project that checked without errors.
pub fn lower_program(
    index: &ProjectIndex,
    modules: &[ModuleInput<'_>],
    package: &str,
    version: &str,
) -> ir::Program {
    lower_with_ids(index, modules, package, version).0
}

/// Lower a project and keep the id tables (the test harness lowers tests with them).
pub fn lower_with_ids(
    index: &ProjectIndex,
    modules: &[ModuleInput<'_>],
    package: &str,
    version: &str,
) -> (ir::Program, Ids) {
    let mut ids = Ids::default();
    let mut enum_keys = Vec::new();
    let mut record_keys = Vec::new();
    let mut fn_keys = Vec::new();
    for (m, sig) in &index.modules {
        enum_keys.extend(sig.enums.keys().map(|n| DefId::new(m, n)));
        record_keys.extend(sig.records.keys().map(|n| DefId::new(m, n)));
        fn_keys.extend(sig.fns.keys().map(|n| DefId::new(m, n)));
    }
    ids.enums = ids_of(&enum_keys);
    ids.records = ids_of(&record_keys);
    ids.fns = ids_of(&fn_keys);
    ids.events = ids_of(index.receivable.keys());
    let team_names: Vec<String> = index
        .ops
        .keys()
        .filter(|(k, _)| *k == OpKind::Team)
        .map(|(_, n)| n.clone())
        .collect();
    let cal_names: Vec<String> = index
        .ops
        .keys()
        .filter(|(k, _)| *k == OpKind::Calendar)
        .map(|(_, n)| n.clone())
        .collect();
    ids.teams = ids_of(&team_names);
    ids.calendars = ids_of(&cal_names);
    let action_keys: Vec<(String, String)> = index
        .all_actions()
        .iter()
        .map(|(c, a, _)| (c.to_string(), a.to_string()))
        .collect();
    ids.actions = ids_of(&action_keys);

    // Events and slots (§7.5, §7.6).
    let imported_std: BTreeSet<DefId> = index
        .modules
        .values()
        .filter(|s| !s.is_std)
        .flat_map(|s| s.imports.iter())
        .filter(|i| i.module.starts_with("std."))
        .flat_map(|i| {
            i.names
                .iter()
                .flatten()
                .map(move |n| DefId::new(&i.module, n))
        })
        .collect();
    let mut slot_types: BTreeMap<String, (Ty, bool)> = BTreeMap::new();
    let mut event_info = Vec::new();
    for (name, def) in &index.receivable {
        let updates = !def.module.starts_with("std.") || imported_std.contains(def);
        let fields = index.fields_of(&Ty::Event(def.clone())).unwrap_or_default();
        for (f, t) in &fields {
            let entry = slot_types
                .entry(f.clone())
                .or_insert_with(|| (t.clone(), false));
            entry.1 |= updates;
        }
        let builtin = BUILTIN_EVENTS
            .iter()
            .find(|(m, n)| *n == name && *m == &*def.module)
            .map(|(_, n)| match *n {
                "OwnerAcknowledged" => ir::Builtin::OwnerAcknowledged,
                "ApprovalGranted" => ir::Builtin::ApprovalGranted,
                "ApprovalDenied" => ir::Builtin::ApprovalDenied,
                "BreakerReset" => ir::Builtin::BreakerReset,
                "ActionSucceeded" => ir::Builtin::ActionSucceeded,
                _ => ir::Builtin::ActionFailed,
            });
        event_info.push((name.clone(), fields, updates, builtin));
    }
    ids.slots = ids_of(slot_types.keys());

    // Constants (lets and fixtures), in dependency order.
    let const_order = const_order(index, modules);
    ids.consts = ids_of(const_order.iter().map(|(d, _)| d));

    let mut p = ir::Program {
        package: package.to_string(),
        version: version.to_string(),
        enums: enum_keys
            .iter()
            .map(|d| ir::EnumDef {
                name: d.name.to_string(),
                variants: index.enum_variants(d).cloned().unwrap_or_default(),
            })
            .collect(),
        records: record_keys
            .iter()
            .map(|d| ir::RecordDef {
                name: d.name.to_string(),
                fields: wire_fields(
                    &index.fields_of(&Ty::Record(d.clone())).unwrap_or_default(),
                    &ids,
                ),
            })
            .collect(),
        events: event_info
            .iter()
            .map(|(name, fields, updates, builtin)| ir::EventDef {
                name: name.clone(),
                fields: wire_fields(fields, &ids),
                slots: fields.iter().map(|(f, _)| ids.slots[f]).collect(),
                updates_facts: *updates,
                builtin: *builtin,
            })
            .collect(),
        slots: slot_types
            .iter()
            .map(|(n, (t, fact))| ir::SlotDef {
                name: n.clone(),
                ty: wire(t, &ids),
                fact: *fact,
            })
            .collect(),
        default_calendar: ids.calendars.get("always").copied(),
        ..Default::default()
    };

    let by_module: BTreeMap<&str, &ModuleInput<'_>> =
        modules.iter().map(|m| (m.module, m)).collect();
    ids.tables = tables::ids(modules);
    p.tables = tables::lower(index, modules, &ids);
    ids.aggregates = aggregates::ids(modules);
    let ids = &ids;

    for (def, value) in &const_order {
        let m = by_module[&*def.module];
        p.consts.push(ir::ConstDef {
            name: def.name.to_string(),
            value: mk(index, ids, m, LScope::None).lower(value),
        });
    }
    for def in &fn_keys {
        let m = by_module[&*def.module];
        let f = m.ast.items.iter().find_map(|i| match &i.kind {
            ItemKind::Fn(f) if *f.name.name == *def.name => Some(f),
            _ => None,
        });
        let Some(f) = f else { continue };
        let params: Vec<String> = f.params.iter().map(|p| p.name.name.clone()).collect();
        let body = mk(index, ids, m, LScope::Params(params.clone())).lower(&f.body);
        p.functions.push(ir::FnDef {
            name: def.name.to_string(),
            params: params.len() as u32,
            body,
        });
    }
    for name in &cal_names {
        let module = index.op(OpKind::Calendar, name).unwrap_or_default();
        if let Some(c) = find_item(&by_module, module, |k| match k {
            ItemKind::Calendar(c) if c.name.name == *name => Some(c),
            _ => None,
        }) {
            p.calendars.push(calendar_spec(c));
        }
    }
    for name in &team_names {
        let t = index
            .team(name)
            .cloned()
            .unwrap_or(crate::semantic::sig::TeamSig {
                members: vec![],
                calendar: None,
            });
        p.teams.push(ir::TeamDef {
            name: name.clone(),
            members: t.members.iter().map(|m| m.to_lowercase()).collect(),
            calendar: t
                .calendar
                .as_ref()
                .and_then(|c| ids.calendars.get(c).copied()),
        });
    }
    for (c, a, sig) in index.all_actions() {
        let module = index.op(OpKind::Connector, c).unwrap_or_default();
        let params: Vec<(String, Ty)> = index
            .action(c, a)
            .map(|s| {
                s.params
                    .iter()
                    .map(|(n, t)| {
                        (
                            n.clone(),
                            index.resolve_type(module, t).unwrap_or(Ty::Error),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let names: Vec<String> = params.iter().map(|(n, _)| n.clone()).collect();
        let amount = by_module.get(module).and_then(|m| {
            find_item(&by_module, module, |k| match k {
                ItemKind::Connector(cd) if cd.name.name == c => {
                    cd.actions.iter().find(|x| x.name.name == a)
                }
                _ => None,
            })
            .and_then(|ad| match &ad.effect {
                Some(ast::Effect::Money(e)) => {
                    Some(mk(index, ids, m, LScope::Params(names.clone())).lower(e))
                }
                _ => None,
            })
        });
        p.actions.push(ir::ActionDef {
            connector: c.to_string(),
            name: a.to_string(),
            params: wire_fields(&params, ids),
            effect: match sig.effect {
                EffectKind::None => ir::Effect::None,
                EffectKind::Money => ir::Effect::Money,
                EffectKind::Destructive => ir::Effect::Destructive,
            },
            amount,
            compensate: sig
                .compensate
                .as_ref()
                .and_then(|x| ids.actions.get(&(c.to_string(), x.clone())).copied()),
        });
    }

    // Rules, in declaration order (project modules sorted by name, items in source order).
    // Gates scoped to automations by name, resolved once every automation is lowered.
    let mut scoped: Vec<(usize, Vec<String>)> = Vec::new();
    for m in modules.iter().filter(|m| !m.is_std) {
        for item in &m.ast.items {
            match &item.kind {
                ItemKind::Classify(c) => {
                    let Some(info) = &index.classify else {
                        continue;
                    };
                    let variant =
                        |n: &str| info.variants.iter().position(|v| v == n).unwrap_or(0) as u32;
                    let l = mk(index, ids, m, LScope::Rule);
                    p.classify = Some(ir::Classify {
                        enum_id: ids.enums[&info.enum_def],
                        events: c
                            .events
                            .iter()
                            .filter_map(|e| ids.events.get(&e.last().name).copied())
                            .collect(),
                        arms: c
                            .arms
                            .iter()
                            .map(|a| (variant(&a.variant.name), l.lower(&a.cond)))
                            .collect(),
                        otherwise: c.otherwise.as_ref().map_or(0, |o| variant(&o.name)),
                    });
                }
                ItemKind::Owners(o) => {
                    let Some(info) = &index.classify else {
                        continue;
                    };
                    p.owners = info
                        .variants
                        .iter()
                        .map(|v| {
                            let arm = o.arms.iter().find(|a| a.variant.name == *v);
                            let team = |i: Option<&ast::Ident>| {
                                i.and_then(|i| ids.teams.get(&i.name).copied()).unwrap_or(0)
                            };
                            ir::OwnerDef {
                                owner: team(arm.map(|a| &a.owner)),
                                escalate: team(arm.and_then(|a| a.escalate.as_ref())),
                            }
                        })
                        .collect();
                    p.acknowledge_within = o.acknowledge.as_ref().and_then(|e| {
                        duration_spec(&mk(index, ids, m, LScope::None).lower(e), &p.consts)
                    });
                }
                ItemKind::Route(r) => {
                    p.routes
                        .push(lower_route(r, &mk(index, ids, m, LScope::Rule), ids))
                }
                ItemKind::Sla(s) => p.slas.push(lower_sla(
                    s,
                    &mk(index, ids, m, LScope::Rule),
                    index,
                    ids,
                    &p.consts,
                )),
                ItemKind::Gate(g) => {
                    let scope = rollout::scoped_to(g);
                    if !scope.is_empty() {
                        scoped.push((p.gates.len(), scope));
                    }
                    p.gates.push(lower_gate(g, m, index, ids, &p.consts))
                }
                ItemKind::Automation(a) => p.automations.push(lower_automation(
                    a,
                    &mk(index, ids, m, LScope::Rule),
                    index,
                    ids,
                    &p.consts,
                )),
                ItemKind::Lifecycle(l) => {
                    p.lifecycle = lifecycle::lower_lifecycle(
                        l,
                        &mk(index, ids, m, LScope::None),
                        ids,
                        &p.consts,
                    )
                }
                _ => {}
            }
        }
    }
    p.aggregates = aggregates::lower(index, modules, ids, &p);
    rollout::resolve_scopes(&mut p, scoped);
    (p, ids.clone())
}

pub(super) fn mk<'a>(
    index: &'a ProjectIndex,
    ids: &'a Ids,
    m: &'a ModuleInput<'a>,
    scope: LScope,
) -> LowerExpr<'a> {
    LowerExpr {
        index,
        ids,
        module: m.module,
        inference: m.inference,
        scope,
        bound: Vec::new(),
    }
}

fn find_item<'a, T>(
    by_module: &BTreeMap<&str, &ModuleInput<'a>>,
    module: &str,
    f: impl Fn(&'a ItemKind) -> Option<&'a T>,
) -> Option<&'a T> {
    let m = by_module.get(module)?;
    m.ast.items.iter().find_map(|i| f(&i.kind))
}

fn wire(t: &Ty, ids: &Ids) -> ir::WireTy {
    use ir::WireTy as W;
    match t {
        Ty::Bool => W::Bool,
        Ty::Int => W::Int,
        Ty::Decimal => W::Decimal,
        Ty::Money => W::Money,
        Ty::Percent => W::Percent,
        Ty::Duration => W::Duration,
        Ty::BusinessDuration => W::BusinessDuration,
        Ty::Date => W::Date,
        Ty::TimeOfDay => W::TimeOfDay,
        Ty::Time => W::Time,
        Ty::Person => W::Person,
        Ty::Team => W::Team,
        Ty::Calendar => W::Calendar,
        Ty::Assignee => W::Assignee,
        Ty::Enum(d) => ids.enums.get(d).map_or(W::String, |i| W::Enum(*i)),
        Ty::Record(d) => ids.records.get(d).map_or(W::String, |i| W::Record(*i)),
        Ty::List(e) => W::List(Box::new(wire(e, ids))),
        Ty::Optional(e) => W::Optional(Box::new(wire(e, ids))),
        _ => W::String,
    }
}

fn wire_fields(fields: &[(String, Ty)], ids: &Ids) -> Vec<ir::FieldDef> {
    fields
        .iter()
        .map(|(n, t)| ir::FieldDef {
            name: n.clone(),
            ty: wire(t, ids),
        })
        .collect()
}

/// Lets and fixtures, ordered so each refers only to earlier ones.
fn const_order<'a>(
    index: &ProjectIndex,
    modules: &'a [ModuleInput<'a>],
) -> Vec<(DefId, &'a ast::Expr)> {
    let mut values: BTreeMap<DefId, (&'a ast::Expr, &'a str)> = BTreeMap::new();
    for m in modules {
        for item in &m.ast.items {
            match &item.kind {
                ItemKind::Let(l) => {
                    values
                        .entry(DefId::new(m.module, &l.name.name))
                        .or_insert((&l.value, m.module));
                }
                ItemKind::Fixture(f) => {
                    values
                        .entry(DefId::new(m.module, &f.name.name))
                        .or_insert((&f.value, m.module));
                }
                _ => {}
            }
        }
    }
    let mut order = Vec::new();
    let mut state: BTreeMap<DefId, bool> = BTreeMap::new(); // false = visiting, true = done
    fn visit<'a>(
        d: &DefId,
        values: &BTreeMap<DefId, (&'a ast::Expr, &'a str)>,
        index: &ProjectIndex,
        state: &mut BTreeMap<DefId, bool>,
        order: &mut Vec<(DefId, &'a ast::Expr)>,
    ) {
        if state.contains_key(d) {
            return;
        }
        let Some((e, module)) = values.get(d) else {
            return;
        };
        state.insert(d.clone(), false);
        let mut deps = Vec::new();
        names_in(e, &mut deps);
        for n in deps {
            if let Some((dep, DataKind::Let | DataKind::Fixture)) = index.lookup_data(module, &n) {
                visit(&dep, values, index, state, order);
            }
        }
        state.insert(d.clone(), true);
        order.push((d.clone(), e));
    }
    for d in values.keys() {
        visit(d, &values, index, &mut state, &mut order);
    }
    order
}

fn names_in(e: &ast::Expr, out: &mut Vec<String>) {
    use ast::ExprKind as K;
    match &e.kind {
        K::Name(id) => out.push(id.name.clone()),
        K::List(xs) => xs.iter().for_each(|x| names_in(x, out)),
        K::Record { spread, fields, .. } => {
            if let Some(s) = spread {
                names_in(s, out);
            }
            fields.iter().for_each(|f| names_in(&f.value, out));
        }
        K::Field { base, .. } | K::Unwrap(base) | K::Unary { operand: base, .. } => {
            names_in(base, out)
        }
        K::Call { args, .. } => args.iter().for_each(|a| names_in(&a.value, out)),
        K::Binary { lhs, rhs, .. } => {
            names_in(lhs, out);
            names_in(rhs, out);
        }
        K::If {
            cond,
            then,
            otherwise,
        } => {
            names_in(cond, out);
            names_in(then, out);
            names_in(otherwise, out);
        }
        K::Match { scrutinee, arms } => {
            names_in(scrutinee, out);
            arms.iter().for_each(|a| names_in(&a.value, out));
        }
        _ => {}
    }
}

fn calendar_spec(c: &ast::CalendarDecl) -> ir::CalendarSpec {
    let mut spec = ir::CalendarSpec {
        name: c.name.name.clone(),
        timezone: "UTC".into(),
        hours: Vec::new(),
        holidays: Vec::new(),
    };
    for clause in &c.clauses {
        match clause {
            ast::CalendarClause::Timezone(s) => spec.timezone = s.value.clone(),
            ast::CalendarClause::Hours(h) => {
                let from = (h.from.hour * 60 + h.from.minute) as u16;
                let to = (h.to.hour * 60 + h.to.minute) as u16;
                for d in &h.days {
                    let first = crate::semantic::values::parse_day(&d.first.name).unwrap_or(0);
                    let last = d
                        .last
                        .as_ref()
                        .and_then(|l| crate::semantic::values::parse_day(&l.name))
                        .unwrap_or(first);
                    let mut day = first;
                    loop {
                        spec.hours.push(ir::Interval {
                            weekday: day,
                            from_minute: from,
                            to_minute: to,
                        });
                        if day == last {
                            break;
                        }
                        day = (day + 1) % 7;
                    }
                }
            }
            ast::CalendarClause::Holidays(hs) => {
                for h in hs {
                    spec.holidays.push(match h {
                        ast::Holiday::Date(d) => ir::HolidaySpec::Date {
                            year: d.year as i16,
                            month: d.month as i8,
                            day: d.day as i8,
                        },
                        ast::Holiday::Range(a, b) => ir::HolidaySpec::Range {
                            from: (a.year as i16, a.month as i8, a.day as i8),
                            to: (b.year as i16, b.month as i8, b.day as i8),
                        },
                        ast::Holiday::Yearly { month, day, .. } => ir::HolidaySpec::Yearly {
                            month: *month as i8,
                            day: *day as i8,
                        },
                    });
                }
            }
        }
    }
    spec
}
