//! Formatting: the compiler's formatter (`meshline_compiler::format_source`, the same as
//! `meshline fmt`) over the document's current text, as one edit replacing the whole
//! document. A file with syntax errors is not formatted; the request fails with the first
//! error's message.

use meshline_compiler::db::SourceFile;
use tower_lsp_server::ls_types::TextEdit;

use crate::analysis::Snapshot;
use crate::convert::TextPos;

/// The edits that format `file` (none when it is already formatted), or why not.
pub(crate) fn format(s: &Snapshot, file: SourceFile) -> Option<Result<Vec<TextEdit>, String>> {
    let text = file.text(&s.db);
    Some(match meshline_compiler::format_source(text) {
        Ok(formatted) if formatted == *text => Ok(Vec::new()),
        Ok(formatted) => {
            let pos = TextPos::new(text);
            let whole = meshline_compiler::source::Span::new(0, text.len());
            Ok(vec![TextEdit::new(pos.range(whole), formatted)])
        }
        Err(e) => Err(e.to_string()),
    })
}
