//! The append-only, hash-chained audit ledger (brief §6.4–§6.5), stored as JSON Lines.
//!
//! **Line format.** One entry per line, `\n`-terminated, written by [`to_line`] with the
//! fields in the order `seq, at, case, kind, rule, detail, bundle, prev, hash`, no
//! whitespace, `detail` keys sorted — the same entries always give the same bytes (§6.4).
//! `seq` starts at 1 and grows by 1; `prev` is the previous entry's `hash` (64 `0`s for the
//! first); `bundle` is the content hash of the bundle that wrote the entry.
//!
//! **Canonical encoding** (what [`entry_hash`] hashes). `hash` = lower-case hex SHA-256 of
//! the UTF-8 bytes of `C(o)`, where `o` is the JSON object of every field except `hash`
//! (`at, bundle, case, detail, kind, prev, rule, seq` — in sorted order) and `C` is:
//! - `null`, `true`, `false` as such; an absent `case`/`rule` is `null`;
//! - an integer in decimal ASCII, `-` for negatives, no `+`, leading zeros or exponent
//!   (only integers in the i64/u64 range occur: the writer stores any other number as a
//!   string, its `serde_json` text, and [`verify`] rejects them — a float or a 30-digit
//!   integer parses lossily, so two different texts could share one hash);
//! - a string between `"`: `"`→`\"`, `\`→`\\`, U+0008→`\b`, U+000C→`\f`, U+000A→`\n`,
//!   U+000D→`\r`, U+0009→`\t`, other U+0000–U+001F→`\u00xx` (lower-case hex); every
//!   other character as raw UTF-8 (including `/`, U+007F and non-ASCII);
//! - an array as `[` items joined by `,` `]`;
//! - an object as `{` `key:value` pairs joined by `,` `}`, keys sorted by their UTF-8 bytes
//!   (= code-point order), at every level.
//!
//! No whitespace anywhere. This is exactly Python's
//! `json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`;
//! the test `auditor_test_vector` pins one entry's hash.
//!
//! **What verification covers.** [`verify`] checks the *content* of each line: the bytes
//! of a line may be re-spelled without changing its meaning (key order, whitespace,
//! `\u0041` for `A`) and still verify — that is not tampering. Lines must have exactly the
//! nine fields, a `detail` object with no duplicate keys, and no blank lines (one final
//! `\n` is fine). Every edited, removed, reordered, duplicated or inserted line is detected,
//! and the error names the first bad entry and line — **with two limits** inherent to an
//! unkeyed hash chain: (1) removing entries *from the end* leaves a valid shorter ledger,
//! and (2) whoever can rewrite the file can recompute the whole chain after an edit. Both are
//! caught only against a last hash kept elsewhere (the database, a published checkpoint):
//! [`verify_against`].

use std::fmt;
use std::io::BufRead;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

mod writer;
pub use writer::{Chainer, Detail, LedgerWriter, Unchained, line_kind};

/// `prev` of the first entry.
pub const GENESIS_PREV: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One ledger entry. Deserializing one is strict (see [`from_line`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub seq: u64,
    /// RFC 3339, second precision, UTC `Z`.
    pub at: String,
    pub case: Option<String>,
    /// `received`, `rejected`, `classified`, `sla_breached`, `executed`, … (free-form).
    pub kind: String,
    pub rule: Option<String>,
    /// Always a JSON object.
    #[serde(deserialize_with = "strict_object")]
    pub detail: Value,
    /// Content hash (hex) of the bundle that wrote this entry.
    pub bundle: String,
    pub prev: String,
    pub hash: String,
}

/// Canonical JSON of a value (see the module comment): sorted keys, no whitespace.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(v, &mut out);
    out
}

/// A value's canonical JSON, as [`Detail::json`] writes it (a non-integer number as text).
pub(crate) fn write_json(v: &Value, out: &mut String) {
    if only_integers(v) {
        write_value(v, out);
    } else {
        write_value(&integers_or_text(v.clone()), out);
    }
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut pairs: Vec<(&String, &Value)> = map.iter().collect();
            pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, val)) in pairs.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(k, out);
                out.push(':');
                write_value(val, out);
            }
            out.push('}');
        }
    }
}

pub(crate) fn write_str(s: &str, out: &mut String) {
    out.push('"');
    // Fast path: most strings (ids, hashes, names) need no escaping at all.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether any byte is a control character, `"` or `\\`: eight bytes at a time (the
/// classic "has a zero byte" bit trick, exact as a yes/no answer), then the tail.
fn needs_escape(s: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    // Some byte of `x` is below `n` (n ≤ 128).
    let has_less = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS != 0;
    let has_byte = |x: u64, b: u8| has_less(x ^ (ONES * u64::from(b)), 1);
    let mut chunks = s.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        let x = u64::from_ne_bytes(w);
        if has_less(x, 0x20) | has_byte(x, b'"') | has_byte(x, b'\\') {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The fields [`entry_hash`] covers, in canonical (sorted) order: all but `hash`.
const HASHED: [&str; 8] = [
    "at", "bundle", "case", "detail", "kind", "prev", "rule", "seq",
];
/// The fields of a line, in line order.
const LINE: [&str; 9] = [
    "seq", "at", "case", "kind", "rule", "detail", "bundle", "prev", "hash",
];

fn write_entry(e: &Entry, fields: &[&str]) -> String {
    let mut s = String::with_capacity(640);
    for (i, name) in fields.iter().enumerate() {
        s.push(if i == 0 { '{' } else { ',' });
        write_str(name, &mut s);
        s.push(':');
        match *name {
            "seq" => s.push_str(&e.seq.to_string()),
            "case" | "rule" => match if *name == "case" { &e.case } else { &e.rule } {
                Some(v) => write_str(v, &mut s),
                None => s.push_str("null"),
            },
            "detail" => write_value(&e.detail, &mut s),
            "at" => write_str(&e.at, &mut s),
            "kind" => write_str(&e.kind, &mut s),
            "bundle" => write_str(&e.bundle, &mut s),
            "prev" => write_str(&e.prev, &mut s),
            _ => write_str(&e.hash, &mut s),
        }
    }
    s.push('}');
    s
}

/// The exact bytes [`entry_hash`] hashes: the canonical JSON of every field but `hash`.
pub fn hash_input(e: &Entry) -> String {
    write_entry(e, &HASHED)
}

/// Lower-case hex SHA-256 of [`hash_input`] (`prev` included).
pub fn entry_hash(e: &Entry) -> String {
    hex(&Sha256::digest(hash_input(e).as_bytes()))
}

/// One ledger line, without the trailing `\n`. Deterministic bytes.
pub fn to_line(e: &Entry) -> String {
    write_entry(e, &LINE)
}

/// Parses one line strictly (a JSON object with exactly the nine fields, `detail` an object
/// without duplicate keys, integers only). Does not check the hash or the chain.
pub fn from_line(line: &str) -> Result<Entry, LineError> {
    if !line.trim_start().starts_with('{') {
        return Err(LineError::NotAnObject);
    }
    serde_json::from_str(line).map_err(|e| LineError::Invalid(e.to_string()))
}

/// Why a line is not a ledger entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    NotAnObject,
    /// Not JSON, or not an entry's shape (the parser's message: which field, where).
    Invalid(String),
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::NotAnObject => f.write_str("not a JSON object"),
            LineError::Invalid(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for LineError {}

fn strict_object<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    match Strict::deserialize(d)?.0 {
        v @ Value::Object(_) => Ok(v),
        _ => Err(de::Error::custom("`detail` is not a JSON object")),
    }
}

/// A JSON value that refuses duplicate object keys (`{"a":"forged","a":"real"}` would
/// otherwise hash as one thing and read as another) and non-integer numbers.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Strict;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Strict, E> {
        Ok(Strict(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Strict, E> {
        Ok(Strict(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Strict, E> {
        Err(E::custom(format_args!(
            "the number {v} is not a 64-bit integer (the ledger stores such numbers as strings)"
        )))
    }
    fn visit_str<E>(self, v: &str) -> Result<Strict, E> {
        Ok(Strict(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Strict, E> {
        Ok(Strict(Value::String(v)))
    }
    fn visit_unit<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_none<E>(self) -> Result<Strict, E> {
        Ok(Strict(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Strict, D::Error> {
        Strict::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Strict, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Strict(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Strict, A::Error> {
        let mut m = Map::new();
        while let Some(k) = map.next_key::<String>()? {
            if m.contains_key(&k) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key {k:?} in `detail`"
                )));
            }
            let Strict(v) = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Strict(Value::Object(m)))
    }
}

/// Whether every number in `v` is an integer (the ledger's normal form).
fn only_integers(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_i64() || n.is_u64(),
        Value::Array(a) => a.iter().all(only_integers),
        Value::Object(m) => m.values().all(only_integers),
        _ => true,
    }
}

/// `v` with every non-integer number replaced by its text as a string.
fn integers_or_text(v: Value) -> Value {
    match v {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => Value::String(n.to_string()),
        Value::Array(a) => Value::Array(a.into_iter().map(integers_or_text).collect()),
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k, integers_or_text(v)))
                .collect(),
        ),
        v => v,
    }
}

/// What the writer stores as `detail`: an object (`null` → `{}`, any other non-object
/// `v` → `{"value": v}`), with every non-integer number replaced by its text as a string.
fn normalize_detail(v: Value) -> Value {
    // Fast path: an object with integer numbers only is already normal.
    if v.is_object() && only_integers(&v) {
        return v;
    }
    match integers_or_text(v) {
        Value::Null => Value::Object(Map::new()),
        v @ Value::Object(_) => v,
        v => Value::Object(Map::from_iter([("value".to_owned(), v)])),
    }
}

/// The first problem found, with the 1-based line number it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyError {
    /// Not a ledger entry (bad JSON, missing/unknown field, blank line, …). `seq` is the
    /// line's own `seq` when it can still be read.
    Malformed {
        line: usize,
        seq: Option<u64>,
        reason: String,
    },
    /// The entry's `hash` is not the hash of its content: the line was edited.
    BadHash { seq: u64, line: usize },
    /// `prev` is not the previous entry's hash (or not 64 zeros on the first entry).
    BrokenChain { seq: u64, line: usize },
    /// Gap, reorder, insertion or duplicate.
    BadSequence {
        expected: u64,
        found: u64,
        line: usize,
    },
    /// The ledger verifies but does not end at the expected hash ([`verify_against`]).
    LastHashMismatch {
        entries: u64,
        found: String,
        expected: String,
    },
    /// The file could not be read.
    Io { line: usize, reason: String },
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Malformed {
                line,
                seq: Some(s),
                reason,
            } => {
                write!(
                    f,
                    "entry {s} (line {line}): not a valid ledger entry — {reason}"
                )
            }
            VerifyError::Malformed {
                line,
                seq: None,
                reason,
            } => {
                write!(f, "line {line}: not a valid ledger entry — {reason}")
            }
            VerifyError::BadHash { seq, line } => write!(
                f,
                "entry {seq} (line {line}): its hash does not match its content — the line was edited"
            ),
            VerifyError::BrokenChain { seq, line } if *seq <= 1 => write!(
                f,
                "entry {seq} (line {line}): its `prev` is not 64 zeros as the first entry's must be \
                 — the line was forged or the ledger does not start here"
            ),
            VerifyError::BrokenChain { seq, line } => write!(
                f,
                "entry {seq} (line {line}): its `prev` is not the hash of entry {} before it — \
                 the line was forged, or entries before it were removed, replaced or reordered",
                seq - 1
            ),
            VerifyError::BadSequence {
                expected,
                found,
                line,
            } => {
                let why = if found > expected {
                    "an entry was removed or the lines were reordered"
                } else {
                    "an entry was duplicated or inserted, or the lines were reordered"
                };
                write!(
                    f,
                    "line {line}: expected entry {expected} but found entry {found} — {why}"
                )
            }
            VerifyError::LastHashMismatch {
                entries,
                found,
                expected,
            } => write!(
                f,
                "the ledger verifies up to its last entry ({entries}, hash {found}) but should end \
                 at hash {expected} — entries were removed from the end, or the ledger was rewritten"
            ),
            VerifyError::Io { line, reason } => {
                write!(f, "line {line}: cannot read the ledger: {reason}")
            }
        }
    }
}

impl std::error::Error for VerifyError {}

impl VerifyError {
    /// The 1-based line of the problem (`None` for [`VerifyError::LastHashMismatch`]).
    pub fn line(&self) -> Option<usize> {
        match self {
            VerifyError::Malformed { line, .. }
            | VerifyError::BadHash { line, .. }
            | VerifyError::BrokenChain { line, .. }
            | VerifyError::BadSequence { line, .. }
            | VerifyError::Io { line, .. } => Some(*line),
            VerifyError::LastHashMismatch { .. } => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Number of entries verified (0 for an empty ledger).
    pub entries: u64,
    /// Hash of the last entry ([`GENESIS_PREV`] for an empty ledger).
    pub last_hash: String,
}

/// Incremental verifier: feed it lines in order.
#[derive(Clone, Debug)]
pub struct Verifier {
    line: usize,
    entries: u64,
    last_seq: u64,
    last_hash: String,
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Verifier {
    pub fn new() -> Self {
        Self::resume(0, GENESIS_PREV)
    }
    /// Verifies a continuation that follows an entry `last_seq` with hash `last_hash`
    /// (line numbers then count from the continuation's first line).
    pub fn resume(last_seq: u64, last_hash: impl Into<String>) -> Self {
        Verifier {
            line: 0,
            entries: 0,
            last_seq,
            last_hash: last_hash.into(),
        }
    }

    /// Checks the next line (without its `\n`).
    pub fn push_line(&mut self, text: &str) -> Result<(), VerifyError> {
        self.line += 1;
        let line = self.line;
        if text.trim().is_empty() {
            return Err(VerifyError::Malformed {
                line,
                seq: None,
                reason: "blank line".into(),
            });
        }
        let e = from_line(text).map_err(|reason| {
            let seq = serde_json::from_str::<Value>(text)
                .ok()
                .and_then(|v| v.get("seq")?.as_u64());
            VerifyError::Malformed {
                line,
                seq,
                reason: reason.to_string(),
            }
        })?;
        let expected = self.last_seq + 1;
        if e.seq != expected {
            return Err(VerifyError::BadSequence {
                expected,
                found: e.seq,
                line,
            });
        }
        if entry_hash(&e) != e.hash {
            return Err(VerifyError::BadHash { seq: e.seq, line });
        }
        if e.prev != self.last_hash {
            return Err(VerifyError::BrokenChain { seq: e.seq, line });
        }
        self.entries += 1;
        self.last_seq = e.seq;
        self.last_hash = e.hash;
        Ok(())
    }

    pub fn report(&self) -> VerifyReport {
        VerifyReport {
            entries: self.entries,
            last_hash: self.last_hash.clone(),
        }
    }
}

/// Verifies a whole ledger. An empty text is a valid ledger of 0 entries.
pub fn verify(text: &str) -> Result<VerifyReport, VerifyError> {
    verify_reader(text.as_bytes())
}

/// Streaming [`verify`]: reads line by line, memory bounded by the longest line.
pub fn verify_reader<R: BufRead>(mut r: R) -> Result<VerifyReport, VerifyError> {
    let mut v = Verifier::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(|e| VerifyError::Io {
            line: v.line + 1,
            reason: e.to_string(),
        })?;
        if n == 0 {
            return Ok(v.report());
        }
        let body = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let text = std::str::from_utf8(body).map_err(|_| VerifyError::Malformed {
            line: v.line + 1,
            seq: None,
            reason: "not valid UTF-8".into(),
        })?;
        v.push_line(text)?;
    }
}

/// [`verify`], then checks that the ledger ends at `expected_last_hash` (kept elsewhere).
/// This is the only way to detect removed trailing entries or a fully recomputed chain.
pub fn verify_against(text: &str, expected_last_hash: &str) -> Result<VerifyReport, VerifyError> {
    let report = verify(text)?;
    if report.last_hash != expected_last_hash {
        return Err(VerifyError::LastHashMismatch {
            entries: report.entries,
            found: report.last_hash,
            expected: expected_last_hash.to_owned(),
        });
    }
    Ok(report)
}
#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
