//! Semantic tokens: every resolved name, coloured by what it refers to, and comments.

use meshline_compiler::db::{self, SourceFile};
use meshline_compiler::ide::{self, SymbolId};
use meshline_compiler::semantic::index::OpKind;
use meshline_compiler::source::Span;
use tower_lsp_server::ls_types::*;

use crate::analysis::Snapshot;
use crate::convert::TextPos;

const TYPES: &[SemanticTokenType] = &[
    SemanticTokenType::NAMESPACE,   // 0 modules, connectors
    SemanticTokenType::TYPE,        // 1 records
    SemanticTokenType::ENUM,        // 2
    SemanticTokenType::ENUM_MEMBER, // 3
    SemanticTokenType::EVENT,       // 4
    SemanticTokenType::PROPERTY,    // 5 fields
    SemanticTokenType::FUNCTION,    // 6
    SemanticTokenType::PARAMETER,   // 7
    SemanticTokenType::VARIABLE,    // 8 constants, fixtures, teams, calendars
    SemanticTokenType::METHOD,      // 9 actions
    SemanticTokenType::CLASS,       // 10 routes, SLAs, gates, automations
    SemanticTokenType::COMMENT,     // 11
];

const MODIFIERS: &[SemanticTokenModifier] = &[
    SemanticTokenModifier::DECLARATION,
    SemanticTokenModifier::READONLY,
];

pub(crate) fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TYPES.to_vec(),
        token_modifiers: MODIFIERS.to_vec(),
    }
}

fn token_type(s: &Snapshot, id: &SymbolId) -> u32 {
    match id {
        SymbolId::Module(_) | SymbolId::Op(OpKind::Connector, _) => 0,
        SymbolId::Data(d) => {
            let index = db::project_index(&s.db, s.project);
            match index.sig(&d.module) {
                Some(sig) if sig.enums.contains_key(&*d.name) => 2,
                Some(sig) if sig.records.contains_key(&*d.name) => 1,
                Some(sig) if sig.events.contains_key(&*d.name) => 4,
                Some(sig) if sig.fns.contains_key(&*d.name) => 6,
                _ => 8,
            }
        }
        SymbolId::Variant(..) => 3,
        SymbolId::Field(..) => 5,
        SymbolId::Local { .. } => 7,
        SymbolId::Op(OpKind::Team | OpKind::Calendar, _) => 8,
        SymbolId::Op(..) => 10,
        SymbolId::Action(..) => 9,
    }
}

pub(crate) fn full(s: &Snapshot, file: SourceFile) -> SemanticTokens {
    let text = TextPos::new(file.text(&s.db));
    let analysis = ide::file_analysis(&s.db, s.project, file);
    let parsed = db::parsed(&s.db, file);
    // (span, type, modifiers), sorted and without overlaps.
    let mut tokens: Vec<(Span, u32, u32)> = analysis
        .occurrences
        .iter()
        .map(|o| (o.span, token_type(s, &o.id), u32::from(o.is_def)))
        .collect();
    tokens.extend(parsed.ast.comments.iter().map(|c| (c.span, 11, 0)));
    tokens.sort_by_key(|(span, _, _)| (span.start, span.end));
    let mut data = Vec::new();
    let (mut line, mut col, mut last_end) = (0u32, 0u32, 0u32);
    for (span, ty, mods) in tokens {
        if span.start < last_end || span.is_empty() {
            continue;
        }
        let start = text.position(span.start as usize);
        let end = text.position(span.end as usize);
        if end.line != start.line {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - col
        } else {
            start.character
        };
        data.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: ty,
            token_modifiers_bitset: mods,
        });
        line = start.line;
        col = start.character;
        last_end = span.end;
    }
    SemanticTokens {
        result_id: None,
        data,
    }
}
