//! The e-mail connector against an SMTP test double written from RFC 5321 (the dialogue),
//! RFC 3207 (STARTTLS) and RFC 4954 (AUTH PLAIN): the double records the envelope, the
//! login and the message, answers DATA with the replies a test scripts (4yz, 5yz), and
//! upgrades to TLS with a certificate from a private CA made at test time.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failing test")]

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use meshline_serve::Config;
use meshline_serve::http_connector::{Attempt, Deliver};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value as Json, json};

/// One message as the double received it.
#[derive(Clone, Debug, Default)]
struct Mail {
    tls: bool,
    /// The decoded AUTH PLAIN identity and password.
    login: Option<(String, String)>,
    from: String,
    rcpt: Vec<String>,
    data: String,
}

struct Double {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    ca_pem: String,
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ServerConnection, TcpStream>>),
}

impl Conn {
    fn write(&mut self, s: &str) {
        let _ = match self {
            Conn::Plain(t) => t.write_all(s.as_bytes()).and_then(|()| t.flush()),
            Conn::Tls(t) => t.write_all(s.as_bytes()).and_then(|()| t.flush()),
        };
    }
    /// One line without its CRLF, byte by byte (no buffer to lose at the TLS upgrade).
    fn line(&mut self) -> Option<String> {
        let mut out = Vec::new();
        let mut b = [0u8; 1];
        loop {
            let n = match self {
                Conn::Plain(t) => t.read(&mut b),
                Conn::Tls(t) => t.read(&mut b),
            }
            .ok()?;
            if n == 0 {
                return None;
            }
            if b[0] == b'\n' {
                if out.last() == Some(&b'\r') {
                    out.pop();
                }
                return String::from_utf8(out).ok();
            }
            out.push(b[0]);
        }
    }
}

impl Double {
    /// Serve SMTP on 127.0.0.1; `data_replies` answer the DATA of successive messages
    /// (then "250 2.0.0 Ok: queued as Q<n>").
    fn start(starttls: bool, data_replies: Vec<&'static str>) -> Double {
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
        let key = KeyPair::generate().unwrap();
        let leaf = CertificateParams::new(vec!["localhost".to_string()])
            .unwrap()
            .signed_by(&key, &ca)
            .unwrap();
        let config = Arc::new(
            rustls::ServerConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(leaf.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap(),
        );
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let log = mails.clone();
        let replies = Arc::new(Mutex::new(VecDeque::from(data_replies)));
        std::thread::spawn(move || {
            let mut queued = 0;
            for tcp in listener.incoming() {
                let Ok(tcp) = tcp else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let mut c = Conn::Plain(tcp);
                c.write("220 double.test ESMTP\r\n");
                let mut mail = Mail::default();
                while let Some(line) = c.line() {
                    let upper = line.to_ascii_uppercase();
                    if upper.starts_with("EHLO") {
                        let tls = matches!(c, Conn::Tls(_));
                        if starttls && !tls {
                            c.write("250-double.test\r\n250-STARTTLS\r\n250 8BITMIME\r\n");
                        } else {
                            c.write("250-double.test\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n");
                        }
                    } else if upper == "STARTTLS" {
                        c.write("220 2.0.0 Ready to start TLS\r\n");
                        let Conn::Plain(tcp) = c else { break };
                        let Ok(conn) = rustls::ServerConnection::new(config.clone()) else {
                            break;
                        };
                        c = Conn::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)));
                        mail.tls = true;
                    } else if let Some(b64) = line.strip_prefix("AUTH PLAIN ") {
                        let raw = base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .unwrap_or_default();
                        let parts: Vec<String> = raw
                            .split(|b| *b == 0)
                            .map(|p| String::from_utf8_lossy(p).into_owned())
                            .collect();
                        if parts.len() == 3 {
                            mail.login = Some((parts[1].clone(), parts[2].clone()));
                        }
                        c.write("235 2.7.0 Authentication successful\r\n");
                    } else if upper.starts_with("MAIL FROM:") {
                        mail.from = line[10..].to_string();
                        c.write("250 2.1.0 Ok\r\n");
                    } else if upper.starts_with("RCPT TO:") {
                        mail.rcpt.push(line[8..].to_string());
                        c.write("250 2.1.5 Ok\r\n");
                    } else if upper == "DATA" {
                        c.write("354 End data with <CR><LF>.<CR><LF>\r\n");
                        let mut data = String::new();
                        while let Some(l) = c.line() {
                            if l == "." {
                                break;
                            }
                            data.push_str(&l);
                            data.push('\n');
                        }
                        mail.data = data;
                        let reply = replies.lock().unwrap().pop_front();
                        log.lock().unwrap().push(mail.clone());
                        match reply {
                            Some(r) => c.write(&format!("{r}\r\n")),
                            None => {
                                queued += 1;
                                c.write(&format!("250 2.0.0 Ok: queued as Q{queued}\r\n"));
                            }
                        }
                    } else if upper == "QUIT" {
                        c.write("221 2.0.0 Bye\r\n");
                        break;
                    } else if upper == "RSET" || upper == "NOOP" {
                        c.write("250 2.0.0 Ok\r\n");
                    } else {
                        c.write("502 5.5.2 Command not recognized\r\n");
                    }
                }
            }
        });
        Double {
            port,
            mails,
            ca_pem: ca.pem(),
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

fn connector(toml: &str, name: &str) -> Box<dyn Deliver> {
    let config: Config = toml::from_str(toml).unwrap();
    config.check().unwrap();
    config.connectors.prepare().unwrap().remove(name).unwrap()
}

fn approval() -> Json {
    json!({ "seq": 7, "kind": "approval_request", "case": "T-3002", "gate": "refund_limit",
            "request": 1, "require": [{ "approval": "finance", "approvals": 2 }] })
}

/// Over a relay on this machine: the envelope goes to the addresses of the team the
/// approval request asks, the message says what is asked and links to the console, and a
/// retried command keeps its Message-ID.
#[test]
fn approval_requests_are_mailed_to_the_team_they_ask() {
    let d = Double::start(false, vec![]);
    let c = connector(
        &format!(
            "[connectors.mail]\nvendor = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"Meshline <meshline@agency.test>\"\nto = [\"ops@agency.test\"]\n\
             console_url = \"https://ops.agency.test/console/\"\n\
             [connectors.mail.recipients]\nfinance = [\"ana@agency.test\", \"finance@agency.test\"]\n",
            d.port
        ),
        "mail",
    );
    let cmd = approval();
    let line = cmd.to_string();
    let got = c.attempt(&cmd, &line);
    assert_eq!(got.attempt, Attempt::Ok, "{got:?}");
    assert_eq!(got.remote.as_deref(), Some("2.0.0 Ok: queued as Q1"));
    let again = c.attempt(&cmd, &line);
    assert_eq!(again.attempt, Attempt::Ok);
    let mails = d.mails();
    assert_eq!(mails.len(), 2);
    let m = &mails[0];
    assert!(!m.tls);
    assert_eq!(m.from, "<meshline@agency.test>");
    assert_eq!(m.rcpt, ["<ana@agency.test>", "<finance@agency.test>"]);
    assert!(
        m.data
            .contains("Subject: Approval needed: case T-3002, gate refund_limit"),
        "{}",
        m.data
    );
    assert!(m.data.contains("gate `refund_limit` holds an action"));
    assert!(
        m.data
            .contains("Approve or deny: https://ops.agency.test/console/cases/T-3002")
    );
    let id = |data: &str| {
        data.lines()
            .find(|l| l.starts_with("Message-ID:"))
            .unwrap()
            .to_string()
    };
    assert!(id(&m.data).contains("<meshline.7."), "{}", m.data);
    assert!(id(&m.data).ends_with("@agency.test>"));
    assert_eq!(
        id(&m.data),
        id(&mails[1].data),
        "a retry keeps the Message-ID"
    );

    // A notification for someone without an address goes to the default `to`, through
    // the template named for its kind.
    let c = connector(
        &format!(
            "[connectors.mail]\nvendor = \"smtp\"\nhost = \"localhost\"\nport = {}\nsecurity = \"none\"\n\
             from = \"meshline@agency.test\"\nto = [\"ops@agency.test\"]\n\
             [connectors.mail.templates]\nnotify = \"SLA warning on {{case}} for {{to}}.\"\n",
            d.port
        ),
        "mail",
    );
    let n =
        json!({ "seq": 9, "kind": "notify", "case": "T-1", "rule": "sla_warning", "to": "kofi" });
    assert_eq!(c.attempt(&n, &n.to_string()).attempt, Attempt::Ok);
    let m = d.mails().pop().unwrap();
    assert_eq!(m.rcpt, ["<ops@agency.test>"]);
    assert!(
        m.data.contains("SLA warning on T-1 for kofi."),
        "{}",
        m.data
    );
}

/// STARTTLS is required by default: the double's certificate is trusted through
/// `ca_file`, the login goes over TLS; a 4yz answer is retried and a 5yz one is final.
#[test]
fn starttls_login_and_reply_classes() {
    let d = Double::start(
        true,
        vec!["451 4.3.0 Try again later", "550 5.1.1 No such user"],
    );
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &d.ca_pem).unwrap();
    let c = connector(
        &format!(
            "[connectors.mail]\nvendor = \"smtp\"\nhost = \"localhost\"\nport = {}\n\
             username = \"meshline\"\npassword = \"env:CARGO_PKG_NAME\"\nca_file = {:?}\n\
             from = \"meshline@agency.test\"\nto = [\"ops@agency.test\"]\n",
            d.port,
            ca.display().to_string()
        ),
        "mail",
    );
    let cmd = json!({ "seq": 3, "kind": "reconciliation", "case": "T-9", "automation": "refund",
                      "owner": "finance", "reason": "Stripe 402 card_error" });
    let line = cmd.to_string();
    let first = c.attempt(&cmd, &line).attempt;
    assert!(
        matches!(&first, Attempt::Retry(r) if r.contains("451")),
        "{first:?}"
    );
    let second = c.attempt(&cmd, &line).attempt;
    assert!(
        matches!(&second, Attempt::Refused(r) if r.contains("550")),
        "{second:?}"
    );
    assert_eq!(c.attempt(&cmd, &line).attempt, Attempt::Ok);
    let mails = d.mails();
    assert_eq!(mails.len(), 3);
    assert!(mails.iter().all(|m| m.tls), "every message went over TLS");
    let login = mails[0].login.clone().unwrap();
    assert_eq!(
        login,
        ("meshline".to_string(), "meshline-serve".to_string())
    );
    assert!(
        mails[2]
            .data
            .contains("Reconciliation needed on case T-9 for finance")
    );
}

/// A server without STARTTLS is refused rather than used in clear text; a certificate
/// from another CA is refused.
#[test]
fn no_clear_text_and_no_untrusted_certificate() {
    let plain = Double::start(false, vec![]);
    let c = connector(
        &format!(
            "[connectors.mail]\nvendor = \"smtp\"\nhost = \"localhost\"\nport = {}\n\
             from = \"meshline@agency.test\"\nto = [\"ops@agency.test\"]\n",
            plain.port
        ),
        "mail",
    );
    let cmd = approval();
    let got = c.attempt(&cmd, &cmd.to_string()).attempt;
    assert!(
        matches!(&got, Attempt::Refused(r) if r.contains("STARTTLS")),
        "{got:?}"
    );
    assert!(plain.mails().is_empty(), "nothing was sent in clear text");

    let tls = Double::start(true, vec![]);
    let other = Double::start(true, vec![]);
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("other.pem");
    std::fs::write(&ca, &other.ca_pem).unwrap();
    let c = connector(
        &format!(
            "[connectors.mail]\nvendor = \"smtp\"\nhost = \"localhost\"\nport = {}\nca_file = {:?}\n\
             from = \"meshline@agency.test\"\nto = [\"ops@agency.test\"]\n",
            tls.port,
            ca.display().to_string()
        ),
        "mail",
    );
    let got = c.attempt(&cmd, &cmd.to_string()).attempt;
    assert!(
        matches!(&got, Attempt::Refused(r) if r.contains("SMTP")),
        "{got:?}"
    );
    assert!(tls.mails().is_empty());
}

/// Settings are checked when `serve` starts: a bad address, an unknown placeholder, a
/// routed kind without addresses, clear text to another host.
#[test]
fn email_settings_are_checked_at_start() {
    let bad = |toml: &str, says: &str| {
        let config: Config = toml::from_str(toml).unwrap();
        let e = config
            .check()
            .and_then(|()| config.connectors.prepare().map(|_| ()))
            .unwrap_err();
        assert!(e.contains(says), "{e}");
    };
    let base = "[connectors.mail]\nvendor = \"smtp\"\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n";
    bad(&format!("{base}to = [\"ops@x.test\"]\n"), "needs `from`");
    bad(
        &format!("{base}from = \"not an address\"\n"),
        "is not an e-mail address",
    );
    bad(
        &format!("{base}from = \"m@x.test\"\n[connectors.mail.templates]\nnotify = \"{{cse}}\"\n"),
        "unknown placeholder {cse}",
    );
    bad(
        &format!("[connectors]\nreconciliation = \"mail\"\n{base}from = \"m@x.test\"\n"),
        "needs `to` or `recipients`",
    );
    bad(
        "[connectors.mail]\nvendor = \"smtp\"\nhost = \"smtp.example.com\"\nsecurity = \"none\"\nfrom = \"m@x.test\"\n",
        "clear text",
    );
}

/// The `email` connector's `send(to, template)`: the template's text to the person, its
/// `Subject:` line as the subject; an unknown template or a bad address is final.
#[test]
fn the_send_action_mails_a_template_to_a_person() {
    let d = Double::start(false, vec![]);
    let c = connector(
        &format!(
            "[connectors.email]\nvendor = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"support@agency.test\"\n[connectors.email.templates]\n\
             refund_done = \"Subject: Your refund ({{case}})\\nYour refund is on its way.\"\n",
            d.port
        ),
        "email",
    );
    let send = |to: &str, template: &str| {
        json!({ "seq": 12, "kind": "action", "key": "k-12", "connector": "email", "action": "send",
                "args": { "to": to, "template": template }, "case": "T-5" })
    };
    let cmd = send("maria@client.test", "refund_done");
    assert_eq!(c.attempt(&cmd, &cmd.to_string()).attempt, Attempt::Ok);
    let m = d.mails().pop().unwrap();
    assert_eq!(m.rcpt, ["<maria@client.test>"]);
    assert!(m.data.contains("Subject: Your refund (T-5)"), "{}", m.data);
    assert!(m.data.contains("Your refund is on its way."));
    for (to, template, says) in [
        ("maria@client.test", "welcome", "no template `welcome`"),
        ("not an address", "refund_done", "is not an e-mail address"),
    ] {
        let cmd = send(to, template);
        let got = c.attempt(&cmd, &cmd.to_string()).attempt;
        assert!(
            matches!(&got, Attempt::Refused(r) if r.contains(says)),
            "{got:?}"
        );
    }
    assert_eq!(d.mails().len(), 1);
}
