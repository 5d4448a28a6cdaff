//! The steps of an automation's `do` block that are not action calls: waits on durable
//! timers and notifications (docs/language.md §11.3).

use super::ast_expr::Expr;
use super::ast_leaf::{Ident, StrLit};
use crate::source::Span;

/// One step of a `do` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DoStep {
    /// `connector.action(...)`, optionally waived.
    Call(Step),
    /// `wait 24h`, `wait 2 business days`, `wait until COND within 3d`.
    Wait(WaitStep),
    /// `notify TARGET [with template "..."]`.
    Notify(NotifyStep),
}

impl DoStep {
    /// The action call, for a `Call` step.
    pub fn call(&self) -> Option<&Step> {
        match self {
            DoStep::Call(s) => Some(s),
            _ => None,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            DoStep::Call(s) => s.span,
            DoStep::Wait(w) => w.span,
            DoStep::Notify(n) => n.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitStep {
    pub kind: WaitKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitKind {
    /// `wait DURATION`.
    For(Expr),
    /// `wait until COND within DURATION`; a missing `within` is E0541.
    Until { cond: Expr, within: Option<Expr> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyStep {
    pub to: Target,
    pub template: Option<StrLit>,
    pub span: Span,
}

/// A team (by name) or a person (by e-mail string).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Name(Ident),
    Person(StrLit),
}

impl Target {
    pub fn span(&self) -> Span {
        match self {
            Target::Name(i) => i.span,
            Target::Person(s) => s.span,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// `@ungated("reason")` before the call.
    pub waiver: Option<StrLit>,
    /// The call; its callee is a `connector.action` path.
    pub call: Expr,
    pub span: Span,
}
