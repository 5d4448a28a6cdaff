//! Committing routing decisions (docs/language.md §8.3): the route is decided by
//! `decision::route`; here its errors are recorded and the assignee set, with the routes
//! tried before the winner and the facts they read on the `assigned` entry
//! (docs/runtime.md, "Decisions").

use std::sync::Arc;

use serde_json::Value as Json;

use super::decision::{self, Lost, Tries};
use super::{AssignWhy, Assignee, Engine, EventData, OnError, reads};
use crate::eval::EvalError;
use crate::ir::{Strategy, Target};
use crate::ledger::{self, Detail};

/// A routing decision, for its `assigned` entry's `lost` and `read` (written only when the
/// assignee changes, so deciding costs no detail when nothing is recorded).
pub(crate) struct RouteDecision<'a> {
    pub tries: &'a Tries,
    pub winner: Option<u32>,
    pub ev: &'a EventData,
}

impl Engine {
    /// Routes (docs/language.md §8.3): on events some route lists; on an event that changes
    /// the class, also the routes whose condition reads `class`.
    ///
    /// Candidates come from the route index: routes whose condition requires an equality
    /// (an enum variant, a string, an integer) are looked up by the value the case has now,
    /// so routes that cannot match are never visited; the rest are tried best first
    /// (priority, then declaration order).
    pub(crate) fn route(&mut self, case_id: &Arc<str>, ev: &EventData, class_changed: bool) {
        let index = if class_changed {
            &self.route_index_class[ev.event as usize]
        } else {
            &self.route_index[ev.event as usize]
        };
        if index.is_empty() {
            if class_changed
                && let Some(owner) = self.cases.get(&**case_id).and_then(|c| c.owner)
                && !self.keeps_member(case_id, owner)
            {
                self.set_assignee(case_id, Assignee::Team(owner), "owners", AssignWhy::Plain);
            }
            return;
        }
        let Some(case) = self.cases.get(&**case_id) else {
            return;
        };
        // The decision sees the case as it is before any of its errors is recorded
        // (recording one may change the assignee; docs/runtime.md, "Decisions").
        let mut tries = Tries::default();
        let winner = self.in_frame(case, Some(ev), &[], |f| {
            let candidates = index.candidates(f);
            decision::route(&self.code, candidates, 0, f, &mut tries)
                .and_then(|i| candidates.get(i).map(|c| c.at))
        });
        // A route considered only because the class changed (it does not list this event)
        // may read facts its own events would set: unset means "no match", not an error.
        let program = self.program.clone();
        let reported = |r: u32, e: &EvalError| {
            let outside_on = program
                .routes
                .get(r as usize)
                .is_some_and(|route| !route.events.contains(&ev.event));
            !(outside_on && matches!(e, EvalError::UnsetFact(_)))
        };
        self.commit_tries(case_id, &tries, winner, Engine::route_name, reported);
        match winner {
            Some(r) => self.assign_by_route(case_id, ev, r, &tries),
            None => {
                // No match: the class owner is the assignee, unless a member of the owner
                // team already has the case (docs/language.md §8.3, sticky assignment).
                let owner = self.cases.get(&**case_id).and_then(|c| {
                    let owner = c.owner?;
                    (c.assignee != Some(Assignee::Team(owner))).then_some(owner)
                });
                let owner = owner.filter(|o| !self.keeps_member(case_id, *o));
                if let Some(owner) = owner {
                    let why = AssignWhy::NoRoute(RouteDecision {
                        tries: &tries,
                        winner: None,
                        ev,
                    });
                    self.set_assignee(case_id, Assignee::Team(owner), "owners", why);
                }
            }
        }
    }

    fn assign_by_route(&mut self, case_id: &Arc<str>, ev: &EventData, r: u32, tries: &Tries) {
        let program = self.program.clone();
        let Some(route) = program.routes.get(r as usize) else {
            return;
        };
        // Sticky assignment (docs/language.md §8.3): a case whose assignee is a member of
        // the target team keeps them; the strategy chooses only for a new target team or an
        // unassigned case, or every time with `rebalance`.
        if let Target::Team(t) = route.target
            && !route.strategy.rebalances()
            && self.keeps_member(case_id, t)
        {
            return;
        }
        let assignee = match (&route.target, route.strategy) {
            (Target::Person(p), _) => Assignee::Person(Arc::from(p.as_str())),
            (Target::Team(t), Strategy::Queue | Strategy::QueueRebalance) => Assignee::Team(*t),
            (Target::Team(t), Strategy::RoundRobin | Strategy::RoundRobinRebalance) => {
                let members = &self.members[*t as usize];
                if members.is_empty() {
                    Assignee::Team(*t)
                } else {
                    let cursor = &mut self.rr_cursor[*t as usize];
                    let m = members[*cursor % members.len()].clone();
                    *cursor = (*cursor + 1) % members.len();
                    Assignee::Person(m)
                }
            }
            (Target::Team(t), Strategy::LeastOpen | Strategy::LeastOpenRebalance) => {
                let members = &self.members[*t as usize];
                let best = members
                    .iter()
                    .min_by_key(|m| self.open_by_person.get(&**m).copied().unwrap_or(0));
                match best {
                    Some(m) => Assignee::Person(m.clone()),
                    None => Assignee::Team(*t),
                }
            }
        };
        // The entry's detail is built only when the assignee changes (else none is written).
        let changes = self
            .cases
            .get(&**case_id)
            .is_some_and(|c| c.assignee.as_ref() != Some(&assignee));
        if !changes {
            return;
        }
        let key: Vec<Json> = tries.keys.iter().map(|v| self.value_json(v)).collect();
        let why = AssignWhy::Route {
            key: (!key.is_empty()).then_some(Json::Array(key)),
            decided: RouteDecision {
                tries,
                winner: Some(r),
                ev,
            },
            priority: route.priority,
            route: &route.name,
        };
        self.set_assignee(case_id, assignee, &route.name, why);
        // `notify …` on the route: told when it assigns (docs/language.md §8.3).
        for n in &route.notify {
            self.notice(case_id, &route.name, n, None);
        }
    }

    /// Whether the case's assignee is a person who is (still) a member of `team`: assigning
    /// that team again keeps them (docs/language.md §8.3). Membership is read from the
    /// deployed program, so a person removed from the team is chosen away from.
    fn keeps_member(&self, case_id: &str, team: u32) -> bool {
        let Some(Assignee::Person(p)) = self.cases.get(case_id).and_then(|c| c.assignee.as_ref())
        else {
            return false;
        };
        self.members
            .get(team as usize)
            .is_some_and(|ms| ms.iter().any(|m| m == p))
    }

    /// Write the `read` detail of a routing decision: the facts the tried routes (and the
    /// winner) read, with their values.
    pub(crate) fn write_route_reads(&self, d: &mut Detail, case_id: &str, dec: &RouteDecision<'_>) {
        let Some(case) = self.cases.get(case_id) else {
            return;
        };
        let tried = dec.tries.lost.iter().map(|t| t.at).chain(dec.winner);
        let places =
            tried.flat_map(|r| self.code.route_reads.get(r as usize).into_iter().flatten());
        self.in_frame(case, Some(dec.ev), &[], |f| {
            reads::write(d, &self.program, places, f)
        });
    }

    /// Record what a decision's losers reported: each evaluation error (when `reported`
    /// says so; the case goes to its owner's exception queue), and, while the case has
    /// errors remembered, that the losers whose condition evaluated and the winner are
    /// fine again (a later failure of theirs is news).
    pub(crate) fn commit_tries(
        &mut self,
        case_id: &Arc<str>,
        tries: &Tries,
        winner: Option<u32>,
        name: fn(&Engine, u32) -> Arc<str>,
        reported: impl Fn(u32, &EvalError) -> bool,
    ) {
        for t in &tries.lost {
            if let Lost::Error { part, error } = &t.lost
                && reported(t.at, error)
            {
                let rule = name(self, t.at);
                self.eval_error(case_id, &rule, part, error, OnError::Reassign);
            }
        }
        if self
            .cases
            .get(&**case_id)
            .is_none_or(|c| c.errors.is_empty())
        {
            return;
        }
        for t in &tries.lost {
            if t.lost == Lost::False {
                let rule = name(self, t.at);
                self.eval_ok(case_id, &rule, "when");
            }
        }
        if let Some(w) = winner {
            let rule = name(self, w);
            self.eval_ok(case_id, &rule, "when");
            self.eval_ok(case_id, &rule, "key");
        }
    }

    /// Write the `lost` detail (when something lost): each loser in the order tried, its
    /// name when its condition was false, `{"error", "rule"}` when its condition failed,
    /// `{"error", "part": "key", "rule"}` when its `key` failed.
    pub(crate) fn write_lost(&self, d: &mut Detail, tries: &Tries, name: fn(&Engine, u32) -> &str) {
        if tries.lost.is_empty() {
            return;
        }
        let out = d.raw("lost");
        out.push('[');
        for (i, t) in tries.lost.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match &t.lost {
                Lost::False => ledger::write_str(name(self, t.at), out),
                Lost::Error { part, error } => {
                    out.push_str("{\"error\":");
                    ledger::write_str(&error.to_string(), out);
                    if *part != "when" {
                        out.push_str(",\"part\":");
                        ledger::write_str(part, out);
                    }
                    out.push_str(",\"rule\":");
                    ledger::write_str(name(self, t.at), out);
                    out.push('}');
                }
            }
        }
        out.push(']');
    }

    /// A classify arm's rule name, borrowed.
    pub(crate) fn arm_str(&self, i: u32) -> &str {
        self.code.classify_rules.get(i as usize).map_or("", |r| r)
    }

    /// A route's name, borrowed.
    pub(crate) fn route_str(&self, r: u32) -> &str {
        self.program.routes.get(r as usize).map_or("", |r| &r.name)
    }

    /// A classify arm's rule name in the ledger (`classify.Variant`).
    pub(crate) fn arm_name(&self, i: u32) -> Arc<str> {
        self.code
            .classify_rules
            .get(i as usize)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    /// A route's name.
    pub(crate) fn route_name(&self, r: u32) -> Arc<str> {
        self.program
            .routes
            .get(r as usize)
            .map_or_else(|| Arc::from(""), |r| Arc::from(r.name.as_str()))
    }
}
