//! The one-file project the editor tests open, with a `$0` cursor marker and optional data
//! files (CSV tables), shared by the feature test modules.

use super::{ProjectInput, SourceFile, file_by_name};
use crate::db::{Database, load_project};
use crate::project::{Manifest, ProjectFiles, SourceText};

/// Load `rules` (with `$0` marking the cursor) as `rules/rules.mesh`, plus `data`; the
/// database, the project, the file and the cursor's offset.
pub(super) fn setup(
    rules: &str,
    data: Vec<SourceText>,
) -> (Database, ProjectInput, SourceFile, usize) {
    let offset = rules.find("$0").expect("cursor marker");
    let text = rules.replace("$0", "");
    let files = ProjectFiles {
        root: ".".into(),
        manifest: Manifest {
            name: "t".into(),
            version: "0.1.0".into(),
            sources: "rules".into(),
        },
        files: vec![SourceText {
            name: "rules/rules.mesh".into(),
            module: "rules".into(),
            text,
        }],
        manifest_text: None,
        diagnostics: Vec::new(),
        data,
    };
    let db = Database::default();
    let project = load_project(&db, &files);
    let file = file_by_name(&db, project, "rules/rules.mesh").expect("file");
    (db, project, file, offset)
}
