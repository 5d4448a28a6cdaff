//! Reference tables at run time (docs/runtime.md, "Reference tables"): each table's rows
//! are indexed by key once, when the bundle is loaded, so a lookup is one hash-map probe.

use std::collections::HashMap;
use std::sync::Arc;

use super::lit;
use crate::ir::TableDef;
use crate::value::Value;

/// What a key column may hold (the compiler allows strings, persons, integers and enums);
/// aggregates' keys too (`aggregate.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    Str(Arc<str>),
    Int(i64),
    Enum(u32, u32),
}

pub(crate) fn key(v: &Value) -> Option<Key> {
    match v {
        Value::Str(s) | Value::Person(s) => Some(Key::Str(s.clone())),
        Value::Int(i) => Some(Key::Int(*i)),
        Value::Enum(e, x) => Some(Key::Enum(*e, *x)),
        _ => None,
    }
}

/// One table's rows by key, each row a record value.
#[derive(Debug, Default)]
pub struct TableIndex {
    rows: HashMap<Key, Value>,
}

impl TableIndex {
    pub fn new(t: &TableDef) -> TableIndex {
        let mut rows = HashMap::with_capacity(t.rows.len());
        for row in &t.rows {
            let values: Arc<[Value]> = row.iter().map(lit).collect();
            if let Some(k) = values.get(t.key as usize).and_then(key) {
                // Keys are distinct (the compiler checked); the first row wins regardless.
                rows.entry(k).or_insert(Value::Record(values));
            }
        }
        TableIndex { rows }
    }

    /// The row whose key equals `k`, or none (a `none` key, or no such row).
    pub fn get(&self, k: &Value) -> Value {
        key(k)
            .and_then(|k| self.rows.get(&k).cloned())
            .unwrap_or(Value::None)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
