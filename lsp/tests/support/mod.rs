//! A minimal LSP client for tests: it runs the server in-process over an in-memory pipe,
//! frames JSON-RPC messages with `Content-Length` headers, and keeps the notifications the
//! server sends (diagnostics, log messages) for inspection.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tokio::io::{
    AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, DuplexStream, ReadHalf, WriteHalf,
};
use tokio::sync::mpsc;

pub struct Client {
    to_server: WriteHalf<DuplexStream>,
    from_server: mpsc::UnboundedReceiver<Value>,
    pending: VecDeque<Value>,
    next_id: i64,
    pub root: PathBuf,
    /// The server's answer to `initialize`.
    pub initialize_result: Value,
    versions: std::collections::HashMap<String, i32>,
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

/// The example project the tests open.
pub fn example_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/agency-support")
        .canonicalize()
        .expect("the agency-support example exists")
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Line and UTF-16 column of the `nth` occurrence of `needle` in `text`, plus `shift`
/// bytes.
pub fn pos(text: &str, needle: &str, nth: usize, shift: usize) -> Value {
    let at = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` #{nth} not in text"))
        .0
        + shift;
    let line = text[..at].matches('\n').count();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..at].encode_utf16().count();
    json!({ "line": line, "character": col })
}

impl Client {
    pub async fn start(root: PathBuf) -> Client {
        let (client_end, server_end) = tokio::io::duplex(1 << 20);
        let (server_read, server_write) = tokio::io::split(server_end);
        tokio::spawn(meshline_lsp::serve(server_read, server_write));
        let (read_half, write_half) = tokio::io::split(client_end);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut r = BufReader::new(read_half);
            while let Some(msg) = read_message(&mut r).await {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        let mut c = Client {
            to_server: write_half,
            from_server: rx,
            pending: VecDeque::new(),
            next_id: 1,
            root,
            initialize_result: Value::Null,
            versions: Default::default(),
        };
        let root_uri = uri(&c.root);
        let init = c
            .request(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": root_uri,
                    "capabilities": {
                        "textDocument": { "publishDiagnostics": { "relatedInformation": true } }
                    }
                }),
            )
            .await;
        assert!(init.get("result").is_some(), "{init}");
        c.initialize_result = init["result"].clone();
        c.notify("initialized", json!({})).await;
        c
    }

    async fn send(&mut self, msg: Value) {
        let body = msg.to_string();
        let frame = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        self.to_server
            .write_all(frame.as_bytes())
            .await
            .expect("server pipe open");
    }

    pub async fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }))
            .await;
    }

    /// Send a request and wait for its response (the whole message: `result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }))
            .await;
        loop {
            let msg = self.next().await;
            if msg.get("id") == Some(&json!(id)) && msg.get("method").is_none() {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    async fn next(&mut self) -> Value {
        tokio::time::timeout(std::time::Duration::from_secs(60), self.from_server.recv())
            .await
            .expect("the server answers within a minute")
            .expect("the server is running")
    }

    /// Wait for the next diagnostics published for `uri` (earlier ones are skipped).
    pub async fn diagnostics(&mut self, uri: &str) -> Value {
        if let Some(i) = self.pending.iter().position(|m| is_diags_for(m, uri)) {
            let m = self.pending.remove(i).expect("index is valid");
            return m["params"].clone();
        }
        loop {
            let msg = self.next().await;
            if is_diags_for(&msg, uri) {
                return msg["params"].clone();
            }
            self.pending.push_back(msg);
        }
    }

    pub fn file_uri(&self, rel: &str) -> String {
        uri(&self.root.join(rel))
    }

    pub fn text(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root.join(rel)).expect("example file")
    }

    /// Open a project file with its text on disk (or `text`), and return its diagnostics.
    pub async fn open(&mut self, rel: &str, text: Option<String>) -> Value {
        let uri = self.file_uri(rel);
        let text = text.unwrap_or_else(|| self.text(rel));
        self.versions.insert(uri.clone(), 1);
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "mesh", "version": 1, "text": text } }),
        )
        .await;
        self.diagnostics(&uri).await
    }

    /// Replace a document's text and return its new diagnostics.
    pub async fn change(&mut self, rel: &str, text: &str) -> Value {
        let uri = self.file_uri(rel);
        let v = self.versions.entry(uri.clone()).or_insert(1);
        *v += 1;
        let version = *v;
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": { "uri": uri, "version": version },
                "contentChanges": [{ "text": text }]
            }),
        )
        .await;
        loop {
            let d = self.diagnostics(&uri).await;
            if d["version"] == json!(version) {
                return d;
            }
        }
    }

    /// A request about a position in a document.
    pub async fn at(&mut self, method: &str, rel: &str, pos: Value, extra: Value) -> Value {
        let mut params = json!({ "textDocument": { "uri": self.file_uri(rel) }, "position": pos });
        if let (Some(p), Some(e)) = (params.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                p.insert(k.clone(), v.clone());
            }
        }
        self.request(method, params).await
    }

    /// Render a response for a snapshot, with the project's location replaced by `ROOT`.
    pub fn show(&self, v: &Value) -> String {
        let s = serde_json::to_string_pretty(v).expect("json");
        s.replace(&uri(&self.root), "file:///ROOT")
    }
}

fn is_diags_for(msg: &Value, uri: &str) -> bool {
    msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri
}
