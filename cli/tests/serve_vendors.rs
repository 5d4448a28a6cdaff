//! `meshline serve` with the Stripe and Slack connectors against test doubles written from
//! their API references (docs/connectors.md): a refund above the limit is held, the
//! approval request appears in Slack with Approve / Deny buttons, a signed click from the
//! requester is refused (dual control), a signed click from a finance manager approves,
//! Stripe receives the refund exactly once under the step's key, each click's outcome is
//! written back to the Slack message (`chat.update`), and the saga's confirmation reaches
//! the Zendesk ticket as a public reply. The export replays to the ledger.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::IntoResponse;
use hmac::{Hmac, Mac};
use serde_json::{Value as Json, json};

mod serve_support;
use serve_support::request;
use serve_support::server::{Server, http, variant};

/// One request as a double saw it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    uri: String,
    headers: BTreeMap<String, String>,
    body: String,
}

/// An axum server on 127.0.0.1 recording each request and answering `reply`'s JSON.
struct Double {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Double {
    fn start(reply: impl Fn(&Seen) -> Json + Send + Sync + 'static) -> Double {
        Double::with_status(move |s| (200, reply(s)))
    }

    /// As `start`, `reply` giving the status too.
    fn with_status(reply: impl Fn(&Seen) -> (u16, Json) + Send + Sync + 'static) -> Double {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let (log, reply) = (seen.clone(), Arc::new(reply));
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
                                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").into()))
                                    .collect(),
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let answer = reply(&s);
                            log.lock().unwrap().push(s);
                            let status = StatusCode::from_u16(answer.0).unwrap();
                            (status, axum::Json(answer.1)).into_response()
                        }
                    },
                );
                let l = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(l, app).await.unwrap();
            });
        });
        Double { port, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Wait until `n` requests arrived (or fail after 30 s).
    fn wait(&self, n: usize) -> Vec<Seen> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let seen = self.seen();
            if seen.len() >= n {
                return seen;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} requests, got {seen:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// A Slack `block_actions` interaction for a click on the approval message, form-encoded
/// as `payload=` and signed (v0) as Slack does.
fn click(
    port: u16,
    user: &str,
    action_id: &str,
    value: &str,
    action_ts: &str,
    sign: bool,
) -> (u16, String) {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": user.to_lowercase(), "team_id": "T0AGENCY" },
        "api_app_id": "A0MESHLINE",
        "container": { "type": "message", "message_ts": "1700000000.000100", "channel_id": "C0APPROVALS" },
        "channel": { "id": "C0APPROVALS", "name": "approvals" },
        "response_url": "https://hooks.slack.com/actions/T0AGENCY/1/abc",
        "actions": [{ "type": "button", "action_id": action_id, "block_id": "meshline_approval",
                      "value": value, "action_ts": action_ts }],
    });
    let body: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish();
    let ts = jiff::Timestamp::now().as_second().to_string();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SIGNING_SECRET.as_bytes()).unwrap();
    mac.update(format!("v0:{ts}:{body}").as_bytes());
    let mut sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if !sign {
        sig = sig.replace('a', "b");
    }
    let headers = format!(
        "Content-Type: application/x-www-form-urlencoded\r\nX-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: v0={sig}\r\n"
    );
    request(port, "POST", "/webhooks/slack", &headers, body.as_bytes()).unwrap()
}

fn ledger_of(port: u16, case: &str) -> Vec<Json> {
    let (_, body) = http(port, "GET", &format!("/cases/{case}"), b"").unwrap();
    let v: Json = serde_json::from_str(&body).unwrap_or_default();
    v["ledger"].as_array().cloned().unwrap_or_default()
}

/// The serve configuration: Stripe, Slack (approval requests and reconciliation tasks) and
/// Zendesk connectors on the doubles' ports, and the signed Slack interactions source.
fn config(stripe: u16, slack: u16, zendesk: u16) -> String {
    format!(
        r#"wall_clock = false
[connectors]
approval_request = "slack"
reconciliation = "slack"
[connectors.stripe]
vendor = "stripe"
api_base = "http://127.0.0.1:{stripe}"
api_key = "env:MESHLINE_TEST_STRIPE_KEY"
backoff_ms = 50
[connectors.slack]
vendor = "slack"
api_base = "http://127.0.0.1:{slack}"
bot_token = "env:MESHLINE_TEST_SLACK_TOKEN"
channel = "C0APPROVALS"
backoff_ms = 50
[connectors.helpdesk]
vendor = "zendesk"
api_base = "http://127.0.0.1:{zendesk}"
email = "meshline@agency.io"
api_token = "env:MESHLINE_TEST_ZENDESK_TOKEN"
case_prefix = "T-"
templates = {{ refund_confirmed = "Your refund of 900.00 USD is on its way." }}
[webhooks.slack]
vendor = "slack"
secret_env = "MESHLINE_TEST_SLACK_SIGNING_SECRET"
connector = "slack"
users = {{ U0CFO = "cfo@agency.io", U0PRIYA = "priya@agency.io" }}
"#
    )
}

fn env() -> Vec<(String, String)> {
    vec![
        (
            "MESHLINE_TEST_STRIPE_KEY".into(),
            "sk_test_51Hagency".into(),
        ),
        (
            "MESHLINE_TEST_SLACK_TOKEN".into(),
            "xoxb-17653672481-19874698323".into(),
        ),
        (
            "MESHLINE_TEST_SLACK_SIGNING_SECRET".into(),
            SIGNING_SECRET.into(),
        ),
        ("MESHLINE_TEST_ZENDESK_TOKEN".into(), "zd-token-1".into()),
    ]
}

/// The agency's ticket event, with the person who asked for the refund: the requester.
fn requester_bundle(s: &Server) -> std::path::PathBuf {
    variant(
        s.dir.path(),
        "requester",
        "rules/data.mesh",
        "event TicketCreated { ticket: Ticket, channel: Channel, signals: Signals? }",
        "event TicketCreated { ticket: Ticket, channel: Channel, signals: Signals?, requested_by: Person? }",
    )
}

fn ticket(id: &str, case: &str, amount: &str) -> Json {
    json!({ "id": id, "type": "TicketCreated", "at": "2026-03-02T09:20:03Z",
        "case": case, "data": { "ticket": { "id": case, "type": "billing",
        "subject": "Refund the annual licence", "tags": ["refund"], "tier": "Gold",
        "priority": "Normal", "status": "New", "client_id": "c-4", "charge_id": "ch_3PqA02",
        "refund_amount": amount }, "channel": "Email",
        "signals": { "intent_confidence": "95%" }, "requested_by": "cfo@agency.io" } })
}

#[test]
fn held_refund_approved_from_slack_reaches_stripe_once() {
    let stripe = Double::start(|s| {
        let key = s
            .headers
            .get("idempotency-key")
            .cloned()
            .unwrap_or_default();
        json!({ "id": format!("re_{}", &key[..8.min(key.len())]), "object": "refund",
                "status": "succeeded", "currency": "usd" })
    });
    let slack = Double::start(
        |_| json!({ "ok": true, "channel": "C0APPROVALS", "ts": "1700000000.000100" }),
    );
    let zendesk = Double::start(|_| json!({ "ticket": { "id": 9001 }, "audit": { "id": 77 } }));
    let mut s = Server::new(&config(stripe.port, slack.port, zendesk.port));
    s.bundle = requester_bundle(&s);
    let child = s.start_with_env(&env());
    let ticket = ticket("evt_v1", "T-9001", "900.00 USD");
    let (code, body) = http(s.port, "POST", "/events", ticket.to_string().as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");

    // Held: the approval request appears in Slack, with the buttons; Stripe saw nothing.
    let posted = slack.wait(1);
    assert_eq!(posted[0].uri, "/api/chat.postMessage");
    assert_eq!(
        posted[0].headers["authorization"],
        "Bearer xoxb-17653672481-19874698323"
    );
    let msg: Json = serde_json::from_str(&posted[0].body).unwrap();
    assert_eq!(msg["channel"], "C0APPROVALS");
    let approve = &msg["blocks"][1]["elements"][0];
    assert_eq!(approve["action_id"], "meshline_approve");
    let value = approve["value"].as_str().unwrap().to_string();
    assert!(
        ledger_of(s.port, "T-9001")
            .iter()
            .any(|e| e["kind"] == "held")
    );

    // A forged click is refused before anything is applied.
    let (code, _) = click(
        s.port,
        "U0PRIYA",
        "meshline_approve",
        &value,
        "1700000001.1",
        false,
    );
    assert_eq!(code, 401);

    // The requester approving their own refund from Slack: refused by the engine.
    let (code, body) = click(
        s.port,
        "U0CFO",
        "meshline_approve",
        &value,
        "1700000002.1",
        true,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"decision\":\"refused\""), "{body}");
    let refused = ledger_of(s.port, "T-9001")
        .into_iter()
        .find(|e| e["kind"] == "refused")
        .unwrap();
    assert!(
        refused["detail"]["reason"]
            .as_str()
            .unwrap()
            .contains("dual control"),
        "{refused}"
    );
    let updates = slack.wait(2);
    assert_eq!(updates[1].uri, "/api/chat.update");
    let update: Json = serde_json::from_str(&updates[1].body).unwrap();
    assert_eq!(update["ts"], "1700000000.000100");
    assert!(
        update["text"].as_str().unwrap().contains("refused"),
        "{update}"
    );

    // Another finance manager approves: the refund goes to Stripe.
    let (code, body) = click(
        s.port,
        "U0PRIYA",
        "meshline_approve",
        &value,
        "1700000003.1",
        true,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"decision\":\"approved\""), "{body}");
    // The same click delivered again (Slack retries unanswered requests) is a duplicate.
    let (code, body) = click(
        s.port,
        "U0PRIYA",
        "meshline_approve",
        &value,
        "1700000003.1",
        true,
    );
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("duplicate"), "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let executed = loop {
        let ledger = ledger_of(s.port, "T-9001");
        if ledger.iter().any(|e| e["kind"] == "succeeded") {
            break ledger
                .into_iter()
                .find(|e| e["kind"] == "executed")
                .unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "the refund never succeeded: {ledger:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let update: Json = serde_json::from_str(&slack.wait(3)[2].body).unwrap();
    assert!(
        update["text"]
            .as_str()
            .unwrap()
            .contains("Approved by priya@agency.io"),
        "{update}"
    );
    // The saga's next step: the confirmation reaches the Zendesk ticket as a public reply.
    let reply = &zendesk.wait(1)[0];
    assert_eq!(
        (reply.method.as_str(), reply.uri.as_str()),
        ("PUT", "/api/v2/tickets/9001")
    );
    assert_eq!(
        serde_json::from_str::<Json>(&reply.body).unwrap(),
        json!({ "ticket": { "comment": { "body": "Your refund of 900.00 USD is on its way.", "public": true } } })
    );
    s.stop(child);
    // The vendors' ids are kept with the delivered commands: the refund's, the messages'.
    let db = rusqlite::Connection::open(s.path("state.sqlite")).unwrap();
    let remote: Vec<String> = db
        .prepare("SELECT remote FROM outbox WHERE remote IS NOT NULL ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(remote.iter().any(|r| r.starts_with("re_")), "{remote:?}");
    assert!(
        remote.contains(&"C0APPROVALS/1700000000.000100".to_string()),
        "{remote:?}"
    );
    assert!(remote.contains(&"9001/audit/77".to_string()), "{remote:?}");

    // The charge's currency is read first; then exactly one refund.
    let seen = stripe.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/v1/charges/ch_3PqA02")
    );
    let refunds: Vec<Seen> = seen.into_iter().filter(|s| s.method == "POST").collect();
    assert_eq!(refunds.len(), 1, "exactly one refund: {refunds:?}");
    let r = &refunds[0];
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/v1/refunds"));
    assert_eq!(
        r.headers["idempotency-key"],
        executed["detail"]["key"].as_str().unwrap()
    );
    assert_eq!(r.headers["authorization"], "Bearer sk_test_51Hagency");
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert!(
        r.body.contains("charge=ch_3PqA02") && r.body.contains("amount=90000"),
        "{}",
        r.body
    );

    let (_, ledger, _) = s.export();
    assert!(!ledger.contains("sk_test_51Hagency") && !ledger.contains("xoxb-"));
    assert_eq!(s.run(None), ledger);
}

/// A step that fails for good after the refund compensates it: the help desk refuses the
/// confirmation (Zendesk 422), the saga runs `void_refund`, which finds the step's refund at
/// Stripe by its metadata and cancels it under the compensation's key, and the owner's
/// reconciliation task is posted to Slack.
#[test]
fn failed_step_after_the_refund_cancels_it_at_stripe() {
    let made: Arc<Mutex<Vec<Json>>> = Arc::default();
    let refunds = made.clone();
    let stripe = Double::start(move |s| {
        let mut refunds = refunds.lock().unwrap();
        if s.method == "POST" && s.uri == "/v1/refunds" {
            let form: BTreeMap<String, String> = form_urlencoded::parse(s.body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            let meta = |f: &str| form.get(&format!("metadata[meshline_{f}]")).cloned();
            let refund = json!({ "id": "re_3PqRefund", "object": "refund", "status": "requires_action",
                "charge": form.get("charge"), "amount": 12000,
                "metadata": { "meshline_case": meta("case"), "meshline_automation": meta("automation"),
                              "meshline_step": meta("step"), "meshline_key": meta("key") } });
            refunds.push(refund.clone());
            refund
        } else if s.uri.starts_with("/v1/charges/") {
            json!({ "id": "ch_3PqA02", "object": "charge", "currency": "usd" })
        } else if s.method == "GET" {
            json!({ "object": "list", "url": "/v1/refunds", "has_more": false, "data": *refunds })
        } else {
            json!({ "id": "re_3PqRefund", "object": "refund", "status": "canceled" })
        }
    });
    let slack = Double::start(
        |_| json!({ "ok": true, "channel": "C0APPROVALS", "ts": "1700000000.000200" }),
    );
    let zendesk = Double::with_status(|_| {
        (
            422,
            json!({ "error": "RecordInvalid", "description": "Record validation errors",
                      "details": { "base": [{ "description": "Ticket is closed" }] } }),
        )
    });
    let mut s = Server::new(&config(stripe.port, slack.port, zendesk.port));
    s.bundle = requester_bundle(&s);
    let child = s.start_with_env(&env());
    let t = ticket("evt_v2", "T-9002", "120.00 USD");
    let (code, body) = http(s.port, "POST", "/events", t.to_string().as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
    let seen = stripe.wait(4);
    let posted = slack.wait(1);
    s.stop(child);
    // The charge's currency, the refund, then the compensation: the list of the charge's
    // refunds and the cancel.
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/v1/charges/ch_3PqA02")
    );
    let seen = &seen[1..];
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("POST", "/v1/refunds")
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].uri.as_str()),
        ("GET", "/v1/refunds?charge=ch_3PqA02&limit=100")
    );
    assert_eq!(
        (seen[2].method.as_str(), seen[2].uri.as_str()),
        ("POST", "/v1/refunds/re_3PqRefund/cancel")
    );
    assert_ne!(
        seen[0].headers["idempotency-key"],
        seen[2].headers["idempotency-key"]
    );
    let (_, ledger, _) = s.export();
    let entries: Vec<Json> = ledger
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let compensated = entries.iter().find(|e| e["kind"] == "compensated").unwrap();
    assert_eq!(
        compensated["detail"]["key"].as_str().unwrap(),
        seen[2].headers["idempotency-key"]
    );
    let failed = entries.iter().find(|e| e["kind"] == "failed").unwrap();
    assert!(
        failed["detail"]
            .to_string()
            .contains("Zendesk HTTP 422 RecordInvalid"),
        "{failed}"
    );
    // The owner's reconciliation task went to Slack.
    let msg: Json = serde_json::from_str(&posted[0].body).unwrap();
    assert!(
        msg["text"]
            .as_str()
            .unwrap()
            .starts_with("Reconciliation needed on case T-9002"),
        "{msg}"
    );
    assert_eq!(s.run(None), ledger);
}

/// `assignment = "helpdesk"`: every assignment Meshline makes (the owner's queue, a route,
/// a person chosen by rotation) is written back to the Zendesk ticket, in the order the
/// ledger records them: a team as the ticket's group with no assignee, a person as its
/// assignee. A team without a group fails for good, naming the team.
#[test]
fn meshline_assignments_are_written_back_to_zendesk() {
    let zendesk = Double::start(|_| json!({ "ticket": { "id": 9101 }, "audit": { "id": 78 } }));
    let teams = [
        "billing_ops",
        "finance_managers",
        "support_l1",
        "support_leads",
        "implementation",
        "delivery_leads",
        "eng_oncall",
        "eng_managers",
        "account_mgmt",
        "support_inbox",
        "priority_desk",
        "automation_review",
    ];
    let groups: Vec<String> = teams
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{t} = {}", 360_100 + i))
        .collect();
    let text = format!(
        r#"wall_clock = false
[connectors]
assignment = "helpdesk"
[connectors.helpdesk]
vendor = "zendesk"
api_base = "http://127.0.0.1:{}"
email = "meshline@agency.io"
api_token = "env:MESHLINE_TEST_ZENDESK_TOKEN"
case_prefix = "T-"
backoff_ms = 50
groups = {{ {} }}
"#,
        zendesk.port,
        groups.join(", ")
    );
    let mut s = Server::new(&text);
    s.bundle = requester_bundle(&s);
    let child = s.start_with_env(&env());
    let t = ticket("evt_w1", "T-9101", "20.00 USD");
    let (code, body) = http(s.port, "POST", "/events", t.to_string().as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
    let assigned: Vec<Json> = ledger_of(s.port, "T-9101")
        .into_iter()
        .filter(|e| e["kind"] == "assigned")
        .collect();
    assert!(!assigned.is_empty(), "the ticket was assigned");
    let seen = zendesk.wait(assigned.len());
    s.stop(child);
    let expected: Vec<Json> = assigned
        .iter()
        .map(|e| {
            let who = e["detail"]["assignee"].as_str().unwrap();
            match teams.iter().position(|t| *t == who) {
                Some(i) => json!({ "ticket": { "group_id": 360_100 + i, "assignee_id": null } }),
                None => json!({ "ticket": { "assignee_email": who } }),
            }
        })
        .collect();
    let bodies: Vec<Json> = seen
        .iter()
        .take(assigned.len())
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    assert_eq!(bodies, expected);
    assert!(
        seen.iter()
            .all(|s| s.method == "PUT" && s.uri == "/api/v2/tickets/9101"),
        "{seen:?}"
    );
    // The commands are in the journal of the outbox, numbered after the saga's.
    let (_, ledger, _) = s.export();
    assert_eq!(
        s.run(None),
        ledger,
        "the ledger is what it would be without write-back"
    );
}
