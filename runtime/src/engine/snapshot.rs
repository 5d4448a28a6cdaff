//! Engine snapshots: every piece of mutable engine state as bytes, and an engine rebuilt
//! from a program, its bundle hash and those bytes — so a host (`meshline serve`) replays
//! only the inputs after the last snapshot instead of its whole history.
//!
//! Layout (integers little-endian): `MESHSNAP` (8 bytes) · format version (u16) · body
//! length (u64) · body (postcard, [`form::Body`], then the parts added since format 5 when
//! there are any, `parts.rs`) · SHA-256 of everything before it (32 bytes). The body starts with the engine that wrote it and the bundle it was taken under.
//! [`Engine::restore`] refuses, with a sentence saying why, bytes that are truncated, have
//! trailing bytes, fail the checksum, have another format version or engine, were taken
//! under another bundle, or name a program item (team, gate, automation, step, event, SLA
//! policy, enum variant, calendar) the bundle does not have. Nothing here panics on any
//! input.
//!
//! State and caches: the snapshot holds the clock, the deduplication window and the event ids
//! remembered with their instants, the cases (facts,
//! class, owner, assignee, acknowledgement, SLA clocks, sagas, lifecycle), the timers and their
//! sequence, the generation counter, the round-robin cursors, open cases per person, the
//! breakers, the approval requests and their sequence, the outstanding action keys, the
//! ledger writer's position (last seq and hash) and the command sequence. Everything else
//! is derived from the program and rebuilt by [`Engine::new`]: compiled code, calendars,
//! route indexes, team members, the clock text and the detail builder.
//!
//! INVARIANT (completeness): writing destructures `Engine`, `CaseState`, `Saga`, `Clock`,
//! `EventData`, `Timer`, `Request` and `BreakerState` without `..`, and reading builds them with
//! struct literals, so a new field does not compile until it is handled here (or named as
//! derived). Bump [`FORMAT`] whenever the body's encoding changes. The cases are written
//! straight from the engine (`write.rs`) and read into plain types (`form.rs`) first.
//!
//! Determinism: the ids seen are written in the order they were remembered (which decides
//! which is forgotten first); hash maps are written in a fixed order — the large one (cases)
//! by the key's Fx hash then the key (fast to sort), the small ones (open cases per person,
//! outstanding keys) by key — so equal states give equal bytes. No engine output depends on their iteration order (the one listing,
//! `case_ids`, sorts), so a restored engine writes the same ledger and commands, byte for
//! byte, as one that never stopped.

mod error;
mod form;
mod install;
mod parts;
mod parts_aggregates;
mod parts_open_cases;
mod parts_rollouts;
#[cfg(test)]
mod tests;
mod write;

use sha2::{Digest, Sha256};

pub use self::error::SnapshotError;

use self::form::{Body, Breaker, Case, InstantForm, Outstanding, Req, TimerKindForm, TimerS};
use super::actions::{BreakerState, Request, SagaState};
use super::case::CaseState;
use super::{Engine, Timer, TimerKind};
use crate::ir::Program;
use install::install;

const MAGIC: &[u8; 8] = b"MESHSNAP";
/// The body's encoding; a snapshot of another format is refused (a host then replays
/// every input). 2: the deduplication window and the ids with their instants, in order;
/// each case's remembered evaluation errors. 3: each approval request's approvers so far (a
/// quorum, `require N approvals`). 4: sagas asleep on a wait step and their `SagaWait`
/// timers. 5: each case's lifecycle (status, since, timer generation) and the close and
/// eviction timers (docs/runtime.md, "Case lifecycle").
pub(super) const FORMAT: u16 = 5;
/// The engine that writes and reads snapshots; one written by another is refused.
pub(super) const ENGINE: &str = concat!("meshline-runtime ", env!("CARGO_PKG_VERSION"));
/// Magic, format version and body length.
const HEAD: usize = 8 + 2 + 8;

fn fail<T>(msg: impl Into<String>) -> Result<T, SnapshotError> {
    Err(SnapshotError(msg.into()))
}

/// What a snapshot says about itself, read without rebuilding an engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotInfo {
    pub engine: String,
    pub bundle: String,
    /// The ledger's last entry when it was taken: seq (0 for none) and hash.
    pub ledger_seq: u64,
    pub ledger_hash: String,
    pub cases: usize,
    pub timers: usize,
}

/// Counts of live state, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateSummary {
    pub cases: usize,
    pub events_seen: usize,
    pub timers: usize,
    /// Approval requests still held.
    pub requests: usize,
    /// Sagas waiting for an outcome or held for approval.
    pub open_sagas: usize,
    /// Action keys waiting for their outcome.
    pub outstanding: usize,
}

impl Engine {
    /// The engine's state as snapshot bytes. Refused while ledger entries or commands are
    /// waiting to be drained (they are output, not state: a snapshot is taken between
    /// inputs, after the host has stored what they wrote).
    pub fn snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        if self.ledger.is_deferred() {
            return fail(
                "the ledger is hashed outside the engine (`defer_hashing`): the engine does \
                 not know its last hash"
                    .to_string(),
            );
        }
        if self.ledger.pending() > 0 || !self.commands.is_empty() {
            return fail(format!(
                "{} ledger entries and {} commands are not drained yet; drain them before a \
                 snapshot",
                self.ledger.pending(),
                self.commands.len()
            ));
        }
        let body = self.body();
        let mut encoded = postcard::to_stdvec(&body)
            .map_err(|e| SnapshotError(format!("cannot encode the snapshot: {e}")))?;
        encoded.extend_from_slice(&parts::write(self)?);
        let mut out = Vec::with_capacity(HEAD + encoded.len() + 32);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(encoded.len() as u64).to_le_bytes());
        out.extend_from_slice(&encoded);
        drop(encoded);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        Ok(out)
    }

    /// An engine for `program` (bundle `bundle`) in the state the snapshot `bytes` holds.
    pub fn restore(program: Program, bundle: &str, bytes: &[u8]) -> Result<Engine, SnapshotError> {
        let (body, parts) = open(bytes)?;
        if body.bundle != bundle {
            return fail(format!(
                "the snapshot was taken under bundle {}, not {bundle}",
                body.bundle
            ));
        }
        let mut engine = Engine::new(program, bundle)
            .map_err(|e| SnapshotError(format!("cannot load the bundle: {e}")))?;
        parts::install(&mut engine, &parts)?;
        install(&mut engine, &body)?;
        Ok(engine)
    }

    /// The ledger writer's position: the last entry's seq (0 before any) and hash.
    pub fn ledger_position(&self) -> (u64, &str) {
        (self.ledger.last_seq(), self.ledger.last_hash())
    }

    /// How much live state the engine holds (for logs and tests).
    pub fn state_summary(&self) -> StateSummary {
        let open_sagas = self
            .cases
            .values()
            .flat_map(|c| &c.sagas)
            .filter(|s| {
                matches!(
                    s.state,
                    SagaState::Waiting(_) | SagaState::Held(_) | SagaState::Sleeping(_)
                )
            })
            .count();
        StateSummary {
            cases: self.cases.len(),
            events_seen: self.seen.len(),
            timers: self.timers.len(),
            requests: self.requests.len(),
            open_sagas,
            outstanding: self.outstanding.len(),
        }
    }

    fn body(&self) -> Body<'_, write::Cases<'_>> {
        let Engine {
            // Derived from the program (rebuilt by `Engine::new`) or output, not state:
            program: _,
            env: _,
            code: _,
            calendars: _,
            always: _,
            event_ids: _,
            route_index: _,
            route_index_class: _,
            autos_by_event: _,
            members: _,
            clock_text: _,
            scratch: _,
            commands: _,
            timers_by_case: _,
            // Only while an event is applied (`previous`/`changed`); never between events.
            before: _,
            // A host setting, set again by the host after a restore.
            assignment_commands: _,
            // State, in a part after the body (`parts.rs`):
            retired_gates: _,
            // State:
            bundle,
            clock,
            seen,
            cases,
            timers,
            timer_seq,
            generation,
            rr_cursor,
            open_by_person,
            breakers,
            // Written as the `rollouts` part after the body (`parts.rs`).
            rollouts: _,
            requests,
            request_seq,
            outstanding,
            ledger,
            command_seq,
        } = self;
        let window = seen.window;
        let seen: Vec<(InstantForm, &str)> = seen
            .iter()
            .map(|(at, id)| (InstantForm::of(at), id))
            .collect();
        let mut cases: Vec<(u64, &CaseState)> = cases.values().map(|c| (fx(&c.id), c)).collect();
        cases.sort_unstable_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
        let cases = write::Cases(cases.into_iter().map(|(_, c)| c).collect());
        let mut open_by_person: Vec<(&str, u32)> =
            open_by_person.iter().map(|(p, n)| (&**p, *n)).collect();
        open_by_person.sort_unstable();
        let mut outstanding: Vec<Outstanding<'_>> = outstanding
            .iter()
            .map(|(key, (case, saga, compensation))| Outstanding {
                key,
                case,
                saga: *saga as u64,
                compensation: *compensation,
            })
            .collect();
        outstanding.sort_unstable_by(|a, b| a.key.cmp(b.key));
        Body {
            engine: ENGINE,
            bundle,
            ledger_seq: ledger.last_seq(),
            ledger_hash: ledger.last_hash(),
            command_seq: *command_seq,
            clock: clock.map(InstantForm::of),
            timer_seq: *timer_seq,
            generation: *generation,
            request_seq: *request_seq,
            rr_cursor: rr_cursor.iter().map(|c| *c as u64).collect(),
            breakers: breakers.iter().map(breaker_form).collect(),
            dedupe_age: window.age,
            dedupe_max_ids: window.max_ids,
            seen,
            cases,
            timers: timers
                .iter()
                .map(|(&(due, seq), Timer { case, kind })| TimerS {
                    due: InstantForm::of(due),
                    seq,
                    case,
                    kind: match *kind {
                        TimerKind::Ack { generation } => TimerKindForm::Ack { generation },
                        TimerKind::SlaWarn { sla, generation } => {
                            TimerKindForm::SlaWarn { sla, generation }
                        }
                        TimerKind::SlaBreach { sla, generation } => {
                            TimerKindForm::SlaBreach { sla, generation }
                        }
                        TimerKind::SagaWait { saga, step } => {
                            TimerKindForm::SagaWait { saga, step }
                        }
                        TimerKind::GateExpire { request, gate } => {
                            TimerKindForm::GateExpire { request, gate }
                        }
                        TimerKind::Close { generation } => TimerKindForm::Close { generation },
                        TimerKind::Evict { generation } => TimerKindForm::Evict { generation },
                        TimerKind::RolloutStage {
                            automation,
                            generation,
                        } => TimerKindForm::RolloutStage {
                            automation,
                            generation,
                        },
                    },
                })
                .collect(),
            requests: requests
                .iter()
                .map(|(id, r)| {
                    let Request {
                        case,
                        saga,
                        pending,
                        approvals,
                    } = r;
                    Req {
                        id: *id,
                        case,
                        saga: *saga as u64,
                        pending: pending.clone(),
                        approvals: approvals.iter().map(String::as_str).collect(),
                    }
                })
                .collect(),
            open_by_person,
            outstanding,
        }
    }
}

/// What a snapshot says about itself, after the same checks as [`Engine::restore`] except
/// the bundle's (which it reports).
pub fn snapshot_info(bytes: &[u8]) -> Result<SnapshotInfo, SnapshotError> {
    let (body, _) = open(bytes)?;
    Ok(SnapshotInfo {
        engine: body.engine.to_string(),
        bundle: body.bundle.to_string(),
        ledger_seq: body.ledger_seq,
        ledger_hash: body.ledger_hash.to_string(),
        cases: body.cases.len(),
        timers: body.timers.len(),
    })
}

/// The body and the parts after it (`parts.rs`).
type Opened<'a> = (Body<'a, Vec<Case<'a>>>, Vec<(&'a str, Vec<u8>)>);

/// Check the frame, the checksum, the format and the engine; decode the body and parts.
fn open(bytes: &[u8]) -> Result<Opened<'_>, SnapshotError> {
    if bytes.len() < HEAD + 32 {
        return fail(format!(
            "the snapshot is truncated ({} bytes, too short for its header and checksum)",
            bytes.len()
        ));
    }
    if &bytes[..8] != MAGIC {
        return fail("not a meshline engine snapshot (wrong magic bytes)");
    }
    let format = u16::from_le_bytes([bytes[8], bytes[9]]);
    if format != FORMAT {
        return fail(format!(
            "snapshot format {format}; this engine reads format {FORMAT}"
        ));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[10..HEAD]);
    let len = u64::from_le_bytes(len);
    let expected = (bytes.len() - HEAD - 32) as u64;
    if len > expected {
        return fail(format!(
            "the snapshot is truncated: its body is {len} bytes, {expected} are there"
        ));
    }
    if len < expected {
        return fail(format!(
            "the snapshot has {} bytes after its checksum",
            expected - len
        ));
    }
    let (framed, sum) = bytes.split_at(bytes.len() - 32);
    if Sha256::digest(framed).as_slice() != sum {
        return fail("the snapshot's checksum does not match: it is corrupted");
    }
    let (body, rest) = postcard::take_from_bytes::<Body<'_, Vec<Case<'_>>>>(&framed[HEAD..])
        .map_err(|e| SnapshotError(format!("the snapshot's body does not decode: {e}")))?;
    let parts = parts::read(rest)?;
    if body.engine != ENGINE {
        return fail(format!(
            "the snapshot was written by {}; this is {ENGINE}",
            body.engine
        ));
    }
    Ok((body, parts))
}

/// The sort key of a hash map's keys in the snapshot: their Fx hash (fixed, fast to
/// compare), then the key itself. Any fixed total order makes equal states equal bytes.
fn fx(s: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(s)
}

fn breaker_form(b: &BreakerState) -> Breaker {
    let BreakerState { runs, halted } = b;
    Breaker {
        runs: runs.iter().copied().collect(),
        halted: *halted,
    }
}
