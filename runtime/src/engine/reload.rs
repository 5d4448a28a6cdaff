//! Deploying a new bundle over live state (`meshline serve`): the new program's rules take
//! over from the next event, the cases, timers, approval requests, breakers and cursors stay.
//! Every declaration live state refers to by number is carried by name: enums, events,
//! facts, teams and SLA policies in `migrate.rs`, calendars, gates, connector actions and
//! automations in `migrate_flow.rs` (see [`Engine::reload_incompatibility`]); what cannot
//! be carried is refused with the reason. Team members and calendars' hours and holidays
//! may change: running SLA clocks are then rescheduled on the new calendars.

use std::fmt;

use serde_json::json;

use super::{Engine, LoadError};
use crate::ir::Program;

/// Why a bundle was refused over live state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReloadError {
    /// The new program changes declarations that live state refers to by number (which).
    Incompatible(Vec<String>),
    /// The new program cannot be loaded (a calendar).
    Load(LoadError),
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReloadError::Incompatible(differ) => write!(
                f,
                "the new bundle changes declarations that live cases depend on: {}; \
                 declarations are carried by name, and what live cases still need must stay \
                 (docs/deploy.md, \"Migrations by name\")",
                differ.join(", ")
            ),
            ReloadError::Load(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for ReloadError {}

impl Engine {
    /// The content hash of the bundle deciding now.
    pub fn bundle_hash(&self) -> &str {
        &self.bundle
    }

    /// Why `program` cannot take over this engine's live state, if it cannot.
    ///
    /// Live state refers to declarations by number (an enum value is a variant number, a
    /// fact a slot, a clock an SLA policy, a held request a gate, a saga an automation and
    /// its steps, an owner a team, a clock a calendar); a deployment carries the numbers
    /// through the names. Refused: a declaration whose meaning changes under live state,
    /// and a removal live state cannot do without (the reason names the case).
    pub fn reload_incompatibility(&self, program: &Program) -> Option<String> {
        self.incompatibility(program).map(|e| e.to_string())
    }

    /// As [`reload_incompatibility`](Self::reload_incompatibility), typed.
    fn incompatibility(&self, program: &Program) -> Option<ReloadError> {
        let old = &*self.program;
        let mut differ = Vec::new();
        // Enums, records, events, facts, teams and SLA policies are carried by name
        // (`migrate.rs`); what they mean must not change, and live state must not need
        // what is removed.
        let carry = match super::migrate::Carry::between(old, program) {
            Ok(c) => Some(c),
            Err(why) => {
                differ.extend(why);
                None
            }
        };
        if let Some(c) = &carry {
            if let Err(why) = self.carry_check(c) {
                differ.push(why);
            } else if let Err(why) = self.flow_between(c, program) {
                differ.push(why);
            }
        }
        if differ.is_empty() {
            None
        } else {
            Some(ReloadError::Incompatible(differ))
        }
    }

    /// Let `program` (bundle `bundle`) decide from now on, keeping all live state; writes a
    /// `deployed` ledger entry. Refused, with the reason, when incompatible.
    pub fn reload(&mut self, program: Program, bundle: &str) -> Result<(), ReloadError> {
        self.reload_noted(program, bundle, serde_json::Map::new())
    }

    /// As [`reload`](Self::reload), the `deployed` entry also recording `note`: who
    /// deployed, the bundle's signer, version and source hash (docs/deploy.md, "Change
    /// history"). The note is an input like the bundle, so a replay writes the same entry;
    /// it cannot replace `from`, `to` or `rescheduled_clocks`.
    pub fn reload_noted(
        &mut self,
        program: Program,
        bundle: &str,
        note: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), ReloadError> {
        if let Some(why) = self.incompatibility(&program) {
            return Err(why);
        }
        // `incompatibility` made the same checks: these cannot fail here.
        let carry = super::migrate::Carry::between(&self.program, &program)
            .map_err(ReloadError::Incompatible)?;
        let flow = self
            .flow_between(&carry, &program)
            .map_err(|why| ReloadError::Incompatible(vec![why]))?;
        let mut fresh = Engine::new(program, bundle).map_err(ReloadError::Load)?;
        let from = std::mem::take(&mut self.bundle);
        fresh.clock = self.clock;
        fresh.seen = std::mem::take(&mut self.seen);
        fresh.cases = std::mem::take(&mut self.cases);
        fresh.timers = std::mem::take(&mut self.timers);
        fresh.timers_by_case = std::mem::take(&mut self.timers_by_case);
        fresh.timer_seq = self.timer_seq;
        fresh.generation = self.generation;
        fresh.rr_cursor = std::mem::take(&mut self.rr_cursor);
        fresh.open_by_person = std::mem::take(&mut self.open_by_person);
        fresh.breakers = std::mem::take(&mut self.breakers);
        fresh.requests = std::mem::take(&mut self.requests);
        fresh.request_seq = self.request_seq;
        fresh.outstanding = std::mem::take(&mut self.outstanding);
        fresh.ledger = std::mem::take(&mut self.ledger);
        fresh.commands = std::mem::take(&mut self.commands);
        fresh.command_seq = self.command_seq;
        fresh.assignment_commands = self.assignment_commands;
        fresh.retired_gates = std::mem::take(&mut self.retired_gates);
        let calendars_changed = self.program.calendars != fresh.program.calendars
            || self.program.default_calendar != fresh.program.default_calendar;
        *self = fresh;
        let mut notes: std::collections::BTreeMap<_, _> = self
            .carry_apply(&carry)
            .into_iter()
            .map(|(case, d)| (case, d.as_object().cloned().unwrap_or_default()))
            .collect();
        let cancelled = self.flow_apply(&flow, &mut notes);
        // New hours or holidays move the deadlines of running clocks: reschedule them (in
        // case order, so that a replay schedules identically; the old timers go stale),
        // after the `deployed` entry, since a deadline already past breaches at once.
        let mut running: Vec<(std::sync::Arc<str>, usize)> = Vec::new();
        if calendars_changed {
            running = self
                .cases
                .iter()
                .flat_map(|(id, c)| {
                    c.clocks.iter().enumerate().filter_map(move |(s, k)| {
                        k.as_ref()
                            .filter(|k| {
                                k.state == super::sla::ClockState::Running
                                    && k.running_since.is_some()
                            })
                            .map(|_| (id.clone(), s))
                    })
                })
                .collect();
            running.sort();
        }
        let mut detail = json!({ "from": from, "to": bundle });
        if !running.is_empty() {
            detail["rescheduled_clocks"] = json!(running.len());
        }
        if !notes.is_empty() {
            detail["migrated_cases"] = json!(notes.len());
        }
        if let Some(d) = detail.as_object_mut() {
            for (k, v) in note {
                d.entry(k).or_insert(v);
            }
        }
        self.log(None, "deployed", None, detail);
        // One entry per case a removal changed (docs/deploy.md, "Migrations by name"),
        // each followed by the reconciliation tasks of the runs it cancelled.
        let mut cancelled = cancelled.into_iter().peekable();
        for (case, d) in notes {
            self.log(Some(&case), "migrated", None, serde_json::Value::Object(d));
            while let Some(c) = cancelled.next_if(|c| c.0 == case) {
                self.cancelled_run(&c);
            }
        }
        for (case, s) in running {
            self.sla_schedule(&case, s);
        }
        self.drop_all_stale_timers();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ReloadError;
    use crate::calendar::CalendarError;
    use crate::engine::{Engine, LoadError};
    use crate::ir::{CalendarSpec, EventDef, Program};

    fn program(events: &[&str], calendars: Vec<CalendarSpec>) -> Program {
        Program {
            events: events
                .iter()
                .map(|n| EventDef {
                    name: n.to_string(),
                    fields: Vec::new(),
                    slots: Vec::new(),
                    updates_facts: false,
                    builtin: None,
                })
                .collect(),
            calendars,
            ..Default::default()
        }
    }

    #[test]
    fn a_refusal_is_typed_and_keeps_its_text() {
        let mut engine = Engine::new(program(&["A"], Vec::new()), "v1").unwrap();
        // An event that changes its fields is refused (adding one is carried by name).
        let mut v2 = program(&["A", "B"], Vec::new());
        v2.events[0].fields.push(crate::ir::FieldDef {
            name: "x".into(),
            ty: crate::ir::WireTy::Int,
        });
        let why = engine.reload_incompatibility(&v2).unwrap();
        let err = engine.reload(v2, "v2").unwrap_err();
        assert_eq!(
            err,
            ReloadError::Incompatible(vec!["event A changes its fields".into()])
        );
        assert_eq!(err.to_string(), why);
        assert!(why.starts_with(
            "the new bundle changes declarations that live cases depend on: event A changes its fields; declarations"
        ));
        // A calendar that does not load is a load error, with the calendar's message.
        let good = CalendarSpec {
            name: "office".into(),
            ..CalendarSpec::always()
        };
        let bad = CalendarSpec {
            timezone: "Mars/Olympus_Mons".into(),
            ..good.clone()
        };
        let load = Engine::new(program(&["A"], vec![bad.clone()]), "v1")
            .map(|_| ())
            .unwrap_err();
        assert!(matches!(
            load,
            LoadError::Calendar(CalendarError::UnknownZone { .. })
        ));
        assert!(
            load.to_string()
                .starts_with("calendar office: unknown time zone \"Mars/Olympus_Mons\""),
            "{load}"
        );
        let mut live = Engine::new(program(&["A"], vec![good]), "v1").unwrap();
        let err = live.reload(program(&["A"], vec![bad]), "v2").unwrap_err();
        assert_eq!(err, ReloadError::Load(load));
    }

    #[test]
    fn a_note_adds_to_the_deployed_entry_but_cannot_replace_from_and_to() {
        let mut engine = Engine::new(program(&["A"], Vec::new()), "v1").unwrap();
        let note = serde_json::json!({"by": "ops", "to": "forged", "from": "forged"});
        engine
            .reload_noted(
                program(&["A"], Vec::new()),
                "v2",
                note.as_object().cloned().unwrap(),
            )
            .unwrap();
        let (lines, _) = engine.drain_jsonl();
        let entry: serde_json::Value = serde_json::from_str(lines.lines().last().unwrap()).unwrap();
        assert_eq!(entry["kind"], "deployed");
        assert_eq!(entry["detail"]["by"], "ops");
        assert_eq!(entry["detail"]["from"], "v1");
        assert_eq!(entry["detail"]["to"], "v2");
    }
}
