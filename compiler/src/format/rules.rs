//! Rule declarations: classify, owners, routes, SLA policies, connectors, gates,
//! automations, tests and acceptance sets. Headers stay on one line; a long `when`
//! condition moves to the next line, indented. Clauses go one per line (see `items.rs`).

use super::Printer;
use super::doc::{Doc, concat, group, join, text};
use super::expr::{align_width, pad, pattern_text};
use crate::source::Span;
use crate::syntax::ast::*;

enum ClassifyMember<'a> {
    Arm(&'a ClassifyArm),
    Otherwise(&'a Ident),
}

enum OwnersMember<'a> {
    Arm(&'a OwnerArm),
    Acknowledge(&'a Expr),
}

impl Printer<'_> {
    /// `head` + ` when cond` (breaking before `when` if too long) + ` ` + `body`.
    fn header(&mut self, head: String, cond: &Option<Expr>) -> Doc {
        let w = self.when(cond);
        group(concat(vec![text(head), w]))
    }

    pub(super) fn classify(&mut self, d: &ClassifyDecl, end: u32) -> Doc {
        let head = text(format!(
            "classify {} on {} ",
            d.enum_name.dotted(),
            Self::paths(&d.events)
        ));
        let mut members: Vec<ClassifyMember<'_>> = d.arms.iter().map(ClassifyMember::Arm).collect();
        if let Some(o) = &d.otherwise {
            members.push(ClassifyMember::Otherwise(o));
        }
        let span_of = |m: &ClassifyMember<'_>| match m {
            ClassifyMember::Arm(a) => Some(a.span),
            ClassifyMember::Otherwise(o) => Some(o.span),
        };
        let width = align_width(members.iter().map(|m| match m {
            ClassifyMember::Arm(a) => a.variant.name.clone(),
            ClassifyMember::Otherwise(_) => "otherwise".to_string(),
        }));
        let body = self.block(&members, end, span_of, |p, m| match m {
            ClassifyMember::Arm(a) => {
                let cond = p.expr(&a.cond);
                let name = pad(&a.variant.name, width);
                concat(vec![text(format!("{name} when ")), cond])
            }
            ClassifyMember::Otherwise(o) => text(format!("{} {}", pad("otherwise", width), o.name)),
        });
        concat(vec![head, body])
    }

    pub(super) fn owners(&mut self, d: &OwnersDecl, end: u32) -> Doc {
        let mut members: Vec<OwnersMember<'_>> = d.arms.iter().map(OwnersMember::Arm).collect();
        if let Some(a) = &d.acknowledge {
            members.push(OwnersMember::Acknowledge(a));
        }
        let span_of = |m: &OwnersMember<'_>| match m {
            OwnersMember::Arm(a) => Some(a.span),
            OwnersMember::Acknowledge(e) => Some(e.span),
        };
        let variant_w = align_width(d.arms.iter().map(|a| a.variant.name.clone()));
        let owner_w = align_width(d.arms.iter().map(|a| a.owner.name.clone()));
        let body = self.block(&members, end, span_of, |p, m| match m {
            OwnersMember::Arm(a) => {
                let variant = pad(&a.variant.name, variant_w);
                let line = match &a.escalate {
                    Some(e) => {
                        let owner = pad(&a.owner.name, owner_w);
                        format!("{variant} -> {owner} escalate {}", e.name)
                    }
                    None => format!("{variant} -> {}", a.owner.name),
                };
                text(line)
            }
            OwnersMember::Acknowledge(e) => concat(vec![text("acknowledge within "), p.expr(e)]),
        });
        concat(vec![text("owners "), body])
    }

    pub(super) fn route(&mut self, d: &RouteDecl, end: u32) -> Doc {
        let head = format!("route {} on {}", d.name.name, Self::paths(&d.events));
        let head = self.header(head, &d.cond);
        let span_of = |c: &RouteClause| match c {
            RouteClause::Assign(a) => Some(a.span),
            RouteClause::Key(ks) => Some(ks.first()?.span.to(ks.last()?.span)),
            RouteClause::Priority { span, .. } | RouteClause::Rebalance(span) => Some(*span),
            RouteClause::Notify(n) => Some(n.span),
        };
        let body = self.block(&d.clauses, end, span_of, |p, c| match c {
            RouteClause::Assign(a) => {
                let by = a
                    .strategy
                    .as_ref()
                    .map(|s| format!(" by {}", s.name))
                    .unwrap_or_default();
                text(format!("assign {}{by}", p.target(&a.target)))
            }
            RouteClause::Key(ks) => {
                let keys = p.expr_list(ks);
                concat(vec![text("key "), keys])
            }
            RouteClause::Priority { value, .. } => text(format!("priority {value}")),
            RouteClause::Rebalance(_) => text("rebalance"),
            RouteClause::Notify(n) => p.notify(n),
        });
        concat(vec![head, text(" "), body])
    }

    /// `a, b, c` (expressions), breaking after commas when too long.
    pub(super) fn expr_list(&mut self, es: &[Expr]) -> Doc {
        let docs = es.iter().map(|e| self.expr(e)).collect();
        group(super::doc::nest(join(docs, ",", Doc::Line)))
    }

    pub(super) fn sla(&mut self, d: &SlaDecl, end: u32) -> Doc {
        let classes: Vec<&str> = d.classes.iter().map(|c| c.name.as_str()).collect();
        let head = text(format!("sla {} for {} ", d.name.name, classes.join(", ")));
        let span_of = |c: &SlaClause| match c {
            SlaClause::Start(t) | SlaClause::Stop(t) | SlaClause::Reset(t) => Some(t.span),
            SlaClause::Pause { span, .. }
            | SlaClause::Warn { span, .. }
            | SlaClause::Breach { span, .. } => Some(*span),
            SlaClause::Target(SlaTarget::Fixed(e)) => Some(e.span),
            SlaClause::Target(SlaTarget::By { span, .. }) => Some(*span),
            SlaClause::Calendar(i) => Some(i.span),
        };
        let body = self.block(&d.clauses, end, span_of, |p, c| p.sla_clause(c));
        concat(vec![head, body])
    }

    fn sla_clause(&mut self, c: &SlaClause) -> Doc {
        match c {
            SlaClause::Start(t) => self.trigger("start", t),
            SlaClause::Stop(t) => self.trigger("stop", t),
            SlaClause::Reset(t) => self.trigger("reset", t),
            SlaClause::Pause { cond, .. } => concat(vec![text("pause when "), self.expr(cond)]),
            SlaClause::Target(SlaTarget::Fixed(e)) => concat(vec![text("target "), self.expr(e)]),
            SlaClause::Target(SlaTarget::By { field, arms, span }) => {
                let f = self.expr(field);
                let width = align_width(arms.iter().map(|a| pattern_text(&a.pattern)));
                let body = self.block(
                    arms,
                    span.end,
                    |a| Some(a.span),
                    |p, a| {
                        let pat = p.arm_pattern(&a.pattern, width);
                        let v = p.expr(&a.value);
                        concat(vec![pat, text(" -> "), v])
                    },
                );
                concat(vec![text("target by "), f, text(" "), body])
            }
            SlaClause::Calendar(i) => text(format!("calendar {}", i.name)),
            SlaClause::Warn { at, actions, .. } => {
                let at = self.expr(at);
                let acts = self.actions(actions);
                concat(vec![text("warn at "), at, text(format!(" -> {acts}"))])
            }
            SlaClause::Breach { actions, .. } => {
                text(format!("breach -> {}", self.actions(actions)))
            }
        }
    }

    fn trigger(&mut self, kw: &str, t: &Trigger) -> Doc {
        let head = format!("{kw} on {}", t.event.dotted());
        self.header(head, &t.cond)
    }

    pub(super) fn connector(&mut self, d: &ConnectorDecl, end: u32) -> Doc {
        let head = text(format!("connector {} ", d.name.name));
        let body = self.block(
            &d.actions,
            end,
            |a| Some(a.span),
            |p, a| {
                let params = p.params(&a.params);
                let effect = match &a.effect {
                    Some(Effect::Money(e)) => {
                        let e = p.expr(e);
                        concat(vec![text(" effect money("), e, text(")")])
                    }
                    Some(Effect::Destructive(_)) => text(" effect destructive"),
                    None => concat(Vec::new()),
                };
                let comp = a
                    .compensate
                    .as_ref()
                    .map(|c| format!(" compensate {}", c.name))
                    .unwrap_or_default();
                concat(vec![
                    text(format!("action {}", a.name.name)),
                    params,
                    effect,
                    text(comp),
                ])
            },
        );
        concat(vec![head, body])
    }

    pub(super) fn gate(&mut self, d: &GateDecl, end: u32) -> Doc {
        let sels: Vec<String> = d
            .selectors
            .iter()
            .map(|s| match s {
                GateSelector::Action(p) => p.dotted(),
                GateSelector::EffectMoney(_) => "effect money".into(),
                GateSelector::EffectDestructive(_) => "effect destructive".into(),
                GateSelector::Automation(_) => "automation".into(),
                GateSelector::AutomationNamed(n, _) => format!("automation {}", n.name),
            })
            .collect();
        let head = format!("gate {} on {}", d.name.name, sels.join(", "));
        let head = self.header(head, &d.cond);
        let span_of = |c: &GateClause| match c {
            GateClause::RequireApproval { span, .. }
            | GateClause::RequireReview { span, .. }
            | GateClause::Expire { span, .. } => Some(*span),
            GateClause::RequireConfirmation(span) | GateClause::ReleaseWhenClear(span) => {
                Some(*span)
            }
            GateClause::Notify(n) => Some(n.span),
        };
        let body = self.block(&d.clauses, end, span_of, |p, c| match c {
            GateClause::RequireApproval {
                team,
                quorum: Some((n, _)),
                ..
            } => text(format!("require {n} approvals from {}", team.name)),
            GateClause::RequireApproval { team, .. } => {
                text(format!("require approval from {}", team.name))
            }
            GateClause::RequireConfirmation(_) => text("require confirmation"),
            GateClause::ReleaseWhenClear(_) => text("release when clear"),
            GateClause::Notify(n) => p.notify(n),
            GateClause::RequireReview { team, .. } => {
                text(format!("require review by {}", team.name))
            }
            GateClause::Expire { after, actions, .. } => {
                let after = p.expr(after);
                let acts = p.actions(actions);
                concat(vec![
                    text("expire after "),
                    after,
                    text(format!(" -> {acts}")),
                ])
            }
        });
        concat(vec![head, text(" "), body])
    }

    pub(super) fn automation(&mut self, d: &AutomationDecl, end: u32) -> Doc {
        let head = text(format!("automation {} ", d.name.name));
        let span_of = |c: &AutomationClause| match c {
            AutomationClause::Version { span, .. }
            | AutomationClause::On { span, .. }
            | AutomationClause::Do { span, .. } => Some(*span),
            AutomationClause::Owner(i) => Some(i.span),
            AutomationClause::Rollout(r) => Some(r.span),
            AutomationClause::Breaker(b) => Some(b.span),
            AutomationClause::OncePerCase(s) => Some(*s),
        };
        let body = self.block(&d.clauses, end, span_of, |p, c| p.automation_clause(c));
        concat(vec![head, body])
    }

    fn do_step(&mut self, s: &DoStep) -> Doc {
        match s {
            DoStep::Call(s) => {
                let call = self.expr(&s.call);
                match &s.waiver {
                    Some(w) => concat(vec![
                        text(format!("@ungated({})", self.slice(w.span))),
                        Doc::HardLine,
                        call,
                    ]),
                    None => call,
                }
            }
            DoStep::Wait(w) => match &w.kind {
                WaitKind::For(d) => concat(vec![text("wait "), self.expr(d)]),
                WaitKind::Until { cond, within } => {
                    let mut parts = vec![text("wait until "), self.expr(cond)];
                    if let Some(d) = within {
                        parts.push(text(" within "));
                        parts.push(self.expr(d));
                    }
                    concat(parts)
                }
            },
            DoStep::Notify(n) => self.notify(n),
        }
    }

    fn notify(&mut self, n: &NotifyStep) -> Doc {
        let mut out = format!("notify {}", self.target(&n.to));
        if let Some(t) = &n.template {
            out.push_str(&format!(" with template {}", self.slice(t.span)));
        }
        text(out)
    }

    fn automation_clause(&mut self, c: &AutomationClause) -> Doc {
        match c {
            AutomationClause::Version { value, .. } => text(format!("version {value}")),
            AutomationClause::OncePerCase(_) => text("once per case"),
            AutomationClause::Owner(i) => text(format!("owner {}", i.name)),
            AutomationClause::On { events, cond, .. } => {
                let head = format!("on {}", Self::paths(events));
                self.header(head, cond)
            }
            AutomationClause::Do { steps, span } => {
                let body = self.block(steps, span.end, |s| Some(s.span()), |p, s| p.do_step(s));
                concat(vec![text("do "), body])
            }
            AutomationClause::Rollout(r) if r.stages.is_some() => {
                let stages = r.stages.as_deref().cloned().unwrap_or_default();
                let body = self.stages(&stages, &r.by, r.span.end);
                concat(vec![text("rollout "), body])
            }
            AutomationClause::Rollout(r) => {
                let mut parts = vec![text("rollout")];
                if r.shadow {
                    parts.push(text(" shadow"));
                    if let Some(p) = &r.percent {
                        parts.push(text(" sample "));
                        parts.push(self.expr(p));
                    }
                } else if let Some(p) = &r.percent {
                    parts.push(text(" "));
                    parts.push(self.expr(p));
                }
                if !r.by.is_empty() {
                    parts.push(text(" by "));
                    parts.push(self.expr_list(&r.by));
                }
                concat(parts)
            }
            AutomationClause::Breaker(b) => {
                let threshold = self.expr(&b.threshold);
                let acts: Vec<String> = b
                    .actions
                    .iter()
                    .map(|a| match a {
                        BreakerAction::Halt(_) => "halt".to_string(),
                        BreakerAction::Assign(t) => format!("assign {}", self.target(t)),
                        BreakerAction::Notify(t) => format!("notify {}", self.target(t)),
                    })
                    .collect();
                concat(vec![
                    text("breaker failures > "),
                    threshold,
                    text(format!(" over {} runs -> {}", b.window, acts.join(", "))),
                ])
            }
        }
    }

    pub(super) fn test(&mut self, d: &TestDecl, end: u32) -> Doc {
        let head = text(format!("test {} ", self.slice(d.name.span)));
        let body = self.block(&d.steps, end, |s| Some(step_span(s)), |p, s| p.test_step(s));
        concat(vec![head, body])
    }

    fn test_step(&mut self, s: &TestStep) -> Doc {
        match s {
            TestStep::At { time, .. } => concat(vec![text("at "), self.expr(time)]),
            TestStep::Advance { by, .. } => concat(vec![text("advance "), self.expr(by)]),
            TestStep::Given { event, .. } => concat(vec![text("given "), self.expr(event)]),
            TestStep::Stub {
                action, retryable, ..
            } => {
                let r = if *retryable { " retryable" } else { "" };
                text(format!("stub {} fails{r}", action.dotted()))
            }
            TestStep::Expect { expectation, .. } => {
                let e = match expectation {
                    Expectation::Assigned(t) => format!("assigned {}", self.target(t)),
                    Expectation::Owner(t) => format!("owner {}", self.target(t)),
                    Expectation::Class(i) => format!("class {}", i.name),
                    Expectation::Held { action, gate } => match (action, gate) {
                        (Some(a), Some(g)) => format!("held {} by {}", a.dotted(), g.name),
                        (Some(a), None) => format!("held {}", a.dotted()),
                        (None, Some(g)) => format!("held by {}", g.name),
                        (None, None) => "held".to_string(),
                    },
                    Expectation::Executed(p) => format!("executed {}", p.dotted()),
                    Expectation::ExecutedTimes(p, 1) => format!("executed {} once", p.dotted()),
                    Expectation::ExecutedTimes(p, n) => {
                        format!("executed {} {n} times", p.dotted())
                    }
                    Expectation::NotExecuted(p) => format!("not executed {}", p.dotted()),
                    Expectation::Refused(Some(g)) => format!("refused {}", g.name),
                    Expectation::Refused(None) => "refused".to_string(),
                    Expectation::Released(Some(p)) => format!("released {}", p.dotted()),
                    Expectation::Released(None) => "released".to_string(),
                    Expectation::Shadowed(p) => format!("shadowed {}", p.dotted()),
                    Expectation::Escalated(Some(i)) => format!("escalated {}", i.name),
                    Expectation::Escalated(None) => "escalated".to_string(),
                    Expectation::Notified(t) => format!("notified {}", self.target(t)),
                    Expectation::Sla { name, state } => format!("sla {} {}", name.name, state.name),
                    Expectation::Status(s) => format!("status {}", s.name),
                    Expectation::NoAction(_) => "no action".to_string(),
                    Expectation::Stage { automation, stage } => {
                        format!("stage {} {}", automation.name, stage.text())
                    }
                };
                text(format!("expect {e}"))
            }
        }
    }

    pub(super) fn acceptance(&mut self, d: &AcceptanceDecl, end: u32) -> Doc {
        let head = text(format!("acceptance {} ", d.name.name));
        let span_of = |c: &AcceptanceClause| match c {
            AcceptanceClause::Samples(s) => Some(s.span),
            AcceptanceClause::Threshold { span, .. } => Some(*span),
        };
        let body = self.block(&d.clauses, end, span_of, |p, c| match c {
            AcceptanceClause::Samples(s) => text(format!("samples {}", p.slice(s.span))),
            AcceptanceClause::Threshold {
                metric, op, value, ..
            } => {
                let v = p.expr(value);
                concat(vec![text(format!("{} {} ", metric.name, op.as_str())), v])
            }
        });
        concat(vec![head, body])
    }
}

fn step_span(s: &TestStep) -> Span {
    match s {
        TestStep::At { span, .. }
        | TestStep::Advance { span, .. }
        | TestStep::Given { span, .. }
        | TestStep::Stub { span, .. }
        | TestStep::Expect { span, .. } => *span,
    }
}
