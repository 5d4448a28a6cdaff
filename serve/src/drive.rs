//! Driving an engine through a recorded history (the replay format of [`crate::replay`]):
//! events, ticks and deployments in order. `meshline run` and `meshline replay` share it, so
//! a replay applies exactly what a run applies.

use std::fmt;
use std::io::BufRead;
use std::path::Path;

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

/// Apply every input line of `reader` to `engine`; after each one, `sink` takes what the
/// engine produced (drain it there). Returns the number of lines read. A line that is not
/// UTF-8 or not JSON is the engine's to reject and record, never an error here.
pub fn drive<R: BufRead>(
    engine: &mut Engine,
    mut reader: R,
    deploys: Deploys<'_>,
    mut sink: impl FnMut(&mut Engine) -> std::io::Result<()>,
) -> Result<u64, DriveError> {
    let mut buf = Vec::new();
    let mut number = 0u64;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => return Ok(number),
            Ok(_) => number += 1,
            Err(e) => return Err(DriveError::Read(e)),
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let honoured = match replay::control(line) {
            Ok(None) => {
                engine.apply_bytes(line);
                Ok(())
            }
            Ok(Some(Control::Event(text))) => {
                engine.apply_line(&text);
                Ok(())
            }
            Ok(Some(Control::Tick(t))) => {
                engine.advance_to(t);
                Ok(())
            }
            Ok(Some(Control::Deploy(d))) => match deploys {
                Deploys::From(dir) => deploy(engine, dir, d),
                Deploys::Ignore => Ok(()),
            },
            Err(e) => Err(e),
        };
        // What the engine wrote before a bad control line is still handed over.
        let sunk = sink(engine);
        honoured.map_err(|message| DriveError::Line {
            line: number,
            message,
        })?;
        sunk.map_err(DriveError::Sink)?;
    }
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
