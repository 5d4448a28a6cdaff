//! Recent failures and compensations per automation, read out of the ledger as it goes by
//! (the automations page: docs/console.md).
//!
//! A `failed` entry names the action's idempotency key, not its automation; the automation
//! is the `rule` of the `executed` entry with the same key. Keys are remembered only while
//! their action is outstanding (from `executed` to its final `succeeded` or `failed`), so
//! memory follows the actions in flight, not every action ever taken.

use std::collections::{BTreeMap, VecDeque};

use serde_json::Value as Json;

/// How many incidents each automation keeps (newest last).
pub const KEPT: usize = 10;

/// One failure or compensation of an automation's step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incident {
    pub at: String,
    pub case: String,
    /// `failed`, `failed, retrying`, `compensated` or `reconciliation`.
    pub what: &'static str,
    /// The action and the reason, as the ledger gives them.
    pub detail: String,
}

#[derive(Default)]
pub struct Incidents {
    /// Outstanding action keys → automation.
    outstanding: BTreeMap<String, String>,
    recent: BTreeMap<String, VecDeque<Incident>>,
}

/// Whether a ledger line may concern [`Incidents`] (a cheap test before parsing it).
pub fn concerns(line: &str) -> bool {
    [
        "\"kind\":\"executed\"",
        "\"kind\":\"succeeded\"",
        "\"kind\":\"failed\"",
        "\"kind\":\"compensated\"",
        "\"kind\":\"reconciliation\"",
    ]
    .iter()
    .any(|k| line.contains(k))
}

impl Incidents {
    pub fn push(&mut self, v: &Json) {
        let text = |x: &Json, k: &str| x.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let d = v.get("detail").unwrap_or(&Json::Null);
        let key = text(d, "key");
        let compensation = d.get("compensation").and_then(Json::as_bool) == Some(true);
        let retryable = d.get("retryable").and_then(Json::as_bool) == Some(true);
        let reason = match d.get("reason") {
            Some(Json::String(s)) => s.clone(),
            Some(Json::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        let described = |action: String| match (action.is_empty(), reason.is_empty()) {
            (_, true) => action,
            (true, false) => reason.clone(),
            (false, false) => format!("{action}: {reason}"),
        };
        let (automation, what, detail) = match v.get("kind").and_then(Json::as_str) {
            Some("executed") => {
                self.outstanding.insert(key, text(v, "rule"));
                return;
            }
            Some("succeeded") => {
                self.outstanding.remove(&key);
                return;
            }
            Some("failed") => {
                let automation = if retryable {
                    self.outstanding.get(&key).cloned()
                } else {
                    self.outstanding.remove(&key)
                };
                let Some(automation) = automation else { return };
                let what = match (compensation, retryable) {
                    (true, _) => "compensation failed",
                    (false, true) => "failed, retrying",
                    (false, false) => "failed",
                };
                (automation, what, described(text(d, "action")))
            }
            Some("compensated") => {
                // The compensation is itself an outstanding action until its outcome.
                self.outstanding.insert(key, text(v, "rule"));
                (text(v, "rule"), "compensated", text(d, "action"))
            }
            Some("reconciliation") => (
                text(v, "rule"),
                "reconciliation",
                format!("{} (owner {})", reason, text(d, "owner")),
            ),
            _ => return,
        };
        let list = self.recent.entry(automation).or_default();
        if list.len() == KEPT {
            list.pop_front();
        }
        list.push_back(Incident {
            at: text(v, "at"),
            case: text(v, "case"),
            what,
            detail,
        });
    }

    /// Each automation's recent incidents, newest first.
    pub fn recent(&self) -> BTreeMap<String, Vec<Incident>> {
        self.recent
            .iter()
            .map(|(a, l)| (a.clone(), l.iter().rev().cloned().collect()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, rule: Option<&str>, detail: Json) -> Json {
        serde_json::json!({ "at": "2026-03-02T10:00:00Z", "case": "T-1", "kind": kind,
            "rule": rule, "detail": detail })
    }

    #[test]
    fn a_failure_is_named_by_the_automation_that_executed_its_key() {
        let mut i = Incidents::default();
        i.push(&entry(
            "executed",
            Some("refund"),
            serde_json::json!({"key": "k1", "action": "stripe.refund"}),
        ));
        i.push(&entry("failed", None, serde_json::json!({"key": "k1", "action": "stripe.refund", "retryable": true, "reason": "429"})));
        i.push(&entry("failed", None, serde_json::json!({"key": "k1", "action": "stripe.refund", "retryable": false, "reason": "card_error"})));
        // The key is forgotten after its final outcome: a stray failure names nothing.
        i.push(&entry(
            "failed",
            None,
            serde_json::json!({"key": "k1", "action": "stripe.refund", "retryable": false}),
        ));
        i.push(&entry(
            "compensated",
            Some("refund"),
            serde_json::json!({"key": "k2", "action": "stripe.cancel"}),
        ));
        i.push(&entry(
            "reconciliation",
            Some("refund"),
            serde_json::json!({"owner": "billing_ops", "reason": "a step failed for good"}),
        ));
        let recent = i.recent();
        let whats: Vec<(&str, &str)> = recent["refund"]
            .iter()
            .map(|x| (x.what, x.detail.as_str()))
            .collect();
        assert_eq!(
            whats,
            [
                (
                    "reconciliation",
                    "a step failed for good (owner billing_ops)"
                ),
                ("compensated", "stripe.cancel"),
                ("failed", "stripe.refund: card_error"),
                ("failed, retrying", "stripe.refund: 429"),
            ]
        );
        assert!(i.outstanding.contains_key("k2") && !i.outstanding.contains_key("k1"));
    }

    #[test]
    fn each_automation_keeps_its_last_incidents_only() {
        let mut i = Incidents::default();
        for n in 0..(KEPT + 5) {
            i.push(&entry(
                "compensated",
                Some("a"),
                serde_json::json!({"key": format!("k{n}"), "action": format!("undo{n}")}),
            ));
        }
        let recent = i.recent();
        assert_eq!(recent["a"].len(), KEPT);
        assert_eq!(recent["a"][0].detail, format!("undo{}", KEPT + 4));
    }
}
