//! `meshline`: the command-line shell over the compiler. Exit status: 0 ok, 1 findings or
//! failures, 2 usage or I/O error (brief §5, §7.15).

mod build;
mod check;
mod deploy;
mod explain;
mod fmt;
mod import;
mod keys;
mod new;
mod progress;
mod replay;
mod report;
mod run;
mod serve;
mod test;

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

/// Output formats of `meshline test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Human,
    Json,
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
    /// Compile a project into a bundle.
    Build {
        #[arg(default_value = ".")]
        path: std::path::PathBuf,
        /// Output file (default: PACKAGE.meshb).
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
        /// Print the IR instead of writing a bundle.
        #[arg(long, value_parser = ["ir"])]
        emit: Option<String>,
        /// Sign the bundle with this private key file (`meshline keygen`).
        #[arg(long, value_name = "KEY")]
        sign: Option<std::path::PathBuf>,
    },
    /// Print a bundle's manifest and signature (verified; status 1 if it does not verify).
    Inspect { file: std::path::PathBuf },
    /// Sign a built bundle (replacing any signature); its content hash does not change.
    Sign {
        file: std::path::PathBuf,
        /// The private key file (`meshline keygen`).
        #[arg(long)]
        key: std::path::PathBuf,
        /// Write the signed bundle here instead of over FILE.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
    },
    /// Create an Ed25519 signing key pair: DIR/NAME.key (private, mode 0600) and
    /// DIR/NAME.pub (for serve's trusted_keys).
    Keygen {
        /// The signer's name, recorded with every signature and deployment.
        name: String,
        /// Where to write the two files.
        #[arg(long, default_value = ".")]
        dir: std::path::PathBuf,
    },
    /// Run a bundle over events (JSONL) and write the ledger and commands.
    Run {
        /// A bundle file, or a project folder to compile first.
        #[arg(long)]
        bundle: std::path::PathBuf,
        /// Events file, or `-` for standard input.
        #[arg(long)]
        events: String,
        #[arg(long)]
        ledger: Option<std::path::PathBuf>,
        #[arg(long)]
        commands: Option<std::path::PathBuf>,
        /// Advance the clock to this instant after the last event (fires due timers).
        #[arg(long)]
        until: Option<String>,
        /// Where `{"meshline":"deploy","bundle":HASH}` lines find their bundle (HASH.meshb).
        #[arg(long)]
        bundles: Option<std::path::PathBuf>,
    },
    /// Run the project's tests and acceptance sets.
    Test {
        #[arg(default_value = ".")]
        path: std::path::PathBuf,
        /// Only tests (and acceptance sets) whose name contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Also write JUnit XML here.
        #[arg(long)]
        junit: Option<std::path::PathBuf>,
        #[arg(long, value_enum, default_value_t = TestFormat::Human)]
        format: TestFormat,
        /// List the routes, classify arms, SLA policies, gates and automations no test exercised.
        #[arg(long)]
        coverage: bool,
    },
    /// Format .mesh files in the canonical layout (in place, only when they change).
    Fmt {
        /// .mesh files or folders (every .mesh file under them); `-` for standard input.
        paths: Vec<std::path::PathBuf>,
        /// Write nothing; list the files that would change and exit with status 1 if any.
        #[arg(long)]
        check: bool,
        /// Format standard input to standard output (same as the path `-`).
        #[arg(long)]
        stdin: bool,
    },
    /// KPIs from ledgers alone: automation outcomes, SLA attainment, time to ownership,
    /// reopen rate, exceptions and volumes (docs/kpis.md).
    Report {
        /// Ledger files (JSON Lines), read in order as one history.
        #[arg(required = true)]
        ledgers: Vec<std::path::PathBuf>,
        /// Count entries at or after this instant (RFC 3339, or a date: its start in UTC).
        #[arg(long)]
        since: Option<String>,
        /// Count entries before this instant.
        #[arg(long)]
        until: Option<String>,
        /// Group case figures by class, team, automation or route.
        #[arg(long, default_value = "class")]
        by: String,
        /// text, json, csv or html (one self-contained page with charts).
        #[arg(long, default_value = "text")]
        format: String,
        /// Write here instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
        /// List the deployments instead (when, who deployed, signer, version, bundles,
        /// source hash) as text, json or csv.
        #[arg(long)]
        deployments: bool,
    },
    /// Run a candidate bundle over recorded inputs in shadow and compare it, case by case,
    /// with a baseline: changed cases, KPI deltas, agreement with people's decisions.
    Replay {
        /// The candidate: a bundle file, or a project folder to compile first.
        #[arg(long)]
        bundle: std::path::PathBuf,
        /// Recorded inputs: a `serve --export-events` file or plain event JSONL.
        #[arg(long)]
        inputs: std::path::PathBuf,
        /// The ledger recorded for these inputs.
        #[arg(long, conflicts_with = "baseline_bundle")]
        baseline: Option<std::path::PathBuf>,
        /// Or: run the same inputs under this bundle (deployments in the inputs honoured).
        #[arg(long)]
        baseline_bundle: Option<std::path::PathBuf>,
        /// Where deployments in the inputs find HASH.meshb (with --baseline-bundle).
        #[arg(long)]
        bundles: Option<std::path::PathBuf>,
        /// Advance the clock to this instant after the last input (fires due timers).
        #[arg(long)]
        until: Option<String>,
        /// Also write one self-contained HTML page here.
        #[arg(long)]
        report: Option<std::path::PathBuf>,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
        /// Write the candidate's ledger here.
        #[arg(long)]
        ledger: Option<std::path::PathBuf>,
    },
    /// A case's story from the ledger: each decision with its rule and where the rule is declared.
    Explain {
        /// The case id.
        case: String,
        /// The ledger (JSON Lines).
        #[arg(long)]
        ledger: std::path::PathBuf,
        /// The bundle that decided (its source map): a bundle file, its project folder, or a
        /// folder of exported bundles (HASH.meshb).
        #[arg(long)]
        bundle: Option<std::path::PathBuf>,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Convert a help desk's history into canonical events (for `replay` and `run`).
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
    /// Print an argon2 hash of the password read from standard input, for a console user's
    /// `password_hash` (docs/console.md).
    PasswordHash,
    /// Ledger tools.
    Ledger {
        #[command(subcommand)]
        command: LedgerCommand,
    },
    /// Run the language server on standard input and output (for editors).
    Lsp,
    /// Serve a bundle over HTTP with durable state (SQLite, or PostgreSQL for several nodes).
    Serve {
        /// A bundle file, or a project folder to compile first.
        #[arg(long)]
        bundle: Option<std::path::PathBuf>,
        /// The SQLite database (default: meshline-state.sqlite), or a postgres:// URL, or
        /// env:VAR naming the variable that holds it.
        #[arg(long)]
        state: Option<std::path::PathBuf>,
        /// Address to listen on (default: 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<String>,
        /// Settings (TOML).
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        /// Write the stored inputs (JSON Lines, in the order applied: events, and ticks and
        /// deployments as control lines) and exit.
        #[arg(long)]
        export_events: Option<std::path::PathBuf>,
        /// Write the stored ledger (JSON Lines) and exit.
        #[arg(long)]
        export_ledger: Option<std::path::PathBuf>,
        /// Write every stored bundle as DIR/<content hash>.meshb and exit.
        #[arg(long)]
        export_bundles: Option<std::path::PathBuf>,
        /// Replay every stored input at start (ignoring engine snapshots, e.g. for an
        /// audit) and take no snapshot while running.
        #[arg(long)]
        no_snapshot: bool,
        /// Also verify the whole stored ledger's hash chain at start (by default only the
        /// entries after the snapshot replay starts from are checked, by replaying them).
        #[arg(long)]
        verify_ledger: bool,
    },
    /// Deployment tools.
    Deploy {
        #[command(subcommand)]
        command: DeployCommand,
    },
    /// Create a new project folder with a working example.
    New {
        /// Project name (also the folder name).
        name: String,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// A Zendesk export (incremental tickets, ticket events or ticket audits, as the API
    /// returns them) → event JSONL, through the serve configuration's Zendesk webhook mapping.
    Zendesk {
        /// Export files: JSON pages as the API returned them (one or several per file).
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
        /// The serve configuration whose `[webhooks.NAME]` (vendor = "zendesk") maps payloads.
        #[arg(long)]
        config: std::path::PathBuf,
        /// Which Zendesk webhook source, when the configuration declares several.
        #[arg(long)]
        source: Option<String>,
        /// Write the events here instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum DeployCommand {
    /// What deploying a bundle over a stored state would do: the bundle diff by
    /// declaration, whether it would be refused, clocks rescheduled, held actions affected,
    /// rollout changes. Nothing is applied. Exit status 1 if it would be refused.
    Plan {
        /// The new bundle (or a project folder to compile first).
        bundle: std::path::PathBuf,
        /// The serve state: a back-up copy or a stopped server's file, or a postgres:// URL
        /// (only read).
        #[arg(long, required_unless_present = "url", conflicts_with = "url")]
        state: Option<std::path::PathBuf>,
        /// Or ask a running server (`POST URL/admin/bundle?plan`), with the admin token in
        /// the variable `--token-env` names.
        #[arg(long)]
        url: Option<String>,
        /// The environment variable holding the admin token (with --url).
        #[arg(long, default_value = "MESHLINE_ADMIN_TOKEN")]
        token_env: String,
        /// The serve configuration whose trusted_keys the signature is checked against.
        #[arg(long)]
        config: Option<std::path::PathBuf>,
        /// text or json.
        #[arg(long, default_value = "text")]
        format: String,
    },
}

#[derive(Subcommand)]
enum LedgerCommand {
    /// Check a ledger's hash chain; names the first bad entry.
    Verify { file: std::path::PathBuf },
}

fn lsp() -> ExitCode {
    use std::io::IsTerminal as _;
    if std::io::stdin().is_terminal() {
        eprintln!(
            "meshline lsp: a language server; editors start it and talk to it over stdin and stdout"
        );
    }
    match meshline_lsp::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meshline lsp: {e}");
            ExitCode::from(2)
        }
    }
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
        Command::Deploy {
            command:
                DeployCommand::Plan {
                    bundle,
                    state,
                    url,
                    token_env,
                    config,
                    format,
                },
        } => match (state, url) {
            (Some(s), _) => {
                deploy::plan(&deploy::From::State(s), config.as_deref(), &bundle, &format)
            }
            (None, Some(u)) => deploy::plan(
                &deploy::From::Url(u, token_env),
                config.as_deref(),
                &bundle,
                &format,
            ),
            (None, None) => {
                eprintln!("meshline deploy plan: give --state FILE or --url URL");
                ExitCode::from(2)
            }
        },
        Command::Lsp => lsp(),
        Command::Build {
            path,
            output,
            emit,
            sign,
        } => build::run(&path, output, emit.is_some(), sign),
        Command::Inspect { file } => build::inspect(&file),
        Command::Keygen { name, dir } => keys::keygen(&name, &dir),
        Command::Sign { file, key, output } => keys::sign_file(&file, &key, output.as_deref()),
        Command::Run {
            bundle,
            events,
            ledger,
            commands,
            until,
            bundles,
        } => run::run(&run::Args {
            bundle: &bundle,
            events: &events,
            ledger: ledger.as_deref(),
            commands: commands.as_deref(),
            until: until.as_deref(),
            bundles: bundles.as_deref(),
        }),
        Command::Replay {
            bundle,
            inputs,
            baseline,
            baseline_bundle,
            bundles,
            until,
            report,
            format,
            ledger,
        } => replay::run(&replay::Args {
            bundle: &bundle,
            inputs: &inputs,
            baseline: baseline.as_deref(),
            baseline_bundle: baseline_bundle.as_deref(),
            bundles: bundles.as_deref(),
            until: until.as_deref(),
            report: report.as_deref(),
            format: &format,
            ledger: ledger.as_deref(),
        }),
        Command::Explain {
            case,
            ledger,
            bundle,
            format,
        } => explain::run(&explain::Args {
            case: &case,
            ledger: &ledger,
            bundle: bundle.as_deref(),
            format: &format,
        }),
        Command::Report {
            ledgers,
            since,
            until,
            by,
            format,
            output,
            deployments,
        } => report::run(&report::Args {
            deployments,
            ledgers: &ledgers,
            since: since.as_deref(),
            until: until.as_deref(),
            by: &by,
            format: &format,
            output: output.as_deref(),
        }),
        Command::Import {
            command:
                ImportCommand::Zendesk {
                    files,
                    config,
                    source,
                    output,
                },
        } => import::zendesk(&import::Args {
            files: &files,
            config: &config,
            source: source.as_deref(),
            output: output.as_deref(),
        }),
        Command::PasswordHash => serve::password_hash(),
        Command::Ledger {
            command: LedgerCommand::Verify { file },
        } => run::verify(&file),
        Command::Serve {
            bundle,
            state,
            listen,
            config,
            export_events,
            export_ledger,
            export_bundles,
            no_snapshot,
            verify_ledger,
        } => serve::run(serve::Args {
            bundle,
            state,
            listen,
            config,
            export_events,
            export_ledger,
            export_bundles,
            no_snapshot,
            verify_ledger,
        }),
        Command::Test {
            path,
            filter,
            junit,
            format,
            coverage,
        } => test::run(&path, filter.as_deref(), junit.as_deref(), format, coverage),
        Command::Fmt {
            paths,
            check,
            stdin,
        } => fmt::run(&paths, check, stdin),
    }
}
