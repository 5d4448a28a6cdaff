//! Embedding Meshline (docs/embedding.md): compile a playbook held in a string, apply two
//! events built by field names, and read the outcomes and the decisions back as values
//! (no ledger JSON is parsed). Run it with `cargo run -p meshline-compiler --example embed`;
//! `cargo test -p meshline-compiler --example embed` checks what it prints.

use meshline_runtime::Engine;
use meshline_runtime::engine::ApplyOutcome;
use serde_json::json;

const PLAYBOOK: &str = r#"
enum Tier { Gold, Standard }
enum Kind { Refund, Question }

event RequestOpened { tier: Tier, amount: Money, tags: List<String> }

calendar office { timezone "UTC" hours mon-fri 09:00-17:00 }
team desk { members ["ana@example.com"] calendar office }
team finance { members ["fin@example.com"] calendar office }

classify Kind on RequestOpened {
  Refund when tags contains "refund"
  otherwise Question
}

owners {
  Refund   -> finance escalate desk
  Question -> desk escalate finance
}

sla first_reply for Refund, Question {
  start on RequestOpened
  target by tier {
    Gold -> 1h
    _    -> 1 business day
  }
  breach -> escalate
}

connector payments {
  action refund(amount: Money) effect money(amount)
}

gate big_refund on payments.refund when amount > 100 USD {
  require approval from finance
}
"#;

/// Everything the example prints.
fn run() -> Result<String, Box<dyn std::error::Error>> {
    let mut out = String::new();
    // 1. Compile from memory: a map path → text, no folder.
    let built = meshline_compiler::build_sources("embedded", [("playbook.mesh", PLAYBOOK)]);
    let (Some(program), Some(bundle)) = (built.program, built.bundle) else {
        let errors: Vec<String> = built
            .check
            .diagnostics
            .iter()
            .map(|d| d.message.clone())
            .collect();
        return Err(format!("the playbook does not compile: {}", errors.join("; ")).into());
    };
    let (_, hash) = meshline_runtime::bundle::read_manifest(&bundle)?;
    let mut engine = Engine::new(program, &hash)?;

    // 2. Envelopes by field names (an enum by its variant's name, money as text).
    let at = "2026-03-02T10:00:00Z".parse()?;
    let refund = engine
        .envelope("RequestOpened", "evt-1", "R-1", at)
        .field("tier", "Gold")
        .field("amount", "250.00 USD")
        .field("tags", json!(["refund"]))
        .build()?;
    let question = engine
        .envelope("RequestOpened", "evt-2", "R-2", at)
        .field("tier", "Standard")
        .field("amount", "0.00 USD")
        .field("tags", json!([]))
        .build()?;

    // 3. Apply: each returns its outcome; a redelivery is a duplicate.
    for env in [refund.clone(), question, refund] {
        let id = env.id.clone();
        let outcome = engine.apply(env);
        out.push_str(&format!("{id}: {}\n", describe(&outcome)));
    }
    // A field the event does not declare is refused before anything is applied.
    if let Err(reason) = engine
        .envelope("RequestOpened", "evt-3", "R-3", at)
        .field("colour", "blue")
        .build()
    {
        out.push_str(&format!("evt-3: not built: {reason}\n"));
    }

    // 4. The decisions, as values.
    for case in ["R-1", "R-2"] {
        let Some(view) = engine.case_view(case) else {
            continue;
        };
        let target = engine.sla_target(case, "first_reply")?.map(|t| t.text);
        out.push_str(&format!(
            "{case}: class {}, owner {}, first_reply {} (target {})\n",
            view.class.unwrap_or_default(),
            view.owner.unwrap_or_default(),
            view.slas.first().map_or("-", |s| s.1),
            target.unwrap_or_default(),
        ));
    }

    // 5. Gates, without applying: would a refund of this amount be held?
    for amount in ["80.00 USD", "400.00 USD"] {
        let args = json!({ "amount": amount });
        let args = args.as_object().cloned().unwrap_or_default();
        let held = engine.gates_holding("R-1", "payments.refund", &args)?;
        let gates: Vec<&str> = held.iter().map(|h| h.gate.as_str()).collect();
        out.push_str(&format!(
            "refund {amount}: held by [{}]\n",
            gates.join(", ")
        ));
    }
    Ok(out)
}

fn describe(outcome: &ApplyOutcome) -> String {
    match outcome {
        ApplyOutcome::Accepted => "accepted".into(),
        ApplyOutcome::Duplicate => "duplicate".into(),
        ApplyOutcome::Rejected(reason) => format!("rejected: {reason}"),
    }
}

#[allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "an example prints its result"
)]
fn main() {
    match run() {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

#[test]
fn prints_the_outcomes_and_the_decisions() {
    let text = run().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        text,
        "evt-1: accepted
evt-2: accepted
evt-1: duplicate
evt-3: not built: RequestOpened: unknown field `colour` (fields: tier, amount, tags)
R-1: class Refund, owner finance, first_reply running (target 1h)
R-2: class Question, owner desk, first_reply running (target 1 business day)
refund 80.00 USD: held by []
refund 400.00 USD: held by [big_refund]
"
    );
}

/// Modules are named by their paths, as on disk, and diagnostics name the path given.
#[test]
fn sources_in_memory_are_modules_named_by_path() {
    let built = meshline_compiler::build_sources(
        "two",
        [
            ("billing/types.mesh", "enum Tier { Gold, Standard }\n"),
            (
                "main.mesh",
                "import billing.types.{Tier}\nevent Opened { tier: Tier }\n",
            ),
        ],
    );
    assert_eq!(
        built.check.error_count(),
        0,
        "{:#?}",
        built.check.diagnostics
    );
    let modules: Vec<&str> = built
        .check
        .project
        .files
        .iter()
        .map(|f| f.module.as_str())
        .collect();
    assert_eq!(modules, ["billing.types", "main"]);
    assert!(built.bundle.is_some());
    let broken = meshline_compiler::build_sources("one", [("broken.mesh", "enum {\n")]);
    assert!(broken.program.is_none());
    assert!(
        broken
            .check
            .diagnostics
            .iter()
            .any(|d| &*d.primary.file == "broken.mesh")
    );
}
