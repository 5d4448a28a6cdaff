//! The leader lease (docs/deploy.md, "Several nodes"): of the nodes serving one project on
//! PostgreSQL, the one holding the project's row in `leases` applies inputs and writes the
//! ledger and the outbox. The row's `token` grows by one at every change of holder (a
//! fencing token); every write transaction of the leader checks, in the same transaction,
//! that the row still names it with its token and has not expired by the DATABASE's clock
//! (`now()`), so a deposed leader's write fails however late it arrives.
//!
//! This thread takes the lease when it is free or expired (trying every half second),
//! renews it every third of its length, and keeps the local end of leadership at `sent + lease − lease/10`, `sent` being
//! the moment the last successful renewal was sent: the database's expiry is later than
//! that (it counted from when it received the renewal), so a node cut off from the database
//! stops leading before another node can take the lease over.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::Client;

use crate::pg_tls::ConnectError;

/// How often a node without the lease tries to take it (or a third of the lease, if less).
const TRY_EVERY: Duration = Duration::from_millis(500);

/// What the writer and the outbox executors know of the lease: the token while this node
/// leads. Shared with the lease thread, which alone changes it.
pub struct Fence {
    /// This process's name in the lease (node name, process id, random suffix).
    pub holder: String,
    pub project: String,
    token: AtomicI64,
    until: Mutex<Option<Instant>>,
    /// The last lease statement reached the database.
    reachable: AtomicBool,
}

impl Fence {
    pub fn new(project: &str, node: &str) -> Fence {
        let mut r = [0u8; 4];
        let _ = getrandom::fill(&mut r);
        Fence {
            holder: format!(
                "{node}:{}:{:08x}",
                std::process::id(),
                u32::from_le_bytes(r)
            ),
            project: project.to_string(),
            token: AtomicI64::new(0),
            until: Mutex::new(None),
            reachable: AtomicBool::new(true),
        }
    }

    /// The fencing token while this node leads (the local end of the lease not passed).
    pub fn leading(&self) -> Option<i64> {
        let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
        let token = self.token.load(Ordering::SeqCst);
        (token != 0 && until.is_some_and(|u| Instant::now() < u)).then_some(token)
    }

    /// Whether the database answered the last lease statement.
    pub fn reachable(&self) -> bool {
        self.reachable.load(Ordering::SeqCst)
    }

    fn set(&self, token: i64, until: Option<Instant>) {
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) = until;
        self.token.store(token, Ordering::SeqCst);
    }

    /// The token this node last held (0: none), whether or not its local end passed.
    fn held(&self) -> i64 {
        self.token.load(Ordering::SeqCst)
    }
}

/// Take the lease when free or expired, renew it every third of `lease`, until `stop`; on
/// stop, give it up (expire it now) so another node takes over at once.
pub fn spawn(
    url: String,
    fence: Arc<Fence>,
    lease: Duration,
    stop: Arc<AtomicBool>,
) -> Result<JoinHandle<()>, String> {
    std::thread::Builder::new()
        .name("meshline-lease".into())
        .spawn(move || {
            let mut client: Option<Client> = None;
            let renew = lease / 3;
            let margin = lease / 10;
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                match tick(&mut client, &url, &fence, lease, margin) {
                    Ok(()) => fence.reachable.store(true, Ordering::SeqCst),
                    Err(e) => {
                        if fence.reachable.swap(false, Ordering::SeqCst) {
                            tracing::error!(error = %e, holder = %fence.holder,
                                "the database cannot be reached for the lease");
                        }
                        client = None;
                    }
                }
                // A lease held but not renewed in time is given up here as well as by
                // `leading`, so the log says so once.
                if fence.held() != 0 && fence.leading().is_none() {
                    tracing::warn!(
                        holder = %fence.holder,
                        token = fence.held(),
                        "lease ended: it could not be renewed in time"
                    );
                    fence.set(0, None);
                }
                // A node without the lease tries often, so a takeover follows expiry closely.
                let every = if fence.held() != 0 {
                    renew
                } else {
                    renew.min(TRY_EVERY)
                };
                let spent = started.elapsed();
                let mut left = every.saturating_sub(spent);
                while !left.is_zero() && !stop.load(Ordering::SeqCst) {
                    let step = left.min(Duration::from_millis(50));
                    std::thread::sleep(step);
                    left -= step;
                }
            }
            if fence.held() != 0
                && let Some(c) = client.as_mut()
            {
                let _ = c.execute(
                    "UPDATE leases SET expires_at = now() WHERE project = $1 AND holder = $2",
                    &[&fence.project, &fence.holder],
                );
                tracing::info!(holder = %fence.holder, "lease given up");
            }
            fence.set(0, None);
        })
        .map_err(|e| e.to_string())
}

/// Connect to `url` with the project's schema first on the search path (statements time
/// out rather than hang on a database that stopped answering).
pub fn connect(url: &str, project: &str) -> Result<Client, ConnectError> {
    let mut c = crate::pg_tls::connect(url, Duration::from_secs(5))?;
    // The name was checked (`store_pg::valid_schema`) before it reached here.
    c.batch_execute(&format!(
        "SET search_path TO {project}; SET statement_timeout = 5000"
    ))?;
    Ok(c)
}

fn tick(
    client: &mut Option<Client>,
    url: &str,
    fence: &Fence,
    lease: Duration,
    margin: Duration,
) -> Result<(), ConnectError> {
    if client.is_none() {
        *client = Some(connect(url, &fence.project)?);
    }
    let Some(c) = client.as_mut() else {
        return Ok(());
    };
    let ms = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX);
    let sent = Instant::now();
    let held = fence.held();
    if held != 0 {
        let n = c.execute(
            "UPDATE leases SET expires_at = now() + $4::BIGINT * interval '1 millisecond'
             WHERE project = $1 AND holder = $2 AND token = $3 AND expires_at > now()",
            &[&fence.project, &fence.holder, &held, &ms],
        )?;
        if n == 1 {
            fence.set(held, Some(sent + lease - margin));
        } else {
            tracing::error!(holder = %fence.holder, token = held,
                "stopped leading: the lease expired or another node took it over");
            fence.set(0, None);
        }
        return Ok(());
    }
    let row = c.query_opt(
        "INSERT INTO leases (project, holder, token, expires_at)
         VALUES ($1, $2, 1, now() + $3::BIGINT * interval '1 millisecond')
         ON CONFLICT (project) DO UPDATE SET holder = excluded.holder,
             token = leases.token + 1, expires_at = excluded.expires_at
         WHERE leases.expires_at <= now()
         RETURNING token",
        &[&fence.project, &fence.holder, &ms],
    )?;
    if let Some(r) = row {
        let token: i64 = r.get(0);
        fence.set(token, Some(sent + lease - margin));
        tracing::info!(holder = %fence.holder, token, "leading: took the lease");
    }
    Ok(())
}
