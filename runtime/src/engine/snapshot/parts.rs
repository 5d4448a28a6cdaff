//! Snapshot parts: state added after format 5, after the body as the postcard encoding of
//! `[(name, postcard bytes)]` — written only when some part has something to say, so a
//! snapshot without one is byte for byte what format 5 wrote, and format 5 snapshots load
//! (as bundle sections do, runtime/src/bundle.rs). A part's name this engine does not know
//! is refused. New state goes in a new part; add it to [`write`] and [`install`].
//!
//! Parts are written in name order:
//! - `aggregates`: the aggregates' keys and buckets (`parts_aggregates.rs`);
//! - `open_cases`: the cases each aggregate of open cases counts, with their keys
//!   (`parts_open_cases.rs`);
//! - `retired_gates`: gates a deployment removed while requests still name them
//!   (`migrate_flow.rs`), in their number order;
//! - `rollouts`: the staged rollouts' stages, clocks and runs (`parts_rollouts.rs`).

use super::error::SnapshotError;
use super::{parts_aggregates, parts_open_cases, parts_rollouts};
use crate::engine::Engine;
use crate::ir::{Action, GateDef, Program, Recipient, Requirement, Target};

const AGGREGATES: &str = "aggregates";
const OPEN_CASES: &str = "open_cases";
const RETIRED_GATES: &str = "retired_gates";
const ROLLOUTS: &str = "rollouts";

/// The parts `engine` has something for, encoded; empty when none.
pub(super) fn write(engine: &Engine) -> Result<Vec<u8>, SnapshotError> {
    let enc = |e: postcard::Error| SnapshotError(format!("cannot encode the snapshot: {e}"));
    let mut parts: Vec<(&str, Vec<u8>)> = Vec::new();
    if let Some(bytes) = parts_aggregates::write(engine)? {
        parts.push((AGGREGATES, bytes));
    }
    if let Some(bytes) = parts_open_cases::write(engine)? {
        parts.push((OPEN_CASES, bytes));
    }
    if !engine.retired_gates.is_empty() {
        parts.push((
            RETIRED_GATES,
            postcard::to_stdvec(&engine.retired_gates).map_err(enc)?,
        ));
    }
    if let Some(bytes) = parts_rollouts::write(engine)? {
        parts.push((ROLLOUTS, bytes));
    }
    if parts.is_empty() {
        return Ok(Vec::new());
    }
    postcard::to_stdvec(&parts).map_err(enc)
}

/// The parts after the body (`rest`), decoded: nothing for a snapshot without them.
pub(super) fn read(rest: &[u8]) -> Result<Vec<(&str, Vec<u8>)>, SnapshotError> {
    if rest.is_empty() {
        return Ok(Vec::new());
    }
    let (parts, after) = postcard::take_from_bytes::<Vec<(&str, Vec<u8>)>>(rest)
        .map_err(|e| SnapshotError(format!("the snapshot's parts do not decode: {e}")))?;
    if !after.is_empty() {
        return Err(SnapshotError(
            "the snapshot's body has trailing bytes".to_string(),
        ));
    }
    if !parts.windows(2).all(|w| w[0].0 < w[1].0) {
        return Err(SnapshotError(
            "the snapshot's parts are not in increasing name order".to_string(),
        ));
    }
    Ok(parts)
}

fn bad<T>(msg: impl Into<String>) -> Result<T, SnapshotError> {
    Err(SnapshotError(format!(
        "the snapshot does not fit the bundle: {}",
        msg.into()
    )))
}

/// Whether every team a retired gate names exists (approvals index the teams with them).
fn fits(g: &GateDef, p: &Program) -> bool {
    let team = |t: u32| (t as usize) < p.teams.len();
    let target = |t: &Target| !matches!(t, Target::Team(x) if !team(*x));
    g.require.iter().all(|r| match r {
        Requirement::Approval(t) | Requirement::Review(t) | Requirement::Quorum(t, _) => team(*t),
        Requirement::Confirmation => true,
    }) && g.expire.iter().flat_map(|(_, a)| a).all(|a| match a {
        Action::Assign(t) | Action::Notify(Recipient::Target(t)) => target(t),
        _ => true,
    })
}

/// Install the parts into `engine` (fresh from `Engine::new`), before the body: the body's
/// requests are checked against the retired gates.
pub(super) fn install(engine: &mut Engine, parts: &[(&str, Vec<u8>)]) -> Result<(), SnapshotError> {
    for (name, bytes) in parts {
        match *name {
            AGGREGATES => parts_aggregates::install(engine, bytes)?,
            OPEN_CASES => parts_open_cases::install(engine, bytes)?,
            ROLLOUTS => parts_rollouts::install(engine, bytes)?,
            RETIRED_GATES => {
                let gates: Vec<GateDef> = postcard::from_bytes(bytes).map_err(|e| {
                    SnapshotError(format!("the snapshot's retired gates do not decode: {e}"))
                })?;
                if let Some(g) = gates.iter().find(|g| !fits(g, &engine.program)) {
                    return bad(format!("retired gate {} names an unknown team", g.name));
                }
                engine.retired_gates = gates;
            }
            other => {
                return Err(SnapshotError(format!(
                    "the snapshot has a part this engine does not know ({other}): it was \
                     written by a newer release"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_parts_write_nothing_and_an_unknown_part_is_refused() {
        let mut engine = Engine::new(Program::default(), "b").unwrap();
        // Nothing to say: the snapshot is what format 5 wrote.
        assert!(write(&engine).unwrap().is_empty());
        assert!(read(&[]).unwrap().is_empty());
        let future = postcard::to_stdvec(&vec![("rollout_stages", vec![1u8, 2])]).unwrap();
        let parts = read(&future).unwrap();
        let err = install(&mut engine, &parts).unwrap_err();
        assert!(
            err.0
                .contains("part this engine does not know (rollout_stages)"),
            "{err:?}"
        );
        // A retired gate naming a team the bundle does not have is refused, not indexed.
        let gate = GateDef {
            name: "g".into(),
            actions: Vec::new(),
            all_automation_actions: false,
            automations: Vec::new(),
            cond: None,
            param_names: Vec::new(),
            require: vec![Requirement::Approval(3)],
            expire: None,
            release_when_clear: false,
            notify: Vec::new(),
        };
        engine.retired_gates = vec![gate];
        let bytes = write(&engine).unwrap();
        let mut fresh = Engine::new(Program::default(), "b").unwrap();
        let err = install(&mut fresh, &read(&bytes).unwrap()).unwrap_err();
        assert!(
            err.0.contains("retired gate g names an unknown team"),
            "{err:?}"
        );
        assert!(
            read(&[bytes.as_slice(), &[0]].concat()).is_err(),
            "trailing bytes"
        );
    }
}
