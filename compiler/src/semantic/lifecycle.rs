//! Checking the `lifecycle` declaration (docs/language.md, "Case lifecycle"): its events
//! resolve, each event makes one transition, its durations are durations, and `within`
//! and `retain` are given at most once. A project has at most one (`project_checks.rs`).

use std::collections::BTreeMap;

use super::expr::Cx;
use crate::diagnostics::{Code, Label};
use crate::source::Span;
use crate::syntax::ast::*;

impl Cx<'_> {
    pub fn check_lifecycle(&mut self, l: &LifecycleDecl) {
        let mut named: BTreeMap<String, (Span, LifecycleKind)> = BTreeMap::new();
        let mut within: Option<Span> = None;
        let mut retain: Option<Span> = None;
        for c in &l.clauses {
            self.events(&c.events);
            for e in &c.events {
                let name = e.dotted();
                if let Some((first, kind)) = named.get(&name).copied() {
                    let file = self.file.clone();
                    self.error(
                        Code::DuplicateClause,
                        e.span,
                        format!(
                            "`{name}` is named twice in the lifecycle (first for `{}`)",
                            kind.word()
                        ),
                        "second time",
                    )
                    .secondary
                    .push(Label::new(&file, first, "first here"));
                } else {
                    named.insert(name, (e.span, c.kind));
                }
            }
            let Some(d) = &c.duration else { continue };
            self.duration_value(d);
            let (slot, word) = match c.kind {
                LifecycleKind::Retain => (&mut retain, "retain closed for"),
                _ => (&mut within, "within"),
            };
            if let Some(first) = slot.replace(c.span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateClause,
                    c.span,
                    format!("`{word}` given twice in the lifecycle"),
                    "second clause",
                )
                .secondary
                .push(Label::new(&file, first, "first here"));
            }
        }
    }
}
