//! HubSpot (docs/connectors.md, "HubSpot"): the CRM connector's `update_deal` as a property
//! update of the deal object (`PATCH /crm/v3/objects/deals/{dealId}` with
//! `{"properties": {"dealstage": …}}`, https://developers.hubspot.com/docs/api/crm/deals),
//! a private app's access token as the bearer token, JSON bodies, 429 retried after
//! `Retry-After` and 5xx retried (https://developers.hubspot.com/docs/api/usage-details),
//! other 4xx final with HubSpot's `category` and `message`.

use serde_json::{Value as Json, json};

use super::{secret, text};
use crate::transport::{self, Attempt, Deliver, Delivered, Policy, Reply};

pub const API_BASE: &str = "https://api.hubapi.com";

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
        let (path, body) = match cmd["action"].as_str().unwrap_or_default() {
            "update_deal" => {
                let deal: String =
                    form_urlencoded::byte_serialize(arg("deal").as_bytes()).collect();
                (
                    format!("/crm/v3/objects/deals/{deal}"),
                    json!({ "properties": { "dealstage": arg("stage") } }),
                )
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
            "PATCH",
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
