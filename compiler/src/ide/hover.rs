//! What to show for the thing under the cursor: its declaration in one line, its doc
//! comment, its type, and for SLA policies, teams and calendars the values they resolve to
//! (targets per class, members, working hours).

use super::{SymbolId, definition, file_analysis};

use crate::db::{self, ProjectInput, SourceFile};
use crate::semantic::index::OpKind;
use crate::source::Span;
use crate::syntax::ast::*;

/// A hover answer: the range it is about and Markdown text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverInfo {
    pub span: Span,
    pub markdown: String,
}

pub fn hover(
    db: &dyn salsa::Database,
    project: ProjectInput,
    file: SourceFile,
    offset: usize,
) -> Option<HoverInfo> {
    let analysis = file_analysis(db, project, file);
    let inference = db::module_inference(db, project, file);
    // The type of the smallest expression under the cursor.
    let expr_ty = inference
        .typed_spans()
        .filter(|(s, _)| s.start as usize <= offset && offset <= s.end as usize)
        .min_by_key(|(s, _)| s.len())
        .map(|(s, t)| (s, t.clone()));
    let Some(occ) = analysis.occurrence_at(offset) else {
        let (span, ty) = expr_ty?;
        if ty.is_error() {
            return None;
        }
        return Some(HoverInfo {
            span,
            markdown: code(&format!("{ty}")),
        });
    };
    let mut md = describe(db, project, &occ.id)?;
    if let Some((span, ty)) = &expr_ty
        && *span == occ.span
        && !ty.is_error()
        && matches!(occ.id, SymbolId::Local { .. } | SymbolId::Field(..))
    {
        md.push_str(&format!("\n\nType: `{ty}`"));
    }
    Some(HoverInfo {
        span: occ.span,
        markdown: md,
    })
}

fn code(s: &str) -> String {
    format!("```mesh\n{s}\n```")
}

/// Markdown describing a symbol.
pub fn describe(db: &dyn salsa::Database, project: ProjectInput, id: &SymbolId) -> Option<String> {
    if let SymbolId::Module(m) = id {
        return Some(code(&format!("module {m}")));
    }
    let (file, def) = definition(db, project, id)?;
    let parsed = db::parsed(db, file);
    let text = file.text(db);
    let slice = |s: Span| text.get(s.range()).unwrap_or("").to_string();
    let module = file.module(db);
    let header = match id {
        SymbolId::Variant(owner, v) => format!("{}.{v}", owner.name),
        SymbolId::Field(owner, f) => format!(
            "{}.{f}: {}",
            owner.name,
            def.detail.clone().unwrap_or_default()
        ),
        SymbolId::Local { .. } => {
            format!("{}: {}", def.name, def.detail.clone().unwrap_or_default())
        }
        SymbolId::Action(c, a) => format!("action {c}.{a}{}", action_tail(&parsed.ast, c, a)),
        SymbolId::Data(_) => match def.kind {
            super::DefKind::Fn => {
                format!("fn {}{}", def.name, def.detail.clone().unwrap_or_default())
            }
            super::DefKind::Let | super::DefKind::Fixture => {
                let first_line = slice(def.full_span);
                first_line.lines().next().unwrap_or("").to_string()
            }
            _ if super::aggregates_hover::is_aggregate(&parsed.ast, &def.name) => {
                format!(
                    "aggregate {}{}",
                    def.name,
                    def.detail.clone().unwrap_or_default()
                )
            }
            _ if super::tables_hover::is_table(&parsed.ast, &def.name) => {
                format!(
                    "table {} {}",
                    def.name,
                    def.detail.clone().unwrap_or_default()
                )
            }
            kind => format!("{} {}", kind.keyword(), def.name),
        },
        _ => format!("{} {}", def.kind.keyword(), def.name),
    };
    let mut md = code(&header);
    if !matches!(id, SymbolId::Local { .. }) {
        md.push_str(&format!("\n\nin module `{module}`"));
    }
    if let Some(doc) = &def.doc {
        md.push_str("\n\n---\n\n");
        md.push_str(doc.trim());
    }
    let extra = match id {
        SymbolId::Op(OpKind::Team, name) => team_values(db, project, &parsed.ast, name),
        SymbolId::Op(OpKind::Calendar, name) => calendar_values(&parsed.ast, name),
        SymbolId::Op(OpKind::Sla, name) => sla_values(&parsed.ast, name, &slice),
        SymbolId::Data(d) if super::aggregates_hover::is_aggregate(&parsed.ast, &d.name) => {
            super::aggregates_hover::values(&parsed.ast, &d.name)
        }
        SymbolId::Data(d) if super::tables_hover::is_table(&parsed.ast, &d.name) => {
            super::tables_hover::values(db, project, file, &d.name)
        }
        SymbolId::Data(_) if def.kind == super::DefKind::Enum => {
            let vs: Vec<&str> = def.children.iter().map(|c| c.name.as_str()).collect();
            Some(format!("Variants: {}", vs.join(", ")))
        }
        _ => None,
    };
    if let Some(extra) = extra {
        md.push_str("\n\n---\n\n");
        md.push_str(&extra);
    }
    Some(md)
}

fn action_tail(ast: &Module, connector: &str, action: &str) -> String {
    for item in &ast.items {
        if let ItemKind::Connector(c) = &item.kind
            && c.name.name == connector
            && let Some(a) = c.actions.iter().find(|a| a.name.name == action)
        {
            let mut s = format!("({})", super::defs::params_text(&a.params));
            match &a.effect {
                Some(Effect::Money(_)) => s.push_str(" effect money"),
                Some(Effect::Destructive(_)) => s.push_str(" effect destructive"),
                None => {}
            }
            if let Some(c) = &a.compensate {
                s.push_str(&format!(" compensate {}", c.name));
            }
            return s;
        }
    }
    String::new()
}

fn team_values(
    db: &dyn salsa::Database,
    project: ProjectInput,
    ast: &Module,
    name: &str,
) -> Option<String> {
    let team = ast.items.iter().find_map(|i| match &i.kind {
        ItemKind::Team(t) if t.name.name == name => Some(t),
        _ => None,
    })?;
    let mut lines = Vec::new();
    for c in &team.clauses {
        match c {
            TeamClause::Members(ms) => {
                let ms: Vec<&str> = ms.iter().map(|m| m.value.as_str()).collect();
                lines.push(format!("Members: {}", ms.join(", ")));
            }
            TeamClause::Calendar(cal) => {
                let detail = definition(
                    db,
                    project,
                    &SymbolId::Op(OpKind::Calendar, cal.name.clone()),
                )
                .and_then(|(f, _)| calendar_summary(&db::parsed(db, f).ast, &cal.name));
                match detail {
                    Some(d) => lines.push(format!("Calendar: `{}` ({d})", cal.name)),
                    None => lines.push(format!("Calendar: `{}`", cal.name)),
                }
            }
        }
    }
    if !team
        .clauses
        .iter()
        .any(|c| matches!(c, TeamClause::Calendar(_)))
    {
        lines.push("Calendar: `always` (24×7, UTC)".into());
    }
    Some(lines.join("  \n"))
}

fn calendar_decl<'a>(ast: &'a Module, name: &str) -> Option<&'a CalendarDecl> {
    ast.items.iter().find_map(|i| match &i.kind {
        ItemKind::Calendar(c) if c.name.name == name => Some(c),
        _ => None,
    })
}

fn hours_text(h: &HoursClause) -> String {
    let days: Vec<String> = h
        .days
        .iter()
        .map(|d| match &d.last {
            Some(l) => format!("{}-{}", d.first.name, l.name),
            None => d.first.name.clone(),
        })
        .collect();
    format!(
        "{} {:02}:{:02}-{:02}:{:02}",
        days.join(","),
        h.from.hour,
        h.from.minute,
        h.to.hour,
        h.to.minute
    )
}

fn calendar_summary(ast: &Module, name: &str) -> Option<String> {
    let cal = calendar_decl(ast, name)?;
    let mut parts = Vec::new();
    for c in &cal.clauses {
        match c {
            CalendarClause::Timezone(tz) => parts.push(tz.value.clone()),
            CalendarClause::Hours(h) => parts.push(hours_text(h)),
            CalendarClause::Holidays(_) => {}
        }
    }
    Some(parts.join(", "))
}

fn calendar_values(ast: &Module, name: &str) -> Option<String> {
    let cal = calendar_decl(ast, name)?;
    let mut lines = Vec::new();
    for c in &cal.clauses {
        match c {
            CalendarClause::Timezone(tz) => lines.push(format!("Time zone: {}", tz.value)),
            CalendarClause::Hours(h) => lines.push(format!("Hours: {}", hours_text(h))),
            CalendarClause::Holidays(hs) => {
                let hs: Vec<String> = hs
                    .iter()
                    .map(|h| match h {
                        Holiday::Date(d) => date(d),
                        Holiday::Range(a, b) => format!("{}..{}", date(a), date(b)),
                        Holiday::Yearly { month, day, .. } => format!("every {month:02}-{day:02}"),
                    })
                    .collect();
                lines.push(format!("Holidays: {}", hs.join(", ")));
            }
        }
    }
    Some(lines.join("  \n"))
}

fn date(d: &DateLit) -> String {
    format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)
}

fn sla_values(ast: &Module, name: &str, slice: &dyn Fn(Span) -> String) -> Option<String> {
    let sla = ast.items.iter().find_map(|i| match &i.kind {
        ItemKind::Sla(s) if s.name.name == name => Some(s),
        _ => None,
    })?;
    let mut lines = Vec::new();
    let classes: Vec<&str> = sla.classes.iter().map(|c| c.name.as_str()).collect();
    lines.push(format!("Classes: {}", classes.join(", ")));
    let mut calendar = None;
    for c in &sla.clauses {
        match c {
            SlaClause::Target(SlaTarget::Fixed(e)) => {
                lines.push(format!("Target: {}", slice(e.span)));
            }
            SlaClause::Target(SlaTarget::By { field, arms, .. }) => {
                lines.push(format!("Target by `{}`:", slice(field.span)));
                for arm in arms {
                    lines.push(format!(
                        "- {} → {}",
                        slice(arm.pattern.span()).trim(),
                        slice(arm.value.span)
                    ));
                }
            }
            SlaClause::Calendar(c) => calendar = Some(c.name.clone()),
            _ => {}
        }
    }
    lines.push(match calendar {
        Some(c) => format!("Calendar: `{c}`"),
        None => "Calendar: the class owner's team calendar, else `always`".into(),
    });
    Some(lines.join("  \n"))
}
