//! Deduplication by event id within a bounded window (docs/runtime.md, "Deduplication").
//!
//! The engine remembers the ids it applied for [`DedupeWindow::age`] of engine-clock time
//! and at most [`DedupeWindow::max_ids`] of them, forgetting the oldest first. Both bounds
//! are on the engine's clock and on counts, never on the wall clock, so `meshline run` over
//! a `serve` export forgets exactly the same ids at the same inputs and writes the same
//! ledger. Ids are kept in the order they were applied; since the clock never goes back,
//! that is also the order of the instants they were remembered at, so forgetting is
//! amortized O(1) per event.

use std::collections::VecDeque;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use rustc_hash::FxHashSet as HashSet;

/// How long, and how many, event ids are remembered for deduplication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DedupeWindow {
    /// Seconds of engine-clock time an id is remembered after it was applied.
    pub age: i64,
    /// The most ids remembered; past it the oldest is forgotten.
    pub max_ids: u64,
}

impl DedupeWindow {
    /// 7 days: longer than vendors retry webhooks (Stripe: 3 days).
    pub const DEFAULT_AGE: i64 = 7 * 86_400;
    /// About 160 MB of ids at most.
    pub const DEFAULT_MAX_IDS: u64 = 1_000_000;
}

impl Default for DedupeWindow {
    fn default() -> Self {
        DedupeWindow {
            age: Self::DEFAULT_AGE,
            max_ids: Self::DEFAULT_MAX_IDS,
        }
    }
}

/// The ids remembered, with the engine-clock instant each was applied at.
#[derive(Default)]
pub(crate) struct Seen {
    ids: HashSet<Arc<str>>,
    order: VecDeque<(Timestamp, Arc<str>)>,
    pub(crate) window: DedupeWindow,
}

impl Seen {
    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether `id` is remembered (call [`Seen::forget_before`] with the clock first).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Forget the ids applied more than the window's age before `clock`.
    pub(crate) fn forget_before(&mut self, clock: Option<Timestamp>) {
        let Some(cutoff) = clock.and_then(|c| {
            c.checked_sub(SignedDuration::from_secs(self.window.age))
                .ok()
        }) else {
            return;
        };
        while self.order.front().is_some_and(|(at, _)| *at < cutoff) {
            self.pop();
        }
    }

    /// Remember `id`, applied at `at` (the engine clock, never earlier than the last one
    /// remembered), forgetting the oldest ids past the count bound.
    pub(crate) fn insert(&mut self, at: Timestamp, id: &str) {
        let id: Arc<str> = Arc::from(id);
        if !self.ids.insert(id.clone()) {
            return;
        }
        let at = match self.order.back() {
            Some((last, _)) if *last > at => *last,
            _ => at,
        };
        self.order.push_back((at, id));
        while self.order.len() as u64 > self.window.max_ids.max(1) {
            self.pop();
        }
    }

    fn pop(&mut self) {
        if let Some((_, id)) = self.order.pop_front() {
            self.ids.remove(&id);
        }
    }

    /// The ids remembered with their instants, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Timestamp, &str)> {
        self.order.iter().map(|(at, id)| (*at, &**id))
    }

    /// Rebuild from ids in the order they were remembered (a snapshot's).
    pub(crate) fn restore(window: DedupeWindow, items: Vec<(Timestamp, &str)>) -> Seen {
        let mut s = Seen {
            window,
            ..Seen::default()
        };
        s.ids.reserve(items.len());
        s.order.reserve(items.len());
        for (at, id) in items {
            let id: Arc<str> = Arc::from(id);
            if s.ids.insert(id.clone()) {
                s.order.push_back((at, id));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(s).unwrap()
    }

    #[test]
    fn ids_older_than_the_window_or_past_the_count_are_forgotten() {
        let mut s = Seen {
            window: DedupeWindow {
                age: 100,
                max_ids: 3,
            },
            ..Seen::default()
        };
        s.insert(t(0), "a");
        s.insert(t(50), "b");
        s.forget_before(Some(t(100)));
        assert!(s.contains("a") && s.contains("b"));
        s.forget_before(Some(t(101)));
        assert!(!s.contains("a") && s.contains("b"));
        s.insert(t(101), "c");
        s.insert(t(102), "d");
        s.insert(t(103), "e");
        assert!(!s.contains("b"), "the fourth id evicts the oldest");
        assert_eq!(
            s.iter().map(|(_, id)| id).collect::<Vec<_>>(),
            ["c", "d", "e"]
        );
        // An instant before the last one remembered is kept in order.
        s.insert(t(90), "f");
        assert_eq!(s.iter().last(), Some((t(103), "f")));
    }
}
