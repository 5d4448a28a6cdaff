//! Completion and signature help: the compiler's candidates (`ide::complete`) as LSP items.

use meshline_compiler::db::{self, SourceFile};
use meshline_compiler::ide::complete::{self, CandidateKind};
use meshline_compiler::ide::signature;
use tower_lsp_server::ls_types::*;

use crate::analysis::Snapshot;
use crate::convert::TextPos;

pub(crate) fn completion(s: &Snapshot, file: SourceFile, pos: Position) -> Vec<CompletionItem> {
    let text = file.text(&s.db);
    let offset = TextPos::new(text).offset(pos);
    let index = db::project_index(&s.db, s.project);
    let candidates =
        complete::complete(&index, &file.module(&s.db), &file.name(&s.db), text, offset);
    candidates
        .into_iter()
        .map(|c| CompletionItem {
            kind: Some(match c.kind {
                CandidateKind::Keyword => CompletionItemKind::KEYWORD,
                CandidateKind::Field => CompletionItemKind::FIELD,
                CandidateKind::Variant => CompletionItemKind::ENUM_MEMBER,
                CandidateKind::Event => CompletionItemKind::EVENT,
                CandidateKind::Team => CompletionItemKind::CONSTANT,
                CandidateKind::Calendar => CompletionItemKind::CONSTANT,
                CandidateKind::Action => CompletionItemKind::METHOD,
                CandidateKind::Connector => CompletionItemKind::MODULE,
                CandidateKind::Function => CompletionItemKind::FUNCTION,
                CandidateKind::Value => CompletionItemKind::VARIABLE,
                CandidateKind::Type => CompletionItemKind::CLASS,
                CandidateKind::Module => CompletionItemKind::MODULE,
            }),
            detail: c.detail,
            insert_text_format: c.snippet.as_ref().map(|_| InsertTextFormat::SNIPPET),
            insert_text: c.snippet,
            label: c.label,
            ..Default::default()
        })
        .collect()
}

pub(crate) fn signature_help(
    s: &Snapshot,
    file: SourceFile,
    pos: Position,
) -> Option<SignatureHelp> {
    let text = file.text(&s.db);
    let offset = TextPos::new(text).offset(pos);
    let index = db::project_index(&s.db, s.project);
    let sig = signature::signature_at(&index, &file.module(&s.db), text, offset)?;
    let params = sig
        .params
        .iter()
        .map(|p| ParameterInformation {
            label: ParameterLabel::Simple(p.clone()),
            documentation: None,
        })
        .collect();
    Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label: sig.label,
            documentation: None,
            parameters: Some(params),
            active_parameter: None,
        }],
        active_signature: Some(0),
        active_parameter: Some(sig.active as u32),
    })
}
