//! The operator's console under `/ui` (docs/console.md): sign-in, the overview of
//! docs/kpis.md's figures, held actions waiting, case search, and a case's story with
//! approve and deny buttons that enter the same `ApprovalGranted` / `ApprovalDenied` events
//! as any other channel, `by` the signed-in person.

pub mod auth;
pub mod directory;
pub mod figures;
pub mod incidents;
pub mod pages;
pub mod state;

pub use state::Console;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
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

pub fn routes() -> Router<App> {
    Router::new()
        .route("/ui", get(overview))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/at-risk", get(at_risk))
        .route("/ui/cases", get(cases))
        .route("/ui/automations", get(automations))
        .route("/ui/deployments", get(deployments))
        .route("/ui/cases/{id}", get(case))
        .route("/ui/cases/{id}/decide", post(decide))
}

/// An HTML answer with the console's headers: nothing cached, never framed, only our
/// script and inline styles.
fn html(console: &Console, status: StatusCode, body: String) -> Response {
    let csp = format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; \
         script-src 'sha256-{}'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'",
        console.script_hash
    );
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

fn not_configured() -> Response {
    (
        StatusCode::NOT_FOUND,
        "the console is off: add [console] users to the serve configuration (docs/console.md)\n",
    )
        .into_response()
}

/// Why a request has no session.
enum Denied {
    /// The configuration has no `[console]`.
    Off,
    /// No session, or an ended one: sign in first.
    SignIn,
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        match self {
            Denied::Off => not_configured(),
            Denied::SignIn => redirect("/ui/login"),
        }
    }
}

/// The console and the request's session.
fn signed_in(app: &App, headers: &HeaderMap) -> Result<(Arc<Console>, Session), Denied> {
    let Some(console) = app.console.clone() else {
        return Err(Denied::Off);
    };
    let session = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::cookie_value)
        .and_then(|id| console.sessions.get(id));
    match session {
        Some(s) => Ok((console, s)),
        None => Err(Denied::SignIn),
    }
}

async fn login_page(State(app): State<App>) -> Response {
    match app.console.clone() {
        Some(c) => html(&c, StatusCode::OK, pages::login(None)),
        None => not_configured(),
    }
}

#[derive(Deserialize)]
struct Credentials {
    user: String,
    password: String,
}

async fn login(State(app): State<App>, Form(f): Form<Credentials>) -> Response {
    let Some(console) = app.console.clone() else {
        return not_configured();
    };
    let user = f.user.trim().to_lowercase();
    let known = console.config.users.get(&user).cloned();
    let hash = known
        .as_ref()
        .map_or(console.decoy.clone(), |u| u.password_hash.clone());
    let password = f.password;
    let Ok(_permit) = console.checks.try_acquire() else {
        let mut r = html(
            &console,
            StatusCode::TOO_MANY_REQUESTS,
            pages::login(Some("Too many sign-ins at once: try again in a moment.")),
        );
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return r;
    };
    // argon2 is deliberately slow: off the async threads.
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&hash, &password))
        .await
        .unwrap_or(false);
    let Some(u) = known.filter(|_| ok) else {
        tracing::info!("console: a sign-in failed");
        return html(
            &console,
            StatusCode::UNAUTHORIZED,
            pages::login(Some("Wrong e-mail or password.")),
        );
    };
    let (id, _) = match console.sessions.start(&user, u.role) {
        Ok(s) => s,
        Err(e) => {
            return html(
                &console,
                StatusCode::SERVICE_UNAVAILABLE,
                pages::login(Some(&e)),
            );
        }
    };
    let cookie = format!(
        "{}={id}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={}{}",
        auth::COOKIE,
        console.config.session_minutes.saturating_mul(60),
        if console.config.secure_cookie {
            "; Secure"
        } else {
            ""
        }
    );
    let mut r = redirect("/ui");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct CsrfOnly {
    csrf: String,
}

async fn logout(State(app): State<App>, headers: HeaderMap, Form(f): Form<CsrfOnly>) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    if !auth::same(&f.csrf, &session.csrf) {
        return html(&console, StatusCode::FORBIDDEN, "forbidden\n".into());
    }
    if let Some(id) = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(auth::cookie_value)
    {
        console.sessions.end(id);
    }
    let mut r = redirect("/ui/login");
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "meshline_session=; Path=/ui; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    r
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
    let (reply, rx) = tokio::sync::oneshot::channel();
    let read = Msg::Read(Box::new(move |engine: &Engine| {
        let _ = reply.send(engine.clocks_by_due(AT_RISK_ROWS));
    }));
    let due = match app.tx.send(read) {
        Ok(()) => tokio::time::timeout(app.timeout, rx)
            .await
            .ok()
            .and_then(Result::ok),
        Err(_) => None,
    };
    figures_page(&console, &session, "At risk", |f| {
        pages::at_risk(f, due.as_deref())
    })
}
figures_route!(automations, "Automations", pages::automations);
figures_route!(deployments, "Deployments", pages::deployments);

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
            Some(meshline_runtime::engine::ApplyOutcome::Rejected(reason)) => {
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
