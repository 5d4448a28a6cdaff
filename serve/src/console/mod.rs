//! The operator's console under `/ui` (docs/console.md): sign-in, the overview of
//! docs/kpis.md's figures, held actions waiting, case search, and a case's story with
//! approve and deny buttons that enter the same `ApprovalGranted` / `ApprovalDenied` events
//! as any other channel, `by` the signed-in person.

pub mod auth;
mod deployments;
pub mod directory;
pub mod figures;
pub mod incidents;
pub mod pages;
mod respond;
mod session;
pub mod state;
pub mod whatif;

pub use state::Console;

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use meshline_runtime::Engine;

use crate::core::Msg;
use crate::http::App;
use auth::Session;
use directory::Search;
use figures::Figures;
use respond::{html, signed_in};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/ui", get(overview))
        .route("/ui/at-risk", get(at_risk))
        .route("/ui/cases", get(cases))
        .route("/ui/automations", get(automations))
        .route("/ui/cases/{id}", get(case))
        .route("/ui/cases/{id}/decide", post(decide))
        .merge(session::routes())
        .merge(deployments::routes())
}

async fn overview(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let window = match q.get("window").map(String::as_str) {
        Some("7days") => "7 days",
        Some("30days") => "30 days",
        _ => "today",
    };
    figures_page(&console, &session, "Overview", |f| {
        pages::overview(f, window)
    })
}

/// A page drawn from the figures alone, refreshed in place.
fn figures_page(
    console: &Console,
    session: &Session,
    title: &str,
    main: impl FnOnce(&Figures) -> String,
) -> Response {
    let body = pages::layout(
        title,
        Some(session),
        &main(&console.figures()),
        console.config.refresh_seconds,
    );
    html(console, StatusCode::OK, body)
}

/// A route that shows one page drawn from the figures.
macro_rules! figures_route {
    ($name:ident, $title:literal, $render:path) => {
        async fn $name(State(app): State<App>, headers: HeaderMap) -> Response {
            match signed_in(&app, &headers) {
                Ok((console, session)) => figures_page(&console, &session, $title, $render),
                Err(r) => r.into_response(),
            }
        }
    };
}

/// The most running clocks the at-risk page lists by deadline (the counts stay whole).
const AT_RISK_ROWS: usize = 500;

/// Running clocks by deadline come from the engine (the ledger names a due time only once
/// a clock warns), read between the writer's batches; the rest of the page is figures.
async fn at_risk(State(app): State<App>, headers: HeaderMap) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let figures = console.figures();
    let holds: Vec<(String, u64)> = figures
        .holds
        .iter()
        .take(AT_RISK_ROWS)
        .map(|h| (h.case.clone(), h.request))
        .collect();
    let (reply, rx) = tokio::sync::oneshot::channel();
    let read = Msg::Read(Box::new(move |engine: &Engine| {
        let expiries: Vec<Option<jiff::Timestamp>> = holds
            .iter()
            .map(|(case, request)| engine.hold_expires(case, *request))
            .collect();
        let _ = reply.send((engine.clocks_by_due(AT_RISK_ROWS), expiries));
    }));
    let due = match app.tx.send(read) {
        Ok(()) => tokio::time::timeout(app.timeout, rx)
            .await
            .ok()
            .and_then(Result::ok),
        Err(_) => None,
    };
    let (due, expiries) = due.unzip();
    let body = pages::layout(
        "At risk",
        Some(&session),
        &pages::at_risk(&figures, due.as_deref(), expiries.as_deref()),
        console.config.refresh_seconds,
    );
    html(&console, StatusCode::OK, body)
}
figures_route!(automations, "Automations", pages::automations);
async fn cases(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<BTreeMap<String, String>>,
) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let part = |k: &str| -> String {
        q.get(k)
            .map(|s| s.trim().chars().take(200).collect())
            .unwrap_or_default()
    };
    let search = Search {
        id_prefix: part("q"),
        client: part("client"),
        class: part("class"),
        team: part("team"),
    };
    let shared = console.figures.clone();
    let asked = search.clone();
    let found = tokio::task::spawn_blocking(move || {
        shared
            .directory
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .search(&asked, 100)
    })
    .await
    .unwrap_or_default();
    let body = pages::layout("Cases", Some(&session), &pages::cases(&search, &found), 0);
    html(&console, StatusCode::OK, body)
}

/// The most ledger entries a case page reads (its story); a longer case shows its start.
const CASE_ENTRIES: u64 = 10_000;

/// Renders a case page (after `notice`, if a decision was just taken).
async fn case_page(
    app: &App,
    console: &Console,
    session: &Session,
    id: String,
    notice: Option<(String, bool)>,
) -> Response {
    let state = crate::http::case_state(app, &id).await;
    let state = match state {
        Ok(Some((view, _))) => view,
        Ok(None) => {
            return html(
                console,
                StatusCode::NOT_FOUND,
                pages::layout(
                    "No such case",
                    Some(session),
                    &format!(
                        "<p>No case {} is known.</p>",
                        meshline_report::render::page::esc(&id)
                    ),
                    0,
                ),
            );
        }
        Err(e) => {
            return html(
                console,
                StatusCode::SERVICE_UNAVAILABLE,
                pages::layout(
                    "Case",
                    Some(session),
                    &meshline_report::render::page::esc(&e.to_string()),
                    0,
                ),
            );
        }
    };
    let reader = app.reader.clone();
    let case_id = id.clone();
    let lines = tokio::task::spawn_blocking(move || {
        reader.case_ledger(&case_id, 0, u64::MAX, CASE_ENTRIES)
    })
    .await
    .map_err(|e| e.to_string())
    .and_then(|r| r);
    let story = match lines {
        Ok(page) => {
            let text = page.lines.join("\n");
            let maps = console.figures().source_maps.clone();
            match meshline_report::explain::explain("ledger", text.as_bytes(), &id, &maps) {
                Ok(x) => meshline_report::render::explain_html::fragment(&x),
                Err(e) => meshline_report::render::page::esc(&e.to_string()),
            }
        }
        Err(e) => meshline_report::render::page::esc(&e),
    };
    let holds: Vec<_> = console
        .figures()
        .holds
        .iter()
        .filter(|h| h.case == id)
        .cloned()
        .collect();
    let notice = notice.as_ref().map(|(t, r)| (t.as_str(), *r));
    html(
        console,
        StatusCode::OK,
        pages::case(&id, session, notice, &holds, &state, &story),
    )
}

async fn case(State(app): State<App>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    case_page(&app, &console, &session, id, None).await
}

#[derive(Deserialize)]
struct Decision {
    csrf: String,
    approval: String,
    decision: String,
}

/// Approve or deny: the same event any other channel sends, `by` the signed-in person; the
/// engine applies its rules (team membership, dual control) and the page shows its answer.
async fn decide(
    State(app): State<App>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<Decision>,
) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    if !auth::same(&f.csrf, &session.csrf) {
        return html(
            &console,
            StatusCode::FORBIDDEN,
            "forbidden: stale form\n".into(),
        );
    }
    let kind = match f.decision.as_str() {
        "approve" => "ApprovalGranted",
        "deny" => "ApprovalDenied",
        _ => {
            return html(
                &console,
                StatusCode::BAD_REQUEST,
                "unknown decision\n".into(),
            );
        }
    };
    let event_id = match auth::token() {
        Ok(t) => format!("console:{t}"),
        Err(e) => return html(&console, StatusCode::SERVICE_UNAVAILABLE, e),
    };
    let before = {
        let reader = app.reader.clone();
        tokio::task::spawn_blocking(move || reader.last_seq())
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .unwrap_or(0)
    };
    let line = json!({
        "id": event_id,
        "type": kind,
        "at": jiff::Timestamp::now().to_string(),
        "case": id,
        "data": { "approval": f.approval, "by": session.user },
    })
    .to_string();
    tracing::info!(case = %id, by = %session.user, decision = %f.decision, approval = %f.approval, "console: decision");
    let notice = match crate::http::submit(&app, vec![line]).await {
        Err(_) => (
            "The decision was not recorded: try again.".to_string(),
            true,
        ),
        Ok(outcomes) => match outcomes.first() {
            Some(crate::core::Applied::Rejected(reason)) => {
                (format!("Rejected: {}", reason.recorded()), true)
            }
            _ => outcome_after(&app, &id, before).await,
        },
    };
    let reader = app.reader.clone();
    let shared = console.figures.clone();
    let _ = tokio::task::spawn_blocking(move || figures::refresh(&reader, &shared)).await;
    case_page(&app, &console, &session, id, Some(notice)).await
}

/// What the engine made of a decision: the case's first approval entry after `before`.
async fn outcome_after(app: &App, id: &str, before: u64) -> (String, bool) {
    let reader = app.reader.clone();
    let case = id.to_string();
    let page =
        tokio::task::spawn_blocking(move || reader.case_ledger(&case, before, u64::MAX, 100))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
    let Ok(page) = page else {
        return ("Recorded.".into(), false);
    };
    for line in &page.lines {
        let Ok(v) = serde_json::from_str::<Json>(line) else {
            continue;
        };
        let d = &v["detail"];
        let by = d["by"].as_str().unwrap_or("");
        match v["kind"].as_str() {
            Some("approved") => return (format!("Approved by {by}."), false),
            Some("denied") => return (format!("Denied by {by}."), false),
            Some("refused") => {
                return (
                    format!(
                        "Refused: {}",
                        d["reason"].as_str().unwrap_or("not eligible")
                    ),
                    true,
                );
            }
            _ => {}
        }
    }
    (
        "Recorded; no held action of that gate was waiting.".into(),
        true,
    )
}
