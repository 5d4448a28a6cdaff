//! One-line rendering of [`Diagnostic`]s with codespan-reporting, for CI logs and editors
//! that parse `file:line:column: severity[code]: message`.
//!
//! This module owns the adapter to codespan-reporting 0.13 ([`DisplayStyle::Short`], rendered
//! with `term::emit_into_string`). Lines and columns are 1-based; columns count characters
//! (Unicode scalar values), not bytes. Secondary labels, notes and help are not shown in this
//! style. When the primary file's text is unavailable the line reads
//! `file: error[CODE]: message`.

use codespan_reporting::diagnostic::{
    Diagnostic as CsDiag, Label as CsLabel, Severity as CsSeverity,
};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::{self, Config, DisplayStyle};

use super::{Diagnostic, Severity, SourceMap};

/// Render one diagnostic as a single line, without a trailing newline, e.g.
/// ``rules/billing.mesh:3:1: error[E0101]: duplicate name `ops` ``.
pub fn render_short(diag: &Diagnostic, sources: &dyn SourceMap) -> String {
    let line = match sources.text(&diag.primary.file) {
        Some(text) => emit(diag, text).unwrap_or_else(|| fallback(diag)),
        None => fallback(diag),
    };
    line.trim_end().to_string()
}

fn emit(diag: &Diagnostic, text: &str) -> Option<String> {
    let mut files = SimpleFiles::new();
    let id = files.add(diag.primary.file.to_string(), text);
    let range = diag.primary.span.clamp_to(text).range();
    let severity = match diag.severity {
        Severity::Error => CsSeverity::Error,
        Severity::Warning => CsSeverity::Warning,
        Severity::Note => CsSeverity::Note,
    };
    let cs = CsDiag::new(severity)
        .with_code(diag.code.as_str())
        .with_message(&diag.message)
        .with_labels(vec![
            CsLabel::primary(id, range).with_message(&diag.primary.message),
        ]);
    let config = Config {
        display_style: DisplayStyle::Short,
        ..Config::default()
    };
    let out = term::emit_into_string(&config, &files, &cs).ok()?;
    // A multi-line message would break the one-line contract: keep the first line.
    Some(out.lines().next().unwrap_or_default().to_string())
}

fn fallback(diag: &Diagnostic) -> String {
    format!(
        "{}: {}[{}]: {}",
        diag.primary.file,
        diag.severity.as_str(),
        diag.code.as_str(),
        first_line(&diag.message)
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::diagnostics::{Code, FileName};
    use crate::source::Span;

    fn files(list: &[(&str, &str)]) -> BTreeMap<FileName, String> {
        list.iter()
            .map(|(f, t)| (FileName::from(*f), t.to_string()))
            .collect()
    }

    #[test]
    fn one_line_with_position() {
        let text = "name billing\nname x\nops = 1\n";
        let file: FileName = "rules/billing.mesh".into();
        let map = files(&[("rules/billing.mesh", text)]);
        let start = text.find("ops").unwrap();
        let diag = Diagnostic::new(
            Code::DuplicateName,
            &file,
            Span::new(start, start + 3),
            "duplicate name `ops`",
            "second",
        )
        .with_note("not shown")
        .with_help("not shown either");
        assert_eq!(
            render_short(&diag, &map),
            "rules/billing.mesh:3:1: error[E0101]: duplicate name `ops`"
        );
    }

    #[test]
    fn columns_count_characters() {
        let text = "x\né€😀 ops\n";
        let file: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", text)]);
        let start = text.find("ops").unwrap();
        let mut diag = Diagnostic::new(
            Code::Unused,
            &file,
            Span::new(start, start + 3),
            "unused `ops`",
            "",
        );
        assert_eq!(
            render_short(&diag, &map),
            "a.mesh:2:5: warning[W0001]: unused `ops`"
        );
        diag.severity = Severity::Note;
        assert_eq!(
            render_short(&diag, &map),
            "a.mesh:2:5: note[W0001]: unused `ops`"
        );
    }

    #[test]
    fn missing_text_and_bad_spans() {
        let file: FileName = "rules/gone.mesh".into();
        let diag = Diagnostic::new(
            Code::DuplicateName,
            &file,
            Span::new(40, 2),
            "duplicate name `ops`",
            "",
        );
        assert_eq!(
            render_short(&diag, &files(&[])),
            "rules/gone.mesh: error[E0101]: duplicate name `ops`"
        );
        // Out-of-range and mid-character spans clamp instead of failing.
        let map = files(&[("rules/gone.mesh", "é\n")]);
        let out = render_short(&diag, &map);
        assert_eq!(
            out,
            "rules/gone.mesh:2:1: error[E0101]: duplicate name `ops`"
        );
        let diag = Diagnostic::new(Code::Syntax, &file, Span::new(1, 1), "m", "");
        assert_eq!(
            render_short(&diag, &map),
            "rules/gone.mesh:1:1: error[E0001]: m"
        );
        let map = files(&[("rules/gone.mesh", "")]);
        assert_eq!(
            render_short(&diag, &map),
            "rules/gone.mesh:1:1: error[E0001]: m"
        );
    }

    #[test]
    fn no_trailing_newline_or_escapes() {
        let file: FileName = "a.mesh".into();
        let map = files(&[("a.mesh", "abc")]);
        let diag = Diagnostic::new(
            Code::Syntax,
            &file,
            Span::new(1, 2),
            "expected `=`\nsecond line",
            "",
        );
        let out = render_short(&diag, &map);
        assert_eq!(out, "a.mesh:1:2: error[E0001]: expected `=`");
        assert!(!out.contains('\u{1b}'));
    }
}
