//! Rendering a [`Report`]: a terminal summary, JSON (the figures as they are), CSV (one
//! row per figure) and one self-contained HTML page with charts.

mod csv;
pub mod explain;
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
