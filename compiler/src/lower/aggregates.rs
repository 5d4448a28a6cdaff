//! Lowering aggregates (docs/language.md §5.6): each declaration becomes an
//! `ir::AggregateDef` in the bundle's `aggregates` section, numbered in (module, name) order.

use std::collections::BTreeMap;

use meshline_runtime::ir::{
    AggFeed, AggField, AggOp, AggregateDef, DEFAULT_KEEP, OpenCases, Program,
};
use meshline_runtime::ir_print::expr_text;

use super::expr::LScope;
use super::{Ids, ModuleInput, mk, rules::event_ids, wire};
use crate::semantic::index::ProjectIndex;
use crate::semantic::types::{DefId, Ty};
use crate::syntax::ast::{AggOpDecl, AggregateDecl, ItemKind};

fn decls<'a>(
    modules: &'a [ModuleInput<'a>],
) -> impl Iterator<Item = (&'a ModuleInput<'a>, &'a AggregateDecl)> {
    modules.iter().filter(|m| !m.is_std).flat_map(|m| {
        m.ast.items.iter().filter_map(move |i| match &i.kind {
            ItemKind::Aggregate(a) => Some((m, a)),
            _ => None,
        })
    })
}

/// Aggregate ids, in (module, name) order.
pub(super) fn ids(modules: &[ModuleInput<'_>]) -> BTreeMap<DefId, u32> {
    let mut keys: Vec<DefId> = decls(modules)
        .map(|(m, a)| DefId::new(m.module, &a.name.name))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .enumerate()
        .map(|(i, k)| (k, i as u32))
        .collect()
}

pub(super) fn lower(
    index: &ProjectIndex,
    modules: &[ModuleInput<'_>],
    ids: &Ids,
    p: &Program,
) -> Vec<AggregateDef> {
    let mut out: Vec<(u32, AggregateDef)> = Vec::new();
    for (m, a) in decls(modules) {
        let def = DefId::new(m.module, &a.name.name);
        let Some(id) = ids.aggregates.get(&def) else {
            continue;
        };
        if out.iter().any(|(i, _)| i == id) {
            continue;
        }
        let l = mk(index, ids, m, LScope::Rule);
        let mut feeds = Vec::new();
        // What the fingerprint covers: everything that decides the state, by name.
        let mut print = format!(
            "[{}] over {:?} |",
            crate::semantic::aggregates::key_type(index, &def)
                .map_or("?".to_string(), |t| t.to_string()),
            a.window.map(|(d, _)| d)
        );
        for f in &a.feeds {
            let key = l.lower(&f.key);
            let when = f.when.as_ref().map(|w| l.lower(w));
            for e in event_ids(&f.events, ids) {
                let name = p.events.get(e as usize).map_or("?", |d| d.name.as_str());
                print.push_str(&format!(
                    " on {name} by {} when {} |",
                    expr_text(p, &key),
                    when.as_ref().map_or(String::new(), |w| expr_text(p, w))
                ));
                feeds.push(AggFeed {
                    event: e,
                    key: key.clone(),
                    when: when.clone(),
                });
            }
        }
        // `open cases by`: at most one (the checker says so); the key reads facts alone.
        let cases = a.cases.first().map(|c| {
            let key = l.lower(&c.key);
            let when = c.when.as_ref().map(|w| l.lower(w));
            print.push_str(&format!(
                " open cases by {} when {} |",
                expr_text(p, &key),
                when.as_ref().map_or(String::new(), |w| expr_text(p, w))
            ));
            OpenCases { key, when }
        });
        let fields_ty = index
            .fields_of(&Ty::Record(def.clone()))
            .unwrap_or_default();
        let mut fields = Vec::new();
        for f in &a.fields {
            let name = f.field.name.name.clone();
            let ty = fields_ty
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Ty::Error, |(_, t)| t.clone());
            let op = match &f.op {
                AggOpDecl::Count(_) => AggOp::Count,
                AggOpDecl::Sum(e) => AggOp::Sum(l.lower(e)),
                AggOpDecl::Latest(e) => AggOp::Latest(l.lower(e)),
            };
            let shown = match &op {
                AggOp::Count => "count".to_string(),
                AggOp::Sum(e) => format!("sum({})", expr_text(p, e)),
                AggOp::Latest(e) => format!("latest({})", expr_text(p, e)),
            };
            print.push_str(&format!(" {name}: {ty} = {shown} |"));
            fields.push(AggField {
                name,
                ty: wire(&ty, ids),
                op,
            });
        }
        out.push((
            *id,
            AggregateDef {
                name: a.name.name.clone(),
                window: a.window.map(|(d, _)| d),
                keep: a
                    .keep
                    .and_then(|(n, _)| u64::try_from(n).ok())
                    .unwrap_or(DEFAULT_KEEP),
                feeds,
                fields,
                fingerprint: print,
                cases,
            },
        ));
    }
    out.sort_by_key(|(id, _)| *id);
    out.into_iter().map(|(_, a)| a).collect()
}
