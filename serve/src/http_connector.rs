//! The HTTP connector: POSTs each `action` command of a connector configured as HTTP to its
//! endpoint, with the command's idempotency key as `Idempotency-Key`; retries with
//! exponential backoff and jitter up to `max_attempts`; feeds the outcome back as an
//! `ActionSucceeded` / `ActionFailed` event (id `outcome:KEY`, so a repeated outcome is a
//! duplicate). At-least-once: the outcome is made durable before the row is marked, so a
//! crash in between repeats the request under the same key.
//!
//! Plain `http://` only: put a TLS-terminating proxy in front of `https` endpoints.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

use crate::core::Msg;
use crate::metrics::Metrics;
use crate::store::{HttpRow, SqliteStore, Store};

/// `[connectors.http.NAME]`: NAME is the connector's name in the project.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConnector {
    /// `http://host:port/path`
    pub url: String,
    /// Extra headers; a value `env:VAR` is read from the environment (secrets).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// The first retry's delay; each later one doubles, plus up to as much again of jitter.
    #[serde(default = "default_backoff")]
    pub backoff_ms: u64,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_attempts() -> u32 {
    5
}
fn default_backoff() -> u64 {
    500
}
fn default_timeout() -> u64 {
    10_000
}

/// What one attempt gave.
enum Attempt {
    Ok,
    /// Permanent: the endpoint refused the request (4xx other than 408/429).
    Refused(String),
    /// Worth retrying: network error, timeout, 5xx, 408, 429.
    Retry(String),
}

impl HttpConnector {
    fn post(&self, key: &str, body: &str) -> Attempt {
        let Some(rest) = self.url.strip_prefix("http://") else {
            return Attempt::Refused(format!("only http:// URLs are supported: {}", self.url));
        };
        let (host, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let addr = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:80")
        };
        let mut headers = String::new();
        for (k, v) in &self.headers {
            let v = match v.strip_prefix("env:") {
                Some(var) => match std::env::var(var) {
                    Ok(x) => x,
                    Err(_) => return Attempt::Refused(format!("header {k}: {var} is not set")),
                },
                None => v.clone(),
            };
            if k.contains(['\r', '\n']) || v.contains(['\r', '\n']) {
                return Attempt::Refused(format!("header {k} has a line break"));
            }
            headers.push_str(&format!("{k}: {v}\r\n"));
        }
        let timeout = Duration::from_millis(self.timeout_ms.max(1));
        let run = || -> std::io::Result<u16> {
            use std::net::ToSocketAddrs;
            let sock = addr
                .to_socket_addrs()?
                .next()
                .ok_or_else(|| std::io::Error::other("no address"))?;
            let mut s = TcpStream::connect_timeout(&sock, timeout)?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))?;
            write!(
                s,
                "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nIdempotency-Key: {key}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )?;
            let mut r = BufReader::new(s);
            let mut status = String::new();
            r.read_line(&mut status)?;
            let code = status
                .split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .ok_or_else(|| std::io::Error::other("bad status line"))?;
            let _ = r.read_to_end(&mut Vec::new());
            Ok(code)
        };
        match run() {
            Ok(c) if (200..300).contains(&c) => Attempt::Ok,
            Ok(c @ (408 | 429)) => Attempt::Retry(format!("HTTP {c}")),
            Ok(c) if (400..500).contains(&c) => Attempt::Refused(format!("HTTP {c}")),
            Ok(c) => Attempt::Retry(format!("HTTP {c}")),
            Err(e) => Attempt::Retry(e.to_string()),
        }
    }
}

/// Start the executor thread for the HTTP connectors.
pub fn spawn(
    state: &Path,
    connectors: BTreeMap<String, HttpConnector>,
    tx: Sender<Msg>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, String> {
    let mut store = SqliteStore::open(state)?;
    std::thread::Builder::new()
        .name("meshline-outbox-http".into())
        .spawn(move || {
            let mut seed = std::process::id() as u64 ^ now_ms() as u64 | 1;
            while !stop.load(Ordering::SeqCst) {
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
                    if let Err(e) = deliver(&mut store, &connectors, &tx, &metrics, row, seed) {
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

fn deliver(
    store: &mut SqliteStore,
    connectors: &BTreeMap<String, HttpConnector>,
    tx: &Sender<Msg>,
    metrics: &Metrics,
    row: HttpRow,
    jitter: u64,
) -> Result<(), String> {
    let cmd: Json = serde_json::from_str(&row.line).map_err(|e| e.to_string())?;
    let name = cmd["connector"].as_str().unwrap_or_default();
    let key = cmd["key"].as_str().unwrap_or_default();
    let action = format!("{name}.{}", cmd["action"].as_str().unwrap_or_default());
    let case = cmd["case"].as_str().unwrap_or_default();
    let Some(conn) = connectors.get(name) else {
        return store.http_update(row.seq, row.attempts, None, "failed");
    };
    let attempts = row.attempts + 1;
    let outcome = match conn.post(key, &row.line) {
        Attempt::Ok => Some(("ActionSucceeded", json!({ "key": key, "action": action }))),
        Attempt::Refused(reason) => Some((
            "ActionFailed",
            json!({ "key": key, "action": action, "retryable": false, "reason": reason }),
        )),
        Attempt::Retry(reason) if attempts >= conn.max_attempts => Some((
            "ActionFailed",
            json!({ "key": key, "action": action, "retryable": true,
                    "reason": format!("{reason} (after {attempts} attempts)") }),
        )),
        Attempt::Retry(reason) => {
            let base = conn.backoff_ms.max(1) << (attempts - 1).min(20);
            let wait = base + jitter % base;
            tracing::info!(connector = name, key, attempts, reason = %reason, wait_ms = wait, "action retry scheduled");
            metrics.outbox_retries.fetch_add(1, Ordering::Relaxed);
            return store.http_update(row.seq, attempts, Some(now_ms() + wait as i64), "pending");
        }
    };
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
    store.http_update(row.seq, attempts, None, if ok { "sent" } else { "failed" })
}
