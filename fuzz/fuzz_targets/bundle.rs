#![no_main]
//! Bundle bytes (`bundle::decode`, `read_manifest`). See docs/reliability.md.

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(meshline_fuzz::engine::bundle_seeds), |data: &[u8]| meshline_fuzz::engine::bundle(data));
