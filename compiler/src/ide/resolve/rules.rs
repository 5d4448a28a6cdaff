//! Names in SLA policies and test blocks (the longest declarations to walk).

use super::Walker;
use crate::ide::SymbolId;
use crate::semantic::index::OpKind;
use crate::syntax::ast::*;

impl Walker<'_> {
    pub(super) fn sla(&mut self, s: &SlaDecl) {
        self.def(s.name.span, SymbolId::Op(OpKind::Sla, s.name.name.clone()));
        s.classes.iter().for_each(|c| self.class(c));
        for c in &s.clauses {
            if let SlaClause::Start(t) | SlaClause::Stop(t) | SlaClause::Reset(t) = c {
                self.trigger_events(std::slice::from_ref(&t.event));
            }
        }
        for c in &s.clauses {
            match c {
                SlaClause::Start(t) | SlaClause::Stop(t) | SlaClause::Reset(t) => {
                    if let Some(e) = &t.cond {
                        self.expr(e);
                    }
                }
                SlaClause::Pause { cond, .. } => self.expr(cond),
                SlaClause::Target(SlaTarget::Fixed(e)) => self.expr(e),
                SlaClause::Target(SlaTarget::By { field, arms, .. }) => {
                    self.expr(field);
                    for arm in arms {
                        self.pattern(&arm.pattern, field.id);
                        self.expr(&arm.value);
                    }
                }
                SlaClause::Calendar(id) => self.op(OpKind::Calendar, id),
                SlaClause::Warn { at, actions, .. } => {
                    self.expr(at);
                    self.sla_actions(actions);
                }
                SlaClause::Breach { actions, .. } => self.sla_actions(actions),
            }
        }
    }

    pub(super) fn sla_actions(&mut self, actions: &[SlaAction]) {
        for a in actions {
            if let SlaAction::Notify(t) | SlaAction::Assign(t) = a {
                self.team_or_person(t);
            }
        }
    }

    /// A staged rollout's names: the agreement event, durations and thresholds
    /// (docs/language.md §11.3).
    pub(super) fn stages(&mut self, s: &Stages) {
        if let Some(a) = &s.agreement {
            self.data_path(&a.event);
            self.expr(&a.within);
        }
        for p in &s.promotions {
            p.after.iter().for_each(|d| self.expr(d));
            p.criteria.iter().for_each(|c| self.expr(&c.threshold));
        }
        if let Some(r) = &s.rollback {
            r.criteria.iter().for_each(|c| self.expr(&c.threshold));
        }
    }

    pub(super) fn test(&mut self, t: &TestDecl) {
        for step in &t.steps {
            match step {
                TestStep::At { time: e, .. }
                | TestStep::Advance { by: e, .. }
                | TestStep::Given { event: e, .. } => self.expr(e),
                TestStep::Stub { action, .. } => self.action_path(action),
                TestStep::Expect { expectation, .. } => match expectation {
                    Expectation::Assigned(t) | Expectation::Owner(t) | Expectation::Notified(t) => {
                        self.team_or_person(t)
                    }
                    Expectation::Class(c) => self.class(c),
                    Expectation::Held { action, gate } => {
                        if let Some(a) = action {
                            self.action_path(a);
                        }
                        if let Some(g) = gate {
                            self.op(OpKind::Gate, g);
                        }
                    }
                    Expectation::Executed(p)
                    | Expectation::ExecutedTimes(p, _)
                    | Expectation::Shadowed(p)
                    | Expectation::NotExecuted(p)
                    | Expectation::Released(Some(p)) => self.action_path(p),
                    Expectation::Refused(Some(g)) => self.op(OpKind::Gate, g),
                    Expectation::Refused(None) | Expectation::Released(None) => {}
                    Expectation::Escalated(Some(id)) => {
                        self.op(OpKind::Gate, id);
                        self.op(OpKind::Sla, id);
                    }
                    Expectation::Sla { name, .. } => self.op(OpKind::Sla, name),
                    Expectation::Stage { automation, .. } => {
                        self.op(OpKind::Automation, automation)
                    }
                    Expectation::Escalated(None)
                    | Expectation::NoAction(_)
                    | Expectation::Status(_) => {}
                },
            }
        }
    }
}
