//! Snapshot part `open_cases` (`parts.rs`): for each aggregate of open cases, by name, the
//! cases it counts and the key each counts under, in case id order (docs/runtime.md,
//! "Snapshots"). The counts are rebuilt from these on restore, so they cannot disagree.

use serde::{Deserialize, Serialize};

use super::error::SnapshotError;
use super::parts_aggregates::KeyF;
use crate::engine::Engine;
use crate::eval::aggregate::Key;

#[derive(Serialize, Deserialize)]
struct OpenS<'a> {
    name: &'a str,
    #[serde(borrow)]
    members: Vec<(&'a str, KeyF<'a>)>,
}

/// The aggregates of open cases that count some case, encoded; none otherwise.
pub(super) fn write(engine: &Engine) -> Result<Option<Vec<u8>>, SnapshotError> {
    let mut out: Vec<OpenS<'_>> = Vec::new();
    for (def, state) in engine.program.aggregates.iter().zip(&engine.env.aggregates) {
        if def.cases.is_none() || state.members.is_empty() {
            continue;
        }
        let members = state
            .members
            .iter()
            .map(|(case, k)| {
                let key = match k {
                    Key::Str(x) => KeyF::Str(x),
                    Key::Int(i) => KeyF::Int(*i),
                    Key::Enum(e, v) => KeyF::Enum(*e, *v),
                };
                (&**case, key)
            })
            .collect();
        out.push(OpenS {
            name: &def.name,
            members,
        });
    }
    if out.is_empty() {
        return Ok(None);
    }
    postcard::to_stdvec(&out)
        .map(Some)
        .map_err(|e| SnapshotError(format!("cannot encode the snapshot: {e}")))
}

/// Install part `open_cases` into `engine`: each member back under its key, the counts
/// rebuilt from them.
pub(super) fn install(engine: &mut Engine, bytes: &[u8]) -> Result<(), SnapshotError> {
    let parts: Vec<OpenS<'_>> = match postcard::take_from_bytes(bytes) {
        Ok((v, [])) => v,
        Ok(_) => {
            return Err(SnapshotError(
                "the snapshot's open cases have trailing bytes".to_string(),
            ));
        }
        Err(e) => {
            return Err(SnapshotError(format!(
                "the snapshot's open cases do not decode: {e}"
            )));
        }
    };
    let program = engine.program.clone();
    for p in parts {
        let Some(i) = program
            .aggregates
            .iter()
            .position(|d| d.name == p.name && d.cases.is_some())
        else {
            return Err(SnapshotError(format!(
                "the snapshot does not fit the bundle: aggregate of open cases `{}` is not in \
                 the bundle",
                p.name
            )));
        };
        let Some(state) = engine.env.aggregates.get_mut(i) else {
            continue;
        };
        for (case, k) in p.members {
            let key = match k {
                KeyF::Str(s) => Key::Str(s.into()),
                KeyF::Int(i) => Key::Int(i),
                KeyF::Enum(e, v) => Key::Enum(e, v),
            };
            state.adjust(&key, 1);
            if state.members.insert(case.into(), key).is_some() {
                return Err(SnapshotError(format!(
                    "the snapshot does not fit the bundle: aggregate `{}` counts case {case} \
                     twice",
                    p.name
                )));
            }
        }
    }
    Ok(())
}
