//! `all x in list: cond` and `any x in list: cond` (docs/language.md §4.6).

use super::expr::{Cx, Scope};
use super::types::Ty;
use crate::diagnostics::Code;
use crate::syntax::ast::{Expr, Ident};

impl Cx<'_> {
    /// Bool. The list must be a `List<T>` (not optional: an absent list has no elements to
    /// speak of, so the rule says what it means with `?? []`); `var` is a `T` in `body`,
    /// which must be a Bool.
    pub(crate) fn check_quant(
        &mut self,
        all: bool,
        var: &Ident,
        list: &Expr,
        body: &Expr,
        scope: &Scope,
    ) -> Ty {
        let word = if all { "all" } else { "any" };
        let elem = match self.check(list, None, scope) {
            Ty::List(t) => *t,
            Ty::EmptyList | Ty::Error => Ty::Error,
            other => {
                let help = match &other {
                    Ty::Optional(inner) if matches!(**inner, Ty::List(_)) => format!(
                        "the list may be none: say what that means, e.g. `{word} {} in (xs ?? []): …`",
                        var.name
                    ),
                    _ => format!(
                        "`{word}` goes through the elements of a list, e.g. `{word} f in contract.attachments: f != \"\"`"
                    ),
                };
                self.error(
                    Code::NotAList,
                    list.span,
                    format!("`{word}` needs a list, found `{other}`"),
                    "not a list",
                )
                .help = Some(help);
                Ty::Error
            }
        };
        let inner = scope.clone().with(&var.name, elem);
        self.expect(body, &Ty::Bool, &inner);
        Ty::Bool
    }
}
