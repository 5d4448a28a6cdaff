//! The console's state (docs/console.md): its configuration, sessions, the figures the
//! background thread keeps fresh, and the limits on sign-ins. A leaf of the console, so
//! that the HTTP surface can hold it without depending on the console's routes.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use sha2::Digest as _;

use super::auth::{self, ConsoleConfig, Sessions};
use super::figures::{self, Figures};
use super::pages;

/// The console's state, shared by its handlers.
pub struct Console {
    pub(super) config: ConsoleConfig,
    pub(super) sessions: Sessions,
    pub(super) figures: Arc<figures::Shared>,
    /// A hash to verify unknown users' passwords against, so a sign-in takes as long whether
    /// or not the user exists.
    pub(super) decoy: String,
    /// The CSP source of the refresh script (its SHA-256), so no other inline script runs.
    pub(super) script_hash: String,
    /// Password checks in flight at most: argon2 is slow on purpose, so a flood of sign-ins
    /// is answered `429` instead of taking every core.
    pub(super) checks: tokio::sync::Semaphore,
    /// One "what would change" replay at a time (each takes a core).
    pub(super) replays: tokio::sync::Semaphore,
}

/// Password checks running at once, at most.
const CHECKS: usize = 2;

impl Console {
    /// Starts the figures thread too.
    pub fn start(
        config: ConsoleConfig,
        reader: Arc<crate::reader::Reader>,
    ) -> Result<Arc<Console>, String> {
        config.check()?;
        let decoy = auth::hash_password(&auth::token()?).map_err(|e| e.to_string())?;
        let figures = Arc::new(figures::Shared::new(config.client_fields.clone()));
        let every = Duration::from_secs(config.refresh_seconds.max(1));
        figures::follow(reader, Arc::downgrade(&figures), every);
        let script = refresh_script(config.refresh_seconds);
        let script_hash = base64::engine::general_purpose::STANDARD
            .encode(sha2::Sha256::digest(script.as_bytes()));
        Ok(Arc::new(Console {
            sessions: Sessions::new(
                Duration::from_secs(config.session_minutes.saturating_mul(60)),
                config.max_sessions,
            ),
            config,
            figures,
            decoy,
            script_hash,
            checks: tokio::sync::Semaphore::new(CHECKS),
            replays: tokio::sync::Semaphore::new(1),
        }))
    }

    pub(super) fn figures(&self) -> Arc<Figures> {
        self.figures
            .figures
            .read()
            .map(|f| f.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }
}

/// The script `pages::layout` inlines (its text decides the CSP hash).
pub fn refresh_script(seconds: u64) -> String {
    pages::refresh_script(seconds)
}
