//! The semantic model of one module: what the checker found, computed once per module per
//! revision by the `db::module_inference` query and read by everything downstream
//! (diagnostics, lowering, the editor features in `ide`). See docs/architecture.md, "Where
//! each concept lives".
//!
//! Per-expression facts are indexed by the [`ExprId`] each expression got when the AST was
//! built, so a reader asks about the expression it holds, not about a span that might match
//! another node (or none).

use std::cell::Cell;
use std::collections::BTreeSet;

pub use super::expr::ExprFacts;
use super::expr::{Cx, Use};
use super::index::ProjectIndex;
use super::types::Ty;
use crate::diagnostics::{Diagnostic, FileName};
use crate::source::Span;
use crate::syntax::ast::{ExprId, Module};

/// The result of checking one module.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleInference {
    pub diagnostics: Vec<Diagnostic>,
    /// What the module refers to (for unused-declaration warnings).
    pub uses: BTreeSet<Use>,
    /// Indexed by [`ExprId`].
    pub exprs: Vec<ExprFacts>,
}

impl ModuleInference {
    /// The type of expression `id`; `Ty::Error` if the checker did not type it, which only
    /// happens in code that did not check (lowering runs on programs without errors).
    pub fn ty(&self, id: ExprId) -> Ty {
        self.type_of(id).cloned().unwrap_or(Ty::Error)
    }

    pub fn type_of(&self, id: ExprId) -> Option<&Ty> {
        self.exprs.get(id.index()).and_then(|f| f.ty.as_ref())
    }

    pub fn expected(&self, id: ExprId) -> Option<&Ty> {
        self.exprs.get(id.index()).and_then(|f| f.expected.as_ref())
    }

    /// Every typed expression with its span (for lookups by cursor position).
    pub fn typed_spans(&self) -> impl Iterator<Item = (Span, &Ty)> {
        self.exprs
            .iter()
            .filter_map(|f| f.ty.as_ref().map(|t| (f.span, t)))
    }

    /// Every expression whose context expected a type, with its span.
    pub fn expected_spans(&self) -> impl Iterator<Item = (Span, &Ty)> {
        self.exprs
            .iter()
            .filter_map(|f| f.expected.as_ref().map(|t| (f.span, t)))
    }
}

thread_local! {
    static RUNS: Cell<u64> = const { Cell::new(0) };
}

/// How many times [`infer_module`] ran on this thread: tests use it to show that a build
/// does not check a module a second time (salsa runs queries on the calling thread).
pub fn checker_runs() -> u64 {
    RUNS.with(Cell::get)
}

/// Resolve and type-check one module against the project index. The only entry to the
/// checker: `db::module_inference` calls it once per module and revision; editor
/// completion calls it on a copy of the text with a placeholder at the cursor.
pub fn infer_module(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    ast: &Module,
) -> ModuleInference {
    RUNS.with(|r| r.set(r.get() + 1));
    let mut cx = Cx::new(index, module, file);
    cx.check_module(ast);
    ModuleInference {
        diagnostics: cx.diags,
        uses: cx.uses,
        exprs: cx.exprs,
    }
}
