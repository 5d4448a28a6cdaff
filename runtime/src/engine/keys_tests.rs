//! Keys and the tables built on them: which equalities a condition requires, what is left
//! when one holds, which one keys it, and which routes one lookup hands over.

use std::sync::Arc;

use super::super::index::{Cand, Dispatch, How};
use super::*;
use crate::eval::{CtxVals, Env, EventView};
use crate::ir::Program;

fn field(i: u32) -> Expr {
    Expr::Field(Box::new(Expr::Slot(0)), i)
}
fn eq(l: Expr, lit: Lit) -> Expr {
    Expr::Binary(BinOp::Eq, Box::new(l), Box::new(Expr::Lit(lit)))
}
fn and(l: Expr, r: Expr) -> Expr {
    Expr::Binary(BinOp::And, Box::new(l), Box::new(r))
}
fn or(l: Expr, r: Expr) -> Expr {
    Expr::Binary(BinOp::Or, Box::new(l), Box::new(r))
}
fn ty(s: &str) -> Expr {
    eq(field(1), Lit::Str(s.into()))
}
fn gt(l: Expr, n: i64) -> Expr {
    Expr::Binary(BinOp::Gt, Box::new(l), Box::new(Expr::Lit(Lit::Int(n))))
}
fn path(i: u32) -> Discriminant {
    Discriminant::Path(0, vec![i])
}

#[test]
fn strings_integers_variants_and_ors_of_one_field_are_required() {
    let sev = eq(field(2), Lit::Int(1));
    let cond = and(gt(field(3), 5), and(ty("incident"), sev.clone()));
    assert_eq!(
        required(&cond),
        vec![
            Required {
                disc: path(1),
                keys: vec![Key::Str(Arc::from("incident"))]
            },
            Required {
                disc: path(2),
                keys: vec![Key::Int(1)]
            },
        ]
    );
    // The rest keeps its order (and so its short-circuits and errors).
    assert_eq!(
        without(&cond, &required(&cond)[0]),
        Some(Some(and(gt(field(3), 5), sev.clone())))
    );
    let either = or(ty("incident"), ty("outage"));
    assert_eq!(
        required(&either),
        vec![Required {
            disc: path(1),
            keys: vec![
                Key::Str(Arc::from("incident")),
                Key::Str(Arc::from("outage"))
            ]
        }]
    );
    assert_eq!(without(&either, &required(&either)[0]), Some(None));
    // An `or` over two fields, or under a `not`, requires nothing.
    assert!(required(&or(ty("incident"), sev.clone())).is_empty());
    assert!(required(&Expr::Not(Box::new(ty("incident")))).is_empty());
    // `?.` may read none: not a plain read.
    let opt = eq(
        Expr::OptField(Box::new(Expr::Slot(0)), 1),
        Lit::Str("x".into()),
    );
    assert!(required(&opt).is_empty());
}

#[test]
fn the_key_is_on_the_field_most_conditions_require() {
    let client = |c: &str| eq(field(4), Lit::Str(c.into()));
    let conds = [
        and(ty("incident"), client("c1")),
        and(ty("billing"), client("c2")),
        client("c3"),
        ty("access"),
        and(gt(field(3), 1), client("c4")),
        gt(field(3), 1),
    ];
    // The client id: 4 conditions; the type: 3 (the first two take the client, not their
    // leftmost equality).
    let chosen = choose(conds.iter().map(Some));
    let discs: Vec<Option<Discriminant>> = chosen
        .iter()
        .map(|r| r.as_ref().map(|r| r.disc.clone()))
        .collect();
    assert_eq!(
        discs,
        vec![
            Some(path(4)),
            Some(path(4)),
            Some(path(4)),
            Some(path(1)),
            Some(path(4)),
            None
        ]
    );
}

#[test]
fn one_lookup_hands_over_the_keyed_routes_of_the_value_and_the_others() {
    let client = |c: &str| eq(field(4), Lit::Str(c.into()));
    let conds = [
        and(client("c1"), gt(field(3), 1)),
        client("c2"),
        ty("incident"),
        gt(field(3), 1),
        client("c1"),
    ];
    let reqs = choose(conds.iter().map(Some));
    let d = Dispatch::build(0..5, &reqs);
    let env = Env {
        program: Arc::new(Program::default()),
        consts: Vec::new(),
        functions: Vec::new(),
        zones: Vec::new(),
        tables: Vec::new(),
        aggregates: Vec::new(),
    };
    let ctx = CtxVals::default();
    let ticket = |client: Value| {
        Value::Record(
            vec![
                Value::str("T-1"),
                Value::str("incident"),
                Value::Int(1),
                Value::Int(3),
                client,
            ]
            .into(),
        )
    };
    let at = |v: Value| -> Vec<Cand> {
        let values = [v];
        let f = Frame {
            facts: &[],
            event: Some(EventView {
                slots: &[0],
                values: &values,
            }),
            params: &[],
            ctx: &ctx,
            env: &env,
        };
        d.candidates(&f).to_vec()
    };
    let c = |at: u32, how: How| Cand { at, how };
    assert_eq!(
        at(ticket(Value::str("c1"))),
        vec![
            c(0, How::Residual),
            c(2, How::Guarded),
            c(3, How::Full),
            c(4, How::Residual)
        ]
    );
    // A client no route names: only the routes not keyed on the client.
    assert_eq!(
        at(ticket(Value::str("c9"))),
        vec![c(2, How::Guarded), c(3, How::Full)]
    );
    // Not a string (here none): nothing is known, every route by its whole condition.
    assert_eq!(
        at(ticket(Value::None)),
        vec![
            c(0, How::Full),
            c(1, How::Full),
            c(2, How::Guarded),
            c(3, How::Full),
            c(4, How::Full)
        ]
    );
}
