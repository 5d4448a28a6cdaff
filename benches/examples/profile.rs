//! A loop to profile one part of the runtime on the `run_bench` workload (20 rules):
//!
//! ```sh
//! cargo build --release -p meshline-benches --example profile
//! valgrind --tool=callgrind --toggle-collect='*Engine::decide' ./target/release/examples/profile decide 2
//! perf record --call-graph dwarf ./target/release/examples/profile apply 150000
//! ```
//!
//! `decide ROUNDS`: the decision step over 200,000 envelopes, ROUNDS times (prints ns per
//! decision). `apply EVENTS`: `Engine::apply` over EVENTS envelopes on EVENTS/5 cases,
//! draining the ledger every 1,000 (prints ns per event). `ledger EVENTS`: the ledger
//! floor of `run_bench` on EVENTS events (prints ns per event for the bare writer and for
//! SHA-256 alone).

use meshline_benches::runtime_gen;
use meshline_runtime::Engine;
use meshline_runtime::engine::Envelope;

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
    let root = std::env::temp_dir().join(format!("meshline-profile-{}", std::process::id()));
    std::fs::create_dir_all(root.join("rules")).expect("temp dir");
    std::fs::write(
        root.join("meshline.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(root.join("rules/main.mesh"), runtime_gen::project(15)).expect("write");
    meshline_compiler::with_large_stack(|| {
        let program = meshline_compiler::build_path(&root)
            .expect("load")
            .program
            .expect("the generated project checks");
        let mut engine = Engine::new(program, "profile").expect("engine");
        let (cases, events) = match mode.as_str() {
            "apply" | "ledger" => (n / 5, n),
            _ => (10_000, 200_000),
        };
        let envs: Vec<Envelope> = runtime_gen::events(cases, events, 7)
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
        if mode == "apply" {
            let (mut lines, mut commands) = (String::new(), Vec::new());
            for (i, e) in envs.into_iter().enumerate() {
                engine.apply(e);
                if i % 1000 == 999 {
                    engine.drain_jsonl_into(&mut lines, &mut commands);
                    acc += lines.len() as u64;
                }
            }
        } else {
            for _ in 0..n {
                for e in &envs {
                    let (c, r) = engine.decide(e);
                    acc = acc.wrapping_add(u64::from(c.unwrap_or(9)) + u64::from(r.unwrap_or(99)));
                }
            }
        }
        println!(
            "{mode}: {:.1} ns per {} (checksum {acc})",
            t.elapsed().as_secs_f64() * 1e9 / count.max(1) as f64,
            if mode == "apply" { "event" } else { "decision" }
        );
    });
    let _ = std::fs::remove_dir_all(&root);
}
