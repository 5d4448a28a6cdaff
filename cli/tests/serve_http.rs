//! `meshline serve` over HTTP: wall-clock timers across a restart, arbitrary request bodies
//! (every one answered, the server never falls over, the ledger stays sound), webhooks, the
//! HTTP connector, and deployments. Each ends by replaying the export with `meshline run`.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

mod serve_support;
use serve_support::server::{Server, http, post_bundle, variant};
use serve_support::{Rng, root};

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

/// Events stamped in the past leave timers overdue: the wall clock fires them (once), and
/// neither a SIGKILL nor a restart fires them again.
#[test]
fn wall_clock_timers_fire_once_across_restarts() {
    let s = Server::new("");
    let child = s.start();
    let sample = std::fs::read(root().join("examples/agency-support/events/sample.jsonl")).unwrap();
    let (code, body) = http(s.port, "POST", "/events", &sample).unwrap();
    // The sample holds one redelivery: a batch answers 202 with a result per line.
    assert_eq!(code, 202, "{body}");
    std::thread::sleep(Duration::from_millis(1500));
    let (_, before, msg) = s.export();
    assert!(!msg.contains(" 0 wall-clock ticks"), "{msg}");
    let breaches = before
        .lines()
        .filter(|l| l.contains("\"kind\":\"sla_breached\""))
        .count();
    assert!(breaches > 0, "no timer fired on the wall clock");
    s.kill(child);
    let child = s.start();
    std::thread::sleep(Duration::from_millis(1500));
    let (code, case) = http(s.port, "GET", "/cases/T-3001", b"").unwrap();
    assert_eq!(code, 200);
    let case: Json = serde_json::from_str(&case).unwrap();
    assert_eq!(case["class"], "Billing");
    assert!(case["ledger"].as_array().unwrap().len() > 3);
    s.stop(child);
    let (_, after, _) = s.export();
    assert_eq!(
        before, after,
        "a restart changed the ledger (timers fired again?)"
    );
    // The ticks are exported as control lines: the run replays them where serve took them.
    assert_eq!(s.run(None), after);
}

/// Arbitrary bodies: random bytes, cut and mutated envelopes, NDJSON mixes, oversize bodies.
/// Every request gets an answer (202, 200, 400 or 413), the server stays up, and the ledger
/// verifies and equals `meshline run` over what was stored.
#[test]
fn arbitrary_bodies_are_always_answered() {
    let s = Server::new("wall_clock = false\nmax_body_bytes = 65536\n");
    let child = s.start();
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let lines: Vec<&str> = sample.lines().filter(|l| !l.is_empty()).collect();
    let mut rng = Rng(0x0f0f_1234_5678_9abc);
    let mut codes = std::collections::BTreeMap::new();
    for i in 0..400 {
        let body: Vec<u8> = match rng.below(6) {
            0 => (0..rng.below(300)).map(|_| rng.next_u64() as u8).collect(),
            1 => {
                let l = lines[rng.below(lines.len() as u64) as usize].as_bytes();
                l[..rng.below(l.len() as u64) as usize].to_vec()
            }
            2 => {
                // Flip one byte of a valid envelope.
                let mut l = lines[rng.below(lines.len() as u64) as usize]
                    .replace("evt_", &format!("f{i}_"))
                    .into_bytes();
                let at = rng.below(l.len() as u64) as usize;
                let noise = b" {}[]\",:0a\\\x00\xff";
                l[at] = noise[rng.below(noise.len() as u64) as usize];
                l
            }
            3 => {
                let n = 1 + rng.below(5);
                let mut b = String::new();
                for _ in 0..n {
                    b.push_str(lines[rng.below(lines.len() as u64) as usize]);
                    b.push('\n');
                    if rng.below(3) == 0 {
                        b.push_str("{\"id\": 1}\n\n");
                    }
                }
                b.into_bytes()
            }
            4 => vec![b'{'; 70_000],
            _ => lines[rng.below(lines.len() as u64) as usize]
                .replace("evt_", &format!("v{i}_"))
                .into_bytes(),
        };
        let (code, answer) = http(s.port, "POST", "/events", &body)
            .unwrap_or_else(|e| panic!("request {i} not answered: {e}"));
        assert!(
            matches!(code, 200 | 202 | 400 | 413),
            "request {i}: {code} {answer}"
        );
        *codes.entry(code).or_insert(0) += 1;
    }
    assert!(codes.len() >= 3, "{codes:?}");
    assert_eq!(http(s.port, "GET", "/healthz", b"").unwrap().0, 200);
    assert_eq!(http(s.port, "GET", "/cases/nope", b"").unwrap().0, 404);
    let (code, metrics) = http(s.port, "GET", "/metrics", b"").unwrap();
    assert_eq!(code, 200);
    assert!(metrics.contains("meshline_events_rejected_total"));
    assert!(
        metrics.contains("meshline_breaker_halted{automation=\"refund_small\"} 0"),
        "{metrics}"
    );
    assert!(metrics.contains("meshline_sla_total{outcome="), "{metrics}");
    s.stop(child);
    let (_, ledger, msg) = s.export();
    assert!(msg.contains(" 0 wall-clock ticks"), "{msg}");
    assert_eq!(s.run(None), ledger);
}

/// Stripe webhooks: a signed payload becomes the mapped canonical event; a redelivery is a
/// duplicate; a bad or stale signature is 401 and counted; an unmapped payload is 422.
#[test]
fn stripe_webhook_signed_mapped_and_refused() {
    use hmac::{Hmac, Mac};
    let s = Server::new(
        r#"wall_clock = false
[webhooks.stripe]
vendor = "stripe"
secret_env = "MESHLINE_TEST_STRIPE_SECRET"
tolerance_seconds = 300
[[webhooks.stripe.map]]
match = { "/type" = "charge.refunded" }
event = "ActionSucceeded"
id = "/id"
case = "/data/object/metadata/case"
at = "/created"
data = { key = "/data/object/metadata/key", action = "=stripe.refund" }
"#,
    );
    // The secret reaches the server through its environment.
    let child = s.start_with_env(&[("MESHLINE_TEST_STRIPE_SECRET".into(), "whsec_test".into())]);
    let now = jiff::Timestamp::now().as_second();
    let body = format!(
        r#"{{"id":"evt_s1","type":"charge.refunded","created":{now},"data":{{"object":{{"metadata":{{"case":"T-9","key":"k1"}}}}}}}}"#
    );
    let sign = |t: i64, body: &str| {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec_test").unwrap();
        mac.update(format!("{t}.{body}").as_bytes());
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("t={t},v1={hex}")
    };
    let post = |sig: &str, body: &str| {
        let mut st = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
        write!(
            st,
            "POST /webhooks/stripe HTTP/1.1\r\nHost: x\r\nStripe-Signature: {sig}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut out = String::new();
        st.read_to_string(&mut out).unwrap();
        let code: u16 = out.split(' ').nth(1).unwrap().parse().unwrap();
        (code, out)
    };
    let (code, out) = post(&sign(now, &body), &body);
    assert_eq!(code, 202, "{out}");
    assert_eq!(post(&sign(now, &body), &body).0, 200, "redelivery");
    assert_eq!(
        post(&sign(now, "{}"), &body).0,
        401,
        "signature over another body"
    );
    assert_eq!(post(&sign(now - 3600, &body), &body).0, 401, "stale");
    let other = r#"{"id":"evt_s2","type":"charge.failed"}"#;
    assert_eq!(post(&sign(now, other), other).0, 422);
    let (_, metrics) = http(s.port, "GET", "/metrics", b"").unwrap();
    assert!(
        metrics.contains("meshline_webhook_unauthorized_total 2"),
        "{metrics}"
    );
    let (code, case) = http(s.port, "GET", "/cases/T-9", b"").unwrap();
    assert_eq!(code, 200, "{case}");
    assert!(case.contains("stripe:evt_s1"), "{case}");
    s.stop(child);
    let (_, ledger, _) = s.export();
    assert!(!ledger.contains("whsec_test"));
    assert_eq!(s.run(None), ledger);
}

/// The HTTP connector: each action is POSTed with its idempotency key; a 500 is retried
/// (same key) after a backoff; the 200 comes back as `ActionSucceeded`, which moves the saga
/// to its next step, delivered the same way. Secrets from the environment stay out of the
/// ledger, and the stored inputs (with the outcomes) replay to the same ledger.
#[test]
fn http_connector_retries_and_feeds_outcomes_back() {
    use std::sync::{Arc, Mutex};
    let mock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mock_port = mock.local_addr().unwrap().port();
    // (path, idempotency key, authorization) per request.
    let seen: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in mock.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut r = std::io::BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            std::io::BufRead::read_line(&mut r, &mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let (mut key, mut auth, mut len) = (String::new(), String::new(), 0usize);
            loop {
                let mut h = String::new();
                std::io::BufRead::read_line(&mut r, &mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (k, v) = h.split_once(": ").unwrap();
                match k.to_ascii_lowercase().as_str() {
                    "idempotency-key" => key = v.to_string(),
                    "authorization" => auth = v.to_string(),
                    "content-length" => len = v.parse().unwrap(),
                    _ => {}
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let mut log = log.lock().unwrap();
            let first = !log.iter().any(|(_, k, _)| *k == key);
            log.push((path, key, auth));
            let status = if first {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let s = Server::new(&format!(
        r#"wall_clock = false
[connectors.http.stripe]
url = "http://127.0.0.1:{mock_port}/stripe"
backoff_ms = 50
headers = {{ Authorization = "env:MESHLINE_TEST_TOKEN" }}
[connectors.http.helpdesk]
url = "http://127.0.0.1:{mock_port}/helpdesk"
backoff_ms = 50
"#
    ));
    let child = s.start_with_env(&[("MESHLINE_TEST_TOKEN".into(), "Bearer sk_test_123".into())]);
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let first = sample.lines().next().unwrap();
    assert_eq!(
        http(s.port, "POST", "/events", first.as_bytes()).unwrap().0,
        202
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    let succeeded = loop {
        let (_, case) = http(s.port, "GET", "/cases/T-3001", b"").unwrap();
        let n = case.matches("\"kind\":\"succeeded\"").count();
        if n >= 2 || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(succeeded, 2, "both steps should have succeeded");
    s.stop(child);
    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["/stripe", "/stripe", "/helpdesk", "/helpdesk"],
        "{seen:?}"
    );
    assert_eq!(seen[0].1, seen[1].1, "a retry keeps its key");
    assert_ne!(seen[0].1, seen[2].1);
    assert_eq!(seen[0].2, "Bearer sk_test_123");
    assert_eq!(seen[2].2, "");
    let (events, ledger, _) = s.export();
    assert!(!ledger.contains("sk_test_123"));
    assert_eq!(events.lines().filter(|l| l.contains("outcome:")).count(), 2);
    assert_eq!(s.run(None), ledger);
}

/// A client that stops sending mid-body gets 408 once the request limit passes, and the
/// server goes on answering others.
#[test]
fn stalled_request_times_out() {
    let s = Server::new("request_timeout_ms = 200\n");
    let child = s.start();
    let mut st = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    st.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        st,
        "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{{\"id\":"
    )
    .unwrap();
    let t = Instant::now();
    let mut out = String::new();
    let _ = st.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408"), "{out}");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(http(s.port, "GET", "/healthz", b"").unwrap().0, 200);
    s.stop(child);
}

/// Deployments: a compatible bundle is hot-loaded over live cases (admin token required) and
/// decides from then on; an incompatible one is refused with the reason, over HTTP and at
/// start; restarting with the earlier bundle rolls back; replay reproduces it all.
#[test]
fn bundles_deploy_hot_refuse_incompatible_and_roll_back() {
    let s = Server::new("wall_clock = false\nadmin_token_env = \"MESHLINE_TEST_ADMIN\"\n");
    let env = [("MESHLINE_TEST_ADMIN".to_string(), "adm1n".to_string())];
    let newer = variant(s.dir.path(), "newer", "meshline.toml", "1.4.0", "1.4.1");
    // A kept event whose fields change cannot be carried by name over live cases
    // (docs/deploy.md, "Migrations by name"); reordered variants now can.
    let reordered = variant(
        s.dir.path(),
        "channels",
        "rules/data.mesh",
        "event ReplySent { by: Person, public: Bool }",
        "event ReplySent { by: Person, public: Bool, internal: Bool? }",
    );
    let child = s.start_with(&s.bundle, &env);
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let (first, rest) = lines.split_at(8);
    assert_eq!(
        http(s.port, "POST", "/events", first.join("\n").as_bytes())
            .unwrap()
            .0,
        202
    );

    let newer_bytes = std::fs::read(&newer).unwrap();
    assert_eq!(post_bundle(s.port, "wrong", &newer_bytes).0, 401);
    let (code, out) = post_bundle(s.port, "adm1n", &std::fs::read(&reordered).unwrap());
    assert_eq!(code, 409, "{out}");
    assert!(out.contains("ReplySent"), "{out}");
    let (code, out) = post_bundle(s.port, "adm1n", &newer_bytes);
    assert_eq!(code, 200, "{out}");
    let body: Json = serde_json::from_str(out.split_once("\r\n\r\n").unwrap().1).unwrap();
    let newer_hash = body["bundle"].as_str().unwrap().to_string();
    let (code, _) = http(s.port, "POST", "/events", rest.join("\n").as_bytes()).unwrap();
    assert!(code == 202 || code == 400);
    let (code, case) = http(s.port, "GET", "/cases/T-3001", b"").unwrap();
    assert_eq!(code, 200);
    assert!(
        case.contains(&newer_hash),
        "entries after the deployment carry the new bundle"
    );
    s.kill(child);

    // An incompatible bundle at start is refused with the reason; the state is untouched.
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--bundle")
        .arg(&reordered)
        .arg("--state")
        .arg(s.path("state.sqlite"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", s.port))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("event ReplySent changes its fields"), "{err}");

    // Restarting with the first bundle rolls back to it (a deployment, recorded).
    let child = s.start_with(&s.bundle, &env);
    let (code, case) = http(s.port, "GET", "/cases/T-3006", b"").unwrap();
    assert_eq!(code, 200, "{case}");
    s.stop(child);
    let (_, ledger, msg) = s.export();
    assert!(msg.contains(" 0 wall-clock ticks, 2 deployments"), "{msg}");
    assert!(msg.contains("exported 2 bundles"), "{msg}");
    let deployed: Vec<Json> = ledger
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["kind"] == "deployed")
        .collect();
    assert_eq!(deployed.len(), 2);
    assert_eq!(deployed[0]["detail"]["to"], newer_hash.as_str());
    assert_eq!(deployed[1]["detail"]["from"], newer_hash.as_str());
    let last: Json = serde_json::from_str(ledger.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "deployed");
    assert_eq!(last["bundle"], deployed[1]["detail"]["to"]);
    // Both deployments replay from the exported bundles.
    assert_eq!(s.run(None), ledger);
}
