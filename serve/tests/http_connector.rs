//! The HTTP connector's client against in-process endpoints: HTTPS with a certificate made
//! at test time (a private CA and a leaf for 127.0.0.1), plain HTTP, every status class,
//! network failures and timeouts, and the settings refused when the configuration loads.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use meshline_serve::Config;
use meshline_serve::http_connector::{Attempt, HttpConnector};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A private CA and a server certificate it signed for 127.0.0.1.
struct Pki {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

fn pki(name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone()],
        key: leaf_key.serialize_der(),
    }
}

/// One request as the endpoint saw it.
#[derive(Clone, Debug, Default)]
struct Seen {
    line: String,
    /// Lower-case names.
    headers: BTreeMap<String, String>,
    body: String,
}

/// An endpoint on 127.0.0.1 answering the given statuses in turn (the last one repeats),
/// over TLS when given a certificate; `None` as a status never answers (a stalled server).
struct Endpoint {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Endpoint {
    fn start(tls: Option<&Pki>, statuses: Vec<Option<u16>>) -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        let config = tls.map(|p| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(p.key.clone()));
            Arc::new(
                rustls::ServerConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .unwrap()
                    .with_no_client_auth()
                    .with_single_cert(p.chain.clone(), key)
                    .unwrap(),
            )
        });
        std::thread::spawn(move || {
            let mut n = 0;
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let status = statuses[n.min(statuses.len() - 1)];
                let answered = match &config {
                    Some(c) => {
                        let Ok(conn) = rustls::ServerConnection::new(c.clone()) else {
                            continue;
                        };
                        let mut s = rustls::StreamOwned::new(conn, tcp);
                        let r = exchange(&mut s, status, &log);
                        s.conn.send_close_notify();
                        let _ = s.flush();
                        r
                    }
                    None => exchange(&mut { tcp }, status, &log),
                };
                // A handshake the client refused is not a request.
                if answered.is_ok() {
                    n += 1;
                }
            }
        });
        Endpoint { port, seen }
    }

    fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}/hook?x=1", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Read one request, record it, answer `status` (or hold the connection if `None`).
fn exchange<S: Read + Write>(
    s: &mut S,
    status: Option<u16>,
    log: &Mutex<Vec<Seen>>,
) -> std::io::Result<()> {
    let mut r = BufReader::new(&mut *s);
    let mut seen = Seen::default();
    r.read_line(&mut seen.line)?;
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            seen.headers
                .insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len = seen
        .headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    seen.body = String::from_utf8_lossy(&body).into_owned();
    log.lock().unwrap().push(seen);
    let Some(code) = status else {
        std::thread::sleep(Duration::from_secs(3));
        return Ok(());
    };
    write!(
        s,
        "HTTP/1.1 {code} X\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    )?;
    s.flush()
}

fn connector(url: &str, ca_file: Option<&Path>) -> HttpConnector {
    HttpConnector {
        url: url.to_string(),
        headers: BTreeMap::new(),
        max_attempts: 5,
        backoff_ms: 10,
        max_backoff_ms: 60_000,
        timeout_ms: 5_000,
        ca_file: ca_file.map(Path::to_path_buf),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const BODY: &str =
    r#"{"seq":3,"kind":"action","connector":"stripe","action":"refund","key":"k-1"}"#;

#[test]
fn https_request_arrives_with_body_key_and_headers() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki("good");
    let ca = write(dir.path(), "ca.pem", &pki.ca_pem);
    let end = Endpoint::start(Some(&pki), vec![Some(201)]);
    let mut c = connector(&end.url("https"), Some(&ca));
    // `env:VAR` is read at send time; cargo sets CARGO_PKG_NAME for the test process.
    c.headers
        .insert("Authorization".into(), "env:CARGO_PKG_NAME".into());
    c.headers.insert("X-Tenant".into(), "acme".into());
    let client = c.prepare("stripe").unwrap();
    assert_eq!(client.post("k-1", BODY), Attempt::Ok);
    let seen = end.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.line.trim_end(), "POST /hook?x=1 HTTP/1.1");
    assert_eq!(r.body, BODY);
    assert_eq!(r.headers["idempotency-key"], "k-1");
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(
        r.headers["authorization"],
        std::env::var("CARGO_PKG_NAME").unwrap()
    );
    assert_eq!(r.headers["x-tenant"], "acme");
}

#[test]
fn statuses_over_tls_are_classified() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki("status");
    let ca = write(dir.path(), "ca.pem", &pki.ca_pem);
    let codes = [200, 204, 500, 503, 408, 429, 400, 404, 409, 302];
    let end = Endpoint::start(Some(&pki), codes.iter().map(|c| Some(*c)).collect());
    let client = connector(&end.url("https"), Some(&ca))
        .prepare("helpdesk")
        .unwrap();
    let got: Vec<Attempt> = codes.iter().map(|_| client.post("k", BODY)).collect();
    let retry = |c: u16| Attempt::Retry(format!("HTTP {c}"));
    let refused = |c: u16| Attempt::Refused(format!("HTTP {c}"));
    assert_eq!(
        got,
        [
            Attempt::Ok,
            Attempt::Ok,
            retry(500),
            retry(503),
            retry(408),
            retry(429),
            refused(400),
            refused(404),
            refused(409),
            // A redirect is not followed (a POST must not silently go elsewhere).
            retry(302),
        ]
    );
    assert_eq!(end.seen().len(), codes.len(), "one request per attempt");
}

#[test]
fn certificate_not_signed_by_the_trusted_roots_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = pki("server");
    let other = pki("other");
    let end = Endpoint::start(Some(&server), vec![Some(200)]);
    // ca_file names another CA: the handshake fails, nothing is sent, and it is final.
    let ca = write(dir.path(), "other.pem", &other.ca_pem);
    let got = connector(&end.url("https"), Some(&ca))
        .prepare("stripe")
        .unwrap()
        .post("k", BODY);
    match &got {
        Attempt::Refused(reason) => {
            assert!(reason.starts_with("TLS: "), "{reason}");
            assert!(reason.contains("certificate"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // Without ca_file the public web PKI roots are trusted, and a private CA is not.
    let got = connector(&end.url("https"), None)
        .prepare("stripe")
        .unwrap()
        .post("k", BODY);
    assert!(
        matches!(&got, Attempt::Refused(r) if r.contains("UnknownIssuer")),
        "{got:?}"
    );
    assert!(
        end.seen().is_empty(),
        "no request may pass a failed handshake"
    );
}

#[test]
fn plain_http_still_works() {
    let end = Endpoint::start(None, vec![Some(500), Some(200), Some(422)]);
    let client = connector(&end.url("http"), None).prepare("stripe").unwrap();
    assert_eq!(client.post("k-2", BODY), Attempt::Retry("HTTP 500".into()));
    assert_eq!(client.post("k-2", BODY), Attempt::Ok);
    assert_eq!(
        client.post("k-3", BODY),
        Attempt::Refused("HTTP 422".into())
    );
    let seen = end.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[0].headers["idempotency-key"], "k-2");
    assert_eq!(seen[1].body, BODY);
    // https to a plain endpoint: a network-level failure, retried.
    let got = connector(&end.url("https"), None)
        .prepare("stripe")
        .unwrap()
        .post("k", BODY);
    assert!(matches!(got, Attempt::Retry(_)), "{got:?}");
}

#[test]
fn network_errors_and_timeouts_are_retried() {
    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let got = connector(&format!("http://127.0.0.1:{port}/x"), None)
        .prepare("stripe")
        .unwrap()
        .post("k", BODY);
    assert!(matches!(got, Attempt::Retry(_)), "{got:?}");
    // A server that reads the request and never answers: the attempt ends at timeout_ms.
    let end = Endpoint::start(None, vec![None]);
    let mut c = connector(&end.url("http"), None);
    c.timeout_ms = 300;
    let t = Instant::now();
    let got = c.prepare("stripe").unwrap().post("k", BODY);
    assert!(
        matches!(&got, Attempt::Retry(r) if r == "no answer within 300 ms"),
        "{got:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // A stalled TLS handshake too.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = connector(
        &format!("https://127.0.0.1:{}/", silent.local_addr().unwrap().port()),
        None,
    );
    c.timeout_ms = 300;
    let t = Instant::now();
    let got = c.prepare("stripe").unwrap().post("k", BODY);
    assert!(matches!(got, Attempt::Retry(_)), "{got:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    drop(TcpStream::connect(silent.local_addr().unwrap()));
}

#[test]
fn unusable_header_values_are_refused_without_echoing_them() {
    let end = Endpoint::start(None, vec![Some(200)]);
    let mut c = connector(&end.url("http"), None);
    c.headers.insert(
        "Authorization".into(),
        "env:MESHLINE_TEST_SURELY_UNSET_VARIABLE".into(),
    );
    let got = c.prepare("stripe").unwrap().post("k", BODY);
    assert_eq!(
        got,
        Attempt::Refused(
            "header Authorization: MESHLINE_TEST_SURELY_UNSET_VARIABLE is not set".into()
        )
    );
    assert!(end.seen().is_empty());
}

/// Mistakes in `[connectors.http.NAME]` stop the configuration from loading, naming the
/// connector and the problem.
#[test]
fn bad_settings_are_refused_when_the_configuration_loads() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = write(d, "good.pem", &pki("cfg").ca_pem);
    let garbage = write(
        d,
        "garbage.pem",
        "-----BEGIN CERTIFICATE-----\n!!not base64!!\n-----END CERTIFICATE-----\n",
    );
    let empty = write(d, "empty.pem", "just some text, no PEM sections\n");
    let not_der = write(
        d,
        "notder.pem",
        "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n",
    );
    let load = |body: &str| {
        let p = write(
            d,
            "serve.toml",
            &format!("[connectors.http.billing]\n{body}\n"),
        );
        Config::load(&p).map(drop).map_err(|e| e.to_string())
    };
    let url = "url = \"https://127.0.0.1:9/x\"";
    assert_eq!(load(url), Ok(()));
    assert_eq!(load(&format!("{url}\nca_file = {good:?}")), Ok(()));
    let cases: Vec<(String, &str)> = vec![
        (
            "url = \"ftp://127.0.0.1/x\"".into(),
            "only http:// and https://",
        ),
        (
            "url = \"127.0.0.1:9000/x\"".into(),
            "not an http:// or https:// URL",
        ),
        ("url = \"https:///x\"".into(), "billing: url"),
        (
            "url = \"http://exa mple.com/\"".into(),
            "not an http:// or https:// URL",
        ),
        (
            format!("{url}\nca_file = \"{}/missing.pem\"", d.display()),
            "missing.pem: ",
        ),
        (format!("{url}\nca_file = {garbage:?}"), "invalid PEM"),
        (format!("{url}\nca_file = {empty:?}"), "no PEM certificate"),
        (format!("{url}\nca_file = {not_der:?}"), "certificate 1: "),
        (
            format!("{url}\nheaders = {{ \"Bad Name\" = \"x\" }}"),
            "not a valid header name",
        ),
        (
            format!("{url}\nheaders = {{ X = \"a\\nb\" }}"),
            "not a valid header value",
        ),
        (
            format!("{url}\nheaders = {{ X = \"env:\" }}"),
            "names no variable",
        ),
    ];
    for (body, want) in cases {
        let err = load(&body).expect_err(&body);
        assert!(
            err.contains("serve.toml: connectors.http.billing: "),
            "{body}: {err}"
        );
        assert!(err.contains(want), "{body}: {err}");
    }
}
