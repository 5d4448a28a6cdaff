//! Engine snapshots over the example bundles (issue 8, snapshots): for random input
//! streams split at random points, snapshot → restore → the rest gives the same ledger and
//! command stream, byte for byte, as an engine that never stopped — with timers pending,
//! approvals held and sagas waiting at the split. Restoring and snapshotting again gives the
//! same bytes, and both engines end in the same state.
//!
//! The stream mixes the examples' sample events (on a few cases, with fresh, duplicate and
//! late ids), outcomes for actions the engine issued (success, retryable and final
//! failures), approvals and denials of the requests it made (by team members or not),
//! acknowledgements, breaker resets, clock advances and junk. Deterministic: a fixed seed and
//! no failure-persistence file.

use meshline_runtime::engine::{Command, StateSummary};
use meshline_runtime::{Engine, bundle, ir};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};

use crate::common::{self, envelope};

const EXAMPLES: &[&str] = &[
    "agency-support",
    "incidents",
    "onboarding",
    "refunds",
    "scope-change",
];

/// An example's bundle (built once per test binary) with its program and sample events.
struct Example {
    bytes: Vec<u8>,
    program: ir::Program,
    hash: String,
    samples: Vec<Value>,
    people: Vec<String>,
    automations: Vec<String>,
}

fn example(name: &str) -> &'static Example {
    static ALL: std::sync::OnceLock<Vec<Example>> = std::sync::OnceLock::new();
    let all = ALL.get_or_init(|| {
        EXAMPLES
            .iter()
            .map(|n| {
                let bytes = common::build(&common::example(n));
                let (_, program, hash) = bundle::decode::<ir::Program>(&bytes).expect("decodes");
                let text = std::fs::read_to_string(common::sample_events(n)).expect("samples");
                let samples = common::event_lines(&text)
                    .into_iter()
                    .map(|l| serde_json::from_str(l).expect("a sample is JSON"))
                    .collect();
                let mut people: Vec<String> = program
                    .teams
                    .iter()
                    .flat_map(|t| t.members.iter().cloned())
                    .collect();
                people.push("customer@client.example".into());
                let automations = program.automations.iter().map(|a| a.name.clone()).collect();
                Example {
                    bytes,
                    program,
                    hash,
                    samples,
                    people,
                    automations,
                }
            })
            .collect()
    });
    &all[EXAMPLES
        .iter()
        .position(|n| *n == name)
        .expect("a known example")]
}

/// The generator's memory: the clock, ids used, cases touched.
struct Gen {
    clock: i64,
    fresh: u32,
    ids: Vec<String>,
    cases: Vec<String>,
}

enum Step {
    Line(String),
    Advance(jiff::Timestamp),
}

fn pick<T>(xs: &[T], n: u32) -> &T {
    &xs[n as usize % xs.len()]
}

fn at(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .expect("in range")
        .to_string()
}

/// One input for `op`; `issued` are the commands the engine wrote so far.
fn step(op: &[u32; 4], ex: &Example, g: &mut Gen, issued: &[Command]) -> Step {
    // Mostly forward by up to 4h, sometimes back by up to 2h (a late event).
    let dt = if op[3] % 100 < 8 {
        -(((op[3] >> 8) % 7200) as i64)
    } else {
        ((op[3] >> 8) % 14_400) as i64
    };
    g.clock = g.clock.max(g.clock + dt);
    let when = at(g.clock + dt.min(0));
    let id = if op[2].is_multiple_of(11) && !g.ids.is_empty() {
        pick(&g.ids, op[2] >> 4).clone()
    } else {
        g.fresh += 1;
        let id = format!("s-{}", g.fresh);
        g.ids.push(id.clone());
        id
    };
    let case = if g.cases.is_empty() {
        "C-0".to_string()
    } else {
        pick(&g.cases, op[1] >> 8).clone()
    };
    let person = pick(&ex.people, op[1] >> 4).clone();
    let of_kind = |kind: &str| -> Vec<&Command> {
        issued
            .iter()
            .filter(|c| c.body["kind"] == kind)
            .collect::<Vec<_>>()
    };
    let line = match op[0] % 20 {
        17 => {
            g.clock += (op[1] % 172_800) as i64;
            return Step::Advance(jiff::Timestamp::from_second(g.clock).expect("in range"));
        }
        11 | 12 if !of_kind("action").is_empty() => {
            let actions = of_kind("action");
            let c = pick(&actions, op[1]);
            let action = format!(
                "{}.{}",
                c.body["connector"].as_str().unwrap_or(""),
                c.body["action"].as_str().unwrap_or("")
            );
            let (key, case) = (&c.body["key"], &c.body["case"]);
            let case = case.as_str().unwrap_or("C-0");
            match op[2] % 4 {
                0 | 1 => envelope(
                    &id,
                    "ActionSucceeded",
                    &when,
                    case,
                    json!({ "key": key, "action": action }),
                ),
                r => envelope(
                    &id,
                    "ActionFailed",
                    &when,
                    case,
                    json!({ "key": key, "action": action, "retryable": r == 2, "reason": "boom" }),
                ),
            }
        }
        13 | 14 if !of_kind("approval_request").is_empty() => {
            let requests = of_kind("approval_request");
            let c = pick(&requests, op[1]);
            let case = c.body["case"].as_str().unwrap_or("C-0");
            let gate = c.body["gate"].as_str().unwrap_or("");
            common::approval(&id, &when, case, !op[2].is_multiple_of(5), gate, &person)
        }
        15 => envelope(
            &id,
            "OwnerAcknowledged",
            &when,
            &case,
            json!({ "by": person }),
        ),
        16 if !ex.automations.is_empty() => envelope(
            &id,
            "BreakerReset",
            &when,
            &case,
            json!({ "automation": pick(&ex.automations, op[1]), "by": person }),
        ),
        18 => match op[1] % 3 {
            0 => format!("junk {}", op[2]),
            1 => envelope(&id, "NoSuchEvent", &when, &case, json!({})),
            _ => "{\"id\":".to_string(),
        },
        _ => {
            // A sample on one of three copies of its case (or its own case).
            let mut v = pick(&ex.samples, op[1]).clone();
            let own = v["case"].as_str().unwrap_or("C-0").to_string();
            let case = if op[0] % 20 == 19 {
                own
            } else {
                format!("{own}-r{}", op[2] % 3)
            };
            if !g.cases.contains(&case) {
                g.cases.push(case.clone());
            }
            v["id"] = json!(id);
            v["case"] = json!(case);
            v["at"] = json!(when);
            v.to_string()
        }
    };
    Step::Line(line)
}

/// What a run wrote: the ledger's lines and the commands' lines.
#[derive(Default)]
struct Out {
    ledger: String,
    commands: Vec<String>,
    issued: Vec<Command>,
}

impl Out {
    fn take(&mut self, e: &mut Engine, keep: bool) {
        let (lines, cmds) = e.drain_jsonl();
        self.ledger.push_str(&lines);
        self.commands.extend(cmds.iter().map(Command::to_line));
        if keep {
            self.issued.extend(cmds);
        }
    }
}

fn apply(e: &mut Engine, s: &Step) {
    match s {
        Step::Line(l) => {
            e.apply_line(l);
        }
        Step::Advance(t) => e.advance_to(*t),
    }
}

/// Runs `ops` through an engine that never stops and one snapshotted and restored before
/// each index in `splits`; asserts they agree. Returns the restored state at each split.
fn check(name: &str, ops: &[[u32; 4]], splits: &[usize]) -> Vec<StateSummary> {
    let ex = example(name);
    let mut g = Gen {
        clock: common::ts("2026-03-02T08:00:00Z").as_second(),
        fresh: 0,
        ids: Vec::new(),
        cases: Vec::new(),
    };
    let mut never = common::engine(&ex.bytes);
    let mut split = common::engine(&ex.bytes);
    let (mut a, mut b) = (Out::default(), Out::default());
    let mut seen = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if splits.contains(&i) {
            let bytes = split.snapshot().expect("a drained engine snapshots");
            split = Engine::restore(ex.program.clone(), &ex.hash, &bytes)
                .unwrap_or_else(|e| panic!("{name}: restore at step {i}: {e}"));
            seen.push(split.state_summary());
            let again = split.snapshot().expect("snapshots again");
            assert!(
                again == bytes,
                "{name}: restore → snapshot changed the bytes"
            );
        }
        let s = step(op, ex, &mut g, &a.issued);
        apply(&mut never, &s);
        apply(&mut split, &s);
        a.take(&mut never, true);
        b.take(&mut split, false);
    }
    if a.ledger != b.ledger {
        let first = a
            .ledger
            .lines()
            .zip(b.ledger.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "{name}: the ledgers differ from line {} (splits {splits:?}):\nnever stopped: {}\nrestored:      {}",
            first + 1,
            a.ledger.lines().nth(first).unwrap_or("(none)"),
            b.ledger.lines().nth(first).unwrap_or("(none)"),
        );
    }
    assert!(
        a.commands == b.commands,
        "{name}: the commands differ (splits {splits:?})"
    );
    assert!(
        never.snapshot().expect("snapshot") == split.snapshot().expect("snapshot"),
        "{name}: the engines end in different states"
    );
    seen
}

fn ops_and_splits() -> impl Strategy<Value = (usize, Vec<[u32; 4]>, Vec<usize>)> {
    (
        0..EXAMPLES.len(),
        prop::collection::vec(any::<[u32; 4]>(), 1..120),
    )
        .prop_flat_map(|(ex, ops)| {
            let n = ops.len();
            (Just(ex), Just(ops), prop::collection::vec(0..=n, 1..4))
        })
}

proptest! {
    #![proptest_config(Config {
        cases: 160,
        rng_seed: RngSeed::Fixed(0x736e_6170_7368_6f74),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn snapshot_restore_and_the_rest_equals_never_stopping(
        (ex, ops, splits) in ops_and_splits()
    ) {
        check(EXAMPLES[ex], &ops, &splits);
    }
}

/// Long fixed streams, split every few dozen steps: the splits land on pending timers,
/// held approvals and waiting sagas (so the property above is not vacuous), in every
/// example.
#[test]
fn splits_land_on_timers_held_approvals_and_open_sagas() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u32
    };
    let mut total = StateSummary::default();
    for name in EXAMPLES {
        let ops: Vec<[u32; 4]> = (0..600).map(|_| [next(), next(), next(), next()]).collect();
        let splits: Vec<usize> = (1..600).step_by(37).collect();
        let seen = check(name, &ops, &splits);
        assert!(
            seen.iter().any(|s| s.cases > 0),
            "{name}: no case at a split"
        );
        for s in seen {
            total.timers += usize::from(s.timers > 0);
            total.requests += usize::from(s.requests > 0);
            total.open_sagas += usize::from(s.open_sagas > 0);
            total.outstanding += usize::from(s.outstanding > 0);
        }
    }
    assert!(total.timers >= 20, "{total:?}");
    assert!(total.requests >= 5, "{total:?}");
    assert!(total.open_sagas >= 5, "{total:?}");
    assert!(total.outstanding >= 5, "{total:?}");
}

/// A real state's snapshot: any cut or flipped bit is refused, never restored or panicking.
#[test]
fn damaged_snapshots_of_a_real_state_are_refused() {
    let ex = example("refunds");
    let mut e = common::engine(&ex.bytes);
    let text = std::fs::read_to_string(common::sample_events("refunds")).expect("samples");
    for l in common::event_lines(&text) {
        e.apply_line(l);
    }
    assert!(e.snapshot().is_err(), "undrained output must be refused");
    let _ = e.drain_jsonl();
    let bytes = e.snapshot().expect("snapshot");
    let restore = |b: &[u8]| Engine::restore(ex.program.clone(), &ex.hash, b);
    assert!(restore(&bytes).is_ok());
    for n in (0..bytes.len()).step_by(7) {
        assert!(restore(&bytes[..n]).is_err(), "accepted a cut at {n}");
    }
    for i in (0..bytes.len()).step_by(3) {
        let mut b = bytes.clone();
        b[i] ^= 0x10;
        assert!(restore(&b).is_err(), "accepted a flip at {i}");
    }
    let other = example("incidents");
    let err = Engine::restore(other.program.clone(), &other.hash, &bytes)
        .err()
        .expect("another bundle's program is refused");
    assert!(err.0.contains("taken under bundle"), "{err}");
}

/// `meshline run` hashes the ledger on another thread (`Engine::defer_hashing`). Such an
/// engine no longer knows its ledger's last hash, so it refuses a snapshot instead of
/// recording a wrong position.
#[test]
fn an_engine_that_deferred_hashing_refuses_a_snapshot() {
    let mut engine = common::engine(&common::build(&common::example("refunds")));
    let _ = engine.drain_jsonl();
    assert!(engine.snapshot().is_ok(), "a drained engine snapshots");
    let _chainer = engine.defer_hashing().expect("nothing is pending");
    let refused = engine
        .snapshot()
        .expect_err("the last hash is the chainer's");
    assert!(
        refused.to_string().contains("hashed outside the engine"),
        "{refused}"
    );
}
