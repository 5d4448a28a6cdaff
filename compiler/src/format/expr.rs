//! Expressions, types and patterns.
//!
//! Parentheses are not in the AST; they are printed where precedence needs them, and only
//! there (`(a + b) * c`, `not (a and b)`, `(if c then a else b) + 1`). Literals are printed
//! as written (`1_000`, `90m`, `"\u{1F600}"`), with the space inside `480 USD` and
//! `2 business days` normalised to one.

use super::Printer;
use super::doc::{Doc, concat, group, join, nest, nil, text};
use crate::syntax::ast::*;

/// Binding strength, loosest first; an operand needs parentheses when it binds more loosely
/// than its position requires.
fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::If { .. } | ExprKind::Quant { .. } => 0,
        ExprKind::Binary { op, .. } => binop_prec(*op),
        ExprKind::Unary {
            op: UnaryOp::Not, ..
        } => 3,
        ExprKind::Unary {
            op: UnaryOp::Neg, ..
        } => 8,
        _ => 10,
    }
}

fn binop_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Coalesce => 5,
        BinOp::Add | BinOp::Sub => 6,
        BinOp::Mul | BinOp::Div => 7,
        // Comparisons, `in`, `contains`, `matches`, `starts_with`.
        _ => 4,
    }
}

impl Printer<'_> {
    pub(super) fn slice(&self, sp: crate::source::Span) -> &str {
        &self.src[sp.range()]
    }

    /// An expression in a position that accepts any expression.
    pub(super) fn expr(&mut self, e: &Expr) -> Doc {
        match &e.kind {
            ExprKind::Money { .. } | ExprKind::BusinessDuration { .. } => {
                let words: Vec<&str> = self.slice(e.span).split_whitespace().collect();
                text(words.join(" "))
            }
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Decimal(_)
            | ExprKind::Percent(_)
            | ExprKind::Duration(_)
            | ExprKind::Date(_)
            | ExprKind::TimeOfDay(_)
            | ExprKind::Timestamp(_)
            | ExprKind::Str(_)
            | ExprKind::None
            | ExprKind::Name(_) => text(self.slice(e.span)),
            ExprKind::List(items) => {
                let close = e.span.end;
                self.seq(
                    ("[", "]"),
                    false,
                    items,
                    close,
                    |x| x.span.start,
                    |p, x| p.expr(x),
                )
            }
            ExprKind::Record { ty, spread, fields } => {
                let mut entries: Vec<Entry<'_>> = Vec::new();
                if let Some(s) = spread {
                    entries.push(Entry::Spread(s));
                }
                entries.extend(fields.iter().map(Entry::Field));
                let start_of = |x: &Entry<'_>| match x {
                    Entry::Spread(s) => s.span.start,
                    Entry::Field(f) => f.name.span.start,
                };
                let body = self.seq(
                    ("{", "}"),
                    true,
                    &entries,
                    e.span.end,
                    start_of,
                    |p, x| match x {
                        Entry::Spread(s) => concat(vec![text(".."), p.expr(s)]),
                        Entry::Field(f) => {
                            concat(vec![text(format!("{}: ", f.name.name)), p.expr(&f.value)])
                        }
                    },
                );
                match ty {
                    Some(t) => concat(vec![text(t.dotted()), text(" "), body]),
                    None => body,
                }
            }
            ExprKind::Field {
                base,
                field,
                optional,
            } => {
                let b = self.operand(base, 10);
                let dot = if *optional { "?." } else { "." };
                concat(vec![b, text(dot), text(field.name.clone())])
            }
            ExprKind::Unwrap(inner) => concat(vec![self.operand(inner, 10), text("!")]),
            ExprKind::IsSet { operand, negated } => concat(vec![
                self.operand(operand, 10),
                text(if *negated { " is not set" } else { " is set" }),
            ]),
            ExprKind::Index { base, index } => concat(vec![
                self.operand(base, 10),
                text("["),
                self.expr(index),
                text("]"),
            ]),
            ExprKind::Call { callee, args } => {
                let c = self.operand(callee, 10);
                let start_of = |a: &Arg| {
                    a.label
                        .as_ref()
                        .map_or(a.value.span.start, |l| l.span.start)
                };
                let list = self.seq(("(", ")"), false, args, e.span.end, start_of, |p, a| {
                    let label = match &a.label {
                        Some(l) => text(format!("{}: ", l.name)),
                        None => nil(),
                    };
                    concat(vec![label, p.expr(&a.value)])
                });
                concat(vec![c, list])
            }
            ExprKind::Unary { op, operand } => match op {
                // `not (a == b)`: parenthesised for the reader, though `not` binds more
                // loosely than comparisons (`not a == b` is the same program).
                UnaryOp::Not if matches!(operand.kind, ExprKind::Binary { .. }) => {
                    concat(vec![text("not "), self.operand(operand, 11)])
                }
                UnaryOp::Not => concat(vec![text("not "), self.operand(operand, 3)]),
                UnaryOp::Neg => concat(vec![text("-"), self.operand(operand, 8)]),
            },
            ExprKind::Binary { op, .. } => self.binary_chain(e, *op),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(cond);
                let t = self.expr(then);
                let o = self.expr(otherwise);
                group(concat(vec![
                    text("if "),
                    c,
                    nest(concat(vec![
                        Doc::Line,
                        text("then "),
                        t,
                        Doc::Line,
                        text("else "),
                        o,
                    ])),
                ]))
            }
            ExprKind::Quant {
                all,
                var,
                list,
                body,
            } => {
                let head = format!("{} {} in ", if *all { "all" } else { "any" }, var.name);
                let l = self.expr(list);
                let b = self.expr(body);
                concat(vec![text(head), l, text(": "), b])
            }
            ExprKind::Match { scrutinee, arms } => {
                let s = self.expr(scrutinee);
                let width = align_width(arms.iter().map(|a| pattern_text(&a.pattern)));
                let block = self.block(
                    arms,
                    e.span.end,
                    |a| Some(a.span),
                    |p, a| {
                        let pat = p.arm_pattern(&a.pattern, width);
                        let v = p.expr(&a.value);
                        concat(vec![pat, text(" -> "), v, text(",")])
                    },
                );
                concat(vec![text("match "), s, text(" "), block])
            }
            ExprKind::Error => text(self.slice(e.span)),
        }
    }

    /// An operand that must bind at least as tightly as `min`; parenthesised otherwise.
    pub(super) fn operand(&mut self, e: &Expr, min: u8) -> Doc {
        // `a ?? b` inside another operator is parenthesised for the reader, though `??`
        // binds more tightly than comparisons and logic: `(x ?? 0%) < 85%`.
        let clarify = min > 0
            && min != binop_prec(BinOp::Coalesce)
            && min != binop_prec(BinOp::Coalesce) + 1
            && matches!(
                e.kind,
                ExprKind::Binary {
                    op: BinOp::Coalesce,
                    ..
                }
            );
        if prec(e) >= min && !clarify {
            self.expr(e)
        } else {
            let inner = self.expr(e);
            group(concat(vec![
                text("("),
                nest(concat(vec![Doc::SoftLine, inner])),
                Doc::SoftLine,
                text(")"),
            ]))
        }
    }

    /// `a and b and c`: one group; when it breaks, each operator starts a line.
    fn binary_chain(&mut self, e: &Expr, op: BinOp) -> Doc {
        let p = binop_prec(op);
        let right_assoc = op == BinOp::Coalesce;
        // Flatten the left spine of same-precedence operators (left associative).
        let mut rhs: Vec<(BinOp, &Expr)> = Vec::new();
        let mut cur = e;
        if right_assoc {
            // `a ?? b ?? c` is `a ?? (b ?? c)`: flatten the right spine instead.
            let mut operands = Vec::new();
            let mut ops = Vec::new();
            while let ExprKind::Binary {
                op: BinOp::Coalesce,
                lhs,
                rhs,
            } = &cur.kind
            {
                operands.push(lhs.as_ref());
                ops.push(BinOp::Coalesce);
                cur = rhs;
            }
            operands.push(cur);
            let first = self.operand(operands[0], p + 1);
            let mut rest = Vec::new();
            for (i, x) in operands[1..].iter().enumerate() {
                let last = i + 2 == operands.len();
                let min = if last { p } else { p + 1 };
                rest.push(self.c.trailing(x.span.start));
                rest.push(Doc::Line);
                rest.push(self.c.leading(x.span.start, None));
                rest.push(text(format!("{} ", ops[i].as_str())));
                rest.push(self.operand(x, min));
            }
            return group(concat(vec![first, nest(concat(rest))]));
        }
        while let ExprKind::Binary { op: o, lhs, rhs: r } = &cur.kind {
            if binop_prec(*o) != p {
                break;
            }
            rhs.push((*o, r));
            cur = lhs;
        }
        rhs.reverse();
        let first = self.operand(cur, p);
        let mut rest = Vec::new();
        for (o, x) in rhs {
            rest.push(self.c.trailing(x.span.start));
            rest.push(Doc::Line);
            rest.push(self.c.leading(x.span.start, None));
            rest.push(text(format!("{} ", o.as_str())));
            rest.push(self.operand(x, p + 1));
        }
        group(concat(vec![first, nest(concat(rest))]))
    }

    /// `open a, b close` (the brackets) when it fits; otherwise one element per line, each followed by a
    /// comma. `spaced` puts spaces inside the brackets when flat (`{ a: 1 }`). `close_at`
    /// is the end of the construct (just after the closing bracket). `start_of` gives an
    /// element's start (where its leading comments end) and `f` its document.
    pub(super) fn seq<T>(
        &mut self,
        (open, close): (&str, &str),
        spaced: bool,
        items: &[T],
        close_at: u32,
        start_of: impl Fn(&T) -> u32,
        mut f: impl FnMut(&mut Self, &T) -> Doc,
    ) -> Doc {
        let edge = if spaced { Doc::Line } else { Doc::SoftLine };
        let close_pos = close_at.saturating_sub(1);
        if items.is_empty() {
            return match self.c.dangling(close_pos) {
                Some(d) => concat(vec![
                    text(open),
                    nest(concat(vec![Doc::HardLine, d])),
                    Doc::HardLine,
                    text(close),
                ]),
                None => text(format!("{open}{close}")),
            };
        }
        let mut parts = vec![Doc::SoftLine];
        if spaced {
            parts[0] = Doc::Line;
        }
        let n = items.len();
        for (i, item) in items.iter().enumerate() {
            let lead = self.c.leading(start_of(item), None);
            let d = f(self, item);
            parts.push(lead);
            parts.push(d);
            if i + 1 < n {
                parts.push(text(","));
                let next_start = start_of(&items[i + 1]);
                parts.push(self.c.trailing(next_start));
                parts.push(Doc::Line);
            } else {
                parts.push(Doc::IfBreak(",", ""));
                parts.push(self.c.trailing(close_pos));
            }
        }
        let dangling = self.c.dangling(close_pos);
        let mut out = vec![text(open), nest(concat(parts))];
        if let Some(d) = dangling {
            out.push(nest(concat(vec![Doc::HardLine, d])));
        }
        out.push(edge);
        out.push(text(close));
        group(concat(out))
    }

    /// An arm's pattern, padded to `width` (0: not aligned, and free to break).
    pub(super) fn arm_pattern(&mut self, p: &Pattern, width: usize) -> Doc {
        if width == 0 {
            self.pattern(p)
        } else {
            text(pad(&pattern_text(p), width))
        }
    }

    pub(super) fn pattern(&mut self, p: &Pattern) -> Doc {
        match p {
            Pattern::Wildcard(_) => text("_"),
            Pattern::Alternatives(ps) => {
                let alts = ps.iter().map(|x| text(x.dotted())).collect();
                group(nest(join(alts, " |", Doc::Line)))
            }
        }
    }

    pub(super) fn ty(&self, t: &TypeExpr) -> String {
        match &t.kind {
            TypeExprKind::Named(p) => p.dotted(),
            TypeExprKind::List(inner) => format!("List<{}>", self.ty(inner)),
            TypeExprKind::Optional(inner) => format!("{}?", self.ty(inner)),
        }
    }
}

/// A pattern on one line: `_`, `A | B.C`.
pub(super) fn pattern_text(p: &Pattern) -> String {
    match p {
        Pattern::Wildcard(_) => "_".to_string(),
        Pattern::Alternatives(ps) => {
            let alts: Vec<String> = ps.iter().map(Path::dotted).collect();
            alts.join(" | ")
        }
    }
}

/// The widest of `cells`, the column the next word aligns to; 0 (no alignment) when one is
/// wider than [`MAX_ALIGN`] columns.
pub(super) fn align_width(cells: impl Iterator<Item = String>) -> usize {
    let mut max = 0;
    for c in cells {
        let w = c.chars().count();
        if w > MAX_ALIGN {
            return 0;
        }
        max = max.max(w);
    }
    max
}

/// Arms whose first column is wider than this are not aligned.
const MAX_ALIGN: usize = 32;

/// `s` followed by spaces up to `width` columns.
pub(super) fn pad(s: &str, width: usize) -> String {
    format!("{s:<width$}")
}

enum Entry<'e> {
    Spread(&'e Expr),
    Field(&'e FieldInit),
}
