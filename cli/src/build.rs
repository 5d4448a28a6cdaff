//! `meshline build [DIR] [-o FILE] [--emit ir] [--sign KEY]` and `meshline inspect FILE`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use meshline_compiler::diagnostics::render_ariadne;
use meshline_runtime::bundle;

pub(crate) fn run(
    path: &Path,
    out: Option<PathBuf>,
    emit_ir: bool,
    sign: Option<PathBuf>,
) -> ExitCode {
    let output = match meshline_compiler::build_path(path) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if !output.check.diagnostics.is_empty() {
        let text =
            render_ariadne::render_all(&output.check.diagnostics, &output.check.sources(), color);
        let _ = std::io::stderr().write_all(text.as_bytes());
    }
    let (Some(program), Some(bytes), Some(manifest)) =
        (output.program, output.bundle, output.manifest)
    else {
        eprintln!("build failed: {} error(s)", output.check.error_count());
        return ExitCode::from(1);
    };
    if emit_ir {
        print!("{}", meshline_runtime::ir_print::render(&program));
        return ExitCode::SUCCESS;
    }
    let out = out.unwrap_or_else(|| PathBuf::from(format!("{}.meshb", manifest.package)));
    let bytes = match &sign {
        None => bytes,
        Some(key) => match crate::keys::sign(&bytes, key) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: --sign {e}");
                return ExitCode::from(2);
            }
        },
    };
    if let Err(e) = std::fs::write(&out, &bytes) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return ExitCode::from(2);
    }
    let hash = bundle::read_manifest(&bytes)
        .map(|(_, h)| h)
        .unwrap_or_default();
    let signer = match bundle::read_signature(&bytes) {
        Ok(Some(s)) => format!(", signed by {} (key {})", s.signer, s.fingerprint()),
        _ => String::new(),
    };
    eprintln!(
        "built {} ({} bytes, content hash {}{signer})",
        out.display(),
        bytes.len(),
        &hash[..hash.len().min(16)]
    );
    ExitCode::SUCCESS
}

pub(crate) fn inspect(path: &Path) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    match bundle::read_manifest(&bytes) {
        Ok((m, hash)) => {
            println!("package:          {} {}", m.package, m.version);
            println!("format version:   {}", bundle::FORMAT_VERSION);
            println!("compiler version: {}", m.compiler_version);
            println!("source hash:      {}", m.source_hash);
            println!("tzdb version:     {}", m.tzdb_version);
            println!("content hash:     {hash}");
            println!("automations:");
            for (name, v) in &m.automations {
                println!("  {name} v{v}");
            }
            println!(
                "source map:       {} rules (meshline explain shows where each is declared)",
                m.sources.len()
            );
            for (file, hash) in &m.tables {
                println!("table data:       {file} sha256:{hash}");
            }
            signature(&bytes, &hash)
        }
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}

/// `inspect`'s signature lines: who signed, with which key, when, and whether it verifies
/// (status 1 when it does not: the bundle would be refused by any server).
fn signature(bytes: &[u8], hash: &str) -> ExitCode {
    match bundle::read_signature(bytes) {
        Ok(None) => {
            println!("signature:        none (unsigned)");
            ExitCode::SUCCESS
        }
        Ok(Some(s)) => {
            println!("signed by:        {}", s.signer);
            println!("signing key:      {} ({})", s.fingerprint(), s.key);
            println!("signed at:        {}", s.signed_at);
            match s.verify(hash) {
                Ok(()) => {
                    println!("signature:        valid");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    println!("signature:        INVALID");
                    eprintln!("error: {e}");
                    ExitCode::from(1)
                }
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
