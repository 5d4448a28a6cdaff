//! More vendor connectors against their test doubles (docs/connectors.md): Stripe refunds
//! of PaymentIntents and the paginated refund list of their compensation, HubSpot notes,
//! Slack's HTTP 429.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failing test")]

mod double;

use double::{Double, connector, form, json_answer, refund_cmd, stripe_config};
use meshline_serve::http_connector::Attempt;
use serde_json::{Value as Json, json};

/// A refund of a PaymentIntent (`pi_…`): the PaymentIntent's currency is read
/// (`GET /v1/payment_intents/{id}`), then `POST /v1/refunds` names it as `payment_intent`
/// and sends no `charge` (Stripe takes one of the two). A `py_` id is a charge.
#[test]
fn stripe_refunds_a_payment_intent() {
    let double = Double::start(|s| {
        if s.method == "GET" {
            let object = if s.uri.contains("payment_intents") {
                "payment_intent"
            } else {
                "charge"
            };
            return json_answer(
                200,
                json!({ "id": s.uri.rsplit('/').next(), "object": object, "currency": "usd" }),
            );
        }
        json_answer(
            200,
            json!({ "id": "re_3PiRefund", "object": "refund", "amount": 90000,
                    "payment_intent": "pi_3PqA02", "currency": "usd", "status": "succeeded" }),
        )
    });
    let stripe = connector(&stripe_config(double.port), "stripe");
    let mut cmd = refund_cmd("900.00 USD");
    cmd["args"]["charge"] = json!("pi_3PqA02");
    let done = stripe.attempt(&cmd, "");
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(done.remote.as_deref(), Some("re_3PiRefund"));
    let mut py = refund_cmd("900.00 USD");
    py["args"]["charge"] = json!("py_3PqSepa");
    assert_eq!(stripe.attempt(&py, "").attempt, Attempt::Ok);
    // The PaymentIntent is in USD: an amount in EUR never becomes a refund.
    let mut eur = refund_cmd("900.00 EUR");
    eur["args"]["charge"] = json!("pi_3PqA02");
    assert_eq!(
        stripe.attempt(&eur, "").attempt,
        Attempt::Refused("payment intent pi_3PqA02 is in usd, the refund amount in EUR".into())
    );
    let seen = double.seen();
    let calls: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.uri.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "/v1/payment_intents/pi_3PqA02"),
            ("POST", "/v1/refunds"),
            ("GET", "/v1/charges/py_3PqSepa"),
            ("POST", "/v1/refunds"),
            ("GET", "/v1/payment_intents/pi_3PqA02"),
        ]
    );
    let r = &seen[1];
    assert_eq!(r.headers["idempotency-key"], "k3y");
    assert_eq!(r.headers["authorization"], "Bearer meshline-serve");
    assert_eq!(
        r.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    let f = form(&r.body);
    assert_eq!(f["payment_intent"], "pi_3PqA02");
    assert!(!f.contains_key("charge"), "{f:?}");
    assert_eq!(f["amount"], "90000");
    assert_eq!(f["metadata[meshline_step]"], "0");
    let f = form(&seen[3].body);
    assert_eq!(f["charge"], "py_3PqSepa");
    assert!(!f.contains_key("payment_intent"), "{f:?}");
}

/// The compensation of a PaymentIntent's refund lists the PaymentIntent's refunds and
/// follows Stripe's pagination: `has_more` with `starting_after` = the page's last id,
/// until the step's refund (on the second page here), which it cancels.
#[test]
fn stripe_void_refund_follows_the_refund_lists_pages() {
    let double = Double::start(|s| {
        let refund = |id: &str, step: &str| {
            json!({ "id": id, "object": "refund", "status": "requires_action",
                    "metadata": { "meshline_case": "T-3002", "meshline_automation": "refund_small",
                                  "meshline_step": step } })
        };
        if s.method == "POST" {
            return json_answer(
                200,
                json!({ "id": "re_mine", "object": "refund", "status": "canceled" }),
            );
        }
        if s.uri.contains("starting_after=re_b") {
            json_answer(
                200,
                json!({ "object": "list", "url": "/v1/refunds", "has_more": false,
                        "data": [refund("re_mine", "0")] }),
            )
        } else {
            json_answer(
                200,
                json!({ "object": "list", "url": "/v1/refunds", "has_more": true,
                        "data": [refund("re_a", "1"), refund("re_b", "2")] }),
            )
        }
    });
    let stripe = connector(&stripe_config(double.port), "stripe");
    let mut cmd = refund_cmd("900.00 USD");
    cmd["action"] = json!("void_refund");
    cmd["key"] = json!("c0mp");
    cmd["args"]["charge"] = json!("pi_3PqA02");
    let done = stripe.attempt(&cmd, "");
    assert_eq!(done.attempt, Attempt::Ok);
    assert_eq!(done.remote.as_deref(), Some("re_mine"));
    let seen = double.seen();
    let calls: Vec<(&str, &str)> = seen
        .iter()
        .map(|s| (s.method.as_str(), s.uri.as_str()))
        .collect();
    assert_eq!(
        calls,
        [
            ("GET", "/v1/refunds?payment_intent=pi_3PqA02&limit=100"),
            (
                "GET",
                "/v1/refunds?payment_intent=pi_3PqA02&limit=100&starting_after=re_b"
            ),
            ("POST", "/v1/refunds/re_mine/cancel"),
        ]
    );
    assert_eq!(seen[2].headers["idempotency-key"], "c0mp");
}

/// A payment whose refund list does not end within the bound (10 pages of 100): the
/// compensation fails for good, saying so, after exactly 10 requests and no cancel.
#[test]
fn stripe_void_refund_stops_after_the_page_bound() {
    let double = Double::start(|s| {
        // Every page has more, each with another refund that is not the step's.
        let n = s.uri.len();
        json_answer(
            200,
            json!({ "object": "list", "url": "/v1/refunds", "has_more": true,
                    "data": [{ "id": format!("re_other{n}"), "object": "refund",
                               "status": "succeeded", "metadata": {} }] }),
        )
    });
    let stripe = connector(&stripe_config(double.port), "stripe");
    let mut cmd = refund_cmd("900.00 USD");
    cmd["action"] = json!("void_refund");
    let done = stripe.attempt(&cmd, "");
    assert!(
        matches!(&done.attempt, Attempt::Refused(r)
            if r.contains("not among the first 1000 refunds of charge ch_3PqA02")),
        "{:?}",
        done.attempt
    );
    let seen = double.seen();
    assert_eq!(seen.len(), 10);
    assert!(seen.iter().all(|s| s.method == "GET"));
    // Each page after the first starts after the previous page's last refund.
    let after = format!("&starting_after=re_other{}", seen[0].uri.len());
    assert!(seen[1].uri.ends_with(&after), "{seen:?}");
}

/// HubSpot notes: `log_deal_activity` and `log_contact_activity` create a note
/// (`POST /crm/v3/objects/notes`, `hs_timestamp` = the command's time, `hs_note_body`)
/// associated with the deal (type 214) or the contact (type 202); `log_activity`, which
/// names no record, fails for good without a request.
#[test]
fn hubspot_logs_notes_on_deals_and_contacts() {
    let double = Double::start(|_| json_answer(201, json!({ "id": "n-31" })));
    let text = format!(
        "[connectors.crm]\nvendor = \"hubspot\"\napi_base = \"http://127.0.0.1:{}\"\naccess_token = \"env:CARGO_PKG_NAME\"\n",
        double.port
    );
    let crm = connector(&text, "crm");
    let cmd = |action: &str, args: Json| {
        json!({ "seq": 5, "at": "2026-03-02T09:00:00Z", "kind": "action", "key": "k",
                "connector": "crm", "action": action, "case": "T-1", "args": args })
    };
    let deal = crm.attempt(
        &cmd(
            "log_deal_activity",
            json!({ "deal": "512", "note": "Payment recovered after one retry" }),
        ),
        "",
    );
    assert_eq!(deal.attempt, Attempt::Ok);
    assert_eq!(deal.remote.as_deref(), Some("n-31"));
    let contact = crm.attempt(
        &cmd(
            "log_contact_activity",
            json!({ "contact": "901", "note": "Kickoff booked" }),
        ),
        "",
    );
    assert_eq!(contact.attempt, Attempt::Ok);
    let bare = crm.attempt(&cmd("log_activity", json!({ "note": "x" })), "");
    assert!(
        matches!(&bare.attempt, Attempt::Refused(r) if r.contains("crm.log_deal_activity")),
        "{:?}",
        bare.attempt
    );
    let seen = double.seen();
    assert_eq!(seen.len(), 2, "log_activity made no request");
    assert!(
        seen.iter()
            .all(|s| s.method == "POST" && s.uri == "/crm/v3/objects/notes")
    );
    assert_eq!(seen[0].headers["authorization"], "Bearer meshline-serve");
    assert_eq!(seen[0].headers["content-type"], "application/json");
    let body = |i: usize| serde_json::from_str::<Json>(&seen[i].body).unwrap();
    assert_eq!(
        body(0),
        json!({
            "properties": { "hs_timestamp": "2026-03-02T09:00:00Z",
                            "hs_note_body": "Payment recovered after one retry" },
            "associations": [{ "to": { "id": "512" },
                "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 214 }] }],
        })
    );
    assert_eq!(
        body(1),
        json!({
            "properties": { "hs_timestamp": "2026-03-02T09:00:00Z", "hs_note_body": "Kickoff booked" },
            "associations": [{ "to": { "id": "901" },
                "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202 }] }],
        })
    );
}

/// Slack's rate limit over HTTP: `429` with `Retry-After` (seconds) is retried after that
/// long (https://api.slack.com/docs/rate-limits), the same request again.
#[test]
fn slack_429_is_retried_after_its_retry_after() {
    let double = Double::start(|_| {
        (
            429,
            vec![("retry-after", "30".into())],
            json!({ "ok": false, "error": "ratelimited" }).to_string(),
        )
    });
    let text = format!(
        "[connectors.slack]\nvendor = \"slack\"\napi_base = \"http://127.0.0.1:{}\"\nbot_token = \"env:CARGO_PKG_NAME\"\n",
        double.port
    );
    let slack = connector(&text, "slack");
    let cmd = json!({ "kind": "action", "key": "k", "connector": "slack", "action": "post",
                      "args": { "channel": "C0OPS", "text": "Refund held" }, "case": "T-1" });
    assert!(matches!(
        slack.attempt(&cmd, "").attempt,
        Attempt::RetryAfter(_, 30_000)
    ));
    let seen = double.seen();
    assert_eq!(
        (seen[0].method.as_str(), seen[0].uri.as_str()),
        ("POST", "/api/chat.postMessage")
    );
}
