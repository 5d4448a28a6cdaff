//! `meshline serve` delivering actions over HTTPS: a connector trusting a private CA
//! (`ca_file`) delivers; one whose endpoint's certificate that CA did not sign fails for
//! good (no request leaves), so the saga compensates over the working connector; a step
//! the executor gives up on after `max_attempts` fails for good too; and bad connector
//! settings stop `serve` before it starts.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

mod serve_support;
use serve_support::root;
use serve_support::server::{Server, http};
#[path = "serve_support/tls.rs"]
mod tls;

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

/// A server whose configuration names files in its own folder: `config` receives that
/// folder's path.
fn server(files: &[(&str, &[u8])], config: impl Fn(&str) -> String) -> Server {
    let s = Server::new("");
    for (name, bytes) in files {
        std::fs::write(s.path(name), bytes).unwrap();
    }
    let dir = s.path("").display().to_string();
    std::fs::write(s.path("serve.toml"), config(dir.trim_end_matches('/'))).unwrap();
    s
}

/// The stored ledger's entries of one kind.
fn entries(ledger: &str, kind: &str) -> Vec<Json> {
    ledger
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["kind"] == kind)
        .collect()
}

/// Send the example's first event (a refund request: refund, then a reply to the client).
fn send_first_event(api: u16) {
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let first = sample.lines().next().unwrap();
    let (code, body) = http(api, "POST", "/events", first.as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
}

/// Wait until case T-3001 has two `succeeded` entries (the refund and its compensation).
fn wait_for_compensation(api: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, case) = http(api, "GET", "/cases/T-3001", b"").unwrap();
        if case.matches("\"kind\":\"succeeded\"").count() >= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "no compensation: {case}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn https_connectors_trust_their_ca_and_refuse_other_certificates() {
    let vendor = tls::pki("vendor");
    let (port, seen) = tls::endpoint(&vendor);
    let other = tls::pki("other").ca_pem;
    let s = server(
        &[
            ("vendor.pem", vendor.ca_pem.as_bytes()),
            ("other.pem", other.as_bytes()),
        ],
        |dir| {
            format!(
                "wall_clock = false\n\
                 [connectors.http.stripe]\nurl = \"https://127.0.0.1:{port}/stripe\"\n\
                 ca_file = \"{dir}/vendor.pem\"\nbackoff_ms = 50\n\
                 [connectors.http.helpdesk]\nurl = \"https://127.0.0.1:{port}/helpdesk\"\n\
                 ca_file = \"{dir}/other.pem\"\nbackoff_ms = 50\n"
            )
        },
    );
    let child = s.start();
    send_first_event(s.port);
    // refund succeeds over TLS; reply fails for good (certificate); void_refund compensates.
    wait_for_compensation(s.port);
    s.stop(child);

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

    let (_, ledger, _) = s.export();
    let failed = entries(&ledger, "failed");
    assert_eq!(failed.len(), 1, "{ledger}");
    let detail = &failed[0]["detail"];
    assert_eq!(detail["action"], "helpdesk.reply");
    assert_eq!(detail["retryable"], false);
    let reason = detail["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("TLS: ") && reason.contains("UnknownIssuer"),
        "{reason}"
    );
    assert!(!entries(&ledger, "compensated").is_empty(), "{ledger}");
    // The outcomes are stored inputs: the run over the export gives the same ledger.
    assert_eq!(s.run(None), ledger);
}

#[test]
fn bad_connector_settings_stop_serve_before_it_starts() {
    let s = Server::new("");
    let d = s.path("");
    let d = d.as_path();
    let bundle = &s.bundle;
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
            .arg(bundle)
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
    let vendor = tls::pki("vendor");
    let (port, seen) = tls::endpoint(&vendor);
    // Nothing listens on the help desk's port: every attempt is a retryable network error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let s = server(&[("vendor.pem", vendor.ca_pem.as_bytes())], |dir| {
        format!(
            "wall_clock = false\n\
             [connectors.http.stripe]\nurl = \"https://127.0.0.1:{port}/stripe\"\n\
             ca_file = \"{dir}/vendor.pem\"\nbackoff_ms = 20\n\
             [connectors.http.helpdesk]\nurl = \"http://127.0.0.1:{closed_port}/helpdesk\"\n\
             max_attempts = 3\nbackoff_ms = 20\ntimeout_ms = 500\n"
        )
    });
    let child = s.start();
    send_first_event(s.port);
    // The executor gives up after 3 attempts: the step has failed for good, so the saga
    // compensates (a saga waiting on a step nobody retries would wait forever).
    wait_for_compensation(s.port);
    s.stop(child);
    let actions: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, body)| serde_json::from_str::<Json>(body).unwrap()["action"].to_string())
        .collect();
    assert_eq!(actions, ["\"refund\"", "\"void_refund\""]);
    let (_, ledger, _) = s.export();
    let failed = entries(&ledger, "failed");
    assert_eq!(failed.len(), 1, "{ledger}");
    let detail = &failed[0]["detail"];
    assert_eq!(detail["action"], "helpdesk.reply");
    assert_eq!(detail["retryable"], false);
    let reason = detail["reason"].as_str().unwrap();
    assert!(reason.ends_with("(gave up after 3 attempts)"), "{reason}");
    assert_eq!(s.run(None), ledger);
}
