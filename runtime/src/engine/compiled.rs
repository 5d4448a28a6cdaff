//! Rule code compiled once, when a bundle is loaded (closures over slots, see `eval`).

use std::sync::Arc;

use super::index::Dispatch;
use super::keys::{self, Required};
use super::reads::{self, Read};
use crate::eval::{self, Code, Pred};
use crate::ir::Program;

/// Compiled rule code, indexed like the program.
pub(crate) struct Compiled {
    pub classify: Vec<Pred>,
    /// Each classify arm's key (see `index`), its residual, and the arms dispatched on the
    /// field most of them are keyed on (the decision step's way through them).
    pub classify_req: Vec<Option<Required>>,
    pub classify_residual: Vec<Option<Pred>>,
    pub classify_dispatch: Dispatch,
    /// Whether classify runs on each event (by event id).
    pub classify_on: Vec<bool>,
    /// Each classify arm's rule name in the ledger: `classify.Variant`.
    pub classify_rules: Vec<Arc<str>>,
    pub route_cond: Vec<Option<Pred>>,
    /// Each route's condition without its key (see `index`), for when that equality is
    /// known to hold: `None` when nothing is left (or the route has no key: then
    /// `route_cond` decides, see `decision::condition`).
    pub route_residual: Vec<Option<Pred>>,
    /// Each route's key: the equality its condition requires that the index keys it by.
    pub route_req: Vec<Option<Required>>,
    pub route_key: Vec<Vec<Code>>,
    /// The fact paths each classify arm's condition reads (for the ledger, `reads.rs`).
    pub classify_reads: Vec<Box<[Read]>>,
    /// The fact paths each route's condition and `key` read.
    pub route_reads: Vec<Box<[Read]>>,
    pub sla_start: Vec<Vec<Option<Code>>>,
    pub sla_stop: Vec<Vec<Option<Code>>>,
    pub sla_reset: Vec<Vec<Option<Code>>>,
    pub sla_pause: Vec<Option<Code>>,
    pub sla_target_field: Vec<Option<Code>>,
    pub gate_cond: Vec<Option<Code>>,
    pub auto_cond: Vec<Option<Code>>,
    pub auto_key: Vec<Vec<Code>>,
    pub step_args: Vec<Vec<Vec<Code>>>,
    /// Each step's `wait until` condition (`None` for the other kinds of step).
    pub wait_cond: Vec<Vec<Option<Code>>>,
    /// Each aggregate's feeds and field values (`aggregates.rs`).
    pub aggregates: Vec<super::aggregates::AggCode>,
    /// The `open cases by` clauses of the aggregates of open cases (`open_cases.rs`).
    pub open_cases: Vec<super::open_cases::OpenCode>,
}

impl Compiled {
    pub(crate) fn new(p: &Program) -> Compiled {
        let c = |e: &crate::ir::Expr| eval::compile(e, p);
        let oc = |e: &Option<crate::ir::Expr>| e.as_ref().map(|x| eval::compile(x, p));
        let classify_rules = p
            .classify
            .as_ref()
            .map(|cl| {
                cl.arms
                    .iter()
                    .map(|(v, _)| {
                        let variants = &p.enums[cl.enum_id as usize].variants;
                        Arc::from(format!("classify.{}", variants[*v as usize]))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let route_req = keys::choose(p.routes.iter().map(|r| r.cond.as_ref()));
        let arms: &[(u32, crate::ir::Expr)] = p.classify.as_ref().map_or(&[], |cl| &cl.arms);
        let classify_req = keys::choose(arms.iter().map(|(_, e)| Some(e)));
        let residual = |e: Option<&crate::ir::Expr>, req: &Option<Required>| {
            let rest = keys::without(e?, req.as_ref()?)?;
            rest.map(|x| eval::compile_pred(&x, p))
        };
        let classify_residual = arms
            .iter()
            .zip(&classify_req)
            .map(|((_, e), req)| residual(Some(e), req))
            .collect();
        let route_residual = p
            .routes
            .iter()
            .zip(&route_req)
            .map(|(r, req)| residual(r.cond.as_ref(), req))
            .collect();
        let classify_dispatch = Dispatch::build(0..arms.len() as u32, &classify_req);
        let classify_on = (0..p.events.len() as u32)
            .map(|e| p.classify.as_ref().is_some_and(|cl| cl.events.contains(&e)))
            .collect();
        Compiled {
            classify_reads: p
                .classify
                .as_ref()
                .map(|cl| {
                    cl.arms
                        .iter()
                        .map(|(_, e)| reads::collect(p, [e]))
                        .collect()
                })
                .unwrap_or_default(),
            route_reads: p
                .routes
                .iter()
                .map(|r| reads::collect(p, r.cond.iter().chain(&r.key)))
                .collect(),
            route_req,
            classify_req,
            classify_residual,
            classify_dispatch,
            classify_on,
            classify_rules,
            classify: p
                .classify
                .as_ref()
                .map(|cl| {
                    cl.arms
                        .iter()
                        .map(|(_, e)| eval::compile_pred(e, p))
                        .collect()
                })
                .unwrap_or_default(),
            route_residual,
            route_cond: p
                .routes
                .iter()
                .map(|r| r.cond.as_ref().map(|e| eval::compile_pred(e, p)))
                .collect(),
            route_key: p
                .routes
                .iter()
                .map(|r| r.key.iter().map(c).collect())
                .collect(),
            sla_start: p
                .slas
                .iter()
                .map(|s| s.start.iter().map(|t| oc(&t.cond)).collect())
                .collect(),
            sla_stop: p
                .slas
                .iter()
                .map(|s| s.stop.iter().map(|t| oc(&t.cond)).collect())
                .collect(),
            sla_reset: p
                .slas
                .iter()
                .map(|s| s.reset.iter().map(|t| oc(&t.cond)).collect())
                .collect(),
            sla_pause: p.slas.iter().map(|s| oc(&s.pause)).collect(),
            sla_target_field: p
                .slas
                .iter()
                .map(|s| match &s.target {
                    crate::ir::SlaTarget::By { field, .. } => Some(c(field)),
                    crate::ir::SlaTarget::Fixed(_) => None,
                })
                .collect(),
            gate_cond: p.gates.iter().map(|g| oc(&g.cond)).collect(),
            auto_cond: p.automations.iter().map(|a| oc(&a.cond)).collect(),
            auto_key: p
                .automations
                .iter()
                .map(|a| match &a.rollout {
                    crate::ir::Rollout::Shadow { key, .. }
                    | crate::ir::Rollout::Percent { key, .. } => key.iter().map(c).collect(),
                    crate::ir::Rollout::Live => Vec::new(),
                })
                .collect(),
            step_args: p
                .automations
                .iter()
                .map(|a| {
                    a.steps
                        .iter()
                        .map(|s| s.args.iter().map(c).collect())
                        .collect()
                })
                .collect(),
            wait_cond: p
                .automations
                .iter()
                .map(|a| {
                    a.steps
                        .iter()
                        .map(|s| match &s.kind {
                            crate::ir::StepKind::WaitUntil { cond, .. } => Some(c(cond)),
                            _ => None,
                        })
                        .collect()
                })
                .collect(),
            aggregates: super::aggregates::compile(p),
            open_cases: super::open_cases::compile(p),
        }
    }
}
