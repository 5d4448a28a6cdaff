//! The snapshot's body: plain serde types mirroring the engine's state, borrowing their
//! strings (from the engine when writing, from the bytes when reading), and the checked
//! conversion of values back. The cases are written by `write.rs` straight from the
//! engine, in the encoding of [`Case`].
//!
//! Instants are (seconds, nanoseconds), decimals (mantissa, scale): exact, compact, and
//! rebuilt through checked constructors, so a body that decodes can still be refused but
//! never panics.

use std::sync::Arc;

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::error::SnapshotError;
use crate::ir::{BusinessUnit, DurationSpec, Program};
use crate::value::Value;

/// The body. `C` is the cases: `Vec<Case>` when reading, written straight from the engine's
/// cases (`write.rs`) with the same encoding.
#[derive(Serialize, Deserialize)]
pub(super) struct Body<'a, C> {
    /// The engine that wrote it (`meshline-runtime VERSION`).
    pub engine: &'a str,
    /// The bundle deciding when it was taken.
    pub bundle: &'a str,
    /// The ledger writer's position: the last entry's seq and hash.
    pub ledger_seq: u64,
    pub ledger_hash: &'a str,
    pub command_seq: u64,
    pub clock: Option<InstantForm>,
    pub timer_seq: u64,
    pub generation: u64,
    pub request_seq: u64,
    pub rr_cursor: Vec<u64>,
    pub breakers: Vec<Breaker>,
    /// The deduplication window: age in seconds, most ids.
    pub dedupe_age: i64,
    pub dedupe_max_ids: u64,
    /// The event ids remembered, with the instant each was remembered at, oldest first.
    #[serde(borrow)]
    pub seen: Vec<(InstantForm, &'a str)>,
    /// Sorted by (Fx hash of the id, id).
    pub cases: C,
    /// In (due, seq) order.
    #[serde(borrow)]
    pub timers: Vec<TimerS<'a>>,
    /// In id order.
    #[serde(borrow)]
    pub requests: Vec<Req<'a>>,
    /// Sorted by person.
    #[serde(borrow)]
    pub open_by_person: Vec<(&'a str, u32)>,
    /// Sorted by key.
    #[serde(borrow)]
    pub outstanding: Vec<Outstanding<'a>>,
}

/// An instant: seconds since the Unix epoch and nanoseconds.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) struct InstantForm(pub i64, pub i32);

impl InstantForm {
    pub(super) fn of(t: Timestamp) -> InstantForm {
        InstantForm(t.as_second(), t.subsec_nanosecond())
    }
    pub(super) fn get(self) -> Result<Timestamp, SnapshotError> {
        Timestamp::new(self.0, self.1)
            .map_err(|e| SnapshotError(format!("an instant out of range: {e}")))
    }
}

pub(super) fn opt_ts(t: Option<InstantForm>) -> Result<Option<Timestamp>, SnapshotError> {
    t.map(InstantForm::get).transpose()
}

#[derive(Serialize, Deserialize)]
pub(super) struct Breaker {
    pub runs: Vec<bool>,
    pub halted: bool,
}

#[derive(Deserialize)]
pub(super) struct Case<'a> {
    pub id: &'a str,
    pub opened_at: InstantForm,
    #[serde(borrow)]
    pub facts: Vec<Option<ValueForm<'a>>>,
    pub class: Option<u32>,
    pub owner: Option<u32>,
    pub escalated: bool,
    #[serde(borrow)]
    pub assignee: Option<Who<'a>>,
    pub acknowledged: bool,
    pub ack_generation: u64,
    pub clocks: Vec<Option<ClockS>>,
    #[serde(borrow)]
    pub sagas: Vec<SagaS<'a>>,
    /// The evaluation errors remembered per (rule, part): (rule, part, error).
    #[serde(borrow)]
    pub errors: Vec<(&'a str, &'a str, &'a str)>,
    pub life: LifeS,
}

/// A case's lifecycle: status, since when, the generation of its close or eviction timer.
#[derive(Serialize, Deserialize)]
pub(super) struct LifeS {
    pub status: StatusForm,
    pub since: Option<InstantForm>,
    pub generation: u64,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) enum StatusForm {
    Open,
    Solved,
    Closed,
}

#[derive(Serialize, Deserialize)]
pub(super) enum Who<'a> {
    Team(u32),
    Person(&'a str),
}

#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) enum ClockStateForm {
    Running,
    Paused,
    Met,
    Breached,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ClockS {
    pub state: ClockStateForm,
    pub cycle: u32,
    pub calendar: Option<u32>,
    pub target: DurationSpec,
    pub counting_start: InstantForm,
    pub running_since: Option<InstantForm>,
    pub paused_since: Option<InstantForm>,
    pub elapsed_wall: i64,
    pub elapsed_open: i64,
    pub paused_open: i64,
    pub warned: bool,
    pub generation: u64,
    pub due: Option<InstantForm>,
}

#[derive(Deserialize)]
pub(super) struct SagaS<'a> {
    pub automation: u32,
    #[serde(borrow)]
    pub trigger: Trigger<'a>,
    pub next_step: u64,
    /// (step, arguments, key).
    #[serde(borrow)]
    pub executed: Vec<(u64, Vec<ValueForm<'a>>, &'a str)>,
    #[serde(borrow)]
    pub state: SagaStateForm<'a>,
    #[serde(borrow)]
    pub requesters: Vec<&'a str>,
}

#[derive(Deserialize)]
pub(super) struct Trigger<'a> {
    pub id: &'a str,
    pub event: u32,
    #[serde(borrow)]
    pub values: Vec<ValueForm<'a>>,
    pub at: InstantForm,
}

#[derive(Serialize, Deserialize)]
pub(super) enum SagaStateForm<'a> {
    Running,
    Waiting(&'a str),
    Held(u64),
    Done,
    Failed,
    Cancelled,
    Sleeping(bool),
}

#[derive(Serialize, Deserialize)]
pub(super) struct TimerS<'a> {
    pub due: InstantForm,
    pub seq: u64,
    pub case: &'a str,
    pub kind: TimerKindForm,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) enum TimerKindForm {
    Ack {
        generation: u64,
    },
    SlaWarn {
        sla: u32,
        generation: u64,
    },
    SlaBreach {
        sla: u32,
        generation: u64,
    },
    GateExpire {
        request: u64,
        gate: u32,
    },
    SagaWait {
        saga: u32,
        step: u32,
    },
    Close {
        generation: u64,
    },
    Evict {
        generation: u64,
    },
    /// Appended: a staged rollout's timer (`engine/rollout.rs`).
    RolloutStage {
        automation: u32,
        generation: u64,
    },
}

#[derive(Serialize, Deserialize)]
pub(super) struct Req<'a> {
    pub id: u64,
    pub case: &'a str,
    pub saga: u64,
    pub pending: Vec<u32>,
    /// Who approved it for its first pending gate so far (a quorum).
    #[serde(borrow)]
    pub approvals: Vec<&'a str>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Outstanding<'a> {
    pub key: &'a str,
    pub case: &'a str,
    pub saga: u64,
    pub compensation: bool,
}

/// A decimal, exactly: mantissa and scale.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub(super) struct DecimalForm(i128, u32);

impl DecimalForm {
    pub(super) fn of(d: &Decimal) -> DecimalForm {
        DecimalForm(d.mantissa(), d.scale())
    }
    pub(super) fn get(self) -> Result<Decimal, SnapshotError> {
        Decimal::try_from_i128_with_scale(self.0, self.1)
            .map_err(|e| SnapshotError(format!("a decimal out of range: {e}")))
    }
}

/// A runtime value ([`Value`]), variant for variant (written by `write::Val`).
#[derive(Deserialize)]
pub(super) enum ValueForm<'a> {
    None,
    Bool(bool),
    Int(i64),
    Decimal(DecimalForm),
    Money(DecimalForm, [u8; 3]),
    Percent(DecimalForm),
    Duration(i64),
    Business(i64, BusinessUnit),
    Date(i16, i8, i8),
    TimeOfDay(u16),
    Time(InstantForm),
    Str(&'a str),
    Person(&'a str),
    Enum(u32, u32),
    Team(u32),
    Calendar(u32),
    #[serde(borrow)]
    List(Vec<ValueForm<'a>>),
    #[serde(borrow)]
    Record(Vec<ValueForm<'a>>),
}

impl ValueForm<'_> {
    /// The value, checked against the program: every enum, team and calendar it names
    /// exists (the engine indexes the program's tables with them).
    pub(super) fn get(&self, p: &Program) -> Result<Value, SnapshotError> {
        let bad = |what: &str| Err(SnapshotError(format!("a value names an unknown {what}")));
        Ok(match self {
            ValueForm::None => Value::None,
            ValueForm::Bool(b) => Value::Bool(*b),
            ValueForm::Int(i) => Value::Int(*i),
            ValueForm::Decimal(d) => Value::Decimal(d.get()?),
            ValueForm::Money(d, c) => Value::Money(d.get()?, *c),
            ValueForm::Percent(d) => Value::Percent(d.get()?),
            ValueForm::Duration(s) => Value::Duration(*s),
            ValueForm::Business(n, u) => Value::Business(*n, *u),
            ValueForm::Date(y, m, d) => Value::Date(
                jiff::civil::Date::new(*y, *m, *d)
                    .map_err(|e| SnapshotError(format!("a date out of range: {e}")))?,
            ),
            ValueForm::TimeOfDay(m) => Value::TimeOfDay(*m),
            ValueForm::Time(t) => Value::Time(t.get()?),
            ValueForm::Str(s) => Value::Str(Arc::from(*s)),
            ValueForm::Person(s) => Value::Person(Arc::from(*s)),
            ValueForm::Enum(e, x) => {
                match p.enums.get(*e as usize) {
                    Some(def) if (*x as usize) < def.variants.len() => {}
                    _ => return bad("enum variant"),
                }
                Value::Enum(*e, *x)
            }
            ValueForm::Team(t) if (*t as usize) < p.teams.len() => Value::Team(*t),
            ValueForm::Team(_) => return bad("team"),
            ValueForm::Calendar(c) if (*c as usize) < p.calendars.len() => Value::Calendar(*c),
            ValueForm::Calendar(_) => return bad("calendar"),
            ValueForm::List(items) => Value::List(get_all(items, p)?.into()),
            ValueForm::Record(items) => Value::Record(get_all(items, p)?.into()),
        })
    }
}

pub(super) fn get_all(vs: &[ValueForm<'_>], p: &Program) -> Result<Vec<Value>, SnapshotError> {
    vs.iter().map(|v| v.get(p)).collect()
}
