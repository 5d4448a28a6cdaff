//! `cargo run -p meshline-benches --release --bin run_bench [EVENTS] [CASES]`
//!
//! Throughput of the runtime on generated events (default 1,000,000 events over 100,000
//! open cases with SLA clocks running), for a 20-rule and a 2,000-rule bundle; memory per
//! open case; the decision step alone against a hand-written `match` of the same 20 rules;
//! and `meshline run` end to end (JSON in, ledger file out). Numbers go to
//! docs/performance.md.

use std::path::Path;
use std::time::Instant;

use meshline_benches::{ledger_floor, runtime_gen};
use meshline_runtime::engine::Envelope;
use meshline_runtime::{Engine, ir};

/// Counts live heap bytes, so memory per case is measured exactly (RSS is blurred by the
/// allocator keeping freed pages).
struct Counting;

static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[allow(
    unsafe_code,
    reason = "a GlobalAlloc wrapper is unsafe by definition; it only forwards to System and counts"
)]
// SAFETY: every call forwards to `System` with the same layout; the counter has no effect on memory.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new, std::sync::atomic::Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { std::alloc::System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn live_bytes() -> u64 {
    LIVE.load(std::sync::atomic::Ordering::Relaxed) as u64
}

fn build(routes: usize, dir: &Path) -> (ir::Program, Vec<u8>) {
    let root = dir.join(format!("r{routes}"));
    std::fs::create_dir_all(root.join("rules")).expect("temp dir");
    std::fs::write(
        root.join("meshline.toml"),
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(root.join("rules/main.mesh"), runtime_gen::project(routes)).expect("write");
    let out = meshline_compiler::build_path(&root).expect("load");
    if let Some(d) = out.check.diagnostics.iter().find(|d| d.is_error()) {
        panic!(
            "generated project does not check: {} {}",
            d.code.as_str(),
            d.message
        );
    }
    (out.program.expect("program"), out.bundle.expect("bundle"))
}

/// Hands the buffered ledger over (as a deployment would, to persist it) and counts it.
/// The buffers are reused, as `meshline run` does.
fn drain_count(
    engine: &mut Engine,
    buffers: &mut (String, Vec<meshline_runtime::engine::Command>),
) -> usize {
    let n = engine.pending_entries();
    engine.drain_jsonl_into(&mut buffers.0, &mut buffers.1);
    std::hint::black_box(&buffers);
    n
}

// The copies are made before the clock starts, on purpose; the index picks clone or copy.
#[allow(
    clippy::unnecessary_to_owned,
    clippy::needless_range_loop,
    reason = "the copies are made before the clock starts; indexing mirrors the hand-written baseline"
)]
fn main() {
    let mut args = std::env::args().skip(1);
    let n_events: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let n_cases: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("meshline-run-bench-{}", std::process::id()));
    let lines = runtime_gen::events(n_cases, n_events, 7);
    println!(
        "workload: {n_events} events over {n_cases} cases ({} TicketCreated, then updates and replies)",
        n_cases.min(n_events)
    );

    meshline_compiler::with_large_stack(|| {
        let mut results = Vec::new();
        for routes in [15usize, 1995] {
            let rules = routes + 5; // + 4 classify arms + 1 SLA policy
            let (program, bytes) = build(routes, &dir);
            let hash = meshline_runtime::bundle::read_manifest(&bytes)
                .map(|(_, h)| h)
                .unwrap_or_default();
            let mut engine = Engine::new(program.clone(), &hash).expect("engine");
            // Decode outside the timed loop: this measures `Engine::apply`.
            let t = Instant::now();
            let envs: Vec<Envelope> = lines
                .iter()
                .map(|l| {
                    engine
                        .parse_envelope(&serde_json::from_str(l).expect("json"))
                        .expect("valid")
                })
                .collect();
            let decode = t.elapsed();
            // `apply` takes its envelope by value: the events after the case-creating ones
            // are handed over as copies made before the clock starts (the decision step
            // below reuses the originals). The case-creating ones are cloned in the loop,
            // so that no envelope is freed while the memory per case is being counted.
            let mut buffers = (String::new(), Vec::new());
            let mut later = envs[n_cases.min(envs.len())..].to_vec().into_iter();
            let mem0 = live_bytes();
            let t = Instant::now();
            let mut entries = 0usize;
            let mut mem_cases = 0;
            for i in 0..envs.len() {
                let e = match i < n_cases {
                    true => envs[i].clone(),
                    false => later.next().expect("one per event"),
                };
                engine.apply(e);
                if i % 10_000 == 9_999 {
                    entries += drain_count(&mut engine, &mut buffers);
                }
                if i < n_cases && i % 1_000 == 999 {
                    entries += drain_count(&mut engine, &mut buffers);
                }
                if i + 1 == n_cases {
                    entries += drain_count(&mut engine, &mut buffers);
                    // The drain buffers are not case state: free them before counting.
                    buffers = (String::new(), Vec::new());
                    drop(engine.drain_jsonl());
                    mem_cases = live_bytes();
                }
            }
            entries += drain_count(&mut engine, &mut buffers);
            let apply = t.elapsed();
            let per_case = mem_cases.saturating_sub(mem0) / n_cases as u64;
            println!(
                "{rules:>5} rules: apply {:>8.0} events/s ({:.2} s, {entries} ledger entries, {:.2} entries/event); decode+validate JSON {:>8.0} events/s; {per_case} B heap per open case (incl. its timers and seen event ids)",
                n_events as f64 / apply.as_secs_f64(),
                apply.as_secs_f64(),
                entries as f64 / n_events as f64,
                n_events as f64 / decode.as_secs_f64()
            );
            results.push((rules, n_events as f64 / apply.as_secs_f64()));

            if routes == 15 {
                let (write, sha, count) = ledger_floor::measure(&program, &hash, &envs);
                let apply_ns = apply.as_secs_f64() * 1e9 / n_events as f64;
                let write_ns = write * 1e9 / n_events as f64;
                let sha_ns = sha * 1e9 / n_events as f64;
                println!(
                    "ledger floor ({count} entries re-appended by a bare LedgerWriter): {write_ns:.0} ns/event = {:.0}% of apply's {apply_ns:.0} ns, caps apply at {:>8.0} events/s; SHA-256 alone: {sha_ns:.0} ns/event ({:.0} ns/entry), caps at {:>8.0} events/s",
                    100.0 * write_ns / apply_ns,
                    1e9 / write_ns,
                    sha * 1e9 / count as f64,
                    1e9 / sha_ns
                );
            }

            if routes == 15 {
                // Decision step alone vs a hand-written match of the same rules.
                let rounds = 3;
                let mut best_engine = f64::MAX;
                let mut best_hand = f64::MAX;
                for _ in 0..rounds {
                    let t = Instant::now();
                    let mut acc = 0u64;
                    for e in &envs {
                        let (c, r) = engine.decide(e);
                        acc = acc
                            .wrapping_add(u64::from(c.unwrap_or(9)) + u64::from(r.unwrap_or(99)));
                    }
                    std::hint::black_box(acc);
                    best_engine = best_engine.min(t.elapsed().as_secs_f64());
                    let t = Instant::now();
                    let mut acc2 = 0u64;
                    for e in &envs {
                        let (c, r) = runtime_gen::hand_decide(e, routes);
                        acc2 = acc2
                            .wrapping_add(u64::from(c.unwrap_or(9)) + u64::from(r.unwrap_or(99)));
                    }
                    std::hint::black_box(acc2);
                    best_hand = best_hand.min(t.elapsed().as_secs_f64());
                    assert_eq!(
                        acc, acc2,
                        "the engine and the hand-written match must decide the same"
                    );
                }
                println!(
                    "decision step (classify + routes, {rules} rules): engine {:.0} ns/event, hand-written match {:.0} ns/event, ratio {:.2}x",
                    best_engine * 1e9 / n_events as f64,
                    best_hand * 1e9 / n_events as f64,
                    best_engine / best_hand
                );
            }

            if routes == 15 {
                // `meshline run` end to end: JSON lines in, ledger file out.
                let exe = std::env::current_exe()
                    .ok()
                    .and_then(|p| Some(p.parent()?.join("meshline")))
                    .filter(|p| p.exists());
                if let Some(exe) = exe {
                    let bpath = dir.join("bench.meshb");
                    let epath = dir.join("events.jsonl");
                    std::fs::write(&bpath, &bytes).expect("write bundle");
                    std::fs::write(&epath, lines.join("\n") + "\n").expect("write events");
                    let t = Instant::now();
                    let status = std::process::Command::new(exe)
                        .args(["run", "--bundle"])
                        .arg(&bpath)
                        .arg("--events")
                        .arg(&epath)
                        .arg("--ledger")
                        .arg(dir.join("ledger.jsonl"))
                        .stderr(std::process::Stdio::null())
                        .status()
                        .expect("run meshline");
                    let secs = t.elapsed().as_secs_f64();
                    println!(
                        "meshline run end to end ({rules} rules, JSON in, ledger file out): {:.0} events/s ({secs:.2} s, exit {status})",
                        n_events as f64 / secs
                    );
                } else {
                    println!(
                        "meshline run end to end: skipped (build the meshline binary in release first)"
                    );
                }
            }
        }
        if let [(r1, a), (r2, b)] = results.as_slice() {
            println!(
                "flatness: {r2} rules run at {:.2}x the speed of {r1} rules",
                b / a
            );
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
