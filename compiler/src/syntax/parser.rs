//! The parser's entry: text → pest parse → owned AST (built by `build/`), with
//! per-declaration recovery.
//!
//! [`parse`] never fails and never panics: text that is not a declaration becomes an
//! [`ItemKind::Error`] item with an E0001 diagnostic (what was expected, in words), and the
//! declarations around it parse normally. Chunks too deep for a recursive parser are blanked
//! first (see `trivia.rs`).
//!
//! INVARIANT: pest `Pair`s never leave `syntax/` (this file and `build/`).

use pest::Parser;

use super::ast::*;
use super::build::Builder;
use super::errors;
use super::grammar::{MeshParser, Rule};
use super::trivia::{self, DocIndex};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;

/// Parse one module. Syntax errors come back as diagnostics; the module holds every
/// declaration that parsed.
pub fn parse(file: &FileName, text: &str) -> (Module, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    // Blank chunks that are too deep to parse safely; spans stay valid (same length).
    let oversized = trivia::oversized_chunks(text);
    let blanked;
    let src: &str = if oversized.is_empty() {
        text
    } else {
        let mut bytes = text.as_bytes().to_vec();
        for (span, why) in &oversized {
            for b in &mut bytes[span.range()] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            diags.push(
                Diagnostic::new(
                    Code::TooDeep,
                    file,
                    Span::new(span.start as usize, span.start as usize + 1),
                    format!("declaration skipped: {why}"),
                    "this declaration",
                )
                .with_note(format!(
                    "Meshline accepts up to {} nested brackets and {} operators in one declaration",
                    trivia::MAX_DEPTH,
                    trivia::MAX_OPERATORS
                ))
                .with_help("split the expression into smaller `let` or `fn` declarations"),
            );
        }
        // Blanking replaced whole multi-byte characters only inside the chunk, with ASCII.
        blanked = String::from_utf8_lossy(&bytes).into_owned();
        &blanked
    };

    let comments = trivia::comments(src);
    let docs = DocIndex::new(src, &comments);
    let build = Builder::new(file, src, docs);
    let mut items = Vec::new();
    match MeshParser::parse(Rule::file, src) {
        Ok(mut pairs) => {
            let file_pair = pairs.next().expect("grammar: file");
            let mut previous_item: Option<usize> = None;
            for pair in file_pair.into_inner() {
                match pair.as_rule() {
                    Rule::item => {
                        previous_item = Some(pair.as_span().start());
                        items.push(build.item(pair));
                    }
                    Rule::junk => items.push(build.junk(pair, previous_item.take())),
                    _ => {}
                }
            }
        }
        // `file` accepts any text through `junk`; this only happens on pest's call limit.
        Err(err) => diags.push(errors::to_diagnostic(file, src, 0, &err)),
    }
    diags.extend(build.into_diagnostics());
    (Module { items, comments }, diags)
}

/// Parse a standalone expression (used by tests and the language server).
pub fn parse_expr(file: &FileName, text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    if !trivia::oversized_chunks(text).is_empty() {
        let d = Diagnostic::new(
            Code::TooDeep,
            file,
            Span::at(0),
            "expression too deeply nested",
            "here",
        );
        return (None, vec![d]);
    }
    let build = Builder::new(file, text, DocIndex::default());
    match MeshParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let top = pairs.next().expect("grammar: expr_only");
            let expr = top.into_inner().next().map(|p| build.expr(p));
            (expr, build.into_diagnostics())
        }
        Err(_) => {
            let err = errors::with_detail(|| MeshParser::parse(Rule::expr_only, text).err());
            let d = err.map(|e| errors::to_diagnostic(file, text, 0, &e));
            (None, d.into_iter().collect())
        }
    }
}
