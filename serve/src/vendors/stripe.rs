//! Stripe (docs/connectors.md, "Stripe"): `refund` checks the currency of the charge or
//! PaymentIntent it names and creates a refund (`POST /v1/refunds`,
//! https://docs.stripe.com/api/refunds/create), `void_refund` finds the refund its step made
//! (the refund list, paginated) and cancels it (`POST /v1/refunds/{id}/cancel`,
//! https://docs.stripe.com/api/refunds/cancel), `credit` adds a customer balance credit
//! (`POST /v1/customers/{id}/balance_transactions`,
//! https://docs.stripe.com/api/customer_balance_transactions/create). Form-encoded bodies,
//! the secret key as a bearer token, the step's key as `Idempotency-Key`
//! (https://docs.stripe.com/api/idempotent_requests), amounts in the currency's minor
//! units (https://docs.stripe.com/currencies#minor-units), errors classified by status,
//! `Stripe-Should-Retry` and the error's `type` (https://docs.stripe.com/api/errors).

use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::{secret, text};
use crate::transport::{self, Attempt, Deliver, Delivered, Policy, Reply};

pub const API_BASE: &str = "https://api.stripe.com";

pub struct Stripe {
    pub base: String,
    /// The variable holding the secret key.
    pub api_key: String,
    pub agent: ureq::Agent,
    pub policy: Policy,
    pub timeout_ms: u64,
}

/// Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
const ZERO_DECIMAL: [&str; 16] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];
/// Three-decimal currencies: three minor digits, the last one 0
/// (https://docs.stripe.com/currencies#three-decimal).
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// How many pages of a payment's refunds `void_refund` reads (100 each) looking for its
/// step's refund before it fails for good (docs/connectors.md, "Stripe").
pub const MAX_REFUND_PAGES: usize = 10;

/// What a `refund` names, by its id's prefix: a PaymentIntent (`pi_…`), refunded with
/// `payment_intent`, or a charge (`ch_…`, or `py_…` for the charges of non-card payment
/// methods), refunded with `charge` (https://docs.stripe.com/api/refunds/create: one of
/// the two). Any other id is sent as a charge, as before PaymentIntents were taken, and
/// Stripe's 404 says what it is not.
pub struct Payment<'a> {
    pub id: &'a str,
    /// The parameter of `POST /v1/refunds` and of the refund list that names it.
    pub param: &'static str,
}

impl<'a> Payment<'a> {
    pub fn of(id: &'a str) -> Payment<'a> {
        let param = if id.starts_with("pi_") {
            "payment_intent"
        } else {
            "charge"
        };
        Payment { id, param }
    }

    fn noun(&self) -> &'static str {
        if self.param == "payment_intent" {
            "payment intent"
        } else {
            "charge"
        }
    }

    /// Where Stripe answers with it (and its `currency`).
    fn path(&self) -> String {
        let id: String = form_urlencoded::byte_serialize(self.id.as_bytes()).collect();
        if self.param == "payment_intent" {
            format!("/v1/payment_intents/{id}")
        } else {
            format!("/v1/charges/{id}")
        }
    }
}

/// A `Money` argument (`"120.00 USD"`) as Stripe's integer amount in minor units and the
/// lower-case currency code, or why it cannot be one: a fraction the currency cannot
/// carry (`0.50 JPY`, `10.50 ISK` — ISK is two-decimal in the API but whole krónur only,
/// https://docs.stripe.com/currencies#special-cases), a negative or zero amount.
pub fn minor_units(money: &str) -> Result<(i64, String), String> {
    let (amount, currency) = money
        .trim()
        .split_once(' ')
        .ok_or_else(|| format!("{money:?} is not an amount with a currency"))?;
    let amount: Decimal = amount
        .parse()
        .map_err(|_| format!("{money:?} is not an amount with a currency"))?;
    let currency = currency.trim().to_ascii_uppercase();
    if amount <= Decimal::ZERO {
        return Err(format!("{money}: Stripe amounts must be positive"));
    }
    let (exponent, whole_units) = if ZERO_DECIMAL.contains(&currency.as_str()) {
        (0, false)
    } else if THREE_DECIMAL.contains(&currency.as_str()) {
        (3, false)
    } else {
        (2, currency == "ISK")
    };
    if whole_units && !amount.fract().is_zero() {
        return Err(format!(
            "{money}: Stripe takes {currency} in whole units only"
        ));
    }
    // Checked: a Money near Decimal's limit times 1000 would overflow (and panic).
    let minor = amount
        .checked_mul(Decimal::from(10i64.pow(exponent)))
        .ok_or_else(|| format!("{money}: too large"))?;
    if !minor.fract().is_zero() {
        return Err(format!(
            "{money}: {currency} has {exponent} decimal places at Stripe"
        ));
    }
    let minor = i64::try_from(minor).map_err(|_| format!("{money}: too large"))?;
    Ok((minor, currency.to_ascii_lowercase()))
}

impl Stripe {
    fn request(
        &self,
        method: &str,
        path: &str,
        key: &str,
        form: &[(&str, String)],
    ) -> Result<Reply, Attempt> {
        let sk = secret(&self.api_key, "api_key")?;
        let mut headers = vec![("Authorization", format!("Bearer {sk}"))];
        if method == "POST" && !key.is_empty() {
            headers.push(("Idempotency-Key", key.to_string()));
        }
        let body = (method == "POST").then(|| {
            let mut ser = form_urlencoded::Serializer::new(String::new());
            for (k, v) in form {
                ser.append_pair(k, v);
            }
            ("application/x-www-form-urlencoded", ser.finish())
        });
        let url = format!("{}{path}", self.base);
        transport::call(
            &self.agent,
            method,
            &url,
            &headers,
            body,
            &["stripe-should-retry", "request-id"],
            self.timeout_ms,
        )
    }

    fn refund(&self, cmd: &Json, key: &str) -> Delivered {
        let payment = Payment::of(cmd["args"]["charge"].as_str().unwrap_or_default());
        let (amount, currency) =
            match minor_units(cmd["args"]["amount"].as_str().unwrap_or_default()) {
                Ok(x) => x,
                Err(e) => return Attempt::Refused(e).into(),
            };
        // A refund takes no currency: Stripe reads `amount` in the payment's. So the charge
        // or PaymentIntent is read first (https://docs.stripe.com/api/charges/retrieve,
        // https://docs.stripe.com/api/payment_intents/retrieve), and an amount in another
        // currency fails for good instead of refunding the wrong sum.
        match self.request("GET", &payment.path(), "", &[]) {
            Ok(r) if (200..300).contains(&r.status) => {
                let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
                let theirs = text(&body, "/currency").unwrap_or_default().to_lowercase();
                if theirs != currency {
                    return Attempt::Refused(format!(
                        "{} {} is in {}, the refund amount in {}",
                        payment.noun(),
                        payment.id,
                        if theirs.is_empty() {
                            "no currency Stripe gave"
                        } else {
                            &theirs
                        },
                        currency.to_uppercase()
                    ))
                    .into();
                }
            }
            Ok(r) => return answer(&r),
            Err(a) => return a.into(),
        }
        // The refund carries the step it was made for, so that its compensation can find
        // it (`void_refund`) and a person can trace it back from the Stripe dashboard.
        let form = [
            (payment.param, payment.id.to_string()),
            ("amount", amount.to_string()),
            (
                "metadata[meshline_case]",
                text(cmd, "/case").unwrap_or_default(),
            ),
            (
                "metadata[meshline_automation]",
                text(cmd, "/automation").unwrap_or_default(),
            ),
            (
                "metadata[meshline_step]",
                text(cmd, "/step").unwrap_or_default(),
            ),
            ("metadata[meshline_key]", key.to_string()),
        ];
        let r = match self.request("POST", "/v1/refunds", key, &form) {
            Ok(r) => r,
            Err(a) => return a.into(),
        };
        let mut done = answer(&r);
        // A refund Stripe created but reports `failed` or `canceled` refunded nothing.
        let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
        let status = text(&body, "/status").unwrap_or_default();
        if done.attempt == Attempt::Ok && matches!(status.as_str(), "failed" | "canceled") {
            done.attempt = Attempt::Refused(format!(
                "Stripe refund {} is {status}: {}",
                done.remote.clone().unwrap_or_default(),
                text(&body, "/failure_reason").unwrap_or_default()
            ));
        }
        done
    }

    /// The compensation of `refund`: find the refund the same step made on the payment (by
    /// its metadata) and cancel it. No such refund: nothing to undo. A refund Stripe no
    /// longer lets us cancel (only `requires_action` ones can be) fails for good: Stripe's
    /// reason is in the compensation's `failed` entry (the owner's reconciliation task was
    /// made when the run failed, before the compensation).
    fn void_refund(&self, cmd: &Json, key: &str) -> Delivered {
        let payment = Payment::of(cmd["args"]["charge"].as_str().unwrap_or_default());
        let same = |r: &&Json| {
            ["case", "automation", "step"]
                .iter()
                .all(|f| text(r, &format!("/metadata/meshline_{f}")) == text(cmd, &format!("/{f}")))
        };
        let refund = match self.find_refund(&payment, same) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return Delivered {
                    attempt: Attempt::Ok,
                    remote: None,
                };
            }
            Err(d) => return d,
        };
        let id = refund["id"].as_str().unwrap_or_default();
        if refund["status"] == "canceled" {
            return Delivered {
                attempt: Attempt::Ok,
                remote: Some(id.to_string()),
            };
        }
        let path = format!(
            "/v1/refunds/{}/cancel",
            form_urlencoded::byte_serialize(id.as_bytes()).collect::<String>()
        );
        match self.request("POST", &path, key, &[]) {
            Ok(r) => answer(&r),
            Err(a) => a.into(),
        }
    }

    /// The first of the payment's refunds that `wanted` picks, reading Stripe's list
    /// (https://docs.stripe.com/api/refunds/list, newest first) 100 a page and following
    /// `has_more` with `starting_after` = the page's last id
    /// (https://docs.stripe.com/api/pagination), at most [`MAX_REFUND_PAGES`] pages.
    /// `Ok(None)`: the list ended without it. `Err`: Stripe's error, or the bound reached
    /// (final: a payment with more refunds than that is left to a person).
    fn find_refund(
        &self,
        payment: &Payment<'_>,
        wanted: impl Fn(&&Json) -> bool,
    ) -> Result<Option<Json>, Delivered> {
        let mut after: Option<String> = None;
        for _ in 0..MAX_REFUND_PAGES {
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair(payment.param, payment.id)
                .append_pair("limit", "100");
            if let Some(a) = &after {
                q.append_pair("starting_after", a);
            }
            let page = match self.request("GET", &format!("/v1/refunds?{}", q.finish()), "", &[]) {
                Ok(r) if (200..300).contains(&r.status) => r,
                Ok(r) => return Err(answer(&r)),
                Err(a) => return Err(a.into()),
            };
            let body: Json = serde_json::from_str(&page.body).unwrap_or_default();
            let data = body["data"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            if let Some(r) = data.iter().find(&wanted) {
                return Ok(Some(r.clone()));
            }
            // A page that says there is more but gives no cursor cannot be followed.
            let last = data.last().and_then(|r| r["id"].as_str());
            match (body["has_more"].as_bool(), last) {
                (Some(true), Some(id)) => after = Some(id.to_string()),
                _ => return Ok(None),
            }
        }
        Err(Attempt::Refused(format!(
            "the step's refund is not among the first {} refunds of {} {} (Stripe lists 100 a \
             page; docs/connectors.md, \"Stripe\"): cancel it in the Stripe dashboard",
            MAX_REFUND_PAGES * 100,
            payment.noun(),
            payment.id
        ))
        .into())
    }

    fn credit(&self, cmd: &Json, key: &str) -> Delivered {
        let customer = cmd["args"]["customer"].as_str().unwrap_or_default();
        let (amount, currency) =
            match minor_units(cmd["args"]["amount"].as_str().unwrap_or_default()) {
                Ok(x) => x,
                Err(e) => return Attempt::Refused(e).into(),
            };
        // A negative balance transaction is a credit to the customer.
        let form = [
            ("amount", format!("-{amount}")),
            ("currency", currency),
            (
                "metadata[meshline_case]",
                text(cmd, "/case").unwrap_or_default(),
            ),
            ("metadata[meshline_key]", key.to_string()),
        ];
        let path = format!(
            "/v1/customers/{}/balance_transactions",
            form_urlencoded::byte_serialize(customer.as_bytes()).collect::<String>()
        );
        match self.request("POST", &path, key, &form) {
            Ok(r) => answer(&r),
            Err(a) => a.into(),
        }
    }
}

/// Classify Stripe's answer: 2xx succeeded (the object's id recorded); otherwise `Stripe-Should-Retry`
/// decides when present, else 409 (a concurrent request with the same key), 429 and 5xx
/// are retried and every other 4xx — 402 `card_error`, 400 `invalid_request_error`, 401,
/// 403, 404 — is final. The reason names Stripe's error type, code and message.
pub fn answer(r: &Reply) -> Delivered {
    let body: Json = serde_json::from_str(&r.body).unwrap_or_default();
    if (200..300).contains(&r.status) {
        let id = text(&body, "/id");
        let attempt = Attempt::Ok;
        return Delivered {
            attempt,
            remote: id,
        };
    }
    let reason = {
        let mut parts = vec![format!("Stripe HTTP {}", r.status)];
        for f in ["type", "code", "decline_code"] {
            if let Some(v) = text(&body, &format!("/error/{f}")) {
                parts.push(v);
            }
        }
        let mut reason = parts.join(" ");
        if let Some(m) = text(&body, "/error/message") {
            reason.push_str(": ");
            reason.push_str(&m);
        }
        reason
    };
    let retry = match r.headers.get("stripe-should-retry").map(String::as_str) {
        Some("true") => true,
        Some("false") => false,
        _ => matches!(r.status, 409 | 429) || r.status >= 500 || r.status < 400,
    };
    if retry {
        transport::retry(r, reason).into()
    } else {
        Attempt::Refused(reason).into()
    }
}

impl Deliver for Stripe {
    fn attempt(&self, cmd: &Json, _line: &str) -> Delivered {
        let key = cmd["key"].as_str().unwrap_or_default();
        match cmd["action"].as_str().unwrap_or_default() {
            "refund" => self.refund(cmd, key),
            "void_refund" => self.void_refund(cmd, key),
            "credit" => self.credit(cmd, key),
            other => Attempt::Refused(format!(
                "the Stripe connector has no action `{other}` (docs/connectors.md)"
            ))
            .into(),
        }
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_minor_units_per_currency() {
        assert_eq!(minor_units("120.00 USD"), Ok((12000, "usd".into())));
        assert_eq!(minor_units("0.5 EUR"), Ok((50, "eur".into())));
        assert_eq!(minor_units("500.00 JPY"), Ok((500, "jpy".into())));
        assert_eq!(minor_units("5.12 KWD"), Ok((5120, "kwd".into())));
        assert_eq!(minor_units("5.00 ISK"), Ok((500, "isk".into())));
        assert!(
            minor_units("0.50 JPY")
                .unwrap_err()
                .contains("0 decimal places")
        );
        assert!(minor_units("5.10 ISK").unwrap_err().contains("whole units"));
        assert!(minor_units("1.001 USD").is_err());
        assert!(minor_units("0.00 USD").is_err());
        assert!(minor_units("-3.00 USD").is_err());
        assert!(minor_units("twelve").is_err());
        // Near Decimal's limit: an error, not an overflow panic.
        assert!(
            minor_units("79228162514264337593543950335 KWD")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            minor_units("92233720368547758.08 USD")
                .unwrap_err()
                .contains("too large")
        );
    }

    fn reply(status: u16, body: &str, should_retry: Option<&str>) -> Reply {
        Reply {
            status,
            retry_after_ms: None,
            headers: should_retry
                .map(|v| [("stripe-should-retry".to_string(), v.to_string())].into())
                .unwrap_or_default(),
            body: body.into(),
        }
    }

    #[test]
    fn stripe_answers_are_classified() {
        let ok = answer(&reply(
            200,
            r#"{"id":"re_1","object":"refund","status":"succeeded"}"#,
            None,
        ));
        assert_eq!(ok.attempt, Attempt::Ok);
        assert_eq!(ok.remote.as_deref(), Some("re_1"));
        let card = answer(&reply(
            402,
            r#"{"error":{"type":"card_error","code":"expired_card","message":"Your card has expired."}}"#,
            None,
        ));
        assert_eq!(
            card.attempt,
            Attempt::Refused(
                "Stripe HTTP 402 card_error expired_card: Your card has expired.".into()
            )
        );
        assert!(matches!(
            answer(&reply(429, "{}", None)).attempt,
            Attempt::Retry(_)
        ));
        assert!(matches!(
            answer(&reply(500, "{}", None)).attempt,
            Attempt::Retry(_)
        ));
        assert!(matches!(
            answer(&reply(409, "{}", None)).attempt,
            Attempt::Retry(_)
        ));
        // Stripe's own hint wins over the status.
        assert!(matches!(
            answer(&reply(500, "{}", Some("false"))).attempt,
            Attempt::Refused(_)
        ));
        assert!(matches!(
            answer(&reply(400, "{}", Some("true"))).attempt,
            Attempt::Retry(_)
        ));
        assert!(matches!(
            answer(&reply(400, "{}", None)).attempt,
            Attempt::Refused(_)
        ));
    }
}
