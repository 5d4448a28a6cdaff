//! The `aggregate` declaration: its head on one line, then one `on` clause or field per
//! line, in source order (docs/language.md §5.6).

use super::Printer;
use super::doc::{Doc, concat, text};
use crate::source::Span;
use crate::syntax::ast::*;

/// A line of the body.
enum Line<'a> {
    On(&'a AggFeedDecl),
    Cases(&'a AggCasesDecl),
    Field(&'a AggFieldDecl),
}

impl Line<'_> {
    fn span(&self) -> Span {
        match self {
            Line::On(f) => f.span,
            Line::Cases(c) => c.span,
            Line::Field(f) => f.span,
        }
    }
}

impl Printer<'_> {
    pub(super) fn aggregate(&mut self, d: &AggregateDecl, end: u32) -> Doc {
        let mut head = format!(
            "aggregate {}[{}: {}]",
            d.name.name,
            d.key.name.name,
            self.ty(&d.key.ty)
        );
        if let Some((_, span)) = d.window {
            head.push_str(&format!(" over {}", self.slice(span)));
        }
        if let Some((n, _)) = d.keep {
            head.push_str(&format!(" keep {n} keys"));
        }
        head.push(' ');
        let mut lines: Vec<Line<'_>> = d
            .feeds
            .iter()
            .map(Line::On)
            .chain(d.cases.iter().map(Line::Cases))
            .chain(d.fields.iter().map(Line::Field))
            .collect();
        lines.sort_by_key(|l| l.span().start);
        let body = self.block(
            &lines,
            end,
            |l| Some(l.span()),
            |p, l| match l {
                Line::On(f) => {
                    let mut parts = vec![
                        text(format!("on {} by ", Self::paths(&f.events))),
                        p.expr(&f.key),
                    ];
                    if let Some(w) = &f.when {
                        parts.push(text(" when "));
                        parts.push(p.expr(w));
                    }
                    concat(parts)
                }
                Line::Cases(c) => {
                    let mut parts = vec![text("open cases by "), p.expr(&c.key)];
                    if let Some(w) = &c.when {
                        parts.push(text(" when "));
                        parts.push(p.expr(w));
                    }
                    concat(parts)
                }
                Line::Field(f) => {
                    let head = text(format!("{}: {} = ", f.field.name.name, p.ty(&f.field.ty)));
                    let op = match &f.op {
                        AggOpDecl::Count(_) => text("count"),
                        AggOpDecl::Sum(e) => concat(vec![text("sum("), p.expr(e), text(")")]),
                        AggOpDecl::Latest(e) => concat(vec![text("latest("), p.expr(e), text(")")]),
                    };
                    concat(vec![head, op])
                }
            },
        );
        concat(vec![text(head), body])
    }
}
