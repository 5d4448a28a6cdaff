//! Where the state lives: a SQLite file (one machine), or a PostgreSQL database (one or
//! several nodes, docs/deploy.md "PostgreSQL"). Every part of `serve` that opens the state
//! — the writer, the outbox executors, the readers, the export and the deployment plan —
//! opens it through [`Location`], so the two backends are chosen in one place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::lease::Fence;
use crate::store::{SqliteStore, Store};
use crate::store_pg::PgStore;

/// The project (PostgreSQL schema) when `[cluster] project` is not set.
pub const DEFAULT_PROJECT: &str = "meshline";

/// `[cluster]`: how nodes on one PostgreSQL database share a project (docs/deploy.md,
/// "Several nodes"). Ignored for a SQLite state.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClusterConfig {
    /// The project: the PostgreSQL schema its tables live in.
    pub project: String,
    /// This node's name in the lease (default: the host name); a process id and a random
    /// suffix are added, so a restarted node is a new holder.
    pub node: Option<String>,
    /// How long a lease lasts without renewal (`"5s"`, `"1500ms"`); renewed every third.
    pub lease: String,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            project: DEFAULT_PROJECT.to_string(),
            node: None,
            lease: "5s".to_string(),
        }
    }
}

impl ClusterConfig {
    /// The lease length: a whole number of `ms` or `s`, from 300 ms to 10 minutes.
    pub fn lease(&self) -> Result<Duration, String> {
        let t = self.lease.trim();
        let (n, unit) = match t.strip_suffix("ms") {
            Some(n) => (n, 1),
            None => match t.strip_suffix('s') {
                Some(n) => (n, 1000),
                None => (t, 0),
            },
        };
        let ms = n
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|_| unit > 0)
            .map(|n| n.saturating_mul(unit));
        match ms {
            Some(ms) if (300..=600_000).contains(&ms) => Ok(Duration::from_millis(ms)),
            _ => Err(format!(
                "cluster.lease = {:?}: give a duration like \"5s\" or \"1500ms\", from 300ms to 600s",
                self.lease
            )),
        }
    }
}

/// The state: a SQLite file, or a project on a PostgreSQL database.
#[derive(Clone)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres {
        /// The connection string, password included: never displayed (see [`Location::show`]).
        url: String,
        project: String,
    },
}

impl std::fmt::Debug for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.show())
    }
}

impl Location {
    /// `--state` (or the configuration's `state`): a `postgres://` or `postgresql://` URL,
    /// `env:VAR` naming the variable that holds the state (a URL with its password, kept out
    /// of files and command lines), or a SQLite file's path.
    pub fn parse(raw: &Path, project: &str) -> Result<Location, crate::error::ServeError> {
        use crate::error::ServeError;
        let text = raw.to_string_lossy();
        let text = match text.strip_prefix("env:") {
            Some(var) => std::env::var(var).map_err(|_| {
                ServeError::Config(format!("state: env:{var}: the variable is not set"))
            })?,
            None => text.into_owned(),
        };
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            if !crate::store_pg::valid_schema(project) {
                return Err(crate::error::config(crate::store::StoreError::BadSchema(
                    project.to_string(),
                )));
            }
            // With its TLS settings (`sslmode=verify-full`, `sslrootcert`), which the
            // client's own parser does not know (docs/deploy.md, "TLS to the database").
            crate::pg_tls::config(&text)
                .map_err(|e| ServeError::Config(format!("state: {}: {e}", redact(&text))))?;
            return Ok(Location::Postgres {
                url: text,
                project: project.to_string(),
            });
        }
        Ok(Location::Sqlite(PathBuf::from(text)))
    }

    /// For logs and messages: the file's path, or the URL with its password hidden.
    pub fn show(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres { url, project } => format!("{} (project {project})", redact(url)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Location::Postgres { .. })
    }

    /// A connection (exports, plans): on PostgreSQL it takes no lock and writes unfenced.
    pub fn open(&self) -> Result<Box<dyn Store>, String> {
        self.open_fenced(None)
    }

    /// A connection whose writes on PostgreSQL check `fence` (the writer and the outbox
    /// executors of a node: only the lease holder writes, `lease.rs`).
    pub fn open_fenced(&self, fence: Option<Arc<Fence>>) -> Result<Box<dyn Store>, String> {
        match self {
            Location::Sqlite(p) => Ok(Box::new(SqliteStore::open(p)?)),
            Location::Postgres { url, project } => {
                let store = PgStore::connect(url, project).map_err(|e| self.error(e))?;
                Ok(Box::new(match fence {
                    Some(f) => store.fenced(f),
                    None => store,
                }))
            }
        }
    }

    /// Open for reading what exists: a missing SQLite file is an error (not created).
    pub fn open_existing(&self) -> Result<Box<dyn Store>, String> {
        if let Location::Sqlite(p) = self
            && !p.exists()
        {
            return Err(format!("{}: no such file", p.display()));
        }
        self.open()
    }

    /// A storage error with the location, the password hidden.
    pub fn error(&self, e: impl std::fmt::Display) -> String {
        match self {
            Location::Sqlite(_) => e.to_string(),
            Location::Postgres { .. } => format!("{}: {e}", self.show()),
        }
    }
}

/// A connection URL with its password replaced by `***` (`postgres://user:***@host/db`,
/// and a `password=` query parameter).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth_end, _) = rest
        .char_indices()
        .find(|(_, c)| matches!(c, '/' | '?'))
        .unwrap_or((rest.len(), ' '));
    let (authority, tail) = rest.split_at(auth_end);
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let q: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_string(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://app:s3cr3t@db.internal:5432/meshline"),
            "postgres://app:***@db.internal:5432/meshline"
        );
        assert_eq!(
            redact("postgresql://app@db/x?sslmode=disable&password=hunter2"),
            "postgresql://app@db/x?sslmode=disable&password=***"
        );
        assert_eq!(
            redact("postgresql:///x?host=/tmp"),
            "postgresql:///x?host=/tmp"
        );
        let l = Location::parse(Path::new("postgres://a:pw@h/db"), "support").unwrap();
        assert!(!l.show().contains("pw"), "{}", l.show());
        assert!(!format!("{l:?}").contains("pw"));
    }

    #[test]
    fn a_state_is_a_file_a_url_or_a_variable() {
        assert!(matches!(
            Location::parse(Path::new("state.sqlite"), DEFAULT_PROJECT).unwrap(),
            Location::Sqlite(_)
        ));
        assert!(
            Location::parse(Path::new("postgresql://h/db"), "p")
                .unwrap()
                .is_postgres()
        );
        assert!(Location::parse(Path::new("postgres://h/db"), "Bad-Name").is_err());
        // TLS settings the client's parser does not know are the state's too.
        assert!(
            Location::parse(
                Path::new("postgres://h/db?sslmode=verify-full&sslrootcert=system"),
                "p"
            )
            .is_ok()
        );
        let e =
            Location::parse(Path::new("postgres://u:pw@h/db?sslmode=verify-ca"), "p").unwrap_err();
        let e = e.to_string();
        assert!(e.contains("needs sslrootcert") && !e.contains("pw"), "{e}");
        let e = Location::parse(Path::new("env:MESHLINE_TEST_UNSET_STATE"), "p")
            .unwrap_err()
            .to_string();
        assert!(e.contains("MESHLINE_TEST_UNSET_STATE"), "{e}");
    }

    #[test]
    fn lease_lengths() {
        let c = |s: &str| ClusterConfig {
            lease: s.into(),
            ..ClusterConfig::default()
        };
        assert_eq!(c("5s").lease().unwrap(), Duration::from_secs(5));
        assert_eq!(c("1500ms").lease().unwrap(), Duration::from_millis(1500));
        for bad in ["5", "0s", "100ms", "1h", "", "3600s"] {
            assert!(c(bad).lease().is_err(), "{bad}");
        }
    }
}
