//! The facts a decision read, for the ledger (docs/runtime.md, "Decisions"): each classify
//! arm's and route's fact paths (`ticket.priority`) and aggregate lookups
//! (`client_cases[ticket.client_id].open`) are collected once at load, and the values they
//! had are written on the `classified` and `assigned` entries — an aggregate lookup under
//! the key it was read with (`client_cases["c-9"].open`).

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value as Json;
use smallvec::SmallVec;

use crate::eval::{self, EventView, Frame};
use crate::ir::{Expr, Program, SlotId, WireTy};
use crate::ledger::{self, Detail};
use crate::value::{self, Value};

/// What a condition reads: a place (a slot and a path of record fields, with its name), or
/// an aggregate lookup.
pub(crate) enum Read {
    Place {
        slot: SlotId,
        path: Box<[u32]>,
        name: Arc<str>,
    },
    Aggregate(AggRead),
}

/// `NAME[KEY]` or `NAME[KEY].field` in a condition: the key's code, to name the read by
/// the key's value when it is written.
pub(crate) struct AggRead {
    aggregate: u32,
    key: eval::Code,
    /// The field read, if the condition reads one (else the whole record).
    field: Option<u32>,
    /// The aggregate's name, and `.field` or "".
    name: Arc<str>,
    suffix: Arc<str>,
    /// The key's expression as written, to tell two lookups apart before they are named.
    text: Arc<str>,
}

/// A slot and a path of record fields from it.
type Place = (SlotId, Vec<u32>);

/// How deep calls are followed (function bodies cannot recurse; this only bounds the walk).
const MAX_CALL_DEPTH: usize = 16;

/// The places `exprs` read, each once, in order of first appearance. A record passed to a
/// function is not read whole: the function's own field reads are followed to it
/// (`is_vip(ticket)` reads `ticket.tier` if that is what `is_vip` reads).
pub(crate) fn collect<'e>(p: &Program, exprs: impl IntoIterator<Item = &'e Expr>) -> Box<[Read]> {
    let mut places: Vec<Place> = Vec::new();
    let mut lookups: Vec<(u32, &Expr, Option<u32>)> = Vec::new();
    for e in exprs {
        walk(p, e, &[], 0, &mut places);
        lookups_in(e, &mut lookups);
    }
    let aggs = lookups.into_iter().map(|(a, key, field)| {
        let def = p.aggregates.get(a as usize);
        let suffix = field
            .and_then(|i| def.and_then(|d| d.fields.get(i as usize)))
            .map_or(String::new(), |f| format!(".{}", f.name));
        Read::Aggregate(AggRead {
            aggregate: a,
            key: eval::compile(key, p),
            field,
            name: def.map_or("?", |d| d.name.as_str()).into(),
            suffix: suffix.into(),
            text: crate::ir_print::expr_text(p, key).into(),
        })
    });
    places
        .into_iter()
        .map(|(slot, path)| Read::Place {
            name: name(p, slot, &path).into(),
            slot,
            path: path.into(),
        })
        .chain(aggs)
        .collect()
}

/// The aggregate lookups in `e` (not inside function bodies: a function reads what its
/// caller passes), each (aggregate, key, field) once, in order of first appearance.
fn lookups_in<'e>(e: &'e Expr, out: &mut Vec<(u32, &'e Expr, Option<u32>)>) {
    let mut push = |x: (u32, &'e Expr, Option<u32>)| {
        if !out.iter().any(|o| o.0 == x.0 && o.1 == x.1 && o.2 == x.2) {
            out.push(x);
        }
    };
    match e {
        Expr::Field(b, i) | Expr::OptField(b, i) if matches!(&**b, Expr::Aggregate(..)) => {
            if let Expr::Aggregate(a, k) = &**b {
                push((*a, k, Some(*i)));
                lookups_in(k, out);
            }
            return;
        }
        Expr::Aggregate(a, k) => {
            push((*a, k, None));
            lookups_in(k, out);
            return;
        }
        _ => {}
    }
    each_child(e, |x| lookups_in(x, out));
}

/// Every direct sub-expression of `e` (calls: the arguments only).
fn each_child<'e>(e: &'e Expr, mut f: impl FnMut(&'e Expr)) {
    match e {
        Expr::Lit(_)
        | Expr::Slot(_)
        | Expr::Param(_)
        | Expr::Const(_)
        | Expr::Ctx(_)
        | Expr::Elem(_) => {}
        Expr::Quant { list, body, .. } => {
            f(list);
            f(body);
        }
        Expr::Field(b, _)
        | Expr::OptField(b, _)
        | Expr::Unwrap(b)
        | Expr::Not(b)
        | Expr::Neg(b)
        | Expr::Matches(b, _)
        | Expr::Lookup(_, b)
        | Expr::Aggregate(_, b)
        | Expr::IsSet(b)
        | Expr::Previous(b)
        | Expr::Changed(b) => f(b),
        Expr::Binary(_, l, r) => {
            f(l);
            f(r);
        }
        Expr::Call(_, args) | Expr::Builtin(_, args) | Expr::List(args) => args.iter().for_each(f),
        Expr::If(c, t, e) => {
            f(c);
            f(t);
            f(e);
        }
        Expr::Match {
            scrutinee,
            arms,
            default,
        } => {
            f(scrutinee);
            arms.iter().for_each(|(_, a)| f(a));
            if let Some(d) = default {
                f(d);
            }
        }
        Expr::Record { base, fields } => {
            if let Some(b) = base {
                f(b);
            }
            fields.iter().flatten().for_each(f);
        }
    }
}

/// `slot.a.b` when `e` is such a chain of field accesses (from a slot, or from a parameter
/// bound to a place).
fn place(e: &Expr, params: &[Option<Place>]) -> Option<Place> {
    match e {
        Expr::Slot(s) => Some((*s, Vec::new())),
        Expr::Param(i) => params.get(*i as usize)?.clone(),
        Expr::Field(b, i) | Expr::OptField(b, i) => {
            let (s, mut path) = place(b, params)?;
            path.push(*i);
            Some((s, path))
        }
        _ => None,
    }
}

fn walk(p: &Program, e: &Expr, params: &[Option<Place>], depth: usize, out: &mut Vec<Place>) {
    if let Some(pl) = place(e, params) {
        if !out.contains(&pl) {
            out.push(pl);
        }
        return;
    }
    // A call is followed into the function's body, its place arguments bound to the
    // parameters; every other expression reads what its children read.
    if let Expr::Call(f, args) = e
        && let Some(body) = p.functions.get(*f as usize).map(|f| &f.body)
        && depth < MAX_CALL_DEPTH
    {
        // Arguments that are places bind the parameters; the others are read here.
        let bound: Vec<Option<Place>> = args.iter().map(|a| place(a, params)).collect();
        for (a, b) in args.iter().zip(&bound) {
            if b.is_none() {
                walk(p, a, params, depth, out);
            }
        }
        walk(p, body, &bound, depth + 1, out);
        return;
    }
    each_child(e, |x| walk(p, x, params, depth, out));
}

/// `ticket.priority`: the slot's name and each field's name along the path.
fn name(p: &Program, slot: SlotId, path: &[u32]) -> String {
    let Some(def) = p.slots.get(slot as usize) else {
        return format!("slot{slot}");
    };
    let mut out = def.name.clone();
    let mut ty = &def.ty;
    for i in path {
        while let WireTy::Optional(inner) = ty {
            ty = inner;
        }
        let field = match ty {
            WireTy::Record(r) => p
                .records
                .get(*r as usize)
                .and_then(|r| r.fields.get(*i as usize)),
            _ => None,
        };
        match field {
            Some(f) => {
                out.push('.');
                out.push_str(&f.name);
                ty = &f.ty;
            }
            None => {
                out.push_str(&format!(".{i}"));
            }
        }
    }
    out
}

/// The value at `read` as a decision sees it: the triggering event's field when it has
/// one, else the case fact (`None`: unset, or a none along the path).
fn value_at<'a>(
    slot: SlotId,
    path: &[u32],
    facts: &'a [Option<Value>],
    event: Option<EventView<'a>>,
) -> Option<&'a Value> {
    let from_event = event.and_then(|ev| {
        let i = ev.slots.iter().position(|s| *s == slot)?;
        ev.values.get(i)
    });
    let mut cur = match from_event {
        Some(v) => v,
        None => facts.get(slot as usize)?.as_ref()?,
    };
    for i in path {
        match cur {
            Value::Record(items) => cur = items.get(*i as usize)?,
            _ => return None,
        }
    }
    Some(cur)
}

/// Write the `read` detail (when the rules read anything): every place the given rules
/// read, by name, with its value (`null` when unset), and every aggregate lookup, named
/// with the key it read (`client_cases["c-9"].open`) and its value at the decision's time
/// (`null` when the key or the lookup fails to evaluate) — sorted by name, each once,
/// straight into the entry as canonical JSON.
pub(crate) fn write<'r>(
    d: &mut Detail,
    p: &Program,
    reads: impl IntoIterator<Item = &'r Read>,
    frame: &Frame<'_>,
) {
    let mut items: SmallVec<[(Cow<'r, str>, Option<Json>); 8]> = SmallVec::new();
    for r in reads {
        match r {
            Read::Place {
                slot, path, name, ..
            } => {
                let v = value_at(*slot, path, frame.facts, frame.event);
                items.push((Cow::Borrowed(&**name), v.map(|v| value::encode(p, v))));
            }
            Read::Aggregate(a) => items.push(aggregate_read(p, a, frame)),
        }
    }
    if items.is_empty() {
        return;
    }
    items.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    items.dedup_by(|a, b| a.0 == b.0);
    let out = d.raw("read");
    out.push('{');
    for (i, (name, v)) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        ledger::write_str(&name, out);
        out.push(':');
        match v {
            None => out.push_str("null"),
            Some(v) => ledger::write_json(&clip(v), out),
        }
    }
    out.push('}');
}

/// `NAME[KEY].field` named by the key's value, with the value read (as the rule read it:
/// the window at the event's time, or `now` for a timer).
fn aggregate_read<'r>(p: &Program, a: &AggRead, f: &Frame<'_>) -> (Cow<'r, str>, Option<Json>) {
    let Ok(key) = (a.key)(f) else {
        return (format!("{}[{}]{}", a.name, a.text, a.suffix).into(), None);
    };
    let key_text = clip(value::encode(p, &key)).to_string();
    let name = format!("{}[{key_text}]{}", a.name, a.suffix);
    let now = f.ctx.now.or(f.ctx.event_at);
    let record = f
        .env
        .aggregates
        .get(a.aggregate as usize)
        .and_then(|s| s.get(&key, now).ok());
    let value = match (record, a.field) {
        (Some(Value::Record(items)), Some(i)) => items.get(i as usize).cloned(),
        (other, _) => other,
    };
    (name.into(), value.map(|v| value::encode(p, &v)))
}

/// The most bytes of a text value a `read` detail records, and the most items of a list.
const MAX_TEXT: usize = 120;
const MAX_ITEMS: usize = 10;

/// A value cut to size for the ledger: a text over [`MAX_TEXT`] bytes ends in `…`, a list
/// over [`MAX_ITEMS`] items keeps the first ones and a last `"…"` (facts are user input; an
/// entry stays small whatever they hold).
fn clip(v: Json) -> Json {
    if !too_long(&v) {
        return v;
    }
    match v {
        Json::String(t) if t.len() > MAX_TEXT => {
            let mut end = MAX_TEXT;
            while !t.is_char_boundary(end) {
                end -= 1;
            }
            Json::String(format!("{}…", &t[..end]))
        }
        Json::Array(items) => {
            let long = items.len() > MAX_ITEMS;
            let mut out: Vec<Json> = items.into_iter().take(MAX_ITEMS).map(clip).collect();
            if long {
                out.push(Json::String("…".into()));
            }
            Json::Array(out)
        }
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, v)| (k, clip(v))).collect()),
        other => other,
    }
}

fn too_long(v: &Json) -> bool {
    match v {
        Json::String(t) => t.len() > MAX_TEXT,
        Json::Array(items) => items.len() > MAX_ITEMS || items.iter().any(too_long),
        Json::Object(m) => m.values().any(too_long),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_and_long_lists_are_cut_short_values_kept() {
        let long = "é".repeat(100); // 200 bytes
        let cut = clip(Json::String(long));
        let Json::String(t) = &cut else {
            panic!("{cut}")
        };
        assert!(t.len() <= MAX_TEXT + "…".len() && t.ends_with('…'), "{t}");
        let list = Json::Array((0..12).map(Json::from).collect());
        let cut = clip(list);
        assert_eq!(cut.as_array().map(Vec::len), Some(MAX_ITEMS + 1));
        assert_eq!(cut[MAX_ITEMS], "…");
        let short = serde_json::json!(["refund", 3, {"a": "b"}]);
        assert_eq!(clip(short.clone()), short);
    }
}
