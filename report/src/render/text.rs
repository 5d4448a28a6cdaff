//! The terminal summary: one table per section, columns aligned.

use std::fmt::Write as _;

use super::tables::{self, Grid};
use crate::model::Report;

/// Print a grid with each column as wide as its widest cell: the first column (a name)
/// left-aligned, the figures right-aligned.
fn print(g: &Grid, out: &mut String) {
    if g.rows.is_empty() {
        out.push_str("  (none)\n");
        return;
    }
    let all = || std::iter::once(&g.header).chain(&g.rows);
    let width: Vec<usize> = (0..g.header.len())
        .map(|i| {
            all()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in all() {
        let mut line = String::from(" ");
        for (i, c) in r.iter().enumerate() {
            let pad = width
                .get(i)
                .copied()
                .unwrap_or(0)
                .saturating_sub(c.chars().count());
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
    print(&tables::cases_opened(r), &mut out);

    out.push_str("\nAutomations\n");
    print(&tables::automations(r), &mut out);
    for (name, a) in &r.automations {
        if !a.held_by_gate.is_empty() {
            let gates: Vec<String> = a
                .held_by_gate
                .iter()
                .map(|(g, n)| format!("{g} {n}"))
                .collect();
            let _ = writeln!(out, "  {name} held by: {}", gates.join(", "));
        }
        // A staged rollout: where it is and how it got there (docs/language.md §11.3).
        if let Some(stage) = &a.stage {
            let _ = writeln!(out, "  {name} rollout stage: {stage}");
            for c in &a.stage_changes {
                let what = if c.kind == "promoted" {
                    "promoted"
                } else {
                    "rolled back"
                };
                let _ = writeln!(out, "    {} {what} {} -> {}", c.at, c.from, c.to);
            }
        }
    }

    let _ = writeln!(out, "\nSLA attainment by {by} and policy");
    print(&tables::sla(r), &mut out);

    let _ = writeln!(
        out,
        "\nTime to ownership by {by} (received → acknowledged, wall clock)"
    );
    print(&tables::ownership(r), &mut out);

    let _ = writeln!(out, "\nReopen rate by {by}");
    print(&tables::reopens(r), &mut out);

    let e = &r.exceptions;
    let _ = writeln!(
        out,
        "\nExceptions: {} cases in an exception queue, {} approvals expired",
        e.cases_in_exception_queue, e.approvals_expired
    );
    print(&tables::exceptions(r), &mut out);
    out
}
