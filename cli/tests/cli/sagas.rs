//! Automations as sagas (§3.9, §7.10) over examples/refunds: steps run one at a time as
//! outcomes come back; a final failure compensates earlier steps in reverse order and
//! hands the owner a reconciliation task; the breaker halts and resets; idempotency keys
//! survive a redeploy; rollout buckets follow the documented formula.

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::{self, Lab, action_succeeded, envelope, refund_requested, ticket_created};

fn failed(id: &str, at: &str, case: &str, key: &str, action: &str, retryable: bool) -> String {
    envelope(
        id,
        "ActionFailed",
        at,
        case,
        json!({ "key": key, "action": action, "retryable": retryable, "reason": "remote said no" }),
    )
}

/// A 90 USD refund on `case` (not gated): step 0 (stripe.refund) executed.
fn small_refund(lab: &mut Lab, case: &str, minute: u32) {
    let at = |m: u32| format!("2026-03-02T15:{m:02}:00Z");
    lab.send(&ticket_created(
        &format!("t-{case}"),
        &at(minute),
        case,
        &["refund"],
        "Normal",
    ));
    let out = lab.send(&refund_requested(
        &format!("r-{case}"),
        &at(minute),
        case,
        "90.00 USD",
        "agent@tallyhub.com",
    ));
    assert!(out.iter().any(|e| e.kind == "executed"), "{}", lab.dump());
}

#[test]
fn a_final_failure_compensates_in_reverse_and_reconciles() {
    let mut lab = Lab::refunds();
    small_refund(&mut lab, "T-1", 0);
    // Steps run one at a time: nothing more until the first outcome.
    assert_eq!(lab.of("T-1", "executed").len(), 1);
    let k0 = lab.key_of("T-1", "stripe.refund");
    lab.send(&action_succeeded(
        "s-0",
        "2026-03-02T15:01:00Z",
        "T-1",
        &k0,
        "stripe.refund",
    ));
    let k1 = lab.key_of("T-1", "accounting.sync_refund");
    // A retryable failure: recorded, the saga keeps waiting under the same key.
    let out = lab.send(&failed(
        "f-1",
        "2026-03-02T15:02:00Z",
        "T-1",
        &k1,
        "accounting.sync_refund",
        true,
    ));
    assert_eq!(common::kind_list(&out), ["received", "failed"]);
    assert_eq!(out[1].detail["retryable"], true);
    // A final failure: the refund is voided (same arguments) and the owner reconciles.
    let out = lab.send(&failed(
        "f-2",
        "2026-03-02T15:03:00Z",
        "T-1",
        &k1,
        "accounting.sync_refund",
        false,
    ));
    assert_eq!(
        common::kind_list(&out),
        ["received", "failed", "compensated", "reconciliation"]
    );
    assert_eq!(out[2].detail["action"], "stripe.void_refund");
    assert_eq!(
        out[2].detail["args"],
        json!({ "amount": "90.00 USD", "charge": "ch_T-1" })
    );
    assert_eq!(out[2].detail["step"], 0);
    assert_eq!(out[3].detail["owner"], "billing_agents");
    let cmds: Vec<&str> = lab
        .commands
        .iter()
        .filter_map(|c| c.body["kind"].as_str())
        .collect();
    assert_eq!(cmds, ["action", "action", "action", "reconciliation"]);
    assert_eq!(lab.commands[2].body["compensates"], "stripe.refund");
    // The reply step never runs; a late success for the failed key is refused.
    let out = lab.send(&action_succeeded(
        "s-9",
        "2026-03-02T15:04:00Z",
        "T-1",
        &k1,
        "accounting.sync_refund",
    ));
    assert!(out.iter().any(|e| e.kind == "refused"));
    assert!(
        lab.of("T-1", "executed")
            .iter()
            .all(|e| e.detail["action"] != "helpdesk.reply")
    );
}

#[test]
fn idempotency_keys_are_distinct_and_follow_the_steps() {
    let mut lab = Lab::refunds();
    small_refund(&mut lab, "T-1", 0);
    small_refund(&mut lab, "T-2", 1);
    let a = lab.key_of("T-1", "stripe.refund");
    let b = lab.key_of("T-2", "stripe.refund");
    assert_ne!(a, b);
    for k in [&a, &b] {
        assert!(
            k.len() == 64 && k.bytes().all(|c| c.is_ascii_hexdigit()),
            "{k}"
        );
    }
    // The ledger's executed entry and the command carry the same key.
    let exec = lab.of("T-1", "executed")[0];
    assert_eq!(exec.detail["key"], a.as_str());
}

/// §7.10: the key does not include the bundle or the automation's version, so a redeploy
/// (new package version, automation version 2 → 3) issues the same steps under the same
/// keys.
#[test]
fn idempotency_keys_survive_a_redeploy() {
    let copy = common::tempdir();
    common::copy_dir(&common::example("refunds"), copy.path());
    let toml = copy.path().join("meshline.toml");
    let text = std::fs::read_to_string(&toml).expect("toml");
    std::fs::write(
        &toml,
        text.replace("version = \"0.3.0\"", "version = \"0.4.0\""),
    )
    .expect("write");
    let rules = copy.path().join("rules/billing/refunds.mesh");
    let text = std::fs::read_to_string(&rules).expect("rules");
    assert!(text.contains("version 2"));
    std::fs::write(&rules, text.replace("version 2", "version 3")).expect("write");
    let old = common::refunds_bundle();
    let new = common::build(copy.path());
    assert!(old != new.as_slice());

    let events = std::fs::read_to_string(common::sample_events("refunds")).expect("sample");
    let keys = |bytes: &[u8]| -> Vec<(String, String, serde_json::Value)> {
        let mut lab = Lab::new(bytes);
        for l in common::event_lines(&events) {
            lab.send(l);
        }
        lab.entries
            .iter()
            .filter(|e| e.kind == "executed")
            .map(|e| {
                (
                    e.bundle.clone(),
                    e.detail["action"].to_string(),
                    e.detail["key"].clone(),
                )
            })
            .collect()
    };
    let (a, b) = (keys(old), keys(&new));
    assert_eq!(a.len(), 3);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_ne!(x.0, y.0, "different bundles");
        assert_eq!((&x.1, &x.2), (&y.1, &y.2), "same action, same key");
    }
}

/// §7.10: bucket = first 8 bytes of SHA-256(automation ‖ 0x00 ‖ canonical JSON of the
/// key) mod 10000, live below P×100. `courtesy_credit_on_provider_error` is at 50% by
/// `charge.customer` (a single value: its JSON is the string itself).
#[test]
fn rollout_buckets_follow_the_documented_formula() {
    let automation = "courtesy_credit_on_provider_error";
    let bucket = |customer: &str| -> u64 {
        let mut h = Sha256::new();
        h.update(automation.as_bytes());
        h.update([0u8]);
        h.update(serde_json::to_string(customer).expect("json").as_bytes());
        let d = h.finalize();
        u64::from_be_bytes(d[..8].try_into().expect("8 bytes")) % 10_000
    };
    let mut lab = Lab::refunds();
    let (mut live, mut out_of_rollout) = (0, 0);
    for i in 0..24 {
        let customer = format!("cus_{i}");
        let case = format!("ch_{i}");
        let line = envelope(
            &format!("pf-{i}"),
            "PaymentFailed",
            "2026-03-02T16:00:00Z",
            &case,
            json!({
                "charge": { "id": case, "customer": customer, "amount": "10.00 USD",
                            "amount_refunded": "0.00 USD", "status": "Failed",
                            "created_at": "2026-03-02T15:59:00Z" },
                "failure_code": "processing_error", "attempt": 1,
            }),
        );
        let out = lab.send(&line);
        let b = bucket(&customer);
        if b < 5000 {
            live += 1;
            let e = out
                .iter()
                .find(|e| e.kind == "executed")
                .unwrap_or_else(|| {
                    panic!(
                        "{customer}: bucket {b} < 5000 but not executed: {:?}",
                        common::kind_list(&out)
                    )
                });
            assert_eq!(
                e.detail["args"],
                json!({ "amount": "5.00 USD", "customer": customer })
            );
        } else {
            out_of_rollout += 1;
            let e = out
                .iter()
                .find(|e| e.kind == "not_in_rollout")
                .unwrap_or_else(|| {
                    panic!(
                        "{customer}: bucket {b} ≥ 5000 but: {:?}",
                        common::kind_list(&out)
                    )
                });
            assert_eq!(e.detail["bucket"], b);
            assert!(out.iter().all(|e| e.kind != "executed"));
        }
    }
    assert!(
        live > 0 && out_of_rollout > 0,
        "both sides of the rollout are exercised"
    );
    // The trigger's condition: a second attempt, or a card decline, credits nobody.
    let line = envelope(
        "pf-x",
        "PaymentFailed",
        "2026-03-02T16:00:00Z",
        "ch_x",
        json!({
            "charge": { "id": "ch_x", "customer": "cus_0", "amount": "10.00 USD",
                        "amount_refunded": "0.00 USD", "status": "Failed",
                        "created_at": "2026-03-02T15:59:00Z" },
            "failure_code": "processing_error", "attempt": 2,
        }),
    );
    assert_eq!(common::kind_list(&lab.send(&line)), ["received"]);
}

/// `breaker failures > 5% over 50 runs -> halt, assign billing_review`: three sagas that
/// fail for good (3/50 > 5%) halt refund_and_sync; its next trigger goes to
/// billing_review and runs nothing; a BreakerReset lets it run again.
#[test]
fn the_breaker_halts_and_resets() {
    let mut lab = Lab::refunds();
    for i in 0..3 {
        let case = format!("T-{i}");
        small_refund(&mut lab, &case, i);
        let k = lab.key_of(&case, "stripe.refund");
        lab.send(&failed(
            &format!("f-{i}"),
            "2026-03-02T15:10:00Z",
            &case,
            &k,
            "stripe.refund",
            false,
        ));
    }
    let halted: Vec<_> = lab.entries.iter().filter(|e| e.kind == "halted").collect();
    assert_eq!(halted.len(), 1, "{}", lab.dump());
    assert_eq!(halted[0].rule.as_deref(), Some("refund_and_sync"));
    assert_eq!(halted[0].case.as_deref(), Some("T-2"));

    lab.send(&ticket_created(
        "t-9",
        "2026-03-02T15:20:00Z",
        "T-9",
        &["refund"],
        "Normal",
    ));
    let out = lab.send(&refund_requested(
        "r-9",
        "2026-03-02T15:21:00Z",
        "T-9",
        "90.00 USD",
        "agent@tallyhub.com",
    ));
    assert!(out.iter().any(|e| e.kind == "halted"));
    assert!(out.iter().all(|e| e.kind != "executed"));
    let assigned = out
        .iter()
        .find(|e| e.kind == "assigned")
        .expect("handed to people");
    assert_eq!(assigned.detail["assignee"], "billing_review");

    let reset = envelope(
        "br-1",
        "BreakerReset",
        "2026-03-02T15:30:00Z",
        "T-9",
        json!({ "automation": "refund_and_sync", "by": "rachel@tallyhub.com" }),
    );
    let out = lab.send(&reset);
    let k = common::kind_list(&out);
    assert_eq!(&k[k.len() - 2..], ["received", "breaker_reset"]);
    lab.send(&ticket_created(
        "t-10",
        "2026-03-02T15:40:00Z",
        "T-10",
        &["refund"],
        "Normal",
    ));
    let out = lab.send(&refund_requested(
        "r-10",
        "2026-03-02T15:41:00Z",
        "T-10",
        "90.00 USD",
        "agent@tallyhub.com",
    ));
    assert!(
        out.iter().any(|e| e.kind == "executed"),
        "{:?}",
        common::kind_list(&out)
    );
}
