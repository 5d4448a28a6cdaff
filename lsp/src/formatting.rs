//! Formatting: not wired yet — the formatter (`meshline_compiler::format`) has not landed
//! on this branch. The capability is not announced while [`AVAILABLE`] is false.

use meshline_compiler::db::SourceFile;
use tower_lsp_server::ls_types::TextEdit;

use crate::analysis::Snapshot;

pub const AVAILABLE: bool = false;

pub fn format(_s: &Snapshot, _file: SourceFile) -> Option<Vec<TextEdit>> {
    None
}
