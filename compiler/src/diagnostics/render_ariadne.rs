//! Terminal rendering of [`Diagnostic`]s with ariadne: the report people read.
//!
//! This module owns the adapter from Meshline's diagnostic type to ariadne 0.6. Spans are
//! byte ranges (pest reports bytes), so the report is configured with
//! [`IndexType::Byte`]; handing byte offsets to ariadne's char indexing would misplace every
//! label after a non-ASCII character. Labels may point into several files; every file named
//! by a label is put into one ariadne cache.
//!
//! One exception, for an ariadne 0.6.0 bug: in byte mode, the `├─[ file:line:col ]` header
//! of a group in a *secondary* file is computed from the label's char offset read as a byte
//! offset, which gives a wrong column, or a panic (mid-character slice), when that file has
//! non-ASCII text before the label. Only in that case are all spans converted to char offsets
//! here and the report configured with [`IndexType::Char`], which is consistent throughout.
//!
//! Nothing here panics on bad input: spans are clamped to their file's text, a label whose
//! file text is missing becomes a note, and a diagnostic whose primary file text is missing
//! (or that ariadne fails on) is rendered as plain text (`error[E0101]: message` /
//! `  --> file:?`).

use std::ops::Range;

use ariadne::{Color, Config, IndexType, Label as AriadneLabel, Report, ReportKind};

use super::{Diagnostic, FileName, Label, Severity, SourceMap};
use crate::source::LineIndex;

/// An ariadne span: a file and a byte range in it.
type AriadneSpan = (FileName, Range<usize>);

/// Render one diagnostic as an ariadne report. With `color == false` the output contains no
/// ANSI escape sequences. The output always ends with a newline.
pub fn render_ariadne(diag: &Diagnostic, sources: &dyn SourceMap, color: bool) -> String {
    if sources.text(&diag.primary.file).is_none() {
        return render_plain(diag);
    }
    // ariadne has known rough edges ("Yes, it has some bugs", says its source); a rendering
    // bug must never take the compiler down with it, so fall back to plain text.
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        render_report(diag, sources, color)
    })) {
        Ok(Some(out)) => out,
        Ok(None) | Err(_) => render_plain(diag),
    }
}

/// Render many diagnostics, in the order given, separated by blank lines.
pub fn render_all(diags: &[Diagnostic], sources: &dyn SourceMap, color: bool) -> String {
    let mut out = String::new();
    for (i, diag) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&render_ariadne(diag, sources, color));
    }
    out
}

/// One label, ready for ariadne: clamped byte range and the line its end falls on.
struct Placed<'a> {
    label: &'a Label,
    primary: bool,
    range: Range<usize>,
    end_line: usize,
}

fn render_report(diag: &Diagnostic, sources: &dyn SourceMap, color: bool) -> Option<String> {
    let primary_file = diag.primary.file.clone();
    let mut texts: Vec<(FileName, &str)> = Vec::new();
    let mut placed: Vec<Placed<'_>> = Vec::new();
    let mut unplaced: Vec<&Label> = Vec::new();

    let all =
        std::iter::once((&diag.primary, true)).chain(diag.secondary.iter().map(|l| (l, false)));
    for (label, primary) in all {
        let Some(text) = sources.text(&label.file) else {
            unplaced.push(label);
            continue;
        };
        if !texts.iter().any(|(f, _)| *f == label.file) {
            texts.push((label.file.clone(), text));
        }
        let span = label.span.clamp_to(text);
        let range = span.range();
        // ariadne groups labels by the line their last character is on.
        let last = if range.is_empty() {
            range.start
        } else {
            range.end - 1
        };
        let end_line = LineIndex::new(text).line_of(last);
        placed.push(Placed {
            label,
            primary,
            range,
            end_line,
        });
    }

    // ariadne starts a new source group whenever a label's file changes or its line goes
    // backwards, so labels must arrive sorted: the primary file first, then other files by
    // name, and within a file by line and start (ties: primary first).
    placed.sort_by(|a, b| {
        let key = |p: &Placed<'_>| {
            (
                p.label.file != primary_file,
                p.label.file.clone(),
                p.end_line,
                p.range.start,
                p.range.end,
                !p.primary,
            )
        };
        key(a).cmp(&key(b))
    });

    // Work around ariadne's secondary-file header bug (see the module docs): if the first
    // label of some other file's group has non-ASCII text before it, use char offsets.
    let use_chars = placed.iter().enumerate().any(|(i, p)| {
        let first_in_file = i == 0 || placed[i - 1].label.file != p.label.file;
        first_in_file
            && p.label.file != primary_file
            && texts
                .iter()
                .find(|(f, _)| *f == p.label.file)
                .is_some_and(|(_, t)| !t[..p.range.start].is_ascii())
    });
    let units = |file: &FileName, range: &Range<usize>| -> Range<usize> {
        if !use_chars {
            return range.clone();
        }
        let text = texts
            .iter()
            .find(|(f, _)| f == file)
            .map_or("", |(_, t)| *t);
        let chars = |o: usize| text[..o].chars().count();
        chars(range.start)..chars(range.end)
    };

    let primary_range = units(&primary_file, &placed.iter().find(|p| p.primary)?.range);
    let kind = match diag.severity {
        Severity::Error => ReportKind::Error,
        Severity::Warning => ReportKind::Warning,
        Severity::Note => ReportKind::Advice,
    };
    let primary_color = match diag.severity {
        Severity::Error => Color::Red,
        Severity::Warning => Color::Yellow,
        Severity::Note => Color::Cyan,
    };
    let config = Config::default()
        .with_index_type(IndexType::Byte)
        .with_color(color);
    let config = if use_chars {
        config.with_index_type(IndexType::Char)
    } else {
        config
    };

    let mut builder = Report::build(kind, (primary_file.clone(), primary_range))
        .with_config(config)
        .with_code(diag.code.as_str())
        .with_message(&diag.message);
    for p in &placed {
        let mut label: AriadneLabel<AriadneSpan> =
            AriadneLabel::new((p.label.file.clone(), units(&p.label.file, &p.range))).with_order(0);
        if !p.label.message.is_empty() {
            label = label.with_message(&p.label.message);
        }
        if p.primary {
            label = label.with_priority(1);
        }
        if color {
            label = label.with_color(if p.primary {
                primary_color
            } else {
                Color::Blue
            });
        }
        builder.add_label(label);
    }
    for label in &unplaced {
        // Only secondary labels get here: the primary file's text was checked above.
        let mut note = format!("{}:?", label.file);
        if !label.message.is_empty() {
            note.push_str(": ");
            note.push_str(&label.message);
        }
        builder.add_note(note);
    }
    for note in &diag.notes {
        builder.add_note(note);
    }
    if let Some(help) = &diag.help {
        builder.add_help(help);
    }

    let mut out = Vec::new();
    builder
        .finish()
        .write(ariadne::sources(texts), &mut out)
        .ok()?;
    // ariadne pads some lines with spaces; drop them so snapshots survive editors.
    let mut text = String::new();
    for line in String::from_utf8_lossy(&out).lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    Some(text)
}

/// The rendering used when the primary file's text is not available.
fn render_plain(diag: &Diagnostic) -> String {
    let mut out = format!(
        "{}[{}]: {}\n  --> {}:?\n",
        diag.severity.as_str(),
        diag.code.as_str(),
        diag.message,
        diag.primary.file
    );
    let labels = std::iter::once(&diag.primary).chain(&diag.secondary);
    for (i, label) in labels.enumerate() {
        if label.message.is_empty() {
            continue;
        }
        if i == 0 {
            out.push_str(&format!("  = label: {}\n", label.message));
        } else {
            out.push_str(&format!("  = label: {}:?: {}\n", label.file, label.message));
        }
    }
    for note in &diag.notes {
        out.push_str(&format!("  = note: {note}\n"));
    }
    if let Some(help) = &diag.help {
        out.push_str(&format!("  = help: {help}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::diagnostics::Code;
    use crate::source::Span;

    fn files(list: &[(&str, &str)]) -> BTreeMap<FileName, String> {
        list.iter()
            .map(|(f, t)| (FileName::from(*f), t.to_string()))
            .collect()
    }

    fn span_of(text: &str, needle: &str) -> Span {
        let start = text.find(needle).expect("needle in text");
        Span::new(start, start + needle.len())
    }

    /// Display width of the test texts: the emoji is double width, everything else single.
    fn width(s: &str) -> usize {
        s.chars().map(|c| if c == '😀' { 2 } else { 1 }).sum()
    }

    #[test]
    fn caret_under_the_right_word_after_non_ascii() {
        let text = "rule first\nlet motto = \"é€😀\" owner ops\nend\n";
        let file: FileName = "rules/billing.mesh".into();
        let map = files(&[("rules/billing.mesh", text)]);
        let diag = Diagnostic::new(
            Code::UnknownName,
            &file,
            span_of(text, "ops"),
            "unknown name `ops`",
            "not declared anywhere",
        );
        let out = render_ariadne(&diag, &map, false);
        assert!(out.contains("[E0102] Error: unknown name `ops`"), "{out}");
        assert!(
            out.contains("rules/billing.mesh:2:25"),
            "location in chars: {out}"
        );
        assert!(out.contains("not declared anywhere"), "{out}");

        let lines: Vec<&str> = out.lines().collect();
        let src = lines
            .iter()
            .position(|l| l.contains("owner ops"))
            .expect("source line");
        let src_line = lines[src];
        let underline = lines[src + 1];
        // Display column of `ops` in the source line (the gutter is ASCII and box chars).
        let ops_byte = src_line.find("ops").unwrap();
        let ops_col = width(&src_line[..ops_byte]);
        let under_col = underline
            .chars()
            .position(|c| c == '─' || c == '┬')
            .expect("underline");
        assert_eq!(
            under_col, ops_col,
            "underline misplaced:\n{src_line}\n{underline}"
        );
        let under_len = underline
            .chars()
            .skip(under_col)
            .take_while(|c| *c == '─' || *c == '┬');
        assert_eq!(
            under_len.count(),
            3,
            "underline covers `ops` exactly:\n{underline}"
        );
    }

    #[test]
    fn no_ansi_without_color_and_ansi_with_color() {
        let text = "name ops\n";
        let file: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", text)]);
        let diag = Diagnostic::new(
            Code::DuplicateName,
            &file,
            span_of(text, "ops"),
            "dup",
            "here",
        )
        .with_note("a note")
        .with_help("rename it");
        let plain = render_ariadne(&diag, &map, false);
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert!(
            plain.lines().all(|l| l == l.trim_end()),
            "no trailing spaces: {plain}"
        );
        assert!(plain.contains("Note: a note"), "{plain}");
        assert!(plain.contains("Help: rename it"), "{plain}");
        let colored = render_ariadne(&diag, &map, true);
        assert!(colored.contains('\u{1b}'), "{colored}");
        // Deterministic.
        assert_eq!(plain, render_ariadne(&diag, &map, false));
    }

    #[test]
    fn labels_in_one_group_whatever_their_order() {
        let text = "name ops\nname billing\nname ops\n";
        let file: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", text)]);
        let second = text.rfind("ops").unwrap();
        let diag = Diagnostic::new(
            Code::DuplicateName,
            &file,
            Span::new(second, second + 3),
            "duplicate name `ops`",
            "second declaration",
        )
        .with_label(&file, Span::new(5, 8), "first declaration");
        let out = render_ariadne(&diag, &map, false);
        // One source group: the file header appears once and there is no cross separator.
        assert_eq!(out.matches("a.mesh:").count(), 1, "{out}");
        assert!(
            out.contains("a.mesh:3:6"),
            "header points at the primary: {out}"
        );
        let first = out.find("first declaration").unwrap();
        let second = out.find("second declaration").unwrap();
        assert!(first < second, "labels in source order: {out}");
    }

    #[test]
    fn labels_in_other_files() {
        let a = "import b.thing\n";
        let b = "é thing = 1\n";
        let fa: FileName = "rules/a.mesh".into();
        let fb: FileName = "rules/b.mesh".into();
        let map = files(&[("rules/a.mesh", a), ("rules/b.mesh", b)]);
        let diag = Diagnostic::new(
            Code::ImportConflict,
            &fa,
            span_of(a, "thing"),
            "conflict",
            "imported",
        )
        .with_label(&fb, span_of(b, "thing"), "declared here");
        let out = render_report(&diag, &map, false).expect("ariadne rendering");
        assert!(out.contains("rules/a.mesh:1:10"), "{out}");
        assert!(out.contains("rules/b.mesh:1:3"), "{out}");
        assert!(
            out.find("rules/a.mesh").unwrap() < out.find("rules/b.mesh").unwrap(),
            "{out}"
        );
        assert!(
            out.contains("declared here") && out.contains("imported"),
            "{out}"
        );
    }

    /// `word` (found via `context`, which starts with it) is underlined exactly.
    fn assert_underlined(out: &str, context: &str, word: &str) {
        let lines: Vec<&str> = out.lines().collect();
        let i = lines
            .iter()
            .position(|l| l.contains('│') && l.contains(context))
            .expect("source line");
        let line = lines[i];
        let col = width(&line[..line.find(context).unwrap()]);
        let under: Vec<char> = lines[i + 1].chars().collect();
        let is_under = |c: Option<&char>| matches!(c, Some('─' | '┬'));
        let msg = format!("underline misplaced:\n{line}\n{}", lines[i + 1]);
        assert!(col == 0 || !is_under(under.get(col - 1)), "{msg}");
        assert!(
            (col..col + word.chars().count()).all(|c| is_under(under.get(c))),
            "{msg}"
        );
        assert!(!is_under(under.get(col + word.chars().count())), "{msg}");
    }

    #[test]
    fn non_ascii_in_secondary_and_primary_files() {
        // Byte mode would panic here (byte 4 of the secondary file is inside `€`).
        let a = "import b.xyz\n";
        let b = "é€😀 xyz = 1\n";
        let fa: FileName = "rules/a.mesh".into();
        let fb: FileName = "rules/b.mesh".into();
        let map = files(&[("rules/a.mesh", a), ("rules/b.mesh", b)]);
        let diag = Diagnostic::new(
            Code::ImportConflict,
            &fa,
            span_of(a, "b.xyz"),
            "conflict",
            "imported",
        )
        .with_label(&fb, span_of(b, "xyz"), "declared here");
        let out = render_report(&diag, &map, false).expect("ariadne rendering");
        assert!(out.contains("rules/a.mesh:1:8"), "{out}");
        assert!(out.contains("rules/b.mesh:1:5"), "{out}");
        assert_underlined(&out, "b.xyz", "b.xyz");
        assert_underlined(&out, "xyz =", "xyz");

        // Non-ASCII in the primary file only: byte mode, both files right.
        let a = "é€😀 import b.xyz\n";
        let b = "xyz = 1\n";
        let map = files(&[("rules/a.mesh", a), ("rules/b.mesh", b)]);
        let diag = Diagnostic::new(
            Code::ImportConflict,
            &fa,
            span_of(a, "b.xyz"),
            "conflict",
            "imported",
        )
        .with_label(&fb, span_of(b, "xyz"), "declared here")
        .with_label(&fa, span_of(a, "import"), "in this import");
        let out = render_report(&diag, &map, false).expect("ariadne rendering");
        assert!(out.contains("rules/a.mesh:1:12"), "{out}");
        assert!(out.contains("rules/b.mesh:1:1"), "{out}");
        assert_eq!(
            out.matches("rules/a.mesh").count(),
            1,
            "one group per file: {out}"
        );
        assert_underlined(&out, "import b", "import");
        assert_underlined(&out, "b.xyz", "b.xyz");
        assert_underlined(&out, "xyz =", "xyz");
    }

    #[test]
    fn missing_texts_fall_back() {
        let file: FileName = "rules/gone.mesh".into();
        let other: FileName = "rules/also-gone.mesh".into();
        let map = files(&[]);
        let diag = Diagnostic::new(
            Code::DuplicateName,
            &file,
            Span::new(3, 9),
            "duplicate name `ops`",
            "",
        )
        .with_label(&other, Span::new(0, 1), "first here")
        .with_help("rename one");
        let out = render_ariadne(&diag, &map, false);
        assert!(
            out.starts_with("error[E0101]: duplicate name `ops`\n  --> rules/gone.mesh:?\n"),
            "{out}"
        );
        assert!(out.contains("rules/also-gone.mesh:?: first here"), "{out}");
        assert!(out.contains("= help: rename one"), "{out}");

        // Primary present, secondary missing: the secondary becomes a note.
        let text = "name ops\n";
        let map = files(&[("rules/gone.mesh", text)]);
        let out = render_ariadne(&diag, &map, false);
        assert!(out.contains("rules/gone.mesh:1:4"), "{out}");
        assert!(out.contains("rules/also-gone.mesh:?: first here"), "{out}");
    }

    #[test]
    fn bad_spans_never_panic() {
        let text = "ab\r\né€😀x\n\ttab\u{2028}sep\n";
        let file: FileName = "a.mesh".into();
        let other: FileName = "b.mesh".into();
        let map = files(&[("a.mesh", text), ("b.mesh", "é€\r\n😀x")]);
        let n = text.len() + 3;
        for start in 0..n {
            for end in 0..n {
                let (s, e) = (start as u32, end as u32);
                let diag =
                    Diagnostic::new(Code::Syntax, &file, Span { start: s, end: e }, "m", "l")
                        .with_label(&file, Span { start: e, end: s }, "other")
                        .with_label(
                            &other,
                            Span {
                                start: s / 2,
                                end: e / 2,
                            },
                            "elsewhere",
                        );
                let out = render_report(&diag, &map, false).expect("ariadne rendering");
                assert!(
                    out.starts_with("[E0001] Error: m\n"),
                    "{start}..{end}: {out}"
                );
            }
        }
        // Empty file, empty span at 0 and past the end.
        let map = files(&[("a.mesh", "")]);
        for span in [Span::at(0), Span::new(4, 9)] {
            let diag = Diagnostic::new(Code::Syntax, &file, span, "m", "l");
            let out = render_report(&diag, &map, false).expect("ariadne rendering");
            assert!(out.contains("a.mesh:1:1"), "{out}");
        }
    }

    #[test]
    fn render_all_joins_and_advice_for_notes() {
        let text = "x\n";
        let file: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", text)]);
        let mut warn = Diagnostic::new(Code::Unused, &file, Span::new(0, 1), "unused `x`", "");
        let note = {
            let mut d = warn.clone();
            d.severity = Severity::Note;
            d
        };
        warn.code = Code::Unused;
        let out = render_all(&[warn, note], &map, false);
        assert!(out.contains("[W0001] Warning: unused `x`"), "{out}");
        assert!(out.contains("[W0001] Advice: unused `x`"), "{out}");
        assert!(out.contains("╯\n\n["), "blank line between reports: {out}");
    }
}
