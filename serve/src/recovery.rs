//! Start-up: rebuild the engine from the newest usable snapshot and the inputs stored after
//! it — or, without one, from every input — and check it against the stored ledger.
//!
//! A snapshot is a cache, the inputs are the truth: a snapshot that cannot be read (damaged,
//! another engine version, its bundle missing), that disagrees with the stored ledger where
//! it was taken, or after which replay does not reproduce the stored ledger's tail is
//! skipped with a warning, and the next older one, then a full replay, is tried. Only when
//! a full replay does not reproduce the stored ledger does the server refuse to start.
//!
//! "Reproduce" is checked line by line: every ledger entry replay writes must equal the
//! stored one byte for byte, so an entry edited after the point replay starts from is found
//! (docs/deploy.md, "Start-up checks"). Entries before a snapshot are checked only with
//! `verify_all` (`--verify-ledger`): their hash chain, from the genesis entry.

use jiff::Timestamp;
use meshline_runtime::Engine;
use meshline_runtime::ir::Program;
use meshline_runtime::ledger::{GENESIS_PREV, Verifier};

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
/// first built with) and every stored input. With `verify_all`, the whole stored ledger's
/// hash chain is verified first.
pub fn recover(
    store: &dyn Store,
    first: Program,
    first_hash: &str,
    snapshots: bool,
    verify_all: bool,
    assignments: bool,
) -> Result<Recovered, String> {
    recover_with(
        store,
        first,
        first_hash,
        (snapshots, verify_all, assignments),
        true,
    )
}

/// [`recover`] on a store another node's leader may write to meanwhile (docs/deploy.md,
/// "Several nodes"): the stored ledger may have grown past the inputs replayed, so only the
/// entries replay wrote are checked; what was committed since is applied next, by
/// [`follow`], with the same check.
pub fn recover_shared(
    store: &dyn Store,
    first: Program,
    first_hash: &str,
    snapshots: bool,
    verify_all: bool,
    assignments: bool,
) -> Result<Recovered, String> {
    recover_with(
        store,
        first,
        first_hash,
        (snapshots, verify_all, assignments),
        false,
    )
}

fn recover_with(
    store: &dyn Store,
    first: Program,
    first_hash: &str,
    (snapshots, verify_all, assignments): (bool, bool, bool),
    exact_tail: bool,
) -> Result<Recovered, String> {
    let mut r = recover_from(
        store,
        first,
        first_hash,
        (snapshots, verify_all, assignments),
        exact_tail,
    )?;
    // Commands replay numbers are not stored; an outbox written under another setting of
    // `assignments` (or by another release) may hold more: never reuse a seq.
    r.engine.commands_after(store.outbox_last_seq()?);
    Ok(r)
}

fn recover_from(
    store: &dyn Store,
    first: Program,
    first_hash: &str,
    (snapshots, verify_all, assignments): (bool, bool, bool),
    exact_tail: bool,
) -> Result<Recovered, String> {
    if verify_all {
        verify_chain(store)?;
    }
    if snapshots {
        for meta in store.snapshots()? {
            match from_snapshot(store, &meta, exact_tail, assignments) {
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
    engine.set_assignment_commands(assignments);
    let replayed = replay(&mut engine, store, 0, exact_tail)?;
    Ok(Recovered {
        engine,
        replayed,
        snapshot: None,
    })
}

fn from_snapshot(
    store: &dyn Store,
    meta: &SnapshotMeta,
    exact_tail: bool,
    assignments: bool,
) -> Result<Recovered, String> {
    let bytes = store
        .snapshot_bytes(meta.input_seq)?
        .ok_or("it is no longer stored")?;
    let program = load_stored(store, &meta.bundle)?;
    let mut engine = Engine::restore(program, &meta.bundle, &bytes).map_err(|e| e.to_string())?;
    engine.set_assignment_commands(assignments);
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
    let replayed = replay(&mut engine, store, meta.input_seq, exact_tail)?;
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

/// The whole stored ledger's hash chain, from the genesis entry.
pub fn verify_chain(store: &dyn Store) -> Result<(), String> {
    let mut v = Verifier::new();
    let mut bad = None;
    store.for_each_ledger_line(&mut |l| {
        if bad.is_none()
            && let Err(e) = v.push_line(l)
        {
            bad = Some(e);
        }
    })?;
    match bad {
        Some(e) => Err(format!("the stored ledger does not verify: {e}")),
        None => Ok(()),
    }
}

/// Compare the lines replay wrote (the entries after `before`, JSON Lines) with the stored
/// ones; `Err` names the first that differs or is missing.
fn compare(store: &dyn Store, before: u64, lines: &str) -> Result<(), String> {
    let wrote: Vec<&str> = lines.lines().collect();
    let Some(last) = before.checked_add(wrote.len() as u64) else {
        return Err("the ledger's seq overflows".to_string());
    };
    if wrote.is_empty() {
        return Ok(());
    }
    let mut expect = before + 1;
    let mut bad = None;
    store.ledger_lines(before + 1, last, &mut |seq, stored| {
        if bad.is_some() {
            return;
        }
        let i = (seq - before - 1) as usize;
        if seq != expect || wrote.get(i) != Some(&stored) {
            bad = Some(expect);
        }
        expect += 1;
    })?;
    if bad.is_none() && expect <= last {
        bad = Some(expect);
    }
    match bad {
        None => Ok(()),
        Some(seq) => Err(format!(
            "stored ledger entry {seq} is not the one replaying the inputs writes: the ledger \
             was edited or damaged (or the state was written by another bundle or engine)"
        )),
    }
}

/// Apply the stored inputs after `after`, comparing every ledger entry the engine writes
/// with the stored one, then (with `exact_tail`) check that the stored ledger has no entry
/// beyond them.
fn replay(
    engine: &mut Engine,
    store: &dyn Store,
    after: u64,
    exact_tail: bool,
) -> Result<u64, String> {
    let inputs = follow(engine, store, after, u64::MAX)?;
    if !exact_tail {
        return Ok(inputs);
    }
    let tail = store.tail()?;
    let (seq, _) = engine.ledger_position();
    if tail.entries != seq {
        return Err(format!(
            "replaying {inputs} stored inputs gives {seq} ledger entries, but {} are stored: \
             the state was written by another bundle or engine, or the ledger was edited",
            tail.entries
        ));
    }
    Ok(inputs)
}

/// Apply the stored inputs after `after` (those with a greater seq), at most `max` of them,
/// comparing every ledger entry the engine writes with the stored one; how many were
/// applied.
pub fn follow(engine: &mut Engine, store: &dyn Store, after: u64, max: u64) -> Result<u64, String> {
    let mut inputs = 0u64;
    let mut bad = None;
    let take = |engine: &mut Engine, bad: &mut Option<String>| {
        let before = engine.ledger_position().0 - engine.pending_entries() as u64;
        let (lines, _) = engine.drain_jsonl();
        if bad.is_none()
            && let Err(e) = compare(store, before, &lines)
        {
            *bad = Some(e);
        }
    };
    store.for_each_input_upto(after, after.saturating_add(max), &mut |input| {
        if bad.is_some() {
            return;
        }
        inputs += 1;
        match input {
            // The outcome was answered when the input was first applied; replay only
            // rebuilds the state (and the ledger it wrote).
            Input::Event(line) => {
                engine.apply_line(&line);
            }
            Input::Tick(t) => match t.parse::<Timestamp>() {
                Ok(t) => engine.advance_to(t),
                Err(e) => bad = Some(format!("stored tick {t:?}: {e}")),
            },
            Input::Bundle(d) => {
                let h = d.hash;
                let loaded = load_stored(store, &h).map_err(|e| e.to_string());
                if let Err(e) = loaded.and_then(|p| {
                    engine
                        .reload_noted(p, &h, d.note)
                        .map_err(|e| e.to_string())
                }) {
                    bad.get_or_insert(format!("replaying the deployment of bundle {h}: {e}"));
                }
            }
        }
        if engine.pending_entries() > 4096 {
            take(engine, &mut bad);
        }
    })?;
    take(engine, &mut bad);
    if let Some(b) = bad {
        return Err(b);
    }
    // The leader's outbox is this node's next: number after it, as recovery does.
    engine.commands_after(store.outbox_last_seq()?);
    Ok(inputs)
}
