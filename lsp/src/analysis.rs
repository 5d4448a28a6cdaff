//! The engine with no transport: one project's files in the compiler's salsa database.
//! Every answer comes from its queries (no second parser or checker).
//!
//! Mutations (`change`, `add_file`) need `&mut self`; salsa cancels every outstanding
//! [`Snapshot`] first. Requests run on a snapshot (a database clone) on a thread with the
//! compiler's large stack, through [`Snapshot::run`], which turns cancellation and panics
//! into [`RunError`] values instead of unwinding into the server.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshline_compiler::db::{self, Database, ProjectInput, SourceFile};
use meshline_compiler::diagnostics::{Diagnostic, FileName};
use meshline_compiler::project::{Manifest, ProjectFiles, SourceText};
use salsa::Setter as _;

/// One project: the database and the files it holds, by name.
pub struct Analysis {
    /// The project folder (for a single file: its folder).
    pub root: PathBuf,
    /// Where `.mesh` sources live (`root/sources`); `None` for a single-file project.
    sources: Option<PathBuf>,
    db: Database,
    project: ProjectInput,
    files: BTreeMap<FileName, SourceFile>,
}

impl Analysis {
    /// Start from a project loaded from disk.
    pub fn new(files: &ProjectFiles) -> Analysis {
        let db = Database::default();
        let project = db::load_project(&db, files);
        let by_name = project
            .files(&db)
            .iter()
            .map(|f| (f.name(&db), *f))
            .collect();
        let sources = files
            .manifest_text
            .is_some()
            .then(|| files.root.join(&files.manifest.sources));
        Analysis {
            root: files.root.clone(),
            sources,
            db,
            project,
            files: by_name,
        }
    }

    /// A project of one file that is only in the editor (not on disk, or outside any
    /// project).
    pub fn single(name: &str, module: &str, text: String, root: PathBuf) -> Analysis {
        Analysis::new(&ProjectFiles {
            root,
            manifest: Manifest {
                name: module.to_string(),
                version: "0.0.0".into(),
                sources: ".".into(),
            },
            files: vec![SourceText {
                name: FileName::from(name),
                module: module.to_string(),
                text,
            }],
            manifest_text: None,
            diagnostics: Vec::new(),
            data: Vec::new(),
        })
    }

    pub fn file(&self, name: &str) -> Option<SourceFile> {
        self.files.get(name).copied()
    }

    /// The file name and module a path on disk has in this project, if it belongs here.
    pub fn name_for_path(&self, path: &Path) -> Option<(FileName, String)> {
        if let Some((name, _)) = self
            .files
            .iter()
            .find(|(n, f)| !f.is_std(&self.db) && self.path_of(n).as_deref() == Some(path))
        {
            let module = self.files[name].module(&self.db);
            return Some((name.clone(), module));
        }
        let sources = self.sources.as_ref()?;
        let in_src = path.strip_prefix(sources).ok()?;
        if path.extension().is_none_or(|e| e != "mesh") {
            return None;
        }
        let rel = path.strip_prefix(&self.root).ok()?;
        let slash = |p: &Path| p.to_string_lossy().replace('\\', "/");
        let module = slash(in_src).trim_end_matches(".mesh").replace('/', ".");
        Some((FileName::from(slash(rel).as_str()), module))
    }

    /// The path on disk of a project file (`None` for the standard library).
    pub fn path_of(&self, name: &str) -> Option<PathBuf> {
        let f = self.files.get(name)?;
        if f.is_std(&self.db) {
            return None;
        }
        let p = Path::new(name);
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        })
    }

    /// Replace the text of a file (an editor change). Unknown files are ignored.
    pub fn change(&mut self, file: &str, text: String) -> bool {
        match self.files.get(file) {
            Some(f) => {
                if f.text(&self.db) != &text {
                    db::set_text(&mut self.db, *f, text);
                }
                true
            }
            None => false,
        }
    }

    /// Add a file the project did not have (created in the editor).
    pub fn add_file(&mut self, name: FileName, module: String, text: String) -> SourceFile {
        if let Some(f) = self.files.get(&name) {
            let f = *f;
            self.change(&name, text);
            return f;
        }
        let f = SourceFile::new(&self.db, name.clone(), module, text, false);
        let mut all = self.project.files(&self.db).clone();
        all.push(f);
        self.project.set_files(&mut self.db).to(all);
        self.files.insert(name, f);
        f
    }

    /// A read-only view for one request.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            db: self.db.clone(),
            project: self.project,
            root: self.root.clone(),
        }
    }

    /// Diagnostics of one file, as the compiler reports them (see [`Snapshot::run`]).
    pub fn diagnostics(&self, file: &str) -> Arc<Vec<Diagnostic>> {
        let Some(f) = self.files.get(file).copied() else {
            return Arc::new(Vec::new());
        };
        self.snapshot()
            .run(move |s| db::file_diagnostics(&s.db, s.project, f))
            .unwrap_or_default()
    }
}

/// Why a request on a snapshot gave no answer.
#[derive(Debug)]
pub enum RunError {
    /// An edit arrived while the request ran; its answer would be stale.
    Cancelled,
    /// The request panicked (a bug); the message says where.
    Panicked(String),
}

/// A database clone with the project handle: what a request reads.
pub struct Snapshot {
    pub db: Database,
    pub project: ProjectInput,
    pub root: PathBuf,
}

impl Snapshot {
    /// Run `f` on a thread with the compiler's large stack. Cancellation (a newer edit)
    /// and panics come back as errors; the server stays up.
    pub fn run<T: Send>(self, f: impl FnOnce(&Snapshot) -> T + Send) -> Result<T, RunError> {
        let result = std::panic::catch_unwind(AssertUnwindSafe(move || {
            meshline_compiler::with_large_stack(move || {
                std::panic::catch_unwind(AssertUnwindSafe(move || f(&self)))
            })
        }));
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(payload)) | Err(payload) => {
                if payload.downcast_ref::<salsa::Cancelled>().is_some() {
                    return Err(RunError::Cancelled);
                }
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(RunError::Panicked(msg))
            }
        }
    }

    pub fn file(&self, name: &str) -> Option<SourceFile> {
        meshline_compiler::ide::file_by_name(&self.db, self.project, name)
    }

    /// The path on disk of a project file (`None` for the standard library).
    pub fn path_of(&self, file: SourceFile) -> Option<PathBuf> {
        if file.is_std(&self.db) {
            return None;
        }
        let name = file.name(&self.db);
        let p = Path::new(&*name);
        Some(if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.root.join(p)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(text: &str) -> ProjectFiles {
        ProjectFiles {
            root: ".".into(),
            manifest: Manifest {
                name: "t".into(),
                version: "0.1.0".into(),
                sources: "rules".into(),
            },
            files: vec![SourceText {
                name: "rules/a.mesh".into(),
                module: "a".into(),
                text: text.into(),
            }],
            manifest_text: None,
            diagnostics: Vec::new(),
            data: Vec::new(),
        }
    }

    #[test]
    fn deep_input_does_not_overflow_the_callers_stack() {
        let chain = vec!["1"; 3000].join(" + ");
        let a = Analysis::new(&project(&format!("let _x: Int = {chain}\n")));
        assert!(a.diagnostics("rules/a.mesh").iter().all(|d| !d.is_error()));
    }

    #[test]
    fn half_typed_declaration_keeps_the_rest_checked() {
        let mut a = Analysis::new(&project("let _ok: Int = 1\n"));
        assert!(a.diagnostics("rules/a.mesh").is_empty());
        // Mid-edit: an unbalanced declaration, and a type error in a later one.
        a.change(
            "rules/a.mesh",
            "let _ok: Int = 1\nteam broken {\n  members [\nlet _bad: Int = \"x\"\n".into(),
        );
        let codes: Vec<&str> = a
            .diagnostics("rules/a.mesh")
            .iter()
            .map(|d| d.code.as_str())
            .collect();
        assert!(codes.contains(&"E0001"), "{codes:?}");
        assert!(
            codes.contains(&"E0201"),
            "the declaration after the broken one is still type-checked: {codes:?}"
        );
    }

    #[test]
    fn a_panicking_request_is_an_error_not_a_crash() {
        let a = Analysis::new(&project("let _ok: Int = 1\n"));
        let r: Result<(), RunError> = a.snapshot().run(|_| panic!("boom"));
        assert!(matches!(r, Err(RunError::Panicked(m)) if m == "boom"));
    }

    #[test]
    fn a_file_created_in_the_editor_joins_the_project() {
        let mut a = Analysis::new(&project("let x: Int = 1\n"));
        a.add_file(
            "rules/b.mesh".into(),
            "b".into(),
            "import a.{x}\nlet _y: Int = x\n".into(),
        );
        assert!(
            a.diagnostics("rules/b.mesh").is_empty(),
            "{:?}",
            a.diagnostics("rules/b.mesh")
        );
    }
}
