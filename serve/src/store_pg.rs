//! The [`Store`] contract on PostgreSQL (docs/deploy.md, "PostgreSQL"): the same tables as
//! the SQLite store, in one schema per project, so several projects share a database.
//!
//! Who writes: [`PgStore::open`] takes a session-level advisory lock on the schema's name,
//! held as long as the connection lives (one writer, a standby waits for the lock). `serve`
//! instead opens with [`PgStore::connect`] and a [`Fence`]: the node holding the project's
//! lease (`lease.rs`) writes, and every write transaction checks its fencing token in the
//! same transaction, so a deposed leader cannot write. Every commit is one transaction;
//! PostgreSQL's own durability (`synchronous_commit`, WAL) applies.
//!
//! The `queue` table holds the event lines a node that does not lead accepted (committed,
//! so acknowledged durably), in one order (a sequence); the leader applies them and records
//! their outcomes in the transaction of the inputs they became.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator as _;
use postgres::{Client, Transaction};

use crate::lease::Fence;
use crate::store::{
    Batch, HttpRow, Input, OutboxRow, Result, SNAPSHOTS_KEPT, SnapshotMeta, Store, StoreError, Tail,
};
use crate::store_pg_ddl::{READY, create_tables};

/// Rows fetched per round trip when a read streams a table.
const FETCH: i32 = 10_000;

pub struct PgStore {
    client: RefCell<Client>,
    /// A second connection, opened on first need, for a read made while a stream holds the
    /// first one (recovery compares ledger lines and loads deployed bundles while it
    /// streams the inputs it replays).
    aux: RefCell<Option<Client>>,
    /// To connect again when the connection was closed (the database restarted).
    url: String,
    schema: String,
    /// When set, every write checks this node still holds the lease with its token.
    fence: Option<Arc<Fence>>,
}

fn err(e: postgres::Error) -> StoreError {
    StoreError::Postgres(e)
}

/// A schema name we create and lock: lower-case ASCII letters, digits and `_`, not
/// starting with a digit, at most 63 bytes (PostgreSQL's identifier limit).
pub fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Fail the transaction unless `fence` (if any) still holds the project's lease by the
/// database's clock. `FOR SHARE` keeps the row as it is until this transaction ends: a
/// takeover waits for it, then sees the lease expired and bumps the token, so this
/// transaction's writes are the deposed leader's last.
fn check_fence(tx: &mut Transaction<'_>, fence: Option<&Arc<Fence>>) -> Result<()> {
    let Some(f) = fence else {
        return Ok(());
    };
    let token = f.leading().ok_or(StoreError::Fenced(0))?;
    let held = tx
        .query_opt(
            "SELECT 1 FROM leases WHERE project = $1 AND holder = $2 AND token = $3
             AND expires_at > now() FOR SHARE",
            &[&f.project, &f.holder, &token],
        )
        .map_err(err)?;
    match held {
        Some(_) => Ok(()),
        None => Err(StoreError::Fenced(token)),
    }
}

impl PgStore {
    /// Connect to `url` (`postgres://…` or `host=… user=…`), create the project's schema
    /// and tables if missing, and take the project's writer lock.
    pub fn open(url: &str, schema: &str) -> Result<PgStore> {
        let store = PgStore::connect(url, schema)?;
        let locked: bool = store
            .conn()?
            .query_one(
                "SELECT pg_try_advisory_lock(hashtext('meshline.' || $1))",
                &[&schema],
            )
            .map_err(err)?
            .get(0);
        if !locked {
            return Err(StoreError::Locked(format!(
                "project `{schema}`: another meshline serve holds its writer lock"
            )));
        }
        Ok(store)
    }

    /// Connect and create the project's schema and tables if missing, without a lock: for
    /// readers, the outbox executors, and a writer fenced by the lease ([`Self::fenced`]).
    pub fn connect(url: &str, schema: &str) -> Result<PgStore> {
        Ok(PgStore {
            client: RefCell::new(PgStore::client(url, schema)?),
            aux: RefCell::new(None),
            url: url.to_string(),
            schema: schema.to_string(),
            fence: None,
        })
    }

    fn client(url: &str, schema: &str) -> Result<Client> {
        if !valid_schema(schema) {
            return Err(StoreError::BadSchema(schema.to_string()));
        }
        let mut client =
            crate::pg_tls::connect(url, Duration::from_secs(10)).map_err(|e| match e {
                crate::pg_tls::ConnectError::Tls(e) => StoreError::Tls(e),
                crate::pg_tls::ConnectError::Postgres(e) => StoreError::Postgres(e),
            })?;
        // The tables exist (the last ones created below are there): no DDL, whose locks
        // (even `IF NOT EXISTS`) would contend with a leader's commits.
        let ready: bool = client
            .query_one(
                "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
                &[
                    &format!("{schema}.{}", READY[0]),
                    &format!("{schema}.{}", READY[1]),
                ],
            )
            .map_err(err)?
            .get(0);
        if !ready {
            create_tables(&mut client, schema)?;
        }
        client
            .batch_execute(&format!(
                "SET search_path TO {schema}; SET statement_timeout = 60000;"
            ))
            .map_err(err)?;
        Ok(client)
    }
}

impl PgStore {
    /// The connection, opened again first if it was closed (the database restarted or
    /// dropped it): a node rejoins without restarting.
    fn conn(&self) -> Result<std::cell::RefMut<'_, Client>> {
        let Ok(mut c) = self.client.try_borrow_mut() else {
            return self.aux_conn();
        };
        if c.is_closed() {
            *c = PgStore::client(&self.url, &self.schema)?;
        }
        Ok(c)
    }

    /// The second connection (see `aux`), opened or reopened as needed.
    fn aux_conn(&self) -> Result<std::cell::RefMut<'_, Client>> {
        let nested = || StoreError::BadInput("a read nested in two streams".to_string());
        let mut a = self.aux.try_borrow_mut().map_err(|_| nested())?;
        if a.as_ref().is_none_or(Client::is_closed) {
            *a = Some(PgStore::client(&self.url, &self.schema)?);
        }
        std::cell::RefMut::filter_map(a, Option::as_mut).map_err(|_| nested())
    }

    /// Every write from here on checks `fence`'s token (docs/deploy.md, "Several nodes").
    pub fn fenced(mut self, fence: Arc<Fence>) -> PgStore {
        self.fence = Some(fence);
        self
    }

    /// One write transaction, fenced.
    fn write<T>(&mut self, f: impl FnOnce(&mut Transaction<'_>) -> Result<T>) -> Result<T> {
        let fence = self.fence.clone();
        let mut client = self.conn()?;
        let mut tx = client.transaction().map_err(err)?;
        check_fence(&mut tx, fence.as_ref())?;
        let out = f(&mut tx)?;
        tx.commit().map_err(err)?;
        Ok(out)
    }

    /// Stream `sql` (with `after` as `$1`) through a portal, `FETCH` rows at a time, so a
    /// long table is never held in memory whole.
    fn stream(
        &self,
        sql: &str,
        after: i64,
        f: &mut dyn FnMut(&postgres::Row) -> Result<()>,
    ) -> Result<()> {
        let mut client = self.conn()?;
        let mut tx = client.transaction().map_err(err)?;
        let portal = tx.bind(sql, &[&after]).map_err(err)?;
        loop {
            let rows = tx.query_portal(&portal, FETCH).map_err(err)?;
            for r in &rows {
                f(r)?;
            }
            if rows.len() < FETCH as usize {
                break;
            }
        }
        tx.commit().map_err(err)
    }
}

impl Store for PgStore {
    fn bundle(&self) -> Result<Option<String>> {
        let row = self
            .conn()?
            .query_opt("SELECT value FROM meta WHERE key = 'bundle'", &[])
            .map_err(err)?;
        Ok(row.map(|r| String::from_utf8_lossy(r.get::<_, &[u8]>(0)).into_owned()))
    }

    fn set_bundle(&mut self, hash: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('bundle', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&hash.as_bytes()],
            )
            .map(drop)
            .map_err(err)
        })
    }

    fn get_bundle(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        let row = self
            .conn()?
            .query_opt("SELECT bytes FROM bundles WHERE hash = $1", &[&hash])
            .map_err(err)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn bundle_hashes(&self) -> Result<Vec<String>> {
        let rows = self
            .conn()?
            .query("SELECT hash FROM bundles ORDER BY hash", &[])
            .map_err(err)?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn for_each_input_after(&self, after: u64, f: &mut dyn FnMut(Input)) -> Result<()> {
        self.stream(
            "SELECT kind, body FROM inputs WHERE seq > $1 ORDER BY seq",
            to_i64(after),
            &mut |r| {
                f(Input::from_row(r.get(0), r.get(1))?);
                Ok(())
            },
        )
    }

    fn for_each_input_upto(&self, after: u64, upto: u64, f: &mut dyn FnMut(Input)) -> Result<()> {
        // `upto` is a number, not text: safe to splice.
        self.stream(
            &format!(
                "SELECT kind, body FROM inputs WHERE seq > $1 AND seq <= {} ORDER BY seq",
                to_i64(upto)
            ),
            to_i64(after),
            &mut |r| {
                f(Input::from_row(r.get(0), r.get(1))?);
                Ok(())
            },
        )
    }

    fn snapshots(&self) -> Result<Vec<SnapshotMeta>> {
        let rows = self
            .conn()?
            .query(
                "SELECT input_seq, bundle, ledger_seq, length(bytes)::BIGINT FROM snapshots
                 ORDER BY input_seq DESC",
                &[],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| SnapshotMeta {
                input_seq: to_u64(r.get(0)),
                bundle: r.get(1),
                ledger_seq: to_u64(r.get(2)),
                size: to_u64(r.get(3)),
            })
            .collect())
    }

    fn snapshot_bytes(&self, input_seq: u64) -> Result<Option<Vec<u8>>> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT bytes FROM snapshots WHERE input_seq = $1",
                &[&to_i64(input_seq)],
            )
            .map_err(err)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn ledger_line(&self, seq: u64) -> Result<Option<String>> {
        let row = self
            .conn()?
            .query_opt("SELECT line FROM ledger WHERE seq = $1", &[&to_i64(seq)])
            .map_err(err)?;
        Ok(row.map(|r| r.get(0)))
    }

    fn ledger_lines(&self, from: u64, to: u64, f: &mut dyn FnMut(u64, &str)) -> Result<()> {
        let mut client = self.conn()?;
        let mut rows = client
            .query_raw(
                "SELECT seq, line FROM ledger WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
                [to_i64(from), to_i64(to)],
            )
            .map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            f(to_u64(r.get(0)), r.get(1));
        }
        Ok(())
    }

    /// PostgreSQL checks its own pages; what can be checked here is that the project's
    /// tables answer.
    fn check(&self) -> Result<()> {
        self.conn()?
            .batch_execute(
                "SELECT 1 FROM meta LIMIT 1; SELECT 1 FROM inputs LIMIT 1;
                 SELECT 1 FROM ledger LIMIT 1; SELECT 1 FROM outbox LIMIT 1;",
            )
            .map_err(err)
    }

    fn probe_write(&mut self, bytes: usize) -> Result<()> {
        let blob = vec![0u8; bytes];
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('write_probe', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&blob],
            )
            .map_err(err)?;
            tx.execute("DELETE FROM meta WHERE key = 'write_probe'", &[])
                .map(drop)
                .map_err(err)
        })
    }

    fn tail(&self) -> Result<Tail> {
        let mut client = self.conn()?;
        let entries: i64 = client
            .query_one("SELECT COUNT(*) FROM ledger", &[])
            .map_err(err)?
            .get(0);
        let last_line = client
            .query_opt("SELECT line FROM ledger ORDER BY seq DESC LIMIT 1", &[])
            .map_err(err)?
            .map(|r| r.get(0));
        Ok(Tail {
            entries: to_u64(entries),
            last_line,
        })
    }

    fn commit(&mut self, batch: &Batch) -> Result<()> {
        let fence = self.fence.clone();
        let mut client = self.conn()?;
        let mut tx = client.transaction().map_err(err)?;
        check_fence(&mut tx, fence.as_ref())?;
        let done = tx
            .prepare(
                "UPDATE queue SET outcomes = $2, answered_at = now()
                 WHERE id = $1 AND outcomes IS NULL",
            )
            .map_err(err)?;
        for (id, outcomes) in &batch.dequeued {
            tx.execute(&done, &[&to_i64(*id), outcomes]).map_err(err)?;
        }
        // Input seqs follow on without gaps, as in SQLite (one writer per project).
        let mut seq: i64 = tx
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM inputs", &[])
            .map_err(err)?
            .get(0);
        let ins = tx
            .prepare("INSERT INTO inputs (seq, kind, body) VALUES ($1, $2, $3)")
            .map_err(err)?;
        for i in &batch.inputs {
            let (kind, body) = i.to_row();
            seq += 1;
            tx.execute(&ins, &[&seq, &kind, &body.as_ref()])
                .map_err(err)?;
        }
        let led = tx
            .prepare("INSERT INTO ledger (seq, case_id, kind, line) VALUES ($1, $2, $3, $4)")
            .map_err(err)?;
        for l in &batch.ledger {
            tx.execute(&led, &[&to_i64(l.seq), &l.case, &l.kind, &l.line])
                .map_err(err)?;
        }
        let bun = tx
            .prepare(
                "INSERT INTO bundles (hash, bytes) VALUES ($1, $2) ON CONFLICT (hash) DO NOTHING",
            )
            .map_err(err)?;
        for (h, b) in &batch.bundles {
            tx.execute(&bun, &[h, b]).map_err(err)?;
        }
        let out = tx
            .prepare("INSERT INTO outbox (seq, line, http_state) VALUES ($1, $2, $3)")
            .map_err(err)?;
        for o in &batch.outbox {
            let http = o.http.then_some("pending");
            tx.execute(&out, &[&to_i64(o.seq), &o.line, &http])
                .map_err(err)?;
        }
        if let Some(s) = &batch.snapshot {
            // It covers every input stored so far: this transaction's are included.
            tx.execute(
                "INSERT INTO snapshots (input_seq, bundle, ledger_seq, bytes) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (input_seq) DO UPDATE SET bundle = excluded.bundle,
                 ledger_seq = excluded.ledger_seq, bytes = excluded.bytes",
                &[&seq, &s.bundle, &to_i64(s.ledger_seq), &s.bytes],
            )
            .map_err(err)?;
            tx.execute(
                "DELETE FROM snapshots WHERE input_seq NOT IN
                 (SELECT input_seq FROM snapshots ORDER BY input_seq DESC LIMIT $1)",
                &[&to_i64(SNAPSHOTS_KEPT)],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn for_each_ledger_line(&self, f: &mut dyn FnMut(&str)) -> Result<()> {
        self.stream(
            "SELECT line FROM ledger WHERE seq > $1 ORDER BY seq",
            0,
            &mut |r| {
                f(r.get(0));
                Ok(())
            },
        )
    }

    fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxRow>> {
        let rows = self
            .conn()?
            .query(
                "SELECT seq, line FROM outbox WHERE NOT done ORDER BY seq LIMIT $1",
                &[&to_i64(limit as u64)],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| OutboxRow {
                seq: to_u64(r.get(0)),
                line: r.get(1),
                http: false,
            })
            .collect())
    }

    fn outbox_done(&mut self, seqs: &[u64]) -> Result<()> {
        let seqs: Vec<i64> = seqs.iter().map(|s| to_i64(*s)).collect();
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET done = TRUE WHERE seq = ANY($1)",
                &[&seqs],
            )
            .map(drop)
            .map_err(err)
        })
    }

    fn outbox_depth(&self) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COUNT(*) FROM outbox WHERE NOT done", &[])
            .map_err(err)?
            .get(0);
        Ok(to_u64(n))
    }

    fn outbox_last_seq(&self) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM outbox", &[])
            .map_err(err)?
            .get(0);
        Ok(to_u64(n))
    }

    fn http_due(&self, now_ms: i64, limit: usize) -> Result<Vec<HttpRow>> {
        let rows = self
            .conn()?
            .query(
                "SELECT seq, line, attempts FROM outbox WHERE http_state = 'pending'
                 AND next_ms <= $1 ORDER BY seq LIMIT $2",
                &[&now_ms, &to_i64(limit as u64)],
            )
            .map_err(err)?;
        Ok(rows
            .iter()
            .map(|r| HttpRow {
                seq: to_u64(r.get(0)),
                line: r.get(1),
                attempts: u32::try_from(r.get::<_, i64>(2)).unwrap_or(u32::MAX),
            })
            .collect())
    }

    fn http_update(
        &mut self,
        seq: u64,
        attempts: u32,
        next_ms: Option<i64>,
        state: &str,
    ) -> Result<()> {
        let state = if next_ms.is_some() { "pending" } else { state };
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET attempts = $2, next_ms = $3, http_state = $4 WHERE seq = $1",
                &[
                    &to_i64(seq),
                    &i64::from(attempts),
                    &next_ms.unwrap_or(0),
                    &state,
                ],
            )
            .map(drop)
            .map_err(err)
        })
    }

    fn http_remote(&mut self, seq: u64, remote: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE outbox SET remote = $2 WHERE seq = $1",
                &[&to_i64(seq), &remote],
            )
            .map(drop)
            .map_err(err)
        })
    }

    fn last_input_seq(&self) -> Result<u64> {
        let n: i64 = self
            .conn()?
            .query_one("SELECT COALESCE(MAX(seq), 0) FROM inputs", &[])
            .map_err(err)?
            .get(0);
        Ok(to_u64(n))
    }

    fn enqueue(&mut self, lines: &[String]) -> Result<u64> {
        let body = serde_json::to_string(lines)
            .map_err(|e| StoreError::BadInput(format!("queued lines: {e}")))?;
        let id: i64 = self
            .conn()?
            .query_one(
                "INSERT INTO queue (lines) VALUES ($1) RETURNING id",
                &[&body],
            )
            .map_err(err)?
            .get(0);
        Ok(to_u64(id))
    }

    fn queued(&self, limit: usize) -> Result<Vec<(u64, Vec<String>)>> {
        let rows = self
            .conn()?
            .query(
                "SELECT id, lines FROM queue WHERE outcomes IS NULL ORDER BY id LIMIT $1",
                &[&to_i64(limit as u64)],
            )
            .map_err(err)?;
        rows.iter()
            .map(|r| {
                let lines: Vec<String> = serde_json::from_str(r.get(1))
                    .map_err(|e| StoreError::BadInput(format!("queued lines: {e}")))?;
                Ok((to_u64(r.get(0)), lines))
            })
            .collect()
    }

    fn queue_outcomes(&mut self, ids: &[u64]) -> Result<Vec<(u64, String)>> {
        let ids: Vec<i64> = ids.iter().map(|s| to_i64(*s)).collect();
        let rows = self
            .conn()?
            // Read once: the node that queued them answers its caller, then they are gone.
            .query(
                "DELETE FROM queue WHERE id = ANY($1) AND outcomes IS NOT NULL
                 RETURNING id, outcomes",
                &[&ids],
            )
            .map_err(err)?;
        Ok(rows.iter().map(|r| (to_u64(r.get(0)), r.get(1))).collect())
    }

    fn forget_answered(&mut self, older_than: Duration) -> Result<u64> {
        let secs = older_than.as_secs_f64();
        self.conn()?
            .execute(
                "DELETE FROM queue WHERE outcomes IS NOT NULL
                 AND answered_at < now() - $1::FLOAT8 * interval '1 second'",
                &[&secs],
            )
            .map_err(err)
    }
}
