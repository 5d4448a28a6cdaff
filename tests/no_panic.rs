//! The front end never panics, hangs or overflows its stack, whatever the input.
//!
//! - every prefix (at each character boundary) of every `err` fixture, and about 40 evenly
//!   spaced prefixes of each `ok` fixture and example file, goes through the parser
//!   and the full checker (the salsa database, as the CLI and the language server use it);
//! - random mutations (deleted characters, duplicated lines, inserted `{`, `(`, `"`) of
//!   the same files, with proptest and a fixed seed;
//! - hostile inputs: binary garbage, a 10 MB line, 100k nested brackets, unterminated
//!   strings, deep `if` nesting, a 200k-term sum.
//!
//! Oracle beyond "no panic": a text that ends inside an open bracket or string cannot be a
//! valid module, so it must get a syntax diagnostic (E0001 or E0002).

use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use meshline_compiler::diagnostics::{Code, Diagnostic};
use meshline_compiler::with_large_stack;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::common::{self, Checker};

/// The `.mesh` files of `tests/check/err` (single files and the files of project folders).
fn err_sources() -> Vec<(PathBuf, String)> {
    read_all(common::mesh_files(&common::tests_dir().join("check/err")))
}

/// The `.mesh` files of `tests/check/ok` and of every example project.
fn ok_and_example_sources() -> Vec<(PathBuf, String)> {
    let mut files = common::mesh_files(&common::tests_dir().join("check/ok"));
    files.extend(common::mesh_files(&common::repo_dir().join("examples")));
    read_all(files)
}

fn read_all(paths: Vec<PathBuf>) -> Vec<(PathBuf, String)> {
    paths
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, String::from_utf8_lossy(&bytes).into_owned())
        })
        .collect()
}

/// Check one text; returns its diagnostics or a description of the broken promise.
fn check_text(checker: &mut Checker, text: &str) -> Result<Vec<Diagnostic>, String> {
    let diags = checker.check(text);
    for d in &diags {
        let (s, e) = (d.primary.span.start as usize, d.primary.span.end as usize);
        if s > e || e > text.len() || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            return Err(format!(
                "{}: span {s}..{e} is not a valid range of the text",
                d.code.as_str()
            ));
        }
    }
    if common::certainly_unbalanced(text) && !common::has_syntax_error(&diags) {
        return Err("an unclosed bracket or string gave no syntax error".into());
    }
    Ok(diags)
}

/// Cut points: every character boundary when `per_file` is `None`, else about that many,
/// evenly spaced (always including the whole text).
fn prefix_boundaries(text: &str, per_file: Option<usize>) -> Vec<usize> {
    let all: Vec<usize> = (0..=text.len())
        .filter(|i| text.is_char_boundary(*i))
        .collect();
    let step = per_file.map_or(1, |n| (all.len() / n.max(1)).max(1));
    let mut cuts: Vec<usize> = all.iter().copied().step_by(step).collect();
    cuts.push(text.len());
    cuts.dedup();
    cuts
}

fn check_prefixes(files: &[(PathBuf, String)], per_file: Option<usize>) {
    with_large_stack(|| {
        let mut checker = Checker::new("fuzz");
        let mut failures = Vec::new();
        for (path, text) in files {
            for cut in prefix_boundaries(text, per_file) {
                let prefix = &text[..cut];
                // The whole pipeline (its `parsed` query is `syntax::parse`).
                if let Err(why) = check_text(&mut checker, prefix) {
                    failures.push(format!("{} cut at byte {cut}: {why}", path.display()));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} failure(s):\n{}",
            failures.len(),
            failures.join("\n")
        );
    });
}

#[test]
fn every_prefix_of_every_err_fixture() {
    let files = err_sources();
    assert!(files.len() >= 50, "fixtures not found");
    check_prefixes(&files, None);
}

#[test]
fn prefixes_of_ok_fixtures_and_examples() {
    let files = ok_and_example_sources();
    assert!(!files.is_empty());
    check_prefixes(&files, Some(40));
}

// --- mutations -----------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Mutation {
    DeleteChar(usize),
    DuplicateLine(usize),
    Insert(usize, &'static str),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::DeleteChar),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (
            any::<usize>(),
            prop::sample::select(vec!["{", "(", "\"", "}", ")", "[", "\n", "//"])
        )
            .prop_map(|(at, s)| Mutation::Insert(at, s)),
    ]
}

fn snap(text: &str, at: usize) -> usize {
    let mut at = at % (text.len() + 1);
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(text: &str, m: &Mutation) -> String {
    let mut out = text.to_string();
    match m {
        Mutation::DeleteChar(at) => {
            let at = snap(&out, *at);
            if at < out.len() {
                out.remove(at);
            }
        }
        Mutation::DuplicateLine(at) => {
            let at = snap(&out, *at);
            let start = out[..at].rfind('\n').map_or(0, |i| i + 1);
            let end = out[at..].find('\n').map_or(out.len(), |i| at + i + 1);
            let line = out[start..end].to_string();
            out.insert_str(end, &line);
        }
        Mutation::Insert(at, s) => {
            let at = snap(&out, *at);
            out.insert_str(at, s);
        }
    }
    out
}

fn mutate_files(files: Vec<(PathBuf, String)>, cases: u32, seed: u64) {
    with_large_stack(move || {
        let config = Config {
            cases,
            failure_persistence: None,
            rng_seed: RngSeed::Fixed(seed),
            max_shrink_iters: 200,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let checker = std::cell::RefCell::new(Checker::new("fuzz"));
        let strategy = (0..files.len(), prop::collection::vec(mutation(), 1..4));
        let result = runner.run(&strategy, |(i, muts)| {
            let mut text = files[i].1.clone();
            for m in &muts {
                text = apply(&text, m);
            }
            let _ = common::parse_only(&text);
            let outcome = check_text(&mut checker.borrow_mut(), &text);
            prop_assert!(
                outcome.is_ok(),
                "{} after {muts:?}: {}",
                files[i].0.display(),
                outcome.err().unwrap_or_default()
            );
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    });
}

#[test]
fn random_mutations_of_err_fixtures() {
    mutate_files(err_sources(), 600, 0x4d45_5348_0001);
}

#[test]
fn random_mutations_of_ok_fixtures_and_examples() {
    mutate_files(ok_and_example_sources(), 300, 0x4d45_5348_0002);
}

// --- hostile inputs ------------------------------------------------------------------------

/// Check a whole module through `check_path` (the CLI's entry point, which runs on its
/// own large-stack thread) on a watchdog: a check that outlives `budget` fails the test
/// instead of hanging it. The renderers must cope with whatever was reported.
fn check_file(name: &str, bytes: &[u8], budget: Duration) -> Vec<Diagnostic> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    let (tx, rx) = std::sync::mpsc::channel();
    let started = Instant::now();
    let worker = std::thread::spawn(move || {
        let out = meshline_compiler::check_path(&path).expect("the file loads");
        let sources = out.sources();
        let _ = meshline_compiler::diagnostics::render_ariadne::render_all(
            &out.diagnostics,
            &sources,
            false,
        );
        for d in &out.diagnostics {
            let _ = meshline_compiler::diagnostics::render_short::render_short(d, &sources);
        }
        let _ = tx.send(out.diagnostics);
    });
    match rx.recv_timeout(budget) {
        Ok(diags) => {
            worker.join().expect("the checker thread ends");
            diags
        }
        // The worker panicked: show its panic.
        Err(RecvTimeoutError::Disconnected) => match worker.join() {
            Err(p) => std::panic::resume_unwind(p),
            Ok(()) => unreachable!("the worker sends before it ends"),
        },
        Err(RecvTimeoutError::Timeout) => panic!(
            "{name}: no result after {:?} (budget {budget:?})",
            started.elapsed()
        ),
    }
}

fn codes(diags: &[Diagnostic]) -> Vec<Code> {
    diags.iter().map(|d| d.code).collect()
}

/// Deterministic pseudo-random bytes (xorshift64*).
fn garbage(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed >> 12;
            seed ^= seed << 25;
            seed ^= seed >> 27;
            (seed.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8
        })
        .collect()
}

#[test]
fn binary_garbage() {
    for (n, seed) in [(64 * 1024, 1u64), (4096, 2), (17, 3)] {
        let bytes = garbage(n, seed);
        let diags = check_file("garbage.mesh", &bytes, Duration::from_secs(20));
        assert!(codes(&diags).contains(&Code::InvalidFile), "{n} bytes");
        assert!(common::has_syntax_error(&diags), "{n} bytes");
    }
    // Valid UTF-8, but control characters and symbols everywhere.
    let text: String = garbage(20_000, 4)
        .into_iter()
        .map(|b| char::from(b % 0x60 + 1))
        .collect();
    let diags = check_file("controls.mesh", text.as_bytes(), Duration::from_secs(20));
    assert!(common::has_syntax_error(&diags));
}

#[test]
fn ten_megabyte_line() {
    let big = 10 * 1024 * 1024;
    // One enormous word.
    let diags = check_file(
        "word.mesh",
        "x".repeat(big).as_bytes(),
        Duration::from_secs(120),
    );
    assert!(codes(&diags).contains(&Code::Syntax));
    // One enormous string literal in a valid declaration: fine, and unused.
    let text = format!("let _blob = \"{}\"\n", "a".repeat(big));
    let diags = check_file("string.mesh", text.as_bytes(), Duration::from_secs(120));
    assert!(!common::has_error(&diags), "{:?}", codes(&diags));
}

#[test]
fn hundred_thousand_nested_brackets() {
    for (open, close) in [("(", ")"), ("[", "]"), ("{", "}")] {
        let n = 100_000;
        let text = format!(
            "let _ok = 1\nlet _deep = {}1{}\nlet _after = 2\n",
            open.repeat(n),
            close.repeat(n)
        );
        let diags = check_file("nested.mesh", text.as_bytes(), Duration::from_secs(30));
        assert_eq!(codes(&diags), vec![Code::TooDeep], "{open}");
        // Unclosed: the same, without the closers.
        let text = format!("let _deep = {}1\n", open.repeat(n));
        let diags = check_file("unclosed.mesh", text.as_bytes(), Duration::from_secs(30));
        assert!(codes(&diags).contains(&Code::TooDeep), "{open}");
    }
}

#[test]
fn unterminated_strings() {
    let cases = [
        "let _a = \"never closed\nlet _b = 2\n",
        "let _a = \"never closed",
        "team ops { members [\"ana@agency.io] }\n",
        "let _a = \"\\",
        "let _a = \"\\u{1F600\"\n",
        "\"",
        "test \"unterminated {\n  at 2026-03-02T10:00:00Z\n}\n",
    ];
    for text in cases {
        let diags = check_file("strings.mesh", text.as_bytes(), Duration::from_secs(10));
        assert!(
            common::has_error(&diags),
            "{text:?} gave {:?}",
            codes(&diags)
        );
    }
}

#[test]
fn deep_if_nesting() {
    // Far past the operator bound: skipped with E0002.
    let n = 100_000;
    let text = format!(
        "let _x: Int = {}1{}\n",
        "if true then ".repeat(n),
        " else 2".repeat(n)
    );
    let diags = check_file("deep_if.mesh", text.as_bytes(), Duration::from_secs(30));
    assert_eq!(codes(&diags), vec![Code::TooDeep]);
    // Just under the bound: parsed and checked on the compiler's large stack.
    let n = 1_900;
    let text = format!(
        "let _x: Int = {}1{}\n",
        "if true then ".repeat(n),
        " else 2".repeat(n)
    );
    let diags = check_file("if_ok.mesh", text.as_bytes(), Duration::from_secs(120));
    assert!(!common::has_error(&diags), "{:?}", codes(&diags));
}

#[test]
fn two_hundred_thousand_term_sum() {
    let n = 200_000;
    let text = format!("let _total: Int = a{}\n", " + a".repeat(n));
    let diags = check_file("sum.mesh", text.as_bytes(), Duration::from_secs(30));
    assert_eq!(codes(&diags), vec![Code::TooDeep]);
    // Just under the operator bound: a left-nested tree 3990 deep.
    let n = 3_990;
    let text = format!("let _total: Int = 1{}\n", " + 1".repeat(n));
    let diags = check_file("sum_ok.mesh", text.as_bytes(), Duration::from_secs(120));
    assert!(!common::has_error(&diags), "{:?}", codes(&diags));
}

/// The parser and checker on the default test thread (2 MiB of stack, no large-stack
/// thread). The parser copes with the front end's limits there; the checker's recursion in
/// a debug build needs several KiB per nesting level, so callers must use
/// `meshline_compiler::with_large_stack` (as `check_path` does) for arbitrary input. This
/// test covers nesting that real rules reach, with a wide margin.
#[test]
fn limits_on_the_default_test_thread() {
    // The parser alone, at the bracket and operator limits. (Deep `if` nesting within the
    // operator limit needs the large stack: on this thread pest's stack guard stops it.)
    let deep = format!("let _x: Int = {}1{}\n", "(".repeat(128), ")".repeat(128));
    let sum = format!("let _y: Int = 1{}\n", " + 1".repeat(3_990));
    for text in [&deep, &sum] {
        let diags = common::parse_only(text);
        assert!(diags.is_empty(), "{:?}", diags.first().map(|d| &d.message));
    }
    // The whole pipeline, on realistic nesting.
    let realistic = [
        format!("let _x: Int = {}1{}\n", "(".repeat(40), ")".repeat(40)),
        format!("let _y: Int = 1{}\n", " + 1".repeat(100)),
        format!("let _z: Bool = {}true\n", "not ".repeat(100)),
        format!(
            "let _w: Int = {}1{}\n",
            "if true then ".repeat(100),
            " else 2".repeat(100)
        ),
    ];
    for text in &realistic {
        let diags = common::check_in_memory(&[("limits", text)]);
        assert!(!common::has_error(&diags), "{:?}", codes(&diags));
    }
    // Past the limits, reported rather than parsed, on this thread too.
    let too_deep = format!(
        "let _x: Int = {}1{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let diags = common::check_in_memory(&[("limits", &too_deep)]);
    assert_eq!(codes(&diags), vec![Code::TooDeep]);
    let too_long = format!("let _y: Int = a{}\n", " + a".repeat(200_000));
    let diags = common::check_in_memory(&[("limits", &too_long)]);
    assert_eq!(codes(&diags), vec![Code::TooDeep]);
}
