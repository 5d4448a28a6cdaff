//! The report's tables as rows of cells, shared by the text and HTML renderers so both
//! show the same figures under the same headings.

use super::{pct, secs};
use crate::model::Report;
use crate::stats::format_seconds;

/// A heading row and rows of cells.
pub(super) struct Grid {
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
}

fn grid(header: &[&str], rows: Vec<Vec<String>>) -> Grid {
    Grid {
        header: header.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

pub(super) fn cases_opened(r: &Report) -> Grid {
    grid(
        &[r.by.as_str(), "cases opened"],
        r.volumes
            .cases_by_group
            .iter()
            .map(|(g, c)| vec![g.clone(), c.to_string()])
            .collect(),
    )
}

pub(super) fn automations(r: &Report) -> Grid {
    grid(
        &[
            "automation",
            "runs",
            "executed",
            "held",
            "approved",
            "denied",
            "expired",
            "succeeded",
            "failed",
            "compensated",
            "halted",
            "shadowed",
            "success rate",
            "exception rate",
        ],
        r.automations
            .iter()
            .map(|(n, a)| {
                vec![
                    n.clone(),
                    a.runs.to_string(),
                    a.executed.to_string(),
                    a.held.to_string(),
                    a.approved.to_string(),
                    a.denied.to_string(),
                    a.expired.to_string(),
                    a.succeeded.to_string(),
                    a.failed.to_string(),
                    a.compensated.to_string(),
                    a.halted.to_string(),
                    a.shadowed.to_string(),
                    pct(a.success_rate),
                    pct(a.exception_rate),
                ]
            })
            .collect(),
    )
}

pub(super) fn sla(r: &Report) -> Grid {
    grid(
        &[
            r.by.as_str(),
            "policy",
            "started",
            "met",
            "breached",
            "attainment",
            "elapsed p50",
            "p90",
            "max",
            "paused",
            "target",
        ],
        r.sla
            .iter()
            .map(|s| {
                vec![
                    s.group.clone(),
                    s.policy.clone(),
                    s.started.to_string(),
                    s.met.to_string(),
                    s.breached.to_string(),
                    pct(s.attainment),
                    secs(s.elapsed.p50),
                    secs(s.elapsed.p90),
                    secs(s.elapsed.max),
                    format_seconds(s.paused_seconds),
                    s.targets.join(" | "),
                ]
            })
            .collect(),
    )
}

pub(super) fn ownership(r: &Report) -> Grid {
    grid(
        &[
            r.by.as_str(),
            "owned",
            "acknowledged",
            "p50",
            "p90",
            "max",
            "ack misses",
            "escalations",
        ],
        r.ownership
            .iter()
            .map(|(g, o)| {
                vec![
                    g.clone(),
                    o.cases_owned.to_string(),
                    o.acknowledged.to_string(),
                    secs(o.time_to_ownership.p50),
                    secs(o.time_to_ownership.p90),
                    secs(o.time_to_ownership.max),
                    o.acknowledgement_misses.to_string(),
                    o.escalations.to_string(),
                ]
            })
            .collect(),
    )
}

pub(super) fn reopens(r: &Report) -> Grid {
    grid(
        &[r.by.as_str(), "solved", "reopened", "reopen rate"],
        r.reopens
            .iter()
            .map(|(g, x)| {
                vec![
                    g.clone(),
                    x.solved.to_string(),
                    x.reopened.to_string(),
                    pct(x.reopen_rate),
                ]
            })
            .collect(),
    )
}

pub(super) fn exceptions(r: &Report) -> Grid {
    let e = &r.exceptions;
    let rows = [
        ("rejected", &e.rejected_by_reason),
        ("evaluation error", &e.eval_errors_by_rule),
        ("refused", &e.refused_by_reason),
        ("exception queue", &e.exception_assignments),
    ]
    .into_iter()
    .flat_map(|(what, map)| {
        map.iter()
            .map(move |(k, c)| vec![what.to_string(), k.clone(), c.to_string()])
    })
    .collect();
    grid(&["what", "reason, rule or group", "count"], rows)
}
