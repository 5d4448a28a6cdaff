//! Editor knowledge that is not tied to a protocol: what each name in a file refers to,
//! where things are declared, what to say about them, what may be typed at a cursor.
//!
//! The language server (`meshline-lsp`) converts these answers to LSP types; the CLI could
//! use them too. Everything is computed from the same salsa queries as `meshline check`:
//! [`file_analysis`] walks one parsed module with the project index and the module's
//! semantic model ([`db::module_inference`]) and records every definition and every resolved
//! name ([`Occurrence`]). Go to definition, references, rename, hover and semantic tokens
//! are lookups in those tables.

mod aggregates_hover;
pub mod complete;
pub mod defs;
pub mod fixes;
pub mod hover;
pub mod resolve;
pub mod signature;
mod tables_hover;

use std::sync::Arc;

use crate::db::{self, ProjectInput, SourceFile};
use crate::diagnostics::FileName;
use crate::semantic::index::OpKind;
use crate::semantic::types::DefId;
use crate::source::Span;

pub use defs::{Def, DefKind};

/// Something a name can refer to, identified across the project.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SymbolId {
    /// An enum, record, event, constant, function or fixture.
    Data(DefId),
    /// A variant of an enum.
    Variant(DefId, String),
    /// A field of a record or event.
    Field(DefId, String),
    /// A project-wide operational name (team, calendar, connector, route, SLA, gate,
    /// automation).
    Op(OpKind, String),
    /// `connector.action`.
    Action(String, String),
    /// A module (in an import or a qualified name).
    Module(String),
    /// A function parameter, by the span of its declaration in `file`.
    Local { file: FileName, span: Span },
}

/// One name in a file and what it refers to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub span: Span,
    pub id: SymbolId,
    /// This is the declaration itself.
    pub is_def: bool,
}

/// What [`file_analysis`] knows about one file.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FileAnalysis {
    /// Top-level declarations with their members, in source order (the outline).
    pub defs: Vec<Def>,
    /// Every resolved name, sorted by position.
    pub occurrences: Vec<Occurrence>,
}

impl FileAnalysis {
    /// The name under `offset` (a cursor just after a name also counts).
    pub fn occurrence_at(&self, offset: usize) -> Option<&Occurrence> {
        let inside = self
            .occurrences
            .iter()
            .filter(|o| o.span.start as usize <= offset && offset < o.span.end as usize)
            .min_by_key(|o| o.span.len());
        inside.or_else(|| {
            self.occurrences
                .iter()
                .find(|o| o.span.end as usize == offset && !o.span.is_empty())
        })
    }

    /// The declaration of `id` in this file, searching members too.
    pub fn def_of(&self, id: &SymbolId) -> Option<&Def> {
        fn find<'a>(defs: &'a [Def], id: &SymbolId) -> Option<&'a Def> {
            defs.iter().find_map(|d| {
                if d.id.as_ref() == Some(id) {
                    Some(d)
                } else {
                    find(&d.children, id)
                }
            })
        }
        find(&self.defs, id)
    }
}

/// Definitions and resolved names of one file.
#[salsa::tracked(returns(clone))]
pub fn file_analysis(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
) -> Arc<FileAnalysis> {
    let index = db::project_index(db, project);
    let parsed = db::parsed(db, file);
    let inference = db::module_inference(db, project, file);
    let module = file.module(db);
    let name = file.name(db);
    let defs = defs::collect(&module, &name, &parsed.ast, &index);
    let mut occurrences = resolve::occurrences(&index, &module, &name, &parsed.ast, &inference);
    occurrences.sort_by_key(|o| (o.span.start, o.span.end));
    occurrences.dedup();
    Arc::new(FileAnalysis { defs, occurrences })
}

/// The file that declares `id`, and the declaration.
pub fn definition(
    db: &dyn salsa::Database,
    project: ProjectInput,
    id: &SymbolId,
) -> Option<(SourceFile, Def)> {
    let index = db::project_index(db, project);
    let module = match id {
        // A field added by `extend record` is declared in the module that adds it.
        SymbolId::Field(d, f) => index
            .extended
            .get(d)
            .and_then(|fs| fs.iter().find(|(n, _)| n == f))
            .map_or_else(|| d.module.to_string(), |(_, m)| m.clone()),
        SymbolId::Data(d) | SymbolId::Variant(d, _) => d.module.to_string(),
        SymbolId::Op(kind, name) => index.op(*kind, name)?.to_string(),
        SymbolId::Action(c, _) => index.op(OpKind::Connector, c)?.to_string(),
        SymbolId::Module(m) => m.clone(),
        SymbolId::Local { file, .. } => {
            let f = project
                .files(db)
                .iter()
                .copied()
                .find(|f| f.name(db) == *file)?;
            return file_analysis(db, project, f)
                .def_of(id)
                .cloned()
                .map(|d| (f, d));
        }
    };
    let f = project
        .files(db)
        .iter()
        .copied()
        .find(|f| f.module(db) == module)?;
    if let SymbolId::Module(_) = id {
        let span = Span::at(0);
        return Some((
            f,
            Def {
                id: Some(id.clone()),
                kind: DefKind::Module,
                name: module.clone(),
                name_span: span,
                full_span: span,
                doc: None,
                detail: None,
                children: Vec::new(),
            },
        ));
    }
    file_analysis(db, project, f)
        .def_of(id)
        .cloned()
        .map(|d| (f, d))
}

/// Every place that names `id` (its declaration included), by file, in file order.
pub fn references(
    db: &dyn salsa::Database,
    project: ProjectInput,
    id: &SymbolId,
) -> Vec<(SourceFile, Occurrence)> {
    let mut out = Vec::new();
    for f in project.files(db).iter().copied() {
        if let SymbolId::Local { file, .. } = id
            && f.name(db) != *file
        {
            continue;
        }
        let analysis = file_analysis(db, project, f);
        for o in analysis.occurrences.iter().filter(|o| o.id == *id) {
            out.push((f, o.clone()));
        }
    }
    out
}

/// The file of a project by its name.
pub fn file_by_name(
    db: &dyn salsa::Database,
    project: ProjectInput,
    name: &str,
) -> Option<SourceFile> {
    project
        .files(db)
        .iter()
        .copied()
        .find(|f| &*f.name(db) == name)
}

#[cfg(test)]
mod aggregates_tests;
#[cfg(test)]
mod facts_tests;
#[cfg(test)]
mod tables_tests;
#[cfg(test)]
mod test_project;
#[cfg(test)]
mod tests;
