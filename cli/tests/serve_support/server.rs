//! A `meshline serve` process on a fresh state for tests: build the example bundle, write the
//! configuration, start and wait until ready, kill or stop, export the state, and replay the
//! export with `meshline run`.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{request, root};

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

pub fn http(port: u16, method: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    request(port, method, path, "", body)
}

pub struct Server {
    pub dir: tempfile::TempDir,
    pub bundle: PathBuf,
    pub port: u16,
    /// `--state`: the SQLite file `state.sqlite` in `dir`, or a PostgreSQL URL.
    pub state: String,
    /// Every process started, killed when the test ends (even by a panic).
    pids: std::sync::Mutex<Vec<u32>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        for pid in self.pids.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Server {
    pub fn new(config: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("agency.meshb");
        let st = Command::new(BIN)
            .arg("build")
            .arg(root().join("examples/agency-support"))
            .arg("-o")
            .arg(&bundle)
            .output()
            .unwrap();
        assert!(st.status.success());
        std::fs::write(dir.path().join("serve.toml"), config).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let state = dir.path().join("state.sqlite").display().to_string();
        Server {
            dir,
            bundle,
            port,
            state,
            pids: Default::default(),
        }
    }

    /// A server whose `--state` is `state` (a PostgreSQL URL).
    pub fn with_state(config: &str, state: &str) -> Server {
        let mut s = Server::new(config);
        s.state = state.to_string();
        s
    }

    /// Another node on the same state (several nodes, docs/deploy.md): listening on
    /// `port`, its log in `log`; waits until it is ready.
    pub fn start_node(&self, port: u16, log: &Path) -> Child {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let mut child = Command::new(BIN)
            .arg("serve")
            .arg("--bundle")
            .arg(&self.bundle)
            .arg("--state")
            .arg(&self.state)
            .arg("--config")
            .arg(self.path("serve.toml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .unwrap();
        self.pids.lock().unwrap().push(child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((200, _)) = http(port, "GET", "/readyz", b"") {
                return child;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "node on port {port} did not become ready:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn start(&self) -> Child {
        self.start_with_env(&[])
    }

    pub fn start_with_env(&self, env: &[(String, String)]) -> Child {
        self.start_with(&self.bundle, env)
    }

    pub fn start_with(&self, bundle: &Path, env: &[(String, String)]) -> Child {
        let mut child = Command::new(BIN)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .arg("serve")
            .arg("--bundle")
            .arg(bundle)
            .arg("--state")
            .arg(&self.state)
            .arg("--config")
            .arg(self.path("serve.toml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.pids.lock().unwrap().push(child.id());
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok((200, _)) = http(self.port, "GET", "/readyz", b"") {
                return child;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("serve did not become ready");
    }

    pub fn forget(&self, child: &Child) {
        self.pids.lock().unwrap().retain(|p| *p != child.id());
    }

    /// SIGKILL.
    pub fn kill(&self, mut child: Child) {
        child.kill().unwrap();
        child.wait().unwrap();
        self.forget(&child);
    }

    pub fn stop(&self, mut child: Child) {
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
        assert!(child.wait().unwrap().success());
        self.forget(&child);
    }

    /// Export the inputs, the ledger and the bundles (to `bundles/`); the exporter's message
    /// (it counts events, ticks and deployments).
    pub fn export(&self) -> (String, String, String) {
        let mut export = Command::new(BIN);
        export.arg("serve").arg("--state").arg(&self.state);
        if self.state.starts_with("postgres") {
            // The project's name is in the configuration.
            export.arg("--config").arg(self.path("serve.toml"));
        }
        let out = export
            .arg("--export-events")
            .arg(self.path("events.jsonl"))
            .arg("--export-ledger")
            .arg(self.path("ledger.jsonl"))
            .arg("--export-bundles")
            .arg(self.path("bundles"))
            .output()
            .unwrap();
        let msg = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{msg}");
        let v = Command::new(BIN)
            .args(["ledger", "verify"])
            .arg(self.path("ledger.jsonl"))
            .output()
            .unwrap();
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
        (
            std::fs::read_to_string(self.path("events.jsonl")).unwrap(),
            std::fs::read_to_string(self.path("ledger.jsonl")).unwrap(),
            msg,
        )
    }

    /// `meshline run` over the export (deployments from `bundles/`, then `--until`), its
    /// ledger.
    pub fn run(&self, until: Option<&str>) -> String {
        let mut cmd = Command::new(BIN);
        cmd.arg("run")
            .arg("--bundle")
            .arg(&self.bundle)
            .arg("--bundles")
            .arg(self.path("bundles"))
            .arg("--events")
            .arg(self.path("events.jsonl"))
            .arg("--ledger")
            .arg(self.path("run.jsonl"));
        if let Some(u) = until {
            cmd.arg("--until").arg(u);
        }
        let r = cmd.output().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        std::fs::read_to_string(self.path("run.jsonl")).unwrap()
    }
}

/// Build a copy of agency-support with `edit` applied to (file, from, to); the bundle path.
pub fn variant(dir: &Path, name: &str, file: &str, from: &str, to: &str) -> PathBuf {
    let project = dir.join(name);
    let st = Command::new("cp")
        .arg("-r")
        .arg(root().join("examples/agency-support"))
        .arg(&project)
        .status()
        .unwrap();
    assert!(st.success());
    let path = project.join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    let bundle = dir.join(format!("{name}.meshb"));
    let out = Command::new(BIN)
        .arg("build")
        .arg(&project)
        .arg("-o")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bundle
}

pub fn post_bundle(port: u16, token: &str, bytes: &[u8]) -> (u16, String) {
    let mut st = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        st,
        "POST /admin/bundle HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        bytes.len()
    )
    .unwrap();
    st.write_all(bytes).unwrap();
    let mut out = String::new();
    st.read_to_string(&mut out).unwrap();
    let code = out.split(' ').nth(1).unwrap().parse().unwrap();
    (code, out)
}
