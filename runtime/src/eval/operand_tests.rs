//! The in-place comparisons must mean exactly what the general path means: for random
//! operands (places with `.` and `?.` steps, literals, constants, literal lists) over random
//! facts and events (set, unset, `none`, records of the wrong shape, event fields shadowing
//! facts), both give the same value or the same error.

use std::sync::Arc;

use proptest::prelude::*;

use super::super::{CtxVals, Env, EventView, compile as compile_any, general_binary};
use super::*;
use crate::ir::{Lit, SlotDef};

fn program() -> Program {
    let slot = |name: &str, ty: WireTy| SlotDef {
        name: name.into(),
        ty,
        fact: true,
    };
    Program {
        package: "p".into(),
        version: "1".into(),
        enums: Vec::new(),
        records: Vec::new(),
        events: Vec::new(),
        slots: vec![
            slot("a", WireTy::Int),
            slot("b", WireTy::Optional(Box::new(WireTy::Int))),
            slot("c", WireTy::Record(0)),
        ],
        ..Default::default()
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::None),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..3).prop_map(Value::Int),
        prop_oneof![Just("x"), Just("xy"), Just("refund")].prop_map(Value::str),
        (0u32..3).prop_map(|v| Value::Enum(0, v)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(|v| Value::Record(v.into())),
            prop::collection::vec(inner, 0..3).prop_map(|v| Value::List(v.into())),
        ]
    })
}

fn lit_of(v: &Value) -> Option<Lit> {
    Some(match v {
        Value::None => Lit::None,
        Value::Bool(b) => Lit::Bool(*b),
        Value::Int(i) => Lit::Int(*i),
        Value::Str(s) => Lit::Str(s.to_string()),
        Value::Enum(e, v) => Lit::Variant(*e, *v),
        _ => return None,
    })
}

fn operand() -> impl Strategy<Value = Expr> {
    let place = (
        0u32..3,
        prop::collection::vec((0u32..3, any::<bool>()), 0..3),
    )
        .prop_map(|(slot, path)| {
            path.into_iter().fold(Expr::Slot(slot), |e, (i, opt)| {
                if opt {
                    Expr::OptField(Box::new(e), i)
                } else {
                    Expr::Field(Box::new(e), i)
                }
            })
        });
    let literal = leaf().prop_map(|v| Expr::Lit(lit_of(&v).expect("leaves are literals")));
    let list = prop::collection::vec(leaf(), 0..3).prop_map(|vs| {
        Expr::List(
            vs.iter()
                .map(|v| Expr::Lit(lit_of(v).expect("leaf")))
                .collect(),
        )
    });
    prop_oneof![3 => place, 2 => literal, 1 => list, 1 => (0u32..2).prop_map(Expr::Const)]
}

fn op() -> impl Strategy<Value = BinOp> {
    prop_oneof![
        Just(BinOp::Eq),
        Just(BinOp::Ne),
        Just(BinOp::Lt),
        Just(BinOp::Ge),
        Just(BinOp::In),
        Just(BinOp::Contains),
        Just(BinOp::StartsWith),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn in_place_comparisons_mean_what_the_general_path_means(
        op in op(),
        l in operand(),
        r in operand(),
        facts in prop::collection::vec(prop::option::of(value()), 3),
        event in prop::option::of((0u32..3, value())),
        consts in prop::collection::vec(value(), 2),
    ) {
        let p = program();
        let Some(fast) = compile(op, &l, &r, &p) else {
            // Not borrowable (two literals): the general path handles it, nothing to compare.
            return Ok(());
        };
        let general = general_binary(op, &l, &r, &p);
        let env = Env { program: Arc::new(p), consts, functions: Vec::new(), zones: Vec::new(), tables: Vec::new(), aggregates: Vec::new() };
        let ctx = CtxVals::default();
        let (slots, values): (Vec<u32>, Vec<Value>) = event.into_iter().unzip();
        let frame = Frame {
            facts: &facts,
            event: Some(EventView { slots: &slots, values: &values }),
            params: &[],
            ctx: &ctx,
            env: &env,
        };
        prop_assert_eq!(fast(&frame).map(Value::Bool), general(&frame));
    }
}

/// Values shaped for the specialised comparisons: enums, lists of strings, integers,
/// strings, money in two currencies, percents and decimals, records of them.
fn shaped() -> impl Strategy<Value = Value> {
    let d = |n: i64| rust_decimal::Decimal::from(n);
    let leaf = prop_oneof![
        (0i64..3).prop_map(Value::Int),
        prop_oneof![Just("x"), Just("y")].prop_map(Value::str),
        (0i64..3, any::<bool>())
            .prop_map(move |(n, usd)| Value::Money(d(n), if usd { *b"USD" } else { *b"EUR" })),
        (0i64..3).prop_map(move |n| Value::Percent(d(n))),
        (0i64..3).prop_map(move |n| Value::Decimal(d(n))),
        (0u32..2, 0u32..3).prop_map(|(e, v)| Value::Enum(e, v)),
        prop::collection::vec(
            prop_oneof![Just("x"), Just("refund")].prop_map(Value::str),
            0..3
        )
        .prop_map(|v| Value::List(v.into())),
        Just(Value::None),
        Just(Value::str("refund")),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(|v| Value::Record(v.into()))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// `place == Variant`, `place != Variant` (either side), `place contains "text"` and
    /// `place OP literal` for integers, strings, money, percents and decimals have their own
    /// closures: they too mean what the general path means.
    #[test]
    fn specialised_comparisons_mean_what_the_general_path_means(
        op in prop_oneof![
            Just(BinOp::Eq),
            Just(BinOp::Ne),
            Just(BinOp::Contains),
            Just(BinOp::Lt),
            Just(BinOp::Le),
            Just(BinOp::Gt),
            Just(BinOp::Ge),
        ],
        slot in 0u32..3,
        path in prop::collection::vec((0u32..3, any::<bool>()), 0..2),
        literal in prop_oneof![
            (0u32..2, 0u32..3).prop_map(|(e, v)| Lit::Variant(e, v)),
            Just(Lit::Str("refund".into())),
            Just(Lit::Str("x".into())),
            (0i64..3).prop_map(Lit::Int),
            (0i64..3, any::<bool>()).prop_map(|(n, usd)| Lit::Money {
                amount: n.to_string(),
                currency: if usd { "USD" } else { "EUR" }.into(),
            }),
            (0i64..3).prop_map(|n| Lit::Percent(n.to_string())),
            (0i64..3).prop_map(|n| Lit::Decimal(n.to_string())),
        ],
        swap in any::<bool>(),
        facts in prop::collection::vec(prop::option::of(shaped()), 3),
        event in prop::option::of((0u32..3, shaped())),
    ) {
        let p = program();
        let place = path.into_iter().fold(Expr::Slot(slot), |e, (i, opt)| {
            if opt { Expr::OptField(Box::new(e), i) } else { Expr::Field(Box::new(e), i) }
        });
        let (l, r) = match swap && op != BinOp::Contains {
            true => (Expr::Lit(literal), place),
            false => (place, Expr::Lit(literal)),
        };
        let fast = compile(op, &l, &r, &p).expect("a place and a literal are borrowable");
        let general = general_binary(op, &l, &r, &p);
        let env = Env { program: Arc::new(p), consts: Vec::new(), functions: Vec::new(), zones: Vec::new(), tables: Vec::new(), aggregates: Vec::new() };
        let ctx = CtxVals::default();
        let (slots, values): (Vec<u32>, Vec<Value>) = event.into_iter().unzip();
        let frame = Frame {
            facts: &facts,
            event: Some(EventView { slots: &slots, values: &values }),
            params: &[],
            ctx: &ctx,
            env: &env,
        };
        prop_assert_eq!(fast(&frame).map(Value::Bool), general(&frame));
    }
}

fn condition() -> impl Strategy<Value = Expr> {
    let cmp = (op(), operand(), operand())
        .prop_map(|(o, l, r)| Expr::Binary(o, Box::new(l), Box::new(r)));
    cmp.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Binary(
                BinOp::And,
                Box::new(l),
                Box::new(r)
            )),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Expr::Binary(
                BinOp::Or,
                Box::new(l),
                Box::new(r)
            )),
            inner.prop_map(|e| Expr::Not(Box::new(e))),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A compiled condition short-circuits and reports errors as `truthy` of its value does.
    #[test]
    fn conditions_mean_what_their_values_mean(
        cond in condition(),
        facts in prop::collection::vec(prop::option::of(value()), 3),
        consts in prop::collection::vec(value(), 2),
    ) {
        let p = program();
        let pred = super::super::compile_pred(&cond, &p);
        let code = compile_any(&cond, &p);
        let env = Env { program: Arc::new(p), consts, functions: Vec::new(), zones: Vec::new(), tables: Vec::new(), aggregates: Vec::new() };
        let ctx = CtxVals::default();
        let frame = Frame { facts: &facts, event: None, params: &[], ctx: &ctx, env: &env };
        prop_assert_eq!(pred(&frame), code(&frame).and_then(|v| super::super::truthy(&v)));
    }
}
