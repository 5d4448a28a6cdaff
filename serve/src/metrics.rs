//! Prometheus metrics, written by hand in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::store::LedgerRow;

/// A histogram with fixed buckets (seconds).
pub struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

const LATENCY: &[f64] = &[
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, secs: f64) {
        self.observe_n(secs, 1);
    }

    /// `n` observations of `secs` each.
    pub fn observe_n(&self, secs: f64, n: u64) {
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            if secs <= *b {
                c.fetch_add(n, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add((secs * 1e6 * n as f64) as u64, Ordering::Relaxed);
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

pub struct Metrics {
    pub ready: AtomicBool,
    /// Commits fail (disk full, I/O error): not ready until a write succeeds again.
    pub storage_failing: AtomicBool,
    /// Commits that failed since the start.
    pub storage_failures: AtomicU64,
    /// Several nodes (docs/deploy.md, "Several nodes"): this node holds the lease.
    pub leader: AtomicBool,
    /// Several nodes: the database did not answer the last lease statement.
    pub database_unreachable: AtomicBool,
    /// Ledger entries by kind (received, rejected, duplicate, decisions, SLA, actions).
    kinds: Mutex<BTreeMap<String, u64>>,
    /// SLA outcomes by (kind, policy, class).
    sla: Mutex<BTreeMap<(String, String, String), u64>>,
    /// Circuit breakers: automation → halted.
    pub breakers: Mutex<BTreeMap<String, bool>>,
    /// Requests and lines refused at the HTTP edge (never applied nor stored), by reason.
    refused: Mutex<BTreeMap<&'static str, u64>>,
    pub http_requests: AtomicU64,
    pub http_bad_requests: AtomicU64,
    pub webhook_unauthorized: AtomicU64,
    pub webhook_unmatched: AtomicU64,
    pub outbox_enqueued: AtomicU64,
    pub outbox_delivered: AtomicU64,
    pub outbox_depth: AtomicU64,
    pub outbox_retries: AtomicU64,
    pub actions_delivered: AtomicU64,
    pub actions_failed: AtomicU64,
    pub timers: AtomicU64,
    /// Engine snapshots stored since the start; the last one's size and time to take.
    pub snapshots: AtomicU64,
    pub snapshot_bytes: AtomicU64,
    pub snapshot_micros: AtomicU64,
    /// At start: inputs replayed, and the last input of the snapshot replay started after
    /// (0 for a full replay).
    pub recovery_replayed: AtomicU64,
    pub recovery_snapshot: AtomicU64,
    pub apply_seconds: Histogram,
    pub commit_seconds: Histogram,
    pub ack_seconds: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            ready: AtomicBool::new(false),
            storage_failing: AtomicBool::new(false),
            storage_failures: AtomicU64::new(0),
            leader: AtomicBool::new(false),
            database_unreachable: AtomicBool::new(false),
            kinds: Mutex::new(BTreeMap::new()),
            sla: Mutex::new(BTreeMap::new()),
            breakers: Mutex::new(BTreeMap::new()),
            refused: Mutex::new(BTreeMap::new()),
            http_requests: AtomicU64::new(0),
            http_bad_requests: AtomicU64::new(0),
            webhook_unauthorized: AtomicU64::new(0),
            webhook_unmatched: AtomicU64::new(0),
            outbox_enqueued: AtomicU64::new(0),
            outbox_delivered: AtomicU64::new(0),
            outbox_depth: AtomicU64::new(0),
            outbox_retries: AtomicU64::new(0),
            actions_delivered: AtomicU64::new(0),
            actions_failed: AtomicU64::new(0),
            timers: AtomicU64::new(0),
            snapshots: AtomicU64::new(0),
            snapshot_bytes: AtomicU64::new(0),
            snapshot_micros: AtomicU64::new(0),
            recovery_replayed: AtomicU64::new(0),
            recovery_snapshot: AtomicU64::new(0),
            apply_seconds: Histogram::new(LATENCY),
            commit_seconds: Histogram::new(LATENCY),
            ack_seconds: Histogram::new(LATENCY),
        }
    }
}

impl Metrics {
    /// Count `n` refusals at the HTTP edge (docs/deploy.md, "Limits").
    pub fn refused(&self, reason: &'static str, n: u64) {
        let mut r = self.refused.lock().unwrap_or_else(|e| e.into_inner());
        *r.entry(reason).or_insert(0) += n;
    }

    pub fn snapshot_taken(&self, bytes: u64, took: std::time::Duration) {
        self.snapshots.fetch_add(1, Ordering::Relaxed);
        self.snapshot_bytes.store(bytes, Ordering::Relaxed);
        self.snapshot_micros
            .store(took.as_micros() as u64, Ordering::Relaxed);
    }

    /// Count a committed batch's entries; `class` gives a case's class (for SLA outcomes).
    pub fn count_ledger(&self, rows: &[LedgerRow], class: &dyn Fn(&str) -> Option<String>) {
        let mut kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner());
        for r in rows {
            match kinds.get_mut(r.kind.as_str()) {
                Some(n) => *n += 1,
                None => {
                    kinds.insert(r.kind.clone(), 1);
                }
            }
        }
        drop(kinds);
        let mut sla = self.sla.lock().unwrap_or_else(|e| e.into_inner());
        for r in rows {
            if r.kind == "sla_met" || r.kind == "sla_breached" {
                let rule = serde_json::from_str::<serde_json::Value>(&r.line)
                    .ok()
                    .and_then(|v| v["rule"].as_str().map(str::to_string))
                    .unwrap_or_default();
                let class = r.case.as_deref().and_then(class).unwrap_or_default();
                *sla.entry((r.kind.clone(), rule, class)).or_insert(0) += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let kinds = self.kinds.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let get = |k: &str| kinds.get(k).copied().unwrap_or(0);
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter(
            &mut out,
            "meshline_events_received_total",
            "Events applied.",
            get("received"),
        );
        counter(
            &mut out,
            "meshline_events_rejected_total",
            "Events rejected (recorded).",
            get("rejected"),
        );
        counter(
            &mut out,
            "meshline_events_duplicate_total",
            "Redeliveries (recorded, ignored).",
            get("duplicate"),
        );
        counter(
            &mut out,
            "meshline_actions_held_total",
            "Actions held for approval.",
            get("held"),
        );
        counter(
            &mut out,
            "meshline_automation_success_total",
            "Action outcomes: succeeded.",
            get("succeeded"),
        );
        counter(
            &mut out,
            "meshline_automation_exception_total",
            "Action outcomes: failed.",
            get("failed"),
        );
        counter(
            &mut out,
            "meshline_breaker_halted_total",
            "Circuit breakers tripped.",
            get("halted"),
        );
        let _ = writeln!(
            out,
            "# HELP meshline_ledger_entries_total Ledger entries by kind.\n# TYPE meshline_ledger_entries_total counter"
        );
        for (k, v) in &kinds {
            let _ = writeln!(
                out,
                "meshline_ledger_entries_total{{kind=\"{}\"}} {v}",
                esc(k)
            );
        }
        let _ = writeln!(
            out,
            "# HELP meshline_sla_total SLA outcomes by policy and case class.\n# TYPE meshline_sla_total counter"
        );
        for ((kind, rule, class), v) in self.sla.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let outcome = kind.trim_start_matches("sla_");
            let _ = writeln!(
                out,
                "meshline_sla_total{{outcome=\"{outcome}\",sla=\"{}\",class=\"{}\"}} {v}",
                esc(rule),
                esc(class)
            );
        }
        let _ = writeln!(
            out,
            "# HELP meshline_breaker_halted Circuit breaker per automation: 1 halted, 0 closed.\n# TYPE meshline_breaker_halted gauge"
        );
        for (a, halted) in self
            .breakers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "meshline_breaker_halted{{automation=\"{}\"}} {}",
                esc(a),
                u64::from(*halted)
            );
        }
        counter(
            &mut out,
            "meshline_http_requests_total",
            "HTTP requests.",
            self.http_requests.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_http_bad_requests_total",
            "HTTP requests answered 4xx.",
            self.http_bad_requests.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP meshline_http_refused_total Requests and event lines refused at the HTTP edge (not applied, not stored), by reason.\n# TYPE meshline_http_refused_total counter"
        );
        for (reason, v) in self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "meshline_http_refused_total{{reason=\"{reason}\"}} {v}"
            );
        }
        counter(
            &mut out,
            "meshline_webhook_unauthorized_total",
            "Webhooks refused: bad, missing or stale signature.",
            self.webhook_unauthorized.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_webhook_unmatched_total",
            "Webhooks whose payload matched no mapping.",
            self.webhook_unmatched.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_outbox_retries_total",
            "HTTP connector attempts that will be retried.",
            self.outbox_retries.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_connector_delivered_total",
            "Actions the HTTP connectors delivered (outcome ActionSucceeded).",
            self.actions_delivered.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_connector_failed_total",
            "Actions the HTTP connectors gave up on (outcome ActionFailed).",
            self.actions_failed.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_outbox_enqueued_total",
            "Commands written to the outbox.",
            self.outbox_enqueued.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_outbox_delivered_total",
            "Commands delivered by connectors.",
            self.outbox_delivered.load(Ordering::Relaxed),
        );
        let gauge = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        };
        gauge(
            &mut out,
            "meshline_outbox_depth",
            "Commands not yet delivered.",
            self.outbox_depth.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "meshline_timers_pending",
            "Timers waiting to fire.",
            self.timers.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "meshline_ready",
            "1 once recovery is done and while commits succeed.",
            u64::from(self.ready.load(Ordering::Relaxed)),
        );
        gauge(
            &mut out,
            "meshline_leader",
            "1 while this node holds the project's lease (applies inputs, fires timers, delivers).",
            u64::from(self.leader.load(Ordering::Relaxed)),
        );
        counter(
            &mut out,
            "meshline_storage_failures_total",
            "Commits that failed (the inputs were refused, the engine rebuilt from the store).",
            self.storage_failures.load(Ordering::Relaxed),
        );
        counter(
            &mut out,
            "meshline_snapshots_total",
            "Engine snapshots stored since the start.",
            self.snapshots.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "meshline_snapshot_bytes",
            "Size of the last engine snapshot.",
            self.snapshot_bytes.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP meshline_snapshot_seconds Time the last engine snapshot took.\n# TYPE meshline_snapshot_seconds gauge\nmeshline_snapshot_seconds {}",
            self.snapshot_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        gauge(
            &mut out,
            "meshline_recovery_replayed_inputs",
            "Inputs replayed at start (after the snapshot, if one was used).",
            self.recovery_replayed.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "meshline_recovery_snapshot_input",
            "The last input of the snapshot the start restored (0: full replay).",
            self.recovery_snapshot.load(Ordering::Relaxed),
        );
        self.apply_seconds
            .write(&mut out, "meshline_apply_seconds", "Engine time per event.");
        self.commit_seconds.write(
            &mut out,
            "meshline_commit_seconds",
            "Time per durable commit (one batch).",
        );
        self.ack_seconds.write(
            &mut out,
            "meshline_ack_seconds",
            "POST /events: receipt to durable acknowledgement.",
        );
        out
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
