//! `cargo run -p meshline-benches --release --bin lifecycle_bench [CASES] [OPEN]`
//!
//! Memory and snapshot size follow open cases, not every case ever seen (docs/runtime.md,
//! "Case lifecycle"): one run receives CASES cases (default 10,000,000), of which all but
//! the last OPEN (default 100,000) are created and closed (10,000 a day, each closed an
//! hour after it was created; `retain closed for 1d`), then OPEN cases stay open; the other
//! run receives only those OPEN cases, at the same instants. Reported: live heap bytes of
//! the engine (a counting allocator, as `run_bench`), the snapshot's size, and their ratio.
//! Measured, not asserted; numbers go to docs/performance.md.

use std::path::Path;
use std::time::Instant;

use meshline_runtime::Engine;

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

const PROJECT: &str = r#"
import std.helpdesk.{TicketCreated, TicketSolved, TicketClosed}

enum Queue { General }

team agents { members ["ana@x.io", "bo@x.io", "cy@x.io"] }
team leads { members ["lee@x.io"] }

classify Queue on TicketCreated {
  otherwise General
}

owners {
  General -> agents escalate leads
}

route spread on TicketCreated {
  assign agents by least_open
}

sla resolution for General {
  start on TicketCreated
  stop on TicketSolved
  target 8h
  breach -> escalate
}

lifecycle {
  solved on TicketSolved
  closed on TicketClosed
  retain closed for 1d
}
"#;

fn program(dir: &Path) -> (meshline_runtime::ir::Program, String) {
    std::fs::create_dir_all(dir.join("rules")).expect("temp dir");
    std::fs::write(
        dir.join("meshline.toml"),
        "[package]\nname = \"lifecycle-bench\"\nversion = \"1.0.0\"\n",
    )
    .expect("write");
    std::fs::write(dir.join("rules/main.mesh"), PROJECT).expect("write");
    let out = meshline_compiler::build_path(dir).expect("load");
    if let Some(d) = out.check.diagnostics.iter().find(|d| d.is_error()) {
        panic!(
            "the project does not check: {} {}",
            d.code.as_str(),
            d.message
        );
    }
    let bytes = out.bundle.expect("bundle");
    let (_, program, hash) =
        meshline_runtime::bundle::decode::<meshline_runtime::ir::Program>(&bytes).expect("decode");
    (program, hash)
}

/// Seconds from the start: 2026-01-01T00:00:00Z.
const T0: i64 = 1_767_225_600;
/// Closed cases are created 8.64 s apart: 10,000 a day.
const CLOSED_EVERY_MS: i64 = 8_640;

fn at(ms: i64) -> String {
    let t = jiff::Timestamp::from_millisecond(T0 * 1000 + ms).expect("in range");
    t.to_string()
}

fn line(id: u64, ty: &str, case: u64, at: &str) -> String {
    let channel = if ty == "TicketCreated" {
        r#","channel":"Email""#
    } else {
        ""
    };
    format!(
        r#"{{"id":"e{id}","type":"{ty}","at":"{at}","case":"T-{case}","data":{{"ticket":{{"id":"T-{case}","type":"question","subject":"Where is my invoice?","tags":[],"status":"Open","priority":"Normal","requester":"cu@client.io"}}{channel}}}}}"#
    )
}

struct Measured {
    heap: u64,
    snapshot: usize,
    cases: usize,
    events: u64,
    seconds: f64,
}

/// Feed `closed` created-then-closed cases, then `open` cases; measure the engine.
/// `open_start`: the instant (ms from `T0`) of the first open case, the same in both runs.
fn run(
    program: &meshline_runtime::ir::Program,
    hash: &str,
    closed: u64,
    open: u64,
    open_start: i64,
) -> Measured {
    let start = Instant::now();
    let before = live_bytes();
    let mut engine = Engine::new(program.clone(), hash).expect("engine");
    let mut buffers = (String::new(), Vec::new());
    let mut events = 0u64;
    // Each closed case: created at its slot, closed an hour later. Lines are applied in
    // time order: the close of case i comes after the creates of the cases within the hour.
    let hour_ms = 3_600_000;
    let mut pending_close: std::collections::VecDeque<(i64, u64)> = Default::default();
    for i in 0..closed {
        let t = i as i64 * CLOSED_EVERY_MS;
        while let Some(&(due, case)) = pending_close.front() {
            if due > t {
                break;
            }
            pending_close.pop_front();
            events += 1;
            engine.apply_line(&line(events, "TicketClosed", case, &at(due)));
        }
        events += 1;
        engine.apply_line(&line(events, "TicketCreated", i, &at(t)));
        pending_close.push_back((t + hour_ms, i));
        // Hand the ledger over as a host would (its entries are not engine state).
        if engine.pending_entries() > 16_384 {
            engine.drain_jsonl_into(&mut buffers.0, &mut buffers.1);
        }
    }
    for (due, case) in pending_close {
        events += 1;
        engine.apply_line(&line(events, "TicketClosed", case, &at(due)));
    }
    // The open cases: over one day, at the same instants whether or not closed cases came
    // first.
    let every = 86_400_000 / open.max(1) as i64;
    for j in 0..open {
        events += 1;
        let t = open_start + j as i64 * every;
        engine.apply_line(&line(events, "TicketCreated", 1_000_000_000 + j, &at(t)));
        // Hand the ledger over as a host would (its entries are not engine state).
        if engine.pending_entries() > 16_384 {
            engine.drain_jsonl_into(&mut buffers.0, &mut buffers.1);
        }
    }
    engine.drain_jsonl_into(&mut buffers.0, &mut buffers.1);
    drop(buffers);
    let heap = live_bytes() - before;
    let snapshot = engine.snapshot().expect("snapshot").len();
    let cases = engine.state_summary().cases;
    Measured {
        heap,
        snapshot,
        cases,
        events,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn mb(b: u64) -> f64 {
    b as f64 / 1_000_000.0
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(10_000_000);
    let open = args.get(1).copied().unwrap_or(100_000).min(total);
    let closed = total - open;
    let dir = std::env::temp_dir().join(format!("lifecycle-bench-{}", std::process::id()));
    let (program, hash) = program(&dir);
    // The open cases begin two days after the last closed case was created (so every
    // closed case's retention, 1d after its close, has run out by the end).
    let open_start = 2 * 86_400_000 + closed as i64 * CLOSED_EVERY_MS;
    let only = run(&program, &hash, 0, open, open_start);
    println!(
        "only {open} open: {} events in {:.1} s; {} cases in the working set; heap {:.1} MB; snapshot {:.1} MB",
        only.events,
        only.seconds,
        only.cases,
        mb(only.heap),
        mb(only.snapshot as u64)
    );
    let all = run(&program, &hash, closed, open, open_start);
    println!(
        "{total} received, {open} open: {} events in {:.1} s; {} cases in the working set; heap {:.1} MB; snapshot {:.1} MB",
        all.events,
        all.seconds,
        all.cases,
        mb(all.heap),
        mb(all.snapshot as u64)
    );
    println!(
        "ratio: heap {:.2}x, snapshot {:.2}x",
        all.heap as f64 / only.heap.max(1) as f64,
        all.snapshot as f64 / only.snapshot.max(1) as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
}
