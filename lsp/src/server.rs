//! The `tower-lsp-server` adapter: server state, document sync, and the glue that runs each
//! request on a database snapshot.
//!
//! State lives behind a `std::sync::Mutex` that is never held across `.await`. Edits take
//! the lock, set the file's text (salsa cancels running snapshots first) and then publish
//! diagnostics for every open file of the project, because an edit in one file can change
//! another's. Requests clone the database under the lock and run on a blocking thread with
//! the compiler's large stack; a cancelled request answers `ContentModified`, a panicking
//! one an internal error plus a log message.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use meshline_compiler::db::SourceFile;
use meshline_compiler::diagnostics::FileName;
use meshline_compiler::project::{self, MANIFEST};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::analysis::{Analysis, RunError, Snapshot};
use crate::{
    code_actions, completion, folding, formatting, goto, hover, rename, semantic_tokens, symbols,
};

struct Doc {
    workspace: usize,
    name: FileName,
    version: i32,
}

#[derive(Default)]
struct State {
    workspaces: Vec<Analysis>,
    docs: HashMap<Uri, Doc>,
    /// The client shows `relatedInformation`.
    related: bool,
    /// Each open document's safety-analysis findings from the last round.
    safety: HashMap<Uri, Vec<tower_lsp_server::ls_types::Diagnostic>>,
}

pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    // A panic never happens under the lock (requests run on snapshots), but if one did,
    // the state is still consistent enough to keep serving.
    state.lock().unwrap_or_else(|e| e.into_inner())
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        Backend {
            client,
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The snapshot and file for a document, if it is open.
    fn snapshot_for(&self, uri: &Uri) -> Option<(Snapshot, SourceFile)> {
        let state = lock(&self.state);
        let doc = state.docs.get(uri)?;
        let ws = &state.workspaces[doc.workspace];
        Some((ws.snapshot(), ws.file(&doc.name)?))
    }

    /// Run a request on a snapshot of the document's project.
    async fn on_file<T, F>(&self, uri: &Uri, f: F) -> Result<Option<T>>
    where
        T: Send + 'static,
        F: FnOnce(&Snapshot, SourceFile) -> Option<T> + Send + 'static,
    {
        let Some((snap, file)) = self.snapshot_for(uri) else {
            return Ok(None);
        };
        let result = tokio::task::spawn_blocking(move || snap.run(|s| f(s, file))).await;
        self.answer(result).await.map(Option::flatten)
    }

    /// Run a request on a snapshot of every project (workspace symbols).
    async fn on_all<T, F>(&self, f: F) -> Result<Option<Vec<T>>>
    where
        T: Send + 'static,
        F: Fn(&Snapshot) -> Vec<T> + Send + Sync + 'static,
    {
        let snaps: Vec<Snapshot> = lock(&self.state)
            .workspaces
            .iter()
            .map(Analysis::snapshot)
            .collect();
        let result = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            for s in snaps {
                out.extend(s.run(&f)?);
            }
            Ok(out)
        })
        .await;
        self.answer(result).await
    }

    async fn answer<T>(
        &self,
        result: std::result::Result<std::result::Result<T, RunError>, tokio::task::JoinError>,
    ) -> Result<Option<T>> {
        match result {
            Ok(Ok(v)) => Ok(Some(v)),
            Ok(Err(RunError::Cancelled)) => Err(Error::content_modified()),
            Ok(Err(RunError::Panicked(msg))) => {
                self.client
                    .log_message(
                        MessageType::ERROR,
                        format!("meshline: request failed: {msg}"),
                    )
                    .await;
                let mut e = Error::internal_error();
                e.message = format!("internal error: {msg}").into();
                Err(e)
            }
            Err(join) => {
                let mut e = Error::internal_error();
                e.message = format!("internal error: {join}").into();
                Err(e)
            }
        }
    }

    /// Find (or load) the project of a document and make it hold `text`.
    fn open(&self, uri: &Uri, text: String, version: i32) -> usize {
        let mut state = lock(&self.state);
        let path = uri.to_file_path().map(|p| p.into_owned());
        let existing = path.as_ref().and_then(|p| {
            state
                .workspaces
                .iter()
                .position(|w| w.name_for_path(p).is_some())
        });
        let ws = match existing {
            Some(i) => i,
            None => {
                let analysis = load_for(path.as_deref(), uri, &text);
                state.workspaces.push(analysis);
                state.workspaces.len() - 1
            }
        };
        let w = &mut state.workspaces[ws];
        let (name, module) = match path.as_ref().and_then(|p| w.name_for_path(p)) {
            Some(nm) => nm,
            None => (FileName::from(uri.as_str()), "main".to_string()),
        };
        if w.file(&name).is_some() {
            w.change(&name, text);
        } else {
            w.add_file(name.clone(), module, text);
        }
        state.docs.insert(
            uri.clone(),
            Doc {
                workspace: ws,
                name,
                version,
            },
        );
        ws
    }

    /// Publish diagnostics for every open document of a project, in two rounds: first
    /// everything but the safety analysis (fast: parse, module and project checks), with
    /// each document's safety findings from the last round; then the same with the safety
    /// analysis rerun. A newer edit cancels a round in progress (it publishes again).
    async fn publish(&self, ws: usize) {
        let (fast_snap, safety_snap, docs, related) = {
            let state = lock(&self.state);
            let w = &state.workspaces[ws];
            let docs: Vec<(Uri, SourceFile, i32)> = state
                .docs
                .iter()
                .filter(|(_, d)| d.workspace == ws)
                .filter_map(|(u, d)| Some((u.clone(), w.file(&d.name)?, d.version)))
                .collect();
            (w.snapshot(), w.snapshot(), docs, state.related)
        };
        let round = |snap: crate::analysis::Snapshot, safety: bool| {
            let docs = docs.clone();
            tokio::task::spawn_blocking(move || {
                snap.run(|s| {
                    docs.into_iter()
                        .map(|(uri, f, version)| {
                            let diags = if safety {
                                crate::diagnostics::for_file_safety(s, f, related)
                            } else {
                                crate::diagnostics::for_file_fast(s, f, related)
                            };
                            (uri, diags, version)
                        })
                        .collect::<Vec<_>>()
                })
            })
        };
        let Some(fast) = self.diagnostics_round(round(fast_snap, false).await).await else {
            return;
        };
        let previous: Vec<Vec<tower_lsp_server::ls_types::Diagnostic>> = {
            let state = lock(&self.state);
            fast.iter()
                .map(|(uri, _, _)| state.safety.get(uri).cloned().unwrap_or_default())
                .collect()
        };
        for ((uri, diags, version), old) in fast.iter().zip(previous) {
            let mut all = diags.clone();
            all.extend(old);
            self.client
                .publish_diagnostics(uri.clone(), all, Some(*version))
                .await;
        }
        let Some(safety) = self.diagnostics_round(round(safety_snap, true).await).await else {
            return;
        };
        for ((uri, diags, version), (_, found, _)) in fast.into_iter().zip(safety) {
            lock(&self.state).safety.insert(uri.clone(), found.clone());
            let mut all = diags;
            all.extend(found);
            self.client
                .publish_diagnostics(uri, all, Some(version))
                .await;
        }
    }

    /// A diagnostics round's answer, or `None` (cancelled by a newer edit, or failed: then
    /// the failure is logged).
    async fn diagnostics_round<T>(
        &self,
        result: std::result::Result<std::result::Result<T, RunError>, tokio::task::JoinError>,
    ) -> Option<T> {
        let msg = match result {
            Ok(Ok(v)) => return Some(v),
            // A newer edit is being applied; it publishes again.
            Ok(Err(RunError::Cancelled)) => return None,
            Ok(Err(RunError::Panicked(msg))) => msg,
            Err(e) => e.to_string(),
        };
        self.client
            .log_message(
                MessageType::ERROR,
                format!("meshline: diagnostics failed: {msg}"),
            )
            .await;
        None
    }
}

/// The project a file belongs to: the nearest folder above it with a manifest, else the
/// file on its own.
fn load_for(path: Option<&Path>, uri: &Uri, text: &str) -> Analysis {
    if let Some(path) = path {
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d.join(MANIFEST).is_file()
                && let Ok(files) = project::load(d)
            {
                let a = Analysis::new(&files);
                if a.name_for_path(path).is_some() {
                    return a;
                }
            }
            dir = d.parent();
        }
        let module = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|m| project::is_identifier(m))
            .unwrap_or_else(|| "main".into());
        let name = path.to_string_lossy().replace('\\', "/");
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        return Analysis::single(&name, &module, text.to_string(), root);
    }
    Analysis::single(uri.as_str(), "main", text.to_string(), PathBuf::new())
}

fn text_document_sync() -> TextDocumentSyncCapability {
    TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
        open_close: Some(true),
        change: Some(TextDocumentSyncKind::FULL),
        ..Default::default()
    })
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let related = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.publish_diagnostics.as_ref())
            .and_then(|p| p.related_information)
            .unwrap_or(false);
        // Load the project at the workspace root now (workspace symbols work before a file
        // is opened); other projects load when one of their files opens.
        #[expect(deprecated, reason = "older clients send only rootUri")]
        let root = params
            .workspace_folders
            .as_ref()
            .and_then(|f| f.first())
            .map(|f| f.uri.clone())
            .or(params.root_uri.clone())
            .and_then(|u| u.to_file_path().map(|p| p.into_owned()));
        let preload = root
            .filter(|r| r.join(MANIFEST).is_file())
            .and_then(|r| project::load(&r).ok())
            .map(|files| Analysis::new(&files));
        let mut state = lock(&self.state);
        state.related = related;
        if let Some(a) = preload {
            state.workspaces.push(a);
        }
        drop(state);
        Ok(InitializeResult {
            server_info: Some(ServerInfo {
                name: "meshline".into(),
                version: Some(meshline_compiler::VERSION.into()),
            }),
            capabilities: ServerCapabilities {
                text_document_sync: Some(text_document_sync()),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), " ".into()]),
                    ..Default::default()
                }),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    ..Default::default()
                }),
                document_symbol_provider: Some(OneOf::Left(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(
                    SemanticTokensServerCapabilities::SemanticTokensOptions(
                        SemanticTokensOptions {
                            legend: semantic_tokens::legend(),
                            full: Some(SemanticTokensFullOptions::Bool(true)),
                            ..Default::default()
                        },
                    ),
                ),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                ..Default::default()
            },
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        self.client
            .log_message(MessageType::INFO, "meshline language server ready")
            .await;
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let d = params.text_document;
        let ws = self.open(&d.uri, d.text, d.version);
        self.publish(ws).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = params.text_document.version;
        // FULL sync: the last change holds the whole text.
        let Some(text) = params.content_changes.into_iter().last().map(|c| c.text) else {
            return;
        };
        let ws = {
            let mut state = lock(&self.state);
            let Some(doc) = state.docs.get_mut(&uri) else {
                return;
            };
            // Handlers run concurrently: never let an older version overwrite a newer one.
            if version <= doc.version {
                return;
            }
            doc.version = version;
            let (ws, name) = (doc.workspace, doc.name.clone());
            state.workspaces[ws].change(&name, text);
            ws
        };
        self.publish(ws).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let closed = {
            let mut state = lock(&self.state);
            state.safety.remove(&uri);
            let doc = state.docs.remove(&uri);
            doc.map(|doc| {
                // The file stays in the project with its text on disk (the editor's unsaved
                // changes may have been discarded); a file that is not on disk keeps the
                // editor's last text.
                let disk = uri
                    .to_file_path()
                    .and_then(|p| std::fs::read_to_string(p).ok());
                if let Some(text) = disk {
                    state.workspaces[doc.workspace].change(&doc.name, text);
                }
                doc.workspace
            })
        };
        if let Some(ws) = closed {
            self.client.publish_diagnostics(uri, Vec::new(), None).await;
            self.publish(ws).await;
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        self.on_file(&p.text_document.uri, move |s, f| {
            hover::hover(s, f, p.position)
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        self.on_file(&p.text_document.uri, move |s, f| {
            goto::definition(s, f, p.position)
        })
        .await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let decl = params.context.include_declaration;
        self.on_file(&p.text_document.uri, move |s, f| {
            goto::references(s, f, p.position, decl)
        })
        .await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.on_file(&params.text_document.uri, move |s, f| {
            rename::prepare(s, f, params.position)
        })
        .await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let new_name = params.new_name;
        let answer = self
            .on_file(&p.text_document.uri, move |s, f| {
                Some(rename::rename(s, f, p.position, &new_name))
            })
            .await?;
        match answer {
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(msg)) => Err(Error::invalid_params(msg)),
            None => Ok(None),
        }
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        self.on_file(&p.text_document.uri, move |s, f| {
            Some(CompletionResponse::Array(completion::completion(
                s, f, p.position,
            )))
        })
        .await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let p = params.text_document_position_params;
        self.on_file(&p.text_document.uri, move |s, f| {
            completion::signature_help(s, f, p.position)
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.on_file(&params.text_document.uri, |s, f| {
            Some(DocumentSymbolResponse::Nested(symbols::document(s, f)))
        })
        .await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let query = params.query;
        let found = self.on_all(move |s| symbols::workspace(s, &query)).await?;
        Ok(found.map(WorkspaceSymbolResponse::Flat))
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.on_file(&params.text_document.uri, |s, f| {
            Some(SemanticTokensResult::Tokens(semantic_tokens::full(s, f)))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.on_file(&params.text_document.uri, |s, f| {
            Some(folding::ranges(s, f))
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        self.on_file(&uri, move |s, f| {
            Some(code_actions::actions(
                s,
                f,
                &params.text_document.uri,
                params.range,
            ))
        })
        .await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        match self
            .on_file(&params.text_document.uri, formatting::format)
            .await?
        {
            Some(Ok(edits)) => Ok(Some(edits)),
            Some(Err(msg)) => Err(Error {
                // LSP's RequestFailed: the request was valid but could not be carried out.
                code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(-32803),
                message: msg.into(),
                data: None,
            }),
            None => Ok(None),
        }
    }
}
