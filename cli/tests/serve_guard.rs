//! `meshline serve` at its HTTP edge (docs/deploy.md, "Who may send events", "Limits",
//! "Connections"): events from the future, producers' tokens and reserved id namespaces,
//! per-request bounds, connection timeouts and caps, a bounded shutdown, one server per
//! state file, and `Retry-After` from connectors.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

mod serve_support;
use serve_support::server::{Server, http};
use serve_support::{request, root};

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

fn sample() -> Vec<String> {
    std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// The sample's first line with another id, case and time.
fn event(id: &str, case: &str, at: &str) -> String {
    let mut v: Json = serde_json::from_str(&sample()[0]).unwrap();
    v["id"] = id.into();
    v["case"] = case.into();
    v["at"] = at.into();
    v.to_string()
}

fn metric(port: u16, line: &str) -> bool {
    let (_, m) = http(port, "GET", "/metrics", b"").unwrap();
    m.lines().any(|l| l == line)
}

fn stripe_sign(t: i64, body: &str) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"whsec_test").unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

const STRIPE: &str = r#"
[webhooks.stripe]
vendor = "stripe"
secret = "whsec_test"
[[webhooks.stripe.map]]
match = { "/type" = "charge.refunded" }
event = "ActionSucceeded"
id = "/id"
case = "/data/object/metadata/case"
at = "/created"
data = { key = "/data/object/metadata/key", action = "=stripe.refund" }
"#;

/// Issue 15.1: an event dated far ahead of the server's clock (posted, or in a signed
/// webhook) is refused with the reason and counted; it is not applied nor stored, so the
/// stored inputs still replay to the same ledger.
#[test]
fn events_from_the_future_are_refused() {
    let s = Server::new(&format!("wall_clock = false\n{STRIPE}"));
    let child = s.start();
    let (code, body) = http(s.port, "POST", "/events", sample()[0].as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
    let future = event("evt_future", "T-FUT", "9999-12-30T00:00:00Z");
    let (code, body) = http(s.port, "POST", "/events", future.as_bytes()).unwrap();
    assert_eq!(code, 400, "{body}");
    let v: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "refused");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("max_future_skew_seconds"),
        "{body}"
    );
    assert_eq!(http(s.port, "GET", "/cases/T-FUT", b"").unwrap().0, 404);
    // In a batch: the good line is applied, the future one refused.
    let batch = format!(
        "{}\n{}\n",
        event("evt_b1", "T-B", "2026-03-02T10:00:00Z"),
        event("evt_b2", "T-B2", "2100-01-01T00:00:00Z")
    );
    let (code, body) = http(s.port, "POST", "/events", batch.as_bytes()).unwrap();
    assert_eq!(code, 400, "{body}");
    let v: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(v["results"][0]["status"], "accepted", "{body}");
    assert_eq!(v["results"][1]["status"], "refused", "{body}");
    // A signed webhook carrying such a time.
    let far = 253_370_764_800i64; // 9999-01-01
    let payload = format!(
        r#"{{"id":"evt_w1","type":"charge.refunded","created":{far},"data":{{"object":{{"metadata":{{"case":"T-W","key":"k1"}}}}}}}}"#
    );
    let now = jiff::Timestamp::now().as_second();
    let sig = format!("Stripe-Signature: {}\r\n", stripe_sign(now, &payload));
    let (code, body) =
        request(s.port, "POST", "/webhooks/stripe", &sig, payload.as_bytes()).unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("max_future_skew_seconds"), "{body}");
    assert!(metric(
        s.port,
        "meshline_http_refused_total{reason=\"future_time\"} 3"
    ));
    s.stop(child);
    let (events, ledger, _) = s.export();
    assert!(
        !events.contains("9999-") && !events.contains("2100-"),
        "{events}"
    );
    assert!(!ledger.contains("evt_future"));
    assert_eq!(s.run(None), ledger);
}

/// Issue 15.2: with producers configured, `POST /events` needs a producer's bearer token;
/// ids in the webhooks' and the outbox's namespaces are refused; a connector outcome is
/// taken only from a producer allowed to report outcomes. Open mode is refused off loopback.
#[test]
fn producers_authenticate_and_namespaces_are_reserved() {
    let s = Server::new(&format!(
        "wall_clock = false\n{STRIPE}\n[producers.crm]\ntoken_env = \"MESHLINE_TEST_CRM\"\n\
         [producers.billing]\ntoken = \"billing-token-0123456789\"\noutcomes = true\n"
    ));
    let child = s.start_with_env(&[(
        "MESHLINE_TEST_CRM".to_string(),
        "crm-token-0123456789".to_string(),
    )]);
    let crm = "Authorization: Bearer crm-token-0123456789\r\n";
    let billing = "Authorization: Bearer billing-token-0123456789\r\n";
    let lines = sample();
    let first = lines[0].as_bytes();
    assert_eq!(http(s.port, "POST", "/events", first).unwrap().0, 401);
    let wrong = "Authorization: Bearer crm-token-0123456780\r\n";
    assert_eq!(
        request(s.port, "POST", "/events", wrong, first).unwrap().0,
        401
    );
    let (code, body) = request(s.port, "POST", "/events", crm, first).unwrap();
    assert_eq!(code, 202, "{body}");
    for id in ["stripe:evt_X", "outcome:abc"] {
        let l = event(id, "T-3001", "2026-03-02T09:06:00Z");
        let (code, body) = request(s.port, "POST", "/events", crm, l.as_bytes()).unwrap();
        assert_eq!(code, 400, "{id}: {body}");
        assert!(body.contains("is reserved"), "{body}");
    }
    // The sample's sixth line reports the refund's outcome.
    let outcome = lines
        .iter()
        .find(|l| l.contains("\"ActionSucceeded\""))
        .unwrap();
    let (code, body) = request(s.port, "POST", "/events", crm, outcome.as_bytes()).unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("may not report connector outcomes"), "{body}");
    let (code, body) = request(s.port, "POST", "/events", billing, outcome.as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
    assert!(metric(
        s.port,
        "meshline_http_refused_total{reason=\"unauthorized\"} 2"
    ));
    assert!(metric(
        s.port,
        "meshline_http_refused_total{reason=\"reserved_id\"} 2"
    ));
    // The genuine signed webhook is not pre-empted: its id was never taken.
    let now = jiff::Timestamp::now().as_second();
    let payload = format!(
        r#"{{"id":"evt_X","type":"charge.refunded","created":{now},"data":{{"object":{{"metadata":{{"case":"T-3001","key":"k9"}}}}}}}}"#
    );
    let sig = format!("Stripe-Signature: {}\r\n", stripe_sign(now, &payload));
    let (code, body) =
        request(s.port, "POST", "/webhooks/stripe", &sig, payload.as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
    s.stop(child);
    let (_, ledger, _) = s.export();
    assert!(!ledger.contains("outcome:abc"));
    assert_eq!(s.run(None), ledger);

    // No producers and a non-loopback address: refused at start, nothing created.
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--bundle")
        .arg(&s.bundle)
        .arg("--state")
        .arg(s.path("open.sqlite"))
        .arg("--listen")
        .arg("0.0.0.0:0")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no [producers]"), "{err}");
    assert!(!s.path("open.sqlite").exists());
}

/// Issue 15.3: the work one request causes is bounded. A batch over `max_batch_lines` is
/// refused whole (413), one with more than `max_rejected_lines` lines that are not
/// envelopes is refused whole (400) — nothing recorded either way; a rejected entry's reason
/// is short whatever the line; a wrong Content-Type is 415.
#[test]
fn work_per_request_is_bounded() {
    let s = Server::new("wall_clock = false\nmax_batch_lines = 50\nmax_rejected_lines = 5\n");
    let child = s.start();
    let ones = "1\n".repeat(500_000);
    let (code, body) = http(s.port, "POST", "/events", ones.as_bytes()).unwrap();
    assert_eq!(code, 413, "{body}");
    assert!(body.contains("max_batch_lines"), "{body}");
    let (code, body) = http(s.port, "POST", "/events", "1\n".repeat(40).as_bytes()).unwrap();
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("max_rejected_lines"), "{body}");
    // A few bad lines among good ones are recorded as before.
    let long_type = event("evt_long", "T-L", "2026-03-02T09:05:12Z")
        .replace("\"TicketCreated\"", &format!("\"{}\"", "X".repeat(20_000)));
    let batch = format!("{}\n1\n{long_type}\n", sample()[0]);
    let (code, body) = http(s.port, "POST", "/events", batch.as_bytes()).unwrap();
    assert_eq!(code, 400, "{body}");
    let v: Json = serde_json::from_str(&body).unwrap();
    assert_eq!(v["results"][0]["status"], "accepted", "{body}");
    assert_eq!(v["results"][2]["status"], "rejected", "{body}");
    let ct = |t: &str| {
        let h = format!("Content-Type: {t}\r\n");
        let l = event(&format!("evt_{}", t.len()), "T-CT", "2026-03-02T09:05:12Z");
        request(s.port, "POST", "/events", &h, l.as_bytes())
            .unwrap()
            .0
    };
    assert_eq!(ct("application/x-www-form-urlencoded"), 415);
    assert_eq!(ct("text/plain"), 415);
    assert_eq!(ct("application/json; charset=utf-8"), 202);
    assert_eq!(ct("application/x-ndjson"), 202);
    assert!(metric(
        s.port,
        "meshline_http_refused_total{reason=\"too_many_lines\"} 1"
    ));
    s.stop(child);
    let (events, ledger, _) = s.export();
    assert_eq!(events.lines().count(), 5, "{events}");
    let rejected: Vec<&str> = ledger
        .lines()
        .filter(|l| l.contains("\"kind\":\"rejected\""))
        .collect();
    assert_eq!(rejected.len(), 2, "{ledger}");
    for r in rejected {
        assert!(r.len() < 1500, "a rejected entry of {} bytes", r.len());
    }
    assert_eq!(s.run(None), ledger);
}

/// Read until the server closes the connection; how long that took (None: still open
/// after `limit`).
fn closed_within(st: &mut TcpStream, limit: Duration) -> Option<Duration> {
    let t = Instant::now();
    st.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match st.read(&mut buf) {
            Ok(0) => return Some(t.elapsed()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(t.elapsed());
            }
            Err(_) => return None,
        }
        if t.elapsed() > limit {
            return None;
        }
    }
}

/// Issue 15.5: an idle socket and one trickling its headers are closed after the
/// header-read timeout; past `max_connections` a new connection gets 503 at once; the
/// server keeps answering.
#[test]
fn idle_and_slow_connections_are_reaped_and_capped() {
    let s = Server::new("wall_clock = false\nheader_read_timeout_ms = 300\nmax_connections = 4\n");
    let child = s.start();
    let mut idle = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let took = closed_within(&mut idle, Duration::from_secs(5));
    assert!(took.is_some(), "an idle connection was not closed");
    // Slowloris: a header line every 100 ms, never the end of the head.
    let mut slow = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let t = Instant::now();
    write!(slow, "POST /events HTTP/1.1\r\n").unwrap();
    let mut closed = false;
    for i in 0..50 {
        std::thread::sleep(Duration::from_millis(100));
        if write!(slow, "X-Slow-{i}: a\r\n").is_err() {
            closed = true;
            break;
        }
    }
    assert!(
        closed || closed_within(&mut slow, Duration::from_millis(100)).is_some(),
        "a trickling client kept its connection for {:?}",
        t.elapsed()
    );
    assert!(t.elapsed() < Duration::from_secs(4));
    // The cap: four open connections, the fifth is answered 503 and closed.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(("127.0.0.1", s.port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(50));
    let (code, body) = http(s.port, "GET", "/healthz", b"").unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("too many connections"), "{body}");
    drop(held);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(http(s.port, "GET", "/healthz", b"").unwrap().0, 200);
    let (_, m) = http(s.port, "GET", "/metrics", b"").unwrap();
    assert!(
        m.contains("meshline_http_refused_total{reason=\"too_many_connections\"}"),
        "{m}"
    );
    s.stop(child);
}

/// Issue 15.5: SIGTERM while a client trickles its headers: the server exits within the
/// shutdown timeout, cleanly.
#[test]
fn shutdown_is_bounded_by_a_trickling_client() {
    let s = Server::new(
        "wall_clock = false\nheader_read_timeout_ms = 60000\nshutdown_timeout_ms = 500\n\
         request_timeout_ms = 60000\n",
    );
    let mut child = s.start();
    let port = s.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = stop.clone();
    let trickler = std::thread::spawn(move || {
        let mut st = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let _ = write!(st, "POST /events HTTP/1.1\r\n");
        let mut i = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            if write!(st, "X-Slow-{i}: a\r\n").is_err() {
                break;
            }
            i += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    let st = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(st.success());
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if t.elapsed() > Duration::from_secs(8) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = trickler.join();
    let status = status.expect("SIGTERM did not stop the server within 8 s");
    assert!(status.success(), "{status:?}");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    s.forget(&child);
}

/// Issue 15.6: a second server on the same state file exits at once with a clear message
/// (it used to report ready, serve stale reads and crash at its first commit).
#[test]
fn a_second_server_on_the_same_state_exits() {
    let s = Server::new("wall_clock = false\n");
    let child = s.start();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut second = Command::new(BIN)
        .arg("serve")
        .arg("--bundle")
        .arg(&s.bundle)
        .arg("--state")
        .arg(s.path("state.sqlite"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let status = loop {
        if let Some(st) = second.try_wait().unwrap() {
            break Some(st);
        }
        if t.elapsed() > Duration::from_secs(20) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let Some(status) = status else {
        let _ = second.kill();
        let _ = second.wait();
        panic!("the second server is still running");
    };
    let mut err = String::new();
    second
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(!status.success());
    assert!(err.contains("in use by another `meshline serve`"), "{err}");
    // The first one is unaffected.
    assert_eq!(
        http(s.port, "POST", "/events", sample()[0].as_bytes())
            .unwrap()
            .0,
        202
    );
    s.stop(child);
}

/// Issue 15.10: a connector's 429 with `Retry-After: 2` delays the retry by 2 s (the
/// backoff alone would retry after 20–40 ms).
#[test]
fn connector_retry_after_is_honoured() {
    use std::sync::{Arc, Mutex};
    let mock = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mock_port = mock.local_addr().unwrap().port();
    let seen: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in mock.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut r = std::io::BufReader::new(conn.try_clone().unwrap());
            let mut line = String::new();
            std::io::BufRead::read_line(&mut r, &mut line).unwrap();
            let path = line.split(' ').nth(1).unwrap_or("").to_string();
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                std::io::BufRead::read_line(&mut r, &mut h).unwrap();
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(": ")
                    && k.eq_ignore_ascii_case("content-length")
                {
                    len = v.parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            let mut log = log.lock().unwrap();
            let first = !log.iter().any(|(p, _)| *p == path);
            log.push((path, Instant::now()));
            let answer = if first {
                "429 Too Many Requests\r\nRetry-After: 2"
            } else {
                "200 OK"
            };
            let _ = write!(
                conn,
                "HTTP/1.1 {answer}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let s = Server::new(&format!(
        "wall_clock = false\n[connectors.http.stripe]\nurl = \"http://127.0.0.1:{mock_port}/stripe\"\n\
         backoff_ms = 20\n[connectors.http.helpdesk]\nurl = \"http://127.0.0.1:{mock_port}/helpdesk\"\n\
         backoff_ms = 20\n"
    ));
    let child = s.start();
    assert_eq!(
        http(s.port, "POST", "/events", sample()[0].as_bytes())
            .unwrap()
            .0,
        202
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _)| p == "/stripe")
            .count();
        if n >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no retry within 30 s");
        std::thread::sleep(Duration::from_millis(50));
    }
    let times: Vec<Instant> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(p, _)| p == "/stripe")
        .map(|(_, t)| *t)
        .collect();
    let gap = times[1] - times[0];
    assert!(
        gap >= Duration::from_millis(1900),
        "retried after {gap:?}, before the 2 s the endpoint asked"
    );
    assert!(gap < Duration::from_secs(10), "{gap:?}");
    s.stop(child);
}
