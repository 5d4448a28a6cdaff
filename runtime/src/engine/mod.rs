//! The deterministic engine (brief §6): applies events to cases, fires timers, and writes
//! the ledger and the command stream.
//!
//! Order of work for one event (§6.2, §6.3): fire every timer due at or before the event's
//! instant, in (due, creation) order; then dedupe → validate → update case facts → built-in
//! semantics (acknowledgements, approvals, breaker resets, action outcomes) → classify →
//! ownership → routes → SLA clocks → automations. Every decision writes a ledger entry.
//!
//! INVARIANT (determinism, §6.4): the output depends only on the program and the event
//! sequence. Nothing iterates a hash map into the output; timers are ordered by (due,
//! creation sequence); there is no wall clock and no randomness.

mod actions;
mod aggregates;
mod approvals;
mod assignee;
mod case;
mod compiled;
mod decision;
mod dedupe;
mod embed;
mod envelope;
mod flow;
mod frame;
mod index;
mod keys;
mod lifecycle;
mod migrate;
mod migrate_flow;
mod once;
mod open_cases;
mod outcome;
mod output;
mod probe;
mod reads;
mod record;
mod release;
mod reload;
mod rollout;
mod routing;
mod sla;
mod sla_calendar;
mod snapshot;
mod timers;
mod view;

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Value as Json, json};

use crate::calendar::{Calendar, CalendarError};
use crate::eval::{self, CtxVals, Env, EvalError, Frame};
use crate::ir::{Program, Target};
use crate::ledger::{Detail, LedgerWriter};
use crate::value::{self, Value};
pub(crate) use case::AssignWhy;
pub use case::{Assignee, CaseState, ErrorMemo};
pub(crate) use compiled::Compiled;
pub use dedupe::DedupeWindow;
pub use embed::{EnvelopeBuilder, HeldBy, QueryError, SlaTargetValue};
pub use envelope::Envelope;
pub(crate) use index::Dispatch;
pub use lifecycle::{Life, Status as CaseStatus};
pub use outcome::{ApplyOutcome, RejectReason};
pub use output::Command;
pub(crate) use record::OnError;
pub use reload::ReloadError;
pub use snapshot::{SnapshotError, SnapshotInfo, StateSummary, snapshot_info};
pub use view::DueClock;

/// Work scheduled for an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TimerKind {
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
    /// A saga's wait step (`flow.rs`): the saga's index in its case, and the step.
    SagaWait {
        saga: u32,
        step: u32,
    },
    /// A solved case's reopen window ran out (`lifecycle.rs`).
    Close {
        generation: u64,
    },
    /// A closed case's retention ran out (`lifecycle.rs`).
    Evict {
        generation: u64,
    },
    /// A staged rollout's `after` passed (`rollout.rs`); the timer's case is `""`.
    RolloutStage {
        automation: u32,
        generation: u64,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct Timer {
    pub case: Arc<str>,
    pub kind: TimerKind,
}

/// Why an engine could not be built from a program.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadError {
    /// A calendar the program declares cannot be loaded.
    Calendar(CalendarError),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Calendar(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {}

pub struct Engine {
    pub(crate) program: Arc<Program>,
    pub(crate) env: Env,
    pub(crate) code: Compiled,
    pub(crate) calendars: Vec<Calendar>,
    pub(crate) always: Calendar,
    pub(crate) bundle: String,
    pub(crate) event_ids: HashMap<String, u32>,
    /// Route index per event id: the routes that list the event, and (for an event that
    /// changes the class) those plus the routes whose condition reads `class`.
    pub(crate) route_index: Vec<Dispatch>,
    pub(crate) route_index_class: Vec<Dispatch>,
    pub(crate) autos_by_event: Vec<Vec<u32>>,
    pub(crate) clock: Option<Timestamp>,
    /// The clock as RFC 3339 and the instant it was formatted for (every entry needs it).
    clock_text: (Option<Timestamp>, String),
    /// A `detail` builder kept between entries for its memory.
    scratch: Option<Detail>,
    /// Event ids applied within the deduplication window (`dedupe.rs`).
    pub(crate) seen: dedupe::Seen,
    pub(crate) cases: HashMap<Arc<str>, CaseState>,
    pub(crate) timers: BTreeMap<(Timestamp, u64), Timer>,
    /// The keys of each case's timers: derived from `timers` (see `timers.rs`).
    pub(crate) timers_by_case: HashMap<Arc<str>, Vec<(Timestamp, u64)>>,
    pub(crate) timer_seq: u64,
    pub(crate) generation: u64,
    pub(crate) rr_cursor: Vec<usize>,
    /// Each team's members, shared (an assignment clones a pointer, not the address).
    pub(crate) members: Vec<Vec<Arc<str>>>,
    /// Open cases assigned to each person (for `least_open`).
    pub(crate) open_by_person: HashMap<Arc<str>, u32>,
    pub(crate) breakers: Vec<actions::BreakerState>,
    /// Staged rollouts, by automation name (`rollout.rs`).
    pub(crate) rollouts: rollout::Rollouts,
    pub(crate) requests: BTreeMap<u64, actions::Request>,
    /// Gates a deployment removed while requests still name them, numbered after the
    /// program's (`migrate_flow.rs`).
    pub(crate) retired_gates: Vec<crate::ir::GateDef>,
    pub(crate) request_seq: u64,
    /// Outstanding action keys → (case, saga index, is a compensation).
    pub(crate) outstanding: HashMap<String, (Arc<str>, usize, bool)>,
    pub(crate) ledger: LedgerWriter,
    pub(crate) commands: Vec<Command>,
    pub(crate) command_seq: u64,
    /// While an event is applied: its case and the old values of the facts it wrote
    /// (`previous`/`changed`, docs/language.md §6.4). Never in a snapshot.
    pub(crate) before: Option<(Arc<str>, eval::Before)>,
    /// Whether a change of assignee is also a command (`assignment`), for a host that
    /// writes assignments back to the help desk (docs/runtime.md, "Commands"). A host
    /// setting, not state: `serve` sets it from its configuration before replaying.
    pub(crate) assignment_commands: bool,
}

impl Engine {
    /// Build an engine from a program; `bundle` is the bundle's content hash (recorded in
    /// every ledger entry).
    pub fn new(program: Program, bundle: &str) -> Result<Engine, LoadError> {
        let program = Arc::new(program);
        let p = &*program;
        let mut calendars = Vec::new();
        let mut zones = Vec::new();
        for spec in &p.calendars {
            let cal = Calendar::new(spec).map_err(LoadError::Calendar)?;
            zones.push(jiff::tz::TimeZone::get(&spec.timezone).unwrap_or(jiff::tz::TimeZone::UTC));
            calendars.push(cal);
        }
        let c = |e: &crate::ir::Expr| eval::compile(e, p);
        let code = Compiled::new(p);
        let functions = p.functions.iter().map(|f| c(&f.body)).collect();
        let mut env = Env {
            program: program.clone(),
            consts: Vec::new(),
            functions,
            zones,
            tables: p.tables.iter().map(eval::TableIndex::new).collect(),
            aggregates: p.aggregates.iter().map(eval::AggState::new).collect(),
        };
        // Constants in order; each may use earlier ones.
        for k in &p.consts {
            let code = c(&k.value);
            let ctx = empty_ctx();
            let v = code(&Frame {
                facts: &[],
                event: None,
                params: &[],
                ctx: &ctx,
                env: &env,
            })
            .unwrap_or(Value::None);
            env.consts.push(v);
        }
        let mut order: Vec<u32> = (0..p.routes.len() as u32).collect();
        order.sort_by_key(|r| (std::cmp::Reverse(p.routes[*r as usize].priority), *r));
        let route_index = (0..p.events.len() as u32)
            .map(|e| {
                Dispatch::build(
                    order
                        .iter()
                        .copied()
                        .filter(|r| p.routes[*r as usize].events.contains(&e)),
                    &code.route_req,
                )
            })
            .collect();
        // §8.3: on a class change, the routes on the event and those whose `when` reads
        // `class`.
        let route_index_class = (0..p.events.len() as u32)
            .map(|e| {
                Dispatch::build(
                    order.iter().copied().filter(|r| {
                        let route = &p.routes[*r as usize];
                        route.events.contains(&e)
                            || route.cond.as_ref().is_some_and(|c| c.reads_class())
                    }),
                    &code.route_req,
                )
            })
            .collect();
        let mut autos_by_event = vec![Vec::new(); p.events.len()];
        for (i, a) in p.automations.iter().enumerate() {
            for e in &a.events {
                if let Some(v) = autos_by_event.get_mut(*e as usize) {
                    v.push(i as u32);
                }
            }
        }
        Ok(Engine {
            event_ids: p
                .events
                .iter()
                .enumerate()
                .map(|(i, e)| (e.name.clone(), i as u32))
                .collect(),
            route_index,
            route_index_class,
            autos_by_event,
            rr_cursor: vec![0; p.teams.len()],
            members: p
                .teams
                .iter()
                .map(|t| t.members.iter().map(|m| Arc::from(m.as_str())).collect())
                .collect(),
            breakers: p
                .automations
                .iter()
                .map(|_| actions::BreakerState::default())
                .collect(),
            rollouts: rollout::fresh(p),
            calendars,
            always: Calendar::always(),
            code,
            env,
            bundle: bundle.to_string(),
            program,
            clock: None,
            clock_text: (None, "1970-01-01T00:00:00Z".to_string()),
            scratch: None,
            seen: dedupe::Seen::default(),
            cases: HashMap::default(),
            timers: BTreeMap::new(),
            timers_by_case: HashMap::default(),
            timer_seq: 0,
            generation: 0,
            open_by_person: HashMap::default(),
            requests: BTreeMap::new(),
            retired_gates: Vec::new(),
            request_seq: 0,
            outstanding: HashMap::default(),
            ledger: LedgerWriter::new(),
            commands: Vec::new(),
            command_seq: 0,
            before: None,
            assignment_commands: false,
        })
    }

    /// How long and how many event ids are remembered for deduplication. Every host uses
    /// the default (docs/runtime.md, Deduplication); a different window gives a different
    /// ledger for the same inputs.
    pub fn dedupe_window(&self) -> DedupeWindow {
        self.seen.window
    }

    /// Set the deduplication window (tests, tools): ids already remembered past the new
    /// bounds are forgotten at the next event.
    pub fn set_dedupe_window(&mut self, w: DedupeWindow) {
        self.seen.window = w;
    }

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn clock(&self) -> Option<Timestamp> {
        self.clock
    }

    /// Apply one line of raw bytes: a line that is not UTF-8 is recorded as `rejected`.
    pub fn apply_bytes(&mut self, line: &[u8]) -> ApplyOutcome {
        match std::str::from_utf8(line) {
            Ok(text) => self.apply_line(text),
            Err(e) => self.reject(
                None,
                None,
                RejectReason::NotUtf8 {
                    valid_up_to: e.valid_up_to(),
                },
            ),
        }
    }

    /// Apply one JSON envelope line. Malformed or invalid input is recorded as `rejected`
    /// (never dropped, never a panic).
    pub fn apply_line(&mut self, line: &str) -> ApplyOutcome {
        match serde_json::from_str::<Json>(line) {
            Ok(v) => self.apply_json(&v),
            Err(e) => self.reject(None, None, RejectReason::NotJson(e.to_string())),
        }
    }

    /// Apply one envelope given as JSON.
    pub fn apply_json(&mut self, v: &Json) -> ApplyOutcome {
        // §6.3: dedupe comes first, so a redelivery is a duplicate even if it is malformed.
        // Ids older than the window are forgotten first (docs/runtime.md, Deduplication).
        self.seen.forget_before(self.clock);
        if let Some(id) = v.get("id").and_then(Json::as_str)
            && self.seen.contains(id)
        {
            let case = v.get("case").and_then(Json::as_str).map(str::to_string);
            let ty = v.get("type").cloned().unwrap_or(Json::Null);
            self.log(
                case.as_deref(),
                "duplicate",
                None,
                json!({ "id": id, "type": ty }),
            );
            return ApplyOutcome::Duplicate;
        }
        match envelope::parse(self, v) {
            Ok(env) => self.apply(env),
            Err((id, case, reason)) => self.reject(id.as_deref(), case.as_deref(), reason),
        }
    }

    /// Parse and validate an envelope without applying it (the reason on failure).
    pub fn parse_envelope(&self, v: &Json) -> Result<Envelope, RejectReason> {
        envelope::parse(self, v).map_err(|(_, _, reason)| reason)
    }

    /// The decision step alone, for measurement: the class and the winning route for an
    /// event applied to a fresh case, with no ledger, no timers and no state change. The
    /// same decisions as `apply` makes (`decision.rs`), with nothing traced.
    pub fn decide(&self, env: &Envelope) -> (Option<u32>, Option<u32>) {
        self.on_fresh_case(env, &mut decision::NoTrace, |candidates, f| {
            decision::route(&self.code, candidates, 0, f, &mut decision::NoTrace)
                .and_then(|i| candidates.get(i).map(|c| c.at))
        })
        .unwrap_or((None, None))
    }

    /// [`decide`](Self::decide) without the route and classify indexes: every arm in
    /// order, then every route the event can reach best first, each by its whole
    /// condition. The reference the indexes are tested against (first match either way).
    pub fn decide_unindexed(&self, env: &Envelope) -> (Option<u32>, Option<u32>) {
        self.on_fresh_case(env, &mut decision::EveryArm, |_, f| {
            // The routes the index was built from: those it would hand over when it knows
            // nothing of the event.
            let index = match f.ctx.class {
                Some(_) => self.route_index_class.get(env.event as usize),
                None => self.route_index.get(env.event as usize),
            };
            let all: Vec<index::Cand> = index.map_or_else(Vec::new, |d| d.all().collect());
            decision::route(&self.code, &all, 0, f, &mut decision::NoTrace)
                .and_then(|i| all.get(i).map(|c| c.at))
        })
        .unwrap_or((None, None))
    }

    /// Decide the class for `env` on a fresh case (reporting what was tried to `classes`),
    /// then hand `routes` the route candidates (from the route index) and the frame routes
    /// are decided on. `None` for an event the program does not have.
    pub(crate) fn on_fresh_case<T: decision::Trace, R>(
        &self,
        env: &Envelope,
        classes: &mut T,
        routes: impl FnOnce(&[index::Cand], &Frame<'_>) -> R,
    ) -> Option<(Option<u32>, R)> {
        let def = self.program.events.get(env.event as usize)?;
        // A fresh case's facts are the event's fields, which the event view already gives:
        // nothing is copied or allocated.
        let event = eval::EventView {
            slots: &def.slots,
            values: &env.values,
        };
        // Every fact the event writes was unset before (an empty `old` allocates nothing).
        let fresh = eval::Before {
            event: env.event,
            old: Vec::new(),
        };
        let mut ctx = CtxVals {
            event_id: Some(&env.id),
            event_at: Some(env.at),
            event_type: Some(&def.name),
            case_id: Some(&env.case),
            opened_at: Some(env.at),
            class: None,
            assignee: eval::Who::Nobody,
            now: self.clock,
            before: def.updates_facts.then_some(&fresh),
            bound: None,
        };
        // As `apply` does on a fresh case: classify runs on the events it lists; a class
        // (always a change on a fresh case) adds the routes whose condition reads `class`
        // to the routes on this event.
        let f = Frame {
            facts: &[],
            event: Some(event),
            params: &[],
            ctx: &ctx,
            env: &self.env,
        };
        let class = decision::class(&self.program, &self.code, env.event, &f, classes)
            .map(|pick| pick.variant);
        if let (Some(v), Some(cl)) = (class, &self.program.classify) {
            ctx.class = Some((cl.enum_id, v));
        }
        let index = match class {
            Some(_) => self.route_index_class.get(env.event as usize)?,
            None => self.route_index.get(env.event as usize)?,
        };
        let f = Frame {
            facts: &[],
            event: Some(event),
            params: &[],
            ctx: &ctx,
            env: &self.env,
        };
        Some((class, routes(index.candidates(&f), &f)))
    }

    /// The id of a receivable event by name.
    pub fn event_named(&self, name: &str) -> Option<u32> {
        self.event_ids.get(name).copied()
    }

    /// Evaluate a closed expression (constants and literals only), e.g. a test's event value.
    pub fn evaluate(&self, e: &crate::ir::Expr) -> Result<Value, EvalError> {
        let code = eval::compile(e, &self.program);
        let ctx = empty_ctx();
        code(&Frame {
            facts: &[],
            event: None,
            params: &[],
            ctx: &ctx,
            env: &self.env,
        })
    }

    /// A case's class, owner team and assignee (team name or person), by name.
    pub fn case_view(&self, id: &str) -> Option<CaseView> {
        let c = self.cases.get(id)?;
        let class = match (c.class, &self.program.classify) {
            (Some(v), Some(cl)) => self.program.enums[cl.enum_id as usize]
                .variants
                .get(v as usize)
                .cloned(),
            _ => None,
        };
        let assignee = c.assignee.as_ref().map(|a| match a {
            Assignee::Team(t) => self.team_name(*t).to_string(),
            Assignee::Person(p) => p.to_string(),
        });
        let slas = self
            .program
            .slas
            .iter()
            .zip(&c.clocks)
            .map(|(s, k)| {
                (
                    s.name.clone(),
                    k.as_ref().map_or("not started", |k| k.state.as_str()),
                )
            })
            .collect();
        Some(CaseView {
            class,
            owner: c.owner.map(|o| self.team_name(o).to_string()),
            assignee,
            slas,
            status: c.life.status.as_str(),
        })
    }

    /// Advance the clock to `t`, firing every timer due at or before it.
    pub fn advance_to(&mut self, t: Timestamp) {
        self.fire_timers_until(t);
        if self.clock.is_none_or(|c| c < t) {
            self.clock = Some(t);
        }
    }

    pub fn case(&self, id: &str) -> Option<&CaseState> {
        self.cases.get(id)
    }

    pub fn case_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.cases.keys().map(|k| &**k).collect();
        ids.sort_unstable();
        ids
    }

    // --- timers --------------------------------------------------------------------------

    pub(crate) fn next_generation(&mut self) -> u64 {
        self.generation += 1;
        self.generation
    }

    pub(crate) fn fire(&mut self, timer: Timer) {
        let case = timer.case.clone();
        match timer.kind {
            // A closed case's clocks no longer act (docs/runtime.md, "Case lifecycle").
            TimerKind::Ack { .. } | TimerKind::SlaWarn { .. } | TimerKind::SlaBreach { .. }
                if self.is_closed(&case) => {}
            TimerKind::Ack { generation } => self.ack_timeout(&case, generation),
            TimerKind::SlaWarn { sla, generation } => self.sla_warn(&case, sla, generation),
            TimerKind::SlaBreach { sla, generation } => self.sla_breach(&case, sla, generation),
            TimerKind::GateExpire { request, gate } => self.gate_expired(request, gate),
            TimerKind::SagaWait { saga, step } => self.wait_timer(&case, saga, step),
            TimerKind::Close { generation } => self.lifecycle_timer(&case, generation, false),
            TimerKind::Evict { generation } => self.lifecycle_timer(&case, generation, true),
            TimerKind::RolloutStage {
                automation,
                generation,
            } => self.rollout_timer(automation, generation),
        }
    }

    // --- the pipeline ----------------------------------------------------------------------

    /// Apply a validated envelope. One whose event or values do not match the program
    /// (possible only through this API, not from JSON) is rejected and recorded.
    pub fn apply(&mut self, env: Envelope) -> ApplyOutcome {
        let fits = self
            .program
            .events
            .get(env.event as usize)
            .is_some_and(|e| e.fields.len() == env.values.len());
        if !fits {
            return self.reject(Some(&env.id), Some(&env.case), RejectReason::ValuesMismatch);
        }
        // §6.1: duplicates are recorded and ignored (within the window, `dedupe.rs`).
        self.seen.forget_before(self.clock);
        if self.seen.contains(&env.id) {
            self.log(
                Some(&env.case),
                "duplicate",
                None,
                json!({ "id": env.id, "type": self.program.events[env.event as usize].name }),
            );
            return ApplyOutcome::Duplicate;
        }
        // §6.2: timers due at or before the event fire first; a late event runs at the clock.
        self.fire_timers_until(env.at);
        let late = self.clock.is_some_and(|c| env.at < c);
        if !late {
            self.clock = Some(env.at);
        }
        self.seen.insert(self.clock.unwrap_or(env.at), &env.id);
        let mut d = self.detail();
        let ev = &self.program.events[env.event as usize];
        d.str("at", &value::format_time(env.at)).str("id", &env.id);
        if late {
            d.bool("late", true);
        }
        d.str("type", &ev.name);
        let updates = ev.updates_facts;
        let builtin = ev.builtin;
        self.log_detail(Some(&env.case), "received", None, d);
        let case_id: Arc<str> = match self.cases.get_key_value(env.case.as_str()) {
            Some((id, _)) => id.clone(),
            None => {
                let id: Arc<str> = Arc::from(env.case.as_str());
                let now = self.clock.unwrap_or(env.at);
                let case = CaseState::new(
                    id.clone(),
                    now,
                    self.program.slots.len(),
                    self.program.slas.len(),
                );
                self.cases.insert(id.clone(), case);
                id
            }
        };
        // A closed case's events are recorded and run no rules (docs/runtime.md, "Case
        // lifecycle"); after eviction the id is unknown again and opens a new case above.
        if self.is_closed(&case_id) {
            self.closed_case_event(&case_id);
            return ApplyOutcome::Accepted;
        }
        self.before = None;
        if updates {
            let program = self.program.clone();
            let slots = &program.events[env.event as usize].slots;
            if let Some(c) = self.cases.get_mut(&case_id) {
                // The old values move out as the new ones go in (`previous`/`changed`).
                let mut old = Vec::with_capacity(slots.len());
                for (slot, v) in slots.iter().zip(&env.values) {
                    let new = if v.is_none() { None } else { Some(v.clone()) };
                    old.push(match c.facts.get_mut(*slot as usize) {
                        Some(fact) => std::mem::replace(fact, new),
                        None => None,
                    });
                }
                let before = eval::Before {
                    event: env.event,
                    old,
                };
                self.before = Some((case_id.clone(), before));
            }
        }
        let Envelope {
            id,
            event,
            at,
            values,
            ..
        } = env;
        let view = EventData {
            id,
            event,
            values,
            at,
        };
        // Before any rule: rules on this event count it (docs/runtime.md, "Aggregates").
        self.feed_aggregates(&case_id, &view);
        if let Some(b) = builtin {
            self.builtin_event(&case_id, b, &view);
        }
        self.lifecycle_event(&case_id, &view);
        // After the transition: the event's rules see the case's new place.
        self.sync_open_cases(&case_id);
        let class_changed = self.classify(&case_id, &view);
        self.route(&case_id, &view, class_changed);
        self.slas(&case_id, &view);
        self.release_cleared(&case_id);
        self.wake_waits(&case_id);
        self.automations(&case_id, &view);
        self.rollout_event(&case_id, &view);
        self.drop_stale_timers(&case_id);
        self.before = None;
        ApplyOutcome::Accepted
    }

    pub(crate) fn target_json(&self, t: &Target) -> Json {
        match t {
            Target::Team(i) => json!(
                self.program
                    .teams
                    .get(*i as usize)
                    .map(|t| t.name.as_str())
                    .unwrap_or("")
            ),
            Target::Person(p) => json!(p),
        }
    }

    pub(crate) fn value_json(&self, v: &Value) -> Json {
        value::encode(&self.program, v)
    }
}

/// A case as people see it (names, not ids).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseView {
    pub class: Option<String>,
    pub owner: Option<String>,
    pub assignee: Option<String>,
    /// (SLA policy, state: running, paused, met, breached or not started).
    pub slas: Vec<(String, &'static str)>,
    /// `open`, `solved` or `closed` (docs/runtime.md, "Case lifecycle").
    pub status: &'static str,
}

/// The triggering event, as rules see it.
#[derive(Clone, Debug)]
pub struct EventData {
    pub id: String,
    pub event: u32,
    pub values: Vec<Value>,
    pub at: Timestamp,
}

fn empty_ctx() -> CtxVals<'static> {
    CtxVals::default()
}
