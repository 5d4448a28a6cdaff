//! A loop to profile one part of the runtime on one of the benchmark policies:
//!
//! ```sh
//! cargo build --release -p meshline-benches --example profile
//! valgrind --tool=callgrind --toggle-collect='*engine_pass*' ./target/release/examples/profile decide 2 agency
//! valgrind --tool=callgrind --toggle-collect='*hand_pass*' ./target/release/examples/profile hand 2 agency
//! valgrind --tool=callgrind --toggle-collect='*apply_pass*' ./target/release/examples/profile apply 20000 agency
//! ```
//!
//! `profile MODE N [POLICY]`. POLICY: `run_bench` (default: the `run_bench` workload, 15
//! routes), `agency` (`agency_gen`, 20 routes) or `agency980` (with 980 client
//! overrides). MODE:
//!
//! - `decide ROUNDS`: the decision step (`Engine::decide`) over 50,000 envelopes, ROUNDS
//!   times, in `engine_pass` (prints ns per decision);
//! - `hand ROUNDS`: the hand-written decision over the same envelopes, in `hand_pass`;
//! - `apply EVENTS`: `Engine::apply` over EVENTS envelopes on EVENTS/5 cases, draining the
//!   ledger every 1,000, in `apply_pass` (prints ns per event);
//! - `ledger EVENTS`: the ledger floor of the policy on EVENTS events (prints ns per event
//!   for the bare writer and for SHA-256 alone).
//!
//! Instructions per decision under callgrind: the inclusive cost of `engine_pass` (or
//! `hand_pass`) divided by ROUNDS × 50,000 (docs/performance.md).

use meshline_benches::{agency_gen, runtime_gen};
use meshline_runtime::Engine;
use meshline_runtime::engine::Envelope;

/// Envelopes per decision round.
const DECISIONS: usize = 50_000;

type Hand = Box<dyn Fn(&Envelope) -> (Option<u32>, Option<u32>) + Send + Sync>;

#[inline(never)]
fn engine_pass(engine: &Engine, envs: &[Envelope]) -> u64 {
    let mut acc = 0u64;
    for e in envs {
        let (c, r) = engine.decide(e);
        acc = acc.wrapping_add(u64::from(c.unwrap_or(9)) + u64::from(r.unwrap_or(99)));
    }
    acc
}

#[inline(never)]
fn hand_pass(hand: &Hand, envs: &[Envelope]) -> u64 {
    let mut acc = 0u64;
    for e in envs {
        let (c, r) = hand(e);
        acc = acc.wrapping_add(u64::from(c.unwrap_or(9)) + u64::from(r.unwrap_or(99)));
    }
    acc
}

#[inline(never)]
fn apply_pass(engine: &mut Engine, envs: Vec<Envelope>) -> u64 {
    let (mut lines, mut commands) = (String::new(), Vec::new());
    let mut acc = 0u64;
    for (i, e) in envs.into_iter().enumerate() {
        engine.apply(e);
        if i % 1000 == 999 {
            engine.drain_jsonl_into(&mut lines, &mut commands);
            acc += lines.len() as u64;
        }
    }
    acc
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "decide".into());
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(match mode.as_str() {
            "apply" | "ledger" => 200_000,
            _ => 100,
        });
    let policy = args.next().unwrap_or_else(|| "run_bench".into());
    let (source, hand): (String, Hand) = match policy.as_str() {
        "agency" => {
            let h = agency_gen::Hand::new(0);
            (
                agency_gen::project(0),
                Box::new(move |e| h.decide(&e.values)),
            )
        }
        "agency980" => {
            let h = agency_gen::Hand::new(980);
            (
                agency_gen::project(980),
                Box::new(move |e| h.decide(&e.values)),
            )
        }
        _ => (
            runtime_gen::project(15),
            Box::new(|e| runtime_gen::hand_decide(e, 15)),
        ),
    };
    let root = std::env::temp_dir().join(format!("meshline-profile-{}", std::process::id()));
    std::fs::create_dir_all(root.join("rules")).expect("temp dir");
    std::fs::write(
        root.join("meshline.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(root.join("rules/main.mesh"), source).expect("write");
    meshline_compiler::with_large_stack(|| {
        let program = meshline_compiler::build_path(&root)
            .expect("load")
            .program
            .expect("the generated project checks");
        let mut engine = Engine::new(program, "profile").expect("engine");
        let (cases, events) = match mode.as_str() {
            "apply" | "ledger" => (n / 5, n),
            _ => (DECISIONS / 20, DECISIONS),
        };
        let lines = if policy.starts_with("agency") {
            agency_gen::events(cases, events, 7)
        } else {
            runtime_gen::events(cases, events, 7)
        };
        let envs: Vec<Envelope> = lines
            .iter()
            .map(|l| {
                engine
                    .parse_envelope(&serde_json::from_str(l).expect("json"))
                    .expect("valid")
            })
            .collect();
        if mode == "ledger" {
            let (write, sha, count) =
                meshline_benches::ledger_floor::measure(engine.program(), "profile", &envs);
            println!(
                "ledger: {:.1} ns per event for the writer, {:.1} for SHA-256 alone ({count} entries)",
                write * 1e9 / n as f64,
                sha * 1e9 / n as f64
            );
            return;
        }
        let t = std::time::Instant::now();
        let (mut acc, count) = (0u64, if mode == "apply" { n } else { n * events });
        match mode.as_str() {
            "apply" => acc = apply_pass(&mut engine, envs),
            "hand" => {
                for _ in 0..n {
                    acc = acc.wrapping_add(hand_pass(&hand, &envs));
                }
            }
            _ => {
                for _ in 0..n {
                    acc = acc.wrapping_add(engine_pass(&engine, &envs));
                }
            }
        }
        println!(
            "{mode} {policy}: {:.1} ns per {} (checksum {acc})",
            t.elapsed().as_secs_f64() * 1e9 / count.max(1) as f64,
            if mode == "apply" { "event" } else { "decision" }
        );
    });
    let _ = std::fs::remove_dir_all(&root);
}
