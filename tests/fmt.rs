//! The formatter (`meshline fmt`, `meshline_compiler::format`).
//!
//! - `tests/fmt/*.mesh`: messy inputs; the snapshot is the input, `-----`, the output;
//! - every `.mesh` file in `examples/` and `stdlib/` is already canonical (a fixed point);
//! - every fixture and example: formatting twice changes nothing, and the formatted text
//!   parses to the same program (declarations without spans) with the same comments;
//! - property tests with a fixed seed: real files with their spacing shuffled and comments
//!   added, and random expressions with random parentheses (`MESHLINE_FMT_CASES=5000`
//!   searches longer).

use meshline_compiler::diagnostics::FileName;
use meshline_compiler::format::{comment_texts, format_source, program_fingerprint};
use meshline_compiler::syntax::parse;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestRunner};

use crate::common;

fn file() -> FileName {
    FileName::from("fmt.mesh")
}

/// Assert that `text` formats, that the result is a fixed point and the same program.
/// Returns the formatted text.
fn assert_sound(name: &str, text: &str) -> String {
    let once = format_source(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let twice = format_source(&once).unwrap_or_else(|e| panic!("{name} (second pass): {e}"));
    assert_eq!(
        once, twice,
        "{name}: formatting is not idempotent\n--- input\n{text}\n--- once\n{once}"
    );
    let (before, _) = parse(&file(), text);
    let (after, _) = parse(&file(), &once);
    assert_eq!(
        program_fingerprint(&before),
        program_fingerprint(&after),
        "{name}: formatting changed the program\n--- output\n{once}"
    );
    assert_eq!(
        comment_texts(&before),
        comment_texts(&after),
        "{name}: formatting lost or changed a comment\n--- output\n{once}"
    );
    once
}

#[test]
fn fixture_snapshots() {
    insta::with_settings!({
        snapshot_path => "snapshots/fmt",
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::glob!("fmt/*.mesh", |path| {
            let text = std::fs::read_to_string(path).expect("read fixture");
            let out = assert_sound(&path.display().to_string(), &text);
            insta::assert_snapshot!("fmt", format!("{text}-----\n{out}"));
        });
    });
}

/// `examples/` and `stdlib/` are formatted: `meshline fmt --check` passes on them.
#[test]
fn repository_files_are_canonical() {
    let mut files = common::mesh_files(&common::repo_dir().join("examples"));
    files.extend(common::mesh_files(&common::repo_dir().join("stdlib")));
    assert!(files.len() > 20, "expected the examples and the stdlib");
    let mut unformatted = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let out = assert_sound(&path.display().to_string(), &text);
        if out != text {
            unformatted.push(path.display().to_string());
        }
    }
    assert!(
        unformatted.is_empty(),
        "not formatted (run `meshline fmt examples stdlib`):\n{}",
        unformatted.join("\n")
    );
}

/// Every `ok` check fixture, and every `err` fixture without syntax errors, formats soundly.
#[test]
fn check_fixtures_format_soundly() {
    let files = common::mesh_files(&common::tests_dir().join("check"));
    let mut formatted = 0;
    for path in files {
        // Some fixtures are deliberately not UTF-8.
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if format_source(&text).is_ok() {
            assert_sound(&path.display().to_string(), &text);
            formatted += 1;
        }
    }
    assert!(formatted > 20, "expected most check fixtures to parse");
}

#[test]
fn syntax_errors_are_refused() {
    for text in [
        "let a = (",
        "enum E { A",
        "let = 1",
        "route r on X { assign }",
    ] {
        let err = format_source(text).expect_err(text);
        assert!(!err.diagnostics().is_empty(), "{text}: {err}");
    }
}

// --- property tests ---------------------------------------------------------------------

/// Real files: the formatted examples and stdlib plus the `ok` fixtures.
fn corpus() -> Vec<String> {
    let mut files = common::mesh_files(&common::repo_dir().join("examples"));
    files.extend(common::mesh_files(&common::repo_dir().join("stdlib")));
    files.extend(common::mesh_files(&common::tests_dir().join("check/ok")));
    files
        .iter()
        .map(|p: &std::path::PathBuf| std::fs::read_to_string(p).expect("read"))
        .collect()
}

/// `default` cases, or `MESHLINE_FMT_CASES` for a longer search.
fn cases(default: u32) -> u32 {
    std::env::var("MESHLINE_FMT_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(cases: u32, seed: u64) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters: 100,
        ..Config::default()
    })
}

/// Re-space `text`: each run of spaces (outside strings and comments, and not inside
/// `480 USD` or `2 business days`) becomes the next choice, sometimes with a comment in
/// the middle of a declaration; each line break gets the next indentation, sometimes a
/// blank line, an own-line comment or a trailing comment.
pub(crate) fn respace(text: &str, choices: &[u8]) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let mut next = choices.iter().cycle();
    let mut pick = || *next.next().unwrap_or(&0);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    let mut in_string = false;
    while i < chars.len() {
        let c = chars[i];
        if in_string {
            out.push(c);
            if c == '\\' && i + 1 < chars.len() {
                out.push(chars[i + 1]);
                i += 1;
            } else if c == '"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        if c == '"' {
            in_string = true;
            out.push(c);
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(chars[i]);
                i += 1;
            }
        } else if c == ' ' {
            let start = i;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            let before: String = chars[..start].iter().collect();
            let keep = before.ends_with(|ch: char| ch.is_ascii_digit())
                || before.ends_with("business")
                || i >= chars.len()
                || chars[i] == '\n';
            if keep {
                out.push(' ');
            } else {
                out.push_str(match pick() % 8 {
                    0 => " ",
                    1 => "   ",
                    2 => "\n",
                    3 => "\n      ",
                    4 => "\t",
                    5 => " // inside\n",
                    6 => "\n// between\n",
                    _ => " ",
                });
            }
        } else if c == '\n' {
            // Trim the indentation that follows; write another.
            i += 1;
            while i < chars.len() && chars[i] == ' ' {
                i += 1;
            }
            match pick() % 8 {
                0 => out.push_str(" // added trailing"),
                1 => out.push_str("\n// added own-line"),
                2 => out.push('\n'),
                _ => {}
            }
            out.push('\n');
            let indent = pick() % 5;
            out.extend(std::iter::repeat_n(' ', indent as usize));
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[test]
fn respaced_files_format_soundly() {
    let files = corpus();
    let mut runner = runner(cases(64), 0x6d65_7369);
    let strategy = (
        0..files.len(),
        prop::collection::vec(any::<u8>(), 1..64usize),
    );
    runner
        .run(&strategy, |(i, choices)| {
            prop_assume!(format_source(&files[i]).is_ok());
            let text = respace(&files[i], &choices);
            assert_sound("respaced file", &text);
            Ok(())
        })
        .unwrap();
}

/// Random expressions with random parentheses, as text.
fn expr_text() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("a".to_string()),
        Just("b.c".to_string()),
        Just("1_000".to_string()),
        Just("2.50".to_string()),
        Just("5 USD".to_string()),
        Just("90m".to_string()),
        Just("3 business days".to_string()),
        Just("85%".to_string()),
        Just("\"s\\\"\"".to_string()),
        Just("none".to_string()),
        Just("true".to_string()),
        Just("2026-03-02T10:00:00Z".to_string()),
    ];
    leaf.prop_recursive(4, 40, 3, |inner| {
        let op = prop_oneof![
            Just("or"),
            Just("and"),
            Just("=="),
            Just("<"),
            Just("in"),
            Just("contains"),
            Just("??"),
            Just("+"),
            Just("-"),
            Just("*"),
            Just("/"),
        ];
        prop_oneof![
            (inner.clone(), op, inner.clone()).prop_map(|(l, o, r)| format!("{l} {o} {r}")),
            inner.clone().prop_map(|e| format!("({e})")),
            inner.clone().prop_map(|e| format!("not {e}")),
            inner.clone().prop_map(|e| format!("-{e}")),
            inner.clone().prop_map(|e| format!("({e}).f!")),
            inner.clone().prop_map(|e| format!("({e})?.g")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, x: {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{ ..{a}, k: {b} }}")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(c, t, e)| format!("(if {c} then {t} else {e})")),
            (inner.clone(), inner.clone())
                .prop_map(|(s, v)| format!("match {s} {{ A | B -> {v}, _ -> 0 }}")),
        ]
    })
}

#[test]
fn random_expressions_format_soundly() {
    let mut runner = runner(cases(256), 0x6670_6d75);
    runner
        .run(&(expr_text(), expr_text()), |(a, b)| {
            let text = format!("let x = {a}\nfn f(t: T) -> Bool = {b}\n");
            prop_assume!(format_source(&text).is_ok());
            assert_sound("random expression", &text);
            Ok(())
        })
        .unwrap();
}

/// A very long expression breaks within the width, and stays a fixed point.
#[test]
fn long_lines_break() {
    let terms: Vec<String> = (0..40).map(|i| format!("ticket.field_{i}")).collect();
    let text = format!("let x = {}\n", terms.join(" + "));
    let out = assert_sound("long sum", &text);
    assert!(out.lines().all(|l| l.len() <= 100), "{out}");
}
