//! Lowering the `lifecycle` declaration to [`ir::Lifecycle`] (docs/language.md, "Case
//! lifecycle"): events by id, durations as duration specs.

use meshline_runtime::ir;

use super::Ids;
use super::expr::LowerExpr;
use super::spec::duration_spec;
use crate::syntax::ast::{LifecycleDecl, LifecycleKind};

pub(super) fn lower_lifecycle(
    l: &LifecycleDecl,
    lx: &LowerExpr<'_>,
    ids: &Ids,
    consts: &[ir::ConstDef],
) -> ir::Lifecycle {
    let mut out = ir::Lifecycle::default();
    for c in &l.clauses {
        let events = c
            .events
            .iter()
            .filter_map(|e| ids.events.get(&e.last().name).copied());
        let duration = c
            .duration
            .as_ref()
            .and_then(|d| duration_spec(&lx.lower(d), consts));
        match c.kind {
            LifecycleKind::Solved => out.solved.extend(events),
            LifecycleKind::Reopened => {
                out.reopened.extend(events);
                out.reopen_within = out.reopen_within.or(duration);
            }
            LifecycleKind::Closed => out.closed.extend(events),
            LifecycleKind::Retain => out.retain_closed = out.retain_closed.or(duration),
        }
    }
    out
}
