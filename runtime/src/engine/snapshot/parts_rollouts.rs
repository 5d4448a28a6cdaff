//! Snapshot part `rollouts` (`parts.rs`): each staged rollout's stage, clock and runs
//! (`engine/rollout.rs`). Without it, every staged automation is at its `start` stage, its
//! clock starting at the next event. Written only when the program has a staged rollout,
//! so the snapshots of other programs are byte for byte what they were.

use std::collections::VecDeque;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::error::SnapshotError;
use super::form::{InstantForm, opt_ts};
use crate::engine::Engine;
use crate::engine::rollout::StageState;

#[derive(Serialize, Deserialize)]
struct RolloutS<'a> {
    automation: &'a str,
    stage: u32,
    since: Option<InstantForm>,
    generation: u64,
    outcomes: Vec<bool>,
    agreed: Vec<bool>,
    #[serde(borrow)]
    pending: Vec<(&'a str, InstantForm)>,
}

fn fail<T>(msg: impl Into<String>) -> Result<T, SnapshotError> {
    Err(SnapshotError(msg.into()))
}

/// The staged rollouts' state, encoded; none when the program has no staged rollout.
pub(super) fn write(engine: &Engine) -> Result<Option<Vec<u8>>, SnapshotError> {
    if engine.rollouts.is_empty() {
        return Ok(None);
    }
    let rollouts: Vec<RolloutS<'_>> = engine
        .rollouts
        .iter()
        .map(|(name, st)| {
            let StageState {
                stage,
                since,
                generation,
                outcomes,
                agreed,
                pending,
            } = st;
            RolloutS {
                automation: name,
                stage: *stage,
                since: since.map(InstantForm::of),
                generation: *generation,
                outcomes: outcomes.iter().copied().collect(),
                agreed: agreed.iter().copied().collect(),
                pending: pending
                    .iter()
                    .map(|(c, t)| (&**c, InstantForm::of(*t)))
                    .collect(),
            }
        })
        .collect();
    encode(&rollouts).map(Some)
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, SnapshotError> {
    postcard::to_stdvec(v)
        .map_err(|e| SnapshotError(format!("cannot encode the snapshot's parts: {e}")))
}

/// Install the staged rollouts' state (part `rollouts`) into `engine`.
pub(super) fn install(engine: &mut Engine, bytes: &[u8]) -> Result<(), SnapshotError> {
    let items: Vec<RolloutS<'_>> = match postcard::take_from_bytes(bytes) {
        Ok((v, [])) => v,
        _ => return fail("the snapshot's `rollouts` part does not decode"),
    };
    for r in items {
        let stages = engine
            .program
            .automations
            .iter()
            .find(|a| a.name == r.automation)
            .and_then(|a| a.stages.as_ref());
        let Some(stages) = stages else {
            return fail(format!(
                "the snapshot does not fit the bundle: no staged rollout for automation `{}`",
                r.automation
            ));
        };
        if r.stage as usize >= stages.stages.len() {
            return fail(format!(
                "the snapshot does not fit the bundle: automation `{}` has no stage {}",
                r.automation, r.stage
            ));
        }
        let pending = r
            .pending
            .iter()
            .map(|(c, t)| Ok((Arc::from(*c), t.get()?)))
            .collect::<Result<Vec<_>, SnapshotError>>()?;
        let st = StageState {
            stage: r.stage,
            since: opt_ts(r.since)?,
            generation: r.generation,
            outcomes: r.outcomes.into_iter().collect::<VecDeque<bool>>(),
            agreed: r.agreed.into_iter().collect::<VecDeque<bool>>(),
            pending,
        };
        engine.rollouts.insert(r.automation.to_string(), st);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::super::{FORMAT, HEAD, MAGIC};
    use crate::engine::Engine;
    use crate::ir::{
        Agreement, AutomationDef, Cmp, Criterion, DurationSpec, EventDef, FieldDef, Metric,
        Program, Promotion, Rollout, SlotDef, Stage, Stages, TeamDef, WireTy,
    };

    const HASH: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    /// One event that both triggers a shadowed automation and counts as its agreement;
    /// promoted to 10% one day after the first event when the last run agreed.
    fn program() -> Program {
        Program {
            package: "p".into(),
            version: "1".into(),
            events: vec![EventDef {
                name: "Req".into(),
                fields: vec![FieldDef {
                    name: "charge".into(),
                    ty: WireTy::String,
                }],
                slots: vec![0],
                updates_facts: true,
                builtin: None,
            }],
            slots: vec![SlotDef {
                name: "charge".into(),
                ty: WireTy::String,
                fact: true,
            }],
            teams: vec![TeamDef {
                name: "ops".into(),
                members: vec!["a@x.io".into()],
                calendar: None,
            }],
            automations: vec![AutomationDef {
                name: "auto".into(),
                version: 1,
                owner: 0,
                events: vec![0],
                cond: None,
                steps: Vec::new(),
                rollout: Rollout::Shadow {
                    sample: None,
                    key: Vec::new(),
                },
                breaker: None,
                once_per_case: false,
                stages: Some(Stages {
                    stages: vec![Stage::Shadow, Stage::Percent(1000)],
                    agreement: Some(Agreement {
                        event: 0,
                        within: DurationSpec::Wall(3600),
                    }),
                    promotions: vec![Promotion {
                        from: 0,
                        to: 1,
                        after: Some(DurationSpec::Wall(86_400)),
                        criteria: vec![Criterion {
                            metric: Metric::Agreement,
                            cmp: Cmp::Ge,
                            threshold: 5000,
                            over: 1,
                        }],
                    }],
                    rollback: None,
                }),
            }],
            ..Default::default()
        }
    }

    fn req(id: &str, at: &str) -> String {
        format!(r#"{{"id":"{id}","type":"Req","at":"{at}","case":"C-1","data":{{"charge":"ch"}}}}"#)
    }

    /// The snapshot as an engine from before parts wrote it: the body alone, re-framed.
    fn without_parts(e: &Engine, bytes: &[u8]) -> Vec<u8> {
        let body = postcard::to_stdvec(&e.body()).unwrap();
        assert!(
            bytes.len() > HEAD + body.len() + 32,
            "the parts follow the body"
        );
        let body = &bytes[HEAD..HEAD + body.len()];
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    #[test]
    fn the_stage_survives_a_snapshot_and_old_snapshots_start_over() {
        let mut never = Engine::new(program(), HASH).unwrap();
        never.apply_line(&req("r1", "2026-03-02T10:00:00Z"));
        never.drain_jsonl();
        let bytes = never.snapshot().unwrap();
        let mut back = Engine::restore(program(), HASH, &bytes).unwrap();
        assert_eq!(back.rollouts, never.rollouts);
        assert_eq!(back.snapshot().unwrap(), bytes, "restore → snapshot");
        assert_eq!(back.timers.len(), 1, "the stage's timer is kept");
        // The timer promotes both at the same instant, with the same entry.
        never.advance_to("2026-03-03T10:00:00Z".parse().unwrap());
        back.advance_to("2026-03-03T10:00:00Z".parse().unwrap());
        let (a, b) = (never.drain_jsonl().0, back.drain_jsonl().0);
        assert_eq!(a, b);
        assert!(a.contains("\"promoted\""), "{a}");
        assert_eq!(back.rollout_stages()[0].1, "10%");

        // A snapshot without the part loads at the declared start, its clock starting at
        // the next event.
        let mut fresh = Engine::new(program(), HASH).unwrap();
        fresh.apply_line(&req("r1", "2026-03-02T10:00:00Z"));
        fresh.drain_jsonl();
        let old = without_parts(&fresh, &fresh.snapshot().unwrap());
        let mut old = Engine::restore(program(), HASH, &old).unwrap();
        assert_eq!(
            old.rollout_stages(),
            vec![("auto".into(), "shadow".into(), None)]
        );
        old.apply_line(&req("r2", "2026-03-02T12:00:00Z"));
        assert_eq!(
            old.rollout_stages()[0].2,
            Some("2026-03-02T12:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn a_part_that_does_not_fit_is_refused() {
        let mut e = Engine::new(program(), HASH).unwrap();
        e.apply_line(&req("r1", "2026-03-02T10:00:00Z"));
        e.drain_jsonl();
        let bytes = e.snapshot().unwrap();
        let mut other = program();
        other.automations[0].name = "renamed".into();
        let err = Engine::restore(other, HASH, &bytes).err().unwrap();
        assert!(
            err.0.contains("no staged rollout for automation `auto`"),
            "{}",
            err.0
        );
    }
}
