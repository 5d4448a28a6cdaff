//! Finished automation runs over deployments (docs/deploy.md, "Migrations by name"): a
//! finished run needs nothing from its trigger's declaration, so removing the trigger event
//! (or the automation) does not refuse the deployment. A kept automation's finished run
//! forgets its trigger's data and keeps counting for `once per case`; a removed automation's
//! finished runs leave the case, and re-adding the automation starts its count afresh. A
//! live run whose trigger is removed is still refused, naming the case.

use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;
use serde_json::json;

use crate::reload::program;

const V1: &str = r##"
enum Klass { Any }
event Opened { note: String }
event Escalated { note: String }
team desk { members ["ana@x.io"] }
classify Klass on Opened {
  otherwise Any
}
owners {
  Any -> desk escalate desk
}
automation alert {
  version 1
  owner desk
  on Escalated
  once per case
  do {
    slack.post(channel: "#legal", text: note)
  }
}
"##;

/// V1 with `Escalated` replaced by `Flagged`, the kept automation now triggered by it.
fn flagged() -> String {
    V1.replace("event Escalated {", "event Flagged {")
        .replace("on Escalated", "on Flagged")
}

/// V1 without `Escalated` and without the automation it triggered.
fn without() -> String {
    let start = V1.find("automation alert").expect("the automation");
    V1[..start].replace("event Escalated { note: String }\n", "")
}

fn send(engine: &mut Engine, id: &str, ty: &str, case: &str) -> Vec<Entry> {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"{ty}","at":"2026-03-02T10:00:00Z","case":"{case}","data":{{"note":"dpa missing"}}}}"#
    ));
    engine.drain().0
}

/// Case C-1 opened and escalated: its `alert` run executes `slack.post`; the key.
fn escalated(engine: &mut Engine) -> String {
    send(engine, "e1", "Opened", "C-1");
    let entries = send(engine, "e2", "Escalated", "C-1");
    entries
        .iter()
        .find(|e| e.kind == "executed")
        .and_then(|e| e.detail["key"].as_str())
        .expect("the run executes")
        .to_string()
}

fn finish(engine: &mut Engine, key: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"s1","type":"ActionSucceeded","at":"2026-03-02T10:01:00Z","case":"C-1","data":{{"key":"{key}","action":"slack.post"}}}}"#
    ));
    engine.drain();
}

fn kinds(entries: &[Entry]) -> Vec<(&str, Option<&str>)> {
    entries
        .iter()
        .map(|e| (e.kind.as_str(), e.case.as_deref()))
        .collect()
}

#[test]
fn a_finished_run_forgets_its_removed_trigger_event_and_still_counts_once() {
    let mut engine = Engine::new(program(V1), "v1").expect("loads");
    let key = escalated(&mut engine);
    // While the run waits for its outcome it needs its trigger: refused, naming the case.
    let why = engine
        .reload_incompatibility(&program(&flagged()))
        .expect("refused");
    assert!(
        why.contains(
            "case C-1: a live run of automation alert was triggered by an event the new bundle \
             removes"
        ),
        "{why}"
    );
    finish(&mut engine, &key);
    engine
        .reload(program(&flagged()), "v2")
        .expect("a finished run does not block");
    let (entries, _) = engine.drain();
    assert_eq!(
        kinds(&entries),
        [("deployed", None), ("migrated", Some("C-1"))]
    );
    assert_eq!(
        entries[1].detail,
        json!({ "forgotten_triggers": [{ "automation": "alert", "trigger": "e2",
            "event": "Escalated", "reason": "was triggered by an event the new bundle removes" }] })
    );
    // `once per case` still counts the run, by the id of the event it started on.
    let again = send(&mut engine, "e3", "Flagged", "C-1");
    let skipped: Vec<&Entry> = again.iter().filter(|e| e.kind == "skipped").collect();
    assert_eq!(skipped.len(), 1, "{again:?}");
    assert_eq!(
        skipped[0].detail,
        json!({ "reason": "once_per_case", "ran_on": "e2", "trigger": "e3" })
    );
    assert!(!again.iter().any(|e| e.kind == "executed"));
    let other = send(&mut engine, "e4", "Flagged", "C-2");
    assert!(other.iter().any(|e| e.kind == "executed"), "{other:?}");
    // The carried run snapshots, restores to the same bytes, and still counts.
    let bytes = engine.snapshot().expect("snapshot");
    let mut restored = Engine::restore(engine.program().clone(), "v2", &bytes).expect("restores");
    assert_eq!(restored.snapshot().expect("snapshot"), bytes);
    let after = send(&mut restored, "e5", "Flagged", "C-1");
    assert!(after.iter().any(|e| e.kind == "skipped"), "{after:?}");
}

#[test]
fn a_finished_run_of_a_removed_automation_and_event_leaves_and_a_re_added_one_runs_afresh() {
    let mut engine = Engine::new(program(V1), "v1").expect("loads");
    let key = escalated(&mut engine);
    finish(&mut engine, &key);
    engine
        .reload(program(&without()), "v2")
        .expect("a finished run does not block");
    let (entries, _) = engine.drain();
    // The finished run leaves the case's state; the ledger keeps it.
    assert_eq!(kinds(&entries), [("deployed", None)]);
    let bytes = engine.snapshot().expect("snapshot");
    Engine::restore(engine.program().clone(), "v2", &bytes).expect("restores");
    // Re-added, the automation is a new one for the case: `once per case` counts afresh.
    engine.reload(program(V1), "v3").expect("re-added");
    engine.drain();
    let again = send(&mut engine, "e3", "Escalated", "C-1");
    assert!(again.iter().any(|e| e.kind == "executed"), "{again:?}");
}
