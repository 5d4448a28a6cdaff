//! The Meshline runtime: loads a compiled bundle and executes it against events,
//! deterministically, writing a hash-chained ledger (brief §5–§6).
//!
//! No compiler dependencies: the bundle schema (`ir`) lives here and the compiler lowers
//! into it, so a deployment links only this crate.

// A library reports through return values and `tracing`, never by printing (docs/architecture.md).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod bundle;
pub mod calendar;
pub mod engine;
pub mod eval;
pub mod ir;
pub mod ledger;
pub mod signing;
pub mod value;

pub use engine::Engine;
pub mod ir_print;
