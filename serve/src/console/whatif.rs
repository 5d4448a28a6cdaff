//! "What would change" on the deployments page (docs/console.md): a candidate bundle run in
//! shadow over the stored inputs, compared case by case with the ledger that was recorded,
//! by the same code as `meshline replay --baseline LEDGER` (docs/kpis.md, "Replays").
//!
//! The candidate decides from the first stored input (deployments recorded in the inputs
//! are skipped, as `meshline replay` does) and nothing leaves: its commands are dropped.
//! The work is bounded by `[console] whatif_max_inputs`; a longer history is refused with
//! the way to run the same comparison offline.

use std::fmt;

use meshline_report::{Builder, Options, compare, render};
use meshline_runtime::Engine;

use crate::reader::Reader;

/// Rows read per query.
const CHUNK: u64 = 10_000;

#[derive(Debug)]
pub enum WhatIfError {
    /// The upload is not a bundle this runtime can load.
    Bundle(String),
    /// More stored inputs than the console replays.
    TooLong { max: u64 },
    /// Reading the store, or folding a ledger line.
    Read(String),
}

impl fmt::Display for WhatIfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WhatIfError::Bundle(e) => write!(f, "the candidate is not a loadable bundle: {e}"),
            WhatIfError::TooLong { max } => write!(
                f,
                "the stored history has more than {max} inputs, more than the console replays \
                 ([console] whatif_max_inputs); export it (`meshline serve --export-events`) and \
                 run `meshline replay --bundle CANDIDATE --inputs EXPORT --baseline LEDGER`"
            ),
            WhatIfError::Read(e) => write!(f, "reading the stored history: {e}"),
        }
    }
}

impl std::error::Error for WhatIfError {}

/// The comparison of `candidate` (bundle bytes) against what was recorded, as HTML for the
/// deployments page, and how many inputs were replayed.
pub fn run(
    reader: &Reader,
    candidate: &[u8],
    max_inputs: u64,
) -> Result<(String, u64), WhatIfError> {
    let (program, hash) =
        crate::stored::decode(candidate).map_err(|e| WhatIfError::Bundle(e.to_string()))?;
    let mut engine = Engine::new(program, &hash).map_err(|e| WhatIfError::Bundle(e.to_string()))?;
    let read = |e: String| WhatIfError::Read(e);

    let mut baseline = Builder::new(Options::default()).track_cases();
    let mut after = 0;
    loop {
        let rows = reader.ledger_after(after, CHUNK).map_err(read)?;
        let Some(last) = rows.last().map(|(seq, _)| *seq) else {
            break;
        };
        for (seq, line) in &rows {
            baseline
                .push_line("recorded", *seq, line)
                .map_err(|e| WhatIfError::Read(e.to_string()))?;
        }
        after = last;
    }

    let mut candidate_report = Builder::new(Options::default()).track_cases();
    let (mut lines, mut commands) = (String::new(), Vec::new());
    let (mut after, mut replayed, mut number) = (0, 0u64, 0u64);
    loop {
        let rows = reader.inputs_after(after, CHUNK).map_err(read)?;
        let Some(last) = rows.last().map(|(seq, _, _)| *seq) else {
            break;
        };
        for (_, kind, body) in &rows {
            replayed += 1;
            if replayed > max_inputs {
                return Err(WhatIfError::TooLong { max: max_inputs });
            }
            match kind.as_str() {
                "event" => {
                    engine.apply_line(body);
                }
                "tick" => {
                    if let Ok(t) = body.parse::<jiff::Timestamp>() {
                        engine.advance_to(t);
                    }
                }
                // The candidate decides throughout.
                _ => {}
            }
            engine.drain_jsonl_into(&mut lines, &mut commands);
            commands.clear();
            for line in lines.lines() {
                number += 1;
                candidate_report
                    .push_line("candidate", number, line)
                    .map_err(|e| WhatIfError::Read(e.to_string()))?;
            }
        }
        after = last;
    }
    let comparison = compare::compare(
        baseline.finish_with_cases(),
        candidate_report.finish_with_cases(),
    );
    Ok((render::replay::fragment(&comparison), replayed))
}
