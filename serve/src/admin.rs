//! `POST /admin/bundle` (bearer admin token): deploy a bundle over live state, or with
//! `?plan` say what deploying it would do (docs/deploy.md, "Upgrades and deployments",
//! "Deployment plans", "Signed bundles"). Its route is merged in `lib.rs`, beside the
//! console's, under the same limits.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use axum::routing::post;
use serde_json::json;
use tokio::sync::oneshot;

use crate::core::Msg;
use crate::http::{App, answer};

/// The admin routes.
pub fn routes() -> Router<App> {
    Router::new().route("/admin/bundle", post(deploy))
}

/// `POST /admin/bundle` (bearer token): deploy the bundle in the body over live state;
/// with `?plan`, only say what deploying it would do (docs/deploy.md, "Deployment plans").
async fn deploy(
    State(app): State<App>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    app.metrics.http_requests.fetch_add(1, Ordering::Relaxed);
    let Some(admins) = &app.admins else {
        return answer(
            &app,
            StatusCode::NOT_FOUND,
            json!({ "error": "admin endpoints are off (no admin_token or [admins])" }),
        );
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let Some(by) = admins.who(given) else {
        tracing::warn!("admin request refused: bad token");
        return answer(
            &app,
            StatusCode::UNAUTHORIZED,
            json!({ "error": "bad admin token" }),
        );
    };
    if query.contains_key("plan") {
        return plan(&app, by, body).await;
    }
    // Unsigned, untrusted or tampered bundles are refused here, before the writer.
    let note = match crate::deployment::note(&body, by, &app.trusted) {
        Ok(n) => n,
        Err(reason) => {
            tracing::warn!(by, %reason, "deployment refused");
            return answer(
                &app,
                StatusCode::CONFLICT,
                json!({ "status": "refused", "reason": reason }),
            );
        }
    };
    let (reply, rx) = oneshot::channel();
    if app
        .tx
        .send(Msg::Deploy {
            bytes: body.to_vec(),
            note,
            reply,
        })
        .is_err()
    {
        return answer(
            &app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "shutting down" }),
        );
    }
    match tokio::time::timeout(app.timeout, rx).await {
        Ok(Ok(Ok(hash))) => answer(
            &app,
            StatusCode::OK,
            json!({ "status": "deployed", "bundle": hash }),
        ),
        Ok(Ok(Err(reason))) => answer(
            &app,
            StatusCode::CONFLICT,
            json!({ "status": "refused", "reason": reason }),
        ),
        _ => answer(
            &app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "no answer in time" }),
        ),
    }
}

/// `POST /admin/bundle?plan`: the plan, computed by the writer on its engine (a copy of the
/// engine takes the deployment; nothing is applied or stored).
async fn plan(app: &App, by: &str, body: Bytes) -> Response {
    let signature = crate::deployment::note(&body, by, &app.trusted).err();
    let (reply, rx) = oneshot::channel();
    let msg = Msg::Plan {
        bytes: body.to_vec(),
        signature,
        reply,
    };
    if app.tx.send(msg).is_err() {
        return answer(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "shutting down" }),
        );
    }
    match tokio::time::timeout(app.timeout, rx).await {
        Ok(Ok(Ok(mut plan))) => {
            plan["status"] = json!("plan");
            answer(app, StatusCode::OK, plan)
        }
        Ok(Ok(Err(reason))) => answer(
            app,
            StatusCode::CONFLICT,
            json!({ "status": "refused", "reason": reason }),
        ),
        _ => answer(
            app,
            StatusCode::SERVICE_UNAVAILABLE,
            json!({ "error": "no answer in time" }),
        ),
    }
}
