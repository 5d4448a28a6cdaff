//! Zendesk (docs/connectors.md, "Zendesk"): the help-desk actions on the case's ticket
//! through the Ticketing API — replies, internal notes and status changes as one
//! `PUT /api/v2/tickets/{id}` each
//! (https://developer.zendesk.com/api-reference/ticketing/tickets/tickets/#update-ticket),
//! assignment (`assignee_email`, `group_id`) and custom fields (`custom_fields`) in the
//! same request, tags added with `PUT /api/v2/tickets/{id}/tags`
//! (https://developer.zendesk.com/api-reference/ticketing/ticket-management/tags/#add-tags);
//! JSON bodies, basic authentication as `{email}/token:{api_token}`
//! (https://developer.zendesk.com/api-reference/introduction/security-and-auth/), 429 with
//! `Retry-After` retried (https://developer.zendesk.com/api-reference/introduction/rate-limits/).

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value as Json, json};

use super::{secret, text};
use crate::transport::{self, Attempt, Deliver, Delivered, Policy, Reply};

pub struct Zendesk {
    /// `https://SUBDOMAIN.zendesk.com` (there is no default: each account has its own).
    pub base: String,
    /// The agent's e-mail address the token belongs to.
    pub email: String,
    /// The variable holding the API token.
    pub token: String,
    /// Stripped from a case id to get the ticket's number (`T-` for case `T-3001`).
    pub case_prefix: String,
    /// `reply(template)`: the reply's text by template name.
    pub templates: BTreeMap<String, String>,
    /// `assign_group(group)`: the group's id by the name the project uses.
    pub groups: BTreeMap<String, u64>,
    /// `set_field(field, value)`: the custom ticket field's id by the name the project uses.
    pub fields: BTreeMap<String, u64>,
    pub agent: ureq::Agent,
    pub policy: Policy,
    pub timeout_ms: u64,
}

impl Zendesk {
    fn put(&self, path: &str, body: &Json) -> Delivered {
        let token = match secret(&self.token, "api_token") {
            Ok(t) => t,
            Err(a) => return a.into(),
        };
        let auth = B64.encode(format!("{}/token:{token}", self.email));
        let headers = [("Authorization", format!("Basic {auth}"))];
        let url = format!("{}{path}", self.base);
        match transport::call(
            &self.agent,
            "PUT",
            &url,
            &headers,
            Some(("application/json", body.to_string())),
            &[],
            self.timeout_ms,
        ) {
            Ok(r) => answer(&r),
            Err(a) => a.into(),
        }
    }

    /// The ticket's number for a case id, or why the case names no Zendesk ticket.
    fn ticket(&self, case: &str) -> Result<u64, String> {
        case.strip_prefix(self.case_prefix.as_str())
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| {
                format!(
                    "case {case:?} is not a Zendesk ticket number (case_prefix {:?})",
                    self.case_prefix
                )
            })
    }
}

/// Classify Zendesk's answer: 2xx succeeded (the ticket's id and the audit's id recorded);
/// 409 (a concurrent update of the ticket), 429 (after `Retry-After`) and 5xx retried;
/// any other status — 422 `RecordInvalid` among them — final, with Zendesk's `error` and
/// `description`.
pub fn answer(r: &Reply) -> Delivered {
    let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
    if (200..300).contains(&r.status) {
        let remote = text(&body, "/ticket/id").map(|t| match text(&body, "/audit/id") {
            Some(a) => format!("{t}/audit/{a}"),
            None => t,
        });
        return Delivered {
            attempt: Attempt::Ok,
            remote,
        };
    }
    let mut reason = format!("Zendesk HTTP {}", r.status);
    let error = match &body["error"] {
        Json::String(s) => Some(s.clone()),
        Json::Object(_) => text(&body, "/error/title"),
        _ => None,
    };
    if let Some(e) = error {
        reason.push(' ');
        reason.push_str(&e);
    }
    if let Some(d) = text(&body, "/description").or_else(|| text(&body, "/error/message")) {
        reason.push_str(": ");
        reason.push_str(&d);
    }
    if let Some(details) = body.get("details").filter(|d| !d.is_null()) {
        reason.push_str(&format!(" {details}"));
    }
    if matches!(r.status, 409 | 429) || r.status >= 500 {
        transport::retry(r, reason).into()
    } else {
        Attempt::Refused(reason).into()
    }
}

impl Zendesk {
    /// Meshline's own assignment written back (`assignment = "…"` in `[connectors]`,
    /// docs/connectors.md): a person becomes the ticket's assignee; a team becomes its
    /// group with no assignee, as a Zendesk trigger's "Group: …, Assignee: -" does, since
    /// the case now waits for anyone in that team.
    fn assignment(&self, cmd: &Json, ticket: &str) -> Delivered {
        if let Some(person) = cmd["person"].as_str() {
            return self.put(ticket, &json!({ "ticket": { "assignee_email": person } }));
        }
        let team = cmd["team"].as_str().unwrap_or_default();
        match self.groups.get(team) {
            Some(g) => self.put(
                ticket,
                &json!({ "ticket": { "group_id": g, "assignee_id": null } }),
            ),
            None => Attempt::Refused(format!(
                "team `{team}` has no group in the connector's `groups` (team name = Zendesk group id)"
            ))
            .into(),
        }
    }
}

impl Deliver for Zendesk {
    fn attempt(&self, cmd: &Json, _line: &str) -> Delivered {
        let case = cmd["case"].as_str().unwrap_or_default();
        let id = match self.ticket(case) {
            Ok(id) => id,
            Err(e) => return Attempt::Refused(e).into(),
        };
        let arg = |name: &str| cmd["args"][name].as_str().unwrap_or_default().to_string();
        let ticket = format!("/api/v2/tickets/{id}");
        if cmd["kind"] == "assignment" {
            return self.assignment(cmd, &ticket);
        }
        let comment = |body: String, public: bool| json!({ "ticket": { "comment": { "body": body, "public": public } } });
        match cmd["action"].as_str().unwrap_or_default() {
            "reply" => {
                let name = arg("template");
                match self.templates.get(&name) {
                    Some(t) => self.put(&ticket, &comment(t.clone(), true)),
                    None => Attempt::Refused(format!(
                        "no reply template `{name}` in the connector's `templates`"
                    ))
                    .into(),
                }
            }
            "add_note" => self.put(&ticket, &comment(arg("text"), false)),
            "set_status" => self.put(
                &ticket,
                &json!({ "ticket": { "status": arg("status").to_lowercase() } }),
            ),
            "add_tag" => self.put(&format!("{ticket}/tags"), &json!({ "tags": [arg("tag")] })),
            // Zendesk takes the agent's address as is (`assignee_email`), so no id mapping.
            "assign_agent" => self.put(
                &ticket,
                &json!({ "ticket": { "assignee_email": arg("agent") } }),
            ),
            "assign_group" => {
                let name = arg("group");
                match self.groups.get(&name) {
                    Some(g) => self.put(&ticket, &json!({ "ticket": { "group_id": g } })),
                    None => Attempt::Refused(format!(
                        "no group `{name}` in the connector's `groups` (name = Zendesk group id)"
                    ))
                    .into(),
                }
            }
            "set_field" => {
                let name = arg("field");
                match self.fields.get(&name) {
                    Some(f) => self.put(
                        &ticket,
                        &json!({ "ticket": { "custom_fields": [{ "id": f, "value": arg("value") }] } }),
                    ),
                    None => Attempt::Refused(format!(
                        "no field `{name}` in the connector's `fields` (name = Zendesk ticket field id)"
                    ))
                    .into(),
                }
            }
            other => Attempt::Refused(format!(
                "the Zendesk connector has no action `{other}` (docs/connectors.md)"
            ))
            .into(),
        }
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}
