//! The fixture suite: one integration binary for the whole `tests/` crate.
//!
//! - `check`: diagnostics fixtures (`tests/check/err`, `tests/check/ok`), with inline
//!   markers and insta snapshots;
//! - `codes`: meta-tests tying `Code::ALL`, the fixtures and `docs/diagnostics.md`;
//! - `no_panic`: truncated, mutated and hostile inputs never panic, hang or overflow;
//! - `fmt`: the formatter's snapshots (`tests/fmt/`), fixed points and property tests;
//! - `fmt_props`: perturbed projects that check always format, soundly;
//! - `incremental`: salsa re-executes only what an edit invalidates;
//! - `witness`, `solver_props`: the safety analysis's witnesses replay through the runtime,
//!   and conditions it calls disjoint never both match a random event; `index_props`: the
//!   indexed decision step picks what a linear scan picks, on random policies;
//! - `reload`: deploying a bundle over live state; `migrate`, `migrate_flow`: carrying live
//!   state into it by name (classes, facts, SLA policies; gates, automations, calendars);
//!   `migrate_finished`: finished runs whose trigger or automation a deployment removes;
//!   `migrate_props`: random deployment sequences replay byte for byte through restarts; `scan_errors`: a classify arm or route
//!   that fails to evaluate is recorded and the next one decides, in `apply` and in the
//!   decision step (and a route whose key fails does not match);
//! - `unset_facts`: `?.`, `??` and `== none` on facts not set yet, errors in SLA conditions
//!   that keep the assignee and are recorded once; `class_routes`: which routes a class
//!   change evaluates, and the analysis of the pairs that meet that way; `sla_warn`:
//!   `warn at 0%` fires when the clock starts running; `sticky_routes`: a case keeps an
//!   assignee who is a member of the team assigned again, unless the route says `rebalance`;
//!   `quorum`: `require N approvals` counts distinct approvers, across a snapshot too;
//!   `name_of`: an enum variant's name as a string; `aggregates`: aggregates over history
//!   through the engine (the event counts itself, snapshots, deployments, eviction);
//!   `changes`: `changed`/`previous`, `all`/`any` and `once per case`; `open_cases`:
//!   aggregates of open cases (lifecycle, moved keys, snapshots, recount on deployment).

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

mod aggregates;
mod changes;
mod check;
mod class_routes;
mod codes;
mod common;
mod fmt;
mod fmt_props;
mod incremental;
mod index_props;
mod migrate;
mod migrate_finished;
mod migrate_flow;
mod migrate_props;
mod money_parts;
mod name_of;
mod no_panic;
mod open_cases;
mod quorum;
mod reload;
mod scan_errors;
mod sla_warn;
mod solver_props;
mod sticky_routes;
mod unset_facts;
mod witness;
