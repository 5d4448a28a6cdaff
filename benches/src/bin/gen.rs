//! `cargo run -p meshline-benches --release --bin gen -- OUT_DIR [ACCOUNTS]`: write a
//! generated project (default 300 accounts, about 52,000 lines).

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: gen OUT_DIR [ACCOUNTS]");
        return std::process::ExitCode::from(2);
    };
    let accounts = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let files = meshline_benches::generate(accounts);
    for (rel, text) in &files {
        let path = std::path::Path::new(&out).join(rel);
        if let Err(e) = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text))
        {
            eprintln!("error: {}: {e}", path.display());
            return std::process::ExitCode::from(2);
        }
    }
    eprintln!(
        "wrote {} files, {} lines to {out}",
        files.len(),
        meshline_benches::line_count(&files)
    );
    std::process::ExitCode::SUCCESS
}
