//! `meshline test`'s reports: `--format json`, `--junit FILE`, `--filter` and `--coverage`
//! (the fixtures and helpers are the parent module's).

use super::*;

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
