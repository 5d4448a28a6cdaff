//! The console in a real browser (Debian's chromium through chromedriver, over WebDriver):
//! sign in, read the overview's figures and check them against `meshline report` on the
//! same ledger, open a case and find its story, see the requester's own approval refused,
//! approve as the second manager and see the refund execute, and be sent to sign-in when
//! anonymous. On failure a screenshot is written to `target/console-screenshots/`.
//! `MESHLINE_SCREENSHOTS=DIR` also keeps the pages' screenshots (docs/console.md's).

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

mod serve_support;
use serve_support::console::{console_server, held_refund};
use serve_support::root;

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver on a free port, ready.
fn chromedriver() -> (Driver, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian: apt-get install chromium chromium-driver)");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    (Driver(child), port)
}

async fn browser(driver_port: u16) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--no-first-run", "--disable-background-networking"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .unwrap()
}

fn shots_dir() -> PathBuf {
    std::env::var_os("MESHLINE_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/console-screenshots"))
}

async fn shot(c: &Client, name: &str) {
    let dir = shots_dir();
    let _ = std::fs::create_dir_all(&dir);
    if let Ok(png) = c.screenshot().await {
        let _ = std::fs::write(dir.join(format!("{name}.png")), png);
    }
}

/// The text of the first element matching `css`, waiting for it (a click's page loads
/// asynchronously).
async fn text_of(c: &Client, css: &str) -> String {
    c.wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn sign_in(c: &Client, base: &str, user: &str, password: &str) {
    c.goto(&format!("{base}/ui/login")).await.unwrap();
    c.find(Locator::Css("input[name=user]"))
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    c.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    click(c, "form button").await;
    // Signed in once the page that follows shows who: the next navigation must not race
    // the sign-in's answer (and its cookie).
    let who = text_of(c, "nav .who").await;
    assert!(who.starts_with(user), "{who}");
}

/// Reload the case page until the approval form is there (the figures thread saw the hold).
async fn open_case_with_form(c: &Client, base: &str, case: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        c.goto(&format!("{base}/ui/cases/{case}")).await.unwrap();
        if c.find(Locator::Css("button[value=approve]")).await.is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "no approval form on {case}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn scenario(c: &Client, base: &str, s: &serve_support::server::Server) {
    // Anonymous: sent to sign in.
    c.goto(&format!("{base}/ui/cases/T-7101")).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/ui/login"));

    // The requester signs in: the overview's figures are `meshline report`'s on the same ledger.
    sign_in(c, base, "dana@tallyhub.com", "dana-pass").await;
    c.goto(&format!("{base}/ui?window=30days")).await.unwrap();
    let (_, ledger, _) = s.export();
    let file = s.path("console-ledger.jsonl");
    std::fs::write(&file, &ledger).unwrap();
    let out = Command::new(BIN)
        .args(["report", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let v = &report["volumes"];
    let expected = format!(
        "{} events received, {} cases opened",
        v["events"], v["cases_opened"]
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let main = text_of(c, "main").await;
        if main.contains(&expected) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "overview lacks `{expected}`:\n{main}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.unwrap();
    }
    shot(c, "overview").await;

    // The case's story, and the requester's own approval refused with the engine's reason.
    open_case_with_form(c, base, "T-7101").await;
    let main = text_of(c, "main").await;
    assert!(main.contains("Story") && main.contains("held"), "{main}");
    shot(c, "case").await;
    click(c, "button[value=approve]").await;
    let notice = text_of(c, "p.notice").await;
    assert!(
        notice.contains("Refused: dual control: the requester cannot approve their own request"),
        "{notice}"
    );
    shot(c, "refused").await;
    click(c, "nav form button").await;

    // The other manager approves: the refund executes.
    sign_in(c, base, "luis@tallyhub.com", "luis-pass").await;
    c.goto(&format!("{base}/ui/at-risk")).await.unwrap();
    assert!(text_of(c, "main").await.contains("T-7101"));
    shot(c, "at-risk").await;
    open_case_with_form(c, base, "T-7101").await;
    click(c, "button[value=approve]").await;
    let notice = text_of(c, "p.notice").await;
    assert!(
        notice.contains("Approved by luis@tallyhub.com."),
        "{notice}"
    );
    let (_, ledger, _) = s.export();
    assert!(ledger.lines().any(|l| l.contains("\"kind\":\"executed\"")
        && l.contains("T-7101")
        && l.contains("stripe.refund")));
}

#[test]
fn the_console_in_a_browser() {
    let (s, _child) = console_server();
    held_refund(s.port, "T-7101", "dana@tallyhub.com");
    let (_driver, driver_port) = chromedriver();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let c = browser(driver_port).await;
        let base = format!("http://127.0.0.1:{}", s.port);
        let run = tokio::spawn({
            let c = c.clone();
            async move { scenario(&c, &base, &s).await }
        });
        let result = run.await;
        if result.is_err() {
            shot(&c, "failure").await;
        }
        let _ = c.close().await;
        if let Err(e) = result {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}
