//! Migrations by name (docs/deploy.md, "Migrations by name"): a deployment over live cases
//! may add classes, enum variants, events, facts, teams and SLA policies, and remove some;
//! live state is carried by name, removals are recorded (`migrated`), and what live state
//! cannot do without is refused with the reason.

use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;

use crate::reload::program;

const V1: &str = r#"
enum Tier { Gold, Silver }
enum Klass { Billing, Triage }
record Ticket { id: String, tier: Tier }
event TicketCreated { ticket: Ticket }
event Nudged { note: String }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Billing when ticket.tier == Gold
  otherwise Triage
}
owners {
  Billing -> desk escalate leads
  Triage -> desk escalate leads
}
sla first_reply for Billing, Triage {
  start on TicketCreated
  target 4h
  breach -> escalate
}
"#;

fn created(engine: &mut Engine, id: &str, case: &str, at: &str, tier: &str) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"TicketCreated","at":"{at}","case":"{case}","data":{{"ticket":{{"id":"{case}","tier":"{tier}"}}}}}}"#
    ));
}

fn of<'a>(entries: &'a [Entry], kind: &str) -> Vec<&'a Entry> {
    entries.iter().filter(|e| e.kind == kind).collect()
}

/// V1 with a class `Access` (before `Billing`: every class number moves), a variant
/// `Bronze` first in `Tier`, a new event and fact, a new team and SLA policy.
fn with_a_new_class() -> String {
    V1.replace("enum Klass { Billing, Triage }", "enum Klass { Access, Billing, Triage }")
        .replace("enum Tier { Gold, Silver }", "enum Tier { Bronze, Gold, Silver }")
        .replace("  Billing when", "  Access when ticket.id == \"ACCESS\"\n  Billing when")
        .replace(
            "owners {",
            "team access_desk { members [\"ada@x.io\"] }\nevent Escalated { reason: String }\nowners {\n  Access -> access_desk escalate leads",
        )
        .replace("sla first_reply for Billing, Triage", "sla first_reply for Access, Billing, Triage")
        + "sla access_reply for Access {\n  start on TicketCreated\n  target 1h\n  breach -> escalate\n}\n"
}

#[test]
fn a_class_added_over_live_cases_keeps_every_case_as_it_was() {
    let mut engine = Engine::new(program(V1), "v1").expect("loads");
    created(&mut engine, "e1", "T-1", "2026-03-02T10:00:00Z", "Gold");
    created(&mut engine, "e2", "T-2", "2026-03-02T10:05:00Z", "Silver");
    engine.drain();
    let before: Vec<_> = ["T-1", "T-2"]
        .iter()
        .map(|c| engine.case_view(c).expect("case"))
        .collect();
    engine
        .reload(program(&with_a_new_class()), "v2")
        .expect("a new class is carried by name");
    for (c, was) in ["T-1", "T-2"].iter().zip(&before) {
        let now = engine.case_view(c).expect("case");
        assert_eq!(now.class, was.class, "{c}");
        assert_eq!(now.owner, was.owner, "{c}");
        assert_eq!(now.assignee, was.assignee, "{c}");
        let reply = now.slas.iter().find(|(n, _)| n == "first_reply");
        assert_eq!(reply.map(|(_, s)| *s), Some("running"), "{c}");
    }
    // The Tier fact kept its meaning (Gold is variant 1 now, not 0).
    let json = engine.case_json("T-1").expect("case");
    assert_eq!(json["facts"]["ticket"]["tier"], "Gold", "{json}");
    // The running clock still breaches at its deadline, under its policy's new number.
    engine.advance_to("2026-03-02T14:06:00Z".parse().expect("time"));
    created(&mut engine, "e3", "T-3", "2026-03-02T14:07:00Z", "Gold");
    let (entries, _) = engine.drain();
    let breached: Vec<_> = of(&entries, "sla_breached")
        .iter()
        .map(|e| {
            (
                e.case.clone().unwrap_or_default(),
                e.rule.clone().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        breached,
        [
            ("T-1".to_string(), "first_reply".to_string()),
            ("T-2".to_string(), "first_reply".to_string())
        ]
    );
    assert!(of(&entries, "migrated").is_empty(), "nothing was removed");
    // New cases see the new class.
    created(
        &mut engine,
        "e4",
        "ACCESS",
        "2026-03-02T15:00:00Z",
        "Bronze",
    );
    assert_eq!(
        engine.case_view("ACCESS").and_then(|v| v.class),
        Some("Access".to_string())
    );
}

#[test]
fn removals_are_defined_and_recorded() {
    let mut engine = Engine::new(program(&with_a_new_class()), "v1").expect("loads");
    created(&mut engine, "e1", "ACCESS", "2026-03-02T10:00:00Z", "Gold");
    created(&mut engine, "e2", "T-2", "2026-03-02T10:05:00Z", "Silver");
    engine.drain();
    // Back to V1 (Access, Bronze, access_reply, access_desk, Escalated removed): the
    // ACCESS case is owned by access_desk, which V1 removes: refused, with the case.
    let why = engine
        .reload_incompatibility(&program(V1))
        .expect("refused");
    assert!(
        why.contains("case ACCESS is owned by or assigned to a team the new bundle removes"),
        "{why}"
    );
    // Keep the team: the class and the SLA policy go; the case is unclassified, its clock
    // of the removed policy is cancelled, and both are recorded.
    let keep_team = V1.replace(
        "owners {",
        "team access_desk { members [\"ada@x.io\"] }\nowners {",
    );
    engine.reload(program(&keep_team), "v2").expect("carried");
    let (entries, _) = engine.drain();
    let deployed = of(&entries, "deployed");
    assert_eq!(deployed[0].detail["migrated_cases"], 1, "{:?}", deployed[0]);
    let migrated = of(&entries, "migrated");
    assert_eq!(migrated.len(), 1);
    assert_eq!(migrated[0].case.as_deref(), Some("ACCESS"));
    assert_eq!(
        migrated[0].detail,
        serde_json::json!({"cancelled_clocks": ["access_reply"], "unclassified": "Access"})
    );
    let view = engine.case_view("ACCESS").expect("case");
    assert_eq!(view.class, None, "re-classified on its next event");
    assert_eq!(
        engine.case_view("T-2").and_then(|v| v.class),
        Some("Triage".into())
    );
    // Its next classify event classifies it again.
    created(&mut engine, "e3", "ACCESS", "2026-03-02T11:00:00Z", "Gold");
    assert_eq!(
        engine.case_view("ACCESS").and_then(|v| v.class),
        Some("Billing".into())
    );
}

#[test]
fn a_live_fact_holding_a_removed_variant_is_refused_with_the_case() {
    let mut engine = Engine::new(program(&with_a_new_class()), "v1").expect("loads");
    created(&mut engine, "e1", "T-1", "2026-03-02T10:00:00Z", "Bronze");
    let no_bronze = with_a_new_class().replace(
        "enum Tier { Bronze, Gold, Silver }",
        "enum Tier { Gold, Silver }",
    );
    let why = engine
        .reload_incompatibility(&program(&no_bronze))
        .expect("refused");
    assert!(
        why.contains("case T-1: its fact ticket holds a variant the new bundle removes"),
        "{why}"
    );
    assert!(engine.reload(program(&no_bronze), "v2").is_err());
    assert_eq!(engine.bundle_hash(), "v1", "nothing changed");
}

type Step = Box<dyn Fn(&mut Engine)>;

#[test]
fn a_migrated_engine_snapshots_and_replays_byte_for_byte() {
    let run = |snap_at: Option<usize>| -> String {
        let mut engine = Engine::new(program(V1), "v1").expect("loads");
        let mut out = String::new();
        let steps: Vec<Step> = vec![
            Box::new(|e| created(e, "e1", "T-1", "2026-03-02T10:00:00Z", "Gold")),
            Box::new(|e| created(e, "e2", "T-2", "2026-03-02T10:05:00Z", "Silver")),
            Box::new(|e| e.reload(program(&with_a_new_class()), "v2").expect("v2")),
            Box::new(|e| created(e, "e3", "ACCESS", "2026-03-02T10:30:00Z", "Bronze")),
            Box::new(|e| e.advance_to("2026-03-02T16:00:00Z".parse().expect("time"))),
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
    for i in 1..5 {
        assert_eq!(run(Some(i)), whole, "snapshot before step {i}");
    }
}
