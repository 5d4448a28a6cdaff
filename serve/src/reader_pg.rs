//! The reads of `reader.rs` on PostgreSQL: their own connections (never the writer's),
//! reused between requests, each read one statement over the committed data.

use std::sync::Mutex;

use postgres::Client;
use postgres::types::ToSql;

pub struct PgReader {
    url: String,
    project: String,
    idle: Mutex<Vec<Client>>,
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl PgReader {
    pub fn new(url: &str, project: &str) -> PgReader {
        PgReader {
            url: url.to_string(),
            project: project.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Run `f` on a pooled connection; one that failed is dropped, not pooled.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, postgres::Error>,
    ) -> Result<T, String> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut c = match idle {
            Some(c) if !c.is_closed() => c,
            _ => crate::lease::connect(&self.url, &self.project)
                .map_err(|e| format!("storage (PostgreSQL): {e}"))?,
        };
        let out = f(&mut c).map_err(|e| format!("storage (PostgreSQL): {e}"));
        if out.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < 8 {
                idle.push(c);
            }
        }
        out
    }

    /// `(seq, text)` rows of `sql`.
    fn texts(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<(u64, String)>, String> {
        self.with(|c| {
            Ok(c.query(sql, params)?
                .iter()
                .map(|r| (to_u64(r.get(0)), r.get(1)))
                .collect())
        })
    }

    /// A case's entries with `after < seq <= upto`, at most `limit`: the lines, and the seq
    /// to continue after when there are more.
    pub fn case_ledger(
        &self,
        case: &str,
        after: u64,
        upto: u64,
        limit: u64,
    ) -> Result<(Vec<String>, Option<u64>), String> {
        let mut rows = self.texts(
            "SELECT seq, line FROM ledger WHERE case_id = $1 AND seq > $2 AND seq <= $3
             ORDER BY seq LIMIT $4",
            &[
                &case,
                &to_i64(after),
                &to_i64(upto),
                &to_i64(limit.saturating_add(1)),
            ],
        )?;
        let more = rows.len() as u64 > limit;
        rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = if more { rows.last().map(|r| r.0) } else { None };
        Ok((rows.into_iter().map(|r| r.1).collect(), next))
    }

    pub fn inputs_after(
        &self,
        after: u64,
        limit: u64,
    ) -> Result<Vec<(u64, String, String)>, String> {
        self.with(|c| {
            Ok(c.query(
                "SELECT seq, kind, body FROM inputs WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&to_i64(after), &to_i64(limit)],
            )?
            .iter()
            .map(|r| (to_u64(r.get(0)), r.get(1), r.get(2)))
            .collect())
        })
    }

    pub fn events_after(&self, after: u64, limit: u64) -> Result<Vec<(u64, String)>, String> {
        self.texts(
            "SELECT seq, body FROM inputs WHERE seq > $1 AND kind = 'event' ORDER BY seq LIMIT $2",
            &[&to_i64(after), &to_i64(limit)],
        )
    }

    pub fn ledger_after(&self, after: u64, limit: u64) -> Result<Vec<(u64, String)>, String> {
        self.texts(
            "SELECT seq, line FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&to_i64(after), &to_i64(limit)],
        )
    }

    pub fn current_bundle(&self) -> Result<Option<(String, Vec<u8>)>, String> {
        self.with(|c| {
            Ok(c.query_opt(
                "SELECT b.hash, b.bytes FROM meta m JOIN bundles b
                 ON b.hash = convert_from(m.value, 'UTF8') WHERE m.key = 'bundle'",
                &[],
            )?
            .map(|r| (r.get(0), r.get(1))))
        })
    }

    pub fn bundles(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        self.with(|c| {
            Ok(
                c.query("SELECT hash, bytes FROM bundles ORDER BY hash", &[])?
                    .iter()
                    .map(|r| (r.get(0), r.get(1)))
                    .collect(),
            )
        })
    }

    pub fn last_seq(&self) -> Result<u64, String> {
        self.with(|c| {
            let n: i64 = c
                .query_one("SELECT COALESCE(MAX(seq), 0) FROM ledger", &[])?
                .get(0);
            Ok(to_u64(n))
        })
    }
}
