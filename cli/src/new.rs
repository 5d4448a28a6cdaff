//! `meshline new NAME`: scaffold a project that checks clean.

use std::process::ExitCode;

pub fn run(_name: &str) -> ExitCode {
    ExitCode::from(2)
}
