//! `meshline serve` state: what a case view and the timer gauge show (only timers that will
//! act), start-up checks of the state file, and paged case ledgers.

use serde_json::Value as Json;

mod serve_support;
use serve_support::root;
use serve_support::server::{Server, http};

/// The sample's lines with these ids, as one NDJSON body.
fn sample(ids: &[&str]) -> Vec<u8> {
    let text = std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
        .unwrap();
    let mut out = String::new();
    for id in ids {
        let line = text
            .lines()
            .find(|l| l.contains(&format!("\"id\": \"{id}\"")))
            .unwrap();
        out.push_str(line);
        out.push('\n');
    }
    out.into_bytes()
}

fn case(port: u16, id: &str) -> Json {
    let (code, body) = http(port, "GET", &format!("/cases/{id}"), b"").unwrap();
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn timer_kinds(case: &Json) -> Vec<String> {
    case["timers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap().to_string())
        .collect()
}

fn gauge(port: u16, name: &str) -> u64 {
    let (_, text) = http(port, "GET", "/metrics", b"").unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {text}"))
}

/// Issue 15 item 17: an acknowledged case, a met SLA and an approved gate leave no timer
/// in the case view or in `meshline_timers_pending`; replay is unchanged by dropping them.
#[test]
fn met_slas_and_approved_gates_leave_no_pending_timers() {
    let s = Server::new("wall_clock = false\n");
    let child = s.start();
    // T-3001: Gold billing (first_reply 1h with a 75% warning, acknowledge within 30m).
    let (code, body) = http(s.port, "POST", "/events", &sample(&["evt_7f3a0001"])).unwrap();
    assert_eq!(code, 202, "{body}");
    let mut before = timer_kinds(&case(s.port, "T-3001"));
    before.sort();
    assert_eq!(before, ["acknowledgement", "sla_breach", "sla_warn"]);
    // Acknowledged, then answered: the acknowledgement and first_reply timers are void.
    let reply = r#"{"id": "r-1", "type": "ReplySent", "at": "2026-03-02T09:10:00Z", "case": "T-3001", "data": {"by": "ana@agency.io", "public": true}}"#;
    let mut body = sample(&["evt_7f3a0002"]);
    body.extend_from_slice(reply.as_bytes());
    let (code, text) = http(s.port, "POST", "/events", &body).unwrap();
    assert_eq!(code, 202, "{text}");
    let t3001 = case(s.port, "T-3001");
    assert_eq!(t3001["clocks"][0]["state"], "met", "{t3001}");
    assert_eq!(timer_kinds(&t3001), Vec::<String>::new(), "{t3001}");
    // T-3002: a refund over the limit held by refund_approval (expires after 24h), then
    // approved by both approvers: its expiry timer is void.
    let (code, text) = http(s.port, "POST", "/events", &sample(&["evt_7f3a0003"])).unwrap();
    assert_eq!(code, 202, "{text}");
    let held = timer_kinds(&case(s.port, "T-3002"));
    assert!(held.iter().any(|k| k == "gate_expiry"), "{held:?}");
    let pending_held = gauge(s.port, "meshline_timers_pending");
    assert_eq!(pending_held as usize, held.len());
    let body = sample(&["evt_7f3a0016", "evt_7f3a0017"]);
    let (code, text) = http(s.port, "POST", "/events", &body).unwrap();
    assert_eq!(code, 202, "{text}");
    let t3002 = case(s.port, "T-3002");
    assert_eq!(t3002["held"], serde_json::json!([]), "{t3002}");
    let after = timer_kinds(&t3002);
    assert!(!after.iter().any(|k| k == "gate_expiry"), "{after:?}");
    // The gauge counts exactly the timers the case views list.
    assert_eq!(
        gauge(s.port, "meshline_timers_pending") as usize,
        after.len()
    );
    s.stop(child);
    let (_, ledger, _) = s.export();
    assert_eq!(s.run(None), ledger);
}

