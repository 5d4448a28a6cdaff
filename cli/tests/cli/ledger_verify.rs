//! `meshline ledger verify FILE` (§6.5): a good ledger exits 0; an edited, removed,
//! reordered, inserted or forged line exits 1 and names the first bad sequence number.

use std::path::{Path, PathBuf};

use meshline_runtime::ledger;

use crate::common::{self, Out};

/// The refunds sample's ledger (83 entries), written by the CLI.
fn good_ledger(dir: &Path) -> Vec<String> {
    let bundle = dir.join("r.meshb");
    common::build_cli(&common::example("refunds"), &bundle);
    let run = common::run_cli(
        dir,
        &bundle,
        &common::sample_events("refunds"),
        Some("2026-03-10T00:00:00Z"),
    );
    let lines: Vec<String> = run.ledger.lines().map(str::to_string).collect();
    assert!(
        lines.len() > 40,
        "the sample ledger is long enough to tamper with"
    );
    lines
}

fn verify(dir: &Path, name: &str, lines: &[String]) -> (PathBuf, Out) {
    let path = dir.join(name);
    let mut text = lines.join("\n");
    if !lines.is_empty() {
        text.push('\n');
    }
    std::fs::write(&path, text).expect("write ledger");
    let out = common::meshline(["ledger".as_ref(), "verify".as_ref(), path.as_os_str()]);
    out.assert_no_panic(name);
    (path, out)
}

fn assert_bad(dir: &Path, name: &str, lines: &[String], words: &[&str]) {
    let (path, out) = verify(dir, name, lines);
    assert_eq!(
        out.code, 1,
        "{name}: exit code\n{}{}",
        out.stdout, out.stderr
    );
    let msg = format!("{}{}", out.stdout, out.stderr);
    assert!(
        msg.contains(&path.display().to_string()),
        "{name}: names the file: {msg}"
    );
    for w in words {
        assert!(msg.contains(w), "{name}: message lacks {w:?}: {msg}");
    }
}

#[test]
fn a_good_ledger_verifies() {
    let dir = common::tempdir();
    let lines = good_ledger(dir.path());
    let (_, out) = verify(dir.path(), "good.jsonl", &lines);
    out.assert_code(0, "verify good");
    let last = ledger::from_line(lines.last().expect("lines")).expect("parse");
    assert_eq!(
        out.stdout.trim(),
        format!("ok: {} entries, last hash {}", lines.len(), last.hash)
    );
    // An empty ledger is a valid ledger of no entries.
    let (_, out) = verify(dir.path(), "empty.jsonl", &[]);
    out.assert_code(0, "verify empty");
    assert!(out.stdout.starts_with("ok: 0 entries"), "{}", out.stdout);
}

#[test]
fn an_edited_line_is_named() {
    let dir = common::tempdir();
    let good = good_ledger(dir.path());
    // Change one value inside line 10's detail (entry 10), keeping it valid JSON.
    let mut lines = good.clone();
    let edited = lines[9].replacen("\"detail\":{", "\"detail\":{\"forged\":true,", 1);
    assert_ne!(edited, lines[9]);
    lines[9] = edited;
    assert_bad(
        dir.path(),
        "edited-detail.jsonl",
        &lines,
        &["entry 10 ", "edited"],
    );

    // Change the kind of entry 25.
    let mut lines = good.clone();
    let e = ledger::from_line(&lines[24]).expect("parse");
    let other = if e.kind == "executed" {
        "held"
    } else {
        "executed"
    };
    lines[24] = lines[24].replacen(
        &format!("\"kind\":\"{}\"", e.kind),
        &format!("\"kind\":\"{other}\""),
        1,
    );
    assert_bad(
        dir.path(),
        "edited-kind.jsonl",
        &lines,
        &["entry 25 ", "edited"],
    );

    // Change a timestamp of the last entry.
    let mut lines = good.clone();
    let n = lines.len();
    let e = ledger::from_line(&lines[n - 1]).expect("parse");
    lines[n - 1] = lines[n - 1].replacen(&e.at, "2030-01-01T00:00:00Z", 1);
    assert_bad(
        dir.path(),
        "edited-at.jsonl",
        &lines,
        &[&format!("entry {n} "), "edited"],
    );
}

#[test]
fn a_deleted_line_is_named() {
    let dir = common::tempdir();
    let mut lines = good_ledger(dir.path());
    lines.remove(19); // entry 20
    assert_bad(
        dir.path(),
        "deleted.jsonl",
        &lines,
        &["expected entry 20 but found entry 21"],
    );
    // The first line.
    let mut lines = good_ledger(dir.path());
    lines.remove(0);
    assert_bad(
        dir.path(),
        "deleted-first.jsonl",
        &lines,
        &["expected entry 1 but found entry 2"],
    );
}

#[test]
fn swapped_lines_are_named() {
    let dir = common::tempdir();
    let mut lines = good_ledger(dir.path());
    lines.swap(29, 30); // entries 30 and 31
    assert_bad(
        dir.path(),
        "swapped.jsonl",
        &lines,
        &["expected entry 30 but found entry 31"],
    );
    // Swapped far apart.
    let mut lines = good_ledger(dir.path());
    lines.swap(4, 40);
    assert_bad(
        dir.path(),
        "swapped-far.jsonl",
        &lines,
        &["expected entry 5 but found entry 41"],
    );
}

#[test]
fn inserted_and_duplicated_lines_are_named() {
    let dir = common::tempdir();
    let good = good_ledger(dir.path());
    let mut lines = good.clone();
    lines.insert(6, good[5].clone()); // entry 6 twice
    assert_bad(
        dir.path(),
        "duplicated.jsonl",
        &lines,
        &["expected entry 7 but found entry 6"],
    );
    let mut lines = good.clone();
    lines.insert(3, "{}".to_string());
    assert_bad(dir.path(), "inserted-junk.jsonl", &lines, &["line 4"]);
    let mut lines = good.clone();
    lines.insert(3, String::new());
    assert_bad(
        dir.path(),
        "blank-line.jsonl",
        &lines,
        &["line 4", "blank line"],
    );
    // A line cut short (a crash mid-write).
    let mut lines = good.clone();
    let n = lines.len();
    let cut = lines[n - 1].len() / 2;
    lines[n - 1].truncate(cut);
    assert_bad(
        dir.path(),
        "cut-short.jsonl",
        &lines,
        &[&format!("line {n}")],
    );
}

/// An entry edited and re-hashed (consistent on its own) breaks the chain at the next one.
#[test]
fn a_forged_line_with_a_recomputed_hash_is_caught_at_the_next_entry() {
    let dir = common::tempdir();
    let mut lines = good_ledger(dir.path());
    let mut e = ledger::from_line(&lines[9]).expect("parse");
    e.detail["forged"] = serde_json::json!(true);
    e.hash = ledger::entry_hash(&e);
    lines[9] = ledger::to_line(&e);
    assert_bad(
        dir.path(),
        "forged.jsonl",
        &lines,
        &["entry 11 ", "`prev` is not the hash of entry 10"],
    );
}

#[test]
fn a_missing_ledger_file_is_an_io_error() {
    let dir = common::tempdir();
    let missing = dir.path().join("missing.jsonl");
    common::meshline(["ledger".as_ref(), "verify".as_ref(), missing.as_os_str()])
        .assert_code(2, "verify a missing file");
}
