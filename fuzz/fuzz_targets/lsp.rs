#![no_main]
//! Document changes and requests to the language server's handlers. See docs/reliability.md.

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(meshline_fuzz::lsp::seeds), |data: &[u8]| meshline_fuzz::lsp::run(data));
