//! `meshline run --bundle FILE --events FILE|- [--ledger FILE] [--commands FILE] [--until TIME]
//! [--bundles DIR]` and `meshline ledger verify FILE`.
//!
//! The events may hold control lines (`meshline_serve::replay`): `{"meshline":"tick",...}`
//! advances the clock, `{"meshline":"deploy",...}` switches to a bundle from `--bundles`,
//! `{"meshline":"event",...}` applies the line it carries. A control line that cannot be
//! honoured stops the run (exit status 2, the line number on stderr): it is an operator's
//! mistake in the input, not an event for the ledger to record.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc;

use meshline_runtime::{Engine, bundle, ir, ledger};
use meshline_serve::drive::{self, Deploys, DriveError};

pub(crate) struct Args<'a> {
    pub bundle: &'a Path,
    pub events: &'a str,
    pub ledger: Option<&'a Path>,
    pub commands: Option<&'a Path>,
    pub until: Option<&'a str>,
    /// Where deploy lines find `HASH.meshb`.
    pub bundles: Option<&'a Path>,
}

pub(crate) fn run(a: &Args<'_>) -> ExitCode {
    let Args {
        bundle: bundle_path,
        events,
        ledger: ledger_out,
        commands: commands_out,
        until,
        bundles,
    } = *a;
    let (manifest, program, hash) = match load_bundle(bundle_path) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let until = match until.map(str::parse::<jiff::Timestamp>) {
        None => None,
        Some(Ok(t)) => Some(t),
        Some(Err(e)) => {
            eprintln!("error: --until is not an RFC 3339 timestamp: {e}");
            return ExitCode::from(2);
        }
    };
    let mut engine = match Engine::new(program, &hash) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot load {}: {e}", bundle_path.display());
            return ExitCode::from(2);
        }
    };
    let reader: Box<dyn BufRead + Send> = if events == "-" {
        Box::new(BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(events) {
            Ok(f) => Box::new(BufReader::new(f)),
            Err(e) => {
                eprintln!("error: {events}: {e}");
                return ExitCode::from(2);
            }
        }
    };
    let ledger_w = match open(ledger_out) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let commands_w = match open(commands_out) {
        Ok(w) => w,
        Err(code) => return code,
    };
    // Hashing the ledger, writing the output and counting kinds for the summary run on a
    // second thread, so the engine's thread only applies inputs and encodes entries
    // (docs/performance.md, "`meshline run` as a pipeline"). Buffers go back and forth, so
    // none is allocated per batch. What the engine wrote on loading is chained already.
    let mut first: Drained = Default::default();
    let mut loaded = String::new();
    engine.drain_jsonl_into(&mut loaded, &mut first.1);
    let Some(chainer) = engine.defer_hashing() else {
        eprintln!("error: the engine's ledger could not be handed to the writer");
        return ExitCode::from(2);
    };
    let (to_writer, from_engine) = mpsc::sync_channel::<Drained>(4);
    let (give_back, take_back) = mpsc::channel::<Drained>();
    let (driven, written) = std::thread::scope(|scope| {
        let output = Output {
            chainer,
            ledger: ledger_w,
            commands: commands_w,
            stats: Stats::default(),
            lines: loaded,
        };
        let writer = scope.spawn(move || output.run(first, &from_engine, &give_back));
        let mut sink = |engine: &mut Engine| -> std::io::Result<()> {
            let (mut entries, mut commands) = take_back.try_recv().unwrap_or_default();
            engine.drain_unchained_into(&mut entries, &mut commands);
            if entries.is_empty() && commands.is_empty() {
                return Ok(());
            }
            to_writer
                .send((entries, commands))
                .map_err(|_| std::io::Error::other("the output writer stopped"))
        };
        // Raw bytes per line: a line that is not UTF-8 is rejected and recorded, not fatal.
        let mut driven = drive::drive(&mut engine, reader, Deploys::From(bundles), &mut sink);
        if driven.is_ok()
            && let Some(t) = until
        {
            engine.advance_to(t);
            if let Err(e) = sink(&mut engine) {
                driven = Err(DriveError::Sink(e));
            }
        }
        drop(to_writer);
        let written = writer
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the output writer stopped")));
        (driven, written)
    });
    let stats = match written {
        Ok(stats) => stats,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            return ExitCode::from(2);
        }
    };
    match driven {
        Ok(_) => {}
        Err(DriveError::Line { line, message }) => {
            let name = if events == "-" {
                "standard input"
            } else {
                events
            };
            eprintln!("error: {name}, line {line}: {message}");
            eprintln!("the run stopped there; the ledger and commands before it are written");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    eprintln!(
        "{} {}: {}",
        manifest.package,
        manifest.version,
        stats.summary(engine.case_ids().len())
    );
    ExitCode::SUCCESS
}

/// Read a bundle file, or compile a project folder first; errors are printed.
pub(crate) fn load_bundle(
    bundle_path: &Path,
) -> Result<(bundle::Manifest, ir::Program, String), ExitCode> {
    let bytes = bundle_bytes(bundle_path)?;
    match bundle::decode::<ir::Program>(&bytes) {
        Ok(x) => Ok(x),
        Err(e) => {
            eprintln!("error: {}: {e}", bundle_path.display());
            Err(ExitCode::from(2))
        }
    }
}

/// A bundle file's bytes, or a project folder compiled to them; errors are printed.
pub(crate) fn bundle_bytes(bundle_path: &Path) -> Result<Vec<u8>, ExitCode> {
    // A project folder is compiled first; anything else must be a bundle file.
    let bytes = if bundle_path.is_dir() {
        match meshline_compiler::build_path(bundle_path) {
            Ok(out) => match out.bundle {
                Some(b) => b,
                None => {
                    let text = meshline_compiler::diagnostics::render_ariadne::render_all(
                        &out.check.diagnostics,
                        &out.check.sources(),
                        false,
                    );
                    eprint!("{text}");
                    eprintln!(
                        "error: {} does not build: {} error(s)",
                        bundle_path.display(),
                        out.check.error_count()
                    );
                    return Err(ExitCode::from(1));
                }
            },
            Err(e) => {
                eprintln!("error: {e}");
                return Err(ExitCode::from(2));
            }
        }
    } else {
        match std::fs::read(bundle_path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {}: {e}", bundle_path.display());
                return Err(ExitCode::from(2));
            }
        }
    };
    Ok(bytes)
}

/// A batch of ledger entries (not hashed yet) and commands drained from the engine.
type Drained = (ledger::Unchained, Vec<meshline_runtime::engine::Command>);

/// The writer's side of `run`: chains each batch's entries, writes the lines and the
/// commands, counts kinds, and hands the buffers back.
struct Output {
    chainer: ledger::Chainer,
    ledger: Out,
    commands: Out,
    stats: Stats,
    /// The lines being written (at first, those the engine wrote on loading).
    lines: String,
}

impl Output {
    fn run(
        mut self,
        first: Drained,
        from_engine: &mpsc::Receiver<Drained>,
        give_back: &mpsc::Sender<Drained>,
    ) -> std::io::Result<Stats> {
        self.write(&first)?;
        while let Ok(batch) = from_engine.recv() {
            self.write(&batch)?;
            // The engine may have finished; then the buffers are simply dropped.
            let _ = give_back.send(batch);
        }
        for w in [self.ledger.as_mut(), self.commands.as_mut()]
            .into_iter()
            .flatten()
        {
            w.flush()?;
        }
        Ok(self.stats)
    }

    fn write(&mut self, (entries, commands): &Drained) -> std::io::Result<()> {
        self.chainer.chain(entries, &mut self.lines);
        for l in self.lines.lines() {
            self.stats.count(ledger::line_kind(l).unwrap_or(""));
        }
        if let Some(w) = self.ledger.as_mut() {
            w.write_all(self.lines.as_bytes())?;
        }
        self.lines.clear();
        if let Some(w) = self.commands.as_mut() {
            for c in commands {
                let mut line = c.to_line();
                line.push('\n');
                w.write_all(line.as_bytes())?;
            }
        }
        self.stats.commands += commands.len();
        Ok(())
    }
}

type Out = Option<Box<dyn Write + Send>>;

fn open(path: Option<&Path>) -> Result<Out, ExitCode> {
    match path {
        None => Ok(None),
        Some(p) if p == Path::new("-") => Ok(Some(Box::new(std::io::stdout()))),
        Some(p) => match std::fs::File::create(p) {
            Ok(f) => Ok(Some(Box::new(std::io::BufWriter::new(f)))),
            Err(e) => {
                eprintln!("error: {}: {e}", p.display());
                Err(ExitCode::from(2))
            }
        },
    }
}

#[derive(Default)]
struct Stats {
    kinds: std::collections::BTreeMap<String, usize>,
    commands: usize,
}

impl Stats {
    fn count(&mut self, kind: &str) {
        // Kinds repeat: allocate a key only the first time one is seen.
        match self.kinds.get_mut(kind) {
            Some(n) => *n += 1,
            None => {
                self.kinds.insert(kind.to_string(), 1);
            }
        }
    }
    fn get(&self, k: &str) -> usize {
        self.kinds.get(k).copied().unwrap_or(0)
    }
    fn summary(&self, cases: usize) -> String {
        format!(
            "{} events ({} rejected, {} duplicate), {cases} cases; {} classified, {} assigned, {} escalated; SLA {} met, {} breached; {} executed, {} held, {} shadowed, {} eval errors; {} commands",
            self.get("received") + self.get("rejected") + self.get("duplicate"),
            self.get("rejected"),
            self.get("duplicate"),
            self.get("classified"),
            self.get("assigned"),
            self.get("escalated"),
            self.get("sla_met"),
            self.get("sla_breached"),
            self.get("executed"),
            self.get("held"),
            self.get("shadowed"),
            self.get("eval_error"),
            self.commands
        )
    }
}

pub(crate) fn verify(path: &Path) -> ExitCode {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    match ledger::verify_reader(BufReader::new(file)) {
        Ok(r) => {
            println!("ok: {} entries, last hash {}", r.entries, r.last_hash);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("{}: {e}", path.display());
            ExitCode::from(1)
        }
    }
}
