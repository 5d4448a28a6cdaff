//! The leader lease and its fencing token (docs/deploy.md, "Several nodes"), on a throwaway
//! PostgreSQL cluster: one holder at a time, takeover only after expiry by the database's
//! clock, and a deposed leader's writes refused even while it still believes it leads.
//!
//! Without PostgreSQL installed these skip with a message; under `CI=true` they fail.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and the cluster helper is `pub` for this file"
)]

mod pg;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use meshline_serve::lease::{self, Fence};
use meshline_serve::store::{Batch, Input, LedgerRow, Store, StoreError};
use meshline_serve::store_pg::PgStore;

fn wait(what: &str, f: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn batch(id: &str, seq: u64) -> Batch {
    Batch {
        inputs: vec![Input::Event(format!("{{\"id\":\"{id}\"}}"))],
        ledger: vec![LedgerRow {
            seq,
            case: None,
            kind: "received".into(),
            line: format!("{{\"seq\":{seq}}}"),
        }],
        ..Batch::default()
    }
}

#[test]
fn a_deposed_leader_cannot_write() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let url = cluster.postgres_url();
    // Long leases: A still believes it leads (its next renewal is 20 s away) when the
    // database has already given the lease to B.
    let lease_len = Duration::from_secs(60);
    let a = Arc::new(Fence::new("fenced", "a"));
    let b = Arc::new(Fence::new("fenced", "b"));
    let mut store_a = PgStore::connect(&url, "fenced").unwrap().fenced(a.clone());
    let mut store_b = PgStore::connect(&url, "fenced").unwrap().fenced(b.clone());
    // Not leading: nothing is written.
    assert!(matches!(
        store_a.commit(&batch("early", 1)),
        Err(StoreError::Fenced(0))
    ));
    let stop_a = Arc::new(AtomicBool::new(false));
    let ta = lease::spawn(url.clone(), a.clone(), lease_len, stop_a.clone()).unwrap();
    wait("A leads", || a.leading().is_some());
    store_a.commit(&batch("a1", 1)).unwrap();
    let stop_b = Arc::new(AtomicBool::new(false));
    let tb = lease::spawn(url.clone(), b.clone(), lease_len, stop_b.clone()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert!(b.leading().is_none(), "B took a lease that had not expired");
    // The lease expires by the database's clock: B takes it, with the next token.
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .execute(
            "UPDATE fenced.leases SET expires_at = now() - interval '1 second'",
            &[],
        )
        .unwrap();
    wait("B leads", || b.leading().is_some());
    let (ta_token, tb_token) = (a.leading(), b.leading().unwrap());
    assert_eq!(
        ta_token.map(|t| t + 1),
        Some(tb_token),
        "A still believes it leads"
    );
    // A's write is refused in its transaction: nothing of it is stored.
    let e = store_a.commit(&batch("a2", 2)).unwrap_err();
    assert!(
        matches!(e, StoreError::Fenced(t) if Some(t) == ta_token),
        "{e}"
    );
    assert!(e.to_string().contains("no longer leads"), "{e}");
    assert!(store_a.outbox_done(&[1]).is_err());
    assert_eq!(store_a.last_input_seq().unwrap(), 1);
    store_b.commit(&batch("b1", 2)).unwrap();
    let mut ids = Vec::new();
    store_b
        .for_each_input(&mut |i| ids.push(format!("{i:?}")))
        .unwrap();
    assert_eq!(ids.len(), 2, "{ids:?}");
    assert!(ids[1].contains("b1"), "{ids:?}");
    // A stopping gives nothing up (it no longer holds the lease); B stopping gives it up.
    stop_a.store(true, std::sync::atomic::Ordering::SeqCst);
    ta.join().unwrap();
    stop_b.store(true, std::sync::atomic::Ordering::SeqCst);
    tb.join().unwrap();
    let row = admin
        .query_one(
            "SELECT holder, token, expires_at <= now() FROM fenced.leases",
            &[],
        )
        .unwrap();
    assert_eq!(row.get::<_, String>(0), b.holder);
    assert_eq!(row.get::<_, i64>(1), tb_token);
    assert!(
        row.get::<_, bool>(2),
        "B's graceful stop did not give the lease up"
    );
}
