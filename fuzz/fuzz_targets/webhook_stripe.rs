#![no_main]
//! Stripe webhook requests: signature check and mapping. See docs/reliability.md.

use meshline_fuzz::webhook::{Vendor, run, seeds};

libfuzzer_sys::fuzz_target!(init: meshline_fuzz::seeds::install(|| seeds(Vendor::Stripe)), |data: &[u8]| run(Vendor::Stripe, data));
