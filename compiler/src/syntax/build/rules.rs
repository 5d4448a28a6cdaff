//! Building rule declarations: classify, owners, routes, SLA policies,
//! connectors, gates, automations, tests and acceptance sets. Each function turns one
//! grammar rule into AST; the grammar guarantees the shapes its `expect`s document.

use pest::iterators::Pair;

use super::{Builder, span};
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Builder<'_> {
    // --- classify, owners, routes ---------------------------------------------------------

    pub(super) fn classify(&self, p: Pair<'_, Rule>) -> ClassifyDecl {
        let sp = span(&p);
        let mut i = p.into_inner();
        let enum_name = self.path(i.next().expect("grammar: classify enum"));
        let events = self.event_list(i.next().expect("grammar: classify events"));
        let mut arms = Vec::new();
        let mut otherwise = None;
        for a in i {
            match a.as_rule() {
                Rule::classify_arm => {
                    let asp = span(&a);
                    let mut ai = a.into_inner();
                    let variant = self.ident(ai.next().expect("grammar: arm variant"));
                    let cond = self.expr(ai.next().expect("grammar: arm condition"));
                    arms.push(ClassifyArm {
                        variant,
                        cond,
                        span: asp,
                    });
                }
                _ => {
                    otherwise = a
                        .into_inner()
                        .find(|v| v.as_rule() == Rule::ident)
                        .map(|v| self.ident(v))
                }
            }
        }
        let header_end = arms.first().map_or(sp.end, |a| a.span.start);
        ClassifyDecl {
            enum_name,
            events,
            arms,
            otherwise,
            span_header: Span {
                start: sp.start,
                end: header_end,
            },
        }
    }

    pub(super) fn owners(&self, p: Pair<'_, Rule>) -> OwnersDecl {
        let mut keyword = Span::default();
        let mut arms = Vec::new();
        let mut acknowledge = None;
        for a in p.into_inner() {
            match a.as_rule() {
                Rule::kw_owners => keyword = span(&a),
                Rule::owner_arm => {
                    let asp = span(&a);
                    let mut ai = a.into_inner();
                    let variant = self.ident(ai.next().expect("grammar: owner variant"));
                    let owner = self.ident(ai.next().expect("grammar: owner team"));
                    let escalate = ai.next().map(|e| self.ident(e));
                    arms.push(OwnerArm {
                        variant,
                        owner,
                        escalate,
                        span: asp,
                    });
                }
                _ => {
                    acknowledge = a
                        .into_inner()
                        .find(|e| e.as_rule() == Rule::expr)
                        .map(|e| self.expr(e))
                }
            }
        }
        OwnersDecl {
            arms,
            acknowledge,
            keyword,
        }
    }

    pub(super) fn route(&self, p: Pair<'_, Rule>) -> RouteDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: route name"));
        let events = self.event_list(i.next().expect("grammar: route events"));
        let mut cond = None;
        let mut clauses = Vec::new();
        for c in i {
            match c.as_rule() {
                Rule::expr => cond = Some(self.expr(c)),
                Rule::assign_clause => {
                    let sp = span(&c);
                    let mut ci = c.into_inner();
                    let target = self.target(ci.next().expect("grammar: assign target"));
                    let strategy = ci.next().map(|s| self.ident(s));
                    clauses.push(RouteClause::Assign(AssignTarget {
                        target,
                        strategy,
                        span: sp,
                    }));
                }
                Rule::key_clause => clauses.push(RouteClause::Key(
                    c.into_inner().map(|e| self.expr(e)).collect(),
                )),
                Rule::priority_clause => {
                    let n = c.into_inner().next().expect("grammar: priority value");
                    clauses.push(RouteClause::Priority {
                        value: self.int(&n),
                        span: span(&n),
                    });
                }
                Rule::rebalance_clause => clauses.push(RouteClause::Rebalance(span(&c))),
                Rule::notify_clause => clauses.push(RouteClause::Notify(self.notify_clause(c))),
                _ => {}
            }
        }
        RouteDecl {
            name,
            events,
            cond,
            clauses,
        }
    }

    // --- SLA ---------------------------------------------------------------------------

    pub(super) fn trigger(&self, p: Pair<'_, Rule>) -> Trigger {
        let t = p.into_inner().next().expect("grammar: trigger");
        let sp = span(&t);
        let mut i = t.into_inner();
        let event = self.path(i.next().expect("grammar: trigger event"));
        let cond = i.next().map(|e| self.expr(e));
        Trigger {
            event,
            cond,
            span: sp,
        }
    }

    pub(super) fn actions(&self, p: Pair<'_, Rule>) -> Vec<SlaAction> {
        p.into_inner()
            .map(|a| {
                let inner = a.into_inner().next().expect("grammar: action");
                match inner.as_rule() {
                    Rule::act_escalate => SlaAction::Escalate(span(&inner)),
                    Rule::act_deny => SlaAction::Deny(span(&inner)),
                    Rule::act_notify => SlaAction::Notify(
                        self.target(inner.into_inner().next().expect("grammar: notify target")),
                    ),
                    _ => SlaAction::Assign(
                        self.target(inner.into_inner().next().expect("grammar: assign target")),
                    ),
                }
            })
            .collect()
    }

    pub(super) fn sla(&self, p: Pair<'_, Rule>) -> SlaDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: sla name"));
        let mut classes = Vec::new();
        let mut clauses = Vec::new();
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::ident => classes.push(self.ident(c)),
                Rule::start_clause => clauses.push(SlaClause::Start(self.trigger(c))),
                Rule::stop_clause => clauses.push(SlaClause::Stop(self.trigger(c))),
                Rule::reset_clause => clauses.push(SlaClause::Reset(self.trigger(c))),
                Rule::pause_clause => {
                    let cond = self.expr(c.into_inner().next().expect("grammar: pause condition"));
                    clauses.push(SlaClause::Pause { cond, span: sp });
                }
                Rule::target_clause => {
                    let t = c.into_inner().next().expect("grammar: target");
                    if t.as_rule() == Rule::target_by {
                        let tsp = span(&t);
                        let mut ti = t.into_inner();
                        let field = self.expr(ti.next().expect("grammar: target by field"));
                        let arms = ti.map(|a| self.target_arm(a)).collect();
                        clauses.push(SlaClause::Target(SlaTarget::By {
                            field,
                            arms,
                            span: tsp,
                        }));
                    } else {
                        clauses.push(SlaClause::Target(SlaTarget::Fixed(self.expr(t))));
                    }
                }
                Rule::sla_calendar => {
                    clauses.push(SlaClause::Calendar(
                        self.ident(c.into_inner().next().expect("grammar: calendar")),
                    ));
                }
                Rule::warn_clause => {
                    let mut ci = c.into_inner();
                    let at = self.expr(ci.next().expect("grammar: warn at"));
                    let actions = self.actions(ci.next().expect("grammar: warn actions"));
                    clauses.push(SlaClause::Warn {
                        at,
                        actions,
                        span: sp,
                    });
                }
                Rule::breach_clause => {
                    let actions =
                        self.actions(c.into_inner().next().expect("grammar: breach actions"));
                    clauses.push(SlaClause::Breach { actions, span: sp });
                }
                _ => {}
            }
        }
        SlaDecl {
            name,
            classes,
            clauses,
        }
    }

    pub(super) fn target_arm(&self, p: Pair<'_, Rule>) -> TargetArm {
        let sp = span(&p);
        let mut i = p.into_inner();
        let pattern = self.pattern(i.next().expect("grammar: arm pattern"));
        let value = self.expr(i.next().expect("grammar: arm value"));
        TargetArm {
            pattern,
            value,
            span: sp,
        }
    }

    pub(super) fn pattern(&self, p: Pair<'_, Rule>) -> Pattern {
        let sp = span(&p);
        let mut i = p.into_inner().peekable();
        if i.peek().is_some_and(|x| x.as_rule() == Rule::wildcard) {
            return Pattern::Wildcard(sp);
        }
        Pattern::Alternatives(i.map(|x| self.path(x)).collect())
    }

    // --- connectors, gates, automations ---------------------------------------------------

    pub(super) fn connector(&self, p: Pair<'_, Rule>) -> ConnectorDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: connector name"));
        let actions = i.map(|a| self.action_decl(a)).collect();
        ConnectorDecl { name, actions }
    }

    pub(super) fn action_decl(&self, p: Pair<'_, Rule>) -> ActionDecl {
        let sp = span(&p);
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: action name"));
        let mut params = Vec::new();
        let mut effect = None;
        let mut compensate = None;
        for x in i {
            match x.as_rule() {
                Rule::param => params.push(self.param(x)),
                Rule::effect => {
                    let e = x.into_inner().next().expect("grammar: effect kind");
                    effect = Some(match e.as_rule() {
                        Rule::effect_money => Effect::Money(
                            self.expr(e.into_inner().next().expect("grammar: money expr")),
                        ),
                        _ => Effect::Destructive(span(&e)),
                    });
                }
                _ => compensate = Some(self.ident(x)),
            }
        }
        ActionDecl {
            doc: self.doc(sp),
            name,
            params,
            effect,
            compensate,
            span: sp,
        }
    }

    pub(super) fn gate(&self, p: Pair<'_, Rule>) -> GateDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: gate name"));
        let mut selectors = Vec::new();
        let mut cond = None;
        let mut clauses = Vec::new();
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::gate_selector => {
                    let s = c.into_inner().next().expect("grammar: selector");
                    selectors.push(match s.as_rule() {
                        Rule::sel_effect_money => GateSelector::EffectMoney(sp),
                        Rule::sel_effect_destructive => GateSelector::EffectDestructive(sp),
                        Rule::sel_automation => GateSelector::Automation(sp),
                        Rule::sel_automation_named => {
                            let name = s
                                .into_inner()
                                .find(|x| x.as_rule() == Rule::ident)
                                .expect("grammar: automation name");
                            GateSelector::AutomationNamed(self.ident(name), sp)
                        }
                        _ => GateSelector::Action(self.path(s)),
                    });
                }
                Rule::expr => cond = Some(self.expr(c)),
                Rule::require_approval => {
                    let mut quorum = None;
                    let mut team = None;
                    for part in c.into_inner() {
                        match part.as_rule() {
                            Rule::quorum => {
                                let n = part.into_inner().next().expect("grammar: quorum count");
                                quorum = Some((self.int(&n), span(&n)));
                            }
                            Rule::ident => team = Some(self.ident(part)),
                            _ => {}
                        }
                    }
                    let team = team.expect("grammar: approval team");
                    clauses.push(GateClause::RequireApproval {
                        team,
                        quorum,
                        span: sp,
                    });
                }
                Rule::require_confirmation => clauses.push(GateClause::RequireConfirmation(sp)),
                Rule::release_clause => clauses.push(GateClause::ReleaseWhenClear(sp)),
                Rule::notify_clause => clauses.push(GateClause::Notify(self.notify_clause(c))),
                Rule::require_review => {
                    let team = self.ident(c.into_inner().next().expect("grammar: review team"));
                    clauses.push(GateClause::RequireReview { team, span: sp });
                }
                Rule::expire_clause => {
                    let mut ci = c.into_inner();
                    let after = self.expr(ci.next().expect("grammar: expire after"));
                    let actions = self.actions(ci.next().expect("grammar: expire actions"));
                    clauses.push(GateClause::Expire {
                        after,
                        actions,
                        span: sp,
                    });
                }
                _ => {}
            }
        }
        GateDecl {
            name,
            selectors,
            cond,
            clauses,
        }
    }

    pub(super) fn automation(&self, p: Pair<'_, Rule>) -> AutomationDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: automation name"));
        let mut clauses = Vec::new();
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::version_clause => {
                    let n = c.into_inner().next().expect("grammar: version");
                    clauses.push(AutomationClause::Version {
                        value: self.int(&n),
                        span: sp,
                    });
                }
                Rule::owner_clause => {
                    clauses.push(AutomationClause::Owner(
                        self.ident(c.into_inner().next().expect("grammar: owner")),
                    ));
                }
                Rule::on_clause => {
                    let mut ci = c.into_inner();
                    let events = self.event_list(ci.next().expect("grammar: on events"));
                    let cond = ci.next().map(|e| self.expr(e));
                    clauses.push(AutomationClause::On {
                        events,
                        cond,
                        span: sp,
                    });
                }
                Rule::do_clause => {
                    let steps = c.into_inner().map(|s| self.do_step(s)).collect();
                    clauses.push(AutomationClause::Do { steps, span: sp });
                }
                Rule::rollout_clause => {
                    let r = c.into_inner().next().expect("grammar: rollout kind");
                    if r.as_rule() == Rule::rollout_stages {
                        let (stages, by) = self.stages(r);
                        clauses.push(AutomationClause::Rollout(Rollout {
                            shadow: false,
                            percent: None,
                            by,
                            span: sp,
                            stages: Some(Box::new(stages)),
                        }));
                        continue;
                    }
                    let shadow = r.as_rule() == Rule::rollout_shadow;
                    let mut percent = None;
                    let mut by = Vec::new();
                    for x in r.into_inner() {
                        match x.as_rule() {
                            Rule::rollout_by => by = x.into_inner().map(|e| self.expr(e)).collect(),
                            _ => percent = Some(self.expr(x)),
                        }
                    }
                    clauses.push(AutomationClause::Rollout(Rollout {
                        shadow,
                        percent,
                        by,
                        span: sp,
                        stages: None,
                    }));
                }
                Rule::once_clause => clauses.push(AutomationClause::OncePerCase(sp)),
                Rule::breaker_clause => {
                    let mut ci = c.into_inner();
                    let threshold = self.expr(ci.next().expect("grammar: breaker threshold"));
                    let window = self.int(&ci.next().expect("grammar: breaker window"));
                    let actions =
                        ci.next()
                            .expect("grammar: breaker actions")
                            .into_inner()
                            .map(|a| {
                                let inner = a.into_inner().next().expect("grammar: breaker action");
                                match inner.as_rule() {
                                    Rule::act_halt => BreakerAction::Halt(span(&inner)),
                                    Rule::act_notify => BreakerAction::Notify(self.target(
                                        inner.into_inner().next().expect("grammar: target"),
                                    )),
                                    _ => BreakerAction::Assign(self.target(
                                        inner.into_inner().next().expect("grammar: target"),
                                    )),
                                }
                            })
                            .collect();
                    clauses.push(AutomationClause::Breaker(Breaker {
                        threshold,
                        window,
                        actions,
                        span: sp,
                    }));
                }
                _ => {}
            }
        }
        AutomationDecl { name, clauses }
    }

    /// A step of a `do` block: a call, a wait or a notification.
    pub(super) fn do_step(&self, p: Pair<'_, Rule>) -> DoStep {
        match p.as_rule() {
            Rule::wait_step => {
                let start = span(&p).start as usize;
                let x = p.into_inner().nth(1).expect("grammar: wait has a body");
                let kind = if x.as_rule() == Rule::wait_until {
                    let mut exprs = x.into_inner().filter(|e| e.as_rule() == Rule::expr);
                    let cond = self.expr(exprs.next().expect("grammar: wait until COND"));
                    let within = exprs.next().map(|e| self.expr(e));
                    WaitKind::Until { cond, within }
                } else {
                    WaitKind::For(self.expr(x))
                };
                // The step ends where its last expression ends: an absent `within` must
                // not stretch it over the blank and comment that follow.
                let end = match &kind {
                    WaitKind::For(d) => d.span.end,
                    WaitKind::Until { cond, within } => within.as_ref().unwrap_or(cond).span.end,
                };
                DoStep::Wait(WaitStep {
                    kind,
                    span: Span::new(start, end as usize),
                })
            }
            Rule::notify_clause => DoStep::Notify(self.notify_clause(p)),
            _ => DoStep::Call(self.step(p)),
        }
    }

    /// `notify TARGET [with template "t"]`, spanning up to its last part.
    pub(super) fn notify_clause(&self, p: Pair<'_, Rule>) -> NotifyStep {
        let start = span(&p).start as usize;
        let mut end = span(&p).end as usize;
        let mut to = None;
        let mut template = None;
        for x in p.into_inner() {
            end = x.as_span().end();
            match x.as_rule() {
                Rule::target => to = Some(self.target(x)),
                Rule::string => template = Some(self.string(x)),
                _ => {}
            }
        }
        NotifyStep {
            to: to.expect("grammar: notify has a target"),
            template,
            span: Span::new(start, end),
        }
    }

    pub(super) fn step(&self, p: Pair<'_, Rule>) -> Step {
        let sp = span(&p);
        let mut waiver = None;
        let mut call = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::waiver => waiver = x.into_inner().next().map(|s| self.string(s)),
                _ => call = Some(self.postfix_expr(x)),
            }
        }
        Step {
            waiver,
            call: call.expect("grammar: step has a call"),
            span: sp,
        }
    }

    // --- tests ---------------------------------------------------------------------------

    pub(super) fn test(&self, p: Pair<'_, Rule>) -> TestDecl {
        let mut i = p.into_inner();
        let name = self.string(i.next().expect("grammar: test name"));
        let steps = i.map(|s| self.test_step(s)).collect();
        TestDecl { name, steps }
    }

    pub(super) fn test_step(&self, p: Pair<'_, Rule>) -> TestStep {
        let sp = span(&p);
        match p.as_rule() {
            Rule::at_step => TestStep::At {
                time: self.expr(p.into_inner().next().expect("grammar: at")),
                span: sp,
            },
            Rule::advance_step => TestStep::Advance {
                by: self.expr(p.into_inner().next().expect("grammar: advance")),
                span: sp,
            },
            Rule::given_step => TestStep::Given {
                event: self.primary(p.into_inner().next().expect("grammar: given record")),
                span: sp,
            },
            Rule::stub_step => {
                let mut i = p.into_inner();
                let action = self.path(i.next().expect("grammar: stub action"));
                TestStep::Stub {
                    action,
                    retryable: i.next().is_some(),
                    span: sp,
                }
            }
            _ => {
                let e = p.into_inner().next().expect("grammar: expectation");
                let esp = span(&e);
                let rule = e.as_rule();
                let mut i = e.into_inner();
                let expectation = match rule {
                    Rule::exp_assigned => {
                        Expectation::Assigned(self.target(i.next().expect("grammar: target")))
                    }
                    Rule::exp_owner => {
                        Expectation::Owner(self.target(i.next().expect("grammar: target")))
                    }
                    Rule::exp_class => {
                        Expectation::Class(self.ident(i.next().expect("grammar: class")))
                    }
                    Rule::exp_held => {
                        let mut action = None;
                        let mut gate = None;
                        for part in i {
                            match part.as_rule() {
                                Rule::path => action = Some(self.path(part)),
                                Rule::ident => gate = Some(self.ident(part)),
                                _ => {}
                            }
                        }
                        Expectation::Held { action, gate }
                    }
                    Rule::exp_not_executed => {
                        Expectation::NotExecuted(self.path(i.next().expect("grammar: action")))
                    }
                    Rule::exp_refused => Expectation::Refused(i.next().map(|g| self.ident(g))),
                    Rule::exp_released => Expectation::Released(i.next().map(|a| self.path(a))),
                    Rule::exp_executed => {
                        let action = self.path(i.next().expect("grammar: action"));
                        match i.next().and_then(|t| t.into_inner().next()) {
                            Some(n) if n.as_rule() == Rule::integer => {
                                let n = u32::try_from(self.int(&n)).unwrap_or(u32::MAX);
                                Expectation::ExecutedTimes(action, n)
                            }
                            Some(_) => Expectation::ExecutedTimes(action, 1),
                            None => Expectation::Executed(action),
                        }
                    }
                    Rule::exp_shadowed => {
                        Expectation::Shadowed(self.path(i.next().expect("grammar: action")))
                    }
                    Rule::exp_escalated => Expectation::Escalated(i.next().map(|g| self.ident(g))),
                    Rule::exp_notified => {
                        Expectation::Notified(self.target(i.next().expect("grammar: target")))
                    }
                    Rule::exp_sla => {
                        let name = self.ident(i.next().expect("grammar: sla name"));
                        let state = self.ident(i.next().expect("grammar: sla state"));
                        Expectation::Sla { name, state }
                    }
                    Rule::exp_stage => {
                        let mut i = i.filter(|x| x.as_rule() != Rule::kw_stage);
                        let automation = self.ident(i.next().expect("grammar: stage automation"));
                        let stage = self.stage_lit(i.next().expect("grammar: stage"));
                        Expectation::Stage { automation, stage }
                    }
                    Rule::exp_status => {
                        Expectation::Status(self.ident(i.next().expect("grammar: status")))
                    }
                    _ => Expectation::NoAction(esp),
                };
                TestStep::Expect {
                    expectation,
                    span: sp,
                }
            }
        }
    }

    pub(super) fn acceptance(&self, p: Pair<'_, Rule>) -> AcceptanceDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: acceptance name"));
        let clauses = i
            .map(|c| {
                let sp = span(&c);
                if c.as_rule() == Rule::samples_clause {
                    AcceptanceClause::Samples(
                        self.string(c.into_inner().next().expect("grammar: samples path")),
                    )
                } else {
                    let mut ci = c.into_inner();
                    let metric = self.ident(ci.next().expect("grammar: metric"));
                    let op = match ci.next().expect("grammar: comparison").as_rule() {
                        Rule::op_ge => BinOp::Ge,
                        Rule::op_le => BinOp::Le,
                        Rule::op_gt => BinOp::Gt,
                        _ => BinOp::Lt,
                    };
                    let value = self.expr(ci.next().expect("grammar: threshold"));
                    AcceptanceClause::Threshold {
                        metric,
                        op,
                        value,
                        span: sp,
                    }
                }
            })
            .collect();
        AcceptanceDecl { name, clauses }
    }
}
