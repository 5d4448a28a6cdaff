//! The story of one case, for a terminal.

use std::fmt::Write as _;

use crate::explain::{Decision, Explanation};

pub fn text(x: &Explanation) -> String {
    let mut out = String::new();
    if x.steps.is_empty() {
        let _ = writeln!(out, "Case {}: no ledger entry names it.", x.case);
        return out;
    }
    let _ = writeln!(
        out,
        "Case {}: {} entries, from {} to {} (UTC)",
        x.case,
        x.steps.len(),
        x.steps.first().map_or("-", |s| s.at.as_str()),
        x.steps.last().map_or("-", |s| s.at.as_str())
    );
    for s in &x.steps {
        let _ = write!(out, "  {} #{} {}", s.at, s.seq, s.text);
        if let Some(l) = &s.location {
            let _ = write!(out, "  [{l}]");
        }
        out.push('\n');
        if let Some(d) = &s.decision {
            decision(&mut out, d);
        }
    }
    if !x.clocks.is_empty() {
        out.push_str("\nSLA clocks\n");
        for c in &x.clocks {
            let _ = write!(
                out,
                "  {}: started {}, target {}, calendar {}",
                c.policy,
                c.started.as_deref().unwrap_or("-"),
                c.target.as_deref().unwrap_or("-"),
                c.calendar.as_deref().unwrap_or("-")
            );
            for (from, to) in &c.pauses {
                let _ = write!(
                    out,
                    "; paused {from} to {}",
                    to.as_deref().unwrap_or("(still paused)")
                );
            }
            if let Some(d) = &c.due {
                let _ = write!(out, "; due {d}");
            }
            let _ = writeln!(
                out,
                "; {}",
                match (&c.outcome, &c.elapsed) {
                    (Some(o), Some(e)) => format!("{o} after {e}"),
                    _ => "running".into(),
                }
            );
        }
    }
    if !x.holds.is_empty() {
        out.push_str("\nHeld actions\n");
        for h in &x.holds {
            let _ = writeln!(
                out,
                "  request {}: {} {} held by {} at {}; {}",
                h.request,
                h.automation,
                h.action,
                h.gates.join(", "),
                h.held_at,
                if h.decisions.is_empty() {
                    "waiting".to_string()
                } else {
                    h.decisions.join("; ")
                }
            );
        }
    }
    if !x.actions.is_empty() {
        out.push_str("\nSaga steps\n");
        for a in &x.actions {
            let _ = writeln!(
                out,
                "  {} step {}: {} executed at {} (key {}); {}",
                a.automation,
                a.step,
                a.action,
                a.executed_at,
                a.key,
                if a.outcomes.is_empty() {
                    "no outcome yet".to_string()
                } else {
                    a.outcomes.join("; ")
                }
            );
        }
    }
    if !x.unlocated_bundles.is_empty() {
        let _ = writeln!(
            out,
            "\nNo source map for bundle(s) {}: pass --bundle with the bundle file, its project \
             folder, or a folder of exported bundles (HASH.meshb) to see where each rule is declared.",
            x.unlocated_bundles.join(", ")
        );
    }
    out
}

/// The lines under a decision's step: what lost before the winner, and the facts read.
fn decision(out: &mut String, d: &Decision) {
    for l in &d.lost {
        let _ = write!(out, "      tried `{}`: {}", l.rule, l.why);
        if let Some(loc) = &l.location {
            let _ = write!(out, "  [{loc}]");
        }
        out.push('\n');
    }
    if !d.read.is_empty() {
        let facts: Vec<String> = d
            .read
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::Null => format!("{k} unset"),
                v => format!("{k} = {v}"),
            })
            .collect();
        let _ = writeln!(out, "      read {}", facts.join(", "));
    }
}
