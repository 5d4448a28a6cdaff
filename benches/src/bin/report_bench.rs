//! `cargo run -p meshline-benches --release --bin report_bench [EVENTS]`
//!
//! `meshline report` over a generated ledger (default: the run_bench workload's 250,000
//! events, about 920,000 entries), against a floor measured in the same run: parsing each
//! line as JSON and throwing it away. Numbers go to docs/performance.md ("Reports").

use std::time::Instant;

use meshline_benches::runtime_gen;
use meshline_report::{Builder, Options};
use meshline_runtime::Engine;

fn main() {
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(250_000);
    let dir = std::env::temp_dir().join(format!("meshline-report-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
    std::fs::write(
        dir.join("meshline.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(dir.join("rules/main.mesh"), runtime_gen::project(20)).expect("write");
    let out = meshline_compiler::build_path(&dir).expect("load");
    let _ = std::fs::remove_dir_all(&dir);
    let (Some(program), Some(bundle)) = (out.program, out.bundle) else {
        panic!("the generated project does not build");
    };
    let hash = meshline_runtime::bundle::read_manifest(&bundle)
        .map(|(_, h)| h)
        .unwrap_or_default();
    let mut engine = Engine::new(program, &hash).expect("engine");
    let mut ledger = String::new();
    for line in runtime_gen::events(events / 12 + 1, events, 7) {
        engine.apply_line(&line);
        let (lines, _) = engine.drain_jsonl();
        ledger.push_str(&lines);
    }
    let entries = ledger.lines().count();
    println!(
        "ledger: {entries} entries, {:.0} MB, from {events} events",
        ledger.len() as f64 / 1e6
    );
    for run in 1..=3 {
        let t = Instant::now();
        let mut parsed = 0usize;
        for line in ledger.lines() {
            if serde_json::from_str::<serde::de::IgnoredAny>(line).is_ok() {
                parsed += 1;
            }
        }
        let floor = t.elapsed().as_secs_f64();
        assert_eq!(parsed, entries);
        let t = Instant::now();
        let mut b = Builder::new(Options::default());
        b.read("bench", ledger.as_bytes(), |_| {}).expect("report");
        let report = b.finish();
        let took = t.elapsed().as_secs_f64();
        assert_eq!(report.entries as usize, entries);
        println!(
            "run {run}: report {:.0} ms ({:.2} M entries/s, {:.0} ms per million); JSON parse floor {:.0} ms; ratio {:.2}x",
            took * 1e3,
            entries as f64 / took / 1e6,
            took * 1e3 / (entries as f64 / 1e6),
            floor * 1e3,
            took / floor
        );
    }
}
