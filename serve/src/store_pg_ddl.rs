//! The PostgreSQL store's tables (docs/deploy.md, "PostgreSQL and several nodes"): the
//! SQLite store's, in one schema per project, plus the queue of requests for the leader
//! and the lease row.

use std::time::Duration;

use postgres::Client;

use crate::store::{Result, StoreError};

/// Create the project's schema and tables, or bring an older schema up to date (each
/// statement is a no-op on what exists; the last thing created, `queue_answered`, is what
/// [`READY`] looks for). Nodes starting together create them one at a time (the
/// transaction-level advisory lock); a deadlock with another node's first statements is
/// retried.
/// The tables and indexes whose presence means the schema is current: no DDL at connect.
pub(crate) const READY: [&str; 2] = ["leases", "queue_answered"];

pub(crate) fn create_tables(client: &mut Client, schema: &str) -> Result<()> {
    let mut tries = 0;
    loop {
        // The name was checked (`valid_schema`): it is safe to splice into DDL.
        let r = client.batch_execute(&format!(
                "BEGIN;
                 SELECT pg_advisory_xact_lock(hashtext('meshline.ddl.{schema}'));
                 CREATE SCHEMA IF NOT EXISTS {schema};
                 SET LOCAL search_path TO {schema};
                 CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS inputs (
                     seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL);
                 CREATE TABLE IF NOT EXISTS ledger (
                     seq BIGINT PRIMARY KEY, case_id TEXT, kind TEXT NOT NULL, line TEXT NOT NULL);
                 CREATE INDEX IF NOT EXISTS ledger_case ON ledger (case_id);
                 CREATE TABLE IF NOT EXISTS outbox (
                     seq BIGINT PRIMARY KEY, line TEXT NOT NULL, done BOOLEAN NOT NULL DEFAULT FALSE,
                     http_state TEXT, attempts BIGINT NOT NULL DEFAULT 0,
                     next_ms BIGINT NOT NULL DEFAULT 0, remote TEXT);
                 CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (done, seq);
                 CREATE INDEX IF NOT EXISTS outbox_http ON outbox (http_state, next_ms);
                 CREATE TABLE IF NOT EXISTS bundles (hash TEXT PRIMARY KEY, bytes BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS snapshots (
                     input_seq BIGINT PRIMARY KEY, bundle TEXT NOT NULL,
                     ledger_seq BIGINT NOT NULL, bytes BYTEA NOT NULL);
                 CREATE TABLE IF NOT EXISTS queue (
                     id BIGSERIAL PRIMARY KEY, lines TEXT NOT NULL, outcomes TEXT);
                 CREATE INDEX IF NOT EXISTS queue_open ON queue (id) WHERE outcomes IS NULL;
                 ALTER TABLE queue ADD COLUMN IF NOT EXISTS answered_at TIMESTAMPTZ NOT NULL
                     DEFAULT now();
                 CREATE INDEX IF NOT EXISTS queue_answered ON queue (answered_at)
                     WHERE outcomes IS NOT NULL;
                 CREATE TABLE IF NOT EXISTS leases (
                     project TEXT PRIMARY KEY, holder TEXT NOT NULL, token BIGINT NOT NULL,
                     expires_at TIMESTAMPTZ NOT NULL);
                 COMMIT;"
        ));
        match r {
            Ok(()) => return Ok(()),
            Err(e)
                if tries < 5
                    && e.code() == Some(&postgres::error::SqlState::T_R_DEADLOCK_DETECTED) =>
            {
                tries += 1;
                let _ = client.batch_execute("ROLLBACK");
                std::thread::sleep(Duration::from_millis(50 * tries));
            }
            Err(e) => return Err(StoreError::Postgres(e)),
        }
    }
}
