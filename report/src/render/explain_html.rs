//! The story of one case as HTML (the console's case page): the same [`Explanation`] that
//! `meshline explain` prints, as tables.

use std::fmt::Write as _;

use super::html::esc;
use crate::explain::Explanation;

/// The story's sections, without a page around them.
pub fn fragment(x: &Explanation) -> String {
    let mut h = String::new();
    if x.steps.is_empty() {
        let _ = writeln!(h, "<p>No ledger entry names case {}.</p>", esc(&x.case));
        return h;
    }
    let _ = writeln!(
        h,
        "<p>{} entries, from {} to {} (UTC).</p>",
        x.steps.len(),
        esc(x.steps.first().map_or("-", |s| s.at.as_str())),
        esc(x.steps.last().map_or("-", |s| s.at.as_str()))
    );
    if !x.holds.is_empty() {
        h.push_str("<h2>Held actions</h2><div class=\"wrap\"><table><tr><th>request</th><th>automation</th><th>action</th><th>gates</th><th>held at (UTC)</th><th>decisions</th></tr>\n");
        for o in &x.holds {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                o.request,
                esc(&o.automation),
                esc(&o.action),
                esc(&o.gates.join(", ")),
                esc(&o.held_at),
                esc(&o.decisions.join("; "))
            );
        }
        h.push_str("</table></div>\n");
    }
    if !x.clocks.is_empty() {
        h.push_str("<h2>SLA clocks</h2><div class=\"wrap\"><table><tr><th>policy</th><th>started (UTC)</th><th>target</th><th>calendar</th><th>paused</th><th>due (UTC)</th><th>outcome</th><th>elapsed</th></tr>\n");
        for c in &x.clocks {
            let pauses: Vec<String> = c
                .pauses
                .iter()
                .map(|(from, to)| format!("{from} → {}", to.as_deref().unwrap_or("…")))
                .collect();
            let cell = |v: &Option<String>| esc(v.as_deref().unwrap_or("-"));
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&c.policy),
                cell(&c.started),
                cell(&c.target),
                cell(&c.calendar),
                esc(&pauses.join("; ")),
                cell(&c.due),
                cell(&c.outcome),
                cell(&c.elapsed)
            );
        }
        h.push_str("</table></div>\n");
    }
    if !x.actions.is_empty() {
        h.push_str("<h2>Actions and saga steps</h2><div class=\"wrap\"><table><tr><th>automation</th><th>step</th><th>action</th><th>idempotency key</th><th>executed at (UTC)</th><th>outcomes</th></tr>\n");
        for a in &x.actions {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                esc(&a.automation),
                a.step,
                esc(&a.action),
                esc(a.key.get(..16).unwrap_or(&a.key)),
                esc(&a.executed_at),
                esc(&a.outcomes.join("; "))
            );
        }
        h.push_str("</table></div>\n");
    }
    h.push_str("<h2>Story</h2><div class=\"wrap\"><table><tr><th>at (UTC)</th><th>#</th><th>what happened</th><th>rule, where</th></tr>\n");
    for s in &x.steps {
        let rule = match (&s.rule, &s.location) {
            (Some(r), Some(l)) => format!("{r} ({l})"),
            (Some(r), None) => r.clone(),
            _ => String::new(),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&s.at),
            s.seq,
            esc(&s.text),
            esc(&rule)
        );
    }
    h.push_str("</table></div>\n");
    h
}
