//! Rendering a [`Report`]: a terminal summary, JSON (the figures as they are), CSV (one
//! row per figure) and one self-contained HTML page with charts.

mod csv;
pub mod explain;
pub mod explain_html;
mod html;
pub mod replay;
mod tables;
mod text;

use crate::model::Report;

/// An output format (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    Csv,
    Html,
}

impl Format {
    pub fn parse(text: &str) -> Option<Format> {
        Some(match text {
            "text" => Format::Text,
            "json" => Format::Json,
            "csv" => Format::Csv,
            "html" => Format::Html,
            _ => return None,
        })
    }
}

pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report)
                .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
            s.push('\n');
            s
        }
        Format::Csv => csv::render(report),
        Format::Html => html::render(report),
    }
}

/// A duration in seconds for people (`None` → `-`).
fn secs(v: Option<i64>) -> String {
    v.map_or_else(|| "-".into(), crate::stats::format_seconds)
}

/// A percentage for people (`None` → `-`).
fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |p| format!("{p:.1}%"))
}

/// A figure for people: whole numbers without decimals, others with one (`3`, `33.3`).
fn figure(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// For pages that embed reports (the console in `meshline serve`): the same sections,
/// charts and CSS as `--format html`, without a page around them.
pub mod page {
    use crate::model::Report;

    /// The CSS every page shares (WCAG 2.1 AA contrast on white).
    pub const STYLE: &str = super::html::STYLE;

    /// A report's sections, charts and tables as HTML.
    pub fn sections(r: &Report) -> String {
        let mut h = String::with_capacity(64 * 1024);
        super::html::sections(&mut h, r);
        h
    }

    /// Text for HTML content and attribute values.
    pub fn esc(text: &str) -> String {
        super::html::esc(text)
    }

    /// The per-automation table of the report (runs, outcomes, success and exception rates).
    pub fn automations(r: &Report) -> String {
        let mut h = String::new();
        super::html::grid(&mut h, &super::tables::automations(r));
        h
    }
}
