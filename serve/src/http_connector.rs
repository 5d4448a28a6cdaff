//! The HTTP connector: POSTs each `action` command of a connector configured as HTTP to its
//! endpoint, with the command's idempotency key as `Idempotency-Key`; retries with
//! exponential backoff and jitter up to `max_attempts`; feeds the outcome back as an
//! `ActionSucceeded` / `ActionFailed` event (id `outcome:KEY`, so a repeated outcome is a
//! duplicate). At-least-once: the outcome is made durable before the row is marked, so a
//! crash in between repeats the request under the same key.
//!
//! The client is `ureq` with rustls: `http://` and `https://` URLs, the public web PKI
//! roots (Mozilla's, built in) by default, or the certificates of `ca_file` as the only
//! trusted roots. No redirects are followed and no proxy is used. The settings are checked
//! (URL, literal headers, CA file) when the configuration is loaded, so a mistake stops
//! `serve` at start-up, naming the connector, rather than failing the first delivery.
//!
//! What is retried: network errors, timeouts, 408, 429, 5xx (and any other non-2xx,
//! non-4xx status). Refused for good: other 4xx, a request that cannot be formed (an
//! `env:VAR` header whose variable is unset or not a valid header value), and a TLS
//! certificate the connector's roots do not accept — no byte of the request left the
//! machine, and retrying for the few seconds the backoff covers will not fix an expired,
//! misnamed or untrusted certificate: the saga fails at once, compensates, and the owner
//! gets a reconciliation task naming the certificate error (docs/deploy.md).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;
use ureq::http::{HeaderName, HeaderValue, Uri};

pub use crate::transport::{
    Attempt, Deliver, Delivered, Policy, Reply, agent, call, error, retry, retry_after_ms, status,
};

use crate::core::Msg;
use crate::lease::Fence;
use crate::metrics::Metrics;
use crate::state::Location;
use crate::store::{HttpRow, Store};

/// `[connectors.http.NAME]`: NAME is the connector's name in the project.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConnector {
    /// `http://host[:port]/path` or `https://host[:port]/path`.
    pub url: String,
    /// Extra headers; a value `env:VAR` is read from the environment at send time (secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// The first retry's delay; each later one doubles, plus up to as much again of jitter.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    /// The longest one attempt may take: connecting, TLS, sending and the response's head.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// The longest wait before a retry: bounds the exponential backoff and a `Retry-After`
    /// the endpoint asks for on 429 or 503.
    #[serde(default = "default_max_backoff")]
    pub max_backoff_ms: u64,
    /// PEM file whose certificates are the only roots trusted for this connector's TLS
    /// (a private CA); without it, the public web PKI roots.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// Retry defaults, shared with the vendor connectors (docs/connectors.md).
pub(crate) fn default_attempts() -> u32 {
    5
}
pub(crate) fn default_backoff() -> u64 {
    500
}
pub(crate) fn default_timeout() -> u64 {
    10_000
}
pub(crate) fn default_max_backoff() -> u64 {
    60_000
}

/// A connector ready to deliver: its settings and an HTTP agent holding its TLS roots.
pub struct Client {
    conf: HttpConnector,
    agent: ureq::Agent,
}

impl HttpConnector {
    /// Check the settings and build the client. The error names the connector and what is
    /// wrong: a URL that is not `http://` or `https://` with a host, a literal header that
    /// is not a valid name or value, a CA file that cannot be read or holds no valid
    /// certificate.
    pub fn prepare(&self, name: &str) -> Result<Client, String> {
        let fail = |what: String| format!("connectors.http.{name}: {what}");
        let uri: Uri = self.url.parse().map_err(|e| {
            fail(format!(
                "url {:?} is not an http:// or https:// URL: {e}",
                self.url
            ))
        })?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => {
                return Err(fail(format!(
                    "url {:?}: only http:// and https:// URLs are supported",
                    self.url
                )));
            }
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(fail(format!("url {:?} has no host", self.url)));
        }
        for (k, v) in &self.headers {
            HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| fail(format!("header {k:?} is not a valid header name")))?;
            match v.strip_prefix("env:") {
                // Secrets are read at send time; only the variable's name is checked here.
                Some("") => return Err(fail(format!("header {k}: `env:` names no variable"))),
                Some(_) => {}
                None => {
                    HeaderValue::from_str(v)
                        .map_err(|_| fail(format!("header {k}: not a valid header value")))?;
                }
            }
        }
        Ok(Client {
            conf: self.clone(),
            agent: agent(self.timeout_ms, self.ca_file.as_deref()).map_err(fail)?,
        })
    }
}

impl Deliver for Client {
    fn attempt(&self, cmd: &Json, line: &str) -> Delivered {
        self.post(cmd["key"].as_str().unwrap_or_default(), line)
            .into()
    }
    fn policy(&self) -> Policy {
        Policy {
            max_attempts: self.conf.max_attempts,
            backoff_ms: self.conf.backoff_ms,
            max_backoff_ms: self.conf.max_backoff_ms,
        }
    }
}

/// Prepare every configured connector (start-up and configuration loading).
pub fn prepare_all(
    connectors: &BTreeMap<String, HttpConnector>,
) -> Result<BTreeMap<String, Client>, String> {
    connectors
        .iter()
        .map(|(name, c)| Ok((name.clone(), c.prepare(name)?)))
        .collect()
}

impl Client {
    pub fn max_attempts(&self) -> u32 {
        self.conf.max_attempts
    }

    pub fn backoff_ms(&self) -> u64 {
        self.conf.backoff_ms
    }

    pub fn max_backoff_ms(&self) -> u64 {
        self.conf.max_backoff_ms
    }

    /// One attempt: POST `body` (JSON) with `key` as `Idempotency-Key`.
    pub fn post(&self, key: &str, body: &str) -> Attempt {
        let mut req = self
            .agent
            .post(&self.conf.url)
            .content_type("application/json")
            .header("Idempotency-Key", key);
        for (k, v) in &self.conf.headers {
            let value = match v.strip_prefix("env:") {
                Some(var) => match std::env::var(var) {
                    Ok(x) => x,
                    Err(_) => return Attempt::Refused(format!("header {k}: {var} is not set")),
                },
                None => v.clone(),
            };
            // Never echo the value: it is usually a secret.
            let Ok(value) = HeaderValue::from_str(&value) else {
                return Attempt::Refused(format!("header {k}: not a valid header value"));
            };
            req = req.header(k.as_str(), value);
        }
        match req.send(body) {
            Ok(resp) => {
                let code = resp.status().as_u16();
                let wait = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| retry_after_ms(v, jiff::Timestamp::now()));
                match (status(code), wait) {
                    (Attempt::Retry(r), Some(ms)) if matches!(code, 429 | 503) => {
                        Attempt::RetryAfter(r, ms)
                    }
                    (a, _) => a,
                }
            }
            Err(e) => error(e, self.conf.timeout_ms),
        }
    }
}

/// The wait before retry number `attempts` (1 for the first): `backoff_ms × 2^(attempts−1)`
/// plus up to as much again of jitter, at least what `Retry-After` asked, at most
/// `max_backoff_ms`.
pub fn retry_wait(
    backoff_ms: u64,
    max_backoff_ms: u64,
    attempts: u32,
    jitter: u64,
    retry_after_ms: Option<u64>,
) -> u64 {
    let base = backoff_ms
        .max(1)
        .saturating_mul(1 << attempts.saturating_sub(1).min(20));
    let wait = base.saturating_add(jitter % base);
    wait.max(retry_after_ms.unwrap_or(0))
        .min(max_backoff_ms.max(1))
}

/// Start the executor thread for the HTTP connectors. With a `fence` (several nodes on
/// PostgreSQL) it delivers only while this node leads, and its bookkeeping is fenced: a
/// command is delivered by one node at a time, a deposed leader's attempt in flight being
/// the exception (repeated by the next leader under the same idempotency key).
pub fn spawn(
    state: &Location,
    fence: Option<Arc<Fence>>,
    connectors: BTreeMap<String, Box<dyn Deliver>>,
    routes: BTreeMap<String, String>,
    tx: Sender<Msg>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, String> {
    let mut store = state.open_fenced(fence.clone())?;
    std::thread::Builder::new()
        .name("meshline-outbox-http".into())
        .spawn(move || {
            let mut seed = std::process::id() as u64 ^ now_ms() as u64 | 1;
            while !stop.load(Ordering::SeqCst) {
                if fence.as_ref().is_some_and(|f| f.leading().is_none()) {
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                let rows = match store.http_due(now_ms(), 32) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::warn!(error = %e, "outbox read failed");
                        std::thread::sleep(Duration::from_millis(500));
                        continue;
                    }
                };
                if rows.is_empty() {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
                for row in rows {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    if let Err(e) = deliver(
                        &mut *store,
                        (&connectors, &routes),
                        &tx,
                        &metrics,
                        row,
                        seed,
                    ) {
                        tracing::warn!(error = %e, "outbox delivery bookkeeping failed");
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
            }
        })
        .map_err(|e| e.to_string())
}

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// The connectors by name, and which connector takes each routed command kind.
type Routing<'a> = (
    &'a BTreeMap<String, Box<dyn Deliver>>,
    &'a BTreeMap<String, String>,
);

fn deliver(
    store: &mut dyn Store,
    (connectors, routes): Routing<'_>,
    tx: &Sender<Msg>,
    metrics: &Metrics,
    row: HttpRow,
    jitter: u64,
) -> Result<(), String> {
    let cmd: Json = serde_json::from_str(&row.line).map_err(|e| e.to_string())?;
    let kind = cmd["kind"].as_str().unwrap_or_default();
    // An action goes to its connector; `notify`, `approval_request` and `reconciliation`
    // to the one `[connectors]` names for their kind, and feed no outcome back.
    let is_action = kind == "action";
    let name = if is_action {
        cmd["connector"].as_str().unwrap_or_default()
    } else {
        routes.get(kind).map(String::as_str).unwrap_or_default()
    };
    let key = cmd["key"].as_str().unwrap_or_default();
    let action = format!("{name}.{}", cmd["action"].as_str().unwrap_or_default());
    let case = cmd["case"].as_str().unwrap_or_default();
    let Some(conn) = connectors.get(name) else {
        return Ok(store.http_update(row.seq, row.attempts, None, "failed")?);
    };
    let attempts = row.attempts + 1;
    let policy = conn.policy();
    let Delivered {
        attempt: outcome_attempt,
        remote,
    } = conn.attempt(&cmd, &row.line);
    let outcome = match outcome_attempt.clone() {
        Attempt::Ok => {
            tracing::info!(
                connector = name,
                kind,
                key,
                case,
                remote = remote.as_deref(),
                "delivered"
            );
            Some(("ActionSucceeded", json!({ "key": key, "action": action })))
        }
        Attempt::Refused(reason) => {
            tracing::warn!(connector = name, kind, key, case, reason = %reason, "refused for good");
            Some((
                "ActionFailed",
                json!({ "key": key, "action": action, "retryable": false, "reason": reason }),
            ))
        }
        // The executor gives up: nobody will retry this step, so it has failed for good
        // (`retryable: true` would leave the saga waiting for a retry that never comes).
        Attempt::Retry(reason) | Attempt::RetryAfter(reason, _)
            if attempts >= policy.max_attempts =>
        {
            tracing::warn!(connector = name, kind, key, case, reason = %reason, attempts, "gave up");
            Some((
                "ActionFailed",
                json!({ "key": key, "action": action, "retryable": false,
                        "reason": format!("{reason} (gave up after {attempts} attempts)") }),
            ))
        }
        Attempt::Retry(reason) | Attempt::RetryAfter(reason, _) => {
            let asked = match &outcome_attempt {
                Attempt::RetryAfter(_, ms) => Some(*ms),
                _ => None,
            };
            let wait = retry_wait(
                policy.backoff_ms,
                policy.max_backoff_ms,
                attempts,
                jitter,
                asked,
            );
            tracing::info!(connector = name, key, attempts, reason = %reason, wait_ms = wait, retry_after_ms = asked, "action retry scheduled");
            metrics.outbox_retries.fetch_add(1, Ordering::Relaxed);
            return Ok(store.http_update(
                row.seq,
                attempts,
                Some(now_ms() + wait as i64),
                "pending",
            )?);
        }
    };
    if !is_action {
        let ok = matches!(outcome, Some(("ActionSucceeded", _)));
        if let Some(r) = &remote {
            store.http_remote(row.seq, r)?;
        }
        return Ok(store.http_update(
            row.seq,
            attempts,
            None,
            if ok { "sent" } else { "failed" },
        )?);
    }
    let Some((ty, data)) = outcome else {
        return Ok(());
    };
    let ok = ty == "ActionSucceeded";
    let envelope = json!({
        "id": format!("outcome:{key}"),
        "type": ty,
        "at": jiff::Timestamp::from_second(now_ms() / 1000).map(|t| t.to_string()).unwrap_or_default(),
        "case": case,
        "data": data,
    });
    // The outcome is durable before the row is marked: a crash in between repeats the
    // request (same key) and the outcome (a duplicate).
    let (reply, rx) = oneshot::channel();
    tx.send(Msg::Events {
        lines: vec![envelope.to_string()],
        reply,
    })
    .map_err(|_| "the writer has stopped".to_string())?;
    rx.blocking_recv()
        .map_err(|_| "the writer has stopped".to_string())??;
    if ok {
        metrics.actions_delivered.fetch_add(1, Ordering::Relaxed);
    } else {
        metrics.actions_failed.fetch_add(1, Ordering::Relaxed);
    }
    if let Some(r) = &remote {
        store.http_remote(row.seq, r)?;
    }
    Ok(store.http_update(row.seq, attempts, None, if ok { "sent" } else { "failed" })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 429 or 503's `Retry-After` (seconds or an HTTP date) sets the least wait, bounded by
    /// `max_backoff_ms`; without it the exponential backoff is unchanged (but bounded too).
    #[test]
    fn retry_after_is_honoured_and_bounded() {
        let now: jiff::Timestamp = "2015-10-21T07:27:30Z".parse().unwrap();
        assert_eq!(retry_after_ms("2", now), Some(2000));
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(30_000)
        );
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(0)
        );
        assert_eq!(retry_after_ms("soon", now), None);
        // First retry, backoff 50 ms, no jitter: 50 ms, or the 2 s the endpoint asked.
        assert_eq!(retry_wait(50, 60_000, 1, 0, None), 50);
        assert_eq!(retry_wait(50, 60_000, 1, 0, Some(2000)), 2000);
        // Never past the policy's maximum.
        assert_eq!(retry_wait(50, 60_000, 1, 0, Some(3_600_000)), 60_000);
        assert_eq!(retry_wait(500, 10_000, 30, 7, None), 10_000);
    }
}
