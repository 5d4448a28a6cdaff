//! Golden ledgers: every example project with `events/sample.jsonl` is built and run with
//! `--until` a fixed instant after its last event. The ledger (without `bundle`, `prev`
//! and `hash`, which change with every compiler or tzdb change), the command stream and
//! the stderr summary are an insta snapshot; the unredacted ledger must pass
//! `meshline ledger verify`. Each example also has a few explicit checks of what its rules
//! promise, so that a snapshot update cannot silently accept a wrong decision.

use meshline_runtime::ledger::{self, Entry};
use serde_json::Value;

use crate::common::{self, RunFiles};

/// Midnight UTC on the 8th day after the day of the latest `at` in the stream: late
/// enough for every SLA of the examples to settle, and fixed by the data.
fn until_for(events: &str) -> String {
    let latest = common::event_lines(events)
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            v["at"]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
        })
        .max()
        .expect("the sample has timestamps");
    let day = latest.as_second().div_euclid(86_400);
    jiff::Timestamp::from_second((day + 8) * 86_400)
        .expect("in range")
        .to_string()
}

struct Golden {
    run: RunFiles,
    entries: Vec<Entry>,
    until: String,
}

fn run_example(name: &str) -> Golden {
    let dir = common::tempdir();
    let bundle = dir.path().join(format!("{name}.meshb"));
    common::build_cli(&common::example(name), &bundle);
    let events_path = common::sample_events(name);
    let events = std::fs::read_to_string(&events_path).expect("read the sample");
    let until = until_for(&events);
    let run = common::run_cli(dir.path(), &bundle, &events_path, Some(&until));

    // The unredacted ledger verifies, through the CLI and in-process.
    let ledger_path = dir.path().join("ledger.jsonl");
    let verify = common::meshline([
        "ledger".as_ref(),
        "verify".as_ref(),
        ledger_path.as_os_str(),
    ]);
    verify.assert_code(0, &format!("{name}: ledger verify"));
    let entries = common::parse_ledger(&run.ledger);
    let last = entries.last().expect("a non-empty ledger");
    assert_eq!(
        verify.stdout.trim(),
        format!("ok: {} entries, last hash {}", entries.len(), last.hash),
        "{name}: verify report"
    );
    ledger::verify(&run.ledger).expect("the ledger verifies in-process");

    // Every input line is answered by exactly one intake entry, in input order.
    let lines = common::event_lines(&events);
    let intake: Vec<&Entry> = entries
        .iter()
        .filter(|e| common::is_intake(&e.kind))
        .collect();
    assert_eq!(
        intake.len(),
        lines.len(),
        "{name}: every event line yields one received/rejected/duplicate entry"
    );
    for (line, e) in lines.iter().zip(&intake) {
        let v: Value = serde_json::from_str(line).expect("sample lines are JSON");
        assert_eq!(e.detail["id"], v["id"], "{name}: intake order");
    }

    // The ledger's clock never goes back, and every entry names this bundle.
    for w in entries.windows(2) {
        assert!(
            w[0].at <= w[1].at,
            "{name}: clock went back at seq {}",
            w[1].seq
        );
    }
    let content_hash = {
        let bytes = std::fs::read(&bundle).expect("bundle");
        meshline_runtime::bundle::read_manifest(&bytes)
            .expect("manifest")
            .1
    };
    assert!(entries.iter().all(|e| e.bundle == content_hash));
    Golden {
        run,
        entries,
        until,
    }
}

fn snapshot_text(g: &Golden) -> String {
    let mut s = String::new();
    s.push_str(&format!("# run --until {}\n# stderr\n", g.until));
    s.push_str(&g.run.out.stderr);
    s.push_str("# ledger (bundle, prev and hash redacted)\n");
    for line in g.run.ledger.lines() {
        s.push_str(&common::redact(line));
        s.push('\n');
    }
    s.push_str("# commands\n");
    s.push_str(&g.run.commands);
    s
}

fn snapshot(name: &str, g: &Golden) {
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => format!("meshline run over examples/{name}/events/sample.jsonl"),
    }, {
        insta::assert_snapshot!(format!("golden_{name}"), snapshot_text(g));
    });
}

// --- helpers for the explicit checks ----------------------------------------------------

fn on<'a>(g: &'a Golden, case: &str) -> Vec<&'a Entry> {
    g.entries
        .iter()
        .filter(|e| e.case.as_deref() == Some(case))
        .collect()
}

/// The first entry on `case` with `kind` (and `rule`, when given).
fn find<'a>(g: &'a Golden, case: &str, kind: &str, rule: Option<&str>) -> Option<&'a Entry> {
    on(g, case)
        .into_iter()
        .find(|e| e.kind == kind && rule.is_none_or(|r| e.rule.as_deref() == Some(r)))
}

fn must<'a>(g: &'a Golden, case: &str, kind: &str, rule: Option<&str>) -> &'a Entry {
    find(g, case, kind, rule).unwrap_or_else(|| {
        panic!(
            "no {kind} ({rule:?}) entry on {case}; the case's entries:\n{}",
            {
                on(g, case)
                    .iter()
                    .map(|e| format!("{} {} {:?} {}", e.at, e.kind, e.rule, e.detail))
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        )
    })
}

fn count(g: &Golden, case: &str, kind: &str) -> usize {
    on(g, case).iter().filter(|e| e.kind == kind).count()
}

fn stderr_line(g: &Golden) -> &str {
    let lines: Vec<&str> = g.run.out.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one summary line on stderr: {lines:?}");
    lines[0]
}

// --- the examples ----------------------------------------------------------------------

/// A new example with a sample stream needs a golden test here.
#[test]
fn every_example_with_a_sample_has_a_golden_test() {
    assert_eq!(
        common::examples_with_samples(),
        [
            "agency-support",
            "incidents",
            "onboarding",
            "refunds",
            "scope-change"
        ],
    );
}

#[test]
fn golden_refunds() {
    let g = run_example("refunds");
    snapshot("refunds", &g);
    assert!(
        stderr_line(&g).starts_with("refunds 0.3.0: 20 events (0 rejected, 1 duplicate), 6 cases;")
    );

    // A 79 USD refund is under the 250 USD limit: executed at once, never held.
    let e = must(&g, "T-6101", "executed", Some("refund_and_sync"));
    assert_eq!(e.detail["action"], "stripe.refund");
    assert_eq!(count(&g, "T-6101", "held"), 0);

    // 480 USD: the large_refunds route sends it to the managers, the gate holds it, the
    // customer who asked cannot approve it, a manager can; the redelivery is a duplicate.
    assert_eq!(
        must(&g, "T-6102", "assigned", Some("large_refunds")).detail["assignee"],
        "managers"
    );
    let held = must(&g, "T-6102", "held", Some("manager_approval"));
    assert_eq!(held.detail["args"]["amount"], "480.00 USD");
    let refused = must(&g, "T-6102", "refused", Some("manager_approval"));
    assert_eq!(refused.detail["by"], "olivia@brightlane.co");
    assert!(
        refused.detail["reason"]
            .as_str()
            .unwrap()
            .contains("dual control")
    );
    let approved = must(&g, "T-6102", "approved", Some("manager_approval"));
    assert_eq!(approved.detail["by"], "dana@tallyhub.com");
    let executed = must(&g, "T-6102", "executed", Some("refund_and_sync"));
    assert!(refused.seq < approved.seq && approved.seq < executed.seq);
    assert_eq!(
        executed.at, "2026-03-02T19:02:41Z",
        "released when dana approved"
    );
    assert_eq!(count(&g, "T-6102", "duplicate"), 1);
    assert_eq!(
        count(&g, "T-6102", "executed"),
        1,
        "the duplicate grant does nothing"
    );

    // 320 USD denied by a manager: cancelled, never executed.
    must(&g, "T-6105", "held", Some("manager_approval"));
    assert_eq!(
        must(&g, "T-6105", "denied", None).detail["by"],
        "luis@tallyhub.com"
    );
    assert_eq!(count(&g, "T-6105", "executed"), 0);

    // The courtesy credit is @ungated and carries its reason.
    let credit = must(&g, "ch_3PrX11Kite", "executed", None);
    assert_eq!(credit.detail["action"], "stripe.credit");
    assert!(credit.detail["ungated"].as_str().unwrap().contains("FP-12"));

    // First response on a High dispute: 4 business hours in New York (EST, 08:00-18:00):
    // started 12:48:03 EST, warned at 75% (3h), breached at 16:48:03 EST.
    must(&g, "T-6104", "sla_started", Some("first_response"));
    assert_eq!(
        must(&g, "T-6104", "sla_warned", None).at,
        "2026-03-02T20:48:03Z"
    );
    assert_eq!(
        must(&g, "T-6104", "sla_breached", None).at,
        "2026-03-02T21:48:03Z"
    );
    // A Pending ticket pauses its clock, which then never breaches.
    must(&g, "T-6103", "sla_paused", Some("first_response"));
    assert_eq!(count(&g, "T-6103", "sla_breached"), 0);
    // Not acknowledged within 30m: escalated to the BillingQuestion escalation owner.
    let esc = must(&g, "T-6103", "escalated", Some("owners"));
    assert_eq!(
        (esc.at.as_str(), &esc.detail["to"]),
        ("2026-03-02T16:35:44Z", &Value::from("managers"))
    );
}

#[test]
fn golden_agency_support() {
    let g = run_example("agency-support");
    snapshot("agency-support", &g);
    assert!(
        stderr_line(&g)
            .starts_with("agency-support 1.4.0: 21 events (0 rejected, 1 duplicate), 8 cases;")
    );

    // A small refund executes; its late ActionSucceeded (stamped before the clock) is
    // applied at the clock, marked late, and releases the saga's next step.
    must(&g, "T-3001", "executed", Some("refund_small"));
    let late = g
        .entries
        .iter()
        .find(|e| e.detail["id"] == "evt_7f3a0006")
        .expect("the late event");
    assert_eq!(late.kind, "received");
    assert_eq!(late.detail["late"], true);
    assert_eq!(late.detail["at"], "2026-03-02T09:05:14Z");
    assert_eq!(late.at, "2026-03-02T09:44:10Z", "applied at the clock");
    let reply = on(&g, "T-3001")
        .into_iter()
        .find(|e| e.kind == "executed" && e.detail["action"] == "helpdesk.reply")
        .expect("step 2 runs after the outcome");
    assert_eq!(reply.detail["step"], 1);

    // 900 USD is held by refund_approval; li (billing_ops, not a finance manager) is
    // refused, the CFO releases it.
    must(&g, "T-3002", "held", Some("refund_approval"));
    let refused = must(&g, "T-3002", "refused", Some("refund_approval"));
    assert!(
        refused.detail["reason"]
            .as_str()
            .unwrap()
            .contains("not a member of finance_managers")
    );
    assert_eq!(
        must(&g, "T-3002", "approved", None).detail["by"],
        "cfo@agency.io"
    );
    assert_eq!(count(&g, "T-3002", "executed"), 1);

    // VIP access goes to the priority desk (round robin: its first member).
    let vip = must(&g, "T-3003", "assigned", Some("vip_access"));
    assert_eq!(vip.detail["assignee"], "maya@agency.io");
    assert_eq!(
        vip.detail["key"],
        serde_json::json!(["c-3", "access", "Gold"])
    );
    // Access resolution, 1 business day in London from Mon 09:31:55: due Tue 09:31:55,
    // warned at 80% of the 8h30m it spans.
    assert_eq!(
        must(&g, "T-3003", "sla_warned", None).at,
        "2026-03-02T16:19:55Z"
    );
    assert_eq!(
        must(&g, "T-3003", "sla_breached", None).at,
        "2026-03-03T09:31:55Z"
    );
    // A non-VIP access request stays with L1; solving it meets the SLA.
    assert_eq!(
        must(&g, "T-3004", "assigned", None).detail["assignee"],
        "support_l1"
    );
    assert_eq!(
        must(&g, "T-3004", "sla_met", None).detail["elapsed"],
        "8h15m50s"
    );
    assert_eq!(count(&g, "T-3004", "duplicate"), 1);

    // An urgent Gold ticket goes to the on-call engineer with the fewest open cases.
    let inc = must(&g, "T-3005", "assigned", Some("gold_incidents"));
    assert_eq!(inc.detail["assignee"], "dev@agency.io");

    // A customer reply resets first_reply; the ticket still Pending starts it paused.
    let reset = must(&g, "T-3006", "sla_reset", Some("first_reply"));
    assert_eq!(reset.detail["previous"], "paused");
    let k: Vec<&str> = on(&g, "T-3006")
        .iter()
        .filter(|e| e.seq > reset.seq)
        .map(|e| e.kind.as_str())
        .take(4)
        .collect();
    assert_eq!(k, ["sla_started", "sla_paused", "received", "sla_resumed"]);

    // Slack triage: round robin over support_l1.
    assert_eq!(
        must(&g, "T-3008", "assigned", Some("slack_triage")).detail["assignee"],
        "sam@agency.io"
    );
}

#[test]
fn golden_incidents() {
    let g = run_example("incidents");
    snapshot("incidents", &g);
    assert!(
        stderr_line(&g)
            .starts_with("incidents 1.0.2: 17 events (0 rejected, 0 duplicate), 4 cases;")
    );

    // Severe incidents go to engineering; a downgrade hands the case back to its owner.
    assert_eq!(
        must(&g, "INC-7803", "assigned", Some("severe_to_engineering")).detail["assignee"],
        "eng_oncall"
    );
    let back = on(&g, "INC-7803")
        .into_iter()
        .rfind(|e| e.kind == "assigned")
        .expect("assigned entries");
    assert_eq!(back.detail["assignee"], "support_triage");
    // The severity change re-targets the clock: Medium → 4h wall → Medium again.
    let targets: Vec<&Value> = on(&g, "INC-7803")
        .iter()
        .filter(|e| e.kind == "sla_target_changed")
        .map(|e| &e.detail["target"])
        .collect();
    assert_eq!(
        targets,
        [&Value::from("4h"), &Value::from("2 business days")]
    );
    // The status page update waits for an incident commander's review.
    let held = must(&g, "INC-7804", "held", Some("public_status"));
    let approved = must(&g, "INC-7804", "approved", Some("public_status"));
    let exec = on(&g, "INC-7804")
        .into_iter()
        .find(|e| e.kind == "executed" && e.detail["action"] == "statuspage.publish")
        .expect("published after review");
    assert!(held.seq < approved.seq && approved.seq < exec.seq);
    // An outcome for a key the runtime never issued is refused, not dropped.
    assert!(
        must(&g, "INC-7804", "refused", None).detail["reason"]
            .as_str()
            .unwrap()
            .contains("no outstanding action")
    );
    // A Low incident: 5 business days in Chicago (weekend mornings are open days).
    assert_eq!(
        must(&g, "INC-7802", "sla_breached", None).at,
        "2026-03-15T14:20:00Z"
    );
}

#[test]
fn golden_onboarding() {
    let g = run_example("onboarding");
    snapshot("onboarding", &g);
    assert!(
        stderr_line(&g)
            .starts_with("onboarding 2.1.0: 16 events (0 rejected, 0 duplicate), 4 cases;")
    );

    // Missing assets route to the exceptions team; the amendment that brings them sends
    // the case back to its (by then escalated) owner.
    assert_eq!(
        must(&g, "CON-2305", "assigned", Some("missing_assets")).detail["assignee"],
        "felix@brightpath.io"
    );
    let back = on(&g, "CON-2305")
        .into_iter()
        .rfind(|e| e.kind == "assigned")
        .expect("assigned entries");
    assert_eq!(back.rule.as_deref(), Some("owners"));
    // 48 business hours in Berlin over the DST change (2026-03-29) and Easter
    // (Good Friday and Easter Monday closed): signed Fri 17:45 CET (closed), counting from
    // Mon 09:00 CEST, due Wed 2026-04-08 17:00 CEST exactly at closing.
    let warned = must(&g, "CON-2311", "sla_warned", Some("kickoff"));
    assert_eq!(warned.detail["due"], "2026-04-08T15:00:00Z");
    assert_eq!(warned.at, "2026-04-07T11:00:00Z");
    assert_eq!(
        must(&g, "CON-2311", "sla_breached", Some("kickoff_scheduling")).at,
        "2026-03-31T07:00:00Z"
    );
    assert_eq!(count(&g, "CON-2311", "sla_met"), 1);
}

#[test]
fn golden_scope_change() {
    let g = run_example("scope-change");
    snapshot("scope-change", &g);
    assert!(
        stderr_line(&g)
            .starts_with("scope-change 0.2.0: 16 events (0 rejected, 0 duplicate), 5 cases;")
    );

    // The freeze automation is in shadow: each step recorded with the gates that would
    // hold it; nothing executed or held.
    for case in ["R-3401", "R-3402"] {
        let shadowed: Vec<&Entry> = on(&g, case)
            .into_iter()
            .filter(|e| e.kind == "shadowed")
            .collect();
        assert_eq!(shadowed.len(), 3, "{case}");
        assert_eq!(
            shadowed[0].detail["would_hold"],
            serde_json::json!(["freeze_review"])
        );
        assert_eq!(
            count(&g, case, "executed") + count(&g, case, "held"),
            0,
            "{case}"
        );
    }
    // Key accounts go to the head of accounts.
    assert_eq!(
        must(&g, "R-3402", "assigned", Some("key_account_scope")).detail["assignee"],
        "erin@northlight.digital"
    );
    // "NeedsEstimate" does not stop the decision clock; it breaches after 24 business
    // hours in Toronto (Mon 09:05 EDT → Thu 09:05 EDT).
    assert_eq!(
        must(&g, "R-3401", "sla_breached", Some("scope_decision")).at,
        "2026-03-12T13:05:00Z"
    );
    // A customer reply after the first response was met starts a new cycle.
    let reset = must(&g, "R-3401", "sla_reset", Some("first_response"));
    assert_eq!(reset.detail["previous"], "met");
}

/// The CLI's bundle hash in the ledger is the one `inspect` prints.
#[test]
fn ledger_bundle_field_is_the_inspected_content_hash() {
    let dir = common::tempdir();
    let bundle = dir.path().join("r.meshb");
    common::build_cli(&common::example("refunds"), &bundle);
    let inspect = common::meshline(["inspect".as_ref(), bundle.as_os_str()]);
    inspect.assert_code(0, "inspect");
    let hash = inspect
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("content hash:"))
        .expect("inspect prints the content hash")
        .trim()
        .to_string();
    let run = common::run_cli(dir.path(), &bundle, &common::sample_events("refunds"), None);
    let first = common::parse_ledger(&run.ledger).remove(0);
    assert_eq!(first.bundle, hash);
    assert!(inspect.stdout.contains("package:          refunds 0.3.0"));
    assert!(inspect.stdout.contains("refund_and_sync v2"));
    assert!(
        inspect
            .stdout
            .contains("courtesy_credit_on_provider_error v1")
    );
}

/// A clean sample stream should not produce evaluation errors. Today every new refunds
/// ticket evaluates the route `large_refunds on RefundRequested when amount > …` on its
/// TicketCreated (because the class changed), reads the unset fact `amount`, records
/// `eval_error` and sends the case to the exception queue (`assigned` with
/// `exception: true`).
#[test]
fn refunds_sample_has_no_eval_errors() {
    let g = run_example("refunds");
    let errors: Vec<String> = g
        .entries
        .iter()
        .filter(|e| e.kind == "eval_error" || e.detail["exception"] == true)
        .map(|e| format!("{} {} {:?} {}", e.seq, e.kind, e.rule, e.detail))
        .collect();
    assert!(errors.is_empty(), "\n{}", errors.join("\n"));
}
