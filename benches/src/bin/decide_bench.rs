//! `cargo build --release -p meshline-benches --bin decide_bench && ./target/release/decide_bench [RUNS] [EVENTS]`
//!
//! The decision step (`Engine::decide`: classify + routes on a fresh case) against the same
//! decision written by hand, measured in the same run, on three policies: the run_bench
//! policy (15 routes keyed on an enum), the agency policy (`agency_gen`: 20 routes on a
//! string ticket type, enums, an integer, money and a percent) and the agency policy with
//! 980 per-client overrides keyed by a `client_id` string (hand-indexed by a map). Then
//! `Engine::apply` per event on each. RUNS rounds (default 5) of EVENTS events (default
//! 200,000); each decision time is the best of 7 passes. Numbers go to docs/performance.md.

use std::path::Path;
use std::time::Instant;

use meshline_benches::{agency_gen, runtime_gen};
use meshline_runtime::engine::Envelope;
use meshline_runtime::{Engine, ir};

fn build(name: &str, source: &str, dir: &Path) -> ir::Program {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("rules")).expect("temp dir");
    std::fs::write(
        root.join("meshline.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(root.join("rules/main.mesh"), source).expect("write");
    let out = meshline_compiler::build_path(&root).expect("load");
    if let Some(d) = out.check.diagnostics.iter().find(|d| d.is_error()) {
        panic!("{name} does not check: {} {}", d.code.as_str(), d.message);
    }
    out.program.expect("program")
}

/// A decision written by hand: (class, route) for an envelope.
type HandDecide = Box<dyn Fn(&Envelope) -> (Option<u32>, Option<u32>)>;

struct Policy {
    name: &'static str,
    engine: Engine,
    envs: Vec<Envelope>,
    hand: HandDecide,
}

/// Passes per decision measurement (the best counts: on a shared machine a pass is often
/// interrupted).
const PASSES: usize = 7;

fn checksum(acc: u64, (c, r): (Option<u32>, Option<u32>)) -> u64 {
    acc.wrapping_mul(31)
        .wrapping_add(u64::from(c.unwrap_or(9)) * 10_000 + u64::from(r.unwrap_or(99_999)))
}

/// Best of [`PASSES`] passes, in ns per decision: (engine, hand).
fn time_decide(p: &Policy) -> (f64, f64) {
    let (mut best_engine, mut best_hand) = (f64::MAX, f64::MAX);
    for _ in 0..PASSES {
        let t = Instant::now();
        let mut acc = 0u64;
        for e in &p.envs {
            acc = checksum(acc, p.engine.decide(e));
        }
        std::hint::black_box(acc);
        best_engine = best_engine.min(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let mut acc2 = 0u64;
        for e in &p.envs {
            acc2 = checksum(acc2, (p.hand)(e));
        }
        std::hint::black_box(acc2);
        best_hand = best_hand.min(t.elapsed().as_secs_f64());
        if acc != acc2 {
            // Name the first envelope they disagree on.
            let bad = p.envs.iter().find(|e| p.engine.decide(e) != (p.hand)(e));
            panic!(
                "{}: the engine and the hand-written match decide differently, e.g. {:?}: engine {:?}, hand {:?}",
                p.name,
                bad.map(|e| &e.values),
                bad.map(|e| p.engine.decide(e)),
                bad.map(|e| (p.hand)(e)),
            );
        }
    }
    let n = p.envs.len() as f64;
    (best_engine * 1e9 / n, best_hand * 1e9 / n)
}

/// `Engine::apply` over the policy's events on a fresh engine, draining the ledger every
/// 1,000 events: ns per event.
fn time_apply(program: &ir::Program, envs: &[Envelope]) -> f64 {
    let mut engine = Engine::new(program.clone(), "bench").expect("engine");
    let envs = envs.to_vec();
    let n = envs.len();
    let (mut lines, mut commands) = (String::new(), Vec::new());
    let t = Instant::now();
    for (i, e) in envs.into_iter().enumerate() {
        engine.apply(e);
        if i % 1000 == 999 {
            engine.drain_jsonl_into(&mut lines, &mut commands);
        }
    }
    engine.drain_jsonl_into(&mut lines, &mut commands);
    std::hint::black_box(&lines);
    t.elapsed().as_secs_f64() * 1e9 / n as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let dir = std::env::temp_dir().join(format!("meshline-decide-bench-{}", std::process::id()));
    meshline_compiler::with_large_stack(|| {
        let mut policies = Vec::new();
        let mut programs = Vec::new();
        let sources: [(&'static str, String, Vec<String>); 3] = [
            (
                "run_bench (15 routes on an enum)",
                runtime_gen::project(15),
                runtime_gen::events(n / 5, n, 7),
            ),
            (
                "agency (20 routes, string type)",
                agency_gen::project(0),
                agency_gen::events(n / 5, n, 7),
            ),
            (
                "agency + 980 client overrides",
                agency_gen::project(980),
                agency_gen::events(n / 5, n, 7),
            ),
        ];
        for (k, (name, source, lines)) in sources.into_iter().enumerate() {
            let program = build(&format!("p{k}"), &source, &dir);
            let engine = Engine::new(program.clone(), "bench").expect("engine");
            let envs: Vec<Envelope> = lines
                .iter()
                .map(|l| {
                    engine
                        .parse_envelope(&serde_json::from_str(l).expect("json"))
                        .expect("valid")
                })
                .collect();
            let hand: HandDecide = match k {
                0 => Box::new(|e| runtime_gen::hand_decide(e, 15)),
                1 => {
                    let h = agency_gen::Hand::new(0);
                    Box::new(move |e| h.decide(&e.values))
                }
                _ => {
                    let h = agency_gen::Hand::new(980);
                    Box::new(move |e| h.decide(&e.values))
                }
            };
            println!("{name}: {} routes", program.routes.len());
            programs.push(program);
            policies.push(Policy {
                name,
                engine,
                envs,
                hand,
            });
        }
        println!("{n} events per policy, {runs} runs; decide = best of {PASSES} passes");
        for run in 1..=runs {
            let mut decide_ns = Vec::new();
            for p in &policies {
                let (engine, hand) = time_decide(p);
                println!(
                    "run {run} decide {:<34}: engine {engine:>7.1} ns, hand-written {hand:>6.1} ns, ratio {:.2}x",
                    p.name,
                    engine / hand
                );
                decide_ns.push(engine);
            }
            if let [_, a, b] = decide_ns.as_slice() {
                println!(
                    "run {run} flatness: agency decide with 1,000 routes = {:.2}x its 20-route time",
                    b / a
                );
            }
            for (p, program) in policies.iter().zip(&programs) {
                let ns = time_apply(program, &p.envs);
                println!(
                    "run {run} apply  {:<34}: {ns:>7.0} ns/event ({:.0} events/s)",
                    p.name,
                    1e9 / ns
                );
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
