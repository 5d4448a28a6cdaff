//! Aggregates over history in the IR (docs/language.md §5.6, docs/runtime.md,
//! "Aggregates"): carried in the bundle's `aggregates` section (ir/sections.rs).

use serde::{Deserialize, Serialize};

use super::{EventId, Expr, WireTy};

/// An `aggregate` declaration: per-key running totals the engine keeps from events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggregateDef {
    pub name: String,
    /// `over D`: the sliding window in seconds; `None` counts all history.
    pub window: Option<i64>,
    /// `keep N keys`: the most keys held; the least recently updated is evicted beyond it.
    pub keep: u64,
    /// The events that feed it, each with its key expression.
    pub feeds: Vec<AggFeed>,
    /// The fields of a lookup's record, in declared order.
    pub fields: Vec<AggField>,
    /// The declaration's canonical text: a deployment keeps an aggregate's state only when
    /// it is unchanged (docs/runtime.md, "Aggregates").
    pub fingerprint: String,
    /// `open cases by KEY [when COND]`: an aggregate the case lifecycle feeds instead of
    /// events (docs/runtime.md, "Open cases per key"). Section `open_cases`.
    #[serde(skip)]
    pub cases: Option<OpenCases>,
}

/// `open cases by KEY [when COND]`: each open case counts once, under the key its facts
/// give (no event in scope).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenCases {
    pub key: Expr,
    pub when: Option<Expr>,
}

/// `on EVENT by KEY [when COND]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggFeed {
    pub event: EventId,
    pub key: Expr,
    pub when: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggField {
    pub name: String,
    /// The field's type as a lookup reads it.
    pub ty: WireTy,
    pub op: AggOp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AggOp {
    /// The number of events in the window.
    Count,
    /// The sum of an `Int`, `Decimal` or `Money` value over the window's events.
    Sum(Expr),
    /// The value of the latest event (by event time) in the window that had one.
    Latest(Expr),
}

impl AggregateDef {
    /// Bucket width in seconds and bucket count: 30 buckets of `ceil(D / 30)` seconds, or
    /// one bucket for ever when there is no window.
    pub fn buckets(&self) -> (i64, i64) {
        match self.window {
            // Rounded up without overflow, whatever a bundle says.
            Some(d) if d > 0 => {
                let width = (d - 1) / BUCKETS + 1;
                (width, (d - 1) / width + 1)
            }
            _ => (i64::MAX, 1),
        }
    }
}

/// How many buckets a window is cut into (docs/runtime.md, "Aggregates").
pub const BUCKETS: i64 = 30;

/// The default `keep`: the most keys an aggregate holds when it does not say.
pub const DEFAULT_KEEP: u64 = 100_000;
