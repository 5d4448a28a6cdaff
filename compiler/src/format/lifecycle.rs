//! The `lifecycle` declaration: one clause per line (docs/language.md, "Case lifecycle").

use super::Printer;
use super::doc::{Doc, concat, text};
use crate::syntax::ast::*;

impl Printer<'_> {
    pub(super) fn lifecycle(&mut self, d: &LifecycleDecl, end: u32) -> Doc {
        let body = self.block(
            &d.clauses,
            end,
            |c| Some(c.span),
            |p, c| {
                let head = match c.kind {
                    LifecycleKind::Retain => "retain closed for ".to_string(),
                    k => format!("{} on {}", k.word(), Self::paths(&c.events)),
                };
                match (&c.duration, c.kind) {
                    (Some(e), LifecycleKind::Retain) => concat(vec![text(head), p.expr(e)]),
                    (Some(e), _) => concat(vec![text(head), text(" within "), p.expr(e)]),
                    (None, _) => text(head),
                }
            },
        );
        concat(vec![text("lifecycle "), body])
    }
}
