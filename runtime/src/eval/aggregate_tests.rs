//! The bucketed window against a naive recomputation over the event list, the key bounds
//! and the empty reads (docs/runtime.md, "Aggregates").

use jiff::Timestamp;
use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::ir::{AggField, AggOp, AggregateDef, Expr, WireTy};

const DAY: i64 = 86_400;

fn def(window: Option<i64>, keep: u64) -> AggregateDef {
    AggregateDef {
        name: "refunds".into(),
        window,
        keep,
        feeds: Vec::new(),
        fields: vec![
            AggField {
                name: "count".into(),
                ty: WireTy::Int,
                op: AggOp::Count,
            },
            AggField {
                name: "total".into(),
                ty: WireTy::Optional(Box::new(WireTy::Money)),
                op: AggOp::Sum(Expr::Param(0)),
            },
            AggField {
                name: "last".into(),
                ty: WireTy::Optional(Box::new(WireTy::Int)),
                op: AggOp::Latest(Expr::Param(0)),
            },
        ],
        fingerprint: String::new(),
        cases: None,
    }
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap()
}

fn usd(n: i64) -> Value {
    Value::Money(Decimal::from(n), *b"USD")
}

fn fields(v: Value) -> Vec<Value> {
    match v {
        Value::Record(items) => items.to_vec(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_key_never_seen_reads_zero_count_and_none() {
    let s = AggState::new(&def(Some(30 * DAY), 10));
    let r = fields(s.get(&Value::str("acme"), Some(ts(0))).unwrap());
    assert_eq!(r, vec![Value::Int(0), Value::None, Value::None]);
    let r = fields(s.get(&Value::None, None).unwrap());
    assert_eq!(r[0], Value::Int(0));
}

#[test]
fn thirty_days_count_and_an_event_thirty_one_days_later_no_longer_counts() {
    let mut s = AggState::new(&def(Some(30 * DAY), 10));
    let key = Value::str("acme");
    let t0 = 100 * DAY + 3600;
    for (i, amount) in [100, 50, 25].into_iter().enumerate() {
        let at = ts(t0 + i as i64 * DAY);
        s.feed(
            &key,
            at,
            at,
            &[None, Some(usd(amount)), Some(Value::Int(amount))],
        );
    }
    let r = fields(s.get(&key, Some(ts(t0 + 2 * DAY))).unwrap());
    assert_eq!(r, vec![Value::Int(3), usd(175), Value::Int(25)]);
    // 31 days after the last: nothing left, and the key goes at the next sweep.
    let later = ts(t0 + 33 * DAY);
    let r = fields(s.get(&key, Some(later)).unwrap());
    assert_eq!(r, vec![Value::Int(0), Value::None, Value::None]);
    s.feed(&Value::str("other"), later, later, &[None, None, None]);
    assert_eq!(s.len(), 1, "the expired key is dropped by the sweep");
}

#[test]
fn two_currencies_in_one_window_are_an_evaluation_error_naming_both() {
    let mut s = AggState::new(&def(None, 10));
    let key = Value::Int(7);
    s.feed(&key, ts(0), ts(0), &[None, Some(usd(1)), None]);
    s.feed(
        &key,
        ts(1),
        ts(1),
        &[None, Some(Value::Money(Decimal::ONE, *b"EUR")), None],
    );
    assert_eq!(
        s.get(&key, Some(ts(2))),
        Err(EvalError::CurrencyMismatch(*b"USD", *b"EUR"))
    );
}

#[test]
fn beyond_keep_keys_the_least_recently_updated_is_evicted() {
    let mut s = AggState::new(&def(None, 2));
    let (a, b, c) = (Value::str("a"), Value::str("b"), Value::str("c"));
    assert_eq!(s.feed(&a, ts(0), ts(0), &[None, None, None]), None);
    assert_eq!(s.feed(&b, ts(1), ts(1), &[None, None, None]), None);
    // `a` updated again: `b` is now the least recently updated.
    assert_eq!(s.feed(&a, ts(2), ts(2), &[None, None, None]), None);
    let gone = s.feed(&c, ts(3), ts(3), &[None, None, None]);
    assert_eq!(gone, Some(Key::Str("b".into())));
    assert_eq!(s.len(), 2);
    assert_eq!(s.evicted, 1);
    assert_eq!(fields(s.get(&a, None).unwrap())[0], Value::Int(2));
    assert_eq!(fields(s.get(&b, None).unwrap())[0], Value::Int(0));
}

/// Whether an event at `e` counts at `t`: the documented rule, stated directly.
fn counts(width: i64, n: i64, e: i64, t: i64) -> bool {
    let (be, bt) = (e.div_euclid(width), t.div_euclid(width));
    be <= bt && be > bt - n
}

proptest! {
    /// After every event, the bucketed state reads, for every key, what a recomputation over
    /// all events so far gives under the documented rule; and the rule keeps each event
    /// between D - width and D + width.
    #[test]
    fn the_bucketed_window_agrees_with_a_naive_recomputation(
        window in 1i64..(40 * DAY),
        steps in proptest::collection::vec((0i64..(3 * DAY), 0u8..4, -50i64..500, 0i64..DAY), 1..60),
    ) {
        let d = def(Some(window), 1_000);
        let (width, n) = d.buckets();
        prop_assert!(n <= crate::ir::BUCKETS && width * n >= window && width * (n - 1) < window);
        let mut s = AggState::new(&d);
        let mut clock = 1_000 * DAY;
        let mut events: Vec<(i64, u8, i64)> = Vec::new();
        for (gap, key, amount, lateness) in steps {
            clock += gap;
            // Some events arrive late: their instant is before the clock.
            let at = clock - lateness.min(gap);
            s.feed(&Value::Int(key.into()), ts(at), ts(clock), &[None, Some(usd(amount)), Some(Value::Int(amount))]);
            events.push((at, key, amount));
            for k in 0u8..4 {
                let mut count = 0i64;
                let mut total = 0i64;
                let mut last: Option<(i64, i64)> = None;
                for (e, ek, amt) in &events {
                    if *ek == k && counts(width, n, *e, clock) {
                        count += 1;
                        total += amt;
                        if last.is_none_or(|(t, _)| t <= *e) {
                            last = Some((*e, *amt));
                        }
                    }
                }
                let got = fields(s.get(&Value::Int(k.into()), Some(ts(clock))).unwrap());
                prop_assert_eq!(&got[0], &Value::Int(count));
                let want_total = if count == 0 { Value::None } else { usd(total) };
                prop_assert_eq!(&got[1], &want_total);
                prop_assert_eq!(&got[2], &last.map_or(Value::None, |(_, a)| Value::Int(a)));
            }
            for (e, _, _) in &events {
                let age = clock - e;
                if age < window - width { prop_assert!(counts(width, n, *e, clock)); }
                if age >= window + width { prop_assert!(!counts(width, n, *e, clock)); }
            }
        }
    }
}

#[test]
fn any_window_a_bundle_may_carry_gives_at_most_thirty_buckets_without_overflow() {
    for w in [
        Some(i64::MAX),
        Some(i64::MAX - 1),
        Some(1),
        Some(0),
        Some(-5),
        None,
    ] {
        let d = def(w, 0);
        let (width, n) = d.buckets();
        assert!((1..=crate::ir::BUCKETS).contains(&n) && width >= 1, "{w:?}");
        let mut s = AggState::new(&d);
        let key = Value::str("k");
        s.feed(&key, ts(0), ts(0), &[None, None, None]);
        assert_eq!(
            fields(s.get(&key, Some(ts(0))).unwrap())[0],
            Value::Int(1),
            "{w:?}"
        );
    }
}

#[test]
fn aggregates_travel_in_their_bundle_section_and_a_bundle_without_one_has_none() {
    use crate::bundle::{self, Manifest};
    use crate::ir::Program;
    let manifest = Manifest {
        package: "p".into(),
        version: "1.0.0".into(),
        compiler_version: "0".into(),
        source_hash: "00".into(),
        tzdb_version: "x".into(),
        automations: Vec::new(),
        sources: Default::default(),
        tables: Default::default(),
    };
    let program = Program {
        aggregates: vec![def(Some(30 * DAY), 7)],
        ..Program::default()
    };
    let bytes = bundle::encode(&manifest, &program).unwrap();
    let (_, decoded, _) = bundle::decode::<Program>(&bytes).unwrap();
    assert_eq!(decoded.aggregates, program.aggregates);
    // The core program is unchanged by the section: what an older release reads.
    assert_eq!(
        postcard::to_allocvec(&program).unwrap(),
        postcard::to_allocvec(&Program::default()).unwrap()
    );
    let plain = bundle::encode(&manifest, &Program::default()).unwrap();
    assert!(
        bundle::decode::<Program>(&plain)
            .unwrap()
            .1
            .aggregates
            .is_empty()
    );
}
