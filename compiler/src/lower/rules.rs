//! Lowering rules to IR: routes (with their index discriminant), SLA policies, gates and
//! automations, and the literal durations and percentages their clauses take.

use meshline_runtime::ir::{self, Expr as IrExpr};

use super::expr::{LScope, LowerExpr, order_args};
use crate::semantic::index::ProjectIndex;
use crate::semantic::sig::EffectKind;
use crate::syntax::ast::{self};

use super::spec::{duration_spec, percent, recipient, target};
use super::{Ids, ModuleInput};

pub(super) fn actions(list: &[ast::SlaAction], ids: &Ids) -> Vec<ir::Action> {
    list.iter()
        .map(|a| match a {
            ast::SlaAction::Escalate(_) => ir::Action::Escalate,
            ast::SlaAction::Deny(_) => ir::Action::Deny,
            ast::SlaAction::Notify(t) => ir::Action::Notify(recipient(t, ids)),
            ast::SlaAction::Assign(t) => ir::Action::Assign(target(t, ids)),
        })
        .collect()
}

pub(super) fn event_ids(paths: &[ast::Path], ids: &Ids) -> Vec<u32> {
    paths
        .iter()
        .filter_map(|p| ids.events.get(&p.last().name).copied())
        .collect()
}

pub(super) fn lower_route(r: &ast::RouteDecl, l: &LowerExpr<'_>, ids: &Ids) -> ir::RouteDef {
    let cond = r.cond.as_ref().map(|c| l.lower(c));
    let mut def = ir::RouteDef {
        name: r.name.name.clone(),
        events: event_ids(&r.events, ids),
        requires: cond.as_ref().and_then(IrExpr::required_equality),
        cond,
        target: ir::Target::Team(0),
        strategy: ir::Strategy::Queue,
        key: Vec::new(),
        priority: 0,
        notify: Vec::new(),
    };
    for c in &r.clauses {
        match c {
            ast::RouteClause::Assign(a) => {
                def.target = target(&a.target, ids);
                def.strategy = match a.strategy.as_ref().map(|s| s.name.as_str()) {
                    Some("round_robin") => ir::Strategy::RoundRobin,
                    Some("least_open") => ir::Strategy::LeastOpen,
                    _ => ir::Strategy::Queue,
                };
            }
            ast::RouteClause::Key(es) => def.key = es.iter().map(|e| l.lower(e)).collect(),
            ast::RouteClause::Priority { value, .. } => def.priority = *value,
            ast::RouteClause::Rebalance(_) => {}
            ast::RouteClause::Notify(n) => def.notify.push(super::flow::notice(n, ids)),
        }
    }
    if r.clauses
        .iter()
        .any(|c| matches!(c, ast::RouteClause::Rebalance(_)))
    {
        def.strategy = def.strategy.rebalancing();
    }
    def
}

pub(super) fn lower_sla(
    s: &ast::SlaDecl,
    l: &LowerExpr<'_>,
    index: &ProjectIndex,
    ids: &Ids,
    consts: &[ir::ConstDef],
) -> ir::SlaDef {
    let class_index = |n: &str| {
        index
            .classify
            .as_ref()
            .and_then(|c| c.variants.iter().position(|v| v == n))
            .map(|i| i as u32)
    };
    let trigger = |t: &ast::Trigger| ir::Trigger {
        event: ids.events.get(&t.event.last().name).copied().unwrap_or(0),
        cond: t.cond.as_ref().map(|c| l.lower(c)),
    };
    let mut def = ir::SlaDef {
        name: s.name.name.clone(),
        classes: s
            .classes
            .iter()
            .filter_map(|c| class_index(&c.name))
            .collect(),
        start: Vec::new(),
        stop: Vec::new(),
        reset: Vec::new(),
        pause: None,
        target: ir::SlaTarget::Fixed(ir::DurationSpec::Wall(0)),
        calendar: None,
        warn: None,
        breach: Vec::new(),
    };
    for c in &s.clauses {
        match c {
            ast::SlaClause::Start(t) => def.start.push(trigger(t)),
            ast::SlaClause::Stop(t) => def.stop.push(trigger(t)),
            ast::SlaClause::Reset(t) => def.reset.push(trigger(t)),
            ast::SlaClause::Pause { cond, .. } => def.pause = Some(l.lower(cond)),
            ast::SlaClause::Target(ast::SlaTarget::Fixed(e)) => {
                if let Some(d) = duration_spec(&l.lower(e), consts) {
                    def.target = ir::SlaTarget::Fixed(d);
                }
            }
            ast::SlaClause::Target(ast::SlaTarget::By { field, arms, .. }) => {
                let ft = l.inference.ty(field.id);
                let variants = ft
                    .enum_def()
                    .and_then(|d| index.enum_variants(d))
                    .cloned()
                    .unwrap_or_default();
                let default = arms
                    .iter()
                    .find(|a| matches!(a.pattern, ast::Pattern::Wildcard(_)));
                let spec_of = |v: &str| {
                    let arm = arms
                        .iter()
                        .find(|a| matches!(&a.pattern, ast::Pattern::Alternatives(ps) if ps.iter().any(|p| p.last().name == v)))
                        .or(default);
                    arm.and_then(|a| duration_spec(&l.lower(&a.value), consts))
                        .unwrap_or(ir::DurationSpec::Wall(0))
                };
                def.target = ir::SlaTarget::By {
                    field: l.lower(field),
                    arms: variants.iter().map(|v| spec_of(v)).collect(),
                };
            }
            ast::SlaClause::Calendar(c) => def.calendar = ids.calendars.get(&c.name).copied(),
            ast::SlaClause::Warn { at, actions: a, .. } => {
                def.warn = Some((percent(&l.lower(at), consts).unwrap_or(0), actions(a, ids)))
            }
            ast::SlaClause::Breach { actions: a, .. } => def.breach = actions(a, ids),
        }
    }
    def
}

pub(super) fn lower_gate(
    g: &ast::GateDecl,
    m: &ModuleInput<'_>,
    index: &ProjectIndex,
    ids: &Ids,
    consts: &[ir::ConstDef],
) -> ir::GateDef {
    let mut selected = Vec::new();
    let mut all_automation = false;
    for (c, a, sig) in index.all_actions() {
        let hit = g.selectors.iter().any(|s| match s {
            ast::GateSelector::Action(p) => {
                p.segments.len() == 2 && p.segments[0].name == c && p.segments[1].name == a
            }
            ast::GateSelector::EffectMoney(_) => sig.effect == EffectKind::Money,
            ast::GateSelector::EffectDestructive(_) => sig.effect == EffectKind::Destructive,
            ast::GateSelector::Automation(_) | ast::GateSelector::AutomationNamed(..) => false,
        });
        if hit {
            selected.push(ids.actions[&(c.to_string(), a.to_string())]);
        }
    }
    if g.selectors
        .iter()
        .any(|s| matches!(s, ast::GateSelector::Automation(_)))
    {
        all_automation = true;
    }
    // Parameters common to all selected actions (same name and type), in the first's order.
    let mut param_names: Vec<String> = Vec::new();
    for (n, &aid) in selected.iter().enumerate() {
        let (c, a) = ids
            .actions
            .iter()
            .find(|(_, v)| **v == aid)
            .map(|(k, _)| k.clone())
            .unwrap_or_default();
        let names: Vec<(String, crate::semantic::sig::TypeRef)> = index
            .action(&c, &a)
            .map(|s| s.params.clone())
            .unwrap_or_default();
        if n == 0 {
            param_names = names.iter().map(|(x, _)| x.clone()).collect();
        } else {
            param_names.retain(|p| names.iter().any(|(x, _)| x == p));
        }
    }
    let l = LowerExpr {
        index,
        ids,
        module: m.module,
        inference: m.inference,
        scope: LScope::Gate(param_names.clone()),
        bound: Vec::new(),
    };
    let mut def = ir::GateDef {
        name: g.name.name.clone(),
        actions: selected,
        all_automation_actions: all_automation,
        cond: g.cond.as_ref().map(|c| l.lower(c)),
        param_names,
        require: Vec::new(),
        expire: None,
        release_when_clear: false,
        notify: Vec::new(),
        // `on automation NAME`: resolved once every automation is lowered (rollout.rs).
        automations: Vec::new(),
    };
    for c in &g.clauses {
        match c {
            ast::GateClause::RequireApproval { team, quorum, .. } => {
                let t = ids.teams.get(&team.name).copied().unwrap_or(0);
                def.require.push(match quorum {
                    Some((n, _)) if *n > 1 => {
                        ir::Requirement::Quorum(t, u32::try_from(*n).unwrap_or(u32::MAX))
                    }
                    _ => ir::Requirement::Approval(t),
                });
            }
            ast::GateClause::RequireConfirmation(_) => {
                def.require.push(ir::Requirement::Confirmation)
            }
            ast::GateClause::ReleaseWhenClear(_) => def.release_when_clear = true,
            ast::GateClause::Notify(n) => def.notify.push(super::flow::notice(n, ids)),
            ast::GateClause::RequireReview { team, .. } => def.require.push(
                ir::Requirement::Review(ids.teams.get(&team.name).copied().unwrap_or(0)),
            ),
            ast::GateClause::Expire {
                after, actions: a, ..
            } => {
                if let Some(d) = duration_spec(&l.lower(after), consts) {
                    def.expire = Some((d, actions(a, ids)));
                }
            }
        }
    }
    def
}

pub(super) fn lower_automation(
    a: &ast::AutomationDecl,
    l: &LowerExpr<'_>,
    index: &ProjectIndex,
    ids: &Ids,
    consts: &[ir::ConstDef],
) -> ir::AutomationDef {
    let mut def = ir::AutomationDef {
        name: a.name.name.clone(),
        version: 0,
        owner: 0,
        events: Vec::new(),
        cond: None,
        steps: Vec::new(),
        rollout: ir::Rollout::Live,
        breaker: None,
        stages: None,
        once_per_case: false,
    };
    let pct = |e: &ast::Expr| percent(&l.lower(e), &[]).unwrap_or(10_000);
    for c in &a.clauses {
        match c {
            ast::AutomationClause::Version { value, .. } => {
                def.version = u32::try_from(*value).unwrap_or(0)
            }
            ast::AutomationClause::Owner(o) => {
                def.owner = ids.teams.get(&o.name).copied().unwrap_or(0)
            }
            ast::AutomationClause::On { events, cond, .. } => {
                def.events = event_ids(events, ids);
                def.cond = cond.as_ref().map(|c| l.lower(c));
            }
            ast::AutomationClause::Do { steps, .. } => {
                for s in steps {
                    let s = match s {
                        ast::DoStep::Call(s) => s,
                        other => {
                            if let Some(step) = super::flow::flow_step(other, l, ids, consts) {
                                def.steps.push(step);
                            }
                            continue;
                        }
                    };
                    let ast::ExprKind::Call { callee, args } = &s.call.kind else {
                        continue;
                    };
                    let ast::ExprKind::Field { base, field, .. } = &callee.kind else {
                        continue;
                    };
                    let ast::ExprKind::Name(conn) = &base.kind else {
                        continue;
                    };
                    let Some(&action) = ids.actions.get(&(conn.name.clone(), field.name.clone()))
                    else {
                        continue;
                    };
                    let params: Vec<String> = index
                        .action(&conn.name, &field.name)
                        .map(|s| s.params.iter().map(|(n, _)| n.clone()).collect())
                        .unwrap_or_default();
                    def.steps.push(ir::Step {
                        action,
                        args: order_args(&params, args, |e| l.lower(e)),
                        waiver: s.waiver.as_ref().map(|w| w.value.clone()),
                        kind: ir::StepKind::Action,
                    });
                }
            }
            ast::AutomationClause::Rollout(r) => {
                let key = r.by.iter().map(|e| l.lower(e)).collect();
                if let Some(s) = &r.stages {
                    (def.rollout, def.stages) =
                        super::rollout::lower_stages(s, key, l, ids, consts);
                    continue;
                }
                def.rollout = if r.shadow {
                    ir::Rollout::Shadow {
                        sample: r.percent.as_ref().map(pct),
                        key,
                    }
                } else {
                    ir::Rollout::Percent {
                        percent: r.percent.as_ref().map_or(10_000, pct),
                        key,
                    }
                };
            }
            ast::AutomationClause::Breaker(b) => {
                let mut br = ir::Breaker {
                    threshold: pct(&b.threshold),
                    window: u32::try_from(b.window).unwrap_or(1),
                    halt: false,
                    assign: None,
                    notify: Vec::new(),
                };
                for act in &b.actions {
                    match act {
                        ast::BreakerAction::Halt(_) => br.halt = true,
                        ast::BreakerAction::Assign(t) => br.assign = Some(target(t, ids)),
                        ast::BreakerAction::Notify(t) => br.notify.push(recipient(t, ids)),
                    }
                }
                def.breaker = Some(br);
            }
            ast::AutomationClause::OncePerCase(_) => def.once_per_case = true,
        }
    }
    def
}
