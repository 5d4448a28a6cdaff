//! Operator KPIs from ledgers alone (`meshline report`): automation outcomes, SLA
//! attainment, time to ownership, reopen rate, exceptions and volumes. Every figure is
//! defined in docs/kpis.md in terms of ledger kinds and fields, so an auditor can recompute
//! it from the same JSON lines.
//!
//! - [`read`]: the fields of an entry the figures read, borrowed from the line.
//! - [`kpi`]: folding entries, in ledger order, into the figures.
//! - [`model`]: the figures as values; [`render`]: text, JSON, CSV and HTML.
//! - [`deployments`]: the change history, from `deployed` entries.

// A library reports through return values, never by printing (docs/architecture.md).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod cases;
pub mod compare;
pub mod deployments;
pub mod explain;
mod kpi;
pub mod model;
mod read;
pub mod render;
mod stats;

use std::fmt;
use std::io::BufRead;

use jiff::Timestamp;

pub use model::{GroupBy, Report};
pub use stats::{Spread, format_seconds};

/// What to compute.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Count entries at or after this instant.
    pub since: Option<Timestamp>,
    /// Count entries before this instant.
    pub until: Option<Timestamp>,
    pub by: GroupBy,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            since: None,
            until: None,
            by: GroupBy::Class,
        }
    }
}

/// Why a report could not be computed.
#[derive(Debug)]
pub enum ReportError {
    Read {
        file: String,
        error: std::io::Error,
    },
    /// A line that is not a ledger entry.
    Entry {
        file: String,
        line: u64,
        message: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Read { file, error } => write!(f, "{file}: {error}"),
            ReportError::Entry {
                file,
                line,
                message,
            } => write!(f, "{file}:{line}: not a ledger entry: {message}"),
        }
    }
}

impl std::error::Error for ReportError {}

/// Computes a report over ledgers read in order, as one history (a ledger split into
/// several files is given in its order). `progress` is called with the bytes read so far.
#[derive(Clone)]
pub struct Builder {
    fold: kpi::Fold,
}

impl Builder {
    pub fn new(options: Options) -> Builder {
        Builder {
            fold: kpi::Fold::new(options.since, options.until, options.by),
        }
    }

    /// Read one ledger; `name` is how errors name it. `progress` gets the bytes read so far.
    pub fn read<R: BufRead>(
        &mut self,
        name: &str,
        input: R,
        mut progress: impl FnMut(u64),
    ) -> Result<(), ReportError> {
        lines(name, input, |number, bytes, text| {
            if number.is_multiple_of(65_536) {
                progress(bytes);
            }
            self.push_line(name, number, text)
        })
    }

    /// Fold one ledger line (as [`Builder::read`] does for each line of a file); `name` and
    /// `number` place an error.
    pub fn push_line(&mut self, name: &str, number: u64, text: &str) -> Result<(), ReportError> {
        let bad = |message: String| ReportError::Entry {
            file: name.to_string(),
            line: number,
            message,
        };
        let entry = read::entry(text).map_err(|e| bad(e.to_string()))?;
        let at: Timestamp = entry
            .at
            .parse()
            .map_err(|e| bad(format!("`at` is not an RFC 3339 instant: {e}")))?;
        self.fold.push(&entry, at, text);
        Ok(())
    }

    /// Also follow each case's outcome, for [`Builder::finish_with_cases`].
    pub fn track_cases(mut self) -> Builder {
        self.fold.track_cases();
        self
    }

    pub fn finish(self) -> Report {
        self.fold.finish()
    }

    /// The report of what was read so far, reading on afterwards (a running console).
    pub fn report(&self) -> Report {
        self.fold.clone().finish()
    }

    /// The report and, if [`Builder::track_cases`] was called, every case's outcome.
    pub fn finish_with_cases(
        self,
    ) -> (
        Report,
        std::collections::BTreeMap<String, cases::CaseOutcome>,
    ) {
        self.fold.finish_with_cases()
    }
}

/// Call `each(line number, bytes read so far, text)` for every non-empty line of a ledger,
/// without its line ending; stops at the first error.
pub(crate) fn lines<R: BufRead>(
    name: &str,
    mut input: R,
    mut each: impl FnMut(u64, u64, &str) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let mut line = String::new();
    let mut number = 0u64;
    let mut bytes = 0u64;
    loop {
        line.clear();
        let n = input
            .read_line(&mut line)
            .map_err(|error| ReportError::Read {
                file: name.to_string(),
                error,
            })?;
        if n == 0 {
            return Ok(());
        }
        number += 1;
        bytes += n as u64;
        let text = line.trim_end_matches(['\n', '\r']);
        if !text.is_empty() {
            each(number, bytes, text)?;
        }
    }
}

/// A report over one ledger given as text (tests, small inputs).
pub fn report_text(ledger: &str, options: Options) -> Result<Report, ReportError> {
    let mut b = Builder::new(options);
    b.read("ledger", ledger.as_bytes(), |_| {})?;
    Ok(b.finish())
}
