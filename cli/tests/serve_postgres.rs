//! `meshline serve --state postgres://…` (docs/deploy.md, "PostgreSQL"): the core flows of
//! the SQLite server on a throwaway PostgreSQL cluster — events posted, a case read, the
//! export verifies and replays to the same ledger, a SIGKILL and a restart keep the state —
//! and several nodes on one database (`serve_failover` below): one leads, the others queue,
//! a SIGKILLed leader is replaced, a node cut off from the database stops leading.
//!
//! Without PostgreSQL installed these skip with a message; under `CI=true` they fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::time::Duration;

use serde_json::Value as Json;

mod serve_support;
use serve_support::root;
use serve_support::server::{Server, http};

#[path = "../../serve/tests/pg/mod.rs"]
mod pg;

#[path = "serve_postgres/failover.rs"]
mod failover;

/// The example's sample on PostgreSQL: acknowledged, read back, exported, verified, replayed;
/// a SIGKILL and a restart change nothing, and the password never reaches the log.
#[test]
fn serve_on_postgres_keeps_the_sqlite_servers_flows() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    // The URL comes from a variable, as a password would.
    let s = Server::with_state("[cluster]\nproject = \"agency\"\n", "env:MESHLINE_TEST_DB");
    let env = vec![("MESHLINE_TEST_DB".to_string(), cluster.postgres_url())];
    let child = s.start_with_env(&env);
    let sample = std::fs::read(root().join("examples/agency-support/events/sample.jsonl")).unwrap();
    let (code, body) = http(s.port, "POST", "/events", &sample).unwrap();
    assert_eq!(code, 202, "{body}");
    let results: Json = serde_json::from_str(&body).unwrap();
    let statuses: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"accepted") && statuses.contains(&"duplicate"),
        "{body}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    let (code, case) = http(s.port, "GET", "/cases/T-3001", b"").unwrap();
    assert_eq!(code, 200, "{case}");
    let case: Json = serde_json::from_str(&case).unwrap();
    assert_eq!(case["class"], "Billing");
    assert!(case["ledger"].as_array().unwrap().len() > 3);
    s.kill(child);
    // Exported while nothing runs: the inputs and the ledger of one moment.
    let export = |_: &Server| {
        let mut e = std::process::Command::new(env!("CARGO_BIN_EXE_meshline"));
        e.envs(env.iter().map(|(k, v)| (k, v)));
        e
    };
    let out = export(&s)
        .args(["serve", "--state", "env:MESHLINE_TEST_DB", "--config"])
        .arg(s.path("serve.toml"))
        .arg("--export-events")
        .arg(s.path("events.jsonl"))
        .arg("--export-ledger")
        .arg(s.path("ledger.jsonl"))
        .arg("--export-bundles")
        .arg(s.path("bundles"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = std::fs::read_to_string(s.path("ledger.jsonl")).unwrap();
    let v = export(&s)
        .args(["ledger", "verify"])
        .arg(s.path("ledger.jsonl"))
        .output()
        .unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    assert!(
        before.contains("\"kind\":\"sla_breached\""),
        "no timer fired on the wall clock"
    );
    assert_eq!(s.run(None), before, "meshline run over the export differs");
    // A restart rebuilds the same state from PostgreSQL and fires nothing twice.
    let child = s.start_with_env(&env);
    let (code, case) = http(s.port, "GET", "/cases/T-3001", b"").unwrap();
    assert_eq!(code, 200, "{case}");
    std::thread::sleep(Duration::from_millis(1500));
    s.stop(child);
    let out = export(&s)
        .args(["serve", "--state", "env:MESHLINE_TEST_DB", "--config"])
        .arg(s.path("serve.toml"))
        .arg("--export-ledger")
        .arg(s.path("after.jsonl"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(s.path("after.jsonl")).unwrap(),
        before,
        "a restart changed the ledger"
    );
}

/// A URL with a password in it never shows in the log or an error.
#[test]
fn the_database_password_is_never_shown() {
    let s = Server::new("");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshline"))
        .arg("serve")
        .arg("--bundle")
        .arg(&s.bundle)
        .arg("--state")
        .arg("postgres://meshline:hunter2secret@127.0.0.1:1/meshline?connect_timeout=1")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("meshline:***@127.0.0.1"), "{err}");
    assert!(!err.contains("hunter2secret"), "{err}");
}

/// `--state` with `sslmode=verify-full` (docs/deploy.md, "TLS to the database"): serve runs
/// over a verified TLS connection, and a database whose certificate another CA signed is
/// refused at start with the reason.
#[test]
fn serve_reaches_postgres_over_verified_tls() {
    let (ca, cert, key) = pg::tls_pki("db");
    let Some(cluster) = pg::Cluster::start_tls(&cert, &key) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca).unwrap();
    let url = |roots: &std::path::Path| {
        format!(
            "postgresql://postgres@localhost:{}/postgres?sslmode=verify-full&sslrootcert={}",
            cluster.port(),
            roots.display()
        )
    };
    let s = Server::with_state("[cluster]\nproject = \"tls\"\n", &url(&ca_file));
    let child = s.start();
    let sample = std::fs::read(root().join("examples/agency-support/events/sample.jsonl")).unwrap();
    let (code, body) = http(s.port, "POST", "/events", &sample).unwrap();
    assert_eq!(code, 202, "{body}");
    s.stop(child);

    let (other, _, _) = pg::tls_pki("other");
    let other_file = dir.path().join("other.pem");
    std::fs::write(&other_file, other).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_meshline"))
        .arg("serve")
        .arg("--bundle")
        .arg(&s.bundle)
        .arg("--state")
        .arg(url(&other_file))
        .arg("--config")
        .arg(s.path("serve.toml"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("UnknownIssuer"), "{err}");
}
