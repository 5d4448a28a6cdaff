//! Aggregates over history at run time (docs/runtime.md, "Aggregates"): per key, a ring of
//! time buckets over event time, so memory per key is bounded by the bucket count and a
//! lookup sums a fixed number of buckets after one hash probe.
//!
//! A window of D is cut into buckets of `ceil(D / 30)` seconds aligned on the Unix epoch;
//! a lookup at instant `t` reads the bucket holding `t` and the ones before it, `n` in all
//! (`AggregateDef::buckets`). An event therefore counts from its instant until at least
//! `D - width` and less than `D + width` later: it falls out within one bucket of D.
//! Without a window there is one bucket for ever.
//!
//! Keys are bounded: a key whose buckets all left the window is dropped when it is next
//! touched or reached by the sweep that follows each update (oldest update first), and
//! beyond `keep` keys the least recently updated key is evicted (the caller records it).
//!
//! Determinism: the order of updates is the order of events; nothing here iterates a hash
//! map into output (the snapshot writes keys in update order).

use std::collections::BTreeMap;

use jiff::Timestamp;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap as HashMap;

use super::EvalError;
pub use super::table::Key;
use super::table::key as key_of;
use crate::ir::{AggOp, AggregateDef, WireTy};
use crate::value::Value;

/// The key a value gives (none for a none value or one that cannot be a key).
pub(crate) fn key_of_value(v: &Value) -> Option<Key> {
    key_of(v)
}

/// What one field accumulates in one bucket.
#[derive(Clone, Debug, PartialEq)]
pub enum Acc {
    Count(i64),
    Int(i64),
    Decimal(Decimal),
    /// Per currency, in the order first seen.
    Money(Vec<([u8; 3], Decimal)>),
    /// The latest value by event time, with that time.
    Latest(Option<(Timestamp, Value)>),
    /// A sum overflowed in this bucket: reading it is an evaluation error.
    Overflow,
}

/// The kind of accumulator a field uses (from its operation and type).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Count,
    Int,
    Decimal,
    Money,
    Latest,
}

fn kind(op: &AggOp, ty: &WireTy) -> Kind {
    let base = match ty {
        WireTy::Optional(t) => &**t,
        t => t,
    };
    match (op, base) {
        (AggOp::Count, _) => Kind::Count,
        (AggOp::Latest(_), _) => Kind::Latest,
        (AggOp::Sum(_), WireTy::Money) => Kind::Money,
        (AggOp::Sum(_), WireTy::Decimal) => Kind::Decimal,
        (AggOp::Sum(_), _) => Kind::Int,
    }
}

impl Kind {
    fn zero(self) -> Acc {
        match self {
            Kind::Count => Acc::Count(0),
            Kind::Int => Acc::Int(0),
            Kind::Decimal => Acc::Decimal(Decimal::ZERO),
            Kind::Money => Acc::Money(Vec::new()),
            Kind::Latest => Acc::Latest(None),
        }
    }
}

/// One time bucket of one key: its index (instant / width) and one accumulator per field.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub index: i64,
    pub accs: Vec<Acc>,
}

/// One key's buckets: a ring of at most `n` (slot = index mod n), and when it was last
/// updated (the update sequence number, which orders eviction).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyState {
    pub ring: Vec<Option<Bucket>>,
    pub seq: u64,
    /// The newest bucket index it holds.
    pub newest: i64,
}

/// One aggregate's live state.
#[derive(Clone, Debug)]
pub struct AggState {
    kinds: Vec<Kind>,
    width: i64,
    n: i64,
    keep: u64,
    pub(crate) keys: HashMap<Key, KeyState>,
    /// Update sequence → key, oldest first: the eviction and sweep order.
    pub(crate) order: BTreeMap<u64, Key>,
    pub(crate) seq: u64,
    /// Keys evicted because the aggregate held `keep` keys (reported, kept in snapshots).
    pub(crate) evicted: u64,
    /// For an aggregate of open cases (`open cases by`): each counted case and the key it
    /// counts under, so a case moves when its key changes and leaves when it stops being
    /// open (engine/open_cases.rs). Empty for the others.
    pub(crate) members: BTreeMap<std::sync::Arc<str>, Key>,
}

/// What a feed removed besides expired keys: a key evicted at the cap.
pub type Evicted = Option<Key>;

impl AggState {
    pub fn new(def: &AggregateDef) -> AggState {
        let (width, n) = def.buckets();
        AggState {
            kinds: def.fields.iter().map(|f| kind(&f.op, &f.ty)).collect(),
            width,
            n,
            keep: def.keep.max(1),
            keys: HashMap::default(),
            order: BTreeMap::new(),
            seq: 0,
            evicted: 0,
            members: BTreeMap::new(),
        }
    }

    /// Add `delta` to every `count` of `key` (an aggregate of open cases: one bucket for
    /// ever, no eviction); a key whose count reaches zero is dropped, so memory follows the
    /// keys with open cases.
    pub(crate) fn adjust(&mut self, key: &Key, delta: i64) {
        let kinds = &self.kinds;
        let state = self.keys.entry(key.clone()).or_insert_with(|| KeyState {
            ring: vec![Some(Bucket {
                index: 0,
                accs: kinds.iter().map(|k| k.zero()).collect(),
            })],
            seq: 0,
            newest: 0,
        });
        let mut left = 0;
        for bucket in state.ring.iter_mut().flatten() {
            for acc in &mut bucket.accs {
                if let Acc::Count(c) = acc {
                    *c = c.saturating_add(delta).max(0);
                    left = left.max(*c);
                }
            }
        }
        if left == 0 {
            self.keys.remove(key);
        }
    }

    fn bucket(&self, t: Timestamp) -> i64 {
        if self.n == 1 && self.width == i64::MAX {
            0
        } else {
            t.as_second().div_euclid(self.width)
        }
    }

    /// Whether a key whose newest bucket is `newest` holds nothing at `now`'s bucket.
    fn expired(&self, newest: i64, now: i64) -> bool {
        newest <= now.saturating_sub(self.n)
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// An event at `at` for `key`, the clock at `now`, with one value per field (`None`
    /// for `count`, and for a value that is none, which counts but adds nothing). A none
    /// or unusable key feeds nothing. Returns a key evicted at the cap, if any.
    pub fn feed(
        &mut self,
        key: &Value,
        at: Timestamp,
        now: Timestamp,
        values: &[Option<Value>],
    ) -> Evicted {
        let k = key_of(key)?;
        let now_b = self.bucket(now).max(self.bucket(at));
        let b = self.bucket(at);
        let mut evicted = None;
        if self.expired(b, now_b) {
            // Older than the window already: it would never be read.
            return None;
        }
        self.seq += 1;
        let seq = self.seq;
        if !self.keys.contains_key(&k) && self.keys.len() as u64 >= self.keep {
            self.sweep(now_b);
            if self.keys.len() as u64 >= self.keep
                && let Some((_, old)) = self.order.pop_first()
            {
                self.keys.remove(&old);
                self.evicted += 1;
                evicted = Some(old);
            }
        }
        let n = self.n as usize;
        let kinds = &self.kinds;
        let state = self.keys.entry(k.clone()).or_insert_with(|| KeyState {
            ring: vec![None; n],
            seq,
            newest: b,
        });
        self.order.remove(&state.seq);
        state.seq = seq;
        state.newest = state.newest.max(b);
        self.order.insert(seq, k);
        let slot = b.rem_euclid(self.n) as usize;
        if let Some(cell) = state.ring.get_mut(slot) {
            // A newer bucket in this slot: this event left the window for good.
            let stale = matches!(cell, Some(bucket) if bucket.index > b);
            if !matches!(cell, Some(bucket) if bucket.index >= b) {
                *cell = Some(Bucket {
                    index: b,
                    accs: kinds.iter().map(|k| k.zero()).collect(),
                });
            }
            if !stale && let Some(bucket) = cell {
                for (acc, v) in bucket.accs.iter_mut().zip(values) {
                    add(acc, v.as_ref(), at);
                }
            }
        }
        self.sweep(now_b);
        evicted
    }

    /// Drop keys whose window is empty at bucket `now`, oldest update first, stopping at the
    /// first that still holds something (each key is dropped once: amortised O(1)).
    fn sweep(&mut self, now: i64) {
        while let Some((&seq, k)) = self.order.first_key_value() {
            let gone = self.keys.get(k).is_none_or(|s| self.expired(s.newest, now));
            if !gone {
                break;
            }
            if let Some(k) = self.order.remove(&seq) {
                self.keys.remove(&k);
            }
        }
    }

    /// The fields for `key` over the window at `now` (`None`: the key's newest bucket), as a
    /// record in declared order. A key never seen, or none, reads zero counts and sums and
    /// none for `latest` and for a `Money` sum.
    pub fn get(&self, key: &Value, now: Option<Timestamp>) -> Result<Value, EvalError> {
        let state = key_of(key).and_then(|k| self.keys.get(&k));
        let mut out: Vec<Acc> = self.kinds.iter().map(|k| k.zero()).collect();
        if let Some(s) = state {
            let hi = now.map_or(s.newest, |t| self.bucket(t));
            let lo = hi.saturating_sub(self.n);
            for bucket in s.ring.iter().flatten() {
                if bucket.index > lo && bucket.index <= hi {
                    for (o, a) in out.iter_mut().zip(&bucket.accs) {
                        merge(o, a);
                    }
                }
            }
        }
        let values = out
            .into_iter()
            .map(read)
            .collect::<Result<Vec<Value>, EvalError>>()?;
        Ok(Value::Record(values.into()))
    }

    /// The settings a state was built for must match to carry it (a deployment).
    pub(crate) fn same_shape(&self, other: &AggState) -> bool {
        self.kinds == other.kinds && self.width == other.width && self.n == other.n
    }

    /// Bucket count (for restoring: a ring has exactly this many slots).
    pub(crate) fn ring_len(&self) -> usize {
        self.n as usize
    }

    pub(crate) fn fields(&self) -> usize {
        self.kinds.len()
    }
}

fn add(acc: &mut Acc, v: Option<&Value>, at: Timestamp) {
    match (acc, v) {
        (Acc::Count(c), _) => *c = c.saturating_add(1),
        (Acc::Overflow, _) | (_, None) | (_, Some(Value::None)) => {}
        (acc @ Acc::Int(_), Some(Value::Int(x))) => {
            if let Acc::Int(s) = acc {
                match s.checked_add(*x) {
                    Some(y) => *s = y,
                    None => *acc = Acc::Overflow,
                }
            }
        }
        (acc @ Acc::Decimal(_), Some(Value::Decimal(x))) => {
            if let Acc::Decimal(s) = acc {
                match s.checked_add(*x) {
                    Some(y) => *s = y,
                    None => *acc = Acc::Overflow,
                }
            }
        }
        (acc @ Acc::Money(_), Some(Value::Money(x, c))) => {
            if let Acc::Money(sums) = acc {
                match sums.iter_mut().find(|(cur, _)| cur == c) {
                    Some((_, s)) => match s.checked_add(*x) {
                        Some(y) => *s = y,
                        None => *acc = Acc::Overflow,
                    },
                    None => sums.push((*c, *x)),
                }
            }
        }
        // Equal instants: the event applied later wins.
        (Acc::Latest(l), Some(v)) if l.as_ref().is_none_or(|(t, _)| *t <= at) => {
            *l = Some((at, v.clone()));
        }
        // A value of another shape (the checker rules it out): nothing to add.
        _ => {}
    }
}

fn merge(out: &mut Acc, a: &Acc) {
    match (&mut *out, a) {
        (_, Acc::Overflow) => *out = Acc::Overflow,
        (Acc::Count(s), Acc::Count(x)) | (Acc::Int(s), Acc::Int(x)) => match s.checked_add(*x) {
            Some(y) => *s = y,
            None => *out = Acc::Overflow,
        },
        (Acc::Decimal(s), Acc::Decimal(x)) => match s.checked_add(*x) {
            Some(y) => *s = y,
            None => *out = Acc::Overflow,
        },
        (Acc::Money(sums), Acc::Money(xs)) => {
            for (c, x) in xs {
                match sums.iter_mut().find(|(cur, _)| cur == c) {
                    Some((_, s)) => match s.checked_add(*x) {
                        Some(y) => *s = y,
                        None => {
                            *out = Acc::Overflow;
                            return;
                        }
                    },
                    None => sums.push((*c, *x)),
                }
            }
        }
        (Acc::Latest(l), Acc::Latest(Some((t, v))))
            if l.as_ref().is_none_or(|(cur, _)| cur < t) =>
        {
            *l = Some((*t, v.clone()));
        }
        _ => {}
    }
}

fn read(a: Acc) -> Result<Value, EvalError> {
    match a {
        Acc::Count(c) | Acc::Int(c) => Ok(Value::Int(c)),
        Acc::Decimal(d) => Ok(Value::Decimal(d)),
        Acc::Money(sums) => match sums.as_slice() {
            [] => Ok(Value::None),
            [(c, s)] => Ok(Value::Money(*s, *c)),
            [(a, _), (b, _), ..] => Err(EvalError::CurrencyMismatch(*a, *b)),
        },
        Acc::Latest(l) => Ok(l.map_or(Value::None, |(_, v)| v)),
        Acc::Overflow => Err(EvalError::Overflow),
    }
}

#[cfg(test)]
#[path = "aggregate_tests.rs"]
mod tests;
