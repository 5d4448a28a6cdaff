//! `meshline explain CASE --ledger FILE [--bundle FILE|DIR] [--format text|json]`: a case's
//! story from the ledger, each decision with the rule that made it and where that rule is
//! declared (the bundle's source map).

use std::io::{BufReader, Write as _};
use std::path::Path;
use std::process::ExitCode;

use meshline_report::explain::{self, SourceMaps};
use meshline_runtime::bundle;

pub(crate) struct Args<'a> {
    pub(crate) case: &'a str,
    pub(crate) ledger: &'a Path,
    pub(crate) bundle: Option<&'a Path>,
    pub(crate) format: &'a str,
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("meshline explain: {message}");
    ExitCode::from(code)
}

/// Source maps from a bundle file, a project folder (compiled), or a folder of bundles.
fn maps(path: &Path) -> Result<SourceMaps, ExitCode> {
    let mut maps = SourceMaps::new();
    let mut add = |bytes: &[u8], from: &Path| -> Result<(), ExitCode> {
        let (manifest, hash) = bundle::read_manifest(bytes)
            .map_err(|e| fail(2, &format!("{}: {e}", from.display())))?;
        maps.insert(hash, manifest.sources);
        Ok(())
    };
    if path.is_dir() && !path.join("meshline.toml").is_file() {
        let entries =
            std::fs::read_dir(path).map_err(|e| fail(2, &format!("{}: {e}", path.display())))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.extension().is_some_and(|x| x == "meshb") {
                let bytes =
                    std::fs::read(&p).map_err(|e| fail(2, &format!("{}: {e}", p.display())))?;
                add(&bytes, &p)?;
            }
        }
        return Ok(maps);
    }
    let bytes = crate::run::bundle_bytes(path)?;
    add(&bytes, path)?;
    Ok(maps)
}

pub(crate) fn run(a: &Args<'_>) -> ExitCode {
    let json = match a.format {
        "text" => false,
        "json" => true,
        other => return fail(2, &format!("--format: `{other}` is not text or json")),
    };
    let maps = match a.bundle.map(maps) {
        None => SourceMaps::new(),
        Some(Ok(m)) => m,
        Some(Err(code)) => return code,
    };
    let file = match std::fs::File::open(a.ledger) {
        Ok(f) => f,
        Err(e) => return fail(2, &format!("{}: {e}", a.ledger.display())),
    };
    let name = a.ledger.display().to_string();
    let x = match explain::explain(
        &name,
        BufReader::with_capacity(1 << 20, file),
        a.case,
        &maps,
    ) {
        Ok(x) => x,
        Err(e) => return fail(1, &e.to_string()),
    };
    let text = if json {
        serde_json::to_string_pretty(&x).unwrap_or_default() + "\n"
    } else {
        meshline_report::render::explain::text(&x)
    };
    let mut out = std::io::stdout().lock();
    if out
        .write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    if x.steps.is_empty() {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
