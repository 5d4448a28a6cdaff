//! `meshline replay --bundle CANDIDATE --inputs FILE [--baseline LEDGER | --baseline-bundle B]
//! [--bundles DIR] [--until T] [--report FILE.html] [--format text|json] [--ledger FILE]`:
//! run a candidate bundle over recorded inputs in shadow (nothing leaves: no connector is
//! called), and compare it case by case with a baseline (docs/kpis.md, "Replays").

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::ExitCode;

use crate::progress::Counted;
use meshline_report::{Builder, Options, compare, render};
use meshline_runtime::Engine;
use meshline_serve::drive::{self, Deploys};

pub(crate) struct Args<'a> {
    pub(crate) bundle: &'a Path,
    pub(crate) inputs: &'a Path,
    pub(crate) baseline: Option<&'a Path>,
    pub(crate) baseline_bundle: Option<&'a Path>,
    pub(crate) bundles: Option<&'a Path>,
    pub(crate) until: Option<&'a str>,
    pub(crate) report: Option<&'a Path>,
    pub(crate) format: &'a str,
    pub(crate) ledger: Option<&'a Path>,
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("meshline replay: {message}");
    ExitCode::from(code)
}

fn progress(path: &Path, what: &str) -> indicatif::ProgressBar {
    crate::progress::bytes(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0), what)
}

/// Run `bundle` over the inputs; every ledger line goes to `builder` (and `ledger_out`).
fn run_side(
    bundle: &Path,
    inputs: &Path,
    deploys: Deploys<'_>,
    until: Option<jiff::Timestamp>,
    builder: &mut Builder,
    mut ledger_out: Option<&mut dyn std::io::Write>,
    what: &str,
) -> Result<(), ExitCode> {
    let (_, program, hash) = crate::run::load_bundle(bundle)?;
    let mut engine = Engine::new(program, &hash)
        .map_err(|e| fail(2, &format!("cannot load {}: {e}", bundle.display())))?;
    let file =
        std::fs::File::open(inputs).map_err(|e| fail(2, &format!("{}: {e}", inputs.display())))?;
    let bar = progress(inputs, what);
    let reader = BufReader::with_capacity(
        1 << 20,
        Counted {
            inner: file,
            bar: bar.clone(),
        },
    );
    let (mut lines, mut commands) = (String::new(), Vec::new());
    let mut number = 0u64;
    let mut sink = |engine: &mut Engine| -> std::io::Result<()> {
        engine.drain_jsonl_into(&mut lines, &mut commands);
        if let Some(w) = ledger_out.as_mut() {
            w.write_all(lines.as_bytes())?;
        }
        for line in lines.lines() {
            number += 1;
            builder
                .push_line(what, number, line)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        Ok(())
    };
    let driven = drive::drive(&mut engine, reader, deploys, &mut sink);
    bar.finish_and_clear();
    if let Err(e) = driven {
        return Err(fail(2, &format!("{what}: {}: {e}", inputs.display())));
    }
    if let Some(t) = until {
        engine.advance_to(t);
        sink(&mut engine).map_err(|e| fail(2, &format!("{what}: {e}")))?;
    }
    Ok(())
}

pub(crate) fn run(a: &Args<'_>) -> ExitCode {
    let json = match a.format {
        "text" => false,
        "json" => true,
        other => return fail(2, &format!("--format: `{other}` is not text or json")),
    };
    let until = match a.until.map(str::parse::<jiff::Timestamp>) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => return fail(2, &format!("--until is not an RFC 3339 instant: {e}")),
    };
    let mut candidate = Builder::new(Options::default()).track_cases();
    let mut ledger_file = match a.ledger.map(std::fs::File::create) {
        None => None,
        Some(Ok(f)) => Some(std::io::BufWriter::new(f)),
        Some(Err(e)) => return fail(2, &format!("--ledger: {e}")),
    };
    let out: Option<&mut dyn std::io::Write> =
        ledger_file.as_mut().map(|w| w as &mut dyn std::io::Write);
    // The candidate decides throughout: deployments recorded in the inputs are skipped.
    if let Err(code) = run_side(
        a.bundle,
        a.inputs,
        Deploys::Ignore,
        until,
        &mut candidate,
        out,
        "candidate",
    ) {
        return code;
    }
    if let Some(w) = ledger_file.as_mut()
        && let Err(e) = w.flush()
    {
        return fail(2, &format!("--ledger: {e}"));
    }
    let mut baseline = Builder::new(Options::default()).track_cases();
    match (a.baseline, a.baseline_bundle) {
        (Some(ledger), None) => {
            let file = match std::fs::File::open(ledger) {
                Ok(f) => f,
                Err(e) => return fail(2, &format!("{}: {e}", ledger.display())),
            };
            let name = ledger.display().to_string();
            let bar = progress(ledger, "baseline");
            let reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(
                1 << 20,
                Counted {
                    inner: file,
                    bar: bar.clone(),
                },
            ));
            let read = baseline.read(&name, reader, |_| {});
            bar.finish_and_clear();
            if let Err(e) = read {
                return fail(1, &e.to_string());
            }
        }
        (None, Some(bundle)) => {
            if let Err(code) = run_side(
                bundle,
                a.inputs,
                Deploys::From(a.bundles),
                until,
                &mut baseline,
                None,
                "baseline",
            ) {
                return code;
            }
        }
        _ => {
            return fail(
                2,
                "name the baseline: --baseline LEDGER (what was recorded) or --baseline-bundle B \
                 (the same inputs under the bundle deployed today)",
            );
        }
    }
    let comparison = compare::compare(baseline.finish_with_cases(), candidate.finish_with_cases());
    if let Some(path) = a.report {
        if let Err(e) = std::fs::write(path, render::replay::html(&comparison)) {
            return fail(2, &format!("{}: {e}", path.display()));
        }
        eprintln!("meshline replay: wrote {}", path.display());
    }
    let text = if json {
        serde_json::to_string_pretty(&comparison).unwrap_or_default() + "\n"
    } else {
        render::replay::text(&comparison)
    };
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    ExitCode::SUCCESS
}
