//! Checking rules: the scope rules see (events, case facts, `event`/`case`/`class`/…),
//! `classify`, `owners`, routes and SLA policies (brief §3.4–3.6, §7.6–7.8, §7.11).

use std::collections::BTreeMap;

use super::expr::{Cx, Scope, Use, did_you_mean};
use super::index::{DataKind, OpKind};
use super::types::Ty;
use crate::diagnostics::{Code, Label};
use crate::source::Span;
use crate::syntax::ast::*;

impl Cx<'_> {
    // --- rules: classify, owners, routes -----------------------------------------------------

    /// Resolve the events of an `on` list; returns the event types found.
    pub fn events(&mut self, paths: &[Path]) -> Vec<Ty> {
        let mut out = Vec::new();
        for p in paths {
            let names: Vec<String> = p.segments.iter().map(|s| s.name.clone()).collect();
            let found = if names.len() == 1 {
                self.index.lookup_data(self.module, &names[0])
            } else {
                self.index.lookup_qualified(self.module, &names)
            };
            match found {
                Some((def, DataKind::Event)) => {
                    self.uses.insert(Use::Data(def.clone()));
                    self.note_import(&def, names.len() > 1);
                    out.push(Ty::Event(def));
                }
                Some((_, kind)) => {
                    self.error(
                        Code::WrongKind,
                        p.span,
                        format!("`{}` is {}, not an event", p.dotted(), kind.describe()),
                        "not an event",
                    );
                }
                None if self.from_failed_import(&names) => {}
                None => {
                    let hint = self.import_hint(&p.last().name);
                    let d = self.error(
                        Code::UnknownName,
                        p.span,
                        format!("unknown event `{}`", p.dotted()),
                        "no such event in scope",
                    );
                    d.help = hint.or_else(|| Some("declare it with `event Name { … }` or import a standard one, e.g. `import std.helpdesk.{TicketCreated}`".into()));
                }
            }
        }
        out
    }

    /// The scope of a rule triggered by `events`: case facts, then the events' own fields,
    /// then `event`, `case`, `class`, `assignee`, `now` (§3.1, §7.6).
    pub fn rule_scope(&self, events: &[Ty]) -> Scope {
        let mut scope = Scope {
            locals: self.index.facts.clone(),
        };
        for ev in events {
            for (name, ty) in self.index.fields_of(ev).unwrap_or_default() {
                scope.locals.insert(name, ty);
            }
        }
        let class = self
            .index
            .classify
            .as_ref()
            .map_or(Ty::Error, |c| Ty::Enum(c.enum_def.clone()));
        scope
            .with("event", Ty::Envelope)
            .with("case", Ty::CaseInfo)
            .with("class", class)
            .with("assignee", Ty::Assignee)
            .with("now", Ty::Time)
    }

    /// A class name (a variant of the classify enum).
    pub fn class_ref(&mut self, id: &Ident) {
        let Some(info) = self.index.classify.clone() else {
            return;
        };
        self.uses.insert(Use::Data(info.enum_def.clone()));
        if !info.variants.contains(&id.name) {
            let vs: Vec<&str> = info.variants.iter().map(String::as_str).collect();
            let d = self.error(
                Code::UnknownVariant,
                id.span,
                format!("`{}` is not a class of `{}`", id.name, info.enum_def.name),
                "unknown class",
            );
            d.help = Some(did_you_mean(&id.name, &vs, "the classes are"));
        }
    }

    pub(crate) fn check_classify(&mut self, c: &ClassifyDecl) {
        let names: Vec<String> = c
            .enum_name
            .segments
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let enum_ty = match self.resolve_type_path(&names, c.enum_name.span) {
            Some(t @ Ty::Enum(_)) => t,
            Some(Ty::Error) | None => Ty::Error,
            Some(other) => {
                self.error(
                    Code::WrongKind,
                    c.enum_name.span,
                    format!("`{other}` is not an enum"),
                    "classify needs an enum",
                );
                Ty::Error
            }
        };
        let events = self.events(&c.events);
        let scope = self.rule_scope(&events);
        for arm in &c.arms {
            self.arm_variant(&enum_ty, &arm.variant);
            self.expect(&arm.cond, &Ty::Bool, &scope);
        }
        match &c.otherwise {
            Some(v) => self.arm_variant(&enum_ty, v),
            None => {
                self.error(Code::MissingOtherwise, c.enum_name.span, "`classify` has no `otherwise` arm", "not total")
                    .help = Some("add `otherwise Triage` (or another class) as the last arm, so every ticket gets a class".into());
            }
        }
    }

    pub(crate) fn arm_variant(&mut self, enum_ty: &Ty, v: &Ident) {
        let Some(def) = enum_ty.enum_def() else {
            return;
        };
        let variants = self.index.enum_variants(def).cloned().unwrap_or_default();
        if !variants.contains(&v.name) {
            let vs: Vec<&str> = variants.iter().map(String::as_str).collect();
            let d = self.error(
                Code::UnknownVariant,
                v.span,
                format!("`{}` has no variant `{}`", def.name, v.name),
                "unknown variant",
            );
            d.help = Some(did_you_mean(&v.name, &vs, "its variants are"));
        }
    }

    pub(crate) fn check_owners(&mut self, o: &OwnersDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for arm in &o.arms {
            self.class_ref(&arm.variant);
            if let Some(first) = seen.insert(&arm.variant.name, arm.variant.span) {
                let file = self.file.clone();
                self.error(
                    Code::DuplicateClause,
                    arm.variant.span,
                    format!("class `{}` has two owners", arm.variant.name),
                    "second owner",
                )
                .secondary
                .push(Label::new(&file, first, "first owner here"));
            }
            self.op_ref(OpKind::Team, &arm.owner);
            match &arm.escalate {
                Some(e) => {
                    self.op_ref(OpKind::Team, e);
                }
                None => {
                    self.error(
                        Code::MissingEscalation,
                        arm.span,
                        format!("class `{}` has no escalation owner", arm.variant.name),
                        "no `escalate`",
                    )
                    .help = Some(format!(
                        "write `{} -> {} escalate TEAM`",
                        arm.variant.name, arm.owner.name
                    ));
                }
            }
        }
        if let Some(ack) = &o.acknowledge {
            let t = self.check(ack, None, &Scope::default());
            if !t.is_duration_like() {
                self.error(
                    Code::TypeMismatch,
                    ack.span,
                    format!("expected a duration, found `{t}`"),
                    "not a duration",
                )
                .help = Some("write a duration such as `30m` or `4 business hours`".into());
            }
        }
    }

    pub(crate) fn check_route(&mut self, r: &RouteDecl) {
        let events = self.events(&r.events);
        let scope = self.rule_scope(&events);
        if let Some(c) = &r.cond {
            self.expect(c, &Ty::Bool, &scope);
        }
        let mut assigns = 0;
        let mut priorities = 0;
        let mut keys = 0;
        let mut rebalances = 0;
        for c in &r.clauses {
            match c {
                RouteClause::Assign(a) => {
                    assigns += 1;
                    if assigns == 2 {
                        self.error(
                            Code::DuplicateClause,
                            a.span,
                            "a route assigns once",
                            "second `assign`",
                        );
                    }
                    self.target(&a.target, false);
                    if let Some(s) = &a.strategy {
                        if !matches!(s.name.as_str(), "round_robin" | "least_open") {
                            self.error(
                                Code::UnknownName,
                                s.span,
                                format!("unknown assignment strategy `{}`", s.name),
                                "not a strategy",
                            )
                            .help = Some("use `by round_robin` or `by least_open`".into());
                        } else if matches!(a.target, Target::Person(_)) {
                            self.error(Code::TypeMismatch, s.span, "a strategy needs a team", "assigning a person")
                                .help = Some("strategies pick a member of a team; remove `by …` to assign the person".into());
                        }
                    }
                }
                RouteClause::Key(exprs) => {
                    keys += 1;
                    if keys == 2 {
                        self.error(
                            Code::DuplicateClause,
                            exprs.first().map_or(r.name.span, |e| e.span),
                            "`key` given twice",
                            "second key",
                        );
                    }
                    for e in exprs {
                        self.check(e, None, &scope);
                    }
                }
                RouteClause::Notify(n) => self.notify_clause(n),
                RouteClause::Rebalance(span) => {
                    rebalances += 1;
                    if rebalances == 2 {
                        self.error(
                            Code::DuplicateClause,
                            *span,
                            "`rebalance` given twice",
                            "second rebalance",
                        );
                    }
                    let person = r.clauses.iter().any(|c| {
                        matches!(c, RouteClause::Assign(a) if matches!(a.target, Target::Person(_)))
                    });
                    if person {
                        self.error(Code::TypeMismatch, *span, "`rebalance` needs a team", "the route assigns a person")
                            .help = Some("`rebalance` makes a team assignment choose again each time the route fires; a person is always the same".into());
                    }
                }
                RouteClause::Priority { span, .. } => {
                    priorities += 1;
                    if priorities == 2 {
                        self.error(
                            Code::DuplicateClause,
                            *span,
                            "`priority` given twice",
                            "second priority",
                        );
                    }
                }
            }
        }
        if assigns == 0 {
            self.error(
                Code::AutomationStructure,
                r.name.span,
                format!("route `{}` assigns nobody", r.name.name),
                "no `assign`",
            )
            .help = Some(
                "add `assign TEAM`, `assign TEAM by round_robin` or `assign \"person@agency.io\"`"
                    .into(),
            );
        }
    }

    // --- SLA -----------------------------------------------------------------------------------

    pub(crate) fn sla_actions(&mut self, actions: &[SlaAction], allow_deny: bool) {
        for a in actions {
            match a {
                SlaAction::Escalate(_) => {}
                SlaAction::Deny(s) if !allow_deny => {
                    self.error(
                        Code::WrongKind,
                        *s,
                        "`deny` applies only to gate expiry",
                        "not here",
                    );
                }
                SlaAction::Deny(_) => {}
                SlaAction::Notify(t) => self.target(t, true),
                SlaAction::Assign(t) => self.target(t, false),
            }
        }
    }

    pub(crate) fn check_sla(&mut self, s: &SlaDecl) {
        for c in &s.classes {
            self.class_ref(c);
        }
        let all_events: Vec<Ty> = Vec::new();
        let fact_scope = self.rule_scope(&all_events);
        let mut counts: BTreeMap<&str, (usize, Span)> = BTreeMap::new();
        for c in &s.clauses {
            let (kw, span) = match c {
                SlaClause::Start(t) => ("start", t.span),
                SlaClause::Stop(t) => ("stop", t.span),
                SlaClause::Reset(t) => ("reset", t.span),
                SlaClause::Pause { span, .. } => ("pause", *span),
                SlaClause::Target(SlaTarget::Fixed(e)) => ("target", e.span),
                SlaClause::Target(SlaTarget::By { span, .. }) => ("target", *span),
                SlaClause::Calendar(i) => ("calendar", i.span),
                SlaClause::Warn { span, .. } => ("warn", *span),
                SlaClause::Breach { span, .. } => ("breach", *span),
            };
            let entry = counts.entry(kw).or_insert((0, span));
            entry.0 += 1;
            if entry.0 == 2 && matches!(kw, "target" | "calendar" | "pause" | "breach") {
                self.error(
                    Code::DuplicateClause,
                    span,
                    format!("`{kw}` given twice"),
                    "second clause",
                )
                .help = Some(format!("an SLA has one `{kw}`; merge the two"));
            }
            match c {
                SlaClause::Start(t) | SlaClause::Stop(t) | SlaClause::Reset(t) => {
                    let evs = self.events(std::slice::from_ref(&t.event));
                    if let Some(cond) = &t.cond {
                        let scope = self.rule_scope(&evs);
                        self.expect(cond, &Ty::Bool, &scope);
                    }
                }
                SlaClause::Pause { cond, .. } => {
                    self.expect(cond, &Ty::Bool, &fact_scope);
                }
                SlaClause::Target(SlaTarget::Fixed(e)) => self.duration_value(e),
                SlaClause::Target(SlaTarget::By { field, arms, span }) => {
                    let ft = self.check(field, None, &fact_scope);
                    for arm in arms {
                        self.duration_value(&arm.value);
                    }
                    self.patterns(
                        *span,
                        &ft,
                        arms.iter().map(|a| &a.pattern).collect(),
                        "target by",
                    );
                }
                SlaClause::Calendar(i) => {
                    self.op_ref(OpKind::Calendar, i);
                }
                SlaClause::Warn { at, actions, .. } => {
                    self.percent_value(at);
                    self.sla_actions(actions, false);
                }
                SlaClause::Breach { actions, .. } => self.sla_actions(actions, false),
            }
        }
        if !counts.contains_key("start") {
            self.error(
                Code::SlaStructure,
                s.name.span,
                format!("SLA `{}` never starts", s.name.name),
                "no `start on`",
            )
            .help =
                Some("add `start on TicketCreated` (or the event that starts the clock)".into());
        }
        if !counts.contains_key("target") {
            self.error(
                Code::SlaStructure,
                s.name.span,
                format!("SLA `{}` has no target", s.name.name),
                "no `target`",
            )
            .help = Some(
                "add `target 4h` or `target by ticket.tier { Gold -> 1h, _ -> 1 business day }`"
                    .into(),
            );
        }
        if !counts.contains_key("breach") {
            self.error(
                Code::SlaWithoutBreach,
                s.name.span,
                format!("SLA `{}` has no breach action", s.name.name),
                "nothing happens on breach",
            )
            .help = Some(
                "add `breach -> escalate` (or `notify …`) so a missed target reaches someone"
                    .into(),
            );
        }
    }

    pub(crate) fn duration_value(&mut self, e: &Expr) {
        let t = self.check(e, None, &Scope::default());
        if !t.is_duration_like() {
            self.error(
                Code::TypeMismatch,
                e.span,
                format!("expected a duration, found `{t}`"),
                "not a duration",
            )
            .help = Some("write a duration such as `4h` or `2 business days`".into());
        }
    }

    pub(crate) fn percent_value(&mut self, e: &Expr) {
        self.expect(e, &Ty::Percent, &Scope::default());
        if let ExprKind::Percent(p) = &e.kind
            && p.parse::<f64>().is_ok_and(|v| !(0.0..=100.0).contains(&v))
        {
            self.error(
                Code::OutOfRange,
                e.span,
                format!("{p}% is not between 0% and 100%"),
                "out of range",
            );
        }
    }
}
