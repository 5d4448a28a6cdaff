//! Vendor webhooks → canonical events (`POST /webhooks/{source}`): signature verification
//! per vendor (constant-time comparison), then the first declared mapping whose `match`
//! holds turns the payload into an envelope. See docs/adapters.md.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use crate::mapping;

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Vendor {
    Stripe,
    Zendesk,
    Intercom,
    Hubspot,
    /// Slack interactions (approval buttons): docs/connectors.md, "Slack".
    Slack,
}

/// `[webhooks.NAME]` in the config.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub vendor: Vendor,
    /// The signing secret, or the name of the environment variable that holds it.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub secret_env: Option<String>,
    /// How far a signed timestamp may be from now (Stripe, Zendesk, HubSpot).
    #[serde(default = "default_tolerance")]
    pub tolerance_seconds: i64,
    /// HubSpot signs the URL it called: the public URL of this endpoint.
    #[serde(default)]
    pub public_url: Option<String>,
    #[serde(default)]
    pub map: Vec<Mapping>,
    /// Slack: who clicked, as a person: Slack user id → the person's address.
    #[serde(default)]
    pub users: BTreeMap<String, String>,
    /// Slack: the connector (`[connectors.NAME]`, vendor `slack`) that updates the
    /// approval message with the outcome.
    #[serde(default)]
    pub connector: Option<String>,
}

/// The longest signature header read (Stripe's with a few secrets being rolled is ~300 bytes).
pub const MAX_SIGNATURE_HEADER: usize = 4096;
/// The most `v1` entries a Stripe-Signature may carry (one per secret being rolled).
pub const MAX_SIGNATURES: usize = 8;

fn default_tolerance() -> i64 {
    300
}

/// One mapping: when every `match` pointer has the given value, build this event.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default, rename = "match")]
    pub when: BTreeMap<String, toml::Value>,
    /// The canonical event type.
    pub event: String,
    /// JSON pointers into the payload (the id is prefixed with `SOURCE:`).
    pub id: String,
    pub case: String,
    /// A pointer to the event time (RFC 3339, or Unix seconds); absent: the time of receipt.
    #[serde(default)]
    pub at: Option<String>,
    /// Fields of `data`, each built by `mapping::value`: pointers (`/…`), literals
    /// (`=text`, numbers, booleans), lookups (`{ from, map, default }`) and nested records.
    #[serde(default)]
    pub data: BTreeMap<String, toml::Value>,
}

impl Source {
    pub fn secret(&self) -> Result<String, String> {
        if let Some(s) = &self.secret {
            return Ok(s.clone());
        }
        if let Some(var) = &self.secret_env {
            return std::env::var(var)
                .map_err(|_| format!("the environment variable {var} is not set"));
        }
        Err("no secret configured".into())
    }

    /// Check the vendor's signature over the raw body. `header` looks up a request header.
    pub fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        method: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), String> {
        let secret = self.secret()?;
        let key = secret.as_bytes();
        let fresh = |t: i64| {
            // In i128: a signed timestamp is any i64, and `now - t` can overflow an i64.
            if (i128::from(now) - i128::from(t)).abs() > i128::from(self.tolerance_seconds) {
                Err(format!(
                    "signature timestamp {t} is outside the tolerance of {} s",
                    self.tolerance_seconds
                ))
            } else {
                Ok(())
            }
        };
        match self.vendor {
            Vendor::Stripe => {
                // Stripe-Signature: t=TIMESTAMP,v1=HEX[,v1=HEX…]; HMAC-SHA256 over "t.body".
                // The HMAC is computed once and compared with each `v1` in constant time;
                // the header's size and its number of signatures are capped, so a request
                // costs one pass over its body whatever the header holds.
                let h = header("stripe-signature").ok_or("missing Stripe-Signature")?;
                if h.len() > MAX_SIGNATURE_HEADER {
                    return Err(format!(
                        "Stripe-Signature is longer than {MAX_SIGNATURE_HEADER} bytes"
                    ));
                }
                let mut t = None;
                let mut sigs = Vec::new();
                for part in h.split(',') {
                    match part.trim().split_once('=') {
                        Some(("t", v)) => t = v.parse::<i64>().ok(),
                        Some(("v1", v)) => sigs.push(v.to_string()),
                        _ => {}
                    }
                }
                if sigs.len() > MAX_SIGNATURES {
                    return Err(format!(
                        "Stripe-Signature has more than {MAX_SIGNATURES} v1 signatures"
                    ));
                }
                let t = t.ok_or("Stripe-Signature has no timestamp")?;
                let expected = hmac256(key, &[format!("{t}.").as_bytes(), body])
                    .finalize()
                    .into_bytes();
                let ok = sigs
                    .iter()
                    .filter_map(|s| hex_decode(s))
                    .fold(false, |acc, s| {
                        crate::guard::same_bytes(&s, &expected) | acc
                    });
                if !ok {
                    return Err("bad signature".into());
                }
                fresh(t)
            }
            Vendor::Zendesk => {
                // base64(HMAC-SHA256(secret, timestamp + body)).
                let sig = header("x-zendesk-webhook-signature")
                    .ok_or("missing X-Zendesk-Webhook-Signature")?;
                let ts = header("x-zendesk-webhook-signature-timestamp")
                    .ok_or("missing X-Zendesk-Webhook-Signature-Timestamp")?;
                let sig = B64.decode(sig.trim()).map_err(|_| "bad signature")?;
                hmac256(key, &[ts.as_bytes(), body])
                    .verify_slice(&sig)
                    .map_err(|_| "bad signature")?;
                let t = ts
                    .parse::<jiff::Timestamp>()
                    .map_err(|_| "bad signature timestamp")?;
                fresh(t.as_second())
            }
            Vendor::Intercom => {
                // X-Hub-Signature: sha1=HEX of HMAC-SHA1(client secret, body).
                let h = header("x-hub-signature").ok_or("missing X-Hub-Signature")?;
                let sig = h
                    .strip_prefix("sha1=")
                    .and_then(hex_decode)
                    .ok_or("bad signature")?;
                let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key).map_err(|_| "bad secret")?;
                mac.update(body);
                mac.verify_slice(&sig).map_err(|_| "bad signature".into())
            }
            Vendor::Slack => {
                // X-Slack-Signature: v0=HEX of HMAC-SHA256(secret, "v0:" + timestamp + ":" +
                // body), X-Slack-Request-Timestamp in Unix seconds
                // (https://api.slack.com/authentication/verifying-requests-from-slack).
                let h = header("x-slack-signature").ok_or("missing X-Slack-Signature")?;
                let ts = header("x-slack-request-timestamp")
                    .ok_or("missing X-Slack-Request-Timestamp")?;
                let sig = h
                    .strip_prefix("v0=")
                    .and_then(hex_decode)
                    .ok_or("bad signature")?;
                hmac256(key, &[b"v0:", ts.as_bytes(), b":", body])
                    .verify_slice(&sig)
                    .map_err(|_| "bad signature")?;
                let t: i64 = ts.trim().parse().map_err(|_| "bad signature timestamp")?;
                fresh(t)
            }
            Vendor::Hubspot => {
                // v3: base64(HMAC-SHA256(secret, method + uri + body + timestamp)), ms.
                let sig =
                    header("x-hubspot-signature-v3").ok_or("missing X-HubSpot-Signature-v3")?;
                let ts = header("x-hubspot-request-timestamp")
                    .ok_or("missing X-HubSpot-Request-Timestamp")?;
                let uri = self
                    .public_url
                    .as_deref()
                    .ok_or("public_url is not configured")?;
                let sig = B64.decode(sig.trim()).map_err(|_| "bad signature")?;
                hmac256(
                    key,
                    &[method.as_bytes(), uri.as_bytes(), body, ts.as_bytes()],
                )
                .verify_slice(&sig)
                .map_err(|_| "bad signature")?;
                let ms: i64 = ts.parse().map_err(|_| "bad signature timestamp")?;
                fresh(ms / 1000)
            }
        }
    }

    /// The envelope for a verified payload, or why it matches no mapping.
    pub fn envelope(
        &self,
        source: &str,
        payload: &Json,
        now: jiff::Timestamp,
    ) -> Result<Json, String> {
        let m = self
            .map
            .iter()
            .find(|m| {
                m.when
                    .iter()
                    .all(|(ptr, want)| payload.pointer(ptr) == Some(&mapping::literal(want)))
            })
            .ok_or_else(|| {
                format!("the payload matches no mapping of webhook source `{source}`")
            })?;
        let text = |ptr: &str, what: &str| -> Result<String, String> {
            match payload.pointer(ptr) {
                Some(Json::String(s)) => Ok(s.clone()),
                Some(Json::Number(n)) => Ok(n.to_string()),
                _ => Err(format!("the payload has no {what} at {ptr}")),
            }
        };
        let id = format!("{source}:{}", text(&m.id, "id")?);
        let case = text(&m.case, "case")?;
        let at = match &m.at {
            None => now.to_string(),
            Some(ptr) => match payload.pointer(ptr) {
                Some(Json::Number(n)) => n
                    .as_i64()
                    .and_then(|s| jiff::Timestamp::from_second(s).ok())
                    .map(|t| t.to_string())
                    .ok_or_else(|| format!("the time at {ptr} is not Unix seconds"))?,
                Some(Json::String(s)) => s.clone(),
                _ => return Err(format!("the payload has no time at {ptr}")),
            },
        };
        let data: Map<String, Json> = m
            .data
            .iter()
            .map(|(k, v)| (k.clone(), mapping::value(payload, v)))
            .collect();
        Ok(json!({ "id": id, "type": m.event, "at": at, "case": case, "data": data }))
    }
}

fn hmac256(key: &[u8], parts: &[&[u8]]) -> Hmac<sha2::Sha256> {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| {
        Hmac::<sha2::Sha256>::new_from_slice(b"").unwrap_or_else(|_| unreachable!())
    });
    for p in parts {
        mac.update(p);
    }
    mac
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(vendor: Vendor) -> Source {
        Source {
            vendor,
            secret: Some("s3cret".into()),
            secret_env: None,
            tolerance_seconds: 300,
            public_url: Some("https://example.com/webhooks/hs".into()),
            map: Vec::new(),
            users: BTreeMap::new(),
            connector: None,
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn stripe_signature_and_tolerance() {
        let s = source(Vendor::Stripe);
        let body = br#"{"id":"evt_1"}"#;
        let mut msg = b"1000.".to_vec();
        msg.extend_from_slice(body);
        let sig = hex(&hmac256(b"s3cret", &[&msg]).finalize().into_bytes());
        let h = format!("t=1000,v1={sig}");
        let hdr = |n: &str| (n == "stripe-signature").then(|| h.clone());
        assert_eq!(s.verify(&hdr, "POST", body, 1100), Ok(()));
        assert!(
            s.verify(&hdr, "POST", body, 2000)
                .unwrap_err()
                .contains("tolerance")
        );
        assert_eq!(
            s.verify(&hdr, "POST", br#"{"id":"evt_2"}"#, 1100),
            Err("bad signature".into())
        );
        let none = |_: &str| None;
        assert!(s.verify(&none, "POST", body, 1100).is_err());
    }

    /// 20,000 `v1=` entries over a large body used to cost one HMAC of the body per entry
    /// (44 s of CPU for 3.9 MB): the header is refused for its size and count, and the valid
    /// signature among a few is still found.
    #[test]
    fn stripe_signature_header_is_capped() {
        let s = source(Vendor::Stripe);
        let body = vec![b'x'; 1 << 20];
        let mut msg = b"1000.".to_vec();
        msg.extend_from_slice(&body);
        let sig = hex(&hmac256(b"s3cret", &[&msg]).finalize().into_bytes());
        let junk = "0".repeat(64);
        let many = format!("t=1000{}", format!(",v1={junk}").repeat(20_000));
        let hdr = |n: &str| (n == "stripe-signature").then(|| many.clone());
        let t = std::time::Instant::now();
        let err = s.verify(&hdr, "POST", &body, 1000).unwrap_err();
        assert!(err.contains("longer than"), "{err}");
        assert!(t.elapsed() < std::time::Duration::from_secs(1));
        let nine = format!("t=1000{}", format!(",v1={junk}").repeat(9));
        let hdr = |n: &str| (n == "stripe-signature").then(|| nine.clone());
        let err = s.verify(&hdr, "POST", &body, 1000).unwrap_err();
        assert!(err.contains("more than 8"), "{err}");
        let rolled = format!("t=1000,v1={junk},v1={sig},v1={junk}");
        let hdr = |n: &str| (n == "stripe-signature").then(|| rolled.clone());
        assert_eq!(s.verify(&hdr, "POST", &body, 1000), Ok(()));
    }

    /// Found by the `webhook_stripe` fuzz target (docs/reliability.md): a correctly signed
    /// request whose timestamp is an extreme i64 overflowed `now - t` (a panic with overflow
    /// checks, a wrapped difference that could pass the tolerance without them).
    #[test]
    fn stripe_extreme_timestamps_are_outside_the_tolerance() {
        let s = source(Vendor::Stripe);
        let body = br#"{"id":"evt_1"}"#;
        for (t, now) in [
            (i64::MIN, 1_700_000_000),
            (i64::MAX, -1_700_000_000),
            (i64::MAX, jiff::Timestamp::MIN.as_second()),
        ] {
            let mut msg = format!("{t}.").into_bytes();
            msg.extend_from_slice(body);
            let sig = hex(&hmac256(b"s3cret", &[&msg]).finalize().into_bytes());
            let h = format!("t={t},v1={sig}");
            let hdr = |n: &str| (n == "stripe-signature").then(|| h.clone());
            let err = s.verify(&hdr, "POST", body, now).unwrap_err();
            assert!(err.contains("outside the tolerance"), "t={t}: {err}");
        }
    }

    #[test]
    fn zendesk_intercom_hubspot_signatures() {
        let body = b"{}";
        let z = source(Vendor::Zendesk);
        let ts = "2026-11-24T00:00:00Z".to_string();
        let sig = B64.encode(
            hmac256(b"s3cret", &[ts.as_bytes(), body])
                .finalize()
                .into_bytes(),
        );
        let hdr = |n: &str| match n {
            "x-zendesk-webhook-signature" => Some(sig.clone()),
            "x-zendesk-webhook-signature-timestamp" => Some(ts.clone()),
            _ => None,
        };
        let now = ts.parse::<jiff::Timestamp>().unwrap().as_second();
        assert_eq!(z.verify(&hdr, "POST", body, now + 10), Ok(()));
        assert!(z.verify(&hdr, "POST", b"{ }", now).is_err());

        let i = source(Vendor::Intercom);
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(b"s3cret").unwrap();
        mac.update(body);
        let sig = format!("sha1={}", hex(&mac.finalize().into_bytes()));
        let hdr = |n: &str| (n == "x-hub-signature").then(|| sig.clone());
        assert_eq!(i.verify(&hdr, "POST", body, 0), Ok(()));
        assert!(i.verify(&hdr, "POST", b"[]", 0).is_err());

        let h = source(Vendor::Hubspot);
        let ts = "1700000000000".to_string();
        let uri = "https://example.com/webhooks/hs";
        let sig = B64.encode(
            hmac256(b"s3cret", &[b"POST", uri.as_bytes(), body, ts.as_bytes()])
                .finalize()
                .into_bytes(),
        );
        let hdr = |n: &str| match n {
            "x-hubspot-signature-v3" => Some(sig.clone()),
            "x-hubspot-request-timestamp" => Some(ts.clone()),
            _ => None,
        };
        assert_eq!(h.verify(&hdr, "POST", body, 1_700_000_100), Ok(()));
        assert!(h.verify(&hdr, "POST", body, 1_700_009_000).is_err());
    }

    #[test]
    fn mapping_builds_an_envelope() {
        let cfg: Source = toml::from_str(
            r#"
            vendor = "stripe"
            secret = "x"
            [[map]]
            match = { "/type" = "charge.refunded" }
            event = "ActionSucceeded"
            id = "/id"
            case = "/data/object/metadata/case"
            at = "/created"
            data = { key = "/data/object/metadata/key", action = "=stripe.refund", retryable = false }
            "#,
        )
        .unwrap();
        let p = json!({"id": "evt_9", "type": "charge.refunded", "created": 1700000000,
            "data": {"object": {"metadata": {"case": "T-1", "key": "abc"}}}});
        let now = jiff::Timestamp::UNIX_EPOCH;
        let e = cfg.envelope("stripe", &p, now).unwrap();
        assert_eq!(
            e,
            json!({"id": "stripe:evt_9", "type": "ActionSucceeded", "at": "2023-11-14T22:13:20Z",
                "case": "T-1", "data": {"key": "abc", "action": "stripe.refund", "retryable": false}})
        );
        let other = json!({"id": "evt_9", "type": "charge.failed"});
        assert!(
            cfg.envelope("stripe", &other, now)
                .unwrap_err()
                .contains("matches no mapping")
        );
        let no_case = json!({"id": "evt_9", "type": "charge.refunded"});
        assert!(
            cfg.envelope("stripe", &no_case, now)
                .unwrap_err()
                .contains("no case")
        );
    }

    #[test]
    fn slack_signature_v0_and_tolerance() {
        let s = source(Vendor::Slack);
        let body = b"payload=%7B%7D";
        let sig = format!(
            "v0={}",
            hex(&hmac256(b"s3cret", &[b"v0:1700000000:", body])
                .finalize()
                .into_bytes())
        );
        let ts = "1700000000".to_string();
        let hdr = |n: &str| match n {
            "x-slack-signature" => Some(sig.clone()),
            "x-slack-request-timestamp" => Some(ts.clone()),
            _ => None,
        };
        assert_eq!(s.verify(&hdr, "POST", body, 1_700_000_100), Ok(()));
        assert!(
            s.verify(&hdr, "POST", body, 1_700_000_400)
                .unwrap_err()
                .contains("tolerance")
        );
        assert_eq!(
            s.verify(&hdr, "POST", b"payload=%7B%20%7D", 1_700_000_000),
            Err("bad signature".into())
        );
        let none = |_: &str| None;
        assert!(s.verify(&none, "POST", body, 1_700_000_000).is_err());
    }
}
