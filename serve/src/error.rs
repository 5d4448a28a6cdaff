//! Why `meshline serve`, or an export of its state, stops: one typed error at the crate's
//! boundary (docs/architecture.md, "Errors"), so a caller can tell a setting to fix from a
//! state to restore. `meshline serve` exits 1 for each (docs/deploy.md). The messages are the ones the
//! server always printed; what a kind holds is the reason in the words of the part that
//! failed.

use std::fmt;
use std::net::SocketAddr;

#[derive(Debug)]
pub enum ServeError {
    /// A setting cannot be used: admins, producers, connectors, trusted keys, the cluster,
    /// the console.
    Config(String),
    /// The bundle given at start is refused: its signature, or it cannot be deployed over
    /// the state.
    Bundle(String),
    /// The state cannot be used: it cannot be opened or read, another server holds it, it is
    /// damaged, or the engine cannot be rebuilt from it.
    State(String),
    /// The address cannot be listened on.
    Listen {
        addr: SocketAddr,
        error: std::io::Error,
    },
    /// A thread, the async runtime or an output could not be started or written.
    Io(String),
}

impl fmt::Display for ServeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServeError::Config(m)
            | ServeError::Bundle(m)
            | ServeError::State(m)
            | ServeError::Io(m) => f.write_str(m),
            ServeError::Listen { addr, error } => write!(f, "cannot listen on {addr}: {error}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Listen { error, .. } => Some(error),
            ServeError::Config(_)
            | ServeError::Bundle(_)
            | ServeError::State(_)
            | ServeError::Io(_) => None,
        }
    }
}

/// Map a part's error to a kind: `.map_err(config)?`.
pub(crate) fn config(e: impl fmt::Display) -> ServeError {
    ServeError::Config(e.to_string())
}

pub(crate) fn state(e: impl fmt::Display) -> ServeError {
    ServeError::State(e.to_string())
}

pub(crate) fn io(e: impl fmt::Display) -> ServeError {
    ServeError::Io(e.to_string())
}
