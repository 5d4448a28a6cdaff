//! `name_of(x)`: an enum value's variant name as a string (docs/language.md §4.4; issue 18,
//! item 5). Lowered to a `match` on the variants, so the runtime needs no new built-in and
//! bundles stay readable by older engines.

use meshline_runtime::Engine;
use meshline_runtime::ledger::Entry;

use crate::reload::program;

const RULES: &str = r#"
enum Klass { Urgent, Routine }
enum Tier { Gold, Silver }
event TicketCreated { tier: Tier, note: String }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }
classify Klass on TicketCreated {
  Urgent when name_of(tier) == "Gold"
  otherwise Routine
}
owners {
  Urgent -> desk escalate leads
  Routine -> desk escalate leads
}
automation tag_tier {
  version 1
  owner desk
  on TicketCreated
  do {
    helpdesk.add_tag(tag: lower(name_of(tier)))
  }
}
automation note_class {
  version 1
  owner desk
  on TicketCreated
  do {
    helpdesk.add_note(text: name_of(class))
  }
}
"#;

fn created(engine: &mut Engine, id: &str, tier: &str) -> Vec<Entry> {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"TicketCreated","at":"2026-03-02T10:00:00Z","case":"T-{id}","data":{{"tier":"{tier}","note":"n"}}}}"#
    ));
    engine.drain().0
}

fn args(entries: &[Entry]) -> Vec<String> {
    entries
        .iter()
        .filter(|e| e.kind == "executed")
        .map(|e| e.detail["args"].to_string())
        .collect()
}

#[test]
fn name_of_gives_the_variant_name() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    let gold = created(&mut engine, "1", "Gold");
    assert_eq!(
        engine.case_view("T-1").and_then(|v| v.class).as_deref(),
        Some("Urgent")
    );
    assert_eq!(args(&gold), [r#"{"tag":"gold"}"#, r#"{"text":"Urgent"}"#]);
    let silver = created(&mut engine, "2", "Silver");
    assert_eq!(
        engine.case_view("T-2").and_then(|v| v.class).as_deref(),
        Some("Routine")
    );
    assert_eq!(
        args(&silver),
        [r#"{"tag":"silver"}"#, r#"{"text":"Routine"}"#]
    );
}
