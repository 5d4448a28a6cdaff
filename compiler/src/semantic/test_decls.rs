//! Checking `test` blocks and acceptance sets (brief §3.10, §7.12): step order, `given`
//! events, and expectations that name real teams, gates, SLA policies and actions, so a
//! mistake is a compile error rather than a failing test.

use super::expr::{Cx, Scope};
use super::index::OpKind;
use super::types::Ty;
use crate::diagnostics::Code;
use crate::syntax::ast::*;

impl Cx<'_> {
    // --- tests -----------------------------------------------------------------------------------

    pub(crate) fn check_test(&mut self, t: &TestDecl) {
        let mut clock_set = false;
        let mut given_seen = false;
        for step in &t.steps {
            match step {
                TestStep::At { time, .. } => {
                    self.expect(time, &Ty::Time, &Scope::default());
                    clock_set = true;
                }
                TestStep::Advance { by, span } => {
                    if !clock_set {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`advance` before the first `at`",
                            "the clock is not set yet",
                        )
                        .help = Some("start the test with `at 2026-03-02T10:00:00Z`".into());
                    }
                    self.expect(by, &Ty::Duration, &Scope::default());
                }
                TestStep::Given { event, span } => {
                    if !clock_set {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`given` before the first `at`",
                            "the clock is not set yet",
                        )
                        .help = Some("start the test with `at 2026-03-02T10:00:00Z`".into());
                    }
                    self.check_given(event, given_seen);
                    given_seen = true;
                }
                TestStep::Stub { action, .. } => {
                    self.action_ref(action);
                }
                TestStep::Expect { expectation, span } => {
                    if matches!(
                        expectation,
                        Expectation::Held {
                            action: None,
                            gate: None
                        }
                    ) {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`expect held` names nothing",
                            "held what?",
                        )
                        .help = Some(
                            "write `expect held stripe.refund`, `expect held by GATE` or both"
                                .into(),
                        );
                    }
                    if !given_seen && !matches!(expectation, Expectation::NoAction(_)) {
                        self.error(
                            Code::TestStructure,
                            *span,
                            "`expect` before any `given`",
                            "no case yet",
                        )
                        .help = Some(
                            "expectations speak of the case of the most recent `given`".into(),
                        );
                    }
                    self.check_expectation(expectation);
                }
            }
        }
    }

    pub(crate) fn check_given(&mut self, event: &Expr, case_known: bool) {
        let ExprKind::Record {
            ty: Some(path),
            spread,
            fields,
        } = &event.kind
        else {
            self.error(
                Code::TestStructure,
                event.span,
                "`given` takes an event, e.g. `TicketCreated { … }`",
                "not an event",
            );
            return;
        };
        let names: Vec<String> = path.segments.iter().map(|s| s.name.clone()).collect();
        let Some(ty) = self.resolve_type_path(&names, path.span) else {
            return;
        };
        let Ty::Event(def) = &ty else {
            if !ty.is_error() {
                self.error(
                    Code::WrongKind,
                    path.span,
                    format!("`{}` is not an event", path.dotted()),
                    "not an event",
                );
            }
            return;
        };
        if !self.index.is_receivable(def) && !def.module.starts_with("std.") {
            self.error(
                Code::WrongKind,
                path.span,
                format!("`{}` cannot be received by this project", def.name),
                "not receivable",
            );
        }
        // `case:` names the envelope's case (§7.12); the rest are the event's fields.
        let mut rest = Vec::new();
        let mut has_case = false;
        for f in fields {
            if f.name.name == "case" {
                has_case = true;
                self.expect(&f.value, &Ty::String, &Scope::default());
            } else {
                rest.push(f.clone());
            }
        }
        if !has_case && !case_known {
            self.error(
                Code::TestStructure,
                event.span,
                "the first `given` needs a `case:`",
                "which case?",
            )
            .help = Some("add `case: \"T-1\"`; later steps default to the previous case".into());
        }
        self.record(
            event.span,
            Some(path),
            spread.as_deref(),
            &rest,
            None,
            &Scope::default(),
        );
    }

    pub(crate) fn check_expectation(&mut self, e: &Expectation) {
        match e {
            Expectation::Assigned(t) | Expectation::Owner(t) | Expectation::Notified(t) => {
                self.expected_target(e, t)
            }
            Expectation::Class(c) => self.class_ref(c),
            Expectation::Held { action, gate } => {
                if let Some(a) = action {
                    self.action_ref(a);
                }
                if let Some(g) = gate {
                    self.op_ref(OpKind::Gate, g);
                }
            }
            Expectation::Executed(a)
            | Expectation::ExecutedTimes(a, _)
            | Expectation::Shadowed(a)
            | Expectation::NotExecuted(a)
            | Expectation::Released(Some(a)) => {
                self.action_ref(a);
            }
            Expectation::Refused(Some(g)) => {
                self.op_ref(OpKind::Gate, g);
            }
            Expectation::Refused(None) | Expectation::Released(None) => {}
            Expectation::Escalated(Some(id)) => {
                let ok = id.name == "owners"
                    || self.index.op(OpKind::Gate, &id.name).is_some()
                    || self.index.op(OpKind::Sla, &id.name).is_some();
                if !ok {
                    self.error(Code::UnknownName, id.span, format!("`{}` is not a gate, an SLA or `owners`", id.name), "cannot escalate")
                        .help = Some("name the gate or SLA policy that escalated, or `owners` for the acknowledgement timeout".into());
                }
            }
            Expectation::Escalated(None) | Expectation::NoAction(_) => {}
            Expectation::Stage { automation, stage } => {
                self.op_ref(OpKind::Automation, automation);
                if let StageLit::Percent(n, span) = stage
                    && super::rollout::percent_hundredths(n).is_none_or(|v| v == 0)
                {
                    self.error(
                        Code::OutOfRange,
                        *span,
                        format!("{n}% is not a rollout stage"),
                        "out of range",
                    );
                }
            }
            Expectation::Status(s) => {
                if !matches!(s.name.as_str(), "open" | "solved" | "closed" | "evicted") {
                    self.error(
                        Code::UnknownVariant,
                        s.span,
                        format!("`{}` is not a case status", s.name),
                        "unknown status",
                    )
                    .help = Some("write `open`, `solved`, `closed` or `evicted`".into());
                }
            }
            Expectation::Sla { name, state } => {
                self.op_ref(OpKind::Sla, name);
                if !matches!(
                    state.name.as_str(),
                    "running" | "paused" | "met" | "breached"
                ) {
                    self.error(
                        Code::UnknownVariant,
                        state.span,
                        format!("`{}` is not an SLA state", state.name),
                        "unknown state",
                    )
                    .help = Some("SLA states are `running`, `paused`, `met` and `breached`".into());
                }
            }
        }
    }

    /// The team or person an `expect assigned/owner/notified` compares with. The ledger and
    /// the case name real teams and persons, so `assignee` or `owner` there could never
    /// match, and an owner is never a person: such an expectation is refused rather than
    /// left to fail every run (docs/language.md §12.2).
    fn expected_target(&mut self, e: &Expectation, t: &Target) {
        let step = match e {
            Expectation::Assigned(_) => "expect assigned",
            Expectation::Owner(_) => "expect owner",
            _ => "expect notified",
        };
        match t {
            Target::Name(id) if matches!(id.name.as_str(), "assignee" | "owner") => {
                self.error(
                    Code::TestStructure,
                    id.span,
                    format!("`{step} {}` can never pass", id.name),
                    "not a team or a person",
                )
                .help = Some(if matches!(e, Expectation::Owner(_)) {
                    "a test compares with the team it expects by name: write `expect owner billing_ops`".to_string()
                } else {
                    format!(
                        "a test compares with the team or person it expects by name: write `{step} billing_ops` or `{step} \"ana@agency.io\"`"
                    )
                });
            }
            Target::Person(p) if matches!(e, Expectation::Owner(_)) => {
                self.error(
                    Code::TestStructure,
                    p.span,
                    "`expect owner` with a person can never pass",
                    "an owner is a team",
                )
                .help = Some(
                    "owners are teams (from `owners`); to check a person, use `expect assigned`"
                        .into(),
                );
            }
            _ => self.target(t, false),
        }
    }

    pub(crate) fn check_acceptance(&mut self, a: &AcceptanceDecl) {
        self.op_ref(OpKind::Automation, &a.name);
        let mut samples = 0;
        for c in &a.clauses {
            match c {
                AcceptanceClause::Samples(s) => {
                    samples += 1;
                    if s.value.trim().is_empty() {
                        self.error(Code::TestStructure, s.span, "empty samples path", "here");
                    }
                }
                AcceptanceClause::Threshold { metric, value, .. } => {
                    if !matches!(
                        metric.name.as_str(),
                        "precision" | "recall" | "false_positive_rate"
                    ) {
                        self.error(
                            Code::UnknownName,
                            metric.span,
                            format!("unknown metric `{}`", metric.name),
                            "not a metric",
                        )
                        .help = Some(
                            "metrics are `precision`, `recall` and `false_positive_rate`".into(),
                        );
                    }
                    self.percent_value(value);
                }
            }
        }
        if samples != 1 {
            self.error(Code::TestStructure, a.name.span, "an acceptance set needs exactly one `samples \"FILE\"`", "samples")
                .help = Some("add `samples \"acceptance/NAME.jsonl\"` (JSONL of events and the outcome a human chose)".into());
        }
    }
}
