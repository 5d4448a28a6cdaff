//! Lowering a staged rollout (`rollout { … }`) and the automations a gate is scoped to
//! (`on automation NAME`): docs/language.md §11.2 and §11.3.

use meshline_runtime::ir;

use super::Ids;
use super::expr::LowerExpr;
use super::spec::{duration_spec, percent};
use crate::semantic::rollout::percent_hundredths;
use crate::syntax::ast;

fn stage(s: &ast::StageLit) -> ir::Stage {
    match s {
        ast::StageLit::Shadow(_) => ir::Stage::Shadow,
        ast::StageLit::Percent(n, _) => ir::Stage::Percent(percent_hundredths(n).unwrap_or(0)),
    }
}

/// The stages in order of appearance (`start` first), and the index of each.
fn index_of(list: &mut Vec<ir::Stage>, s: ir::Stage) -> u32 {
    match list.iter().position(|x| *x == s) {
        Some(i) => i as u32,
        None => {
            list.push(s);
            (list.len() - 1) as u32
        }
    }
}

fn criterion(
    c: &ast::StageCriterion,
    l: &LowerExpr<'_>,
    consts: &[ir::ConstDef],
) -> Option<ir::Criterion> {
    let metric = match c.metric.name.as_str() {
        "agreement" => ir::Metric::Agreement,
        "failures" => ir::Metric::Failures,
        _ => return None,
    };
    let cmp = match c.cmp {
        ast::StageCmp::Ge => ir::Cmp::Ge,
        ast::StageCmp::Gt => ir::Cmp::Gt,
        ast::StageCmp::Le => ir::Cmp::Le,
        ast::StageCmp::Lt => ir::Cmp::Lt,
    };
    Some(ir::Criterion {
        metric,
        cmp,
        threshold: percent(&l.lower(&c.threshold), consts)?,
        over: u32::try_from(c.over).ok()?,
    })
}

/// The IR of a checked `rollout { … }` block, and the rollout its start stage is (which
/// the core `rollout` field carries, with the bucket key, for runtimes that read no
/// sections and for the bucket key's compiled code).
pub(super) fn lower_stages(
    s: &ast::Stages,
    key: Vec<ir::Expr>,
    l: &LowerExpr<'_>,
    ids: &Ids,
    consts: &[ir::ConstDef],
) -> (ir::Rollout, Option<ir::Stages>) {
    let start = s.start.as_ref().map_or(ir::Stage::Shadow, stage);
    let mut list = vec![start];
    let promotions = s
        .promotions
        .iter()
        .map(|p| ir::Promotion {
            from: index_of(&mut list, stage(&p.from)),
            to: index_of(&mut list, stage(&p.to)),
            after: p
                .after
                .as_ref()
                .and_then(|d| duration_spec(&l.lower(d), consts)),
            criteria: p
                .criteria
                .iter()
                .filter_map(|c| criterion(c, l, consts))
                .collect(),
        })
        .collect();
    let rollback = s.rollback.as_ref().map(|r| ir::Rollback {
        to: index_of(&mut list, stage(&r.to)),
        breaker: r.breaker.is_some(),
        criteria: r
            .criteria
            .iter()
            .filter_map(|c| criterion(c, l, consts))
            .collect(),
    });
    let agreement = s.agreement.as_ref().and_then(|a| {
        Some(ir::Agreement {
            event: *ids.events.get(&a.event.last().name)?,
            within: duration_spec(&l.lower(&a.within), consts)?,
        })
    });
    let rollout = match start {
        ir::Stage::Shadow => ir::Rollout::Shadow { sample: None, key },
        ir::Stage::Percent(percent) => ir::Rollout::Percent { percent, key },
    };
    let stages = ir::Stages {
        stages: list,
        agreement,
        promotions,
        rollback,
    };
    (rollout, Some(stages))
}

/// The automations a gate's `on automation NAME` selectors name.
pub(super) fn scoped_to(g: &ast::GateDecl) -> Vec<String> {
    g.selectors
        .iter()
        .filter_map(|s| match s {
            ast::GateSelector::AutomationNamed(n, _) => Some(n.name.clone()),
            _ => None,
        })
        .collect()
}

/// Resolve each scoped gate's automation names to their indices, once every automation
/// is lowered (gates and automations may come in any order).
pub(super) fn resolve_scopes(p: &mut ir::Program, scoped: Vec<(usize, Vec<String>)>) {
    for (g, names) in scoped {
        let autos: Vec<u32> = names
            .iter()
            .filter_map(|n| p.automations.iter().position(|a| &a.name == n))
            .map(|i| i as u32)
            .collect();
        if let Some(gate) = p.gates.get_mut(g) {
            gate.automations = autos;
        }
    }
}
