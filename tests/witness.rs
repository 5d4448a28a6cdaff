//! Witness replay (issue 7): every ambiguous-route error (E0406) carries a witness event;
//! fed to the runtime, it must make both routes' conditions true — the checker raises no
//! false alarms. The witnesses are taken from the diagnostics exactly as users see them
//! (the record literal in the message), compiled as a test's `given`, and evaluated by
//! the runtime's own evaluator (`Engine::matching_routes`).

use meshline_compiler::db::{self, Database};
use meshline_compiler::diagnostics::{Code, Diagnostic, FileName};
use meshline_compiler::lower::tests::StepKind;
use meshline_compiler::project::{Manifest, ProjectFiles, SourceText};
use meshline_runtime::Engine;
use meshline_runtime::engine::Envelope;
use meshline_runtime::value::Value;

use crate::common;

/// A one-module project in memory.
pub fn project(text: &str) -> ProjectFiles {
    ProjectFiles {
        root: ".".into(),
        manifest: Manifest {
            name: "witness".into(),
            version: "1.0.0".into(),
            sources: "rules".into(),
        },
        files: vec![SourceText {
            name: FileName::from("rules/main.mesh"),
            module: "main".into(),
            text: text.to_string(),
        }],
        manifest_text: None,
        diagnostics: Vec::new(),
        data: Vec::new(),
    }
}

pub fn check(text: &str) -> Vec<Diagnostic> {
    let files = project(text);
    meshline_compiler::with_large_stack(|| {
        let database = Database::default();
        let handle = db::load_project(&database, &files);
        db::project_diagnostics(&database, handle)
    })
}

/// The two route names and the witness literal of an E0406 message.
pub fn parse_e0406(d: &Diagnostic) -> (String, String, String) {
    let names: Vec<&str> = d.message.split('`').collect();
    let witness = d
        .message
        .split_once("both match ")
        .expect("E0406 message names the witness")
        .1;
    (
        names[1].to_string(),
        names[3].to_string(),
        witness.to_string(),
    )
}

/// Compile `text` with a test whose `given` is `witness`, evaluate the event, and return
/// the class name and the names of the routes whose conditions hold for it.
pub fn replay(text: &str, witness: &str) -> (Option<String>, Vec<String>) {
    let source = format!(
        "{text}\n\ntest \"witness replay\" {{\n  at 2026-03-02T10:00:00Z\n  given {witness}\n}}\n"
    );
    let files = project(&source);
    meshline_compiler::with_large_stack(|| {
        let database = Database::default();
        let handle = db::load_project(&database, &files);
        let diags = db::project_diagnostics(&database, handle);
        let bad: Vec<&Diagnostic> = diags
            .iter()
            .filter(|d| d.is_error() && d.code != Code::AmbiguousRoute)
            .collect();
        assert!(
            bad.is_empty(),
            "the witness does not compile: {bad:#?}\n{witness}"
        );
        let (program, tests, _) = db::lower_with_tests(&database, handle, &files.manifest);
        let test = tests
            .iter()
            .find(|t| t.name == "witness replay")
            .expect("the replay test");
        let (event, value) = test
            .steps
            .iter()
            .find_map(|s| match &s.kind {
                StepKind::Given { event, value, .. } => Some((event.clone(), value.clone())),
                _ => None,
            })
            .expect("a given step");
        let engine = Engine::new(program.clone(), "witness").expect("program loads");
        let id = engine.event_named(&event).expect("receivable event");
        let values = match engine.evaluate(&value) {
            Ok(Value::Record(items)) => items.to_vec(),
            other => panic!("the witness is not a record: {other:?}"),
        };
        let env = Envelope {
            id: "w-1".into(),
            event: id,
            at: "2026-03-02T10:00:00Z".parse().expect("time"),
            case: "W-1".into(),
            values,
        };
        let (class, routes) = engine.matching_routes(&env);
        let class = class.and_then(|c| {
            let cl = program.classify.as_ref()?;
            Some(program.enums[cl.enum_id as usize].variants[c as usize].clone())
        });
        let names = routes
            .iter()
            .map(|r| program.routes[*r as usize].name.clone())
            .collect();
        (class, names)
    })
}

/// Check every E0406 witness of a project; returns how many were replayed.
pub fn replay_all(text: &str) -> usize {
    let mut n = 0;
    for d in check(text)
        .iter()
        .filter(|d| d.code == Code::AmbiguousRoute)
    {
        let (a, b, witness) = parse_e0406(d);
        let (_, matched) = replay(text, &witness);
        assert!(
            matched.contains(&a) && matched.contains(&b),
            "witness of `{a}`/`{b}` does not match both (matched {matched:?}):\n{witness}"
        );
        n += 1;
    }
    n
}

#[test]
fn witnesses_replay_through_the_runtime() {
    let dir = common::tests_dir().join("witness");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/witness")
        .map(|e| e.expect("entry").path())
        .collect();
    files.push(common::tests_dir().join("check/err/E0406_ambiguous_route.mesh"));
    files.sort();
    let mut total = 0;
    for path in files {
        let text = std::fs::read_to_string(&path).expect("fixture");
        // `//~ E0406 xN` at the top says how many ambiguities the file has.
        let expected = text.matches("//~ E0406").count();
        let n = replay_all(&text);
        assert_eq!(n, expected, "{}: witnesses replayed", path.display());
        total += n;
    }
    assert!(total >= 8, "only {total} witnesses replayed");
}
