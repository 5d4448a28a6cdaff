//! Building the `lifecycle` declaration (docs/language.md, "Case lifecycle").

use pest::iterators::Pair;

use super::{Builder, span};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Builder<'_> {
    pub(super) fn lifecycle(&self, p: Pair<'_, Rule>) -> LifecycleDecl {
        let mut keyword = Span::default();
        let mut clauses = Vec::new();
        for c in p.into_inner() {
            let kind = match c.as_rule() {
                Rule::kw_lifecycle => {
                    keyword = span(&c);
                    continue;
                }
                Rule::lc_solved => LifecycleKind::Solved,
                Rule::lc_reopened => LifecycleKind::Reopened,
                Rule::lc_closed => LifecycleKind::Closed,
                _ => LifecycleKind::Retain,
            };
            let sp = span(&c);
            let mut events = Vec::new();
            let mut duration = None;
            for x in c.into_inner() {
                match x.as_rule() {
                    Rule::event_list => events = self.event_list(x),
                    Rule::expr => duration = Some(self.expr(x)),
                    _ => {}
                }
            }
            clauses.push(LifecycleClause {
                kind,
                events,
                duration,
                span: sp,
            });
        }
        LifecycleDecl { clauses, keyword }
    }
}
