//! The ledger's writer: entries go straight to their line bytes, in one pass.
//!
//! A line holds the fields in line order (`seq, at, case, kind, rule, detail, bundle, prev,
//! hash`); the hash covers the same field encodings in sorted order. So the writer encodes
//! each field once into the line buffer, remembers where each one is, and feeds SHA-256
//! the pieces in canonical order — the line and the hash input are never built twice, and
//! no [`Entry`] (six strings and a JSON tree) exists unless a caller asks for one.
//!
//! `detail` comes either from a [`Detail`] builder (typed, written as canonical JSON as it
//! is built, the engine's path) or from a `serde_json::Value` (normalised first, see
//! [`LedgerWriter::append`]). Both give the same bytes for the same object.

use std::ops::Range;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Entry, GENESIS_PREV, from_line, normalize_detail, write_str, write_value};

/// A `detail` object under construction, as canonical JSON. Keys must be added in sorted
/// order (checked in debug builds), each at most once; values are written as they come.
#[derive(Clone, Debug)]
pub struct Detail {
    buf: String,
    #[cfg(debug_assertions)]
    last: Option<&'static str>,
}

impl Default for Detail {
    fn default() -> Self {
        Self::new()
    }
}

impl Detail {
    pub fn new() -> Detail {
        let mut buf = String::with_capacity(128);
        buf.push('{');
        Detail {
            buf,
            #[cfg(debug_assertions)]
            last: None,
        }
    }

    /// Empties the object, keeping its memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.buf.push('{');
        #[cfg(debug_assertions)]
        {
            self.last = None;
        }
    }

    fn key(&mut self, k: &'static str) -> &mut String {
        #[cfg(debug_assertions)]
        {
            assert!(
                self.last.is_none_or(|l| l.as_bytes() < k.as_bytes()),
                "detail keys out of canonical order: {:?} after {:?}",
                k,
                self.last
            );
            self.last = Some(k);
        }
        if self.buf.len() > 1 {
            self.buf.push(',');
        }
        write_str(k, &mut self.buf);
        self.buf.push(':');
        &mut self.buf
    }

    pub fn str(&mut self, k: &'static str, v: &str) -> &mut Detail {
        write_str(v, self.key(k));
        self
    }

    /// A string, or `null` when absent.
    pub fn opt_str(&mut self, k: &'static str, v: Option<&str>) -> &mut Detail {
        match v {
            Some(v) => self.str(k, v),
            None => self.null(k),
        }
    }

    pub fn int(&mut self, k: &'static str, v: i64) -> &mut Detail {
        self.key(k).push_str(itoa::Buffer::new().format(v));
        self
    }

    pub fn bool(&mut self, k: &'static str, v: bool) -> &mut Detail {
        self.key(k).push_str(if v { "true" } else { "false" });
        self
    }

    pub fn null(&mut self, k: &'static str) -> &mut Detail {
        self.key(k).push_str("null");
        self
    }

    /// Any JSON value, canonically (sorted keys at every level; non-integer numbers are
    /// stored as their text, as [`LedgerWriter::append`] does).
    pub fn json(&mut self, k: &'static str, v: &Value) -> &mut Detail {
        let clean = super::only_integers(v);
        if clean {
            write_value(v, self.key(k));
        } else {
            let v = super::integers_or_text(v.clone());
            write_value(&v, self.key(k));
        }
        self
    }

    /// A key whose value the caller writes straight into the buffer, as canonical JSON
    /// (sorted keys, no whitespace; [`write_json`](super::write_json) and
    /// [`write_str`](super::write_str) do so): for details built without a `Value`.
    pub(crate) fn raw(&mut self, k: &'static str) -> &mut String {
        self.key(k)
    }

    /// The finished object's canonical JSON.
    fn finish(&mut self) -> &str {
        self.buf.push('}');
        &self.buf
    }

    /// A detail given as a JSON value, normalised as [`LedgerWriter::append`] says.
    pub fn from_json(v: Value) -> Detail {
        let mut d = Detail::new();
        d.buf.clear();
        write_value(&normalize_detail(v), &mut d.buf);
        // Already closed: `finish` must not add another brace.
        d.buf.pop();
        d
    }
}

/// Appends entries, keeping `seq` and the last hash. Entries are buffered as JSON Lines
/// until taken ([`take_jsonl`](Self::take_jsonl) or [`take_entries`](Self::take_entries)).
#[derive(Clone, Debug)]
pub struct LedgerWriter {
    last_seq: u64,
    last_hash: String,
    buf: String,
    pending: usize,
    /// The canonical hash input of the entry being written, kept for its memory: SHA-256
    /// is fed one contiguous slice (17 small updates cost more than the copy).
    hash_input: String,
    /// The last `bundle` written and its JSON encoding: an engine writes the same bundle
    /// hash into every entry, so it is encoded once.
    bundle: (String, String),
    /// Set by [`defer_hashing`](Self::defer_hashing): entries are written without `prev`
    /// and `hash`, and here is where each one's fields sit in `buf`.
    deferred: Option<Vec<Fields>>,
}

/// Entries written without `prev` and `hash` (a writer after
/// [`LedgerWriter::defer_hashing`]), for a [`Chainer`] to complete, in order.
#[derive(Clone, Debug, Default)]
pub struct Unchained {
    buf: String,
    fields: Vec<Fields>,
}

impl Unchained {
    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.fields.len()
    }
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Completes [`Unchained`] entries into ledger lines: it keeps the chain's last hash and
/// adds `prev` and `hash` to each entry, exactly as an ordinary [`LedgerWriter`] would have
/// (docs/performance.md, "`meshline run` as a pipeline": hashing runs on another thread).
#[derive(Clone, Debug)]
pub struct Chainer {
    last_hash: String,
    hash_input: String,
}

impl Chainer {
    /// Appends the lines of `entries` to `out` (each ending in `\n`).
    pub fn chain(&mut self, entries: &Unchained, out: &mut String) {
        out.reserve(entries.buf.len() + entries.fields.len() * 160);
        for f in &entries.fields {
            // The entry's bytes run from `{"seq":` to the end of `bundle`.
            let from = f.seq.start - SEQ.len();
            let start = out.len();
            out.push_str(&entries.buf[from..f.bundle.end]);
            let shift = |r: &Range<usize>| r.start - from + start..r.end - from + start;
            let mut moved = Fields {
                seq: shift(&f.seq),
                at: shift(&f.at),
                case: shift(&f.case),
                kind: shift(&f.kind),
                rule: shift(&f.rule),
                detail: shift(&f.detail),
                bundle: shift(&f.bundle),
                prev: 0..0,
            };
            moved.prev = put(out, ",\"prev\":", |b| write_str(&self.last_hash, b));
            finish_line(out, &moved, &mut self.hash_input, &mut self.last_hash);
        }
    }

    /// The hash of the last entry chained (or the one the chain resumed from).
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }
}

const SEQ: &str = "{\"seq\":";

impl Default for LedgerWriter {
    fn default() -> Self {
        Self::new()
    }
}

/// Where each field's encoded value sits in the line buffer.
#[derive(Clone, Debug)]
struct Fields {
    seq: Range<usize>,
    at: Range<usize>,
    case: Range<usize>,
    kind: Range<usize>,
    rule: Range<usize>,
    detail: Range<usize>,
    bundle: Range<usize>,
    prev: Range<usize>,
}

impl LedgerWriter {
    /// A new, empty ledger: the first entry gets seq 1 and `prev` = [`GENESIS_PREV`].
    pub fn new() -> Self {
        Self::resume(0, GENESIS_PREV)
    }

    /// Continues an existing ledger whose last entry has `last_seq` and `last_hash`.
    pub fn resume(last_seq: u64, last_hash: impl Into<String>) -> Self {
        LedgerWriter {
            last_seq,
            last_hash: last_hash.into(),
            buf: String::new(),
            pending: 0,
            hash_input: String::with_capacity(512),
            bundle: (String::new(), "\"\"".to_string()),
            deferred: None,
        }
    }

    /// From here on, entries are written without `prev` and `hash`: the returned
    /// [`Chainer`] completes them (on another thread), taken with
    /// [`swap_unchained`](Self::swap_unchained). `None` while entries are pending (take
    /// them first) or when hashing is deferred already. [`last_hash`](Self::last_hash) is
    /// then the chainer's to know, and the line methods (`take_jsonl`, `entries`, ...)
    /// hand over nothing.
    pub fn defer_hashing(&mut self) -> Option<Chainer> {
        if self.pending > 0 || self.deferred.is_some() {
            return None;
        }
        self.deferred = Some(Vec::new());
        Some(Chainer {
            last_hash: self.last_hash.clone(),
            hash_input: String::with_capacity(512),
        })
    }

    /// Whether hashing was deferred ([`defer_hashing`](Self::defer_hashing)).
    pub fn is_deferred(&self) -> bool {
        self.deferred.is_some()
    }

    /// Hands over the entries written since hashing was deferred, in `out` (cleared first),
    /// whose memory the writer keeps for the next entries.
    pub fn swap_unchained(&mut self, out: &mut Unchained) {
        out.buf.clear();
        out.fields.clear();
        if let Some(fields) = self.deferred.as_mut() {
            std::mem::swap(&mut self.buf, &mut out.buf);
            std::mem::swap(fields, &mut out.fields);
            self.pending = 0;
        }
    }

    /// Appends an entry. `detail` is stored as an object (`null` → `{}`, another non-object
    /// `v` → `{"value": v}`) with every non-integer number turned into a string of its text.
    /// Returns the entry as written (parsed back from its line).
    pub fn append(
        &mut self,
        at: &str,
        case: Option<&str>,
        kind: &str,
        rule: Option<&str>,
        detail: Value,
        bundle: &str,
    ) -> Entry {
        let mut d = Detail::from_json(detail);
        let start = self.buf.len();
        self.append_detail(at, case, kind, rule, &mut d, bundle);
        let line = &self.buf[start..self.buf.len() - 1];
        from_line(line).expect("the writer writes valid lines")
    }

    /// Appends an entry whose `detail` was built with [`Detail`]. The builder is left
    /// finished; [`Detail::clear`] it to reuse its memory.
    pub fn append_detail(
        &mut self,
        at: &str,
        case: Option<&str>,
        kind: &str,
        rule: Option<&str>,
        detail: &mut Detail,
        bundle: &str,
    ) {
        let seq = self.last_seq + 1;
        if self.bundle.0 != bundle {
            self.bundle.0.clear();
            self.bundle.0.push_str(bundle);
            self.bundle.1.clear();
            write_str(bundle, &mut self.bundle.1);
        }
        let b = &mut self.buf;
        b.reserve(256 + detail.buf.len());
        let f = Fields {
            seq: put(b, SEQ, |b| b.push_str(itoa::Buffer::new().format(seq))),
            at: put(b, ",\"at\":", |b| write_str(at, b)),
            case: put(b, ",\"case\":", |b| write_opt(case, b)),
            kind: put(b, ",\"kind\":", |b| write_str(kind, b)),
            rule: put(b, ",\"rule\":", |b| write_opt(rule, b)),
            detail: put(b, ",\"detail\":", |b| b.push_str(detail.finish())),
            bundle: put(b, ",\"bundle\":", |b| b.push_str(&self.bundle.1)),
            prev: 0..0,
        };
        self.last_seq = seq;
        self.pending += 1;
        if let Some(deferred) = self.deferred.as_mut() {
            deferred.push(f);
            return;
        }
        let mut f = f;
        f.prev = put(b, ",\"prev\":", |b| write_str(&self.last_hash, b));
        finish_line(b, &f, &mut self.hash_input, &mut self.last_hash);
    }

    pub fn last_seq(&self) -> u64 {
        self.last_seq
    }
    pub fn last_hash(&self) -> &str {
        &self.last_hash
    }
    /// How many entries are buffered.
    pub fn pending(&self) -> usize {
        self.pending
    }
    /// The buffered entries, parsed from their lines (none once hashing is deferred).
    pub fn entries(&self) -> Vec<Entry> {
        if self.deferred.is_some() {
            return Vec::new();
        }
        self.buf
            .lines()
            .map(|l| from_line(l).expect("the writer writes valid lines"))
            .collect()
    }
    /// Hands over the buffered entries (e.g. to inspect them) and keeps the chain going.
    pub fn take_entries(&mut self) -> Vec<Entry> {
        if self.deferred.is_some() {
            return Vec::new();
        }
        let entries = self.entries();
        self.buf.clear();
        self.pending = 0;
        entries
    }
    /// Hands over the buffered entries as JSON Lines (each line ending in `\n`) and keeps
    /// the chain going. The fast way to persist them.
    pub fn take_jsonl(&mut self) -> String {
        if self.deferred.is_some() {
            return String::new();
        }
        self.pending = 0;
        std::mem::take(&mut self.buf)
    }
    /// Hands over the buffered entries as JSON Lines in `out` (cleared first), whose memory
    /// the writer keeps for the next entries; keeps the chain going.
    pub fn swap_jsonl(&mut self, out: &mut String) {
        out.clear();
        if self.deferred.is_some() {
            return;
        }
        std::mem::swap(&mut self.buf, out);
        self.pending = 0;
    }
    /// The buffered entries as JSON Lines, each line ending in `\n`.
    pub fn to_jsonl(&self) -> String {
        if self.deferred.is_some() {
            return String::new();
        }
        self.buf.clone()
    }
}

/// Writes `name` then a value, and returns where the value is.
fn put(b: &mut String, name: &str, write: impl FnOnce(&mut String)) -> Range<usize> {
    b.push_str(name);
    let start = b.len();
    write(b);
    start..b.len()
}

fn write_opt(v: Option<&str>, b: &mut String) {
    match v {
        Some(v) => write_str(v, b),
        None => b.push_str("null"),
    }
}

/// Hashes the entry whose fields (through `prev`) end `b`, then closes its line with
/// `hash`; `last_hash` becomes that hash.
fn finish_line(b: &mut String, f: &Fields, input: &mut String, last_hash: &mut String) {
    let digest = hash_fields(b, f, input);
    let mut hex = [0u8; 64];
    let hex = hex_into(&digest, &mut hex);
    b.push_str(",\"hash\":\"");
    b.push_str(hex);
    b.push_str("\"}\n");
    last_hash.clear();
    last_hash.push_str(hex);
}

/// SHA-256 of the canonical encoding: the fields but `hash`, keys sorted, assembled in
/// `input` first.
fn hash_fields(b: &str, f: &Fields, input: &mut String) -> [u8; 32] {
    input.clear();
    let parts: [(&str, &Range<usize>); 8] = [
        ("{\"at\":", &f.at),
        (",\"bundle\":", &f.bundle),
        (",\"case\":", &f.case),
        (",\"detail\":", &f.detail),
        (",\"kind\":", &f.kind),
        (",\"prev\":", &f.prev),
        (",\"rule\":", &f.rule),
        (",\"seq\":", &f.seq),
    ];
    for (name, range) in parts {
        input.push_str(name);
        input.push_str(&b[range.clone()]);
    }
    input.push('}');
    Sha256::digest(input.as_bytes()).into()
}

/// Lower-case hex of a digest, in `out`.
fn hex_into<'a>(digest: &[u8; 32], out: &'a mut [u8; 64]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, b) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 0xf)];
    }
    // Only ASCII digits and letters were written.
    std::str::from_utf8(out).unwrap_or_default()
}

/// The `kind` of a line this writer wrote, without parsing it. The first `,"kind":"` in a
/// line is the field: inside a JSON string a `"` is always escaped.
pub fn line_kind(line: &str) -> Option<&str> {
    let rest = &line[line.find(",\"kind\":\"")? + 9..];
    Some(&rest[..rest.find('"')?])
}
