//! Quick fixes for diagnostics: add the missing `owners` arms (E0401), add `otherwise` to
//! a classify (E0302), add a gate skeleton for an ungated money or destructive action
//! (E0403). Each fix is a list of text insertions; the editor shows it as a code action.

use crate::db::{self, ProjectInput, SourceFile};
use crate::diagnostics::{Code, Diagnostic};
use crate::semantic::index::OpKind;
use crate::source::Span;
use crate::syntax::ast::{ItemKind, OwnersDecl};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub title: String,
    /// Replace `span` of `file` with the text.
    pub edits: Vec<(SourceFile, Span, String)>,
}

/// The fixes for one diagnostic of `file`.
pub fn fixes(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
    d: &Diagnostic,
) -> Vec<Fix> {
    match d.code {
        Code::OwnershipNotTotal => owners_arms(db, project, file, d.primary.span)
            .into_iter()
            .collect(),
        Code::MissingOtherwise => otherwise(db, project, file, d.primary.span)
            .into_iter()
            .collect(),
        Code::UngatedAction => gate_skeleton(db, project, file, d.primary.span)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// The position just before the closing `}` of a block ending at `end`, and the indent
/// of the block's lines.
fn before_close(text: &str, block_end: usize) -> usize {
    let head = &text[..block_end.min(text.len())];
    let close = head.rfind('}').unwrap_or(head.len());
    // Insert at the start of the line holding the `}` when it is alone on it.
    let line_start = head[..close].rfind('\n').map_or(0, |i| i + 1);
    if head[line_start..close].trim().is_empty() {
        line_start
    } else {
        close
    }
}

fn owners_arms(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
    at: Span,
) -> Option<Fix> {
    let index = db::project_index(db, project);
    let classify = index.classify.as_ref()?;
    let parsed = db::parsed(db, file);
    let text = file.text(db);
    let (item_span, owners): (Span, &OwnersDecl) =
        parsed.ast.items.iter().find_map(|i| match &i.kind {
            ItemKind::Owners(o) if i.span.contains(at.start as usize) => Some((i.span, o)),
            _ => None,
        })?;
    let missing: Vec<&String> = classify
        .variants
        .iter()
        .filter(|v| !owners.arms.iter().any(|a| &a.variant.name == *v))
        .collect();
    if missing.is_empty() {
        return None;
    }
    // New arms get the owner of an existing arm as a starting point (the first one), or
    // the first team of the project.
    let (owner, escalate) = match owners.arms.first() {
        Some(a) => (
            a.owner.name.clone(),
            a.escalate
                .as_ref()
                .map_or_else(|| a.owner.name.clone(), |e| e.name.clone()),
        ),
        None => {
            let team = first_team(db, project)?;
            (team.clone(), team)
        }
    };
    let width = missing.iter().map(|v| v.len()).max().unwrap_or(0);
    let arms: String = missing
        .iter()
        .map(|v| format!("  {v:width$} -> {owner} escalate {escalate}\n"))
        .collect();
    let at = match &owners.acknowledge {
        Some(ack) => text[..ack.span.start as usize]
            .rfind('\n')
            .map_or(0, |i| i + 1),
        None => before_close(text, item_span.end as usize),
    };
    let at = if at > 0 && !text[..at].ends_with('\n') {
        // `}` on the last arm's line: start a new line.
        return Some(Fix {
            title: format!("Add owners for {}", list(&missing)),
            edits: vec![(file, Span::at(at), format!("\n{arms}"))],
        });
    } else {
        at
    };
    Some(Fix {
        title: format!("Add owners for {}", list(&missing)),
        edits: vec![(file, Span::at(at), arms)],
    })
}

fn list(names: &[&String]) -> String {
    let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    names.join(", ")
}

fn first_team(db: &dyn salsa::Database, project: ProjectInput) -> Option<String> {
    let index = db::project_index(db, project);
    index
        .ops
        .iter()
        .find(|((k, _), m)| *k == OpKind::Team && !index.sig(m).is_some_and(|s| s.is_std))
        .or_else(|| index.ops.iter().find(|((k, _), _)| *k == OpKind::Team))
        .map(|((_, n), _)| n.clone())
}

fn otherwise(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
    at: Span,
) -> Option<Fix> {
    let index = db::project_index(db, project);
    let parsed = db::parsed(db, file);
    let text = file.text(db);
    let (item_span, c) = parsed.ast.items.iter().find_map(|i| match &i.kind {
        ItemKind::Classify(c) if i.span.contains(at.start as usize) => Some((i.span, c)),
        _ => None,
    })?;
    let names: Vec<String> = c
        .enum_name
        .segments
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let ty = index
        .resolve_type(
            &file.module(db),
            &crate::semantic::sig::TypeRef::Named(names),
        )
        .ok()?;
    let variants = index.enum_variants(ty.enum_def()?)?;
    // The class nothing else gives (e.g. `Triage`), else the last one.
    let class = variants
        .iter()
        .find(|v| !c.arms.iter().any(|a| &a.variant.name == *v))
        .or(variants.last())?;
    let at = before_close(text, item_span.end as usize);
    let edit = if text[..at].ends_with('\n') {
        format!("  otherwise {class}\n")
    } else {
        format!("\n  otherwise {class}\n")
    };
    Some(Fix {
        title: format!("Add `otherwise {class}`"),
        edits: vec![(file, Span::at(at), edit)],
    })
}

fn gate_skeleton(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
    at: Span,
) -> Option<Fix> {
    let text = file.text(db);
    let action = text.get(at.range())?.trim();
    let (_, name) = action.split_once('.')?;
    let team = first_team(db, project)?;
    let sep = if text.ends_with("\n\n") || text.is_empty() {
        ""
    } else if text.ends_with('\n') {
        "\n"
    } else {
        "\n\n"
    };
    let gate = format!(
        "{sep}/// Holds `{action}` until a person approves it.\ngate {name}_approval on {action} {{\n  require approval from {team}\n  expire after 24h -> escalate\n}}\n"
    );
    Some(Fix {
        title: format!("Add a gate for `{action}`"),
        edits: vec![(file, Span::at(text.len()), gate)],
    })
}
