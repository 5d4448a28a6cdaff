//! What an event changed (`changed(x)`, `previous(x)`, docs/language.md §6.4), quantifiers
//! over lists (`all`/`any`, §4.6) and automations that run once per case (§11.3): issue 18,
//! items 5.

use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;

use crate::reload::program;

const CHANGES: &str = r#"
enum Klass { Urgent, Routine }
enum Priority { Low, High }
record Ticket { id: String, priority: Priority, tags: List<String> }
event TicketCreated { ticket: Ticket }
event TicketUpdated { ticket: Ticket }
event Noted { note: String }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Urgent when ticket.priority == High
  otherwise Routine
}
owners {
  Urgent -> desk escalate leads
  Routine -> desk escalate leads
}
automation priority_moved {
  version 1
  owner desk
  on TicketCreated, TicketUpdated, Noted when changed(ticket.priority)
  do {
    helpdesk.add_note(
      text: if previous(ticket.priority) is set then name_of(previous(ticket.priority)!) else "unset",
    )
  }
}
automation ticket_edited {
  version 1
  owner desk
  on TicketUpdated, Noted when changed(ticket)
  do {
    helpdesk.add_tag(tag: "edited")
  }
}
automation note_changed {
  version 1
  owner desk
  on Noted when changed(note) and previous(note) != none
  do {
    helpdesk.add_tag(tag: previous(note) ?? "")
  }
}
"#;

fn ticket(priority: &str, tags: &str) -> String {
    format!(r#"{{"id":"T-1","priority":"{priority}","tags":[{tags}]}}"#)
}

fn send(engine: &mut Engine, id: u32, ty: &str, data: &str) -> Vec<Entry> {
    engine.apply_line(&format!(
        r#"{{"id":"e{id}","type":"{ty}","at":"2026-03-02T10:{id:02}:00Z","case":"T-1","data":{data}}}"#
    ));
    engine.drain().0
}

/// The arguments of the steps executed, in order.
fn executed(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.kind == "executed")
        .map(|e| e.detail["args"].to_string())
        .collect()
}

#[test]
fn changed_and_previous_see_the_facts_before_the_event() {
    let mut engine = Engine::new(program(CHANGES), "v1").expect("loads");
    let t = |p| format!(r#"{{"ticket":{}}}"#, ticket(p, r#""a""#));
    // The first value is a change from unset.
    let created = send(&mut engine, 1, "TicketCreated", &t("Low"));
    assert_eq!(executed(&created), [r#"{"text":"unset"}"#]);
    // The same ticket again changes nothing.
    let same = send(&mut engine, 2, "TicketUpdated", &t("Low"));
    assert_eq!(executed(&same), Vec::<String>::new());
    // A new priority: changed, and `previous` is the value before this event.
    let raised = send(&mut engine, 3, "TicketUpdated", &t("High"));
    assert_eq!(
        executed(&raised),
        [r#"{"text":"Low"}"#, r#"{"tag":"edited"}"#]
    );
    // Another field of the record: the record changed, its priority did not.
    let tagged = send(
        &mut engine,
        4,
        "TicketUpdated",
        &format!(r#"{{"ticket":{}}}"#, ticket("High", r#""a","b""#)),
    );
    assert_eq!(executed(&tagged), [r#"{"tag":"edited"}"#]);
    // An event that does not write `ticket`: nothing about it changed.
    let noted = send(&mut engine, 5, "Noted", r#"{"note":"first"}"#);
    assert_eq!(executed(&noted), Vec::<String>::new());
    let noted = send(&mut engine, 6, "Noted", r#"{"note":"second"}"#);
    assert_eq!(executed(&noted), [r#"{"tag":"first"}"#]);
}

#[test]
fn a_snapshot_between_events_keeps_nothing_of_the_last_change() {
    let rules = program(CHANGES);
    let mut engine = Engine::new(rules.clone(), "v1").expect("loads");
    let t = |p| format!(r#"{{"ticket":{}}}"#, ticket(p, ""));
    send(&mut engine, 1, "TicketCreated", &t("Low"));
    let bytes = engine.snapshot().expect("snapshot");
    let mut restored = Engine::restore(rules, "v1", &bytes).expect("restores");
    // The restored engine and the one that went on agree, change for change.
    for (i, p) in [(2, "Low"), (3, "High"), (4, "High"), (5, "Low")] {
        let a = executed(&send(&mut engine, i, "TicketUpdated", &t(p)));
        let b = executed(&send(&mut restored, i, "TicketUpdated", &t(p)));
        assert_eq!(a, b, "event {i}");
    }
}

const QUANTIFIERS: &str = r#"
enum Klass { Tagged, Plain }
event TicketCreated { tags: List<String> }
team desk { members ["ana@x.io"] }
classify Klass on TicketCreated {
  Tagged when any t in tags: t starts_with "a"
  otherwise Plain
}
owners {
  Tagged -> desk escalate desk
  Plain -> desk escalate desk
}
fn all_a(xs: List<String>) -> Bool = all x in xs: x starts_with "a"
automation q_all {
  version 1
  owner desk
  on TicketCreated
  do {
    helpdesk.add_note(text: if all_a(tags) then "all" else "-")
  }
}
automation q_any {
  version 1
  owner desk
  on TicketCreated
  do {
    helpdesk.add_note(text: if any t in tags: t starts_with "a" then "any" else "-")
  }
}
// Nested, the inner `all` reading the outer element.
automation q_same {
  version 1
  owner desk
  on TicketCreated
  do {
    helpdesk.add_note(text: if any t in tags: all u in tags: u == t then "same" else "-")
  }
}
"#;

#[test]
fn all_and_any_go_through_the_list() {
    let mut engine = Engine::new(program(QUANTIFIERS), "v1").expect("loads");
    let cases = [
        ("", ["all", "-", "-"], "Plain"),
        (r#""ab","ac""#, ["all", "any", "-"], "Tagged"),
        (r#""ab","ab""#, ["all", "any", "same"], "Tagged"),
        (r#""b","ab""#, ["-", "any", "-"], "Tagged"),
        (r#""b""#, ["-", "-", "same"], "Plain"),
    ];
    for (i, (tags, want, class)) in cases.into_iter().enumerate() {
        engine.apply_line(&format!(
            r#"{{"id":"q{i}","type":"TicketCreated","at":"2026-03-02T10:00:00Z","case":"Q-{i}","data":{{"tags":[{tags}]}}}}"#
        ));
        let (entries, _) = engine.drain();
        let want: Vec<String> = want
            .iter()
            .map(|w| format!(r#"{{"text":"{w}"}}"#))
            .collect();
        assert_eq!(executed(&entries), want, "tags [{tags}]");
        let view = engine.case_view(&format!("Q-{i}")).expect("case");
        assert_eq!(view.class.as_deref(), Some(class), "tags [{tags}]");
    }
}

const ONCE: &str = r##"
enum Klass { Any }
event TicketCreated { note: String }
event TicketUpdated { note: String }
team desk { members ["ana@x.io"] }
classify Klass on TicketCreated {
  otherwise Any
}
owners {
  Any -> desk escalate desk
}
automation alert {
  version 1
  owner desk
  on TicketCreated, TicketUpdated when note != "quiet"
  once per case
  do {
    slack.post(channel: "#legal", text: note)
  }
}
automation shadow_alert {
  version 1
  owner desk
  on TicketCreated, TicketUpdated
  once per case
  do {
    helpdesk.add_tag(tag: "seen")
  }
  rollout shadow
}
"##;

fn note(engine: &mut Engine, id: &str, case: &str, ty: &str, text: &str) -> Vec<Entry> {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"{ty}","at":"2026-03-02T10:00:00Z","case":"{case}","data":{{"note":"{text}"}}}}"#
    ));
    engine.drain().0
}

fn kinds(entries: &[Entry], kind: &str) -> Vec<(Option<String>, String)> {
    entries
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (e.rule.clone(), e.detail.to_string()))
        .collect()
}

#[test]
fn once_per_case_runs_once_counts_a_failed_run_and_survives_a_snapshot() {
    let rules = program(ONCE);
    let mut engine = Engine::new(rules.clone(), "v1").expect("loads");
    // A false condition starts no run and does not count.
    let quiet = note(&mut engine, "e1", "C-1", "TicketCreated", "quiet");
    assert!(executed(&quiet).is_empty());
    assert!(kinds(&quiet, "skipped").is_empty());
    let first = note(&mut engine, "e2", "C-1", "TicketUpdated", "dpa missing");
    let runs = executed(&first);
    assert_eq!(runs.len(), 1, "{first:?}");
    let key = first
        .iter()
        .find(|e| e.kind == "executed")
        .map(|e| e.detail["key"].as_str().unwrap_or("").to_string())
        .unwrap_or_default();
    // The run fails for good: it still counts.
    engine.apply_line(&format!(
        r#"{{"id":"e3","type":"ActionFailed","at":"2026-03-02T10:00:00Z","case":"C-1","data":{{"key":"{key}","action":"slack.post","retryable":false,"reason":"channel archived"}}}}"#
    ));
    let (failed, _) = engine.drain();
    assert_eq!(kinds(&failed, "failed").len(), 1, "{failed:?}");
    let again = note(&mut engine, "e4", "C-1", "TicketUpdated", "still missing");
    assert!(executed(&again).is_empty());
    assert_eq!(
        kinds(&again, "skipped"),
        [(
            Some("alert".to_string()),
            r#"{"ran_on":"e2","reason":"once_per_case","trigger":"e4"}"#.to_string()
        )]
    );
    // Shadow runs start nothing, so each trigger is shadowed.
    assert_eq!(kinds(&again, "shadowed").len(), 1);
    // The memory is in the snapshot.
    let bytes = engine.snapshot().expect("snapshot");
    let mut restored = Engine::restore(rules, "v1", &bytes).expect("restores");
    let after = note(&mut restored, "e5", "C-1", "TicketUpdated", "amended");
    assert!(executed(&after).is_empty());
    assert_eq!(kinds(&after, "skipped").len(), 1);
    // Another case runs once too.
    let other = note(&mut restored, "e6", "C-2", "TicketCreated", "dpa missing");
    assert_eq!(executed(&other).len(), 1);
    assert!(kinds(&other, "skipped").is_empty());
}

#[test]
fn once_per_case_survives_a_deployment() {
    let mut engine = Engine::new(program(ONCE), "v1").expect("loads");
    note(&mut engine, "e1", "C-1", "TicketCreated", "dpa missing");
    // The same automations with another step text: a new bundle, the same names.
    let v2 = program(&ONCE.replace(
        "helpdesk.add_tag(tag: \"seen\")",
        "helpdesk.add_tag(tag: \"looked\")",
    ));
    engine.reload(v2, "v2").expect("deploys");
    let after = note(&mut engine, "e2", "C-1", "TicketUpdated", "amended");
    assert!(executed(&after).is_empty());
    assert_eq!(kinds(&after, "skipped").len(), 1);
}

const EXTENDED: &str = r#"
import std.crm.{ContractSigned}
enum Region { Dach, Nordics }
extend record std.crm.Contract { region: Region?, legal_entity: String? }
enum Kind { Regional, Other }
classify Kind on ContractSigned {
  Regional when contract.region == Nordics and contract.legal_entity != none
  otherwise Other
}
team onboarding { members ["ana@x.io"] }
owners {
  Regional -> onboarding escalate onboarding
  Other -> onboarding escalate onboarding
}
"#;

/// `extend record` (docs/language.md §14.8): the added fields are read by name from the
/// envelope, and an envelope without them (an adapter that knows nothing of them) decodes.
#[test]
fn extended_std_records_decode_with_and_without_the_added_fields() {
    let mut engine = Engine::new(program(EXTENDED), "v1").expect("loads");
    let signed = |engine: &mut Engine, case: &str, extra: &str| {
        engine.apply_line(&format!(
            r#"{{"id":"{case}","type":"ContractSigned","at":"2026-03-02T10:00:00Z","case":"{case}","data":{{"signed_by":"a@b.io","contract":{{"id":"{case}","account_id":"a","account_name":"A","plan":"growth","value":"10.00 EUR","term_months":12,"start_date":"2026-04-01","attachments":[]{extra}}}}}}}"#
        ))
    };
    let class = |engine: &Engine, case: &str| engine.case_view(case).and_then(|v| v.class);
    assert!(matches!(
        signed(&mut engine, "C-1", ""),
        meshline_runtime::engine::ApplyOutcome::Accepted
    ));
    assert_eq!(class(&engine, "C-1").as_deref(), Some("Other"));
    signed(
        &mut engine,
        "C-2",
        r#","region":"Nordics","legal_entity":"Kestrel AB""#,
    );
    assert_eq!(class(&engine, "C-2").as_deref(), Some("Regional"));
    signed(
        &mut engine,
        "C-3",
        r#","region":"Nordics","legal_entity":null"#,
    );
    assert_eq!(class(&engine, "C-3").as_deref(), Some("Other"));
    // A value the added field's type does not allow is rejected like any other.
    let bad = signed(&mut engine, "C-4", r#","region":"Mars""#);
    assert!(
        !matches!(bad, meshline_runtime::engine::ApplyOutcome::Accepted),
        "{bad:?}"
    );
}
