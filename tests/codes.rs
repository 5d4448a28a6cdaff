//! Meta-tests: every diagnostic code has a fixture and a section in `docs/diagnostics.md`,
//! and every fixture is named after a code that exists and expects it.

use std::collections::BTreeSet;

use meshline_compiler::diagnostics::Code;

use crate::common;

/// `E0101_duplicate_name.mesh` → `E0101`.
fn code_of(name: &str) -> Option<Code> {
    let (code, rest) = name.split_at_checked(5)?;
    if !rest.starts_with('_') {
        return None;
    }
    Code::from_str(code)
}

#[test]
fn every_code_has_a_fixture() {
    let names: Vec<String> = common::fixtures("err")
        .iter()
        .map(|p| common::fixture_name(p))
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !names.iter().any(|n| n.starts_with(&format!("{c}_"))))
        .collect();
    assert!(
        missing.is_empty(),
        "codes without a fixture in tests/check/err/: {missing:?}"
    );
}

#[test]
fn every_fixture_is_named_after_a_code_it_expects() {
    let mut problems = Vec::new();
    for path in common::fixtures("err") {
        let name = common::fixture_name(&path);
        let Some(code) = code_of(&name) else {
            problems.push(format!(
                "{name}: the name must start with an existing code and `_`, e.g. `E0101_duplicate_name.mesh`"
            ));
            continue;
        };
        let checked = common::check_fixture(&path);
        let expected: BTreeSet<String> = checked
            .files
            .iter()
            .flat_map(|(f, t)| common::markers(f, t))
            .map(|m| m.code)
            .collect();
        if !expected.contains(code.as_str()) {
            problems.push(format!(
                "{name}: has no `//~ {}` marker (expects {expected:?})",
                code.as_str()
            ));
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

#[test]
fn ok_fixtures_are_not_named_after_codes() {
    for path in common::fixtures("ok") {
        let name = common::fixture_name(&path);
        assert!(
            code_of(&name).is_none(),
            "{name}: ok fixtures expect no code"
        );
    }
}

/// The codes documented in `docs/diagnostics.md`: headings `## E0101 — title`.
fn documented_codes(doc: &str) -> Vec<(String, String)> {
    doc.lines()
        .filter_map(|l| l.strip_prefix("## "))
        .filter_map(|h| {
            let (code, rest) = h.split_at_checked(5)?;
            let title = rest.trim_start().trim_start_matches('—').trim();
            let looks_like_code = (code.starts_with('E') || code.starts_with('W'))
                && code[1..].chars().all(|c| c.is_ascii_digit());
            looks_like_code.then(|| (code.to_string(), title.to_string()))
        })
        .collect()
}

#[test]
fn every_code_is_documented() {
    let path = common::repo_dir().join("docs").join("diagnostics.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let documented = documented_codes(&doc);
    let mut problems = Vec::new();
    for code in Code::ALL {
        match documented.iter().find(|(c, _)| c == code.as_str()) {
            None => problems.push(format!(
                "{}: no `## {}` section",
                code.as_str(),
                code.as_str()
            )),
            Some((_, title)) if title != code.title() => problems.push(format!(
                "{}: the heading says `{title}`, the code's title is `{}`",
                code.as_str(),
                code.title()
            )),
            Some(_) => {}
        }
    }
    for (c, _) in &documented {
        if Code::from_str(c).is_none() {
            problems.push(format!("{c}: documented, but no such code exists"));
        }
    }
    let mut seen = BTreeSet::new();
    for (c, _) in &documented {
        if !seen.insert(c) {
            problems.push(format!("{c}: documented twice"));
        }
    }
    // Sections appear in code order, so the page reads like the table of codes.
    let order: Vec<&String> = documented.iter().map(|(c, _)| c).collect();
    let mut sorted = order.clone();
    sorted.sort_by_key(|c| Code::from_str(c));
    if order != sorted {
        problems.push("sections are not in the order of `Code::ALL`".into());
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n"));
}

/// Codes are stable: the list may grow, but a code's severity class matches its prefix.
#[test]
fn code_prefixes_match_severities() {
    use meshline_compiler::diagnostics::Severity;
    for code in Code::ALL {
        let s = code.as_str();
        let want = if s.starts_with('W') {
            Severity::Warning
        } else {
            Severity::Error
        };
        assert_eq!(code.default_severity(), want, "{s}");
        assert_eq!(Code::from_str(s), Some(*code));
        assert!(!code.title().is_empty());
    }
}

/// A line without its trailing `//~ E0101` / `#~ E0005` marker.
fn without_marker(line: &str) -> &str {
    for tag in ["//~", "#~"] {
        if let Some(at) = line.find(tag) {
            let rest = line[at + tag.len()..].trim_start();
            let is_code =
                rest.len() >= 5 && rest.is_char_boundary(5) && Code::from_str(&rest[..5]).is_some();
            if is_code {
                return line[..at].trim_end();
            }
        }
    }
    line
}

/// The reports quoted in `docs/diagnostics.md` (the fenced blocks under each `### Report`)
/// are real output: each occurs in an accepted snapshot (markers aside). When a message
/// changes, the page must change with it.
#[test]
fn documented_reports_match_the_snapshots() {
    let snap_dir = common::tests_dir().join("snapshots/check");
    let mut snapshots = String::new();
    for entry in std::fs::read_dir(&snap_dir).expect("snapshots exist") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "snap") {
            let text = std::fs::read_to_string(&path).expect("snapshot");
            for line in text.lines() {
                snapshots.push_str(without_marker(line));
                snapshots.push('\n');
            }
        }
    }
    let doc = std::fs::read_to_string(common::repo_dir().join("docs/diagnostics.md"))
        .expect("docs/diagnostics.md");
    let mut problems = Vec::new();
    let mut checked = 0;
    let mut in_report = false;
    let mut block: Option<String> = None;
    for line in doc.lines() {
        if let Some(b) = &mut block {
            if line.starts_with("```") {
                let text = std::mem::take(b);
                block = None;
                checked += 1;
                if !snapshots.contains(&text) {
                    problems.push(format!("not in any snapshot:\n{text}"));
                }
            } else {
                b.push_str(line);
                b.push('\n');
            }
            continue;
        }
        if line.starts_with("### ") {
            in_report = line == "### Report";
        } else if line.starts_with("## ") {
            in_report = false;
        } else if in_report && line == "```text" {
            block = Some(String::new());
        }
    }
    assert!(
        checked >= Code::ALL.len(),
        "only {checked} report blocks found"
    );
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}
