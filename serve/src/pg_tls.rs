//! TLS to PostgreSQL (docs/deploy.md, "TLS to the database"): the connection string's
//! `sslmode` and `sslrootcert`, with libpq's meanings, over rustls (ring, as the
//! connectors use).
//!
//! The PostgreSQL client crate knows `sslmode` only as `disable`, `prefer` and `require`,
//! and no `sslrootcert`; both are read here, taken out of the string, and turned into the
//! client's mode and a certificate verifier:
//!
//! | `sslmode` | TLS | certificate |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers it | not checked (as libpq) |
//! | `require` | always | not checked; with `sslrootcert`, as `verify-ca` (as libpq) |
//! | `verify-ca` | always | chains to `sslrootcert` |
//! | `verify-full` | always | chains to `sslrootcert` and names the host |
//!
//! `sslrootcert=FILE` is a PEM file of the certificates to trust (the database's CA);
//! `sslrootcert=system` trusts the public web PKI roots (a managed database's CA).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values that mean something to a client that checks certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Option<SslMode> {
        Some(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// Why a connection string's TLS settings cannot be used. None of these repeats the
/// connection string: it may hold a password.
#[derive(Debug)]
pub enum TlsSettingError {
    /// `sslmode` is not one of libpq's values (`allow` is refused: it would fall back to
    /// plain text after a failed TLS attempt, which a server operator does not expect).
    BadMode(String),
    /// `verify-ca` / `verify-full` without `sslrootcert`.
    NoRootCert(SslMode),
    /// The `sslrootcert` file cannot be read, or holds no certificate.
    RootCert { path: PathBuf, why: String },
    /// The connection string is not one the client understands (its own message, which
    /// names the option, not its value).
    Parse(postgres::Error),
    /// A `key=value` string with an unterminated quote.
    Quoting,
}

impl fmt::Display for TlsSettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsSettingError::BadMode(m) => write!(
                f,
                "sslmode={m:?} is not supported: use disable, prefer, require, verify-ca or verify-full"
            ),
            TlsSettingError::NoRootCert(m) => write!(
                f,
                "sslmode={} needs sslrootcert=FILE (the database's CA certificates, PEM) or \
                 sslrootcert=system (the public web PKI roots)",
                m.name()
            ),
            TlsSettingError::RootCert { path, why } => {
                write!(f, "sslrootcert {}: {why}", path.display())
            }
            TlsSettingError::Parse(e) => write!(f, "the database connection string: {e}"),
            TlsSettingError::Quoting => {
                write!(
                    f,
                    "the database connection string has an unterminated quote"
                )
            }
        }
    }
}

impl std::error::Error for TlsSettingError {}

/// A connection that could not be made: its TLS settings, or the database.
#[derive(Debug)]
pub enum ConnectError {
    Tls(TlsSettingError),
    Postgres(postgres::Error),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Tls(e) => e.fmt(f),
            ConnectError::Postgres(e) => f.write_str(&describe(e)),
        }
    }
}

/// A client error with its causes: the client says "error performing TLS handshake"; the
/// cause says which certificate check failed.
pub fn describe(e: &postgres::Error) -> String {
    let mut out = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConnectError::Tls(e) => Some(e),
            ConnectError::Postgres(e) => Some(e),
        }
    }
}

impl From<postgres::Error> for ConnectError {
    fn from(e: postgres::Error) -> ConnectError {
        ConnectError::Postgres(e)
    }
}

/// Connect to `conn` with its TLS settings; a dead server or network is noticed within
/// `timeout` to connect and keepalives every 5 s after.
pub fn connect(conn: &str, timeout: Duration) -> Result<postgres::Client, ConnectError> {
    let (mut config, tls) = config(conn).map_err(ConnectError::Tls)?;
    config.connect_timeout(timeout);
    config.keepalives_idle(Duration::from_secs(5));
    // A Unix socket is local and never encrypted (libpq ignores `sslmode` there); the TLS
    // connector cannot even be set up without a host name.
    let hosts = config.get_hosts();
    if !hosts.is_empty()
        && hosts
            .iter()
            .all(|h| matches!(h, postgres::config::Host::Unix(_)))
    {
        config.ssl_mode(postgres::config::SslMode::Disable);
        return Ok(config.connect(postgres::NoTls)?);
    }
    Ok(config.connect(tls)?)
}

/// What to trust, from `sslrootcert`.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Roots {
    None,
    System,
    File(PathBuf),
}

/// The client configuration for `conn`, and the TLS connector that goes with it.
pub fn config(conn: &str) -> Result<(postgres::Config, MakeRustlsConnect), TlsSettingError> {
    let (rest, mode, roots) = split(conn)?;
    let mut config: postgres::Config = rest.parse().map_err(TlsSettingError::Parse)?;
    let mode = mode.unwrap_or(SslMode::Prefer);
    config.ssl_mode(match mode {
        SslMode::Disable => postgres::config::SslMode::Disable,
        SslMode::Prefer => postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            postgres::config::SslMode::Require
        }
    });
    Ok((config, MakeRustlsConnect::new(client_config(mode, &roots)?)))
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(mode: SslMode, roots: &Roots) -> Result<ClientConfig, TlsSettingError> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSettingError::RootCert {
            path: PathBuf::new(),
            why: e.to_string(),
        })?;
    let check = match (mode, roots) {
        (SslMode::VerifyCa | SslMode::VerifyFull, Roots::None) => {
            return Err(TlsSettingError::NoRootCert(mode));
        }
        (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, Roots::None) => None,
        (SslMode::Require | SslMode::VerifyCa, r) => Some((false, r)),
        (SslMode::VerifyFull, r) => Some((true, r)),
    };
    let Some((names, roots)) = check else {
        let algorithms = provider.signature_verification_algorithms;
        return Ok(builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Unchecked { algorithms }))
            .with_no_client_auth());
    };
    let store = root_store(roots)?;
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
        .build()
        .map_err(|e| TlsSettingError::RootCert {
            path: root_path(roots),
            why: e.to_string(),
        })?;
    if names {
        return Ok(builder.with_webpki_verifier(webpki).with_no_client_auth());
    }
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ChainOnly { inner: webpki }))
        .with_no_client_auth())
}

fn root_path(roots: &Roots) -> PathBuf {
    match roots {
        Roots::File(p) => p.clone(),
        Roots::None | Roots::System => PathBuf::from("system"),
    }
}

fn root_store(roots: &Roots) -> Result<RootCertStore, TlsSettingError> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::None => {}
        Roots::System => store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
        Roots::File(path) => {
            for cert in read_pem(path)? {
                store.add(cert).map_err(|e| TlsSettingError::RootCert {
                    path: path.clone(),
                    why: e.to_string(),
                })?;
            }
        }
    }
    Ok(store)
}

fn read_pem(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSettingError> {
    use rustls::pki_types::pem::PemObject as _;
    let bad = |why: String| TlsSettingError::RootCert {
        path: path.to_path_buf(),
        why,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(bad("holds no certificate".to_string()));
    }
    Ok(certs)
}

/// Split `sslmode` and `sslrootcert` out of a connection string, in either of the forms
/// the client takes: a URL (`postgres://…?sslmode=…&sslrootcert=…`) or `key=value` pairs.
fn split(conn: &str) -> Result<(String, Option<SslMode>, Roots), TlsSettingError> {
    let mut mode = None;
    let mut roots = Roots::None;
    let mut take = |key: &str, value: &str| -> Result<bool, TlsSettingError> {
        match key {
            "sslmode" => {
                mode = Some(
                    SslMode::parse(value)
                        .ok_or_else(|| TlsSettingError::BadMode(value.to_string()))?,
                );
                Ok(true)
            }
            "sslrootcert" => {
                roots = match value {
                    "" => Roots::None,
                    "system" => Roots::System,
                    path => Roots::File(PathBuf::from(path)),
                };
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rest = if conn.starts_with("postgres://") || conn.starts_with("postgresql://") {
        split_url(conn, &mut take)?
    } else {
        split_pairs(conn, &mut take)?
    };
    Ok((rest, mode, roots))
}

type Take<'a> = dyn FnMut(&str, &str) -> Result<bool, TlsSettingError> + 'a;

fn split_url(conn: &str, take: &mut Take<'_>) -> Result<String, TlsSettingError> {
    let Some((base, query)) = conn.split_once('?') else {
        return Ok(conn.to_string());
    };
    let mut kept = Vec::new();
    for param in query.split('&') {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        if !take(&decode(key), &decode(value))? {
            kept.push(param);
        }
    }
    Ok(if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    })
}

/// Percent-decoding of a URL query's key or value (`+` stays a plus, as the client reads it).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `key = value` pairs separated by spaces; a value may be single-quoted, with `\'` and
/// `\\` escapes (libpq's rules, which the client follows). Pairs that are not ours are
/// kept as written.
fn split_pairs(conn: &str, take: &mut Take<'_>) -> Result<String, TlsSettingError> {
    let mut kept = String::new();
    let mut rest = conn.trim_start();
    while !rest.is_empty() {
        let start = rest;
        let key_end = rest
            .find(|c: char| c == '=' || c.is_whitespace())
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        // No `=`: the client reports the malformed string itself.
        let Some(after) = rest.strip_prefix('=') else {
            kept.push_str(start);
            break;
        };
        rest = after.trim_start();
        let value;
        if let Some(quoted) = rest.strip_prefix('\'') {
            let mut v = String::new();
            let mut chars = quoted.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            v.push(n);
                        }
                    }
                    '\'' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => v.push(c),
                }
            }
            let end = end.ok_or(TlsSettingError::Quoting)?;
            rest = &quoted[end..];
            value = v;
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            value = rest[..end].to_string();
            rest = &rest[end..];
        }
        let pair = &start[..start.len() - rest.len()];
        if !take(key, &value)? {
            if !kept.is_empty() {
                kept.push(' ');
            }
            kept.push_str(pair.trim());
        }
        rest = rest.trim_start();
    }
    Ok(kept)
}

/// `prefer` and `require` without `sslrootcert`: encrypted, the certificate not checked
/// (libpq's meaning), though the handshake's signatures still are.
#[derive(Debug)]
struct Unchecked {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the host name is not compared.
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::{Roots, SslMode, TlsSettingError, config, split};

    #[test]
    fn url_settings_are_taken_out_and_the_rest_kept() {
        let (rest, mode, roots) = split(
            "postgresql://u:p%40ss@db:5432/x?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(rest, "postgresql://u:p%40ss@db:5432/x?connect_timeout=3");
        assert_eq!(mode, Some(SslMode::VerifyFull));
        assert_eq!(roots, Roots::File("/etc/ca.pem".into()));
        let (rest, mode, roots) = split("postgres://db/x?sslmode=require").unwrap();
        assert_eq!(
            (rest.as_str(), mode, roots),
            ("postgres://db/x", Some(SslMode::Require), Roots::None)
        );
    }

    #[test]
    fn pair_settings_are_taken_out_quoted_or_not() {
        let (rest, mode, roots) = split(
            "host=db  user=meshline sslrootcert = '/etc/my ca\\'s.pem' password='a b' sslmode=verify-ca",
        )
        .unwrap();
        assert_eq!(rest, "host=db user=meshline password='a b'");
        assert_eq!(mode, Some(SslMode::VerifyCa));
        assert_eq!(roots, Roots::File("/etc/my ca's.pem".into()));
        assert!(matches!(
            split("host=db sslrootcert='x"),
            Err(TlsSettingError::Quoting)
        ));
    }

    #[test]
    fn verification_without_roots_and_unknown_modes_are_refused_without_the_password() {
        let refused = |conn: &str| config(conn).err().expect("refused");
        let e = refused("postgres://u:secret@db/x?sslmode=verify-full");
        assert!(matches!(
            e,
            TlsSettingError::NoRootCert(SslMode::VerifyFull)
        ));
        let e = refused("host=db password=secret sslmode=allow");
        assert!(matches!(e, TlsSettingError::BadMode(_)));
        assert!(!e.to_string().contains("secret"), "{e}");
        let e = refused("host=db sslmode=require sslrootcert=/nonexistent/ca.pem");
        assert!(
            e.to_string()
                .starts_with("sslrootcert /nonexistent/ca.pem:"),
            "{e}"
        );
        // `system` needs no file; `prefer` and `require` need no roots.
        assert!(config("host=db sslmode=verify-full sslrootcert=system").is_ok());
        assert!(config("host=db sslmode=require").is_ok());
        assert!(config("host=db").is_ok());
    }
}
