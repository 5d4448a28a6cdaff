//! The vendor connectors against test doubles written from each vendor's API reference
//! (docs/connectors.md): every request's method, path, encoding, headers, authentication
//! and idempotency key is checked, and the doubles answer with the documented success and
//! error bodies (Stripe 402 `card_error`, 429 with `Retry-After`, Slack `ok: false`).

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failing test")]

mod double;

use std::sync::{Arc, Mutex};

use double::{Double, Seen, connector, form, json_answer, refund_cmd, stripe_config};
use meshline_serve::Config;
use meshline_serve::http_connector::Attempt;
use serde_json::{Value as Json, json};

/// `POST /v1/refunds`: form-encoded, the secret key as a bearer token, the step's key as
/// `Idempotency-Key`, the amount in minor units (zero-decimal JPY as is), the step in the
/// metadata; the refund's id comes back as the vendor's id.
#[test]
fn stripe_refund_request_and_success() {
    let double = Double::start(|s| {
        if s.method == "GET" {
            let currency = if s.uri.ends_with("jpy") { "jpy" } else { "usd" };
            return json_answer(
                200,
                json!({ "id": s.uri.rsplit('/').next(), "object": "charge", "currency": currency }),
            );
        }
        json_answer(
            200,
            json!({ "id": "re_1Nispe2eZvKYlo2Cd31jOCgZ", "object": "refund", "amount": 90000,
                    "charge": "ch_3PqA02", "currency": "usd", "status": "succeeded" }),
        )
    });
    let stripe = connector(&stripe_config(double.port), "stripe");
    let cmd = refund_cmd("900.00 USD");
    let done = stripe.attempt(&cmd, &cmd.to_string());
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(done.remote.as_deref(), Some("re_1Nispe2eZvKYlo2Cd31jOCgZ"));
    let mut jpy = refund_cmd("1500.00 JPY");
    jpy["args"]["charge"] = json!("ch_jpy");
    assert_eq!(stripe.attempt(&jpy, "").attempt, Attempt::Ok);
    // The charge is in USD: a refund amount in EUR never becomes a refund.
    let eur = refund_cmd("900.00 EUR");
    assert_eq!(
        stripe.attempt(&eur, "").attempt,
        Attempt::Refused("charge ch_3PqA02 is in usd, the refund amount in EUR".into())
    );
    let seen: Vec<Seen> = double.seen();
    assert_eq!(seen.len(), 5);
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("GET", "/v1/charges/ch_3PqA02")
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer meshline-serve");
    let seen: Vec<Seen> = seen.into_iter().filter(|s| s.method == "POST").collect();
    assert_eq!(seen.len(), 2);
    let r = &seen[0];
    assert_eq!((r.method.as_str(), r.uri.as_str()), ("POST", "/v1/refunds"));
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(r.headers["authorization"], "Bearer meshline-serve");
    assert_eq!(r.headers["idempotency-key"], "k3y");
    let f = form(&r.body);
    assert_eq!(f["charge"], "ch_3PqA02");
    assert_eq!(f["amount"], "90000");
    assert_eq!(f["metadata[meshline_case]"], "T-3002");
    assert_eq!(f["metadata[meshline_automation]"], "refund_small");
    assert_eq!(f["metadata[meshline_step]"], "0");
    assert_eq!(form(&seen[1].body)["amount"], "1500");
    // An amount the currency cannot carry never leaves.
    let half_yen = refund_cmd("0.50 JPY");
    assert!(matches!(
        stripe.attempt(&half_yen, "").attempt,
        Attempt::Refused(_)
    ));
    assert_eq!(double.seen().len(), 5);
}

/// Stripe's documented errors: 402 `card_error` is final with Stripe's message; 429 is
/// retried after its `Retry-After`; 500 is retried; 400 `invalid_request_error` is final.
#[test]
fn stripe_errors_are_classified() {
    let calls = Arc::new(Mutex::new(0));
    let n = calls.clone();
    let double = Double::start(move |s| {
        if s.method == "GET" {
            return json_answer(
                200,
                json!({ "id": "ch_3PqA02", "object": "charge", "currency": "usd" }),
            );
        }
        let mut n = n.lock().unwrap();
        *n += 1;
        match *n {
            1 => json_answer(
                402,
                json!({ "error": { "type": "card_error", "code": "charge_already_refunded",
                                   "message": "Charge ch_3PqA02 has already been refunded." } }),
            ),
            2 => (
                429,
                vec![("retry-after", "7".into())],
                json!({ "error": { "type": "invalid_request_error", "code": "rate_limit",
                                   "message": "Too many requests hit the API too quickly." } })
                .to_string(),
            ),
            3 => json_answer(500, json!({ "error": { "type": "api_error" } })),
            _ => json_answer(
                400,
                json!({ "error": { "type": "invalid_request_error", "code": "parameter_invalid_integer",
                                   "param": "amount", "message": "Invalid integer" } }),
            ),
        }
    });
    let stripe = connector(&stripe_config(double.port), "stripe");
    let cmd = refund_cmd("900.00 USD");
    assert_eq!(
        stripe.attempt(&cmd, "").attempt,
        Attempt::Refused(
            "Stripe HTTP 402 card_error charge_already_refunded: Charge ch_3PqA02 has already been refunded."
                .into()
        )
    );
    assert!(matches!(
        stripe.attempt(&cmd, "").attempt,
        Attempt::RetryAfter(_, 7000)
    ));
    assert!(matches!(
        stripe.attempt(&cmd, "").attempt,
        Attempt::Retry(_)
    ));
    assert!(matches!(
        stripe.attempt(&cmd, "").attempt,
        Attempt::Refused(_)
    ));
    // Every retry is the same request under the same key.
    let seen = double.seen();
    assert!(
        seen.iter()
            .filter(|s| s.method == "POST")
            .all(|s| s.headers["idempotency-key"] == "k3y")
    );
}

/// `void_refund` (the compensation) lists the charge's refunds, finds the one its step
/// made by the metadata, and cancels it under the compensation's key; Stripe's refusal to
/// cancel a settled refund is final.
#[test]
fn stripe_void_refund_cancels_the_steps_refund() {
    let double = Double::start(|s| {
        if s.method == "GET" {
            let refund = |id: &str, step: &str| {
                json!({ "id": id, "object": "refund", "status": "requires_action",
                        "metadata": { "meshline_case": "T-3002", "meshline_automation": "refund_small",
                                      "meshline_step": step } })
            };
            json_answer(
                200,
                json!({ "object": "list", "url": "/v1/refunds", "has_more": false,
                        "data": [refund("re_other", "1"), refund("re_mine", "0")] }),
            )
        } else if s.uri == "/v1/refunds/re_mine/cancel" {
            json_answer(
                200,
                json!({ "id": "re_mine", "object": "refund", "status": "canceled" }),
            )
        } else {
            json_answer(404, json!({ "error": { "type": "invalid_request_error" } }))
        }
    });
    let stripe = connector(&stripe_config(double.port), "stripe");
    let mut cmd = refund_cmd("900.00 USD");
    cmd["action"] = json!("void_refund");
    cmd["key"] = json!("c0mp");
    cmd["compensates"] = json!("stripe.refund");
    let done = stripe.attempt(&cmd, "");
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(done.remote.as_deref(), Some("re_mine"));
    let seen = double.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].uri, "/v1/refunds?charge=ch_3PqA02&limit=100");
    assert!(!seen[0].headers.contains_key("idempotency-key"));
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].headers["idempotency-key"], "c0mp");
    assert_eq!(seen[1].headers["authorization"], "Bearer meshline-serve");
}

fn slack_config(port: u16) -> String {
    format!(
        "[connectors]\napproval_request = \"slack\"\nnotify = \"slack\"\n[connectors.slack]\nvendor = \"slack\"\napi_base = \"http://127.0.0.1:{port}\"\nbot_token = \"env:CARGO_PKG_NAME\"\nchannel = \"C0APPROVALS\"\nbackoff_ms = 10\n"
    )
}

/// Slack: `chat.postMessage` with the bot token, a JSON body, and for an approval request
/// the Approve / Deny buttons naming the case and gate; `ok: false` is final (a transient
/// error retried), the message's `ts` is the vendor's id.
#[test]
fn slack_posts_approval_requests_with_buttons() {
    let calls = Arc::new(Mutex::new(0));
    let n = calls.clone();
    let double = Double::start(move |_| {
        let mut n = n.lock().unwrap();
        *n += 1;
        match *n {
            1 => json_answer(
                200,
                json!({ "ok": true, "channel": "C0APPROVALS", "ts": "1700000000.000100" }),
            ),
            2 => json_answer(200, json!({ "ok": false, "error": "channel_not_found" })),
            _ => json_answer(200, json!({ "ok": false, "error": "ratelimited" })),
        }
    });
    let slack = connector(&slack_config(double.port), "slack");
    let cmd = json!({ "seq": 9, "kind": "approval_request", "case": "T-3002", "gate": "refund_approval",
                      "request": 1, "require": [{ "approval": "finance_managers" }] });
    let done = slack.attempt(&cmd, "");
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(
        done.remote.as_deref(),
        Some("C0APPROVALS/1700000000.000100")
    );
    assert_eq!(
        slack.attempt(&cmd, "").attempt,
        Attempt::Refused("Slack: channel_not_found".into())
    );
    assert!(matches!(slack.attempt(&cmd, "").attempt, Attempt::Retry(_)));
    let seen = double.seen();
    let r = &seen[0];
    assert_eq!(
        (r.method.as_str(), r.uri.as_str()),
        ("POST", "/api/chat.postMessage")
    );
    assert_eq!(r.headers["authorization"], "Bearer meshline-serve");
    assert_eq!(r.headers["content-type"], "application/json; charset=utf-8");
    let body: Json = serde_json::from_str(&r.body).unwrap();
    assert_eq!(body["channel"], "C0APPROVALS");
    assert!(body["text"].as_str().unwrap().contains("T-3002"));
    let buttons = &body["blocks"][1]["elements"];
    assert_eq!(buttons[0]["action_id"], "meshline_approve");
    assert_eq!(buttons[1]["action_id"], "meshline_deny");
    let value: Json = serde_json::from_str(buttons[0]["value"].as_str().unwrap()).unwrap();
    assert_eq!(
        value,
        json!({ "case": "T-3002", "gate": "refund_approval" })
    );
}

/// Configuration mistakes stop `serve` at load, naming the connector.
#[test]
fn vendor_settings_are_checked_at_load() {
    let bad = |text: &str| -> String {
        match toml::from_str::<Config>(text) {
            Err(e) => e.to_string(),
            Ok(c) => c.check().unwrap_err(),
        }
    };
    let e = bad("[connectors.stripe]\nvendor = \"stripe\"\napi_key = \"sk_live_literal\"\n");
    assert!(
        e.contains("connectors.stripe: api_key must name an environment variable"),
        "{e}"
    );
    let e = bad(
        "[connectors.stripe]\nvendor = \"stripe\"\napi_key = \"env:K\"\napi_base = \"ftp://x\"\n",
    );
    assert!(e.contains("api_base"), "{e}");
    let e = bad("[connectors]\nnotify = \"slack\"\n");
    assert!(e.contains("no connector `slack`"), "{e}");
    let e = bad(
        "[connectors.stripe]\nvendor = \"stripe\"\napi_key = \"env:K\"\n[connectors.http.stripe]\nurl = \"http://x\"\n",
    );
    assert!(e.contains("configured twice"), "{e}");
    let e = bad(
        "[connectors.helpdesk]\nvendor = \"zendesk\"\nemail = \"a@b\"\napi_token = \"env:T\"\n",
    );
    assert!(
        e.contains("connectors.helpdesk: vendor \"zendesk\" needs `api_base`"),
        "{e}"
    );
    // Only a help desk can take Meshline's assignments, and it takes nothing else routed.
    let e = bad(
        "[connectors]\nassignment = \"slack\"\n[connectors.slack]\nvendor = \"slack\"\nbot_token = \"env:T\"\nchannel = \"C1\"\n",
    );
    assert!(e.contains("cannot take assignments"), "{e}");
    let e = bad(
        "[connectors]\nnotify = \"helpdesk\"\n[connectors.helpdesk]\nvendor = \"zendesk\"\napi_base = \"https://a.zendesk.com\"\nemail = \"a@b\"\napi_token = \"env:T\"\n",
    );
    assert!(e.contains("cannot take `notify` commands"), "{e}");
    let e = bad("[connectors.s]\nvendor = \"paypal\"\n");
    assert!(e.contains("connectors.s"), "{e}");
    // The defaults are the vendors' public APIs.
    let ok: Config =
        toml::from_str("[connectors.stripe]\nvendor = \"stripe\"\napi_key = \"env:K\"\n").unwrap();
    assert_eq!(ok.connectors.vendors["stripe"].api_base, None);
    ok.check().unwrap();
}

fn zendesk_config(port: u16) -> String {
    format!(
        "[connectors.helpdesk]\nvendor = \"zendesk\"\napi_base = \"http://127.0.0.1:{port}\"\nemail = \"meshline@agency.io\"\napi_token = \"env:CARGO_PKG_NAME\"\ncase_prefix = \"T-\"\n[connectors.helpdesk.templates]\nrefund_confirmed = \"Your refund is on its way.\"\n"
    )
}

/// Zendesk: a reply and an internal note are one `PUT /api/v2/tickets/{id}` with a public
/// or private comment, a status change the same with `status`, a tag through the tags
/// endpoint; basic authentication as `email/token:TOKEN`; 422 is final with Zendesk's
/// details, 429 retried after `Retry-After`.
#[test]
fn zendesk_updates_the_cases_ticket() {
    let calls = Arc::new(Mutex::new(0));
    let n = calls.clone();
    let double = Double::start(move |_| {
        let mut n = n.lock().unwrap();
        *n += 1;
        match *n {
            1..=4 => json_answer(
                200,
                json!({ "ticket": { "id": 3001, "status": "open" }, "audit": { "id": 9001 } }),
            ),
            5 => json_answer(
                422,
                json!({ "error": "RecordInvalid", "description": "Record validation errors",
                        "details": { "status": [{ "description": "Status: closed prevents ticket update" }] } }),
            ),
            _ => (
                429,
                vec![("retry-after", "12".into())],
                json!({ "error": "APIRateLimitExceeded" }).to_string(),
            ),
        }
    });
    let zd = connector(&zendesk_config(double.port), "helpdesk");
    let cmd = |action: &str, args: Json| {
        json!({ "kind": "action", "key": "k", "connector": "helpdesk", "action": action,
                "args": args, "case": "T-3001", "automation": "a", "step": 1 })
    };
    let reply = zd.attempt(&cmd("reply", json!({ "template": "refund_confirmed" })), "");
    assert_eq!(reply.attempt, Attempt::Ok);
    assert_eq!(reply.remote.as_deref(), Some("3001/audit/9001"));
    assert_eq!(
        zd.attempt(
            &cmd("add_note", json!({ "text": "Refund re_1 issued." })),
            ""
        )
        .attempt,
        Attempt::Ok
    );
    assert_eq!(
        zd.attempt(&cmd("set_status", json!({ "status": "Solved" })), "")
            .attempt,
        Attempt::Ok
    );
    assert_eq!(
        zd.attempt(&cmd("add_tag", json!({ "tag": "refunded" })), "")
            .attempt,
        Attempt::Ok
    );
    let invalid = zd
        .attempt(&cmd("set_status", json!({ "status": "open" })), "")
        .attempt;
    let Attempt::Refused(reason) = invalid else {
        panic!("{invalid:?}")
    };
    assert!(
        reason.starts_with("Zendesk HTTP 422 RecordInvalid: Record validation errors"),
        "{reason}"
    );
    assert!(reason.contains("closed prevents ticket update"), "{reason}");
    assert!(matches!(
        zd.attempt(&cmd("add_tag", json!({ "tag": "x" })), "")
            .attempt,
        Attempt::RetryAfter(_, 12_000)
    ));
    // A case that is not a ticket number, and an unknown template, never leave.
    let mut other = cmd("add_note", json!({ "text": "x" }));
    other["case"] = json!("billing-7");
    assert!(matches!(
        zd.attempt(&other, "").attempt,
        Attempt::Refused(_)
    ));
    assert!(matches!(
        zd.attempt(&cmd("reply", json!({ "template": "nope" })), "")
            .attempt,
        Attempt::Refused(_)
    ));

    let seen = double.seen();
    assert_eq!(seen.len(), 6);
    // base64("meshline@agency.io/token:meshline-serve")
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            "meshline@agency.io/token:meshline-serve"
        )
    );
    for s in &seen {
        assert_eq!(s.method, "PUT");
        assert_eq!(s.headers["authorization"], auth);
        assert_eq!(s.headers["content-type"], "application/json");
    }
    let body = |i: usize| serde_json::from_str::<Json>(&seen[i].body).unwrap();
    assert_eq!(seen[0].uri, "/api/v2/tickets/3001");
    assert_eq!(
        body(0),
        json!({ "ticket": { "comment": { "body": "Your refund is on its way.", "public": true } } })
    );
    assert_eq!(
        body(1),
        json!({ "ticket": { "comment": { "body": "Refund re_1 issued.", "public": false } } })
    );
    assert_eq!(body(2), json!({ "ticket": { "status": "solved" } }));
    assert_eq!(seen[3].uri, "/api/v2/tickets/3001/tags");
    assert_eq!(body(3), json!({ "tags": ["refunded"] }));
}

/// The generic HTTP connector's mapping: an action becomes the configured method, URL and
/// JSON body over its arguments and key, with `Idempotency-Key` and the configured headers;
/// an unmapped action falls back to the command JSON POSTed to `url`.
#[test]
fn http_mapping_builds_the_configured_request() {
    let double = Double::start(|s| {
        if s.uri.starts_with("/api/v2/customers/") {
            json_answer(201, json!({ "id": "cr_1" }))
        } else {
            json_answer(200, json!({}))
        }
    });
    let port = double.port;
    let text = format!(
        r#"
[connectors.accounting]
vendor = "http"
url = "http://127.0.0.1:{port}/meshline"
headers = {{ Authorization = "env:CARGO_PKG_NAME" }}
[connectors.accounting.actions.create_credit_note]
method = "PUT"
url = "http://127.0.0.1:{port}/api/v2/customers/{{args.client}}/credit-notes/{{key}}"
body = {{ client = "{{args.client}}", amount = "{{args.amount}}", reference = "meshline {{case}}", idempotency_key = "{{key}}" }}
"#
    );
    let acc = connector(&text, "accounting");
    let cmd = json!({ "kind": "action", "key": "k9", "connector": "accounting",
                      "action": "create_credit_note", "args": { "client": "acme co", "amount": "80.00 EUR" },
                      "case": "T-3006", "automation": "credit", "step": 0 });
    assert_eq!(acc.attempt(&cmd, &cmd.to_string()).attempt, Attempt::Ok);
    let mut sync = cmd.clone();
    sync["action"] = json!("sync_refund");
    assert_eq!(acc.attempt(&sync, &sync.to_string()).attempt, Attempt::Ok);
    let seen = double.seen();
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].uri, "/api/v2/customers/acme%20co/credit-notes/k9");
    assert_eq!(seen[0].headers["idempotency-key"], "k9");
    assert_eq!(seen[0].headers["authorization"], "meshline-serve");
    assert_eq!(seen[0].headers["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Json>(&seen[0].body).unwrap(),
        json!({ "client": "acme co", "amount": "80.00 EUR", "reference": "meshline T-3006", "idempotency_key": "k9" })
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].uri.as_str()),
        ("POST", "/meshline")
    );
    assert_eq!(serde_json::from_str::<Json>(&seen[1].body).unwrap(), sync);
    let bad = text.replace("method = \"PUT\"", "method = \"DELETE\"");
    let config: Config = toml::from_str(&bad).unwrap();
    let e = config.check().unwrap_err();
    assert!(
        e.contains("connectors.accounting: actions.create_credit_note: method"),
        "{e}"
    );
}

/// Who clicked, when the source's `users` table does not say: `users.info` with the bot
/// token gives the profile's e-mail address (lower-cased); `ok: false` is an error.
#[test]
fn slack_user_email_from_users_info() {
    let double = Double::start(|s| {
        if s.uri == "/api/users.info?user=U0NEW" {
            json_answer(
                200,
                json!({ "ok": true, "user": { "id": "U0NEW", "profile": { "email": "Priya@Agency.io" } } }),
            )
        } else {
            json_answer(200, json!({ "ok": false, "error": "user_not_found" }))
        }
    });
    let config: Config = toml::from_str(&slack_config(double.port)).unwrap();
    let slack = config.connectors.slack().unwrap().remove("slack").unwrap();
    assert_eq!(slack.email("U0NEW"), Ok("priya@agency.io".to_string()));
    let e = slack.email("U0GONE").unwrap_err();
    assert!(e.contains("user_not_found"), "{e}");
    let seen = double.seen();
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].headers["authorization"], "Bearer meshline-serve");
}

/// HubSpot: `update_deal` is a `PATCH` of the deal's `dealstage` property with the private
/// app token; a 400 `VALIDATION_ERROR` is final, a 429 retried after `Retry-After`.
#[test]
fn hubspot_updates_the_deal_stage() {
    let calls = Arc::new(Mutex::new(0));
    let n = calls.clone();
    let double = Double::start(move |_| {
        let mut n = n.lock().unwrap();
        *n += 1;
        match *n {
            1 => json_answer(200, json!({ "id": "512", "properties": { "dealstage": "closedwon" } })),
            2 => json_answer(
                400,
                json!({ "status": "error", "category": "VALIDATION_ERROR",
                        "message": "Property values were not valid", "correlationId": "c-1" }),
            ),
            _ => (
                429,
                vec![("retry-after", "10".into())],
                json!({ "status": "error", "category": "RATE_LIMITS", "message": "You have reached your secondly limit." })
                    .to_string(),
            ),
        }
    });
    let text = format!(
        "[connectors.crm]\nvendor = \"hubspot\"\napi_base = \"http://127.0.0.1:{}\"\naccess_token = \"env:CARGO_PKG_NAME\"\n",
        double.port
    );
    let crm = connector(&text, "crm");
    let cmd = json!({ "kind": "action", "key": "k", "connector": "crm", "action": "update_deal",
                      "args": { "deal": "512", "stage": "closedwon" }, "case": "T-1" });
    let done = crm.attempt(&cmd, "");
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(done.remote.as_deref(), Some("512"));
    assert_eq!(
        crm.attempt(&cmd, "").attempt,
        Attempt::Refused(
            "HubSpot HTTP 400 VALIDATION_ERROR: Property values were not valid".into()
        )
    );
    assert!(matches!(
        crm.attempt(&cmd, "").attempt,
        Attempt::RetryAfter(_, 10_000)
    ));
    let seen = double.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("PATCH", "/crm/v3/objects/deals/512")
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer meshline-serve");
    assert_eq!(
        serde_json::from_str::<Json>(&seen[0].body).unwrap(),
        json!({ "properties": { "dealstage": "closedwon" } })
    );
}

/// Zendesk assignment and custom fields: the agent by `assignee_email`, the group and the
/// field by the ids the configuration maps the project's names to; a name the mapping
/// lacks fails for good before any request.
#[test]
fn zendesk_assigns_and_sets_custom_fields() {
    let double = Double::start(|_| {
        json_answer(
            200,
            json!({ "ticket": { "id": 3001 }, "audit": { "id": 1 } }),
        )
    });
    let text = format!(
        "{}[connectors.helpdesk.groups]\nbilling = 360001\n[connectors.helpdesk.fields]\ncontract_tier = 360005\n",
        zendesk_config(double.port)
    );
    let zd = connector(&text, "helpdesk");
    let cmd = |action: &str, args: Json| {
        json!({ "kind": "action", "key": "k", "connector": "helpdesk", "action": action,
                "args": args, "case": "T-3001" })
    };
    for (action, args) in [
        ("assign_agent", json!({ "agent": "kofi@agency.io" })),
        ("assign_group", json!({ "group": "billing" })),
        (
            "set_field",
            json!({ "field": "contract_tier", "value": "gold" }),
        ),
    ] {
        assert_eq!(zd.attempt(&cmd(action, args), "").attempt, Attempt::Ok);
    }
    let missing = zd
        .attempt(&cmd("assign_group", json!({ "group": "legal" })), "")
        .attempt;
    assert!(
        matches!(&missing, Attempt::Refused(r) if r.contains("no group `legal`")),
        "{missing:?}"
    );
    let seen = double.seen();
    assert_eq!(seen.len(), 3, "the unmapped group made no request");
    assert!(
        seen.iter()
            .all(|s| s.method == "PUT" && s.uri == "/api/v2/tickets/3001")
    );
    let bodies: Vec<Json> = seen
        .iter()
        .map(|s| serde_json::from_str(&s.body).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            json!({ "ticket": { "assignee_email": "kofi@agency.io" } }),
            json!({ "ticket": { "group_id": 360001 } }),
            json!({ "ticket": { "custom_fields": [{ "id": 360005, "value": "gold" }] } }),
        ]
    );
}

/// HubSpot: a task created on the deal (due at the command's time, associated with the
/// deal by HubSpot's task-to-deal type), and a contact property set.
#[test]
fn hubspot_creates_tasks_and_updates_contacts() {
    let double = Double::start(|s| {
        let id = if s.uri.contains("tasks") {
            "t-77"
        } else {
            "c-9"
        };
        json_answer(201, json!({ "id": id }))
    });
    let text = format!(
        "[connectors.crm]\nvendor = \"hubspot\"\napi_base = \"http://127.0.0.1:{}\"\naccess_token = \"env:CARGO_PKG_NAME\"\n",
        double.port
    );
    let crm = connector(&text, "crm");
    let task = json!({ "seq": 3, "at": "2026-03-02T09:00:00Z", "kind": "action", "key": "k",
        "connector": "crm", "action": "create_task", "case": "T-1",
        "args": { "deal": "512", "subject": "Kickoff call", "body": "Contract signed: book the kickoff." } });
    let done = crm.attempt(&task, "");
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(done.remote.as_deref(), Some("t-77"));
    let contact = json!({ "kind": "action", "key": "k2", "connector": "crm",
        "action": "update_contact", "case": "T-1",
        "args": { "contact": "901", "property": "lifecyclestage", "value": "customer" } });
    assert_eq!(crm.attempt(&contact, "").attempt, Attempt::Ok);
    let seen = double.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("POST", "/crm/v3/objects/tasks")
    );
    assert_eq!(
        serde_json::from_str::<Json>(&seen[0].body).unwrap(),
        json!({
            "properties": { "hs_timestamp": "2026-03-02T09:00:00Z", "hs_task_subject": "Kickoff call",
                "hs_task_body": "Contract signed: book the kickoff.", "hs_task_status": "NOT_STARTED",
                "hs_task_type": "TODO" },
            "associations": [{ "to": { "id": "512" },
                "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 216 }] }],
        })
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].uri.as_str()),
        ("PATCH", "/crm/v3/objects/contacts/901")
    );
    assert_eq!(
        serde_json::from_str::<Json>(&seen[1].body).unwrap(),
        json!({ "properties": { "lifecyclestage": "customer" } })
    );
}
