//! Bundle compatibility (docs/deploy.md, "Bundle compatibility"): a bundle built by an
//! earlier release still decodes, and runs exactly as that release ran it. `serve` keeps
//! the bundles it was deployed with, so a new release that cannot read them cannot start.
//!
//! The fixture in `cli/tests/fixtures/compat/` was built from the copy of the refunds
//! project beside it by the release named in its file name; its `.ledger.jsonl` and
//! `.commands.jsonl` are what that release's `meshline run` wrote for the project's sample
//! events. A deliberate change of the runtime's behaviour re-records those two files
//! (`meshline run --bundle … --events …`), never the bundle.

use std::path::PathBuf;

use meshline_runtime::{bundle, ir};

use crate::common;

const BUILT_BY: &str = "refunds-main-4d883b6";

fn fixture(ext: &str) -> PathBuf {
    common::repo()
        .join("cli/tests/fixtures/compat")
        .join(format!("{BUILT_BY}.{ext}"))
}

#[test]
fn a_bundle_built_by_an_earlier_release_decodes_and_runs_unchanged() {
    let old = std::fs::read(fixture("meshb")).unwrap();
    let (_, program, _) = bundle::decode::<ir::Program>(&old)
        .unwrap_or_else(|e| panic!("the earlier release's bundle does not decode: {e}"));
    assert!(program.tables.is_empty(), "absent sections read as empty");
    assert!(!program.lifecycle.is_declared());
    assert!(
        program
            .automations
            .iter()
            .flat_map(|a| &a.steps)
            .all(|s| s.kind == ir::StepKind::Action),
        "steps without a `steps` section are action calls"
    );
    // The same sources built now lower to the same declarations of the project (the
    // standard library may have grown since: its connectors' actions are not compared).
    let project = common::repo().join("cli/tests/fixtures/compat/refunds");
    let (_, now, _) = bundle::decode::<ir::Program>(&common::build(&project)).unwrap();
    let names = |p: &ir::Program| {
        (
            p.events.iter().map(|e| e.name.clone()).collect::<Vec<_>>(),
            p.routes.clone(),
            p.slas.clone(),
            p.teams.clone(),
            p.classify.clone(),
            p.automations
                .iter()
                .map(|a| (a.name.clone(), a.version))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(names(&program), names(&now));
    // And it runs as the earlier release ran it.
    let dir = common::tempdir();
    let run = common::run_cli(
        dir.path(),
        &fixture("meshb"),
        &project.join("events/sample.jsonl"),
        None,
    );
    let read = |ext| std::fs::read_to_string(fixture(ext)).unwrap();
    assert_eq!(run.ledger, read("ledger.jsonl"));
    assert_eq!(run.commands, read("commands.jsonl"));
}
