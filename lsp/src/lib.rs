//! The Meshline language server's engine, with no transport: open documents live in the
//! compiler's salsa database and every answer comes from its queries (no second parser or
//! checker). The `tower-lsp-server` adapter, completion, hover and the rest arrive with the
//! language-server issue; this crate already gives editors' core need, per-file diagnostics
//! that survive partial input.

use std::collections::BTreeMap;
use std::sync::Arc;

use meshline_compiler::db::{self, Database, Project, SourceFile};
use meshline_compiler::diagnostics::{Diagnostic, FileName};
use meshline_compiler::project::ProjectFiles;

/// One workspace: the database and the files it holds, by name.
pub struct Analysis {
    db: Database,
    project: Project,
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
        Analysis {
            db,
            project,
            files: by_name,
        }
    }

    /// Replace the text of an open file (an editor change). Unknown files are ignored.
    pub fn change(&mut self, file: &str, text: String) -> bool {
        match self.files.get(file) {
            Some(f) => {
                db::set_text(&mut self.db, *f, text);
                true
            }
            None => false,
        }
    }

    /// Diagnostics of one file, as the compiler reports them. The query runs on a
    /// snapshot of the database, on a thread with the compiler's large stack (deeply
    /// nested input would overflow an editor's ordinary worker thread).
    pub fn diagnostics(&self, file: &str) -> Arc<Vec<Diagnostic>> {
        let Some(f) = self.files.get(file).copied() else {
            return Arc::new(Vec::new());
        };
        let snapshot = self.db.clone();
        let project = self.project;
        meshline_compiler::with_large_stack(move || db::file_diagnostics(&snapshot, project, f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshline_compiler::project::{Manifest, SourceText};

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
}
