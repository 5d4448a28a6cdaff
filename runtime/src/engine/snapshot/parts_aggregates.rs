//! Snapshot part `aggregates` (`parts.rs`): each aggregate's keys, buckets and counters, by
//! the aggregate's name, the keys in update order (the eviction order, so equal states give
//! equal bytes; docs/runtime.md, "Snapshots").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::error::SnapshotError;
use super::form::{DecimalForm, InstantForm, ValueForm};
use super::write::Val;
use crate::engine::Engine;
use crate::eval::aggregate::{Acc, Bucket, Key, KeyState};

fn fail<T>(msg: impl Into<String>) -> Result<T, SnapshotError> {
    Err(SnapshotError(format!(
        "the snapshot does not fit the bundle: {}",
        msg.into()
    )))
}

#[derive(Serialize, Deserialize)]
pub(super) enum KeyF<'a> {
    Str(&'a str),
    Int(i64),
    Enum(u32, u32),
}

/// As [`Acc`]; `V` is `Val` when writing and `ValueForm` when reading (same encoding).
#[derive(Serialize, Deserialize)]
enum AccF<V> {
    Count(i64),
    Int(i64),
    Decimal(DecimalForm),
    Money(Vec<([u8; 3], DecimalForm)>),
    Latest(Option<(InstantForm, V)>),
    Overflow,
}

#[derive(Serialize, Deserialize)]
struct KeyS<'a, V> {
    #[serde(borrow)]
    key: KeyF<'a>,
    seq: u64,
    newest: i64,
    buckets: Vec<(i64, Vec<AccF<V>>)>,
}

#[derive(Serialize, Deserialize)]
struct AggS<'a, V> {
    name: &'a str,
    seq: u64,
    evicted: u64,
    #[serde(borrow)]
    keys: Vec<KeyS<'a, V>>,
}

/// The aggregates' state, encoded; none when no aggregate has seen an event.
pub(super) fn write(engine: &Engine) -> Result<Option<Vec<u8>>, SnapshotError> {
    let mut aggs: Vec<AggS<'_, Val<'_>>> = Vec::new();
    for (def, state) in engine.program.aggregates.iter().zip(&engine.env.aggregates) {
        // Aggregates of open cases are part `open_cases` (parts_open_cases.rs).
        if state.seq == 0 || def.cases.is_some() {
            continue;
        }
        let keys = state
            .order
            .values()
            .filter_map(|k| state.keys.get(k).map(|s| (k, s)))
            .map(|(k, s)| KeyS {
                key: match k {
                    Key::Str(x) => KeyF::Str(x),
                    Key::Int(i) => KeyF::Int(*i),
                    Key::Enum(e, v) => KeyF::Enum(*e, *v),
                },
                seq: s.seq,
                newest: s.newest,
                buckets: s
                    .ring
                    .iter()
                    .flatten()
                    .map(|b| (b.index, b.accs.iter().map(acc_form).collect()))
                    .collect(),
            })
            .collect();
        aggs.push(AggS {
            name: &def.name,
            seq: state.seq,
            evicted: state.evicted,
            keys,
        });
    }
    if aggs.is_empty() {
        return Ok(None);
    }
    encode(&aggs).map(Some)
}

fn encode<T: Serialize>(v: &T) -> Result<Vec<u8>, SnapshotError> {
    postcard::to_stdvec(v).map_err(|e| SnapshotError(format!("cannot encode the snapshot: {e}")))
}

fn acc_form(a: &Acc) -> AccF<Val<'_>> {
    match a {
        Acc::Count(c) => AccF::Count(*c),
        Acc::Int(i) => AccF::Int(*i),
        Acc::Decimal(d) => AccF::Decimal(DecimalForm::of(d)),
        Acc::Money(m) => AccF::Money(m.iter().map(|(c, d)| (*c, DecimalForm::of(d))).collect()),
        Acc::Latest(l) => AccF::Latest(l.as_ref().map(|(t, v)| (InstantForm::of(*t), Val(v)))),
        Acc::Overflow => AccF::Overflow,
    }
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, SnapshotError> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        Ok(_) => Err(SnapshotError(format!(
            "the snapshot's {what} have trailing bytes"
        ))),
        Err(e) => Err(SnapshotError(format!(
            "the snapshot's {what} do not decode: {e}"
        ))),
    }
}

/// Install the aggregates' state (part `aggregates`) into `engine`.
pub(super) fn install(engine: &mut Engine, bytes: &[u8]) -> Result<(), SnapshotError> {
    let aggs: Vec<AggS<'_, ValueForm<'_>>> = decode(bytes, "aggregates")?;
    let program = engine.program.clone();
    for a in aggs {
        let Some(i) = program.aggregates.iter().position(|d| d.name == a.name) else {
            return fail(format!("aggregate `{}` is not in the bundle", a.name));
        };
        let Some(state) = engine.env.aggregates.get_mut(i) else {
            return fail(format!("aggregate `{}` has no state", a.name));
        };
        let n = state.ring_len() as i64;
        let mut keys = rustc_hash::FxHashMap::default();
        let mut order = BTreeMap::new();
        for k in a.keys {
            let key = match k.key {
                KeyF::Str(s) => Key::Str(s.into()),
                KeyF::Int(i) => Key::Int(i),
                KeyF::Enum(e, v) => Key::Enum(e, v),
            };
            let mut ring: Vec<Option<Bucket>> = vec![None; n as usize];
            for (index, accs) in k.buckets {
                if accs.len() != state.fields() {
                    return fail(format!("aggregate `{}`: a bucket's fields", a.name));
                }
                let accs = accs
                    .into_iter()
                    .map(|f| acc(f, &program))
                    .collect::<Result<Vec<Acc>, SnapshotError>>()?;
                let slot = index.rem_euclid(n) as usize;
                match ring.get_mut(slot) {
                    Some(cell @ None) => *cell = Some(Bucket { index, accs }),
                    _ => return fail(format!("aggregate `{}`: two buckets in a slot", a.name)),
                }
            }
            if k.seq > a.seq || order.insert(k.seq, key.clone()).is_some() {
                return fail(format!("aggregate `{}`: update order", a.name));
            }
            keys.insert(
                key,
                KeyState {
                    ring,
                    seq: k.seq,
                    newest: k.newest,
                },
            );
        }
        if keys.len() != order.len() {
            return fail(format!("aggregate `{}`: a key twice", a.name));
        }
        state.keys = keys;
        state.order = order;
        state.seq = a.seq;
        state.evicted = a.evicted;
    }
    Ok(())
}

fn acc(f: AccF<ValueForm<'_>>, p: &crate::ir::Program) -> Result<Acc, SnapshotError> {
    Ok(match f {
        AccF::Count(c) => Acc::Count(c),
        AccF::Int(i) => Acc::Int(i),
        AccF::Decimal(d) => Acc::Decimal(d.get()?),
        AccF::Money(m) => Acc::Money(
            m.into_iter()
                .map(|(c, d)| d.get().map(|d| (c, d)))
                .collect::<Result<_, _>>()?,
        ),
        AccF::Latest(None) => Acc::Latest(None),
        AccF::Latest(Some((t, v))) => Acc::Latest(Some((t.get()?, v.get(p)?))),
        AccF::Overflow => Acc::Overflow,
    })
}

#[cfg(test)]
mod tests {
    use sha2::{Digest, Sha256};

    use super::super::{FORMAT, HEAD, MAGIC};
    use crate::engine::Engine;
    use crate::ir::{
        AggFeed, AggField, AggOp, AggregateDef, EventDef, Expr, FieldDef, Lit, Program, SlotDef,
        WireTy,
    };
    use crate::value::Value;

    fn program() -> Program {
        Program {
            events: vec![EventDef {
                name: "Refund".into(),
                fields: vec![FieldDef {
                    name: "customer".into(),
                    ty: WireTy::String,
                }],
                slots: vec![0],
                updates_facts: true,
                builtin: None,
            }],
            slots: vec![SlotDef {
                name: "customer".into(),
                ty: WireTy::String,
                fact: true,
            }],
            aggregates: vec![AggregateDef {
                name: "refunds".into(),
                window: Some(30 * 86_400),
                keep: 10,
                feeds: vec![AggFeed {
                    event: 0,
                    key: Expr::Slot(0),
                    when: None,
                }],
                fields: vec![AggField {
                    name: "n".into(),
                    ty: WireTy::Int,
                    op: AggOp::Count,
                }],
                fingerprint: "f".into(),
                cases: None,
            }],
            ..Program::default()
        }
    }

    fn count(e: &Engine) -> Value {
        match e.evaluate(&Expr::Aggregate(
            0,
            Box::new(Expr::Lit(Lit::Str("acme".into()))),
        )) {
            Ok(Value::Record(fs)) => fs[0].clone(),
            other => panic!("{other:?}"),
        }
    }

    /// The snapshot's frame around `body` (what `snapshot` writes around body and parts).
    fn frame(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(body);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    fn fed() -> Engine {
        let mut e = Engine::new(program(), "b").unwrap();
        for (i, at) in ["2026-03-02T10:00:00Z", "2026-03-03T10:00:00Z"]
            .iter()
            .enumerate()
        {
            e.apply_line(&format!(
                r#"{{"id":"e{i}","type":"Refund","at":"{at}","case":"T-{i}","data":{{"customer":"acme"}}}}"#
            ));
        }
        e.drain();
        e
    }

    #[test]
    fn aggregates_survive_a_snapshot_and_snapshots_without_the_part_restore_empty() {
        let e = fed();
        assert_eq!(count(&e), Value::Int(2));
        let bytes = e.snapshot().unwrap();
        let restored = Engine::restore(program(), "b", &bytes).unwrap();
        assert_eq!(count(&restored), Value::Int(2));
        assert_eq!(restored.snapshot().unwrap(), bytes);
        // The same state as a snapshot written before parts existed: the body alone.
        let body = postcard::to_stdvec(&e.body()).unwrap();
        assert!(
            bytes.len() > HEAD + body.len() + 32,
            "the part follows the body"
        );
        let old = frame(&body);
        let restored = Engine::restore(program(), "b", &old).unwrap();
        assert_eq!(count(&restored), Value::Int(0));
        assert_eq!(restored.ledger_position(), e.ledger_position());
        // An engine with no aggregate state writes no part: the bytes of before.
        let fresh = Engine::new(program(), "b").unwrap();
        let body = postcard::to_stdvec(&fresh.body()).unwrap();
        assert_eq!(fresh.snapshot().unwrap(), frame(&body));
    }

    #[test]
    fn an_unknown_part_or_a_damaged_one_is_refused() {
        let e = fed();
        let mut body = postcard::to_stdvec(&e.body()).unwrap();
        body.extend(postcard::to_stdvec(&vec![("zzz_later", vec![1u8, 2])]).unwrap());
        match Engine::restore(program(), "b", &frame(&body)) {
            Err(err) => assert!(err.0.contains("zzz_later"), "{err}"),
            Ok(_) => panic!("restored"),
        }
        let mut body = postcard::to_stdvec(&e.body()).unwrap();
        body.extend(postcard::to_stdvec(&vec![("aggregates", vec![9u8, 9, 9])]).unwrap());
        assert!(Engine::restore(program(), "b", &frame(&body)).is_err());
    }
}
