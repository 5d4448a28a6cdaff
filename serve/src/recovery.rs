//! Start-up: rebuild the engine from the newest usable snapshot and the inputs stored after
//! it — or, without one, from every input — and check it against the stored ledger.
//!
//! A snapshot is a cache, the inputs are the truth: a snapshot that cannot be read (damaged,
//! another engine version, its bundle missing), that disagrees with the stored ledger where
//! it was taken, or after which replay does not reproduce the stored ledger's tail is
//! skipped with a warning, and the next older one, then a full replay, is tried. Only when
//! a full replay does not reproduce the stored ledger does the server refuse to start.

use jiff::Timestamp;
use meshline_runtime::Engine;
use meshline_runtime::ir::Program;
use meshline_runtime::ledger::GENESIS_PREV;

use crate::core::load_stored;
use crate::store::{Input, SnapshotMeta, Store};

/// An engine rebuilt from the store.
pub struct Recovered {
    pub engine: Engine,
    /// Inputs replayed (after the snapshot, or all of them).
    pub replayed: u64,
    /// The snapshot replay started after (the last input it covers), if one was used.
    pub snapshot: Option<u64>,
}

/// Rebuild the engine: from the newest usable snapshot when `snapshots` is on, else (or
/// when none is usable) from `first` (the program of `first_hash`, the bundle the state was
/// first built with) and every stored input.
pub fn recover(
    store: &dyn Store,
    first: Program,
    first_hash: &str,
    snapshots: bool,
) -> Result<Recovered, String> {
    if snapshots {
        for meta in store.snapshots()? {
            match from_snapshot(store, &meta) {
                Ok(r) => return Ok(r),
                Err(e) => tracing::warn!(
                    snapshot = meta.input_seq,
                    error = %e,
                    "snapshot not used: trying an older one, else replaying every input"
                ),
            }
        }
    }
    let mut engine = Engine::new(first, first_hash).map_err(|e| e.to_string())?;
    let replayed = replay(&mut engine, store, 0)?;
    Ok(Recovered {
        engine,
        replayed,
        snapshot: None,
    })
}

fn from_snapshot(store: &dyn Store, meta: &SnapshotMeta) -> Result<Recovered, String> {
    let bytes = store
        .snapshot_bytes(meta.input_seq)?
        .ok_or("it is no longer stored")?;
    let program = load_stored(store, &meta.bundle)?;
    let mut engine = Engine::restore(program, &meta.bundle, &bytes).map_err(|e| e.to_string())?;
    // It must be a state the stored ledger went through: same seq, same hash.
    let (seq, hash) = engine.ledger_position();
    let stored = match seq {
        0 => Some(GENESIS_PREV.to_string()),
        _ => store.ledger_line(seq)?.as_deref().and_then(line_hash),
    };
    if stored.as_deref() != Some(hash) {
        return Err(format!(
            "its ledger position (entry {seq}) does not match the stored ledger"
        ));
    }
    let replayed = replay(&mut engine, store, meta.input_seq)?;
    Ok(Recovered {
        engine,
        replayed,
        snapshot: Some(meta.input_seq),
    })
}

/// The `hash` field of a ledger line.
fn line_hash(line: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    v.get("hash")?.as_str().map(str::to_string)
}

/// Apply the stored inputs after `after`, then check the ledger the engine is at against
/// the stored one: the same number of entries and the same last entry (the same line when
/// replay wrote it, else the same hash), hence the same hash chain.
fn replay(engine: &mut Engine, store: &dyn Store, after: u64) -> Result<u64, String> {
    let mut entries = 0u64;
    let mut last = String::new();
    let mut inputs = 0u64;
    let mut bad = None;
    let take = |engine: &mut Engine, entries: &mut u64, last: &mut String| {
        let (lines, _) = engine.drain_jsonl();
        for l in lines.lines() {
            *entries += 1;
            last.clear();
            last.push_str(l);
        }
    };
    store.for_each_input_after(after, &mut |input| {
        inputs += 1;
        match input {
            Input::Event(line) => engine.apply_line(&line),
            Input::Tick(t) => match t.parse::<Timestamp>() {
                Ok(t) => engine.advance_to(t),
                Err(e) => bad = Some(format!("stored tick {t:?}: {e}")),
            },
            Input::Bundle(h) => {
                if let Err(e) = load_stored(store, &h).and_then(|p| engine.reload(p, &h)) {
                    bad.get_or_insert(format!("replaying the deployment of bundle {h}: {e}"));
                }
            }
        }
        if engine.pending_entries() > 4096 {
            take(engine, &mut entries, &mut last);
        }
    })?;
    if let Some(b) = bad {
        return Err(b);
    }
    take(engine, &mut entries, &mut last);
    let tail = store.tail()?;
    let (seq, hash) = engine.ledger_position();
    let same_last = match (&tail.last_line, entries) {
        (None, _) => seq == 0,
        (Some(stored), 0) => line_hash(stored).as_deref() == Some(hash),
        (Some(stored), _) => *stored == last,
    };
    if tail.entries != seq || !same_last {
        return Err(format!(
            "replaying {inputs} stored inputs gives {seq} ledger entries, but {} are stored \
             (or the last entry differs): the state was written by another bundle or engine",
            tail.entries
        ));
    }
    Ok(inputs)
}
