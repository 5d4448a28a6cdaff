//! `meshline check [PATH] [--format human|json|sarif] [--deny-warnings]`.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use meshline_compiler::diagnostics::{json, render_ariadne, sarif};

use crate::Format;

pub(crate) fn run(path: &Path, format: Format, deny_warnings: bool) -> ExitCode {
    let output = match meshline_compiler::check_path(path) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let sources = output.sources();
    let mut stdout = std::io::stdout().lock();
    let written = match format {
        Format::Human => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let mut text = render_ariadne::render_all(&output.diagnostics, &sources, color);
            let (e, w) = (output.error_count(), output.warning_count());
            let files = output.project.files.len();
            if e == 0 && w == 0 {
                text.push_str(&format!("checked {files} file(s): no problems\n"));
            } else {
                text.push_str(&format!(
                    "checked {files} file(s): {e} error(s), {w} warning(s)\n"
                ));
            }
            std::io::stderr().lock().write_all(text.as_bytes())
        }
        Format::Json => {
            stdout.write_all(json::to_json_lines(&output.diagnostics, &sources).as_bytes())
        }
        Format::Sarif => {
            let log = sarif::to_sarif(&output.diagnostics, &sources, meshline_compiler::VERSION);
            let text = serde_json::to_string_pretty(&log).unwrap_or_default();
            writeln!(stdout, "{text}")
        }
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write output: {e}");
        return ExitCode::from(2);
    }
    if output.error_count() > 0 || (deny_warnings && output.warning_count() > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
