//! A case's story from the ledger (`meshline explain`): every entry of the case in order as
//! a sentence, with the rule that made it and where that rule is declared (the bundle's
//! source map), then its SLA clocks, held actions and saga steps gathered.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Serialize;
use serde_json::Value as Json;

use crate::ReportError;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Explanation {
    pub case: String,
    /// The bundles (content hashes) whose entries tell the story, in order of appearance.
    pub bundles: Vec<String>,
    pub steps: Vec<Step>,
    pub clocks: Vec<Clock>,
    pub holds: Vec<Hold>,
    pub actions: Vec<Action>,
    /// Bundles named by entries whose source map was not available.
    pub unlocated_bundles: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub seq: u64,
    pub at: String,
    pub kind: String,
    pub rule: Option<String>,
    /// `file:line` of the rule's declaration, from the source map of the bundle that wrote
    /// the entry.
    pub location: Option<String>,
    pub text: String,
    /// For a `classified` or `assigned` entry that records a decision: what was tried
    /// before the winner and the facts read (docs/runtime.md, "Decisions").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    pub detail: Json,
}

/// What a classify or routing decision tried, from the entry's `lost` and `read`.
#[derive(Clone, Debug, Serialize)]
pub struct Decision {
    /// The arms or routes tried before the winner, in the order tried.
    pub lost: Vec<Lost>,
    /// Each fact path the tried rules read, with the value the decision saw (`null`: unset).
    pub read: BTreeMap<String, Json>,
}

/// A classify arm or route that was tried and did not win.
#[derive(Clone, Debug, Serialize)]
pub struct Lost {
    pub rule: String,
    /// `false` (its condition was false), or the evaluation error.
    pub why: String,
    pub location: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Clock {
    pub policy: String,
    pub started: Option<String>,
    pub target: Option<String>,
    pub calendar: Option<String>,
    pub pauses: Vec<(String, Option<String>)>,
    pub due: Option<String>,
    pub outcome: Option<String>,
    pub elapsed: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Hold {
    pub request: u64,
    pub automation: String,
    pub action: String,
    pub gates: Vec<String>,
    pub held_at: String,
    /// `approved by X`, `denied by X`, `expired`, `refused X: reason` … in order.
    pub decisions: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Action {
    pub automation: String,
    pub step: u64,
    pub action: String,
    pub key: String,
    pub executed_at: String,
    pub outcomes: Vec<String>,
}

/// Source maps by bundle content hash.
pub type SourceMaps = BTreeMap<String, BTreeMap<String, String>>;

/// Read `ledger` and tell the story of `case`.
pub fn explain<R: BufRead>(
    name: &str,
    ledger: R,
    case: &str,
    maps: &SourceMaps,
) -> Result<Explanation, ReportError> {
    let mut x = Explanation {
        case: case.to_string(),
        ..Explanation::default()
    };
    crate::lines(name, ledger, |number, _, text| {
        let bad = |message: String| ReportError::Entry {
            file: name.to_string(),
            line: number,
            message,
        };
        let entry = crate::read::entry(text).map_err(|e| bad(e.to_string()))?;
        if entry.case.as_deref() == Some(case) {
            let v: Json = serde_json::from_str(text).map_err(|e| bad(e.to_string()))?;
            x.push(&v, maps);
        }
        Ok(())
    })?;
    Ok(x)
}

fn s<'a>(v: &'a Json, key: &str) -> &'a str {
    v.get(key).and_then(Json::as_str).unwrap_or("")
}

/// A quorum's count on an `approved` entry: " (1 of 2)"; nothing for a single approval.
fn of(d: &Json) -> String {
    match (
        d.get("approvals").and_then(Json::as_u64),
        d.get("required").and_then(Json::as_u64),
    ) {
        (Some(n), Some(m)) => format!(" ({n} of {m})"),
        _ => String::new(),
    }
}

fn show(v: &Json) -> String {
    match v {
        Json::String(t) => t.clone(),
        Json::Null => "none".into(),
        other => other.to_string(),
    }
}

impl Explanation {
    fn push(&mut self, e: &Json, maps: &SourceMaps) {
        let kind = s(e, "kind").to_string();
        let rule = e.get("rule").and_then(Json::as_str).map(str::to_string);
        let at = s(e, "at").to_string();
        let bundle = s(e, "bundle").to_string();
        let d = e.get("detail").cloned().unwrap_or(Json::Null);
        if !bundle.is_empty() && !self.bundles.contains(&bundle) {
            self.bundles.push(bundle.clone());
            if !maps.contains_key(&bundle) {
                self.unlocated_bundles.push(bundle.clone());
            }
        }
        let location = rule
            .as_deref()
            .and_then(|r| maps.get(&bundle).and_then(|m| m.get(r)))
            .cloned();
        let r = rule.as_deref().unwrap_or("-");
        let text = sentence(&kind, r, &d);
        let decision = decision(&kind, &d, maps.get(&bundle));
        self.gather(&kind, r, &at, &d);
        self.steps.push(Step {
            seq: e.get("seq").and_then(Json::as_u64).unwrap_or(0),
            at,
            kind,
            rule,
            location,
            text,
            decision,
            detail: d,
        });
    }

    fn clock(&mut self, policy: &str) -> &mut Clock {
        if let Some(i) = self.clocks.iter().position(|c| c.policy == policy) {
            return &mut self.clocks[i];
        }
        self.clocks.push(Clock {
            policy: policy.to_string(),
            ..Clock::default()
        });
        let last = self.clocks.len() - 1;
        &mut self.clocks[last]
    }

    fn gather(&mut self, kind: &str, rule: &str, at: &str, d: &Json) {
        match kind {
            "sla_started" => {
                let c = self.clock(rule);
                c.started = Some(at.to_string());
                c.target = Some(s(d, "target").to_string());
                c.calendar = Some(s(d, "calendar").to_string());
            }
            "sla_paused" => self.clock(rule).pauses.push((at.to_string(), None)),
            "sla_resumed" => {
                if let Some(p) = self.clock(rule).pauses.last_mut() {
                    p.1 = Some(at.to_string());
                }
            }
            "sla_warned" => self.clock(rule).due = Some(s(d, "due").to_string()),
            "sla_target_changed" => self.clock(rule).target = Some(s(d, "target").to_string()),
            "sla_rescheduled" => self.clock(rule).calendar = Some(s(d, "calendar").to_string()),
            "sla_met" | "sla_breached" | "sla_reset" => {
                let c = self.clock(rule);
                c.outcome = Some(match kind {
                    "sla_met" => format!("met at {at}"),
                    "sla_breached" => format!("breached at {at}"),
                    _ => format!("reset at {at} (the cycle was {})", s(d, "previous")),
                });
                c.elapsed = Some(s(d, "elapsed").to_string());
            }
            "held" => self.holds.push(Hold {
                request: d.get("request").and_then(Json::as_u64).unwrap_or(0),
                automation: s(d, "automation").to_string(),
                action: s(d, "action").to_string(),
                gates: d
                    .get("gates")
                    .and_then(Json::as_array)
                    .map(|g| g.iter().map(show).collect())
                    .unwrap_or_default(),
                held_at: at.to_string(),
                decisions: Vec::new(),
            }),
            "approved" | "denied" | "expired" | "refused" | "released" => {
                let request = d.get("request").and_then(Json::as_u64);
                let decision = match kind {
                    "approved" => format!("approved by {} at {at}{}", s(d, "by"), of(d)),
                    "denied" => format!("denied by {} at {at}", s(d, "by")),
                    "expired" => format!("expired at {at}"),
                    "released" => format!("released at {at}: {}", s(d, "reason")),
                    _ => format!("refused {} at {at}: {}", s(d, "by"), s(d, "reason")),
                };
                if let Some(h) = self
                    .holds
                    .iter_mut()
                    .rev()
                    .find(|h| Some(h.request) == request)
                {
                    h.decisions.push(decision);
                }
            }
            "executed" => self.actions.push(Action {
                automation: rule.to_string(),
                step: d.get("step").and_then(Json::as_u64).unwrap_or(0),
                action: s(d, "action").to_string(),
                key: s(d, "key").to_string(),
                executed_at: at.to_string(),
                outcomes: Vec::new(),
            }),
            "succeeded" | "failed" | "compensated" => {
                let key = s(d, "key");
                let outcome = match kind {
                    "succeeded" => format!("succeeded at {at}"),
                    "failed" => format!(
                        "failed at {at}{}: {}",
                        if d.get("retryable") == Some(&Json::Bool(true)) {
                            " (retryable)"
                        } else {
                            ""
                        },
                        show(d.get("reason").unwrap_or(&Json::Null))
                    ),
                    _ => format!("compensated by {} at {at} (key {key})", s(d, "action")),
                };
                let step = d.get("step").and_then(Json::as_u64);
                let target = self.actions.iter_mut().rev().find(|a| {
                    a.key == key
                        || (kind == "compensated" && Some(a.step) == step && a.automation == rule)
                });
                if let Some(a) = target {
                    a.outcomes.push(outcome);
                }
            }
            _ => {}
        }
    }
}

/// One entry as a sentence an operations lead reads.
/// The decision a `classified` or `assigned` entry records, when it records one.
fn decision(kind: &str, d: &Json, map: Option<&BTreeMap<String, String>>) -> Option<Decision> {
    if !matches!(kind, "classified" | "assigned") {
        return None;
    }
    let lost_items = d.get("lost").and_then(Json::as_array);
    let read = d.get("read").and_then(Json::as_object);
    if lost_items.is_none() && read.is_none() {
        return None;
    }
    let lost = lost_items
        .into_iter()
        .flatten()
        .map(|l| {
            // A name alone: its condition was false.
            let rule = l.as_str().unwrap_or_else(|| s(l, "rule")).to_string();
            let why = match (l.get("error"), l.get("part").and_then(Json::as_str)) {
                (Some(e), Some(part)) => format!("{part} failed: {}", show(e)),
                (Some(e), None) => format!("error: {}", show(e)),
                (None, _) => "false".to_string(),
            };
            Lost {
                location: map.and_then(|m| m.get(&rule)).cloned(),
                rule,
                why,
            }
        })
        .collect();
    let read = read
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Decision { lost, read })
}

fn sentence(kind: &str, rule: &str, d: &Json) -> String {
    let text = sentence_of(kind, rule, d);
    // A run of an automation with a staged rollout names the stage that decided it
    // (docs/language.md §11.3, "Staged rollout").
    match d.get("stage").and_then(Json::as_str) {
        Some(stage) => format!("{text} [rollout stage {stage}]"),
        None => text,
    }
}

fn sentence_of(kind: &str, rule: &str, d: &Json) -> String {
    let g = |k: &str| show(d.get(k).unwrap_or(&Json::Null));
    match kind {
        "received" => format!(
            "received {} (event {}){}",
            g("type"),
            g("id"),
            if d.get("late") == Some(&Json::Bool(true)) {
                ", late: applied at the clock's time"
            } else {
                ""
            }
        ),
        "rejected" => format!("rejected: {}", g("reason")),
        "duplicate" => format!("duplicate of event {}, ignored", g("id")),
        "classified" => format!("classified as {} by `{rule}`", g("class")),
        "owned" => format!(
            "owned by {}; acknowledge by {}",
            g("owner"),
            g("acknowledge_by")
        ),
        "assigned" => {
            let mut t = format!("assigned to {} by `{rule}`", g("assignee"));
            if d.get("route").is_some() {
                t.push_str(&format!(" (priority {}", g("priority")));
                if let Some(k) = d.get("key") {
                    t.push_str(&format!(", key {}", show(k)));
                }
                t.push(')');
            }
            for flag in ["exception", "escalation", "breaker"] {
                if d.get(flag) == Some(&Json::Bool(true)) {
                    t.push_str(&format!(" [{flag}]"));
                }
            }
            t
        }
        "acknowledged" => format!("acknowledged by {}", g("by")),
        "escalated" => {
            let mut t = format!("escalated to {} by `{rule}`", g("to"));
            if let Some(r) = d.get("reason") {
                t.push_str(&format!(": {}", show(r)));
            }
            if d.get("already_escalated") == Some(&Json::Bool(true)) {
                t.push_str(" (already escalated: owner unchanged)");
            }
            t
        }
        "sla_started" => format!(
            "SLA `{rule}` started: target {}, calendar {}",
            g("target"),
            g("calendar")
        ),
        "sla_paused" => format!("SLA `{rule}` paused"),
        "sla_resumed" => format!("SLA `{rule}` resumed"),
        "sla_warned" => format!(
            "SLA `{rule}` warning: {} of {} elapsed, due {}",
            g("elapsed"),
            g("target"),
            g("due")
        ),
        "sla_met" => format!("SLA `{rule}` met: {} of {}", g("elapsed"), g("target")),
        "sla_breached" => format!("SLA `{rule}` breached: {} of {}", g("elapsed"), g("target")),
        "sla_reset" => format!(
            "SLA `{rule}` reset: the cycle was {} after {}",
            g("previous"),
            g("elapsed")
        ),
        "sla_target_changed" => format!("SLA `{rule}` target now {}", g("target")),
        "sla_rescheduled" => format!(
            "SLA `{rule}` moved to calendar {} (from {}): the case's team changed",
            g("calendar"),
            g("from")
        ),
        "held" => format!(
            "{} step {}: {} held by {} (request {})",
            g("automation"),
            g("step"),
            g("action"),
            d.get("gates")
                .and_then(Json::as_array)
                .map(|a| a.iter().map(show).collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
            g("request")
        ),
        "approved" => format!(
            "request {} approved by {}{} (gate `{rule}`)",
            g("request"),
            g("by"),
            of(d)
        ),
        "denied" => format!(
            "request {} denied by {} (gate `{rule}`)",
            g("request"),
            g("by")
        ),
        "expired" => format!("request {} expired (gate `{rule}`)", g("request")),
        // `release when clear` (docs/runtime.md, "Gates, approvals, dual control").
        "released" => format!(
            "request {} released (gate `{rule}`): its condition no longer holds",
            g("request")
        ),
        "refused" => format!("refused {}: {}", g("by"), g("reason")),
        "executed" => format!(
            "`{rule}` step {}: {} executed (idempotency key {})",
            g("step"),
            g("action"),
            g("key")
        ),
        "succeeded" => format!("{} succeeded (key {})", g("action"), g("key")),
        "failed" => format!("{} failed (key {}): {}", g("action"), g("key"), g("reason")),
        "compensated" => format!(
            "`{rule}` compensates step {} with {}",
            g("step"),
            g("action")
        ),
        "shadowed" => {
            let what = match (d.get("wait"), d.get("notify")) {
                (Some(w), _) => format!("wait {}", show(w)),
                (_, Some(n)) => format!("notify {}", show(n)),
                _ => g("action"),
            };
            format!(
                "`{rule}` step {}: {what} shadowed (not executed)",
                g("step")
            )
        }
        "not_in_rollout" => format!("`{rule}` not in rollout (bucket {})", g("bucket")),
        "promoted" | "rolled_back" => format!(
            "`{rule}` {} from {} to {} (in {} since {})",
            if kind == "promoted" {
                "promoted"
            } else {
                "rolled back"
            },
            g("from"),
            g("to"),
            g("from"),
            g("since")
        ),
        "halted" => format!("`{rule}` halted: breaker open"),
        // `once per case` (docs/runtime.md, "Automations as sagas").
        "skipped" => format!(
            "`{rule}` skipped: it runs once per case and ran on {}",
            g("ran_on")
        ),
        "eval_error" => format!("`{rule}` could not be evaluated: {}", g("error")),
        "notified" => match d.get("template") {
            Some(t) => format!("notified {} with template {} (`{rule}`)", g("to"), show(t)),
            None => format!("notified {} (`{rule}`)", g("to")),
        },
        // A saga's wait step (docs/runtime.md, "Automations as sagas").
        "waiting" => match d.get("within") {
            Some(w) => format!(
                "`{rule}` step {}: waiting until its condition holds, at most {} (until {})",
                g("step"),
                show(w),
                g("due")
            ),
            None => format!(
                "`{rule}` step {}: waiting {} (until {})",
                g("step"),
                g("for"),
                g("due")
            ),
        },
        "wait_over" => {
            let why = match d.get("reason").and_then(Json::as_str) {
                Some("condition") => "its condition holds",
                Some("timed_out") => "timed out: the run stops",
                _ => "the time has passed",
            };
            format!("`{rule}` step {}: wait over, {why}", g("step"))
        }
        "reconciliation" => format!("reconciliation task for {}: {}", g("owner"), g("reason")),
        _ => format!("{kind} `{rule}` {d}"),
    }
}
