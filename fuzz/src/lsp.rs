//! `lsp`: editor traffic to the language server: a document's new text, then requests at
//! positions in it, through `meshline_lsp::Backend`'s handlers (the code behind every LSP
//! method, minus the JSON-RPC framing, which is `tower-lsp-server`'s).
//!
//! One server and one runtime live for the whole process, with two documents open: a file
//! on its own and a file of the `refunds` example (so definitions, references and renames
//! cross files). Each input replaces one document's text (`didChange`, which publishes
//! diagnostics) and sends up to five requests; the example's document gets its text back
//! afterwards, so every input starts from the same state. Handlers run on snapshots that
//! turn panics into error answers: the fuzzer still sees a panic as a crash, because
//! libFuzzer's panic hook aborts before the unwinding starts.
//!
//! Input layout: 16 bytes of head — byte 0 picks the document (bit 0), then five requests of
//! three bytes (kind, line, column) — and the document's text after it. A line or column
//! byte of 0xF0 or more stands for a position near `u32::MAX`.

use std::sync::OnceLock;

use meshline_lsp::Backend;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{LanguageServer, LspService};

use crate::seeds;

struct Lsp {
    runtime: tokio::runtime::Runtime,
    service: LspService<Backend>,
    docs: [(Uri, String); 2],
    version: std::sync::atomic::AtomicI32,
}

fn lsp() -> &'static Lsp {
    static LSP: OnceLock<Lsp> = OnceLock::new();
    LSP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("cannot start a runtime: {e}"));
        let (service, _socket) = LspService::new(Backend::new);
        let lone = Uri::from_file_path("/nonexistent-meshline-fuzz/rules/lone.mesh")
            .unwrap_or_else(|| unreachable!("an absolute path is a URI"));
        let example = seeds::files(&seeds::repo().join("examples/refunds/rules"), ".mesh")
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("the refunds example has no .mesh file"));
        let text = std::fs::read_to_string(&example).unwrap_or_default();
        let example = Uri::from_file_path(&example)
            .unwrap_or_else(|| unreachable!("an absolute path is a URI"));
        let docs = [(lone, String::new()), (example, text)];
        let server = service.inner();
        runtime.block_on(async {
            for (uri, text) in &docs {
                server
                    .did_open(DidOpenTextDocumentParams {
                        text_document: TextDocumentItem::new(
                            uri.clone(),
                            "meshline".into(),
                            1,
                            text.clone(),
                        ),
                    })
                    .await;
            }
        });
        Lsp {
            runtime,
            service,
            docs,
            version: std::sync::atomic::AtomicI32::new(1),
        }
    })
}

fn coord(b: u8) -> u32 {
    if b >= 0xF0 {
        u32::MAX - u32::from(b - 0xF0)
    } else {
        u32::from(b)
    }
}

const NAMES: [&str; 6] = ["renamed", "x", "", "1bad", "a.b", "refund_policy"];

pub fn run(data: &[u8]) {
    let Some((head, text)) = data.split_at_checked(16) else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let lsp = lsp();
    let server = lsp.service.inner();
    let (uri, original) = &lsp.docs[usize::from(head[0] & 1)];
    lsp.runtime.block_on(async {
        change(lsp, uri, text).await;
        for op in head[1..].chunks_exact(3) {
            request(server, uri, op[0], coord(op[1]), coord(op[2])).await;
        }
        if head[0] & 1 == 1 {
            change(lsp, uri, original).await;
        }
    });
}

async fn change(lsp: &Lsp, uri: &Uri, text: &str) {
    let version = lsp
        .version
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1;
    lsp.service
        .inner()
        .did_change(DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier::new(uri.clone(), version),
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.to_string(),
            }],
        })
        .await;
}

async fn request(server: &Backend, uri: &Uri, kind: u8, line: u32, character: u32) {
    let doc = TextDocumentIdentifier::new(uri.clone());
    let pos = Position::new(line, character);
    let at = TextDocumentPositionParams::new(doc.clone(), pos);
    let range = Range::new(Position::new(line.min(3), 0), pos);
    // Answers are not checked: an error answer is fine, a panic is the finding.
    match kind % 14 {
        0 => drop(
            server
                .hover(HoverParams {
                    text_document_position_params: at,
                    work_done_progress_params: Default::default(),
                })
                .await,
        ),
        1 => drop(
            server
                .goto_definition(GotoDefinitionParams {
                    text_document_position_params: at,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await,
        ),
        2 => drop(
            server
                .references(ReferenceParams {
                    text_document_position: at,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                    context: ReferenceContext {
                        include_declaration: kind & 0x80 != 0,
                    },
                })
                .await,
        ),
        3 => drop(server.prepare_rename(at).await),
        4 => drop(
            server
                .rename(RenameParams {
                    text_document_position: at,
                    new_name: NAMES[usize::from(kind >> 4) % NAMES.len()].into(),
                    work_done_progress_params: Default::default(),
                })
                .await,
        ),
        5 => drop(
            server
                .completion(CompletionParams {
                    text_document_position: at,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                    context: None,
                })
                .await,
        ),
        6 => drop(
            server
                .signature_help(SignatureHelpParams {
                    context: None,
                    text_document_position_params: at,
                    work_done_progress_params: Default::default(),
                })
                .await,
        ),
        7 => drop(
            server
                .document_symbol(DocumentSymbolParams {
                    text_document: doc,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await,
        ),
        8 => drop(
            server
                .symbol(WorkspaceSymbolParams {
                    query: NAMES[usize::from(kind >> 4) % NAMES.len()].into(),
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await,
        ),
        9 => drop(
            server
                .semantic_tokens_full(SemanticTokensParams {
                    text_document: doc,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await,
        ),
        10 => drop(
            server
                .folding_range(FoldingRangeParams {
                    text_document: doc,
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await,
        ),
        11 => drop(
            server
                .code_action(CodeActionParams {
                    text_document: doc,
                    range,
                    context: CodeActionContext::default(),
                    work_done_progress_params: Default::default(),
                    partial_result_params: Default::default(),
                })
                .await,
        ),
        12 => drop(
            server
                .formatting(DocumentFormattingParams {
                    text_document: doc,
                    options: FormattingOptions::default(),
                    work_done_progress_params: Default::default(),
                })
                .await,
        ),
        _ => {}
    }
}

pub fn seeds() -> Vec<Vec<u8>> {
    // Every request kind at a few positions, over each example and fixture file.
    let heads: [[u8; 16]; 3] = [
        [0, 0, 2, 5, 1, 2, 5, 2, 2, 5, 3, 2, 5, 4, 2, 5],
        [1, 5, 3, 8, 6, 3, 8, 7, 0, 0, 8, 0, 0, 9, 0, 0],
        [
            0, 10, 0, 0, 11, 4, 0, 12, 0, 0, 0xF4, 0xF0, 0xF0, 1, 0, 0xFF,
        ],
    ];
    let mut out = Vec::new();
    for (i, text) in seeds::mesh_sources().into_iter().enumerate() {
        let mut s = heads[i % heads.len()].to_vec();
        s.extend_from_slice(&text);
        out.push(s);
    }
    out
}
