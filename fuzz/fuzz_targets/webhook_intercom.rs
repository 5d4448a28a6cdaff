#![no_main]
//! Intercom webhook requests: signature check and mapping. See docs/reliability.md.

use meshline_fuzz::webhook::{Vendor, run, seeds};

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(|| seeds(Vendor::Intercom)), |data: &[u8]| run(Vendor::Intercom, data));
