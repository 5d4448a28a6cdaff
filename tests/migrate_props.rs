//! Random deployment sequences over an example (issue 20 item 6; docs/deploy.md,
//! "Migrations by name"): bundles made from examples/agency-support by adding and removing
//! a gate, an automation, an automation step, an SLA policy, a class and a calendar are
//! deployed in random order between the example's sample events, clock advances, and
//! restarts (snapshot, then an engine restored from it). The ledger and the commands are
//! the same, byte for byte, as the same inputs without the restarts, and the ledger
//! verifies. Deployments the live state cannot take are refused identically both ways.

use std::sync::OnceLock;

use meshline_runtime::Engine;
use meshline_runtime::ir::Program;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const EXAMPLE: &str = "../examples/agency-support";

/// One mechanical source edit: (file under rules/, text, replacement).
type Edit = (&'static str, &'static str, &'static str);

/// Removes refund_approval (another gate takes its place: refunds must stay gated).
const NO_GATE: Edit = (
    "billing/gates.mesh",
    "gate refund_approval on",
    "gate refund_approval_gone on",
);
const NO_AUTOMATION: Edit = (
    "incidents.mesh",
    "automation incident_broadcast {",
    "automation incident_broadcast_gone {",
);
const ADDED: Edit = (
    "incidents.mesh",
    "/// Announces urgent tickets",
    "/// Every reply an automation sends is reviewed first.\n\
     gate a_reply_check on helpdesk.reply when true {\n  require review by automation_review\n}\n\n\
     /// Access requests hear back at once.\n\
     automation aa_access_note {\n  version 1\n  owner support_l1\n  on TicketCreated when class == Access\n  do {\n    helpdesk.reply(template: \"access_received\")\n  }\n}\n\n\
     /// Announces urgent tickets",
);
const ADDED_CALENDAR: Edit = (
    "teams.mesh",
    "calendar london {",
    "calendar aaa_hours {\n  timezone \"UTC\"\n  hours mon-fri 07:00-11:00\n}\n\ncalendar london {",
);
const NO_SLA: Edit = (
    "service_levels.mesh",
    "sla access_resolution for Access {",
    "sla access_resolution_gone for Access {",
);
const CLASS_ADDED: Edit = (
    "ownership.mesh",
    "enum TicketClass { Billing,",
    "enum TicketClass { Aardvark, Billing,",
);
const CLASS_ARM: Edit = (
    "ownership.mesh",
    "  Billing        when",
    "  Aardvark       when ticket.subject matches \"(?i)aardvark\"\n  Billing        when",
);
const CLASS_OWNER: Edit = (
    "ownership.mesh",
    "  Billing        -> billing_ops",
    "  Aardvark       -> support_l1     escalate support_leads\n  Billing        -> billing_ops",
);
const STEP_ADDED: Edit = (
    "billing/refunds.mesh",
    "    helpdesk.reply(template: \"refund_confirmed\")\n",
    "    helpdesk.reply(template: \"refund_confirmed\")\n    helpdesk.reply(template: \"refund_followup\")\n",
);

/// The variants deployed, each a set of edits to the example (the first is the example).
const VARIANTS: &[&[Edit]] = &[
    &[],
    &[NO_GATE],
    &[NO_AUTOMATION, CLASS_ADDED, CLASS_ARM, CLASS_OWNER],
    &[ADDED, NO_SLA, ADDED_CALENDAR],
    &[ADDED, NO_GATE, STEP_ADDED],
    &[
        CLASS_ADDED,
        CLASS_ARM,
        CLASS_OWNER,
        NO_SLA,
        NO_AUTOMATION,
        ADDED,
    ],
];

/// Copy `from` into `to`, recursively, leaving out the scenario tests (they name
/// declarations some variants remove).
fn copy(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("a folder");
    for entry in std::fs::read_dir(from).expect("the example") {
        let path = entry.expect("an entry").path();
        let name = path.file_name().expect("a name");
        let target = to.join(name);
        if path.is_dir() {
            if path.ends_with("rules/tests") {
                continue;
            }
            copy(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("a copy");
        }
    }
}

/// Every variant built once, from a copy of the example on disk (its data files too):
/// (bundle hash, program).
fn bundles() -> &'static [(String, Program)] {
    static BUILT: OnceLock<Vec<(String, Program)>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        VARIANTS
            .iter()
            .enumerate()
            .map(|(i, edits)| {
                let project = dir.path().join(format!("v{i}"));
                copy(std::path::Path::new(EXAMPLE), &project);
                for (file, from, to) in *edits {
                    let path = project.join("rules").join(file);
                    let text = std::fs::read_to_string(&path).expect("the edited file");
                    assert!(text.contains(from), "{file} has no {from:?}");
                    std::fs::write(&path, text.replacen(from, to, 1)).expect("written");
                }
                let out = meshline_compiler::with_large_stack(move || {
                    meshline_compiler::build_path(&project)
                })
                .expect("loads");
                let errors: Vec<_> = out
                    .check
                    .diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .collect();
                assert!(errors.is_empty(), "{edits:?}: {errors:#?}");
                let bytes = out.bundle.expect("a bundle");
                let (_, program, hash) =
                    meshline_runtime::bundle::decode::<Program>(&bytes).expect("decodes");
                (hash, program)
            })
            .collect()
    })
}

fn sample() -> &'static [String] {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        std::fs::read_to_string(format!("{EXAMPLE}/events/sample.jsonl"))
            .expect("the sample")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    })
}

#[derive(Clone, Copy, Debug)]
enum Op {
    /// The next sample event (nothing once they are all in).
    Next,
    Deploy(usize),
    /// Snapshot, then carry on with an engine restored from it.
    Restart,
    /// Advance the clock by this many hours.
    Advance(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => Just(Op::Next),
        3 => (0..VARIANTS.len()).prop_map(Op::Deploy),
        2 => Just(Op::Restart),
        1 => (1u8..30).prop_map(Op::Advance),
    ]
}

/// What a run wrote: the ledger and commands after each input, the outcome of each
/// deployment, and how many were accepted.
struct Run {
    out: String,
    accepted: usize,
}

fn run(ops: &[Op], restarts: bool) -> Run {
    let built = bundles();
    let (hash, program) = &built[0];
    let mut engine = Engine::new(program.clone(), hash).expect("loads");
    let mut next = sample().iter();
    let mut out = String::new();
    let mut accepted = 0;
    for op in ops {
        match *op {
            Op::Next => {
                if let Some(line) = next.next() {
                    engine.apply_line(line);
                }
            }
            Op::Deploy(v) => {
                let (hash, program) = &built[v];
                if engine.bundle_hash() == hash {
                    continue;
                }
                match engine.reload(program.clone(), hash) {
                    Ok(()) => accepted += 1,
                    Err(e) => out.push_str(&format!("refused {v}: {e}\n")),
                }
            }
            Op::Restart if restarts => {
                let bytes = engine.snapshot().expect("a snapshot");
                let hash = engine.bundle_hash().to_string();
                let (_, program) = built
                    .iter()
                    .find(|(h, _)| *h == hash)
                    .expect("a built bundle");
                engine = Engine::restore(program.clone(), &hash, &bytes).expect("restores");
            }
            Op::Restart => {}
            Op::Advance(h) => {
                if let Some(now) = engine.clock() {
                    let to = now
                        .checked_add(jiff::SignedDuration::from_hours(i64::from(h)))
                        .expect("in range");
                    engine.advance_to(to);
                }
            }
        }
        let (lines, commands) = engine.drain_jsonl();
        out.push_str(&lines);
        for c in commands {
            out.push_str(&c.to_line());
            out.push('\n');
        }
    }
    Run { out, accepted }
}

/// The ledger lines of a run's output.
fn ledger(out: &str) -> String {
    out.lines()
        .filter(|l| l.starts_with("{\"seq\"") && l.contains("\"hash\""))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// How many deployments a sequence made, and how many `migrated` entries they wrote.
fn check(ops: &[Op]) -> Result<(usize, usize), TestCaseError> {
    let straight = run(ops, false);
    let restarted = run(ops, true);
    prop_assert!(
        straight.out == restarted.out,
        "restarts changed the output for {ops:?}"
    );
    let lines = ledger(&straight.out);
    let verified = meshline_runtime::ledger::verify(&lines);
    prop_assert!(verified.is_ok(), "{ops:?}: {verified:?}");
    let migrated = lines.matches("\"kind\":\"migrated\"").count();
    Ok((straight.accepted, migrated))
}

#[test]
fn a_removed_gate_and_automation_under_live_runs_replay_through_restarts() {
    // The sample holds T-3002's refund for refund_approval (events 3..16): remove the gate
    // while it holds, restart, and let the sample's approvals decide it by its name; then
    // add a gate and an automation, and remove them again over what they hold.
    let mut ops = vec![Op::Next; 4];
    ops.extend([Op::Deploy(1), Op::Restart]);
    ops.extend([Op::Next; 11]);
    ops.extend([Op::Deploy(3), Op::Restart, Op::Next, Op::Next]);
    ops.extend([Op::Deploy(2), Op::Restart, Op::Advance(26), Op::Next]);
    ops.extend([Op::Deploy(5), Op::Restart, Op::Next, Op::Deploy(0)]);
    let (accepted, _) = check(&ops).expect("replays");
    assert!(accepted >= 4, "{accepted}");
    let out = run(&ops, true).out;
    assert!(out.contains("\"retired_gates\""), "{out}");
    assert!(out.contains("\"kind\":\"approved\""), "{out}");
}

#[test]
fn random_deployment_sequences_replay_byte_for_byte_through_restarts() {
    bundles();
    // A fixed seed: the counts asserted below do not depend on luck.
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 32,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    let migrated = std::sync::atomic::AtomicUsize::new(0);
    runner
        .run(&proptest::collection::vec(op(), 8..48), |ops| {
            let (n, m) = check(&ops)?;
            accepted.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            migrated.fetch_add(m, std::sync::atomic::Ordering::Relaxed);
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    // The sequences did deploy (not only refusals), and removals met live state.
    let (accepted, migrated) = (accepted.into_inner(), migrated.into_inner());
    eprintln!("{accepted} deployments, {migrated} migrated entries");
    assert!(accepted > 32, "{accepted}");
    assert!(migrated > 0, "{migrated}");
}
