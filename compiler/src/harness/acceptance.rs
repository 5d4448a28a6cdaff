//! Acceptance sets (brief §3.10, §7.15): run an automation in shadow mode over labelled
//! samples and compare what it would have done with what a human chose.
//!
//! For each sample (`{"case", "events": [envelope, …], "expected"}`), a fresh engine runs
//! the program with that automation forced into shadow mode. The prediction is `executed`
//! (it triggered and no step would be held), `held` (some step would be held by a gate) or
//! `human` (it did not trigger). The positive class is `executed`: precision, recall and the
//! false-positive rate are computed for it, with the full confusion matrix.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use meshline_runtime::Engine;
use meshline_runtime::ir::{Program, Rollout};
use serde_json::Value as Json;

use crate::lower::tests::Acceptance;

pub const OUTCOMES: [&str; 3] = ["executed", "held", "human"];

#[derive(Clone, Debug)]
pub struct Report {
    pub automation: String,
    pub samples: usize,
    /// (expected, predicted) → count.
    pub confusion: BTreeMap<(String, String), usize>,
    /// `None` when undefined (a zero denominator).
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub false_positive_rate: Option<f64>,
    /// Thresholds missed, in words; empty when the set passes.
    pub failures: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| 100.0 * n as f64 / d as f64)
}

/// A metric as people read it: `97.5%`, or `n/a` when undefined.
pub fn show(m: Option<f64>) -> String {
    m.map_or_else(|| "n/a".to_string(), |v| format!("{v:.1}%"))
}

pub fn run(program: &Arc<Program>, root: &Path, acc: &Acceptance) -> Report {
    let mut report = Report {
        automation: acc.automation.clone(),
        samples: 0,
        confusion: BTreeMap::new(),
        precision: None,
        recall: None,
        false_positive_rate: None,
        failures: Vec::new(),
    };
    let path = root.join(&acc.samples);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            report
                .failures
                .push(format!("cannot read samples {}: {e}", path.display()));
            return report;
        }
    };
    let mut shadow = (**program).clone();
    match shadow
        .automations
        .iter_mut()
        .find(|a| a.name == acc.automation)
    {
        Some(a) => {
            a.rollout = Rollout::Shadow {
                sample: None,
                key: Vec::new(),
            }
        }
        None => {
            report
                .failures
                .push(format!("no automation named `{}`", acc.automation));
            return report;
        }
    }
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let sample: Json = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => {
                report
                    .failures
                    .push(format!("{}:{}: not JSON: {e}", acc.samples, n + 1));
                continue;
            }
        };
        let (Some(case), Some(events), Some(expected)) = (
            sample.get("case").and_then(Json::as_str),
            sample.get("events").and_then(Json::as_array),
            sample.get("expected").and_then(Json::as_str),
        ) else {
            report.failures.push(format!(
                "{}:{}: a sample needs `case`, `events` and `expected`",
                acc.samples,
                n + 1
            ));
            continue;
        };
        if !OUTCOMES.contains(&expected) {
            report.failures.push(format!(
                "{}:{}: unknown outcome `{expected}` (use executed, held or human)",
                acc.samples,
                n + 1
            ));
            continue;
        }
        let Ok(mut engine) = Engine::new(shadow.clone(), "acceptance") else {
            report.failures.push("cannot load the program".into());
            return report;
        };
        for e in events {
            engine.apply_json(e);
        }
        let (entries, _) = engine.drain();
        if let Some(bad) = entries.iter().find(|e| e.kind == "rejected") {
            report.failures.push(format!(
                "{}:{}: an event was rejected: {}",
                acc.samples,
                n + 1,
                bad.detail
            ));
        }
        let shadowed: Vec<_> = entries
            .iter()
            .filter(|e| {
                e.kind == "shadowed"
                    && e.case.as_deref() == Some(case)
                    && e.rule.as_deref() == Some(acc.automation.as_str())
            })
            .collect();
        let predicted = if shadowed.is_empty() {
            "human"
        } else if shadowed.iter().any(|e| {
            e.detail
                .get("would_hold")
                .and_then(Json::as_array)
                .is_some_and(|g| !g.is_empty())
        }) {
            "held"
        } else {
            "executed"
        };
        report.samples += 1;
        *report
            .confusion
            .entry((expected.to_string(), predicted.to_string()))
            .or_insert(0) += 1;
    }
    let count = |e: &str, p: &str| {
        report
            .confusion
            .get(&(e.to_string(), p.to_string()))
            .copied()
            .unwrap_or(0)
    };
    let tp = count("executed", "executed");
    let fp: usize = ["held", "human"].iter().map(|e| count(e, "executed")).sum();
    let fn_: usize = ["held", "human"].iter().map(|p| count("executed", p)).sum();
    let tn: usize = ["held", "human"]
        .iter()
        .flat_map(|e| ["held", "human"].map(|p| count(e, p)))
        .sum();
    report.precision = ratio(tp, tp + fp);
    report.recall = ratio(tp, tp + fn_);
    report.false_positive_rate = ratio(fp, fp + tn);
    for (metric, op, want) in &acc.thresholds {
        let got = match metric.as_str() {
            "precision" => report.precision,
            "recall" => report.recall,
            _ => report.false_positive_rate,
        };
        let Some(got) = got else {
            let why = match metric.as_str() {
                "precision" => "no case was predicted `executed`",
                "recall" => "no case is labelled `executed`",
                _ => "every case is labelled `executed`",
            };
            report.failures.push(format!(
                "{metric} is undefined ({why}); required {op} {want}%"
            ));
            continue;
        };
        let ok = match op.as_str() {
            ">=" => got >= *want - 1e-9,
            "<=" => got <= *want + 1e-9,
            ">" => got > *want,
            _ => got < *want,
        };
        if !ok {
            report
                .failures
                .push(format!("{metric} is {got:.1}%, required {op} {want}%"));
        }
    }
    if report.samples == 0 {
        report.failures.push("no samples".into());
    }
    report
}
