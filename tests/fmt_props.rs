//! Property: the formatter never reports an internal error (`FormatError::Unsound`) on a
//! project that checks.
//!
//! The corpus is every example project and every check fixture that checks without errors.
//! Each case perturbs one project without changing its meaning: extra parentheses around
//! expressions (only where the parser accepts them and the program is the same), declarations
//! in another order (each with its doc and the comments above it), and re-spaced text with
//! added comments (`fmt::respace`). If the perturbed project still checks without errors, then
//! every perturbed file must format, formatting must be a fixed point, and the formatted
//! project must check with the same diagnostics (code, severity, file and message; positions
//! move). Fixed seed; `MESHLINE_FMT_CASES` searches longer.

use std::collections::BTreeSet;
use std::path::PathBuf;

use meshline_compiler::db;
use meshline_compiler::diagnostics::{Diagnostic, FileName};
use meshline_compiler::format::{FormatError, format_source, program_fingerprint};
use meshline_compiler::project::{self, ProjectFiles};
use meshline_compiler::source::Span;
use meshline_compiler::syntax::parse;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::common;

/// A project of the corpus, with the expression spans of each file where parentheses may be
/// added without changing the program.
struct Sample {
    name: String,
    project: ProjectFiles,
    parens: Vec<Vec<Span>>,
}

/// What a check says, without positions: `(file, code, severity, message)`, sorted.
fn summary(diags: &[Diagnostic]) -> Vec<String> {
    let mut out: Vec<String> = diags
        .iter()
        .map(|d| {
            format!(
                "{} {} {:?} {}",
                d.primary.file,
                d.code.as_str(),
                d.severity,
                d.message
            )
        })
        .collect();
    out.sort();
    out
}

fn check(project: &ProjectFiles) -> Vec<Diagnostic> {
    let database = db::Database::default();
    let handle = db::load_project(&database, project);
    db::project_diagnostics(&database, handle)
}

/// Every example project and every check fixture (`ok` and `err`) that loads and checks
/// without errors.
fn corpus_paths() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(common::repo_dir().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("meshline.toml").is_file())
        .collect();
    paths.sort();
    paths.extend(common::fixtures("ok"));
    paths.extend(common::fixtures("err"));
    paths
}

/// The spans of `file`'s expressions (as the checker saw them) that may be parenthesised:
/// the text with only that span in parentheses parses to the same program.
fn paren_spans(
    database: &db::Database,
    handle: db::ProjectInput,
    file: db::SourceFile,
) -> Vec<Span> {
    let text = file.text(database).to_string();
    let name = FileName::from("props.mesh");
    let (ast, _) = parse(&name, &text);
    let want = program_fingerprint(&ast);
    let inference = db::module_inference(database, handle, file);
    let mut spans: Vec<Span> = inference.typed_spans().map(|(s, _)| s).collect();
    spans.sort();
    spans.dedup();
    spans
        .into_iter()
        .filter(|sp| sp.start < sp.end && (sp.end as usize) <= text.len())
        .filter(|sp| {
            let wrapped = insert_parens(&text, std::slice::from_ref(sp));
            let (again, diags) = parse(&name, &wrapped);
            !common::has_error(&diags) && program_fingerprint(&again) == want
        })
        .collect()
}

fn load_corpus() -> Vec<Sample> {
    let mut out = Vec::new();
    for path in corpus_paths() {
        let Ok(project) = project::load(&path) else {
            continue;
        };
        if common::has_error(&project.diagnostics) || project.files.is_empty() {
            continue;
        }
        let database = db::Database::default();
        let handle = db::load_project(&database, &project);
        if common::has_error(&db::project_diagnostics(&database, handle)) {
            continue;
        }
        let files: Vec<db::SourceFile> = handle
            .files(&database)
            .iter()
            .copied()
            .filter(|f| !f.is_std(&database))
            .collect();
        // `files` follows `project.files`: the same names, in the same order.
        let parens = project
            .files
            .iter()
            .map(|src| {
                files
                    .iter()
                    .find(|f| f.name(&database) == src.name)
                    .map(|f| paren_spans(&database, handle, *f))
                    .unwrap_or_default()
            })
            .collect();
        out.push(Sample {
            name: common::fixture_name(&path),
            project,
            parens,
        });
    }
    out
}

/// `text` with `(` before and `)` after each span. Spans nest (they are expressions), so
/// at one position every `)` goes before every `(`.
fn insert_parens(text: &str, spans: &[Span]) -> String {
    let mut marks: Vec<(usize, u8, char)> = Vec::new();
    for sp in spans {
        marks.push((sp.start as usize, 1, '('));
        marks.push((sp.end as usize, 0, ')'));
    }
    marks.sort();
    let mut out = String::with_capacity(text.len() + marks.len());
    let mut at = 0;
    for (pos, _, c) in marks {
        out.push_str(&text[at..pos]);
        out.push(c);
        at = pos;
    }
    out.push_str(&text[at..]);
    out
}

/// The declarations of `text` in another order. Each declaration moves with the lines
/// above it back to the previous declaration (its doc and comments); text before the first
/// declaration stays first.
fn reorder(text: &str, choices: &[u8]) -> String {
    let name = FileName::from("props.mesh");
    let (ast, _) = parse(&name, text);
    let mut cuts: Vec<usize> = Vec::new();
    for item in &ast.items {
        // The end of the line where the declaration ends.
        let end = item.span.end as usize;
        let line_end = text[end..].find('\n').map_or(text.len(), |i| end + i + 1);
        cuts.push(line_end);
    }
    cuts.dedup();
    if cuts.len() < 2 {
        return text.to_string();
    }
    // The first chunk starts at the first declaration's first doc or comment line: keep the
    // file's header (the text before it) in place by treating it as part of chunk 0.
    let mut chunks: Vec<String> = Vec::new();
    let mut start = 0;
    for &c in &cuts {
        let mut chunk = text[start..c].to_string();
        if !chunk.ends_with('\n') {
            chunk.push('\n');
        }
        chunks.push(chunk);
        start = c;
    }
    let tail = &text[start..];
    let head = chunks.remove(0);
    // A Fisher–Yates shuffle driven by the choices.
    let mut next = choices.iter().cycle();
    for i in (1..chunks.len()).rev() {
        let j = usize::from(*next.next().unwrap_or(&0)) % (i + 1);
        chunks.swap(i, j);
    }
    let mut out = head;
    for c in chunks {
        out.push_str(&c);
    }
    out.push_str(tail);
    out
}

/// One perturbation of one sample, chosen by `choices`.
fn perturb(sample: &Sample, choices: &[u8]) -> ProjectFiles {
    let mut project = sample.project.clone();
    let mut next = choices.iter().cycle();
    let mut pick = || *next.next().unwrap_or(&0);
    for (i, src) in project.files.iter_mut().enumerate() {
        let mode = pick();
        let mut text = src.text.clone();
        if mode & 1 != 0 {
            let spans: Vec<Span> = sample.parens[i]
                .iter()
                .copied()
                .filter(|_| pick() % 3 == 0)
                .collect();
            text = insert_parens(&text, &spans);
        }
        if mode & 2 != 0 {
            text = reorder(&text, choices);
        }
        if mode & 4 != 0 {
            text = crate::fmt::respace(&text, choices);
        }
        src.text = text;
    }
    project
}

/// `default` cases, or `MESHLINE_FMT_CASES`.
fn cases(default: u32) -> u32 {
    std::env::var("MESHLINE_FMT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The property for one (perturbed) project: `Ok(false)` when it does not check (out of
/// scope), `Ok(true)` when every file formats, is a fixed point, and the formatted project
/// checks with the same diagnostics; `Err` says what broke.
fn formats_soundly(sample: &Sample, perturbed: &ProjectFiles) -> Result<bool, String> {
    let before = check(perturbed);
    if common::has_error(&before) {
        // Reordering may change what a check says (none did when this was written); only
        // input that checks is in scope.
        return Ok(false);
    }
    let mut formatted = perturbed.clone();
    for src in formatted.files.iter_mut() {
        let once = match format_source(&src.text) {
            Ok(t) => t,
            Err(e @ FormatError::Unsound(_)) => {
                return Err(format!(
                    "{} {}: {e}\n--- input\n{}",
                    sample.name, src.name, src.text
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{} {}: refused input that checks: {e}\n--- input\n{}",
                    sample.name, src.name, src.text
                ));
            }
        };
        let twice = format_source(&once)
            .map_err(|e| format!("{} {}: second pass: {e}", sample.name, src.name))?;
        if once != twice {
            return Err(format!(
                "{} {}: not idempotent\n--- once\n{once}\n--- twice\n{twice}",
                sample.name, src.name
            ));
        }
        src.text = once;
    }
    let after = check(&formatted);
    let (b, a) = (summary(&before), summary(&after));
    if b != a {
        let gone: BTreeSet<&String> = b.iter().filter(|d| !a.contains(d)).collect();
        let new: BTreeSet<&String> = a.iter().filter(|d| !b.contains(d)).collect();
        return Err(format!(
            "{}: formatting changed the diagnostics\n--- only before\n{gone:#?}\n--- only after\n{new:#?}",
            sample.name
        ));
    }
    Ok(true)
}

#[test]
fn perturbed_projects_that_check_format_soundly() {
    let corpus = load_corpus();
    assert!(
        corpus.len() >= 15,
        "expected the examples and most fixtures, got {}",
        corpus.len()
    );
    let parens: usize = corpus.iter().flat_map(|s| &s.parens).map(Vec::len).sum();
    assert!(parens > 500, "expected many expressions, got {parens}");
    let mut runner = TestRunner::new(Config {
        cases: cases(48),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x666d_7470),
        max_shrink_iters: 50,
        ..Config::default()
    });
    let checked = std::cell::Cell::new(0u32);
    let skipped = std::cell::Cell::new(0u32);
    let strategy = (
        0..corpus.len(),
        prop::collection::vec(any::<u8>(), 1..64usize),
    );
    // Every project as it is first, so that each corpus file is covered whatever the seed.
    for sample in &corpus {
        if let Err(why) = formats_soundly(sample, &sample.project) {
            panic!("unperturbed: {why}");
        }
    }
    runner
        .run(&strategy, |(i, choices)| {
            let sample = &corpus[i];
            let perturbed = perturb(sample, &choices);
            match formats_soundly(sample, &perturbed) {
                Ok(true) => checked.set(checked.get() + 1),
                Ok(false) => skipped.set(skipped.get() + 1),
                Err(why) => return Err(TestCaseError::fail(why)),
            }
            Ok(())
        })
        .unwrap();
    eprintln!(
        "{} projects, {parens} expressions that take parentheses; {} cases checked, {} skipped",
        corpus.len(),
        checked.get(),
        skipped.get()
    );
    assert!(
        checked.get() * 2 >= checked.get() + skipped.get(),
        "most perturbed projects should still check: {} checked, {} skipped",
        checked.get(),
        skipped.get()
    );
}
