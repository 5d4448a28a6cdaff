//! `meshline import zendesk FILE... --config SERVE.toml [--source NAME] [-o OUT]`: a Zendesk
//! export → canonical event JSONL through the serve configuration's webhook mapping
//! (docs/adapters.md, "History from Zendesk"), ready for `meshline replay` or `meshline run`.

use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meshline_serve::webhooks::Vendor;
use meshline_serve::zendesk_export;
use serde_json::Value as Json;

use crate::progress::Counted;

pub(crate) struct Args<'a> {
    pub(crate) files: &'a [PathBuf],
    pub(crate) config: &'a Path,
    pub(crate) source: Option<&'a str>,
    pub(crate) output: Option<&'a Path>,
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("meshline import: {message}");
    ExitCode::from(code)
}

/// Every JSON value in `path`: one page as the API returned it, or several (concatenated or
/// one per line, as a script that saves each page appends them).
fn pages(path: &Path, bar: &indicatif::ProgressBar, out: &mut Vec<Json>) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = BufReader::with_capacity(
        1 << 20,
        Counted {
            inner: file,
            bar: bar.clone(),
        },
    );
    for (n, page) in serde_json::Deserializer::from_reader(reader)
        .into_iter::<Json>()
        .enumerate()
    {
        let page =
            page.map_err(|e| format!("{}: page {} is not JSON: {e}", path.display(), n + 1))?;
        if !page.is_object() {
            return Err(format!(
                "{}: page {} is not a JSON object (an export page has `tickets`, \
                 `ticket_events` or `audits`)",
                path.display(),
                n + 1
            ));
        }
        out.push(page);
    }
    Ok(())
}

pub(crate) fn zendesk(a: &Args<'_>) -> ExitCode {
    let config = match meshline_serve::Config::load(a.config) {
        Ok(c) => c,
        Err(e) => return fail(2, &e.to_string()),
    };
    let zendesk: Vec<&String> = config
        .webhooks
        .iter()
        .filter(|(_, s)| s.vendor == Vendor::Zendesk)
        .map(|(name, _)| name)
        .collect();
    let name = match (a.source, zendesk.as_slice()) {
        (Some(s), _) => s.to_string(),
        (None, [one]) => (*one).clone(),
        (None, []) => {
            return fail(
                2,
                &format!(
                    "{} declares no webhook source with vendor = \"zendesk\"",
                    a.config.display()
                ),
            );
        }
        (None, many) => {
            let names: Vec<&str> = many.iter().map(|s| s.as_str()).collect();
            return fail(
                2,
                &format!(
                    "several Zendesk webhook sources ({}); choose one with --source",
                    names.join(", ")
                ),
            );
        }
    };
    let Some(source) = config.webhooks.get(&name) else {
        return fail(
            2,
            &format!("{} has no [webhooks.{name}]", a.config.display()),
        );
    };
    if source.vendor != Vendor::Zendesk {
        return fail(2, &format!("[webhooks.{name}] is not a Zendesk source"));
    }
    let total = a
        .files
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = crate::progress::bytes(total, "reading the export");
    let mut all = Vec::new();
    for f in a.files {
        if let Err(e) = pages(f, &bar, &mut all) {
            bar.finish_and_clear();
            return fail(2, &e);
        }
    }
    bar.finish_and_clear();
    let import = zendesk_export::convert(&all, source, &name);

    let write = |w: &mut dyn std::io::Write| -> std::io::Result<()> {
        for e in &import.events {
            serde_json::to_writer(&mut *w, e)?;
            w.write_all(b"\n")?;
        }
        w.flush()
    };
    let written = match a.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| write(&mut BufWriter::new(f)))
            .map_err(|e| format!("{}: {e}", path.display())),
        None => write(&mut BufWriter::new(std::io::stdout().lock())).map_err(|e| e.to_string()),
    };
    if let Err(e) = written {
        return fail(1, &e);
    }
    let skipped: u64 = import.skipped.values().sum();
    eprintln!(
        "imported {} events from {} tickets and {} ticket events ({} not mapped)",
        import.events.len(),
        import.tickets,
        import.audits,
        skipped
    );
    for (reason, n) in &import.skipped {
        eprintln!("  {n:>6}  {reason}");
    }
    ExitCode::SUCCESS
}
