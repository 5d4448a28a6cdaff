//! Envelopes (§6.1, §7.13): `{"id","type","at","case","data"}`, validated against the
//! event's declaration. A failure names what is wrong, for the `rejected` ledger entry.

use jiff::Timestamp;
use serde_json::Value as Json;

use super::{Engine, RejectReason};
use crate::value::{self, Value};

/// A validated event.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
    pub id: String,
    pub event: u32,
    pub at: Timestamp,
    pub case: String,
    /// Field values in declaration order.
    pub values: Vec<Value>,
}

/// (envelope id if known, case if known, reason).
pub(super) type Rejection = (Option<String>, Option<String>, RejectReason);

pub(super) fn parse(engine: &Engine, v: &Json) -> Result<Envelope, Rejection> {
    let Some(obj) = v.as_object() else {
        return Err((None, None, RejectReason::NotAnObject));
    };
    let id = obj.get("id").and_then(Json::as_str).map(str::to_string);
    let ty = obj.get("type").and_then(Json::as_str);
    let case = obj.get("case").and_then(Json::as_str).map(str::to_string);
    let known_event = ty.and_then(|t| engine.event_ids.get(t)).copied();
    // §7.13: an unknown type is recorded with `case: null`.
    let fail = |reason: RejectReason, with_case: bool| {
        (
            id.clone(),
            if with_case { case.clone() } else { None },
            reason,
        )
    };
    let Some(id_str) = id.clone() else {
        let reason = if obj.contains_key("id") {
            RejectReason::IdNotString
        } else {
            RejectReason::MissingId
        };
        return Err(fail(reason, known_event.is_some()));
    };
    if id_str.is_empty() {
        return Err(fail(RejectReason::EmptyId, known_event.is_some()));
    }
    let Some(ty) = ty else {
        return Err(fail(RejectReason::MissingType, false));
    };
    let Some(event) = known_event else {
        let mut receives: Vec<String> = engine.event_ids.keys().cloned().collect();
        receives.sort_unstable();
        return Err(fail(
            RejectReason::UnknownType {
                found: ty.to_string(),
                receives,
            },
            false,
        ));
    };
    let Some(case_str) = case.clone() else {
        return Err(fail(RejectReason::MissingCase, false));
    };
    if case_str.is_empty() {
        return Err(fail(RejectReason::EmptyCase, false));
    }
    let at = match obj
        .get("at")
        .and_then(Json::as_str)
        .map(str::parse::<Timestamp>)
    {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            return Err(fail(RejectReason::BadTimestamp(e.to_string()), true));
        }
        None => return Err(fail(RejectReason::MissingTimestamp, true)),
    };
    // Precision is the second (§7.13).
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "id" | "type" | "at" | "case" | "data"))
    {
        return Err(fail(RejectReason::UnknownKey(k.clone()), true));
    }
    let def = &engine.program.events[event as usize];
    let empty = serde_json::Map::new();
    let data = match obj.get("data") {
        Some(Json::Object(m)) => m,
        None | Some(Json::Null) => &empty,
        Some(other) => {
            return Err(fail(RejectReason::DataNotObject(other.to_string()), true));
        }
    };
    let values = value::decode_fields(&engine.program, &def.fields, data).map_err(|error| {
        let event = ty.to_string();
        fail(
            RejectReason::BadData {
                event,
                error: Box::new(error),
            },
            true,
        )
    })?;
    Ok(Envelope {
        id: id_str,
        event,
        at,
        case: case_str,
        values,
    })
}
