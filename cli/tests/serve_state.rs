//! `meshline serve` state: what a case view and the timer gauge show (only timers that will
//! act), start-up checks of the state file, and paged case ledgers.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

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

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

/// Start `meshline serve` on the test's state expecting it to refuse: its stderr. Panics if
/// it becomes ready or does not exit within a minute.
fn refused(s: &Server, extra: &[&str]) -> String {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--bundle")
        .arg(&s.bundle)
        .arg("--state")
        .arg(s.path("state.sqlite"))
        .arg("--config")
        .arg(s.path("serve.toml"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", s.port))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            assert!(!st.success(), "serve exited 0: {err}");
            return err;
        }
        if Instant::now() > deadline || matches!(http(s.port, "GET", "/readyz", b""), Ok((200, _)))
        {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve started on a state it should refuse");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn db(s: &Server) -> rusqlite::Connection {
    rusqlite::Connection::open(s.path("state.sqlite")).unwrap()
}

/// The first `received` entry after ledger entry `after`: its seq, edited (an id changed).
fn edit_received_after(s: &Server, after: u64) -> u64 {
    let c = db(s);
    let seq: i64 = c
        .query_row(
            "SELECT seq FROM ledger WHERE kind = 'received' AND seq > ?1 ORDER BY seq LIMIT 1",
            [after as i64],
            |r| r.get(0),
        )
        .unwrap();
    let n = c
        .execute(
            "UPDATE ledger SET line = replace(line, 'evt_7f3a', 'evt_XXXX') WHERE seq = ?1",
            [seq],
        )
        .unwrap();
    assert_eq!(n, 1);
    seq as u64
}

fn all_sample() -> Vec<u8> {
    std::fs::read(root().join("examples/agency-support/events/sample.jsonl")).unwrap()
}

/// Issue 15 item 7: 4 KB of garbage in the middle of the state file is found at start
/// (SQLite `quick_check`) and the server refuses with the reason; export refuses before
/// writing anything.
#[test]
fn damaged_state_file_is_refused_at_start_and_by_export() {
    let s = Server::new("wall_clock = false\n");
    let child = s.start();
    let (code, body) = http(s.port, "POST", "/events", &all_sample()).unwrap();
    assert_eq!(code, 202, "{body}");
    s.stop(child);
    let path = s.path("state.sqlite");
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(!s.path("state.sqlite-wal").exists() || bytes.len() > 4096 * 8);
    let middle = (bytes.len() / 2) / 4096 * 4096;
    for (i, b) in bytes[middle..middle + 4096].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0xA5;
    }
    std::fs::write(&path, bytes).unwrap();
    let err = refused(&s, &[]);
    assert!(
        err.contains("damaged") && err.contains("quick_check"),
        "{err}"
    );
    let out = std::process::Command::new(BIN)
        .arg("serve")
        .arg("--state")
        .arg(&path)
        .arg("--export-ledger")
        .arg(s.path("ledger.jsonl"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("damaged"), "{err}");
}

/// Issue 15 item 7: a ledger row edited in the middle is found at start — by replay, line by
/// line, for the entries after the snapshot replay starts from (all of them with
/// `--no-snapshot`), and by `--verify-ledger` (the whole chain) for the ones before it.
#[test]
fn edited_ledger_rows_are_refused_at_start() {
    // Without snapshots: every entry is replayed and compared.
    let s = Server::new("wall_clock = false\nsnapshot_every = 0\n");
    let child = s.start();
    let (code, body) = http(s.port, "POST", "/events", &all_sample()).unwrap();
    assert_eq!(code, 202, "{body}");
    s.stop(child);
    let seq = edit_received_after(&s, 10);
    let err = refused(&s, &[]);
    assert!(err.contains(&format!("ledger entry {seq} ")), "{err}");
    // With a snapshot: two batches, the newest snapshot after the first.
    let s = Server::new("wall_clock = false\nsnapshot_every = 8\n");
    let child = s.start();
    let text = String::from_utf8(all_sample()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for part in [&lines[..10], &lines[10..15]] {
        let (code, body) = http(s.port, "POST", "/events", part.join("\n").as_bytes()).unwrap();
        assert_eq!(code, 202, "{body}");
    }
    s.stop(child);
    let snap: i64 = db(&s)
        .query_row("SELECT MAX(ledger_seq) FROM snapshots", [], |r| r.get(0))
        .unwrap();
    assert!(snap > 2, "no snapshot taken");
    // Before the snapshot point: only the whole-chain check sees it.
    edit_received_after(&s, 1);
    let child = s.start();
    s.stop(child);
    let err = refused(&s, &["--verify-ledger"]);
    assert!(err.contains("does not verify"), "{err}");
    // After it: replay from the snapshot sees it.
    let seq = edit_received_after(&s, snap as u64);
    let err = refused(&s, &[]);
    assert!(err.contains(&format!("ledger entry {seq} ")), "{err}");
}

/// Issue 15 item 7: when commits cannot succeed (a full disk, here a size limit on the
/// state file) the server does not exit: posts get 503, `/readyz` says why, reads still
/// work; a restart with room serves again and nothing acknowledged is lost.
#[test]
fn full_storage_makes_the_server_not_ready_instead_of_exiting() {
    let s = Server::new("wall_clock = false\nstate_max_bytes = 200000\n");
    let mut child = s.start();
    let mut accepted = Vec::new();
    let mut refused_code = None;
    for i in 0..5000 {
        let line = format!(
            r#"{{"id": "full-{i}", "type": "TicketCreated", "at": "2026-03-02T09:05:12Z", "case": "F-{i}", "data": {{"ticket": {{"id": "F-{i}", "type": "billing", "subject": "Refund {i} {pad}", "tags": ["refund"], "tier": "Gold", "priority": "Normal", "status": "New", "client_id": "c-9"}}, "channel": "Email"}}}}"#,
            pad = "x".repeat(400)
        );
        let (code, body) = http(s.port, "POST", "/events", line.as_bytes()).unwrap();
        match code {
            202 => accepted.push(i),
            503 => {
                assert!(body.contains("storage"), "{body}");
                refused_code = Some(code);
                break;
            }
            _ => panic!("{code} {body}"),
        }
    }
    assert_eq!(refused_code, Some(503), "the limit was never reached");
    assert!(!accepted.is_empty());
    assert!(child.try_wait().unwrap().is_none(), "serve exited");
    let (code, body) = http(s.port, "GET", "/readyz", b"").unwrap();
    assert_eq!(code, 503);
    assert!(body.contains("storage failing"), "{body}");
    assert_eq!(http(s.port, "GET", "/healthz", b"").unwrap().0, 200);
    assert_eq!(gauge(s.port, "meshline_ready"), 0);
    let last = accepted.last().unwrap();
    assert_eq!(case(s.port, &format!("F-{last}"))["class"], "Billing");
    let (code, _) = http(s.port, "POST", "/events", &sample(&["evt_7f3a0001"])).unwrap();
    assert_eq!(code, 503);
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert!(child.try_wait().unwrap().is_none(), "serve exited");
    s.stop(child);
    std::fs::write(s.path("serve.toml"), "wall_clock = false\n").unwrap();
    let child = s.start();
    s.stop(child);
    let (events, ledger, _) = s.export();
    for i in &accepted {
        assert!(events.contains(&format!("\"full-{i}\"")), "lost full-{i}");
    }
    assert_eq!(s.run(None), ledger);
}

/// Issue 15 item 9: a case's ledger comes a page at a time (`ledger_limit`, default 100, at
/// most 1000; `after_seq`; `next_after_seq` until the last page), and the pages put together
/// are the case's whole ledger.
#[test]
fn case_ledgers_are_paged() {
    let s = Server::new("wall_clock = false\n");
    let child = s.start();
    let mut body = sample(&["evt_7f3a0001"]);
    for i in 0..150 {
        let line = format!(
            r#"{{"id": "reply-{i}", "type": "CustomerReplied", "at": "2026-03-02T09:{:02}:{:02}Z", "case": "T-3001", "data": {{"body": "again {i}"}}}}"#,
            6 + i / 60,
            i % 60
        );
        body.extend_from_slice(line.as_bytes());
        body.push(b'\n');
    }
    let (code, text) = http(s.port, "POST", "/events", &body).unwrap();
    assert_eq!(code, 202, "{text}");
    let first = case(s.port, "T-3001");
    assert_eq!(first["class"], "Billing");
    let mut got: Vec<Json> = first["ledger"].as_array().unwrap().clone();
    assert_eq!(got.len(), 100);
    let mut next = first["next_after_seq"].clone();
    assert_eq!(next, got[99]["seq"]);
    while let Some(after) = next.as_u64() {
        let page = case(s.port, &format!("T-3001?after_seq={after}&ledger_limit=70"));
        let entries = page["ledger"].as_array().unwrap();
        assert!(!entries.is_empty() && entries.len() <= 70);
        assert!(entries[0]["seq"].as_u64().unwrap() > after);
        got.extend(entries.iter().cloned());
        next = page["next_after_seq"].clone();
    }
    for bad in [
        "ledger_limit=0",
        "ledger_limit=1001",
        "ledger_limit=x",
        "after_seq=-1",
    ] {
        let (code, text) = http(s.port, "GET", &format!("/cases/T-3001?{bad}"), b"").unwrap();
        assert_eq!(code, 400, "{bad}: {text}");
    }
    let big = case(s.port, "T-3001?ledger_limit=1000");
    assert_eq!(big["next_after_seq"], Json::Null);
    s.stop(child);
    let (_, ledger, _) = s.export();
    let whole: Vec<Json> = ledger
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["case"] == "T-3001")
        .collect();
    assert!(whole.len() > 250, "{}", whole.len());
    assert_eq!(got, whole);
    assert_eq!(big["ledger"].as_array().unwrap(), &whole);
}

/// Issue 15 item 8: `serve` remembers event ids for 7 days of engine-clock time: a
/// redelivery within them is a duplicate (also after a restart from a snapshot), one after
/// them is applied again; `meshline run` over the export forgets the same ids.
#[test]
fn event_ids_are_forgotten_after_the_dedupe_window() {
    let s = Server::new("wall_clock = false\nsnapshot_every = 1\n");
    let child = s.start();
    let ack = |id: &str, at: &str| {
        format!(
            r#"{{"id": "{id}", "type": "OwnerAcknowledged", "at": "{at}", "case": "T-3001", "data": {{"by": "ana@agency.io"}}}}"#
        )
    };
    let post = |line: String| http(s.port, "POST", "/events", line.as_bytes()).unwrap().0;
    assert_eq!(post(ack("a", "2026-03-02T09:00:00Z")), 202);
    assert_eq!(post(ack("a", "2026-03-02T09:00:00Z")), 200);
    s.kill(child);
    // Restarted from a snapshot: `a` is still remembered.
    let child = s.start();
    assert_eq!(post(ack("a", "2026-03-02T09:00:00Z")), 200);
    assert_eq!(post(ack("b", "2026-03-09T09:00:01Z")), 202);
    // Past the window: `a` is applied again (as a late event).
    assert_eq!(post(ack("a", "2026-03-02T09:00:00Z")), 202);
    assert_eq!(post(ack("a", "2026-03-02T09:00:00Z")), 200);
    s.stop(child);
    let (_, ledger, _) = s.export();
    assert_eq!(s.run(None), ledger);
}
