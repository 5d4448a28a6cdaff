//! `currency_of(m)` and `amount_of(m)`: an amount's currency code and its number (docs/
//! language.md §4.4; issue 18, item 10), so a threshold can be written per currency.

use meshline_runtime::Engine;

use crate::reload::program;

const RULES: &str = r#"
enum Klass { Large, Small }
event RefundAsked { amount: Money }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }

/// 250 USD, 230 EUR; any other currency counts as large until someone adds its threshold.
fn large(m: Money) -> Bool =
  (currency_of(m) == "USD" and amount_of(m) >= 250.00)
  or (currency_of(m) == "EUR" and amount_of(m) >= 230.00)
  or (currency_of(m) != "USD" and currency_of(m) != "EUR")

classify Klass on RefundAsked {
  Large when large(amount)
  otherwise Small
}
owners {
  Large -> leads escalate leads
  Small -> desk escalate leads
}
automation note_currency {
  version 1
  owner desk
  on RefundAsked
  do {
    helpdesk.add_note(text: currency_of(amount))
  }
}
"#;

fn class_of(engine: &mut Engine, id: &str, amount: &str) -> String {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"RefundAsked","at":"2026-03-02T10:00:00Z","case":"R-{id}","data":{{"amount":"{amount}"}}}}"#
    ));
    let (entries, _) = engine.drain();
    let note: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == "executed")
        .map(|e| e.detail["args"]["text"].to_string())
        .collect();
    assert_eq!(note.len(), 1, "{entries:?}");
    let class = engine
        .case_view(&format!("R-{id}"))
        .and_then(|v| v.class)
        .unwrap_or_default();
    format!("{class} {}", note[0])
}

#[test]
fn thresholds_per_currency() {
    let mut engine = Engine::new(program(RULES), "v1").expect("loads");
    assert_eq!(class_of(&mut engine, "1", "249.99 USD"), r#"Small "USD""#);
    assert_eq!(class_of(&mut engine, "2", "250.00 USD"), r#"Large "USD""#);
    assert_eq!(class_of(&mut engine, "3", "240.00 EUR"), r#"Large "EUR""#);
    assert_eq!(class_of(&mut engine, "4", "229.00 EUR"), r#"Small "EUR""#);
    assert_eq!(class_of(&mut engine, "5", "10 GBP"), r#"Large "GBP""#);
}

fn errors_of(text: &str) -> Vec<String> {
    use meshline_compiler::db::{self, Database};
    let files = crate::witness::project(text);
    meshline_compiler::with_large_stack(|| {
        let database = Database::default();
        let handle = db::load_project(&database, &files);
        db::project_diagnostics(&database, handle)
            .into_iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{:?}: {}", d.code, d.message))
            .collect()
    })
}

/// Only money has a currency: anything else is a type error that says what to do.
#[test]
fn currency_of_needs_money() {
    let text = RULES.replace(
        "helpdesk.add_note(text: currency_of(amount))",
        "helpdesk.add_note(text: currency_of(42))",
    );
    assert_eq!(
        errors_of(&text),
        ["TypeMismatch: `currency_of` needs a money amount, found `Int`"]
    );
}

/// `convert(m, to, rate)`: an explicit conversion at a named rate (issue 18, item 10).
const CONVERTING: &str = r#"
enum Klass { Large, Small }
event RefundAsked { amount: Money, rate: Decimal }
team desk { members ["ana@x.io"] }
team leads { members ["lee@x.io"] }

classify Klass on RefundAsked {
  Large when convert(amount, "USD", rate) > 250 USD
  otherwise Small
}
owners {
  Large -> leads escalate leads
  Small -> desk escalate leads
}
"#;

fn converted_class(engine: &mut Engine, id: &str, amount: &str, rate: &str) -> (String, String) {
    engine.apply_line(&format!(
        r#"{{"id":"{id}","type":"RefundAsked","at":"2026-03-02T10:00:00Z","case":"C-{id}","data":{{"amount":"{amount}","rate":"{rate}"}}}}"#
    ));
    let (entries, _) = engine.drain();
    let errors: Vec<String> = entries
        .iter()
        .filter(|e| e.kind == "eval_error")
        .map(|e| e.detail["error"].as_str().unwrap_or_default().to_string())
        .collect();
    let class = engine
        .case_view(&format!("C-{id}"))
        .and_then(|v| v.class)
        .unwrap_or_default();
    (class, errors.join("; "))
}

#[test]
fn convert_compares_at_the_given_rate() {
    let mut engine = Engine::new(program(CONVERTING), "v1").expect("loads");
    // 240 EUR at 1.08 is 259.20 USD; at 1.04 it is 249.60 USD.
    assert_eq!(
        converted_class(&mut engine, "1", "240.00 EUR", "1.08").0,
        "Large"
    );
    assert_eq!(
        converted_class(&mut engine, "2", "240.00 EUR", "1.04").0,
        "Small"
    );
    // A rate that is not above zero cannot convert: the arm fails to evaluate and says why.
    let (_, error) = converted_class(&mut engine, "3", "240.00 EUR", "0");
    assert!(
        error.contains("cannot convert: the rate 0 is not above zero"),
        "{error}"
    );
}

#[test]
fn convert_is_checked() {
    let bad_code = CONVERTING.replace(
        r#"convert(amount, "USD", rate)"#,
        r#"convert(amount, "usd", rate)"#,
    );
    assert_eq!(
        errors_of(&bad_code),
        ["TypeMismatch: `usd` is not an ISO 4217 currency code"]
    );
    // The result is in the target currency, so comparing it with euros is a mix of currencies.
    let mixed = CONVERTING.replace("> 250 USD", "> 230 EUR");
    let errors = errors_of(&mixed);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("USD") && errors[0].contains("EUR"),
        "{errors:?}"
    );
    let money_rate = CONVERTING.replace("rate: Decimal", "rate: Money");
    assert_eq!(
        errors_of(&money_rate),
        ["TypeMismatch: `convert` needs a rate (a `Decimal`), found `Money`"]
    );
}
