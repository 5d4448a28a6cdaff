//! Lowering reference tables (docs/language.md §5.5): each table's typed rows become
//! literals in the bundle's `tables` section, numbered in (module, name) order.

use std::collections::BTreeMap;

use meshline_runtime::ir::{self, Lit};

use super::{Ids, ModuleInput};
use crate::semantic::index::ProjectIndex;
use crate::semantic::tables::Cell;
use crate::semantic::types::{DefId, Ty};

/// Table ids, in (module, name) order.
pub(super) fn ids(modules: &[ModuleInput<'_>]) -> BTreeMap<DefId, u32> {
    let mut keys: Vec<DefId> = modules
        .iter()
        .flat_map(|m| {
            m.tables
                .tables
                .iter()
                .map(|t| DefId::new(m.module, &t.name))
        })
        .collect();
    keys.sort();
    keys.into_iter()
        .enumerate()
        .map(|(i, k)| (k, i as u32))
        .collect()
}

pub(super) fn lower(
    index: &ProjectIndex,
    modules: &[ModuleInput<'_>],
    ids: &Ids,
) -> Vec<ir::TableDef> {
    let mut out: Vec<(u32, ir::TableDef)> = Vec::new();
    for m in modules {
        for t in &m.tables.tables {
            let def = DefId::new(m.module, &t.name);
            let Some(id) = ids.tables.get(&def) else {
                continue;
            };
            let fields = index
                .fields_of(&Ty::Record(def.clone()))
                .unwrap_or_default();
            let columns = super::wire_fields(&fields, ids);
            out.push((
                *id,
                ir::TableDef {
                    name: t.name.clone(),
                    columns,
                    key: t.key,
                    rows: t
                        .rows
                        .iter()
                        .map(|r| r.iter().map(|c| lit(c, ids)).collect())
                        .collect(),
                    file: t.file.to_string(),
                    hash: t.hash.clone(),
                },
            ));
        }
    }
    out.sort_by_key(|(id, _)| *id);
    out.into_iter().map(|(_, t)| t).collect()
}

fn lit(c: &Cell, ids: &Ids) -> Lit {
    match c {
        Cell::None => Lit::None,
        Cell::Bool(b) => Lit::Bool(*b),
        Cell::Int(i) => Lit::Int(*i),
        Cell::Decimal(d) => Lit::Decimal(d.clone()),
        Cell::Money { amount, currency } => Lit::Money {
            amount: amount.clone(),
            currency: currency.clone(),
        },
        Cell::Percent(p) => Lit::Percent(p.clone()),
        Cell::Duration(s) => Lit::Duration(*s),
        Cell::Date { year, month, day } => Lit::Date {
            year: *year,
            month: *month,
            day: *day,
        },
        Cell::Time(t) => Lit::Time(t.clone()),
        Cell::Str(s) => Lit::Str(s.clone()),
        Cell::Person(p) => Lit::Person(p.clone()),
        Cell::Team(t) => ids.teams.get(t).map_or(Lit::None, |i| Lit::Team(*i)),
        Cell::Variant(def, v) => ids
            .enums
            .get(def)
            .map_or(Lit::None, |e| Lit::Variant(*e, *v)),
    }
}
