//! CSV: one row per figure, `section,group,item,metric,value`, for spreadsheets. Durations
//! are seconds and rates percentages, unformatted.

use std::fmt::Write as _;

use crate::model::Report;

pub(super) fn render(r: &Report) -> String {
    let mut out = String::from("section,group,item,metric,value\n");
    let mut row = |section: &str, group: &str, item: &str, metric: &str, value: String| {
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            field(section),
            field(group),
            field(item),
            field(metric),
            field(&value)
        );
    };
    let n = |v: u64| v.to_string();
    let o = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
    let f = |v: Option<f64>| v.map(|v| format!("{v:.1}")).unwrap_or_default();
    let v = &r.volumes;
    row("volumes", "", "", "events", n(v.events));
    row("volumes", "", "", "cases_opened", n(v.cases_opened));
    row("volumes", "", "", "duplicates", n(v.duplicates));
    row("volumes", "", "", "rejected", n(v.rejected));
    for (t, c) in &v.by_event_type {
        row("volumes", "", t, "events", n(*c));
    }
    for (g, c) in &v.cases_by_group {
        row("volumes", g, "", "cases_opened", n(*c));
    }
    for (d, x) in &v.by_day {
        row("day", "", d, "events", n(x.events));
        row("day", "", d, "cases_opened", n(x.cases_opened));
        row("day", "", d, "sla_met", n(x.sla_met));
        row("day", "", d, "sla_breached", n(x.sla_breached));
    }
    for (name, a) in &r.automations {
        for (m, val) in [
            ("runs", a.runs),
            ("executed", a.executed),
            ("released", a.released),
            ("held", a.held),
            ("approved", a.approved),
            ("denied", a.denied),
            ("expired", a.expired),
            ("succeeded", a.succeeded),
            ("failed", a.failed),
            ("retried", a.retried),
            ("compensated", a.compensated),
            ("halted", a.halted),
            ("not_in_rollout", a.not_in_rollout),
            ("shadow_runs", a.shadow_runs),
            ("shadowed", a.shadowed),
            ("eval_errors", a.eval_errors),
        ] {
            row("automation", "", name, m, n(val));
        }
        for (g, c) in &a.held_by_gate {
            row("automation", "", name, &format!("held_by:{g}"), n(*c));
        }
        row(
            "automation",
            "",
            name,
            "success_rate_pct",
            f(a.success_rate),
        );
        row(
            "automation",
            "",
            name,
            "exception_rate_pct",
            f(a.exception_rate),
        );
    }
    for s in &r.sla {
        let g = s.group.as_str();
        let p = s.policy.as_str();
        row("sla", g, p, "started", n(s.started));
        row("sla", g, p, "met", n(s.met));
        row("sla", g, p, "breached", n(s.breached));
        row("sla", g, p, "warned", n(s.warned));
        row("sla", g, p, "reset", n(s.reset));
        row("sla", g, p, "attainment_pct", f(s.attainment));
        row("sla", g, p, "elapsed_p50_s", o(s.elapsed.p50));
        row("sla", g, p, "elapsed_p90_s", o(s.elapsed.p90));
        row("sla", g, p, "elapsed_max_s", o(s.elapsed.max));
        row("sla", g, p, "paused_s", s.paused_seconds.to_string());
        row("sla", g, p, "targets", s.targets.join(" | "));
    }
    for (g, w) in &r.ownership {
        row("ownership", g, "", "cases_owned", n(w.cases_owned));
        row("ownership", g, "", "acknowledged", n(w.acknowledged));
        row("ownership", g, "", "tto_p50_s", o(w.time_to_ownership.p50));
        row("ownership", g, "", "tto_p90_s", o(w.time_to_ownership.p90));
        row("ownership", g, "", "tto_max_s", o(w.time_to_ownership.max));
        row(
            "ownership",
            g,
            "",
            "acknowledgement_misses",
            n(w.acknowledgement_misses),
        );
        row("ownership", g, "", "escalations", n(w.escalations));
    }
    for (g, x) in &r.reopens {
        row("reopens", g, "", "solved", n(x.solved));
        row("reopens", g, "", "reopened", n(x.reopened));
        row("reopens", g, "", "reopen_rate_pct", f(x.reopen_rate));
    }
    let e = &r.exceptions;
    for (k, c) in &e.rejected_by_reason {
        row("exceptions", "", k, "rejected", n(*c));
    }
    for (k, c) in &e.eval_errors_by_rule {
        row("exceptions", "", k, "eval_errors", n(*c));
    }
    for (g, c) in &e.exception_assignments {
        row("exceptions", g, "", "exception_assignments", n(*c));
    }
    row(
        "exceptions",
        "",
        "",
        "cases_in_exception_queue",
        n(e.cases_in_exception_queue),
    );
    for (k, c) in &e.refused_by_reason {
        row("exceptions", "", k, "refused", n(*c));
    }
    row(
        "exceptions",
        "",
        "",
        "approvals_expired",
        n(e.approvals_expired),
    );
    out
}

/// RFC 4180 quoting, and a leading `'` for text a spreadsheet would run as a formula
/// (names come from the ledger, which carries client input).
fn field(text: &str) -> String {
    let guarded =
        if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && text.parse::<f64>().is_err() {
            format!("'{text}")
        } else {
            text.to_string()
        };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "'=cmd()");
        assert_eq!(field("-12.5"), "-12.5");
    }
}
