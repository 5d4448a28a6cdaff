//! Rename across files: every reference and the declaration get the new name. Names of
//! the standard library cannot be renamed, and a new name must be an identifier that is
//! not a reserved word.

use std::collections::HashMap;

use meshline_compiler::db::SourceFile;
use meshline_compiler::ide::{self, SymbolId};
use meshline_compiler::project::is_identifier;
use meshline_compiler::syntax::trivia::RESERVED_WORDS;
use tower_lsp_server::ls_types::{Position, PrepareRenameResponse, TextEdit, Uri, WorkspaceEdit};

use crate::analysis::Snapshot;
use crate::convert::TextPos;
use crate::convert::uri_of;

/// Can the name under the cursor be renamed? Answers its range.
pub(crate) fn prepare(
    s: &Snapshot,
    file: SourceFile,
    pos: Position,
) -> Option<PrepareRenameResponse> {
    let text = TextPos::new(file.text(&s.db));
    let offset = text.offset(pos);
    let analysis = ide::file_analysis(&s.db, s.project, file);
    let occ = analysis.occurrence_at(offset)?;
    if matches!(occ.id, SymbolId::Module(_)) || is_std(s, &occ.id) {
        return None;
    }
    Some(PrepareRenameResponse::Range(text.range(occ.span)))
}

fn is_std(s: &Snapshot, id: &SymbolId) -> bool {
    ide::definition(&s.db, s.project, id).is_none_or(|(f, _)| f.is_std(&s.db))
}

pub(crate) fn rename(
    s: &Snapshot,
    file: SourceFile,
    pos: Position,
    new_name: &str,
) -> Result<WorkspaceEdit, String> {
    if !is_identifier(new_name) || RESERVED_WORDS.contains(&new_name) {
        return Err(format!("`{new_name}` is not a valid name"));
    }
    let id = crate::goto::symbol_at(s, file, pos).ok_or("no name to rename here")?;
    if matches!(id, SymbolId::Module(_)) {
        return Err("modules are named by their files: rename the file instead".into());
    }
    if is_std(s, &id) {
        return Err("names from the standard library cannot be renamed".into());
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    let mut texts = HashMap::new();
    for (f, occ) in ide::references(&s.db, s.project, &id) {
        let Some(uri) = uri_of(s, f) else { continue };
        let text = texts
            .entry(f)
            .or_insert_with(|| TextPos::new(f.text(&s.db)));
        changes
            .entry(uri)
            .or_default()
            .push(TextEdit::new(text.range(occ.span), new_name.to_string()));
    }
    Ok(WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    })
}
