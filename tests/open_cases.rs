//! Aggregates of open cases through the engine (docs/runtime.md, "Open cases per key"): a
//! case counts while it is open, under the key its facts give; the counts survive the
//! bundle's `open_cases` section, a snapshot and restore (byte for byte), and a deployment
//! that changes the declaration recounts from the live cases.

use meshline_runtime::Engine;
use meshline_runtime::bundle::{self, Manifest};
use meshline_runtime::ir::Program;

use crate::reload::program;

const BASE: &str = r#"
enum Klass { General }
record Ticket { id: String, client: String? }
event Opened { ticket: Ticket }
event Updated { ticket: Ticket }
event Solved { ticket: Ticket }
event Reopened { ticket: Ticket }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on Opened {
  otherwise General
}
owners {
  General -> desk escalate leads
}
lifecycle {
  solved on Solved
  reopened on Reopened
}
aggregate client_cases[client: String] {
  open cases by ticket.client
  open: Int = count
}
route busy on Opened, Updated when client_cases[ticket.client].open >= 2 {
  assign leads
}
"#;

/// The program as a bundle carries it (sections decoded), so the `open_cases` section is
/// what the engine reads.
fn bundled(text: &str) -> Program {
    let manifest = Manifest {
        package: "p".into(),
        version: "1.0.0".into(),
        compiler_version: "0".into(),
        source_hash: "00".into(),
        tzdb_version: "x".into(),
        automations: Vec::new(),
        sources: Default::default(),
        tables: Default::default(),
    };
    let bytes = bundle::encode(&manifest, &program(text)).expect("encodes");
    bundle::decode::<Program>(&bytes).expect("decodes").1
}

fn send(engine: &mut Engine, n: u32, event: &str, case: &str, client: Option<&str>) {
    let client = client.map_or("null".to_string(), |c| format!("\"{c}\""));
    let line = format!(
        r#"{{"id":"e{n}","type":"{event}","at":"2026-03-02T10:{n:02}:00Z","case":"{case}","data":{{"ticket":{{"id":"{case}","client":{client}}}}}}}"#
    );
    engine.apply_line(&line);
}

fn assignee(engine: &Engine, case: &str) -> Option<String> {
    engine.case_view(case).and_then(|c| c.assignee)
}

fn drained(engine: &mut Engine) -> Vec<String> {
    engine
        .drain()
        .0
        .iter()
        .map(|e| format!("{} {:?} {} {}", e.at, e.case, e.kind, e.detail))
        .collect()
}

#[test]
fn the_bundle_carries_the_clause() {
    let p = bundled(BASE);
    assert!(p.aggregates[0].cases.is_some(), "section `open_cases` read");
}

#[test]
fn open_solved_reopened_and_a_moved_key_through_snapshots() {
    let p = bundled(BASE);
    let mut straight = Engine::new(p.clone(), "v1").expect("loads");
    let mut restored = Engine::new(p.clone(), "v1").expect("loads");
    let steps: [(&str, &str, Option<&str>); 8] = [
        ("Opened", "T-1", Some("acme")),
        ("Opened", "T-2", Some("acme")), // two open: leads
        ("Solved", "T-1", Some("acme")),
        ("Opened", "T-3", Some("acme")),   // T-2, T-3: leads again
        ("Updated", "T-3", Some("other")), // moved: acme has T-2 alone
        ("Opened", "T-4", Some("other")),  // other: T-3, T-4
        ("Reopened", "T-1", Some("acme")),
        ("Opened", "T-5", None), // no client: counts nowhere
    ];
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (n, (event, case, client)) in steps.iter().enumerate() {
        send(&mut straight, n as u32, event, case, *client);
        a.extend(drained(&mut straight));
        send(&mut restored, n as u32, event, case, *client);
        b.extend(drained(&mut restored));
        let bytes = restored.snapshot().expect("snapshot");
        restored = Engine::restore(p.clone(), "v1", &bytes).expect("restores");
    }
    assert_eq!(
        a, b,
        "a restored engine writes what one that never stopped writes"
    );
    assert_eq!(
        straight.snapshot().unwrap(),
        restored.snapshot().unwrap(),
        "equal states, equal bytes"
    );
    assert_eq!(assignee(&straight, "T-1").as_deref(), Some("desk"));
    assert_eq!(assignee(&straight, "T-2").as_deref(), Some("leads"));
    assert_eq!(assignee(&straight, "T-4").as_deref(), Some("leads"));
    // T-3 was re-decided on its Updated: `other` had only T-3 then.
    assert_eq!(assignee(&straight, "T-3").as_deref(), Some("desk"));
    // Reopening T-1 puts acme back at two: the next acme event sees it.
    send(&mut straight, 20, "Updated", "T-2", Some("acme"));
    assert_eq!(assignee(&straight, "T-2").as_deref(), Some("leads"));
    send(&mut straight, 21, "Solved", "T-1", Some("acme"));
    send(&mut straight, 22, "Opened", "T-6", Some("acme"));
    // acme: T-2 and T-6.
    assert_eq!(assignee(&straight, "T-6").as_deref(), Some("leads"));
    send(&mut straight, 23, "Solved", "T-2", Some("acme"));
    send(&mut straight, 24, "Updated", "T-6", Some("acme"));
    // acme: T-6 alone now; no route matches and the owner team takes it.
    assert_eq!(assignee(&straight, "T-6").as_deref(), Some("desk"));
    send(&mut straight, 25, "Opened", "T-7", Some("acme"));
    // acme: T-6 and T-7.
    assert_eq!(assignee(&straight, "T-7").as_deref(), Some("leads"));
    send(&mut straight, 26, "Solved", "T-6", Some("acme"));
    send(&mut straight, 27, "Opened", "T-8", Some("newco"));
    assert_eq!(assignee(&straight, "T-8").as_deref(), Some("desk"));
}

#[test]
fn a_changed_declaration_is_recounted_from_the_live_cases() {
    let mut engine = Engine::new(bundled(BASE), "v1").expect("loads");
    send(&mut engine, 1, "Opened", "T-1", Some("acme"));
    send(&mut engine, 2, "Solved", "T-1", Some("acme"));
    send(&mut engine, 3, "Opened", "T-2", Some("acme"));
    assert_eq!(assignee(&engine, "T-2").as_deref(), Some("desk"));
    // v2 adds a `when` that holds for every case: a changed declaration, counted afresh
    // from the live cases — T-2 is the only open acme case, T-1 is solved.
    let v2 = BASE.replace(
        "open cases by ticket.client\n",
        "open cases by ticket.client when ticket.id != \"\"\n",
    );
    engine.reload(bundled(&v2), "v2").expect("compatible");
    send(&mut engine, 4, "Opened", "T-3", Some("acme"));
    assert_eq!(assignee(&engine, "T-3").as_deref(), Some("leads"));
    // v3 counts only a case with id "T-9": recounted, acme has none.
    let v3 = BASE.replace(
        "open cases by ticket.client\n",
        "open cases by ticket.client when ticket.id == \"T-9\"\n",
    );
    engine.reload(bundled(&v3), "v3").expect("compatible");
    send(&mut engine, 5, "Opened", "T-4", Some("acme"));
    assert_eq!(assignee(&engine, "T-4").as_deref(), Some("desk"));
}
