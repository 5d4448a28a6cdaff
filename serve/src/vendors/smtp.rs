//! E-mail over SMTP (docs/connectors.md, "E-mail"): `notify`, `approval_request` and
//! `reconciliation` commands as plain-text messages to the addresses configured for the
//! team or person they name. STARTTLS (RFC 3207) is required by default, implicit TLS
//! (RFC 8314, port 465) on request, plain text only to a relay on this machine. SMTP
//! replies are classified by their class (RFC 5321 §4.2.1): 4yz retried, 5yz final.
//!
//! SMTP has no idempotency key. Every attempt of one command carries the same `Message-ID`
//! (from the command's sequence number and the hash of its stored line), so a message that
//! arrives twice — the server accepted it but the connection broke before its answer — is
//! one message to a mail client that collapses duplicates.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport};
use serde::Deserialize;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::{secret, summary, text};
use crate::transport::{Attempt, Deliver, Delivered, Policy};

/// How the connection is secured.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which must succeed (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a relay on this machine (localhost, 127.0.0.1, ::1).
    None,
}

impl Security {
    fn default_port(self) -> u16 {
        match self {
            Security::Starttls => 587,
            Security::Tls => 465,
            Security::None => 25,
        }
    }
}

/// The settings only this vendor has (read from `[connectors.NAME]`, docs/connectors.md).
#[derive(Clone, Debug, Default)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub security: Security,
    pub username: Option<String>,
    /// `env:VAR`.
    pub password: Option<String>,
    /// The sender, `Name <address>` or `address`.
    pub from: Option<String>,
    /// Where a command goes when no `recipients` entry names its team or person.
    pub to: Vec<String>,
    /// Addresses by team or person name (the `to` of a notification, the teams an approval
    /// request asks, the owner a reconciliation goes to).
    pub recipients: BTreeMap<String, Vec<String>>,
    /// Appended to each approval request's text: where approvers decide (the console).
    pub console_url: Option<String>,
}

/// The placeholders a template may use: fields of the command, and `{summary}`.
const PLACEHOLDERS: [&str; 8] = [
    "case",
    "gate",
    "rule",
    "to",
    "owner",
    "automation",
    "reason",
    "summary",
];

pub struct Smtp {
    transport: SmtpTransport,
    from: Mailbox,
    to: Vec<Mailbox>,
    recipients: BTreeMap<String, Vec<Mailbox>>,
    templates: BTreeMap<String, String>,
    console_url: Option<String>,
    /// The domain of `from`, the right-hand side of every `Message-ID`.
    domain: String,
    policy: Policy,
}

fn mailbox(what: &str, s: &str) -> Result<Mailbox, String> {
    s.parse()
        .map_err(|e| format!("{what} {s:?} is not an e-mail address: {e}"))
}

fn loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1" | "[::1]")
}

impl SmtpConfig {
    /// Check the settings and build the connector (the secret is read at send time, as for
    /// the other vendors, but must be named as `env:VAR` here).
    pub fn prepare(
        &self,
        templates: &BTreeMap<String, String>,
        timeout_ms: u64,
        ca_file: Option<&Path>,
        policy: Policy,
    ) -> Result<Smtp, String> {
        let host = self
            .host
            .as_deref()
            .filter(|h| !h.is_empty())
            .ok_or("vendor \"smtp\" needs `host`")?;
        let from = mailbox(
            "from",
            self.from.as_deref().ok_or("vendor \"smtp\" needs `from`")?,
        )?;
        let to = self
            .to
            .iter()
            .map(|a| mailbox("to", a))
            .collect::<Result<Vec<_>, _>>()?;
        let mut recipients = BTreeMap::new();
        for (who, addrs) in &self.recipients {
            let list = addrs
                .iter()
                .map(|a| mailbox(&format!("recipients.{who}"), a))
                .collect::<Result<Vec<_>, _>>()?;
            recipients.insert(who.clone(), list);
        }
        for (name, body) in templates {
            check_template(body).map_err(|e| format!("templates.{name}: {e}"))?;
        }
        if self.security == Security::None && !loopback(host) {
            return Err(format!(
                "security = \"none\" sends credentials and messages in clear text: only allowed \
                 to a relay on this machine, not {host:?}"
            ));
        }
        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(self.port.unwrap_or(self.security.default_port()))
            .timeout(Some(Duration::from_millis(timeout_ms.max(1))));
        if self.security != Security::None {
            let mut params = TlsParameters::builder(host.to_string());
            if let Some(path) = ca_file {
                let pem =
                    std::fs::read(path).map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
                // Only the certificates of `ca_file`, as for the HTTP connectors.
                params = params
                    .certificate_store(CertificateStore::None)
                    .add_root_certificate(cert);
            }
            let params = params.build_rustls().map_err(|e| format!("TLS: {e}"))?;
            builder = builder.tls(match self.security {
                Security::Tls => Tls::Wrapper(params),
                _ => Tls::Required(params),
            });
        }
        match (&self.username, &self.password) {
            (Some(user), Some(password)) => {
                let var = super::credential(Some(password), "password")?;
                // The secret is read now: lettre keeps credentials in the transport. An
                // unset variable is a start-up error, not a failure of every message.
                let password = secret(&var, "password").map_err(|a| match a {
                    Attempt::Refused(m) | Attempt::Retry(m) | Attempt::RetryAfter(m, _) => m,
                    Attempt::Ok => String::new(),
                })?;
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            (None, None) => {}
            _ => return Err("`username` and `password` go together".into()),
        }
        let domain = from
            .email
            .domain()
            .trim_matches(|c| c == '[' || c == ']')
            .to_string();
        Ok(Smtp {
            transport: builder.build(),
            from,
            to,
            recipients,
            templates: templates.clone(),
            console_url: self.console_url.clone(),
            domain,
            policy,
        })
    }
}

/// A template's placeholders must be known: a typo would otherwise reach every reader.
fn check_template(body: &str) -> Result<(), String> {
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("a `{` is not closed".into());
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "unknown placeholder {{{name}}} (known: {})",
                PLACEHOLDERS.join(", ")
            ));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

/// The team and person names a command is for.
pub fn parties(cmd: &Json) -> Vec<String> {
    match cmd["kind"].as_str().unwrap_or_default() {
        "notify" => text(cmd, "/to").into_iter().collect(),
        "reconciliation" => text(cmd, "/owner").into_iter().collect(),
        "approval_request" => cmd["require"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| match r {
                        Json::String(s) => Some(s.clone()),
                        Json::Object(_) => text(r, "/approval"),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The subject line of a command's message.
fn subject(cmd: &Json) -> String {
    let case = text(cmd, "/case").unwrap_or_default();
    match cmd["kind"].as_str().unwrap_or_default() {
        "approval_request" => format!(
            "Approval needed: case {case}, gate {}",
            text(cmd, "/gate").unwrap_or_default()
        ),
        "reconciliation" => format!("Reconciliation needed: case {case}"),
        "notify" => format!("Case {case}: {}", text(cmd, "/rule").unwrap_or_default()),
        other => format!("Case {case}: {other}"),
    }
}

/// `template` with its placeholders filled from the command.
fn fill(template: &str, cmd: &Json) -> String {
    let mut out = template.to_string();
    for name in PLACEHOLDERS {
        let value = if name == "summary" {
            summary(cmd)
        } else {
            text(cmd, &format!("/{name}")).unwrap_or_default()
        };
        out = out.replace(&format!("{{{name}}}"), &value);
    }
    out
}

impl Smtp {
    /// The addresses a command goes to: those of its parties, else the default `to`.
    fn addresses(&self, cmd: &Json) -> Vec<Mailbox> {
        let mut seen = BTreeSet::new();
        let mut out: Vec<Mailbox> = parties(cmd)
            .iter()
            .filter_map(|p| self.recipients.get(p))
            .flatten()
            .filter(|m| seen.insert(m.email.to_string()))
            .cloned()
            .collect();
        if out.is_empty() {
            out = self.to.clone();
        }
        out
    }

    /// The message's text: the template named by the command (a notification's
    /// `template`) or by its kind, else the summary; the console link for approvals.
    fn body(&self, cmd: &Json) -> String {
        let kind = cmd["kind"].as_str().unwrap_or_default();
        let template = text(cmd, "/template")
            .and_then(|t| self.templates.get(&t))
            .or_else(|| self.templates.get(kind));
        let mut body = match template {
            Some(t) => fill(t, cmd),
            None => summary(cmd),
        };
        if kind == "approval_request"
            && let (Some(url), Some(case)) = (&self.console_url, text(cmd, "/case"))
        {
            let case: String = form_urlencoded::byte_serialize(case.as_bytes()).collect();
            body.push_str(&format!(
                "\n\nApprove or deny: {}/cases/{case}",
                url.trim_end_matches('/')
            ));
        }
        body.push('\n');
        body
    }

    /// The same for every attempt of one command (module doc).
    fn message_id(&self, cmd: &Json, line: &str) -> String {
        let digest = Sha256::digest(line.as_bytes());
        let hash: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        let seq = cmd["seq"].as_u64().unwrap_or(0);
        format!("<meshline.{seq}.{hash}@{}>", self.domain)
    }
}

impl Smtp {
    /// The `email` connector's `send(to, template)`: the template's text to the person,
    /// its first line as the subject when it starts with `Subject:`.
    fn action(&self, cmd: &Json) -> Result<(Vec<Mailbox>, String, String), Attempt> {
        let action = cmd["action"].as_str().unwrap_or_default();
        if action != "send" {
            return Err(Attempt::Refused(format!(
                "the e-mail connector has no action `{action}` (docs/connectors.md)"
            )));
        }
        let to = text(cmd, "/args/to").unwrap_or_default();
        let to = mailbox("to", &to).map_err(Attempt::Refused)?;
        let name = text(cmd, "/args/template").unwrap_or_default();
        let Some(template) = self.templates.get(&name) else {
            return Err(Attempt::Refused(format!(
                "no template `{name}` in the connector's `templates`"
            )));
        };
        let filled = fill(template, cmd);
        let (subject, body) = match filled.strip_prefix("Subject:") {
            Some(rest) => {
                let (first, body) = rest.split_once('\n').unwrap_or((rest, ""));
                (
                    first.trim().to_string(),
                    body.trim_start_matches('\n').to_string(),
                )
            }
            None => (
                format!("Case {}", text(cmd, "/case").unwrap_or_default()),
                filled,
            ),
        };
        Ok((vec![to], subject, body))
    }
}

/// An SMTP error as a retry or a final failure: 4yz and transport errors retried; 5yz, a
/// refused TLS handshake and what the client refuses to do (a server without STARTTLS,
/// without a login mechanism it supports) final.
fn classify(e: &lettre::transport::smtp::Error) -> Attempt {
    let reason = format!("SMTP: {e}");
    if e.is_permanent() || e.is_tls() || e.is_client() || certificate_refused(e) {
        Attempt::Refused(reason)
    } else {
        Attempt::Retry(reason)
    }
}

/// Whether the TLS handshake failed on the server's certificate (lettre reports it as a
/// network error, wrapping rustls's): final, as for the HTTP connectors — retrying cannot
/// make an untrusted certificate trusted.
fn certificate_refused(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        let tls = c.downcast_ref::<rustls::Error>().or_else(|| {
            c.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        });
        if matches!(
            tls,
            Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
        ) {
            return true;
        }
        cause = c.source();
    }
    false
}

impl Deliver for Smtp {
    fn attempt(&self, cmd: &Json, line: &str) -> Delivered {
        let (to, subject, body) = if cmd["kind"] == "action" {
            match self.action(cmd) {
                Ok(parts) => parts,
                Err(a) => return a.into(),
            }
        } else {
            let to = self.addresses(cmd);
            if to.is_empty() {
                return Attempt::Refused(format!(
                    "no address for {:?}: add them under `recipients` or set `to`",
                    parties(cmd)
                ))
                .into();
            }
            (to, subject(cmd), self.body(cmd))
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject)
            .message_id(Some(self.message_id(cmd, line)))
            .user_agent(concat!("meshline/", env!("CARGO_PKG_VERSION")).to_string());
        for m in to {
            builder = builder.to(m);
        }
        let message = match builder.header(ContentType::TEXT_PLAIN).body(body) {
            Ok(m) => m,
            Err(e) => return Attempt::Refused(format!("the message cannot be formed: {e}")).into(),
        };
        match self.transport.send(&message) {
            Ok(r) => Delivered {
                attempt: Attempt::Ok,
                // The server's queue id, when its answer names one ("250 2.0.0 Ok: queued as X").
                remote: r.message().last().map(|m| m.trim().to_string()),
            },
            Err(e) => classify(&e).into(),
        }
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_name_only_known_placeholders() {
        assert!(check_template("Case {case}: {summary}").is_ok());
        let e = check_template("Case {cse}").unwrap_err();
        assert!(e.contains("unknown placeholder {cse}"), "{e}");
        assert!(check_template("Case {case").is_err());
    }

    #[test]
    fn approval_requests_go_to_the_teams_they_ask() {
        let cmd = json!({"kind": "approval_request", "case": "C-1", "gate": "refund_limit",
            "require": ["finance", {"approval": "managers", "approvals": 2}]});
        assert_eq!(parties(&cmd), ["finance", "managers"]);
        let n = json!({"kind": "notify", "case": "C-1", "rule": "sla", "to": "ops"});
        assert_eq!(parties(&n), ["ops"]);
        assert_eq!(fill("{case}/{to}/{gate}", &n), "C-1/ops/");
    }

    #[test]
    fn plain_text_is_for_this_machine_only() {
        let c = SmtpConfig {
            host: Some("smtp.example.com".into()),
            from: Some("ops@example.com".into()),
            security: Security::None,
            ..SmtpConfig::default()
        };
        let policy = Policy {
            max_attempts: 1,
            backoff_ms: 1,
            max_backoff_ms: 1,
        };
        let Err(e) = c.prepare(&BTreeMap::new(), 1000, None, policy) else {
            panic!("accepted")
        };
        assert!(e.contains("clear text"), "{e}");
        let local = SmtpConfig {
            host: Some("127.0.0.1".into()),
            ..c
        };
        assert!(local.prepare(&BTreeMap::new(), 1000, None, policy).is_ok());
    }
}
