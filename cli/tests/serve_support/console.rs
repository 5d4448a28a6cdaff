//! The console's test helpers (`serve_console.rs`, `console_browser.rs`): a server on the
//! refunds example with console users, raw HTTP calls with cookies, a held refund.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::root;
use super::server::{Server, http};

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// One request with a cookie and a form body; the whole answer.
pub fn call(port: u16, method: &str, path: &str, cookie: Option<&str>, form: &str) -> Answer {
    call_with(
        port,
        method,
        path,
        cookie,
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    )
}

/// A `multipart/form-data` body of `(name, file name, content)` parts: its content type
/// and bytes.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "meshline-test-boundary-7d2f";
    let mut body = Vec::new();
    for (name, file, content) in parts {
        let file = file.map_or(String::new(), |f| format!("; filename=\"{f}\""));
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"{file}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// One request with a cookie and a body of `content_type`; the whole answer.
pub fn call_with(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> Answer {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{cookie}Content-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let out = String::from_utf8_lossy(&out).into_owned();
    let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    Answer {
        status: head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0),
        head: head.to_string(),
        body: body.to_string(),
    }
}

pub fn password_hash(password: &str) -> String {
    let mut child = Command::new(BIN)
        .arg("password-hash")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A server on the refunds example whose console knows two managers and a viewer.
pub fn console_server() -> (Server, std::process::Child) {
    let users = [
        ("dana@tallyhub.com", "viewer", "dana-pass"),
        ("luis@tallyhub.com", "viewer", "luis-pass"),
        ("rachel@tallyhub.com", "admin", "rachel-pass"),
    ];
    let mut config = String::from("[console]\nrefresh_seconds = 1\n");
    for (user, role, pw) in users {
        config.push_str(&format!(
            "[console.users.\"{user}\"]\nrole = \"{role}\"\npassword_hash = \"{}\"\n",
            password_hash(pw)
        ));
    }
    let s = Server::new(&config);
    let bundle = s.path("refunds.meshb");
    let st = Command::new(BIN)
        .arg("build")
        .arg(root().join("examples/refunds"))
        .arg("-o")
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(st.status.success());
    let child = s.start_with(&bundle, &[]);
    (s, child)
}

/// Sign in; the session cookie (`name=value`).
pub fn sign_in(port: u16, user: &str, password: &str) -> String {
    let a = call(
        port,
        "POST",
        "/ui/login",
        None,
        &format!("user={}&password={password}", user.replace('@', "%40")),
    );
    assert_eq!(a.status, 303, "{}{}", a.head, a.body);
    let cookie = a.header("set-cookie").unwrap().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/ui"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    cookie.split(';').next().unwrap().to_string()
}

/// A refund of 480 USD asked for by `requester`, held by the manager gate, stamped a
/// minute ago (the wall clock would expire an old hold).
pub fn held_refund(port: u16, case: &str, requester: &str) {
    let at =
        |back: i64| (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(back)).to_string();
    let lines = format!(
        "{{\"id\":\"{case}-1\",\"type\":\"TicketCreated\",\"at\":\"{}\",\"case\":\"{case}\",\"data\":{{\"ticket\":{{\"id\":\"{case}\",\"type\":\"billing\",\"subject\":\"Refund\",\"tags\":[\"refund\"],\"status\":\"New\",\"priority\":\"Normal\",\"requester\":\"olivia@brightlane.co\"}},\"channel\":\"Web\"}}}}\n\
         {{\"id\":\"{case}-2\",\"type\":\"RefundRequested\",\"at\":\"{}\",\"case\":\"{case}\",\"data\":{{\"charge\":{{\"id\":\"ch_{case}\",\"customer\":\"cus_1\",\"amount\":\"480.00 USD\",\"amount_refunded\":\"0.00 USD\",\"status\":\"Succeeded\",\"created_at\":\"2026-02-14T16:22:05Z\"}},\"amount\":\"480.00 USD\",\"refund_reason\":\"RequestedByCustomer\",\"requested_by\":\"{requester}\"}}}}\n",
        at(90),
        at(60)
    );
    let (code, body) = http(port, "POST", "/events", lines.as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
}

/// Wait until the case page offers the approval form (the figures thread saw the hold).
pub fn form_for(port: u16, cookie: &str, case: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = call(port, "GET", &format!("/ui/cases/{case}"), Some(cookie), "");
        if a.body.contains("name=\"decision\"") || Instant::now() > deadline {
            return a.body;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn csrf_of(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    page[at..at + 64].to_string()
}
