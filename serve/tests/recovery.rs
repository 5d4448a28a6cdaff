//! Recovery from an engine snapshot equals a full replay (issue 8, snapshots), in process:
//! the writer runs over a SQLite state taking snapshots every few dozen inputs, with a
//! deployment before the newest snapshot and a rollback after it; then the state is rebuilt
//! from the snapshot and from every input, and both engines must hold the same state and go
//! on writing the same ledger and commands. Unusable snapshots (damaged, or disagreeing with
//! the inputs) are skipped for an older one or a full replay.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::Sender;

use meshline_runtime::Engine;
use meshline_serve::core::{Msg, Writer, decode};
use meshline_serve::metrics::Metrics;
use meshline_serve::recovery::{Recovered, recover};
use meshline_serve::store::{Batch, SqliteStore, Store};
use serde_json::{Value as Json, json};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn build(project: &Path) -> Vec<u8> {
    let out = meshline_compiler::build_path(project).unwrap();
    out.bundle.expect("the project builds")
}

/// The refunds example (X) and a variant with a longer refund SLA (Y, compatible).
fn bundles(dir: &Path) -> (Vec<u8>, Vec<u8>) {
    let x = build(&root().join("examples/refunds"));
    let project = dir.join("variant");
    copy(&root().join("examples/refunds"), &project);
    let path = project.join("rules/billing/refunds.mesh");
    let text = std::fs::read_to_string(&path).unwrap();
    let (from, to) = ("target 2 business days", "target 3 business days");
    assert!(text.contains(from));
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    (x, build(&project))
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The refunds sample events in rounds, ids and cases renamed per round (round 0 keeps
/// them, so its action outcomes match their keys), each round a day later.
fn events(rounds: std::ops::Range<usize>) -> Vec<String> {
    let text =
        std::fs::read_to_string(root().join("examples/refunds/events/sample.jsonl")).unwrap();
    let mut out = Vec::new();
    for r in rounds {
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut v: Json = serde_json::from_str(l).unwrap();
            let at: jiff::Timestamp = v["at"].as_str().unwrap().parse().unwrap();
            let at = jiff::Timestamp::from_second(at.as_second() + r as i64 * 86_400).unwrap();
            v["at"] = json!(at.to_string());
            if r > 0 {
                for k in ["id", "case"] {
                    v[k] = json!(format!("{}-r{r}", v[k].as_str().unwrap()));
                }
            }
            out.push(v.to_string());
        }
    }
    out
}

/// Open (or create) the state as `meshline serve` does, and recover.
fn open(state: &Path, first: &[u8], snapshots: bool) -> (SqliteStore, Recovered) {
    open_with(state, first, snapshots, false)
}

/// [`open`], with the engine writing assignments as commands or not (`assignment = "…"`).
fn open_with(
    state: &Path,
    first: &[u8],
    snapshots: bool,
    assignments: bool,
) -> (SqliteStore, Recovered) {
    let (program, hash) = decode(first).unwrap();
    let mut store = SqliteStore::open(state).unwrap();
    if store.bundle().unwrap().is_none() {
        store.set_bundle(&hash).unwrap();
        store
            .commit(&Batch {
                bundles: vec![(hash.clone(), first.to_vec())],
                ..Default::default()
            })
            .unwrap();
    }
    let r = recover(&store, program, &hash, snapshots, false, assignments).unwrap();
    (store, r)
}

/// A writer thread over the state; `every` is the snapshot interval.
fn serve(state: &Path, first: &[u8], every: u64) -> (Sender<Msg>, std::thread::JoinHandle<()>) {
    serve_with(state, first, every, false, Arc::default())
}

fn serve_with(
    state: &Path,
    first: &[u8],
    every: u64,
    assignments: bool,
    metrics: Arc<Metrics>,
) -> (Sender<Msg>, std::thread::JoinHandle<()>) {
    let (store, r) = open_with(state, first, true, assignments);
    let first_hash = store.bundle().unwrap().unwrap();
    let writer = Writer {
        engine: r.engine,
        store: Box::new(store),
        metrics,
        batch_max: 4096,
        wall_clock: false,
        http_connectors: Default::default(),
        routed: Default::default(),
        snapshot_every: every,
        since_snapshot: r.replayed,
        rebuild: meshline_serve::rebuild(first_hash, true, assignments),
        storage_failed: None,
        cluster: None,
    };
    let (tx, rx) = std::sync::mpsc::channel();
    (tx, std::thread::spawn(move || writer.run(rx)))
}

/// Send lines in messages of `chunk`, each answered before the next (one round each).
fn send(tx: &Sender<Msg>, lines: &[String], chunk: usize) {
    for c in lines.chunks(chunk) {
        let (reply, rx) = tokio::sync::oneshot::channel();
        tx.send(Msg::Events {
            lines: c.to_vec(),
            reply,
        })
        .unwrap();
        rx.blocking_recv().unwrap().unwrap();
    }
}

fn deploy(tx: &Sender<Msg>, bytes: &[u8]) -> String {
    let (reply, rx) = tokio::sync::oneshot::channel();
    tx.send(Msg::Deploy {
        bytes: bytes.to_vec(),
        note: Default::default(),
        reply,
    })
    .unwrap();
    rx.blocking_recv().unwrap().unwrap()
}

/// Both engines hold the same state and write the same ledger and commands from here on.
fn assert_same(a: &mut Engine, b: &mut Engine) {
    assert_eq!(a.ledger_position(), b.ledger_position());
    assert_eq!(a.bundle_hash(), b.bundle_hash());
    assert!(
        a.snapshot().unwrap() == b.snapshot().unwrap(),
        "different states"
    );
    for line in events(40..42) {
        a.apply_line(&line);
        b.apply_line(&line);
    }
    a.advance_to("2026-06-01T00:00:00Z".parse().unwrap());
    b.advance_to("2026-06-01T00:00:00Z".parse().unwrap());
    let ((la, ca), (lb, cb)) = (a.drain_jsonl(), b.drain_jsonl());
    assert!(la.lines().count() > 20);
    assert_eq!(la, lb);
    let lines = |c: Vec<meshline_runtime::engine::Command>| {
        c.iter().map(|c| c.to_line()).collect::<Vec<_>>()
    };
    assert_eq!(lines(ca), lines(cb));
}

/// A state served by X, then Y (deployed before the newest snapshot), then X again (a
/// rollback after it). Returns the bundles.
fn history(dir: &Path, state: &Path) -> (Vec<u8>, Vec<u8>) {
    let (x, y) = bundles(dir);
    let (tx, writer) = serve(state, &x, 40);
    send(&tx, &events(0..3), 10); // 60 inputs: a snapshot at 40
    deploy(&tx, &y);
    send(&tx, &events(3..5), 10); // a snapshot at 81, under Y
    deploy(&tx, &x);
    send(&tx, &events(5..6)[..10], 10); // 31 inputs after it, the rollback included
    drop(tx);
    writer.join().unwrap();
    (x, y)
}

#[test]
fn recovery_from_a_snapshot_equals_full_replay() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let (x, y) = history(dir.path(), &state);
    let (_, y_hash) = decode(&y).unwrap();
    let (_, x_hash) = decode(&x).unwrap();
    let store = SqliteStore::open(&state).unwrap();
    let snaps = store.snapshots().unwrap();
    assert_eq!(snaps.len(), 2, "the newest two are kept: {snaps:?}");
    assert_eq!(snaps[0].input_seq, 81, "{snaps:?}");
    assert_eq!(snaps[0].bundle, y_hash, "taken while Y decided");
    assert_eq!(snaps[1].bundle, x_hash);
    drop(store);

    let (_, mut fast) = open(&state, &x, true);
    let (_, mut full) = open(&state, &x, false);
    assert_eq!(fast.snapshot, Some(81));
    assert_eq!(fast.replayed, 31, "the inputs after the snapshot");
    assert_eq!(full.snapshot, None);
    assert_eq!(full.replayed, 112);
    assert_eq!(fast.engine.bundle_hash(), x_hash, "the rollback replayed");
    assert!(fast.engine.state_summary().timers > 0);
    assert_same(&mut fast.engine, &mut full.engine);
}

#[test]
fn unusable_snapshots_fall_back_to_an_older_one_or_full_replay() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let (x, _) = history(dir.path(), &state);
    let (_, mut full) = open(&state, &x, false);
    let db = rusqlite::Connection::open(&state).unwrap();
    let sql = |q: &str| db.execute(q, []).unwrap();

    // The newest damaged: the older one is used.
    sql(
        "UPDATE snapshots SET bytes = substr(bytes, 1, length(bytes) - 1) || x'00' WHERE input_seq = 81",
    );
    let (_, mut r) = open(&state, &x, true);
    assert_eq!(r.snapshot, Some(40));
    assert_same(&mut r.engine, &mut full.engine);

    // The older one filed under the newer input seq: it restores (a state the ledger went
    // through), but replay after it cannot reproduce the stored ledger: skipped too.
    sql(
        "UPDATE snapshots SET (bytes, bundle) = (SELECT bytes, bundle FROM snapshots WHERE input_seq = 40) WHERE input_seq = 81",
    );
    let (_, mut full) = open(&state, &x, false);
    let (_, mut r) = open(&state, &x, true);
    assert_eq!(r.snapshot, Some(40));
    assert_same(&mut r.engine, &mut full.engine);

    // Both unusable (one truncated, one not a snapshot at all): full replay.
    sql("UPDATE snapshots SET bytes = substr(bytes, 1, 100) WHERE input_seq = 40");
    sql("UPDATE snapshots SET bytes = x'00' WHERE input_seq = 81");
    let (_, mut full) = open(&state, &x, false);
    let (_, mut r) = open(&state, &x, true);
    assert_eq!(r.snapshot, None);
    assert_eq!(r.replayed, 112);
    assert_same(&mut r.engine, &mut full.engine);
}

#[test]
fn no_snapshots_when_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.sqlite");
    let x = build(&root().join("examples/refunds"));
    let (tx, writer) = serve(&state, &x, 0);
    send(&tx, &events(0..3), 7);
    drop(tx);
    writer.join().unwrap();
    let store = SqliteStore::open(&state).unwrap();
    assert!(store.snapshots().unwrap().is_empty());
    let (_, r) = open(&state, &x, true);
    assert_eq!((r.snapshot, r.replayed), (None, 60));
}

/// Writing assignments back is a setting of `serve`, not of the state: turned off between
/// two runs, the rebuilt engine (which replays without those commands) still numbers its
/// next command after the outbox's last one, so no commit collides with a stored command.
#[test]
fn assignment_setting_changed_between_restarts_reuses_no_command_seq() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.db");
    let (x, _) = bundles(dir.path());
    let (tx, writer) = serve_with(&state, &x, 0, true, Arc::default());
    send(&tx, &events(0..1), 5);
    drop(tx);
    writer.join().unwrap();
    let store = SqliteStore::open(&state).unwrap();
    let last = store.outbox_last_seq().unwrap();
    let written = store.outbox_pending(10_000).unwrap();
    assert!(
        written
            .iter()
            .any(|r| r.line.contains(r#""kind":"assignment""#)),
        "assignments were commands in the first run"
    );
    drop(store);
    // As after a crash before any snapshot: the next start replays every input.
    let db = rusqlite::Connection::open(&state).unwrap();
    db.execute("DELETE FROM snapshots", []).unwrap();
    drop(db);
    let metrics: Arc<Metrics> = Arc::default();
    let (tx, writer) = serve_with(&state, &x, 0, false, metrics.clone());
    send(&tx, &events(1..2), 5);
    drop(tx);
    writer.join().unwrap();
    let store = SqliteStore::open(&state).unwrap();
    let after = store.outbox_pending(10_000).unwrap();
    assert_eq!(
        metrics
            .storage_failures
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "no commit of the second run failed"
    );
    // Every event of both runs was stored.
    let db = rusqlite::Connection::open(&state).unwrap();
    let inputs: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM inputs WHERE kind = 'event'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(inputs as usize, events(0..2).len());
    let new: Vec<_> = after.iter().filter(|r| r.seq > last).collect();
    assert!(!new.is_empty(), "the second run wrote commands");
    assert!(
        new.iter()
            .all(|r| !r.line.contains(r#""kind":"assignment""#))
    );
}
