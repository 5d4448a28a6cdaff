#![no_main]
//! A `.mesh` file: parse, check, lower, encode and format. See docs/reliability.md.

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(meshline_fuzz::source::seeds), |data: &[u8]| meshline_fuzz::source::run(data));
