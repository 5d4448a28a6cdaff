//! The edge of `POST /events` (docs/deploy.md, "Who may send events" and "Limits"): who
//! may send (producers' bearer tokens, or open mode on loopback), and the checks that refuse a
//! line before it becomes an input — an `at` too far ahead of the server's clock, an id in a
//! namespace reserved for webhooks and the outbox, an outcome from a producer not allowed to
//! report one — and that bound the work one request can cause.
//!
//! A refused line is never applied nor stored: it cannot move the engine's clock, and the
//! stored inputs replay with `meshline run` exactly as before. It is answered (`400` with the
//! reason), logged and counted (`meshline_http_refused_total{reason}`).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// `[producers.NAME]`: a sender of `POST /events`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Producer {
    /// The bearer token, or `token_env`: the environment variable holding it.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_env: Option<String>,
    /// May report connector outcomes (`ActionSucceeded`, `ActionFailed`).
    #[serde(default)]
    pub outcomes: bool,
}

/// The event types that report a connector's outcome: they move sagas, so only the executor
/// and producers allowed to may send them.
pub const OUTCOME_TYPES: [&str; 2] = ["ActionSucceeded", "ActionFailed"];
/// The id namespace of the outcomes the HTTP connectors feed back (`outcome:KEY`).
pub const OUTBOX_NAMESPACE: &str = "outcome";

/// Who sent a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// Open mode: no producers configured and listening on loopback (development).
    Open,
    Producer {
        name: String,
        outcomes: bool,
    },
}

impl Caller {
    pub fn name(&self) -> &str {
        match self {
            Caller::Open => "(open)",
            Caller::Producer { name, .. } => name,
        }
    }

    fn may_report_outcomes(&self) -> bool {
        match self {
            // Development on loopback: every local sender is trusted (docs/deploy.md).
            Caller::Open => true,
            Caller::Producer { outcomes, .. } => *outcomes,
        }
    }
}

/// What the edge decided for one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// Goes to the engine.
    Pass,
    /// Goes to the engine, which will record it as `rejected` (not an envelope it can
    /// apply); counts towards `max_rejected_lines`.
    Malformed,
    /// Not applied, not stored: (metric label, reason).
    Refused(&'static str, String),
}

pub struct Guard {
    /// SHA-256 of each producer's token (compared in constant time, no length leak).
    producers: Vec<(String, [u8; 32], bool)>,
    /// `NAME:` prefixes no `POST /events` line may use.
    reserved: Vec<String>,
    event_types: BTreeSet<String>,
    pub max_future_skew_seconds: i64,
    pub max_batch_lines: usize,
    pub max_rejected_lines: usize,
}

/// The header's view of a line: only what the edge checks.
#[derive(Deserialize)]
struct Peek {
    id: Option<Json>,
    #[serde(rename = "type")]
    ty: Option<Json>,
    at: Option<Json>,
    case: Option<Json>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Equal in time independent of where the inputs differ.
pub fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Guard {
    /// Resolve the producers' tokens; refuse open mode off loopback.
    pub fn new(
        producers: &BTreeMap<String, Producer>,
        webhook_sources: impl Iterator<Item = String>,
        event_types: BTreeSet<String>,
        listen: SocketAddr,
        limits: (u64, usize, usize),
    ) -> Result<Guard, String> {
        let mut resolved = Vec::new();
        for (name, p) in producers {
            let token = match (&p.token, &p.token_env) {
                (Some(t), None) => t.clone(),
                (None, Some(var)) => std::env::var(var)
                    .map_err(|_| format!("producers.{name}: token_env: {var} is not set"))?,
                _ => {
                    return Err(format!(
                        "producers.{name}: give exactly one of `token` and `token_env`"
                    ));
                }
            };
            if token.len() < 16 {
                return Err(format!(
                    "producers.{name}: the token is shorter than 16 bytes"
                ));
            }
            resolved.push((name.clone(), digest(&token), p.outcomes));
        }
        if resolved.is_empty() && !listen.ip().is_loopback() {
            return Err(format!(
                "listening on {listen} with no [producers]: POST /events would take events from \
                 anyone who can reach it; configure producers with tokens (docs/deploy.md, \
                 \"Who may send events\"), or listen on a loopback address for development"
            ));
        }
        let mut reserved: Vec<String> = webhook_sources.map(|s| format!("{s}:")).collect();
        reserved.push(format!("{OUTBOX_NAMESPACE}:"));
        let (skew, lines, rejected) = limits;
        Ok(Guard {
            producers: resolved,
            reserved,
            event_types,
            max_future_skew_seconds: i64::try_from(skew).unwrap_or(i64::MAX),
            max_batch_lines: lines.max(1),
            max_rejected_lines: rejected,
        })
    }

    pub fn is_open(&self) -> bool {
        self.producers.is_empty()
    }

    /// The caller for an `Authorization` header value, or `None` (401).
    pub fn authenticate(&self, authorization: Option<&str>) -> Option<Caller> {
        if self.is_open() {
            return Some(Caller::Open);
        }
        let given = digest(authorization?.strip_prefix("Bearer ")?.trim());
        // Every token is compared: the time does not depend on which one matched.
        let mut found = None;
        for (name, token, outcomes) in &self.producers {
            if same_bytes(&given, token) {
                found = Some(Caller::Producer {
                    name: name.clone(),
                    outcomes: *outcomes,
                });
            }
        }
        found
    }

    /// Refuse an `at` more than the allowed skew after `now` (webhooks too).
    pub fn check_time(&self, at: &str, now: jiff::Timestamp) -> Result<(), String> {
        let Ok(t) = at.parse::<jiff::Timestamp>() else {
            // Not a timestamp: the engine rejects it with the reason, recorded.
            return Ok(());
        };
        let ahead = t.as_second().saturating_sub(now.as_second());
        if ahead > self.max_future_skew_seconds {
            return Err(format!(
                "`at` {at} is {ahead} s after the server's clock; events may be at most {} s \
                 ahead (max_future_skew_seconds)",
                self.max_future_skew_seconds
            ));
        }
        Ok(())
    }

    /// The edge's decision for one line.
    pub fn check(&self, caller: &Caller, line: &str, now: jiff::Timestamp) -> Check {
        let Ok(peek) = serde_json::from_str::<Peek>(line) else {
            return Check::Malformed;
        };
        let (Some(Json::String(id)), Some(Json::String(ty)), Some(Json::String(at))) =
            (&peek.id, &peek.ty, &peek.at)
        else {
            return Check::Malformed;
        };
        if let Some(ns) = self.reserved.iter().find(|ns| id.starts_with(ns.as_str())) {
            return Check::Refused(
                "reserved_id",
                format!(
                    "the id namespace `{ns}` is reserved (webhooks and connector outcomes); \
                     POST /events may not use it"
                ),
            );
        }
        if OUTCOME_TYPES.contains(&ty.as_str()) && !caller.may_report_outcomes() {
            return Check::Refused(
                "outcome_not_allowed",
                format!(
                    "producer `{}` may not report connector outcomes ({ty}); set `outcomes = \
                     true` on it to allow",
                    caller.name()
                ),
            );
        }
        if let Err(reason) = self.check_time(at, now) {
            return Check::Refused("future_time", reason);
        }
        if !matches!(peek.case, Some(Json::String(_))) || !self.event_types.contains(ty.as_str()) {
            return Check::Malformed;
        }
        Check::Pass
    }
}

/// Whether a `Content-Type` is one `POST /events` takes (a missing one is).
pub fn json_content_type(value: Option<&str>) -> bool {
    let Some(v) = value else { return true };
    let media = v
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        media.as_str(),
        "application/json" | "application/x-ndjson" | "application/jsonl" | "application/ndjson"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(producers: &[(&str, &str, bool)], listen: &str) -> Result<Guard, String> {
        let p = producers
            .iter()
            .map(|(n, t, o)| {
                (
                    n.to_string(),
                    Producer {
                        token: Some(t.to_string()),
                        token_env: None,
                        outcomes: *o,
                    },
                )
            })
            .collect();
        let types = ["TicketCreated", "ActionSucceeded"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        Guard::new(
            &p,
            ["stripe".to_string()].into_iter(),
            types,
            listen.parse().unwrap(),
            (300, 100, 10),
        )
    }

    const NOW: &str = "2026-12-07T10:00:00Z";

    fn line(id: &str, ty: &str, at: &str) -> String {
        format!(r#"{{"id":"{id}","type":"{ty}","at":"{at}","case":"T-1","data":{{}}}}"#)
    }

    #[test]
    fn future_times_reserved_ids_and_outcomes_are_refused() {
        let g = guard(&[("crm", "crm-token-0123456789", false)], "127.0.0.1:0").unwrap();
        let crm = g.authenticate(Some("Bearer crm-token-0123456789")).unwrap();
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let ok = line("e1", "TicketCreated", "2026-12-07T10:04:59Z");
        assert_eq!(g.check(&crm, &ok, now), Check::Pass);
        let far = line("e2", "TicketCreated", "9999-12-30T00:00:00Z");
        assert!(
            matches!(g.check(&crm, &far, now), Check::Refused("future_time", r) if r.contains("max_future_skew_seconds"))
        );
        let near = line("e3", "TicketCreated", "2026-12-07T10:05:01Z");
        assert!(matches!(
            g.check(&crm, &near, now),
            Check::Refused("future_time", _)
        ));
        for id in ["stripe:evt_X", "outcome:abc"] {
            let l = line(id, "TicketCreated", NOW);
            assert!(matches!(
                g.check(&crm, &l, now),
                Check::Refused("reserved_id", _)
            ));
        }
        let outcome = line("e4", "ActionSucceeded", NOW);
        assert!(matches!(
            g.check(&crm, &outcome, now),
            Check::Refused("outcome_not_allowed", _)
        ));
        assert_eq!(g.check(&crm, "1", now), Check::Malformed);
        assert_eq!(
            g.check(&crm, &line("e5", "Nope", NOW), now),
            Check::Malformed
        );
    }

    #[test]
    fn tokens_open_mode_and_content_types() {
        let g = guard(
            &[
                ("crm", "crm-token-0123456789", false),
                ("billing", "billing-token-0123456789", true),
            ],
            "0.0.0.0:0",
        )
        .unwrap();
        assert_eq!(g.authenticate(None), None);
        assert_eq!(g.authenticate(Some("Bearer nope")), None);
        assert_eq!(g.authenticate(Some("crm-token-0123456789")), None);
        let billing = g
            .authenticate(Some("Bearer billing-token-0123456789"))
            .unwrap();
        assert_eq!(billing.name(), "billing");
        let now: jiff::Timestamp = NOW.parse().unwrap();
        let outcome = line("e4", "ActionSucceeded", NOW);
        assert_eq!(g.check(&billing, &outcome, now), Check::Pass);
        // Open mode only on loopback.
        let err = guard(&[], "0.0.0.0:8080").err().unwrap();
        assert!(err.contains("no [producers]"), "{err}");
        let open = guard(&[], "127.0.0.1:8080").unwrap();
        assert_eq!(open.authenticate(None), Some(Caller::Open));
        assert!(guard(&[("x", "short", false)], "127.0.0.1:0").is_err());
        assert!(json_content_type(None));
        assert!(json_content_type(Some("application/json; charset=utf-8")));
        assert!(json_content_type(Some("application/x-ndjson")));
        assert!(!json_content_type(Some(
            "application/x-www-form-urlencoded"
        )));
        assert!(!json_content_type(Some("text/plain")));
    }
}
