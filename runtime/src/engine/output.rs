//! What the engine writes out, and how a host takes it: the outbox's commands and the
//! ledger's entries, drained after each step (docs/runtime.md, "Commands").

use serde_json::{Value as Json, json};

use super::Engine;
use crate::ledger::Entry;

/// A command for the outbox (actions, notifications, approval requests).
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub seq: u64,
    pub at: String,
    pub body: Json,
}

impl Command {
    pub fn to_line(&self) -> String {
        let mut obj = serde_json::Map::new();
        obj.insert("seq".into(), json!(self.seq));
        obj.insert("at".into(), json!(self.at));
        if let Json::Object(b) = &self.body {
            for (k, v) in b {
                obj.insert(k.clone(), v.clone());
            }
        }
        Json::Object(obj).to_string()
    }
}

impl Engine {
    /// Emit an `assignment` command on every change of assignee (docs/runtime.md,
    /// "Commands"); off by default, so `meshline run` and bundles' outputs are unchanged.
    pub fn set_assignment_commands(&mut self, on: bool) {
        self.assignment_commands = on;
    }

    /// Number the next command after `seq` at the least: a host whose outbox already holds
    /// commands up to `seq` (written under another setting or release) never reuses one.
    pub fn commands_after(&mut self, seq: u64) {
        self.command_seq = self.command_seq.max(seq);
    }

    /// Take the ledger, as JSON Lines, and the commands written so far: the fast way to
    /// persist them.
    pub fn drain_jsonl(&mut self) -> (String, Vec<Command>) {
        (self.ledger.take_jsonl(), std::mem::take(&mut self.commands))
    }

    /// As [`drain_jsonl`](Self::drain_jsonl), into buffers the caller keeps: `lines` and
    /// `commands` are cleared, then hold what was written, and their old memory goes back
    /// to the engine. Draining after every event this way allocates nothing once the
    /// buffers have grown (a fresh `String` per drain regrows, and a large one faults in
    /// new pages every time).
    pub fn drain_jsonl_into(&mut self, lines: &mut String, commands: &mut Vec<Command>) {
        self.ledger.swap_jsonl(lines);
        commands.clear();
        std::mem::swap(commands, &mut self.commands);
    }

    /// Hash the ledger on another thread: from here on the engine writes its entries
    /// without `prev` and `hash` ([`drain_unchained_into`](Self::drain_unchained_into)),
    /// and the returned chainer completes them, in order, into the same lines the engine
    /// would have written (docs/performance.md, "`meshline run` as a pipeline"). `None`
    /// while entries are waiting to be drained, or when already deferred. A snapshot is
    /// refused from then on: the engine no longer knows its ledger's last hash.
    pub fn defer_hashing(&mut self) -> Option<crate::ledger::Chainer> {
        self.ledger.defer_hashing()
    }

    /// Take the entries written since [`defer_hashing`](Self::defer_hashing) and the
    /// commands, into the caller's buffers (whose memory the engine keeps).
    pub fn drain_unchained_into(
        &mut self,
        entries: &mut crate::ledger::Unchained,
        commands: &mut Vec<Command>,
    ) {
        self.ledger.swap_unchained(entries);
        commands.clear();
        std::mem::swap(commands, &mut self.commands);
    }

    /// How many ledger entries are waiting to be drained.
    pub fn pending_entries(&self) -> usize {
        self.ledger.pending()
    }

    /// Take the ledger entries and commands written so far.
    pub fn drain(&mut self) -> (Vec<Entry>, Vec<Command>) {
        (
            self.ledger.take_entries(),
            std::mem::take(&mut self.commands),
        )
    }
}
