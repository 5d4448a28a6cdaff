//! Hover: the compiler's description of the name under the cursor (declaration, doc
//! comment, type, resolved values), or the type of the expression there.

use meshline_compiler::db::SourceFile;
use meshline_compiler::ide;
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use crate::analysis::Snapshot;
use crate::convert::TextPos;

pub(crate) fn hover(s: &Snapshot, file: SourceFile, pos: Position) -> Option<Hover> {
    let text = TextPos::new(file.text(&s.db));
    let info = ide::hover::hover(&s.db, s.project, file, text.offset(pos))?;
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: info.markdown,
        }),
        range: Some(text.range(info.span)),
    })
}
