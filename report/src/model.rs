//! The report's figures, as values every renderer reads (text, JSON, CSV, HTML).
//! Each field is defined in docs/kpis.md in terms of ledger kinds and fields.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::stats::Spread;

/// What case-based figures are grouped by (`--by`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// The case's class (its last `classified` entry).
    Class,
    /// The case's owner team (its last `owned` entry).
    Team,
    /// The route that last assigned the case (`assigned` with a `route`), or `(owner)`.
    Route,
    /// The first automation that acted on the case, or `(none)`.
    Automation,
}

impl GroupBy {
    pub fn parse(text: &str) -> Option<GroupBy> {
        Some(match text {
            "class" => GroupBy::Class,
            "team" => GroupBy::Team,
            "route" => GroupBy::Route,
            "automation" => GroupBy::Automation,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Class => "class",
            GroupBy::Team => "team",
            GroupBy::Route => "route",
            GroupBy::Automation => "automation",
        }
    }
}

/// Every figure of one report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The window the counts cover (UTC, RFC 3339; `since` inclusive, `until` exclusive).
    pub since: Option<String>,
    pub until: Option<String>,
    /// The first and last entry instants read (of every entry, in or out of the window).
    pub first_at: Option<String>,
    pub last_at: Option<String>,
    pub entries: u64,
    pub by: GroupBy,
    pub volumes: Volumes,
    pub automations: BTreeMap<String, Automation>,
    pub sla: Vec<Sla>,
    /// SLA clocks ended per group and UTC day: (met, breached).
    pub sla_by_day: BTreeMap<String, BTreeMap<String, (u64, u64)>>,
    pub ownership: BTreeMap<String, Ownership>,
    pub reopens: BTreeMap<String, Reopens>,
    /// Time to ownership of every group together, in buckets (label, cases).
    pub time_to_ownership_histogram: Vec<(String, u64)>,
    pub exceptions: Exceptions,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Volumes {
    /// `received` entries.
    pub events: u64,
    /// Cases whose first `received` entry is in the window.
    pub cases_opened: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub by_event_type: BTreeMap<String, u64>,
    /// Cases opened, by group.
    pub cases_by_group: BTreeMap<String, u64>,
    /// By UTC day (`YYYY-MM-DD`).
    pub by_day: BTreeMap<String, Day>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Day {
    pub events: u64,
    pub cases_opened: u64,
    pub sla_met: u64,
    pub sla_breached: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Automation {
    /// Runs started: first steps executed or held (a step released from a hold is not a
    /// new run).
    pub runs: u64,
    pub executed: u64,
    /// Executions of steps released from a hold (included in `executed`).
    pub released: u64,
    pub held: u64,
    pub held_by_gate: BTreeMap<String, u64>,
    pub approved: u64,
    pub denied: u64,
    pub expired: u64,
    pub succeeded: u64,
    /// Steps failed for good (`failed` with `retryable: false`).
    pub failed: u64,
    /// Failures the executor retries under the same key.
    pub retried: u64,
    pub compensated: u64,
    pub halted: u64,
    pub not_in_rollout: u64,
    pub shadow_runs: u64,
    pub shadowed: u64,
    pub eval_errors: u64,
    /// succeeded / (succeeded + failed), %.
    pub success_rate: Option<f64>,
    /// (held + failed + halted) / (steps attempted + halted), %.
    pub exception_rate: Option<f64>,
    /// A staged rollout's stage after its last transition in the window (none without
    /// one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    /// Its promotions and rollbacks, in ledger order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stage_changes: Vec<StageChange>,
}

/// A staged rollout's promotion or rollback (`promoted`, `rolled_back`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StageChange {
    pub at: String,
    /// `promoted` or `rolled_back`.
    pub kind: String,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Sla {
    pub group: String,
    pub policy: String,
    pub started: u64,
    pub met: u64,
    pub breached: u64,
    pub warned: u64,
    pub reset: u64,
    /// met / (met + breached), %.
    pub attainment: Option<f64>,
    /// Elapsed time of ended clocks, in the policy's own measure (business time for a
    /// business target), seconds.
    pub elapsed: Spread,
    /// The targets the ended clocks had (a `target by` policy has several).
    pub targets: Vec<String>,
    /// Wall-clock time the clocks spent paused, seconds.
    pub paused_seconds: i64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Ownership {
    pub cases_owned: u64,
    pub acknowledged: u64,
    /// Time to ownership: case received → `acknowledged`, wall-clock seconds.
    pub time_to_ownership: Spread,
    /// Escalations of the `owners` block: acknowledgement TTL missed.
    pub acknowledgement_misses: u64,
    /// Every `escalated` entry (owners, SLA breaches, gate expiries).
    pub escalations: u64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Reopens {
    pub solved: u64,
    pub reopened: u64,
    /// reopened / solved, %.
    pub reopen_rate: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Exceptions {
    /// `rejected` entries by reason, with names and positions left out of the reason.
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub eval_errors_by_rule: BTreeMap<String, u64>,
    /// `assigned` entries with `exception: true`, by group.
    pub exception_assignments: BTreeMap<String, u64>,
    /// Cases whose last assignment (at the end of what was read) is an exception queue.
    pub cases_in_exception_queue: u64,
    pub refused_by_reason: BTreeMap<String, u64>,
    pub approvals_expired: u64,
}
