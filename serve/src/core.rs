//! The single writer: owns the engine and the store. Requests queue on a channel; each
//! round takes everything queued (group commit), applies it in order, commits one
//! transaction, and only then answers. Wall-clock timers fire from the same loop.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use meshline_runtime::Engine;
use meshline_runtime::engine::Command;
use serde::Deserialize;
use serde_json::Value as Json;
use tokio::sync::oneshot;

use crate::metrics::Metrics;
pub use crate::node::Applied;
use crate::node::Node;
use crate::store::{Batch, Deploy, Input, LedgerRow, NewSnapshot, OutboxRow, Store};
pub use crate::stored::{StoredBundleError, decode, load_stored};

pub enum Msg {
    Events {
        lines: Vec<String>,
        reply: oneshot::Sender<Result<Vec<Applied>, String>>,
    },
    /// A case's state (without its ledger, which is read off the writer thread: see
    /// `reader.rs`) and the ledger's last seq at that moment.
    Case {
        id: String,
        reply: oneshot::Sender<Result<Option<(Json, u64)>, String>>,
    },
    /// A read-only look at the engine between batches, answered through the closure's own
    /// channel (the console's at-risk clocks: docs/console.md).
    Read(Box<dyn FnOnce(&Engine) + Send>),
    /// Deploy a bundle (its bytes, checked by `deployment::note`, and the note its
    /// `deployed` entry records): `Ok(hash)`, or why it was refused.
    Deploy {
        bytes: Vec<u8>,
        note: serde_json::Map<String, Json>,
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// What deploying a bundle would do (`crate::plan`); nothing is applied. `signature`
    /// is why its signature would be refused, if it would.
    Plan {
        bytes: Vec<u8>,
        signature: Option<String>,
        reply: oneshot::Sender<Result<Json, String>>,
    },
}

pub struct Writer {
    pub engine: Engine,
    pub store: Box<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// How many lines one transaction takes at most.
    pub batch_max: usize,
    /// Whether timers fire on the wall clock.
    pub wall_clock: bool,
    /// Connectors delivered over HTTP (their `action` commands are marked for delivery).
    pub http_connectors: std::collections::BTreeSet<String>,
    /// Command kinds other than `action` that a connector takes (`[connectors] notify = …`).
    pub routed: std::collections::BTreeSet<String>,
    /// Take an engine snapshot once this many inputs were stored since the last one (0:
    /// never).
    pub snapshot_every: u64,
    /// Inputs stored since the last snapshot (replayed ones included).
    pub since_snapshot: u64,
    /// Rebuilds the engine from the store after a failed commit.
    pub rebuild: Rebuild,
    /// Why the last commit failed, while commits cannot succeed (not ready meanwhile).
    pub storage_failed: Option<String>,
    /// One of several nodes on PostgreSQL (`cluster.rs`); `None` on one machine.
    pub cluster: Option<Node>,
}

/// Rebuild an engine from what a store holds: the engine and the inputs replayed.
pub type Rebuild = Box<dyn Fn(&dyn Store) -> Result<(Engine, u64), String> + Send>;

/// How much a probe writes before the writer takes inputs again after a failed commit: a
/// round's batch is usually far smaller.
const PROBE_BYTES: usize = 1 << 20;

/// The fields of a ledger line the store indexes.
#[derive(Deserialize)]
struct Head<'a> {
    seq: u64,
    #[serde(borrow)]
    case: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
}

fn now_second() -> Timestamp {
    let now = Timestamp::now();
    Timestamp::from_second(now.as_second()).unwrap_or(now)
}

impl Writer {
    /// The loop; returns when every sender is gone and the queue is empty.
    pub fn run(mut self, rx: Receiver<Msg>) {
        self.publish_breakers();
        // §6.2 in serve: overdue timers fire once, in order, before any new event.
        if let Err(e) = self.round(Vec::new()) {
            fatal(&e);
        }
        if self.cluster.is_none() {
            self.metrics
                .ready
                .store(self.storage_failed.is_none(), Ordering::SeqCst);
        }
        loop {
            let wait = self.until_next_timer();
            let first = match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut msgs: Vec<Msg> = first.into_iter().collect();
            let mut lines: usize = msgs.iter().map(msg_lines).sum();
            while lines < self.batch_max {
                match rx.try_recv() {
                    Ok(m) => {
                        lines += msg_lines(&m);
                        msgs.push(m);
                    }
                    Err(_) => break,
                }
            }
            if let Err(e) = self.round(msgs) {
                fatal(&e);
            }
        }
        tracing::info!("writer stopped: queue drained");
    }

    fn until_next_timer(&self) -> Duration {
        // Several nodes: what others queued or committed is polled for this often.
        let cap = match self.cluster {
            Some(_) => Duration::from_millis(20),
            None => Duration::from_secs(1),
        };
        // While commits fail, probe once a second at most, however overdue a timer is.
        if !self.wall_clock || self.storage_failed.is_some() {
            return cap;
        }
        match self.engine.next_timer_due() {
            None => cap,
            Some(due) => {
                let ms = due.as_millisecond() - Timestamp::now().as_millisecond();
                if ms <= 0 {
                    Duration::ZERO
                } else {
                    Duration::from_millis(ms as u64).min(cap)
                }
            }
        }
    }

    /// One transaction: a wall-clock tick if a timer is due, then the queued events.
    fn round(&mut self, msgs: Vec<Msg>) -> Result<(), String> {
        let Some(msgs) = self.cluster_round(msgs)? else {
            return Ok(());
        };
        if self.cluster.is_none() && self.storage_failed.is_some() && !self.storage_writable() {
            self.refuse(msgs);
            return Ok(());
        }
        let mut batch = Batch::default();
        let mut commands = Vec::new();
        if self.wall_clock {
            let now = now_second();
            if self.engine.next_timer_due().is_some_and(|d| d <= now) {
                self.engine.advance_to(now);
                batch.inputs.push(Input::Tick(now.to_string()));
                self.collect(&mut batch, &mut commands)?;
            }
        }
        self.apply_queued(&mut batch, &mut commands)?;
        let mut answers: Vec<(Msg, Vec<Applied>)> = Vec::with_capacity(msgs.len());
        let started = Instant::now();
        let mut applied = 0u64;
        let mut deployed: Vec<Result<String, String>> = Vec::new();
        for msg in msgs {
            let mut outcomes = Vec::new();
            match &msg {
                Msg::Events { lines, .. } => {
                    for line in lines {
                        outcomes.push(self.engine.apply_line(line).into());
                        batch.inputs.push(Input::Event(line.clone()));
                        self.collect(&mut batch, &mut commands)?;
                        applied += 1;
                    }
                }
                Msg::Deploy { bytes, note, .. } => {
                    let r = self.deploy(bytes, note.clone(), &mut batch);
                    if r.is_ok() {
                        self.collect(&mut batch, &mut commands)?;
                    }
                    deployed.push(r);
                }
                Msg::Case { .. } | Msg::Read(_) | Msg::Plan { .. } => {}
            }
            answers.push((msg, outcomes));
        }
        if applied > 0 {
            self.metrics
                .apply_seconds
                .observe_n(started.elapsed().as_secs_f64() / applied as f64, applied);
        }
        for c in &commands {
            let kind = c
                .body
                .get("kind")
                .and_then(Json::as_str)
                .unwrap_or_default();
            let http = (kind == "action"
                && c.body
                    .get("connector")
                    .and_then(Json::as_str)
                    .is_some_and(|n| self.http_connectors.contains(n)))
                || self.routed.contains(kind);
            batch.outbox.push(OutboxRow {
                seq: c.seq,
                line: c.to_line(),
                http,
            });
        }
        let snapshot_took = self.snapshot_if_due(&mut batch);
        if !batch.inputs.is_empty() || batch.snapshot.is_some() || !batch.dequeued.is_empty() {
            let t = Instant::now();
            if let Err(e) = self.store.commit(&batch) {
                self.commit_failed(e.to_string())?;
                self.refuse(answers.into_iter().map(|(m, _)| m).collect());
                return Ok(());
            }
            self.snapshot_committed(&batch, snapshot_took);
            if let Some(node) = &mut self.cluster {
                node.applied += batch.inputs.len() as u64;
            }
            self.metrics
                .commit_seconds
                .observe(t.elapsed().as_secs_f64());
            let engine = &self.engine;
            self.metrics
                .count_ledger(&batch.ledger, &|case| engine.case_view(case)?.class);
            if batch
                .ledger
                .iter()
                .any(|r| r.kind == "halted" || r.kind == "breaker_reset")
            {
                self.publish_breakers();
            }
            self.metrics
                .outbox_enqueued
                .fetch_add(batch.outbox.len() as u64, Ordering::Relaxed);
        }
        self.metrics
            .timers
            .store(self.engine.pending_timers() as u64, Ordering::Relaxed);
        for (msg, outcomes) in answers {
            match msg {
                Msg::Events { reply, .. } => {
                    let _ = reply.send(Ok(outcomes));
                }
                m @ (Msg::Case { .. } | Msg::Read(_) | Msg::Plan { .. }) => self.answer_read(m),
                Msg::Deploy { reply, .. } => {
                    let r = if deployed.is_empty() {
                        Err("no outcome".to_string())
                    } else {
                        deployed.remove(0)
                    };
                    let _ = reply.send(r);
                }
            }
        }
        Ok(())
    }

    /// A commit failed (disk full, I/O error): the engine applied what the store did not
    /// keep, so it is rebuilt from the store (what was acknowledged), and the server is not
    /// ready until a write succeeds again, instead of exiting and failing the same way after
    /// every restart (docs/deploy.md, "When commits fail"). `Err` when the rebuild fails.
    fn commit_failed(&mut self, e: String) -> Result<(), String> {
        tracing::error!(error = %e, "commit failed: refusing inputs until the store takes writes again");
        self.metrics.ready.store(false, Ordering::SeqCst);
        self.metrics.storage_failing.store(true, Ordering::SeqCst);
        self.metrics
            .storage_failures
            .fetch_add(1, Ordering::Relaxed);
        if let Some(node) = &mut self.cluster {
            // Several nodes: rebuilt at the next round, whichever role this node has then
            // (`cluster.rs`); a store out of reach is not a reason to exit.
            node.stale = true;
            self.storage_failed = Some(e);
            return Ok(());
        }
        let (engine, replayed) = (self.rebuild)(&*self.store)
            .map_err(|r| format!("{e}; and rebuilding from the store failed: {r}"))?;
        self.engine = engine;
        self.since_snapshot = replayed;
        self.publish_breakers();
        self.metrics
            .timers
            .store(self.engine.pending_timers() as u64, Ordering::Relaxed);
        self.storage_failed = Some(e);
        Ok(())
    }

    /// After a failed commit: whether a probe write succeeds now (then ready again).
    fn storage_writable(&mut self) -> bool {
        match self.store.probe_write(PROBE_BYTES) {
            Ok(()) => {
                tracing::info!("the store takes writes again: ready");
                self.storage_failed = None;
                self.metrics.storage_failing.store(false, Ordering::SeqCst);
                self.metrics.ready.store(true, Ordering::SeqCst);
                true
            }
            Err(e) => {
                self.storage_failed = Some(e.to_string());
                false
            }
        }
    }

    /// Answer without applying: events and deployments are refused (nothing was applied;
    /// the sender retries), case reads are answered from the engine.
    pub(crate) fn refuse(&self, msgs: Vec<Msg>) {
        let why = format!(
            "storage failing, nothing applied; retry later with the same ids: {}",
            self.storage_failed.as_deref().unwrap_or("commit failed")
        );
        for msg in msgs {
            match msg {
                Msg::Events { reply, .. } => {
                    let _ = reply.send(Err(why.clone()));
                }
                Msg::Deploy { reply, .. } => {
                    let _ = reply.send(Err(why.clone()));
                }
                m @ (Msg::Case { .. } | Msg::Read(_) | Msg::Plan { .. }) => self.answer_read(m),
            }
        }
    }

    /// Answer a message that only reads the engine (a case, a console read, a plan): the
    /// same whether or not the batch committed.
    pub(crate) fn answer_read(&self, msg: Msg) {
        match msg {
            Msg::Case { id, reply } => {
                let _ = reply.send(self.case(&id));
            }
            Msg::Read(f) => f(&self.engine),
            Msg::Plan {
                bytes,
                signature,
                reply,
            } => {
                let _ = reply.send(crate::plan::plan(&self.engine, &bytes, signature));
            }
            Msg::Events { .. } | Msg::Deploy { .. } => {}
        }
    }

    /// Switch to the bundle in `bytes` (recorded as an input with its note, the bundle
    /// kept with it).
    pub fn deploy(
        &mut self,
        bytes: &[u8],
        note: serde_json::Map<String, Json>,
        batch: &mut Batch,
    ) -> Result<String, String> {
        let (program, hash) = decode(bytes).map_err(|e| e.to_string())?;
        if hash == self.engine.bundle_hash() {
            return Ok(hash);
        }
        self.engine
            .reload_noted(program, &hash, note.clone())
            .map_err(|e| e.to_string())?;
        batch.inputs.push(Input::Bundle(Deploy {
            hash: hash.clone(),
            note,
        }));
        batch.bundles.push((hash.clone(), bytes.to_vec()));
        tracing::info!(bundle = %hash, "bundle deployed");
        Ok(hash)
    }

    /// At start: deploy the bundle given on the command line if it is not the one deciding.
    pub fn deploy_at_start(
        &mut self,
        bytes: &[u8],
        note: serde_json::Map<String, Json>,
    ) -> Result<(), String> {
        let mut batch = Batch::default();
        let mut commands = Vec::new();
        let from = self.engine.bundle_hash().to_string();
        self.deploy(bytes, note, &mut batch).map_err(|e| {
            format!("cannot deploy this bundle over the state's bundle {from}: {e}")
        })?;
        if batch.inputs.is_empty() {
            return Ok(());
        }
        self.collect(&mut batch, &mut commands)?;
        self.store.commit(&batch)?;
        self.since_snapshot += batch.inputs.len() as u64;
        Ok(())
    }

    /// Put a snapshot of the engine in the batch when enough inputs were stored since the
    /// last one (the batch's included); how long it took. The engine has applied, and the
    /// batch holds, every input so far: the snapshot is the state after the batch's last
    /// input, and commits with it or not at all.
    fn snapshot_if_due(&mut self, batch: &mut Batch) -> Option<Duration> {
        let due = self.since_snapshot + batch.inputs.len() as u64;
        if self.snapshot_every == 0 || due < self.snapshot_every {
            return None;
        }
        let t = Instant::now();
        match self.engine.snapshot() {
            Ok(bytes) => {
                batch.snapshot = Some(NewSnapshot {
                    bundle: self.engine.bundle_hash().to_string(),
                    ledger_seq: self.engine.ledger_position().0,
                    bytes,
                });
                Some(t.elapsed())
            }
            Err(e) => {
                tracing::warn!(error = %e, "no snapshot taken");
                None
            }
        }
    }

    fn snapshot_committed(&mut self, batch: &Batch, took: Option<Duration>) {
        let (Some(s), Some(took)) = (&batch.snapshot, took) else {
            self.since_snapshot += batch.inputs.len() as u64;
            return;
        };
        let inputs = self.since_snapshot + batch.inputs.len() as u64;
        self.since_snapshot = 0;
        self.metrics.snapshot_taken(s.bytes.len() as u64, took);
        tracing::info!(
            inputs,
            bytes = s.bytes.len(),
            ms = took.as_millis() as u64,
            ledger_seq = s.ledger_seq,
            "engine snapshot stored"
        );
    }

    pub(crate) fn publish_breakers(&self) {
        let mut b = self
            .metrics
            .breakers
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (name, halted) in self.engine.breaker_states() {
            b.insert(name.to_string(), halted);
        }
    }

    fn case(&self, id: &str) -> Result<Option<(Json, u64)>, String> {
        Ok(self
            .engine
            .case_json(id)
            .map(|view| (view, self.engine.ledger_position().0)))
    }

    /// Move what the engine wrote into the batch. The store indexes each ledger line by its
    /// seq, case and kind; what became of an input is the engine's [`ApplyOutcome`].
    pub(crate) fn collect(
        &mut self,
        batch: &mut Batch,
        commands: &mut Vec<Command>,
    ) -> Result<(), String> {
        let (lines, cmds) = self.engine.drain_jsonl();
        commands.extend(cmds);
        for line in lines.lines() {
            let head: Head<'_> =
                serde_json::from_str(line).map_err(|e| format!("engine wrote a bad line: {e}"))?;
            batch.ledger.push(LedgerRow {
                seq: head.seq,
                case: head.case.map(|c| c.into_owned()),
                kind: head.kind.into_owned(),
                line: line.to_string(),
            });
        }
        Ok(())
    }
}

fn msg_lines(m: &Msg) -> usize {
    match m {
        Msg::Events { lines, .. } => lines.len(),
        Msg::Case { .. } | Msg::Deploy { .. } | Msg::Read(_) | Msg::Plan { .. } => 1,
    }
}

/// The engine has applied what the store could not commit: memory and disk disagree, so
/// the process stops; a restart rebuilds from what is durable (nothing acknowledged is lost,
/// since answers are sent only after the commit).
#[allow(
    clippy::print_stderr,
    reason = "the process exits next: the reason reaches the terminal even when logs go to a collector"
)]
fn fatal(e: &str) -> ! {
    tracing::error!(error = %e, "storage failure; stopping");
    eprintln!("error: {e}");
    std::process::exit(3);
}

#[cfg(test)]
mod tests {
    use super::{StoredBundleError, decode, load_stored};
    use crate::store::SqliteStore;
    use meshline_runtime::bundle::BundleError;

    #[test]
    fn stored_bundle_errors_are_typed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("state.db")).unwrap();
        let e = load_stored(&store, "abc").unwrap_err();
        assert!(matches!(&e, StoredBundleError::Missing(h) if h == "abc"));
        assert_eq!(e.to_string(), "bundle abc is not stored");
        assert_eq!(decode(b"").unwrap_err(), BundleError::NotABundle);
    }
}
