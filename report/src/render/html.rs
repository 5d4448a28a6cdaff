//! One self-contained HTML page: inline CSS and inline SVG charts, no script, no network.
//! Colours meet WCAG 2.1 AA contrast on white (text #1a1a1a; bars #1f5fa8, #b3261e,
//! #2e6b30, #6b4e00 all ≥ 4.5:1 against #ffffff).

use std::fmt::Write as _;

use super::tables::{self, Grid};
use crate::model::Report;

const BLUE: &str = "#1f5fa8";
const RED: &str = "#b3261e";
const GREEN: &str = "#2e6b30";
const AMBER: &str = "#6b4e00";

/// Text for HTML content and attribute values.
pub(super) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(r: &Report) -> String {
    let mut h = String::with_capacity(64 * 1024);
    head(&mut h, "Meshline report");
    sections(&mut h, r);
    h.push_str("</body></html>\n");
    h
}

/// The report's sections (figures, charts, tables), without the page around them: the
/// file `meshline report --format html` writes and the console's overview share them.
pub(super) fn sections(h: &mut String, r: &Report) {
    let by = r.by.as_str();
    let _ = writeln!(
        h,
        "<p>{} ledger entries from {} to {} (UTC).{}</p>",
        r.entries,
        esc(r.first_at.as_deref().unwrap_or("-")),
        esc(r.last_at.as_deref().unwrap_or("-")),
        match (&r.since, &r.until) {
            (None, None) => String::new(),
            (s, u) => format!(
                " Counted from {} until {}.",
                esc(s.as_deref().unwrap_or("the start")),
                esc(u.as_deref().unwrap_or("the end"))
            ),
        }
    );

    // Volumes.
    let v = &r.volumes;
    let _ = writeln!(
        h,
        "<h2>Volumes</h2><p>{} events received, {} cases opened, {} duplicates, {} rejected.</p>",
        v.events, v.cases_opened, v.duplicates, v.rejected
    );
    let days: Vec<(String, f64)> = v
        .by_day
        .iter()
        .map(|(d, x)| (d.clone(), x.events as f64))
        .collect();
    bar_chart(h, "Events received per day (UTC)", &days, BLUE, "events");
    grid(h, &tables::cases_opened(r));

    // SLA.
    let _ = writeln!(h, "<h2>SLA attainment by {by}</h2>");
    for (group, days) in &r.sla_by_day {
        let points: Vec<(String, f64)> = days
            .iter()
            .map(|(d, (met, breached))| {
                let whole = met + breached;
                let p = if whole == 0 {
                    0.0
                } else {
                    *met as f64 * 100.0 / whole as f64
                };
                (d.clone(), p)
            })
            .collect();
        bar_chart(
            h,
            &format!("{group}: attainment per day, % of clocks ended that day"),
            &points,
            GREEN,
            "%",
        );
    }
    grid(h, &tables::sla(r));

    // Automations.
    h.push_str("<h2>Automation outcomes</h2>\n");
    stacked_bars(h, r);
    grid(h, &tables::automations(r));

    // Ownership.
    let _ = writeln!(h, "<h2>Time to ownership (received → acknowledged)</h2>");
    let hist: Vec<(String, f64)> = r
        .time_to_ownership_histogram
        .iter()
        .map(|(l, n)| (l.clone(), *n as f64))
        .collect();
    bar_chart(h, "Cases by time to ownership", &hist, AMBER, "cases");
    grid(h, &tables::ownership(r));

    let _ = writeln!(h, "<h2>Reopen rate by {by}</h2>");
    grid(h, &tables::reopens(r));

    let e = &r.exceptions;
    let _ = writeln!(
        h,
        "<h2>Exceptions</h2><p>{} cases in an exception queue; {} approvals expired.</p>",
        e.cases_in_exception_queue, e.approvals_expired
    );
    grid(h, &tables::exceptions(r));
}

/// The CSS of every page: reports, replays and the console.
pub(super) const STYLE: &str = "body{font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;\
         max-width:1100px;padding:1rem}h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;\
         border-bottom:1px solid #767676}table{border-collapse:collapse;margin:.5rem 0;\
         font-variant-numeric:tabular-nums}th,td{padding:.25rem .6rem;border-bottom:1px solid \
         #d0d0d0;text-align:right}th:first-child,td:first-child{text-align:left}th{background:\
         #f2f2f2}.wrap{overflow-x:auto}svg text{font:12px system-ui,sans-serif;fill:#1a1a1a}\
         .legend span{display:inline-block;margin-right:1rem}.sw{display:inline-block;width:\
         .8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}";

/// The page's head and title: inline CSS only.
pub(super) fn head(h: &mut String, title: &str) {
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(h, "<title>{}</title><style>", esc(title));
    h.push_str(STYLE);
    let _ = writeln!(h, "</style></head><body>\n<h1>{}</h1>", esc(title));
}

pub(super) fn grid(h: &mut String, g: &Grid) {
    let header: Vec<&str> = g.header.iter().map(String::as_str).collect();
    table(h, &header, g.rows.iter().cloned());
}

pub(super) fn table(h: &mut String, header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    h.push_str("<div class=\"wrap\"><table><thead><tr>");
    for c in header {
        let _ = write!(h, "<th scope=\"col\">{}</th>", esc(c));
    }
    h.push_str("</tr></thead><tbody>");
    let mut any = false;
    for r in rows {
        any = true;
        h.push_str("<tr>");
        for c in r {
            let _ = write!(h, "<td>{}</td>", esc(&c));
        }
        h.push_str("</tr>");
    }
    if !any {
        let _ = write!(h, "<tr><td colspan=\"{}\">none</td></tr>", header.len());
    }
    h.push_str("</tbody></table></div>\n");
}

/// A vertical bar chart with a value label on each bar; at most the last 120 points. Labels
/// longer than a date are drawn as horizontal bars, so they can be read in full.
pub(super) fn bar_chart(
    h: &mut String,
    title: &str,
    points: &[(String, f64)],
    colour: &str,
    unit: &str,
) {
    if points.iter().any(|(l, _)| l.chars().count() > 12) {
        return hbar_chart(h, title, points, colour, unit);
    }
    let points = &points[points.len().saturating_sub(120)..];
    let _ = writeln!(h, "<figure><figcaption>{}</figcaption>", esc(title));
    if points.is_empty() {
        h.push_str("<p>no data</p></figure>\n");
        return;
    }
    // Bars show magnitudes; the label keeps the sign (a delta may be negative).
    let max = points
        .iter()
        .map(|p| p.1.abs())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let bar = 28.0;
    let gap = 8.0;
    let height = 160.0;
    let width = 80.0 + points.len() as f64 * (bar + gap);
    let _ = write!(
        h,
        "<div class=\"wrap\"><svg role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{}\" \
         viewBox=\"0 0 {width} {}\">",
        esc(title),
        height + 70.0,
        height + 70.0
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let x = 70.0 + i as f64 * (bar + gap);
        let bh = (value.abs() / max * height).max(if *value != 0.0 { 1.0 } else { 0.0 });
        let y = 20.0 + height - bh;
        let shown = super::figure(*value);
        let _ = write!(
            h,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{bar}\" height=\"{bh}\" fill=\"{colour}\">\
             <title>{}: {shown} {}</title></rect>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{shown}</text>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" transform=\"rotate(-45 {} {})\">{}</text>",
            esc(label),
            esc(unit),
            x + bar / 2.0,
            y - 4.0,
            x + bar / 2.0,
            height + 36.0,
            x + bar / 2.0,
            height + 36.0,
            esc(label)
        );
    }
    h.push_str("</svg></div></figure>\n");
}

/// One horizontal bar per point, its label on the left and its value after the bar; at
/// most the first 60 points. Bars show magnitudes; the value keeps its sign.
fn hbar_chart(h: &mut String, title: &str, points: &[(String, f64)], colour: &str, unit: &str) {
    let points = &points[..points.len().min(60)];
    let _ = writeln!(h, "<figure><figcaption>{}</figcaption>", esc(title));
    if points.is_empty() {
        h.push_str("<p>no data</p></figure>\n");
        return;
    }
    let max = points
        .iter()
        .map(|p| p.1.abs())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let (row, label_w, bar_w) = (24.0, 320.0, 360.0);
    let width = label_w + bar_w + 80.0;
    let height = points.len() as f64 * row + 6.0;
    let _ = write!(
        h,
        "<div class=\"wrap\"><svg role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">",
        esc(title)
    );
    for (i, (label, value)) in points.iter().enumerate() {
        let y = 3.0 + i as f64 * row;
        let w = (value.abs() / max * bar_w).max(if *value != 0.0 { 1.0 } else { 0.0 });
        let shown = super::figure(*value);
        let _ = write!(
            h,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"18\" fill=\"{colour}\">\
             <title>{}: {shown} {}</title></rect>\
             <text x=\"{}\" y=\"{}\">{shown}</text>",
            label_w - 8.0,
            y + 14.0,
            esc(label),
            esc(label),
            esc(unit),
            label_w + w + 6.0,
            y + 14.0
        );
    }
    h.push_str("</svg></div></figure>\n");
}

/// One horizontal bar per automation: succeeded, failed, held and shadowed steps.
fn stacked_bars(h: &mut String, r: &Report) {
    if r.automations.is_empty() {
        h.push_str("<p>No automation ran.</p>\n");
        return;
    }
    let parts = [
        ("succeeded", GREEN),
        ("failed", RED),
        ("held", AMBER),
        ("shadowed", BLUE),
    ];
    h.push_str("<figure><figcaption>Steps by outcome</figcaption><p class=\"legend\">");
    for (name, colour) in parts {
        let _ = write!(
            h,
            "<span><i class=\"sw\" style=\"background:{colour}\"></i>{name}</span>"
        );
    }
    h.push_str("</p>");
    let max = r
        .automations
        .values()
        .map(|a| a.succeeded + a.failed + a.held + a.shadowed)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let row = 26.0;
    let label_w = 200.0;
    let width = 760.0;
    let height = r.automations.len() as f64 * row + 10.0;
    let _ = write!(
        h,
        "<div class=\"wrap\"><svg role=\"img\" aria-label=\"automation outcomes\" width=\"{width}\" \
         height=\"{height}\" viewBox=\"0 0 {width} {height}\">"
    );
    for (i, (name, a)) in r.automations.iter().enumerate() {
        let y = 5.0 + i as f64 * row;
        let _ = write!(h, "<text x=\"0\" y=\"{}\">{}</text>", y + 16.0, esc(name));
        let mut x = label_w;
        for ((part, colour), n) in parts
            .iter()
            .zip([a.succeeded, a.failed, a.held, a.shadowed])
        {
            if n == 0 {
                continue;
            }
            let w = n as f64 / max * (width - label_w - 10.0);
            let _ = write!(
                h,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"20\" fill=\"{colour}\">\
                 <title>{}: {n} {part}</title></rect>",
                esc(name)
            );
            x += w;
        }
    }
    h.push_str("</svg></div></figure>\n");
}
