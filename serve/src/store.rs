//! Durable storage behind a trait: the inputs the engine applied (events and wall-clock
//! ticks, in order), the ledger and the outbox. One [`Batch`] is one transaction.
//!
//! The engine's state is rebuilt on start by replaying the inputs (the engine is
//! deterministic, §6.4) and checked against the stored ledger's tail. Engine snapshots are
//! a cache beside the inputs: each covers the inputs up to a seq and is committed in the
//! same transaction as the last of them, so replay can start after it.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

pub type Result<T> = std::result::Result<T, StoreError>;

/// Why the store could not read or write.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file could not be opened.
    Open {
        path: PathBuf,
        error: rusqlite::Error,
    },
    /// SQLite failed a statement (a full disk, an I/O error, a locked or damaged file).
    Sqlite(rusqlite::Error),
    /// The inputs table holds a kind this version does not know.
    UnknownInputKind(String),
    /// SQLite's `quick_check` found damage (its first findings).
    Damaged(Vec<String>),
    /// A stored input of a known kind that cannot be read.
    BadInput(String),
    /// PostgreSQL refused a connection or a statement.
    Postgres(postgres::Error),
    /// Another writer holds the project's lock.
    Locked(String),
    /// A project (schema) name that is not a plain lower-case identifier.
    BadSchema(String),
    /// The connection string's TLS settings (`sslmode`, `sslrootcert`) cannot be used.
    Tls(crate::pg_tls::TlsSettingError),
    /// This node no longer holds the project's lease with this fencing token (0: its
    /// lease ended locally): another node leads, nothing was written.
    Fenced(i64),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { path, error } => write!(f, "{}: {error}", path.display()),
            StoreError::Sqlite(e) => write!(f, "storage: {e}"),
            StoreError::UnknownInputKind(k) => write!(f, "storage: unknown input kind {k:?}"),
            StoreError::BadInput(e) => write!(f, "storage: {e}"),
            StoreError::Damaged(found) => write!(
                f,
                "the database is damaged (SQLite quick_check: {})",
                found.join("; ")
            ),
            // The server's own message says what failed ("db error" alone does not).
            StoreError::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(
                    f,
                    "storage (PostgreSQL): {}: {}",
                    db.code().code(),
                    db.message()
                ),
                None => write!(f, "storage (PostgreSQL): {}", crate::pg_tls::describe(e)),
            },
            StoreError::Locked(why) => write!(f, "storage: {why}"),
            StoreError::Tls(e) => write!(f, "storage (PostgreSQL): {e}"),
            StoreError::Fenced(token) => write!(
                f,
                "storage: not written: this node no longer leads (lease token {token} is not \
                 current)"
            ),
            StoreError::BadSchema(name) => write!(
                f,
                "storage: `{name}` is not a project name (lower-case letters, digits and `_`, \
                 not starting with a digit, at most 63 bytes)"
            ),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Open { error, .. } | StoreError::Sqlite(error) => Some(error),
            StoreError::Postgres(error) => Some(error),
            StoreError::Tls(error) => Some(error),
            StoreError::UnknownInputKind(_)
            | StoreError::Damaged(_)
            | StoreError::BadInput(_)
            | StoreError::Locked(_)
            | StoreError::Fenced(_)
            | StoreError::BadSchema(_) => None,
        }
    }
}

/// Within `serve`, a storage failure joins the other reasons a server stops or refuses,
/// which are text (its message is the same).
impl From<StoreError> for String {
    fn from(e: StoreError) -> String {
        e.to_string()
    }
}

/// One thing the engine applied, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// An envelope line, exactly as applied.
    Event(String),
    /// The wall clock advanced to this RFC 3339 instant (timers due by then fired).
    Tick(String),
    /// The bundle with this content hash decides from here on (a deployment).
    Bundle(Deploy),
}

/// A deployment as stored: the bundle's content hash and what its `deployed` entry records
/// besides `from` and `to` (docs/deploy.md, "Change history"). Stored as the bare hash
/// (kind `bundle`) when the note is empty, as deployments before the note existed were,
/// and as `{"bundle":HASH,"note":{…}}` (kind `deploy`) otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deploy {
    pub hash: String,
    pub note: serde_json::Map<String, serde_json::Value>,
}

impl Deploy {
    /// A deployment with no note.
    pub fn bare(hash: &str) -> Deploy {
        Deploy {
            hash: hash.to_string(),
            note: serde_json::Map::new(),
        }
    }

    /// The stored (kind, body).
    pub(crate) fn to_row(&self) -> (&'static str, String) {
        if self.note.is_empty() {
            return ("bundle", self.hash.clone());
        }
        let v = serde_json::json!({ "bundle": self.hash, "note": self.note });
        ("deploy", meshline_runtime::ledger::canonical_json(&v))
    }

    pub(crate) fn from_deploy_body(body: &str) -> Result<Deploy> {
        let bad = |why: &str| StoreError::BadInput(format!("stored deployment {body:?}: {why}"));
        let v: serde_json::Value = serde_json::from_str(body).map_err(|e| bad(&e.to_string()))?;
        let hash = v.get("bundle").and_then(serde_json::Value::as_str);
        let note = v.get("note").and_then(serde_json::Value::as_object);
        match (hash, note) {
            (Some(h), Some(n)) => Ok(Deploy {
                hash: h.to_string(),
                note: n.clone(),
            }),
            _ => Err(bad("expected {\"bundle\":HASH,\"note\":{…}}")),
        }
    }
}

impl Input {
    /// An input from its stored row (`kind`, `body`), in either backend.
    pub(crate) fn from_row(kind: &str, body: String) -> Result<Input> {
        Ok(match kind {
            "event" => Input::Event(body),
            "tick" => Input::Tick(body),
            "bundle" => Input::Bundle(Deploy::bare(&body)),
            "deploy" => Input::Bundle(Deploy::from_deploy_body(&body)?),
            other => return Err(StoreError::UnknownInputKind(other.to_string())),
        })
    }

    /// The stored row (`kind`, `body`) of an input.
    pub(crate) fn to_row(&self) -> (&'static str, std::borrow::Cow<'_, str>) {
        match self {
            Input::Event(b) => ("event", b.into()),
            Input::Tick(t) => ("tick", t.into()),
            Input::Bundle(d) => {
                let (kind, body) = d.to_row();
                (kind, body.into())
            }
        }
    }
}

/// A command for the outbox.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub seq: u64,
    pub line: String,
    /// Delivered by an HTTP connector (an `action` for a connector configured as HTTP).
    pub http: bool,
}

/// An outbox command waiting for its HTTP connector.
#[derive(Clone, Debug)]
pub struct HttpRow {
    pub seq: u64,
    pub line: String,
    /// Attempts made so far.
    pub attempts: u32,
}

/// Everything a group of inputs caused, committed together.
#[derive(Default)]
pub struct Batch {
    pub inputs: Vec<Input>,
    /// Ledger lines (JSON, no newline) with their seq, case and kind.
    pub ledger: Vec<LedgerRow>,
    pub outbox: Vec<OutboxRow>,
    /// Bundles to keep (content hash, bytes), for replay and rollback.
    pub bundles: Vec<(String, Vec<u8>)>,
    /// An engine snapshot of the state after every input stored so far, this batch's
    /// included.
    pub snapshot: Option<NewSnapshot>,
    /// Queued requests (PostgreSQL, [`Store::queued`]) applied in this batch: their id and
    /// outcomes (JSON), recorded with the inputs they became.
    pub dequeued: Vec<(u64, String)>,
}

/// A snapshot to store (its input seq is the last input's, known in the transaction).
#[derive(Clone, Debug)]
pub struct NewSnapshot {
    /// The bundle deciding when it was taken.
    pub bundle: String,
    /// The ledger's last seq when it was taken.
    pub ledger_seq: u64,
    pub bytes: Vec<u8>,
}

/// A stored snapshot, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotMeta {
    /// The last input it covers: replay continues after it.
    pub input_seq: u64,
    pub bundle: String,
    pub ledger_seq: u64,
    pub size: u64,
}

/// How many snapshots are kept (the newest ones).
pub const SNAPSHOTS_KEPT: u64 = 2;

#[derive(Clone, Debug)]
pub struct LedgerRow {
    pub seq: u64,
    pub case: Option<String>,
    pub kind: String,
    pub line: String,
}

/// The ledger's tail as stored: how many entries and the last line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tail {
    pub entries: u64,
    pub last_line: Option<String>,
}

/// Durable storage for `meshline serve`: [`SqliteStore`] on one machine, and
/// `PgStore` (in `store_pg.rs`) on PostgreSQL (`serve/tests/store_contract.rs` runs the same
/// contract against both).
pub trait Store: Send {
    /// The bundle hash the state was first built with, if any.
    fn bundle(&self) -> Result<Option<String>>;
    fn set_bundle(&mut self, hash: &str) -> Result<()>;
    /// A stored bundle's bytes by content hash.
    fn get_bundle(&self, hash: &str) -> Result<Option<Vec<u8>>>;
    /// The content hashes of every stored bundle, sorted.
    fn bundle_hashes(&self) -> Result<Vec<String>>;
    /// Every stored input, in order.
    fn for_each_input(&self, f: &mut dyn FnMut(Input)) -> Result<()> {
        self.for_each_input_after(0, f)
    }
    /// The stored inputs whose seq is greater than `after`, in order.
    fn for_each_input_after(&self, after: u64, f: &mut dyn FnMut(Input)) -> Result<()>;
    /// The stored inputs with `after < seq <= upto`, in order (seqs have no gaps): a
    /// follower catching up reads a bounded step, not the whole backlog.
    fn for_each_input_upto(&self, after: u64, upto: u64, f: &mut dyn FnMut(Input)) -> Result<()> {
        let mut seq = after;
        self.for_each_input_after(after, &mut |i| {
            seq += 1;
            if seq <= upto {
                f(i);
            }
        })
    }
    /// The stored snapshots, newest first.
    fn snapshots(&self) -> Result<Vec<SnapshotMeta>>;
    /// A stored snapshot's bytes.
    fn snapshot_bytes(&self, input_seq: u64) -> Result<Option<Vec<u8>>>;
    /// The ledger line with this seq.
    fn ledger_line(&self, seq: u64) -> Result<Option<String>>;
    /// The ledger lines with `from <= seq <= to`, in order, with their seq.
    fn ledger_lines(&self, from: u64, to: u64, f: &mut dyn FnMut(u64, &str)) -> Result<()>;
    /// The database's own consistency check (SQLite `quick_check`): `Err` names what is
    /// damaged.
    fn check(&self) -> Result<()>;
    /// Whether a write of about `bytes` can commit now (written, committed, then removed):
    /// how a server that could not commit learns that it can again.
    fn probe_write(&mut self, bytes: usize) -> Result<()>;
    fn tail(&self) -> Result<Tail>;
    /// Commit one batch atomically and durably.
    fn commit(&mut self, batch: &Batch) -> Result<()>;
    /// The whole ledger, in order.
    fn for_each_ledger_line(&self, f: &mut dyn FnMut(&str)) -> Result<()>;
    /// Outbox commands not yet delivered, oldest first.
    fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxRow>>;
    /// Mark commands delivered.
    fn outbox_done(&mut self, seqs: &[u64]) -> Result<()>;
    fn outbox_depth(&self) -> Result<u64>;
    /// The highest command seq the outbox holds (0 when empty): a rebuilt engine numbers
    /// its next command after it.
    fn outbox_last_seq(&self) -> Result<u64>;
    /// HTTP deliveries due at or before `now_ms`, oldest first.
    fn http_due(&self, now_ms: i64, limit: usize) -> Result<Vec<HttpRow>>;
    /// Record an attempt: `next_ms` is when to try again, or `None` when finished
    /// (`state`: `sent` or `failed`).
    fn http_update(
        &mut self,
        seq: u64,
        attempts: u32,
        next_ms: Option<i64>,
        state: &str,
    ) -> Result<()>;
    /// Record the vendor's id for what delivering outbox row `seq` created or changed
    /// (docs/connectors.md).
    fn http_remote(&mut self, seq: u64, remote: &str) -> Result<()>;
    /// The last stored input's seq (0: none).
    fn last_input_seq(&self) -> Result<u64>;
    /// Queue event lines for the leader to apply (several nodes on PostgreSQL,
    /// docs/deploy.md "Several nodes"): committed when this returns; its id.
    fn enqueue(&mut self, _lines: &[String]) -> Result<u64> {
        Err(StoreError::BadInput(
            "this store has one writer and no queue".to_string(),
        ))
    }
    /// Queued requests not applied yet, oldest first: (id, lines).
    fn queued(&self, _limit: usize) -> Result<Vec<(u64, Vec<String>)>> {
        Ok(Vec::new())
    }
    /// The outcomes (JSON) of those of `ids` applied; each is returned once.
    fn queue_outcomes(&mut self, _ids: &[u64]) -> Result<Vec<(u64, String)>> {
        Ok(Vec::new())
    }
    /// Delete the queued requests answered more than `older_than` ago (by the database's
    /// clock) that no node came back for: their node stopped waiting or died. Returns how
    /// many went.
    fn forget_answered(&mut self, _older_than: std::time::Duration) -> Result<u64> {
        Ok(0)
    }
}

pub struct SqliteStore {
    conn: Connection,
}

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e)
}

impl SqliteStore {
    /// Open (or create) the database: WAL, `synchronous=FULL` (fsync on every commit).
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(|error| StoreError::Open {
            path: path.to_path_buf(),
            error,
        })?;
        Self::init(conn)
    }

    /// Let the file grow to about `bytes` at most: past it commits fail as on a full disk.
    pub fn set_max_bytes(&mut self, bytes: u64) -> Result<()> {
        let page: u64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(err)?;
        let pages = (bytes / page.max(1)).max(1);
        self.conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |_| Ok(()))
            .map_err(err)
    }

    fn init(conn: Connection) -> Result<SqliteStore> {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(err)?;
        // A larger page cache and fewer checkpoints keep the writer's commits short.
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(err)?;
        conn.pragma_update(None, "wal_autocheckpoint", 16_384)
            .map_err(err)?;
        // The writer and the outbox executor each hold a connection.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS inputs (
                 seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS ledger (
                 seq INTEGER PRIMARY KEY, case_id TEXT, kind TEXT NOT NULL, line TEXT NOT NULL);
             CREATE INDEX IF NOT EXISTS ledger_case ON ledger (case_id);
             CREATE TABLE IF NOT EXISTS outbox (
                 seq INTEGER PRIMARY KEY, line TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
                 http_state TEXT, attempts INTEGER NOT NULL DEFAULT 0,
                 next_ms INTEGER NOT NULL DEFAULT 0);
             CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (done, seq);
             CREATE INDEX IF NOT EXISTS outbox_http ON outbox (http_state, next_ms);
             CREATE TABLE IF NOT EXISTS bundles (hash TEXT PRIMARY KEY, bytes BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS snapshots (
                 input_seq INTEGER PRIMARY KEY, bundle TEXT NOT NULL,
                 ledger_seq INTEGER NOT NULL, bytes BLOB NOT NULL);",
        )
        .map_err(err)?;
        // The vendor's id for what a delivery created (docs/connectors.md); a state file
        // made before it gains the column (NULL for the rows delivered then).
        let has_remote = |c: &Connection| c.prepare("SELECT remote FROM outbox LIMIT 0").is_ok();
        if !has_remote(&conn)
            && let Err(e) = conn.execute_batch("ALTER TABLE outbox ADD COLUMN remote TEXT")
            // Another connection may have added it in between.
            && !has_remote(&conn)
        {
            return Err(err(e));
        }
        Ok(SqliteStore { conn })
    }
}

impl Store for SqliteStore {
    fn bundle(&self) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = 'bundle'", [], |r| {
                r.get(0)
            })
            .optional()
            .map_err(err)
    }

    fn set_bundle(&mut self, hash: &str) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO meta (key, value) VALUES ('bundle', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![hash],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn get_bundle(&self, hash: &str) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT bytes FROM bundles WHERE hash = ?1",
                params![hash],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
    }

    fn bundle_hashes(&self) -> Result<Vec<String>> {
        let mut st = self
            .conn
            .prepare("SELECT hash FROM bundles ORDER BY hash")
            .map_err(err)?;
        let rows = st.query_map([], |r| r.get(0)).map_err(err)?;
        rows.collect::<std::result::Result<_, _>>().map_err(err)
    }

    fn for_each_input_after(&self, after: u64, f: &mut dyn FnMut(Input)) -> Result<()> {
        let mut st = self
            .conn
            .prepare("SELECT kind, body FROM inputs WHERE seq > ?1 ORDER BY seq")
            .map_err(err)?;
        let mut rows = st.query(params![after as i64]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let kind: String = r.get(0).map_err(err)?;
            f(Input::from_row(&kind, r.get(1).map_err(err)?)?);
        }
        Ok(())
    }

    fn snapshots(&self) -> Result<Vec<SnapshotMeta>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT input_seq, bundle, ledger_seq, length(bytes) FROM snapshots
                 ORDER BY input_seq DESC",
            )
            .map_err(err)?;
        let rows = st
            .query_map([], |r| {
                Ok(SnapshotMeta {
                    input_seq: r.get::<_, i64>(0)? as u64,
                    bundle: r.get(1)?,
                    ledger_seq: r.get::<_, i64>(2)? as u64,
                    size: r.get::<_, i64>(3)? as u64,
                })
            })
            .map_err(err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(err)
    }

    fn snapshot_bytes(&self, input_seq: u64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT bytes FROM snapshots WHERE input_seq = ?1",
                params![input_seq as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
    }

    fn ledger_line(&self, seq: u64) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT line FROM ledger WHERE seq = ?1",
                params![seq as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)
    }

    fn ledger_lines(&self, from: u64, to: u64, f: &mut dyn FnMut(u64, &str)) -> Result<()> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, line FROM ledger WHERE seq BETWEEN ?1 AND ?2 ORDER BY seq")
            .map_err(err)?;
        let mut rows = st.query(params![from as i64, to as i64]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let seq: i64 = r.get(0).map_err(err)?;
            let line: String = r.get(1).map_err(err)?;
            f(seq as u64, &line);
        }
        Ok(())
    }

    fn check(&self) -> Result<()> {
        let mut st = self.conn.prepare("PRAGMA quick_check(5)").map_err(err)?;
        let rows = st.query_map([], |r| r.get::<_, String>(0)).map_err(err)?;
        let found = rows
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(err)?;
        if found.len() == 1 && found[0] == "ok" {
            return Ok(());
        }
        Err(StoreError::Damaged(found))
    }

    fn probe_write(&mut self, bytes: usize) -> Result<()> {
        let blob = vec![0u8; bytes];
        self.conn
            .execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('write_probe', ?1)",
                params![blob],
            )
            .map_err(err)?;
        self.conn
            .execute("DELETE FROM meta WHERE key = 'write_probe'", [])
            .map(drop)
            .map_err(err)
    }

    fn tail(&self) -> Result<Tail> {
        let entries: u64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM ledger", [], |r| r.get(0))
            .map_err(err)?;
        let last_line = self
            .conn
            .query_row(
                "SELECT line FROM ledger ORDER BY seq DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        Ok(Tail { entries, last_line })
    }

    fn commit(&mut self, batch: &Batch) -> Result<()> {
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut ins = tx
                .prepare_cached("INSERT INTO inputs (kind, body) VALUES (?1, ?2)")
                .map_err(err)?;
            for i in &batch.inputs {
                let (kind, body) = i.to_row();
                ins.execute(params![kind, body]).map_err(err)?;
            }
            let mut led = tx
                .prepare_cached(
                    "INSERT INTO ledger (seq, case_id, kind, line) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for l in &batch.ledger {
                led.execute(params![l.seq as i64, l.case, l.kind, l.line])
                    .map_err(err)?;
            }
            let mut bun = tx
                .prepare_cached("INSERT OR IGNORE INTO bundles (hash, bytes) VALUES (?1, ?2)")
                .map_err(err)?;
            for (h, b) in &batch.bundles {
                bun.execute(params![h, b]).map_err(err)?;
            }
            let mut out = tx
                .prepare_cached("INSERT INTO outbox (seq, line, http_state) VALUES (?1, ?2, ?3)")
                .map_err(err)?;
            for o in &batch.outbox {
                let http = o.http.then_some("pending");
                out.execute(params![o.seq as i64, o.line, http])
                    .map_err(err)?;
            }
            if let Some(s) = &batch.snapshot {
                // It covers every input stored so far: this transaction's are included.
                tx.execute(
                    "INSERT OR REPLACE INTO snapshots (input_seq, bundle, ledger_seq, bytes)
                     VALUES ((SELECT COALESCE(MAX(seq), 0) FROM inputs), ?1, ?2, ?3)",
                    params![s.bundle, s.ledger_seq as i64, s.bytes],
                )
                .map_err(err)?;
                tx.execute(
                    "DELETE FROM snapshots WHERE input_seq NOT IN
                     (SELECT input_seq FROM snapshots ORDER BY input_seq DESC LIMIT ?1)",
                    params![SNAPSHOTS_KEPT as i64],
                )
                .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn for_each_ledger_line(&self, f: &mut dyn FnMut(&str)) -> Result<()> {
        let mut st = self
            .conn
            .prepare("SELECT line FROM ledger ORDER BY seq")
            .map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        while let Some(r) = rows.next().map_err(err)? {
            let line: String = r.get(0).map_err(err)?;
            f(&line);
        }
        Ok(())
    }

    fn outbox_pending(&self, limit: usize) -> Result<Vec<OutboxRow>> {
        let mut st = self
            .conn
            .prepare_cached("SELECT seq, line FROM outbox WHERE done = 0 ORDER BY seq LIMIT ?1")
            .map_err(err)?;
        let rows = st
            .query_map(params![limit as i64], |r| {
                Ok(OutboxRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    line: r.get(1)?,
                    http: false,
                })
            })
            .map_err(err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(err)
    }

    fn outbox_done(&mut self, seqs: &[u64]) -> Result<()> {
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut st = tx
                .prepare_cached("UPDATE outbox SET done = 1 WHERE seq = ?1")
                .map_err(err)?;
            for s in seqs {
                st.execute(params![*s as i64]).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn http_due(&self, now_ms: i64, limit: usize) -> Result<Vec<HttpRow>> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT seq, line, attempts FROM outbox WHERE http_state = 'pending'
                 AND next_ms <= ?1 ORDER BY seq LIMIT ?2",
            )
            .map_err(err)?;
        let rows = st
            .query_map(params![now_ms, limit as i64], |r| {
                Ok(HttpRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    line: r.get(1)?,
                    attempts: r.get::<_, i64>(2)? as u32,
                })
            })
            .map_err(err)?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(err)
    }

    fn http_update(
        &mut self,
        seq: u64,
        attempts: u32,
        next_ms: Option<i64>,
        state: &str,
    ) -> Result<()> {
        let state = if next_ms.is_some() { "pending" } else { state };
        self.conn
            .execute(
                "UPDATE outbox SET attempts = ?2, next_ms = ?3, http_state = ?4 WHERE seq = ?1",
                params![seq as i64, attempts as i64, next_ms.unwrap_or(0), state],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn outbox_depth(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COUNT(*) FROM outbox WHERE done = 0", [], |r| {
                r.get(0)
            })
            .map_err(err)
    }

    fn outbox_last_seq(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM outbox", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(err)
    }

    fn http_remote(&mut self, seq: u64, remote: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE outbox SET remote = ?2 WHERE seq = ?1",
                params![seq as i64, remote],
            )
            .map(|_| ())
            .map_err(err)
    }

    fn last_input_seq(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT COALESCE(MAX(seq), 0) FROM inputs", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::{SqliteStore, Store, StoreError};

    #[test]
    fn errors_are_typed_and_keep_their_text() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("state.db");
        let Err(e) = SqliteStore::open(&path) else {
            panic!("opened a file in a missing folder");
        };
        assert!(matches!(&e, StoreError::Open { path: p, .. } if *p == path));
        assert!(
            e.to_string().starts_with(&format!("{}: ", path.display())),
            "{e}"
        );
        let damaged = StoreError::Damaged(vec!["page 3".into(), "page 4".into()]);
        assert_eq!(
            damaged.to_string(),
            "the database is damaged (SQLite quick_check: page 3; page 4)"
        );
        assert_eq!(
            StoreError::UnknownInputKind("x".into()).to_string(),
            "storage: unknown input kind \"x\""
        );
        let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
        assert!(store.check().is_ok());
        // A failing statement is `Sqlite`, shown as before with the `storage:` prefix.
        let e = store.ledger_lines(0, 1, &mut |_, _| {}).and_then(|()| {
            store
                .conn
                .execute_batch("SELECT * FROM nowhere")
                .map_err(super::err)
        });
        let Err(e) = e else { panic!("no error") };
        assert!(matches!(e, StoreError::Sqlite(_)));
        assert!(e.to_string().starts_with("storage: no such table"), "{e}");
    }
}
