//! The console's figures, recomputed off the request path: a thread reads the ledger from
//! a read-only connection every `refresh_seconds` and folds it with the same code as
//! `meshline report` (docs/kpis.md), so pages answer from memory and never wait on the
//! writer (docs/console.md, "How fresh the figures are").

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use meshline_report::{Builder, Options, Report};
use serde_json::Value as Json;

use super::directory::Directory;
use super::incidents::{self, Incident, Incidents};
use crate::reader::Reader;

/// A held action nobody has decided yet.
#[derive(Clone, Debug)]
pub struct OpenHold {
    pub case: String,
    pub request: u64,
    pub automation: String,
    pub action: String,
    pub gates: Vec<String>,
    pub held_at: String,
    /// The action's `amount` argument, when it has one.
    pub amount: Option<String>,
}

/// An SLA clock that has started and not ended.
#[derive(Clone, Debug)]
pub struct RunningClock {
    pub case: String,
    pub policy: String,
    pub started: String,
    pub target: String,
    pub calendar: String,
    pub paused: bool,
    /// When it warned, the due time it named.
    pub warned_due: Option<String>,
}

/// A case owned by a team that nobody has acknowledged yet.
#[derive(Clone, Debug)]
pub struct Unacknowledged {
    pub case: String,
    pub owner: String,
    pub owned_at: String,
    pub acknowledge_by: String,
}

/// An automation of the deciding bundle, with its breaker's state from the ledger.
#[derive(Clone, Debug)]
pub struct AutomationInfo {
    pub name: String,
    pub version: u32,
    pub owner: String,
    /// `live`, `shadow`, `shadow, sample 10%`, `25% of cases`.
    pub rollout: String,
    /// `failures > 5% over 50 runs, halt` or `none`.
    pub breaker: String,
    /// Open since the `at` of the `halted` entry that tripped it, until a `breaker_reset`.
    pub open_since: Option<String>,
}

/// A `deployed` entry: at, from, to, who deployed, the signer (the report's reading, so
/// the console and `meshline report --deployments` agree).
pub use meshline_report::deployments::Deployment;

/// The deciding bundle.
#[derive(Clone, Debug, Default)]
pub struct BundleInfo {
    pub hash: String,
    pub package: String,
    pub version: String,
    pub compiler_version: String,
}

/// Everything the pages show that is not one case.
#[derive(Default)]
pub struct Figures {
    /// (label, report) for today (UTC), the last 7 and the last 30 days.
    pub windows: Vec<(&'static str, Report)>,
    /// Undecided holds, oldest first.
    pub holds: Vec<OpenHold>,
    /// Running clocks: warned ones first by due time, then the others by start.
    pub clocks: Vec<RunningClock>,
    /// Unacknowledged ownerships by their deadline.
    pub unacknowledged: Vec<Unacknowledged>,
    pub bundle: Option<BundleInfo>,
    pub automations: Vec<AutomationInfo>,
    /// Deployments, newest first.
    pub deployments: Vec<Deployment>,
    /// Each automation's recent failures and compensations, newest first.
    pub incidents: BTreeMap<String, Vec<Incident>>,
    /// Every stored bundle's source map, for the case pages' rule locations.
    pub source_maps: meshline_report::explain::SourceMaps,
    pub entries: u64,
    /// When these figures were computed (server clock), and how long that took.
    pub computed_at: Option<Timestamp>,
    pub took: Duration,
}

/// Reads holds out of the ledger as it goes by.
#[derive(Default)]
struct Holds {
    open: BTreeMap<(String, u64), OpenHold>,
}

impl Holds {
    fn push(&mut self, v: &Json) {
        let s = |k: &str| v.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let d = v.get("detail").unwrap_or(&Json::Null);
        let (Some(case), Some(request)) = (
            v.get("case").and_then(Json::as_str),
            d.get("request").and_then(Json::as_u64),
        ) else {
            return;
        };
        let key = (case.to_string(), request);
        match v.get("kind").and_then(Json::as_str) {
            Some("held") => {
                let hold = OpenHold {
                    case: case.to_string(),
                    request,
                    automation: d
                        .get("automation")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                    action: d
                        .get("action")
                        .and_then(Json::as_str)
                        .unwrap_or("")
                        .to_string(),
                    gates: d
                        .get("gates")
                        .and_then(Json::as_array)
                        .map(|g| {
                            g.iter()
                                .filter_map(Json::as_str)
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default(),
                    held_at: s("at"),
                    amount: d
                        .get("args")
                        .and_then(|a| a.get("amount"))
                        .and_then(Json::as_str)
                        .map(str::to_string),
                };
                self.open.insert(key, hold);
            }
            Some("approved" | "denied" | "expired" | "cancelled") => {
                self.open.remove(&key);
            }
            _ => {}
        }
    }
}

/// Reads running clocks and unacknowledged ownerships out of the ledger.
#[derive(Default)]
struct Watch {
    clocks: BTreeMap<(String, String), RunningClock>,
    owned: BTreeMap<String, Unacknowledged>,
}

impl Watch {
    fn push(&mut self, v: &Json) {
        let text = |x: &Json, k: &str| x.get(k).and_then(Json::as_str).unwrap_or("").to_string();
        let Some(case) = v.get("case").and_then(Json::as_str) else {
            return;
        };
        let d = v.get("detail").unwrap_or(&Json::Null);
        let key = (case.to_string(), text(v, "rule"));
        match v.get("kind").and_then(Json::as_str).unwrap_or("") {
            "sla_started" => {
                self.clocks.insert(
                    key.clone(),
                    RunningClock {
                        case: key.0,
                        policy: key.1,
                        started: text(v, "at"),
                        target: text(d, "target"),
                        calendar: text(d, "calendar"),
                        paused: false,
                        warned_due: None,
                    },
                );
            }
            "sla_paused" | "sla_resumed" => {
                if let Some(c) = self.clocks.get_mut(&key) {
                    c.paused = v.get("kind").and_then(Json::as_str) == Some("sla_paused");
                }
            }
            "sla_warned" => {
                if let Some(c) = self.clocks.get_mut(&key) {
                    c.warned_due = d.get("due").and_then(Json::as_str).map(str::to_string);
                }
            }
            "sla_met" | "sla_breached" => {
                self.clocks.remove(&key);
            }
            "owned" => {
                self.owned.insert(
                    case.to_string(),
                    Unacknowledged {
                        case: case.to_string(),
                        owner: text(d, "owner"),
                        owned_at: text(v, "at"),
                        acknowledge_by: text(d, "acknowledge_by"),
                    },
                );
            }
            "acknowledged" => {
                self.owned.remove(case);
            }
            _ => {}
        }
    }
}

fn percent(hundredths: u32) -> String {
    let whole = hundredths / 100;
    match hundredths % 100 {
        0 => format!("{whole}%"),
        frac => format!("{whole}.{frac:02}%"),
    }
}

/// The deciding bundle, its automations, and every stored bundle's source map.
fn bundles(
    reader: &Reader,
) -> Result<
    (
        Option<BundleInfo>,
        Vec<AutomationInfo>,
        meshline_report::explain::SourceMaps,
    ),
    String,
> {
    use meshline_runtime::ir::{Program, Rollout};
    let mut maps = meshline_report::explain::SourceMaps::new();
    for (hash, bytes) in reader.bundles()? {
        if let Ok((manifest, _)) = meshline_runtime::bundle::read_manifest(&bytes) {
            maps.insert(hash, manifest.sources);
        }
    }
    let Some((hash, bytes)) = reader.current_bundle()? else {
        return Ok((None, Vec::new(), maps));
    };
    let (manifest, program, _) =
        meshline_runtime::bundle::decode::<Program>(&bytes).map_err(|e| e.to_string())?;
    let automations = program
        .automations
        .iter()
        .map(|a| AutomationInfo {
            name: a.name.clone(),
            version: a.version,
            owner: program
                .teams
                .get(a.owner as usize)
                .map_or_else(String::new, |t| t.name.clone()),
            rollout: match &a.rollout {
                Rollout::Live => "live".into(),
                Rollout::Shadow { sample: None, .. } => "shadow".into(),
                Rollout::Shadow {
                    sample: Some(p), ..
                } => format!("shadow, sample {}", percent(*p)),
                Rollout::Percent { percent: p, .. } => format!("{} of cases", percent(*p)),
            },
            breaker: a.breaker.as_ref().map_or("none".into(), |b| {
                format!(
                    "failures > {} over {} runs{}",
                    percent(b.threshold),
                    b.window,
                    if b.halt { ", halt" } else { "" }
                )
            }),
            open_since: None,
        })
        .collect();
    Ok((
        Some(BundleInfo {
            hash,
            package: manifest.package,
            version: manifest.version,
            compiler_version: manifest.compiler_version,
        }),
        automations,
        maps,
    ))
}

/// What the figures are folded from, kept between refreshes: each pass reads only the
/// entries written since the last one. The windows are whole UTC days (today; the last 7 and
/// 30 days, today included), so their start moves only at midnight, when the fold restarts.
pub struct Follower {
    day: i64,
    after: u64,
    entries: u64,
    windows: Vec<(&'static str, Builder)>,
    holds: Holds,
    watch: Watch,
    /// Breakers: open from the `halted` entry that trips one (it names `failures`) until
    /// `breaker_reset`.
    open_since: BTreeMap<String, String>,
    deployments: Vec<Deployment>,
    incidents: Incidents,
}

impl Follower {
    fn new(day: i64) -> Follower {
        let start = |days_back: i64| {
            Timestamp::from_second(day.saturating_sub(days_back).saturating_mul(86_400))
                .unwrap_or(Timestamp::UNIX_EPOCH)
        };
        let windows = [("today", 0), ("7 days", 6), ("30 days", 29)]
            .into_iter()
            .map(|(label, back)| {
                (
                    label,
                    Builder::new(Options {
                        since: Some(start(back)),
                        ..Options::default()
                    }),
                )
            })
            .collect();
        Follower {
            day,
            after: 0,
            entries: 0,
            windows,
            holds: Holds::default(),
            watch: Watch::default(),
            open_since: BTreeMap::new(),
            deployments: Vec::new(),
            incidents: Incidents::default(),
        }
    }

    /// Fold one ledger line.
    fn push(&mut self, seq: u64, line: &str) -> Result<(), String> {
        self.entries += 1;
        for (_, b) in &mut self.windows {
            b.push_line("ledger", seq, line)
                .map_err(|e| e.to_string())?;
        }
        if line.contains("\"kind\":\"halted\"")
            || line.contains("\"kind\":\"breaker_reset\"")
            || line.contains("\"kind\":\"deployed\"")
        {
            if let Ok(v) = serde_json::from_str::<Json>(line) {
                let text =
                    |x: &Json, k: &str| x.get(k).and_then(Json::as_str).unwrap_or("").to_string();
                let d = v.get("detail").unwrap_or(&Json::Null);
                match v.get("kind").and_then(Json::as_str) {
                    Some("halted") if d.get("failures").is_some() => {
                        self.open_since.insert(text(&v, "rule"), text(&v, "at"));
                    }
                    Some("breaker_reset") => {
                        self.open_since.remove(&text(&v, "rule"));
                    }
                    Some("deployed") => self.deployments.extend(Deployment::from_entry(&v)),
                    _ => {}
                }
            }
            return Ok(());
        }
        let watched = line.contains("\"kind\":\"sla_")
            || line.contains("\"kind\":\"owned\"")
            || line.contains("\"kind\":\"acknowledged\"");
        let incident = incidents::concerns(line);
        if (watched || incident || line.contains("\"request\""))
            && let Ok(v) = serde_json::from_str::<Json>(line)
        {
            if incident {
                self.incidents.push(&v);
            }
            self.holds.push(&v);
            if watched {
                self.watch.push(&v);
            }
        }
        Ok(())
    }

    /// Read what was written since the last pass (from the start on a new day), then the
    /// figures as of now.
    fn pass(&mut self, reader: &Reader, now: Timestamp) -> Result<Figures, String> {
        let started = Instant::now();
        let day = now.as_second().div_euclid(86_400);
        if day != self.day {
            *self = Follower::new(day);
        }
        loop {
            let chunk = reader.ledger_after(self.after, 10_000)?;
            let Some(last) = chunk.last().map(|(seq, _)| *seq) else {
                break;
            };
            for (seq, line) in &chunk {
                self.push(*seq, line)?;
            }
            self.after = last;
        }
        let (bundle, mut automations, source_maps) = bundles(reader)?;
        for a in &mut automations {
            a.open_since = self.open_since.get(&a.name).cloned();
        }
        let mut holds: Vec<OpenHold> = self.holds.open.values().cloned().collect();
        holds.sort_by(|a, b| (&a.held_at, &a.case).cmp(&(&b.held_at, &b.case)));
        let mut clocks: Vec<RunningClock> = self.watch.clocks.values().cloned().collect();
        // Warned clocks first, soonest due first; then the rest, oldest first.
        clocks.sort_by(|a, b| {
            (a.warned_due.is_none(), &a.warned_due, &a.started, &a.case).cmp(&(
                b.warned_due.is_none(),
                &b.warned_due,
                &b.started,
                &b.case,
            ))
        });
        let mut unacknowledged: Vec<Unacknowledged> = self.watch.owned.values().cloned().collect();
        unacknowledged
            .sort_by(|a, b| (&a.acknowledge_by, &a.case).cmp(&(&b.acknowledge_by, &b.case)));
        let mut deployments = self.deployments.clone();
        deployments.reverse();
        Ok(Figures {
            bundle,
            automations,
            deployments,
            source_maps,
            clocks,
            unacknowledged,
            windows: self
                .windows
                .iter()
                .map(|(label, b)| (*label, b.report()))
                .collect(),
            holds,
            incidents: self.incidents.recent(),
            entries: self.entries,
            computed_at: Some(now),
            took: started.elapsed(),
        })
    }
}

/// The latest figures, shared with the pages, and the fold they come from.
pub struct Shared {
    pub figures: RwLock<Arc<Figures>>,
    follower: Mutex<Follower>,
    /// The cases page's directory, followed by the same thread.
    pub directory: RwLock<Directory>,
}

impl Shared {
    /// `client_fields`: where the events name their client (`[console] client_fields`).
    pub fn new(client_fields: Vec<String>) -> Shared {
        Shared {
            figures: RwLock::new(Arc::new(Figures::default())),
            // A day before any ledger: the first pass starts the fold for today.
            follower: Mutex::new(Follower::new(-1)),
            directory: RwLock::new(Directory::new(client_fields)),
        }
    }
}

/// Bring the figures up to date now (also after an approval, so the page that follows
/// shows it).
pub fn refresh(reader: &Reader, shared: &Shared) -> Result<(), String> {
    // Whole seconds: pages show this instant to people.
    let now = Timestamp::now();
    let now = Timestamp::from_second(now.as_second()).unwrap_or(now);
    let figures = shared
        .follower
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pass(reader, now)?;
    *shared.figures.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(figures);
    Directory::follow(&shared.directory, reader)
}

/// Keep `shared` fresh until the console is dropped: every `every`, or every ten times the
/// last pass took if that is longer (a large ledger must not keep a core busy).
pub fn follow(reader: Arc<Reader>, shared: Weak<Shared>, every: Duration) {
    std::thread::Builder::new()
        .name("console-figures".into())
        .spawn(move || {
            loop {
                let Some(target) = shared.upgrade() else {
                    return;
                };
                let pause = match refresh(&reader, &target) {
                    Ok(()) => {
                        let took = target.figures.read().map(|f| f.took).unwrap_or_default();
                        every.max(took * 10)
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "console: figures not refreshed");
                        every
                    }
                };
                drop(target);
                std::thread::sleep(pause);
            }
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::warn!(error = %e, "console: no figures thread"));
}
