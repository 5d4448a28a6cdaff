//! Tests of the ledger: hashing, the auditor test vector, and tamper detection.

use super::*;
use serde_json::json;

const B: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
const KINDS: [&str; 5] = ["received", "classified", "owned", "sla_started", "executed"];

fn ledger(n: u64) -> LedgerWriter {
    let mut w = LedgerWriter::new();
    for i in 1..=n {
        let (case, at) = (
            format!("T-{}", i % 7),
            format!("2026-05-09T12:{:02}:{:02}Z", i / 60, i % 60),
        );
        let detail = json!({"n": i, "who": "ops@x.io", "tags": ["a", "é"], "z": {"y": i % 2 == 0, "x": null}});
        let rule = (i % 3 == 0).then_some("refunds.route");
        w.append(
            &at,
            (i % 5 != 0).then_some(&case),
            KINDS[i as usize % 5],
            rule,
            detail,
            B,
        );
    }
    w
}
fn lines(n: u64) -> Vec<String> {
    ledger(n).to_jsonl().lines().map(String::from).collect()
}
fn join(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}
/// Edits an entry without (`reseal` = false) or with recomputing its hash.
fn edit(line: &str, reseal: bool, f: impl FnOnce(&mut Entry)) -> String {
    let mut e = from_line(line).unwrap();
    f(&mut e);
    if reseal {
        e.hash = entry_hash(&e);
    }
    to_line(&e)
}
fn scrub(r: Result<VerifyReport, VerifyError>) -> Result<VerifyReport, VerifyError> {
    r.map_err(|e| match e {
        VerifyError::Malformed { line, seq, .. } => VerifyError::Malformed {
            line,
            seq,
            reason: String::new(),
        },
        e => e,
    })
}

#[test]
fn auditor_test_vector() {
    // Computed independently with Python's json.dumps(…, sort_keys=True,
    // separators=(",", ":"), ensure_ascii=False) and hashlib.sha256.
    let e = Entry {
        seq: 7,
        at: "2026-05-09T12:00:00Z".into(),
        case: Some("T-1".into()),
        kind: "classified".into(),
        rule: None,
        detail: json!({"z": 1, "a": {"y": [1, -2, "é\u{1}\"\\/\n\u{7f}😀"], "b": null, "B": true},
            "é": "x", "Z": false, "big": u64::MAX, "neg": i64::MIN}),
        bundle: "ab".repeat(32),
        prev: "cd".repeat(32),
        hash: String::new(),
    };
    let expected = format!(
        "{{\"at\":\"2026-05-09T12:00:00Z\",\"bundle\":\"{}\",\"case\":\"T-1\",\"detail\":{{\"Z\":false,\
         \"a\":{{\"B\":true,\"b\":null,\"y\":[1,-2,\"é\\u0001\\\"\\\\/\\n\u{7f}😀\"]}},\
         \"big\":18446744073709551615,\"neg\":-9223372036854775808,\"z\":1,\"é\":\"x\"}},\
         \"kind\":\"classified\",\"prev\":\"{}\",\"rule\":null,\"seq\":7}}",
        "ab".repeat(32),
        "cd".repeat(32)
    );
    assert_eq!(hash_input(&e), expected);
    assert_eq!(
        entry_hash(&e),
        "4999478c9188db31ecd9c52c6f6ce2c4e6d543acccbae9ef30f794d95d41403e"
    );
}

#[test]
fn a_valid_ledger_verifies() {
    let w = ledger(50);
    let text = w.to_jsonl();
    assert_eq!(text, ledger(50).to_jsonl(), "deterministic bytes");
    assert!(text.starts_with(
        "{\"seq\":1,\"at\":\"2026-05-09T12:00:01Z\",\"case\":\"T-1\",\"kind\":\"classified\","
    ));
    let report = verify(&text).unwrap();
    assert_eq!(
        report,
        VerifyReport {
            entries: 50,
            last_hash: w.last_hash().to_owned()
        }
    );
    assert_eq!(verify_against(&text, w.last_hash()), Ok(report.clone()));
    assert_eq!(
        verify(text.trim_end()),
        Ok(report),
        "the final newline is optional"
    );
    assert_eq!(
        verify("").unwrap(),
        VerifyReport {
            entries: 0,
            last_hash: GENESIS_PREV.into()
        }
    );
    // The one-pass writer gives exactly the reference encoder's bytes and hash.
    for line in w.to_jsonl().lines() {
        let e = from_line(line).unwrap();
        assert_eq!(to_line(&e), line);
        assert_eq!(entry_hash(&e), e.hash);
    }
    // Resuming continues the chain; a continuation verifies on its own with `Verifier::resume`.
    let mut more = LedgerWriter::resume(w.last_seq(), w.last_hash());
    more.append("2026-05-09T13:00:00Z", None, "halted", None, json!({}), B);
    assert_eq!(verify(&(text + &more.to_jsonl())).unwrap().entries, 51);
    let mut v = Verifier::resume(50, w.last_hash());
    assert_eq!(v.push_line(&to_line(&more.entries()[0])), Ok(()));
}

#[test]
fn the_writer_keeps_detail_an_integer_only_object() {
    let mut w = LedgerWriter::new();
    assert_eq!(
        w.append("t", None, "k", None, json!(null), B).detail,
        json!({})
    );
    assert_eq!(
        w.append("t", None, "k", None, json!([1]), B).detail,
        json!({"value": [1]})
    );
    assert_eq!(
        w.append("t", None, "k", None, json!({"r": [0.85]}), B)
            .detail,
        json!({"r": ["0.85"]})
    );
    assert_eq!(verify(&w.to_jsonl()).unwrap().entries, 3);
}

#[test]
#[rustfmt::skip]
fn each_kind_of_tampering_is_named_at_the_first_bad_entry() {
    use VerifyError::*;
    let (l, k) = (lines(50), 16); // k: index of entry 17, on line 17
    // The ledger with line `i` replaced by `new`.
    let at = |i: usize, new: Vec<String>| -> Vec<String> { let mut v = l.clone(); v.splice(i..i + 1, new); v };
    let bad_seq = |expected, found, line| Err(BadSequence { expected, found, line });
    let m = |line, seq| Err(Malformed { line, seq, reason: String::new() });
    let (mut swapped, hash17) = (l.clone(), from_line(&l[k]).unwrap().hash);
    swapped.swap(k, k + 1);
    let as_array = serde_json::from_str::<Map<String, Value>>(&l[k]).unwrap().into_iter().map(|x| x.1).collect();
    let cases: Vec<(&str, Vec<String>, Result<VerifyReport, VerifyError>)> = vec![
        ("edit kind", at(k, vec![edit(&l[k], false, |e| e.kind = "approved".into())]), Err(BadHash { seq: 17, line: 17 })),
        ("edit detail", at(k, vec![edit(&l[k], false, |e| e.detail["n"] = json!(9))]), Err(BadHash { seq: 17, line: 17 })),
        ("upper-case hash", at(k, vec![l[k].replace(&hash17, &hash17.to_uppercase())]), Err(BadHash { seq: 17, line: 17 })),
        ("change prev only", at(k, vec![edit(&l[k], false, |e| e.prev = "f".repeat(64))]), Err(BadHash { seq: 17, line: 17 })),
        ("change prev, rehash", at(k, vec![edit(&l[k], true, |e| e.prev = "f".repeat(64))]), Err(BrokenChain { seq: 17, line: 17 })),
        ("edit, rehash", at(k, vec![edit(&l[k], true, |e| e.kind = "approved".into())]), Err(BrokenChain { seq: 18, line: 18 })),
        ("first prev, rehash", at(0, vec![edit(&l[0], true, |e| e.prev = "f".repeat(64))]), Err(BrokenChain { seq: 1, line: 1 })),
        ("delete", at(k, vec![]), bad_seq(17, 18, 17)),
        ("swap", swapped, bad_seq(17, 18, 17)),
        ("duplicate", at(k, vec![l[k].clone(), l[k].clone()]), bad_seq(18, 17, 18)),
        ("insert forged", at(k, vec![edit(&l[k], true, |e| e.kind = "approved".into()), l[k].clone()]), bad_seq(18, 17, 18)),
        ("renumber, rehash", at(k, vec![edit(&l[k], true, |e| e.seq = 18)]), bad_seq(17, 18, 17)),
        ("truncate line", at(k, vec![l[k][..l[k].len() / 2].to_owned()]), m(17, None)),
        ("blank line", at(k, vec![String::new(), l[k].clone()]), m(17, None)),
        ("array, not object", at(k, vec![Value::Array(as_array).to_string()]), m(17, None)),
        ("duplicate field", at(k, vec![l[k].replacen("{\"seq\":17,", "{\"seq\":17,\"seq\":17,", 1)]), m(17, Some(17))),
        ("unknown field", at(k, vec![l[k].replace(",\"hash\"", ",\"x\":1,\"hash\"")]), m(17, Some(17))),
        ("duplicate key", at(k, vec![l[k].replace("\"detail\":{", "\"detail\":{\"who\":\"eve@x.io\",")]), m(17, Some(17))),
        ("float", at(k, vec![l[k].replace("\"n\":17", "\"n\":17.0")]), m(17, Some(17))),
        ("remove last", l[..49].to_vec(), Ok(VerifyReport { entries: 49, last_hash: from_line(&l[48]).unwrap().hash })),
    ];
    for (name, tampered, expected) in cases {
        assert_eq!(scrub(verify(&join(&tampered))), expected, "{name}");
    }
    // Only a known last hash reveals removed tail entries.
    let last = from_line(&l[49]).unwrap().hash;
    assert!(matches!(verify_against(&join(&l[..49]), &last), Err(LastHashMismatch { entries: 49, .. })));
    assert_eq!(BadHash { seq: 17, line: 17 }.to_string(),
        "entry 17 (line 17): its hash does not match its content — the line was edited");
    assert_eq!(BadSequence { expected: 17, found: 18, line: 17 }.to_string(),
        "line 17: expected entry 17 but found entry 18 — an entry was removed or the lines were reordered");
    assert!(matches!(verify_reader(&b"\xff\n"[..]), Err(Malformed { line: 1, seq: None, .. })));
}

#[test]
fn respelling_a_line_without_changing_its_content_is_not_tampering() {
    fn respell(v: &Value) -> String {
        match v {
            Value::Object(m) => {
                let pairs: Vec<String> = m
                    .iter()
                    .rev()
                    .map(|(k, v)| format!("{k:?} : {}", respell(v)))
                    .collect();
                format!("{{ {} }}", pairs.join(" , "))
            }
            Value::String(s) if s == "ops@x.io" => "\"\\u006fps@x.io\"".into(),
            v => v.to_string(),
        }
    }
    let mut l = lines(50);
    l[16] = respell(&serde_json::from_str(&l[16]).unwrap());
    assert!(
        l[16].starts_with("{ \"seq\" : 17 , \"rule\" : "),
        "{}",
        l[16]
    );
    assert_eq!(
        verify(&join(&l)).unwrap(),
        verify(&ledger(50).to_jsonl()).unwrap()
    );
}

#[test]
fn a_recomputed_chain_is_caught_only_against_a_known_last_hash() {
    let original = ledger(50);
    let mut forged = LedgerWriter::new();
    for e in original.entries() {
        let kind = if e.seq == 17 { "approved" } else { &e.kind };
        forged.append(
            &e.at,
            e.case.as_deref(),
            kind,
            e.rule.as_deref(),
            e.detail.clone(),
            B,
        );
    }
    assert_eq!(verify(&forged.to_jsonl()).unwrap().entries, 50);
    let err = verify_against(&forged.to_jsonl(), original.last_hash()).unwrap_err();
    assert!(
        err.to_string().contains("the ledger was rewritten"),
        "{err}"
    );
}

/// Deterministic pseudo-random tamperings (splitmix64): every one is detected at the
/// line predicted for it, or, when it only touches the end, by `verify_against`.
#[test]
fn random_tamperings_are_detected_at_the_first_bad_line() {
    let mut state = 0x5eed_u64;
    let mut rnd = |n: usize| {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n as u64) as usize
    };
    let sq = |expected: usize, found: usize, line| {
        let (expected, found) = (expected as u64, found as u64);
        Some(Err(VerifyError::BadSequence {
            expected,
            found,
            line,
        }))
    };
    let (n, orig) = (30usize, lines(30));
    let last = from_line(&orig[n - 1]).unwrap().hash;
    for round in 0..1500 {
        let (mut l, k) = (orig.clone(), rnd(n));
        let mut bytes = None;
        // `None`: some error on line k + 1; `Some(Ok(n))`: verifies with n entries.
        let expected: Option<Result<usize, VerifyError>> = match round % 6 {
            0 => {
                let mut b = join(&l).into_bytes();
                let p = l[..k].iter().map(|x| x.len() + 1).sum::<usize>() + rnd(l[k].len());
                b[p] = b[p].wrapping_add(1 + rnd(255) as u8);
                bytes = Some(b);
                None
            }
            1 if k == n - 1 => {
                l.remove(k);
                Some(Ok(n - 1))
            }
            1 => {
                l.remove(k);
                sq(k + 1, k + 2, k + 1)
            }
            2 if k < n - 1 => {
                let j = k + 1 + rnd(n - k - 1);
                l.swap(k, j);
                sq(k + 1, j + 1, k + 1)
            }
            2 | 3 => {
                let j = k + 1 + rnd(n - k);
                l.insert(j, orig[k].clone());
                sq(j + 1, k + 1, j + 1)
            }
            4 => {
                l.insert(k, edit(&orig[k], true, |e| e.detail["x"] = json!(1)));
                sq(k + 2, k + 1, k + 2)
            }
            _ if k == n - 1 => {
                l[k] = edit(&orig[k], true, |e| e.at = "2026-01-01T00:00:00Z".into());
                Some(Ok(n))
            }
            _ => {
                l[k] = edit(&orig[k], true, |e| e.at = "2026-01-01T00:00:00Z".into());
                let (seq, line) = (k as u64 + 2, k + 2);
                Some(Err(VerifyError::BrokenChain { seq, line }))
            }
        };
        let bytes = bytes.unwrap_or_else(|| join(&l).into_bytes());
        let got = scrub(verify_reader(&bytes[..]));
        match expected {
            None => assert_eq!(got.unwrap_err().line(), Some(k + 1), "round {round}"),
            Some(Ok(entries)) => {
                assert_eq!(got.unwrap().entries, entries as u64, "round {round}");
                let text = String::from_utf8(bytes).unwrap();
                assert!(verify_against(&text, &last).is_err(), "round {round}");
            }
            Some(Err(e)) => assert_eq!(got, Err(e), "round {round}"),
        }
    }
}

#[test]
fn typed_detail_matches_json_detail() {
    // The engine's typed builder and the JSON path write the same canonical object.
    let mut d = Detail::new();
    d.str("assignee", "ops@x.io")
        .bool("breaker", true)
        .int("cycle", -3)
        .null("due")
        .opt_str("from", None)
        .json("key", &json!([{"b": 1.5, "a": "é\n"}]))
        .str("route", "q\"1");
    let mut typed = LedgerWriter::new();
    typed.append_detail("t", Some("c"), "k", None, &mut d, B);
    let mut by_json = LedgerWriter::new();
    by_json.append(
        "t",
        Some("c"),
        "k",
        None,
        json!({"route": "q\"1", "key": [{"a": "é\n", "b": 1.5}], "from": null, "due": null,
               "cycle": -3, "breaker": true, "assignee": "ops@x.io"}),
        B,
    );
    assert_eq!(typed.to_jsonl(), by_json.to_jsonl());
    assert!(typed.to_jsonl().contains(r#""b":"1.5""#));
    assert_eq!(line_kind(&typed.to_jsonl()), Some("k"));
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "canonical order")]
fn typed_detail_refuses_unsorted_keys() {
    let mut d = Detail::new();
    d.str("b", "x").str("a", "y");
}

/// The eight-bytes-at-a-time escape check agrees with the byte-by-byte one: every byte
/// value at every position of the word and of the tail, among fillers that are ASCII,
/// high (non-ASCII UTF-8 bytes) or just above the control range.
#[test]
fn needs_escape_agrees_with_a_byte_by_byte_check() {
    let naive = |s: &[u8]| s.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\');
    for filler in [b'a', 0x20, 0x21, 0x7f, 0x80, 0xff, b'#', b']'] {
        for len in [1usize, 7, 8, 9, 16, 19] {
            for pos in 0..len {
                for b in 0..=255u8 {
                    let mut s = vec![filler; len];
                    s[pos] = b;
                    assert_eq!(
                        needs_escape(&s),
                        naive(&s),
                        "byte {b:#04x} at {pos} of {len} among {filler:#04x}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_line_that_is_not_an_entry_is_a_typed_error() {
    assert_eq!(from_line("[1]").unwrap_err(), super::LineError::NotAnObject);
    assert_eq!(
        from_line("[1]").unwrap_err().to_string(),
        "not a JSON object"
    );
    let e = from_line(r#"{"seq":1}"#).unwrap_err();
    assert!(
        matches!(&e, super::LineError::Invalid(m) if m.starts_with("missing field")),
        "{e}"
    );
}

/// Hashing deferred to a [`Chainer`] (`meshline run`'s second thread) gives the same lines
/// as the writer hashing each entry itself: from genesis and resumed mid-chain, over
/// batches of every size (the chainer carries the last hash across them), with hostile and
/// non-ASCII fields, and with a bundle change between entries.
#[test]
fn a_chainer_completes_deferred_entries_into_the_same_lines() {
    let write = |w: &mut LedgerWriter, i: u64| {
        let case = format!("T-{}\"\\\n é\u{1}", i % 7);
        let bundle = if i < 9 { B } else { "c0ffee" };
        let mut d = Detail::new();
        d.int("n", i as i64).str("who", "ops@x.io \u{2028} \"q\"");
        w.append_detail(
            &format!("2026-05-09T12:00:{:02}Z", i % 60),
            (!i.is_multiple_of(5)).then_some(&case),
            KINDS[i as usize % 5],
            i.is_multiple_of(3).then_some("refunds.route"),
            &mut d,
            bundle,
        );
    };
    for (resume_seq, resume_hash) in [(0, GENESIS_PREV.to_string()), (41, "ab".repeat(32))] {
        let mut plain = LedgerWriter::resume(resume_seq, resume_hash.clone());
        let mut deferred = LedgerWriter::resume(resume_seq, resume_hash.clone());
        let mut chainer = deferred.defer_hashing().expect("nothing pending");
        assert!(deferred.defer_hashing().is_none(), "deferred once");
        let (mut out, mut batch) = (String::new(), Unchained::default());
        let mut i = 0;
        for size in [1, 0, 3, 7, 2] {
            for _ in 0..size {
                i += 1;
                write(&mut plain, i);
                write(&mut deferred, i);
            }
            assert_eq!(deferred.to_jsonl(), "", "no unhashed bytes pass for lines");
            deferred.swap_unchained(&mut batch);
            assert_eq!(batch.len(), size);
            chainer.chain(&batch, &mut out);
        }
        let want = plain.to_jsonl();
        assert_eq!(out, want);
        assert_eq!(chainer.last_hash(), plain.last_hash());
        assert_eq!(deferred.last_seq(), plain.last_seq());
        if resume_seq == 0 {
            assert_eq!(verify(&out).map(|r| r.entries), Ok(13));
        }
    }
    // Pending entries must be taken before hashing moves.
    let mut w = LedgerWriter::new();
    write(&mut w, 1);
    assert!(w.defer_hashing().is_none());
}
