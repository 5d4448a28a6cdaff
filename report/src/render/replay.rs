//! Rendering a [`Comparison`] (`meshline replay`): a terminal summary, and one
//! self-contained HTML page with the KPI deltas charted and the changed cases listed.

use std::fmt::Write as _;

use super::html::{bar_chart, esc, head, table};
use super::pct;
use crate::compare::Comparison;

fn num(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), super::figure)
}

fn changed_deltas(c: &Comparison) -> impl Iterator<Item = &crate::compare::Delta> {
    c.kpi_deltas.iter().filter(|d| d.baseline != d.candidate)
}

pub fn text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Replay: {} cases compared, {} would change ({} only in the baseline, {} only in the candidate)",
        c.cases_compared, c.cases_changed, c.cases_only_in_baseline, c.cases_only_in_candidate
    );
    if !c.changes_by_kind.is_empty() {
        out.push_str("\nChanges by kind\n");
        for (k, n) in &c.changes_by_kind {
            let _ = writeln!(out, "  {k}: {n}");
        }
    }
    out.push_str("\nKPI deltas (figures that differ)\n");
    let mut any = false;
    for d in changed_deltas(c) {
        any = true;
        let _ = writeln!(
            out,
            "  {}: {} → {}",
            d.figure,
            num(d.baseline),
            num(d.candidate)
        );
    }
    if !any {
        out.push_str("  (none)\n");
    }
    if !c.agreement.is_empty() {
        out.push_str("\nAgreement with the decisions people took on held actions\n");
        for (auto, a) in &c.agreement {
            let _ = writeln!(
                out,
                "  {auto}: {} labelled; precision {}, recall {}, false-positive rate {} (TP {}, FP {}, FN {}, TN {})",
                a.labelled,
                pct(a.precision),
                pct(a.recall),
                pct(a.false_positive_rate),
                a.true_positives,
                a.false_positives,
                a.false_negatives,
                a.true_negatives
            );
        }
    }
    if !c.changed.is_empty() {
        out.push_str("\nChanged cases\n");
        for case in c.changed.iter().take(50) {
            let _ = writeln!(out, "  {}", case.case);
            for line in &case.changes {
                let _ = writeln!(out, "    {line}");
            }
        }
        if c.changed.len() > 50 {
            let _ = writeln!(
                out,
                "  … and {} more (--format json or --report FILE.html lists up to {})",
                c.cases_changed.saturating_sub(50),
                c.changed.len()
            );
        }
    }
    out
}

/// The replay report as a page of its own (`meshline replay --report`).
pub fn html(c: &Comparison) -> String {
    let mut h = String::with_capacity(64 * 1024);
    head(&mut h, "Meshline replay");
    h.push_str(&fragment(c));
    h.push_str("</body></html>\n");
    h
}

/// The replay report's body, for a page that has its own head (the console's deployments).
pub fn fragment(c: &Comparison) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let _ = writeln!(
        h,
        "<p>{} cases compared; <strong>{} would change</strong>. {} only in the baseline, {} only \
         in the candidate. Shadow replay: nothing was sent anywhere.</p>",
        c.cases_compared, c.cases_changed, c.cases_only_in_baseline, c.cases_only_in_candidate
    );
    let kinds: Vec<(String, f64)> = c
        .changes_by_kind
        .iter()
        .map(|(k, n)| (k.clone(), *n as f64))
        .collect();
    bar_chart(
        &mut h,
        "Changes by kind (cases)",
        &kinds,
        "#1f5fa8",
        "changes",
    );
    h.push_str("<h2>KPI deltas</h2>\n");
    let moved: Vec<(String, f64)> = changed_deltas(c)
        .filter_map(|d| Some((d.figure.clone(), d.candidate? - d.baseline?)))
        .collect();
    bar_chart(
        &mut h,
        "Candidate minus baseline, figures that differ",
        &moved,
        "#6b4e00",
        "",
    );
    table(
        &mut h,
        &["figure", "baseline", "candidate"],
        changed_deltas(c).map(|d| vec![d.figure.clone(), num(d.baseline), num(d.candidate)]),
    );
    h.push_str("<h2>Agreement with people's decisions</h2>\n");
    table(
        &mut h,
        &[
            "automation",
            "labelled",
            "precision",
            "recall",
            "false-positive rate",
            "TP",
            "FP",
            "FN",
            "TN",
        ],
        c.agreement.iter().map(|(auto, a)| {
            vec![
                auto.clone(),
                a.labelled.to_string(),
                pct(a.precision),
                pct(a.recall),
                pct(a.false_positive_rate),
                a.true_positives.to_string(),
                a.false_positives.to_string(),
                a.false_negatives.to_string(),
                a.true_negatives.to_string(),
            ]
        }),
    );
    let _ = writeln!(h, "<h2>Changed cases ({} listed)</h2>", c.changed.len());
    for case in &c.changed {
        let _ = writeln!(
            h,
            "<details><summary>{}: {}</summary><ul>",
            esc(&case.case),
            esc(&case.changes.join("; "))
        );
        for line in &case.changes {
            let _ = writeln!(h, "<li>{}</li>", esc(line));
        }
        h.push_str("</ul><p>The candidate's story (first entries):</p><pre>");
        for line in &case.story {
            let _ = writeln!(h, "{}", esc(line));
        }
        h.push_str("</pre></details>\n");
    }
    h
}
