//! Hover on a reference table (docs/language.md §5.5): its columns, and the rows its file
//! has now (from `db::module_tables`, so it follows edits of the CSV file).

use crate::db::{self, ProjectInput, SourceFile};
use crate::syntax::ast::{ItemKind, Module, TableDecl};

fn decl<'a>(ast: &'a Module, name: &str) -> Option<&'a TableDecl> {
    ast.items.iter().find_map(|i| match &i.kind {
        ItemKind::Table(t) if t.name.name == name => Some(t),
        _ => None,
    })
}

pub(super) fn is_table(ast: &Module, name: &str) -> bool {
    decl(ast, name).is_some()
}

/// `Columns: …` and `Rows: N from FILE`.
pub(super) fn values(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
    name: &str,
) -> Option<String> {
    let parsed = db::parsed(db, file);
    let t = decl(&parsed.ast, name)?;
    let columns: Vec<String> = crate::semantic::sig::row_fields(t)
        .iter()
        .map(|(n, _)| {
            let ty = t
                .columns
                .iter()
                .find(|c| c.name.name == *n)
                .map_or("String".to_string(), |c| super::defs::type_text(&c.ty));
            let key = if *n == t.key.name { " (key)" } else { "" };
            format!("`{n}: {ty}`{key}")
        })
        .collect();
    let mut lines = vec![format!("Columns: {}", columns.join(", "))];
    let tables = db::module_tables(db, project, file);
    match tables.tables.iter().find(|r| r.name == name) {
        Some(rows) => lines.push(format!(
            "Rows: {} from `{}` (sha256 {})",
            rows.rows.len(),
            rows.file,
            rows.hash.get(..12).unwrap_or(&rows.hash)
        )),
        None => lines.push(format!("Rows: none read from `{}`", t.file.value)),
    }
    Some(lines.join("  \n"))
}
