//! Property test of the route and classify indexes (docs/runtime.md, "The route index"):
//! on random policies — routes and classify arms whose conditions mix equalities on enums,
//! strings and integers (alone, in `or`s of one field, or beside other conjuncts) with
//! comparisons that can fail — and random events, the indexed decision step
//! (`Engine::decide`) picks the same class and route as a linear scan of every arm and
//! every route by its whole condition (`Engine::decide_unindexed`). A second property
//! draws larger policies made mostly of equalities on four fields, so that the index's
//! decision tree switches on a second and third field within a bucket.

use meshline_compiler::db::{self, Database};
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
  sku: String
  coupon: String?
  gift: Bool
}

event OrderPlaced { order: Order, region: String }

enum OrderClass { Small, Large, Gift, Other }

team desk  { members ["desk@shop.io"] }
team leads { members ["lead@shop.io"] }

owners {
  Small -> desk escalate leads
  Large -> desk escalate leads
  Gift -> desk escalate leads
  Other -> desk escalate leads
}
"#;

/// Conjuncts: equalities the index keys on, and others (some of which fail to evaluate on
/// some events: a currency mismatch, `!` on none).
const ATOMS: &[&str] = &[
    "order.tier == Gold",
    "order.tier == Silver",
    "Bronze == order.tier",
    "order.sku == \"refund\"",
    "order.sku == \"x\"",
    "(order.sku == \"re\" or order.sku == \"x\")",
    "order.items == 3",
    "order.items == 0",
    "(order.items == 1 or order.items == 2)",
    "region == \"emea\"",
    "region == \"us\"",
    "order.coupon == \"a\"",
    "order.tier != Gold",
    "order.amount > 50 USD",
    "order.amount >= 50 EUR",
    "(order.coupon!) == \"b\"",
    "order.items >= 2",
    "order.gift",
    "not (order.sku == \"x\")",
    "(order.tier == Gold or order.items == 3)",
];

/// Only in route conditions (classify cannot read `class`).
const CLASS_ATOMS: &[&str] = &["class == Small", "class == Gift", "class != Other"];

fn conjunction(atoms: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(0..atoms, 1..4).prop_map(|ix| {
        ix.iter()
            .map(|i| {
                ATOMS
                    .get(*i)
                    .copied()
                    .unwrap_or_else(|| CLASS_ATOMS[i - ATOMS.len()])
            })
            .collect::<Vec<_>>()
            .join(" and ")
    })
}

fn policy() -> impl Strategy<Value = String> {
    let arms = proptest::collection::vec(conjunction(ATOMS.len()), 0..4);
    let routes = proptest::collection::vec(
        (
            conjunction(ATOMS.len() + CLASS_ATOMS.len()),
            0..3i64,
            any::<bool>(),
        ),
        1..14,
    );
    (arms, routes).prop_map(|(arms, routes)| {
        let variants = ["Small", "Large", "Gift"];
        let mut s = format!("{HEADER}\nclassify OrderClass on OrderPlaced {{\n");
        for (i, a) in arms.iter().enumerate() {
            s.push_str(&format!("  {} when {a}\n", variants[i]));
        }
        s.push_str("  otherwise Other\n}\n");
        for (i, (cond, priority, always)) in routes.iter().enumerate() {
            // Every route assigns the same team: equal priorities are allowed (source
            // order breaks the tie), so ties are exercised too.
            let when = if *always && i % 5 == 4 {
                String::new()
            } else {
                format!(" when {cond}")
            };
            s.push_str(&format!(
                "route r{i} on OrderPlaced{when} {{\n  assign desk\n  priority {priority}\n}}\n"
            ));
        }
        s
    })
}

/// Equalities on four fields (several values each, `or`s of one field), for policies
/// whose routes share keys across fields, plus two conjuncts no switch reads.
const DEEP_ATOMS: &[&str] = &[
    "order.tier == Gold",
    "order.tier == Silver",
    "order.tier == Bronze",
    "order.sku == \"refund\"",
    "order.sku == \"x\"",
    "order.sku == \"re\"",
    "(order.sku == \"re\" or order.sku == \"X\")",
    "order.items == 0",
    "order.items == 1",
    "order.items == 3",
    "(order.items == 1 or order.items == 4)",
    "region == \"emea\"",
    "region == \"us\"",
    "order.coupon == \"a\"",
    "order.amount > 50 USD",
    "order.items >= 2",
];

fn deep_policy() -> impl Strategy<Value = String> {
    let conj = |n: usize| {
        proptest::collection::vec(0..n, 1..4).prop_map(|ix| {
            ix.iter()
                .map(|i| {
                    DEEP_ATOMS
                        .get(*i)
                        .copied()
                        .unwrap_or_else(|| CLASS_ATOMS[i - DEEP_ATOMS.len()])
                })
                .collect::<Vec<_>>()
                .join(" and ")
        })
    };
    let arms = proptest::collection::vec(conj(DEEP_ATOMS.len()), 0..4);
    let routes =
        proptest::collection::vec((conj(DEEP_ATOMS.len() + CLASS_ATOMS.len()), 0..4i64), 8..40);
    (arms, routes).prop_map(|(arms, routes)| {
        let variants = ["Small", "Large", "Gift"];
        let mut s = format!("{HEADER}\nclassify OrderClass on OrderPlaced {{\n");
        for (i, a) in arms.iter().enumerate() {
            s.push_str(&format!("  {} when {a}\n", variants[i]));
        }
        s.push_str("  otherwise Other\n}\n");
        for (i, (cond, priority)) in routes.iter().enumerate() {
            s.push_str(&format!(
                "route r{i} on OrderPlaced when {cond} {{\n  assign desk\n  priority {priority}\n}}\n"
            ));
        }
        s
    })
}

fn event() -> impl Strategy<Value = serde_json::Value> {
    let coupon = prop_oneof![
        Just(serde_json::Value::Null),
        Just(json!("a")),
        Just(json!("b")),
    ];
    (
        0..3usize,
        (0..4usize, 0..2usize),
        -1i64..5,
        0..5usize,
        coupon,
        any::<bool>(),
        0..3usize,
    )
        .prop_map(|(tier, (amount, cur), items, sku, coupon, gift, region)| {
            json!({
                "id": "e-1",
                "type": "OrderPlaced",
                "at": "2026-03-02T10:00:00Z",
                "case": "c-1",
                "data": {
                    "order": {
                        "id": "o-1",
                        "tier": (["Gold", "Silver", "Bronze"][tier]),
                        "amount": format!("{}.00 {}", [0, 50, 51, 100][amount], ["USD", "EUR"][cur]),
                        "items": items,
                        "sku": (["", "refund", "x", "re", "X"][sku]),
                        "coupon": coupon,
                        "gift": gift,
                    },
                    "region": (["emea", "us", ""][region]),
                }
            })
        })
}

/// 64 cases by default; `MESHLINE_PROP_CASES=N` for a longer run.
fn cases() -> u32 {
    std::env::var("MESHLINE_PROP_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64)
}

/// Every event's decision, indexed and by a scan, agree on the policy `source`.
fn agree(source: &str, events: &[serde_json::Value]) -> Result<(), TestCaseError> {
    let diags = witness::check(source);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    prop_assert!(
        errors.is_empty(),
        "the policy must check: {errors:#?}\n{source}"
    );
    let files = witness::project(source);
    let program = meshline_compiler::with_large_stack(|| {
        let database = Database::default();
        let handle = db::load_project(&database, &files);
        db::lower(&database, handle, &files.manifest)
    });
    let engine = Engine::new(program, "props").expect("program loads");
    for e in events {
        let env = engine.parse_envelope(e).expect("valid event");
        prop_assert_eq!(
            engine.decide(&env),
            engine.decide_unindexed(&env),
            "event {}\n{}",
            e,
            source
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_indexed_decision_is_the_linear_scan(
        source in policy(),
        events in proptest::collection::vec(event(), 60),
    ) {
        agree(&source, &events)?;
    }

    #[test]
    fn the_decision_tree_is_the_linear_scan(
        source in deep_policy(),
        events in proptest::collection::vec(event(), 60),
    ) {
        agree(&source, &events)?;
    }
}
