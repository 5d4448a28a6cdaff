//! Unit tests of the decision procedure on hand-built formulas.

use rust_decimal::Decimal;

use super::*;

fn var(vars: &mut Vars, name: &str, ty: Ty, kind: Kind) -> VarId {
    vars.intern(vec![name.to_string()], ty, kind)
}

fn lit(l: Lit) -> Formula {
    Formula::lit(l)
}

fn outcome(vars: &Vars, fs: &[Formula]) -> Outcome {
    let dnfs: Vec<Option<Vec<Conj>>> = fs.iter().map(dnf).collect();
    let parts: Vec<Option<&[Conj]>> = dnfs.iter().map(|d| d.as_deref()).collect();
    let o = decide(&parts, vars);
    assert_eq!(disjoint(&parts, vars), o == Outcome::Disjoint, "{o:?}");
    o
}

fn money(n: i64, c: &str) -> Const {
    Const::Money(Decimal::from(n), c.into())
}

#[test]
fn integers_are_whole_decimals_are_dense() {
    let mut vars = Vars::default();
    let i = var(&mut vars, "i", Ty::Int, Kind::Int);
    let d = var(&mut vars, "d", Ty::Decimal, Kind::Dec);
    let between = |v, lo: Const, hi: Const| {
        Formula::and(vec![
            lit(Lit::Cmp(v, Op::Gt, lo)),
            lit(Lit::Cmp(v, Op::Lt, hi)),
        ])
    };
    let f = between(i, Const::Int(5), Const::Int(6));
    assert_eq!(outcome(&vars, &[f]), Outcome::Disjoint);
    let f = between(
        d,
        Const::Dec(Decimal::from(5)),
        Const::Dec(Decimal::from(6)),
    );
    match outcome(&vars, &[f]) {
        Outcome::Overlap(m) => {
            let Const::Dec(x) = m[&d] else { panic!() };
            assert!(x > Decimal::from(5) && x < Decimal::from(6));
        }
        o => panic!("{o:?}"),
    }
    // Every integer of [1, 2] excluded.
    let f = Formula::and(vec![
        lit(Lit::Cmp(i, Op::Ge, Const::Int(1))),
        lit(Lit::Cmp(i, Op::Le, Const::Int(2))),
        lit(Lit::Cmp(i, Op::Ne, Const::Int(1))),
        lit(Lit::Cmp(i, Op::Ne, Const::Int(2))),
    ]);
    assert_eq!(outcome(&vars, &[f]), Outcome::Disjoint);
}

#[test]
fn money_keeps_its_currency() {
    let mut vars = Vars::default();
    let m = var(&mut vars, "m", Ty::Money, Kind::Money);
    let usd = lit(Lit::Cmp(m, Op::Gt, money(100, "USD")));
    let eur = lit(Lit::Cmp(m, Op::Lt, money(200, "EUR")));
    assert_eq!(outcome(&vars, &[usd.clone(), eur]), Outcome::Disjoint);
    // "Not above 100 USD" includes amounts in other currencies.
    let not_usd = vars.negate(&usd);
    match outcome(
        &vars,
        &[not_usd, lit(Lit::Cmp(m, Op::Gt, money(500, "EUR")))],
    ) {
        Outcome::Overlap(w) => assert!(matches!(&w[&m], Const::Money(_, c) if c == "EUR")),
        o => panic!("{o:?}"),
    }
}

#[test]
fn strings_substrings_and_prefixes() {
    let mut vars = Vars::default();
    let s = var(&mut vars, "s", Ty::String, Kind::Str);
    let has = |p, t: &str, b| lit(Lit::Str(s, p, t.into(), b));
    let f = Formula::and(vec![
        has(StrPred::Contains, "ab", true),
        has(StrPred::Contains, "a", false),
    ]);
    assert_eq!(outcome(&vars, &[f]), Outcome::Disjoint);
    let f = Formula::and(vec![
        has(StrPred::StartsWith, "AB-", true),
        has(StrPred::Contains, "42", true),
        has(StrPred::Matches, "^AB-9", false),
    ]);
    match outcome(&vars, &[f]) {
        Outcome::Overlap(w) => assert_eq!(w[&s], Const::Str("AB-42".into())),
        o => panic!("{o:?}"),
    }
    let f = Formula::and(vec![
        lit(Lit::Cmp(s, Op::Eq, Const::Str("refund".into()))),
        has(StrPred::Matches, "^x", true),
    ]);
    assert_eq!(outcome(&vars, &[f]), Outcome::Disjoint);
}

#[test]
fn optionals_and_negation() {
    let mut vars = Vars::default();
    let ty = Ty::Enum(crate::semantic::types::DefId::new("m", "Tier")).optional();
    let kind = Kind::Enum(vec!["Gold".into(), "Silver".into()]);
    let t = var(&mut vars, "t", ty, kind);
    let gold = lit(Lit::Cmp(t, Op::Eq, Const::Enum("Gold".into())));
    let none = lit(Lit::IsNone(t, true));
    assert_eq!(outcome(&vars, &[gold.clone(), none]), Outcome::Disjoint);
    // "Not Gold" is Silver or none.
    match outcome(&vars, &[vars.negate(&gold)]) {
        Outcome::Overlap(w) => assert!(matches!(&w[&t], Const::Enum(v) if v == "Silver")),
        o => panic!("{o:?}"),
    }
    let not_silver = vars.negate(&lit(Lit::Cmp(t, Op::Eq, Const::Enum("Silver".into()))));
    let f = Formula::and(vec![
        vars.negate(&gold),
        not_silver,
        lit(Lit::IsNone(t, false)),
    ]);
    assert_eq!(outcome(&vars, &[f]), Outcome::Disjoint);
}

#[test]
fn opaque_parts_and_caps() {
    let mut vars = Vars::default();
    let p = vars.opaque("p".into());
    let b = var(&mut vars, "b", Ty::Bool, Kind::Bool);
    let o = lit(Lit::Opaque(p, true));
    assert_eq!(outcome(&vars, std::slice::from_ref(&o)), Outcome::Unknown);
    assert_eq!(
        outcome(&vars, &[o.clone(), vars.negate(&o)]),
        Outcome::Disjoint
    );
    // A witness may come from a disjunct without the opaque part.
    let f = Formula::or(vec![o, lit(Lit::Cmp(b, Op::Eq, Const::Bool(true)))]);
    assert!(matches!(outcome(&vars, &[f]), Outcome::Overlap(_)));
    // 2^10 conjunctions is past the cap: unknown, not an explosion.
    let ors: Vec<Formula> = (0..10)
        .map(|i| {
            let x = vars.opaque(format!("x{i}"));
            Formula::or(vec![
                lit(Lit::Opaque(x, true)),
                lit(Lit::Opaque(x + 100, true)),
            ])
        })
        .collect();
    assert!(dnf(&Formula::and(ors)).is_none());
}

#[test]
fn lists() {
    let mut vars = Vars::default();
    let l = var(&mut vars, "l", Ty::List(Box::new(Ty::String)), Kind::List);
    let has = |c: &str, b| lit(Lit::Has(l, Const::Str(c.into()), b));
    assert_eq!(
        outcome(&vars, &[has("vip", true), has("vip", false)]),
        Outcome::Disjoint
    );
    match outcome(&vars, &[has("vip", true), has("refund", false)]) {
        Outcome::Overlap(w) => assert_eq!(w[&l], Const::List(vec![Const::Str("vip".into())])),
        o => panic!("{o:?}"),
    }
}
