//! Machine-readable JSON for [`Diagnostic`]s (`--format json`): one object per diagnostic,
//! and JSON Lines for streams.
//!
//! This module owns the JSON wire format, declared as dedicated serde DTOs so the internal
//! types can change without changing the output:
//!
//! ```text
//! {"code","severity","message","file","label","span":{"start","end"},
//!  "start":{"line","column"},"end":{"line","column"},
//!  "labels":[{"file","message","span","start","end"}],"notes":[..],"help":string|null}
//! ```
//!
//! `span` is in bytes; `line` and `column` are 1-based and columns count characters (Unicode
//! scalar values). `label` is the primary label's text; `labels` are the secondary labels.
//! Spans are clamped to the file's text; when a file's text is unavailable, its `start` and
//! `end` are `null` and `span` is given as recorded.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Diagnostic, Label, SourceMap};
use crate::source::{LineIndex, Span};

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'static str,
    severity: &'static str,
    message: &'a str,
    file: &'a str,
    label: &'a str,
    span: JsonSpan,
    start: Option<JsonPos>,
    end: Option<JsonPos>,
    labels: Vec<JsonLabel<'a>>,
    notes: &'a [String],
    help: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    message: &'a str,
    span: JsonSpan,
    start: Option<JsonPos>,
    end: Option<JsonPos>,
}

#[derive(Serialize)]
struct JsonSpan {
    start: u32,
    end: u32,
}

#[derive(Serialize)]
struct JsonPos {
    line: u32,
    column: u32,
}

/// Line indexes of the files seen so far, so a batch indexes each file once.
struct Positions<'s> {
    sources: &'s dyn SourceMap,
    indexes: BTreeMap<String, Option<(&'s str, LineIndex)>>,
}

impl<'s> Positions<'s> {
    fn new(sources: &'s dyn SourceMap) -> Self {
        Positions {
            sources,
            indexes: BTreeMap::new(),
        }
    }

    /// The clamped span and its 1-based character positions, if the file's text is known.
    fn locate(&mut self, file: &str, span: Span) -> (JsonSpan, Option<JsonPos>, Option<JsonPos>) {
        let sources = self.sources;
        let entry = self
            .indexes
            .entry(file.to_string())
            .or_insert_with(|| sources.text(file).map(|t| (t, LineIndex::new(t))));
        match entry {
            Some((text, index)) => {
                let span = span.clamp_to(text);
                let pos = |offset: u32| {
                    let p = index.char_pos(text, offset as usize);
                    JsonPos {
                        line: p.line + 1,
                        column: p.col + 1,
                    }
                };
                (
                    JsonSpan {
                        start: span.start,
                        end: span.end,
                    },
                    Some(pos(span.start)),
                    Some(pos(span.end)),
                )
            }
            None => (
                JsonSpan {
                    start: span.start,
                    end: span.end,
                },
                None,
                None,
            ),
        }
    }

    fn diagnostic<'a>(&mut self, diag: &'a Diagnostic) -> JsonDiagnostic<'a> {
        let (span, start, end) = self.locate(&diag.primary.file, diag.primary.span);
        JsonDiagnostic {
            code: diag.code.as_str(),
            severity: diag.severity.as_str(),
            message: &diag.message,
            file: &diag.primary.file,
            label: &diag.primary.message,
            span,
            start,
            end,
            labels: diag.secondary.iter().map(|l| self.label(l)).collect(),
            notes: &diag.notes,
            help: diag.help.as_deref(),
        }
    }

    fn label<'a>(&mut self, label: &'a Label) -> JsonLabel<'a> {
        let (span, start, end) = self.locate(&label.file, label.span);
        JsonLabel {
            file: &label.file,
            message: &label.message,
            span,
            start,
            end,
        }
    }
}

/// One diagnostic as a JSON value.
pub fn to_json(diag: &Diagnostic, sources: &dyn SourceMap) -> serde_json::Value {
    let dto = Positions::new(sources).diagnostic(diag);
    serde_json::to_value(dto).unwrap_or(serde_json::Value::Null)
}

/// JSON Lines: one compact object per diagnostic, in the order given (fields in declaration
/// order), each line ending with `\n`. Empty input gives an empty string.
pub fn to_json_lines(diags: &[Diagnostic], sources: &dyn SourceMap) -> String {
    let mut positions = Positions::new(sources);
    let mut out = String::new();
    for diag in diags {
        let dto = positions.diagnostic(diag);
        // Serializing these DTOs cannot fail: all keys are strings and there are no floats.
        if let Ok(line) = serde_json::to_string(&dto) {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::diagnostics::{Code, FileName};

    fn files(list: &[(&str, &str)]) -> BTreeMap<FileName, String> {
        list.iter()
            .map(|(f, t)| (FileName::from(*f), t.to_string()))
            .collect()
    }

    #[test]
    fn full_shape() {
        let a = "name x\né€😀 ops = 1\n";
        let b = "ops = 2\n";
        let fa: FileName = "rules/a.mesh".into();
        let fb: FileName = "rules/b.mesh".into();
        let map = files(&[("rules/a.mesh", a), ("rules/b.mesh", b)]);
        let start = a.find("ops").unwrap();
        let diag = Diagnostic::new(
            Code::DuplicateName,
            &fa,
            Span::new(start, start + 3),
            "duplicate name `ops`",
            "second",
        )
        .with_label(&fb, Span::new(0, 3), "first")
        .with_note("names are project-wide")
        .with_help("rename one");
        assert_eq!(
            to_json(&diag, &map),
            json!({
                "code": "E0101",
                "severity": "error",
                "message": "duplicate name `ops`",
                "file": "rules/a.mesh",
                "label": "second",
                "span": {"start": start, "end": start + 3},
                "start": {"line": 2, "column": 5},
                "end": {"line": 2, "column": 8},
                "labels": [{
                    "file": "rules/b.mesh",
                    "message": "first",
                    "span": {"start": 0, "end": 3},
                    "start": {"line": 1, "column": 1},
                    "end": {"line": 1, "column": 4},
                }],
                "notes": ["names are project-wide"],
                "help": "rename one",
            })
        );
    }

    #[test]
    fn missing_text_gives_null_positions() {
        let f: FileName = "gone.mesh".into();
        let diag = Diagnostic::new(Code::Unused, &f, Span::new(3, 5), "unused", "");
        let v = to_json(&diag, &files(&[]));
        assert_eq!(v["severity"], "warning");
        assert_eq!(v["span"], json!({"start": 3, "end": 5}));
        assert!(v["start"].is_null() && v["end"].is_null());
        assert!(v["help"].is_null());
        assert_eq!(v["labels"], json!([]));
        assert_eq!(v["notes"], json!([]));
    }

    #[test]
    fn spans_are_clamped() {
        let f: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", "é")]);
        let diag = Diagnostic::new(Code::Syntax, &f, Span::new(1, 99), "m", "");
        let v = to_json(&diag, &map);
        assert_eq!(v["span"], json!({"start": 0, "end": 2}));
        assert_eq!(v["end"], json!({"line": 1, "column": 2}));
    }

    #[test]
    fn json_lines_are_compact_and_ordered() {
        let f: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", "a\nb\n")]);
        let diags = vec![
            Diagnostic::new(Code::Syntax, &f, Span::new(2, 3), "second line", "x"),
            Diagnostic::new(Code::Unused, &f, Span::new(0, 1), "first line", "y"),
        ];
        let out = to_json_lines(&diags, &map);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        assert!(out.ends_with('\n'));
        assert!(
            lines[0].starts_with(
                r#"{"code":"E0001","severity":"error","message":"second line","file":"a.mesh""#
            ),
            "{}",
            lines[0]
        );
        for (line, diag) in lines.iter().zip(&diags) {
            assert!(
                !line.contains(": ") && !line.contains(", "),
                "compact: {line}"
            );
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            assert_eq!(v, to_json(diag, &map));
        }
        assert_eq!(to_json_lines(&[], &map), "");
    }
}
