//! Envelopes (§6.1, §7.13): `{"id","type","at","case","data"}`, validated against the
//! event's declaration. A failure names what is wrong, for the `rejected` ledger entry.

use jiff::Timestamp;
use serde_json::Value as Json;

use super::Engine;
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
pub(super) type Rejection = (Option<String>, Option<String>, String);

pub(super) fn parse(engine: &Engine, v: &Json) -> Result<Envelope, Rejection> {
    let Some(obj) = v.as_object() else {
        return Err((
            None,
            None,
            "an envelope is a JSON object with id, type, at, case and data".into(),
        ));
    };
    let id = obj.get("id").and_then(Json::as_str).map(str::to_string);
    let ty = obj.get("type").and_then(Json::as_str);
    let case = obj.get("case").and_then(Json::as_str).map(str::to_string);
    let known_event = ty.and_then(|t| engine.event_ids.get(t)).copied();
    // §7.13: an unknown type is recorded with `case: null`.
    let fail = |reason: String, with_case: bool| {
        (
            id.clone(),
            if with_case { case.clone() } else { None },
            reason,
        )
    };
    let Some(id_str) = id.clone() else {
        let reason = if obj.contains_key("id") {
            "`id` must be a string"
        } else {
            "missing `id` (a unique string)"
        };
        return Err(fail(reason.into(), known_event.is_some()));
    };
    if id_str.is_empty() {
        return Err(fail("`id` is empty".into(), known_event.is_some()));
    }
    let Some(ty) = ty else {
        return Err(fail("missing `type` (the event name)".into(), false));
    };
    let Some(event) = known_event else {
        let mut names: Vec<&str> = engine.event_ids.keys().map(String::as_str).collect();
        names.sort_unstable();
        return Err(fail(
            format!(
                "unknown event type `{ty}` (this bundle receives: {})",
                names.join(", ")
            ),
            false,
        ));
    };
    let Some(case_str) = case.clone() else {
        return Err(fail("missing `case` (the ticket's id)".into(), false));
    };
    if case_str.is_empty() {
        return Err(fail("`case` is empty".into(), false));
    }
    let at = match obj
        .get("at")
        .and_then(Json::as_str)
        .map(str::parse::<Timestamp>)
    {
        Some(Ok(t)) => t,
        Some(Err(e)) => {
            return Err(fail(
                format!("`at` is not an RFC 3339 timestamp: {e}"),
                true,
            ));
        }
        None => return Err(fail("missing `at` (an RFC 3339 timestamp)".into(), true)),
    };
    // Precision is the second (§7.13).
    let at = Timestamp::from_second(at.as_second()).unwrap_or(at);
    if let Some(k) = obj
        .keys()
        .find(|k| !matches!(k.as_str(), "id" | "type" | "at" | "case" | "data"))
    {
        return Err(fail(format!("unknown envelope key `{k}`"), true));
    }
    let def = &engine.program.events[event as usize];
    let empty = serde_json::Map::new();
    let data = match obj.get("data") {
        Some(Json::Object(m)) => m,
        None | Some(Json::Null) => &empty,
        Some(other) => {
            return Err(fail(
                format!("`data` must be an object, found {other}"),
                true,
            ));
        }
    };
    let values = value::decode_fields(&engine.program, &def.fields, data)
        .map_err(|e| fail(format!("{ty}: {e}"), true))?;
    Ok(Envelope {
        id: id_str,
        event,
        at,
        case: case_str,
        values,
    })
}
