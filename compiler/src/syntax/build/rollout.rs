//! Building a staged rollout, `rollout { … }` (docs/language.md §11.3, "Staged rollout").

use pest::iterators::Pair;

use super::{Builder, span, strip_underscores};
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Builder<'_> {
    /// A `rollout_stages` pair: the block's clauses, and its `by` keys.
    pub(super) fn stages(&self, p: Pair<'_, Rule>) -> (Stages, Vec<Expr>) {
        let mut out = Stages::default();
        let mut by: Option<Vec<Expr>> = None;
        for c in p.into_inner() {
            let sp = span(&c);
            match c.as_rule() {
                Rule::stage_start => {
                    let stage = c.into_inner().find(|x| x.as_rule() == Rule::stage);
                    if out.start.is_some() {
                        out.repeated.push(("start", sp));
                    } else if let Some(s) = stage {
                        out.start = Some(self.stage_lit(s));
                        out.start_span = Some(sp);
                    }
                }
                Rule::stage_key => {
                    let keys: Vec<Expr> = c
                        .into_inner()
                        .filter(|x| x.as_rule() == Rule::expr)
                        .map(|e| self.expr(e))
                        .collect();
                    if by.is_some() {
                        out.repeated.push(("by", sp));
                    } else {
                        by = Some(keys);
                        out.by_span = Some(sp);
                    }
                }
                Rule::stage_agreement => {
                    let mut event = None;
                    let mut within = None;
                    for x in c.into_inner() {
                        match x.as_rule() {
                            Rule::path => event = Some(self.path(x)),
                            Rule::expr => within = Some(self.expr(x)),
                            _ => {}
                        }
                    }
                    let (Some(event), Some(within)) = (event, within) else {
                        continue;
                    };
                    if out.agreement.is_some() {
                        out.repeated.push(("agreement", sp));
                    } else {
                        out.agreement = Some(StageAgreement {
                            event,
                            within,
                            span: sp,
                        });
                    }
                }
                Rule::stage_promotion => {
                    let mut stages = Vec::new();
                    let mut after = None;
                    let mut criteria = Vec::new();
                    for x in c.into_inner() {
                        match x.as_rule() {
                            Rule::stage => stages.push(self.stage_lit(x)),
                            Rule::expr => after = Some(self.expr(x)),
                            Rule::criterion => criteria.push(self.criterion(x)),
                            _ => {}
                        }
                    }
                    let mut stages = stages.into_iter();
                    let (Some(from), Some(to)) = (stages.next(), stages.next()) else {
                        continue;
                    };
                    out.promotions.push(StagePromotion {
                        from,
                        to,
                        after,
                        criteria,
                        span: sp,
                    });
                }
                Rule::stage_rollback => {
                    let mut to = None;
                    let mut breaker = None;
                    let mut criteria = Vec::new();
                    for x in c.into_inner() {
                        match x.as_rule() {
                            Rule::stage => to = Some(self.stage_lit(x)),
                            Rule::breaker_trips => breaker = Some(span(&x)),
                            Rule::criterion => criteria.push(self.criterion(x)),
                            _ => {}
                        }
                    }
                    let Some(to) = to else {
                        continue;
                    };
                    if out.rollback.is_some() {
                        out.repeated.push(("rollback", sp));
                    } else {
                        out.rollback = Some(StageRollback {
                            to,
                            breaker,
                            criteria,
                            span: sp,
                        });
                    }
                }
                _ => {}
            }
        }
        (out, by.unwrap_or_default())
    }

    pub(super) fn stage_lit(&self, p: Pair<'_, Rule>) -> StageLit {
        let sp = span(&p);
        match p.into_inner().next() {
            Some(x) if x.as_rule() == Rule::percent => {
                let number = x.as_str().trim_end_matches('%');
                StageLit::Percent(strip_underscores(number), sp)
            }
            _ => StageLit::Shadow(sp),
        }
    }

    fn criterion(&self, p: Pair<'_, Rule>) -> StageCriterion {
        let sp = span(&p);
        let mut metric = None;
        let mut cmp = StageCmp::Ge;
        let mut threshold = None;
        let mut over = 0;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => metric = Some(self.ident(x)),
                Rule::stage_cmp => {
                    cmp = match x.into_inner().next().map(|o| o.as_rule()) {
                        Some(Rule::op_gt) => StageCmp::Gt,
                        Some(Rule::op_le) => StageCmp::Le,
                        Some(Rule::op_lt) => StageCmp::Lt,
                        _ => StageCmp::Ge,
                    }
                }
                Rule::expr => threshold = Some(self.expr(x)),
                Rule::integer => over = self.int(&x),
                _ => {}
            }
        }
        StageCriterion {
            metric: metric.expect("grammar: criterion metric"),
            cmp,
            threshold: threshold.expect("grammar: criterion threshold"),
            over,
            span: sp,
        }
    }
}
