//! Lowering the `do` steps that are not action calls: waits and notifications
//! (docs/runtime.md, "Automations as sagas").

use meshline_runtime::ir;

use super::Ids;
use super::expr::LowerExpr;
use super::spec::{duration_spec, recipient};
use crate::syntax::ast;

/// The IR step of a wait or a notification; `None` for a call (lowered with the actions)
/// or a wait whose duration is not fixed (already an error: E0540, E0541).
pub(super) fn flow_step(
    s: &ast::DoStep,
    l: &LowerExpr<'_>,
    ids: &Ids,
    consts: &[ir::ConstDef],
) -> Option<ir::Step> {
    let kind = match s {
        ast::DoStep::Call(_) => return None,
        ast::DoStep::Wait(w) => match &w.kind {
            ast::WaitKind::For(d) => ir::StepKind::Wait(duration_spec(&l.lower(d), consts)?),
            ast::WaitKind::Until { cond, within } => ir::StepKind::WaitUntil {
                cond: l.lower(cond),
                within: duration_spec(&l.lower(within.as_ref()?), consts)?,
            },
        },
        ast::DoStep::Notify(n) => {
            let ir::Notice { to, template } = notice(n, ids);
            ir::StepKind::Notify { to, template }
        }
    };
    Some(ir::Step {
        action: ir::NO_ACTION,
        args: Vec::new(),
        waiver: None,
        kind,
    })
}

/// A route's or gate's `notify TARGET [with template "t"]`.
pub(super) fn notice(n: &ast::NotifyStep, ids: &Ids) -> ir::Notice {
    ir::Notice {
        to: recipient(&n.to, ids),
        template: n.template.as_ref().map(|t| t.value.clone()),
    }
}
