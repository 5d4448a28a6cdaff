//! Shared helpers: running the `meshline` binary, building projects in-process, driving an
//! [`Engine`] event by event, and writing small throw-away projects.

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use meshline_runtime::engine::Command as Cmd;
use meshline_runtime::ledger::{self, Entry};
use meshline_runtime::{Engine, bundle, ir};
use serde_json::{Value, json};

// --- paths -----------------------------------------------------------------------------

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("cli/ has a parent")
        .to_path_buf()
}

pub fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

/// Names of the example projects that have `events/sample.jsonl`, sorted.
pub fn examples_with_samples() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(repo().join("examples"))
        .expect("examples/ exists")
        .flatten()
        .filter(|e| e.path().join("events/sample.jsonl").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

pub fn sample_events(name: &str) -> PathBuf {
    example(name).join("events/sample.jsonl")
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("meshline-cli-test")
        .tempdir()
        .expect("create a temporary directory")
}

// --- the binary ------------------------------------------------------------------------

/// What one `meshline` invocation did.
#[derive(Debug)]
pub struct Out {
    /// Exit code (`-1` when killed by a signal).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Fails if the process panicked (Rust's panic message on stderr, or exit code 101).
    pub fn assert_no_panic(&self, what: &str) -> &Self {
        assert!(
            !self.stderr.contains("panicked") && self.code != 101,
            "{what}: the process panicked:\n{}",
            self.stderr
        );
        self
    }

    pub fn assert_code(&self, code: i32, what: &str) -> &Self {
        self.assert_no_panic(what);
        assert_eq!(
            self.code, code,
            "{what}: exit code {} (expected {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }
}

/// Runs `meshline ARGS…` with an empty standard input.
pub fn meshline<I, S>(args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    meshline_stdin(args, b"")
}

/// Runs `meshline ARGS…` feeding `stdin` to it.
pub fn meshline_stdin<I, S>(args: I, stdin: &[u8]) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    meshline_full(None, args, stdin)
}

/// Runs `meshline ARGS…` in the working directory `cwd`.
pub fn meshline_in<I, S>(cwd: &Path, args: I) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    meshline_full(Some(cwd), args, b"")
}

fn meshline_full<I, S>(cwd: Option<&Path>, args: I, stdin: &[u8]) -> Out
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshline"));
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    let mut child = cmd
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the meshline binary");
    {
        let mut input = child.stdin.take().expect("stdin is piped");
        // The process may exit before reading everything (e.g. a bad bundle); ignore EPIPE.
        let _ = input.write_all(stdin);
    }
    let output = child.wait_with_output().expect("wait for meshline");
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Files written by one `meshline run`.
pub struct RunFiles {
    pub out: Out,
    pub ledger: String,
    pub commands: String,
}

/// `meshline run --bundle B --events E --ledger L --commands C [--until U]` in `dir`.
pub fn run_cli(dir: &Path, bundle: &Path, events: &Path, until: Option<&str>) -> RunFiles {
    let ledger = dir.join("ledger.jsonl");
    let commands = dir.join("commands.jsonl");
    let mut args: Vec<&OsStr> = vec![
        "run".as_ref(),
        "--bundle".as_ref(),
        bundle.as_os_str(),
        "--events".as_ref(),
        events.as_os_str(),
        "--ledger".as_ref(),
        ledger.as_os_str(),
        "--commands".as_ref(),
        commands.as_os_str(),
    ];
    if let Some(u) = until {
        args.push("--until".as_ref());
        args.push(u.as_ref());
    }
    let out = meshline(&args);
    out.assert_code(0, "meshline run");
    RunFiles {
        out,
        ledger: std::fs::read_to_string(&ledger).expect("the ledger file was written"),
        commands: std::fs::read_to_string(&commands).expect("the commands file was written"),
    }
}

/// `meshline build DIR -o OUT`; panics unless it succeeds.
pub fn build_cli(project: &Path, out: &Path) -> Vec<u8> {
    meshline([
        "build".as_ref(),
        project.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ])
    .assert_code(0, "meshline build");
    std::fs::read(out).expect("the bundle was written")
}

// --- in-process ------------------------------------------------------------------------

/// Builds a project in-process; panics with the diagnostics when it has errors.
pub fn build(project: &Path) -> Vec<u8> {
    let out = meshline_compiler::build_path(project)
        .unwrap_or_else(|e| panic!("cannot load {}: {e}", project.display()));
    match out.bundle {
        Some(b) => b,
        None => {
            let text = meshline_compiler::diagnostics::render_ariadne::render_all(
                &out.check.diagnostics,
                &out.check.sources(),
                false,
            );
            panic!("{} does not build:\n{text}", project.display())
        }
    }
}

/// The refunds example's bundle, built once per test binary.
pub fn refunds_bundle() -> &'static [u8] {
    static BUNDLE: OnceLock<Vec<u8>> = OnceLock::new();
    BUNDLE.get_or_init(|| build(&example("refunds")))
}

/// A fresh engine for a bundle.
pub fn engine(bytes: &[u8]) -> Engine {
    let (_manifest, program, hash) =
        bundle::decode::<ir::Program>(bytes).expect("the bundle decodes");
    Engine::new(program, &hash).expect("the engine loads")
}

pub fn ts(s: &str) -> jiff::Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {s:?} in a test: {e}"))
}

/// An engine plus everything it has written so far, drained after every step.
pub struct Lab {
    pub engine: Engine,
    pub entries: Vec<Entry>,
    pub commands: Vec<Cmd>,
}

impl Lab {
    pub fn new(bytes: &[u8]) -> Lab {
        Lab {
            engine: engine(bytes),
            entries: Vec::new(),
            commands: Vec::new(),
        }
    }

    pub fn refunds() -> Lab {
        Lab::new(refunds_bundle())
    }

    fn take(&mut self) -> Vec<Entry> {
        let (entries, commands) = self.engine.drain();
        self.entries.extend(entries.iter().cloned());
        self.commands.extend(commands);
        entries
    }

    /// Applies one event line; returns the entries it wrote (timers that fired first
    /// included).
    pub fn send(&mut self, line: &str) -> Vec<Entry> {
        self.engine.apply_line(line);
        self.take()
    }

    /// Advances the clock; returns the entries the timers wrote.
    pub fn advance(&mut self, to: &str) -> Vec<Entry> {
        self.engine.advance_to(ts(to));
        self.take()
    }

    /// Entries of one kind on one case.
    pub fn of(&self, case: &str, kind: &str) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| e.case.as_deref() == Some(case) && e.kind == kind)
            .collect()
    }

    /// The idempotency key of the latest action command on a case for `connector.action`.
    pub fn key_of(&self, case: &str, action: &str) -> String {
        let (connector, name) = action.split_once('.').expect("connector.action");
        self.commands
            .iter()
            .rev()
            .find(|c| {
                c.body["kind"] == "action"
                    && c.body["case"] == case
                    && c.body["connector"] == connector
                    && c.body["action"] == name
            })
            .and_then(|c| c.body["key"].as_str())
            .unwrap_or_else(|| panic!("no {action} command on {case}:\n{}", self.dump()))
            .to_string()
    }

    /// The ledger so far, one line per entry (for failure messages).
    pub fn dump(&self) -> String {
        self.entries
            .iter()
            .map(|e| {
                format!(
                    "{} {} {} {} {}",
                    e.seq,
                    e.at,
                    e.case.as_deref().unwrap_or("-"),
                    e.kind,
                    e.detail
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn ledger_text(&self) -> String {
        self.entries
            .iter()
            .map(|e| ledger::to_line(e) + "\n")
            .collect()
    }
}

/// `(kind, rule)` of each entry, for compact assertions.
pub fn kinds(entries: &[Entry]) -> Vec<(String, Option<String>)> {
    entries
        .iter()
        .map(|e| (e.kind.clone(), e.rule.clone()))
        .collect()
}

pub fn kind_list(entries: &[Entry]) -> Vec<&str> {
    entries.iter().map(|e| e.kind.as_str()).collect()
}

// --- event lines -----------------------------------------------------------------------

pub fn envelope(id: &str, ty: &str, at: &str, case: &str, data: Value) -> String {
    json!({ "id": id, "type": ty, "at": at, "case": case, "data": data }).to_string()
}

/// A `std.helpdesk.Ticket` as JSON.
pub fn ticket(case: &str, tags: &[&str], priority: &str, status: &str) -> Value {
    json!({
        "id": case, "type": "billing", "subject": "Please help", "tags": tags,
        "status": status, "priority": priority, "requester": "customer@client.example",
    })
}

pub fn ticket_created(id: &str, at: &str, case: &str, tags: &[&str], priority: &str) -> String {
    envelope(
        id,
        "TicketCreated",
        at,
        case,
        json!({ "ticket": ticket(case, tags, priority, "New"), "channel": "Email" }),
    )
}

/// A `std.billing.RefundRequested` for `amount` (e.g. `"480.00 USD"`).
pub fn refund_requested(id: &str, at: &str, case: &str, amount: &str, by: &str) -> String {
    envelope(
        id,
        "RefundRequested",
        at,
        case,
        json!({
            "charge": {
                "id": format!("ch_{case}"), "customer": format!("cus_{case}"),
                "amount": amount, "amount_refunded": "0.00 USD", "status": "Succeeded",
                "created_at": "2026-02-01T00:00:00Z",
            },
            "amount": amount, "refund_reason": "RequestedByCustomer", "requested_by": by,
        }),
    )
}

/// `ApprovalGranted` (or `ApprovalDenied`) of `gate` by `by`.
pub fn approval(id: &str, at: &str, case: &str, granted: bool, gate: &str, by: &str) -> String {
    let ty = if granted {
        "ApprovalGranted"
    } else {
        "ApprovalDenied"
    };
    envelope(id, ty, at, case, json!({ "approval": gate, "by": by }))
}

pub fn action_succeeded(id: &str, at: &str, case: &str, key: &str, action: &str) -> String {
    envelope(
        id,
        "ActionSucceeded",
        at,
        case,
        json!({ "key": key, "action": action }),
    )
}

// --- projects on disk ------------------------------------------------------------------

/// Writes a project (`meshline.toml` plus `rules/FILE` for each `(FILE, TEXT)`) into a new
/// temporary directory.
pub fn project(name: &str, files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempdir();
    std::fs::write(
        dir.path().join("meshline.toml"),
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n"),
    )
    .expect("write meshline.toml");
    for (file, text) in files {
        let path = dir.path().join("rules").join(file);
        std::fs::create_dir_all(path.parent().expect("rules/ dir")).expect("mkdir rules");
        std::fs::write(path, text).expect("write a module");
    }
    dir
}

// --- ledger text -----------------------------------------------------------------------

/// A ledger line without its `bundle`, `prev` and `hash` fields (for readable snapshots).
/// Panics unless the line ends exactly with those three 64-hex fields.
pub fn redact(line: &str) -> String {
    let cut = line
        .rfind(",\"bundle\":\"")
        .unwrap_or_else(|| panic!("no bundle field in {line}"));
    let tail = &line[cut..];
    let hex64 = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    let parts: Vec<&str> = tail
        .trim_start_matches(",\"bundle\":\"")
        .trim_end_matches("\"}")
        .split("\",\"prev\":\"")
        .flat_map(|s| s.split("\",\"hash\":\""))
        .collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| hex64(p)),
        "unexpected ledger line tail: {tail}"
    );
    format!("{}}}", &line[..cut])
}

/// Parses every line of a ledger file.
pub fn parse_ledger(text: &str) -> Vec<Entry> {
    text.lines()
        .map(|l| ledger::from_line(l).unwrap_or_else(|e| panic!("bad ledger line {l}: {e}")))
        .collect()
}

/// The non-blank lines of an events file.
pub fn event_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// The entries that answer an input line: `received`, `rejected` or `duplicate`.
pub fn is_intake(kind: &str) -> bool {
    matches!(kind, "received" | "rejected" | "duplicate")
}
