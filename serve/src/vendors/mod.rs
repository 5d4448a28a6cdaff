//! Vendor connectors: `[connectors.NAME]` with `vendor = "…"` (docs/connectors.md). Each
//! vendor module turns a command into the vendor's documented request and classifies the
//! answer into success (with the vendor's id), a retry (429 with `Retry-After`, 5xx) or a
//! final failure; the executor (`http_connector`) keeps the retry, TLS and idempotency
//! rules it applies to every connector (docs/deploy.md, "Outbox and connectors").

pub mod http;
pub mod hubspot;
pub mod slack;
pub mod smtp;
pub mod stripe;
pub mod zendesk;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

use crate::http_connector::HttpConnector;
use crate::transport::{self, Attempt, Deliver, Policy};

/// Which vendor's API a connector speaks.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Stripe,
    Slack,
    /// Meshline's own command JSON POSTed to `url` (the `[connectors.http.NAME]` form).
    Http,
    Zendesk,
    Smtp,
    Hubspot,
}

/// The command kinds other than `action` that a connector can be named for in
/// `[connectors]` (`notify = "slack"`; `assignment = "helpdesk"` writes Meshline's
/// assignments back to a Zendesk connector).
pub const ROUTED: [&str; 4] = ["notify", "approval_request", "reconciliation", "assignment"];

/// `[connectors.NAME]`: NAME is the connector's name in the project (`stripe`, `slack`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VendorConfig {
    pub vendor: Kind,
    /// The API's base URL; default the vendor's public API (tests and regional endpoints
    /// set it).
    #[serde(default)]
    pub api_base: Option<String>,
    /// Stripe: the secret key, `env:VAR`.
    #[serde(default)]
    pub api_key: Option<String>,
    /// HubSpot: the private app's access token, `env:VAR`.
    #[serde(default)]
    pub access_token: Option<String>,
    /// Slack: the bot token (`xoxb-…`), `env:VAR`.
    #[serde(default)]
    pub bot_token: Option<String>,
    /// Slack: the channel (id or name) `notify`, `approval_request` and `reconciliation`
    /// commands are posted to.
    #[serde(default)]
    pub channel: Option<String>,
    /// Zendesk: the agent's e-mail address the API token belongs to.
    #[serde(default)]
    pub email: Option<String>,
    /// Zendesk: the API token, `env:VAR`.
    #[serde(default)]
    pub api_token: Option<String>,
    /// Zendesk: stripped from a case id to get the ticket's number (`"T-"`).
    #[serde(default)]
    pub case_prefix: String,
    /// Zendesk: reply texts by template name (`reply(template)`); e-mail: message texts by
    /// command kind or notification template.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
    /// Zendesk: group ids by the names `assign_group` uses.
    #[serde(default)]
    pub groups: BTreeMap<String, u64>,
    /// Zendesk: custom ticket field ids by the names `set_field` uses.
    #[serde(default)]
    pub fields: BTreeMap<String, u64>,
    /// `vendor = "http"`: the endpoint and extra headers, as in `[connectors.http.NAME]`.
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// `vendor = "http"`: actions mapped to a method, URL and body template.
    #[serde(default)]
    pub actions: BTreeMap<String, http::ActionMap>,
    #[serde(default = "crate::http_connector::default_attempts")]
    pub max_attempts: u32,
    #[serde(default = "crate::http_connector::default_backoff")]
    pub backoff_ms: u64,
    #[serde(default = "crate::http_connector::default_timeout")]
    pub timeout_ms: u64,
    #[serde(default = "crate::http_connector::default_max_backoff")]
    pub max_backoff_ms: u64,
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// E-mail (`vendor = "smtp"`): the relay, how the connection is secured, the login
    /// (`password` as `env:VAR`), the sender and the addresses (docs/connectors.md, "E-mail").
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub port: Option<u16>,
    #[serde(default)]
    pub security: smtp::Security,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Vec<String>,
    #[serde(default)]
    pub recipients: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub console_url: Option<String>,
}

impl VendorConfig {
    pub fn policy(&self) -> Policy {
        Policy {
            max_attempts: self.max_attempts,
            backoff_ms: self.backoff_ms,
            max_backoff_ms: self.max_backoff_ms,
        }
    }

    /// Check the settings and build the connector; the error names it.
    pub fn prepare(&self, name: &str) -> Result<Box<dyn Deliver>, String> {
        let fail = |what: String| format!("connectors.{name}: {what}");
        if let Some(base) = &self.api_base {
            check_base(base).map_err(fail)?;
        }
        let agent = || transport::agent(self.timeout_ms, self.ca_file.as_deref()).map_err(fail);
        match self.vendor {
            Kind::Http => {
                if self.url.is_none() && self.actions.is_empty() {
                    return Err(fail("vendor \"http\" needs `url` or `actions`".into()));
                }
                let fallback = match &self.url {
                    Some(url) => Some(
                        HttpConnector {
                            url: url.clone(),
                            headers: self.headers.clone(),
                            max_attempts: self.max_attempts,
                            backoff_ms: self.backoff_ms,
                            timeout_ms: self.timeout_ms,
                            max_backoff_ms: self.max_backoff_ms,
                            ca_file: self.ca_file.clone(),
                        }
                        .prepare(name)?,
                    ),
                    None => None,
                };
                if self.actions.is_empty() {
                    return fallback
                        .map(|c| Box::new(c) as Box<dyn Deliver>)
                        .ok_or_else(|| fail("vendor \"http\" needs `url`".into()));
                }
                for (action, m) in &self.actions {
                    m.check(action).map_err(fail)?;
                }
                Ok(Box::new(http::Mapped {
                    actions: self.actions.clone(),
                    headers: self.headers.clone(),
                    fallback,
                    agent: agent()?,
                    policy: self.policy(),
                    timeout_ms: self.timeout_ms,
                }))
            }
            Kind::Stripe => {
                let key = credential(self.api_key.as_deref(), "api_key").map_err(fail)?;
                Ok(Box::new(stripe::Stripe {
                    base: self.base(stripe::API_BASE),
                    api_key: key,
                    agent: agent()?,
                    policy: self.policy(),
                    timeout_ms: self.timeout_ms,
                }))
            }
            Kind::Slack => Ok(Box::new(self.slack(name)?)),
            Kind::Zendesk => {
                // Every Zendesk account has its own host: there is no public default.
                let base = self.api_base.as_deref().ok_or_else(|| {
                    fail(
                        "vendor \"zendesk\" needs `api_base` (https://SUBDOMAIN.zendesk.com)"
                            .into(),
                    )
                })?;
                let email = self
                    .email
                    .clone()
                    .ok_or_else(|| fail("vendor \"zendesk\" needs `email`".into()))?;
                let token = credential(self.api_token.as_deref(), "api_token").map_err(fail)?;
                Ok(Box::new(zendesk::Zendesk {
                    base: base.trim_end_matches('/').to_string(),
                    email,
                    token,
                    case_prefix: self.case_prefix.clone(),
                    templates: self.templates.clone(),
                    groups: self.groups.clone(),
                    fields: self.fields.clone(),
                    agent: agent()?,
                    policy: self.policy(),
                    timeout_ms: self.timeout_ms,
                }))
            }
            Kind::Hubspot => {
                let token =
                    credential(self.access_token.as_deref(), "access_token").map_err(fail)?;
                Ok(Box::new(hubspot::Hubspot {
                    base: self.base(hubspot::API_BASE),
                    token,
                    agent: agent()?,
                    policy: self.policy(),
                    timeout_ms: self.timeout_ms,
                }))
            }
            Kind::Smtp => Ok(Box::new(
                smtp::SmtpConfig {
                    host: self.host.clone(),
                    port: self.port,
                    security: self.security,
                    username: self.username.clone(),
                    password: self.password.clone(),
                    from: self.from.clone(),
                    to: self.to.clone(),
                    recipients: self.recipients.clone(),
                    console_url: self.console_url.clone(),
                }
                .prepare(
                    &self.templates,
                    self.timeout_ms,
                    self.ca_file.as_deref(),
                    self.policy(),
                )
                .map_err(fail)?,
            )),
        }
    }

    /// A Slack connector (`vendor = "slack"`).
    pub fn slack(&self, name: &str) -> Result<slack::Slack, String> {
        let fail = |what: String| format!("connectors.{name}: {what}");
        let token = credential(self.bot_token.as_deref(), "bot_token").map_err(fail)?;
        Ok(slack::Slack {
            base: self.base(slack::API_BASE),
            token,
            channel: self.channel.clone(),
            agent: transport::agent(self.timeout_ms, self.ca_file.as_deref()).map_err(fail)?,
            policy: self.policy(),
            timeout_ms: self.timeout_ms,
        })
    }

    fn base(&self, default: &str) -> String {
        self.api_base
            .as_deref()
            .unwrap_or(default)
            .trim_end_matches('/')
            .to_string()
    }
}

/// A base URL must be `http://` or `https://` with a host.
fn check_base(base: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = base
        .parse()
        .map_err(|e| format!("api_base {base:?} is not a URL: {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.host().is_some_and(|h| !h.is_empty()) => Ok(()),
        _ => Err(format!(
            "api_base {base:?}: only http:// and https:// URLs with a host are supported"
        )),
    }
}

/// A credential is named as `env:VAR` and read at send time, so it never sits in the
/// configuration file.
pub(crate) fn credential(value: Option<&str>, what: &str) -> Result<String, String> {
    match value.map(|v| v.strip_prefix("env:")) {
        Some(Some(var)) if !var.is_empty() => Ok(var.to_string()),
        Some(_) => Err(format!(
            "{what} must name an environment variable, as `env:VAR`"
        )),
        None => Err(format!("{what} is required, as `env:VAR`")),
    }
}

/// The secret in the variable a credential names, or the final failure that it is unset.
pub fn secret(var: &str, what: &str) -> Result<String, Attempt> {
    std::env::var(var).map_err(|_| Attempt::Refused(format!("{what}: {var} is not set")))
}

/// Prepare every vendor connector.
pub fn prepare_all(
    connectors: &BTreeMap<String, VendorConfig>,
) -> Result<BTreeMap<String, Box<dyn Deliver>>, String> {
    connectors
        .iter()
        .map(|(name, c)| Ok((name.clone(), c.prepare(name)?)))
        .collect()
}

/// Check the `[connectors]` routes: each routed kind names a configured connector that
/// can take it (Slack, e-mail; Zendesk for `assignment`, and only that).
pub fn check_routes(
    routes: &BTreeMap<String, String>,
    vendors: &BTreeMap<String, VendorConfig>,
) -> Result<(), String> {
    for (kind, name) in routes {
        let assignment = kind == "assignment";
        match vendors.get(name) {
            Some(c) if assignment && c.vendor == Kind::Zendesk => {}
            Some(c) if assignment => {
                return Err(format!(
                    "connectors.assignment: connector `{name}` (vendor {:?}) cannot take assignments: only a Zendesk connector writes them back",
                    c.vendor
                ));
            }
            Some(c) if c.vendor == Kind::Slack => {
                if c.channel.is_none() {
                    return Err(format!(
                        "connectors.{name}: `{kind}` is routed to it, so it needs `channel`"
                    ));
                }
            }
            Some(c) if c.vendor == Kind::Smtp => {
                if c.to.is_empty() && c.recipients.is_empty() {
                    return Err(format!(
                        "connectors.{name}: `{kind}` is routed to it, so it needs `to` or `recipients`"
                    ));
                }
            }
            Some(c) => {
                return Err(format!(
                    "connectors.{kind}: connector `{name}` (vendor {:?}) cannot take `{kind}` commands",
                    c.vendor
                ));
            }
            None => {
                return Err(format!(
                    "connectors.{kind}: no connector `{name}` is configured as [connectors.{name}]"
                ));
            }
        }
    }
    Ok(())
}

/// The JSON text of an answer's field, for reasons and ids.
pub fn text(v: &serde_json::Value, ptr: &str) -> Option<String> {
    match v.pointer(ptr)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// One line saying what a routed command asks of people (the text of a Slack message, the
/// body of an e-mail without a template).
pub fn summary(cmd: &serde_json::Value) -> String {
    use serde_json::Value as Json;
    let case = text(cmd, "/case").unwrap_or_default();
    match cmd["kind"].as_str().unwrap_or_default() {
        "approval_request" => {
            let who: Vec<String> = cmd["require"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|r| match r {
                            Json::String(s) => s.clone(),
                            Json::Object(m) => m
                                .iter()
                                .map(|(k, v)| {
                                    format!("{k} from {}", v.as_str().unwrap_or_default())
                                })
                                .collect::<Vec<_>>()
                                .join(", "),
                            other => other.to_string(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            format!(
                "Approval needed on case {case}: gate `{}` holds an action ({}).",
                text(cmd, "/gate").unwrap_or_default(),
                who.join("; ")
            )
        }
        // A `notify … with template "t"` names its template (docs/runtime.md).
        "notify" => format!(
            "Case {case}: {} (for {}){}.",
            text(cmd, "/rule").unwrap_or_default(),
            text(cmd, "/to").unwrap_or_default(),
            text(cmd, "/template")
                .map(|t| format!(", template `{t}`"))
                .unwrap_or_default()
        ),
        "assignment" => format!(
            "Case {case} assigned to {}.",
            text(cmd, "/team")
                .or_else(|| text(cmd, "/person"))
                .unwrap_or_default()
        ),
        "reconciliation" => format!(
            "Reconciliation needed on case {case} for {}: automation `{}` failed — {}",
            text(cmd, "/owner").unwrap_or_default(),
            text(cmd, "/automation").unwrap_or_default(),
            text(cmd, "/reason").unwrap_or_default()
        ),
        other => format!("Case {case}: {other}"),
    }
}
