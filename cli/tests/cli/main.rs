//! Integration tests for the `meshline` binary and the runtime behind it (issue 4):
//! golden ledgers of the examples, the IR listing, determinism, bundle and ledger
//! tampering, bad input, gates and dual control, SLA clocks, a property test, engine
//! snapshots, and `meshline fmt`.
//!
//! One test binary; each module covers one area. Snapshots live in `cli/tests/snapshots/`.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

mod bad_input;
mod bundles;
mod business_timeouts;
mod common;
mod compat;
mod dedupe;
mod determinism;
mod explain;
mod fmt;
mod gates;
mod golden;
mod harness;
mod import;
mod ir;
mod ledger_verify;
mod lifecycle;
mod lsp_nvim;
mod notify;
mod property;
mod replay;
mod report;
mod rollout;
mod sagas;
mod shadow_replay;
mod sla;
mod sla_follow;
mod snapshot;
mod waits;
