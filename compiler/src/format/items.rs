//! Declarations: the file, blocks of clauses, and each declaration kind.
//!
//! Layout: declarations start at column 0, separated by one blank line (consecutive
//! `import`s, `let`s and `fixture`s keep the author's choice of zero or one). A block is
//! `{`, one clause (variant, field, arm, step) per line indented by two spaces, and `}` on
//! its own line; one blank line between clauses is kept. Optional commas between clauses
//! are dropped, except after `match` arms.

use super::Printer;
use super::doc::{Doc, concat, group, join, nest, text};
use crate::source::Span;
use crate::syntax::ast::*;

impl Printer<'_> {
    pub(super) fn module(&mut self, m: &Module) -> Doc {
        let mut parts = Vec::new();
        let mut prev: Option<(&Item, u32)> = None;
        for (i, item) in m.items.iter().enumerate() {
            if let Some((p, end)) = prev {
                parts.push(Doc::HardLine);
                let first = self.c.first_before(item.span.start);
                if !loose_pair(&p.kind, &item.kind) || self.c.blank_between(end, first) {
                    parts.push(Doc::HardLine);
                }
            }
            parts.push(self.c.leading(item.span.start, prev.map(|p| p.1)));
            parts.push(self.item(item));
            let limit = m.items.get(i + 1).map_or(u32::MAX, |n| n.span.start);
            parts.push(self.c.trailing(limit));
            prev = Some((item, self.c.real_end(item.span.start, item.span.end)));
        }
        let rest = self.c.rest();
        let mut last_end = prev.map(|p| p.1);
        for c in rest {
            if let Some(l) = last_end {
                parts.push(Doc::HardLine);
                if self.c.blank_between(l, c.span.start) {
                    parts.push(Doc::HardLine);
                }
            }
            parts.push(text(c.text.trim_end()));
            last_end = Some(c.span.end);
        }
        parts.push(Doc::HardLine);
        concat(parts)
    }

    fn item(&mut self, item: &Item) -> Doc {
        match &item.kind {
            ItemKind::Import(d) => {
                let module = text(format!("import {}", d.module.dotted()));
                match &d.names {
                    None => module,
                    Some(names) => {
                        let names = names.iter().map(|n| n.name.clone()).collect();
                        concat(vec![module, text("."), fill_list(("{", "}"), names)])
                    }
                }
            }
            ItemKind::Enum(d) => {
                let head = text(format!("enum {} ", d.name.name));
                let body = self.short_block(
                    &d.variants,
                    item.span.end,
                    |v| v.name.span,
                    |_, v| text(v.name.name.clone()),
                );
                concat(vec![head, body])
            }
            ItemKind::Extend(d) => {
                let head = text(format!("extend record {} ", d.target.dotted()));
                let body = self.short_block(
                    &d.fields,
                    item.span.end,
                    |f| f.name.span.to(f.ty.span),
                    |p, f| text(format!("{}: {}", f.name.name, p.ty(&f.ty))),
                );
                concat(vec![head, body])
            }
            ItemKind::Record(d) | ItemKind::Event(d) => {
                let head = text(format!("{} {} ", item.kind.keyword(), d.name.name));
                let body = self.short_block(
                    &d.fields,
                    item.span.end,
                    |f| f.name.span.to(f.ty.span),
                    |p, f| text(format!("{}: {}", f.name.name, p.ty(&f.ty))),
                );
                concat(vec![head, body])
            }
            ItemKind::Let(d) => {
                let ty = d.ty.as_ref().map(|t| format!(": {}", self.ty(t)));
                let head = format!("let {}{} =", d.name.name, ty.unwrap_or_default());
                self.binding(head, &d.value)
            }
            ItemKind::Fixture(d) => {
                let ty = d.ty.as_ref().map(|t| format!(": {}", self.ty(t)));
                let head = format!("fixture {}{} =", d.name.name, ty.unwrap_or_default());
                self.binding(head, &d.value)
            }
            ItemKind::Fn(d) => {
                let params = self.params(&d.params);
                let head = concat(vec![
                    text(format!("fn {}", d.name.name)),
                    params,
                    text(format!(" -> {} =", self.ty(&d.ret))),
                ]);
                let body = self.rhs(&d.body);
                concat(vec![head, body])
            }
            ItemKind::Calendar(d) => {
                let head = text(format!("calendar {} ", d.name.name));
                let body = self.block(&d.clauses, item.span.end, calendar_span, |p, c| {
                    p.calendar_clause(c)
                });
                concat(vec![head, body])
            }
            ItemKind::Team(d) => {
                let head = text(format!("team {} ", d.name.name));
                let body = self.block(&d.clauses, item.span.end, team_span, |p, c| match c {
                    TeamClause::Members(ms) if !p.has_comments(ms.iter().map(|s| s.span)) => {
                        let items = ms.iter().map(|s| p.slice(s.span).to_string()).collect();
                        concat(vec![text("members "), fill_list(("[", "]"), items)])
                    }
                    TeamClause::Members(ms) => {
                        let close = ms.last().map_or(0, |s| s.span.end + 1);
                        let list = p.seq(
                            ("[", "]"),
                            false,
                            ms,
                            close,
                            |s| s.span.start,
                            |p, s| text(p.slice(s.span)),
                        );
                        concat(vec![text("members "), list])
                    }
                    TeamClause::Calendar(c) => text(format!("calendar {}", c.name)),
                });
                concat(vec![head, body])
            }
            ItemKind::Classify(d) => self.classify(d, item.span.end),
            ItemKind::Owners(d) => self.owners(d, item.span.end),
            ItemKind::Route(d) => self.route(d, item.span.end),
            ItemKind::Sla(d) => self.sla(d, item.span.end),
            ItemKind::Connector(d) => self.connector(d, item.span.end),
            ItemKind::Gate(d) => self.gate(d, item.span.end),
            ItemKind::Automation(d) => self.automation(d, item.span.end),
            ItemKind::Test(d) => self.test(d, item.span.end),
            ItemKind::Acceptance(d) => self.acceptance(d, item.span.end),
            ItemKind::Lifecycle(d) => self.lifecycle(d, item.span.end),
            ItemKind::Aggregate(d) => self.aggregate(d, item.span.end),
            ItemKind::Table(d) => {
                let head = text(format!(
                    "table {} from {} key {} ",
                    d.name.name,
                    self.slice(d.file.span),
                    d.key.name
                ));
                let body = self.short_block(
                    &d.columns,
                    item.span.end,
                    |f| f.name.span.to(f.ty.span),
                    |p, f| text(format!("{}: {}", f.name.name, p.ty(&f.ty))),
                );
                concat(vec![head, body])
            }
            // `format_file` refuses files with syntax errors, so this is never printed.
            ItemKind::Error(_) => text(self.slice(item.span)),
        }
    }

    /// `head value` for `let` and `fixture` (see [`rhs`](Self::rhs)).
    fn binding(&mut self, head: String, value: &Expr) -> Doc {
        let v = self.rhs(value);
        concat(vec![text(head), v])
    }

    /// The text after `=`: ` value`, or a break and the indented value when it is too long.
    /// A list, record, call or `match` stays on the `=` line and breaks inside instead.
    pub(super) fn rhs(&mut self, value: &Expr) -> Doc {
        let lead = self.c.leading(value.span.start, None);
        let v = self.expr(value);
        let hugs = matches!(
            value.kind,
            ExprKind::Match { .. } | ExprKind::List(_) | ExprKind::Record { .. }
        ) || matches!(&value.kind, ExprKind::Call { .. });
        if hugs && matches!(lead, Doc::Concat(ref v) if v.is_empty()) {
            concat(vec![text(" "), v])
        } else {
            group(nest(concat(vec![Doc::Line, lead, v])))
        }
    }

    /// `(a: T, b: U)`.
    pub(super) fn params(&mut self, params: &[Param]) -> Doc {
        let docs = params
            .iter()
            .map(|p| text(format!("{}: {}", p.name.name, self.ty(&p.ty))))
            .collect();
        group(concat(vec![
            text("("),
            nest(concat(vec![Doc::SoftLine, join(docs, ",", Doc::Line)])),
            Doc::IfBreak(",", ""),
            Doc::SoftLine,
            text(")"),
        ]))
    }

    /// A `{ … }` block: one element per line. `span_of` gives an element's extent (for its
    /// comments and blank lines), when it has one; `close_at` is just after the `}`.
    pub(super) fn block<T>(
        &mut self,
        items: &[T],
        close_at: u32,
        span_of: impl Fn(&T) -> Option<Span>,
        mut f: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Doc {
        let close_pos = close_at.saturating_sub(1);
        let mut parts = Vec::new();
        let mut prev_end: Option<u32> = None;
        for (i, item) in items.iter().enumerate() {
            let sp = span_of(item);
            if i > 0 {
                parts.push(Doc::HardLine);
                if let (Some(pe), Some(s)) = (prev_end, sp)
                    && self.c.blank_between(pe, self.c.first_before(s.start))
                {
                    parts.push(Doc::HardLine);
                }
            }
            if let Some(s) = sp {
                parts.push(self.c.leading(s.start, prev_end));
            }
            parts.push(f(self, item));
            let limit = items
                .get(i + 1)
                .and_then(&span_of)
                .map_or(close_pos, |s| s.start);
            parts.push(self.c.trailing(limit));
            prev_end = sp.map(|s| self.c.real_end(s.start, s.end));
        }
        if let Some(d) = self.c.dangling(close_pos) {
            if !parts.is_empty() {
                parts.push(Doc::HardLine);
            }
            parts.push(d);
        }
        if parts.is_empty() {
            return text("{}");
        }
        concat(vec![
            text("{"),
            nest(concat(vec![Doc::HardLine, concat(parts)])),
            Doc::HardLine,
            text("}"),
        ])
    }

    /// An enum, record or event body: `{ A, B }` on one line when it fits and has no
    /// comments or blank lines inside; a [`block`](Self::block) without commas otherwise.
    fn short_block<T>(
        &mut self,
        items: &[T],
        close_at: u32,
        span_of: impl Fn(&T) -> Span,
        mut f: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Doc {
        let close_pos = close_at.saturating_sub(1);
        let spaced_out = items.windows(2).any(|w| {
            let (a, b) = (span_of(&w[0]), span_of(&w[1]));
            self.c
                .blank_between(self.c.real_end(a.start, a.end), b.start)
        });
        if items.is_empty() || spaced_out || self.c.any_before(close_pos) {
            return self.block(items, close_at, |x| Some(span_of(x)), f);
        }
        let docs: Vec<Doc> = items.iter().map(|x| f(self, x)).collect();
        let mut inner = vec![Doc::Line];
        for (i, d) in docs.into_iter().enumerate() {
            if i > 0 {
                inner.push(Doc::IfBreak("", ","));
                inner.push(Doc::Line);
            }
            inner.push(d);
        }
        group(concat(vec![
            text("{"),
            nest(concat(inner)),
            Doc::Line,
            text("}"),
        ]))
    }

    /// ` when cond`, or nothing.
    pub(super) fn when(&mut self, cond: &Option<Expr>) -> Doc {
        match cond {
            Some(c) => {
                let lead = self.c.leading(c.span.start, None);
                let e = self.expr(c);
                let when = concat(vec![Doc::Line, text("when "), lead, e]);
                Doc::Nest(2 * super::doc::INDENT, Box::new(when))
            }
            None => concat(Vec::new()),
        }
    }

    fn calendar_clause(&mut self, c: &CalendarClause) -> Doc {
        match c {
            CalendarClause::Timezone(s) => text(format!("timezone {}", self.slice(s.span))),
            CalendarClause::Hours(h) => {
                let days: Vec<String> = h
                    .days
                    .iter()
                    .map(|d| match &d.last {
                        Some(l) => format!("{}-{}", d.first.name, l.name),
                        None => d.first.name.clone(),
                    })
                    .collect();
                text(format!(
                    "hours {} {}-{}",
                    days.join(", "),
                    self.slice(h.from.span),
                    self.slice(h.to.span)
                ))
            }
            CalendarClause::Holidays(hs) if !self.has_comments(hs.iter().map(holiday_span)) => {
                let items = hs.iter().map(|h| self.holiday(h)).collect();
                concat(vec![text("holidays "), fill_list(("[", "]"), items)])
            }
            CalendarClause::Holidays(hs) => {
                let close = hs.last().map_or(0, |h| holiday_span(h).end + 1);
                let list = self.seq(
                    ("[", "]"),
                    false,
                    hs,
                    close,
                    |h| holiday_span(h).start,
                    |p, h| text(p.holiday(h)),
                );
                concat(vec![text("holidays "), list])
            }
        }
    }

    fn holiday(&self, h: &Holiday) -> String {
        match h {
            Holiday::Date(d) => self.slice(d.span).to_string(),
            Holiday::Range(a, b) => format!("{}..{}", self.slice(a.span), self.slice(b.span)),
            Holiday::Yearly { span, .. } => format!("every {}", self.slice(*span)),
        }
    }

    /// Are there comments to print before the end of the last of `spans` (so that a list
    /// must keep one item per line)?
    fn has_comments(&self, spans: impl Iterator<Item = Span>) -> bool {
        spans.last().is_some_and(|s| self.c.any_before(s.end + 1))
    }

    pub(super) fn target(&self, t: &Target) -> String {
        match t {
            Target::Name(i) => i.name.clone(),
            Target::Person(s) => self.slice(s.span).to_string(),
        }
    }

    pub(super) fn actions(&self, actions: &[SlaAction]) -> String {
        let words: Vec<String> = actions
            .iter()
            .map(|a| match a {
                SlaAction::Escalate(_) => "escalate".to_string(),
                SlaAction::Deny(_) => "deny".to_string(),
                SlaAction::Notify(t) => format!("notify {}", self.target(t)),
                SlaAction::Assign(t) => format!("assign {}", self.target(t)),
            })
            .collect();
        words.join(", ")
    }

    /// `A, B.c` in `on` lists.
    pub(super) fn paths(paths: &[Path]) -> String {
        let names: Vec<String> = paths.iter().map(Path::dotted).collect();
        names.join(", ")
    }
}

/// Two neighbouring declarations that may stay on consecutive lines.
fn loose_pair(a: &ItemKind, b: &ItemKind) -> bool {
    matches!(
        (a, b),
        (ItemKind::Import(_), ItemKind::Import(_))
            | (ItemKind::Let(_), ItemKind::Let(_))
            | (ItemKind::Fixture(_), ItemKind::Fixture(_))
    )
}

/// `{a, b}` in imports, `[a, b]` of holidays and members: flat when it fits, otherwise
/// indented lines holding as many items as fit.
fn fill_list((open, close): (&str, &str), items: Vec<String>) -> Doc {
    group(concat(vec![
        text(open),
        nest(concat(vec![Doc::SoftLine, Doc::Fill(items)])),
        Doc::IfBreak(",", ""),
        Doc::SoftLine,
        text(close),
    ]))
}

fn holiday_span(h: &Holiday) -> Span {
    match h {
        Holiday::Date(d) => d.span,
        Holiday::Range(a, b) => a.span.to(b.span),
        Holiday::Yearly { span, .. } => *span,
    }
}

fn calendar_span(c: &CalendarClause) -> Option<Span> {
    match c {
        CalendarClause::Timezone(s) => Some(s.span),
        CalendarClause::Hours(h) => Some(h.span),
        CalendarClause::Holidays(hs) => {
            let first = holiday_span(hs.first()?);
            Some(first.to(holiday_span(hs.last()?)))
        }
    }
}

fn team_span(c: &TeamClause) -> Option<Span> {
    match c {
        TeamClause::Members(ms) => Some(ms.first()?.span.to(ms.last()?.span)),
        TeamClause::Calendar(i) => Some(i.span),
    }
}
