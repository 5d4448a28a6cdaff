//! `once per case` (docs/language.md §11.3, docs/runtime.md "Automations as sagas"): an
//! automation so declared starts at most one run per case.
//!
//! What "already ran" means is read from the case's sagas: every run that started is a
//! saga the case keeps (done, failed or still running) — in snapshots and across
//! deployments, where sagas follow their automation — so this needs no state of its own.
//! Shadowed runs, triggers outside a rollout and triggers refused by an open breaker start
//! no saga and do not count.

use std::sync::Arc;

use serde_json::json;

use super::{Engine, EventData};

impl Engine {
    /// For an automation declared `once per case` that already ran on the case: record
    /// the trigger as `skipped` (naming the event the run started on) and say so.
    pub(super) fn skip_once(&mut self, case_id: &Arc<str>, ev: &EventData, a: u32) -> bool {
        let Some(auto) = self.program.automations.get(a as usize) else {
            return false;
        };
        if !auto.once_per_case {
            return false;
        }
        let first = self
            .cases
            .get(&**case_id)
            .and_then(|c| c.sagas.iter().find(|s| s.automation == a))
            .map(|s| s.trigger.id.clone());
        let Some(first) = first else {
            return false;
        };
        let name = auto.name.clone();
        self.log(
            Some(case_id),
            "skipped",
            Some(&name),
            json!({ "reason": "once_per_case", "ran_on": first, "trigger": ev.id }),
        );
        true
    }
}
