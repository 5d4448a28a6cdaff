//! The one diagnostic type of Meshline, and its renderers.
//!
//! Every stage (syntax, names, types, safety checks, manifest loading) reports
//! [`Diagnostic`] values; nothing else is ever shown to users. Renderers are adapters:
//! [`render_ariadne`] for terminals, [`render_short`] (codespan-reporting) for one-line CI
//! logs, [`json`] and [`sarif`] for machines; the language server converts in `meshline-lsp`.
//!
//! INVARIANT: a diagnostic always has a primary location ("no location" is not
//! representable); project-level problems point at `meshline.toml`.

pub mod codes;
pub mod json;
pub mod render_ariadne;
pub mod render_short;
pub mod sarif;

use std::sync::Arc;

pub use codes::Code;

use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// A file as diagnostics name it: the project-relative path (`rules/billing.mesh`), or
/// `std/helpdesk.mesh` for the embedded standard library.
pub type FileName = Arc<str>;

/// A located message.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Label {
    pub file: FileName,
    pub span: Span,
    pub message: String,
}

impl Label {
    pub fn new(file: &FileName, span: Span, message: impl Into<String>) -> Label {
        Label {
            file: file.clone(),
            span,
            message: message.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// One-line headline: lower case, no trailing period.
    pub message: String,
    pub primary: Label,
    /// Related locations, possibly in other files.
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    /// An actionable fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity. `label` is the primary label's text.
    pub fn new(
        code: Code,
        file: &FileName,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.default_severity(),
            message: message.into(),
            primary: Label::new(file, span, label),
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }
    pub fn with_label(mut self, file: &FileName, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label::new(file, span, message));
        self
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
    /// The order diagnostics are shown in: file, position, code.
    pub fn sort_key(&self) -> (FileName, u32, u32, Code) {
        (
            self.primary.file.clone(),
            self.primary.span.start,
            self.primary.span.end,
            self.code,
        )
    }
}

/// Where renderers find the text of the files that diagnostics name.
pub trait SourceMap {
    fn text(&self, file: &str) -> Option<&str>;
}

impl SourceMap for std::collections::BTreeMap<FileName, String> {
    fn text(&self, file: &str) -> Option<&str> {
        self.get(file).map(String::as_str)
    }
}

/// Sort diagnostics into display order and drop exact duplicates.
pub fn sort(diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        a.sort_key()
            .cmp(&b.sort_key())
            .then_with(|| a.message.cmp(&b.message))
    });
    diags.dedup();
}
