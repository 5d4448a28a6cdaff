//! What became of one applied input (docs/runtime.md, "Applying an event"): accepted,
//! recorded as a `duplicate`, or recorded as `rejected` with one of the reasons below.
//!
//! The ledger keeps the reason's text (bounded, docs/deploy.md "Limits"); a host such as
//! `serve` answers from this value instead of reading the ledger lines back.

use std::fmt;

use super::record::{MAX_REASON_BYTES, clip};
use crate::value::DecodeError;

/// The outcome of applying one input to an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The event was applied: a `received` entry and what it decided were written.
    Accepted,
    /// The id was already applied within the deduplication window: a `duplicate` entry was
    /// written and nothing else happened.
    Duplicate,
    /// The input was not applied: a `rejected` entry with this reason was written.
    Rejected(RejectReason),
}

impl ApplyOutcome {
    pub fn is_accepted(&self) -> bool {
        matches!(self, ApplyOutcome::Accepted)
    }
}

/// Why an input was rejected. `Display` is the reason the `rejected` entry records (before
/// it is bounded, see [`RejectReason::recorded`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The line's bytes are not UTF-8 (valid up to this byte).
    NotUtf8 {
        valid_up_to: usize,
    },
    /// The line is not JSON (the parser's message).
    NotJson(String),
    /// The JSON is not an object.
    NotAnObject,
    /// `id` is present but not a string.
    IdNotString,
    MissingId,
    EmptyId,
    MissingType,
    /// The bundle does not receive this event type; `receives` lists those it does, sorted.
    UnknownType {
        found: String,
        receives: Vec<String>,
    },
    MissingCase,
    EmptyCase,
    /// `at` is not an RFC 3339 timestamp (the parser's message).
    BadTimestamp(String),
    MissingTimestamp,
    /// A key other than id, type, at, case and data.
    UnknownKey(String),
    /// `data` is neither an object nor null (the JSON found).
    DataNotObject(String),
    /// `data` does not fit the event's declaration (the event type, what is wrong).
    BadData {
        event: String,
        error: Box<DecodeError>,
    },
    /// An [`Envelope`](super::Envelope) built in code whose event or values do not match
    /// the program (not possible from JSON).
    ValuesMismatch,
}

impl RejectReason {
    /// The reason as the `rejected` ledger entry records it: at most 512 bytes, marked with
    /// `…` when cut (docs/deploy.md, "Limits").
    pub fn recorded(&self) -> String {
        clip(&self.to_string(), MAX_REASON_BYTES).into_owned()
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RejectReason::NotUtf8 { valid_up_to } => {
                write!(f, "not valid UTF-8 (at byte {valid_up_to})")
            }
            RejectReason::NotJson(e) => write!(f, "not valid JSON: {e}"),
            RejectReason::NotAnObject => {
                f.write_str("an envelope is a JSON object with id, type, at, case and data")
            }
            RejectReason::IdNotString => f.write_str("`id` must be a string"),
            RejectReason::MissingId => f.write_str("missing `id` (a unique string)"),
            RejectReason::EmptyId => f.write_str("`id` is empty"),
            RejectReason::MissingType => f.write_str("missing `type` (the event name)"),
            RejectReason::UnknownType { found, receives } => write!(
                f,
                "unknown event type `{found}` (this bundle receives: {})",
                receives.join(", ")
            ),
            RejectReason::MissingCase => f.write_str("missing `case` (the ticket's id)"),
            RejectReason::EmptyCase => f.write_str("`case` is empty"),
            RejectReason::BadTimestamp(e) => {
                write!(f, "`at` is not an RFC 3339 timestamp: {e}")
            }
            RejectReason::MissingTimestamp => f.write_str("missing `at` (an RFC 3339 timestamp)"),
            RejectReason::UnknownKey(k) => write!(f, "unknown envelope key `{k}`"),
            RejectReason::DataNotObject(found) => {
                write!(f, "`data` must be an object, found {found}")
            }
            RejectReason::BadData { event, error } => write!(f, "{event}: {error}"),
            RejectReason::ValuesMismatch => {
                f.write_str("the envelope's values do not match its event's declaration")
            }
        }
    }
}

impl std::error::Error for RejectReason {}

#[cfg(test)]
mod tests;
