//! What the writer of one of several nodes keeps (docs/deploy.md, "Several nodes"), and
//! what became of an event line in a form that crosses nodes: a node that does not lead
//! queues the lines it accepted, and the leader records their outcomes as JSON.

use std::sync::Arc;
use std::time::Instant;

use meshline_runtime::Engine;
use meshline_runtime::engine::ApplyOutcome;
use serde_json::{Value as Json, json};
use tokio::sync::oneshot;

use crate::lease::Fence;
use crate::store::Store;

/// What became of one event line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    /// Applied: a `received` entry and what it decided were written.
    Accepted,
    /// Already applied within the deduplication window.
    Duplicate,
    /// Not applied: a `rejected` entry with this reason was written.
    Rejected(Recorded),
}

/// A rejection's reason as the `rejected` ledger entry records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded(pub String);

impl Recorded {
    pub fn recorded(&self) -> String {
        self.0.clone()
    }
}

impl From<ApplyOutcome> for Applied {
    fn from(o: ApplyOutcome) -> Applied {
        match o {
            ApplyOutcome::Accepted => Applied::Accepted,
            ApplyOutcome::Duplicate => Applied::Duplicate,
            ApplyOutcome::Rejected(r) => Applied::Rejected(Recorded(r.recorded())),
        }
    }
}

/// Outcomes as stored in the queue: `[{"status":"accepted"}, {"status":"rejected",
/// "reason":…}, …]`.
pub fn outcomes_json(outcomes: &[Applied]) -> String {
    let v: Vec<Json> = outcomes
        .iter()
        .map(|o| match o {
            Applied::Accepted => json!({ "status": "accepted" }),
            Applied::Duplicate => json!({ "status": "duplicate" }),
            Applied::Rejected(r) => json!({ "status": "rejected", "reason": r.0 }),
        })
        .collect();
    Json::Array(v).to_string()
}

/// The outcomes [`outcomes_json`] wrote.
pub fn parse_outcomes(text: &str) -> Result<Vec<Applied>, String> {
    let v: Vec<Json> = serde_json::from_str(text).map_err(|e| format!("queued outcomes: {e}"))?;
    v.iter()
        .map(|o| match o["status"].as_str() {
            Some("accepted") => Ok(Applied::Accepted),
            Some("duplicate") => Ok(Applied::Duplicate),
            Some("rejected") => Ok(Applied::Rejected(Recorded(
                o["reason"].as_str().unwrap_or_default().to_string(),
            ))),
            _ => Err(format!("queued outcome {o} is not one this version knows")),
        })
        .collect()
}

/// Rebuild an engine from the store: the engine and the seq of the last input it applied.
pub type Recover = Box<dyn Fn(&dyn Store) -> Result<(Engine, u64), String> + Send>;

/// The writer's part in a cluster of nodes.
pub struct Node {
    pub fence: Arc<Fence>,
    /// The seq of the last stored input the engine applied.
    pub applied: u64,
    /// Whether the writer acts as the leader (set from the fence at each round).
    pub leading: bool,
    /// The engine may hold what the store did not keep (a commit failed): rebuilt from the
    /// store before it is used again.
    pub stale: bool,
    /// Requests queued for the leader, waiting for their outcomes.
    pub pending: Vec<Pending>,
    pub recover: Recover,
    /// The `--bundle` given at start: deployed when this node first leads, unless the state
    /// already holds it (an older node taking the lease back does not roll a deployment back).
    pub deploy_on_lead: Option<(Vec<u8>, serde_json::Map<String, Json>)>,
    /// When this node, leading, last swept the queue of answered requests nobody read.
    pub swept: Option<Instant>,
}

pub struct Pending {
    pub id: u64,
    pub reply: oneshot::Sender<Result<Vec<Applied>, String>>,
    pub since: Instant,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_cross_nodes_unchanged() {
        let all = vec![
            Applied::Accepted,
            Applied::Duplicate,
            Applied::Rejected(Recorded("unknown event type \"X\"".into())),
        ];
        assert_eq!(parse_outcomes(&outcomes_json(&all)).unwrap(), all);
        assert!(parse_outcomes("[{\"status\":\"maybe\"}]").is_err());
        assert!(parse_outcomes("nope").is_err());
    }
}
