//! The terminal summary: one table per section, columns aligned.

use std::fmt::Write as _;

use super::{pct, secs};
use crate::model::Report;

/// Rows of cells, printed with each column as wide as its widest cell.
struct Table {
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Table {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
        }
    }
    fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
    fn print(&self, out: &mut String) {
        if self.rows.len() == 1 {
            out.push_str("  (none)\n");
            return;
        }
        let cols = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let width: Vec<usize> = (0..cols)
            .map(|i| {
                self.rows
                    .iter()
                    .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for r in &self.rows {
            let mut line = String::from(" ");
            for (i, c) in r.iter().enumerate() {
                let pad = width[i].saturating_sub(c.chars().count());
                // The first column is a name (left); the others are figures (right).
                if i == 0 {
                    let _ = write!(line, " {c}{}", " ".repeat(pad));
                } else {
                    let _ = write!(line, "  {}{c}", " ".repeat(pad));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

pub(super) fn render(r: &Report) -> String {
    let mut out = String::new();
    let by = r.by.as_str();
    let _ = writeln!(
        out,
        "Meshline report: {} entries, {} to {} (UTC){}",
        r.entries,
        r.first_at.as_deref().unwrap_or("-"),
        r.last_at.as_deref().unwrap_or("-"),
        match (&r.since, &r.until) {
            (None, None) => String::new(),
            (s, u) => format!(
                "; counted from {} until {}",
                s.as_deref().unwrap_or("the start"),
                u.as_deref().unwrap_or("the end")
            ),
        }
    );
    let v = &r.volumes;
    let _ = writeln!(
        out,
        "\nVolumes: {} events, {} cases opened, {} duplicates, {} rejected",
        v.events, v.cases_opened, v.duplicates, v.rejected
    );
    let mut t = Table::new(&[by, "cases opened"]);
    for (g, c) in &v.cases_by_group {
        t.row(vec![g.clone(), c.to_string()]);
    }
    t.print(&mut out);

    out.push_str("\nAutomations\n");
    let mut t = Table::new(&[
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
        "success",
        "exceptions",
    ]);
    for (name, a) in &r.automations {
        t.row(vec![
            name.clone(),
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
        ]);
    }
    t.print(&mut out);
    for (name, a) in &r.automations {
        if !a.held_by_gate.is_empty() {
            let gates: Vec<String> = a
                .held_by_gate
                .iter()
                .map(|(g, n)| format!("{g} {n}"))
                .collect();
            let _ = writeln!(out, "  {name} held by: {}", gates.join(", "));
        }
    }

    let _ = writeln!(out, "\nSLA attainment by {by} and policy");
    let mut t = Table::new(&[
        by,
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
    ]);
    for s in &r.sla {
        t.row(vec![
            s.group.clone(),
            s.policy.clone(),
            s.started.to_string(),
            s.met.to_string(),
            s.breached.to_string(),
            pct(s.attainment),
            secs(s.elapsed.p50),
            secs(s.elapsed.p90),
            secs(s.elapsed.max),
            crate::stats::format_seconds(s.paused_seconds),
            s.targets.join(" | "),
        ]);
    }
    t.print(&mut out);

    let _ = writeln!(
        out,
        "\nTime to ownership by {by} (received → acknowledged, wall clock)"
    );
    let mut t = Table::new(&[
        by,
        "owned",
        "acknowledged",
        "p50",
        "p90",
        "max",
        "ack misses",
        "escalations",
    ]);
    for (g, o) in &r.ownership {
        t.row(vec![
            g.clone(),
            o.cases_owned.to_string(),
            o.acknowledged.to_string(),
            secs(o.time_to_ownership.p50),
            secs(o.time_to_ownership.p90),
            secs(o.time_to_ownership.max),
            o.acknowledgement_misses.to_string(),
            o.escalations.to_string(),
        ]);
    }
    t.print(&mut out);

    let _ = writeln!(out, "\nReopen rate by {by}");
    let mut t = Table::new(&[by, "solved", "reopened", "rate"]);
    for (g, x) in &r.reopens {
        t.row(vec![
            g.clone(),
            x.solved.to_string(),
            x.reopened.to_string(),
            pct(x.reopen_rate),
        ]);
    }
    t.print(&mut out);

    let e = &r.exceptions;
    let _ = writeln!(
        out,
        "\nExceptions: {} cases in an exception queue, {} approvals expired",
        e.cases_in_exception_queue, e.approvals_expired
    );
    let mut t = Table::new(&["what", "reason or rule", "count"]);
    for (k, c) in &e.rejected_by_reason {
        t.row(vec!["rejected".into(), k.clone(), c.to_string()]);
    }
    for (k, c) in &e.eval_errors_by_rule {
        t.row(vec!["eval_error".into(), k.clone(), c.to_string()]);
    }
    for (k, c) in &e.refused_by_reason {
        t.row(vec!["refused".into(), k.clone(), c.to_string()]);
    }
    for (g, c) in &e.exception_assignments {
        t.row(vec!["exception queue".into(), g.clone(), c.to_string()]);
    }
    t.print(&mut out);
    out
}
