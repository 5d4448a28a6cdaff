//! Load generator for `meshline serve` (docs/performance.md). Not a test.
//!
//! ```text
//! cargo run --release -p meshline-serve --example load -- \
//!     ADDR SAMPLE.jsonl MODE CONNS SECONDS [BATCH|RATE]
//! ```
//! MODE `throughput`: CONNS keep-alive connections each POST NDJSON batches of BATCH events
//! back to back (closed loop); prints durable events/s. MODE `latency`: single events at
//! RATE events/s in total, spread over CONNS connections (open loop: latency is measured
//! from each event's scheduled send time); prints p50/p99/max acknowledgement latency.
//! Events are the sample's, repeated with fresh ids and cases, stamped in 2099 so the wall
//! clock fires no timer.

#![allow(
    clippy::unwrap_used,
    reason = "a load-generating example: it stops on the first error"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value as Json, json};

struct Conn {
    w: TcpStream,
    r: BufReader<TcpStream>,
}

impl Conn {
    fn new(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).ok();
        Conn {
            w: s.try_clone().unwrap(),
            r: BufReader::new(s),
        }
    }

    /// One POST /events; the status.
    fn post(&mut self, body: &str) -> u16 {
        write!(
            self.w,
            "POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut line = String::new();
        self.r.read_line(&mut line).unwrap();
        let status: u16 = line.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap();
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line).unwrap();
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0u8; len];
        self.r.read_exact(&mut body).unwrap();
        status
    }
}

/// Envelopes for worker `w`: the sample repeated, fresh ids and cases, 2099 times.
struct Gen {
    samples: Vec<Json>,
    worker: usize,
    n: usize,
}

impl Gen {
    fn next(&mut self) -> String {
        let round = self.n / self.samples.len();
        let mut v = self.samples[self.n % self.samples.len()].clone();
        self.n += 1;
        let tag = format!("w{}r{round}", self.worker);
        let id = format!("{}-{tag}", v["id"].as_str().unwrap_or(""));
        let case = format!("{}-{tag}", v["case"].as_str().unwrap_or(""));
        let at: jiff::Timestamp = v["at"].as_str().unwrap().parse().unwrap();
        let at = jiff::Timestamp::from_second(
            at.as_second() + 2_303_000_000 + round as i64 * 3 * 86_400,
        )
        .unwrap();
        v["id"] = json!(id);
        v["case"] = json!(case);
        v["at"] = json!(at.to_string());
        v.to_string()
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 6 {
        eprintln!("usage: load ADDR SAMPLE.jsonl throughput|latency CONNS SECONDS [BATCH|RATE]");
        std::process::exit(2);
    }
    let (addr, sample, mode) = (a[1].clone(), &a[2], a[3].as_str());
    let conns: usize = a[4].parse().unwrap();
    let secs: u64 = a[5].parse().unwrap();
    let param: usize = a.get(6).and_then(|s| s.parse().ok()).unwrap_or(100);
    let samples: Vec<Json> = std::fs::read_to_string(sample)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let handles: Vec<_> = (0..conns)
        .map(|w| {
            let (addr, samples, mode) = (addr.clone(), samples.clone(), mode.to_string());
            std::thread::spawn(move || {
                let mut c = Conn::new(&addr);
                let mut g = Gen {
                    samples,
                    worker: w,
                    n: 0,
                };
                let mut events = 0u64;
                let mut lat = Vec::new();
                if mode == "throughput" {
                    while Instant::now() < end {
                        let mut body = String::new();
                        for _ in 0..param {
                            body.push_str(&g.next());
                            body.push('\n');
                        }
                        let st = c.post(&body);
                        assert!(st == 202 || st == 200 || st == 400, "status {st}");
                        events += param as u64;
                    }
                } else {
                    // Open loop: this connection's share of the rate, on a fixed schedule.
                    let every = Duration::from_secs_f64(conns as f64 / param as f64);
                    let mut due = start + every.mul_f64(w as f64 / conns as f64);
                    while due < end {
                        let now = Instant::now();
                        if due > now {
                            std::thread::sleep(due - now);
                        }
                        let st = c.post(&g.next());
                        assert!(st == 202 || st == 200, "status {st}");
                        lat.push(due.elapsed());
                        events += 1;
                        due += every;
                    }
                }
                (events, lat)
            })
        })
        .collect();
    let mut events = 0;
    let mut lat = Vec::new();
    for h in handles {
        let (e, l) = h.join().unwrap();
        events += e;
        lat.extend(l);
    }
    let elapsed = start.elapsed().as_secs_f64();
    println!(
        "{mode}: {events} durable events in {elapsed:.1} s = {:.0} events/s",
        events as f64 / elapsed
    );
    if !lat.is_empty() {
        lat.sort();
        let q = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!(
            "ack latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            q(0.50).as_secs_f64() * 1e3,
            q(0.99).as_secs_f64() * 1e3,
            lat[lat.len() - 1].as_secs_f64() * 1e3,
            lat.len()
        );
    }
}
