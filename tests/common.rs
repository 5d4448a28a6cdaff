//! Shared helpers: fixture discovery, the inline-marker oracle, in-memory checking and the
//! snapshot text.
//!
//! Markers. A fixture says which diagnostics it expects with a comment on the line where
//! each diagnostic's primary span starts: `//~ E0101` in `.mesh` files, `#~ E0005` in
//! `meshline.toml`. Several codes may follow one marker (`//~ E0101 W0001`); a code listed
//! twice expects two diagnostics. The oracle is exact: every marker needs a diagnostic with
//! that code starting on that line, and every diagnostic needs a marker.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use meshline_compiler::diagnostics::{Code, Diagnostic, FileName, render_ariadne, render_short};
use meshline_compiler::project::{Manifest, ProjectFiles, SourceText};
use meshline_compiler::source::LineIndex;

/// `tests/` (this crate's root).
pub fn tests_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repository root.
pub fn repo_dir() -> PathBuf {
    tests_dir()
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The fixtures of `tests/check/<kind>/`: `.mesh` files and project folders, sorted.
pub fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = tests_dir().join("check").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "mesh"))
        .collect();
    out.sort();
    out
}

/// The fixture's name: its file or folder name (`E0101_duplicate_name.mesh`).
pub fn fixture_name(path: &Path) -> String {
    path.file_name()
        .expect("fixture has a name")
        .to_string_lossy()
        .into_owned()
}

/// Every `.mesh` file under `dir`, recursively, sorted.
pub fn mesh_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "mesh") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// One expected diagnostic: file, 0-based line, code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Marker {
    pub file: String,
    pub line: usize,
    pub code: String,
}

/// The markers in one file's text (`//~` for `.mesh`, `#~` for TOML). Words after the
/// codes are ignored, so a marker may carry a short note.
pub fn markers(file: &str, text: &str) -> Vec<Marker> {
    let tag = if file.ends_with(".toml") { "#~" } else { "//~" };
    let mut out = Vec::new();
    for (line, content) in text.lines().enumerate() {
        let Some(at) = content.find(tag) else {
            continue;
        };
        for word in content[at + tag.len()..].split_whitespace() {
            let is_code = word.len() == 5
                && (word.starts_with('E') || word.starts_with('W'))
                && word[1..].chars().all(|c| c.is_ascii_digit());
            if !is_code {
                break;
            }
            out.push(Marker {
                file: file.to_string(),
                line,
                code: word.to_string(),
            });
        }
    }
    out
}

/// A checked fixture, with file names made relative to the fixture so that snapshots do
/// not depend on where the repository lives.
pub struct Checked {
    /// File name → text of the fixture's own files (sources and manifest).
    pub files: BTreeMap<FileName, String>,
    /// Everything a renderer may need (fixture files and the standard library).
    pub sources: BTreeMap<FileName, String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Check a fixture (a `.mesh` file or a project folder) through the public API.
pub fn check_fixture(path: &Path) -> Checked {
    let out = meshline_compiler::check_path(path)
        .unwrap_or_else(|e| panic!("{}: cannot load: {e}", path.display()));
    // A single file is named by the path it was loaded from; name it by its file name.
    let full = path.to_string_lossy().replace('\\', "/");
    let short = fixture_name(path);
    let rename = |f: &FileName| -> FileName {
        if path.is_file() && **f == *full {
            FileName::from(short.as_str())
        } else {
            f.clone()
        }
    };
    let sources: BTreeMap<FileName, String> = out
        .sources()
        .into_iter()
        .map(|(k, v)| (rename(&k), v))
        .collect();
    let mut files: BTreeMap<FileName, String> = out
        .project
        .files
        .iter()
        .map(|f| (rename(&f.name), f.text.clone()))
        .collect();
    if let Some(t) = &out.project.manifest_text {
        files.insert(FileName::from("meshline.toml"), t.clone());
    }
    // Data files (reference tables): a marker sits in a column the table does not declare.
    for d in &out.project.data {
        files.insert(rename(&d.name), d.text.clone());
    }
    let diagnostics = out
        .diagnostics
        .iter()
        .map(|d| {
            let mut d = d.clone();
            d.primary.file = rename(&d.primary.file);
            for l in &mut d.secondary {
                l.file = rename(&l.file);
            }
            d
        })
        .collect();
    Checked {
        files,
        sources,
        diagnostics,
    }
}

/// The marker oracle: `Ok` when markers and diagnostics match exactly, else a report.
pub fn verify_markers(name: &str, c: &Checked) -> Result<(), String> {
    let mut expected: Vec<Marker> = c.files.iter().flat_map(|(f, t)| markers(f, t)).collect();
    let mut actual: Vec<(Marker, &str)> = c
        .diagnostics
        .iter()
        .map(|d| {
            let text = c.sources.get(&d.primary.file).map_or("", String::as_str);
            let m = Marker {
                file: d.primary.file.to_string(),
                line: LineIndex::new(text).line_of(d.primary.span.start as usize),
                code: d.code.as_str().to_string(),
            };
            (m, d.message.as_str())
        })
        .collect();
    expected.sort();
    actual.sort();
    let mut problems = Vec::new();
    for m in &expected {
        if Code::from_str(&m.code).is_none() {
            problems.push(format!(
                "{}:{}: marker names `{}`, which is not a diagnostic code",
                m.file,
                m.line + 1,
                m.code
            ));
        }
    }
    let (mut i, mut j) = (0, 0);
    while i < expected.len() || j < actual.len() {
        match (expected.get(i), actual.get(j)) {
            (Some(e), Some((a, _))) if e == a => {
                i += 1;
                j += 1;
            }
            (Some(e), a) if a.is_none_or(|(a, _)| e < a) => {
                problems.push(format!(
                    "{}:{}: expected {} (marker), but no such diagnostic starts on this line",
                    e.file,
                    e.line + 1,
                    e.code
                ));
                i += 1;
            }
            (_, Some((a, d))) => {
                problems.push(format!(
                    "{}:{}: unexpected {} ({d}): add `//~ {}` to the line or fix the fixture",
                    a.file,
                    a.line + 1,
                    a.code,
                    a.code
                ));
                j += 1;
            }
            (_, None) => unreachable!("loop condition"),
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("{name}:\n  {}", problems.join("\n  ")))
    }
}

/// The snapshot of a checked fixture: its files, a divider, the ariadne report without
/// colour, a divider, and the one-line renders.
pub fn snapshot_text(c: &Checked) -> String {
    let mut out = String::new();
    let several = c.files.len() > 1;
    for (name, text) in &c.files {
        if several {
            out.push_str(&format!("=== {name}\n"));
        }
        out.push_str(text);
        if !text.ends_with('\n') {
            out.push('\n');
        }
    }
    out.push_str("-----\n");
    out.push_str(&render_ariadne::render_all(
        &c.diagnostics,
        &c.sources,
        false,
    ));
    out.push_str("-----\n");
    for d in &c.diagnostics {
        out.push_str(&render_short::render_short(d, &c.sources));
        out.push('\n');
    }
    out
}

/// An in-memory project of `files` (`(module, text)`), as the salsa database sees it.
pub fn project_files(files: &[(&str, &str)]) -> ProjectFiles {
    ProjectFiles {
        root: PathBuf::from("mem"),
        manifest: Manifest {
            name: "mem".into(),
            version: "0.0.0".into(),
            sources: "rules".into(),
        },
        files: files
            .iter()
            .map(|(module, text)| SourceText {
                name: FileName::from(format!("rules/{}.mesh", module.replace('.', "/")).as_str()),
                module: (*module).to_string(),
                text: (*text).to_string(),
            })
            .collect(),
        manifest_text: None,
        diagnostics: Vec::new(),
        data: Vec::new(),
    }
}

/// Check in-memory modules with a fresh database (no disk, no large-stack thread).
pub fn check_in_memory(files: &[(&str, &str)]) -> Vec<Diagnostic> {
    use meshline_compiler::db;
    let project = project_files(files);
    let database = db::Database::default();
    let handle = db::load_project(&database, &project);
    db::project_diagnostics(&database, handle)
}

/// A reusable one-module checker: the standard library is parsed once, and each call only
/// replaces the module's text (a salsa input), as an editor would.
pub struct Checker {
    db: meshline_compiler::db::Database,
    file: meshline_compiler::db::SourceFile,
    project: meshline_compiler::db::ProjectInput,
}

impl Checker {
    pub fn new(module: &str) -> Checker {
        use meshline_compiler::db;
        let db = db::Database::default();
        let project = db::load_project(&db, &project_files(&[(module, "")]));
        let file = *project
            .files(&db)
            .iter()
            .find(|f| !f.is_std(&db))
            .expect("the module is loaded");
        Checker { db, file, project }
    }

    pub fn check(&mut self, text: &str) -> Vec<Diagnostic> {
        use meshline_compiler::db;
        db::set_text(&mut self.db, self.file, text.to_string());
        db::project_diagnostics(&self.db, self.project)
    }
}

/// Parse only (no checks), returning the syntax diagnostics.
pub fn parse_only(text: &str) -> Vec<Diagnostic> {
    let name: FileName = Arc::from("fuzz.mesh");
    meshline_compiler::syntax::parse(&name, text).1
}

/// Does the text end with an open bracket or an open string (outside comments)? Such a
/// text cannot be a valid module, so checking it must report a syntax error.
pub fn certainly_unbalanced(text: &str) -> bool {
    let b = text.as_bytes();
    let mut depth: i64 = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                loop {
                    match b.get(i) {
                        None | Some(b'\n') => return true,
                        Some(b'\\') => i += 2,
                        Some(b'"') => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    depth != 0
}

/// Is there an error among the diagnostics?
pub fn has_error(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}

/// Is there a syntax-level error (E0001, E0002) among the diagnostics?
pub fn has_syntax_error(diags: &[Diagnostic]) -> bool {
    diags
        .iter()
        .any(|d| matches!(d.code, Code::Syntax | Code::TooDeep))
}
