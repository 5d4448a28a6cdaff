//! `meshline`: the command-line shell over the compiler. Exit status: 0 ok, 1 findings or
//! failures, 2 usage or I/O error (brief §5, §7.15).

mod check;
mod new;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "meshline",
    version,
    about = "Rules-as-code for support operations"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

#[derive(Subcommand)]
enum Command {
    /// Check a project (or one .mesh file) and report diagnostics.
    Check {
        /// Project folder or .mesh file.
        #[arg(default_value = ".")]
        path: std::path::PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Exit with status 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Create a new project folder with a working example.
    New {
        /// Project name (also the folder name).
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check {
            path,
            format,
            deny_warnings,
        } => check::run(&path, format, deny_warnings),
        Command::New { name } => new::run(&name),
    }
}
