//! Migrations by name of what automation runs depend on (docs/deploy.md, "Migrations by
//! name"): gates, connector actions, automations and calendars may be added, removed or
//! reordered over live runs; a removed gate's held steps stay held until approved by its
//! name or expired; a removed automation's held runs are cancelled with a reconciliation
//! task; what a pending command or a running clock still needs is refused with the reason.

use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;
use serde_json::json;

use crate::reload::program;

const V1: &str = r#"
enum Klass { Refund, Other }
event RefundRequested { amount: Money, agent: Person }
event Nudged { note: String }
calendar office { timezone "UTC" hours mon-fri 09:00-17:00 }
team desk { members ["ana@x.io"] calendar office }
team finance { members ["fay@x.io", "gus@x.io"] }
classify Klass on RefundRequested {
  Refund when amount > 0 USD
  otherwise Other
}
owners {
  Refund -> desk escalate finance
  Other -> desk escalate finance
}
connector books {
  action post(note: String)
}
gate big_refund on stripe.refund when amount >= 250 USD {
  require approval from finance
  expire after 24h -> escalate
}
automation refunds {
  version 1
  owner desk
  on RefundRequested
  do {
    stripe.refund(charge: "ch_1", amount: amount)
    books.post(note: "refunded")
  }
}
"#;

/// V1 with a gate, a connector action, an automation and a calendar added, each named to
/// sort before the ones live runs hold (so every number moves).
fn with_additions() -> String {
    V1.replace(
        "connector books {",
        "calendar aaa_hours { timezone \"UTC\" hours mon-fri 08:00-12:00 }\n\
         connector abooks {\n  action a_post(note: String)\n}\n\
         gate a_check on abooks.a_post when note == \"check\" {\n  require approval from finance\n}\n\
         automation a_nudge {\n  version 1\n  owner desk\n  on Nudged\n  do {\n    abooks.a_post(note: note)\n  }\n}\n\
         connector books {",
    )
}

fn refund(engine: &mut Engine, id: &str, case: &str, at: &str, amount: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"RefundRequested","at":"{at}","case":"{case}","data":{{"amount":"{amount}","agent":"ana@x.io"}}}}"#
    ));
}

fn decide(engine: &mut Engine, id: &str, case: &str, at: &str, granted: bool, by: &str) {
    let ty = if granted {
        "ApprovalGranted"
    } else {
        "ApprovalDenied"
    };
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"{ty}","at":"{at}","case":"{case}","data":{{"approval":"big_refund","by":"{by}"}}}}"#
    ));
}

fn succeeded(engine: &mut Engine, id: &str, case: &str, at: &str, key: &str, action: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"ActionSucceeded","at":"{at}","case":"{case}","data":{{"key":"{key}","action":"{action}"}}}}"#
    ));
}

fn of<'a>(entries: &'a [Entry], kind: &str) -> Vec<&'a Entry> {
    entries.iter().filter(|e| e.kind == kind).collect()
}

/// The key of the case's last `executed` entry.
fn last_key(entries: &[Entry], case: &str) -> String {
    of(entries, "executed")
        .iter()
        .rev()
        .find(|e| e.case.as_deref() == Some(case))
        .and_then(|e| e.detail["key"].as_str())
        .expect("an executed step")
        .to_string()
}

/// T-1 held by big_refund (300 USD), T-2's refund executing (100 USD): the key of T-2's
/// command.
fn live_runs(engine: &mut Engine) -> String {
    refund(engine, "r1", "T-1", "2026-03-02T10:00:00Z", "300.00 USD");
    refund(engine, "r2", "T-2", "2026-03-02T10:05:00Z", "100.00 USD");
    let (entries, _) = engine.drain();
    assert_eq!(of(&entries, "held").len(), 1);
    last_key(&entries, "T-2")
}

fn position<T>(list: &[T], name: impl Fn(&T) -> bool) -> Option<usize> {
    list.iter().position(name)
}

#[test]
fn added_gates_actions_automations_and_calendars_carry_live_runs_by_name() {
    let (p1, p2) = (program(V1), program(&with_additions()));
    // Every number live runs hold moves.
    assert_ne!(
        position(&p1.gates, |g| g.name == "big_refund"),
        position(&p2.gates, |g| g.name == "big_refund")
    );
    assert_ne!(
        position(&p1.automations, |a| a.name == "refunds"),
        position(&p2.automations, |a| a.name == "refunds")
    );
    assert_ne!(
        position(&p1.calendars, |c| c.name == "office"),
        position(&p2.calendars, |c| c.name == "office")
    );
    let mut engine = Engine::new(p1, "v1").expect("loads");
    let key = live_runs(&mut engine);
    engine
        .reload(p2, "v2")
        .expect("additions are carried by name");
    let (entries, _) = engine.drain();
    assert!(of(&entries, "migrated").is_empty(), "nothing was removed");
    let view = engine.case_json("T-1").expect("case");
    assert_eq!(view["held"][0]["gates"], json!(["big_refund"]), "{view}");
    assert_eq!(view["held"][0]["automation"], "refunds", "{view}");
    // The held step is released by its gate's approval, under the gate's new number.
    decide(
        &mut engine,
        "g1",
        "T-1",
        "2026-03-02T10:10:00Z",
        true,
        "gus@x.io",
    );
    // The executing run goes on at its next step when its outcome comes.
    succeeded(
        &mut engine,
        "s2",
        "T-2",
        "2026-03-02T10:11:00Z",
        &key,
        "stripe.refund",
    );
    let (entries, _) = engine.drain();
    let executed: Vec<(String, String)> = of(&entries, "executed")
        .iter()
        .map(|e| {
            (
                e.case.clone().unwrap_or_default(),
                e.detail["action"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        executed,
        [
            ("T-1".to_string(), "stripe.refund".to_string()),
            ("T-2".to_string(), "books.post".to_string())
        ]
    );
    assert!(of(&entries, "refused").is_empty(), "{entries:?}");
    // The added automation runs, and its gate holds.
    engine.apply_line(r#"{"id":"n1","type":"Nudged","at":"2026-03-02T10:12:00Z","case":"T-3","data":{"note":"check"}}"#);
    let (entries, _) = engine.drain();
    assert_eq!(of(&entries, "held")[0].rule.as_deref(), Some("a_check"));
}

#[test]
fn a_removed_gate_keeps_its_held_step_until_approved_by_its_name_or_expired() {
    let without_gate = V1
        .replace(
            "gate big_refund on stripe.refund when amount >= 250 USD {\n  require approval from finance\n  expire after 24h -> escalate\n}\n",
            "",
        )
        .replace(
            "    stripe.refund(",
            "    @ungated(\"refunds go through the bank's own review now\")\n    stripe.refund(",
        );
    assert!(!without_gate.contains("gate big_refund"));
    let mut engine = Engine::new(program(V1), "v1").expect("loads");
    live_runs(&mut engine);
    refund(
        &mut engine,
        "r3",
        "T-3",
        "2026-03-02T10:06:00Z",
        "400.00 USD",
    );
    engine.drain();
    engine
        .reload(program(&without_gate), "v2")
        .expect("a removed gate is carried");
    let (entries, _) = engine.drain();
    assert_eq!(of(&entries, "deployed")[0].detail["migrated_cases"], 2);
    let migrated = of(&entries, "migrated");
    assert_eq!(migrated[0].case.as_deref(), Some("T-1"));
    assert_eq!(
        migrated[0].detail,
        json!({"retired_gates": [{"request": 1, "gates": ["big_refund"]}]})
    );
    // Still held, still shown under its gate.
    let view = engine.case_json("T-1").expect("case");
    assert_eq!(view["held"][0]["gates"], json!(["big_refund"]), "{view}");
    // It holds no new step.
    refund(
        &mut engine,
        "r4",
        "T-4",
        "2026-03-02T10:20:00Z",
        "500.00 USD",
    );
    // Its requirement still decides: a non-member is refused, a finance member releases.
    decide(
        &mut engine,
        "g1",
        "T-1",
        "2026-03-02T10:30:00Z",
        true,
        "zed@x.io",
    );
    decide(
        &mut engine,
        "g2",
        "T-1",
        "2026-03-02T10:31:00Z",
        true,
        "fay@x.io",
    );
    let (entries, _) = engine.drain();
    assert!(of(&entries, "held").is_empty());
    let refused = of(&entries, "refused");
    assert_eq!(refused.len(), 1);
    assert_eq!(
        refused[0].detail["reason"],
        "zed@x.io is not a member of finance"
    );
    let approved = of(&entries, "approved");
    assert_eq!(approved[0].rule.as_deref(), Some("big_refund"));
    let cases: Vec<_> = of(&entries, "executed")
        .iter()
        .map(|e| e.case.clone().unwrap_or_default())
        .collect();
    assert_eq!(cases, ["T-4", "T-1"]);
    // T-3's hold expires at its deadline, by its gate's expiry (escalate).
    engine.advance_to("2026-03-03T10:07:00Z".parse().expect("time"));
    let (entries, _) = engine.drain();
    let expired = of(&entries, "expired");
    assert_eq!(expired.len(), 1, "{entries:?}");
    assert_eq!(expired[0].case.as_deref(), Some("T-3"));
    assert_eq!(expired[0].rule.as_deref(), Some("big_refund"));
    assert_eq!(of(&entries, "escalated").len(), 1, "{entries:?}");
}

type Step = Box<dyn Fn(&mut Engine)>;

#[test]
fn a_retired_gate_survives_a_snapshot_and_replays_byte_for_byte() {
    let without_gate = V1.replace("gate big_refund on", "gate gone_refund on");
    let run = |snap_at: Option<usize>| -> String {
        let mut engine = Engine::new(program(V1), "v1").expect("loads");
        let mut out = String::new();
        let w = without_gate.clone();
        let steps: Vec<Step> = vec![
            Box::new(|e| refund(e, "r1", "T-1", "2026-03-02T10:00:00Z", "300.00 USD")),
            Box::new(move |e| e.reload(program(&w), "v2").expect("v2")),
            Box::new(|e| refund(e, "r2", "T-2", "2026-03-02T10:05:00Z", "300.00 USD")),
            Box::new(|e| decide(e, "g1", "T-1", "2026-03-02T10:30:00Z", true, "gus@x.io")),
            Box::new(|e| e.advance_to("2026-03-04T16:00:00Z".parse().expect("time"))),
        ];
        for (i, step) in steps.iter().enumerate() {
            if snap_at == Some(i) {
                let bytes = engine.snapshot().expect("snapshot");
                let hash = engine.bundle_hash().to_string();
                let p = engine.program().clone();
                engine = Engine::restore(p, &hash, &bytes).expect("restore");
            }
            step(&mut engine);
            out.push_str(&engine.drain_jsonl().0);
        }
        out
    };
    let whole = run(None);
    assert!(whole.contains(r#""kind":"approved""#), "{whole}");
    assert!(whole.contains(r#""rule":"big_refund""#), "{whole}");
    for i in 1..5 {
        assert_eq!(run(Some(i)), whole, "snapshot before step {i}");
    }
}

#[test]
fn a_removed_automation_cancels_its_held_runs_and_waits_for_a_pending_outcome() {
    let without = V1.replace(
        "automation refunds {\n  version 1\n  owner desk\n  on RefundRequested\n  do {\n    stripe.refund(charge: \"ch_1\", amount: amount)\n    books.post(note: \"refunded\")\n  }\n}\n",
        "",
    );
    assert!(!without.contains("automation refunds"));
    let mut engine = Engine::new(program(V1), "v1").expect("loads");
    let key = live_runs(&mut engine);
    let why = engine
        .reload_incompatibility(&program(&without))
        .expect("refused");
    assert!(
        why.contains(
            "case T-2: a run of automation refunds waits for the outcome of stripe.refund \
             (step 0), and the new bundle removes the automation; deploy once the outcome is in"
        ),
        "{why}"
    );
    assert!(engine.reload(program(&without), "v2").is_err());
    // Its outcomes come in; the run finishes.
    succeeded(
        &mut engine,
        "s1",
        "T-2",
        "2026-03-02T10:06:00Z",
        &key,
        "stripe.refund",
    );
    let (entries, _) = engine.drain();
    let key2 = last_key(&entries, "T-2");
    succeeded(
        &mut engine,
        "s2",
        "T-2",
        "2026-03-02T10:07:00Z",
        &key2,
        "books.post",
    );
    engine.drain();
    engine
        .reload(program(&without), "v2")
        .expect("no outcome pending");
    let (entries, commands) = engine.drain();
    let kinds: Vec<(&str, Option<&str>)> = entries
        .iter()
        .map(|e| (e.kind.as_str(), e.case.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("deployed", None),
            ("migrated", Some("T-1")),
            ("reconciliation", Some("T-1"))
        ]
    );
    assert_eq!(
        entries[1].detail,
        json!({"cancelled_runs": [{"automation": "refunds", "step": 0, "was": "held"}]})
    );
    assert_eq!(entries[2].rule.as_deref(), Some("refunds"));
    assert_eq!(
        entries[2].detail,
        json!({"owner": "desk", "reason": "the automation was removed by a deployment"})
    );
    assert_eq!(commands.len(), 1);
    assert_eq!(commands[0].body["kind"], "reconciliation");
    // Nothing is held any more: an approval finds no request.
    let view = engine.case_json("T-1").expect("case");
    assert_eq!(view["held"], json!([]), "{view}");
    decide(
        &mut engine,
        "g1",
        "T-1",
        "2026-03-02T10:30:00Z",
        true,
        "gus@x.io",
    );
    let (entries, _) = engine.drain();
    assert_eq!(of(&entries, "refused").len(), 1);
    assert!(of(&entries, "executed").is_empty());
    // And the carried state snapshots and restores.
    let bytes = engine.snapshot().expect("snapshot");
    let p = engine.program().clone();
    Engine::restore(p, "v2", &bytes).expect("restores");
}

#[test]
fn what_a_pending_command_or_a_running_clock_needs_is_refused_with_the_reason() {
    let mut engine = Engine::new(program(V1), "v1").expect("loads");
    let key = live_runs(&mut engine);
    succeeded(
        &mut engine,
        "s1",
        "T-2",
        "2026-03-02T10:06:00Z",
        &key,
        "stripe.refund",
    );
    engine.drain();
    // T-2's run waits for books.post: the connector action cannot go.
    let no_books = V1
        .replace("connector books {\n  action post(note: String)\n}\n", "")
        .replace("    books.post(note: \"refunded\")\n", "");
    let why = engine
        .reload_incompatibility(&program(&no_books))
        .expect("refused");
    assert!(
        why.contains("case T-2: a command for books.post (key ")
            && why.contains(
                "waits for its outcome, and the new bundle removes that connector action"
            ),
        "{why}"
    );
    // A step a live run has reached keeps its action.
    let other_step = V1.replace(
        "stripe.refund(charge: \"ch_1\", amount: amount)",
        "helpdesk.reply(template: \"refunded\")",
    );
    let why = engine
        .reload_incompatibility(&program(&other_step))
        .expect("refused");
    assert!(
        why.contains(
            "case T-1: a run of automation refunds is at step 0, and the new bundle changes step 0"
        ),
        "{why}"
    );
    // Steps after the ones reached may change: T-1 is at step 0, T-2 at step 1.
    let more_steps = V1.replace(
        "    books.post(note: \"refunded\")\n",
        "    books.post(note: \"refunded\")\n    books.post(note: \"twice\")\n",
    );
    assert_eq!(engine.reload_incompatibility(&program(&more_steps)), None);
}

#[test]
fn a_running_clock_keeps_its_calendar_or_the_deployment_is_refused() {
    let with_sla = format!(
        "{V1}sla reply for Refund, Other {{\n  start on RefundRequested\n  target 4 business hours\n  calendar office\n  breach -> escalate\n}}\n"
    );
    let mut engine = Engine::new(program(&with_sla), "v1").expect("loads");
    refund(
        &mut engine,
        "r1",
        "T-1",
        "2026-03-02T10:00:00Z",
        "100.00 USD",
    );
    engine.drain();
    let renamed = with_sla.replace("calendar office", "calendar hq");
    let why = engine
        .reload_incompatibility(&program(&renamed))
        .expect("refused");
    assert!(
        why.contains(
            "case T-1: its SLA clock reply counts in calendar office, which the new bundle removes"
        ),
        "{why}"
    );
    // A calendar added before it: the clock still breaches at its deadline (14:00Z).
    let added = with_sla.replace(
        "calendar office {",
        "calendar aaa { timezone \"UTC\" hours mon-fri 00:00-23:00 }\ncalendar office {",
    );
    engine.reload(program(&added), "v2").expect("carried");
    engine.advance_to("2026-03-02T13:59:00Z".parse().expect("time"));
    assert!(of(&engine.drain().0, "sla_breached").is_empty());
    engine.advance_to("2026-03-02T14:00:00Z".parse().expect("time"));
    assert_eq!(of(&engine.drain().0, "sla_breached").len(), 1);
}

#[test]
fn a_removed_automation_cancels_a_run_asleep_on_a_wait_and_its_timer_does_nothing() {
    let with_wait = format!(
        "{V1}automation nudge {{\n  version 1\n  owner desk\n  on Nudged\n  do {{\n    wait 1h\n    books.post(note: note)\n  }}\n}}\n"
    );
    let mut engine = Engine::new(program(&with_wait), "v1").expect("loads");
    engine.apply_line(r#"{"id":"n1","type":"Nudged","at":"2026-03-02T10:00:00Z","case":"T-9","data":{"note":"hi"}}"#);
    let (entries, _) = engine.drain();
    assert_eq!(of(&entries, "waiting").len(), 1);
    // The steps after the wait may change under the sleeping run.
    let later = with_wait.replace("    books.post(note: note)\n", "");
    assert_eq!(engine.reload_incompatibility(&program(&later)), None);
    engine.reload(program(V1), "v2").expect("carried");
    let (entries, commands) = engine.drain();
    let migrated = of(&entries, "migrated");
    assert_eq!(
        migrated[0].detail,
        json!({"cancelled_runs": [{"automation": "nudge", "step": 0, "was": "waiting"}]})
    );
    assert_eq!(of(&entries, "reconciliation").len(), 1);
    assert_eq!(commands[0].body["kind"], "reconciliation");
    engine.advance_to("2026-03-02T12:00:00Z".parse().expect("time"));
    let (entries, commands) = engine.drain();
    assert!(entries.is_empty(), "{entries:?}");
    assert!(commands.is_empty());
}
