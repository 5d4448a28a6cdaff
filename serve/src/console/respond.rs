//! What every console page answers with: its headers, the sign-in redirect, and the
//! request's session. A leaf of the console: the pages' handlers import it, never the
//! other way round.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::{self, Session};
use super::state::Console;
use crate::http::App;

/// An HTML answer with the console's headers: nothing cached, never framed, only our
/// script and inline styles.
pub(super) fn html(console: &Console, status: StatusCode, body: String) -> Response {
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

pub(super) fn redirect(to: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
}

pub(super) fn not_configured() -> Response {
    (
        StatusCode::NOT_FOUND,
        "the console is off: add [console] users to the serve configuration (docs/console.md)\n",
    )
        .into_response()
}

/// Why a request has no session.
pub(super) enum Denied {
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
pub(super) fn signed_in(app: &App, headers: &HeaderMap) -> Result<(Arc<Console>, Session), Denied> {
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
