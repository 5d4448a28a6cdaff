//! An HTTPS endpoint for connector tests: a private CA and a certificate it signed for
//! 127.0.0.1, made at test time; every request is recorded and answered 200.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A private CA (PEM) and a server certificate it signed for 127.0.0.1, with its key.
pub struct Pki {
    pub ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

pub fn pki(name: &str) -> Pki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} test CA"));
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &ca)
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        chain: vec![leaf.der().clone()],
        key: key.serialize_der(),
    }
}

/// (path, Idempotency-Key, body) of each request received over TLS.
pub type Seen = Arc<Mutex<Vec<(String, String, String)>>>;

/// Serve HTTPS on 127.0.0.1 with `pki`'s certificate; the port and what arrives.
pub fn endpoint(pki: &Pki) -> (u16, Seen) {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.key.clone()));
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(pki.chain.clone(), key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
            let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                continue;
            };
            let mut s = rustls::StreamOwned::new(conn, tcp);
            // A refused handshake or a cut connection is no request.
            if let Some(req) = read_request(&mut s) {
                log.lock().unwrap().push(req);
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
                s.conn.send_close_notify();
                let _ = s.flush();
            }
        }
    });
    (port, seen)
}

fn read_request(s: &mut impl Read) -> Option<(String, String, String)> {
    let mut r = BufReader::new(s);
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split(' ').nth(1)?.to_string();
    let (mut key, mut len) = (String::new(), 0usize);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        match k.to_ascii_lowercase().as_str() {
            "idempotency-key" => key = v.trim().to_string(),
            "content-length" => len = v.trim().parse().ok()?,
            _ => {}
        }
    }
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some((path, key, String::from_utf8(body).ok()?))
}
