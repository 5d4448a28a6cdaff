//! The fuzz targets' code, outside the libFuzzer entry points (`fuzz_targets/*.rs` are one
//! line each): every target is a plain `run(&[u8])` here, so a crash reproduces from a unit
//! test or a debugger as well as from `fuzz/run.sh`. See docs/reliability.md.
//!
//! Seed corpora are not committed: each target writes its seeds (from the repository's
//! examples and fixtures) into its corpus folder when it starts ([`seeds`]).

pub mod engine;
pub mod examples;
pub mod lsp;
pub mod seeds;
pub mod source;
pub mod webhook;

/// `serve/src/webhooks.rs`, compiled into [`webhook`] by path, calls `crate::guard`.
#[path = "../../serve/src/guard.rs"]
#[allow(dead_code, unused_imports)]
mod guard;

/// `serve/src/webhooks.rs` builds a mapping's values with `crate::mapping`.
#[path = "../../serve/src/mapping.rs"]
#[allow(dead_code)]
mod mapping;
