//! The Meshline compiler: `.mesh` source → syntax → semantic model → checks → IR.
//!
//! Stages are plain functions over owned data (`syntax`, `semantic`); [`db`] wraps them as
//! salsa queries so that an edit re-checks only what depends on it. The CLI and the
//! language server are thin shells over [`db::Database`].

pub mod db;
pub mod diagnostics;
pub mod project;
pub mod semantic;
pub mod source;
pub mod syntax;

use std::collections::BTreeMap;
use std::path::Path;

use diagnostics::{Diagnostic, FileName};
pub use project::{LoadError, ProjectFiles};

/// The compiler's version, recorded in bundles and SARIF.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The result of checking a project.
#[derive(Debug)]
pub struct CheckOutput {
    pub project: ProjectFiles,
    /// Every diagnostic, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckOutput {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }
    pub fn warning_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == diagnostics::Severity::Warning)
            .count()
    }
    /// File name → text for every file a diagnostic may name (project, manifest, stdlib).
    pub fn sources(&self) -> BTreeMap<FileName, String> {
        self.project.source_map()
    }
}

/// Load and check a project folder or a single `.mesh` file.
pub fn check_path(path: &Path) -> Result<CheckOutput, LoadError> {
    let project = project::load(path)?;
    let diagnostics = with_large_stack(|| {
        let db = db::Database::default();
        let handle = db::load_project(&db, &project);
        let mut diags = project.diagnostics.clone();
        diags.extend(db::project_diagnostics(&db, handle));
        diagnostics::sort(&mut diags);
        diags
    });
    Ok(CheckOutput {
        project,
        diagnostics,
    })
}

/// Run `f` on a thread with a large stack. The parser and checker recurse over nesting
/// that `syntax::trivia` bounds; this keeps the bound far from the platform's default stack.
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("meshline-compiler".into())
            .stack_size(256 * 1024 * 1024)
            .spawn_scoped(s, f)
            .map(|h| h.join())
            .unwrap_or_else(|e| panic!("cannot start the compiler thread: {e}"))
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}
