//! The Meshline language server: an adapter over the compiler's salsa database.
//!
//! [`analysis`] is the engine with no transport (a project's files in the database,
//! requests on snapshots); [`server`] is the `tower-lsp-server` glue; the feature modules
//! convert the compiler's editor knowledge (`meshline_compiler::ide`) into LSP types.
//! Nothing here parses or checks: every answer comes from the compiler's queries.

// A library reports through return values and `tracing`, never by printing (docs/architecture.md).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod analysis;
mod code_actions;
mod completion;
pub mod convert;
mod diagnostics;
mod folding;
mod formatting;
mod goto;
mod hover;
mod rename;
mod semantic_tokens;
pub mod server;
mod symbols;

pub use analysis::{Analysis, RunError, Snapshot};
pub use server::Backend;
use tower_lsp_server::{LspService, Server};

/// Serve the protocol over any byte streams (tests use an in-memory duplex pipe).
pub async fn serve<I, O>(input: I, output: O)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite,
{
    let (service, socket) = LspService::new(Backend::new);
    Server::new(input, output, socket).serve(service).await;
}

/// Run the language server on standard input and output until the client exits.
pub fn run_stdio() -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    Ok(())
}
