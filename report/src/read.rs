//! Reading ledger lines for the report: only the fields a figure needs, borrowed from the
//! line (no `serde_json::Value` per entry), so a million entries read in well under the
//! report's time budget (docs/performance.md).
//!
//! The report does not verify the hash chain (`meshline ledger verify` does); it reads
//! what the ledger says. A line that is not a ledger entry is an error naming the line.

use std::borrow::Cow;

use serde::Deserialize;

/// One ledger entry, as far as the report reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry<'a> {
    #[serde(borrow)]
    pub(crate) at: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) case: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(crate) rule: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(crate) detail: Detail<'a>,
}

/// The `detail` fields the figures read (docs/kpis.md names each one); others are skipped.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Detail<'a> {
    #[serde(borrow, rename = "type")]
    pub(crate) event_type: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) class: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) owner: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) assignee: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) route: Option<Cow<'a, str>>,
    pub(crate) exception: Option<bool>,
    #[serde(borrow)]
    pub(crate) reason: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) error: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) automation: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) action: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) gates: Vec<Cow<'a, str>>,
    pub(crate) request: Option<u64>,
    #[serde(borrow)]
    pub(crate) by: Option<Cow<'a, str>>,
    /// The idempotency key of a step (`executed`, `succeeded`, …); a route's routing key
    /// (`assigned`) may be any JSON value and is not read.
    #[serde(borrow)]
    pub(crate) key: Option<Key<'a>>,
    pub(crate) step: Option<u64>,
    pub(crate) retryable: Option<bool>,
    pub(crate) compensation: Option<bool>,
    #[serde(borrow)]
    pub(crate) elapsed: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(crate) target: Option<Cow<'a, str>>,
    pub(crate) cycle: Option<u64>,
    #[serde(borrow)]
    pub(crate) previous: Option<Cow<'a, str>>,
    /// A quorum's approvals so far and how many it needs (`approved`).
    pub(crate) approvals: Option<u64>,
    pub(crate) required: Option<u64>,
    /// A staged rollout's transition (`promoted`, `rolled_back`): the stages. Other
    /// entries use `from` and `to` for other things (a notification's recipient may be
    /// `null`), so any JSON value is accepted and only text is read.
    #[serde(borrow)]
    pub(crate) from: Option<Key<'a>>,
    #[serde(borrow)]
    pub(crate) to: Option<Key<'a>>,
}

/// Parse one line; the error is serde's, for the caller to place.
pub(crate) fn entry(line: &str) -> Result<Entry<'_>, serde_json::Error> {
    serde_json::from_str(line)
}

/// A `key` field: a string (an idempotency key) or anything else (a routing key).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Key<'a> {
    #[serde(borrow)]
    Text(Cow<'a, str>),
    Other(serde::de::IgnoredAny),
}

impl Key<'_> {
    pub(crate) fn text(&self) -> Option<&str> {
        match self {
            Key::Text(t) => Some(t),
            Key::Other(_) => None,
        }
    }
}
