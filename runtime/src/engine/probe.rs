//! Probing rule conditions without applying an event (for the compiler's witness tests):
//! which routes' conditions hold for an event on a fresh case.

use std::sync::Arc;

use super::Engine;
use super::EventData;
use super::case::CaseState;
use super::envelope::Envelope;
use crate::eval;

impl Engine {
    /// The class the `classify` gives an event on a fresh case, and every route evaluated on
    /// it whose condition evaluates to true (in route order): the routes listing the event
    /// and, when it classifies the case (a class change on a fresh case), the routes whose
    /// condition reads `class` (docs/language.md §8.3). No state changes.
    pub fn matching_routes(&self, env: &Envelope) -> (Option<u32>, Vec<u32>) {
        let case_id: Arc<str> = Arc::from(env.case.as_str());
        let mut case = CaseState::new(case_id, env.at, self.program.slots.len(), 0);
        let def = &self.program.events[env.event as usize];
        for (slot, v) in def.slots.iter().zip(&env.values) {
            case.facts[*slot as usize] = Some(v.clone());
        }
        let ev = EventData {
            id: env.id.clone(),
            event: env.event,
            values: env.values.clone(),
            at: env.at,
        };
        let holds =
            |pred: &eval::Pred, case: &CaseState| self.holds(pred, case, Some(&ev)) == Ok(true);
        let classified = self
            .code
            .classify_on
            .get(env.event as usize)
            .copied()
            .unwrap_or(false);
        if let Some(cl) = &self.program.classify {
            // (As before: the arms see the `otherwise` class while they are evaluated.)
            case.class = Some(cl.otherwise);
            let code = &self.code.classify;
            let hit = self.in_frame(&case, Some(&ev), &[], |f| {
                super::frame::first_hit(f, code.len(), |i| code.get(i))
            });
            case.class = Some(
                hit.and_then(|i| Some(cl.arms.get(i)?.0))
                    .unwrap_or(cl.otherwise),
            );
        }
        let routes = self
            .program
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                r.events.contains(&env.event)
                    || (classified && r.cond.as_ref().is_some_and(|c| c.reads_class()))
            })
            .filter(|(i, _)| match &self.code.route_cond[*i] {
                None => true,
                Some(c) => holds(c, &case),
            })
            .map(|(i, _)| i as u32)
            .collect();
        (case.class, routes)
    }
}
