//! `tests/check/`: one fixture per diagnostic code (`err/`) and clean projects (`ok/`).
//!
//! Each `err` fixture is checked twice over: its inline markers must match the
//! diagnostics exactly (the second oracle), and its full report is an insta snapshot
//! (source, `-----`, the ariadne report without colour, `-----`, the one-line renders).

use crate::common;

/// Markers first, for every fixture at once, so one run lists every mismatch.
#[test]
fn err_fixture_markers() {
    let mut failures = Vec::new();
    for path in common::fixtures("err") {
        let name = common::fixture_name(&path);
        let checked = common::check_fixture(&path);
        if let Err(report) = common::verify_markers(&name, &checked) {
            failures.push(report);
        }
        if checked.diagnostics.is_empty() {
            failures.push(format!("{name}: produces no diagnostics at all"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn err_fixture_snapshots() {
    let dir = common::tests_dir().to_string_lossy().replace('\\', "/");
    insta::with_settings!({
        snapshot_path => "snapshots/check",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        filters => vec![(regex_escape(&dir).as_str(), "[TESTS]")],
    }, {
        insta::glob!("check/err/*", |path| {
            let checked = common::check_fixture(path);
            insta::assert_snapshot!("err", common::snapshot_text(&checked));
        });
    });
}

/// Clean fixtures: no errors, and no warnings unless a marker expects them.
#[test]
fn ok_fixtures_are_clean() {
    let mut failures = Vec::new();
    let fixtures = common::fixtures("ok");
    assert!(fixtures.len() >= 3, "expected several ok fixtures");
    for path in fixtures {
        let name = common::fixture_name(&path);
        let checked = common::check_fixture(&path);
        for d in checked.diagnostics.iter().filter(|d| d.is_error()) {
            failures.push(format!(
                "{name}: {}",
                meshline_compiler::diagnostics::render_short::render_short(d, &checked.sources)
            ));
        }
        if let Err(report) = common::verify_markers(&name, &checked) {
            failures.push(report);
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The ok fixtures include at least one multi-module project.
#[test]
fn ok_fixtures_include_a_project() {
    let projects: Vec<_> = common::fixtures("ok")
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    assert!(!projects.is_empty());
    for p in projects {
        assert!(
            common::mesh_files(&p.join("rules")).len() >= 3,
            "{} should have several modules",
            p.display()
        );
    }
}

fn regex_escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// String escapes decode exactly, and malformed `\u{…}` escapes are reported (E0003)
/// instead of being guessed.
#[test]
fn string_escapes() {
    use meshline_compiler::syntax::ast::{ExprKind, ItemKind};
    let decode = |lit: &str| -> (Option<String>, Vec<&'static str>) {
        let name: meshline_compiler::diagnostics::FileName = "s.mesh".into();
        let (module, diags) = meshline_compiler::syntax::parse(&name, &format!("let _s = {lit}\n"));
        let value = module.items.first().and_then(|i| match &i.kind {
            ItemKind::Let(l) => match &l.value.kind {
                ExprKind::Str(s) => Some(s.clone()),
                _ => None,
            },
            _ => None,
        });
        (value, diags.iter().map(|d| d.code.as_str()).collect())
    };
    assert_eq!(decode(r#""a\u{41}b""#), (Some("aAb".into()), vec![]));
    assert_eq!(decode(r#""\u{1F600}!""#), (Some("😀!".into()), vec![]));
    assert_eq!(
        decode(r#""tab\tquote\"slash\\nl\n""#).0.as_deref(),
        Some("tab\tquote\"slash\\nl\n")
    );
    for bad in [
        r#""\u{1F600""#,
        r#""\uface""#,
        r#""\u{}""#,
        r#""\u{D800}""#,
        r#""\u{1234567}""#,
        r#""\q""#,
    ] {
        assert_eq!(decode(bad).1, vec!["E0003"], "{bad}");
    }
}

/// Windows line endings and a byte-order mark change nothing: every single-file `err`
/// fixture gives the same codes on the same lines (and columns) when saved with CRLF, or
/// with a UTF-8 BOM.
#[test]
fn crlf_and_bom_variants_match() {
    use meshline_compiler::source::LineIndex;
    let positions = |c: &common::Checked| -> Vec<(String, usize, &'static str)> {
        c.diagnostics
            .iter()
            .map(|d| {
                let text = c.sources.get(&d.primary.file).map_or("", String::as_str);
                let pos = LineIndex::new(text).char_pos(text, d.primary.span.start as usize);
                let col =
                    pos.col as usize - usize::from(pos.line == 0 && text.starts_with('\u{feff}'));
                (
                    d.message.clone(),
                    pos.line as usize * 10_000 + col,
                    d.code.as_str(),
                )
            })
            .collect()
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for path in common::fixtures("err").into_iter().filter(|p| p.is_file()) {
        let name = common::fixture_name(&path);
        let original = std::fs::read_to_string(&path).expect("fixture");
        let expected = positions(&common::check_fixture(&path));
        let crlf = original.replace('\n', "\r\n");
        let bom = format!("\u{feff}{original}");
        for (variant, text) in [("crlf", crlf), ("bom", bom)] {
            let sub = dir.path().join(variant);
            std::fs::create_dir_all(&sub).expect("dir");
            let file = sub.join(&name);
            std::fs::write(&file, text).expect("write");
            let got = positions(&common::check_fixture(&file));
            if got != expected {
                failures.push(format!(
                    "{name} ({variant}):\n  expected {expected:?}\n  got      {got:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
