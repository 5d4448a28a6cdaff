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
