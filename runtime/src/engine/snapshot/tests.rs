//! Snapshots of a small hand-built program: restore continues byte for byte, and damaged,
//! foreign or ill-fitting snapshots are refused with a reason (never a panic). The property
//! test over real example bundles is `cli/tests/cli/snapshot.rs`.

use sha2::{Digest, Sha256};

use super::{ENGINE, FORMAT, HEAD, snapshot_info};
use crate::engine::Engine;
use crate::ir::{EventDef, FieldDef, Program, SlotDef, WireTy};

const HASH: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn program() -> Program {
    let fields = [
        ("text", WireTy::String),
        ("amount", WireTy::Money),
        ("ratio", WireTy::Optional(Box::new(WireTy::Decimal))),
        ("when", WireTy::Time),
        ("day", WireTy::Date),
        ("tags", WireTy::List(Box::new(WireTy::String))),
        ("who", WireTy::Person),
    ];
    Program {
        package: "p".into(),
        version: "1".into(),
        enums: Vec::new(),
        records: Vec::new(),
        events: vec![EventDef {
            name: "Note".into(),
            fields: fields
                .iter()
                .map(|(n, t)| FieldDef {
                    name: n.to_string(),
                    ty: t.clone(),
                })
                .collect(),
            slots: (0..fields.len() as u32).collect(),
            updates_facts: true,
            builtin: None,
        }],
        slots: fields
            .iter()
            .map(|(n, t)| SlotDef {
                name: n.to_string(),
                ty: t.clone(),
                fact: true,
            })
            .collect(),
        ..Default::default()
    }
}

fn note(id: &str, case: &str, at: &str, amount: &str, ratio: &str) -> String {
    format!(
        r#"{{"id":"{id}","type":"Note","at":"{at}","case":"{case}","data":{{"text":"t {id} ü","amount":"{amount}","ratio":{ratio},"when":"2026-01-02T03:04:05.123456789Z","day":"2026-02-28","tags":["a","{id}"],"who":"Ann@X.io"}}}}"#
    )
}

fn first_half(e: &mut Engine) {
    e.apply_line(&note(
        "n1",
        "C-1",
        "2026-03-01T10:00:00Z",
        "12.50 USD",
        "\"0.8500\"",
    ));
    e.apply_line(&note(
        "n2",
        "C-2",
        "2026-03-01T11:00:00.5Z",
        "0.00 EUR",
        "null",
    ));
    e.apply_line(&note("n1", "C-1", "2026-03-01T12:00:00Z", "1 USD", "null")); // duplicate
    e.apply_line("not json");
    e.apply_line(&note(
        "n3",
        "C-1",
        "2026-03-01T09:00:00Z",
        "3 USD",
        "\"0.0010\"",
    )); // late
}

fn second_half(e: &mut Engine) {
    e.apply_line(&note("n2", "C-9", "2026-03-02T00:00:00Z", "1 USD", "null")); // duplicate
    e.apply_line(&note(
        "n4",
        "C-3",
        "2026-03-02T00:00:00Z",
        "99.999 USD",
        "\"-2\"",
    ));
    e.advance_to("2026-03-03T00:00:00Z".parse().unwrap());
    e.apply_line(&note("n5", "C-1", "2026-03-01T00:00:00Z", "5 USD", "null")); // late
}

/// A snapshot taken after `first_half`, and the ledger written so far.
fn snap() -> (Vec<u8>, String) {
    let mut e = Engine::new(program(), HASH).unwrap();
    first_half(&mut e);
    assert!(
        e.snapshot().is_err(),
        "a snapshot with undrained entries must be refused"
    );
    let (ledger, _) = e.drain_jsonl();
    (e.snapshot().unwrap(), ledger)
}

#[test]
fn restore_continues_byte_for_byte() {
    let mut never = Engine::new(program(), HASH).unwrap();
    first_half(&mut never);
    let (head, _) = never.drain_jsonl();
    let (bytes, ledger) = snap();
    assert_eq!(head, ledger);
    assert_eq!(ledger.matches("\"rejected\"").count(), 1, "{ledger}");
    let mut back = Engine::restore(program(), HASH, &bytes).unwrap();
    assert_eq!(
        back.snapshot().unwrap(),
        bytes,
        "restore → snapshot is the identity"
    );
    assert_eq!(back.ledger_position(), never.ledger_position());
    assert_eq!(back.state_summary(), never.state_summary());
    assert_eq!(back.case_json("C-1"), never.case_json("C-1"));
    second_half(&mut never);
    second_half(&mut back);
    let (a, b) = (never.drain_jsonl().0, back.drain_jsonl().0);
    assert_eq!(a.lines().count(), 3, "{a}");
    assert!(!a.contains("rejected"), "{a}");
    assert_eq!(a, b);
    assert_eq!(never.snapshot().unwrap(), back.snapshot().unwrap());
    let info = snapshot_info(&bytes).unwrap();
    assert_eq!(info.bundle, HASH);
    assert_eq!(info.engine, ENGINE);
    assert_eq!(info.cases, 2);
    assert_eq!(info.ledger_seq, 5);
}

#[test]
fn truncated_or_extended_snapshots_are_refused() {
    let (bytes, _) = snap();
    for n in 0..bytes.len() {
        let e = Engine::restore(program(), HASH, &bytes[..n]).err();
        assert!(e.is_some(), "accepted a snapshot cut to {n} bytes");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let e = Engine::restore(program(), HASH, &longer).err().unwrap();
    assert!(e.0.contains("after its checksum"), "{e}");
}

#[test]
fn every_flipped_byte_is_refused() {
    let (bytes, _) = snap();
    for i in 0..bytes.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            assert!(
                Engine::restore(program(), HASH, &b).is_err(),
                "accepted a snapshot with byte {i} changed"
            );
        }
    }
    let mut b = bytes.clone();
    let last = b.len() - 40;
    b[last] ^= 1;
    let e = Engine::restore(program(), HASH, &b).err().unwrap();
    assert!(e.0.contains("checksum"), "{e}");
}

#[test]
fn a_snapshot_of_another_bundle_is_refused() {
    let (bytes, _) = snap();
    let other = "b".repeat(64);
    let e = Engine::restore(program(), &other, &bytes).err().unwrap();
    assert!(e.0.contains("taken under bundle"), "{e}");
}

/// Re-frame a (possibly altered) body with a valid checksum.
fn reframe(format: u16, body: &[u8]) -> Vec<u8> {
    let mut out = b"MESHSNAP".to_vec();
    out.extend_from_slice(&format.to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(body);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

#[test]
fn another_format_or_engine_is_refused() {
    let (bytes, _) = snap();
    let body = &bytes[HEAD..bytes.len() - 32];
    assert_eq!(reframe(FORMAT, body), bytes);
    let e = Engine::restore(program(), HASH, &reframe(FORMAT + 1, body))
        .err()
        .unwrap();
    assert!(e.0.contains("format"), "{e}");
    // A snapshot of the previous format (format 4: no case lifecycle) is refused with the
    // reason, not misread.
    let e = Engine::restore(program(), HASH, &reframe(FORMAT - 1, body))
        .err()
        .unwrap();
    assert!(e.0.contains("snapshot format 4"), "{e}");
    // The engine string is the body's first field (a length-prefixed string).
    let mut other = body.to_vec();
    let at = 1 + ENGINE.len() - 1;
    other[at] = b'9';
    let e = Engine::restore(program(), HASH, &reframe(FORMAT, &other))
        .err()
        .unwrap();
    assert!(e.0.contains("written by"), "{e}");
    // Garbage with a valid frame and checksum.
    let e = Engine::restore(program(), HASH, &reframe(FORMAT, &[0xff; 40]))
        .err()
        .unwrap();
    assert!(e.0.contains("does not decode"), "{e}");
}

#[test]
fn a_snapshot_that_does_not_fit_the_program_is_refused() {
    let (bytes, _) = snap();
    // The same hash claimed for a program with one fact less.
    let mut p = program();
    p.slots.pop();
    let e = Engine::restore(p, HASH, &bytes).err().unwrap();
    assert!(e.0.contains("does not fit"), "{e}");
}
