//! `meshline test` (issue 5; brief §3.10, §7.12, §7.15): the harness's own output for a
//! passing and a failing suite (human, JSON, JUnit XML), `--filter`, `--coverage`,
//! determinism of parallel runs, projects that do not check, and the examples' suites.
//!
//! The fixture projects live in `cli/tests/fixtures/harness/`:
//! - `pass`: every `expect` form, `advance`, fixture spreads, both kinds of stubbed
//!   failure, and an acceptance set (12 samples) whose thresholds hold;
//! - `fail`: five failing tests (wrong assignee, wrong SLA state, an execution that did
//!   not happen twice, `no action` violated), two passing ones, an acceptance set that
//!   misses its precision threshold and one that passes;
//! - `coverage`: one test that leaves an arm, a route, an SLA, two gates and an
//!   automation unexercised;
//! - `broken`: a project whose tests do not type-check.
//!
//! The binary runs with the fixtures folder as its working directory, so every path in
//! the output is relative and the snapshots do not depend on where the repository is.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{self, Out};

mod reports;

// --- helpers ---------------------------------------------------------------------------

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/harness")
}

/// `meshline test ARGS…` in the fixtures folder (NO_COLOR is set by `common`).
fn mtest(args: &[&str]) -> Out {
    common::meshline_in(
        &fixtures(),
        std::iter::once("test").chain(args.iter().copied()),
    )
}

fn snapshot(name: &str, description: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => "../../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => description.to_string(),
        filters => vec![
            // Wall-clock timings are the only non-deterministic part of the output.
            (r#""millis":[0-9.eE+-]+"#, r#""millis":"[millis]""#),
            (r#" time="[0-9.]+""#, r#" time="[time]""#),
        ],
    }, {
        insta::assert_snapshot!(name.to_string(), text);
    });
}

/// The last line of the human output: `N passed, M failed`.
fn summary(out: &Out) -> &str {
    let last = out.stdout.lines().last().unwrap_or_default();
    assert!(
        out.stdout.ends_with('\n'),
        "the output ends with a newline:\n{}",
        out.stdout
    );
    last
}

/// Result lines of the human output: `(ok, name, file)` for tests, in output order.
fn test_lines(stdout: &str) -> Vec<(bool, String, String)> {
    stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (ok, rest) = if let Some(r) = l.strip_prefix("ok   ") {
                (true, r)
            } else if let Some(r) = l.strip_prefix("FAIL ") {
                (false, r)
            } else {
                return None;
            };
            if rest.starts_with("acceptance ") && !rest.ends_with(')') {
                return None;
            }
            let open = rest.rfind(" (").expect("a test line ends with ` (FILE)`");
            Some((
                ok,
                rest[..open].to_string(),
                rest[open + 2..rest.len() - 1].to_string(),
            ))
        })
        .collect()
}

/// Acceptance lines of the human output: `(ok, automation)`.
fn acceptance_lines(stdout: &str) -> Vec<(bool, String)> {
    stdout
        .lines()
        .take_while(|l| !l.is_empty())
        .filter_map(|l| {
            let (ok, rest) = if let Some(r) = l.strip_prefix("ok   ") {
                (true, r)
            } else {
                (false, l.strip_prefix("FAIL ")?)
            };
            let name = rest.strip_prefix("acceptance ")?;
            (!name.contains(' ')).then(|| (ok, name.to_string()))
        })
        .collect()
}

/// The rendered failure report of one test: from its `Error:` header to the next blank
/// line that follows the ledger.
fn failure_report<'a>(stdout: &'a str, test: &str) -> &'a str {
    let header = format!("Error: test \"{test}\" failed\n");
    let start = stdout
        .find(&header)
        .unwrap_or_else(|| panic!("no failure report for {test:?}:\n{stdout}"));
    let rest = &stdout[start..];
    let end = rest.find("\n\n").map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

fn fixture_line(project: &str, file: &str, line: usize) -> String {
    let text = std::fs::read_to_string(fixtures().join(project).join(file)).expect("read fixture");
    text.lines()
        .nth(line - 1)
        .unwrap_or_else(|| panic!("{file} has no line {line}"))
        .trim()
        .to_string()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{stdout}"))
        })
        .collect()
}

/// Removes the `millis` of each JSON line (the only field that changes between runs).
fn without_millis(stdout: &str) -> Vec<Value> {
    let mut lines = json_lines(stdout);
    for l in &mut lines {
        if let Some(o) = l.as_object_mut() {
            o.remove("millis");
        }
    }
    lines
}

/// Removes every `time="…"` attribute of a JUnit file.
fn without_times(xml: &str) -> String {
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find(" time=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let close = after.find('"').expect("a closed attribute");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

const PASSING: [&str; 9] = [
    "a refund ticket is classified, owned and assigned",
    "an urgent ticket goes to the leads by round robin",
    "a large refund is held until finance approves",
    "an unanswered ticket warns at half time and breaches",
    "waiting for the customer pauses first_reply",
    "unacknowledged ownership escalates after 30 minutes",
    "a small refund executes at once",
    "a failed accounting sync is compensated",
    "a retryable refund failure keeps the saga waiting",
];

/// The `fail` fixture's tests in source order: (name, failing `expect` line or 0 if it
/// passes, the text of that line, words its message must contain).
const FAILING: [(&str, usize, &str, &str); 7] = [
    ("a refund ticket goes to support", 0, "", ""),
    (
        "a refund ticket is assigned to the leads",
        18,
        "expect assigned leads",
        "expected case T-2 assigned to leads, but it is assigned to support",
    ),
    (
        "first_reply is met without a reply",
        26,
        "expect sla first_reply met",
        "expected sla first_reply met, but it is running",
    ),
    (
        "the sync runs although the refund keeps failing",
        35,
        "expect executed accounting.sync_refund",
        "expected accounting.sync_refund executed for case T-4, but it was not",
    ),
    (
        "a small refund does nothing",
        42,
        "expect no action",
        "expected no action for case T-5, but stripe.refund, accounting.sync_refund, helpdesk.reply executed",
    ),
    (
        "the customer is told although the sync failed",
        51,
        "expect executed helpdesk.reply",
        "expected helpdesk.reply executed for case T-6, but it was not",
    ),
    ("a large refund is held", 0, "", ""),
];

fn junit(project: &str) -> (Out, String) {
    let dir = common::tempdir();
    let file = dir.path().join("junit.xml");
    let out = mtest(&[project, "--junit", file.to_str().expect("a UTF-8 path")]);
    let xml = std::fs::read_to_string(&file).expect("the JUnit file was written");
    (out, xml)
}

// --- 1. a passing suite ----------------------------------------------------------------

/// The `pass` fixture really uses every step and `expect` form it is meant to cover.
#[test]
fn the_passing_fixture_covers_every_expect_form() {
    let text = std::fs::read_to_string(fixtures().join("pass/rules/tests/flows.mesh"))
        .expect("read the pass fixture");
    for form in [
        "expect assigned support",
        "expect assigned \"sam@example.com\"",
        "expect owner ",
        "expect class ",
        "expect held stripe.refund\n",
        "expect held stripe.refund by refund_approval",
        "expect executed ",
        "expect shadowed ",
        "expect escalated\n",
        "expect escalated owners",
        "expect escalated refund_approval",
        "expect escalated first_reply",
        "expect notified support",
        "expect notified \"oncall@example.com\"",
        "expect sla first_reply running",
        "expect sla first_reply paused",
        "expect sla first_reply met",
        "expect sla first_reply breached",
        "expect no action",
        "advance ",
        "..refund_ticket,",
        "stub accounting.sync_refund fails\n",
        "stub stripe.refund fails retryable",
    ] {
        assert!(text.contains(form), "the pass fixture lacks `{form}`");
    }
    let samples = std::fs::read_to_string(fixtures().join("pass/acceptance/refunds.jsonl"))
        .expect("read the samples");
    let lines = common::event_lines(&samples);
    assert!(lines.len() >= 10, "at least 10 samples");
    for l in lines {
        let v: Value = serde_json::from_str(l).expect("a sample is JSON");
        assert!(v["case"].is_string() && v["events"].is_array());
        assert!(["executed", "held", "human"].contains(&v["expected"].as_str().unwrap()));
    }
}

#[test]
fn passing_suite_human_output() {
    let out = mtest(&["pass"]);
    out.assert_code(0, "meshline test pass");
    assert_eq!(out.stderr, "", "nothing on stderr");
    assert_eq!(summary(&out), "10 passed, 0 failed");
    let tests = test_lines(&out.stdout);
    let names: Vec<&str> = tests.iter().map(|(_, n, _)| n.as_str()).collect();
    assert_eq!(names, PASSING, "one line per test, in source order");
    assert!(
        tests
            .iter()
            .all(|(ok, _, f)| *ok && f == "rules/tests/flows.mesh")
    );
    assert_eq!(
        acceptance_lines(&out.stdout),
        [(true, "refund_small".to_string())]
    );
    assert!(!out.stdout.contains("Error:"), "no failure reports");
    assert!(out.stdout.contains(
        "acceptance refund_small: 12 samples, precision 100.0%, recall 83.3%, false positive rate 0.0%\n  confusion (expected → predicted): executed→executed: 5; executed→human: 1; held→held: 3; human→human: 3;\n"
    ));
    snapshot(
        "harness_pass_human",
        "meshline test pass (NO_COLOR=1)",
        &out.stdout,
    );
}

// --- 2. a failing suite ----------------------------------------------------------------

#[test]
fn failing_suite_human_output() {
    let out = mtest(&["fail"]);
    out.assert_code(1, "meshline test fail");
    assert_eq!(out.stderr, "", "nothing on stderr");
    assert_eq!(summary(&out), "3 passed, 6 failed");

    let tests = test_lines(&out.stdout);
    assert_eq!(tests.len(), FAILING.len());
    for ((ok, name, file), (want, line, _, _)) in tests.iter().zip(FAILING) {
        assert_eq!(name, want, "tests in source order");
        assert_eq!(file, "rules/tests/failing.mesh");
        assert_eq!(*ok, line == 0, "{name}: ok/FAIL");
    }
    assert_eq!(
        acceptance_lines(&out.stdout),
        [
            (false, "refund_small".to_string()),
            (true, "billing_ack".to_string())
        ]
    );

    // One report per failing test, in test order, each pointing at its `expect` line.
    let mut last = 0;
    for (name, line, text, message) in FAILING.iter().filter(|f| f.1 > 0) {
        assert_eq!(
            &fixture_line("fail", "rules/tests/failing.mesh", *line),
            text,
            "the fixture's line {line} moved"
        );
        let report = failure_report(&out.stdout, name);
        let at = out.stdout.find(report).unwrap();
        assert!(at > last, "reports follow the order of the tests");
        last = at;
        assert!(
            report.contains(&format!("─[ rules/tests/failing.mesh:{line}:3 ]")),
            "{name}: the report names line {line}:\n{report}"
        );
        assert!(
            report.contains(&format!(" {line} │   {text}\n")),
            "{name}: the snippet shows the expect line:\n{report}"
        );
        assert!(
            report.contains(message),
            "{name}: message {message:?}:\n{report}"
        );
        assert!(
            report.contains("  the case's ledger (latest entries):\n"),
            "{name}: the ledger follows:\n{report}"
        );
        let ledger: Vec<&str> = report
            .lines()
            .skip_while(|l| !l.starts_with("  the case's ledger"))
            .skip(1)
            .collect();
        assert!(
            !ledger.is_empty() && ledger.len() <= 12,
            "{name}: 1..=12 ledger lines"
        );
        assert!(ledger.iter().all(|l| l.starts_with("    #")));
    }
    // A test stops at its first failing step: the later `expect owner leads` is not run.
    assert!(!out.stdout.contains("owned by leads"));
    // The ledger shows what happened instead.
    let retry = failure_report(
        &out.stdout,
        "the sync runs although the refund keeps failing",
    );
    assert!(retry.contains(r#"failed {"action":"stripe.refund","key":"#));
    assert!(retry.contains(r#""reason":"stubbed failure","retryable":true}"#));
    let comp = failure_report(&out.stdout, "the customer is told although the sync failed");
    assert!(comp.contains(r#""reason":"stubbed failure","retryable":false}"#));
    assert!(comp.contains(r#"compensated [refund_small] {"action":"stripe.void_refund""#));
    assert!(comp.contains(r#"reconciliation [refund_small] {"owner":"support""#));

    // The acceptance set misses its precision threshold, and says so.
    assert!(out.stdout.contains(
        "acceptance refund_small: 10 samples, precision 62.5%, recall 100.0%, false positive rate 60.0%\n"
    ));
    assert!(
        out.stdout
            .contains("  FAILED: precision is 62.5%, required >= 95%\n")
    );
    assert!(out.stdout.contains(
        "acceptance billing_ack: 5 samples, precision 100.0%, recall 100.0%, false positive rate 0.0%\n"
    ));
    snapshot(
        "harness_fail_human",
        "meshline test fail (NO_COLOR=1)",
        &out.stdout,
    );
}

/// The harness answers the compensation command (stripe.void_refund) like any other
/// command, but the engine never registered its key as outstanding, so the outcome is
/// recorded as `refused` ("no outstanding action with this key").
#[test]
fn compensation_outcomes_are_not_refused() {
    let out = mtest(&["fail"]);
    let comp = failure_report(&out.stdout, "the customer is told although the sync failed");
    assert!(comp.contains("compensated [refund_small]"));
    assert!(!comp.contains(" refused "), "{comp}");
}

// --- 6. determinism --------------------------------------------------------------------

/// Tests run in parallel; their output is in source order and byte-identical across runs.
#[test]
fn running_twice_gives_identical_output() {
    for project in ["pass", "fail"] {
        let a = mtest(&[project]);
        let b = mtest(&[project]);
        assert_eq!(a.stdout, b.stdout, "{project}: human output differs");
        assert_eq!(a.code, b.code);
        let a = mtest(&[project, "--format", "json", "--coverage"]);
        let b = mtest(&[project, "--format", "json", "--coverage"]);
        assert_eq!(
            without_millis(&a.stdout),
            without_millis(&b.stdout),
            "{project}: JSON output differs"
        );
        let (_, a) = junit(project);
        let (_, b) = junit(project);
        assert_eq!(
            without_times(&a),
            without_times(&b),
            "{project}: JUnit differs"
        );
    }
}

// --- 7. projects that do not check, missing folders ------------------------------------

#[test]
fn a_project_that_does_not_check_runs_no_tests() {
    let out = mtest(&["broken"]);
    out.assert_code(1, "meshline test broken");
    assert_eq!(out.stdout, "", "no test ran, no summary");
    for diagnostic in [
        "`TicketCreated` has no field `colour`",
        "unknown gate `no_such_gate`",
        "`finished` is not an SLA state",
        "`Refund` is not a class of `TicketClass`",
    ] {
        assert!(
            out.stderr.contains(diagnostic),
            "stderr shows {diagnostic:?}:\n{}",
            out.stderr
        );
    }
    assert!(
        out.stderr
            .ends_with("the project does not check: no tests ran\n")
    );
    snapshot(
        "harness_broken_stderr",
        "meshline test broken: stderr",
        &out.stderr,
    );

    // No JUnit file claims a result for tests that never ran.
    let dir = common::tempdir();
    let file = dir.path().join("junit.xml");
    mtest(&["broken", "--junit", file.to_str().unwrap()]).assert_code(1, "broken --junit");
    assert!(!file.exists());
}

#[test]
fn a_missing_folder_is_an_io_error() {
    let out = mtest(&["no-such-project"]);
    out.assert_code(2, "meshline test no-such-project");
    assert_eq!(out.stdout, "");
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);

    let dir = common::tempdir();
    let out = common::meshline(["test".as_ref(), dir.path().as_os_str()]);
    out.assert_code(2, "a folder without meshline.toml");
    assert!(out.stderr.starts_with("error: "), "{}", out.stderr);
}

// --- 8. the examples' suites -----------------------------------------------------------

/// Every `test` block of every example passes. Acceptance sets are not judged here (their
/// samples are regenerated separately), so the exit status may be 1 but never 2.
#[test]
fn every_example_test_passes() {
    let mut projects: Vec<PathBuf> = std::fs::read_dir(common::repo().join("examples"))
        .expect("examples/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meshline.toml").is_file())
        .collect();
    projects.sort();
    assert!(projects.len() >= 5, "the examples are there");
    for project in projects {
        let name = project.file_name().unwrap().to_string_lossy().into_owned();
        let out = common::meshline(["test".as_ref(), project.as_os_str()]);
        out.assert_no_panic(&name);
        assert!(
            out.code == 0 || out.code == 1,
            "{name}: exit {}\n{}{}",
            out.code,
            out.stdout,
            out.stderr
        );
        let tests = test_lines(&out.stdout);
        assert!(!tests.is_empty(), "{name}: has tests:\n{}", out.stdout);
        let failed: Vec<&String> = tests
            .iter()
            .filter(|(ok, _, _)| !ok)
            .map(|(_, n, _)| n)
            .collect();
        assert!(
            failed.is_empty(),
            "{name}: failing tests {failed:?}:\n{}",
            out.stdout
        );
        let (p, f) = summary(&out)
            .split_once(" passed, ")
            .and_then(|(p, f)| {
                Some((
                    p.parse::<usize>().ok()?,
                    f.strip_suffix(" failed")?.parse::<usize>().ok()?,
                ))
            })
            .unwrap_or_else(|| panic!("{name}: no summary line:\n{}", out.stdout));
        assert_eq!(
            p + f,
            tests.len() + acceptance_lines(&out.stdout).len(),
            "{name}: the summary counts every test and acceptance set"
        );
    }
}
