//! Rendering test results: one line per test, failures with the source of the failing step
//! (ariadne, byte-indexed), a JSON line format, and JUnit XML for CI systems.

use std::fmt::Write as _;

use ariadne::{Config, IndexType, Label, Report, ReportKind, Source};

use super::Outcome;
use super::acceptance::Report as AcceptanceReport;
use crate::diagnostics::SourceMap;

/// A failure with the failing step's source shown.
pub fn render_failure(o: &Outcome, sources: &dyn SourceMap, color: bool) -> String {
    let Some(f) = &o.failure else {
        return String::new();
    };
    let mut out = Vec::new();
    match sources.text(&f.file) {
        Some(text) => {
            let span = f.span.clamp_to(text);
            let file: &str = &f.file;
            let report = Report::build(ReportKind::Error, (file, span.range()))
                .with_config(
                    Config::default()
                        .with_index_type(IndexType::Byte)
                        .with_color(color),
                )
                .with_message(format!("test \"{}\" failed", o.name))
                .with_label(Label::new((file, span.range())).with_message(&f.message))
                .finish();
            let _ = report.write((file, Source::from(text)), &mut out);
        }
        None => {
            out.extend_from_slice(
                format!("test \"{}\" failed: {}\n", o.name, f.message).as_bytes(),
            );
        }
    }
    let mut s = String::from_utf8_lossy(&out).into_owned();
    if !f.ledger.is_empty() {
        s.push_str("  the case's ledger (latest entries):\n");
        for l in &f.ledger {
            let _ = writeln!(s, "    {l}");
        }
    }
    s
}

pub fn acceptance_summary(r: &AcceptanceReport) -> String {
    let mut s = format!(
        "acceptance {}: {} samples, precision {}, recall {}, false positive rate {}\n  confusion (expected → predicted):",
        r.automation,
        r.samples,
        super::acceptance::show(r.precision),
        super::acceptance::show(r.recall),
        super::acceptance::show(r.false_positive_rate)
    );
    for ((e, p), n) in &r.confusion {
        let _ = write!(s, " {e}→{p}: {n};");
    }
    s.push('\n');
    for f in &r.failures {
        let _ = writeln!(s, "  FAILED: {f}");
    }
    s
}

fn xml(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one `<testcase>` per test and per acceptance set.
pub fn junit(package: &str, tests: &[Outcome], acceptance: &[AcceptanceReport]) -> String {
    let failures = tests.iter().filter(|t| !t.passed()).count()
        + acceptance.iter().filter(|a| !a.passed()).count();
    let total = tests.len() + acceptance.len();
    let secs: f64 = tests.iter().map(|t| t.millis).sum::<f64>() / 1000.0;
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"meshline\" tests=\"{total}\" failures=\"{failures}\" time=\"{secs:.3}\">"
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{total}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{secs:.3}\">",
        xml(package)
    );
    for t in tests {
        let _ = write!(
            s,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
            xml(&t.file),
            xml(&t.name),
            t.millis / 1000.0
        );
        match &t.failure {
            None => s.push_str("/>\n"),
            Some(f) => {
                let body = format!("{}: {}\n{}", f.location, f.message, f.ledger.join("\n"));
                let _ = writeln!(
                    s,
                    ">\n      <failure message=\"{}\" type=\"expectation\">{}</failure>\n    </testcase>",
                    xml(&f.message),
                    xml(&body)
                );
            }
        }
    }
    for a in acceptance {
        let _ = write!(
            s,
            "    <testcase classname=\"acceptance\" name=\"{}\" time=\"0\"",
            xml(&a.automation)
        );
        if a.passed() {
            s.push_str("/>\n");
        } else {
            let _ = writeln!(
                s,
                ">\n      <failure message=\"{}\" type=\"threshold\">{}</failure>\n    </testcase>",
                xml(&a.failures.join("; ")),
                xml(&acceptance_summary(a))
            );
        }
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
