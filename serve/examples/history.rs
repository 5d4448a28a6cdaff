//! Restart-time benchmark for engine snapshots (docs/performance.md, issue 8). Not a test.
//!
//! ```text
//! cargo run --release -p meshline-serve --example history -- write BUNDLE STATE EVENTS EVERY
//! cargo run --release -p meshline-serve --example history -- measure BUNDLE STATE
//! ```
//! `write`: EVENTS envelopes of the agency-support sample (repeated every 25 hours with
//! fresh ids and cases, stamped from 2099 on so no wall-clock timer is due at a restart)
//! committed through the real writer in batches of 500, with a snapshot every EVERY inputs
//! (0: none). `measure`: on that state, the time of a full replay, of taking a snapshot (and
//! its size), of restoring it, and of a start from the newest stored snapshot (restore,
//! replay of the inputs after it, checks).

#![allow(
    clippy::unwrap_used,
    reason = "a load-generating example: it stops on the first error"
)]

use std::sync::Arc;
use std::time::Instant;

use meshline_serve::core::{Msg, Writer, decode};
use meshline_serve::metrics::Metrics;
use meshline_serve::recovery::recover;
use meshline_serve::store::{Batch, SqliteStore, Store};
use serde_json::{Value as Json, json};

fn lines(samples: &[Json], n: usize) -> impl Iterator<Item = String> + '_ {
    (0..n).map(move |i| {
        let round = i / samples.len();
        let mut v = samples[i % samples.len()].clone();
        let tag = format!("h{round}");
        for k in ["id", "case"] {
            v[k] = json!(format!("{}-{tag}", v[k].as_str().unwrap_or("")));
        }
        let at: jiff::Timestamp = v["at"].as_str().unwrap().parse().unwrap();
        let secs = at.as_second() + 2_303_000_000 + round as i64 * 90_000;
        v["at"] = json!(jiff::Timestamp::from_second(secs).unwrap().to_string());
        v.to_string()
    })
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let usage = "usage: history write BUNDLE STATE EVENTS EVERY | history measure BUNDLE STATE";
    if a.len() < 4 {
        eprintln!("{usage}");
        std::process::exit(2);
    }
    let bytes = std::fs::read(&a[2]).expect("read the bundle");
    let (program, hash) = decode(&bytes).expect("a bundle");
    let state = std::path::Path::new(&a[3]);
    let mut store = SqliteStore::open(state).expect("open the state");
    if store.bundle().unwrap().is_none() {
        store.set_bundle(&hash).unwrap();
        let batch = Batch {
            bundles: vec![(hash.clone(), bytes.clone())],
            ..Default::default()
        };
        store.commit(&batch).unwrap();
    }
    match a[1].as_str() {
        "write" if a.len() == 6 => {
            let (n, every): (usize, u64) = (a[4].parse().unwrap(), a[5].parse().unwrap());
            let sample = "examples/agency-support/events/sample.jsonl";
            let samples: Vec<Json> = std::fs::read_to_string(sample)
                .expect("run from the repository root")
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            let r = recover(&store, program, &hash, true, false, false).expect("recover");
            let writer = Writer {
                engine: r.engine,
                store: Box::new(store),
                metrics: Arc::new(Metrics::default()),
                batch_max: 4096,
                wall_clock: false,
                http_connectors: Default::default(),
                routed: Default::default(),
                snapshot_every: every,
                since_snapshot: r.replayed,
                rebuild: meshline_serve::rebuild(hash.clone(), true, false),
                storage_failed: None,
                cluster: None,
            };
            let (tx, rx) = std::sync::mpsc::channel();
            let t = Instant::now();
            let w = std::thread::spawn(move || writer.run(rx));
            let all: Vec<String> = lines(&samples, n).collect();
            for chunk in all.chunks(500) {
                let (reply, answer) = tokio::sync::oneshot::channel();
                let lines = chunk.to_vec();
                tx.send(Msg::Events { lines, reply }).unwrap();
                answer.blocking_recv().unwrap().unwrap();
            }
            drop(tx);
            w.join().unwrap();
            println!("wrote {n} events in {:.1} s", t.elapsed().as_secs_f64());
        }
        "measure" => {
            let snaps = store.snapshots().unwrap();
            println!("snapshots stored: {snaps:?}");
            let t = Instant::now();
            let full =
                recover(&store, program.clone(), &hash, false, false, false).expect("full replay");
            let replay = t.elapsed();
            let s = full.engine.state_summary();
            println!(
                "full replay: {} inputs in {:.2} s ({s:?})",
                full.replayed,
                replay.as_secs_f64()
            );
            let t = Instant::now();
            let snap = full.engine.snapshot().unwrap();
            let take = t.elapsed();
            let t = Instant::now();
            let back = meshline_runtime::Engine::restore(program.clone(), &hash, &snap).unwrap();
            let restore = t.elapsed();
            assert!(back.snapshot().unwrap() == snap);
            println!(
                "snapshot of that state: {} bytes ({:.0} B per case), taken in {} ms, restored in {} ms",
                snap.len(),
                snap.len() as f64 / s.cases.max(1) as f64,
                take.as_millis(),
                restore.as_millis()
            );
            let t = Instant::now();
            let fast =
                recover(&store, program, &hash, true, false, false).expect("from a snapshot");
            println!(
                "start from the newest stored snapshot ({:?}): {} inputs replayed, {:.2} s",
                fast.snapshot,
                fast.replayed,
                t.elapsed().as_secs_f64()
            );
        }
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}
