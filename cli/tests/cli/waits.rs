//! Saga waits and notify steps (docs/language.md §11.3, docs/runtime.md "Automations as
//! sagas") over examples/refunds' `retry_payment`: a notification with its template, a
//! 24 h wait on a durable timer that survives a snapshot, a `wait until` released by a
//! fact and one that times out into a reconciliation task, each told by `explain`.

use serde_json::json;

use crate::common::{self, Lab, action_succeeded, envelope};
use meshline_runtime::engine::Engine;
use meshline_runtime::{bundle, ir};

const CASE: &str = "ch_1";

fn charge(status: &str) -> serde_json::Value {
    json!({ "id": "ch_1", "customer": "cus_1", "amount": "39.00 USD",
            "amount_refunded": "0.00 USD", "status": status,
            "created_at": "2026-03-01T00:00:00Z" })
}

fn payment_failed(at: &str) -> String {
    envelope(
        "pf-1",
        "PaymentFailed",
        at,
        CASE,
        json!({ "charge": charge("Failed"), "failure_code": "insufficient_funds", "attempt": 1 }),
    )
}

fn charge_succeeded(id: &str, at: &str) -> String {
    envelope(
        id,
        "ChargeSucceeded",
        at,
        CASE,
        json!({ "charge": charge("Succeeded") }),
    )
}

/// The payment failed Monday 15:00 UTC (10:00 in New York): notified, then asleep.
fn failed_payment() -> Lab {
    let mut lab = Lab::refunds();
    let out = lab.send(&payment_failed("2026-03-02T15:00:00Z"));
    assert_eq!(
        common::kind_list(&out),
        ["received", "notified", "waiting"],
        "{}",
        lab.dump()
    );
    lab
}

#[test]
fn a_notify_step_sends_its_template_and_the_saga_sleeps_24h() {
    let mut lab = failed_payment();
    let n = lab.of(CASE, "notified")[0];
    assert_eq!(n.rule.as_deref(), Some("retry_payment"));
    assert_eq!(n.detail["to"], "billing_agents");
    assert_eq!(n.detail["template"], "payment_retry_scheduled");
    let cmd = lab
        .commands
        .iter()
        .find(|c| c.body["kind"] == "notify")
        .expect("a notify command");
    assert_eq!(cmd.body["template"], "payment_retry_scheduled");
    assert_eq!(cmd.body["to"], "billing_agents");
    let w = lab.of(CASE, "waiting")[0];
    assert_eq!(w.detail["for"], "1d");
    assert_eq!(w.detail["due"], "2026-03-03T15:00:00Z");
    // The timer is the case's, until it fires at its due instant and not before.
    let view = lab.engine.case_json(CASE).expect("the case");
    assert_eq!(view["timers"][0]["kind"], "saga_wait", "{view}");
    assert!(lab.advance("2026-03-03T14:59:59Z").is_empty());
    let out = lab.advance("2026-03-03T15:00:00Z");
    assert_eq!(common::kind_list(&out), ["wait_over", "executed"]);
    assert_eq!(out[0].detail["reason"], "elapsed");
    assert_eq!(out[1].detail["action"], "dunning.retry_charge");
}

#[test]
fn wait_until_goes_on_when_the_fact_holds() {
    let mut lab = failed_payment();
    lab.advance("2026-03-03T15:00:00Z");
    let key = lab.key_of(CASE, "dunning.retry_charge");
    let out = lab.send(&action_succeeded(
        "ok-1",
        "2026-03-03T15:01:00Z",
        CASE,
        &key,
        "dunning.retry_charge",
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "succeeded", "waiting"]
    );
    // Two business days on billing_agents' calendar (eastern): Thursday 10:01 New York.
    assert_eq!(out[2].detail["within"], "2 business days");
    assert_eq!(out[2].detail["due"], "2026-03-05T15:01:00Z");
    let out = lab.send(&charge_succeeded("cs-1", "2026-03-04T09:00:00Z"));
    assert_eq!(
        common::kind_list(&out),
        ["received", "wait_over", "executed"],
        "{}",
        lab.dump()
    );
    assert_eq!(out[1].detail["reason"], "condition");
    // The timeout that did not happen leaves no timer behind.
    let view = lab.engine.case_json(CASE).expect("the case");
    assert_eq!(view["timers"], json!([]), "{view}");
}

#[test]
fn wait_until_times_out_into_a_reconciliation_task() {
    let mut lab = failed_payment();
    lab.advance("2026-03-03T15:00:00Z");
    let key = lab.key_of(CASE, "dunning.retry_charge");
    lab.send(&action_succeeded(
        "ok-1",
        "2026-03-03T15:01:00Z",
        CASE,
        &key,
        "dunning.retry_charge",
    ));
    let out = lab.advance("2026-03-05T15:01:00Z");
    assert_eq!(common::kind_list(&out), ["wait_over", "reconciliation"]);
    assert_eq!(out[0].detail["reason"], "timed_out");
    assert_eq!(out[1].detail["owner"], "billing_agents");
    assert!(
        lab.commands
            .iter()
            .any(|c| c.body["kind"] == "reconciliation")
    );
    // The run is over: the confirmation that arrives late starts nothing.
    let out = lab.send(&charge_succeeded("cs-1", "2026-03-05T16:00:00Z"));
    assert_eq!(common::kind_list(&out), ["received"]);
}

#[test]
fn a_sleeping_saga_survives_a_snapshot() {
    let mut never = failed_payment();
    let bytes = common::refunds_bundle();
    let (_m, program, hash) = bundle::decode::<ir::Program>(bytes).expect("decodes");
    let snap = never.engine.snapshot().expect("a snapshot");
    let mut restored = Lab {
        engine: Engine::restore(program, &hash, &snap).expect("restores"),
        entries: Vec::new(),
        commands: Vec::new(),
    };
    let a = never.advance("2026-03-04T00:00:00Z");
    let b = restored.advance("2026-03-04T00:00:00Z");
    assert_eq!(common::kind_list(&a), ["wait_over", "executed"]);
    let lines = |es: &[meshline_runtime::ledger::Entry]| {
        es.iter()
            .map(meshline_runtime::ledger::to_line)
            .collect::<Vec<_>>()
    };
    assert_eq!(lines(&a), lines(&b));
}

#[test]
fn explain_tells_the_waits() {
    let mut lab = failed_payment();
    lab.advance("2026-03-03T15:00:00Z");
    let key = lab.key_of(CASE, "dunning.retry_charge");
    lab.send(&action_succeeded(
        "ok-1",
        "2026-03-03T15:01:00Z",
        CASE,
        &key,
        "dunning.retry_charge",
    ));
    lab.advance("2026-03-06T00:00:00Z");
    let text = lab.ledger_text();
    let x = meshline_report::explain::explain("ledger", text.as_bytes(), CASE, &Default::default())
        .expect("explains");
    let said: Vec<&str> = x.steps.iter().map(|s| s.text.as_str()).collect();
    for want in [
        "notified billing_agents with template payment_retry_scheduled (`retry_payment`)",
        "`retry_payment` step 1: waiting 1d (until 2026-03-03T15:00:00Z)",
        "`retry_payment` step 1: wait over, the time has passed",
        "`retry_payment` step 3: waiting until its condition holds, at most 2 business days (until 2026-03-05T15:01:00Z)",
        "`retry_payment` step 3: wait over, timed out: the run stops",
    ] {
        assert!(said.contains(&want), "missing {want:?} in {said:#?}");
    }
}
