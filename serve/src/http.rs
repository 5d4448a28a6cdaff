//! The HTTP surface: `POST /events`, `GET /cases/{id}`, `GET /metrics`, `GET /healthz`,
//! `GET /readyz`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

use crate::core::Applied;
use crate::core::Msg;
use crate::guard::{Check, Guard};
use crate::metrics::Metrics;
use crate::webhooks::Source;

#[derive(Clone)]
pub struct App {
    pub tx: Sender<Msg>,
    pub metrics: Arc<Metrics>,
    pub timeout: Duration,
    pub webhooks: Arc<BTreeMap<String, Source>>,
    /// Admin tokens by name; none: admin endpoints are off.
    pub admins: Option<Arc<crate::deployment::Admins>>,
    /// Keys a deployed bundle must be signed by (none: signatures optional).
    pub trusted: Arc<Vec<meshline_runtime::signing::PublicKey>>,
    pub guard: Arc<Guard>,
    /// Case ledgers, read off the writer thread.
    pub reader: Arc<crate::reader::Reader>,
    /// The console under `/ui`, when the configuration has `[console]`.
    pub console: Option<Arc<crate::console::state::Console>>,
    /// Slack connectors by name: they update approval messages after a click.
    pub slack: Arc<BTreeMap<String, crate::vendors::slack::Slack>>,
}

/// The routes; `extra` adds more under the same limits (the console's, from `lib.rs`).
pub fn router(app: App, max_body: usize, extra: Router<App>) -> Router {
    // A whole request (reading the body included) gets twice the durability wait: a slow
    // or stalled client cannot hold a connection's handler forever.
    let limit = app.timeout * 2;
    let timeout = axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(limit, next.run(req)).await {
                Ok(r) => r,
                Err(_) => (
                    StatusCode::REQUEST_TIMEOUT,
                    axum::Json(json!({ "error": "request timed out" })),
                )
                    .into_response(),
            }
        },
    );
    Router::new()
        .route("/events", post(events))
        .route("/webhooks/{source}", post(webhook))
        .route("/cases/{id}", get(case))
        .route("/metrics", get(metrics))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .merge(extra)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(timeout)
        .with_state(app)
}

pub(crate) fn answer(app: &App, status: StatusCode, body: Json) -> Response {
    if status.is_client_error() {
        app.metrics
            .http_bad_requests
            .fetch_add(1, Ordering::Relaxed);
    }
    (status, axum::Json(body)).into_response()
}

/// Split a body into envelope lines: one JSON object (possibly pretty-printed) or NDJSON.
pub fn split_body(text: &str) -> Vec<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if !trimmed.contains('\n') {
        return vec![trimmed.to_string()];
    }
    let mut lines = trimmed
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty());
    let first = lines.next().unwrap_or_default();
    if serde_json::from_str::<serde::de::IgnoredAny>(first).is_err()
        && let Ok(v) = serde_json::from_str::<Json>(trimmed)
    {
        // One pretty-printed envelope: stored compact, one line.
        return vec![v.to_string()];
    }
    std::iter::once(first)
        .chain(lines)
        .map(str::to_string)
        .collect()
}

/// A whole request refused at the edge: answered, logged, counted; nothing applied.
fn refuse(
    app: &App,
    status: StatusCode,
    metric: &'static str,
    who: &str,
    reason: String,
) -> Response {
    app.metrics.refused(metric, 1);
    tracing::warn!(producer = who, refused = metric, reason = %reason, "request refused at the edge");
    answer(
        app,
        status,
        json!({ "status": "refused", "reason": reason }),
    )
}

async fn events(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    app.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or("?"));
    if !crate::guard::json_content_type(content_type) {
        return refuse(
            &app,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_type",
            "",
            format!(
                "Content-Type {} is not accepted: send application/json or application/x-ndjson",
                content_type.unwrap_or_default()
            ),
        );
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let Some(caller) = app.guard.authenticate(authorization) else {
        return refuse(
            &app,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "",
            "a producer's bearer token is required (Authorization: Bearer TOKEN)".into(),
        );
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return answer(
            &app,
            StatusCode::BAD_REQUEST,
            json!({ "status": "rejected", "reason": "the body is not UTF-8" }),
        );
    };
    // Counted before any line is copied: a body of tiny lines costs one pass.
    let max_lines = app.guard.max_batch_lines;
    if text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth(max_lines)
        .is_some()
        // One pretty-printed envelope spans many lines but is one event.
        && serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
    {
        return refuse(
            &app,
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_lines",
            caller.name(),
            format!(
                "the batch has more than {max_lines} lines (max_batch_lines); nothing was applied"
            ),
        );
    }
    let lines = split_body(text);
    if lines.is_empty() {
        return answer(
            &app,
            StatusCode::BAD_REQUEST,
            json!({ "status": "rejected", "reason": "no event in the body" }),
        );
    }
    let now = jiff::Timestamp::now();
    let checks: Vec<Check> = lines
        .iter()
        .map(|l| app.guard.check(&caller, l, now))
        .collect();
    let bad = checks.iter().filter(|c| !matches!(c, Check::Pass)).count();
    if lines.len() > 1 && bad > app.guard.max_rejected_lines {
        return refuse(
            &app,
            StatusCode::BAD_REQUEST,
            "too_many_rejected",
            caller.name(),
            format!(
                "{bad} of {} lines are not envelopes this server can apply (more than \
                 max_rejected_lines = {}); nothing was applied",
                lines.len(),
                app.guard.max_rejected_lines
            ),
        );
    }
    // One log line per request, not per line: a refused batch cannot flood the log.
    let mut logged = false;
    for c in &checks {
        if let Check::Refused(metric, reason) = c {
            app.metrics.refused(metric, 1);
            if !logged {
                tracing::warn!(producer = caller.name(), refused = metric, reason = %reason, "event refused at the edge");
                logged = true;
            }
        }
    }
    let single = lines.len() == 1;
    let passing: Vec<String> = lines
        .into_iter()
        .zip(&checks)
        .filter(|(_, c)| !matches!(c, Check::Refused(..)))
        .map(|(l, _)| l)
        .collect();
    let applied = if passing.is_empty() {
        Vec::new()
    } else {
        match submit(&app, passing).await {
            Ok(o) => o,
            Err(r) => return r,
        }
    };
    app.metrics
        .ack_seconds
        .observe(started.elapsed().as_secs_f64());
    let mut applied = applied.into_iter();
    let mut any_bad = false;
    let mut results: Vec<(StatusCode, Json)> = Vec::with_capacity(checks.len());
    for c in checks {
        let r = match c {
            Check::Refused(_, reason) => (
                StatusCode::BAD_REQUEST,
                json!({ "status": "refused", "reason": reason }),
            ),
            _ => match applied.next() {
                Some(Applied::Accepted) => (StatusCode::ACCEPTED, json!({ "status": "accepted" })),
                Some(Applied::Duplicate) => (StatusCode::OK, json!({ "status": "duplicate" })),
                Some(Applied::Rejected(r)) => (
                    StatusCode::BAD_REQUEST,
                    json!({ "status": "rejected", "reason": r.recorded() }),
                ),
                None => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "no outcome" }),
                ),
            },
        };
        any_bad |= r.0 != StatusCode::ACCEPTED && r.0 != StatusCode::OK;
        results.push(r);
    }
    if single && let Some((status, body)) = results.pop() {
        return answer(&app, status, body);
    }
    let status = if any_bad {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::ACCEPTED
    };
    let results: Vec<Json> = results.into_iter().map(|(_, j)| j).collect();
    answer(&app, status, json!({ "results": results }))
}

/// Queue lines for the writer and wait until they are durable.
pub(crate) async fn submit(app: &App, lines: Vec<String>) -> Result<Vec<Applied>, Response> {
    let (reply, rx) = oneshot::channel();
    if app.tx.send(Msg::Events { lines, reply }).is_err() {
        return Err(answer(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "shutting down" }),
        ));
    }
    match tokio::time::timeout(app.timeout, rx).await {
        Ok(Ok(Ok(o))) => Ok(o),
        // Not committed (the storage failed): nothing was applied; the sender retries.
        Ok(Ok(Err(e))) => Err(answer(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": e }),
        )),
        Ok(Err(_)) => Err(answer(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "the writer stopped before the event was durable" }),
        )),
        Err(_) => Err(answer(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "not acknowledged in time; it may still be applied: resend with the same id" }),
        )),
    }
}

/// A vendor webhook: verify its signature, map it to a canonical event, apply that.
async fn webhook(
    State(app): State<App>,
    Path(source): Path<String>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    app.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let Some(src) = app.webhooks.get(&source) else {
        return answer(
            &app,
            StatusCode::NOT_FOUND,
            json!({ "error": format!("no webhook source `{source}`") }),
        );
    };
    let now = jiff::Timestamp::now();
    // Off the async workers: a large body's HMAC must not stall other requests (docs/adapters.md).
    let verdict = {
        let (src, body, headers) = (src.clone(), body.clone(), headers.clone());
        tokio::task::spawn_blocking(move || {
            let header = |name: &str| {
                headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            src.verify(&header, method.as_str(), &body, now.as_second())
        })
        .await
        .unwrap_or_else(|_| Err("the signature check failed".into()))
    };
    if let Err(reason) = verdict {
        app.metrics
            .webhook_unauthorized
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(source = %source, reason = %reason, "webhook signature refused");
        return answer(
            &app,
            StatusCode::UNAUTHORIZED,
            json!({ "status": "unauthorized", "reason": reason }),
        );
    }
    if src.vendor == crate::webhooks::Vendor::Slack {
        let ctx = crate::interactions::Ctx {
            tx: &app.tx,
            timeout: app.timeout,
            reader: &app.reader,
            slack: &app.slack,
        };
        let (status, body) = crate::interactions::click(ctx, &source, src, &body, now).await;
        return answer(&app, status, body);
    }
    let envelope = serde_json::from_slice::<Json>(&body)
        .map_err(|e| format!("the payload is not JSON: {e}"))
        .and_then(|p| src.envelope(&source, &p, now));
    let envelope = match envelope {
        Ok(e) => e,
        Err(reason) => {
            app.metrics
                .webhook_unmatched
                .fetch_add(1, Ordering::Relaxed);
            return answer(
                &app,
                StatusCode::UNPROCESSABLE_ENTITY,
                json!({ "status": "unmatched", "reason": reason }),
            );
        }
    };
    if let Some(at) = envelope["at"].as_str()
        && let Err(reason) = app.guard.check_time(at, now)
    {
        return refuse(
            &app,
            StatusCode::BAD_REQUEST,
            "future_time",
            &source,
            reason,
        );
    }
    let outcomes = match submit(&app, vec![envelope.to_string()]).await {
        Ok(o) => o,
        Err(r) => return r,
    };
    let id = envelope["id"].clone();
    match outcomes.first() {
        Some(Applied::Accepted) => answer(
            &app,
            StatusCode::ACCEPTED,
            json!({ "status": "accepted", "id": id }),
        ),
        Some(Applied::Duplicate) => answer(
            &app,
            StatusCode::OK,
            json!({ "status": "duplicate", "id": id }),
        ),
        Some(Applied::Rejected(r)) => answer(
            &app,
            StatusCode::BAD_REQUEST,
            json!({ "status": "rejected", "id": id, "reason": r.recorded() }),
        ),
        None => answer(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "no outcome" }),
        ),
    }
}

/// `GET /cases/{id}[?ledger_limit=N&after_seq=S]`: the case's state from the writer (small),
/// then one page of its ledger from a read-only connection on a blocking thread, so a case
/// with a long ledger does not hold up the writer (docs/deploy.md, "Endpoints").
async fn case(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    app.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let (after, limit) = match crate::reader::page_params(&q) {
        Ok(p) => p,
        Err(reason) => {
            return answer(&app, StatusCode::BAD_REQUEST, json!({ "error": reason }));
        }
    };
    let (mut view, upto) = match case_state(&app, &id).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return answer(
                &app,
                StatusCode::NOT_FOUND,
                json!({ "error": "no such case" }),
            );
        }
        Err(CaseError::Engine(e)) => {
            return answer(
                &app,
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": e }),
            );
        }
        Err(CaseError::Unavailable(e)) => {
            return answer(&app, StatusCode::SERVICE_UNAVAILABLE, json!({ "error": e }));
        }
    };
    let reader = app.reader.clone();
    let page = tokio::task::spawn_blocking(move || reader.case_ledger(&id, after, upto, limit))
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r);
    match page {
        Ok(page) => {
            let entries: Vec<Json> = page
                .lines
                .iter()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            view["ledger"] = Json::Array(entries);
            view["next_after_seq"] = json!(page.next_after_seq);
            answer(&app, StatusCode::OK, view)
        }
        Err(e) => answer(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": e }),
        ),
    }
}

/// Why a case's state could not be read.
pub(crate) enum CaseError {
    /// The writer answered with an error.
    Engine(String),
    /// Shutting down, or no answer in time.
    Unavailable(&'static str),
}

impl std::fmt::Display for CaseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaseError::Engine(e) => f.write_str(e),
            CaseError::Unavailable(e) => f.write_str(e),
        }
    }
}

/// A case's state from the writer and the ledger's last seq at that moment; `None` for an
/// unknown case.
pub(crate) async fn case_state(app: &App, id: &str) -> Result<Option<(Json, u64)>, CaseError> {
    let (reply, rx) = oneshot::channel();
    if app
        .tx
        .send(Msg::Case {
            id: id.to_string(),
            reply,
        })
        .is_err()
    {
        return Err(CaseError::Unavailable("shutting down"));
    }
    match tokio::time::timeout(app.timeout, rx).await {
        Ok(Ok(Ok(v))) => Ok(v),
        Ok(Ok(Err(e))) => Err(CaseError::Engine(e)),
        _ => Err(CaseError::Unavailable("no answer in time")),
    }
}

async fn metrics(State(app): State<App>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

async fn readyz(State(app): State<App>) -> Response {
    if app.metrics.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "ready\n").into_response()
    } else if app.metrics.database_unreachable.load(Ordering::SeqCst) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database unreachable: not leading, not accepting inputs\n",
        )
            .into_response()
    } else if app.metrics.storage_failing.load(Ordering::SeqCst) {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "storage failing: commits cannot succeed\n",
        )
            .into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "recovering\n").into_response()
    }
}
