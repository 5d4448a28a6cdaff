//! A throwaway PostgreSQL cluster for tests: `initdb` in a temporary folder and `pg_ctl` on
//! a free port, listening only on a Unix socket in that folder; stopped when dropped. As
//! root (CI) the server runs as the `postgres` user, since `initdb` refuses root.
//!
//! `Cluster::start` returns `None` (with a message) when no PostgreSQL is installed, unless
//! `CI=true`, where a missing PostgreSQL fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    as_postgres: bool,
    /// More server options (`-c name=value …`), e.g. TLS on 127.0.0.1.
    extra: String,
}

/// The newest installed server's `bin` folder (Debian's layout), or `$PG_BIN`.
fn find_bin() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|b| b.join("initdb").exists())
        .collect();
    found.sort_by_key(|p| {
        p.parent()
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap_or(0)
    });
    found.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(54_329)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Cluster {
    #[allow(dead_code, reason = "each test binary uses part of these")]
    pub fn start() -> Option<Cluster> {
        Cluster::start_with(None)
    }

    /// Also listening on 127.0.0.1 with TLS, presenting `cert_pem` (with `key_pem`).
    #[allow(dead_code, reason = "each test binary uses part of these")]
    pub fn start_tls(cert_pem: &str, key_pem: &str) -> Option<Cluster> {
        Cluster::start_with(Some((cert_pem, key_pem)))
    }

    fn start_with(tls: Option<(&str, &str)>) -> Option<Cluster> {
        let Some(bin) = find_bin() else {
            let why =
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; set PG_BIN)";
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("{why}: CI runs the PostgreSQL store tests");
            }
            eprintln!("skipped: {why}");
            return None;
        };
        let dir = tempfile::Builder::new()
            .prefix("meshline-pg")
            .tempdir()
            .expect("a temporary folder");
        let as_postgres = is_root();
        let mut extra = String::new();
        if let Some((cert, key)) = tls {
            let (cert_file, key_file) =
                (dir.path().join("server.crt"), dir.path().join("server.key"));
            std::fs::write(&cert_file, cert).expect("write the server certificate");
            std::fs::write(&key_file, key).expect("write the server key");
            // The server refuses a key others may read.
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600))
                .expect("chmod the server key");
            extra = format!(
                " -c listen_addresses='127.0.0.1' -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                cert_file.display(),
                key_file.display()
            );
        }
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
            as_postgres,
            extra,
        };
        if as_postgres {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .is_ok_and(|s| s.success());
            assert!(ok, "chown of the cluster folder to postgres failed");
        }
        let data = cluster.dir.path().join("data");
        cluster.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        let options = cluster.options();
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &options,
                "-l",
                &cluster.dir.path().join("log").to_string_lossy(),
                "-w",
                "start",
            ],
        );
        Some(cluster)
    }

    /// `pg_ctl -o`: the port, the socket folder, no TCP unless TLS was asked for.
    fn options(&self) -> String {
        format!(
            "-p {} -k {} -c listen_addresses='' -c fsync=off{}",
            self.port,
            self.dir.path().display(),
            self.extra
        )
    }

    /// The port (TCP on 127.0.0.1 when started with TLS).
    #[allow(dead_code, reason = "each test binary uses part of these")]
    pub fn port(&self) -> u16 {
        self.port
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let out = self
            .command(tool)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{tool}: {e}"));
        let log = std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default();
        assert!(
            out.status.success(),
            "{tool} failed: {}{}\n{log}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// A connection string over the cluster's Unix socket.
    #[allow(dead_code, reason = "each test binary uses part of these")]
    pub fn url(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres",
            self.dir.path().display(),
            self.port
        )
    }
}

#[allow(dead_code, reason = "each test binary uses part of these")]
impl Cluster {
    /// The same as a `postgresql://` URL (what `meshline serve --state` takes).
    pub fn postgres_url(&self) -> String {
        format!(
            "postgresql://postgres@/postgres?host={}&port={}",
            self.dir.path().display(),
            self.port
        )
    }

    /// Stop the server (fast: connections are closed), keeping its data.
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        self.run(
            "pg_ctl",
            &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Start it again after [`Cluster::stop`].
    pub fn restart(&self) {
        let data = self.dir.path().join("data");
        let options = self.options();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-o",
                &options,
                "-l",
                &self.dir.path().join("log").to_string_lossy(),
                "-w",
                "start",
            ],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self
            .command("pg_ctl")
            .args([
                "-D",
                &data.to_string_lossy(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ])
            .output();
    }
}

/// A private CA's PEM, and a server certificate (PEM, key PEM) it signed for `localhost`:
/// for [`Cluster::start_tls`].
#[allow(dead_code, reason = "each test binary uses part of these")]
pub fn tls_pki(name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("a key"))
        .expect("a CA certificate");
    let key = KeyPair::generate().expect("a key");
    let leaf = CertificateParams::new(vec!["localhost".to_string()])
        .expect("leaf parameters")
        .signed_by(&key, &ca)
        .expect("a server certificate");
    (ca.pem(), leaf.pem(), key.serialize_pem())
}
