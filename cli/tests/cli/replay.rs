//! `meshline run` over control lines (the format `meshline serve --export-events` writes):
//! `tick` advances the clock, `deploy` reloads from `--bundles`, `event` applies the line
//! it carries; each matches the engine driven the same way in-process. A control line that
//! cannot be honoured stops the run with status 2, naming the line.

use std::path::PathBuf;

use meshline_runtime::{Engine, bundle, ir};

use crate::common::{self, Out, meshline, meshline_stdin};

/// One step of a run, in the file and in-process.
enum Step<'a> {
    Line(&'a str),
    Tick(&'a str),
    Deploy(&'a [u8]),
}

fn hash(bytes: &[u8]) -> String {
    bundle::read_manifest(bytes).expect("a bundle").1
}

fn control(step: &Step<'_>) -> String {
    match step {
        Step::Line(l) => l.to_string(),
        Step::Tick(t) => format!(r#"{{"meshline":"tick","at":"{t}"}}"#),
        Step::Deploy(b) => format!(r#"{{"meshline":"deploy","bundle":"{}"}}"#, hash(b)),
    }
}

/// The ledger the engine writes for `steps`, in-process.
fn in_process(first: &[u8], steps: &[Step<'_>]) -> String {
    let mut engine: Engine = common::engine(first);
    for s in steps {
        match s {
            Step::Line(l) => {
                engine.apply_line(l);
            }
            Step::Tick(t) => engine.advance_to(common::ts(t)),
            Step::Deploy(b) => {
                let (_, program, h) = bundle::decode::<ir::Program>(b).unwrap();
                engine.reload(program, &h).unwrap();
            }
        }
    }
    engine.drain_jsonl().0
}

struct Fixture {
    dir: tempfile::TempDir,
    first: Vec<u8>,
    first_path: PathBuf,
    /// A compatible variant (version bump), stored in `bundles/`.
    newer: Vec<u8>,
    sample: String,
}

fn fixture() -> Fixture {
    let dir = common::tempdir();
    let first_path = dir.path().join("agency.meshb");
    let first = common::build_cli(&common::example("agency-support"), &first_path);
    let project = dir.path().join("newer");
    common::copy_dir(&common::example("agency-support"), &project);
    let manifest = project.join("meshline.toml");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("1.4.0", "1.4.1", 1)).unwrap();
    let newer = common::build(&project);
    let bundles = dir.path().join("bundles");
    std::fs::create_dir(&bundles).unwrap();
    std::fs::write(bundles.join(format!("{}.meshb", hash(&newer))), &newer).unwrap();
    let sample = std::fs::read_to_string(common::sample_events("agency-support")).unwrap();
    Fixture {
        dir,
        first,
        first_path,
        newer,
        sample,
    }
}

impl Fixture {
    fn lines(&self) -> Vec<&str> {
        self.sample
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// `meshline run` over `text` with `--bundles bundles/` (or none), and the ledger.
    fn run(&self, text: &str, bundles: bool) -> (Out, String) {
        let d = self.dir.path();
        std::fs::write(d.join("in.jsonl"), text).unwrap();
        let _ = std::fs::remove_file(d.join("out.jsonl"));
        let mut args: Vec<PathBuf> = ["run", "--bundle"].map(PathBuf::from).to_vec();
        args.push(self.first_path.clone());
        for (k, v) in [("--events", "in.jsonl"), ("--ledger", "out.jsonl")] {
            args.push(k.into());
            args.push(d.join(v));
        }
        if bundles {
            args.push("--bundles".into());
            args.push(d.join("bundles"));
        }
        let out = meshline(&args);
        let ledger = std::fs::read_to_string(d.join("out.jsonl")).unwrap_or_default();
        (out, ledger)
    }

    fn file(&self, steps: &[Step<'_>]) -> String {
        steps.iter().map(|s| control(s) + "\n").collect()
    }
}

#[test]
fn tick_lines_fire_timers_where_they_stand() {
    let f = fixture();
    let lines = f.lines();
    let (a, b) = lines.split_at(lines.len() / 2);
    let mut steps: Vec<Step<'_>> = a.iter().map(|l| Step::Line(l)).collect();
    steps.push(Step::Tick("2026-03-05T00:00:00Z"));
    steps.extend(b.iter().map(|l| Step::Line(l)));
    steps.push(Step::Tick("2026-03-20T00:00:00Z"));
    let (out, ledger) = f.run(&f.file(&steps), false);
    out.assert_code(0, "run with ticks");
    assert_eq!(ledger, in_process(&f.first, &steps));
    // A final tick is `--until`.
    let until = common::run_cli(
        f.dir.path(),
        &f.first_path,
        &common::sample_events("agency-support"),
        Some("2026-03-20T00:00:00Z"),
    );
    let (_, ticked) = f.run(
        &format!(
            "{}\n{}\n",
            f.sample,
            control(&Step::Tick("2026-03-20T00:00:00Z"))
        ),
        false,
    );
    assert_eq!(ticked, until.ledger);
    assert!(ticked.contains("\"kind\":\"sla_breached\""));
}

#[test]
fn deploy_lines_reload_from_the_bundles_folder() {
    let f = fixture();
    let lines = f.lines();
    let (a, b) = lines.split_at(6);
    let mut steps: Vec<Step<'_>> = a.iter().map(|l| Step::Line(l)).collect();
    steps.push(Step::Deploy(&f.newer));
    steps.extend(b.iter().map(|l| Step::Line(l)));
    steps.push(Step::Deploy(&f.first));
    // Rolling back needs the first bundle in the folder too.
    let first_name = format!("bundles/{}.meshb", hash(&f.first));
    std::fs::write(f.dir.path().join(first_name), &f.first).unwrap();
    let (out, ledger) = f.run(&f.file(&steps), true);
    out.assert_code(0, "run with deployments");
    assert_eq!(ledger, in_process(&f.first, &steps));
    assert_eq!(ledger.matches("\"kind\":\"deployed\"").count(), 2);
    assert!(ledger.contains(&hash(&f.newer)));
}

/// examples/agency-support with `edits` (file under rules/, text, replacement), built
/// into `bundles/`.
fn variant(f: &Fixture, name: &str, edits: &[(&str, &str, &str)]) -> Vec<u8> {
    let project = f.dir.path().join(name);
    common::copy_dir(&common::example("agency-support"), &project);
    for (file, from, to) in edits {
        let path = project.join("rules").join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}: {from}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    }
    // Scenario tests name what a variant removes.
    std::fs::remove_dir_all(project.join("rules/tests")).unwrap();
    let bytes = common::build(&project);
    let path = f.dir.path().join(format!("bundles/{}.meshb", hash(&bytes)));
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// A history with deployments that remove a gate holding a step, add a gate and an
/// automation, and remove them again (docs/deploy.md, "Migrations by name") replays with
/// `meshline run` as the engine ran it, `migrated` and `reconciliation` entries included.
#[test]
fn deploy_lines_carry_declarations_by_name() {
    let f = fixture();
    let lines = f.lines();
    let no_gate = variant(
        &f,
        "no_gate",
        &[(
            "billing/gates.mesh",
            "gate refund_approval on stripe.refund when amount > refund_limit {",
            "gate refund_approval_gone on stripe.refund when amount > refund_limit {",
        )],
    );
    let added = variant(
        &f,
        "added",
        &[(
            "incidents.mesh",
            "/// Announces urgent tickets",
            "gate a_reply_check on helpdesk.reply when true {\n  require review by automation_review\n}\n\n\
             automation aa_access_note {\n  version 1\n  owner support_l1\n  on TicketCreated when class == Access\n  do {\n    helpdesk.reply(template: \"access_received\")\n  }\n}\n\n\
             /// Announces urgent tickets",
        )],
    );
    std::fs::write(
        f.dir
            .path()
            .join(format!("bundles/{}.meshb", hash(&f.first))),
        &f.first,
    )
    .unwrap();
    // T-3002's refund is held by refund_approval (line 3); the gate goes (retired), the
    // sample's approvals (lines 16, 17) decide it by its name; an Access case runs the
    // added automation, held by the added gate, which the last deployment removes.
    let mut steps: Vec<Step<'_>> = lines[..3].iter().map(|l| Step::Line(l)).collect();
    steps.push(Step::Deploy(&no_gate));
    steps.push(Step::Deploy(&added));
    steps.extend(lines[3..].iter().map(|l| Step::Line(l)));
    steps.push(Step::Deploy(&f.first));
    let (out, ledger) = f.run(&f.file(&steps), true);
    out.assert_code(0, "run with migrations");
    assert_eq!(ledger, in_process(&f.first, &steps));
    meshline_runtime::ledger::verify(&ledger).unwrap();
    assert_eq!(ledger.matches("\"kind\":\"deployed\"").count(), 3);
    for want in [
        "\"retired_gates\"",
        "\"cancelled_runs\"",
        "\"reason\":\"the automation was removed by a deployment\"",
    ] {
        assert!(ledger.contains(want), "{want}");
    }
}

#[test]
fn event_lines_apply_the_line_they_carry() {
    let f = fixture();
    let lines = f.lines();
    let wrap = |l: &str| {
        format!(
            r#"{{"meshline":"event","line":{}}}"#,
            serde_json::Value::String(l.to_string())
        )
    };
    let plain = format!("{}\n{}\nnot json\n", lines[0], lines[1]);
    let wrapped = format!("{}\n{}\n{}\n", wrap(lines[0]), lines[1], wrap("not json"));
    let (out, want) = f.run(&plain, false);
    out.assert_code(0, "plain");
    let (out, got) = f.run(&wrapped, false);
    out.assert_code(0, "wrapped");
    assert_eq!(got, want);
    assert!(got.contains("\"kind\":\"rejected\""));
}

/// `meshline` anywhere but as a top-level key leaves a line an ordinary event line.
#[test]
fn envelopes_mentioning_meshline_are_ordinary_lines() {
    let f = fixture();
    let lines = f.lines();
    let text = [
        lines[0].replacen("\"channel\"", "\"meshline\": 1, \"channel\"", 1),
        lines[0].replacen("\"tier\"", "\"meshline\": \"tick\", \"tier\"", 1),
        lines[0].replace("Refund for", "meshline refund for"),
        "[\"meshline\", \"tick\"]".to_string(),
        "{\"meshline\" no json".to_string(),
    ];
    let steps: Vec<Step<'_>> = text.iter().map(|l| Step::Line(l)).collect();
    let (out, ledger) = f.run(&f.file(&steps), false);
    out.assert_code(0, "meshline in data");
    assert_eq!(ledger, in_process(&f.first, &steps));
}

#[test]
fn control_lines_that_cannot_be_honoured_stop_the_run() {
    let f = fixture();
    let lines = f.lines();
    let d = f.dir.path();
    let newer = hash(&f.newer);
    // A bundle file named for one bundle but holding another.
    let other = d.join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join(format!("{newer}.meshb")), &f.first).unwrap();
    let deploy = control(&Step::Deploy(&f.newer));
    let cases: Vec<(String, bool, &str)> = vec![
        (
            r#"{"meshline":"rewind"}"#.into(),
            true,
            "unknown control line \"rewind\"",
        ),
        (
            r#"{"meshline":"tick","at":"soon"}"#.into(),
            true,
            "not an RFC 3339",
        ),
        (deploy.clone(), false, "no --bundles DIR"),
        (
            r#"{"meshline":"deploy","bundle":"0000"}"#.into(),
            true,
            "deploy of bundle 0000: ",
        ),
    ];
    for (line, bundles, want) in cases {
        let text = format!("{}\n\n{line}\n{}\n", lines[0], lines[1]);
        let (out, ledger) = f.run(&text, bundles);
        out.assert_code(2, &line);
        assert!(
            out.stderr.contains("in.jsonl, line 3: "),
            "{line}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(want), "{line}: {}", out.stderr);
        // What came before the line is written; nothing after it.
        assert_eq!(
            ledger,
            in_process(&f.first, &[Step::Line(lines[0])]),
            "{line}"
        );
    }
    // The wrong bytes under a bundle's name.
    let text = format!("{deploy}\n");
    std::fs::write(d.join("wrong.jsonl"), &text).unwrap();
    let out = meshline([
        "run".as_ref(),
        "--bundle".as_ref(),
        f.first_path.as_os_str(),
        "--events".as_ref(),
        d.join("wrong.jsonl").as_os_str(),
        "--bundles".as_ref(),
        other.as_os_str(),
    ]);
    out.assert_code(2, "a bundle file holding another bundle");
    assert!(
        out.stderr
            .contains(&format!("holds bundle {}", hash(&f.first))),
        "{}",
        out.stderr
    );
    // An incompatible bundle is refused as serve refuses it; standard input is named so.
    // (An event whose fields change: it cannot be carried by name, docs/deploy.md.)
    let reordered = d.join("reordered");
    common::copy_dir(&common::example("agency-support"), &reordered);
    let path = reordered.join("rules/data.mesh");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen(
            "event ReplySent { by: Person, public: Bool }",
            "event ReplySent { by: Person, public: Bool, internal: Bool? }",
            1,
        ),
    )
    .unwrap();
    let incompatible = common::build(&reordered);
    std::fs::write(
        other.join(format!("{}.meshb", hash(&incompatible))),
        &incompatible,
    )
    .unwrap();
    let input = format!("{}\n", control(&Step::Deploy(&incompatible)));
    let out = meshline_stdin(
        [
            "run".as_ref(),
            "--bundle".as_ref(),
            f.first_path.as_os_str(),
            "--events".as_ref(),
            "-".as_ref(),
            "--bundles".as_ref(),
            other.as_os_str(),
        ],
        input.as_bytes(),
    );
    out.assert_code(2, "an incompatible bundle");
    assert!(
        out.stderr.contains("standard input, line 1: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("refused: "), "{}", out.stderr);
    assert!(
        out.stderr.contains("event ReplySent changes its fields"),
        "{}",
        out.stderr
    );
}

/// `meshline run` reads and parses its inputs a batch ahead of the engine and hashes the
/// ledger on a second thread (docs/performance.md, "`meshline run` as a pipeline"). Over
/// several batches of inputs, with lines the engine rejects and events carried by `event`
/// lines, the ledger is still the one the engine writes applying each line in turn; and a
/// bad control line far into the file stops the run at its number, with everything before
/// it written and nothing after.
#[test]
fn a_long_input_gives_the_engines_ledger_and_stops_at_a_late_bad_line() {
    let f = fixture();
    let lines = f.lines();
    let (mut text, mut inner) = (String::new(), Vec::new());
    for i in 0..1300 {
        let line = lines[i % lines.len()];
        match i % 11 {
            3 => {
                text.push_str("not json {\n");
                inner.push("not json {");
            }
            5 => {
                let wrapped = serde_json::json!({"meshline": "event", "line": line});
                text.push_str(&format!("{wrapped}\n"));
                inner.push(line);
            }
            _ => {
                text.push_str(line);
                text.push('\n');
                inner.push(line);
            }
        }
    }
    let steps: Vec<Step<'_>> = inner.iter().map(|l| Step::Line(l)).collect();
    let want = in_process(&f.first, &steps);
    let (out, ledger) = f.run(&text, false);
    out.assert_code(0, "a long run");
    assert_eq!(ledger, want);
    text.push_str("{\"meshline\":\"rewind\"}\n");
    text.push_str(lines[0]);
    text.push('\n');
    let (out, ledger) = f.run(&text, false);
    out.assert_code(2, "a bad line at 1301");
    assert!(
        out.stderr
            .contains("in.jsonl, line 1301: unknown control line"),
        "{}",
        out.stderr
    );
    assert_eq!(ledger, want);
}
