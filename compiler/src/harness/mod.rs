//! The test harness (brief §3.10, §7.12): runs `test` blocks on the real runtime in
//! simulated time, and acceptance sets over labelled samples.
//!
//! Each test gets a fresh engine built from the same program a bundle carries. `at` and
//! `advance` move the engine's clock (firing due timers exactly as `meshline run` does);
//! `given` stamps the event with the test clock and a fresh id; after every step the
//! harness answers each new action command with `ActionSucceeded` (or `ActionFailed` for a
//! stubbed action), until the sagas settle.

pub mod acceptance;
pub mod report;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use jiff::Timestamp;
use meshline_runtime::engine::{Engine, Envelope};
use meshline_runtime::ir::Program;
use meshline_runtime::ledger::Entry;
use meshline_runtime::value::Value;
use serde_json::{Value as Json, json};

use crate::diagnostics::{Diagnostic, FileName};
use crate::lower::tests::{Acceptance, Expect, StepKind, TestCase};
use crate::source::Span;
use crate::{ProjectFiles, ProjectLoadError};

/// A project's tests, ready to run.
pub struct Suite {
    pub project: ProjectFiles,
    pub diagnostics: Vec<Diagnostic>,
    pub program: Option<Arc<Program>>,
    pub tests: Vec<TestCase>,
    pub acceptance: Vec<Acceptance>,
}

/// Load, check and lower a project and its tests.
pub fn load(path: &Path) -> Result<Suite, ProjectLoadError> {
    let project = crate::project::load(path)?;
    let (diagnostics, lowered) = crate::with_large_stack(|| {
        let database = crate::db::Database::default();
        let handle = crate::db::load_project(&database, &project);
        let mut diags = project.diagnostics.clone();
        diags.extend(crate::db::project_diagnostics(&database, handle));
        crate::diagnostics::sort(&mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            return (diags, None);
        }
        (
            diags,
            Some(crate::db::lower_with_tests(
                &database,
                handle,
                &project.manifest,
            )),
        )
    });
    let (program, tests, acceptance) = match lowered {
        Some((p, t, a)) => (Some(Arc::new(p)), t, a),
        None => (None, Vec::new(), Vec::new()),
    };
    Ok(Suite {
        project,
        diagnostics,
        program,
        tests,
        acceptance,
    })
}

/// Why a test failed: a message, the step it failed at, and the case's recent ledger.
#[derive(Clone, Debug)]
pub struct Failure {
    pub message: String,
    /// `file:line:column` of the failing step (filled in by [`locate`]).
    pub location: String,
    pub file: FileName,
    pub span: Span,
    pub ledger: Vec<String>,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub name: String,
    pub file: FileName,
    pub failure: Option<Failure>,
    pub millis: f64,
    /// Rule names that wrote ledger entries (for coverage).
    pub rules: BTreeSet<String>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

struct Run<'p> {
    engine: Engine,
    test: &'p TestCase,
    ledger: Vec<Entry>,
    stubs: HashMap<String, bool>,
    answered: HashSet<String>,
    now: Option<Timestamp>,
    case: Option<String>,
    events: u64,
}

impl Run<'_> {
    fn fail(&self, span: Span, message: String) -> Failure {
        let case = self.case.as_deref();
        let mut lines: Vec<String> = self
            .ledger
            .iter()
            .filter(|e| case.is_none() || e.case.as_deref() == case)
            .map(|e| {
                format!(
                    "#{} {} {} {}{}",
                    e.seq,
                    e.at,
                    e.kind,
                    e.rule
                        .as_deref()
                        .map(|r| format!("[{r}] "))
                        .unwrap_or_default(),
                    e.detail
                )
            })
            .collect();
        if lines.len() > 12 {
            lines.drain(..lines.len() - 12);
        }
        Failure {
            message,
            location: String::new(),
            file: self.test.file.clone(),
            span,
            ledger: lines,
        }
    }

    /// Answer new action commands until nothing new is issued.
    fn settle(&mut self) {
        for _ in 0..64 {
            let (entries, commands) = self.engine.drain();
            self.ledger.extend(entries);
            let mut answered_any = false;
            for c in commands {
                if c.body.get("kind").and_then(Json::as_str) != Some("action") {
                    continue;
                }
                let key = c
                    .body
                    .get("key")
                    .and_then(Json::as_str)
                    .unwrap_or_default()
                    .to_string();
                if !self.answered.insert(key.clone()) {
                    continue;
                }
                answered_any = true;
                let action = format!(
                    "{}.{}",
                    c.body
                        .get("connector")
                        .and_then(Json::as_str)
                        .unwrap_or_default(),
                    c.body
                        .get("action")
                        .and_then(Json::as_str)
                        .unwrap_or_default()
                );
                let case = c.body.get("case").cloned().unwrap_or(Json::Null);
                self.events += 1;
                let at = self.now.map(|t| t.to_string()).unwrap_or_default();
                let envelope = match self.stubs.get(&action) {
                    Some(retryable) => {
                        json!({ "id": format!("outcome-{}", self.events), "type": "ActionFailed", "at": at, "case": case,
                        "data": { "key": key, "action": action, "retryable": retryable, "reason": "stubbed failure" } })
                    }
                    None => {
                        json!({ "id": format!("outcome-{}", self.events), "type": "ActionSucceeded", "at": at, "case": case,
                        "data": { "key": key, "action": action } })
                    }
                };
                self.engine.apply_json(&envelope);
            }
            if !answered_any {
                return;
            }
        }
    }

    fn case_entries<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        let case = self.case.clone();
        self.ledger
            .iter()
            .filter(move |e| e.kind == kind && e.case == case)
    }

    /// Every entry of the case, in ledger order.
    fn case_entries_all(&self) -> impl Iterator<Item = &Entry> + '_ {
        let case = self.case.clone();
        self.ledger.iter().filter(move |e| e.case == case)
    }

    fn check(&self, e: &Expect) -> Result<(), String> {
        let case = self.case.clone().unwrap_or_default();
        let view = self.engine.case_view(&case);
        let text = |d: &Json, k: &str| d.get(k).and_then(Json::as_str).map(str::to_string);
        let show = |o: Option<String>| o.unwrap_or_else(|| "nobody".into());
        match e {
            Expect::Assigned(x) => {
                let a = view.as_ref().and_then(|v| v.assignee.clone());
                (a.as_deref() == Some(x.as_str())).then_some(()).ok_or_else(|| format!("expected case {case} assigned to {x}, but it is assigned to {}", show(a)))
            }
            Expect::Owner(x) => {
                let o = view.as_ref().and_then(|v| v.owner.clone());
                (o.as_deref() == Some(x.as_str())).then_some(()).ok_or_else(|| format!("expected case {case} owned by {x}, but its owner is {}", show(o)))
            }
            Expect::Class(c) => {
                let k = view.as_ref().and_then(|v| v.class.clone());
                (k.as_deref() == Some(c.as_str())).then_some(()).ok_or_else(|| format!("expected class {c}, but case {case} is {}", k.unwrap_or_else(|| "unclassified".into())))
            }
            Expect::Held { action, gate } => {
                let hit = self.case_entries("held").any(|en| {
                    action.as_ref().is_none_or(|a| text(&en.detail, "action").as_deref() == Some(a.as_str()))
                        && gate.as_ref().is_none_or(|g| en.detail.get("gates").and_then(Json::as_array).is_some_and(|gs| gs.iter().any(|x| x.as_str() == Some(g))))
                });
                let what = action.as_deref().unwrap_or("a step");
                hit.then_some(()).ok_or_else(|| match gate {
                    Some(g) => format!("expected {what} held by {g}, but no such `held` entry exists for case {case}"),
                    None => format!("expected {what} held, but no such `held` entry exists for case {case}"),
                })
            }
            Expect::NotExecuted(a) => {
                let ran = self.case_entries("executed").any(|en| text(&en.detail, "action").as_deref() == Some(a.as_str()));
                (!ran).then_some(()).ok_or_else(|| format!("expected {a} not executed for case {case}, but it was"))
            }
            Expect::Refused(g) => self
                .case_entries("refused")
                .any(|en| g.as_ref().is_none_or(|g| en.rule.as_deref() == Some(g.as_str())))
                .then_some(())
                .ok_or_else(|| match g {
                    Some(g) => format!("expected a grant for gate {g} refused on case {case}, but none was"),
                    None => format!("expected something refused on case {case}, but nothing was"),
                }),
            Expect::Released(a) => {
                // A held step is released when its action is executed after the hold.
                let mut held: Vec<String> = Vec::new();
                let mut released = false;
                for en in self.case_entries_all() {
                    let action = text(&en.detail, "action");
                    let wanted = a.as_ref().is_none_or(|a| action.as_deref() == Some(a.as_str()));
                    match (en.kind.as_str(), action) {
                        ("held", Some(x)) if wanted => held.push(x),
                        ("executed", Some(x)) if held.contains(&x) => released = true,
                        _ => {}
                    }
                }
                let what = a.as_deref().unwrap_or("a held step");
                released.then_some(()).ok_or_else(|| format!("expected {what} released for case {case}, but it was not executed after a hold"))
            }
            Expect::Executed(a) => self
                .case_entries("executed")
                .any(|en| text(&en.detail, "action").as_deref() == Some(a.as_str()))
                .then_some(())
                .ok_or_else(|| format!("expected {a} executed for case {case}, but it was not")),
            Expect::ExecutedTimes(a, n) => {
                let got = self
                    .case_entries("executed")
                    .filter(|en| text(&en.detail, "action").as_deref() == Some(a.as_str()))
                    .count();
                (got == *n as usize).then_some(()).ok_or_else(|| {
                    format!("expected {a} executed {n} time(s) for case {case}, but it was executed {got} time(s)")
                })
            }
            Expect::Shadowed(a) => self
                .case_entries("shadowed")
                .any(|en| text(&en.detail, "action").as_deref() == Some(a.as_str()))
                .then_some(())
                .ok_or_else(|| format!("expected {a} shadowed for case {case}, but it was not")),
            Expect::Escalated(n) => self
                .case_entries("escalated")
                .any(|en| n.as_ref().is_none_or(|n| en.rule.as_deref() == Some(n.as_str())))
                .then_some(())
                .ok_or_else(|| match n {
                    Some(n) => format!("expected case {case} escalated by {n}, but it was not"),
                    None => format!("expected case {case} escalated, but it was not"),
                }),
            Expect::Notified(x) => self
                .case_entries("notified")
                .any(|en| text(&en.detail, "to").as_deref() == Some(x.as_str()))
                .then_some(())
                .ok_or_else(|| format!("expected {x} notified about case {case}, but no such notification was recorded")),
            Expect::Sla { name, state } => {
                let s = view.as_ref().and_then(|v| v.slas.iter().find(|(n, _)| n == name).map(|(_, s)| *s)).unwrap_or("not started");
                (s == state).then_some(()).ok_or_else(|| format!("expected sla {name} {state}, but it is {s}"))
            }
            Expect::Status(want) => {
                // A case the test gave an event for and the engine no longer holds was evicted.
                let s = view.as_ref().map_or("evicted", |v| v.status);
                (s == want).then_some(()).ok_or_else(|| format!("expected case {case} {want}, but it is {s}"))
            }
            Expect::Stage { automation, stage } => {
                // Compared as the runtime writes stages (`12.50%` is `12.5%`).
                let want = crate::semantic::rollout::stage_text(stage);
                let now = self.engine.rollout_stages().into_iter().find(|(a, _, _)| a == automation).map(|(_, s, _)| s);
                match now {
                    Some(s) if s == want => Ok(()),
                    Some(s) => Err(format!("expected automation {automation} at stage {want}, but it is at {s}")),
                    None => Err(format!("expected automation {automation} at stage {want}, but it has no staged rollout")),
                }
            }
            Expect::NoAction => {
                let done: Vec<String> = self.case_entries("executed").filter_map(|en| text(&en.detail, "action")).collect();
                done.is_empty().then_some(()).ok_or_else(|| format!("expected no action for case {case}, but {} executed", done.join(", ")))
            }
        }
    }
}

/// Run one test on a fresh engine.
pub fn run_test(program: &Arc<Program>, test: &TestCase) -> Outcome {
    let start = Instant::now();
    let mut outcome = Outcome {
        name: test.name.clone(),
        file: test.file.clone(),
        failure: None,
        millis: 0.0,
        rules: BTreeSet::new(),
    };
    let engine = match Engine::new((**program).clone(), "test") {
        Ok(e) => e,
        Err(e) => {
            outcome.failure = Some(Failure {
                message: format!("cannot load the program: {e}"),
                location: String::new(),
                file: test.file.clone(),
                span: test.span,
                ledger: Vec::new(),
            });
            return outcome;
        }
    };
    let mut run = Run {
        engine,
        test,
        ledger: Vec::new(),
        stubs: HashMap::new(),
        answered: HashSet::new(),
        now: None,
        case: None,
        events: 0,
    };
    for step in &test.steps {
        let result: Result<(), String> = match &step.kind {
            StepKind::At(t) => match t.parse::<Timestamp>() {
                Ok(t) if run.now.is_some_and(|n| t < n) => {
                    Err(format!("`at {t}` moves the clock backwards"))
                }
                Ok(t) => {
                    run.engine.advance_to(t);
                    run.now = Some(t);
                    run.settle();
                    Ok(())
                }
                Err(e) => Err(format!("invalid time: {e}")),
            },
            StepKind::Advance(secs) => match run
                .now
                .and_then(|n| n.checked_add(jiff::SignedDuration::from_secs(*secs)).ok())
            {
                Some(t) => {
                    run.engine.advance_to(t);
                    run.now = Some(t);
                    run.settle();
                    Ok(())
                }
                None => Err("`advance` before the first `at`".into()),
            },
            StepKind::Given { event, case, value } => given(&mut run, event, case.as_ref(), value),
            StepKind::Stub { action, retryable } => {
                run.stubs.insert(action.clone(), *retryable);
                Ok(())
            }
            StepKind::Expect(e) => run.check(e),
        };
        if let Err(message) = result {
            outcome.failure = Some(run.fail(step.span, message));
            break;
        }
    }
    let (entries, _) = run.engine.drain();
    run.ledger.extend(entries);
    // Coverage: every rule that wrote an entry, plus every gate that held an action and the
    // automation whose step it held (a `held` entry names only the first gate as its rule).
    for e in &run.ledger {
        outcome.rules.extend(e.rule.clone());
        if e.kind == "held" {
            outcome.rules.extend(
                e.detail
                    .get("automation")
                    .and_then(Json::as_str)
                    .map(str::to_string),
            );
            for g in e
                .detail
                .get("gates")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                outcome.rules.extend(g.as_str().map(str::to_string));
            }
        }
    }
    outcome.millis = start.elapsed().as_secs_f64() * 1000.0;
    outcome
}

fn given(
    run: &mut Run<'_>,
    event: &str,
    case: Option<&meshline_runtime::ir::Expr>,
    value: &meshline_runtime::ir::Expr,
) -> Result<(), String> {
    let Some(now) = run.now else {
        return Err("`given` before the first `at`".into());
    };
    let Some(id) = run.engine.event_named(event) else {
        return Err(format!("`{event}` is not receivable by this project"));
    };
    if let Some(c) = case {
        match run.engine.evaluate(c) {
            Ok(Value::Str(s)) => run.case = Some(s.to_string()),
            Ok(other) => return Err(format!("`case:` must be a string, found {other:?}")),
            Err(e) => return Err(format!("cannot evaluate `case:`: {e}")),
        }
    }
    let Some(case) = run.case.clone() else {
        return Err("the first `given` needs a `case:`".into());
    };
    let values = match run.engine.evaluate(value) {
        Ok(Value::Record(items)) => items.to_vec(),
        Ok(other) => return Err(format!("the event value is not a record: {other:?}")),
        Err(e) => return Err(format!("cannot evaluate the event: {e}")),
    };
    run.events += 1;
    run.engine.apply(Envelope {
        id: format!("test-event-{}", run.events),
        event: id,
        at: now,
        case,
        values,
    });
    run.settle();
    Ok(())
}

/// Fill in each failure's `file:line:column` from the sources.
pub fn locate(outcomes: &mut [Outcome], sources: &dyn crate::diagnostics::SourceMap) {
    for f in outcomes.iter_mut().filter_map(|o| o.failure.as_mut()) {
        f.location = match sources.text(&f.file) {
            Some(text) => {
                let pos = crate::source::LineIndex::new(text).char_pos(text, f.span.start as usize);
                format!("{}:{}:{}", f.file, pos.line + 1, pos.col + 1)
            }
            None => f.file.to_string(),
        };
    }
}

/// Run tests in parallel on all cores; results in the tests' order.
pub fn run_all(program: &Arc<Program>, tests: &[&TestCase]) -> Vec<Outcome> {
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(tests.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Outcome>>> =
        std::sync::Mutex::new(vec![None; tests.len()]);
    std::thread::scope(|s| {
        for _ in 0..workers {
            // Evaluation recurses over (bounded) expression depth: give workers room.
            let _ = std::thread::Builder::new()
                .stack_size(64 * 1024 * 1024)
                .spawn_scoped(s, || {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(t) = tests.get(i) else { break };
                        let o = run_test(program, t);
                        if let Ok(mut r) = results.lock() {
                            r[i] = Some(o);
                        }
                    }
                });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}
