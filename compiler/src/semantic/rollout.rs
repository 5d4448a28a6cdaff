//! Checking a staged rollout, `rollout { … }` (docs/language.md §11.3, "Staged rollout"):
//! the stages form a path out of `start` that only widens, every criterion names a metric
//! the runtime measures in the stage it is read in, and the durations are fixed when the
//! bundle is built (the runtime sets its timers from event time alone).

use std::collections::BTreeSet;

use super::expr::{Cx, Scope};
use crate::diagnostics::{Code, Label};
use crate::source::Span;
use crate::syntax::ast::*;

/// A stage's place in the order shadow < 0.01% < … < 100%, from its text; `None` for a
/// percentage that is not one (reported by [`Cx::stage_value`]).
pub(crate) fn stage_rank(s: &StageLit) -> Option<u32> {
    match s {
        StageLit::Shadow(_) => Some(0),
        StageLit::Percent(n, _) => percent_hundredths(n).map(|p| p + 1),
    }
}

/// `12.5` → 1250 hundredths of a percent; `None` beyond two decimals or above 100.
pub(crate) fn percent_hundredths(n: &str) -> Option<u32> {
    let (whole, frac) = n.split_once('.').unwrap_or((n, ""));
    if frac.len() > 2 || whole.is_empty() {
        return None;
    }
    let w: u32 = whole.parse().ok()?;
    let f: u32 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<2}").parse().ok()?
    };
    let v = w.checked_mul(100)?.checked_add(f)?;
    (v <= 10_000).then_some(v)
}

/// A stage as the runtime writes it: `shadow`, `10%`, `12.5%` (from `12.50%`).
pub fn stage_text(written: &str) -> String {
    match written.strip_suffix('%').and_then(percent_hundredths) {
        Some(p) => meshline_runtime::ir::Stage::Percent(p).text(),
        None => written.to_string(),
    }
}

impl Cx<'_> {
    pub(crate) fn check_stages(
        &mut self,
        s: &Stages,
        by: &[Expr],
        a: &AutomationDecl,
        rollout_span: Span,
        scope: &Scope,
    ) {
        for e in by {
            self.check(e, None, scope);
        }
        for (kw, span) in &s.repeated {
            self.error(
                Code::DuplicateClause,
                *span,
                format!("`{kw}` given twice in `rollout`"),
                "second clause",
            );
        }
        let Some(start) = &s.start else {
            self.error(
                Code::AutomationStructure,
                rollout_span,
                "a staged rollout needs a `start` stage",
                "no `start`",
            )
            .help = Some("add `start shadow` (or the percentage to start at)".into());
            return;
        };
        let mut all: Vec<&StageLit> = vec![start];
        all.extend(s.promotions.iter().flat_map(|p| [&p.from, &p.to]));
        all.extend(s.rollback.iter().map(|r| &r.to));
        for st in &all {
            self.stage_value(st);
        }
        if let Some(ag) = &s.agreement {
            self.events(std::slice::from_ref(&ag.event));
            self.stage_duration(&ag.within, "within");
        }
        let has_breaker = a
            .clauses
            .iter()
            .any(|c| matches!(c, AutomationClause::Breaker(_)));
        for p in &s.promotions {
            if let (Some(f), Some(t)) = (stage_rank(&p.from), stage_rank(&p.to))
                && t <= f
            {
                self.error(
                    Code::StageNotWider,
                    p.to.span(),
                    format!(
                        "`{} -> {}` does not widen the rollout",
                        p.from.text(),
                        p.to.text()
                    ),
                    "not wider than where it starts",
                )
                .help = Some("a promotion goes from shadow to a percentage, or to a larger one; to narrow it, write `rollback to STAGE when …`".into());
            }
            if let Some(d) = &p.after {
                self.stage_duration(d, "after");
            }
            let shadow = matches!(p.from, StageLit::Shadow(_));
            for c in &p.criteria {
                self.stage_criterion(c, s, Some(shadow));
            }
        }
        if let Some(r) = &s.rollback {
            if let Some(b) = r.breaker
                && !has_breaker
            {
                self.error(
                    Code::TripsWithoutBreaker,
                    b,
                    format!("automation `{}` has no breaker to trip", a.name.name),
                    "no `breaker` clause",
                )
                .help =
                    Some("add a breaker, e.g. `breaker failures > 5% over 50 runs -> halt`".into());
            }
            for c in &r.criteria {
                self.stage_criterion(c, s, None);
            }
        }
        self.stages_reachable(start, s);
    }

    /// A stage's percentage: above 0% and at most 100%, at most two decimals.
    fn stage_value(&mut self, s: &StageLit) {
        if let StageLit::Percent(n, span) = s
            && (percent_hundredths(n).is_none_or(|v| v == 0))
        {
            self.error(
                Code::OutOfRange,
                *span,
                format!("{n}% is not a rollout stage"),
                "out of range",
            )
            .help = Some(
                "a stage is `shadow` or a percentage above 0% and at most 100%, with at most two decimals".into(),
            );
        }
    }

    /// `metric CMP P% over N runs`; `shadow` says which stage reads it (`None`: a rollback,
    /// read in the live stages).
    fn stage_criterion(&mut self, c: &StageCriterion, s: &Stages, shadow: Option<bool>) {
        self.percent_value(&c.threshold);
        if c.over < 1 {
            self.error(
                Code::OutOfRange,
                c.span,
                "a criterion is measured over at least 1 run",
                "here",
            );
        }
        match c.metric.name.as_str() {
            "agreement" => {
                if s.agreement.is_none() {
                    self.error(
                        Code::AgreementWithoutEvent,
                        c.metric.span,
                        "`agreement` is measured against an agreement event, and none is declared",
                        "no `agreement when …`",
                    )
                    .help = Some("say which event records that people did what the automation would have done, e.g. `agreement when RefundIssued within 7d`".into());
                }
                if shadow != Some(true) {
                    self.error(
                        Code::MetricNotMeasured,
                        c.metric.span,
                        "`agreement` is measured on shadowed runs only",
                        "not measured here",
                    )
                    .help = Some("read `agreement` in a promotion out of `shadow`; in a live stage, read `failures`".into());
                }
            }
            "failures" => {
                if shadow == Some(true) {
                    self.error(
                        Code::MetricNotMeasured,
                        c.metric.span,
                        "a shadowed run executes nothing, so it cannot fail",
                        "not measured in shadow",
                    )
                    .help = Some("out of `shadow`, read `agreement`".into());
                }
            }
            other => {
                self.error(
                    Code::UnknownMetric,
                    c.metric.span,
                    format!("unknown rollout metric `{other}`"),
                    "not a metric",
                )
                .help = Some(
                    "the metrics are `agreement` (shadowed runs people then agreed with) and `failures` (live runs that failed for good)".into(),
                );
            }
        }
    }

    /// Every stage a promotion leaves from can be reached from `start` (by promotions, or
    /// by the rollback from any stage wider than its target).
    fn stages_reachable(&mut self, start: &StageLit, s: &Stages) {
        let mut reached: BTreeSet<u32> = stage_rank(start).into_iter().collect();
        loop {
            let before = reached.len();
            for p in &s.promotions {
                if let (Some(f), Some(t)) = (stage_rank(&p.from), stage_rank(&p.to))
                    && reached.contains(&f)
                {
                    reached.insert(t);
                }
            }
            if let Some(to) = s.rollback.as_ref().and_then(|r| stage_rank(&r.to))
                && reached.iter().any(|r| *r > to)
            {
                reached.insert(to);
            }
            if reached.len() == before {
                break;
            }
        }
        let file = self.file.clone();
        for p in &s.promotions {
            if let Some(f) = stage_rank(&p.from)
                && !reached.contains(&f)
            {
                self.error(
                    Code::StageUnreachable,
                    p.from.span(),
                    format!(
                        "the rollout never reaches `{}`: no promotion leads there from `start {}`",
                        p.from.text(),
                        start.text()
                    ),
                    "unreachable stage",
                )
                .secondary
                .push(Label::new(&file, start.span(), "the rollout starts here"));
            }
        }
    }

    /// A rollout duration (`after`, `within`): a `Duration` or `BusinessDuration` above
    /// zero, fixed when the bundle is built.
    fn stage_duration(&mut self, e: &Expr, what: &str) {
        self.fixed_duration(e, what, Code::StageDuration, "`14d` or `10 business days`");
    }
}
