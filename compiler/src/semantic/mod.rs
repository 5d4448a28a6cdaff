//! The semantic model: module signatures, the project index, name resolution, type
//! checking and the project-wide safety checks. Plain functions over owned data; `db.rs`
//! wraps them as salsa queries.

pub mod actions;
pub mod decls;
pub mod dependent;
pub mod expr;
pub mod index;
pub mod operators;
pub mod project;
pub mod rules;
pub mod safety;
pub mod sig;
pub mod solver;
pub mod test_decls;
pub mod types;
pub mod values;

use std::collections::BTreeSet;

use crate::diagnostics::{Diagnostic, FileName};
use crate::syntax::ast::Module;
pub use expr::Use;
use index::ProjectIndex;

/// The result of checking one module: its diagnostics and what it refers to.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleCheck {
    pub diagnostics: Vec<Diagnostic>,
    pub uses: BTreeSet<Use>,
}

/// Check one module and also return the type of every expression, by span (for lowering).
pub fn check_module_typed(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    ast: &Module,
) -> (
    ModuleCheck,
    std::collections::BTreeMap<crate::source::Span, types::Ty>,
) {
    let mut cx = expr::Cx::new(index, module, file);
    cx.types = Some(std::collections::BTreeMap::new());
    cx.check_module(ast);
    let types = cx.types.take().unwrap_or_default();
    (
        ModuleCheck {
            diagnostics: cx.diags,
            uses: cx.uses,
        },
        types,
    )
}

/// The types the checker found in one module, by expression span: what each expression is,
/// and what its context expected it to be (where the context knew).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleTypes {
    pub types: std::collections::BTreeMap<crate::source::Span, types::Ty>,
    pub expected: std::collections::BTreeMap<crate::source::Span, types::Ty>,
}

/// Check one module and return its expression types (for the editor features in `ide`).
pub fn module_types(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    ast: &Module,
) -> ModuleTypes {
    let mut cx = expr::Cx::new(index, module, file);
    cx.types = Some(std::collections::BTreeMap::new());
    cx.expected = Some(std::collections::BTreeMap::new());
    cx.check_module(ast);
    ModuleTypes {
        types: cx.types.take().unwrap_or_default(),
        expected: cx.expected.take().unwrap_or_default(),
    }
}

/// Resolve and type-check one module against the project index.
pub fn check_module(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    ast: &Module,
) -> ModuleCheck {
    let mut cx = expr::Cx::new(index, module, file);
    cx.check_module(ast);
    ModuleCheck {
        diagnostics: cx.diags,
        uses: cx.uses,
    }
}
