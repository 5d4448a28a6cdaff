//! Lowering `test` and `acceptance` declarations for the harness (brief §3.10, §7.12).
//! Tests are not part of the bundle: they run against the program the bundle carries.

use std::collections::BTreeMap;

use meshline_runtime::ir::{self, Expr as IrExpr};

use super::expr::{LScope, LowerExpr};
use super::{Ids, ModuleInput};
use crate::diagnostics::FileName;
use crate::semantic::index::ProjectIndex;
use crate::source::Span;
use crate::syntax::ast::{
    self, AcceptanceClause, BinOp, Expectation, ExprKind, ItemKind, TestStep,
};

#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub file: FileName,
    pub span: Span,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub struct Step {
    pub span: Span,
    pub kind: StepKind,
}

#[derive(Clone, Debug)]
pub enum StepKind {
    /// Move the clock to this instant (RFC 3339 text, checked by the compiler).
    At(String),
    /// Advance by seconds.
    Advance(i64),
    /// Send an event: its name, the case (if given), and its fields as a record expression.
    Given {
        event: String,
        case: Option<IrExpr>,
        value: IrExpr,
    },
    Stub {
        action: String,
        retryable: bool,
    },
    Expect(Expect),
}

/// Names are as written: teams, persons (lower case), `connector.action`, gates, SLAs.
#[derive(Clone, Debug)]
pub enum Expect {
    Assigned(String),
    Owner(String),
    Class(String),
    Held {
        action: Option<String>,
        gate: Option<String>,
    },
    Executed(String),
    NotExecuted(String),
    Refused(Option<String>),
    Released(Option<String>),
    Shadowed(String),
    Escalated(Option<String>),
    Notified(String),
    Sla {
        name: String,
        state: String,
    },
    Status(String),
    NoAction,
    /// The automation's current rollout stage, as written (`shadow`, `10%`).
    Stage {
        automation: String,
        stage: String,
    },
    /// Exactly this many `executed` entries for the action.
    ExecutedTimes(String, u32),
}

#[derive(Clone, Debug)]
pub struct Acceptance {
    pub automation: String,
    pub samples: String,
    pub file: FileName,
    pub span: Span,
    /// (metric, `>=`/`<=`/`>`/`<`, threshold in percent).
    pub thresholds: Vec<(String, String, f64)>,
}

fn target(t: &ast::Target) -> String {
    match t {
        ast::Target::Name(i) => i.name.clone(),
        ast::Target::Person(s) => s.value.to_lowercase(),
    }
}

fn expectation(e: &Expectation) -> Expect {
    match e {
        Expectation::Assigned(t) => Expect::Assigned(target(t)),
        Expectation::Owner(t) => Expect::Owner(target(t)),
        Expectation::Class(c) => Expect::Class(c.name.clone()),
        Expectation::Held { action, gate } => Expect::Held {
            action: action.as_ref().map(ast::Path::dotted),
            gate: gate.as_ref().map(|g| g.name.clone()),
        },
        Expectation::Executed(a) => Expect::Executed(a.dotted()),
        Expectation::ExecutedTimes(a, n) => Expect::ExecutedTimes(a.dotted(), *n),
        Expectation::NotExecuted(a) => Expect::NotExecuted(a.dotted()),
        Expectation::Refused(g) => Expect::Refused(g.as_ref().map(|g| g.name.clone())),
        Expectation::Released(a) => Expect::Released(a.as_ref().map(ast::Path::dotted)),
        Expectation::Shadowed(a) => Expect::Shadowed(a.dotted()),
        Expectation::Escalated(n) => Expect::Escalated(n.as_ref().map(|n| n.name.clone())),
        Expectation::Notified(t) => Expect::Notified(target(t)),
        Expectation::Sla { name, state } => Expect::Sla {
            name: name.name.clone(),
            state: state.name.clone(),
        },
        Expectation::Status(s) => Expect::Status(s.name.clone()),
        Expectation::NoAction(_) => Expect::NoAction,
        Expectation::Stage { automation, stage } => Expect::Stage {
            automation: automation.name.clone(),
            stage: stage.text(),
        },
    }
}

/// Lower every test and acceptance set of the project's modules.
pub fn lower_tests(
    index: &ProjectIndex,
    ids: &Ids,
    modules: &[ModuleInput<'_>],
    files: &BTreeMap<String, FileName>,
) -> (Vec<TestCase>, Vec<Acceptance>) {
    let mut tests = Vec::new();
    let mut acceptance = Vec::new();
    for m in modules.iter().filter(|m| !m.is_std) {
        let file = files
            .get(m.module)
            .cloned()
            .unwrap_or_else(|| FileName::from(m.module));
        let l = LowerExpr {
            index,
            ids,
            module: m.module,
            inference: m.inference,
            scope: LScope::None,
            bound: Vec::new(),
        };
        for item in &m.ast.items {
            match &item.kind {
                ItemKind::Test(t) => {
                    let steps = t
                        .steps
                        .iter()
                        .map(|s| match s {
                            TestStep::At { time, span } => Step {
                                span: *span,
                                kind: StepKind::At(match &time.kind {
                                    ExprKind::Timestamp(t) => t.clone(),
                                    _ => String::new(),
                                }),
                            },
                            TestStep::Advance { by, span } => Step {
                                span: *span,
                                kind: StepKind::Advance(match &by.kind {
                                    ExprKind::Duration(s) => *s,
                                    _ => 0,
                                }),
                            },
                            TestStep::Given { event, span } => {
                                let (name, case, value) = match &event.kind {
                                    ExprKind::Record {
                                        ty: Some(p),
                                        spread,
                                        fields,
                                    } => {
                                        let case = fields
                                            .iter()
                                            .find(|f| f.name.name == "case")
                                            .map(|f| l.lower(&f.value));
                                        let rest: Vec<ast::FieldInit> = fields
                                            .iter()
                                            .filter(|f| f.name.name != "case")
                                            .cloned()
                                            .collect();
                                        // The event's own id: the checker typed it.
                                        let record = ast::Expr {
                                            id: event.id,
                                            kind: ExprKind::Record {
                                                ty: Some(p.clone()),
                                                spread: spread.clone(),
                                                fields: rest,
                                            },
                                            span: event.span,
                                        };
                                        (p.last().name.clone(), case, l.lower(&record))
                                    }
                                    _ => (String::new(), None, IrExpr::Lit(ir::Lit::None)),
                                };
                                Step {
                                    span: *span,
                                    kind: StepKind::Given {
                                        event: name,
                                        case,
                                        value,
                                    },
                                }
                            }
                            TestStep::Stub {
                                action,
                                retryable,
                                span,
                            } => Step {
                                span: *span,
                                kind: StepKind::Stub {
                                    action: action.dotted(),
                                    retryable: *retryable,
                                },
                            },
                            TestStep::Expect {
                                expectation: e,
                                span,
                            } => Step {
                                span: *span,
                                kind: StepKind::Expect(expectation(e)),
                            },
                        })
                        .collect();
                    tests.push(TestCase {
                        name: t.name.value.clone(),
                        file: file.clone(),
                        span: t.name.span,
                        steps,
                    });
                }
                ItemKind::Acceptance(a) => {
                    let mut acc = Acceptance {
                        automation: a.name.name.clone(),
                        samples: String::new(),
                        file: file.clone(),
                        span: a.name.span,
                        thresholds: Vec::new(),
                    };
                    for c in &a.clauses {
                        match c {
                            AcceptanceClause::Samples(s) => acc.samples = s.value.clone(),
                            AcceptanceClause::Threshold {
                                metric, op, value, ..
                            } => {
                                let pct = match &value.kind {
                                    ExprKind::Percent(p) => p.parse().unwrap_or(0.0),
                                    _ => 0.0,
                                };
                                let op = match op {
                                    BinOp::Ge => ">=",
                                    BinOp::Le => "<=",
                                    BinOp::Gt => ">",
                                    _ => "<",
                                };
                                acc.thresholds
                                    .push((metric.name.clone(), op.to_string(), pct));
                            }
                        }
                    }
                    acceptance.push(acc);
                }
                _ => {}
            }
        }
    }
    (tests, acceptance)
}
