//! Delivers the outbox. The `log` connector appends every command, as JSON Lines, to a file
//! (dry runs): at-least-once — a crash between the write and the mark repeats the command,
//! which carries its idempotency key.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::lease::Fence;
use crate::metrics::Metrics;
use crate::state::Location;
use crate::store::Store;

/// With a `fence` (several nodes on PostgreSQL), only the node leading delivers: the lease is
/// the claim on the outbox, and marking rows delivered is fenced (docs/deploy.md, "Several
/// nodes").
pub fn spawn_log(
    state: &Location,
    fence: Option<Arc<Fence>>,
    path: PathBuf,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, String> {
    let mut store = state.open_fenced(fence.clone())?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    std::thread::Builder::new()
        .name("meshline-outbox-log".into())
        .spawn(move || {
            loop {
                let stopping = stop.load(Ordering::SeqCst);
                if fence.as_ref().is_some_and(|f| f.leading().is_none()) {
                    if stopping {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    continue;
                }
                match deliver(&mut *store, &mut file) {
                    Ok(0) if stopping => break,
                    Ok(0) => std::thread::sleep(Duration::from_millis(100)),
                    Ok(n) => {
                        metrics
                            .outbox_delivered
                            .fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, connector = "log", "delivery failed; retrying");
                        std::thread::sleep(Duration::from_millis(500));
                        if stopping {
                            break;
                        }
                    }
                }
                if let Ok(d) = store.outbox_depth() {
                    metrics.outbox_depth.store(d, Ordering::Relaxed);
                }
            }
        })
        .map_err(|e| e.to_string())
}

fn deliver(store: &mut dyn Store, file: &mut std::fs::File) -> Result<usize, String> {
    let rows = store.outbox_pending(512)?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut buf = String::new();
    for r in &rows {
        buf.push_str(&r.line);
        buf.push('\n');
    }
    file.write_all(buf.as_bytes()).map_err(|e| e.to_string())?;
    file.sync_data().map_err(|e| e.to_string())?;
    let seqs: Vec<u64> = rows.iter().map(|r| r.seq).collect();
    store.outbox_done(&seqs)?;
    Ok(rows.len())
}
