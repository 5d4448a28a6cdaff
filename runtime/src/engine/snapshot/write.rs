//! Writing the cases straight from the engine: each case, its facts and its sagas are
//! encoded as they are walked, with exactly the encoding of the reading types in
//! [`super::form`] (`Case`, `ValueForm`, `SagaS`, `Trigger`: the same fields in the same order, the
//! same variant indices) — without first building a copy of every case, which took most of
//! a snapshot's time. The round trip is checked by the snapshot tests (restore → snapshot
//! gives the same bytes).

use serde::ser::{Serialize, SerializeStruct, SerializeTupleVariant, Serializer};

use super::form::{
    ClockS, ClockStateForm, DecimalForm, InstantForm, LifeS, SagaStateForm, StatusForm, Who,
};
use crate::engine::EventData;
use crate::engine::actions::{Saga, SagaState};
use crate::engine::case::{Assignee, CaseState};
use crate::engine::lifecycle::{Life, Status};
use crate::engine::sla::{Clock, ClockState};
use crate::value::Value;

/// The cases, in the order given.
pub(super) struct Cases<'a>(pub Vec<&'a CaseState>);

impl Serialize for Cases<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(|c| CaseOut(c)))
    }
}

/// A slice, each item encoded through `F`.
struct Seq<'a, T, F>(&'a [T], F);

/// A slice encoded item by item through `f` (which takes its signature from here).
fn seq<'a, T, U: Serialize, F: Fn(&'a T) -> U>(xs: &'a [T], f: F) -> Seq<'a, T, F> {
    Seq(xs, f)
}

impl<'a, T, U: Serialize, F: Fn(&'a T) -> U> Serialize for Seq<'a, T, F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(&self.1))
    }
}

/// As `form::Case`.
struct CaseOut<'a>(&'a CaseState);

impl Serialize for CaseOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let CaseState {
            id,
            opened_at,
            facts,
            class,
            owner,
            escalated,
            assignee,
            acknowledged,
            ack_generation,
            clocks,
            sagas,
            errors,
            life,
        } = self.0;
        let assignee = assignee.as_ref().map(|a| match a {
            Assignee::Team(t) => Who::Team(*t),
            Assignee::Person(p) => Who::Person(p),
        });
        let mut st = s.serialize_struct("Case", 13)?;
        st.serialize_field("id", &**id)?;
        st.serialize_field("opened_at", &InstantForm::of(*opened_at))?;
        st.serialize_field("facts", &seq(facts, |f| f.as_ref().map(Val)))?;
        st.serialize_field("class", class)?;
        st.serialize_field("owner", owner)?;
        st.serialize_field("escalated", escalated)?;
        st.serialize_field("assignee", &assignee)?;
        st.serialize_field("acknowledged", acknowledged)?;
        st.serialize_field("ack_generation", ack_generation)?;
        st.serialize_field("clocks", &seq(clocks, |k| k.as_ref().map(clock)))?;
        st.serialize_field("sagas", &seq(sagas, SagaOut))?;
        st.serialize_field(
            "errors",
            &seq(errors, |m| {
                (m.rule.as_str(), m.part.as_str(), m.error.as_str())
            }),
        )?;
        st.serialize_field("life", &life_form(life))?;
        st.end()
    }
}

fn life_form(l: &Life) -> LifeS {
    let Life {
        status,
        since,
        generation,
    } = l;
    LifeS {
        status: match status {
            Status::Open => StatusForm::Open,
            Status::Solved => StatusForm::Solved,
            Status::Closed => StatusForm::Closed,
        },
        since: since.map(InstantForm::of),
        generation: *generation,
    }
}

pub(super) fn clock(k: &Clock) -> ClockS {
    let Clock {
        state,
        cycle,
        calendar,
        target,
        counting_start,
        running_since,
        paused_since,
        elapsed_wall,
        elapsed_open,
        paused_open,
        warned,
        generation,
        due,
    } = k;
    ClockS {
        state: match state {
            ClockState::Running => ClockStateForm::Running,
            ClockState::Paused => ClockStateForm::Paused,
            ClockState::Met => ClockStateForm::Met,
            ClockState::Breached => ClockStateForm::Breached,
        },
        cycle: *cycle,
        calendar: *calendar,
        target: *target,
        counting_start: InstantForm::of(*counting_start),
        running_since: running_since.map(InstantForm::of),
        paused_since: paused_since.map(InstantForm::of),
        elapsed_wall: *elapsed_wall,
        elapsed_open: *elapsed_open,
        paused_open: *paused_open,
        warned: *warned,
        generation: *generation,
        due: due.map(InstantForm::of),
    }
}

/// As `form::SagaS`.
struct SagaOut<'a>(&'a Saga);

impl Serialize for SagaOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Saga {
            automation,
            trigger,
            next_step,
            executed,
            state,
            requesters,
        } = self.0;
        let state = match state {
            SagaState::Running => SagaStateForm::Running,
            SagaState::Waiting(k) => SagaStateForm::Waiting(k),
            SagaState::Held(r) => SagaStateForm::Held(*r),
            SagaState::Done => SagaStateForm::Done,
            SagaState::Failed => SagaStateForm::Failed,
            SagaState::Cancelled => SagaStateForm::Cancelled,
            SagaState::Sleeping(u) => SagaStateForm::Sleeping(*u),
        };
        let executed = seq(executed, |(step, args, key)| {
            (*step as u64, seq(args, Val), key.as_str())
        });
        let mut st = s.serialize_struct("SagaS", 6)?;
        st.serialize_field("automation", automation)?;
        st.serialize_field("trigger", &TriggerOut(trigger))?;
        st.serialize_field("next_step", &(*next_step as u64))?;
        st.serialize_field("executed", &executed)?;
        st.serialize_field("state", &state)?;
        st.serialize_field("requesters", &seq(requesters, String::as_str))?;
        st.end()
    }
}

/// As `form::Trigger`.
struct TriggerOut<'a>(&'a EventData);

impl Serialize for TriggerOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let EventData {
            id,
            event,
            values,
            at,
        } = self.0;
        let mut st = s.serialize_struct("Trigger", 4)?;
        st.serialize_field("id", id.as_str())?;
        st.serialize_field("event", event)?;
        st.serialize_field("values", &seq(values, Val))?;
        st.serialize_field("at", &InstantForm::of(*at))?;
        st.end()
    }
}

/// As `form::ValueForm` (variant indices in its declaration order).
pub(super) struct Val<'a>(pub(super) &'a Value);

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        const NAME: &str = "ValueForm";
        match self.0 {
            Value::None => s.serialize_unit_variant(NAME, 0, "None"),
            Value::Bool(b) => s.serialize_newtype_variant(NAME, 1, "Bool", b),
            Value::Int(i) => s.serialize_newtype_variant(NAME, 2, "Int", i),
            Value::Decimal(d) => {
                s.serialize_newtype_variant(NAME, 3, "Decimal", &DecimalForm::of(d))
            }
            Value::Money(d, c) => {
                let mut t = s.serialize_tuple_variant(NAME, 4, "Money", 2)?;
                t.serialize_field(&DecimalForm::of(d))?;
                t.serialize_field(c)?;
                t.end()
            }
            Value::Percent(d) => {
                s.serialize_newtype_variant(NAME, 5, "Percent", &DecimalForm::of(d))
            }
            Value::Duration(x) => s.serialize_newtype_variant(NAME, 6, "Duration", x),
            Value::Business(n, u) => {
                let mut t = s.serialize_tuple_variant(NAME, 7, "Business", 2)?;
                t.serialize_field(n)?;
                t.serialize_field(u)?;
                t.end()
            }
            Value::Date(d) => {
                let mut t = s.serialize_tuple_variant(NAME, 8, "Date", 3)?;
                t.serialize_field(&d.year())?;
                t.serialize_field(&d.month())?;
                t.serialize_field(&d.day())?;
                t.end()
            }
            Value::TimeOfDay(m) => s.serialize_newtype_variant(NAME, 9, "TimeOfDay", m),
            Value::Time(t) => s.serialize_newtype_variant(NAME, 10, "Time", &InstantForm::of(*t)),
            Value::Str(x) => s.serialize_newtype_variant(NAME, 11, "Str", &**x),
            Value::Person(x) => s.serialize_newtype_variant(NAME, 12, "Person", &**x),
            Value::Enum(e, x) => {
                let mut t = s.serialize_tuple_variant(NAME, 13, "Enum", 2)?;
                t.serialize_field(e)?;
                t.serialize_field(x)?;
                t.end()
            }
            Value::Team(t) => s.serialize_newtype_variant(NAME, 14, "Team", t),
            Value::Calendar(c) => s.serialize_newtype_variant(NAME, 15, "Calendar", c),
            Value::List(items) => s.serialize_newtype_variant(NAME, 16, "List", &seq(items, Val)),
            Value::Record(items) => {
                s.serialize_newtype_variant(NAME, 17, "Record", &seq(items, Val))
            }
        }
    }
}
