//! Signing in and out of the console (docs/console.md, "Access").

use axum::Router;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::respond::{html, not_configured, redirect, signed_in};
use super::{auth, pages};
use crate::http::App;

/// Sign-in and sign-out.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
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
