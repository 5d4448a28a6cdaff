//! `meshline serve`: the runtime behind HTTP with durable state (brief §6.8).
//!
//! - [`store`]: the storage trait and its SQLite implementation (WAL, `synchronous=FULL`).
//! - [`store_pg`]: the same on PostgreSQL; [`state`]: which one `--state` names.
//! - [`lease`], [`node`], [`cluster`]: several nodes on one PostgreSQL database, one leading.
//! - [`core`]: the single writer (engine + store), group commit, wall-clock timers, engine
//!   snapshots.
//! - [`reader`]: case ledgers read off the writer thread, a page at a time.
//! - [`recovery`]: start-up, from the newest usable snapshot or from every input.
//! - [`http`]: the axum routes.
//! - [`admin`]: `POST /admin/bundle`: deployments and deployment plans.
//! - [`deployment`]: admin tokens by name, trusted keys, what a `deployed` entry records.
//! - [`plan`]: what a deployment would do, without doing it.
//! - [`guard`]: who may send events, and what the edge refuses before it becomes an input.
//! - [`listener`]: the accept loop: timeouts, the connection cap, bounded shutdown.
//! - [`executor`]: delivers the outbox to connectors (the `log` connector).
//! - [`http_connector`]: delivers commands to HTTP(S) connectors, outcomes fed back.
//! - [`transport`]: what every connector shares: the HTTP agent, a request, its answer.
//! - [`vendors`]: the vendors' connectors (Stripe, Slack): their requests and answers.
//! - [`webhooks`]: vendor webhooks (signatures, mapping to canonical events).
//! - [`metrics`]: Prometheus text format.
//! - [`replay`]: the export format `meshline run` replays (events and control lines).
//! - [`drive`]: applying such a history to an engine (`meshline run`, `meshline replay`).

// A library reports through return values and `tracing`, never by printing (docs/architecture.md).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod admin;
pub mod cluster;
pub mod console;
pub mod core;
pub mod deployment;
pub mod drive;
pub mod error;
pub mod executor;
pub mod guard;
pub mod http;
pub mod http_connector;
pub mod interactions;
pub mod lease;
pub mod listener;
pub mod mapping;
pub mod metrics;
pub mod node;
pub mod pg_tls;
pub mod plan;
pub mod reader;
pub mod reader_pg;
pub mod recovery;
pub mod replay;
pub mod state;
pub mod store;
pub mod store_pg;
mod store_pg_ddl;
pub mod stored;
pub mod transport;
pub mod vendors;
pub mod webhooks;
pub mod zendesk_export;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use meshline_runtime::ir::Program;
use serde::Deserialize;

use crate::error::ServeError;
use crate::state::Location;
use crate::store::{Input, SqliteStore, Store};

/// Settings from `--config FILE` (TOML); every key is optional.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on (`--listen` wins).
    pub listen: Option<String>,
    /// The SQLite database, or a `postgres://` URL, or `env:VAR` (`--state` wins).
    pub state: Option<PathBuf>,
    /// Several nodes on one PostgreSQL database (docs/deploy.md, "Several nodes").
    pub cluster: state::ClusterConfig,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// How long a request waits for its events to be durable before 503.
    pub request_timeout_ms: u64,
    /// The most lines one transaction takes (group commit).
    pub batch_max: usize,
    /// Fire timers on the wall clock (otherwise only event times move the clock).
    pub wall_clock: bool,
    /// Store an engine snapshot every this many inputs, and start from the newest one
    /// (replaying only the inputs after it). 0 turns snapshots off: start-up replays every
    /// input (`--no-snapshot` does the same for one run).
    pub snapshot_every: u64,
    /// Connectors that deliver the outbox.
    pub connectors: Connectors,
    /// The token for `/admin/*` (or `admin_token_env`: the variable holding it). Without
    /// one, admin endpoints are off.
    pub admin_token: Option<String>,
    pub admin_token_env: Option<String>,
    /// Named admin tokens (`[admins.NAME]`): the name is recorded as who deployed.
    pub admins: std::collections::BTreeMap<String, deployment::AdminToken>,
    /// Public key files (`meshline keygen`); with any, only bundles signed by one of them
    /// are deployed, at start and over HTTP (docs/deploy.md, "Signed bundles").
    pub trusted_keys: Vec<PathBuf>,
    /// Vendor webhook sources by name (`POST /webhooks/NAME`).
    pub webhooks: std::collections::BTreeMap<String, webhooks::Source>,
    /// Who may `POST /events` (bearer tokens). None: open, allowed on loopback only.
    pub producers: std::collections::BTreeMap<String, guard::Producer>,
    /// How far after the server's clock an event's `at` may be.
    pub max_future_skew_seconds: u64,
    /// The most lines one `POST /events` may hold (413 above).
    pub max_batch_lines: usize,
    /// The most lines of a batch that may fail the edge's checks (400 above, nothing applied).
    pub max_rejected_lines: usize,
    /// A connection's request head must arrive within this long (also the idle timeout).
    pub header_read_timeout_ms: u64,
    /// The most open connections (lowered to stay below the open-files limit).
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight before closing their connections.
    pub shutdown_timeout_ms: u64,
    /// The most the state file may grow to (0: no limit); past it commits fail as on a
    /// full disk (docs/deploy.md, "When commits fail").
    pub state_max_bytes: u64,
    /// The operator's console under `/ui` (docs/console.md); off without it.
    pub console: Option<console::auth::ConsoleConfig>,
}

/// `[connectors]` (docs/connectors.md): `log = "FILE"`, `[connectors.http.NAME]`,
/// `[connectors.NAME]` with `vendor = "…"`, and which connector takes each of the
/// `notify`, `approval_request` and `reconciliation` commands (`notify = "slack"`).
#[derive(Clone, Debug, Default)]
pub struct Connectors {
    /// The `log` connector: every command, as JSON Lines, appended to this file.
    pub log: Option<PathBuf>,
    /// HTTP connectors by the connector's name in the project (the older form of
    /// `vendor = "http"`).
    pub http: std::collections::BTreeMap<String, http_connector::HttpConnector>,
    /// Vendor connectors by the connector's name in the project.
    pub vendors: std::collections::BTreeMap<String, vendors::VendorConfig>,
    /// Command kind (`notify`, `approval_request`, `reconciliation`, `assignment`) →
    /// connector name.
    pub routes: std::collections::BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for Connectors {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let table = toml::Table::deserialize(d)?;
        let mut out = Connectors::default();
        for (name, value) in table {
            let bad = |e: toml::de::Error| D::Error::custom(format!("connectors.{name}: {e}"));
            match name.as_str() {
                "log" => out.log = Some(value.try_into().map_err(bad)?),
                "http" => out.http = value.try_into().map_err(bad)?,
                kind if vendors::ROUTED.contains(&kind) => {
                    let to: String = value.try_into().map_err(bad)?;
                    out.routes.insert(name, to);
                }
                _ => {
                    let conf: vendors::VendorConfig = value.try_into().map_err(bad)?;
                    out.vendors.insert(name, conf);
                }
            }
        }
        if let Some(name) = out.http.keys().find(|n| out.vendors.contains_key(*n)) {
            return Err(D::Error::custom(format!(
                "connector `{name}` is configured twice: [connectors.{name}] and [connectors.http.{name}]"
            )));
        }
        Ok(out)
    }
}

impl Connectors {
    /// Whether Meshline's own assignments are written back to the help desk
    /// (`assignment = "helpdesk"`): the engine then emits them as commands.
    pub fn writes_assignments(&self) -> bool {
        self.routes.contains_key("assignment")
    }

    /// Build every HTTP and vendor connector (the settings checked, the TLS roots read).
    /// The Slack connectors, which also answer interactions (docs/connectors.md).
    pub fn slack(
        &self,
    ) -> Result<std::collections::BTreeMap<String, vendors::slack::Slack>, String> {
        self.vendors
            .iter()
            .filter(|(_, c)| c.vendor == vendors::Kind::Slack)
            .map(|(name, c)| Ok((name.clone(), c.slack(name)?)))
            .collect()
    }

    pub fn prepare(
        &self,
    ) -> Result<std::collections::BTreeMap<String, Box<dyn http_connector::Deliver>>, String> {
        vendors::check_routes(&self.routes, &self.vendors)?;
        let mut all = vendors::prepare_all(&self.vendors)?;
        for (name, c) in http_connector::prepare_all(&self.http)? {
            all.insert(name, Box::new(c));
        }
        Ok(all)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: None,
            state: None,
            cluster: state::ClusterConfig::default(),
            max_body_bytes: 4 << 20,
            request_timeout_ms: 10_000,
            batch_max: 4096,
            wall_clock: true,
            snapshot_every: 100_000,
            connectors: Connectors::default(),
            webhooks: Default::default(),
            admin_token: None,
            admin_token_env: None,
            admins: Default::default(),
            trusted_keys: Vec::new(),
            producers: Default::default(),
            max_future_skew_seconds: 300,
            max_batch_lines: 10_000,
            max_rejected_lines: 100,
            header_read_timeout_ms: 10_000,
            max_connections: 512,
            shutdown_timeout_ms: 10_000,
            state_max_bytes: 0,
            console: None,
        }
    }
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ServeError> {
        let bad =
            |e: &dyn std::fmt::Display| ServeError::Config(format!("{}: {e}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| bad(&e))?;
        let config: Config = toml::from_str(&text).map_err(|e| bad(&e))?;
        config.check().map_err(|e| bad(&e))?;
        Ok(config)
    }

    /// What can be checked before serving: the HTTP connectors' URLs, headers and CA files.
    pub fn check(&self) -> Result<(), String> {
        self.cluster.lease()?;
        if let Some(c) = &self.console {
            c.check()?;
        }
        for (name, w) in &self.webhooks {
            if let Some(c) = &w.connector
                && !self
                    .connectors
                    .vendors
                    .get(c)
                    .is_some_and(|v| v.vendor == vendors::Kind::Slack)
            {
                return Err(format!(
                    "webhooks.{name}: connector `{c}` is not a [connectors.{c}] with vendor = \"slack\""
                ));
            }
        }
        deployment::load_trusted(&self.trusted_keys).map_err(|e| e.to_string())?;
        self.connectors.prepare().map(drop)
    }
}

pub struct Options {
    pub program: Program,
    pub bundle_hash: String,
    /// The bundle file's bytes (kept in the state for replay and rollback).
    pub bundle_bytes: Vec<u8>,
    pub state: Location,
    pub listen: SocketAddr,
    pub config: Config,
    /// Verify the whole stored ledger's hash chain at start (`--verify-ledger`), not only
    /// the entries replay reproduces.
    pub verify_ledger: bool,
}

/// Structured JSON logs on stderr (`RUST_LOG` filters; default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Open the state, rebuild the engine, and serve until SIGTERM or Ctrl-C; then stop taking
/// requests, finish the ones in flight, commit what is queued, and return.
pub fn serve(opts: Options) -> Result<(), ServeError> {
    let Options {
        program,
        bundle_hash,
        bundle_bytes,
        state,
        listen,
        config,
        verify_ledger,
    } = opts;
    let admins = deployment::Admins::load(
        &config.admins,
        (
            config.admin_token.as_deref(),
            config.admin_token_env.as_deref(),
        ),
    )
    .map_err(error::config)?;
    let trusted = deployment::load_trusted(&config.trusted_keys)?;
    // The bundle given at start passes the same checks as one posted (its signature).
    let start_note = deployment::note(&bundle_bytes, deployment::AT_START, &trusted)
        .map_err(|e| ServeError::Bundle(format!("--bundle: {e}")))?;
    let event_types = program.events.iter().map(|e| e.name.clone()).collect();
    let guard = guard::Guard::new(
        &config.producers,
        config.webhooks.keys().cloned(),
        event_types,
        listen,
        (
            config.max_future_skew_seconds,
            config.max_batch_lines,
            config.max_rejected_lines,
        ),
    )
    .map_err(error::config)?;
    // Before the (possibly long) replay, so that a bad connector setting fails fast.
    let http_clients = config.connectors.prepare().map_err(error::config)?;
    let lease_len = config.cluster.lease().map_err(error::config)?;
    // Held until the process exits: one server per state file. On PostgreSQL, the lease
    // decides which node writes (`lease.rs`).
    let _lock = match &state {
        Location::Sqlite(path) => Some(lock_state(path).map_err(ServeError::State)?),
        Location::Postgres { .. } => None,
    };
    let fence = match &state {
        Location::Sqlite(_) => None,
        Location::Postgres { project, .. } => {
            Some(Arc::new(lease::Fence::new(project, &node_name(&config))))
        }
    };
    let store: Box<dyn Store> = match &state {
        Location::Sqlite(path) => {
            let mut s = SqliteStore::open(path).map_err(error::state)?;
            if config.state_max_bytes > 0 {
                s.set_max_bytes(config.state_max_bytes)
                    .map_err(error::state)?;
            }
            Box::new(s)
        }
        Location::Postgres { .. } => state
            .open_fenced(fence.clone())
            .map_err(ServeError::State)?,
    };
    // A damaged file would serve some cases and fail others: refuse it, with the reason.
    store.check().map_err(|e| {
        ServeError::State(format!("{}: {e}; restore it from a back-up", state.show()))
    })?;
    // The engine starts from the bundle the state was first built with; deployments since
    // are inputs like events, replayed in order. The first bundle is stored unfenced: no
    // node leads a state that holds nothing yet.
    let first = match store.bundle().map_err(error::state)? {
        Some(h) => h,
        None => {
            let mut init = state.open().map_err(ServeError::State)?;
            init.set_bundle(&bundle_hash).map_err(error::state)?;
            init.commit(&store::Batch {
                bundles: vec![(bundle_hash.clone(), bundle_bytes.clone())],
                ..Default::default()
            })
            .map_err(error::state)?;
            init.bundle()
                .map_err(error::state)?
                .unwrap_or_else(|| bundle_hash.clone())
        }
    };
    let first_program = if first == bundle_hash {
        program.clone()
    } else {
        core::load_stored(&*store, &first).map_err(|e| {
            ServeError::State(format!("{}: the state's first bundle: {e}", state.show()))
        })?
    };
    let t = std::time::Instant::now();
    let recover = if state.is_postgres() {
        recovery::recover_shared
    } else {
        recovery::recover
    };
    let recovery::Recovered {
        engine,
        replayed,
        snapshot,
    } = recover(
        &*store,
        first_program,
        &first,
        config.snapshot_every > 0,
        verify_ledger,
        config.connectors.writes_assignments(),
    )
    .map_err(|e| ServeError::State(format!("{}: {e}", state.show())))?;
    let ms = t.elapsed().as_millis() as u64;
    let cases = engine.state_summary().cases;
    let bundle = engine.bundle_hash();
    match snapshot {
        Some(after) => tracing::info!(
            snapshot = after,
            replayed,
            cases,
            bundle,
            ms,
            "state rebuilt from a snapshot and the inputs after it, checked against the stored ledger"
        ),
        None => tracing::info!(
            inputs = replayed,
            cases,
            bundle,
            ms,
            "state rebuilt from every input and checked against the stored ledger"
        ),
    }
    drop(program);
    let metrics = Arc::new(metrics::Metrics::default());
    let relaxed = std::sync::atomic::Ordering::Relaxed;
    metrics.recovery_replayed.store(replayed, relaxed);
    metrics
        .recovery_snapshot
        .store(snapshot.unwrap_or(0), relaxed);
    let (tx, rx) = std::sync::mpsc::channel();
    let cluster = fence.as_ref().map(|f| node::Node {
        fence: f.clone(),
        applied: snapshot.unwrap_or(0) + replayed,
        leading: false,
        stale: false,
        pending: Vec::new(),
        recover: recover_node(
            first.clone(),
            config.snapshot_every > 0,
            config.connectors.writes_assignments(),
        ),
        deploy_on_lead: Some((bundle_bytes.clone(), start_note.clone())),
        swept: None,
    });
    let mut writer = core::Writer {
        engine,
        store,
        metrics: metrics.clone(),
        batch_max: config.batch_max.max(1),
        wall_clock: config.wall_clock,
        http_connectors: http_clients.keys().cloned().collect(),
        routed: config.connectors.routes.keys().cloned().collect(),
        snapshot_every: config.snapshot_every,
        since_snapshot: replayed,
        rebuild: rebuild(
            first.clone(),
            config.snapshot_every > 0,
            config.connectors.writes_assignments(),
        ),
        storage_failed: None,
        cluster,
    };
    // A different bundle on the command line is a deployment (refused if incompatible). With
    // several nodes, the node deploys it when it leads (`cluster.rs`).
    if writer.cluster.is_none() {
        writer
            .deploy_at_start(&bundle_bytes, start_note)
            .map_err(ServeError::Bundle)?;
    }
    let stop_lease = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let lease_thread = match (&state, &fence) {
        (Location::Postgres { url, .. }, Some(f)) => Some(
            lease::spawn(url.clone(), f.clone(), lease_len, stop_lease.clone())
                .map_err(error::io)?,
        ),
        _ => None,
    };
    let writer = std::thread::Builder::new()
        .name("meshline-writer".into())
        .spawn(move || writer.run(rx))
        .map_err(error::io)?;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let executor = match &config.connectors.log {
        Some(path) => Some(
            executor::spawn_log(
                &state,
                fence.clone(),
                path.clone(),
                metrics.clone(),
                stop.clone(),
            )
            .map_err(error::io)?,
        ),
        None => None,
    };
    let stop_http = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let http_executor = if http_clients.is_empty() {
        None
    } else {
        Some(
            http_connector::spawn(
                &state,
                fence.clone(),
                http_clients,
                config.connectors.routes.clone(),
                tx.clone(),
                metrics.clone(),
                stop_http.clone(),
            )
            .map_err(error::io)?,
        )
    };
    let reader = Arc::new(reader::Reader::at(&state));
    let console = match &config.console {
        Some(c) => Some(console::Console::start(c.clone(), reader.clone()).map_err(error::config)?),
        None => None,
    };
    let app = http::App {
        tx,
        metrics,
        timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
        webhooks: Arc::new(config.webhooks.clone()),
        admins: admins.map(Arc::new),
        trusted: Arc::new(trusted),
        guard: Arc::new(guard),
        reader: reader.clone(),
        console,
        slack: Arc::new(config.connectors.slack().map_err(error::config)?),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(error::io)?;
    let result = rt.block_on(async move {
        let socket = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|error| ServeError::Listen {
                addr: listen,
                error,
            })?;
        let addr = socket.local_addr().map_err(error::io)?;
        tracing::info!(%addr, state = %state.show(), "listening");
        if app.guard.is_open() {
            tracing::warn!(
                %addr,
                "POST /events is open (no [producers] configured, listening on loopback): \
                 for development only"
            );
        }
        let metrics = app.metrics.clone();
        let router = http::router(
            app,
            config.max_body_bytes,
            console::routes().merge(admin::routes()),
        );
        let limits = listener::Limits {
            header_read_timeout: Duration::from_millis(config.header_read_timeout_ms.max(1)),
            max_connections: listener::connection_cap(config.max_connections),
            shutdown_timeout: Duration::from_millis(config.shutdown_timeout_ms),
        };
        listener::serve(socket, router, limits, metrics, shutdown_signal()).await;
        Ok::<(), ServeError>(())
    });
    // Whatever a connection task still holds (a request's sender to the writer) is dropped
    // with the runtime, so the writer below sees every sender gone.
    rt.shutdown_timeout(Duration::from_secs(1));
    // The router is gone; the HTTP executor stops (dropping its sender) after the delivery
    // in hand; then the writer commits what is queued and stops.
    stop_http.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(h) = http_executor {
        let _ = h.join();
    }
    let _ = writer.join();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(h) = executor {
        let _ = h.join();
    }
    // Last: the lease is given up once nothing of this node writes any more.
    stop_lease.store(true, std::sync::atomic::Ordering::SeqCst);
    if let Some(h) = lease_thread {
        let _ = h.join();
    }
    tracing::info!("stopped");
    result
}

/// Take the exclusive lock on `STATE.lock` (an OS lock: released when the process exits,
/// even by SIGKILL), or say which file another server holds.
fn lock_state(state: &Path) -> Result<std::fs::File, String> {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    let path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{}: the state is in use by another `meshline serve` (it holds {}); stop that one \
             first, or give this one another --state",
            state.display(),
            path.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(format!("{}: cannot lock: {e}", path.display()))
        }
    }
}

/// This node's name in the lease: `[cluster] node`, else the host's name.
fn node_name(config: &Config) -> String {
    config.cluster.node.clone().unwrap_or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".to_string())
    })
}

/// How a node of several rebuilds its engine from the store: the engine and the seq of the
/// last input it applied.
fn recover_node(first: String, snapshots: bool, assignments: bool) -> node::Recover {
    Box::new(move |store: &dyn Store| {
        let program = core::load_stored(store, &first)?;
        let r = recovery::recover_shared(store, program, &first, snapshots, false, assignments)?;
        Ok((r.engine, r.snapshot.unwrap_or(0) + r.replayed))
    })
}

/// How the writer rebuilds its engine from what is durable after a commit failed (the
/// engine had applied what the store did not keep).
pub fn rebuild(first: String, snapshots: bool, assignments: bool) -> core::Rebuild {
    Box::new(move |store: &dyn Store| {
        let program = core::load_stored(store, &first)?;
        let r = recovery::recover(store, program, &first, snapshots, false, assignments)?;
        Ok((r.engine, r.replayed))
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutdown requested");
}

/// What [`export`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exported {
    pub events: u64,
    pub ticks: u64,
    pub deployments: u64,
    /// The bundle the state was first built with: what `meshline run --bundle` starts from.
    pub first_bundle: Option<String>,
    /// Bundle files written.
    pub bundles: u64,
}

/// Write the stored inputs in the order applied — events, and wall-clock ticks and
/// deployments as control lines ([`replay`]) — the ledger, and every stored bundle as
/// `DIR/<content hash>.meshb` (the bytes `meshline build` wrote). `meshline run --bundle
/// DIR/<first>.meshb --bundles DIR --events EVENTS` then reproduces the ledger exactly.
pub fn export(
    state: &Location,
    events: Option<&mut dyn Write>,
    ledger: Option<&mut dyn Write>,
    bundles: Option<&Path>,
) -> Result<Exported, ServeError> {
    let store = state.open_existing().map_err(ServeError::State)?;
    // Refuse a damaged file before writing anything, rather than fail midway.
    store
        .check()
        .map_err(|e| ServeError::State(format!("{}: {e}", state.show())))?;
    let mut done = Exported {
        first_bundle: store.bundle().map_err(error::state)?,
        ..Exported::default()
    };
    let mut io_err = None;
    if let Some(w) = events {
        store
            .for_each_input(&mut |i| {
                match &i {
                    Input::Event(_) => done.events += 1,
                    Input::Tick(_) => done.ticks += 1,
                    Input::Bundle(_) => done.deployments += 1,
                }
                if let Err(e) = writeln!(w, "{}", replay::export_line(&i)) {
                    io_err.get_or_insert(e.to_string());
                }
            })
            .map_err(error::state)?;
    }
    if let Some(w) = ledger {
        store
            .for_each_ledger_line(&mut |l| {
                if let Err(e) = writeln!(w, "{l}") {
                    io_err.get_or_insert(e.to_string());
                }
            })
            .map_err(error::state)?;
    }
    if let Some(e) = io_err {
        return Err(ServeError::Io(e));
    }
    if let Some(dir) = bundles {
        std::fs::create_dir_all(dir)
            .map_err(|e| ServeError::Io(format!("{}: {e}", dir.display())))?;
        for hash in store.bundle_hashes().map_err(error::state)? {
            // The name becomes a file name: only a content hash is one.
            if hash.is_empty() || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ServeError::State(format!(
                    "stored bundle {hash:?} is not named by a content hash"
                )));
            }
            let bytes = store
                .get_bundle(&hash)
                .map_err(error::state)?
                .ok_or_else(|| {
                    ServeError::State(format!("bundle {hash} vanished during the export"))
                })?;
            let path = dir.join(format!("{hash}.meshb"));
            std::fs::write(&path, bytes)
                .map_err(|e| ServeError::Io(format!("{}: {e}", path.display())))?;
            done.bundles += 1;
        }
    }
    Ok(done)
}
