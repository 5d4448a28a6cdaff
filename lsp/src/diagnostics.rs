//! Diagnostics of one file, converted for the editor (see `convert`).

use meshline_compiler::db::{self, SourceFile};
use meshline_compiler::source::Span;
use tower_lsp_server::ls_types as lsp;

use crate::analysis::Snapshot;
use crate::convert::{self, Locate, TextPos};
use crate::server::uri_of;

impl Locate for Snapshot {
    fn locate(&self, file: &str, span: Span) -> Option<lsp::Location> {
        let f = self.file(file)?;
        let uri = uri_of(self, f)?;
        let range = TextPos::new(f.text(&self.db)).range(span);
        Some(lsp::Location::new(uri, range))
    }
}

/// Every compiler diagnostic of `file`, as LSP diagnostics.
pub fn for_file(s: &Snapshot, file: SourceFile, related: bool) -> Vec<lsp::Diagnostic> {
    let diags = db::file_diagnostics(&s.db, s.project, file);
    let pos = TextPos::new(file.text(&s.db));
    diags
        .iter()
        .map(|d| convert::diagnostic(d, &pos, s, related))
        .collect()
}
