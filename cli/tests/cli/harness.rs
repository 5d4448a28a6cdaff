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
        snapshot_path => "../snapshots",
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

// --- 3. --format json ------------------------------------------------------------------

#[test]
fn json_format() {
    let out = mtest(&["fail", "--format", "json"]);
    out.assert_code(1, "meshline test fail --format json");
    assert_eq!(out.stderr, "");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), FAILING.len() + 2 + 1);

    for (v, (name, line, _, message)) in lines.iter().zip(FAILING) {
        assert_eq!(v["test"], name);
        assert_eq!(v["file"], "rules/tests/failing.mesh");
        assert_eq!(v["passed"], line == 0, "{name}");
        assert!(v["millis"].as_f64().is_some_and(|m| m >= 0.0), "{v}");
        if line == 0 {
            assert!(v["message"].is_null() && v["ledger"].is_null(), "{v}");
        } else {
            assert_eq!(v["message"], message);
            let ledger = v["ledger"].as_array().expect("a failing test has a ledger");
            assert!(!ledger.is_empty() && ledger.len() <= 12);
        }
    }
    let acc = &lines[FAILING.len()..FAILING.len() + 2];
    assert_eq!(acc[0]["acceptance"], "refund_small");
    assert_eq!(acc[0]["passed"], false);
    assert_eq!(acc[0]["samples"], 10);
    assert_eq!(acc[0]["precision"], 62.5);
    assert_eq!(
        acc[0]["failures"],
        serde_json::json!(["precision is 62.5%, required >= 95%"])
    );
    let confusion: usize = acc[0]["confusion"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(confusion, 10, "the confusion matrix counts every sample");
    assert_eq!(acc[1]["acceptance"], "billing_ack");
    assert_eq!(acc[1]["passed"], true);
    assert_eq!(
        lines.last().unwrap(),
        &serde_json::json!({ "passed": 3, "failed": 6 })
    );
    snapshot(
        "harness_fail_json",
        "meshline test fail --format json (millis redacted)",
        &out.stdout,
    );

    let pass = mtest(&["pass", "--format", "json"]);
    pass.assert_code(0, "meshline test pass --format json");
    let lines = json_lines(&pass.stdout);
    assert_eq!(lines.len(), PASSING.len() + 1 + 1);
    assert!(lines[..PASSING.len()].iter().all(|v| v["passed"] == true));
    assert_eq!(
        lines.last().unwrap(),
        &serde_json::json!({ "passed": 10, "failed": 0 })
    );
}

// --- 4. --junit FILE -------------------------------------------------------------------

fn junit(project: &str) -> (Out, String) {
    let dir = common::tempdir();
    let file = dir.path().join("junit.xml");
    let out = mtest(&[project, "--junit", file.to_str().expect("a UTF-8 path")]);
    let xml = std::fs::read_to_string(&file).expect("the JUnit file was written");
    (out, xml)
}

#[test]
fn junit_xml() {
    let (out, xml) = junit("fail");
    out.assert_code(1, "meshline test fail --junit");
    assert_eq!(
        out.stdout,
        mtest(&["fail"]).stdout,
        "--junit does not change stdout"
    );
    let doc = roxmltree::Document::parse(&xml)
        .unwrap_or_else(|e| panic!("the JUnit file is not well-formed XML ({e}):\n{xml}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("9"));
    assert_eq!(root.attribute("failures"), Some("6"));
    let suites: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(suite.tag_name().name(), "testsuite");
    assert_eq!(suite.attribute("name"), Some("harness-fail"));
    assert_eq!(suite.attribute("tests"), Some("9"));
    assert_eq!(suite.attribute("failures"), Some("6"));
    assert_eq!(suite.attribute("errors"), Some("0"));
    for n in doc.descendants().filter(|n| n.is_element()) {
        if let Some(t) = n.attribute("time") {
            assert!(
                t.parse::<f64>().is_ok_and(|t| t >= 0.0),
                "time={t:?} is a number"
            );
        }
    }

    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(
        cases.len(),
        9,
        "one testcase per test and per acceptance set"
    );
    let mut want: Vec<(String, String, Option<String>)> = FAILING
        .iter()
        .map(|(name, line, _, message)| {
            (
                "rules/tests/failing.mesh".to_string(),
                name.to_string(),
                (*line > 0).then(|| message.to_string()),
            )
        })
        .collect();
    want.push((
        "acceptance".into(),
        "refund_small".into(),
        Some("precision is 62.5%, required >= 95%".into()),
    ));
    want.push(("acceptance".into(), "billing_ack".into(), None));
    for (case, (class, name, failure)) in cases.iter().zip(&want) {
        assert_eq!(case.attribute("classname"), Some(class.as_str()));
        assert_eq!(case.attribute("name"), Some(name.as_str()));
        let failures: Vec<_> = case
            .children()
            .filter(|n| n.has_tag_name("failure"))
            .collect();
        match failure {
            None => assert!(failures.is_empty(), "{name}: no <failure>"),
            Some(message) => {
                assert_eq!(failures.len(), 1, "{name}: one <failure>");
                assert_eq!(failures[0].attribute("message"), Some(message.as_str()));
                assert!(
                    !failures[0].text().unwrap_or_default().is_empty(),
                    "{name}: the failure's text says what happened"
                );
            }
        }
    }
    snapshot(
        "harness_fail_junit",
        "meshline test fail --junit FILE: the XML (time attributes redacted)",
        &xml,
    );

    let (out, xml) = junit("pass");
    out.assert_code(0, "meshline test pass --junit");
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    assert_eq!(doc.root_element().attribute("tests"), Some("10"));
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count(),
        10
    );
    assert_eq!(
        doc.descendants()
            .filter(|n| n.has_tag_name("failure"))
            .count(),
        0
    );
}

// --- 5. --filter and --coverage --------------------------------------------------------

#[test]
fn filter_runs_only_matching_tests() {
    let out = mtest(&["pass", "--filter", "refund"]);
    out.assert_code(0, "--filter refund");
    let names: Vec<String> = test_lines(&out.stdout)
        .into_iter()
        .map(|(_, n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "a refund ticket is classified, owned and assigned",
            "a large refund is held until finance approves",
            "a small refund executes at once",
            "a retryable refund failure keeps the saga waiting",
        ]
    );
    // Acceptance sets are filtered by their automation's name.
    assert_eq!(
        acceptance_lines(&out.stdout),
        [(true, "refund_small".to_string())]
    );
    assert_eq!(summary(&out), "5 passed, 0 failed");

    // Only the failing test that matches runs; the exit status follows what ran.
    let out = mtest(&["fail", "--filter", "assigned to the leads"]);
    out.assert_code(1, "--filter on a failing test");
    assert_eq!(
        test_lines(&out.stdout),
        [(
            false,
            "a refund ticket is assigned to the leads".to_string(),
            "rules/tests/failing.mesh".to_string()
        )]
    );
    assert!(acceptance_lines(&out.stdout).is_empty());
    assert_eq!(out.stdout.matches("Error: test ").count(), 1);
    assert_eq!(summary(&out), "0 passed, 1 failed");

    let out = mtest(&["fail", "--filter", "goes to support"]);
    out.assert_code(0, "--filter that leaves out the failing tests");
    assert_eq!(summary(&out), "1 passed, 0 failed");

    let out = mtest(&["fail", "--filter", "billing_ack", "--format", "json"]);
    out.assert_code(0, "--filter on an acceptance set");
    let lines = json_lines(&out.stdout);
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["acceptance"], "billing_ack");
    assert_eq!(lines[1], serde_json::json!({ "passed": 1, "failed": 0 }));
}

#[test]
fn coverage_lists_what_no_test_exercised() {
    let out = mtest(&["coverage", "--coverage"]);
    out.assert_code(0, "meshline test coverage --coverage");
    assert!(out.stdout.contains(
        "coverage: not exercised by any test:\n  classify arm Access\n  route access_desk\n  sla access_resolution\n  gate big_refunds\n  gate confirm_deletions\n  automation access_cleanup\n"
    ), "{}", out.stdout);
    for exercised in ["Billing", "vip_billing", "first_reply", "refund_reply"] {
        assert!(
            !out.stdout.contains(&format!(" {exercised}\n")),
            "{exercised} was exercised"
        );
    }
    assert_eq!(summary(&out), "1 passed, 0 failed");
    snapshot(
        "harness_coverage",
        "meshline test coverage --coverage",
        &out.stdout,
    );

    let out = mtest(&["pass", "--coverage"]);
    out.assert_code(0, "meshline test pass --coverage");
    assert!(out.stdout.contains(
        "\ncoverage: every route, classify arm, SLA policy, gate and automation was exercised\n"
    ));
    // Coverage is a report, not a failure; without the flag there is none.
    assert!(!mtest(&["pass"]).stdout.contains("coverage:"));
    // Filtered out tests do not count.
    let out = mtest(&["pass", "--coverage", "--filter", "urgent"]);
    out.assert_code(0, "--coverage --filter urgent");
    assert!(out.stdout.contains(
        "coverage: not exercised by any test:\n  classify arm Billing\n  gate refund_approval\n  automation refund_small\n  automation billing_ack\n"
    ), "{}", out.stdout);
}

/// A gate that holds an action together with another gate is exercised, and so is the
/// automation whose step it holds; the coverage report lists both as not exercised,
/// because it only looks at the ledger's `rule` names (a `held` entry names only the first
/// gate, and not the automation).
#[test]
fn coverage_counts_every_gate_that_held_an_action() {
    let project = common::project(
        "two-gates",
        &[(
            "desk.mesh",
            r#"import std.helpdesk.{TicketCreated, Ticket}

team support { members ["ana@example.com"] }
team finance { members ["fin@example.com"] }

enum TicketClass { Billing, General }

classify TicketClass on TicketCreated {
  Billing when ticket.tags contains "refund"
  otherwise General
}

owners {
  Billing -> support escalate finance
  General -> support escalate finance
  acknowledge within 30m
}

event RefundRequested { charge: String, amount: Money }

gate first_check on stripe.refund when amount > 10 USD { require approval from support }
gate second_check on stripe.refund when amount > 20 USD { require approval from finance }

automation refund {
  version 1
  owner support
  on RefundRequested when class == Billing
  do { stripe.refund(charge: charge, amount: amount) }
}

fixture t = Ticket {
  id: "T-1", type: "billing", subject: "Refund please", tags: ["refund"],
  status: New, priority: Normal, requester: "customer@client.example",
}

test "both gates hold a large refund" {
  at 2026-03-02T10:00:00Z
  given TicketCreated { case: "T-1", ticket: t, channel: Email }
  given RefundRequested { charge: "ch_1", amount: 50 USD }
  expect held stripe.refund by first_check
  expect held stripe.refund by second_check
}

test "a plain ticket is general" {
  at 2026-03-02T10:00:00Z
  given TicketCreated { case: "T-2", ticket: { ..t, id: "T-2", tags: [] }, channel: Email }
  expect class General
}
"#,
        )],
    );
    let out = common::meshline([
        "test".as_ref(),
        project.path().as_os_str(),
        "--coverage".as_ref(),
    ]);
    out.assert_code(0, "two gates");
    assert!(
        out.stdout.contains(
            "coverage: every route, classify arm, SLA policy, gate and automation was exercised"
        ),
        "{}",
        out.stdout
    );
}

/// `meshline test` takes `--format human|json` (§7.15); `sarif` is a usage error, not a
/// silent fall-back to the human format.
#[test]
fn format_sarif_is_a_usage_error() {
    mtest(&["pass", "--format", "sarif"]).assert_code(2, "test --format sarif");
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
