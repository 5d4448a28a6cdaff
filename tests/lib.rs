//! Shared helpers live in main.rs; this crate exists only to host the fixture suite.
