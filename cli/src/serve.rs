//! `meshline serve --bundle B [--state FILE|URL] [--listen ADDR] [--config FILE]`, and
//! `meshline serve --state FILE|URL [--export-events FILE] [--export-ledger FILE]
//! [--export-bundles DIR]` (no server). A `postgres://` URL (or `env:VAR` holding one)
//! serves from PostgreSQL (docs/deploy.md, "PostgreSQL").
//! `--no-snapshot`: replay every stored input at start and take no engine snapshots.
//! `--verify-ledger`: also verify the whole stored ledger's hash chain at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meshline_serve::{Config, Options};

pub(crate) struct Args {
    pub bundle: Option<PathBuf>,
    pub state: Option<PathBuf>,
    pub listen: Option<String>,
    pub config: Option<PathBuf>,
    pub export_events: Option<PathBuf>,
    pub export_ledger: Option<PathBuf>,
    pub export_bundles: Option<PathBuf>,
    /// Full replay at start, no snapshots.
    pub no_snapshot: bool,
    /// Verify the whole stored ledger's hash chain at start.
    pub verify_ledger: bool,
}

pub(crate) fn run(a: Args) -> ExitCode {
    let mut config = match &a.config {
        Some(p) => match Config::load(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        },
        None => Config::default(),
    };
    if a.no_snapshot {
        config.snapshot_every = 0;
    }
    let state = a
        .state
        .clone()
        .or_else(|| config.state.clone())
        .unwrap_or_else(|| PathBuf::from("meshline-state.sqlite"));
    let state = match meshline_serve::state::Location::parse(&state, &config.cluster.project) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if a.export_events.is_some() || a.export_ledger.is_some() || a.export_bundles.is_some() {
        return export(
            &state,
            a.export_events.as_deref(),
            a.export_ledger.as_deref(),
            a.export_bundles.as_deref(),
        );
    }
    let Some(bundle_path) = &a.bundle else {
        eprintln!("error: --bundle is required to serve");
        return ExitCode::from(2);
    };
    let listen = a
        .listen
        .clone()
        .or_else(|| config.listen.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listen: SocketAddr = match listen.parse() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: --listen {listen}: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match crate::run::bundle_bytes(bundle_path) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let (program, hash) = match meshline_serve::core::decode(&bytes) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {}: {e}", bundle_path.display());
            return ExitCode::from(2);
        }
    };
    meshline_serve::init_logging();
    match meshline_serve::serve(Options {
        program,
        bundle_hash: hash,
        bundle_bytes: bytes,
        state,
        listen,
        config,
        verify_ledger: a.verify_ledger,
    }) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn export(
    state: &meshline_serve::state::Location,
    events: Option<&Path>,
    ledger: Option<&Path>,
    bundles: Option<&Path>,
) -> ExitCode {
    let create = |p: Option<&Path>| -> Result<Option<std::io::BufWriter<std::fs::File>>, String> {
        p.map(|p| {
            std::fs::File::create(p)
                .map(std::io::BufWriter::new)
                .map_err(|e| format!("{}: {e}", p.display()))
        })
        .transpose()
    };
    let (mut ev, mut led) = match (create(events), create(ledger)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let r = meshline_serve::export(
        state,
        ev.as_mut().map(|w| w as &mut dyn std::io::Write),
        led.as_mut().map(|w| w as &mut dyn std::io::Write),
        bundles,
    );
    let flushed = ev
        .as_mut()
        .map_or(Ok(()), std::io::Write::flush)
        .and(led.as_mut().map_or(Ok(()), std::io::Write::flush));
    let done = match (r, flushed) {
        (Ok(done), Ok(())) => done,
        (Err(e), _) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if events.is_some() {
        eprintln!(
            "exported {} events, {} wall-clock ticks, {} deployments",
            done.events, done.ticks, done.deployments
        );
    }
    if let Some(dir) = bundles {
        eprintln!("exported {} bundles to {}", done.bundles, dir.display());
    }
    if let (Some(e), Some(first)) = (events, &done.first_bundle) {
        let dir = bundles.map_or("DIR".into(), |d| d.display().to_string());
        let more = if done.deployments > 0 {
            format!(" --bundles {dir}")
        } else {
            String::new()
        };
        eprintln!(
            "replay: meshline run --bundle {}{more} --events {} (the state's first bundle)",
            Path::new(&dir).join(format!("{first}.meshb")).display(),
            e.display()
        );
    }
    ExitCode::SUCCESS
}

/// `meshline password-hash`: the first line of standard input → an argon2id PHC string.
pub(crate) fn password_hash() -> ExitCode {
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("meshline password-hash: {e}");
        return ExitCode::from(2);
    }
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        eprintln!("meshline password-hash: give the password on standard input");
        return ExitCode::from(2);
    }
    match meshline_serve::console::auth::hash_password(password) {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("meshline password-hash: {e}");
            ExitCode::from(2)
        }
    }
}
