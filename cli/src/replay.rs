//! `meshline replay --bundle CANDIDATE --inputs FILE [--baseline LEDGER | --baseline-bundle B]
//! [--bundles DIR] [--until T] [--report FILE.html] [--format text|json] [--ledger FILE]`:
//! run a candidate bundle over recorded inputs in shadow (nothing leaves: no connector is
//! called), and compare it case by case with a baseline (docs/kpis.md, "Replays").

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::ExitCode;

use indicatif::{MultiProgress, ProgressBar};

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

/// A side's bar; on a terminal both sides' bars are drawn together by `multi`.
fn progress(path: &Path, what: &str, multi: &MultiProgress) -> ProgressBar {
    let bar = crate::progress::bytes(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0), what);
    if bar.is_hidden() { bar } else { multi.add(bar) }
}

/// Run `bundle` over the inputs; every ledger line goes to `builder` (and `ledger_out`).
/// One side of the comparison: which bundle decides, how recorded deployments are treated,
/// and its name in messages.
struct Side<'a> {
    bundle: &'a Path,
    deploys: Deploys<'a>,
    what: &'a str,
}

fn run_side(
    side: Side<'_>,
    inputs: &Path,
    until: Option<jiff::Timestamp>,
    builder: &mut Builder,
    mut ledger_out: Option<&mut (dyn std::io::Write + Send)>,
    multi: &MultiProgress,
) -> Result<(), ExitCode> {
    let Side {
        bundle,
        deploys,
        what,
    } = side;
    let (_, program, hash) = crate::run::load_bundle(bundle)?;
    let mut engine = Engine::new(program, &hash)
        .map_err(|e| fail(2, &format!("cannot load {}: {e}", bundle.display())))?;
    let file =
        std::fs::File::open(inputs).map_err(|e| fail(2, &format!("{}: {e}", inputs.display())))?;
    let bar = progress(inputs, what, multi);
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
    let multi = MultiProgress::new();
    // The two sides are independent until the comparison: each runs on its own core.
    let candidate_side = || -> Result<Builder, ExitCode> {
        let mut candidate = Builder::new(Options::default()).track_cases();
        let mut ledger_file = match a.ledger.map(std::fs::File::create) {
            None => None,
            Some(Ok(f)) => Some(std::io::BufWriter::new(f)),
            Some(Err(e)) => return Err(fail(2, &format!("--ledger: {e}"))),
        };
        let out: Option<&mut (dyn std::io::Write + Send)> = ledger_file
            .as_mut()
            .map(|w| w as &mut (dyn std::io::Write + Send));
        // The candidate decides throughout: deployments recorded in the inputs are skipped.
        let side = Side {
            bundle: a.bundle,
            deploys: Deploys::Ignore,
            what: "candidate",
        };
        run_side(side, a.inputs, until, &mut candidate, out, &multi)?;
        if let Some(w) = ledger_file.as_mut()
            && let Err(e) = w.flush()
        {
            return Err(fail(2, &format!("--ledger: {e}")));
        }
        Ok(candidate)
    };
    let baseline_side = || -> Result<Builder, ExitCode> {
        let mut baseline = Builder::new(Options::default()).track_cases();
        match (a.baseline, a.baseline_bundle) {
            (Some(ledger), None) => {
                let file = std::fs::File::open(ledger)
                    .map_err(|e| fail(2, &format!("{}: {e}", ledger.display())))?;
                let name = ledger.display().to_string();
                let bar = progress(ledger, "baseline", &multi);
                let reader: Box<dyn BufRead> = Box::new(BufReader::with_capacity(
                    1 << 20,
                    Counted {
                        inner: file,
                        bar: bar.clone(),
                    },
                ));
                let read = baseline.read(&name, reader, |_| {});
                bar.finish_and_clear();
                read.map_err(|e| fail(1, &e.to_string()))?;
            }
            (None, Some(bundle)) => {
                let side = Side {
                    bundle,
                    deploys: Deploys::From(a.bundles),
                    what: "baseline",
                };
                run_side(side, a.inputs, until, &mut baseline, None, &multi)?
            }
            _ => {
                return Err(fail(
                    2,
                    "name the baseline: --baseline LEDGER (what was recorded) or --baseline-bundle \
                     B (the same inputs under the bundle deployed today)",
                ));
            }
        }
        Ok(baseline)
    };
    let (candidate, baseline) = std::thread::scope(|scope| {
        let baseline = scope.spawn(baseline_side);
        let candidate = candidate_side();
        let baseline = baseline
            .join()
            .unwrap_or_else(|_| Err(fail(2, "the baseline side stopped unexpectedly")));
        (candidate, baseline)
    });
    let (candidate, baseline) = match (candidate, baseline) {
        (Ok(c), Ok(b)) => (c, b),
        (Err(code), _) | (_, Err(code)) => return code,
    };
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
