//! `meshline report LEDGER... [--since T] [--until T] [--by class|team|automation|route]
//! [--format text|json|csv|html] [-o FILE]`: KPIs from ledgers alone (docs/kpis.md).

use std::io::{BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;
use meshline_report::render::{self, Format};
use meshline_report::{Builder, GroupBy, Options};

pub(crate) struct Args<'a> {
    pub(crate) ledgers: &'a [PathBuf],
    pub(crate) since: Option<&'a str>,
    pub(crate) until: Option<&'a str>,
    pub(crate) by: &'a str,
    pub(crate) format: &'a str,
    pub(crate) output: Option<&'a Path>,
    /// `--deployments`: the change history instead of the KPIs.
    pub(crate) deployments: bool,
}

/// An instant given on the command line: RFC 3339, or a date (its start, UTC).
fn instant(flag: &str, text: &str) -> Result<Timestamp, String> {
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|d| {
            jiff::tz::TimeZone::UTC
                .to_timestamp(d.to_datetime(jiff::civil::Time::midnight()))
                .ok()
        })
        .ok_or_else(|| {
            format!(
                "{flag}: `{text}` is not an instant (2026-03-02T09:00:00Z) or a date (2026-03-02)"
            )
        })
}

fn usage(message: &str) -> ExitCode {
    eprintln!("meshline report: {message}");
    ExitCode::from(2)
}

pub(crate) fn run(a: &Args<'_>) -> ExitCode {
    if a.deployments {
        return deployments(a);
    }
    let Some(by) = GroupBy::parse(a.by) else {
        if a.by == "client" {
            return usage(
                "--by client: the ledger does not record a case's client, so a report from ledgers \
                 alone cannot group by it (docs/kpis.md)",
            );
        }
        return usage(&format!(
            "--by: `{}` is not class, team, automation or route",
            a.by
        ));
    };
    let Some(format) = Format::parse(a.format) else {
        return usage(&format!(
            "--format: `{}` is not text, json, csv or html",
            a.format
        ));
    };
    let mut options = Options {
        by,
        ..Options::default()
    };
    for (flag, text, slot) in [
        ("--since", a.since, &mut options.since),
        ("--until", a.until, &mut options.until),
    ] {
        if let Some(text) = text {
            match instant(flag, text) {
                Ok(t) => *slot = Some(t),
                Err(e) => return usage(&e),
            }
        }
    }
    if a.ledgers.is_empty() {
        return usage("name at least one ledger file");
    }
    let total: u64 = a
        .ledgers
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = crate::progress::bytes(total, "");
    let mut builder = Builder::new(options);
    let mut done = 0u64;
    for path in a.ledgers {
        let name = path.display().to_string();
        bar.set_message(name.clone());
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return usage(&format!("{name}: {e}")),
        };
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let read = builder.read(&name, BufReader::with_capacity(1 << 20, file), |n| {
            bar.set_position(done + n);
        });
        if let Err(e) = read {
            bar.finish_and_clear();
            eprintln!("meshline report: {e}");
            return ExitCode::from(1);
        }
        done += size;
    }
    bar.finish_and_clear();
    let text = render::render(&builder.finish(), format);
    write_out(a.output, &text)
}

/// `--deployments`: every `deployed` entry of the ledgers, in order (docs/deploy.md,
/// "Change history").
fn deployments(a: &Args<'_>) -> ExitCode {
    use meshline_report::deployments as d;
    let render: fn(&[d::Deployment]) -> String = match a.format {
        "text" => d::text,
        "json" => d::json,
        "csv" => d::csv,
        other => {
            return usage(&format!(
                "--format: `{other}` is not text, json or csv (with --deployments)"
            ));
        }
    };
    let mut list = Vec::new();
    for path in a.ledgers {
        let name = path.display().to_string();
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) => return usage(&format!("{name}: {e}")),
        };
        if let Err(e) = d::read(&name, BufReader::with_capacity(1 << 20, file), &mut list) {
            eprintln!("meshline report: {e}");
            return ExitCode::from(1);
        }
    }
    write_out(a.output, &render(&list))
}

fn write_out(output: Option<&Path>, text: &str) -> ExitCode {
    match output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                return usage(&format!("{}: {e}", path.display()));
            }
            eprintln!("meshline report: wrote {}", path.display());
        }
        None => {
            let mut out = std::io::stdout().lock();
            if out
                .write_all(text.as_bytes())
                .and_then(|()| out.flush())
                .is_err()
            {
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
