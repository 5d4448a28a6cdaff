//! Read-only views for a long-running host (`meshline serve`): a case's full state as JSON
//! and the next timer's due instant. Nothing here changes the engine.

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use super::Engine;
use super::actions::SagaState;
use crate::ir::{Program, Requirement, WireTy};
use crate::value::{self, Value};

/// A running SLA clock and its deadline (see [`Engine::clocks_by_due`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueClock {
    pub case: String,
    pub sla: String,
    pub due: Timestamp,
    /// Seconds of the clock's calendar open between the engine's clock and `due`.
    pub business_left: i64,
    pub calendar: String,
    pub warned: bool,
}

impl Engine {
    /// The instant the earliest pending timer is due, if any (a host's wall-clock ticker
    /// advances the clock to it).
    pub fn next_timer_due(&self) -> Option<Timestamp> {
        self.timers.first_key_value().map(|(&(due, _), _)| due)
    }

    /// Each automation's circuit breaker: (automation, halted).
    pub fn breaker_states(&self) -> Vec<(&str, bool)> {
        self.program
            .automations
            .iter()
            .zip(&self.breakers)
            .map(|(a, b)| (a.name.as_str(), b.halted))
            .collect()
    }

    /// Running SLA clocks in the order their deadlines fall, at most `limit`: each with its
    /// due instant and the open time of its calendar left until then, counted from the
    /// engine's clock (docs/console.md, "At risk"). A walk of the timer queue, which is kept
    /// in due order, so the cost is the clocks listed plus the other timers passed on the way.
    pub fn clocks_by_due(&self, limit: usize) -> Vec<DueClock> {
        let now = self.clock;
        let mut out = Vec::new();
        for (&(due, _), t) in &self.timers {
            if out.len() >= limit {
                break;
            }
            let super::TimerKind::SlaBreach { sla, .. } = t.kind else {
                continue;
            };
            if !self.timer_live(t) {
                continue;
            }
            let Some(k) = self
                .cases
                .get(&*t.case)
                .and_then(|c| c.clocks.get(sla as usize))
                .and_then(Option::as_ref)
            else {
                continue;
            };
            let cal = self.calendar(k.calendar);
            let business_left = match now {
                Some(n) if n < due => cal.open_seconds_between(n, due),
                Some(_) => 0,
                None => cal.open_seconds_between(k.counting_start, due),
            };
            out.push(DueClock {
                case: t.case.to_string(),
                sla: self
                    .program
                    .slas
                    .get(sla as usize)
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                due,
                business_left,
                calendar: cal.name().to_string(),
                warned: k.warned,
            });
        }
        out
    }

    /// When the earliest pending gate of held request `request` on `case` expires, if one
    /// of them has an expiry (the at-risk page: docs/console.md). Reads the case's own
    /// timers only.
    pub fn hold_expires(&self, case: &str, request: u64) -> Option<Timestamp> {
        self.timers_by_case
            .get(case)?
            .iter()
            .filter(|k| {
                self.timers.get(k).is_some_and(|t| {
                    matches!(t.kind, super::TimerKind::GateExpire { request: r, .. } if r == request)
                        && self.timer_live(t)
                })
            })
            .map(|k| k.0)
            .min()
    }

    /// How many timers are pending (stale ones are dropped as they go stale, see
    /// `timers.rs`).
    pub fn pending_timers(&self) -> usize {
        self.timers.len()
    }

    /// A case as JSON: facts by name (wire encoding, §7.13), class, owner, assignee, SLA
    /// clocks with their due times, held actions and pending timers.
    pub fn case_json(&self, id: &str) -> Option<Json> {
        let c = self.cases.get(id)?;
        let view = self.case_view(id)?;
        let p = &*self.program;
        let mut facts = serde_json::Map::new();
        for (slot, v) in p.slots.iter().zip(&c.facts) {
            if let Some(v) = v {
                facts.insert(slot.name.clone(), typed_json(p, &slot.ty, v));
            }
        }
        let clocks: Vec<Json> = p
            .slas
            .iter()
            .zip(&c.clocks)
            .filter_map(|(s, k)| {
                let k = k.as_ref()?;
                Some(json!({
                    "sla": s.name,
                    "state": k.state.as_str(),
                    "due": k.due.map(value::format_time),
                    "warned": k.warned,
                }))
            })
            .collect();
        let held: Vec<Json> = c
            .sagas
            .iter()
            .filter_map(|s| match &s.state {
                SagaState::Held(request) => {
                    let auto = p.automations.get(s.automation as usize)?;
                    let req = self.requests.get(request);
                    let pending: Vec<&str> = req
                        .map(|r| {
                            r.pending
                                .iter()
                                .filter_map(|g| self.gate_def(*g).map(|g| g.name.as_str()))
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut held = json!({
                        "automation": auto.name,
                        "step": s.next_step,
                        "request": request,
                        "trigger": s.trigger.id,
                        "gates": pending,
                    });
                    // A quorum on the pending gate: who approved so far, of how many.
                    let quorum = req
                        .and_then(|r| self.gate_def(*r.pending.first()?))
                        .and_then(|g| {
                            g.require.iter().find_map(|q| match q {
                                Requirement::Quorum(_, n) => Some(*n),
                                _ => None,
                            })
                        });
                    if let (Some(required), Some(r)) = (quorum, req) {
                        held["approvals"] = json!(r.approvals);
                        held["required"] = json!(required);
                    }
                    Some(held)
                }
                _ => None,
            })
            .collect();
        // Through the case's index, in (due, creation) order; stale timers were dropped
        // (`timers.rs`), so each one listed will act when it fires.
        let mut keys: Vec<(Timestamp, u64)> =
            self.timers_by_case.get(id).cloned().unwrap_or_default();
        keys.sort_unstable();
        let timers: Vec<Json> = keys
            .iter()
            .filter_map(|k| Some((k.0, self.timers.get(k)?)))
            .filter(|(_, t)| self.timer_live(t))
            .map(|(due, t)| {
                let kind = match t.kind {
                    super::TimerKind::Ack { .. } => "acknowledgement",
                    super::TimerKind::SlaWarn { .. } => "sla_warn",
                    super::TimerKind::SlaBreach { .. } => "sla_breach",
                    super::TimerKind::GateExpire { .. } => "gate_expiry",
                    super::TimerKind::SagaWait { .. } => "saga_wait",
                    super::TimerKind::Close { .. } => "lifecycle_close",
                    super::TimerKind::Evict { .. } => "lifecycle_evict",
                };
                json!({ "due": value::format_time(due), "kind": kind })
            })
            .collect();
        Some(json!({
            "id": id,
            "opened_at": value::format_time(c.opened_at),
            "facts": facts,
            "class": view.class,
            "owner": view.owner,
            "assignee": view.assignee,
            "escalated": c.escalated,
            "acknowledged": c.acknowledged,
            "clocks": clocks,
            "held": held,
            "timers": timers,
        }))
    }
}

/// Encode a value with its declared type, so that records get their field names.
fn typed_json(p: &Program, ty: &WireTy, v: &Value) -> Json {
    match (ty, v) {
        (WireTy::Optional(inner), _) => typed_json(p, inner, v),
        (WireTy::List(inner), Value::List(items)) => {
            Json::Array(items.iter().map(|i| typed_json(p, inner, i)).collect())
        }
        (WireTy::Record(r), Value::Record(items)) => match p.records.get(*r as usize) {
            Some(def) => {
                let mut m = serde_json::Map::new();
                for (f, i) in def.fields.iter().zip(items.iter()) {
                    if !i.is_none() {
                        m.insert(f.name.clone(), typed_json(p, &f.ty, i));
                    }
                }
                Json::Object(m)
            }
            None => value::encode(p, v),
        },
        _ => value::encode(p, v),
    }
}
