//! The literal parts of rules, lowered: durations and percentages (from a literal or a
//! constant), and teams, persons and recipients — shared by routes, SLA policies, gates,
//! automations' steps and the lifecycle.

use meshline_runtime::ir::{self, Expr as IrExpr, Lit};

use crate::syntax::ast;

use super::Ids;

/// A duration from a literal or a constant whose value is a literal.
pub(super) fn duration_spec(e: &IrExpr, consts: &[ir::ConstDef]) -> Option<ir::DurationSpec> {
    match e {
        IrExpr::Lit(Lit::Duration(s)) => Some(ir::DurationSpec::Wall(*s)),
        IrExpr::Lit(Lit::Business(n, u)) => Some(ir::DurationSpec::Business(*n, *u)),
        IrExpr::Const(i) => consts
            .get(*i as usize)
            .and_then(|c| duration_spec(&c.value, consts)),
        _ => None,
    }
}

/// A percentage in hundredths from a literal (`75%` → 7500).
pub(super) fn percent(e: &IrExpr, consts: &[ir::ConstDef]) -> Option<u32> {
    match e {
        IrExpr::Lit(Lit::Percent(p)) => {
            let (int, frac) = p.split_once('.').unwrap_or((p, ""));
            let frac2: String = format!("{frac:0<2}").chars().take(2).collect();
            Some(int.parse::<u32>().ok()? * 100 + frac2.parse::<u32>().ok()?)
        }
        IrExpr::Const(i) => consts
            .get(*i as usize)
            .and_then(|c| percent(&c.value, consts)),
        _ => None,
    }
}

pub(super) fn target(t: &ast::Target, ids: &Ids) -> ir::Target {
    match t {
        ast::Target::Person(s) => ir::Target::Person(s.value.to_lowercase()),
        ast::Target::Name(i) => ir::Target::Team(ids.teams.get(&i.name).copied().unwrap_or(0)),
    }
}

pub(super) fn recipient(t: &ast::Target, ids: &Ids) -> ir::Recipient {
    match t {
        ast::Target::Name(i) if i.name == "assignee" => ir::Recipient::Assignee,
        ast::Target::Name(i) if i.name == "owner" => ir::Recipient::Owner,
        other => ir::Recipient::Target(target(other, ids)),
    }
}
