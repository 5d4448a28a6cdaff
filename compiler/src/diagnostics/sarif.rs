//! SARIF 2.1.0 output (`--format sarif`), for code-scanning services and SARIF viewers.
//!
//! This module owns the SARIF log layout: one run whose `tool.driver.rules` has one
//! reportingDescriptor per [`Code`] (in [`Code::ALL`] order, so `ruleIndex` is the position
//! in that list), and one result per diagnostic. Artifact URIs are the project-relative file
//! names, percent-encoded, relative to the `%SRCROOT%` base (the project root).
//!
//! Units: SARIF's default `columnKind` is `utf16CodeUnits`, and the run says so explicitly.
//! Lines and columns are 1-based; `endColumn` is exclusive; `charOffset`/`charLength` count
//! UTF-16 code units from the start of the file, like the columns. When a file's text is not
//! available, the region carries the byte range (`byteOffset`/`byteLength`) instead.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::{Code, Diagnostic, Label, Severity, SourceMap};
use crate::source::{LineIndex, Span};

/// The schema every log names.
pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// The `uriBaseId` of every artifact location: the project root.
pub const SRCROOT: &str = "%SRCROOT%";

/// A SARIF 2.1.0 log with one run holding `diags` as results, in the order given.
pub fn to_sarif(diags: &[Diagnostic], sources: &dyn SourceMap, tool_version: &str) -> Value {
    let rules: Vec<Value> = Code::ALL.iter().map(|&code| rule(code)).collect();
    let mut regions = Regions::new(sources);
    let results: Vec<Value> = diags.iter().map(|d| result(d, &mut regions)).collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "meshline",
                    "version": tool_version,
                    "informationUri": "https://meshline.dev",
                    "rules": rules,
                }
            },
            "originalUriBaseIds": {
                SRCROOT: {
                    "description": {
                        "text": "The project root: the directory that holds meshline.toml."
                    }
                }
            },
            "columnKind": "utf16CodeUnits",
            "results": results,
        }]
    })
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A rule name from a title, as a Pascal-case identifier (what SARIF validators expect):
/// `"duplicate name"` → `"DuplicateName"`, `"SLA without breach action"` →
/// `"SlaWithoutBreachAction"`, `"waiver without a reason"` → `"WaiverWithoutReason"`.
/// Anything but letters and digits separates words; the articles a/an/the are dropped (a
/// one-letter word would put two capitals in a row).
pub fn rule_name(title: &str) -> String {
    let mut name = String::new();
    let words = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty());
    for word in words.filter(|w| !matches!(w.to_ascii_lowercase().as_str(), "a" | "an" | "the")) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            name.push(first.to_ascii_uppercase());
            name.extend(chars.map(|c| c.to_ascii_lowercase()));
        }
    }
    name
}

fn rule(code: Code) -> Value {
    json!({
        "id": code.as_str(),
        "name": rule_name(code.title()),
        "shortDescription": { "text": code.title() },
        "defaultConfiguration": { "level": level(code.default_severity()) },
        "helpUri": format!(
            "https://meshline.dev/docs/diagnostics#{}",
            code.as_str().to_ascii_lowercase()
        ),
    })
}

fn rule_index(code: Code) -> usize {
    Code::ALL.iter().position(|&c| c == code).unwrap_or(0)
}

fn result(diag: &Diagnostic, regions: &mut Regions<'_>) -> Value {
    let mut text = diag.message.clone();
    if let Some(help) = &diag.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let mut result = json!({
        "ruleId": diag.code.as_str(),
        "ruleIndex": rule_index(diag.code),
        "level": level(diag.severity),
        "message": { "text": text },
        "locations": [regions.location(&diag.primary, None)],
    });
    if !diag.secondary.is_empty() {
        let related: Vec<Value> = diag
            .secondary
            .iter()
            .enumerate()
            .map(|(i, label)| regions.location(label, Some(i)))
            .collect();
        result["relatedLocations"] = Value::Array(related);
    }
    result
}

/// Percent-encode a project-relative file name as a relative URI reference: forward slashes,
/// unreserved characters kept, everything else (including non-ASCII) as `%XX` UTF-8 bytes.
pub fn file_uri(file: &str) -> String {
    let mut uri = String::new();
    for b in file.replace('\\', "/").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri
}

/// Line indexes of the files seen so far, so a log indexes each file once.
struct Regions<'s> {
    sources: &'s dyn SourceMap,
    indexes: BTreeMap<String, Option<(&'s str, LineIndex)>>,
}

impl<'s> Regions<'s> {
    fn new(sources: &'s dyn SourceMap) -> Self {
        Regions {
            sources,
            indexes: BTreeMap::new(),
        }
    }

    /// The region of `span` in `file`, and when the text is known and the region is not
    /// already whole lines, a context region: the whole lines the region is on, without the
    /// final line break.
    fn regions(&mut self, file: &str, span: Span) -> (Value, Option<Value>) {
        let sources = self.sources;
        let entry = self
            .indexes
            .entry(file.to_string())
            .or_insert_with(|| sources.text(file).map(|t| (t, LineIndex::new(t))));
        let Some((text, index)) = entry else {
            let span = Span::new(span.start as usize, span.end as usize);
            return (
                json!({ "byteOffset": span.start, "byteLength": span.len() }),
                None,
            );
        };
        let span = span.clamp_to(text);
        let first = index.line_start(index.line_of(span.start as usize));
        let last_line = index.line_of(span.end as usize);
        let mut line_end = if last_line + 1 < index.line_count() {
            index.line_start(last_line + 1) - 1
        } else {
            text.len()
        };
        if text[..line_end].ends_with('\r') {
            line_end -= 1;
        }
        let context = Span::new(first, line_end.max(span.end as usize));
        // SARIF wants a proper superset: no context region when it would equal the region.
        let context = (context != span).then(|| text_region(text, index, context));
        (text_region(text, index, span), context)
    }

    /// A location; related locations (`id` given) carry an id and the label's message.
    fn location(&mut self, label: &Label, id: Option<usize>) -> Value {
        let (region, context) = self.regions(&label.file, label.span);
        let mut physical = json!({
            "artifactLocation": { "uri": file_uri(&label.file), "uriBaseId": SRCROOT },
            "region": region,
        });
        if let Some(context) = context {
            physical["contextRegion"] = context;
        }
        let mut location = json!({ "physicalLocation": physical });
        if let Some(id) = id {
            location["id"] = json!(id);
            if !label.message.is_empty() {
                location["message"] = json!({ "text": label.message });
            }
        }
        location
    }
}

/// A text region for a clamped span: 1-based lines, UTF-16 columns (end exclusive), UTF-16
/// char offset and length, and the spanned text as the snippet.
fn text_region(text: &str, index: &LineIndex, span: Span) -> Value {
    let start = index.utf16_pos(text, span.start as usize);
    let end = index.utf16_pos(text, span.end as usize);
    json!({
        "startLine": start.line + 1,
        "startColumn": start.col + 1,
        "endLine": end.line + 1,
        "endColumn": end.col + 1,
        "charOffset": utf16_len(&text[..span.start as usize]),
        "charLength": utf16_len(&text[span.range()]),
        "snippet": { "text": &text[span.range()] },
    })
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::FileName;

    fn files(list: &[(&str, &str)]) -> BTreeMap<FileName, String> {
        list.iter()
            .map(|(f, t)| (FileName::from(*f), t.to_string()))
            .collect()
    }

    /// A log exercising every shape: non-ASCII before a span, a multi-line span, a related
    /// location in another file, a file without text, every severity.
    fn sample() -> (Vec<Diagnostic>, BTreeMap<FileName, String>) {
        let a = "name billing\nlet motto = \"é€😀\" owner ops\nsla x {\n  target 4h\n}\n";
        let b = "owners {\n  ops: team\n}\n";
        let fa: FileName = "rules/billing.mesh".into();
        let fb: FileName = "rules/team owners.mesh".into();
        let gone: FileName = "std/helpdesk.mesh".into();
        let map = files(&[("rules/billing.mesh", a), ("rules/team owners.mesh", b)]);
        let ops = a.find("ops").unwrap();
        let sla = a.find("sla").unwrap();
        let mut note = Diagnostic::new(
            Code::NeedlessUnwrap,
            &gone,
            Span::new(10, 12),
            "`!` on `x`",
            "",
        );
        note.severity = Severity::Note;
        let diags = vec![
            Diagnostic::new(
                Code::DuplicateName,
                &fa,
                Span::new(ops, ops + 3),
                "duplicate name `ops`",
                "second",
            )
            .with_label(&fb, Span::new(11, 14), "first declared here")
            .with_help("rename one of them"),
            Diagnostic::new(
                Code::SlaWithoutBreach,
                &fa,
                Span::new(sla, a.len() - 1),
                "SLA `x` has no breach action",
                "",
            )
            .with_note("every SLA says what happens on breach"),
            Diagnostic::new(
                Code::Unused,
                &fa,
                Span::new(5, 12),
                "unused declaration `billing`",
                "never used",
            ),
            note,
        ];
        (diags, map)
    }

    #[test]
    fn log_shape_and_rules() {
        let (diags, map) = sample();
        let log = to_sarif(&diags, &map, "0.1.0");
        assert_eq!(log["$schema"], SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        let run = &log["runs"][0];
        assert_eq!(log["runs"].as_array().unwrap().len(), 1);
        assert_eq!(run["columnKind"], "utf16CodeUnits");
        let driver = &run["tool"]["driver"];
        assert_eq!(driver["name"], "meshline");
        assert_eq!(driver["version"], "0.1.0");
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), Code::ALL.len());
        let dup = &rules[rule_index(Code::DuplicateName)];
        assert_eq!(dup["id"], "E0101");
        assert_eq!(dup["name"], "DuplicateName");
        assert_eq!(dup["shortDescription"]["text"], "duplicate name");
        assert_eq!(dup["defaultConfiguration"]["level"], "error");
        assert_eq!(
            dup["helpUri"],
            "https://meshline.dev/docs/diagnostics#e0101"
        );
        assert_eq!(
            rules[rule_index(Code::Unused)]["defaultConfiguration"]["level"],
            "warning"
        );
        assert_eq!(
            rule_name("SLA without breach action"),
            "SlaWithoutBreachAction"
        );
        assert_eq!(
            rule_name("`!` on a value that is not optional"),
            "OnValueThatIsNotOptional"
        );
        assert_eq!(
            rule_name("top-level name equals a case fact"),
            "TopLevelNameEqualsCaseFact"
        );
        for r in rules {
            // Pascal case: a capital, then lower case and digits, and no two capitals in a row.
            let name = r["name"].as_str().unwrap();
            assert!(name.starts_with(|c: char| c.is_ascii_uppercase()), "{name}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric()), "{name}");
            assert!(
                !name
                    .as_bytes()
                    .windows(2)
                    .any(|w| w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase()),
                "{name}"
            );
        }
        let results = run["results"].as_array().unwrap();
        assert_eq!(results.len(), 4);
        for (r, d) in results.iter().zip(&diags) {
            let idx = r["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[idx]["id"], r["ruleId"]);
            assert_eq!(r["ruleId"], d.code.as_str());
        }
        assert_eq!(results[0]["level"], "error");
        assert_eq!(results[2]["level"], "warning");
        assert_eq!(results[3]["level"], "note");
        assert_eq!(
            results[0]["message"]["text"],
            "duplicate name `ops`\nhelp: rename one of them"
        );
    }

    #[test]
    fn regions_in_utf16_units() {
        let (diags, map) = sample();
        let log = to_sarif(&diags, &map, "0.1.0");
        let results = &log["runs"][0]["results"];
        let loc = &results[0]["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "rules/billing.mesh");
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        // `let motto = "é€😀" owner ops`: é and € are one UTF-16 unit each, 😀 two.
        let region = &loc["region"];
        let prefix = "let motto = \"é€😀\" owner ";
        let col = prefix.encode_utf16().count() as u64 + 1;
        assert_eq!(region["startLine"], 2);
        assert_eq!(region["startColumn"], col);
        assert_eq!(region["endLine"], 2);
        assert_eq!(region["endColumn"], col + 3);
        let offset = "name billing\n".len() as u64 + col - 1;
        assert_eq!(region["charOffset"], offset);
        assert_eq!(region["charLength"], 3);
        assert_eq!(region["snippet"]["text"], "ops");
        let context = &loc["contextRegion"];
        assert_eq!(context["snippet"]["text"], "let motto = \"é€😀\" owner ops");
        assert_eq!(
            (context["startLine"].as_u64(), context["endLine"].as_u64()),
            (Some(2), Some(2))
        );
        assert_eq!(
            (
                context["startColumn"].as_u64(),
                context["endColumn"].as_u64()
            ),
            (Some(1), Some(col + 3))
        );
        assert_eq!(context["charOffset"], "name billing\n".len());

        // Related location in another file, with a space in its name.
        let related = &results[0]["relatedLocations"][0];
        assert_eq!(related["id"], 0);
        assert_eq!(related["message"]["text"], "first declared here");
        let loc = &related["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "rules/team%20owners.mesh");
        assert_eq!(loc["region"]["startLine"], 2);
        assert_eq!(loc["region"]["startColumn"], 3);

        // Multi-line span.
        let region = &results[1]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["endLine"].as_u64()),
            (Some(3), Some(5))
        );
        assert_eq!(
            (region["startColumn"].as_u64(), region["endColumn"].as_u64()),
            (Some(1), Some(2))
        );
        // It covers whole lines, so a context region would not be a proper superset.
        assert!(
            results[1]["locations"][0]["physicalLocation"]
                .get("contextRegion")
                .is_none()
        );

        // No text: byte range only.
        let region = &results[3]["locations"][0]["physicalLocation"]["region"];
        assert_eq!(*region, json!({ "byteOffset": 10, "byteLength": 2 }));
        assert!(
            results[3]["locations"][0]["physicalLocation"]
                .get("contextRegion")
                .is_none()
        );
        assert!(results[3].get("relatedLocations").is_none());
    }

    #[test]
    fn uris() {
        assert_eq!(file_uri("rules/a-b_c.mesh"), "rules/a-b_c.mesh");
        assert_eq!(file_uri("rules\\win.mesh"), "rules/win.mesh");
        assert_eq!(file_uri("règles/#1.mesh"), "r%C3%A8gles/%231.mesh");
    }

    #[test]
    fn empty_log_is_valid_shape() {
        let log = to_sarif(&[], &files(&[]), "0.1.0");
        assert_eq!(log["runs"][0]["results"], json!([]));
    }

    /// Round-trips the sample log; with `MESHLINE_SARIF_SAMPLE=/tmp/sample.sarif` it also
    /// writes it there, for `sarif-multitool validate /tmp/sample.sarif`.
    #[test]
    fn write_sample_log() {
        let (diags, map) = sample();
        let log = to_sarif(&diags, &map, "0.1.0");
        let text = serde_json::to_string_pretty(&log).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, log);
        if let Ok(path) = std::env::var("MESHLINE_SARIF_SAMPLE") {
            std::fs::write(path, text).unwrap();
        }
    }
}
