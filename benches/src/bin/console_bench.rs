//! `console_bench [MESHLINE] [EVENTS] [CASES]`: the console's page latency on a large state
//! (docs/performance.md, "The console"). Starts `meshline serve` (default
//! `target/release/meshline`) with a console user on the run_bench project, posts EVENTS
//! generated events (default 200,000 over 100,000 cases, stamped over the last day so every
//! window has data) in NDJSON batches, waits until the console's figures have folded the
//! whole ledger, then requests each page 50 times, one at a time, and prints p50, p95, max
//! and the page's size. The writer keeps running (wall-clock timers) during the requests.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn call(port: u16, method: &str, path: &str, cookie: &str, body: &[u8]) -> (u16, String, String) {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return (0, String::new(), String::new());
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(120)));
    let kind = if path == "/events" {
        "application/x-ndjson"
    } else {
        "application/x-www-form-urlencoded"
    };
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{cookie}Content-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = s.write_all(head.as_bytes());
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let out = String::from_utf8_lossy(&out).into_owned();
    let (h, b) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = h
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, h.to_string(), b.to_string())
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let bin = args
        .next()
        .unwrap_or_else(|| "target/release/meshline".to_string());
    let events: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200_000);
    let cases: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    match run(&bin, events, cases) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("console_bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(bin: &str, events: usize, cases: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("meshline-console-bench-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rules")).map_err(|e| e.to_string())?;
    let w = |p: &str, t: &str| std::fs::write(dir.join(p), t).map_err(|e| e.to_string());
    w(
        "meshline.toml",
        "[package]\nname = \"bench\"\nversion = \"1.0.0\"\n",
    )?;
    w(
        "rules/main.mesh",
        &meshline_benches::runtime_gen::project(20),
    )?;
    let mut hash = Command::new(bin)
        .arg("password-hash")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{bin}: {e}"))?;
    if let Some(mut i) = hash.stdin.take() {
        let _ = i.write_all(b"bench-pass\n");
    }
    let hash = hash.wait_with_output().map_err(|e| e.to_string())?;
    let hash = String::from_utf8_lossy(&hash.stdout).trim().to_string();
    w(
        "serve.toml",
        &format!(
            "max_batch_lines = 10000\n[console]\nrefresh_seconds = 5\n[console.users.\"lead@x.io\"]\nrole = \"admin\"\npassword_hash = \"{hash}\"\n"
        ),
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let mut child = Command::new(bin)
        .arg("serve")
        .arg("--bundle")
        .arg(&dir)
        .arg("--state")
        .arg(dir.join("state.sqlite"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--config")
        .arg(dir.join("serve.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let result = measure(port, events, cases);
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn measure(port: u16, events: usize, cases: usize) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while call(port, "GET", "/readyz", "", b"").0 != 200 {
        if Instant::now() > deadline {
            return Err("serve did not become ready".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    // Stamp the generated history over the day before now, in order.
    let now = jiff::Timestamp::now().as_second();
    let lines = meshline_benches::runtime_gen::events(cases, events, 7);
    let step = 86_400.0 / events as f64;
    let t0 = Instant::now();
    for (n, batch) in lines.chunks(1000).enumerate() {
        let mut body = String::new();
        for (k, l) in batch.iter().enumerate() {
            let i = n * 1000 + k;
            let at = jiff::Timestamp::from_second(now - 86_400 + (i as f64 * step) as i64)
                .map_err(|e| e.to_string())?;
            let mut v: serde_json::Value = serde_json::from_str(l).map_err(|e| e.to_string())?;
            v["at"] = serde_json::Value::String(at.to_string());
            body.push_str(&v.to_string());
            body.push('\n');
        }
        let (status, _, b) = call(port, "POST", "/events", "", body.as_bytes());
        if status != 202 && status != 200 {
            return Err(format!("POST /events: {status} {b}"));
        }
    }
    println!(
        "ingested {events} events over {cases} cases in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let (status, head, _) = call(
        port,
        "POST",
        "/ui/login",
        "",
        b"user=lead%40x.io&password=bench-pass",
    );
    if status != 303 {
        return Err(format!("sign-in: {status}"));
    }
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .map(|c| format!("Cookie: {c}\r\n"))
        .ok_or("no session cookie")?;
    // Wait until a pass has folded every stored entry (the figures' count reaches the
    // writer's, from /metrics), so the pages are measured over the whole ledger.
    let t1 = Instant::now();
    loop {
        let (_, _, m) = call(port, "GET", "/metrics", "", b"");
        let stored: u64 = m
            .lines()
            .filter(|l| l.starts_with("meshline_ledger_entries_total{"))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
            .sum();
        let (_, _, b) = call(port, "GET", "/ui/at-risk", &cookie, b"");
        let figures = b
            .split("Figures from ")
            .nth(1)
            .and_then(|r| r.split(" ledger entries").next())
            .and_then(|n| n.replace(',', "").parse::<u64>().ok())
            .unwrap_or(0);
        if stored > 0 && figures == stored {
            println!(
                "figures over all {stored} stored ledger entries ({:.1} s after ingest)",
                t1.elapsed().as_secs_f64()
            );
            break;
        }
        if t1.elapsed() > Duration::from_secs(900) {
            return Err(format!(
                "figures at {figures} of {stored} entries after 15 min"
            ));
        }
        std::thread::sleep(Duration::from_secs(3));
    }
    println!("| page | p50 | p95 | max | size |\n|---|---|---|---|---|");
    for path in [
        "/ui",
        "/ui?window=30days",
        "/ui/at-risk",
        "/ui/automations",
        "/ui/deployments",
        "/ui/cases?q=C4242",
        // C4242's client is cl254 (`case % 997`, benches/src/runtime_gen.rs).
        "/ui/cases?client=cl254",
        "/ui/cases?class=Billing&team=t3",
        "/ui/cases/C4242",
    ] {
        let mut times = Vec::new();
        let mut size = 0;
        for _ in 0..50 {
            let t = Instant::now();
            let (status, _, b) = call(port, "GET", path, &cookie, b"");
            times.push(t.elapsed());
            if status != 200 {
                return Err(format!("{path}: {status}"));
            }
            size = b.len();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| `{path}` | {:.1} ms | {:.1} ms | {:.1} ms | {} KB |",
            ms(times[24]),
            ms(times[47]),
            ms(times[49]),
            size / 1024
        );
    }
    Ok(())
}
