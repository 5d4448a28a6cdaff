//! Conversions between the compiler's values and LSP types: byte offsets ↔ UTF-16
//! positions, and the compiler's one [`Diagnostic`] type → an LSP diagnostic with its code,
//! related information (other places the diagnostic names) and tags.
//!
//! LSP positions count UTF-16 code units (the protocol default; this server does not
//! negotiate another encoding), so every conversion goes through the compiler's
//! [`LineIndex`], never through char or byte counts.

use meshline_compiler::diagnostics::{Code, Diagnostic, Severity};
use meshline_compiler::source::{LineCol, LineIndex, Span};
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::ls_types::Uri;

use crate::analysis::Snapshot;
use meshline_compiler::db::SourceFile;

/// A file's text with its line index.
pub struct TextPos<'a> {
    pub text: &'a str,
    pub index: LineIndex,
}

impl<'a> TextPos<'a> {
    pub fn new(text: &'a str) -> TextPos<'a> {
        TextPos {
            text,
            index: LineIndex::new(text),
        }
    }
    pub fn position(&self, offset: usize) -> lsp::Position {
        let lc = self.index.utf16_pos(self.text, offset);
        lsp::Position::new(lc.line, lc.col)
    }
    pub fn range(&self, span: Span) -> lsp::Range {
        let span = span.clamp_to(self.text);
        lsp::Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }
    pub fn offset(&self, pos: lsp::Position) -> usize {
        self.index.offset_of_utf16(
            self.text,
            LineCol {
                line: pos.line,
                col: pos.character,
            },
        )
    }
}

/// Where a related location lives: the URI of a project file, or `None` (the embedded
/// standard library has no file an editor could open).
pub trait Locate {
    fn locate(&self, file: &str, span: Span) -> Option<lsp::Location>;
}

/// Convert one diagnostic of the file `pos` describes. With `related` false (the client
/// cannot show related information), secondary labels are appended to the message.
pub fn diagnostic(
    d: &Diagnostic,
    pos: &TextPos<'_>,
    locate: &dyn Locate,
    related: bool,
) -> lsp::Diagnostic {
    let severity = match d.severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Note => lsp::DiagnosticSeverity::INFORMATION,
    };
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() && d.primary.message != d.message {
        message.push_str(&format!(" ({})", d.primary.message));
    }
    let mut infos = Vec::new();
    for label in &d.secondary {
        match (related, locate.locate(&label.file, label.span)) {
            (true, Some(location)) => infos.push(lsp::DiagnosticRelatedInformation {
                location,
                message: label.message.clone(),
            }),
            _ => message.push_str(&format!("\n{}: {}", label.file, label.message)),
        }
    }
    for note in &d.notes {
        message.push_str(&format!("\nnote: {note}"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let tags = matches!(
        d.code,
        Code::Unused | Code::UnusedImport | Code::NeedlessUnwrap
    )
    .then(|| vec![lsp::DiagnosticTag::UNNECESSARY]);
    lsp::Diagnostic {
        range: pos.range(d.primary.span),
        severity: Some(severity),
        code: Some(lsp::NumberOrString::String(d.code.as_str().to_string())),
        source: Some("meshline".into()),
        message,
        related_information: (!infos.is_empty()).then_some(infos),
        tags,
        ..Default::default()
    }
}

/// The URI of a project file, if it has one on disk.
pub fn uri_of(s: &Snapshot, file: SourceFile) -> Option<Uri> {
    Uri::from_file_path(s.path_of(file)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_positions_round_trip() {
        let text = "ab\né€😀x\n";
        let pos = TextPos::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(pos.position(x), lsp::Position::new(1, 4));
        assert_eq!(pos.offset(lsp::Position::new(1, 4)), x);
        // Past the end of a line clamps to the line's end; past the last line to the text's.
        assert_eq!(pos.offset(lsp::Position::new(0, 99)), 2);
        assert_eq!(pos.offset(lsp::Position::new(9, 0)), text.len());
    }
}
