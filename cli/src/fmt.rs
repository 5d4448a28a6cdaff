//! `meshline fmt [PATH...] [--check] [--stdin]`: rewrite `.mesh` files in the canonical
//! layout (`meshline_compiler::format`).
//!
//! A PATH is a `.mesh` file or a folder (every `.mesh` file under it, skipping hidden
//! folders and `target`); `-` (or `--stdin`) formats standard input to standard output.
//! Files are written only when they change. With `--check` nothing is written: each file
//! that would change is printed and the exit status is 1. A file with syntax errors is
//! reported with the usual diagnostics and left alone (exit status 1); I/O errors exit 2.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meshline_compiler::diagnostics::{FileName, render_ariadne};
use meshline_compiler::format::{FormatError, format_file};

pub(crate) fn run(paths: &[PathBuf], check: bool, stdin: bool) -> ExitCode {
    if stdin || paths.iter().any(|p| p.as_os_str() == "-") {
        if paths.iter().any(|p| p.as_os_str() != "-") {
            eprintln!("error: `-` (standard input) cannot be combined with other paths");
            return ExitCode::from(2);
        }
        return run_stdin(check);
    }
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in &roots {
        if root.is_dir() {
            collect(root, &mut files);
        } else if root.is_file() {
            files.push(root.clone());
        } else {
            eprintln!("error: {}: no such file or folder", root.display());
            return ExitCode::from(2);
        }
    }
    files.sort();
    files.dedup();

    let mut changed = 0usize;
    let mut failed = false;
    for file in &files {
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("error: {}: not UTF-8 text; not formatted", file.display());
                failed = true;
                continue;
            }
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", file.display());
                return ExitCode::from(2);
            }
        };
        let name: FileName = FileName::from(file.display().to_string());
        let formatted = match format_file(&name, &text) {
            Ok(f) => f,
            Err(e) => {
                report(&name, &text, &e);
                failed = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if check {
            // A closed pipe (`| head`) is not an error worth reporting.
            let _ = writeln!(std::io::stdout().lock(), "{}", file.display());
        } else if let Err(e) = std::fs::write(file, formatted) {
            eprintln!("error: cannot write {}: {e}", file.display());
            return ExitCode::from(2);
        }
    }
    let total = files.len();
    if check {
        if changed > 0 {
            eprintln!("{changed} of {total} file(s) would be reformatted");
        }
    } else if changed > 0 {
        eprintln!("formatted {changed} of {total} file(s)");
    }
    if failed || (check && changed > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_stdin(check: bool) -> ExitCode {
    let mut text = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("error: cannot read standard input: {e}");
        return ExitCode::from(2);
    }
    let name = FileName::from("<stdin>");
    match format_file(&name, &text) {
        Ok(formatted) if check => {
            if formatted == text {
                ExitCode::SUCCESS
            } else {
                let _ = writeln!(std::io::stdout().lock(), "<stdin>");
                ExitCode::from(1)
            }
        }
        Ok(formatted) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(formatted.as_bytes()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: cannot write output: {e}");
                    ExitCode::from(2)
                }
                _ => ExitCode::SUCCESS,
            }
        }
        Err(e) => {
            report(&name, &text, &e);
            ExitCode::from(1)
        }
    }
}

/// Print why a file was not formatted: its syntax errors, rendered as `meshline check` does.
fn report(name: &FileName, text: &str, err: &FormatError) {
    match err {
        FormatError::Syntax(diags) => {
            let mut sources = BTreeMap::new();
            sources.insert(name.clone(), text.to_string());
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let rendered = render_ariadne::render_all(diags, &sources, color);
            let _ = std::io::stderr().lock().write_all(rendered.as_bytes());
            eprintln!("{name}: not formatted: the file has syntax errors");
        }
        FormatError::Unsound(_) => eprintln!("error: {name}: {err}"),
    }
}

/// Every `.mesh` file under `dir`, skipping hidden folders and `target`.
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect(&path, out);
            }
        } else if path.extension().is_some_and(|x| x == "mesh") {
            out.push(path);
        }
    }
}
