//! The deployments page and its "what would change" replay of an uploaded candidate
//! (docs/console.md).

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::respond::{html, signed_in};
use super::{auth, pages, whatif};
use crate::http::App;

/// The deployments page and its replay.
pub(super) fn routes() -> Router<App> {
    Router::new()
        .route("/ui/deployments", get(deployments))
        .route("/ui/deployments/whatif", post(whatif))
}

async fn deployments(State(app): State<App>, headers: HeaderMap) -> Response {
    match signed_in(&app, &headers) {
        Ok((console, session)) => {
            let main = pages::deployments(&console.figures(), &session, "");
            // No refresh in place: it would clear a file being chosen for the replay.
            html(
                &console,
                StatusCode::OK,
                pages::layout("Deployments", Some(&session), &main, 0),
            )
        }
        Err(r) => r.into_response(),
    }
}

/// "What would change": an admin uploads a candidate bundle; it runs in shadow over the
/// stored inputs (one replay at a time, off the async workers) and the page shows the
/// comparison with what was recorded.
async fn whatif(State(app): State<App>, headers: HeaderMap, mut form: Multipart) -> Response {
    let (console, session) = match signed_in(&app, &headers) {
        Ok(x) => x,
        Err(r) => return r.into_response(),
    };
    let page = |status: StatusCode, section: String| {
        let main = pages::deployments(&console.figures(), &session, &section);
        html(
            &console,
            status,
            pages::layout("Deployments", Some(&session), &main, 0),
        )
    };
    if session.role != auth::Role::Admin {
        return page(
            StatusCode::FORBIDDEN,
            pages::alert("Only an admin may replay a candidate bundle."),
        );
    }
    let (mut csrf, mut bundle) = (String::new(), Vec::new());
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("csrf") => csrf = field.text().await.unwrap_or_default(),
                Some("bundle") => match field.bytes().await {
                    Ok(b) => bundle = b.to_vec(),
                    Err(e) => return page(e.status(), pages::alert(&e.body_text())),
                },
                _ => {}
            },
            Ok(None) => break,
            Err(e) => return page(e.status(), pages::alert(&e.body_text())),
        }
    }
    if !auth::same(&csrf, &session.csrf) {
        return html(
            &console,
            StatusCode::FORBIDDEN,
            "forbidden: stale form\n".into(),
        );
    }
    if bundle.is_empty() {
        return page(
            StatusCode::BAD_REQUEST,
            pages::alert("Choose a bundle file (.meshb)."),
        );
    }
    let Ok(_running) = console.replays.try_acquire() else {
        return page(
            StatusCode::TOO_MANY_REQUESTS,
            pages::alert("Another replay is running; try again when it has finished."),
        );
    };
    let reader = app.reader.clone();
    let max = console.config.whatif_max_inputs;
    let started = std::time::Instant::now();
    let result = tokio::task::spawn_blocking(move || whatif::run(&reader, &bundle, max)).await;
    match result {
        Ok(Ok((report, inputs))) => {
            tracing::info!(user = %session.user, inputs, "console: what-if replay");
            page(
                StatusCode::OK,
                pages::whatif(inputs, started.elapsed(), &report),
            )
        }
        Ok(Err(e)) => page(
            StatusCode::UNPROCESSABLE_ENTITY,
            pages::alert(&e.to_string()),
        ),
        Err(_) => page(
            StatusCode::INTERNAL_SERVER_ERROR,
            pages::alert("The replay stopped unexpectedly."),
        ),
    }
}
