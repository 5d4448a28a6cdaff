//! Go to definition and find references, over the compiler's resolved names.

use meshline_compiler::db::SourceFile;
use meshline_compiler::ide::{self, SymbolId};
use tower_lsp_server::ls_types::{GotoDefinitionResponse, Location, Position};

use crate::analysis::Snapshot;
use crate::convert::TextPos;
use crate::convert::uri_of;

/// The symbol under the cursor.
pub(crate) fn symbol_at(s: &Snapshot, file: SourceFile, pos: Position) -> Option<SymbolId> {
    let offset = TextPos::new(file.text(&s.db)).offset(pos);
    let analysis = ide::file_analysis(&s.db, s.project, file);
    analysis.occurrence_at(offset).map(|o| o.id.clone())
}

pub(crate) fn definition(
    s: &Snapshot,
    file: SourceFile,
    pos: Position,
) -> Option<GotoDefinitionResponse> {
    let id = symbol_at(s, file, pos)?;
    let (def_file, def) = ide::definition(&s.db, s.project, &id)?;
    let uri = uri_of(s, def_file)?;
    let range = TextPos::new(def_file.text(&s.db)).range(def.name_span);
    Some(GotoDefinitionResponse::Scalar(Location::new(uri, range)))
}

pub(crate) fn references(
    s: &Snapshot,
    file: SourceFile,
    pos: Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let id = symbol_at(s, file, pos)?;
    let mut out = Vec::new();
    let mut texts = std::collections::HashMap::new();
    for (f, occ) in ide::references(&s.db, s.project, &id) {
        if occ.is_def && !include_declaration {
            continue;
        }
        let Some(uri) = uri_of(s, f) else { continue };
        let text = texts
            .entry(f)
            .or_insert_with(|| TextPos::new(f.text(&s.db)));
        out.push(Location::new(uri, text.range(occ.span)));
    }
    Some(out)
}
