//! This crate exists only to host the fixture suite (`main.rs`); shared helpers live in
//! `common.rs`.
