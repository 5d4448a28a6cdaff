//! `webhook_*`: a vendor's webhook request through signature verification and the mapping
//! to a canonical event, as `POST /webhooks/{source}` does (docs/adapters.md).
//!
//! The adapters are compiled from `serve/src/webhooks.rs` itself (by path) rather than by
//! depending on `meshline-serve`, whose HTTP server, TLS client and bundled SQLite would
//! triple the fuzz build's time; the module uses only these crates' dependencies.
//!
//! Input layout (so seeds can be written by hand): a 16-byte head, then the signature
//! timestamp text, a 0xFF byte, the signature header text, a 0xFF byte, and the body. 0xFF
//! never occurs in UTF-8, so the texts cannot contain the separator. Head: flags (bit 0:
//! sign the request correctly, so mutations get past the signature check; bit 1: no
//! timestamp header; bit 2: also send a wrong extra signature), the method selector, the
//! tolerance in seconds (u16), "now" in Unix seconds (i64, clamped to the range a clock can
//! have), 4 spare bytes.

#[path = "../../serve/src/webhooks.rs"]
#[allow(dead_code, unused_imports)]
mod adapters;

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde_json::Value as Json;

pub use adapters::{Source, Vendor};

const SECRET: &str = "fuzz-secret";
const URL: &str = "https://example.com/webhooks/fuzz";

/// Mappings for every vendor, after docs/adapters.md, with pointers into nested, numeric and
/// missing fields.
const MAPS: &str = r#"
[[map]]
match = { "/type" = "charge.refunded" }
event = "ActionSucceeded"
id = "/id"
case = "/data/object/metadata/case"
at = "/created"
data = { key = "/data/object/metadata/key", action = "=stripe.refund", retryable = false, n = 3, list = [1, "a"], t = { x = 1.5 } }

[[map]]
match = { "/type" = "zen:event-type:ticket.comment_added", "/detail/priority" = 2 }
event = "CustomerReplied"
id = "/id"
case = "/detail/id"
at = "/time"
data = { body = "/event/comment/body", missing = "/no/such/field", "" = "/" }

[[map]]
match = { "/topic" = "conversation.user.replied" }
event = "CustomerReplied"
id = "/id"
case = "/data/item/id"
data = { body = "/data/item/source/body" }

[[map]]
match = {}
event = "Anything"
id = "/0/eventId"
case = "/0/objectId"
at = "/0/occurredAt"
data = { property = "/0/propertyName", value = "/0/propertyValue", escaped = "/a~1b/c~0d" }
"#;

fn source(vendor: Vendor, tolerance: i64) -> Source {
    static BASE: OnceLock<Source> = OnceLock::new();
    let base = BASE.get_or_init(|| {
        let text = format!("vendor = \"stripe\"\nsecret = \"{SECRET}\"\n{MAPS}");
        toml::from_str(&text).unwrap_or_else(|e| panic!("the fuzz mappings do not parse: {e}"))
    });
    let mut s = base.clone();
    s.vendor = vendor;
    s.tolerance_seconds = tolerance;
    s.public_url = Some(URL.into());
    s
}

fn hmac256(parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().to_vec()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const METHODS: [&str; 4] = ["POST", "PUT", "GET", ""];

/// The request's parts, split from an input.
struct Request<'a> {
    flags: u8,
    method: &'static str,
    tolerance: i64,
    now: i64,
    ts: String,
    sig: String,
    body: &'a [u8],
}

fn split(data: &[u8]) -> Option<Request<'_>> {
    let (head, rest) = data.split_at_checked(16)?;
    let mut parts = rest.splitn(3, |b| *b == 0xFF);
    let ts = String::from_utf8_lossy(parts.next()?).into_owned();
    let sig = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let body = parts.next().unwrap_or_default();
    let mut now = [0u8; 8];
    now.copy_from_slice(&head[4..12]);
    // serve passes the wall clock, which jiff bounds to years -9999..=9999.
    let now = i64::from_le_bytes(now).clamp(
        jiff::Timestamp::MIN.as_second(),
        jiff::Timestamp::MAX.as_second(),
    );
    Some(Request {
        flags: head[0],
        method: METHODS[usize::from(head[1]) % METHODS.len()],
        tolerance: i64::from(u16::from_le_bytes([head[2], head[3]])),
        now,
        ts,
        sig,
        body,
    })
}

/// The headers a vendor sends, signed correctly when the input asks for it.
fn headers(vendor: Vendor, r: &Request<'_>) -> Vec<(&'static str, String)> {
    let sign = r.flags & 1 != 0;
    let no_ts = r.flags & 2 != 0;
    let extra = r.flags & 4 != 0;
    let mut h = Vec::new();
    match vendor {
        Vendor::Stripe => {
            let mut value = if sign {
                // Stripe signs "t.body" with t as the header's integer.
                let t = r.ts.trim().parse::<i64>().unwrap_or(0);
                let mut msg = format!("{t}.").into_bytes();
                msg.extend_from_slice(r.body);
                format!("t={},v1={}", r.ts, hex(&hmac256(&[&msg])))
            } else {
                r.sig.clone()
            };
            if extra {
                value.push_str(",v1=00ff,v0=");
                value.push_str(&r.sig);
            }
            h.push(("stripe-signature", value));
        }
        Vendor::Zendesk => {
            let sig = if sign {
                B64.encode(hmac256(&[r.ts.as_bytes(), r.body]))
            } else {
                r.sig.clone()
            };
            h.push(("x-zendesk-webhook-signature", sig));
            if !no_ts {
                h.push(("x-zendesk-webhook-signature-timestamp", r.ts.clone()));
            }
        }
        Vendor::Intercom => {
            let sig = if sign {
                let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes())
                    .unwrap_or_else(|_| unreachable!("HMAC takes any key"));
                mac.update(r.body);
                format!("sha1={}", hex(&mac.finalize().into_bytes()))
            } else {
                r.sig.clone()
            };
            h.push(("x-hub-signature", sig));
        }
        Vendor::Hubspot => {
            let sig = if sign {
                B64.encode(hmac256(&[
                    r.method.as_bytes(),
                    URL.as_bytes(),
                    r.body,
                    r.ts.as_bytes(),
                ]))
            } else {
                r.sig.clone()
            };
            h.push(("x-hubspot-signature-v3", sig));
            if !no_ts {
                h.push(("x-hubspot-request-timestamp", r.ts.clone()));
            }
        }
        Vendor::Slack => {
            let sig = if sign {
                format!(
                    "v0={}",
                    hex(&hmac256(&[b"v0:", r.ts.as_bytes(), b":", r.body]))
                )
            } else {
                r.sig.clone()
            };
            h.push(("x-slack-signature", sig));
            if !no_ts {
                h.push(("x-slack-request-timestamp", r.ts.clone()));
            }
        }
    }
    h
}

/// One request to a webhook source of `vendor`.
pub fn run(vendor: Vendor, data: &[u8]) {
    let Some(r) = split(data) else {
        return;
    };
    let src = source(vendor, r.tolerance);
    let hs = headers(vendor, &r);
    let header = |name: &str| {
        hs.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    let verified = src.verify(&header, r.method, r.body, r.now);
    // A correctly signed request whose timestamp is fresh must be accepted.
    if r.flags & 3 == 1 && vendor == Vendor::Intercom {
        assert!(
            verified.is_ok(),
            "a correctly signed request was refused: {verified:?}"
        );
    }
    let Ok(payload) = serde_json::from_slice::<Json>(r.body) else {
        return;
    };
    let now = jiff::Timestamp::from_second(r.now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    if let Ok(env) = src.envelope("fuzz", &payload, now) {
        assert!(
            env.get("id")
                .and_then(Json::as_str)
                .is_some_and(|id| id.starts_with("fuzz:")),
            "an envelope's id does not carry the source: {env}"
        );
    }
}

/// A seed for `vendor`: a correctly signed request carrying `body`, signed at `ts`.
fn seed(flags: u8, now: i64, ts: &str, sig: &str, body: &str) -> Vec<u8> {
    let mut out = vec![flags, 0];
    out.extend_from_slice(&300u16.to_le_bytes());
    out.extend_from_slice(&now.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(ts.as_bytes());
    out.push(0xFF);
    out.extend_from_slice(sig.as_bytes());
    out.push(0xFF);
    out.extend_from_slice(body.as_bytes());
    out
}

pub fn seeds(vendor: Vendor) -> Vec<Vec<u8>> {
    let now = 1_772_460_000; // 2026-03-02T14:00:00Z
    let bodies = [
        r#"{"id":"evt_1","type":"charge.refunded","created":1772460000,"data":{"object":{"metadata":{"case":"T-1","key":"k-1"}}}}"#,
        r#"{"id":"zd-1","type":"zen:event-type:ticket.comment_added","time":"2026-03-02T14:00:00Z","detail":{"id":"4810","priority":2},"event":{"comment":{"body":"thanks"}}}"#,
        r#"{"id":"ic-1","topic":"conversation.user.replied","data":{"item":{"id":"215","source":{"body":"hi"}}}}"#,
        r#"[{"eventId":1,"objectId":2,"occurredAt":1772460000000,"propertyName":"hs_status","propertyValue":"open"}]"#,
        r#"{"id":7,"type":"charge.refunded","created":-99999999999999,"data":{"object":{"metadata":{"case":12}}}}"#,
        "",
    ];
    let ts = match vendor {
        Vendor::Stripe => now.to_string(),
        Vendor::Zendesk => "2026-03-02T14:00:00Z".to_string(),
        Vendor::Intercom => String::new(),
        Vendor::Hubspot => (now * 1000).to_string(),
        Vendor::Slack => now.to_string(),
    };
    let mut out = Vec::new();
    for body in bodies {
        out.push(seed(1, now, &ts, "", body));
        out.push(seed(0, now, &ts, "sha1=00", body));
    }
    out.push(seed(1, now + 10_000, &ts, "", bodies[0]));
    out.push(seed(3, now, &ts, "", bodies[1]));
    out.push(seed(5, now, &ts, "v1=zz", bodies[2]));
    out
}
