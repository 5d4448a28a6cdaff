//! Restoring: a decoded snapshot body installed into a fresh engine for its program, every
//! index checked against the program first (the engine indexes the program's tables with
//! them; a bad one is a refusal here, not a panic later).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use super::error::SnapshotError;
use super::form::{
    Body, Case, ClockS, ClockStateForm, InstantForm, SagaS, SagaStateForm, StatusForm,
    TimerKindForm, Who, get_all, opt_ts,
};
use crate::engine::actions::{BreakerState, Request, Saga, SagaState};
use crate::engine::case::{Assignee, CaseState};
use crate::engine::sla::{Clock, ClockState};
use crate::engine::{Engine, EventData, Timer, TimerKind};
use crate::ir::Program;
use crate::ledger::LedgerWriter;

fn bad<T>(msg: impl Into<String>) -> Result<T, SnapshotError> {
    Err(SnapshotError(format!(
        "the snapshot does not fit the bundle: {}",
        msg.into()
    )))
}

fn index(n: u64, what: &str) -> Result<usize, SnapshotError> {
    usize::try_from(n).or_else(|_| bad(format!("{what} {n} is out of range")))
}

/// Shares one `Arc` per distinct person (as the engine does, through team members).
#[derive(Default)]
struct People<'a>(HashMap<&'a str, Arc<str>>);

impl<'a> People<'a> {
    fn get(&mut self, p: &'a str) -> Arc<str> {
        self.0.entry(p).or_insert_with(|| Arc::from(p)).clone()
    }
}

/// Move the body's state into `engine` (fresh from `Engine::new` for the same program).
pub(super) fn install(
    engine: &mut Engine,
    body: &Body<'_, Vec<Case<'_>>>,
) -> Result<(), SnapshotError> {
    let Engine {
        program,
        // Derived from the program, fresh from `Engine::new`; `clock_text` is refreshed
        // whenever it differs from `clock`, `scratch` is only memory.
        env: _,
        code: _,
        calendars: _,
        always: _,
        bundle: _,
        event_ids: _,
        route_index: _,
        route_index_class: _,
        autos_by_event: _,
        members: _,
        clock_text: _,
        scratch: _,
        commands: _,
        // Only while an event is applied; a snapshot is taken between events.
        before: _,
        // Rebuilt from the timers below.
        timers_by_case: _,
        clock,
        seen,
        cases,
        timers,
        timer_seq,
        generation,
        rr_cursor,
        open_by_person,
        breakers,
        // Installed from its part first (`parts.rs`).
        rollouts: _,
        requests,
        request_seq,
        outstanding,
        ledger,
        command_seq,
        assignment_commands: _,
        // Installed from its part first (`parts.rs`); requests are checked against them.
        retired_gates,
    } = engine;
    let p: &Program = program;
    let gates = p.gates.len() + retired_gates.len();
    if body.ledger_hash.len() != 64 || !body.ledger_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return bad("the ledger's last hash is not 64 hex digits");
    }
    if body.rr_cursor.len() != p.teams.len() {
        return bad(format!(
            "{} round-robin cursors for {} teams",
            body.rr_cursor.len(),
            p.teams.len()
        ));
    }
    if body.breakers.len() != p.automations.len() {
        return bad(format!(
            "{} breakers for {} automations",
            body.breakers.len(),
            p.automations.len()
        ));
    }
    let mut people = People::default();
    let mut new_cases: HashMap<Arc<str>, CaseState> = HashMap::default();
    new_cases.reserve(body.cases.len());
    for c in &body.cases {
        let case = case_state(c, p, &mut people)?;
        if new_cases.insert(case.id.clone(), case).is_some() {
            return bad(format!("case {} appears twice", c.id));
        }
    }
    let case_arc = |id: &str| -> Arc<str> {
        new_cases
            .get_key_value(id)
            .map_or_else(|| Arc::from(id), |(k, _)| k.clone())
    };
    let mut new_timers = BTreeMap::new();
    for t in &body.timers {
        let kind = match t.kind {
            TimerKindForm::Ack { generation } => TimerKind::Ack { generation },
            TimerKindForm::SlaWarn { sla, generation } if (sla as usize) < p.slas.len() => {
                TimerKind::SlaWarn { sla, generation }
            }
            TimerKindForm::SlaBreach { sla, generation } if (sla as usize) < p.slas.len() => {
                TimerKind::SlaBreach { sla, generation }
            }
            TimerKindForm::GateExpire { request, gate } if (gate as usize) < gates => {
                TimerKind::GateExpire { request, gate }
            }
            // A saga and step that do not exist make the timer stale (`timers.rs`), so
            // it is dropped after the restore like any other.
            TimerKindForm::SagaWait { saga, step } => TimerKind::SagaWait { saga, step },
            TimerKindForm::Close { generation } => TimerKind::Close { generation },
            TimerKindForm::Evict { generation } => TimerKind::Evict { generation },
            TimerKindForm::RolloutStage {
                automation,
                generation,
            } if (automation as usize) < p.automations.len() => TimerKind::RolloutStage {
                automation,
                generation,
            },
            _ => return bad("a timer names an unknown SLA policy, gate or automation"),
        };
        let timer = Timer {
            case: case_arc(t.case),
            kind,
        };
        if new_timers.insert((t.due.get()?, t.seq), timer).is_some() {
            return bad(format!("timer {} appears twice", t.seq));
        }
    }
    let mut new_requests = BTreeMap::new();
    for r in &body.requests {
        if r.pending.iter().any(|g| *g as usize >= gates) {
            return bad(format!("request {} names an unknown gate", r.id));
        }
        let req = Request {
            case: case_arc(r.case),
            saga: index(r.saga, "saga")?,
            pending: r.pending.clone(),
            approvals: r.approvals.iter().map(|a| a.to_string()).collect(),
        };
        if new_requests.insert(r.id, req).is_some() {
            return bad(format!("request {} appears twice", r.id));
        }
    }
    let mut new_outstanding = HashMap::default();
    new_outstanding.reserve(body.outstanding.len());
    for o in &body.outstanding {
        let v = (case_arc(o.case), index(o.saga, "saga")?, o.compensation);
        new_outstanding.insert(o.key.to_string(), v);
    }
    if body.dedupe_age < 0 {
        return bad("a negative deduplication window");
    }
    let window = crate::engine::DedupeWindow {
        age: body.dedupe_age,
        max_ids: body.dedupe_max_ids,
    };
    let mut items = Vec::with_capacity(body.seen.len());
    let mut last = None;
    for (at, id) in &body.seen {
        let at = at.get()?;
        if last.is_some_and(|l| l > at) {
            return bad("the event ids remembered are out of order");
        }
        last = Some(at);
        items.push((at, *id));
    }
    let new_seen = crate::engine::dedupe::Seen::restore(window, items);
    *open_by_person = body
        .open_by_person
        .iter()
        .map(|(person, n)| (people.get(person), *n))
        .collect();
    *clock = opt_ts(body.clock)?;
    *seen = new_seen;
    *cases = new_cases;
    *timers = new_timers;
    *timer_seq = body.timer_seq;
    *generation = body.generation;
    *rr_cursor = body
        .rr_cursor
        .iter()
        .map(|c| index(*c, "round-robin cursor"))
        .collect::<Result<_, _>>()?;
    *breakers = body
        .breakers
        .iter()
        .map(|b| BreakerState {
            runs: b.runs.iter().copied().collect::<VecDeque<bool>>(),
            halted: b.halted,
        })
        .collect();
    *requests = new_requests;
    *request_seq = body.request_seq;
    *outstanding = new_outstanding;
    *ledger = LedgerWriter::resume(body.ledger_seq, body.ledger_hash);
    *command_seq = body.command_seq;
    engine.drop_all_stale_timers();
    Ok(())
}

fn case_state<'a>(
    c: &Case<'a>,
    p: &Program,
    people: &mut People<'a>,
) -> Result<CaseState, SnapshotError> {
    let who = |what: &str| format!("case {}: {what}", c.id);
    if c.facts.len() != p.slots.len() || c.clocks.len() != p.slas.len() {
        return bad(who("its facts or SLA clocks do not match the bundle's"));
    }
    let variants = p
        .classify
        .as_ref()
        .and_then(|cl| p.enums.get(cl.enum_id as usize))
        .map_or(0, |e| e.variants.len());
    if c.class.is_some_and(|v| v as usize >= variants) {
        return bad(who("an unknown class"));
    }
    let team_ok = |t: u32| (t as usize) < p.teams.len();
    if c.owner.is_some_and(|t| !team_ok(t)) {
        return bad(who("an unknown owner team"));
    }
    let assignee = match &c.assignee {
        None => None,
        Some(Who::Team(t)) if team_ok(*t) => Some(Assignee::Team(*t)),
        Some(Who::Team(_)) => return bad(who("an unknown assignee team")),
        Some(Who::Person(person)) => Some(Assignee::Person(people.get(person))),
    };
    let facts = c
        .facts
        .iter()
        .map(|f| f.as_ref().map(|v| v.get(p)).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let clocks = c
        .clocks
        .iter()
        .map(|k| k.as_ref().map(clock).transpose())
        .collect::<Result<Vec<_>, _>>()?;
    let sagas = c
        .sagas
        .iter()
        .map(|s| saga(s, p).map_err(|e| SnapshotError(format!("case {}: {e}", c.id))))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CaseState {
        id: Arc::from(c.id),
        opened_at: c.opened_at.get()?,
        facts,
        class: c.class,
        owner: c.owner,
        escalated: c.escalated,
        assignee,
        acknowledged: c.acknowledged,
        ack_generation: c.ack_generation,
        clocks,
        sagas,
        errors: c
            .errors
            .iter()
            .map(|(rule, part, error)| crate::engine::ErrorMemo {
                rule: rule.to_string(),
                part: part.to_string(),
                error: error.to_string(),
            })
            .collect(),
        life: crate::engine::lifecycle::Life {
            status: match c.life.status {
                StatusForm::Open => crate::engine::lifecycle::Status::Open,
                StatusForm::Solved => crate::engine::lifecycle::Status::Solved,
                StatusForm::Closed => crate::engine::lifecycle::Status::Closed,
            },
            since: opt_ts(c.life.since)?,
            generation: c.life.generation,
        },
    })
}

fn clock(k: &ClockS) -> Result<Clock, SnapshotError> {
    Ok(Clock {
        state: match k.state {
            ClockStateForm::Running => ClockState::Running,
            ClockStateForm::Paused => ClockState::Paused,
            ClockStateForm::Met => ClockState::Met,
            ClockStateForm::Breached => ClockState::Breached,
        },
        cycle: k.cycle,
        calendar: k.calendar,
        target: k.target,
        counting_start: k.counting_start.get()?,
        running_since: opt_ts(k.running_since)?,
        paused_since: opt_ts(k.paused_since)?,
        elapsed_wall: k.elapsed_wall,
        elapsed_open: k.elapsed_open,
        paused_open: k.paused_open,
        warned: k.warned,
        generation: k.generation,
        due: opt_ts(k.due)?,
    })
}

fn saga(s: &SagaS<'_>, p: &Program) -> Result<Saga, SnapshotError> {
    let Some(auto) = p.automations.get(s.automation as usize) else {
        return bad("a saga of an unknown automation");
    };
    let steps = auto.steps.len();
    let next_step = index(s.next_step, "step")?;
    // A finished run is never advanced again, and a deployment may shorten its automation
    // under it (docs/deploy.md, "Migrations by name"): only a live run's steps must exist.
    let finished = matches!(
        s.state,
        SagaStateForm::Done | SagaStateForm::Failed | SagaStateForm::Cancelled
    );
    let unknown = next_step > steps || s.executed.iter().any(|(step, _, _)| *step >= steps as u64);
    if unknown && !finished {
        return bad(format!("a saga of {} at an unknown step", auto.name));
    }
    let t = &s.trigger;
    match p.events.get(t.event as usize) {
        Some(def) if def.fields.len() == t.values.len() => {}
        _ => return bad("a saga's trigger does not match its event's declaration"),
    }
    let executed = s
        .executed
        .iter()
        .map(|(step, args, key)| Ok((index(*step, "step")?, get_all(args, p)?, key.to_string())))
        .collect::<Result<Vec<_>, SnapshotError>>()?;
    Ok(Saga {
        automation: s.automation,
        trigger: EventData {
            id: t.id.to_string(),
            event: t.event,
            values: get_all(&t.values, p)?,
            at: InstantForm::get(t.at)?,
        },
        next_step,
        executed,
        state: match &s.state {
            SagaStateForm::Running => SagaState::Running,
            SagaStateForm::Waiting(k) => SagaState::Waiting(k.to_string()),
            SagaStateForm::Held(r) => SagaState::Held(*r),
            SagaStateForm::Done => SagaState::Done,
            SagaStateForm::Failed => SagaState::Failed,
            SagaStateForm::Cancelled => SagaState::Cancelled,
            SagaStateForm::Sleeping(u) => SagaState::Sleeping(*u),
        },
        requesters: s.requesters.iter().map(|r| r.to_string()).collect(),
    })
}
