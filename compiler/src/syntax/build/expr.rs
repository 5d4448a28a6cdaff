//! Building expressions: precedence with pest's Pratt parser (loosest first:
//! `or`; `and`; `not`; comparisons; `??`; `+ -`; `* /`; prefix `-`), postfix operators,
//! literals and their values.

use std::sync::LazyLock;

use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::{Builder, span, strip_underscores};
use crate::diagnostics::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_contains, Assoc::Left)
            | Op::infix(Rule::op_matches, Assoc::Left)
            | Op::infix(Rule::op_starts_with, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

impl Builder<'_> {
    // --- expressions ---------------------------------------------------------------------

    pub(in crate::syntax) fn expr(&self, p: Pair<'_, Rule>) -> Expr {
        if p.as_rule() != Rule::expr {
            return self.postfix_expr(p);
        }
        PRATT
            .map_primary(|x| self.postfix_expr(x))
            .map_prefix(|op, rhs| {
                let sp = span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                self.node(
                    ExprKind::Unary {
                        op,
                        operand: Box::new(rhs),
                    },
                    sp,
                )
            })
            .map_infix(|lhs, op, rhs| {
                let sp = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_in => BinOp::In,
                    Rule::op_contains => BinOp::Contains,
                    Rule::op_matches => BinOp::Matches,
                    Rule::op_starts_with => BinOp::StartsWith,
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                self.node(
                    ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    sp,
                )
            })
            .parse(p.into_inner())
    }

    pub(super) fn postfix_expr(&self, p: Pair<'_, Rule>) -> Expr {
        if p.as_rule() != Rule::postfix_expr {
            return self.primary(p);
        }
        let mut i = p.into_inner();
        let mut e = self.primary(i.next().expect("grammar: postfix_expr has a primary"));
        for post in i {
            let sp = e.span.to(span(&post));
            let kind = match post.as_rule() {
                Rule::unwrap_op => ExprKind::Unwrap(Box::new(e)),
                Rule::is_set => ExprKind::IsSet {
                    operand: Box::new(e),
                    negated: post.into_inner().any(|p| p.as_rule() == Rule::op_not),
                },
                Rule::index_access => {
                    let index = self.expr(post.into_inner().next().expect("grammar: index"));
                    ExprKind::Index {
                        base: Box::new(e),
                        index: Box::new(index),
                    }
                }
                Rule::opt_field | Rule::field_access => {
                    let optional = post.as_rule() == Rule::opt_field;
                    let field = self.ident(post.into_inner().next().expect("grammar: field name"));
                    ExprKind::Field {
                        base: Box::new(e),
                        field,
                        optional,
                    }
                }
                _ => {
                    let args = post
                        .into_inner()
                        .map(|a| {
                            let mut ai = a.into_inner().peekable();
                            let label = if ai.peek().is_some_and(|x| x.as_rule() == Rule::word) {
                                ai.next().map(|w| self.ident(w))
                            } else {
                                None
                            };
                            let value = self.expr(ai.next().expect("grammar: argument value"));
                            Arg { label, value }
                        })
                        .collect();
                    ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    }
                }
            };
            e = self.node(kind, sp);
        }
        e
    }

    pub(super) fn primary(&self, p: Pair<'_, Rule>) -> Expr {
        let sp = span(&p);
        let kind = match p.as_rule() {
            Rule::expr => return self.expr(p),
            Rule::postfix_expr => return self.postfix_expr(p),
            Rule::paren => return self.expr(p.into_inner().next().expect("grammar: paren")),
            Rule::name => ExprKind::Name(self.ident(p.into_inner().next().expect("grammar: name"))),
            Rule::bool_lit => ExprKind::Bool(p.as_str() == "true"),
            Rule::none_lit => ExprKind::None,
            Rule::integer => ExprKind::Int(self.int(&p)),
            Rule::decimal => ExprKind::Decimal(strip_underscores(p.as_str())),
            Rule::percent => {
                let n = p.into_inner().next().expect("grammar: percent number");
                ExprKind::Percent(strip_underscores(n.as_str()))
            }
            Rule::money => {
                let mut i = p.into_inner();
                let amount = strip_underscores(i.next().expect("grammar: money amount").as_str());
                let currency = i.next().expect("grammar: currency").as_str().to_string();
                ExprKind::Money { amount, currency }
            }
            Rule::duration => ExprKind::Duration(self.duration(&p)),
            Rule::business_duration => {
                let mut i = p.into_inner();
                let n = i.next().expect("grammar: business amount");
                let amount = self.int(&n);
                let unit = match i.next().expect("grammar: business unit").as_str() {
                    u if u.starts_with("minute") => BusinessUnit::Minutes,
                    u if u.starts_with("hour") => BusinessUnit::Hours,
                    _ => BusinessUnit::Days,
                };
                ExprKind::BusinessDuration { amount, unit }
            }
            Rule::date => ExprKind::Date(self.date_lit(&p)),
            Rule::time_of_day => ExprKind::TimeOfDay(self.time_lit(&p)),
            Rule::timestamp => ExprKind::Timestamp(p.as_str().to_string()),
            Rule::string => ExprKind::Str(self.string(p).value),
            Rule::list_lit => ExprKind::List(p.into_inner().map(|e| self.expr(e)).collect()),
            Rule::record_lit | Rule::anon_record => {
                let typed = p.as_rule() == Rule::record_lit;
                let mut ty = None;
                let mut spread = None;
                let mut fields = Vec::new();
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::path if typed => ty = Some(self.path(x)),
                        Rule::spread => {
                            spread = Some(Box::new(
                                self.expr(x.into_inner().next().expect("grammar: spread")),
                            ));
                        }
                        _ => {
                            let mut fi = x.into_inner();
                            let name = self.ident(fi.next().expect("grammar: field name"));
                            let value = self.expr(fi.next().expect("grammar: field value"));
                            fields.push(FieldInit { name, value });
                        }
                    }
                }
                ExprKind::Record { ty, spread, fields }
            }
            Rule::quant_expr => {
                let mut i = p.into_inner();
                let all = i.next().is_some_and(|k| k.as_str() == "all");
                let var = self.ident(i.next().expect("grammar: quantifier variable"));
                let mut i = i.filter(|x| x.as_rule() == Rule::expr);
                let list = self.expr(i.next().expect("grammar: quantifier list"));
                let body = self.expr(i.next().expect("grammar: quantifier condition"));
                ExprKind::Quant {
                    all,
                    var,
                    list: Box::new(list),
                    body: Box::new(body),
                }
            }
            Rule::if_expr => {
                let mut i = p.into_inner().filter(|x| x.as_rule() == Rule::expr);
                let cond = self.expr(i.next().expect("grammar: if condition"));
                let then = self.expr(i.next().expect("grammar: then branch"));
                let otherwise = self.expr(i.next().expect("grammar: else branch"));
                ExprKind::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                }
            }
            Rule::match_expr => {
                let mut i = p.into_inner().filter(|x| x.as_rule() != Rule::kw_match);
                let scrutinee = self.expr(i.next().expect("grammar: match scrutinee"));
                let arms = i
                    .map(|a| {
                        let asp = span(&a);
                        let mut ai = a.into_inner();
                        let pattern = self.pattern(ai.next().expect("grammar: pattern"));
                        let value = self.expr(ai.next().expect("grammar: arm value"));
                        MatchArm {
                            pattern,
                            value,
                            span: asp,
                        }
                    })
                    .collect();
                ExprKind::Match {
                    scrutinee: Box::new(scrutinee),
                    arms,
                }
            }
            _ => ExprKind::Error,
        };
        self.node(kind, sp)
    }

    /// A new expression node with the module's next [`ExprId`].
    fn node(&self, kind: ExprKind, at: Span) -> Expr {
        let id = self.next_expr.get();
        self.next_expr.set(id.saturating_add(1));
        Expr {
            id: ExprId(id),
            kind,
            span: at,
        }
    }

    pub(super) fn duration(&self, p: &Pair<'_, Rule>) -> i64 {
        let mut total: i64 = 0;
        let mut num = String::new();
        // docs/language.md §2.3: units go largest first, each at most once (`1h30m`, not
        // `30m1h` or `1h1h`), so one length has one spelling.
        let mut last_unit: Option<i64> = None;
        for ch in p.as_str().chars() {
            if ch.is_ascii_digit() {
                num.push(ch);
                continue;
            }
            let unit: i64 = match ch {
                'w' => 7 * 86_400,
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                _ => 1,
            };
            if last_unit.is_some_and(|last| unit >= last) {
                let mut d = Diagnostic::new(
                    Code::InvalidLiteral,
                    &self.file,
                    span(p),
                    format!(
                        "duration `{}` repeats a unit or puts a smaller one first",
                        p.as_str()
                    ),
                    "units out of order",
                );
                d.help = Some(match canonical_duration(p.as_str()) {
                    Some(c) => format!("write the units largest first, each once: `{c}`"),
                    None => "write the units largest first, each once, e.g. `1h30m`".into(),
                });
                self.diags.borrow_mut().push(d);
                return 0;
            }
            last_unit = Some(unit);
            let n: Option<i64> = num.parse().ok();
            match n
                .and_then(|n| n.checked_mul(unit))
                .and_then(|v| total.checked_add(v))
            {
                Some(t) => total = t,
                None => {
                    self.error(
                        Code::InvalidLiteral,
                        span(p),
                        format!("duration `{}` is too long", p.as_str()),
                        "too long",
                    );
                    return 0;
                }
            }
            num.clear();
        }
        total
    }
}

/// `30s30m` → `30m30s`, `1h1h` → `2h`: the same length with each unit once, largest first.
/// `None` when a number does not fit.
fn canonical_duration(text: &str) -> Option<String> {
    const UNITS: [(char, i64); 5] = [
        ('w', 604_800),
        ('d', 86_400),
        ('h', 3_600),
        ('m', 60),
        ('s', 1),
    ];
    let mut total: i64 = 0;
    let mut num = String::new();
    for ch in text.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let size = UNITS.iter().find(|(u, _)| *u == ch).map_or(1, |(_, s)| *s);
        total = total.checked_add(num.parse::<i64>().ok()?.checked_mul(size)?)?;
        num.clear();
    }
    let mut out = String::new();
    for (u, size) in UNITS {
        if total >= size {
            out.push_str(&format!("{}{u}", total / size));
            total %= size;
        }
    }
    Some(if out.is_empty() { "0s".into() } else { out })
}
