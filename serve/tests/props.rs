//! Property tests over the server's input handling: arbitrary bodies, headers and payloads
//! never panic, and every answer is an answer.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use meshline_serve::http::split_body;
use meshline_serve::webhooks::{Source, Vendor};
use proptest::prelude::*;
use serde_json::Value as Json;

fn source(vendor: Vendor) -> Source {
    toml::from_str::<Source>(&format!(
        r#"
        vendor = "{}"
        secret = "s"
        public_url = "https://x/y"
        [[map]]
        match = {{ "/type" = "a" }}
        event = "E"
        id = "/id"
        case = "/c"
        at = "/t"
        data = {{ x = "/x", y = "=lit", z = 3 }}
        "#,
        match vendor {
            Vendor::Stripe => "stripe",
            Vendor::Zendesk => "zendesk",
            Vendor::Intercom => "intercom",
            Vendor::Hubspot => "hubspot",
            Vendor::Slack => "slack",
        }
    ))
    .unwrap()
}

fn json_value() -> impl Strategy<Value = Json> {
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        any::<i64>().prop_map(Json::from),
        "[a-z0-9:/._-]{0,12}".prop_map(Json::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map("(id|c|t|x|type|[a-z]{1,3})", inner, 0..5)
                .prop_map(|m| Json::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Every non-blank line of the body becomes exactly one envelope line, unless the body is
    /// one pretty-printed JSON value (then exactly one); nothing panics.
    #[test]
    fn split_body_never_panics(body in "(\\PC|\n|\r){0,300}") {
        let lines = split_body(&body);
        let nonblank = body.trim().lines().filter(|l| !l.trim().is_empty()).count();
        prop_assert!(lines.len() == nonblank || lines.len() == 1);
        for l in &lines {
            prop_assert!(!l.contains('\n'));
        }
    }

    /// Arbitrary headers and bodies: verification answers (almost always "no"), never panics.
    #[test]
    fn verification_never_panics(
        v in 0usize..4,
        sig in "\\PC{0,120}",
        ts in "\\PC{0,30}",
        body in prop::collection::vec(any::<u8>(), 0..200),
        now in any::<i64>(),
    ) {
        let vendor = [Vendor::Stripe, Vendor::Zendesk, Vendor::Intercom, Vendor::Hubspot][v];
        let s = source(vendor);
        let header = |name: &str| {
            if name.contains("timestamp") { Some(ts.clone()) } else { Some(sig.clone()) }
        };
        let _ = s.verify(&header, "POST", &body, now / 2);
    }

    /// Arbitrary payloads: an envelope or a reason, never a panic; an envelope has the mapped
    /// shape.
    #[test]
    fn mapping_never_panics(payload in json_value()) {
        let s = source(Vendor::Stripe);
        if let Ok(e) = s.envelope("src", &payload, jiff::Timestamp::UNIX_EPOCH) {
            prop_assert_eq!(&e["type"], "E");
            prop_assert!(e["id"].as_str().unwrap().starts_with("src:"));
            prop_assert_eq!(&e["data"]["y"], "lit");
        }
    }
}
