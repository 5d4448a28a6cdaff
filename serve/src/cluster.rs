//! The writer as one of several nodes on PostgreSQL (docs/deploy.md, "Several nodes").
//!
//! Every node keeps an engine. The node holding the lease (`lease.rs`) leads: it applies its
//! own requests and the ones other nodes queued, fires timers, and commits — each commit
//! fenced by its token. A node that does not lead follows: it applies the inputs the leader
//! committed, in order, to its own engine (the engine is deterministic, so it reaches the
//! same state and writes the same ledger, checked entry by entry), answers case reads from
//! it, and queues the event lines it receives; their outcomes come back through the queue
//! once the leader applied them. Taking the lease, a follower first applies what the
//! previous leader committed, then leads.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use meshline_runtime::engine::Command;

use crate::core::{Msg, Writer};
use crate::node::{Applied, Node, Pending, outcomes_json, parse_outcomes};
use crate::store::{Batch, Input};

/// A queued request whose caller is gone is still answered (so its row is removed), but not
/// waited for past this.
const PENDING_MAX: Duration = Duration::from_secs(3600);

/// An answered request nobody came back for (its node died, or stopped waiting after
/// [`PENDING_MAX`]) is deleted by the leader this long after its answer, checked every
/// [`SWEEP_EVERY`] (docs/deploy.md, "Several nodes").
const ANSWERED_KEPT: Duration = Duration::from_secs(2 * 3600);
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The most stored inputs a follower applies in one round: its writer thread also queues
/// and answers requests, which wait for the round (docs/performance.md, issue 21).
const CATCH_UP_STEP: u64 = 256;

impl Writer {
    /// Before a round: follow the lease. `Some(msgs)` when this node leads (the round goes
    /// on as on one machine); `None` when the messages were handled here.
    pub(crate) fn cluster_round(&mut self, msgs: Vec<Msg>) -> Result<Option<Vec<Msg>>, String> {
        let Some(mut node) = self.cluster.take() else {
            return Ok(Some(msgs));
        };
        let out = self.step(&mut node, msgs);
        self.answer_pending(&mut node);
        let reachable = node.fence.reachable();
        self.metrics
            .database_unreachable
            .store(!reachable, Ordering::SeqCst);
        self.metrics
            .ready
            .store(reachable && !node.stale, Ordering::SeqCst);
        self.metrics.leader.store(node.leading, Ordering::SeqCst);
        self.cluster = Some(node);
        out
    }

    fn step(&mut self, node: &mut Node, msgs: Vec<Msg>) -> Result<Option<Vec<Msg>>, String> {
        if node.stale {
            match (node.recover)(&*self.store) {
                Ok((engine, applied)) => {
                    self.engine = engine;
                    node.applied = applied;
                    node.stale = false;
                    self.storage_failed = None;
                    self.metrics.storage_failing.store(false, Ordering::SeqCst);
                    self.publish_breakers();
                    tracing::info!(applied, "engine rebuilt from the store");
                }
                Err(e) => {
                    self.storage_failed = Some(e);
                    self.refuse(msgs);
                    return Ok(None);
                }
            }
        }
        let leads = node.fence.leading().is_some();
        if leads && !node.leading {
            // What the previous leader committed comes first, all of it.
            if let Err(e) = self.catch_up(node, u64::MAX) {
                tracing::error!(error = %e, "cannot take over: applying the stored inputs failed");
                node.stale = true;
                self.refuse(msgs);
                return Ok(None);
            }
            node.leading = true;
            tracing::info!(
                applied = node.applied,
                holder = %node.fence.holder,
                "leading: applying inputs, firing timers, delivering the outbox"
            );
            self.deploy_on_lead(node);
        } else if !leads && node.leading {
            node.leading = false;
            if node.fence.reachable() {
                tracing::warn!(holder = %node.fence.holder, "stopped leading: another node holds the lease");
            } else {
                tracing::error!(
                    holder = %node.fence.holder,
                    "stopped leading: the lease could not be renewed before its end (database \
                     unreachable); not ready until the database answers again"
                );
            }
        }
        if node.leading {
            return Ok(Some(msgs));
        }
        // Events are queued first (durable, in order, for the leader), then this engine
        // catches up, then reads are answered from it.
        let mut reads = Vec::new();
        for msg in msgs {
            match msg {
                Msg::Events { lines, reply } => match self.store.enqueue(&lines) {
                    Ok(id) => node.pending.push(Pending {
                        id,
                        reply,
                        since: Instant::now(),
                    }),
                    Err(e) => {
                        let _ = reply.send(Err(format!(
                            "not queued for the leader, nothing applied; retry with the same ids: {e}"
                        )));
                    }
                },
                Msg::Deploy { reply, .. } => {
                    let _ = reply.send(Err(
                        "this node does not lead: send the deployment to the node whose \
                         meshline_leader metric is 1"
                            .to_string(),
                    ));
                }
                m @ (Msg::Case { .. } | Msg::Read(_) | Msg::Plan { .. }) => reads.push(m),
            }
        }
        // The outcomes the leader recorded are answered before catching up, and a round
        // catches up by a bounded step: a follower behind the leader stays responsive.
        self.answer_pending(node);
        if let Err(e) = self.catch_up(node, CATCH_UP_STEP) {
            tracing::warn!(error = %e, "following: cannot read what the leader committed");
            node.stale = true;
        }
        for m in reads {
            self.answer_read(m);
        }
        Ok(None)
    }

    /// Apply the stored inputs after the last one this engine applied (what the leader
    /// committed since), checking each ledger entry against the stored one.
    fn catch_up(&mut self, node: &mut Node, max: u64) -> Result<(), String> {
        let n = crate::recovery::follow(&mut self.engine, &*self.store, node.applied, max)?;
        node.applied += n;
        self.since_snapshot += n;
        Ok(())
    }

    /// Answer the queued requests whose outcomes the leader recorded.
    fn answer_pending(&mut self, node: &mut Node) {
        if node.pending.is_empty() {
            return;
        }
        let ids: Vec<u64> = node.pending.iter().map(|p| p.id).collect();
        let done = match self.store.queue_outcomes(&ids) {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(error = %e, "cannot read the outcomes of queued requests");
                return;
            }
        };
        for (id, text) in done {
            if let Some(i) = node.pending.iter().position(|p| p.id == id) {
                let p = node.pending.swap_remove(i);
                let _ = p.reply.send(parse_outcomes(&text));
            }
        }
        node.pending
            .retain(|p| !(p.reply.is_closed() && p.since.elapsed() > PENDING_MAX));
    }

    /// The leader's share of a round: the requests other nodes queued, applied in their
    /// order, their outcomes recorded in the batch (committed with their inputs).
    pub(crate) fn apply_queued(
        &mut self,
        batch: &mut Batch,
        commands: &mut Vec<Command>,
    ) -> Result<(), String> {
        let Some(node) = self.cluster.as_mut().filter(|n| n.leading) else {
            return Ok(());
        };
        if node.swept.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
            node.swept = Some(Instant::now());
            match self.store.forget_answered(ANSWERED_KEPT) {
                Ok(0) => {}
                Ok(n) => tracing::info!(requests = n, "deleted answered queue rows nobody read"),
                Err(e) => tracing::debug!(error = %e, "cannot sweep the queue"),
            }
        }
        let rows = match self.store.queued(self.batch_max) {
            Ok(r) => r,
            Err(e) => {
                // Every round while the database is away: the lease thread reports that once.
                tracing::debug!(error = %e, "cannot read the queue");
                return Ok(());
            }
        };
        for (id, lines) in rows {
            let mut outcomes: Vec<Applied> = Vec::with_capacity(lines.len());
            for line in lines {
                outcomes.push(self.engine.apply_line(&line).into());
                batch.inputs.push(Input::Event(line));
                self.collect(batch, commands)?;
            }
            batch.dequeued.push((id, outcomes_json(&outcomes)));
        }
        Ok(())
    }

    /// The `--bundle` this node started with, deployed when it first leads unless the state
    /// already holds that bundle.
    fn deploy_on_lead(&mut self, node: &mut Node) {
        let Some((bytes, note)) = node.deploy_on_lead.take() else {
            return;
        };
        let hash = match crate::stored::decode(&bytes) {
            Ok((_, h)) => h,
            Err(e) => {
                tracing::error!(error = %e, "--bundle not deployed");
                return;
            }
        };
        match self.store.get_bundle(&hash) {
            Ok(Some(_)) => return,
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "--bundle not deployed: cannot read the stored bundles");
                return;
            }
        }
        let before = self.store.last_input_seq();
        match self.deploy_at_start(&bytes, note) {
            Ok(()) => {
                if let (Ok(b), Ok(a)) = (before, self.store.last_input_seq()) {
                    node.applied += a.saturating_sub(b);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, bundle = %hash, "--bundle not deployed");
                node.stale = true;
            }
        }
    }
}
