//! Probing rule conditions without applying an event (for the compiler's witness tests):
//! which routes would take an event on a fresh case.

use super::Engine;
use super::decision::{self, NoTrace};
use super::envelope::Envelope;

impl Engine {
    /// The class the `classify` gives an event on a fresh case, and every route that would
    /// take it there were it the only one (in route order): of the routes the decision
    /// step considers (those listing the event and, when classify runs on it, those whose
    /// condition reads `class`, docs/language.md §8.3), those whose condition holds and
    /// whose `key` evaluates. The same decisions as `apply` and `decide` make
    /// (`decision.rs`); no state changes.
    pub fn matching_routes(&self, env: &Envelope) -> (Option<u32>, Vec<u32>) {
        let found = self.on_fresh_case(env, &mut NoTrace, |candidates, f| {
            // Every winner in turn: the next decision starts after the last one.
            let mut routes = Vec::new();
            let mut from = 0;
            while let Some(i) = decision::route(&self.code, candidates, from, f, &mut NoTrace) {
                routes.extend(candidates.get(i).map(|c| c.at));
                from = i + 1;
            }
            routes.sort_unstable();
            routes
        });
        found.unwrap_or_default()
    }
}
