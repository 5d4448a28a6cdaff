//! A staged rollout: `rollout { … }` in an automation (docs/language.md §11.3, "Staged
//! rollout").

use super::ast_expr::Expr;
use super::ast_leaf::{Ident, Path};
use crate::source::Span;

/// A stage as written: `shadow` or a percentage (`10%`, `12.5%`, `100%`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StageLit {
    Shadow(Span),
    /// The number before `%`, as written.
    Percent(String, Span),
}

impl StageLit {
    pub fn span(&self) -> Span {
        match self {
            StageLit::Shadow(s) | StageLit::Percent(_, s) => *s,
        }
    }

    /// As written: `shadow`, `10%`.
    pub fn text(&self) -> String {
        match self {
            StageLit::Shadow(_) => "shadow".into(),
            StageLit::Percent(n, _) => format!("{n}%"),
        }
    }
}

/// `>=`, `>`, `<=`, `<`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StageCmp {
    Ge,
    Gt,
    Le,
    Lt,
}

impl StageCmp {
    pub fn text(self) -> &'static str {
        match self {
            StageCmp::Ge => ">=",
            StageCmp::Gt => ">",
            StageCmp::Le => "<=",
            StageCmp::Lt => "<",
        }
    }
}

/// `agreement >= 95% over 200 runs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageCriterion {
    /// `agreement` or `failures`; anything else is E0592.
    pub metric: Ident,
    pub cmp: StageCmp,
    pub threshold: Expr,
    pub over: i64,
    pub span: Span,
}

/// `FROM -> TO [after D] [when CRITERION and …]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagePromotion {
    pub from: StageLit,
    pub to: StageLit,
    pub after: Option<Expr>,
    pub criteria: Vec<StageCriterion>,
    pub span: Span,
}

/// `rollback to STAGE when breaker trips or CRITERION or …`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageRollback {
    pub to: StageLit,
    /// Where `breaker trips` is written, if it is.
    pub breaker: Option<Span>,
    pub criteria: Vec<StageCriterion>,
    pub span: Span,
}

/// `agreement when EVENT within D`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageAgreement {
    pub event: Path,
    pub within: Expr,
    pub span: Span,
}

/// The clauses of a `rollout { … }` block, in source order by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stages {
    /// `start STAGE` (E0505 when missing, as for any required clause).
    pub start: Option<StageLit>,
    /// Where the `start` and `by` clauses are (for the formatter's comments).
    pub start_span: Option<Span>,
    pub by_span: Option<Span>,
    pub agreement: Option<StageAgreement>,
    pub promotions: Vec<StagePromotion>,
    pub rollback: Option<StageRollback>,
    /// Clauses given twice (`start`, `agreement`, `rollback`, `by`): their spans.
    pub repeated: Vec<(&'static str, Span)>,
}
