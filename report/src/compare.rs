//! Comparing a candidate's run of a history with a baseline (`meshline replay`): the cases
//! whose outcome would change, the KPI deltas, and, where people settled an automation's
//! held actions in the baseline, how the candidate's decisions agree with theirs.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::cases::CaseOutcome;
use crate::model::Report;
use crate::stats::percent;

/// How many changed cases a comparison lists (all are counted).
const LISTED: usize = 500;

#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    pub cases_compared: u64,
    pub cases_changed: u64,
    /// Cases only one side saw (an input the other rejected, say).
    pub cases_only_in_baseline: u64,
    pub cases_only_in_candidate: u64,
    /// Counts of changes by what changed (`class`, `newly executes`, `SLA`, …).
    pub changes_by_kind: BTreeMap<String, u64>,
    /// The first changed cases, in case id order, with what changed and the candidate's story.
    pub changed: Vec<CaseChange>,
    pub kpi_deltas: Vec<Delta>,
    /// Per automation, against the decisions people took on its held actions.
    pub agreement: BTreeMap<String, Agreement>,
    pub baseline: Report,
    pub candidate: Report,
}

#[derive(Clone, Debug, Serialize)]
pub struct CaseChange {
    pub case: String,
    pub changes: Vec<String>,
    pub story: Vec<String>,
}

/// One headline figure on both sides.
#[derive(Clone, Debug, Serialize)]
pub struct Delta {
    pub figure: String,
    pub baseline: Option<f64>,
    pub candidate: Option<f64>,
}

/// A confusion matrix: a person's approval is a positive label, a denial a negative one;
/// the candidate predicts positive when its automation executed, held or shadowed anything
/// on the case.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Agreement {
    pub labelled: u64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
    pub true_negatives: u64,
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub false_positive_rate: Option<f64>,
}

pub fn compare(
    baseline: (Report, BTreeMap<String, CaseOutcome>),
    candidate: (Report, BTreeMap<String, CaseOutcome>),
) -> Comparison {
    let (base_report, base_cases) = baseline;
    let (cand_report, cand_cases) = candidate;
    let empty = CaseOutcome::default();
    let mut changed = Vec::new();
    let mut cases_changed = 0;
    let mut changes_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut compared = 0;
    for (id, cand) in &cand_cases {
        let Some(base) = base_cases.get(id) else {
            continue;
        };
        compared += 1;
        let diff = cand.differences(base);
        if diff.is_empty() {
            continue;
        }
        cases_changed += 1;
        for d in &diff {
            *changes_by_kind.entry(change_kind(d)).or_default() += 1;
        }
        if changed.len() < LISTED {
            changed.push(CaseChange {
                case: id.clone(),
                changes: diff,
                story: cand.story.clone(),
            });
        }
    }
    let mut agreement: BTreeMap<String, Agreement> = BTreeMap::new();
    for (id, base) in &base_cases {
        for (auto, &approved) in &base.decided {
            let predicted = cand_cases.get(id).unwrap_or(&empty).acted.contains(auto);
            let a = agreement.entry(auto.clone()).or_default();
            a.labelled += 1;
            match (predicted, approved) {
                (true, true) => a.true_positives += 1,
                (true, false) => a.false_positives += 1,
                (false, true) => a.false_negatives += 1,
                (false, false) => a.true_negatives += 1,
            }
        }
    }
    for a in agreement.values_mut() {
        a.precision = percent(a.true_positives, a.true_positives + a.false_positives);
        a.recall = percent(a.true_positives, a.true_positives + a.false_negatives);
        a.false_positive_rate = percent(a.false_positives, a.false_positives + a.true_negatives);
    }
    Comparison {
        cases_compared: compared,
        cases_changed,
        cases_only_in_baseline: base_cases
            .keys()
            .filter(|k| !cand_cases.contains_key(*k))
            .count() as u64,
        cases_only_in_candidate: cand_cases
            .keys()
            .filter(|k| !base_cases.contains_key(*k))
            .count() as u64,
        changes_by_kind,
        changed,
        kpi_deltas: deltas(&base_report, &cand_report),
        agreement,
        baseline: base_report,
        candidate: cand_report,
    }
}

/// `class: A → B` → `class`; `newly executes x` → `newly executes`; `no longer holds x` →
/// `no longer holds`; `SLA p: …` → `SLA`.
fn change_kind(line: &str) -> String {
    let words: Vec<&str> = line.split(' ').collect();
    let n = match words.first() {
        Some(&"newly") => 2,
        Some(&"no") => 3,
        Some(&"SLA") => 1,
        _ => return line.split(':').next().unwrap_or(line).to_string(),
    };
    words[..n.min(words.len())].join(" ")
}

/// The headline figures of docs/kpis.md on both sides: volumes, each automation's outcomes
/// and rates, SLA attainment per group and policy, time to ownership per group.
fn deltas(a: &Report, b: &Report) -> Vec<Delta> {
    let mut out = Vec::new();
    let mut push = |figure: String, x: Option<f64>, y: Option<f64>| {
        out.push(Delta {
            figure,
            baseline: x,
            candidate: y,
        });
    };
    let n = |v: u64| Some(v as f64);
    push(
        "cases opened".into(),
        n(a.volumes.cases_opened),
        n(b.volumes.cases_opened),
    );
    push(
        "rejected inputs".into(),
        n(a.volumes.rejected),
        n(b.volumes.rejected),
    );
    let names: std::collections::BTreeSet<&String> =
        a.automations.keys().chain(b.automations.keys()).collect();
    for name in names {
        let x = a.automations.get(name).cloned().unwrap_or_default();
        let y = b.automations.get(name).cloned().unwrap_or_default();
        push(format!("{name}: executed"), n(x.executed), n(y.executed));
        push(format!("{name}: held"), n(x.held), n(y.held));
        push(format!("{name}: shadowed"), n(x.shadowed), n(y.shadowed));
        push(
            format!("{name}: exception rate %"),
            x.exception_rate,
            y.exception_rate,
        );
    }
    let key = |s: &crate::model::Sla| (s.group.clone(), s.policy.clone());
    let sla_a: BTreeMap<_, _> = a.sla.iter().map(|s| (key(s), s)).collect();
    let sla_b: BTreeMap<_, _> = b.sla.iter().map(|s| (key(s), s)).collect();
    let keys: std::collections::BTreeSet<_> = sla_a.keys().chain(sla_b.keys()).cloned().collect();
    for k in keys {
        let x = sla_a.get(&k);
        let y = sla_b.get(&k);
        push(
            format!("SLA {} {}: attainment %", k.0, k.1),
            x.and_then(|s| s.attainment),
            y.and_then(|s| s.attainment),
        );
        push(
            format!("SLA {} {}: breached", k.0, k.1),
            x.map(|s| s.breached as f64),
            y.map(|s| s.breached as f64),
        );
    }
    let groups: std::collections::BTreeSet<&String> =
        a.ownership.keys().chain(b.ownership.keys()).collect();
    for g in groups {
        push(
            format!("time to ownership {g}: p50 s"),
            a.ownership
                .get(g)
                .and_then(|o| o.time_to_ownership.p50)
                .map(|v| v as f64),
            b.ownership
                .get(g)
                .and_then(|o| o.time_to_ownership.p50)
                .map(|v| v as f64),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::change_kind;

    #[test]
    fn changes_are_counted_by_kind() {
        assert_eq!(change_kind("class: Billing → Access"), "class");
        assert_eq!(
            change_kind("newly executes a: stripe.refund"),
            "newly executes"
        );
        assert_eq!(
            change_kind("no longer holds a: stripe.refund by g"),
            "no longer holds"
        );
        assert_eq!(change_kind("SLA first_reply: met → breached"), "SLA");
    }
}
