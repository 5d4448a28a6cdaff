//! Witnesses as Meshline source: an event record literal a user can paste into a test's
//! `given`, with every declared field filled (constrained fields with the witness's values,
//! the others with plain defaults).

use std::collections::BTreeMap;

use super::{Const, Model, Vars};
use crate::semantic::index::ProjectIndex;
use crate::semantic::types::{DefId, Ty};

enum Node {
    Leaf(Const),
    Rec(BTreeMap<String, Node>),
}

fn insert(tree: &mut BTreeMap<String, Node>, path: &[String], c: &Const) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    if rest.is_empty() {
        tree.insert(first.clone(), Node::Leaf(c.clone()));
        return;
    }
    let node = tree
        .entry(first.clone())
        .or_insert_with(|| Node::Rec(BTreeMap::new()));
    if let Node::Rec(m) = node {
        insert(m, rest, c);
    }
}

/// A constant as Meshline source.
pub fn render_const(c: &Const) -> String {
    match c {
        Const::Bool(b) => b.to_string(),
        Const::Int(i) => i.to_string(),
        Const::Dec(d) => {
            let s = d.to_string();
            if s.contains('.') { s } else { format!("{s}.0") }
        }
        Const::Money(d, cur) => format!("{d} {cur}"),
        Const::Pct(d) => format!("{d}%"),
        Const::Str(s) => format!("{s:?}"),
        Const::Enum(v) => v.clone(),
        Const::None => "none".into(),
        Const::List(items) => format!(
            "[{}]",
            items
                .iter()
                .map(render_const)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A plain value of a type, for fields a witness does not constrain.
fn default_value(index: &ProjectIndex, ty: &Ty, depth: usize) -> String {
    match ty {
        Ty::Optional(_) => "none".into(),
        Ty::Bool => "false".into(),
        Ty::Int => "0".into(),
        Ty::Decimal => "0.0".into(),
        Ty::Money => "0 USD".into(),
        Ty::Percent => "0%".into(),
        Ty::Duration => "1h".into(),
        Ty::BusinessDuration => "1 business hours".into(),
        Ty::Date => "2026-01-01".into(),
        Ty::TimeOfDay => "09:00".into(),
        Ty::Time => "2026-01-01T09:00:00Z".into(),
        Ty::String => "\"\"".into(),
        Ty::Person => "\"someone@example.com\"".into(),
        Ty::List(_) => "[]".into(),
        Ty::Enum(d) => index
            .enum_variants(d)
            .and_then(|v| v.first().cloned())
            .unwrap_or_else(|| "none".into()),
        Ty::Record(_) if depth < 8 => render_record(index, ty, None, depth + 1),
        _ => "none".into(),
    }
}

fn render_value(index: &ProjectIndex, ty: &Ty, node: Option<&Node>, depth: usize) -> String {
    match node {
        Some(Node::Leaf(c)) => render_const(c),
        Some(Node::Rec(m)) => render_record(index, ty.strip_optional(), Some(m), depth + 1),
        None => default_value(index, ty, depth),
    }
}

fn render_record(
    index: &ProjectIndex,
    ty: &Ty,
    fields: Option<&BTreeMap<String, Node>>,
    depth: usize,
) -> String {
    let Some(decl) = index.fields_of(ty) else {
        return "none".into();
    };
    let parts: Vec<String> = decl
        .iter()
        .map(|(n, t)| {
            format!(
                "{n}: {}",
                render_value(index, t, fields.and_then(|f| f.get(n)), depth)
            )
        })
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A witness as an event literal (`Event { case: "W-1", … }`), plus the constrained case
/// facts that the event does not carry (as `name = value` lines), and the class if the
/// witness chose one.
pub struct Rendered {
    pub event: String,
    pub other_facts: Vec<String>,
    pub class: Option<String>,
}

pub fn render_event(index: &ProjectIndex, event: &DefId, model: &Model, vars: &Vars) -> Rendered {
    let mut tree: BTreeMap<String, Node> = BTreeMap::new();
    let mut class = None;
    for (v, c) in model {
        let info = vars.info(*v);
        if info.path.len() == 1 && info.path[0] == "class" {
            class = Some(render_const(c));
            continue;
        }
        insert(&mut tree, &info.path, c);
    }
    let ty = Ty::Event(event.clone());
    let decl = index.fields_of(&ty).unwrap_or_default();
    let mut parts = vec!["case: \"W-1\"".to_string()];
    for (n, t) in &decl {
        parts.push(format!("{n}: {}", render_value(index, t, tree.get(n), 0)));
    }
    let other_facts = tree
        .iter()
        .filter(|(n, _)| !decl.iter().any(|(d, _)| d == *n))
        .map(|(n, node)| {
            let ty = index.facts.get(n).cloned().unwrap_or(Ty::Error);
            format!("{n} = {}", render_value(index, &ty, Some(node), 0))
        })
        .collect();
    Rendered {
        event: format!("{} {{ {} }}", event.name, parts.join(", ")),
        other_facts,
        class,
    }
}

/// Assignments as `name = value` (for gates, whose witnesses are action calls).
pub fn render_assignments(model: &Model, vars: &Vars) -> String {
    model
        .iter()
        .map(|(v, c)| {
            let path = &vars.info(*v).path;
            let mut name = path.join(".");
            if let Some(p) = name.strip_prefix("param:") {
                name = p.to_string();
            }
            format!("{name} = {}", render_const(c))
        })
        .collect::<Vec<_>>()
        .join(", ")
}
