//! `cargo run -p meshline-benches --release --bin lsp_bench [FILES] [ACCOUNTS] [RUNS]`
//!
//! Drives the language server in-process over JSON-RPC (an in-memory pipe, the same
//! framing an editor uses) on a generated project written to a temporary folder (default
//! 200 files holding 290 account playbooks, about 50,000 lines), and measures:
//! - edit → diagnostics: from sending a one-character `didChange` inside a rule body to
//!   receiving the `publishDiagnostics` for that version;
//! - completion: from sending `textDocument/completion` after `ticket.` to its answer;
//!   and in an expression where an enum is expected (the re-parse-and-check path).
//!
//! Prints median and p95; the numbers go to docs/performance.md.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::{
    AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf,
};
use tokio::sync::mpsc;

struct Client {
    out: WriteHalf<DuplexStream>,
    rx: mpsc::UnboundedReceiver<Value>,
    next_id: i64,
}

async fn read_message(r: &mut BufReader<ReadHalf<DuplexStream>>) -> Option<Value> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length: ") {
            len = v.parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).await.ok()?;
    serde_json::from_slice(&buf).ok()
}

impl Client {
    fn start() -> Client {
        let (client_end, server_end) = tokio::io::duplex(1 << 22);
        let (sr, sw) = tokio::io::split(server_end);
        tokio::spawn(meshline_lsp::serve(sr, sw));
        let (r, w) = tokio::io::split(client_end);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(r);
            while let Some(m) = read_message(&mut r).await {
                if tx.send(m).is_err() {
                    break;
                }
            }
        });
        Client {
            out: w,
            rx,
            next_id: 1,
        }
    }
    async fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.out.write_all(frame.as_bytes()).await.expect("pipe");
    }
    async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}))
            .await;
    }
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
            .await;
        loop {
            let m = self.rx.recv().await.expect("server running");
            if m.get("id") == Some(&json!(id)) && m.get("method").is_none() {
                return m;
            }
        }
    }
    /// Wait for diagnostics of `uri` at `version`.
    async fn diagnostics(&mut self, uri: &str, version: i32) -> Value {
        loop {
            let m = self.rx.recv().await.expect("server running");
            if m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
            {
                return m["params"].clone();
            }
        }
    }
}

/// Median and p95 (ms) of `runs` completion requests at `pos` (after 5 warm-up ones), each
/// checked to offer `label`.
async fn time_completion(
    c: &mut Client,
    uri: &str,
    pos: &Value,
    runs: usize,
    label: &str,
) -> (f64, f64) {
    let mut times = Vec::new();
    for _ in 0..runs + 5 {
        let t = Instant::now();
        let r = c
            .request(
                "textDocument/completion",
                json!({"textDocument": {"uri": uri}, "position": pos}),
            )
            .await;
        times.push(t.elapsed());
        assert!(
            r["result"]
                .as_array()
                .is_some_and(|a| a.iter().any(|i| i["label"] == label)),
            "{r}"
        );
    }
    stats(times.split_off(5))
}

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p95 = v[((v.len() * 95).div_ceil(100))
        .saturating_sub(1)
        .min(v.len() - 1)];
    (ms(v[v.len() / 2]), ms(p95))
}

fn position(text: &str, at: usize) -> Value {
    let line = text[..at].matches('\n').count();
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": text[start..at].encode_utf16().count()})
}

fn main() {
    let mut args = std::env::args().skip(1);
    let files: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let accounts: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(290);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let generated = meshline_benches::generate_in_files(files, accounts);
    let lines = meshline_benches::line_count(&generated);
    let root = std::env::temp_dir().join(format!("meshline-lsp-bench-{}", std::process::id()));
    for (rel, text) in &generated {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
    let mesh_files = generated
        .iter()
        .filter(|(p, _)| p.ends_with(".mesh"))
        .count();
    println!(
        "project: {mesh_files} files, {lines} lines (in {})",
        root.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(bench(&root, runs));
    let _ = std::fs::remove_dir_all(&root);
}

async fn bench(root: &Path, runs: usize) {
    let mut c = Client::start();
    let root_uri = format!("file://{}", root.display());
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": root_uri, "capabilities": {}}),
    )
    .await;
    c.notify("initialized", json!({})).await;
    let rel = "rules/accounts/f0100.mesh";
    let uri = format!("{root_uri}/{rel}");
    let mut text = std::fs::read_to_string(root.join(rel)).expect("file");

    let t = Instant::now();
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "mesh", "version": 1, "text": text}}),
    )
    .await;
    let first = c.diagnostics(&uri, 1).await;
    assert_eq!(
        first["diagnostics"],
        json!([]),
        "generated project checks clean"
    );
    println!(
        "open (load the project, cold check, first diagnostics): {:.1} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );

    // One-character edits inside a rule body: the `key` of a route alternates between
    // `ticket.type` and `ticket.typ` (an error, then fixed again).
    let anchor = text
        .find("key ticket.client_id, ticket.type")
        .expect("a route key")
        + "key ticket.client_id, ticket.typ".len();
    let mut version = 1;
    let mut edits = Vec::new();
    let mut full = Vec::new();
    for i in 0..runs + 5 {
        version += 1;
        if i % 2 == 0 {
            text.remove(anchor);
        } else {
            text.insert(anchor, 'e');
        }
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        )
        .await;
        let d = c.diagnostics(&uri, version).await;
        let elapsed = t.elapsed();
        let n = d["diagnostics"].as_array().map_or(0, Vec::len);
        assert_eq!(n, usize::from(i % 2 == 0), "edit {i}: {d}");
        // The second round: the same diagnostics with the safety analysis rerun.
        let d = c.diagnostics(&uri, version).await;
        let complete = t.elapsed();
        let n = d["diagnostics"].as_array().map_or(0, Vec::len);
        assert_eq!(n, usize::from(i % 2 == 0), "edit {i} (complete): {d}");
        if i >= 5 {
            edits.push(elapsed);
            full.push(complete);
        }
    }
    let (med, p95) = stats(edits);
    println!(
        "edit -> diagnostics ({runs} one-character edits): median {med:.2} ms, p95 {p95:.2} ms"
    );
    let (med, p95) = stats(full);
    println!(
        "edit -> diagnostics with the safety analysis rerun (second round): median {med:.2} ms, p95 {p95:.2} ms"
    );

    // One-character edits that change what the module declares (a fixture's name):
    // the project index changes, so every module is checked again.
    let anchor = text.find("_small_one =").expect("a fixture") + "_small_one".len();
    let mut sig_edits = Vec::new();
    let sig_runs = runs.min(20);
    for i in 0..sig_runs + 2 {
        version += 1;
        if i % 2 == 0 {
            text.insert(anchor, 'x');
        } else {
            text.remove(anchor);
        }
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
        )
        .await;
        c.diagnostics(&uri, version).await;
        if i >= 2 {
            sig_edits.push(t.elapsed());
        }
        c.diagnostics(&uri, version).await;
    }
    let (med, p95) = stats(sig_edits);
    println!(
        "edit -> diagnostics, declaration renamed ({sig_runs} edits): median {med:.2} ms, p95 {p95:.2} ms"
    );

    // Completion after `ticket.` (members of a record) in a route condition.
    let at = text
        .find("_mine(ticket) and class")
        .expect("a route condition");
    let member_at = text[at..].find("ticket)").expect("ticket") + at + "ticket".len();
    text.insert(member_at, '.');
    version += 1;
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    )
    .await;
    c.diagnostics(&uri, version).await;
    let pos = position(&text, member_at + 1);
    let (med, p95) = time_completion(&mut c, &uri, &pos, runs, "tier").await;
    println!("completion after `ticket.` ({runs} requests): median {med:.2} ms, p95 {p95:.2} ms");

    // Completion where an enum is expected (`class == |`), with the `.` removed again.
    text.remove(member_at);
    version += 1;
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    )
    .await;
    c.diagnostics(&uri, version).await;
    let at = text.find("class == Billing").expect("class ==") + "class == ".len();
    let pos = position(&text, at);
    let (med, p95) = time_completion(&mut c, &uri, &pos, runs, "Incident").await;
    println!(
        "completion of an expected enum ({runs} requests): median {med:.2} ms, p95 {p95:.2} ms"
    );
    c.request("shutdown", Value::Null).await;
}
