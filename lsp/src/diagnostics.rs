//! Diagnostics of one file, converted for the editor (see `convert`).

use meshline_compiler::db::{self, SourceFile};
use meshline_compiler::source::Span;
use tower_lsp_server::ls_types as lsp;

use crate::analysis::Snapshot;
use crate::convert::uri_of;
use crate::convert::{self, Locate, TextPos};

impl Locate for Snapshot {
    fn locate(&self, file: &str, span: Span) -> Option<lsp::Location> {
        let f = self.file(file)?;
        let uri = uri_of(self, f)?;
        let range = TextPos::new(f.text(&self.db)).range(span);
        Some(lsp::Location::new(uri, range))
    }
}

/// `file`'s diagnostics but the safety analysis's (published first, see `server`).
pub(crate) fn for_file_fast(s: &Snapshot, file: SourceFile, related: bool) -> Vec<lsp::Diagnostic> {
    convert_all(
        s,
        file,
        &db::file_diagnostics_fast(&s.db, s.project, file),
        related,
    )
}

/// The safety analysis's diagnostics in `file`.
pub(crate) fn for_file_safety(
    s: &Snapshot,
    file: SourceFile,
    related: bool,
) -> Vec<lsp::Diagnostic> {
    convert_all(
        s,
        file,
        &db::file_safety_diagnostics(&s.db, s.project, file),
        related,
    )
}

fn convert_all(
    s: &Snapshot,
    file: SourceFile,
    diags: &[meshline_compiler::diagnostics::Diagnostic],
    related: bool,
) -> Vec<lsp::Diagnostic> {
    let pos = TextPos::new(file.text(&s.db));
    diags
        .iter()
        .map(|d| convert::diagnostic(d, &pos, s, related))
        .collect()
}
