//! The route index and the classify index (docs/runtime.md, "The route index"): which
//! routes (or arms) an event can possibly match, in the order they are tried.
//!
//! Each route or arm may be *keyed* by an equality its condition requires (`keys.rs`:
//! `ticket.type == "incident" and …`, `class == Access and …`, `ticket.severity == 1 and
//! …`). A [`Dispatch`] is a table over one field, the one most of its entries are keyed
//! on: one lookup of that field's value gives the list of entries to try, in order —
//! those keyed by that value (decided by their residual, the rest of their condition) and
//! those keyed on other fields or not at all. An entry keyed on another field is
//! *guarded*: it is passed over when that field's value is known and is not its key.

use rustc_hash::FxHashMap;
use std::sync::Arc;

use super::keys::{self, Key, Required};
use crate::eval::Frame;
use crate::ir::Discriminant;
use crate::value::Value;

/// How a candidate is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum How {
    /// By its whole condition.
    Full,
    /// By its residual: its key is known to hold.
    Residual,
    /// By its own key (`Compiled::route_req` / `classify_req`): passed over when known not
    /// to hold, by its residual when known to hold, else by its whole condition.
    Guarded,
}

/// A route id (or arm index) and how it is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cand {
    pub at: u32,
    pub how: How,
}

/// Where a value of the dispatch field leads: a bucket number.
#[derive(Default)]
enum Table {
    #[default]
    None,
    /// By variant number (variants are dense), for one enum.
    Variants(u32, Vec<u32>),
    Strs(FxHashMap<Arc<str>, u32>),
    Ints(FxHashMap<i64, u32>),
}

/// Entries (routes best first, or arms in order) dispatched on one field.
#[derive(Default)]
pub(crate) struct Dispatch {
    field: Option<Discriminant>,
    table: Table,
    /// Bucket 0: the field's value is not known (every entry, keyed ones by their whole
    /// condition); 1: known, and no entry is keyed by it; then one per key.
    buckets: Vec<Box<[Cand]>>,
}

/// Bucket numbers.
const UNKNOWN: u32 = 0;
const UNKEYED: u32 = 1;

/// Beyond this many bucket entries, the table is not worth its memory: every entry is
/// tried in order (guarded), as if no field were shared.
const MAX_ENTRIES: usize = 1 << 22;

impl Dispatch {
    /// A dispatch over `entries` (ids in the order they are tried), given each id's key
    /// (`reqs`, indexed by id).
    pub(crate) fn build(entries: impl Iterator<Item = u32>, reqs: &[Option<Required>]) -> Dispatch {
        let entries: Vec<u32> = entries.collect();
        let req = |at: u32| reqs.get(at as usize).and_then(Option::as_ref);
        // The field most entries are keyed on.
        let mut count: Vec<(&Discriminant, usize)> = Vec::new();
        for &at in &entries {
            if let Some(r) = req(at) {
                match count.iter_mut().find(|(d, _)| **d == r.disc) {
                    Some((_, n)) => *n += 1,
                    None => count.push((&r.disc, 1)),
                }
            }
        }
        let mut field = None;
        let mut best = 0;
        for (d, n) in count {
            if n > best {
                (field, best) = (Some(d.clone()), n);
            }
        }
        // Its keys, each given a bucket.
        let mut keys: Vec<Key> = Vec::new();
        let mut index: FxHashMap<Key, u32> = FxHashMap::default();
        let mut unkeyed = 0usize;
        for &at in &entries {
            match req(at) {
                Some(r) if Some(&r.disc) == field.as_ref() => {
                    for k in &r.keys {
                        if !index.contains_key(k) {
                            index.insert(k.clone(), 2 + keys.len() as u32);
                            keys.push(k.clone());
                        }
                    }
                }
                _ => unkeyed += 1,
            }
        }
        let kinds_agree = keys.windows(2).all(|w| {
            std::mem::discriminant(&w[0]) == std::mem::discriminant(&w[1])
                && match (&w[0], &w[1]) {
                    (Key::Variant(a, _), Key::Variant(b, _)) => a == b,
                    _ => true,
                }
        });
        let large = keys
            .len()
            .saturating_mul(unkeyed)
            .saturating_add(entries.len())
            > MAX_ENTRIES;
        let variant_too_large = keys
            .iter()
            .any(|k| matches!(k, Key::Variant(_, v) if *v >= 1 << 20));
        if !kinds_agree || large || variant_too_large {
            field = None;
            keys.clear();
            index.clear();
        }
        let mut buckets: Vec<Vec<Cand>> = vec![Vec::new(); 2 + keys.len()];
        for &at in &entries {
            match req(at) {
                Some(r) if Some(&r.disc) == field.as_ref() => {
                    buckets[UNKNOWN as usize].push(Cand { at, how: How::Full });
                    for k in &r.keys {
                        if let Some(&b) = index.get(k) {
                            buckets[b as usize].push(Cand {
                                at,
                                how: How::Residual,
                            });
                        }
                    }
                }
                other => {
                    let how = if other.is_some() {
                        How::Guarded
                    } else {
                        How::Full
                    };
                    for b in &mut buckets {
                        b.push(Cand { at, how });
                    }
                }
            }
        }
        let table = match keys.first() {
            None => Table::None,
            Some(Key::Variant(e, _)) => {
                let mut by = Vec::new();
                for (i, k) in keys.iter().enumerate() {
                    if let Key::Variant(_, v) = k {
                        let v = *v as usize;
                        if by.len() <= v {
                            by.resize(v + 1, UNKEYED);
                        }
                        by[v] = 2 + i as u32;
                    }
                }
                Table::Variants(*e, by)
            }
            Some(Key::Str(_)) => Table::Strs(
                keys.iter()
                    .enumerate()
                    .filter_map(|(i, k)| match k {
                        Key::Str(s) => Some((s.clone(), 2 + i as u32)),
                        _ => None,
                    })
                    .collect(),
            ),
            Some(Key::Int(_)) => Table::Ints(
                keys.iter()
                    .enumerate()
                    .filter_map(|(i, k)| match k {
                        Key::Int(n) => Some((*n, 2 + i as u32)),
                        _ => None,
                    })
                    .collect(),
            ),
        };
        Dispatch {
            field,
            table,
            buckets: buckets.into_iter().map(Vec::into_boxed_slice).collect(),
        }
    }

    /// Every entry in order, each to be decided by its whole condition.
    pub(crate) fn all(&self) -> impl Iterator<Item = Cand> + '_ {
        self.buckets
            .first()
            .into_iter()
            .flat_map(|b| b.iter())
            .map(|c| Cand {
                at: c.at,
                how: How::Full,
            })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buckets.first().is_none_or(|b| b.is_empty())
    }

    /// The entries to try on frame `f`, in order.
    #[inline]
    pub(crate) fn candidates(&self, f: &Frame<'_>) -> &[Cand] {
        let bucket = match &self.field {
            None => UNKNOWN,
            Some(field) => match keys::known(field, f) {
                None => UNKNOWN,
                Some(v) => self.bucket(&v),
            },
        };
        self.buckets.get(bucket as usize).map_or(&[], |b| b)
    }

    #[inline]
    fn bucket(&self, v: &Value) -> u32 {
        match (&self.table, v) {
            (Table::Variants(e, by), Value::Enum(e2, x)) if e == e2 => {
                by.get(*x as usize).copied().unwrap_or(UNKEYED)
            }
            (Table::Strs(m), Value::Str(s)) => m.get(&**s).copied().unwrap_or(UNKEYED),
            (Table::Ints(m), Value::Int(i)) => m.get(i).copied().unwrap_or(UNKEYED),
            _ => UNKNOWN,
        }
    }
}
