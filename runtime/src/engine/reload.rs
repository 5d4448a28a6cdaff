//! Deploying a new bundle over live state (`meshline serve`): the new program's rules take
//! over from the next event, the cases, timers, approval requests, breakers and cursors stay.
//! Allowed only when every declaration the live state is indexed by is unchanged; otherwise
//! the reason names what differs.

use serde_json::json;

use super::Engine;
use crate::ir::Program;

impl Engine {
    /// The content hash of the bundle deciding now.
    pub fn bundle_hash(&self) -> &str {
        &self.bundle
    }

    /// Why `program` cannot take over this engine's live state, if it cannot.
    pub fn reload_incompatibility(&self, program: &Program) -> Option<String> {
        let old = &*self.program;
        let names = |a: &[String], b: &[String]| a == b;
        let mut differ = Vec::new();
        let mut check = |what: &str, same: bool| {
            if !same {
                differ.push(what.to_string());
            }
        };
        check(
            "enums (classes and their variants)",
            old.enums == program.enums,
        );
        check("records", old.records == program.records);
        check("events", old.events == program.events);
        check("case facts (event fields)", old.slots == program.slots);
        check("calendars", old.calendars == program.calendars);
        check("teams and their members", old.teams == program.teams);
        check(
            "the classification's enum",
            old.classify.as_ref().map(|c| c.enum_id)
                == program.classify.as_ref().map(|c| c.enum_id),
        );
        let sla = |p: &Program| p.slas.iter().map(|s| s.name.clone()).collect::<Vec<_>>();
        check(
            "SLA policies (names and order)",
            names(&sla(old), &sla(program)),
        );
        let gate = |p: &Program| p.gates.iter().map(|g| g.name.clone()).collect::<Vec<_>>();
        check("gates (names and order)", names(&gate(old), &gate(program)));
        check("connector actions", old.actions == program.actions);
        let same_autos = old.automations.len() == program.automations.len()
            && old
                .automations
                .iter()
                .zip(&program.automations)
                .all(|(a, b)| a.name == b.name && a.steps == b.steps);
        check("automations (names, order and steps)", same_autos);
        if differ.is_empty() {
            None
        } else {
            Some(format!(
                "the new bundle changes declarations that live cases depend on: {}; only rule \
                 bodies (conditions, routes, owners, targets, rollouts) may change in place",
                differ.join(", ")
            ))
        }
    }

    /// Let `program` (bundle `bundle`) decide from now on, keeping all live state; writes a
    /// `deployed` ledger entry. Refused, with the reason, when incompatible.
    pub fn reload(&mut self, program: Program, bundle: &str) -> Result<(), String> {
        if let Some(why) = self.reload_incompatibility(&program) {
            return Err(why);
        }
        let mut fresh = Engine::new(program, bundle).map_err(|e| e.0)?;
        let from = std::mem::take(&mut self.bundle);
        fresh.clock = self.clock;
        fresh.seen = std::mem::take(&mut self.seen);
        fresh.cases = std::mem::take(&mut self.cases);
        fresh.timers = std::mem::take(&mut self.timers);
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
        *self = fresh;
        self.log(
            None,
            "deployed",
            None,
            json!({ "from": from, "to": bundle }),
        );
        Ok(())
    }
}
