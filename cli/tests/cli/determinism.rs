//! Determinism (§5, §6.4): same sources → same bundle bytes; same bundle and events →
//! byte-identical ledger and commands; one batch or one event at a time → same bytes.

use meshline_runtime::engine::Command as Cmd;
use meshline_runtime::ledger::{self, Entry};

use crate::common;

/// Two CLI builds of each example, and the in-process build, are the same bytes.
#[test]
fn building_twice_gives_identical_bundles() {
    let dir = common::tempdir();
    for name in common::examples_with_samples() {
        let project = common::example(&name);
        let a = common::build_cli(&project, &dir.path().join(format!("{name}-a.meshb")));
        let b = common::build_cli(&project, &dir.path().join(format!("{name}-b.meshb")));
        assert!(a == b, "{name}: two builds differ");
        assert!(
            a == common::build(&project),
            "{name}: CLI and in-process builds differ"
        );
    }
}

/// A copy of a project in another directory builds to the same bytes (no absolute paths,
/// timestamps or directory order in the bundle).
#[test]
fn building_a_copy_elsewhere_gives_identical_bundles() {
    let original = common::example("refunds");
    let copy = common::tempdir();
    common::copy_dir(&original, copy.path());
    assert!(common::build(&original) == common::build(copy.path()));
}

/// Two runs of the same bundle over the same events write the same bytes.
#[test]
fn running_twice_gives_identical_ledgers_and_commands() {
    for name in common::examples_with_samples() {
        let dir = common::tempdir();
        let bundle = dir.path().join("b.meshb");
        common::build_cli(&common::example(&name), &bundle);
        let events = common::sample_events(&name);
        let first_dir = dir.path().join("1");
        let second_dir = dir.path().join("2");
        std::fs::create_dir_all(&first_dir).expect("mkdir");
        std::fs::create_dir_all(&second_dir).expect("mkdir");
        let until = Some("2026-05-01T00:00:00Z");
        let a = common::run_cli(&first_dir, &bundle, &events, until);
        let b = common::run_cli(&second_dir, &bundle, &events, until);
        assert!(!a.ledger.is_empty(), "{name}: empty ledger");
        assert_eq!(a.ledger, b.ledger, "{name}: ledgers differ");
        assert_eq!(a.commands, b.commands, "{name}: commands differ");
        assert_eq!(a.out.stderr, b.out.stderr, "{name}: summaries differ");
    }
}

/// `--events -` (standard input) gives the same bytes as the file.
#[test]
fn events_from_stdin_equal_events_from_a_file() {
    let dir = common::tempdir();
    let bundle = dir.path().join("b.meshb");
    common::build_cli(&common::example("refunds"), &bundle);
    let events = common::sample_events("refunds");
    let from_file = common::run_cli(dir.path(), &bundle, &events, None);
    let input = std::fs::read(&events).expect("read sample");
    let out = common::meshline_stdin(
        [
            "run".as_ref(),
            "--bundle".as_ref(),
            bundle.as_os_str(),
            "--events".as_ref(),
            "-".as_ref(),
            "--ledger".as_ref(),
            "-".as_ref(),
        ],
        &input,
    );
    out.assert_code(0, "run --events -");
    assert_eq!(out.stdout, from_file.ledger);
    assert_eq!(out.stderr, from_file.out.stderr);
}

fn lines(entries: &[Entry], commands: &[Cmd]) -> (String, String) {
    (
        entries.iter().map(|e| ledger::to_line(e) + "\n").collect(),
        commands.iter().map(|c| c.to_line() + "\n").collect(),
    )
}

/// In-process: apply every event then drain once == drain after each event; parsing the
/// lines ourselves (`apply_json`) == `apply_line`; and both equal the CLI's files.
#[test]
fn batch_and_one_by_one_give_identical_bytes() {
    for name in common::examples_with_samples() {
        let bytes = common::build(&common::example(&name));
        let text = std::fs::read_to_string(common::sample_events(&name)).expect("sample");
        let events = common::event_lines(&text);
        let until = common::ts("2026-05-01T00:00:00Z");

        // All at once, one drain.
        let mut batch = common::engine(&bytes);
        for l in &events {
            batch.apply_line(l);
        }
        batch.advance_to(until);
        let (be, bc) = batch.drain();
        let batch_bytes = lines(&be, &bc);

        // One by one, draining after each event.
        let mut single = common::engine(&bytes);
        let (mut se, mut sc) = (Vec::new(), Vec::new());
        for l in &events {
            single.apply_line(l);
            let (e, c) = single.drain();
            se.extend(e);
            sc.extend(c);
        }
        single.advance_to(until);
        let (e, c) = single.drain();
        se.extend(e);
        sc.extend(c);
        assert_eq!(lines(&se, &sc), batch_bytes, "{name}: batch vs one by one");

        // apply_json over values parsed here.
        let mut json = common::engine(&bytes);
        for l in &events {
            json.apply_json(&serde_json::from_str(l).expect("sample lines are JSON"));
        }
        json.advance_to(until);
        let (je, jc) = json.drain();
        assert_eq!(
            lines(&je, &jc),
            batch_bytes,
            "{name}: apply_json vs apply_line"
        );

        // The CLI writes exactly these bytes.
        let dir = common::tempdir();
        let bundle = dir.path().join("b.meshb");
        std::fs::write(&bundle, &bytes).expect("write bundle");
        let cli = common::run_cli(
            dir.path(),
            &bundle,
            &common::sample_events(&name),
            Some("2026-05-01T00:00:00Z"),
        );
        assert_eq!(
            (cli.ledger, cli.commands),
            batch_bytes,
            "{name}: CLI vs library"
        );
    }
}

/// Advancing the clock in small steps fires the same timers, in the same order, as one
/// big step.
#[test]
fn advancing_in_steps_equals_one_advance() {
    let bytes = common::refunds_bundle();
    let text = std::fs::read_to_string(common::sample_events("refunds")).expect("sample");
    let mut one = common::engine(bytes);
    let mut steps = common::engine(bytes);
    for l in common::event_lines(&text) {
        one.apply_line(l);
        steps.apply_line(l);
    }
    one.advance_to(common::ts("2026-03-12T00:00:00Z"));
    let mut t = common::ts("2026-03-03T14:05:19Z");
    let end = common::ts("2026-03-12T00:00:00Z");
    while t < end {
        t = t
            .checked_add(jiff::SignedDuration::from_mins(37))
            .expect("in range")
            .min(end);
        steps.advance_to(t);
    }
    let (a, ac) = one.drain();
    let (b, bc) = steps.drain();
    assert_eq!(lines(&a, &ac), lines(&b, &bc));
}
