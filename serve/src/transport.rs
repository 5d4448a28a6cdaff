//! What every connector shares (docs/deploy.md, "Outbox and connectors"): the HTTP agent
//! (TLS roots, no redirects, no proxy, one attempt's timeout), one request and its answer,
//! the classification of statuses and transport errors, `Retry-After`, and the [`Deliver`]
//! trait the executor drives each connector through (`http_connector`, `vendors`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::Value as Json;
use ureq::http::HeaderValue;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

/// What one attempt gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Attempt {
    Ok,
    /// Permanent: the endpoint refused the request (4xx other than 408/429), the request
    /// cannot be formed, or the endpoint's TLS certificate is not accepted.
    Refused(String),
    /// Worth retrying: network error, timeout, 5xx, 408, 429.
    Retry(String),
    /// Worth retrying after at least this many milliseconds: a 429 or 503 with
    /// `Retry-After`.
    RetryAfter(String, u64),
}

/// The HTTP agent every connector uses: statuses are answers (not errors), no redirects,
/// no proxy, one attempt bounded by `timeout_ms`, the public web PKI roots or only the
/// certificates of `ca_file` (docs/deploy.md, "Outbox and connectors").
pub fn agent(timeout_ms: u64, ca_file: Option<&Path>) -> Result<ureq::Agent, String> {
    let tls = match ca_file {
        None => TlsConfig::default(),
        Some(path) => {
            let roots = read_roots(path).map_err(|e| format!("ca_file {e}"))?;
            TlsConfig::builder()
                .root_certs(RootCerts::new_with_certs(&roots))
                .build()
        }
    };
    let config = ureq::Agent::config_builder()
        // Statuses are answers to classify, not errors.
        .http_status_as_error(false)
        // A redirected POST is not followed: the 3xx is retried like any other answer
        // that is neither success nor refusal.
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(Duration::from_millis(timeout_ms.max(1))))
        .user_agent(concat!("meshline/", env!("CARGO_PKG_VERSION")))
        .tls_config(tls)
        .build();
    Ok(ureq::Agent::new_with_config(config))
}

/// How a connector retries (docs/deploy.md, "What is retried").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub max_attempts: u32,
    pub backoff_ms: u64,
    pub max_backoff_ms: u64,
}

/// What one attempt gave, with the vendor's id for what it created or changed (a Stripe
/// refund `re_…`, a Slack message `ts`), logged with the outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivered {
    pub attempt: Attempt,
    pub remote: Option<String>,
}

impl From<Attempt> for Delivered {
    fn from(attempt: Attempt) -> Delivered {
        Delivered {
            attempt,
            remote: None,
        }
    }
}

/// A connector as the executor drives it: the generic HTTP client below, or a vendor's
/// (the `vendors` modules, docs/connectors.md).
pub trait Deliver: Send {
    /// One attempt at the command `cmd`, whose stored line is `line`.
    fn attempt(&self, cmd: &Json, line: &str) -> Delivered;
    fn policy(&self) -> Policy;
}

/// A vendor's answer: status, the `Retry-After` wait, the headers asked for, the body.
#[derive(Clone, Debug, Default)]
pub struct Reply {
    pub status: u16,
    pub retry_after_ms: Option<u64>,
    /// `Stripe-Should-Retry` and the like, by lower-case name, when present.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

/// The largest vendor answer read (a refund object or a Slack answer is a few kB).
const MAX_REPLY: u64 = 1 << 20;

/// One request: `method` (`GET`, `POST`, `PUT` or `PATCH`) to `url`, with `headers`, and a
/// body with its content type for the others than GET. A request that got no status is classified as by [`error`].
pub fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: Option<(&str, String)>,
    keep: &[&str],
    timeout_ms: u64,
) -> Result<Reply, Attempt> {
    let mut values = Vec::new();
    for (k, v) in headers {
        // Never echo the value: it is usually a secret.
        let v = HeaderValue::from_str(v)
            .map_err(|_| Attempt::Refused(format!("header {k}: not a valid header value")))?;
        values.push((*k, v));
    }
    let sent = if method == "GET" {
        let mut req = agent.get(url);
        for (k, v) in values {
            req = req.header(k, v);
        }
        req.call()
    } else {
        let mut req = match method {
            "PUT" => agent.put(url),
            "PATCH" => agent.patch(url),
            _ => agent.post(url),
        };
        for (k, v) in values {
            req = req.header(k, v);
        }
        match body {
            Some((ty, b)) => req.content_type(ty).send(b),
            None => req.send_empty(),
        }
    };
    let mut resp = sent.map_err(|e| error(e, timeout_ms))?;
    let status = resp.status().as_u16();
    let get = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let retry_after_ms = get("retry-after")
        .as_deref()
        .and_then(|v| retry_after_ms(v, jiff::Timestamp::now()));
    let headers = keep
        .iter()
        .filter_map(|k| Some((k.to_string(), get(k)?)))
        .collect();
    // An unreadable body leaves the status to decide.
    let body = resp
        .body_mut()
        .with_config()
        .limit(MAX_REPLY)
        .read_to_string()
        .unwrap_or_default();
    Ok(Reply {
        status,
        retry_after_ms,
        headers,
        body,
    })
}

/// A retryable answer, honouring `Retry-After` on 429 and 503.
pub fn retry(reply: &Reply, reason: String) -> Attempt {
    match reply.retry_after_ms {
        Some(ms) if matches!(reply.status, 429 | 503) => Attempt::RetryAfter(reason, ms),
        _ => Attempt::Retry(reason),
    }
}

/// The certificates of a PEM file, each checked to be usable as a trust anchor.
fn read_roots(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    let mut roots = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(c)) => roots.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("{shown}: invalid PEM: {e}")),
        }
    }
    if roots.is_empty() {
        return Err(format!("{shown}: no PEM certificate in the file"));
    }
    let mut store = rustls::RootCertStore::empty();
    for (i, c) in roots.iter().enumerate() {
        store
            .add(rustls::pki_types::CertificateDer::from(c.der()))
            .map_err(|e| format!("{shown}: certificate {}: {e}", i + 1))?;
    }
    Ok(roots)
}

/// A `Retry-After` value (delay in seconds, or an HTTP date) as milliseconds from `now`.
pub fn retry_after_ms(value: &str, now: jiff::Timestamp) -> Option<u64> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp();
    Some((at.as_millisecond() - now.as_millisecond()).max(0) as u64)
}

/// 2xx success; 408, 429 and 5xx retried; other 4xx refused; anything else retried.
pub fn status(code: u16) -> Attempt {
    match code {
        200..=299 => Attempt::Ok,
        408 | 429 => Attempt::Retry(format!("HTTP {code}")),
        400..=499 => Attempt::Refused(format!("HTTP {code}")),
        _ => Attempt::Retry(format!("HTTP {code}")),
    }
}

/// A request that did not get a status: refused when retrying cannot help (a request that
/// cannot be formed, a certificate not accepted), otherwise retried (network, timeout).
pub fn error(e: ureq::Error, timeout_ms: u64) -> Attempt {
    use ureq::Error as E;
    let certificate = |e: &rustls::Error| {
        matches!(
            e,
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
        )
    };
    match &e {
        E::Io(io) => match io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
            Some(t) if certificate(t) => Attempt::Refused(format!("TLS: {t}")),
            Some(t) => Attempt::Retry(format!("TLS: {t}")),
            None => Attempt::Retry(e.to_string()),
        },
        E::Timeout(_) => Attempt::Retry(format!("no answer within {timeout_ms} ms")),
        E::Rustls(t) if certificate(t) => Attempt::Refused(format!("TLS: {t}")),
        E::Http(_) | E::BadUri(_) | E::Tls(_) | E::Pem(_) | E::RequireHttpsOnly(_) => {
            Attempt::Refused(e.to_string())
        }
        _ => Attempt::Retry(e.to_string()),
    }
}
