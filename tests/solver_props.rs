//! Property tests of the safety analysis (issue 7) against the runtime's evaluator:
//! for random pairs of route conditions,
//! - *disjoint* (no finding) means no random event makes both true;
//! - *overlap* (E0406) comes with a witness that makes both true.

use meshline_compiler::db::{self, Database};
use meshline_compiler::diagnostics::Code;
use meshline_runtime::Engine;
use proptest::prelude::*;
use serde_json::json;

use crate::witness;

const HEADER: &str = r#"
enum Tier { Gold, Silver, Bronze }

record Order {
  id: String
  tier: Tier
  amount: Money
  items: Int
  discount: Decimal
  confidence: Percent
  sku: String
  tags: List<String>
  gift: Bool
  coupon: String?
  limit: Money?
}

event OrderPlaced { order: Order, region: String }

enum OrderClass { Any }

classify OrderClass on OrderPlaced {
  otherwise Any
}

team desk  { members ["desk@shop.io"] }
team leads { members ["lead@shop.io"] }

owners {
  Any -> desk escalate leads
}

fn big(o: Order) -> Bool = o.amount > 100 USD
fn weight(o: Order) -> Int = match o.tier { Gold -> 3, Silver -> 2, _ -> 1 }
"#;

const ATOMS: &[&str] = &[
    "order.tier == Gold",
    "order.tier != Silver",
    "order.tier in [Gold, Bronze]",
    "order.amount > 50 USD",
    "order.amount <= 100 USD",
    "order.amount == 50 USD",
    "order.amount >= 50 EUR",
    "order.items < 2",
    "order.items == 3",
    "order.items != 1",
    "order.items >= 0",
    "order.discount > 0.5",
    "order.confidence >= 85%",
    "order.sku == \"refund\"",
    "order.sku contains \"ref\"",
    "order.sku starts_with \"x\"",
    "order.sku matches \"^re\"",
    "order.tags contains \"vip\"",
    "\"a\" in order.tags",
    "order.gift",
    "order.coupon == none",
    "order.coupon != \"a\"",
    "(order.coupon!) == \"b\"",
    "(order.limit ?? 0 USD) > 50 USD",
    "big(order)",
    "weight(order) >= 2",
    "region in [\"emea\", \"apac\"]",
];

fn condition() -> impl Strategy<Value = String> {
    let leaf = (0..ATOMS.len()).prop_map(|i| ATOMS[i].to_string());
    leaf.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn event() -> impl Strategy<Value = serde_json::Value> {
    let money = (0..6usize, 0..2usize)
        .prop_map(|(a, c)| format!("{}.00 {}", [0, 49, 50, 51, 100, 150][a], ["USD", "EUR"][c]));
    let limit = prop_oneof![
        Just(serde_json::Value::Null),
        Just(json!("10.00 USD")),
        Just(json!("60.00 USD")),
        Just(json!("60.00 EUR")),
    ];
    let coupon = prop_oneof![
        Just(serde_json::Value::Null),
        Just(json!("a")),
        Just(json!("b")),
        Just(json!("FREE")),
    ];
    (
        (0..3usize, money, -1i64..5, 0..3usize, 0..3usize),
        (0..6usize, 0..8u8, any::<bool>(), coupon, limit, 0..3usize),
    )
        .prop_map(
            |((tier, amount, items, disc, conf), (sku, tags, gift, coupon, limit, region))| {
                let tags: Vec<&str> = ["a", "vip", "b"]
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| tags & (1 << i) != 0)
                    .map(|(_, t)| *t)
                    .collect();
                json!({
                    "id": "e-1",
                    "type": "OrderPlaced",
                    "at": "2026-03-02T10:00:00Z",
                    "case": "c-1",
                    "data": {
                        "order": {
                            "id": "o-1",
                            "tier": (["Gold", "Silver", "Bronze"][tier]),
                            "amount": amount,
                            "items": items,
                            "discount": (["0.25", "0.5", "0.75"][disc]),
                            "confidence": (["80%", "85%", "90%"][conf]),
                            "sku": (["", "refund", "xref", "re", "x", "refuse"][sku]),
                            "tags": tags,
                            "gift": gift,
                            "coupon": coupon,
                            "limit": limit,
                        },
                        "region": (["emea", "us", ""][region]),
                    }
                })
            },
        )
}

/// 48 cases by default (seconds); `MESHLINE_PROP_CASES=N` for a longer run.
fn cases() -> u32 {
    std::env::var("MESHLINE_PROP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

/// With `MESHLINE_PROP_TALLY` set, print each case's outcome (to see the mix).
fn tally(what: &str) {
    if std::env::var_os("MESHLINE_PROP_TALLY").is_some() {
        eprintln!("outcome: {what}");
    }
}

fn text(a: &str, b: &str) -> String {
    format!(
        "{HEADER}\nroute first on OrderPlaced when {a} {{\n  assign desk\n}}\n\nroute second on OrderPlaced when {b} {{\n  assign leads\n}}\n"
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn disjoint_never_both_match_and_witnesses_hold(
        a in condition(),
        b in condition(),
        events in proptest::collection::vec(event(), 40),
    ) {
        let source = text(&a, &b);
        let diags = witness::check(&source);
        let others: Vec<_> = diags
            .iter()
            .filter(|d| d.is_error() && d.code != Code::AmbiguousRoute)
            .collect();
        prop_assert!(others.is_empty(), "unexpected errors: {others:#?}");
        if let Some(d) = diags.iter().find(|d| d.code == Code::AmbiguousRoute) {
            let (_, _, w) = witness::parse_e0406(d);
            let (_, matched) = witness::replay(&source, &w);
            prop_assert!(matched.len() == 2, "witness does not match both: {w}");
            tally("overlap");
            return Ok(());
        }
        if diags.iter().any(|d| d.code == Code::UndecidedRouteOverlap) {
            tally("unknown");
            return Ok(());
        }
        // Disjoint: no event matches both.
        let files = witness::project(&source);
        let program = meshline_compiler::with_large_stack(|| {
            let database = Database::default();
            let handle = db::load_project(&database, &files);
            db::lower(&database, handle, &files.manifest)
        });
        let engine = Engine::new(program, "props").expect("program loads");
        for e in &events {
            let env = engine.parse_envelope(e).expect("valid event");
            let (_, matched) = engine.matching_routes(&env);
            prop_assert!(matched.len() < 2, "disjoint, yet both match {e}\n{a}\n{b}");
        }
        tally("disjoint");
    }
}
