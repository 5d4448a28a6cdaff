//! Driving an engine through a recorded history (the replay format of [`crate::replay`]):
//! events, ticks and deployments in order. `meshline run` and `meshline replay` share it, so
//! a replay applies exactly what a run applies.

use std::fmt;
use std::io::BufRead;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use meshline_runtime::{Engine, bundle, ir};

use crate::replay::{self, Control};
use crate::store::Deploy;

/// What to do with `{"meshline":"deploy",...}` lines.
#[derive(Clone, Copy, Debug)]
pub enum Deploys<'a> {
    /// Switch to `DIR/HASH.meshb` (a serve export's bundles); no folder stops the run.
    From(Option<&'a Path>),
    /// Keep the engine's bundle: a candidate replayed over history decides throughout.
    Ignore,
}

/// Why a drive stopped: a control line that could not be honoured, or reading failed.
#[derive(Debug)]
pub enum DriveError {
    /// At this input line (1-based).
    Line {
        line: u64,
        message: String,
    },
    Read(std::io::Error),
    /// The sink failed (writing output).
    Sink(std::io::Error),
}

impl fmt::Display for DriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DriveError::Line { line, message } => write!(f, "line {line}: {message}"),
            DriveError::Read(e) => write!(f, "reading the inputs: {e}"),
            DriveError::Sink(e) => write!(f, "writing output: {e}"),
        }
    }
}

impl std::error::Error for DriveError {}

/// One input line, read ahead of the engine (see [`drive`]).
enum Input {
    /// An event line (or the text of an `event` control line): these bytes of the batch.
    Line(Range<usize>),
    Tick(jiff::Timestamp),
    Deploy(Deploy),
    /// A control line that cannot be honoured: the drive stops here.
    Bad(String),
}

/// Inputs read ahead: their lines' bytes in one buffer, and what each input is.
#[derive(Default)]
struct Batch {
    bytes: Vec<u8>,
    inputs: Vec<(u64, Input)>,
}

/// How many inputs the reader hands over at a time, and how many such batches may wait:
/// enough to keep both threads busy without holding much of the file in memory.
const BATCH: usize = 128;
const BATCHES_AHEAD: usize = 4;

/// Apply every input line of `reader` to `engine`; `sink` takes what the engine produced
/// (drain it there) after every batch of inputs and before an error is returned. Returns
/// the number of lines read. A line that is not UTF-8 or not JSON is the engine's to reject
/// and record, never an error here.
///
/// Reading and the control-line check run on a second thread, a batch ahead of the engine
/// (docs/performance.md, "`meshline run` as a pipeline"); the engine applies the inputs in
/// file order, so the ledger is the same as applying each line in turn. Lines cross as
/// bytes in one reused buffer: parsing them there would hand every event's allocations
/// from one thread to the other, which cost more than the parse.
pub fn drive<R: BufRead + Send>(
    engine: &mut Engine,
    reader: R,
    deploys: Deploys<'_>,
    mut sink: impl FnMut(&mut Engine) -> std::io::Result<()>,
) -> Result<u64, DriveError> {
    let (send, receive) = mpsc::sync_channel::<Batch>(BATCHES_AHEAD);
    let (give_back, take_back) = mpsc::channel::<Batch>();
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let done = &done;
        let reading = scope.spawn(move || read_inputs(reader, &send, &take_back, done));
        let applied = apply_inputs(engine, &receive, &give_back, deploys, &mut sink);
        // Stop the reader early when the engine side stopped (a bad line, the sink failed).
        done.store(true, Ordering::Relaxed);
        drop(receive);
        let read = reading
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("the input reader stopped")));
        applied?;
        read.map_err(DriveError::Read)
    })
}

/// The reader's side: lines to [`Input`]s, in batches. Returns the number of lines read.
fn read_inputs<R: BufRead>(
    mut reader: R,
    send: &mpsc::SyncSender<Batch>,
    take_back: &mpsc::Receiver<Batch>,
    done: &AtomicBool,
) -> std::io::Result<u64> {
    let mut number = 0u64;
    let mut batch = Batch::default();
    loop {
        let start = batch.bytes.len();
        let eof = reader.read_until(b'\n', &mut batch.bytes)? == 0;
        if !eof {
            number += 1;
            let line = &batch.bytes[start..];
            let line = line.strip_suffix(b"\n").unwrap_or(line);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let end = start + line.len();
            if line.iter().all(u8::is_ascii_whitespace) {
                batch.bytes.truncate(start);
            } else {
                let input = match replay::control(line) {
                    Ok(None) => Input::Line(start..end),
                    Ok(Some(Control::Event(text))) => {
                        batch.bytes.truncate(start);
                        batch.bytes.extend_from_slice(text.as_bytes());
                        Input::Line(start..batch.bytes.len())
                    }
                    Ok(Some(Control::Tick(t))) => Input::Tick(t),
                    Ok(Some(Control::Deploy(d))) => Input::Deploy(d),
                    Err(e) => Input::Bad(e),
                };
                batch.inputs.push((number, input));
            }
        }
        if eof || batch.inputs.len() >= BATCH {
            if !batch.inputs.is_empty() {
                let mut next = take_back.try_recv().unwrap_or_default();
                next.bytes.clear();
                next.inputs.clear();
                if send.send(std::mem::replace(&mut batch, next)).is_err() {
                    return Ok(number);
                }
            }
            if eof || done.load(Ordering::Relaxed) {
                return Ok(number);
            }
        }
    }
}

/// The engine's side.
fn apply_inputs(
    engine: &mut Engine,
    receive: &mpsc::Receiver<Batch>,
    give_back: &mpsc::Sender<Batch>,
    deploys: Deploys<'_>,
    sink: &mut impl FnMut(&mut Engine) -> std::io::Result<()>,
) -> Result<(), DriveError> {
    while let Ok(mut batch) = receive.recv() {
        for (number, input) in batch.inputs.drain(..) {
            let honoured = match input {
                Input::Line(range) => {
                    engine.apply_bytes(batch.bytes.get(range).unwrap_or_default());
                    Ok(())
                }
                Input::Tick(t) => {
                    engine.advance_to(t);
                    Ok(())
                }
                Input::Deploy(d) => match deploys {
                    Deploys::From(dir) => deploy(engine, dir, d),
                    Deploys::Ignore => Ok(()),
                },
                Input::Bad(message) => Err(message),
            };
            if let Err(message) = honoured {
                // What the engine wrote before a bad control line is still handed over.
                sink(engine).map_err(DriveError::Sink)?;
                return Err(DriveError::Line {
                    line: number,
                    message,
                });
            }
        }
        sink(engine).map_err(DriveError::Sink)?;
        // The reader may have stopped already; its batches are then simply dropped.
        let _ = give_back.send(batch);
    }
    Ok(())
}

/// A deploy control line: the bundle `DIR/HASH.meshb` decides from here on, through the
/// same reload serve uses (state kept, a `deployed` entry written with the line's note).
fn deploy(engine: &mut Engine, dir: Option<&Path>, d: Deploy) -> Result<(), String> {
    let hash = d.hash.as_str();
    let Some(dir) = dir else {
        return Err(format!(
            "deploy of bundle {hash}: no --bundles DIR to find {hash}.meshb in \
             (`meshline serve --export-bundles DIR` writes them)"
        ));
    };
    let path = dir.join(format!("{hash}.meshb"));
    let bytes = std::fs::read(&path)
        .map_err(|e| format!("deploy of bundle {hash}: {}: {e}", path.display()))?;
    let (_, program, found) = bundle::decode::<ir::Program>(&bytes)
        .map_err(|e| format!("deploy of bundle {hash}: {}: {e}", path.display()))?;
    if found != hash {
        return Err(format!(
            "deploy of bundle {hash}: {} holds bundle {found}",
            path.display()
        ));
    }
    engine
        .reload_noted(program, hash, d.note)
        .map_err(|e| format!("deploy of bundle {hash} refused: {e}"))
}
