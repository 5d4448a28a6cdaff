//! The route index: which routes an event can possibly match, best first.
//!
//! Routes whose condition requires an enum equality at its top level (`ticket.queue == Q7
//! and …`, `class == Access and …`) are keyed by (discriminant, variant); an event visits
//! only the routes keyed by the value it has, plus the routes with no such equality. When
//! every keyed route came from a known value, its required equality is already known to
//! hold and the route's *residual* condition (the rest of the conjunction) decides.

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
    pub keyed: Vec<(Discriminant, ByVariant)>,
}

/// A key's routes per variant, indexed by the variant's number (variants are dense).
#[derive(Default)]
pub(crate) struct ByVariant(Vec<Vec<u32>>);

impl ByVariant {
    fn push(&mut self, v: u32, r: u32) {
        let v = v as usize;
        if self.0.len() <= v {
            self.0.resize_with(v + 1, Vec::new);
        }
        self.0[v].push(r);
    }

    pub(crate) fn get(&self, v: u32) -> &[u32] {
        self.0.get(v as usize).map_or(&[], Vec::as_slice)
    }

    fn all(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().flatten().copied()
    }
}

impl RouteIndex {
    pub(crate) fn build(p: &Program, routes: impl Iterator<Item = u32>) -> RouteIndex {
        let mut index = RouteIndex::default();
        for r in routes {
            match &p.routes[r as usize].requires {
                // (A variant number no real enum reaches is left to the condition rather
                // than given a table that large.)
                Some((disc, v)) if *v < 1 << 20 => {
                    let pos = match index.keyed.iter().position(|(d, _)| d == disc) {
                        Some(i) => i,
                        None => {
                            index.keyed.push((disc.clone(), ByVariant::default()));
                            index.keyed.len() - 1
                        }
                    };
                    index.keyed[pos].1.push(*v, r);
                }
                _ => index.open.push(r),
            }
        }
        index
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.open.is_empty() && self.keyed.is_empty()
    }
}

impl Engine {
    /// Candidate routes for a case, best first (priority, then declaration order; merged
    /// in `out` when they come from several lists): the index's routes without a required equality, plus the keyed routes whose
    /// required variant the case has now (all of a key's routes when its value is unknown,
    /// so each condition decides and reports its own errors). `true` when every keyed
    /// candidate came from a known value: then `decision::route_condition`
    /// may skip the equality that put it there.
    pub(crate) fn route_candidates<'a>(
        &self,
        index: &'a RouteIndex,
        class: Option<u32>,
        facts: &[Option<Value>],
        event: Option<EventView<'_>>,
        out: &'a mut Candidates,
    ) -> (&'a [u32], bool) {
        // The common shape: every route keyed on one field. Its lists are already in rank
        // order (the index is built best first): hand one over as it is.
        if let ([], [(disc, by_variant)]) = (index.open.as_slice(), index.keyed.as_slice())
            && let Some(v) = discriminant_value(class, facts, event, disc)
        {
            return (by_variant.get(v), true);
        }
        out.clear();
        out.extend_from_slice(&index.open);
        let mut known = true;
        for (disc, by_variant) in &index.keyed {
            match discriminant_value(class, facts, event, disc) {
                Some(v) => out.extend_from_slice(by_variant.get(v)),
                None => {
                    known = false;
                    out.extend(by_variant.all());
                }
            }
        }
        if out.len() > 1 {
            out.sort_by_key(|r| self.route_rank[*r as usize]);
            out.dedup();
        }
        (out, known)
    }
}

/// Routes to try for one event, best first (rarely more than a handful: no allocation).
pub(crate) type Candidates = SmallVec<[u32; 16]>;

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
