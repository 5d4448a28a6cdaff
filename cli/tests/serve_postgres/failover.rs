//! Three `meshline serve` nodes on one PostgreSQL database (docs/deploy.md, "Several
//! nodes"): events posted to all three under load, the leader SIGKILLed, another leads
//! within 10 s; no acknowledged event lost or applied twice; the database stopped: every
//! node stops leading, says so in its log and on `/readyz`; started again: they carry on.
//! The export verifies and `meshline run` over it equals the stored ledger (so every timer
//! fired once across the nodes).

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

use super::pg;
use super::serve_support::server::{Server, http};
use super::serve_support::{request, root};

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn post(port: u16, line: &str) -> std::io::Result<(u16, String)> {
    let ndjson = "Content-Type: application/x-ndjson\r\n";
    request(port, "POST", "/events", ndjson, line.as_bytes())
}

/// Whether the node on `port` says it leads (`meshline_leader 1`).
fn leads(port: u16) -> bool {
    http(port, "GET", "/metrics", b"")
        .is_ok_and(|(c, m)| c == 200 && m.contains("\nmeshline_leader 1"))
}

/// The one node of `ports` leading, waited for up to `within`.
fn leader(ports: &[u16], within: Duration) -> Option<usize> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        let leading: Vec<usize> = (0..ports.len()).filter(|i| leads(ports[*i])).collect();
        if leading.len() == 1 {
            return Some(leading[0]);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// The sample, `rounds` times over, each round's ids and cases its own and its times a
/// minute later (past: timers come due and fire on the wall clock).
fn workload(rounds: usize) -> VecDeque<(String, String)> {
    let text = std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
        .unwrap();
    let mut out = VecDeque::new();
    for r in 0..rounds {
        for l in text.lines().filter(|l| !l.trim().is_empty()) {
            let mut v: Json = serde_json::from_str(l).unwrap();
            let id = format!("{}-r{r}", v["id"].as_str().unwrap());
            let at: jiff::Timestamp = v["at"].as_str().unwrap().parse().unwrap();
            let at = jiff::Timestamp::from_second(at.as_second() + r as i64 * 60).unwrap();
            v["id"] = json!(id);
            v["case"] = json!(format!("{}-r{r}", v["case"].as_str().unwrap()));
            v["at"] = json!(at.to_string());
            out.push_back((id, v.to_string()));
        }
    }
    out
}

#[test]
fn three_nodes_fail_over_without_losing_an_acknowledged_event() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let s = Server::with_state(
        "[cluster]\nproject = \"failover\"\nlease = \"2s\"\n",
        &cluster.postgres_url(),
    );
    let ports = [s.port, free_port(), free_port()];
    let logs: Vec<PathBuf> = (0..3).map(|i| s.path(&format!("node{i}.log"))).collect();
    let mut nodes: Vec<Option<Child>> = (0..3)
        .map(|i| Some(s.start_node(ports[i], &logs[i])))
        .collect();
    let first = leader(&ports, Duration::from_secs(10)).expect("no single leader");

    // Load: four clients, each event to the next node in turn; what is not acknowledged
    // (a node killed, 503) is sent again, same id, to another node.
    let queue = Arc::new(Mutex::new(workload(30)));
    let total = queue.lock().unwrap().len();
    let acked: Arc<Mutex<BTreeMap<String, Vec<u16>>>> = Arc::default();
    let alive: Arc<Mutex<Vec<u16>>> = Arc::new(Mutex::new(ports.to_vec()));
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (queue, acked, alive, done, stop) = (
                queue.clone(),
                acked.clone(),
                alive.clone(),
                done.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let mut turn = c;
                while !stop.load(Ordering::SeqCst) {
                    let Some((id, line)) = queue.lock().unwrap().pop_front() else {
                        return;
                    };
                    turn += 1;
                    let port = {
                        let a = alive.lock().unwrap();
                        a[turn % a.len()]
                    };
                    match post(port, &line) {
                        Ok((code @ (200 | 202), _)) => {
                            acked.lock().unwrap().entry(id).or_default().push(code);
                            done.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok((code, body)) => {
                            assert!(code == 503 || code == 408, "{id}: {code} {body}");
                            queue.lock().unwrap().push_back((id, line));
                            std::thread::sleep(Duration::from_millis(20));
                        }
                        Err(_) => {
                            queue.lock().unwrap().push_back((id, line));
                            std::thread::sleep(Duration::from_millis(20));
                        }
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while done.load(Ordering::SeqCst) < total / 3 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    // SIGKILL the leader under load: another node leads within 10 s.
    alive.lock().unwrap().retain(|p| *p != ports[first]);
    s.kill(nodes[first].take().unwrap());
    let killed = Instant::now();
    let rest: Vec<u16> = ports
        .iter()
        .copied()
        .filter(|p| *p != ports[first])
        .collect();
    let next = leader(&rest, Duration::from_secs(10)).expect("no node took over within 10 s");
    let took = killed.elapsed();
    eprintln!("failover: node on port {} leads after {took:?}", rest[next]);
    assert!(took <= Duration::from_secs(10), "{took:?}");
    let deadline = Instant::now() + Duration::from_secs(120);
    while done.load(Ordering::SeqCst) < total && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::SeqCst);
    for c in clients {
        c.join().unwrap();
    }
    assert_eq!(
        done.load(Ordering::SeqCst),
        total,
        "not every event was acknowledged"
    );

    // Cut off from the database: every node stops leading and is not ready, and says so.
    cluster.stop();
    let deadline = Instant::now() + Duration::from_secs(10);
    let unready = |p: u16| matches!(http(p, "GET", "/readyz", b""), Ok((503, _)));
    // Leading ends with the lease's local end (under 2 s after the last renewal).
    while !rest.iter().all(|p| unready(*p) && !leads(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for p in &rest {
        let (code, body) = http(*p, "GET", "/readyz", b"").unwrap();
        assert_eq!(code, 503, "node {p}: {body}");
        assert!(body.contains("database unreachable"), "node {p}: {body}");
        assert!(!leads(*p), "node {p} still leads without its database");
    }
    let leader_log =
        std::fs::read_to_string(&logs[ports.iter().position(|p| *p == rest[next]).unwrap()])
            .unwrap();
    assert!(leader_log.contains("stopped leading"), "{leader_log}");
    // The database back: a node leads again and both are ready; new events are applied.
    cluster.restart();
    leader(&rest, Duration::from_secs(15)).expect("no leader after the database came back");
    let deadline = Instant::now() + Duration::from_secs(15);
    while !rest
        .iter()
        .all(|p| matches!(http(*p, "GET", "/readyz", b""), Ok((200, _))))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    let after = workload(1).pop_front().unwrap().1;
    for (i, p) in rest.iter().enumerate() {
        let mut line: Json = serde_json::from_str(&after).unwrap();
        line["id"] = json!(format!("after-{i}"));
        line["case"] = json!(format!("after-{i}"));
        let (code, body) = post(*p, &line.to_string()).unwrap();
        assert_eq!(code, 202, "node {p}: {body}");
        acked
            .lock()
            .unwrap()
            .entry(format!("after-{i}"))
            .or_default()
            .push(code);
    }
    std::thread::sleep(Duration::from_millis(1500));
    for n in nodes.iter_mut() {
        if let Some(c) = n.take() {
            s.stop(c);
        }
    }

    // Every acknowledged event is in the ledger exactly once; the export verifies and
    // replays to the same ledger.
    let (_, ledger, _) = s.export();
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for l in ledger.lines() {
        let e: Json = serde_json::from_str(l).unwrap();
        if e["kind"] == "received" {
            let id = e["detail"]["id"].as_str().unwrap_or_default().to_string();
            *received.entry(id).or_default() += 1;
        }
    }
    for (id, codes) in acked.lock().unwrap().iter() {
        assert_eq!(
            received.get(id),
            Some(&1),
            "acknowledged {id} ({codes:?}) not received once"
        );
    }
    assert!(
        ledger.contains("\"kind\":\"sla_breached\""),
        "no timer fired on the wall clock"
    );
    assert_eq!(
        s.run(None),
        ledger,
        "meshline run over the export differs from the ledger"
    );
}
