//! Expressions in the syntax tree: each node numbered by its [`ExprId`] in the module (read
//! them through `ast::`).

use super::ast_leaf::{DateLit, Ident, Path, TimeLit};
use crate::source::Span;

/// An expression's number in its module, given in construction order when the AST is
/// built. The semantic model's per-expression tables are indexed by it
/// (docs/architecture.md, "Where each concept lives").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct ExprId(pub u32);

impl ExprId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Expr {
    pub id: ExprId,
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BusinessUnit {
    Minutes,
    Hours,
    Days,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ExprKind {
    Bool(bool),
    Int(i64),
    /// Exact decimal text, e.g. `0.85`.
    Decimal(String),
    /// Amount as exact decimal text and an ISO-4217 code.
    Money {
        amount: String,
        currency: String,
    },
    /// Percent as exact decimal text without the `%`.
    Percent(String),
    /// Wall-clock duration in seconds.
    Duration(i64),
    BusinessDuration {
        amount: i64,
        unit: BusinessUnit,
    },
    Date(DateLit),
    TimeOfDay(TimeLit),
    /// RFC 3339 timestamp text as written.
    Timestamp(String),
    Str(String),
    None,
    List(Vec<Expr>),
    /// `Name { f: e, .. }`, `{ ..base, f: e }`.
    Record {
        ty: Option<Path>,
        spread: Option<Box<Expr>>,
        fields: Vec<FieldInit>,
    },
    Name(Ident),
    Field {
        base: Box<Expr>,
        field: Ident,
        optional: bool,
    },
    Unwrap(Box<Expr>),
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<MatchArm>,
    },
    /// `x is set`, `x is not set` (`negated`): whether a fact or value has a value.
    IsSet {
        operand: Box<Expr>,
        negated: bool,
    },
    /// `table[key]`: a row of a reference table.
    Index {
        base: Box<Expr>,
        index: Box<Expr>,
    },
    /// A part of the expression that failed to parse or lower; already reported.
    Error,
    /// `all x in list: cond` (`all`) or `any x in list: cond`: `var` is bound to each
    /// element in turn.
    Quant {
        all: bool,
        var: Ident,
        list: Box<Expr>,
        body: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldInit {
    pub name: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Arg {
    pub label: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    Matches,
    StartsWith,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::Contains => "contains",
            BinOp::Matches => "matches",
            BinOp::StartsWith => "starts_with",
            BinOp::Coalesce => "??",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MatchArm {
    pub pattern: Pattern,
    pub value: Expr,
    pub span: Span,
}

/// A match / `target by` arm pattern: `_`, or one or more alternatives `A | B.C`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    Wildcard(Span),
    Alternatives(Vec<Path>),
}

impl Pattern {
    pub fn span(&self) -> Span {
        match self {
            Pattern::Wildcard(s) => *s,
            Pattern::Alternatives(ps) => {
                let first = ps.first().map(|p| p.span).unwrap_or_default();
                let last = ps.last().map(|p| p.span).unwrap_or_default();
                first.to(last)
            }
        }
    }
}
