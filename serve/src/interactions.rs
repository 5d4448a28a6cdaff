//! Slack interactions on `POST /webhooks/NAME` (a `[webhooks.NAME]` source with
//! `vendor = "slack"`), after the signature check: a click on an approval request's
//! Approve / Deny button enters as `ApprovalGranted` / `ApprovalDenied` by the person the
//! Slack user is mapped to (the source's `users`, else the profile's e-mail), so the engine's rules (team membership, dual control, quorum)
//! decide as for any other approval (docs/runtime.md, "Gates, approvals, dual control");
//! the message is then updated with what the engine decided (docs/connectors.md, "Slack").

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::Duration;

use crate::core::Applied;
use axum::http::StatusCode;
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

use crate::core::Msg;
use crate::reader::Reader;
use crate::vendors::slack::{self, Slack};
use crate::webhooks::Source;

/// What a click needs from the server.
pub struct Ctx<'a> {
    pub tx: &'a Sender<Msg>,
    pub timeout: Duration,
    pub reader: &'a Arc<Reader>,
    /// The Slack connectors by name (to update the message).
    pub slack: &'a Arc<BTreeMap<String, Slack>>,
}

/// Apply a verified interaction; the status and body to answer Slack with.
pub async fn click(
    ctx: Ctx<'_>,
    source: &str,
    src: &Source,
    body: &[u8],
    now: jiff::Timestamp,
) -> (StatusCode, Json) {
    let conn = src.connector.as_ref().and_then(|n| ctx.slack.get(n));
    // Who clicked: the source's `users` table, else the Slack profile's e-mail address.
    let mut users = src.users.clone();
    if let (Some(user), Some(conn)) = (slack::user_of(body), conn)
        && !users.contains_key(&user)
    {
        let (c, u) = (conn.clone(), user.clone());
        match tokio::task::spawn_blocking(move || c.email(&u)).await {
            Ok(Ok(email)) => {
                users.insert(user, email);
            }
            Ok(Err(reason)) => tracing::warn!(user, reason = %reason, "Slack user not resolved"),
            Err(_) => {}
        }
    }
    let click = match slack::click(body, &users, source, now) {
        Ok(c) => c,
        Err(reason) => {
            tracing::warn!(source, reason = %reason, "Slack interaction refused");
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "status": "unmatched", "reason": reason }),
            );
        }
    };
    let before = ctx.reader.last_seq().unwrap_or(0);
    let (reply, rx) = oneshot::channel();
    let lines = vec![click.envelope.to_string()];
    if ctx.tx.send(Msg::Events { lines, reply }).is_err() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "shutting down" }),
        );
    }
    let outcome = match tokio::time::timeout(ctx.timeout, rx).await {
        Ok(Ok(Ok(o))) => o.into_iter().next(),
        // Not durable: Slack retries an unanswered interaction, and the click keeps its id.
        _ => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "not acknowledged in time; it may still be applied" }),
            );
        }
    };
    let id = click.envelope["id"].clone();
    match outcome {
        Some(Applied::Accepted) => {}
        Some(Applied::Duplicate) => {
            return (StatusCode::OK, json!({ "status": "duplicate", "id": id }));
        }
        Some(Applied::Rejected(r)) => {
            return (
                StatusCode::BAD_REQUEST,
                json!({ "status": "rejected", "id": id, "reason": r.recorded() }),
            );
        }
        None => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "no outcome" }),
            );
        }
    }
    // What the engine decided: the case's `approved`, `denied` or `refused` entry for this
    // gate and person written after the click.
    let decided = decision(ctx.reader, before, &click);
    // Not found (many inputs since, or a reader error): say it was recorded, never guess.
    let (kind, detail) = decided.unwrap_or_else(|| ("recorded".into(), Json::Null));
    let text = slack::outcome_text(&click, &kind, &detail);
    if let Some(conn) = conn {
        // After the answer: Slack wants one within 3 s, and the update has its own timeout.
        let conn = conn.clone();
        let (channel, ts, text) = (click.channel.clone(), click.ts.clone(), text.clone());
        tokio::task::spawn_blocking(move || {
            let done = conn.update(&channel, &ts, &text);
            if done.attempt != crate::transport::Attempt::Ok {
                tracing::warn!(channel, ts, outcome = ?done.attempt, "Slack message update failed");
            }
        });
    }
    (
        StatusCode::OK,
        json!({ "status": "accepted", "id": id, "decision": kind }),
    )
}

fn decision(reader: &Reader, after: u64, click: &slack::Click) -> Option<(String, Json)> {
    let lines = reader.ledger_after(after, 1000).ok()?;
    lines.into_iter().find_map(|(_, line)| {
        let e: Json = serde_json::from_str(&line).ok()?;
        let kind = e["kind"].as_str()?;
        let mine = e["case"] == click.case.as_str()
            && e["rule"] == click.gate.as_str()
            && e["detail"]["by"]
                .as_str()
                .is_some_and(|b| b.eq_ignore_ascii_case(&click.person));
        (mine && matches!(kind, "approved" | "denied" | "refused"))
            .then(|| (kind.to_string(), e["detail"].clone()))
    })
}
