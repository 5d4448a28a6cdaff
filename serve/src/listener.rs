//! The accept loop (docs/deploy.md, "Connections"): HTTP/1.1 connections served by hyper
//! with a header-read timeout that also reaps idle connections, a cap on open connections
//! below the process's file-descriptor limit, and a shutdown that waits for requests in
//! flight at most `shutdown_timeout_ms`.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::metrics::Metrics;

pub struct Limits {
    /// A connection must deliver a complete request head within this long of opening, or
    /// of the previous response (so it is also the idle timeout of kept-alive connections).
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_timeout: Duration,
}

/// File descriptors kept free of connections: the database, its journal, logs, the
/// connectors' sockets.
const FD_RESERVE: u64 = 64;

/// The soft limit on open files (Linux: /proc/self/limits), if it can be read.
fn fd_soft_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// `max_connections`, lowered (with a log line) to stay below the file-descriptor limit.
pub fn connection_cap(configured: usize) -> usize {
    let wanted = configured.max(1);
    match fd_soft_limit() {
        Some(fds) if wanted as u64 + FD_RESERVE > fds => {
            let cap = fds.saturating_sub(FD_RESERVE).max(1) as usize;
            tracing::warn!(
                max_connections = wanted,
                open_files_limit = fds,
                using = cap,
                "max_connections is too close to the open-files limit: lowered"
            );
            cap
        }
        _ => wanted,
    }
}

const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: 34\r\nConnection: close\r\nRetry-After: 1\r\n\r\n{\"error\":\"too many connections\"}\r\n";

/// How many refused connections may be in the middle of getting their 503 at once.
const BUSY_ANSWERS: usize = 16;

/// Answer 503 and close, reading what the client sent meanwhile: closing a socket with
/// unread data resets it, and the client would lose the answer.
async fn answer_busy(mut stream: tokio::net::TcpStream, permit: tokio::sync::OwnedSemaphorePermit) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(BUSY).await?;
        stream.shutdown().await?;
        let mut buf = [0u8; 1024];
        while stream.read(&mut buf).await? > 0 {}
        Ok::<(), std::io::Error>(())
    })
    .await;
    drop(permit);
}

/// Serve until `shutdown` completes; then stop accepting, let the open connections finish
/// their requests for at most `shutdown_timeout`, and drop the rest.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let busy = Arc::new(Semaphore::new(BUSY_ANSWERS));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    let mut tasks = JoinSet::new();
    let mut at_limit = false;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = &mut shutdown => break,
        };
        while tasks.try_join_next().is_some() {}
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(e) => {
                // Out of file descriptors, typically: wait for some to close.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics.refused("too_many_connections", 1);
            if !at_limit {
                tracing::warn!(
                    max_connections = limits.max_connections,
                    "connection limit reached: new connections get 503 until some close"
                );
                at_limit = true;
            }
            // The 503 is written and the socket closed within a second, by at most
            // BUSY_ANSWERS tasks at a time; beyond that the socket is closed unanswered.
            if let Ok(p) = busy.clone().try_acquire_owned() {
                tokio::spawn(answer_busy(stream, p));
            }
            continue;
        };
        if at_limit {
            tracing::info!("below the connection limit again");
            at_limit = false;
        }
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let conn = graceful.watch(conn);
        tasks.spawn(async move {
            let _ = conn.await;
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!(
        connections = tasks.len(),
        "shutdown requested: no new connections; draining in-flight requests"
    );
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(limits.shutdown_timeout) => {
            tracing::warn!(
                connections = tasks.len(),
                timeout_ms = limits.shutdown_timeout.as_millis() as u64,
                "shutdown: connections still open after the shutdown timeout are closed"
            );
        }
    }
    tasks.shutdown().await;
}
