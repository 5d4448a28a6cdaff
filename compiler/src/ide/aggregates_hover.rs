//! Hover on an aggregate (docs/language.md §5.6): its key, window and fields, and what the
//! window means at run time (docs/runtime.md, "Aggregates").

use super::defs::duration_text as duration;
use crate::syntax::ast::{AggOpDecl, AggregateDecl, ItemKind, Module};

fn decl<'a>(ast: &'a Module, name: &str) -> Option<&'a AggregateDecl> {
    ast.items.iter().find_map(|i| match &i.kind {
        ItemKind::Aggregate(a) if a.name.name == name => Some(a),
        _ => None,
    })
}

pub(super) fn is_aggregate(ast: &Module, name: &str) -> bool {
    decl(ast, name).is_some()
}

/// `Fields: …`, the window's buckets and the key bound.
pub(super) fn values(ast: &Module, name: &str) -> Option<String> {
    let a = decl(ast, name)?;
    let fields: Vec<String> = a
        .fields
        .iter()
        .map(|f| {
            let op = match &f.op {
                AggOpDecl::Count(_) => "count",
                AggOpDecl::Sum(_) => "sum",
                AggOpDecl::Latest(_) => "latest",
            };
            format!(
                "`{}: {}` ({op})",
                f.field.name.name,
                super::defs::type_text(&f.field.ty)
            )
        })
        .collect();
    let mut lines = vec![format!("Fields: {}", fields.join(", "))];
    if !a.cases.is_empty() {
        // docs/language.md §5.6, "Open cases per key".
        lines.push(
            "Counts the cases open now under the key their facts give: up on open or \
             reopen, down on solve or close; memory follows the open cases"
                .to_string(),
        );
        return Some(lines.join("  \n"));
    }
    lines.push(match a.window {
        Some((d, _)) if d > 0 => {
            let width = (d - 1) / 30 + 1;
            let n = (d - 1) / width + 1;
            format!(
                "Window: the last {} of event time, in {n} buckets of {}: an event stops \
                 counting within one bucket of {}",
                duration(d),
                duration(width),
                duration(d)
            )
        }
        _ => "Window: all history".to_string(),
    });
    let keep = a
        .keep
        .map_or(meshline_runtime::ir::DEFAULT_KEEP as i64, |(n, _)| n);
    lines.push(format!(
        "Keys: at most {keep}; the least recently updated is evicted beyond that"
    ));
    Some(lines.join("  \n"))
}
