//! Document symbols (the outline) and workspace symbols (search by name).

use meshline_compiler::db::SourceFile;
use meshline_compiler::ide::{self, Def, DefKind};
use tower_lsp_server::ls_types::*;

use crate::analysis::Snapshot;
use crate::convert::TextPos;
use crate::convert::uri_of;

fn kind(k: DefKind) -> SymbolKind {
    match k {
        DefKind::Module => SymbolKind::MODULE,
        DefKind::Enum => SymbolKind::ENUM,
        DefKind::Variant => SymbolKind::ENUM_MEMBER,
        DefKind::Record => SymbolKind::STRUCT,
        DefKind::Event => SymbolKind::EVENT,
        DefKind::Field => SymbolKind::FIELD,
        DefKind::Let | DefKind::Fixture => SymbolKind::CONSTANT,
        DefKind::Fn => SymbolKind::FUNCTION,
        DefKind::Param => SymbolKind::VARIABLE,
        DefKind::Calendar | DefKind::Team => SymbolKind::OBJECT,
        DefKind::Connector => SymbolKind::INTERFACE,
        DefKind::Action => SymbolKind::METHOD,
        DefKind::Classify | DefKind::Owners | DefKind::Route | DefKind::Sla => {
            SymbolKind::NAMESPACE
        }
        DefKind::Gate | DefKind::Automation => SymbolKind::CLASS,
        DefKind::Test | DefKind::Acceptance => SymbolKind::PACKAGE,
    }
}

#[expect(deprecated, reason = "DocumentSymbol::deprecated must be spelled out")]
fn document_symbol(d: &Def, text: &TextPos<'_>) -> DocumentSymbol {
    let range = text.range(d.full_span.to(d.name_span));
    DocumentSymbol {
        name: d.name.clone(),
        detail: d
            .detail
            .clone()
            .or_else(|| Some(d.kind.keyword().to_string())),
        kind: kind(d.kind),
        tags: None,
        deprecated: None,
        range,
        selection_range: text.range(d.name_span),
        children: (!d.children.is_empty()).then(|| {
            d.children
                .iter()
                .map(|c| document_symbol(c, text))
                .collect()
        }),
    }
}

pub(crate) fn document(s: &Snapshot, file: SourceFile) -> Vec<DocumentSymbol> {
    let text = TextPos::new(file.text(&s.db));
    ide::file_analysis(&s.db, s.project, file)
        .defs
        .iter()
        .map(|d| document_symbol(d, &text))
        .collect()
}

/// Declarations of the project's own files whose name contains `query` (ignoring case).
#[expect(
    deprecated,
    reason = "SymbolInformation::deprecated must be spelled out"
)]
pub(crate) fn workspace(s: &Snapshot, query: &str) -> Vec<SymbolInformation> {
    let query = query.to_lowercase();
    let mut out = Vec::new();
    for f in s.project.files(&s.db).iter().copied() {
        if f.is_std(&s.db) {
            continue;
        }
        let Some(uri) = uri_of(s, f) else { continue };
        let analysis = ide::file_analysis(&s.db, s.project, f);
        let text = TextPos::new(f.text(&s.db));
        let mut push = |d: &Def, container: Option<&str>| {
            if d.id.is_some() && d.name.to_lowercase().contains(&query) {
                out.push(SymbolInformation {
                    name: d.name.clone(),
                    kind: kind(d.kind),
                    tags: None,
                    deprecated: None,
                    location: Location::new(uri.clone(), text.range(d.name_span)),
                    container_name: container.map(str::to_string),
                });
            }
        };
        for d in &analysis.defs {
            push(d, Some(&f.module(&s.db)));
            for c in &d.children {
                if c.kind != DefKind::Param {
                    push(c, Some(&d.name));
                }
            }
        }
    }
    out
}
