//! Who a case is assigned to: a team (its queue) or a person. A leaf: cases, SLA clocks,
//! gates and snapshots all name it.

use std::sync::Arc;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignee {
    /// A team, by its id in the program.
    Team(u32),
    /// A person, by address.
    Person(Arc<str>),
}
