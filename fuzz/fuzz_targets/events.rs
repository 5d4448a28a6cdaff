#![no_main]
//! Event lines into an engine running an example (`Engine::apply_bytes`). See docs/reliability.md.

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(meshline_fuzz::engine::events_seeds), |data: &[u8]| meshline_fuzz::engine::events(data));
