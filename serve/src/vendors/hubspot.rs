//! HubSpot (docs/connectors.md, "HubSpot"): the CRM connector's `update_deal` as a property
//! update of the deal object (`PATCH /crm/v3/objects/deals/{dealId}` with
//! `{"properties": {"dealstage": …}}`, https://developers.hubspot.com/docs/api/crm/deals),
//! `update_contact` likewise on the contact, `create_task` as a task object associated with
//! the deal (`POST /crm/v3/objects/tasks`, https://developers.hubspot.com/docs/api/crm/tasks),
//! `log_deal_activity` / `log_contact_activity` as a note on the deal's or contact's timeline
//! (`POST /crm/v3/objects/notes`, https://developers.hubspot.com/docs/api/crm/notes),
//! a private app's access token as the bearer token, JSON bodies, 429 retried after
//! `Retry-After` and 5xx retried (https://developers.hubspot.com/docs/api/usage-details),
//! other 4xx final with HubSpot's `category` and `message`.

use serde_json::{Value as Json, json};

use super::{secret, text};
use crate::transport::{self, Attempt, Deliver, Delivered, Policy, Reply};

pub const API_BASE: &str = "https://api.hubapi.com";

/// HubSpot's association type for a task to a deal (HUBSPOT_DEFINED; the associations
/// API's table of default types).
const TASK_TO_DEAL: u32 = 216;
/// The same for a note to a deal and a note to a contact.
const NOTE_TO_DEAL: u32 = 214;
const NOTE_TO_CONTACT: u32 = 202;

/// A note on `record`'s timeline (association type `kind`) at the command's time — the
/// engine's, so a retry sends the same note.
fn note(cmd: &Json, text: &str, record: &str, kind: u32) -> Json {
    json!({
        "properties": {
            "hs_timestamp": cmd["at"].as_str().unwrap_or_default(),
            "hs_note_body": text,
        },
        "associations": [{
            "to": { "id": record },
            "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": kind }],
        }],
    })
}

pub struct Hubspot {
    pub base: String,
    /// The variable holding the private app's access token.
    pub token: String,
    pub agent: ureq::Agent,
    pub policy: Policy,
    pub timeout_ms: u64,
}

/// Classify HubSpot's answer: 2xx succeeded (the object's id recorded); 429 and 5xx
/// retried; any other status final.
pub fn answer(r: &Reply) -> Delivered {
    let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
    if (200..300).contains(&r.status) {
        return Delivered {
            attempt: Attempt::Ok,
            remote: text(&body, "/id"),
        };
    }
    let mut reason = format!("HubSpot HTTP {}", r.status);
    if let Some(c) = text(&body, "/category") {
        reason.push(' ');
        reason.push_str(&c);
    }
    if let Some(m) = text(&body, "/message") {
        reason.push_str(": ");
        reason.push_str(&m);
    }
    if r.status == 429 || r.status >= 500 {
        transport::retry(r, reason).into()
    } else {
        Attempt::Refused(reason).into()
    }
}

impl Deliver for Hubspot {
    fn attempt(&self, cmd: &Json, _line: &str) -> Delivered {
        let token = match secret(&self.token, "access_token") {
            Ok(t) => t,
            Err(a) => return a.into(),
        };
        let arg = |name: &str| cmd["args"][name].as_str().unwrap_or_default().to_string();
        let id = |name: &str| -> String {
            form_urlencoded::byte_serialize(arg(name).as_bytes()).collect()
        };
        let (method, path, body) = match cmd["action"].as_str().unwrap_or_default() {
            "update_deal" => (
                "PATCH",
                format!("/crm/v3/objects/deals/{}", id("deal")),
                json!({ "properties": { "dealstage": arg("stage") } }),
            ),
            "update_contact" => {
                let mut props = serde_json::Map::new();
                props.insert(arg("property"), Json::String(arg("value")));
                (
                    "PATCH",
                    format!("/crm/v3/objects/contacts/{}", id("contact")),
                    json!({ "properties": props }),
                )
            }
            // Due when the command was issued: the engine's time, so a retry sends the
            // same task.
            "create_task" => (
                "POST",
                "/crm/v3/objects/tasks".to_string(),
                json!({
                    "properties": {
                        "hs_timestamp": cmd["at"].as_str().unwrap_or_default(),
                        "hs_task_subject": arg("subject"),
                        "hs_task_body": arg("body"),
                        "hs_task_status": "NOT_STARTED",
                        "hs_task_type": "TODO",
                    },
                    "associations": [{
                        "to": { "id": arg("deal") },
                        "types": [{ "associationCategory": "HUBSPOT_DEFINED",
                                    "associationTypeId": TASK_TO_DEAL }],
                    }],
                }),
            ),
            "log_deal_activity" => (
                "POST",
                "/crm/v3/objects/notes".to_string(),
                note(cmd, &arg("note"), &arg("deal"), NOTE_TO_DEAL),
            ),
            "log_contact_activity" => (
                "POST",
                "/crm/v3/objects/notes".to_string(),
                note(cmd, &arg("note"), &arg("contact"), NOTE_TO_CONTACT),
            ),
            // A HubSpot note must be associated with a record to show on a timeline, and
            // `log_activity` names none (the case is not a HubSpot record).
            "log_activity" => {
                return Attempt::Refused(
                    "HubSpot needs the record a note goes on: use crm.log_deal_activity(deal, \
                     note) or crm.log_contact_activity(contact, note) (docs/connectors.md, \
                     \"HubSpot\")"
                        .into(),
                )
                .into();
            }
            other => {
                return Attempt::Refused(format!(
                    "the HubSpot connector has no action `{other}` (docs/connectors.md)"
                ))
                .into();
            }
        };
        let headers = [("Authorization", format!("Bearer {token}"))];
        match transport::call(
            &self.agent,
            method,
            &format!("{}{path}", self.base),
            &headers,
            Some(("application/json", body.to_string())),
            &[],
            self.timeout_ms,
        ) {
            Ok(r) => answer(&r),
            Err(a) => a.into(),
        }
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}
