//! The vendor test doubles (docs/connectors.md): an HTTP server per vendor, written from
//! the vendor's API reference in each test, that records every request and answers as the
//! test says; shared by `vendors.rs` and `vendors_more.rs`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use meshline_serve::Config;
use meshline_serve::http_connector::Deliver;
use serde_json::{Value as Json, json};

/// One request as the double saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// Path and query.
    pub(crate) uri: String,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: String,
}

pub(crate) type Answer = (u16, Vec<(&'static str, String)>, String);

/// An HTTP server on 127.0.0.1 that records each request and answers with `reply`.
pub(crate) struct Double {
    pub(crate) port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Double {
    pub(crate) fn start(reply: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Double {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let reply = Arc::new(reply);
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let app = axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let (log, reply) = (log.clone(), reply.clone());
                        async move {
                            let s = Seen {
                                method: method.to_string(),
                                uri: uri.to_string(),
                                headers: headers
                                    .iter()
                                    .map(|(k, v)| {
                                        (k.to_string(), v.to_str().unwrap_or("").to_string())
                                    })
                                    .collect(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let (status, hdrs, body) = reply(&s);
                            log.lock().unwrap().push(s);
                            let mut resp =
                                (StatusCode::from_u16(status).unwrap(), body).into_response();
                            for (k, v) in hdrs {
                                resp.headers_mut().insert(k, v.parse().unwrap());
                            }
                            resp
                        }
                    },
                );
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        Double { port, seen }
    }

    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

pub(crate) fn json_answer(status: u16, body: Json) -> Answer {
    (
        status,
        vec![("content-type", "application/json".into())],
        body.to_string(),
    )
}

/// The connector NAME from a `serve.toml` text.
pub(crate) fn connector(toml: &str, name: &str) -> Box<dyn Deliver> {
    let config: Config = toml::from_str(toml).unwrap();
    config.check().unwrap();
    config.connectors.prepare().unwrap().remove(name).unwrap()
}

pub(crate) fn form(body: &str) -> BTreeMap<String, String> {
    form_urlencoded::parse(body.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// A Stripe `refund` command of the step 0 of `refund_small` on case T-3002.
pub(crate) fn refund_cmd(amount: &str) -> Json {
    json!({ "seq": 4, "kind": "action", "key": "k3y", "connector": "stripe", "action": "refund",
            "args": { "charge": "ch_3PqA02", "amount": amount }, "case": "T-3002",
            "automation": "refund_small", "step": 0 })
}

/// The credentials are read from the environment at send time; the tests cannot set a
/// variable (no `unsafe`), so they name one cargo sets for every test run.
pub(crate) fn stripe_config(port: u16) -> String {
    format!(
        "[connectors.stripe]\nvendor = \"stripe\"\napi_base = \"http://127.0.0.1:{port}\"\napi_key = \"env:CARGO_PKG_NAME\"\n"
    )
}
