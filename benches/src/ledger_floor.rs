//! What writing the ledger alone costs, for `run_bench` and `profile ledger`.

use std::time::Instant;

use meshline_runtime::engine::Envelope;
use meshline_runtime::ledger::{self, Detail, LedgerWriter};
use meshline_runtime::{Engine, ir};
use sha2::{Digest, Sha256};

/// What writing the ledger alone costs: the entries a run writes, re-appended by a bare
/// [`LedgerWriter`] (line assembly and the SHA-256 chain, nothing else), and SHA-256 alone
/// over the same hash inputs. A second engine replays the events untimed; its ledger is
/// parsed 10,000 events at a time, outside the clock. Returns the seconds for the writer
/// and for the hashes alone, and the entry count. The writer's last hash must equal the
/// engine's: the same bytes were hashed.
pub fn measure(program: &ir::Program, hash: &str, envs: &[Envelope]) -> (f64, f64, usize) {
    let mut engine = Engine::new(program.clone(), hash).expect("engine");
    let mut writer = LedgerWriter::new();
    let (mut write_secs, mut sha_secs, mut count) = (0.0, 0.0, 0usize);
    let mut last = String::new();
    let (mut jsonl, mut commands, mut out) = (String::new(), Vec::new(), String::new());
    for chunk in envs.chunks(10_000) {
        for e in chunk {
            engine.apply(e.clone());
        }
        engine.drain_jsonl_into(&mut jsonl, &mut commands);
        let entries: Vec<ledger::Entry> = jsonl
            .lines()
            .map(|l| ledger::from_line(l).expect("the engine writes valid lines"))
            .collect();
        let inputs: Vec<String> = entries.iter().map(ledger::hash_input).collect();
        let mut details: Vec<Detail> = entries
            .iter()
            .map(|e| Detail::from_json(e.detail.clone()))
            .collect();
        let t = Instant::now();
        for (e, d) in entries.iter().zip(&mut details) {
            writer.append_detail(
                &e.at,
                e.case.as_deref(),
                &e.kind,
                e.rule.as_deref(),
                d,
                &e.bundle,
            );
        }
        writer.swap_jsonl(&mut out);
        std::hint::black_box(&out);
        write_secs += t.elapsed().as_secs_f64();
        let t = Instant::now();
        for input in &inputs {
            std::hint::black_box(Sha256::digest(input.as_bytes()));
        }
        sha_secs += t.elapsed().as_secs_f64();
        count += entries.len();
        if let Some(e) = entries.last() {
            last.clone_from(&e.hash);
        }
    }
    assert_eq!(
        writer.last_hash(),
        last,
        "the floor must hash exactly the engine's entries"
    );
    (write_secs, sha_secs, count)
}
