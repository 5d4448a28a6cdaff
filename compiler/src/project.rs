//! Projects on disk: `meshline.toml`, the source folder, module names, and the embedded
//! standard library.
//!
//! A project is a folder with `meshline.toml`; every `.mesh` file under its source folder
//! (default `rules`) is a module named by its path (`rules/billing/refunds.mesh` is
//! `billing.refunds`). A single `.mesh` file can also be checked on its own: it is a project
//! of one module named after the file. I/O failures are [`ProjectLoadError`]s (exit status 2);
//! problems inside files are diagnostics.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;

include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

pub const MANIFEST: &str = "meshline.toml";

/// The parsed manifest.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Manifest {
    pub name: String,
    pub version: String,
    /// Source folder relative to the project root.
    pub sources: String,
}

/// One source file: its display name (project-relative path), module name and text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceText {
    pub name: FileName,
    pub module: String,
    pub text: String,
}

/// Everything the compiler needs from disk.
#[derive(Clone, Debug)]
pub struct ProjectFiles {
    pub root: PathBuf,
    pub manifest: Manifest,
    pub files: Vec<SourceText>,
    /// `meshline.toml`'s text (for rendering manifest diagnostics), if there is one.
    pub manifest_text: Option<String>,
    /// Problems found while loading (bad manifest, non-UTF-8 file, bad file name).
    pub diagnostics: Vec<Diagnostic>,
    /// Data files (`.csv` under the source folder) that `table` declarations may read
    /// (docs/language.md §5.5), named like `files`; `module` is empty.
    pub data: Vec<SourceText>,
}

impl ProjectFiles {
    /// File name → text, for renderers (project files, the manifest and the stdlib).
    pub fn source_map(&self) -> BTreeMap<FileName, String> {
        let mut map: BTreeMap<FileName, String> = self
            .files
            .iter()
            .map(|f| (f.name.clone(), f.text.clone()))
            .collect();
        if let Some(t) = &self.manifest_text {
            map.insert(FileName::from(MANIFEST), t.clone());
        }
        for d in &self.data {
            map.insert(d.name.clone(), d.text.clone());
        }
        for (_, path, text) in STDLIB {
            map.insert(FileName::from(*path), (*text).to_string());
        }
        map
    }
}

#[derive(Debug)]
pub enum ProjectLoadError {
    NotFound(PathBuf),
    NoManifest(PathBuf),
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for ProjectLoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProjectLoadError::NotFound(p) => {
                write!(f, "{}: no such file or directory", p.display())
            }
            ProjectLoadError::NoManifest(p) => write!(
                f,
                "{}: not a Meshline project (no {MANIFEST}); run `meshline new NAME` to create one, or pass a .mesh file",
                p.display()
            ),
            ProjectLoadError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for ProjectLoadError {}

#[derive(Deserialize)]
struct RawManifest {
    package: RawPackage,
    #[serde(default)]
    build: RawBuild,
}

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
}

#[derive(Deserialize, Default)]
struct RawBuild {
    sources: Option<String>,
}

/// Load a project folder, or a single `.mesh` file as a one-module project.
pub fn load(path: &Path) -> Result<ProjectFiles, ProjectLoadError> {
    if !path.exists() {
        return Err(ProjectLoadError::NotFound(path.to_path_buf()));
    }
    if path.is_file() {
        return load_single_file(path);
    }
    let manifest_path = path.join(MANIFEST);
    if !manifest_path.is_file() {
        return Err(ProjectLoadError::NoManifest(path.to_path_buf()));
    }
    let io = |error, p: &Path| ProjectLoadError::Io {
        path: p.to_path_buf(),
        error,
    };
    let manifest_bytes = std::fs::read(&manifest_path).map_err(|e| io(e, &manifest_path))?;
    let manifest_text = String::from_utf8_lossy(&manifest_bytes).into_owned();
    let mut diagnostics = Vec::new();
    let manifest = parse_manifest(&manifest_text, &mut diagnostics, path);
    let src_dir = path.join(&manifest.sources);
    let mut files = Vec::new();
    let mut data = Vec::new();
    if src_dir.is_dir() {
        let mut paths = Vec::new();
        collect_ext(&src_dir, "mesh", &mut paths).map_err(|e| io(e, &src_dir))?;
        paths.sort();
        let mut csvs = Vec::new();
        collect_ext(&src_dir, "csv", &mut csvs).map_err(|e| io(e, &src_dir))?;
        csvs.sort();
        for p in csvs {
            let rel = p
                .strip_prefix(path)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let bytes = std::fs::read(&p).map_err(|e| io(e, &p))?;
            data.push(data_text(
                FileName::from(rel.as_str()),
                bytes,
                &mut diagnostics,
            ));
        }
        for p in paths {
            let rel = p
                .strip_prefix(path)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let in_src = p
                .strip_prefix(&src_dir)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/");
            let module = in_src.trim_end_matches(".mesh").replace('/', ".");
            let bytes = std::fs::read(&p).map_err(|e| io(e, &p))?;
            files.push(source_text(
                FileName::from(rel.as_str()),
                module,
                bytes,
                &mut diagnostics,
            ));
        }
    } else {
        let manifest_file = FileName::from(MANIFEST);
        diagnostics.push(
            Diagnostic::new(
                Code::InvalidManifest,
                &manifest_file,
                Span::at(0),
                format!("source folder `{}` does not exist", manifest.sources),
                "sources are read from here",
            )
            .with_help(format!(
                "create `{}/` with your .mesh files, or set `[build] sources`",
                manifest.sources
            )),
        );
    }
    Ok(ProjectFiles {
        root: path.to_path_buf(),
        manifest,
        files,
        manifest_text: Some(manifest_text),
        diagnostics,
        data,
    })
}

/// A project from sources in memory (docs/embedding.md): `files` maps a path under the
/// source folder (`billing/refunds.mesh`) to its text; the module is named by the path as
/// on disk (`billing.refunds`). No file is read. `name` is the package name.
pub fn from_sources<P: AsRef<str>, T: Into<String>>(
    name: &str,
    files_in: impl IntoIterator<Item = (P, T)>,
) -> ProjectFiles {
    let mut diagnostics = Vec::new();
    let mut data = Vec::new();
    let mut files: Vec<SourceText> = Vec::new();
    for (path, text) in files_in {
        let path = path.as_ref().replace('\\', "/");
        let text: String = text.into();
        if path.ends_with(".csv") {
            data.push(SourceText {
                name: FileName::from(path.as_str()),
                module: String::new(),
                text,
            });
            continue;
        }
        let module = path.trim_end_matches(".mesh").replace('/', ".");
        files.push(source_text(
            FileName::from(path.as_str()),
            module,
            text.into_bytes(),
            &mut diagnostics,
        ));
    }
    data.sort_by(|a, b| a.name.cmp(&b.name));
    // As `load` does: files in path order, so the same sources build the same bundle.
    files.sort_by(|a, b| a.name.cmp(&b.name));
    ProjectFiles {
        root: PathBuf::new(),
        manifest: Manifest {
            name: name.to_string(),
            version: "0.0.0".into(),
            sources: ".".into(),
        },
        files,
        manifest_text: None,
        diagnostics,
        data,
    }
}

fn load_single_file(path: &Path) -> Result<ProjectFiles, ProjectLoadError> {
    let bytes = std::fs::read(path).map_err(|error| ProjectLoadError::Io {
        path: path.to_path_buf(),
        error,
    })?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "main".into());
    let name = FileName::from(path.to_string_lossy().replace('\\', "/").as_str());
    let mut diagnostics = Vec::new();
    let file = source_text(name, stem.clone(), bytes, &mut diagnostics);
    let manifest = Manifest {
        name: stem,
        version: "0.0.0".into(),
        sources: ".".into(),
    };
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(ProjectFiles {
        root,
        manifest,
        files: vec![file],
        manifest_text: None,
        diagnostics,
        data: Vec::new(),
    })
}

fn source_text(
    name: FileName,
    module: String,
    bytes: Vec<u8>,
    diags: &mut Vec<Diagnostic>,
) -> SourceText {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            diags.push(
                Diagnostic::new(
                    Code::InvalidFile,
                    &name,
                    Span::at(at),
                    "file is not valid UTF-8",
                    "invalid byte here",
                )
                .with_help("save the file as UTF-8 text"),
            );
            text
        }
    };
    if !module.split('.').all(is_identifier) {
        diags.push(
            Diagnostic::new(
                Code::InvalidFile,
                &name,
                Span::at(0),
                format!("`{module}` is not a valid module name"),
                "this file",
            )
            .with_help("module names come from file paths: use letters, digits and `_` (e.g. `billing/refunds.mesh`)"),
        );
    }
    SourceText { name, module, text }
}

/// A data file's text; not UTF-8 is reported (and read lossily).
fn data_text(name: FileName, bytes: Vec<u8>, diags: &mut Vec<Diagnostic>) -> SourceText {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            diags.push(
                Diagnostic::new(
                    Code::InvalidFile,
                    &name,
                    Span::at(at),
                    "file is not valid UTF-8",
                    "invalid byte here",
                )
                .with_help("save the file as UTF-8 text (CSV UTF-8 in a spreadsheet)"),
            );
            String::from_utf8_lossy(e.as_bytes()).into_owned()
        }
    };
    SourceText {
        name,
        module: String::new(),
        text,
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn collect_ext(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_ext(&path, ext, out)?;
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    Ok(())
}

fn parse_manifest(text: &str, diags: &mut Vec<Diagnostic>, root: &Path) -> Manifest {
    let file = FileName::from(MANIFEST);
    let fallback_name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "project".into());
    match toml::from_str::<RawManifest>(text) {
        Ok(raw) => {
            let sources = raw.build.sources.unwrap_or_else(|| "rules".into());
            if raw.package.name.trim().is_empty() {
                diags.push(Diagnostic::new(
                    Code::InvalidManifest,
                    &file,
                    Span::at(0),
                    "package name is empty",
                    "here",
                ));
            }
            Manifest {
                name: raw.package.name,
                version: raw.package.version,
                sources,
            }
        }
        Err(e) => {
            let span = e
                .span()
                .map(|r| Span::new(r.start, r.end))
                .unwrap_or_default();
            diags.push(
                Diagnostic::new(Code::InvalidManifest, &file, span, format!("invalid {MANIFEST}: {}", e.message()), "here")
                    .with_help("a manifest needs `[package]` with `name` and `version`; `[build] sources` is optional"),
            );
            Manifest {
                name: fallback_name,
                version: "0.0.0".into(),
                sources: "rules".into(),
            }
        }
    }
}
