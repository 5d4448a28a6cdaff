//! A staged rollout, `rollout { … }`: one clause per line, in source order
//! (docs/language.md §11.3, "Staged rollout").

use super::Printer;
use super::doc::{Doc, concat, text};
use crate::source::Span;
use crate::syntax::ast::*;

/// One line of the block.
enum Line<'a> {
    Start(&'a StageLit),
    By,
    Agreement(&'a StageAgreement),
    Promotion(&'a StagePromotion),
    Rollback(&'a StageRollback),
}

impl Printer<'_> {
    pub(super) fn stages(&mut self, s: &Stages, by: &[Expr], end: u32) -> Doc {
        let mut lines: Vec<(Span, Line<'_>)> = Vec::new();
        if let (Some(st), Some(sp)) = (&s.start, s.start_span) {
            lines.push((sp, Line::Start(st)));
        }
        if let Some(sp) = s.by_span {
            lines.push((sp, Line::By));
        }
        if let Some(a) = &s.agreement {
            lines.push((a.span, Line::Agreement(a)));
        }
        for p in &s.promotions {
            lines.push((p.span, Line::Promotion(p)));
        }
        if let Some(r) = &s.rollback {
            lines.push((r.span, Line::Rollback(r)));
        }
        lines.sort_by_key(|(sp, _)| sp.start);
        self.block(
            &lines,
            end,
            |(sp, _)| Some(*sp),
            |p, (_, line)| match line {
                Line::Start(st) => text(format!("start {}", st.text())),
                Line::By => concat(vec![text("by "), p.expr_list(by)]),
                Line::Agreement(a) => concat(vec![
                    text(format!("agreement when {} within ", a.event.dotted())),
                    p.expr(&a.within),
                ]),
                Line::Promotion(pr) => {
                    let mut parts = vec![text(format!("{} -> {}", pr.from.text(), pr.to.text()))];
                    if let Some(d) = &pr.after {
                        parts.push(text(" after "));
                        parts.push(p.expr(d));
                    }
                    for (i, c) in pr.criteria.iter().enumerate() {
                        parts.push(text(if i == 0 { " when " } else { " and " }));
                        parts.push(p.criterion(c));
                    }
                    concat(parts)
                }
                Line::Rollback(r) => {
                    let mut parts = vec![text(format!("rollback to {} when ", r.to.text()))];
                    // `breaker trips` keeps its place among the criteria.
                    let mut conds: Vec<(u32, Option<&StageCriterion>)> =
                        r.criteria.iter().map(|c| (c.span.start, Some(c))).collect();
                    if let Some(b) = r.breaker {
                        conds.push((b.start, None));
                    }
                    conds.sort_by_key(|(at, _)| *at);
                    for (i, (_, c)) in conds.iter().enumerate() {
                        if i > 0 {
                            parts.push(text(" or "));
                        }
                        parts.push(match c {
                            Some(c) => p.criterion(c),
                            None => text("breaker trips"),
                        });
                    }
                    concat(parts)
                }
            },
        )
    }

    fn criterion(&mut self, c: &StageCriterion) -> Doc {
        concat(vec![
            text(format!("{} {} ", c.metric.name, c.cmp.text())),
            self.expr(&c.threshold),
            text(format!(" over {} runs", c.over)),
        ])
    }
}
