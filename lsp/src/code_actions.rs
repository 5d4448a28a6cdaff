//! Code actions: the compiler's quick fixes (`ide::fixes`) for diagnostics in range.

use std::collections::HashMap;

use meshline_compiler::db::{self, SourceFile};
use meshline_compiler::ide::fixes;
use tower_lsp_server::ls_types::*;

use crate::analysis::Snapshot;
use crate::convert::TextPos;
use crate::convert::uri_of;

pub(crate) fn actions(
    s: &Snapshot,
    file: SourceFile,
    uri: &Uri,
    range: Range,
) -> Vec<CodeActionOrCommand> {
    let text = TextPos::new(file.text(&s.db));
    let (start, end) = (text.offset(range.start), text.offset(range.end));
    let related = true;
    let mut out = Vec::new();
    for d in db::file_diagnostics(&s.db, s.project, file).iter() {
        let span = d.primary.span;
        if (span.end as usize) < start || (span.start as usize) > end {
            continue;
        }
        for fix in fixes::fixes(&s.db, s.project, file, d) {
            let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
            for (f, span, new_text) in &fix.edits {
                let target = if *f == file {
                    Some(uri.clone())
                } else {
                    uri_of(s, *f)
                };
                let Some(target) = target else { continue };
                let range = TextPos::new(f.text(&s.db)).range(*span);
                changes
                    .entry(target)
                    .or_default()
                    .push(TextEdit::new(range, new_text.clone()));
            }
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: fix.title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![crate::convert::diagnostic(d, &text, s, related)]),
                edit: Some(WorkspaceEdit {
                    changes: Some(changes),
                    ..Default::default()
                }),
                is_preferred: Some(true),
                ..Default::default()
            }));
        }
    }
    out
}
