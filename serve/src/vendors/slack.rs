//! Slack (docs/connectors.md, "Slack"): messages through the Web API with the bot token
//! (`chat.postMessage`, https://api.slack.com/methods/chat.postMessage; `chat.update`,
//! https://api.slack.com/methods/chat.update), JSON bodies, answers read by `ok`/`error`
//! (https://api.slack.com/web#evaluating_responses) and 429 `Retry-After`
//! (https://api.slack.com/docs/rate-limits). Approval requests carry Approve / Deny
//! buttons (Block Kit, https://api.slack.com/reference/block-kit/block-elements#button);
//! the click comes back as a `block_actions` interaction on `/webhooks/NAME`
//! (https://api.slack.com/reference/interaction-payloads/block-actions), signed with the
//! app's signing secret (checked in `webhooks`) and turned here into `ApprovalGranted` /
//! `ApprovalDenied`.

use std::collections::BTreeMap;

use serde_json::{Value as Json, json};

use super::{secret, summary, text};
use crate::transport::{self, Attempt, Deliver, Delivered, Policy, Reply};

pub const API_BASE: &str = "https://slack.com";

/// The buttons' `action_id`s.
pub const APPROVE: &str = "meshline_approve";
pub const DENY: &str = "meshline_deny";

#[derive(Clone)]
pub struct Slack {
    pub base: String,
    /// The variable holding the bot token.
    pub token: String,
    /// Where routed commands (`notify`, `approval_request`, `reconciliation`) go.
    pub channel: Option<String>,
    pub agent: ureq::Agent,
    pub policy: Policy,
    pub timeout_ms: u64,
}

/// Slack `error` codes worth retrying (https://api.slack.com/methods/chat.postMessage#errors):
/// the rest (`channel_not_found`, `not_in_channel`, `invalid_auth`, …) need a person.
const RETRYABLE: [&str; 5] = [
    "ratelimited",
    "service_unavailable",
    "internal_error",
    "request_timeout",
    "fatal_error",
];

impl Slack {
    /// Call a Web API method with a JSON body.
    pub fn method(&self, name: &str, body: &Json) -> Delivered {
        let token = match secret(&self.token, "bot_token") {
            Ok(t) => t,
            Err(a) => return a.into(),
        };
        let url = format!("{}/api/{name}", self.base);
        let headers = [("Authorization", format!("Bearer {token}"))];
        match transport::call(
            &self.agent,
            "POST",
            &url,
            &headers,
            Some(("application/json; charset=utf-8", body.to_string())),
            &[],
            self.timeout_ms,
        ) {
            Ok(r) => answer(&r),
            Err(a) => a.into(),
        }
    }

    fn post(&self, channel: &str, text: &str, blocks: Option<Json>) -> Delivered {
        let mut body = json!({ "channel": channel, "text": text });
        if let Some(b) = blocks {
            body["blocks"] = b;
        }
        self.method("chat.postMessage", &body)
    }

    /// Replace an approval request's message (its buttons) with the outcome of a click.
    pub fn update(&self, channel: &str, ts: &str, outcome: &str) -> Delivered {
        let body = json!({
            "channel": channel,
            "ts": ts,
            "text": outcome,
            "blocks": [{ "type": "section", "text": { "type": "mrkdwn", "text": outcome } }],
        });
        self.method("chat.update", &body)
    }
}

impl Slack {
    /// The e-mail address of a Slack user's profile (`users.info`, scopes `users:read` and
    /// `users:read.email`, https://api.slack.com/methods/users.info): who clicked, when the
    /// source's `users` table does not say.
    pub fn email(&self, user: &str) -> Result<String, String> {
        let token = secret(&self.token, "bot_token").map_err(|a| format!("{a:?}"))?;
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("user", user);
        let url = format!("{}/api/users.info?{}", self.base, q.finish());
        let headers = [("Authorization", format!("Bearer {token}"))];
        let r = transport::call(
            &self.agent,
            "GET",
            &url,
            &headers,
            None,
            &[],
            self.timeout_ms,
        )
        .map_err(|a| format!("users.info: {a:?}"))?;
        let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
        if r.status != 200 || body["ok"] != true {
            return Err(format!(
                "users.info: HTTP {} {}",
                r.status,
                text(&body, "/error").unwrap_or_default()
            ));
        }
        text(&body, "/user/profile/email")
            .filter(|e| !e.is_empty())
            .map(|e| e.to_lowercase())
            .ok_or_else(|| {
                format!("users.info: no e-mail for {user} (is users:read.email granted?)")
            })
    }
}

/// The Slack user id of an interaction body, if it has one.
pub fn user_of(body: &[u8]) -> Option<String> {
    let payload = form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())?;
    let p: Json = serde_json::from_str(&payload).ok()?;
    text(&p, "/user/id")
}

/// Classify Slack's answer: HTTP 200 with `ok: true` succeeded (the message's `channel/ts`
/// recorded); `ok: false` is final unless its `error` is a transient one; 429 (with
/// `Retry-After`) and 5xx are retried; any other status is final.
pub fn answer(r: &Reply) -> Delivered {
    let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
    if r.status == 429 || r.status >= 500 {
        return transport::retry(r, format!("Slack HTTP {}", r.status)).into();
    }
    if r.status != 200 {
        return Attempt::Refused(format!("Slack HTTP {}", r.status)).into();
    }
    if body["ok"] == true {
        let remote = match (text(&body, "/channel"), text(&body, "/ts")) {
            (Some(c), Some(t)) => Some(format!("{c}/{t}")),
            _ => None,
        };
        return Delivered {
            attempt: Attempt::Ok,
            remote,
        };
    }
    let error = text(&body, "/error").unwrap_or_else(|| "no `ok` in the answer".into());
    let reason = format!("Slack: {error}");
    if RETRYABLE.contains(&error.as_str()) {
        Attempt::Retry(reason).into()
    } else {
        Attempt::Refused(reason).into()
    }
}

/// The message for a routed command, and its blocks (the buttons of an approval request).
pub fn message(cmd: &Json) -> (String, Option<Json>) {
    let said = summary(cmd);
    if cmd["kind"] != "approval_request" {
        return (said, None);
    }
    let case = text(cmd, "/case").unwrap_or_default();
    let gate = text(cmd, "/gate").unwrap_or_default();
    // The button's value names what the click decides; Slack returns it as is.
    let value = json!({ "case": case, "gate": gate }).to_string();
    let button = |id: &str, label: &str, style: &str| {
        json!({ "type": "button", "action_id": id, "style": style, "value": value,
                "text": { "type": "plain_text", "text": label } })
    };
    let blocks = json!([
        { "type": "section", "text": { "type": "mrkdwn", "text": said } },
        { "type": "actions", "block_id": "meshline_approval", "elements": [
            button(APPROVE, "Approve", "primary"),
            button(DENY, "Deny", "danger"),
        ] },
    ]);
    (said, Some(blocks))
}

impl Deliver for Slack {
    fn attempt(&self, cmd: &Json, _line: &str) -> Delivered {
        if cmd["kind"] == "action" {
            return match cmd["action"].as_str().unwrap_or_default() {
                "post" => self.post(
                    cmd["args"]["channel"].as_str().unwrap_or_default(),
                    cmd["args"]["text"].as_str().unwrap_or_default(),
                    None,
                ),
                other => Attempt::Refused(format!(
                    "the Slack connector has no action `{other}` (docs/connectors.md)"
                ))
                .into(),
            };
        }
        let Some(channel) = &self.channel else {
            return Attempt::Refused("no `channel` configured for routed commands".into()).into();
        };
        let (text, blocks) = message(cmd);
        self.post(channel, &text, blocks)
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}

/// A click on an approval request's button, as an event for the engine.
#[derive(Clone, Debug, PartialEq)]
pub struct Click {
    /// The `ApprovalGranted` / `ApprovalDenied` envelope.
    pub envelope: Json,
    pub case: String,
    pub gate: String,
    pub person: String,
    /// The message to update: channel id and `ts`.
    pub channel: String,
    pub ts: String,
}

/// Read a signed interaction body (`payload=` form field holding JSON) into a click.
/// The person is the Slack user's entry in `users` (Slack user id → person, the address
/// the project's teams list; the caller adds the profile's e-mail for a user it lacks); an
/// unmapped user is refused, never guessed.
pub fn click(
    body: &[u8],
    users: &BTreeMap<String, String>,
    source: &str,
    now: jiff::Timestamp,
) -> Result<Click, String> {
    let payload = form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or("the interaction has no `payload` field")?;
    let p: Json =
        serde_json::from_str(&payload).map_err(|e| format!("the payload is not JSON: {e}"))?;
    if p["type"] != "block_actions" {
        return Err(format!(
            "interaction type {} is not handled",
            text(&p, "/type").unwrap_or_default()
        ));
    }
    let action = &p["actions"][0];
    let granted = match action["action_id"].as_str() {
        Some(APPROVE) => true,
        Some(DENY) => false,
        _ => return Err("the interaction is not an approval button".into()),
    };
    let value: Json = action["value"]
        .as_str()
        .and_then(|v| serde_json::from_str(v).ok())
        .ok_or("the button carries no approval")?;
    let case = text(&value, "/case").ok_or("the button names no case")?;
    let gate = text(&value, "/gate").ok_or("the button names no gate")?;
    let user = text(&p, "/user/id").ok_or("the interaction names no user")?;
    let person = users.get(&user).cloned().ok_or_else(|| {
        format!("Slack user {user} is not mapped to a person (webhooks.{source}.users)")
    })?;
    let action_ts = text(action, "/action_ts").ok_or("the action has no action_ts")?;
    let channel = text(&p, "/container/channel_id")
        .or_else(|| text(&p, "/channel/id"))
        .ok_or("the interaction names no channel")?;
    let ts = text(&p, "/container/message_ts")
        .or_else(|| text(&p, "/message/ts"))
        .ok_or("the interaction names no message")?;
    let envelope = json!({
        // One click, one event: a redelivered interaction is a duplicate.
        "id": format!("{source}:{user}:{action_ts}"),
        "type": if granted { "ApprovalGranted" } else { "ApprovalDenied" },
        "at": now.to_string(),
        "case": case,
        "data": { "approval": gate, "by": person },
    });
    Ok(Click {
        envelope,
        case,
        gate,
        person,
        channel,
        ts,
    })
}

/// What the message says once the engine has decided on a click: the ledger entry's kind
/// (`approved`, `denied`, `refused`; `recorded` when the entry was not found) and detail.
pub fn outcome_text(click: &Click, kind: &str, detail: &Json) -> String {
    let who = &click.person;
    match kind {
        "approved" => format!(
            "Approved by {who} (case {}, gate `{}`).",
            click.case, click.gate
        ),
        "denied" => format!(
            "Denied by {who} (case {}, gate `{}`).",
            click.case, click.gate
        ),
        "recorded" => format!(
            "{who}'s decision was recorded (case {}, gate `{}`): see the case for the outcome.",
            click.case, click.gate
        ),
        _ => format!(
            "{who}'s decision was refused: {} (case {}, gate `{}`). The request is still open.",
            text(detail, "/reason").unwrap_or_default(),
            click.case,
            click.gate
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, body: &str) -> Reply {
        Reply {
            status,
            body: body.into(),
            ..Reply::default()
        }
    }

    #[test]
    fn a_notification_names_its_template() {
        let cmd = json!({ "kind": "notify", "case": "T-1", "rule": "retry_payment",
                          "to": "billing_agents", "template": "payment_retry_scheduled" });
        assert_eq!(
            message(&cmd).0,
            "Case T-1: retry_payment (for billing_agents), template `payment_retry_scheduled`."
        );
        let plain = json!({ "kind": "notify", "case": "T-1", "rule": "first_reply", "to": "desk" });
        assert_eq!(message(&plain).0, "Case T-1: first_reply (for desk).");
    }

    #[test]
    fn slack_answers_are_classified() {
        let ok = answer(&reply(200, r#"{"ok":true,"channel":"C1","ts":"1.2"}"#));
        assert_eq!(ok.attempt, Attempt::Ok);
        assert_eq!(ok.remote.as_deref(), Some("C1/1.2"));
        assert_eq!(
            answer(&reply(200, r#"{"ok":false,"error":"channel_not_found"}"#)).attempt,
            Attempt::Refused("Slack: channel_not_found".into())
        );
        assert!(matches!(
            answer(&reply(200, r#"{"ok":false,"error":"ratelimited"}"#)).attempt,
            Attempt::Retry(_)
        ));
        let mut limited = reply(429, "");
        limited.retry_after_ms = Some(30_000);
        assert!(matches!(
            answer(&limited).attempt,
            Attempt::RetryAfter(_, 30_000)
        ));
        assert!(matches!(
            answer(&reply(404, "")).attempt,
            Attempt::Refused(_)
        ));
    }

    #[test]
    fn a_click_becomes_an_approval_event_for_a_mapped_user_only() {
        let payload = json!({
            "type": "block_actions",
            "user": { "id": "U0CFO", "username": "cfo" },
            "container": { "type": "message", "message_ts": "1700000000.000100", "channel_id": "C0APPROVALS" },
            "actions": [{ "action_id": APPROVE, "block_id": "meshline_approval",
                          "value": "{\"case\":\"T-1\",\"gate\":\"refund_approval\"}",
                          "action_ts": "1700000010.000200" }],
        });
        let body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("payload", &payload.to_string())
            .finish();
        let users: BTreeMap<String, String> = [("U0CFO".into(), "cfo@agency.io".into())].into();
        let now = jiff::Timestamp::UNIX_EPOCH;
        let c = click(body.as_bytes(), &users, "slack", now).unwrap();
        assert_eq!(
            c.envelope,
            json!({ "id": "slack:U0CFO:1700000010.000200", "type": "ApprovalGranted",
                    "at": "1970-01-01T00:00:00Z", "case": "T-1",
                    "data": { "approval": "refund_approval", "by": "cfo@agency.io" } })
        );
        assert_eq!(
            (c.channel.as_str(), c.ts.as_str()),
            ("C0APPROVALS", "1700000000.000100")
        );
        let err = click(body.as_bytes(), &BTreeMap::new(), "slack", now).unwrap_err();
        assert!(err.contains("not mapped"), "{err}");
        assert!(click(b"payload=%7B%7D", &users, "slack", now).is_err());
        assert!(click(b"nothing", &users, "slack", now).is_err());
    }

    /// The message says what the ledger says, and never claims a refusal it did not find.
    #[test]
    fn outcome_texts_follow_the_ledger() {
        let c = Click {
            envelope: Json::Null,
            case: "T-1".into(),
            gate: "refund_approval".into(),
            person: "cfo@agency.io".into(),
            channel: "C1".into(),
            ts: "1.2".into(),
        };
        let reason =
            json!({ "reason": "dual control: the requester cannot approve their own request" });
        assert!(outcome_text(&c, "refused", &reason).contains("refused: dual control"));
        assert!(outcome_text(&c, "approved", &Json::Null).starts_with("Approved by cfo@agency.io"));
        assert!(outcome_text(&c, "denied", &Json::Null).starts_with("Denied by cfo@agency.io"));
        let unknown = outcome_text(&c, "recorded", &Json::Null);
        assert!(
            unknown.contains("was recorded") && !unknown.contains("refused"),
            "{unknown}"
        );
    }
}
