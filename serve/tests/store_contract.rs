//! The storage contract, run against both backends: SQLite (a file) and PostgreSQL (a
//! throwaway cluster started for the test with the machine's `initdb` and `pg_ctl`).
//!
//! Without PostgreSQL installed the PostgreSQL half is skipped with a message; under
//! `CI=true` it fails instead (docs/deploy.md, "PostgreSQL").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and the cluster helper is `pub` for this file"
)]

mod pg;

use meshline_serve::store::{
    Batch, Deploy, Input, LedgerRow, NewSnapshot, OutboxRow, SNAPSHOTS_KEPT, SqliteStore, Store,
};
use meshline_serve::store_pg::PgStore;

fn ledger_row(seq: u64, case: Option<&str>) -> LedgerRow {
    LedgerRow {
        seq,
        case: case.map(str::to_string),
        kind: "received".into(),
        line: format!("{{\"seq\":{seq},\"note\":\"é ✓ \\u0000\"}}"),
    }
}

/// A deployment with the note its `deployed` entry records (who, the signer).
fn noted(hash: &str) -> Deploy {
    let mut d = Deploy::bare(hash);
    d.note.insert("by".into(), serde_json::json!("rachel"));
    d
}

fn inputs(store: &dyn Store, after: u64) -> Vec<Input> {
    let mut out = Vec::new();
    store
        .for_each_input_after(after, &mut |i| out.push(i))
        .unwrap();
    out
}

/// Everything a writer, a recovery and an executor rely on.
fn contract(store: &mut dyn Store) {
    // Empty.
    assert_eq!(store.bundle().unwrap(), None);
    assert_eq!(store.tail().unwrap().entries, 0);
    assert!(inputs(store, 0).is_empty());
    assert!(store.snapshots().unwrap().is_empty());
    assert_eq!(store.outbox_depth().unwrap(), 0);
    store.check().unwrap();
    store.probe_write(4096).unwrap();

    // A first batch: an event, a tick and a deployment, their ledger lines, a bundle, two
    // commands (one delivered over HTTP).
    store.set_bundle("hash-a").unwrap();
    let first = Batch {
        inputs: vec![
            Input::Event("{\"id\":\"e1\"}".into()),
            Input::Tick("2026-03-02T10:00:00Z".into()),
            Input::Bundle(noted("hash-b")),
        ],
        ledger: vec![ledger_row(1, Some("T-1")), ledger_row(2, None)],
        outbox: vec![
            OutboxRow {
                seq: 1,
                line: "{\"kind\":\"notify\"}".into(),
                http: false,
            },
            OutboxRow {
                seq: 2,
                line: "{\"kind\":\"action\"}".into(),
                http: true,
            },
        ],
        bundles: vec![("hash-b".into(), vec![0, 1, 2, 255])],
        snapshot: None,
        dequeued: Vec::new(),
    };
    store.commit(&first).unwrap();
    assert_eq!(store.bundle().unwrap().as_deref(), Some("hash-a"));
    assert_eq!(
        store.get_bundle("hash-b").unwrap(),
        Some(vec![0, 1, 2, 255])
    );
    assert_eq!(store.get_bundle("nope").unwrap(), None);
    assert_eq!(store.bundle_hashes().unwrap(), ["hash-b"]);
    assert_eq!(
        inputs(store, 0),
        [
            Input::Event("{\"id\":\"e1\"}".into()),
            Input::Tick("2026-03-02T10:00:00Z".into()),
            Input::Bundle(noted("hash-b")),
        ]
    );
    assert_eq!(inputs(store, 2), [Input::Bundle(noted("hash-b"))]);
    let tail = store.tail().unwrap();
    assert_eq!(tail.entries, 2);
    assert_eq!(tail.last_line, Some(ledger_row(2, None).line));
    assert_eq!(
        store.ledger_line(1).unwrap(),
        Some(ledger_row(1, None).line)
    );
    assert_eq!(store.ledger_line(9).unwrap(), None);
    let mut lines = Vec::new();
    store
        .ledger_lines(2, 5, &mut |seq, l| lines.push((seq, l.to_string())))
        .unwrap();
    assert_eq!(lines, [(2, ledger_row(2, None).line)]);

    // The outbox: both pending; the HTTP one is due; an attempt reschedules it, a final
    // one ends it.
    assert_eq!(store.outbox_depth().unwrap(), 2);
    let pending: Vec<u64> = store
        .outbox_pending(10)
        .unwrap()
        .iter()
        .map(|o| o.seq)
        .collect();
    assert_eq!(pending, [1, 2]);
    let due = store.http_due(0, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!((due[0].seq, due[0].attempts), (2, 0));
    store.http_update(2, 1, Some(5_000), "failed").unwrap();
    assert!(store.http_due(4_999, 10).unwrap().is_empty());
    assert_eq!(store.http_due(5_000, 10).unwrap()[0].attempts, 1);
    store.http_update(2, 2, None, "sent").unwrap();
    assert!(store.http_due(i64::MAX, 10).unwrap().is_empty());
    store.outbox_done(&[1, 2]).unwrap();
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert!(store.outbox_pending(10).unwrap().is_empty());

    // Snapshots cover every input stored so far, their own batch's included; the newest
    // `SNAPSHOTS_KEPT` are kept, newest first.
    for n in 0..3u64 {
        let batch = Batch {
            inputs: vec![Input::Event(format!("{{\"id\":\"s{n}\"}}"))],
            ledger: vec![ledger_row(3 + n, Some("T-2"))],
            snapshot: Some(NewSnapshot {
                bundle: "hash-b".into(),
                ledger_seq: 3 + n,
                bytes: vec![n as u8; 3],
            }),
            ..Batch::default()
        };
        store.commit(&batch).unwrap();
    }
    let snaps = store.snapshots().unwrap();
    assert_eq!(snaps.len() as u64, SNAPSHOTS_KEPT);
    assert_eq!(snaps[0].input_seq, 6);
    assert_eq!((snaps[0].ledger_seq, snaps[0].size), (5, 3));
    assert_eq!(snaps[1].input_seq, 5);
    assert_eq!(store.snapshot_bytes(6).unwrap(), Some(vec![2, 2, 2]));
    assert_eq!(store.snapshot_bytes(4).unwrap(), None);
    let mut all = Vec::new();
    store
        .for_each_ledger_line(&mut |l| all.push(l.to_string()))
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(all[4], ledger_row(5, None).line);

    // A batch that breaks a constraint (a ledger seq already stored) commits nothing.
    let bad = Batch {
        inputs: vec![Input::Event("{\"id\":\"lost\"}".into())],
        ledger: vec![ledger_row(5, None)],
        ..Batch::default()
    };
    assert!(store.commit(&bad).is_err());
    assert_eq!(inputs(store, 6), []);
    assert_eq!(store.tail().unwrap().entries, 5);
}

#[test]
fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
    contract(&mut store);
}

#[test]
fn postgres_keeps_the_store_contract() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let mut store = PgStore::open(&cluster.url(), "contract").unwrap();
    contract(&mut store);
    // Reopened after the writer is gone, the state is all there.
    drop(store);
    let again = PgStore::open(&cluster.url(), "contract").unwrap();
    assert_eq!(again.tail().unwrap().entries, 5);
}

#[test]
fn postgres_projects_are_apart_and_have_one_writer_each() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let mut a = PgStore::open(&cluster.url(), "tenant_a").unwrap();
    let b = PgStore::open(&cluster.url(), "tenant_b").unwrap();
    a.commit(&Batch {
        inputs: vec![Input::Event("{\"id\":\"a1\"}".into())],
        ledger: vec![ledger_row(1, Some("T-1"))],
        ..Batch::default()
    })
    .unwrap();
    assert_eq!(inputs(&a, 0).len(), 1);
    assert!(inputs(&b, 0).is_empty(), "projects share nothing");
    // A second writer for the same project is refused while the first lives.
    let second = PgStore::open(&cluster.url(), "tenant_a");
    let Err(e) = second else {
        panic!("a second writer was let in");
    };
    assert!(e.to_string().contains("writer lock"), "{e}");
    drop(a);
    // The lock goes with the connection: a standby takes over.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match PgStore::open(&cluster.url(), "tenant_a") {
            Ok(s) => {
                assert_eq!(inputs(&s, 0).len(), 1);
                break;
            }
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Err(e) => panic!("the lock was not released: {e}"),
        }
    }
    // Names that are not plain identifiers never reach SQL.
    for bad in ["", "Tenant", "a;drop", "9lives", &"x".repeat(64)] {
        assert!(PgStore::open(&cluster.url(), bad).is_err(), "{bad:?}");
    }
}

#[test]
fn postgres_forgets_answered_requests_nobody_read_and_upgrades_old_schemas() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let mut store = PgStore::open(&cluster.url(), "queue").unwrap();
    let answered = store.enqueue(&["{\"id\":\"a\"}".to_string()]).unwrap();
    let open = store.enqueue(&["{\"id\":\"b\"}".to_string()]).unwrap();
    store
        .commit(&Batch {
            inputs: vec![Input::Event("{\"id\":\"a\"}".into())],
            dequeued: vec![(answered, "[\"accepted\"]".into())],
            ..Batch::default()
        })
        .unwrap();
    // Kept while a node may still come back for it.
    let hour = std::time::Duration::from_secs(3600);
    assert_eq!(store.forget_answered(hour).unwrap(), 0);
    // Past the retention: the answered row goes, the one not applied yet stays.
    assert_eq!(store.forget_answered(std::time::Duration::ZERO).unwrap(), 1);
    assert!(store.queue_outcomes(&[answered]).unwrap().is_empty());
    let queued: Vec<u64> = store
        .queued(10)
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(queued, [open]);
    drop(store);

    // A schema from before `answered_at` is brought up to date when a node connects.
    let mut c = postgres::Client::connect(&cluster.url(), postgres::NoTls).unwrap();
    c.batch_execute(
        "DROP INDEX queue.queue_answered; ALTER TABLE queue.queue DROP COLUMN answered_at;",
    )
    .unwrap();
    let mut store = PgStore::open(&cluster.url(), "queue").unwrap();
    let id = store.enqueue(&["{\"id\":\"c\"}".to_string()]).unwrap();
    store
        .commit(&Batch {
            inputs: vec![Input::Event("{\"id\":\"c\"}".into())],
            dequeued: vec![(id, "[\"accepted\"]".into())],
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(store.forget_answered(std::time::Duration::ZERO).unwrap(), 1);
}

/// Recovery on PostgreSQL reads the ledger (and stored bundles) while it streams the inputs
/// it replays; a node following a long stretch once panicked with "RefCell already
/// borrowed" here.
#[test]
fn postgres_reads_while_streaming_inputs() {
    let Some(cluster) = pg::Cluster::start() else {
        return;
    };
    let mut store = PgStore::open(&cluster.url(), "nested").unwrap();
    store
        .commit(&Batch {
            inputs: vec![
                Input::Event("{\"id\":\"a\"}".into()),
                Input::Event("{\"id\":\"b\"}".into()),
            ],
            ledger: vec![ledger_row(1, Some("T-1")), ledger_row(2, Some("T-1"))],
            ..Batch::default()
        })
        .unwrap();
    let mut seen = Vec::new();
    store
        .for_each_input_upto(0, 10, &mut |_| {
            let mut lines = 0;
            store.ledger_lines(1, 2, &mut |_, _| lines += 1).unwrap();
            seen.push(lines);
        })
        .unwrap();
    assert_eq!(seen, [2, 2]);
}
