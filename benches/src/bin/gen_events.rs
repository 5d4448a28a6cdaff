//! `gen_events OUT_DIR [ROUTES] [EVENTS] [CASES]`: write the runtime benchmark's project
//! (`OUT_DIR/meshline.toml`, `OUT_DIR/rules/main.mesh`) and events (`OUT_DIR/events.jsonl`),
//! for profiling `meshline run` outside the benchmark.

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next() else {
        eprintln!("usage: gen_events OUT_DIR [ROUTES] [EVENTS] [CASES]");
        return std::process::ExitCode::from(2);
    };
    let routes = args.next().and_then(|a| a.parse().ok()).unwrap_or(15);
    let events = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let cases = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = std::path::Path::new(&out);
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir.join("rules"))?;
        std::fs::write(
            dir.join("meshline.toml"),
            "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
        )?;
        std::fs::write(
            dir.join("rules/main.mesh"),
            meshline_benches::runtime_gen::project(routes),
        )?;
        std::fs::write(
            dir.join("events.jsonl"),
            meshline_benches::runtime_gen::events(cases, events, 7).join("\n") + "\n",
        )
    };
    match write() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::from(2)
        }
    }
}
