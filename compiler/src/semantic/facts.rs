//! Tests on facts (docs/language.md §6.1): `x is set` and `x is not set`.

use super::expr::{Cx, Scope};
use super::types::Ty;
use crate::diagnostics::Code;
use crate::syntax::ast::{Expr, ExprKind};

impl Cx<'_> {
    /// `x is set`: Bool. Misuse: a value that can never be none (a literal, a call, an
    /// arithmetic result of non-optional values): only facts, their fields and optional
    /// values can be unset (docs/language.md §6.1).
    pub(crate) fn check_is_set(&mut self, operand: &Expr, scope: &Scope) -> Ty {
        let ty = self.check(operand, None, scope);
        let path = is_path(operand);
        if !ty.is_error() && !ty.is_optional() && !path {
            self.error(
                Code::AlwaysSet,
                operand.span,
                format!("this `{ty}` always has a value: `is set` is always true"),
                "never none",
            )
            .help = Some(
                "`is set` asks whether a case fact, one of its fields or an optional value \
                 has a value"
                    .into(),
            );
        }
        Ty::Bool
    }
}

/// A name or a chain of field accesses on one (`ticket.legal_name`): what may be unset.
fn is_path(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(_) => true,
        ExprKind::Field { base, .. } => is_path(base),
        _ => false,
    }
}

impl Cx<'_> {
    /// `changed(x)` → Bool, `previous(x)` → `T?` (docs/language.md §6.4). `x` must be a
    /// case fact or a path of fields on one, read where facts are in scope (a rule): the
    /// runtime keeps the old values of the facts an event writes, and of nothing else.
    pub(crate) fn check_change(&mut self, name: &str, arg: &Expr, scope: &Scope) -> Ty {
        let ty = self.check(arg, None, scope);
        if !ty.is_error() && !self.is_fact_path(arg, scope) {
            let what = match &arg.kind {
                ExprKind::Name(_) | ExprKind::Field { .. } => "not a case fact",
                _ => "not a fact",
            };
            self.error(
                Code::NotAFact,
                arg.span,
                format!("`{name}` needs a case fact or a field of one"),
                what,
            )
            .help = Some(format!(
                "`{name}` compares a case fact with its value before the triggering event, \
                 e.g. `{name}(ticket.priority)`; constants, parameters, literals and the \
                 fields of events that bear no facts have no value before"
            ));
        }
        match name {
            "changed" => Ty::Bool,
            _ => ty.optional(),
        }
    }

    /// A path of fields whose root names a case fact in a rule's scope (not shadowed by a
    /// parameter or a field of a different type).
    fn is_fact_path(&self, e: &Expr, scope: &Scope) -> bool {
        match &e.kind {
            ExprKind::Name(id) => {
                scope.locals.contains_key("case")
                    && self
                        .index
                        .facts
                        .get(&id.name)
                        .is_some_and(|t| scope.locals.get(&id.name) == Some(t))
            }
            ExprKind::Field { base, .. } => self.is_fact_path(base, scope),
            _ => false,
        }
    }
}
