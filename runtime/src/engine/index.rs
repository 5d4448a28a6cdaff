//! The route index: which routes an event can possibly match, best first.
//!
//! Routes whose condition requires an enum equality at its top level (`ticket.queue == Q7
//! and …`, `class == Access and …`) are keyed by (discriminant, variant); an event visits
//! only the routes keyed by the value it has, plus the routes with no such equality. When
//! every keyed route came from a known value, its required equality is already known to
//! hold and the route's *residual* condition (the rest of the conjunction) decides.

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;

use super::Engine;
use crate::eval::EventView;
use crate::ir::{Discriminant, Program};
use crate::value::Value;

/// Routes grouped for lookup: those whose condition requires `DISC == Variant` are keyed
/// by (discriminant, variant); the others are always candidates.
#[derive(Default)]
pub(crate) struct RouteIndex {
    pub open: Vec<u32>,
    pub keyed: Vec<(Discriminant, HashMap<u32, Vec<u32>>)>,
}

impl RouteIndex {
    pub(crate) fn build(p: &Program, routes: impl Iterator<Item = u32>) -> RouteIndex {
        let mut index = RouteIndex::default();
        for r in routes {
            match &p.routes[r as usize].requires {
                None => index.open.push(r),
                Some((disc, v)) => {
                    let pos = match index.keyed.iter().position(|(d, _)| d == disc) {
                        Some(i) => i,
                        None => {
                            index.keyed.push((disc.clone(), HashMap::default()));
                            index.keyed.len() - 1
                        }
                    };
                    index.keyed[pos].1.entry(*v).or_default().push(r);
                }
            }
        }
        index
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty() && self.keyed.is_empty()
    }
}

impl Engine {
    /// Candidate routes for a case, best first (priority, then declaration order): the
    /// index's routes without a required equality, plus the keyed routes whose required
    /// variant the case has now (all of a key's routes when its value is unknown, so each
    /// condition decides and reports its own errors). `true` with them when every keyed
    /// candidate came from a known value: then [`route_condition`](Self::route_condition)
    /// may skip the equality that put it there.
    pub(crate) fn route_candidates<'a>(
        &self,
        index: &'a RouteIndex,
        class: Option<u32>,
        facts: &[Option<Value>],
        event: Option<EventView<'_>>,
    ) -> (Candidates<'a>, bool) {
        // The common shape: every route keyed on one field. Its lists are already in rank
        // order (the index is built best first): hand one over as it is.
        if let ([], [(disc, by_variant)]) = (index.open.as_slice(), index.keyed.as_slice())
            && let Some(v) = discriminant_value(class, facts, event, disc)
        {
            let keyed = by_variant.get(&v).map_or(&[][..], Vec::as_slice);
            return (Candidates::Listed(keyed), true);
        }
        let mut candidates: SmallVec<[u32; 16]> = index.open.iter().copied().collect();
        let mut known = true;
        for (disc, by_variant) in &index.keyed {
            match discriminant_value(class, facts, event, disc) {
                Some(v) => candidates.extend(by_variant.get(&v).into_iter().flatten().copied()),
                None => {
                    known = false;
                    candidates.extend(by_variant.values().flatten().copied());
                }
            }
        }
        if candidates.len() > 1 {
            candidates.sort_by_key(|r| self.route_rank[*r as usize]);
            candidates.dedup();
        }
        (Candidates::Merged(candidates), known)
    }

    /// The condition that decides route `r` among candidates: its residual when its
    /// required equality is `known` to hold, else the whole condition (`None`: always).
    pub(crate) fn route_condition(&self, r: u32, known: bool) -> Option<&crate::eval::Pred> {
        let r = r as usize;
        if known && self.program.routes[r].requires.is_some() {
            self.code.route_residual[r].as_ref()
        } else {
            self.code.route_cond[r].as_ref()
        }
    }
}

/// Routes to try for one event, best first: one of the index's lists as it is, or a merge
/// of several (rarely more than a handful: no allocation).
pub(crate) enum Candidates<'a> {
    Listed(&'a [u32]),
    Merged(SmallVec<[u32; 16]>),
}

impl Candidates<'_> {
    pub(crate) fn as_slice(&self) -> &[u32] {
        match self {
            Candidates::Listed(s) => s,
            Candidates::Merged(v) => v,
        }
    }
}

/// The variant an indexed route condition tests, as the case (or its triggering event,
/// whose fields shadow the facts) has it now.
fn discriminant_value(
    class: Option<u32>,
    facts: &[Option<Value>],
    event: Option<EventView<'_>>,
    disc: &Discriminant,
) -> Option<u32> {
    match disc {
        Discriminant::Class => class,
        Discriminant::Path(slot, path) => {
            let from_event = event.and_then(|ev| {
                let i = ev.slots.iter().position(|s| s == slot)?;
                ev.values.get(i)
            });
            let mut cur = match from_event {
                Some(v) => v,
                None => facts.get(*slot as usize)?.as_ref()?,
            };
            for i in path {
                match cur {
                    Value::Record(items) => cur = items.get(*i as usize)?,
                    _ => return None,
                }
            }
            match cur {
                Value::Enum(_, v) => Some(*v),
                _ => None,
            }
        }
    }
}
