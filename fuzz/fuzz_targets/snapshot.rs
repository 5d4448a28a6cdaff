#![no_main]
//! Snapshot bodies restored into an engine (`Engine::restore`), then driven. See docs/reliability.md.

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(meshline_fuzz::engine::snapshot_seeds), |data: &[u8]| meshline_fuzz::engine::snapshot(data));
