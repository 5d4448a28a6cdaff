//! Checking the `do` steps that are not action calls (docs/language.md §11.3): waits and
//! notifications.
//!
//! A wait's duration must be fixed when the bundle is built (a literal or a constant), so
//! the runtime can set its timer from the event time alone; a `wait until` must say how long
//! it waits (`within`), so no saga waits for ever; its condition reads case facts only (the
//! triggering event's fields do not change while the saga waits).

use super::expr::{Cx, Scope};
use super::types::Ty;
use crate::diagnostics::Code;
use crate::syntax::ast::*;

impl Cx<'_> {
    pub(crate) fn check_flow_step(&mut self, s: &DoStep) {
        match s {
            DoStep::Call(_) => {}
            DoStep::Wait(w) => match &w.kind {
                WaitKind::For(d) => self.wait_duration(d, "wait"),
                WaitKind::Until { cond, within } => {
                    let scope = self.rule_scope(&[]);
                    let t = self.check(cond, Some(&Ty::Bool), &scope);
                    if !t.is_error() && t != Ty::Bool {
                        self.error(
                            Code::WaitCondition,
                            cond.span,
                            format!("`wait until` needs a condition, found `{t}`"),
                            format!("this is `{t}`"),
                        )
                        .help = Some(
                            "compare the fact with a value, e.g. `wait until charge.status == Succeeded within 3d`"
                                .into(),
                        );
                    }
                    match within {
                        Some(d) => self.wait_duration(d, "within"),
                        None => {
                            self.error(
                                Code::WaitWithoutTimeout,
                                w.span.to(cond.span),
                                "`wait until` without `within`: the saga could wait for ever",
                                "no timeout",
                            )
                            .help = Some(
                                "add how long to wait, e.g. `within 3d`; when it passes first, the run stops and the owner gets a reconciliation task"
                                    .into(),
                            );
                        }
                    }
                }
            },
            DoStep::Notify(n) => self.notify_clause(n),
        }
    }

    /// `notify TARGET [with template "t"]`, as a step, a route clause or a gate clause.
    pub(crate) fn notify_clause(&mut self, n: &NotifyStep) {
        self.target(&n.to, true);
        if let Some(t) = &n.template
            && t.value.trim().is_empty()
        {
            self.error(
                Code::TypeMismatch,
                t.span,
                "a template name cannot be empty",
                "empty",
            )
            .help = Some("name the notification template, e.g. `with template \"legal_hold\"`, or leave `with template` out".into());
        }
    }

    /// `release when clear` (docs/language.md §11.2): only a gate with a `when` can clear,
    /// and the clause is given once.
    pub(crate) fn release_when_clear(&mut self, g: &GateDecl, span: crate::source::Span) {
        let first = g
            .clauses
            .iter()
            .find_map(|c| match c {
                GateClause::ReleaseWhenClear(s) => Some(*s),
                _ => None,
            })
            .unwrap_or(span);
        if first != span {
            self.error(
                Code::DuplicateClause,
                span,
                "`release when clear` given twice",
                "second clause",
            );
            return;
        }
        if g.cond.is_none() {
            self.error(
                Code::ReleaseWithoutCondition,
                span,
                format!(
                    "gate `{}` has no `when`: its condition never clears",
                    g.name.name
                ),
                "nothing to clear",
            )
            .help = Some(
                "add the condition that holds the step, e.g. `gate legal_hold on email.send when contract.vat_id == none`, or remove `release when clear`"
                    .into(),
            );
        }
    }

    /// A wait's duration: a `Duration` or `BusinessDuration`, above zero, fixed at build time.
    fn wait_duration(&mut self, e: &Expr, what: &str) {
        self.fixed_duration(e, what, Code::WaitDuration, "`24h` or `2 business days`");
    }

    /// A duration fixed when the bundle is built (a literal or a `let` constant) and above
    /// zero, as waits and rollout stages need; `code` is the caller's diagnostic and
    /// `example` two durations for its help.
    pub(crate) fn fixed_duration(&mut self, e: &Expr, what: &str, code: Code, example: &str) {
        let t = self.check(e, None, &Scope::default());
        if t.is_error() {
            return;
        }
        let problem = match &e.kind {
            _ if !t.is_duration_like() => Some(format!("expected a duration, found `{t}`")),
            ExprKind::Duration(s) if *s <= 0 => Some(format!("`{what}` needs a positive duration")),
            ExprKind::BusinessDuration { amount, .. } if *amount <= 0 => {
                Some(format!("`{what}` needs a positive duration"))
            }
            ExprKind::Duration(_) | ExprKind::BusinessDuration { .. } | ExprKind::Name(_) => None,
            _ => Some(format!(
                "`{what}` takes a literal duration or a constant, fixed when the bundle is built"
            )),
        };
        if let Some(msg) = problem {
            self.error(code, e.span, msg, "not a fixed positive duration")
                .help = Some(format!("write e.g. {example}, or name a `let` constant"));
        }
    }
}
