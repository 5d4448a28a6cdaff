//! The bundle's source map: every rule name the ledger records (`rule`), mapped to where it
//! is declared (`rules/billing/gates.mesh:6`), so `meshline explain` can point at the
//! source of each decision from a bundle alone (docs/runtime.md, "The bundle").
//!
//! The names are the ledger's: `classify.VARIANT` for a classify arm, `otherwise` for its
//! fallback, `owners`, and the names of routes, SLA policies, gates and automations.

use std::collections::BTreeMap;

use crate::source::{LineIndex, Span};
use crate::syntax::ast::{ItemKind, Module};

/// Rule name → `file:line` over the project's own modules (not the standard library).
pub fn source_map<'a>(
    modules: impl IntoIterator<Item = (&'a str, &'a str, &'a Module)>,
) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    for (file, text, module) in modules {
        let index = LineIndex::new(text);
        let mut put = |name: String, span: Span| {
            let line = index.line_of((span.start as usize).min(text.len())) + 1;
            map.entry(name).or_insert_with(|| format!("{file}:{line}"));
        };
        for item in &module.items {
            match &item.kind {
                ItemKind::Classify(c) => {
                    for arm in &c.arms {
                        put(format!("classify.{}", arm.variant.name), arm.span);
                    }
                    if let Some(o) = &c.otherwise {
                        put("otherwise".into(), o.span);
                    }
                }
                ItemKind::Owners(o) => put("owners".into(), o.keyword),
                ItemKind::Lifecycle(l) => put("lifecycle".into(), l.keyword),
                ItemKind::Route(r) => put(r.name.name.clone(), r.name.span),
                ItemKind::Sla(s) => put(s.name.name.clone(), s.name.span),
                ItemKind::Gate(g) => put(g.name.name.clone(), g.name.span),
                ItemKind::Automation(a) => put(a.name.name.clone(), a.name.span),
                _ => {}
            }
        }
    }
    map
}
