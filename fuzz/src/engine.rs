//! Targets over the runtime: event lines (`Engine::apply_bytes`), bundles (`bundle::decode`)
//! and snapshots (`Engine::restore`), each against the example programs.
//!
//! Oracles beyond "no panic" (docs/runtime.md): the ledger an engine writes verifies as a
//! hash chain; a snapshot an engine takes restores, and the restored engine's snapshot is
//! the same bytes (after a restore and a drive, in `snapshot`); a bundle that decodes
//! re-encodes to one that decodes to the same value.

use jiff::Timestamp;
use meshline_runtime::Engine;
use meshline_runtime::bundle;
use meshline_runtime::ir::Program;
use meshline_runtime::ledger;
use sha2::{Digest, Sha256};

use crate::examples::{self, Example};

/// A fresh engine for an example (it built, so it loads).
fn engine(ex: &Example) -> Engine {
    Engine::new(ex.program.clone(), &ex.hash)
        .unwrap_or_else(|e| panic!("example {} does not load: {e}", ex.name))
}

/// Drain the engine and check that its ledger verifies and that it takes a snapshot.
/// (Restoring is the `snapshot` target's: it rebuilds an engine, which compiles the
/// program's patterns and would halve this target's speed.)
fn drain_and_check(engine: &mut Engine, ledger_so_far: &mut String) {
    let (lines, _) = engine.drain_jsonl();
    ledger_so_far.push_str(&lines);
    if let Err(e) = ledger::verify(ledger_so_far) {
        panic!("the engine wrote a ledger that does not verify: {e}");
    }
    if let Err(e) = engine.snapshot() {
        panic!("a drained engine refused a snapshot: {e}");
    }
}

/// The engine's snapshot restores, and the restored engine's snapshot is the same bytes.
fn check_restores(ex: &Example, engine: &Engine) {
    let snap = engine
        .snapshot()
        .unwrap_or_else(|e| panic!("a drained engine refused a snapshot: {e}"));
    let restored = Engine::restore(ex.program.clone(), &ex.hash, &snap)
        .unwrap_or_else(|e| panic!("the engine's own snapshot does not restore: {e}"));
    let again = restored
        .snapshot()
        .unwrap_or_else(|e| panic!("a restored engine refused a snapshot: {e}"));
    assert!(
        again == snap,
        "a restored engine's snapshot differs from the one it was restored from"
    );
}

/// `events`: byte 0 picks the example, the rest is event lines (`\n`-separated, any bytes).
pub fn events(data: &[u8]) {
    let Some((&sel, lines)) = data.split_first() else {
        return;
    };
    let Some(ex) = examples::pick(sel) else {
        return;
    };
    let mut engine = engine(ex);
    for line in lines.split(|b| *b == b'\n') {
        engine.apply_bytes(line);
    }
    let mut ledger = String::new();
    drain_and_check(&mut engine, &mut ledger);
}

pub fn events_seeds() -> Vec<Vec<u8>> {
    // Short runs of events (a few kilobytes each): long seeds make every execution slow.
    let mut out = Vec::new();
    for (i, ex) in examples::all().iter().enumerate() {
        for chunk in ex.events.chunks(4).take(24) {
            let mut s = vec![i as u8];
            s.extend_from_slice(chunk.join("\n").as_bytes());
            out.push(s);
        }
    }
    out
}

/// `bundle`: the bytes as a bundle, and the bytes with their last 32 replaced by the right
/// SHA-256 (so mutations reach the manifest and payload parsers instead of all failing the
/// checksum).
pub fn bundle(data: &[u8]) {
    let _ = bundle::decode::<Program>(data);
    let _ = bundle::read_manifest(data);
    let Some(sealed) = reseal(data, 0) else {
        return;
    };
    let _ = bundle::read_manifest(&sealed);
    if let Ok((manifest, program, _)) = bundle::decode::<Program>(&sealed) {
        let bytes = bundle::encode(&manifest, &program)
            .unwrap_or_else(|e| panic!("a decoded bundle does not re-encode: {e}"));
        let (m2, p2, _) = bundle::decode::<Program>(&bytes)
            .unwrap_or_else(|e| panic!("a re-encoded bundle does not decode: {e}"));
        let mut sorted = manifest.clone();
        sorted.automations.sort();
        assert!(m2 == sorted, "the manifest changed in a round trip");
        assert!(p2 == program, "the program changed in a round trip");
    }
}

/// `data` with its last 32 bytes replaced by the SHA-256 of the bytes from `from` to there.
fn reseal(data: &[u8], from: usize) -> Option<Vec<u8>> {
    let body = data.len().checked_sub(32)?;
    let mut out = data.to_vec();
    let sum = Sha256::digest(&data[from.min(body)..body]);
    out[body..].copy_from_slice(&sum);
    Some(out)
}

pub fn bundle_seeds() -> Vec<Vec<u8>> {
    examples::all().iter().map(|e| e.bundle.clone()).collect()
}

/// The bytes a snapshot starts with (magic and format version), taken from a real one so a
/// new format needs no change here.
fn snapshot_head() -> &'static [u8] {
    static HEAD: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    HEAD.get_or_init(|| {
        let snap = examples::all()
            .first()
            .map(|ex| engine(ex).snapshot().unwrap_or_default())
            .unwrap_or_default();
        snap.get(..10).map(<[u8]>::to_vec).unwrap_or_default()
    })
}

/// `snapshot`: byte 0 picks the example; the rest is a snapshot's body, framed here (magic,
/// format, length, checksum) so that mutations reach the body's decoder and the checks
/// `Engine::restore` makes. A snapshot that restores is then driven: the example's events
/// applied, the timers of the next 90 days fired, and its ledger and snapshot checked.
pub fn snapshot(data: &[u8]) {
    /// How many of the example's events a restored engine is driven with.
    const DRIVE: usize = 8;
    let _ = meshline_runtime::engine::snapshot_info(data);
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let Some(ex) = examples::pick(sel) else {
        return;
    };
    let mut framed = snapshot_head().to_vec();
    framed.extend_from_slice(&(body.len() as u64).to_le_bytes());
    framed.extend_from_slice(body);
    let sum = Sha256::digest(&framed);
    framed.extend_from_slice(&sum);
    let _ = meshline_runtime::engine::snapshot_info(&framed);
    let Ok(mut engine) = Engine::restore(ex.program.clone(), &ex.hash, &framed) else {
        return;
    };
    // A restored ledger resumes a chain whose earlier entries are not here: check the
    // entries written from now on, which must continue from the snapshot's position.
    let (seq, last) = engine.ledger_position();
    let mut verifier = ledger::Verifier::resume(seq, last);
    for line in ex.events.iter().take(DRIVE) {
        engine.apply_line(line);
    }
    // Fire what falls due in the next 90 days. (Not to the last instant: an SLA breach
    // then measures business time across millennia, interval by interval, seconds per
    // input; see docs/reliability.md.)
    let until = engine
        .clock()
        .and_then(|c| {
            c.checked_add(jiff::SignedDuration::from_hours(90 * 24))
                .ok()
        })
        .unwrap_or(Timestamp::MAX);
    engine.advance_to(until);
    let (lines, _) = engine.drain_jsonl();
    for line in lines.lines() {
        if let Err(e) = verifier.push_line(line) {
            panic!("a restored engine wrote a ledger that does not verify: {e}");
        }
    }
    check_restores(ex, &engine);
}

pub fn snapshot_seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, ex) in examples::all().iter().enumerate() {
        let mut engine = engine(ex);
        let n = ex.events.len();
        let cuts = [0, 1, 4, 8, 16].map(|c: usize| c.min(n));
        let mut applied = 0;
        for cut in cuts {
            while applied < cut {
                engine.apply_line(&ex.events[applied]);
                applied += 1;
            }
            let _ = engine.drain_jsonl();
            if let Ok(snap) = engine.snapshot()
                && snap.len() >= 18 + 32
            {
                let mut s = vec![i as u8];
                s.extend_from_slice(&snap[18..snap.len() - 32]);
                out.push(s);
            }
        }
    }
    out
}
