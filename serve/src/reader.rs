//! Reads that do not go through the writer: a case's ledger, a page at a time, from
//! read-only SQLite connections (WAL lets them read the last commit while the writer
//! commits), or PostgreSQL connections of their own (`reader_pg.rs`). A large case's ledger
//! then costs the request that asks for it, not every request queued behind the writer
//! (docs/deploy.md, "Endpoints").

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, params};

use crate::reader_pg::PgReader;
use crate::state::Location;

/// The page size when none is asked for, and the largest one allowed.
pub const PAGE_DEFAULT: u64 = 100;
pub const PAGE_MAX: u64 = 1000;

/// Read-only connections to the state, reused between requests.
pub struct Reader {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// On PostgreSQL, every read goes there instead.
    pg: Option<PgReader>,
}

/// One page of a case's ledger.
#[derive(Debug, PartialEq, Eq)]
pub struct Page {
    pub lines: Vec<String>,
    /// The seq to pass as `after_seq` for the next page, if there are more entries.
    pub next_after_seq: Option<u64>,
}

impl Reader {
    pub fn new(path: &Path) -> Reader {
        Reader {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            pg: None,
        }
    }

    /// Readers of the state wherever it is.
    pub fn at(state: &Location) -> Reader {
        match state {
            Location::Sqlite(p) => Reader::new(p),
            Location::Postgres { url, project } => Reader {
                path: PathBuf::new(),
                idle: Mutex::new(Vec::new()),
                pg: Some(PgReader::new(url, project)),
            },
        }
    }

    fn connection(&self) -> Result<Connection, String> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(c) = idle {
            return Ok(c);
        }
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| format!("{}: {e}", self.path.display()))?;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| format!("storage: {e}"))?;
        Ok(c)
    }

    /// The case's ledger entries with `after < seq <= upto`, at most `limit` of them, in
    /// order. `upto` is the writer's ledger position when it answered the case's state, so
    /// the page is of the same moment (nothing committed since is included).
    pub fn case_ledger(
        &self,
        case: &str,
        after: u64,
        upto: u64,
        limit: u64,
    ) -> Result<Page, String> {
        if let Some(pg) = &self.pg {
            let (lines, next_after_seq) = pg.case_ledger(case, after, upto, limit)?;
            return Ok(Page {
                lines,
                next_after_seq,
            });
        }
        let c = self.connection()?;
        let page = read_page(&c, case, after, upto, limit).map_err(|e| format!("storage: {e}"));
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < 8 {
            idle.push(c);
        }
        page
    }
}

impl Reader {
    /// Run `f` on a pooled read-only connection.
    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let c = self.connection()?;
        let out = f(&c).map_err(|e| format!("storage: {e}"));
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < 8 {
            idle.push(c);
        }
        out
    }

    /// Stored inputs with `seq > after`, in order, at most `limit`: `(seq, kind, body)` with
    /// kind `event`, `tick` or `bundle` (see `store.rs`).
    pub fn inputs_after(
        &self,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, String, String)>, String> {
        if let Some(pg) = &self.pg {
            return pg.inputs_after(after, limit);
        }
        self.with(|c| {
            let mut st = c.prepare_cached(
                "SELECT seq, kind, body FROM inputs WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = st.query_map(
                params![
                    i64::try_from(after).unwrap_or(i64::MAX),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
            )?;
            rows.collect()
        })
    }

    /// Stored events with `seq > after`, in order, at most `limit`: `(seq, envelope line)`.
    pub fn events_after(&self, after: u64, limit: u64) -> Result<Vec<(u64, String)>, String> {
        if let Some(pg) = &self.pg {
            return pg.events_after(after, limit);
        }
        self.texts_after(
            "SELECT seq, body FROM inputs WHERE seq > ?1 AND kind = 'event' ORDER BY seq LIMIT ?2",
            after,
            limit,
        )
    }

    /// Ledger lines with `seq > after`, in order, at most `limit`: `(seq, line)`.
    pub fn ledger_after(&self, after: u64, limit: u64) -> Result<Vec<(u64, String)>, String> {
        if let Some(pg) = &self.pg {
            return pg.ledger_after(after, limit);
        }
        self.texts_after(
            "SELECT seq, line FROM ledger WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            after,
            limit,
        )
    }

    /// `(seq, text)` rows of `sql`, which takes `after` and `limit`.
    fn texts_after(&self, sql: &str, after: u64, limit: u64) -> Result<Vec<(u64, String)>, String> {
        self.with(|c| {
            let mut st = c.prepare_cached(sql)?;
            let rows = st.query_map(
                params![
                    i64::try_from(after).unwrap_or(i64::MAX),
                    i64::try_from(limit).unwrap_or(i64::MAX)
                ],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
            )?;
            rows.collect()
        })
    }

    /// The deciding bundle's content hash and bytes, if one is stored.
    pub fn current_bundle(&self) -> Result<Option<(String, Vec<u8>)>, String> {
        if let Some(pg) = &self.pg {
            return pg.current_bundle();
        }
        self.with(|c| {
            use rusqlite::OptionalExtension as _;
            c.query_row(
                "SELECT b.hash, b.bytes FROM meta m JOIN bundles b ON b.hash = m.value
                 WHERE m.key = 'bundle'",
                [],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()
        })
    }

    /// Every stored bundle's bytes, by content hash.
    pub fn bundles(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        if let Some(pg) = &self.pg {
            return pg.bundles();
        }
        self.with(|c| {
            let mut st = c.prepare_cached("SELECT hash, bytes FROM bundles ORDER BY hash")?;
            let rows = st.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?))
            })?;
            rows.collect()
        })
    }

    /// The ledger's last seq (0 when empty).
    pub fn last_seq(&self) -> Result<u64, String> {
        if let Some(pg) = &self.pg {
            return pg.last_seq();
        }
        self.with(|c| {
            c.query_row("SELECT COALESCE(MAX(seq), 0) FROM ledger", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
        })
    }
}

fn read_page(
    c: &Connection,
    case: &str,
    after: u64,
    upto: u64,
    limit: u64,
) -> rusqlite::Result<Page> {
    let mut st = c.prepare_cached(
        "SELECT seq, line FROM ledger WHERE case_id = ?1 AND seq > ?2 AND seq <= ?3
         ORDER BY seq LIMIT ?4",
    )?;
    let to_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    // One more than asked: whether there is a next page.
    let mut rows = st.query(params![
        case,
        to_i64(after),
        to_i64(upto),
        to_i64(limit.saturating_add(1))
    ])?;
    let mut lines = Vec::new();
    let mut last = None;
    let mut more = false;
    while let Some(r) = rows.next()? {
        if lines.len() as u64 == limit {
            more = true;
            break;
        }
        let seq: i64 = r.get(0)?;
        lines.push(r.get::<_, String>(1)?);
        last = Some(seq as u64);
    }
    Ok(Page {
        lines,
        next_after_seq: if more { last } else { None },
    })
}

/// `ledger_limit` and `after_seq` from a query string's parameters: (after, limit), or why
/// they are refused.
pub fn page_params(q: &std::collections::BTreeMap<String, String>) -> Result<(u64, u64), String> {
    let limit = match q.get("ledger_limit") {
        None => PAGE_DEFAULT,
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (1..=PAGE_MAX).contains(&n) => n,
            _ => {
                return Err(format!(
                    "ledger_limit must be a whole number from 1 to {PAGE_MAX}"
                ));
            }
        },
    };
    let after = match q.get("after_seq") {
        None => 0,
        Some(v) => v
            .parse::<u64>()
            .map_err(|_| "after_seq must be a ledger seq (a whole number)".to_string())?,
    };
    Ok((after, limit))
}
