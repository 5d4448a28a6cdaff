//! Checking connectors, safety gates and automations (brief §3.7–3.9, §7.9–7.10):
//! action references and arguments, gate scopes (action parameters over case facts),
//! automation clauses, steps and waivers.

use std::collections::BTreeMap;

use super::expr::{Cx, Scope, did_you_mean};
use super::index::OpKind;
use super::sig::TypeRef;
use super::types::Ty;
use crate::diagnostics::{Code, Label};
use crate::source::Span;
use crate::syntax::ast::*;

impl Cx<'_> {
    // --- connectors, gates, automations ----------------------------------------------------------

    pub(crate) fn check_connector(&mut self, c: &ConnectorDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for a in &c.actions {
            if let Some(first) = seen.insert(&a.name.name, a.name.span) {
                self.duplicate(
                    a.name.span,
                    first,
                    format!("action `{}` is declared twice", a.name.name),
                    "first declared here",
                );
            }
            let mut scope = Scope::default();
            for p in &a.params {
                let t = self.resolve_type_expr(&p.ty);
                if scope.locals.insert(p.name.name.clone(), t).is_some() {
                    self.error(
                        Code::DuplicateName,
                        p.name.span,
                        format!("parameter `{}` is declared twice", p.name.name),
                        "again here",
                    );
                }
            }
            if let Some(Effect::Money(e)) = &a.effect {
                self.expect(e, &Ty::Money, &scope);
            }
            if let Some(comp) = &a.compensate {
                match c.actions.iter().find(|x| x.name.name == comp.name) {
                    None => {
                        self.error(
                            Code::UnknownName,
                            comp.span,
                            format!("`{}` has no action `{}`", c.name.name, comp.name),
                            "not declared",
                        )
                        .help = Some(
                            "the compensating action must be declared in the same connector".into(),
                        );
                    }
                    Some(other) => {
                        let same = other.params.len() == a.params.len()
                            && other.params.iter().zip(&a.params).all(|(x, y)| {
                                x.name.name == y.name.name
                                    && TypeRef::from_ast(&x.ty) == TypeRef::from_ast(&y.ty)
                            });
                        if !same {
                            let file = self.file.clone();
                            self.error(
                                Code::BadArguments,
                                comp.span,
                                format!(
                                    "`{}` must take the same parameters as `{}`",
                                    comp.name, a.name.name
                                ),
                                "different parameters",
                            )
                            .secondary
                            .push(Label::new(
                                &file,
                                other.name.span,
                                "declared here",
                            ));
                        }
                    }
                }
            }
        }
    }

    /// The parameters a gate's condition sees: those common to every selected action.
    pub(crate) fn gate_params(&self, g: &GateDecl) -> Option<BTreeMap<String, Ty>> {
        let mut common: Option<BTreeMap<String, Ty>> = None;
        let mut any_action = false;
        // Gates that name their actions need only those (in the same order as the scan of
        // every action below, which selectors by effect need).
        let by_effect = g.selectors.iter().any(|s| {
            matches!(
                s,
                GateSelector::EffectMoney(_) | GateSelector::EffectDestructive(_)
            )
        });
        let candidates = if by_effect {
            self.index.all_actions()
        } else {
            let mut named: Vec<(&str, &str, &super::sig::ActionSig)> = g
                .selectors
                .iter()
                .filter_map(|s| match s {
                    GateSelector::Action(p) if p.segments.len() == 2 => {
                        let (c, a) = (p.segments[0].name.as_str(), p.segments[1].name.as_str());
                        self.index.action(c, a).map(|sig| (c, a, sig))
                    }
                    _ => None,
                })
                .collect();
            named.sort_by(|x, y| (x.0, x.1).cmp(&(y.0, y.1)));
            named.dedup_by(|x, y| (x.0, x.1) == (y.0, y.1));
            named
        };
        for (cname, aname, a) in candidates {
            let selected = g.selectors.iter().any(|s| match s {
                GateSelector::Action(p) => {
                    p.segments.len() == 2
                        && p.segments[0].name == cname
                        && p.segments[1].name == aname
                }
                GateSelector::EffectMoney(_) => a.effect == super::sig::EffectKind::Money,
                GateSelector::EffectDestructive(_) => {
                    a.effect == super::sig::EffectKind::Destructive
                }
                GateSelector::Automation(_) | GateSelector::AutomationNamed(..) => false,
            });
            if !selected {
                continue;
            }
            any_action = true;
            let module = self.index.op(OpKind::Connector, cname).unwrap_or_default();
            let params: BTreeMap<String, Ty> = a
                .params
                .iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        self.index.resolve_type(module, t).unwrap_or(Ty::Error),
                    )
                })
                .collect();
            common = Some(match common {
                None => params,
                Some(prev) => prev
                    .into_iter()
                    .filter(|(n, t)| params.get(n) == Some(t))
                    .collect(),
            });
        }
        if any_action { common } else { None }
    }

    pub(crate) fn check_gate(&mut self, g: &GateDecl) {
        for s in &g.selectors {
            match s {
                GateSelector::Action(p) => {
                    self.action_ref(p);
                }
                // `on automation NAME` (docs/language.md §11.2): E0102 when no automation
                // has that name.
                GateSelector::AutomationNamed(name, _) => {
                    self.op_ref(OpKind::Automation, name);
                }
                _ => {}
            }
        }
        let mut scope = self.rule_scope(&[]);
        if let Some(params) = self.gate_params(g) {
            scope.locals.extend(params);
        }
        if let Some(c) = &g.cond {
            self.expect(c, &Ty::Bool, &scope);
        }
        let mut requires = 0;
        let mut expires = 0;
        for c in &g.clauses {
            match c {
                GateClause::RequireApproval {
                    team,
                    quorum: Some((n, n_span)),
                    ..
                } => {
                    requires += 1;
                    if self.op_ref(OpKind::Team, team) {
                        self.quorum(team, *n, *n_span);
                    }
                }
                GateClause::RequireApproval { team, .. }
                | GateClause::RequireReview { team, .. } => {
                    requires += 1;
                    self.op_ref(OpKind::Team, team);
                }
                GateClause::RequireConfirmation(_) => requires += 1,
                GateClause::ReleaseWhenClear(span) => self.release_when_clear(g, *span),
                GateClause::Notify(n) => self.notify_clause(n),
                GateClause::Expire {
                    after,
                    actions,
                    span,
                } => {
                    expires += 1;
                    if expires == 2 {
                        self.error(
                            Code::DuplicateClause,
                            *span,
                            "`expire` given twice",
                            "second expiry",
                        );
                    }
                    self.duration_value(after);
                    self.sla_actions(actions, true);
                }
            }
        }
        if requires == 0 {
            self.error(Code::GateStructure, g.name.span, format!("gate `{}` requires nothing", g.name.name), "no `require`")
                .help = Some("add `require approval from TEAM`, `require confirmation` or `require review by TEAM`".into());
        }
    }

    /// `require N approvals from TEAM`: N is at least 1 and no more than the team's members
    /// (distinct approvers; docs/language.md §11). The requester cannot approve, so a quorum
    /// equal to the team's size is met only when the requester is not a member.
    fn quorum(&mut self, team: &Ident, n: i64, span: Span) {
        if n < 1 {
            self.error(
                Code::OutOfRange,
                span,
                "a quorum is at least 1 approval",
                "not a quorum",
            );
            return;
        }
        let members = self.index.team(&team.name).map_or(0, |t| t.members.len());
        if usize::try_from(n).is_ok_and(|n| n > members) {
            let noun = if members == 1 { "member" } else { "members" };
            self.error(
                Code::OutOfRange,
                span,
                format!(
                    "`{}` has {members} {noun}: {n} distinct approvals can never be given",
                    team.name
                ),
                "more approvals than approvers",
            )
            .help = Some(format!(
                "require at most {members} approvals, or add members to `{}`",
                team.name
            ));
        }
    }

    /// Resolve `connector.action`; returns its parameters (resolved) and effect.
    pub fn action_ref(&mut self, p: &Path) -> Option<(Vec<(String, Ty)>, super::sig::EffectKind)> {
        if p.segments.len() != 2 {
            self.error(
                Code::UnknownName,
                p.span,
                format!("`{}` is not an action", p.dotted()),
                "expected `connector.action`",
            );
            return None;
        }
        let (c, a) = (&p.segments[0], &p.segments[1]);
        if !self.op_ref(OpKind::Connector, c) {
            return None;
        }
        match self.index.action(&c.name, &a.name) {
            Some(sig) => {
                let module = self
                    .index
                    .op(OpKind::Connector, &c.name)
                    .unwrap_or_default()
                    .to_string();
                let params = sig
                    .params
                    .iter()
                    .map(|(n, t)| {
                        (
                            n.clone(),
                            self.index.resolve_type(&module, t).unwrap_or(Ty::Error),
                        )
                    })
                    .collect();
                Some((params, sig.effect))
            }
            None => {
                let names: Vec<String> = self
                    .index
                    .connector_actions(&c.name)
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default();
                let cands: Vec<&str> = names.iter().map(String::as_str).collect();
                let d = self.error(
                    Code::UnknownName,
                    a.span,
                    format!("connector `{}` has no action `{}`", c.name, a.name),
                    "unknown action",
                );
                d.help = Some(did_you_mean(&a.name, &cands, "its actions are"));
                None
            }
        }
    }

    pub(crate) fn check_automation(&mut self, a: &AutomationDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        let mut events: Vec<Ty> = Vec::new();
        // `on` first: steps and rollout keys see its events' fields.
        for c in &a.clauses {
            if let AutomationClause::On { events: evs, .. } = c {
                events = self.events(evs);
            }
        }
        let scope = self.rule_scope(&events);
        for c in &a.clauses {
            let (kw, span) = match c {
                AutomationClause::Version { span, .. } => ("version", *span),
                AutomationClause::Owner(i) => ("owner", i.span),
                AutomationClause::On { span, .. } => ("on", *span),
                AutomationClause::Do { span, .. } => ("do", *span),
                AutomationClause::Rollout(r) => ("rollout", r.span),
                AutomationClause::Breaker(b) => ("breaker", b.span),
                AutomationClause::OncePerCase(s) => ("once per case", *s),
            };
            if let Some(first) = seen.insert(kw, span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateClause,
                    span,
                    format!("`{kw}` given twice"),
                    "second clause",
                )
                .secondary
                .push(Label::new(&file, first, "first here"));
            }
            match c {
                AutomationClause::Version { value, span } => {
                    if *value < 1 {
                        self.error(
                            Code::OutOfRange,
                            *span,
                            "versions start at 1",
                            "not a version",
                        );
                    }
                }
                AutomationClause::Owner(i) => {
                    self.op_ref(OpKind::Team, i);
                }
                AutomationClause::On { cond, .. } => {
                    if let Some(c) = cond {
                        self.expect(c, &Ty::Bool, &scope);
                    }
                }
                AutomationClause::Do { steps, span } => {
                    if steps.is_empty() {
                        self.error(
                            Code::AutomationStructure,
                            *span,
                            "`do` has no steps",
                            "empty",
                        );
                    }
                    for s in steps {
                        match s {
                            DoStep::Call(s) => self.check_step(s, &scope),
                            other => self.check_flow_step(other),
                        }
                    }
                }
                AutomationClause::Rollout(r) if r.stages.is_some() => {
                    if let Some(s) = &r.stages {
                        self.check_stages(s, &r.by, a, r.span, &scope);
                    }
                }
                AutomationClause::Rollout(r) => {
                    if let Some(p) = &r.percent {
                        self.percent_value(p);
                    } else if !r.shadow {
                        self.error(
                            Code::AutomationStructure,
                            r.span,
                            "rollout needs a percentage",
                            "missing",
                        );
                    }
                    for e in &r.by {
                        self.check(e, None, &scope);
                    }
                }
                AutomationClause::Breaker(b) => {
                    self.percent_value(&b.threshold);
                    if b.window < 1 {
                        self.error(
                            Code::OutOfRange,
                            b.span,
                            "the breaker window must be at least 1 run",
                            "here",
                        );
                    }
                    for act in &b.actions {
                        match act {
                            BreakerAction::Halt(_) => {}
                            BreakerAction::Assign(t) => self.target(t, false),
                            BreakerAction::Notify(t) => self.target(t, true),
                        }
                    }
                }
                AutomationClause::OncePerCase(_) => {}
            }
        }
        let name = &a.name;
        if !seen.contains_key("owner") {
            self.error(Code::AutomationWithoutOwner, name.span, format!("automation `{}` has no owner", name.name), "no `owner`")
                .help = Some("add `owner TEAM`: the team that answers for this automation and gets its reconciliation tasks".into());
        }
        if !seen.contains_key("version") {
            self.error(
                Code::AutomationWithoutVersion,
                name.span,
                format!("automation `{}` has no version", name.name),
                "no `version`",
            )
            .help = Some("add `version 1` and raise it whenever the steps change".into());
        }
        if !seen.contains_key("on") {
            self.error(
                Code::AutomationStructure,
                name.span,
                format!("automation `{}` has no trigger", name.name),
                "no `on`",
            )
            .help = Some("add `on EVENT when CONDITION`".into());
        }
        if !seen.contains_key("do") {
            self.error(
                Code::AutomationStructure,
                name.span,
                format!("automation `{}` does nothing", name.name),
                "no `do`",
            )
            .help = Some("add `do { connector.action(arg: value) }`".into());
        }
    }

    pub(crate) fn check_step(&mut self, s: &Step, scope: &Scope) {
        if let Some(w) = &s.waiver
            && w.value.trim().is_empty()
        {
            self.error(Code::EmptyWaiver, w.span, "`@ungated` needs a reason", "empty reason")
                .help = Some("say why this action may run without a gate, e.g. `@ungated(\"refunds under 5 USD are pre-approved by finance\")`".into());
        }
        let ExprKind::Call { callee, args } = &s.call.kind else {
            self.error(
                Code::AutomationStructure,
                s.call.span,
                "a step is an action call",
                "not a call",
            )
            .help = Some("write `connector.action(arg: value)`".into());
            return;
        };
        let path = match &callee.kind {
            ExprKind::Field {
                base,
                field,
                optional: false,
            } => match &base.kind {
                ExprKind::Name(c) => Some(Path {
                    segments: vec![c.clone(), field.clone()],
                    span: callee.span,
                }),
                _ => None,
            },
            _ => None,
        };
        let Some(path) = path else {
            self.error(
                Code::AutomationStructure,
                callee.span,
                "a step calls an action: `connector.action(…)`",
                "not an action",
            );
            return;
        };
        match self.action_ref(&path) {
            Some((params, _)) => {
                self.check_args(s.call.span, &path.dotted(), &params, args, scope, true)
            }
            None => {
                for a in args {
                    self.check(&a.value, None, scope);
                }
            }
        }
    }
}
