//! Unit tests of the formatter on small inputs; whole files are in `tests/fmt/`.

use super::format_source;

fn fmt(text: &str) -> String {
    match format_source(text) {
        Ok(s) => s,
        Err(e) => panic!("{e}\n--- input\n{text}"),
    }
}

#[test]
fn formats_a_let() {
    assert_eq!(fmt("let   a=1+2*3"), "let a = 1 + 2 * 3\n");
}

#[test]
fn formats_rebalance_on_its_own_line() {
    assert_eq!(
        fmt("route r on E {assign t by round_robin   rebalance priority 2}"),
        "route r on E {\n  assign t by round_robin\n  rebalance\n  priority 2\n}\n"
    );
}

#[test]
fn formats_the_expectations_of_what_must_not_happen() {
    let text = "test \"t\" {\n  at 2026-03-02T10:00:00Z\n  expect  held   by g\n  expect not   executed a.b\n  expect refused\n  expect refused g\n  expect released\n  expect released a.b\n}\n";
    assert_eq!(
        fmt(text),
        "test \"t\" {\n  at 2026-03-02T10:00:00Z\n  expect held by g\n  expect not executed a.b\n  expect refused\n  expect refused g\n  expect released\n  expect released a.b\n}\n"
    );
}

/// Every `.mesh` file of the repository's examples and stdlib.
fn repo_files() -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "mesh") {
                out.push(p);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    walk(&root.join("examples"), &mut out);
    walk(&root.join("stdlib"), &mut out);
    out.sort();
    out
}

#[test]
fn repository_files_format_soundly_and_idempotently() {
    let dump = std::env::var_os("MESHLINE_FMT_DUMP");
    for path in repo_files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let once = format_source(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let twice = format_source(&once).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Some(d) = &dump {
            let name = path.to_string_lossy().replace('/', "_");
            std::fs::write(std::path::Path::new(d).join(name), &once).unwrap();
        }
        assert_eq!(once, twice, "{} is not a fixed point", path.display());
    }
}

#[test]
fn empty_and_comment_only_files() {
    assert_eq!(fmt(""), "");
    assert_eq!(fmt("\n\n  \n"), "");
    assert_eq!(fmt("// a\n\n\n// b   \n"), "// a\n\n// b\n");
}

#[test]
fn crlf_and_bom_become_plain_newlines() {
    assert_eq!(
        fmt("\u{FEFF}let a = 1 // one\r\nlet b = 2\r\n"),
        "let a = 1 // one\nlet b = 2\n"
    );
}

#[test]
fn parentheses_only_where_needed() {
    assert_eq!(fmt("let a = ((1 + 2)) * 3"), "let a = (1 + 2) * 3\n");
    assert_eq!(fmt("let a = 1 - (2 - 3)"), "let a = 1 - (2 - 3)\n");
    assert_eq!(fmt("let a = (1 - 2) - 3"), "let a = 1 - 2 - 3\n");
    assert_eq!(fmt("let a = -(x.y)"), "let a = -x.y\n");
    assert_eq!(fmt("let a = (-x).y"), "let a = (-x).y\n");
    assert_eq!(fmt("let a = not a == b"), "let a = not (a == b)\n");
    assert_eq!(fmt("let a = (not a) == b"), "let a = (not a) == b\n");
    assert_eq!(fmt("let a = (a ?? b) < c"), "let a = (a ?? b) < c\n");
}

#[test]
fn literals_keep_their_spelling() {
    let text =
        "let a = [1_000, 1h30m, 90m, 2.50, 0.5%, 5   EUR, 2  business  days, \"\\u{41}\\n\"]\n";
    assert_eq!(
        fmt(text),
        "let a = [1_000, 1h30m, 90m, 2.50, 0.5%, 5 EUR, 2 business days, \"\\u{41}\\n\"]\n"
    );
}

#[test]
fn refuses_syntax_errors() {
    let err = format_source("let a = (\n").unwrap_err();
    assert!(matches!(err, super::FormatError::Syntax(_)), "{err}");
    assert!(!err.diagnostics().is_empty());
}

/// A declaration keyword used as a name (a fact, a field, the event) loses its
/// parentheses and still parses: only a whole declaration head (`team ops {`) ends an
/// expression (docs/language.md §2.2).
#[test]
fn contextual_keywords_as_names() {
    assert_eq!(
        fmt("route r on BreakerReset { assign ops key (automation) priority 1 }"),
        "route r on BreakerReset {\n  assign ops\n  key automation\n  priority 1\n}\n"
    );
    assert_eq!(
        fmt("route r on Handoff { assign ops key (reason), (team) priority 1 }"),
        "route r on Handoff {\n  assign ops\n  key reason, team\n  priority 1\n}\n"
    );
    assert_eq!(
        fmt("route r on X when (event).type == \"X\" { assign ops key (event) }"),
        "route r on X when event.type == \"X\" {\n  assign ops\n  key event\n}\n"
    );
}
