//! Bundle robustness (§5): a truncated, corrupted, other-version or non-bundle file is
//! refused by `run` (exit 2) and `inspect` (non-zero) with a clear message, never a panic,
//! and `run` writes nothing.

use std::path::Path;

use meshline_runtime::{bundle, ir};

use crate::common;

/// `(label, bytes, words the message must contain)`.
fn damaged(good: &[u8], sample: &[u8]) -> Vec<(&'static str, Vec<u8>, Vec<&'static str>)> {
    let n = good.len();
    let payload_middle = n - 32 - 100; // well inside the payload, before the hash
    let mut flipped_payload = good.to_vec();
    flipped_payload[payload_middle] ^= 0x01;
    let mut flipped_manifest = good.to_vec();
    flipped_manifest[20] ^= 0x20; // inside the manifest JSON
    let mut flipped_hash = good.to_vec();
    flipped_hash[n - 1] ^= 0x80;
    let with_version = |v: u16| {
        let mut b = good.to_vec();
        b[8..10].copy_from_slice(&v.to_le_bytes());
        b
    };
    let mut appended = good.to_vec();
    appended.extend_from_slice(b"\n");
    vec![
        (
            "truncated to half",
            good[..n / 2].to_vec(),
            vec!["truncated"],
        ),
        ("last byte cut", good[..n - 1].to_vec(), vec!["truncated"]),
        ("header only", good[..12].to_vec(), vec!["truncated"]),
        ("magic only", good[..8].to_vec(), vec!["truncated"]),
        (
            "payload byte flipped",
            flipped_payload,
            vec!["corrupt", "hash"],
        ),
        (
            "manifest byte flipped",
            flipped_manifest,
            vec!["corrupt", "hash"],
        ),
        ("hash byte flipped", flipped_hash, vec!["corrupt", "hash"]),
        ("byte appended", appended, vec!["corrupt"]),
        (
            "format version 2",
            with_version(2),
            vec!["format version 2", "reads version 1"],
        ),
        (
            "format version 0",
            with_version(0),
            vec!["format version 0", "reads version 1"],
        ),
        (
            "format version 65535",
            with_version(u16::MAX),
            vec!["format version 65535"],
        ),
        ("empty file", Vec::new(), vec!["not a Meshline bundle"]),
        (
            "a text file",
            b"hello, world\n".to_vec(),
            vec!["not a Meshline bundle"],
        ),
        (
            "the events file",
            sample.to_vec(),
            vec!["not a Meshline bundle"],
        ),
        (
            "a PNG header",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            vec!["not a Meshline bundle"],
        ),
    ]
}

#[test]
fn damaged_bundles_are_refused_by_run_and_inspect() {
    let dir = common::tempdir();
    let good_path = dir.path().join("good.meshb");
    let good = common::build_cli(&common::example("refunds"), &good_path);
    let events = common::sample_events("refunds");
    let sample = std::fs::read(&events).expect("sample");
    // The good bundle is accepted by both.
    common::meshline(["inspect".as_ref(), good_path.as_os_str()]).assert_code(0, "inspect good");

    for (label, bytes, words) in damaged(&good, &sample) {
        let path = dir.path().join("bad.meshb");
        std::fs::write(&path, &bytes).expect("write");
        let ledger = dir
            .path()
            .join(format!("ledger-{}.jsonl", label.replace(' ', "-")));
        let run = common::meshline([
            "run".as_ref(),
            "--bundle".as_ref(),
            path.as_os_str(),
            "--events".as_ref(),
            events.as_os_str(),
            "--ledger".as_ref(),
            ledger.as_os_str(),
        ]);
        run.assert_code(2, &format!("run with {label}"));
        check_message(label, "run", &run.stderr, &path, &words);
        assert!(
            !ledger.exists(),
            "{label}: run wrote a ledger from a refused bundle"
        );

        let inspect = common::meshline(["inspect".as_ref(), path.as_os_str()]);
        inspect.assert_no_panic(&format!("inspect with {label}"));
        assert_ne!(inspect.code, 0, "{label}: inspect accepted it");
        assert_eq!(inspect.stdout, "", "{label}: inspect printed a manifest");
        check_message(label, "inspect", &inspect.stderr, &path, &words);
    }
}

fn check_message(label: &str, cmd: &str, stderr: &str, path: &Path, words: &[&str]) {
    assert!(
        stderr.starts_with("error: ") && stderr.contains(&path.display().to_string()),
        "{label}: {cmd} should say `error: PATH: …`, said: {stderr}"
    );
    for w in words {
        assert!(
            stderr.contains(w),
            "{label}: {cmd}'s message lacks {w:?}: {stderr}"
        );
    }
}

/// A missing bundle file is an I/O error: exit 2 for both commands.
#[test]
fn a_missing_bundle_is_an_io_error() {
    let dir = common::tempdir();
    let missing = dir.path().join("nope.meshb");
    let events = common::sample_events("refunds");
    let run = common::meshline([
        "run".as_ref(),
        "--bundle".as_ref(),
        missing.as_os_str(),
        "--events".as_ref(),
        events.as_os_str(),
    ]);
    run.assert_code(2, "run with a missing bundle");
    assert!(run.stderr.contains("nope.meshb"), "{}", run.stderr);
    common::meshline(["inspect".as_ref(), missing.as_os_str()]).assert_code(2, "inspect missing");
}

/// In-process, exhaustively: flipping any single bit of the first bytes (the header and
/// lengths), and any byte anywhere, is refused by `decode` and `read_manifest`.
#[test]
fn every_single_byte_change_is_refused() {
    let good = common::refunds_bundle().to_vec();
    assert!(bundle::decode::<ir::Program>(&good).is_ok());
    let mut bytes = good.clone();
    for i in 0..good.len() {
        let bits: &[u8] = if i < 32 {
            &[0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80]
        } else {
            &[0xff]
        };
        for &bit in bits {
            bytes[i] ^= bit;
            assert!(
                bundle::read_manifest(&bytes).is_err(),
                "byte {i} ^ {bit:#04x} was accepted by read_manifest"
            );
            assert!(
                bundle::decode::<ir::Program>(&bytes).is_err(),
                "byte {i} ^ {bit:#04x} was accepted by decode"
            );
            bytes[i] ^= bit;
        }
    }
    // Every truncation too.
    for len in 0..good.len() {
        assert!(
            bundle::decode::<ir::Program>(&good[..len]).is_err(),
            "prefix of {len} bytes"
        );
    }
}

/// Resealed garbage (a valid header and hash around a payload that is not an IR) is
/// refused with a message, not a panic.
#[test]
fn resealed_garbage_payloads_are_refused() {
    let good = common::refunds_bundle();
    let (manifest, _program, _) = bundle::decode::<ir::Program>(good).expect("decodes");
    for payload in [
        vec![0u8; 0],
        vec![0u8; 64],
        vec![0xffu8; 64],
        b"not postcard".to_vec(),
    ] {
        // `encode` of raw bytes: a postcard byte string, i.e. a length prefix + bytes; the
        // IR decoder must refuse it (wrong shape) without panicking.
        let bytes = bundle::encode(&manifest, &payload).expect("encode");
        match bundle::decode::<ir::Program>(&bytes) {
            Ok(_) => panic!("garbage payload {payload:?} decoded as a program"),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        // The manifest alone still reads (inspect works on it).
        assert!(bundle::read_manifest(&bytes).is_ok());
    }
}
