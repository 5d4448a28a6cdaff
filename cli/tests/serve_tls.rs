//! `meshline serve` delivering actions over HTTPS: a connector trusting a private CA
//! (`ca_file`) delivers; one whose endpoint's certificate that CA did not sign fails for
//! good (no request leaves), so the saga compensates over the working connector; and bad
//! connector settings stop `serve` before it starts.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

mod serve_support;
use serve_support::{request, root};
#[path = "serve_support/tls.rs"]
mod tls;

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

fn build(dir: &Path) -> std::path::PathBuf {
    let bundle = dir.join("agency.meshb");
    let out = Command::new(BIN)
        .arg("build")
        .arg(root().join("examples/agency-support"))
        .arg("-o")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success());
    bundle
}

/// Kills the server if the test panics while it runs.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `serve` with a configuration and wait until it is ready.
fn start(bundle: &Path, state: &Path, config: &Path) -> (Guard, u16) {
    let listen = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = listen.local_addr().unwrap().port();
    drop(listen);
    let guard = Guard(
        Command::new(BIN)
            .arg("serve")
            .arg("--bundle")
            .arg(bundle)
            .arg("--state")
            .arg(state)
            .arg("--config")
            .arg(config)
            .arg("--listen")
            .arg(format!("127.0.0.1:{api}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while !matches!(request(api, "GET", "/readyz", "", b""), Ok((200, _))) {
        assert!(Instant::now() < deadline, "serve did not become ready");
        std::thread::sleep(Duration::from_millis(20));
    }
    (guard, api)
}

/// Send the example's first event (a refund request: refund, then a reply to the client).
fn send_first_event(api: u16) {
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let first = sample.lines().next().unwrap();
    let (code, body) = request(api, "POST", "/events", "", first.as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
}

/// Wait until case T-3001 has two `succeeded` entries (the refund and its compensation).
fn wait_for_compensation(api: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, case) = request(api, "GET", "/cases/T-3001", "", b"").unwrap();
        if case.matches("\"kind\":\"succeeded\"").count() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no compensation: {case}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stop `serve` with SIGTERM; it must exit cleanly.
fn stop(mut guard: Guard) {
    let st = Command::new("kill")
        .arg("-TERM")
        .arg(guard.0.id().to_string())
        .status()
        .unwrap();
    assert!(st.success());
    assert!(guard.0.wait().unwrap().success());
}

#[test]
fn https_connectors_trust_their_ca_and_refuse_other_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bundle = build(d);
    let vendor = tls::pki("vendor");
    let (port, seen) = tls::endpoint(&vendor);
    std::fs::write(d.join("vendor.pem"), &vendor.ca_pem).unwrap();
    std::fs::write(d.join("other.pem"), tls::pki("other").ca_pem).unwrap();
    let config = d.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "wall_clock = false\n\
             [connectors.http.stripe]\nurl = \"https://127.0.0.1:{port}/stripe\"\n\
             ca_file = {:?}\nbackoff_ms = 50\n\
             [connectors.http.helpdesk]\nurl = \"https://127.0.0.1:{port}/helpdesk\"\n\
             ca_file = {:?}\nbackoff_ms = 50\n",
            d.join("vendor.pem").display().to_string(),
            d.join("other.pem").display().to_string(),
        ),
    )
    .unwrap();
    let state = d.join("state.sqlite");
    let (guard, api) = start(&bundle, &state, &config);
    send_first_event(api);
    // refund succeeds over TLS; reply fails for good (certificate); void_refund compensates.
    wait_for_compensation(api);
    stop(guard);

    let seen = seen.lock().unwrap().clone();
    let paths: Vec<&str> = seen.iter().map(|(p, _, _)| p.as_str()).collect();
    assert_eq!(paths, ["/stripe", "/stripe"], "nothing may reach /helpdesk");
    let actions: Vec<String> = seen
        .iter()
        .map(|(_, key, body)| {
            let cmd: Json = serde_json::from_str(body).unwrap();
            assert_eq!(cmd["key"].as_str(), Some(key.as_str()));
            cmd["action"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(actions, ["refund", "void_refund"]);

    let (events, ledger) = (d.join("events.jsonl"), d.join("ledger.jsonl"));
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--state")
        .arg(&state)
        .arg("--export-events")
        .arg(&events)
        .arg("--export-ledger")
        .arg(&ledger)
        .output()
        .unwrap();
    assert!(out.status.success());
    let ledger = std::fs::read_to_string(&ledger).unwrap();
    let entries: Vec<Json> = ledger
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let failed: Vec<&Json> = entries.iter().filter(|e| e["kind"] == "failed").collect();
    assert_eq!(failed.len(), 1, "{ledger}");
    let detail = &failed[0]["detail"];
    assert_eq!(detail["action"], "helpdesk.reply");
    assert_eq!(detail["retryable"], false);
    let reason = detail["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("TLS: ") && reason.contains("UnknownIssuer"),
        "{reason}"
    );
    assert!(
        entries.iter().any(|e| e["kind"] == "compensated"),
        "{ledger}"
    );
    // The outcomes are stored inputs: the run over the export gives the same ledger.
    let run = Command::new(BIN)
        .arg("run")
        .arg("--bundle")
        .arg(&bundle)
        .arg("--events")
        .arg(&events)
        .arg("--ledger")
        .arg(d.join("run.jsonl"))
        .output()
        .unwrap();
    assert!(run.status.success());
    assert_eq!(
        std::fs::read_to_string(d.join("run.jsonl")).unwrap(),
        ledger
    );
}

#[test]
fn bad_connector_settings_stop_serve_before_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bundle = build(d);
    std::fs::write(d.join("not-a-cert.pem"), "hello\n").unwrap();
    let cases = [
        ("url = \"ftp://127.0.0.1/x\"", "only http:// and https://"),
        (
            "url = \"https://127.0.0.1/x\"\nca_file = \"missing.pem\"",
            "ca_file missing.pem: ",
        ),
        (
            "url = \"https://127.0.0.1/x\"\nca_file = \"not-a-cert.pem\"",
            "ca_file not-a-cert.pem: no PEM certificate",
        ),
    ];
    for (settings, want) in cases {
        std::fs::write(
            d.join("serve.toml"),
            format!("[connectors.http.stripe]\n{settings}\n"),
        )
        .unwrap();
        // Relative paths are resolved against the working directory.
        let out = Command::new(BIN)
            .current_dir(d)
            .args(["serve", "--config", "serve.toml", "--state", "s.sqlite"])
            .arg("--bundle")
            .arg(&bundle)
            .arg("--listen")
            .arg("127.0.0.1:0")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{settings}: {err}");
        assert!(
            err.contains("serve.toml: connectors.http.stripe: ") && err.contains(want),
            "{settings}: {err}"
        );
        assert!(!d.join("s.sqlite").exists(), "nothing is created");
    }
}

#[test]
fn a_step_that_keeps_failing_fails_for_good_after_max_attempts() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bundle = build(d);
    let vendor = tls::pki("vendor");
    let (port, seen) = tls::endpoint(&vendor);
    std::fs::write(d.join("vendor.pem"), &vendor.ca_pem).unwrap();
    // Nothing listens on the help desk's port: every attempt is a retryable network error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = d.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "wall_clock = false\n\
             [connectors.http.stripe]\nurl = \"https://127.0.0.1:{port}/stripe\"\n\
             ca_file = {:?}\nbackoff_ms = 20\n\
             [connectors.http.helpdesk]\nurl = \"http://127.0.0.1:{closed_port}/helpdesk\"\n\
             max_attempts = 3\nbackoff_ms = 20\ntimeout_ms = 500\n",
            d.join("vendor.pem").display().to_string(),
        ),
    )
    .unwrap();
    let state = d.join("state.sqlite");
    let (guard, api) = start(&bundle, &state, &config);
    send_first_event(api);
    // The executor gives up after 3 attempts: the step has failed for good, so the saga
    // compensates (a saga waiting on a step nobody retries would wait forever).
    wait_for_compensation(api);
    stop(guard);
    let actions: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, body)| serde_json::from_str::<Json>(body).unwrap()["action"].to_string())
        .collect();
    assert_eq!(actions, ["\"refund\"", "\"void_refund\""]);
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--state")
        .arg(&state)
        .arg("--export-ledger")
        .arg(d.join("ledger.jsonl"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let ledger = std::fs::read_to_string(d.join("ledger.jsonl")).unwrap();
    let failed: Vec<Json> = ledger
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["kind"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{ledger}");
    let detail = &failed[0]["detail"];
    assert_eq!(detail["action"], "helpdesk.reply");
    assert_eq!(detail["retryable"], false);
    let reason = detail["reason"].as_str().unwrap();
    assert!(reason.ends_with("(gave up after 3 attempts)"), "{reason}");
}
