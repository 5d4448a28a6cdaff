//! The salsa database: source files and the project are inputs; parsing, signatures, the
//! project index, each module's inference (the checker's one run over it) and project
//! checks are tracked queries.
//!
//! Incrementality: a module's [`module_sig`] has no spans or bodies, so an edit inside one
//! file that does not change what it declares leaves the signature equal; salsa then
//! backdates it and [`project_index`] and every other module's [`module_inference`] are
//! reused.
//! Diagnostics are query values (no accumulators), as in rust-analyzer and ty.

use std::collections::BTreeSet;
use std::sync::Arc;

use salsa::Setter as _;

use crate::diagnostics::{self, Diagnostic, FileName};
use crate::project::{Manifest, ProjectFiles, STDLIB};
use crate::semantic::index::ProjectIndex;
use crate::semantic::project_checks::{ModuleView, project_checks};
use crate::semantic::sig::{ModuleSig, module_sig as build_sig};
use crate::semantic::{ModuleInference, infer_module};
use crate::syntax::ast::Module;

#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(clone)]
    pub name: FileName,
    #[returns(clone)]
    pub module: String,
    #[returns(ref)]
    pub text: String,
    #[returns(copy)]
    pub is_std: bool,
}

/// A data file (a `.csv` a `table` may read, docs/language.md §5.5): an input like the
/// sources, so that editing it re-checks the tables that read it.
#[salsa::input(debug)]
pub struct DataFile {
    #[returns(clone)]
    pub name: FileName,
    #[returns(ref)]
    pub text: String,
}

#[salsa::input(debug)]
pub struct ProjectInput {
    #[returns(ref)]
    pub manifest: Manifest,
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    #[returns(ref)]
    pub data: Vec<DataFile>,
}

#[salsa::db]
#[derive(Clone, Default)]
pub struct Database {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// A database whose event log records every query execution (for tests).
    pub fn with_log(log: Arc<std::sync::Mutex<Vec<String>>>) -> Database {
        Database {
            storage: salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
                if let salsa::EventKind::WillExecute { database_key } = event.kind
                    && let Ok(mut l) = log.lock()
                {
                    l.push(format!("{database_key:?}"));
                }
            }))),
        }
    }
}

/// A parsed module with its syntax diagnostics.
#[derive(Debug, PartialEq, Eq)]
pub struct Parsed {
    pub ast: Module,
    pub diagnostics: Vec<Diagnostic>,
}

#[salsa::tracked(returns(clone))]
pub fn parsed(db: &dyn salsa::Database, file: SourceFile) -> Arc<Parsed> {
    let (ast, diagnostics) = crate::syntax::parse(&file.name(db), file.text(db));
    Arc::new(Parsed { ast, diagnostics })
}

#[salsa::tracked(returns(clone))]
pub fn module_sig(db: &dyn salsa::Database, file: SourceFile) -> Arc<ModuleSig> {
    Arc::new(build_sig(
        &file.module(db),
        file.is_std(db),
        &parsed(db, file).ast,
    ))
}

#[salsa::tracked(returns(clone))]
pub fn project_index(db: &dyn salsa::Database, project: ProjectInput) -> Arc<ProjectIndex> {
    let sigs = project
        .files(db)
        .iter()
        .map(|f| module_sig(db, *f))
        .collect();
    Arc::new(ProjectIndex::build(sigs))
}

/// The semantic model of one module: its diagnostics, the type of each expression and
/// the type its context expected. The only place the checker runs on a project's files:
/// diagnostics, lowering and the editor features all read this.
///
/// `no_eq`: every reader also reads the module's parse or the project index, which changed
/// whenever this re-runs, so backdating an equal result would save nothing; comparing the
/// per-expression tables with the previous revision's would cost a deep walk per module
/// on every signature edit (docs/performance.md, issue 14).
#[salsa::tracked(returns(clone), no_eq)]
pub fn module_inference(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
) -> Arc<ModuleInference> {
    let index = project_index(db, project);
    let parsed = parsed(db, file);
    Arc::new(infer_module(
        &index,
        &file.module(db),
        &file.name(db),
        &parsed.ast,
    ))
}

/// The reference tables a module declares, their CSV files read and typed
/// (`semantic::tables`), with the problems found in them.
#[salsa::tracked(returns(clone))]
pub fn module_tables(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
) -> Arc<crate::semantic::tables::ModuleTables> {
    use crate::semantic::tables;
    let parsed = parsed(db, file);
    let decls: Vec<&crate::syntax::ast::TableDecl> = parsed
        .ast
        .items
        .iter()
        .filter_map(|i| match &i.kind {
            crate::syntax::ast::ItemKind::Table(t) => Some(t),
            _ => None,
        })
        .collect();
    let mut out = tables::ModuleTables::default();
    if decls.is_empty() {
        return Arc::new(out);
    }
    let index = project_index(db, project);
    let (module, name) = (file.module(db), file.name(db));
    for decl in decls {
        let Some(csv) = tables::resolve_path(&name, &decl.file.value) else {
            out.diagnostics.push(
                Diagnostic::new(
                    diagnostics::Code::TableFile,
                    &name,
                    decl.file.span,
                    format!("`{}` climbs out of the project", decl.file.value),
                    "here",
                )
                .with_help("keep table files under the source folder"),
            );
            continue;
        };
        let found = project
            .data(db)
            .iter()
            .find(|d| *d.name(db) == *csv)
            .map(|d| d.text(db).as_str());
        let (rows, diags) = tables::load_rows(&index, &module, &name, decl, &csv, found);
        out.diagnostics.extend(diags);
        out.tables.extend(rows);
    }
    Arc::new(out)
}

/// Whole-project checks (ownership, gate coverage, duplicates, facts, recursion, unused).
#[salsa::tracked(returns(clone))]
pub fn project_check(db: &dyn salsa::Database, project: ProjectInput) -> Arc<Vec<Diagnostic>> {
    let index = project_index(db, project);
    let mut uses = BTreeSet::new();
    for f in project.files(db).iter().filter(|f| !f.is_std(db)) {
        uses.extend(module_inference(db, project, *f).uses.iter().cloned());
    }
    let modules = Modules::load(db, project);
    Arc::new(project_checks(&index, &modules.views(), &uses))
}

/// The safety analysis of conditions (ambiguous and unreachable routes, shadowed arms,
/// never-true conditions, conflicting gates): whole-project, and the costliest check.
#[salsa::tracked(returns(clone))]
pub fn safety_check(db: &dyn salsa::Database, project: ProjectInput) -> Arc<Vec<Diagnostic>> {
    let index = project_index(db, project);
    let modules = Modules::load(db, project);
    let views = modules.views();
    let own: Vec<&ModuleView<'_>> = views.iter().filter(|m| !m.is_std).collect();
    Arc::new(crate::semantic::safety::safety_checks(&index, &views, &own))
}

/// Every module's parse, named, for the whole-project checks.
struct Modules {
    files: Vec<(String, FileName, bool, Arc<Parsed>)>,
}

impl Modules {
    fn load(db: &dyn salsa::Database, project: ProjectInput) -> Modules {
        let files = project
            .files(db)
            .iter()
            .map(|f| (f.module(db), f.name(db), f.is_std(db), parsed(db, *f)))
            .collect();
        Modules { files }
    }

    fn views(&self) -> Vec<ModuleView<'_>> {
        self.files
            .iter()
            .map(|(module, file, is_std, p)| ModuleView {
                module,
                file,
                ast: &p.ast,
                is_std: *is_std,
            })
            .collect()
    }
}

/// Every diagnostic of one file (what an editor shows for it).
#[salsa::tracked(returns(clone))]
pub fn file_diagnostics(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
) -> Arc<Vec<Diagnostic>> {
    let mut out = (*file_diagnostics_fast(db, project, file)).clone();
    out.extend(file_safety_diagnostics(db, project, file).iter().cloned());
    diagnostics::sort(&mut out);
    Arc::new(out)
}

/// A file's diagnostics but the safety analysis's: what an editor can show first, while
/// the costlier whole-project analysis runs (see [`file_safety_diagnostics`]).
#[salsa::tracked(returns(clone))]
pub fn file_diagnostics_fast(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
) -> Arc<Vec<Diagnostic>> {
    let mut checks = module_inference(db, project, file).diagnostics.clone();
    checks.extend(module_tables(db, project, file).diagnostics.iter().cloned());
    let name = file.name(db);
    checks.extend(
        project_check(db, project)
            .iter()
            .filter(|d| d.primary.file == name)
            .cloned(),
    );
    let index = project_index(db, project);
    let mut out = parsed(db, file).diagnostics.clone();
    out.extend(crate::semantic::dependent::suppress(
        &index,
        file.text(db),
        checks,
    ));
    diagnostics::sort(&mut out);
    Arc::new(out)
}

/// The safety analysis's diagnostics in one file.
#[salsa::tracked(returns(clone))]
pub fn file_safety_diagnostics(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
) -> Arc<Vec<Diagnostic>> {
    let name = file.name(db);
    let mut out: Vec<Diagnostic> = safety_check(db, project)
        .iter()
        .filter(|d| d.primary.file == name)
        .cloned()
        .collect();
    diagnostics::sort(&mut out);
    Arc::new(out)
}

/// Every diagnostic of the project's own files (the standard library is trusted).
pub fn project_diagnostics(db: &dyn salsa::Database, project: ProjectInput) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for f in project.files(db).iter().filter(|f| !f.is_std(db)) {
        out.extend(file_diagnostics(db, project, *f).iter().cloned());
    }
    // Project checks may point at files outside the module list (the manifest).
    let names: BTreeSet<FileName> = project.files(db).iter().map(|f| f.name(db)).collect();
    out.extend(
        project_check(db, project)
            .iter()
            .filter(|d| !names.contains(&d.primary.file))
            .cloned(),
    );
    diagnostics::sort(&mut out);
    out
}

/// Create the inputs for a project loaded from disk, with the embedded standard library.
pub fn load_project(db: &Database, files: &ProjectFiles) -> ProjectInput {
    let mut inputs = std_files(db);
    for f in &files.files {
        inputs.push(SourceFile::new(
            db,
            f.name.clone(),
            f.module.clone(),
            f.text.clone(),
            false,
        ));
    }
    let data = files
        .data
        .iter()
        .map(|d| DataFile::new(db, d.name.clone(), d.text.clone()))
        .collect();
    ProjectInput::new(db, files.manifest.clone(), inputs, data)
}

/// The standard library as inputs (high durability: it never changes in a session).
pub fn std_files(db: &Database) -> Vec<SourceFile> {
    STDLIB
        .iter()
        .map(|(module, path, text)| {
            SourceFile::builder(
                FileName::from(*path),
                module.to_string(),
                text.to_string(),
                true,
            )
            .durability(salsa::Durability::HIGH)
            .new(db)
        })
        .collect()
}

/// Replace a file's text (an editor change).
pub fn set_text(db: &mut Database, file: SourceFile, text: String) {
    file.set_text(db).to(text);
}

/// Replace a data file's text (the CSV changed on disk).
pub fn set_data_text(db: &mut Database, file: DataFile, text: String) {
    file.set_text(db).to(text);
}

/// Lower a project that checked without errors to the runtime's IR.
pub fn lower(
    db: &dyn salsa::Database,
    project: ProjectInput,
    manifest: &Manifest,
) -> meshline_runtime::ir::Program {
    lower_with_tests(db, project, manifest).0
}

/// Lower a project (as [`lower`]) together with its tests and acceptance sets.
pub fn lower_with_tests(
    db: &dyn salsa::Database,
    project: ProjectInput,
    manifest: &Manifest,
) -> (
    meshline_runtime::ir::Program,
    Vec<crate::lower::tests::TestCase>,
    Vec<crate::lower::tests::Acceptance>,
) {
    let index = project_index(db, project);
    let files = project.files(db);
    let mut inputs = Vec::new();
    let mut names = std::collections::BTreeMap::new();
    for f in files.iter() {
        let parsed = parsed(db, *f);
        // The same memoized result the diagnostics came from: the checker does not run again.
        let inference = module_inference(db, project, *f);
        let tables = module_tables(db, project, *f);
        names.insert(f.module(db), f.name(db));
        inputs.push((f.module(db), f.is_std(db), parsed, inference, tables));
    }
    inputs.sort_by(|a, b| a.0.cmp(&b.0));
    let modules: Vec<crate::lower::ModuleInput<'_>> = inputs
        .iter()
        .map(|(m, is_std, p, t, tables)| crate::lower::ModuleInput {
            module: m,
            is_std: *is_std,
            ast: &p.ast,
            inference: t,
            tables,
        })
        .collect();
    let (program, ids) =
        crate::lower::lower_with_ids(&index, &modules, &manifest.name, &manifest.version);
    let (tests, acceptance) = crate::lower::tests::lower_tests(&index, &ids, &modules, &names);
    (program, tests, acceptance)
}
