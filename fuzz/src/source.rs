//! `source`: a `.mesh` file through parse, check (the salsa database with the standard
//! library, as `meshline check` and the language server use it), lowering and bundle
//! encoding when it checks clean, and the formatter.
//!
//! One database lives for the whole process and each input replaces the file's text, as an
//! editor does: the standard library is checked once, so an input costs what an edit costs.
//! Oracles beyond "no panic": every diagnostic's span is a valid range of the text; a clean
//! program lowers, loads into an engine and encodes to a bundle that decodes to it; the
//! formatter's output formats to itself (docs/language.md, "Formatting").

use std::sync::{Mutex, OnceLock};

use meshline_compiler::db::{self, Database, ProjectInput, SourceFile};
use meshline_compiler::diagnostics::FileName;
use meshline_compiler::project::{Manifest, ProjectFiles, SourceText};
use meshline_compiler::{FormatError, format_source, with_large_stack};
use meshline_runtime::ir::Program;

struct Checker {
    db: Database,
    project: ProjectInput,
    file: SourceFile,
    manifest: Manifest,
}

fn checker() -> &'static Mutex<Checker> {
    static CHECKER: OnceLock<Mutex<Checker>> = OnceLock::new();
    CHECKER.get_or_init(|| {
        let manifest = Manifest {
            name: "fuzz".into(),
            version: "0.1.0".into(),
            sources: "rules".into(),
        };
        let files = ProjectFiles {
            root: ".".into(),
            manifest: manifest.clone(),
            files: vec![SourceText {
                name: FileName::from("rules/fuzz.mesh"),
                module: "fuzz".into(),
                text: String::new(),
            }],
            manifest_text: None,
            diagnostics: Vec::new(),
            data: Vec::new(),
        };
        let db = Database::default();
        let project = db::load_project(&db, &files);
        let file = project
            .files(&db)
            .iter()
            .copied()
            .find(|f| !f.is_std(&db))
            .unwrap_or_else(|| unreachable!("the project has its file"));
        Mutex::new(Checker {
            db,
            project,
            file,
            manifest,
        })
    })
}

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut guard = checker().lock().unwrap_or_else(|e| e.into_inner());
    let c = &mut *guard;
    with_large_stack(|| check(c, text));
    with_large_stack(|| format(text));
}

fn check(c: &mut Checker, text: &str) {
    db::set_text(&mut c.db, c.file, text.to_string());
    let diags = db::project_diagnostics(&c.db, c.project);
    for d in &diags {
        for label in std::iter::once(&d.primary).chain(&d.secondary) {
            if &*label.file != "rules/fuzz.mesh" {
                continue;
            }
            let (s, e) = (label.span.start as usize, label.span.end as usize);
            assert!(
                s <= e && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e),
                "{}: span {s}..{e} is not a valid range of the text ({} bytes)",
                d.code.as_str(),
                text.len()
            );
        }
    }
    if diags.iter().any(|d| d.is_error()) {
        return;
    }
    let program = db::lower(&c.db, c.project, &c.manifest);
    let bytes = meshline_runtime::bundle::encode(&manifest(&program), &program)
        .unwrap_or_else(|e| panic!("a clean program does not encode: {e}"));
    let (_, decoded, hash) = meshline_runtime::bundle::decode::<Program>(&bytes)
        .unwrap_or_else(|e| panic!("an encoded bundle does not decode: {e}"));
    assert!(
        decoded == program,
        "the program changed in a bundle round trip"
    );
    if let Err(e) = meshline_runtime::Engine::new(decoded, &hash) {
        panic!("a clean program does not load into an engine: {e}");
    }
}

fn manifest(p: &Program) -> meshline_runtime::bundle::Manifest {
    meshline_runtime::bundle::Manifest {
        package: "fuzz".into(),
        version: "0.1.0".into(),
        compiler_version: meshline_compiler::VERSION.into(),
        source_hash: String::new(),
        tzdb_version: String::new(),
        automations: p
            .automations
            .iter()
            .map(|a| (a.name.clone(), a.version))
            .collect(),
        sources: Default::default(),
        tables: Default::default(),
    }
}

fn format(text: &str) {
    match format_source(text) {
        Ok(out) => match format_source(&out) {
            Ok(again) => assert!(again == out, "formatting is not idempotent"),
            Err(e) => panic!("the formatter's output does not format: {e:?}"),
        },
        Err(FormatError::Syntax(_)) => {}
        Err(FormatError::Unsound(why)) => panic!("the formatter reports itself unsound: {why}"),
    }
}

pub fn seeds() -> Vec<Vec<u8>> {
    crate::seeds::mesh_sources()
}
