//! The declarations of one module as an outline: top-level declarations with their
//! members (variants, fields, actions, parameters), their spans and doc comments.

use super::SymbolId;
use crate::diagnostics::FileName;
use crate::semantic::index::OpKind;
use crate::semantic::types::DefId;
use crate::source::Span;
use crate::syntax::ast::{self, Ident, ItemKind, Module};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DefKind {
    Module,
    Enum,
    Variant,
    Record,
    Event,
    Field,
    Let,
    Fn,
    Param,
    Fixture,
    Calendar,
    Team,
    Classify,
    Owners,
    Route,
    Sla,
    Connector,
    Action,
    Gate,
    Automation,
    Test,
    Acceptance,
}

impl DefKind {
    /// The declaration keyword or a short description.
    pub fn keyword(self) -> &'static str {
        match self {
            DefKind::Module => "module",
            DefKind::Enum => "enum",
            DefKind::Variant => "variant",
            DefKind::Record => "record",
            DefKind::Event => "event",
            DefKind::Field => "field",
            DefKind::Let => "let",
            DefKind::Fn => "fn",
            DefKind::Param => "parameter",
            DefKind::Fixture => "fixture",
            DefKind::Calendar => "calendar",
            DefKind::Team => "team",
            DefKind::Classify => "classify",
            DefKind::Owners => "owners",
            DefKind::Route => "route",
            DefKind::Sla => "sla",
            DefKind::Connector => "connector",
            DefKind::Action => "action",
            DefKind::Gate => "gate",
            DefKind::Automation => "automation",
            DefKind::Test => "test",
            DefKind::Acceptance => "acceptance",
        }
    }
}

/// One declaration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Def {
    /// What names refer to; `None` for declarations nothing can name (classify, owners,
    /// tests).
    pub id: Option<SymbolId>,
    pub kind: DefKind,
    pub name: String,
    /// The declared name.
    pub name_span: Span,
    /// The whole declaration.
    pub full_span: Span,
    pub doc: Option<String>,
    /// A one-line summary, e.g. a field's type or a function's signature.
    pub detail: Option<String>,
    pub children: Vec<Def>,
}

fn def(id: Option<SymbolId>, kind: DefKind, name: &Ident, full: Span) -> Def {
    Def {
        id,
        kind,
        name: name.name.clone(),
        name_span: name.span,
        full_span: full,
        doc: None,
        detail: None,
        children: Vec::new(),
    }
}

/// A type expression as written.
pub fn type_text(t: &ast::TypeExpr) -> String {
    match &t.kind {
        ast::TypeExprKind::Named(p) => p.dotted(),
        ast::TypeExprKind::List(e) => format!("List<{}>", type_text(e)),
        ast::TypeExprKind::Optional(e) => format!("{}?", type_text(e)),
    }
}

pub fn params_text(params: &[ast::Param]) -> String {
    let ps: Vec<String> = params
        .iter()
        .map(|p| format!("{}: {}", p.name.name, type_text(&p.ty)))
        .collect();
    ps.join(", ")
}

/// The outline of one module.
pub fn collect(
    module: &str,
    file: &FileName,
    ast: &Module,
    index: &crate::semantic::index::ProjectIndex,
) -> Vec<Def> {
    let data = |n: &Ident| Some(SymbolId::Data(DefId::new(module, &n.name)));
    let op = |k: OpKind, n: &Ident| Some(SymbolId::Op(k, n.name.clone()));
    let mut out = Vec::new();
    for item in &ast.items {
        let span = item.span;
        let mut d = match &item.kind {
            ItemKind::Import(_) | ItemKind::Error(_) => continue,
            // The added fields belong to the standard record (hover on `contract.region`).
            ItemKind::Extend(x) => {
                let names: Vec<String> = x.target.segments.iter().map(|s| s.name.clone()).collect();
                let owner = if names.len() == 1 {
                    index.lookup_data(module, &names[0])
                } else {
                    index.lookup_qualified(module, &names)
                }
                .map(|(d, _)| d);
                let name = Ident {
                    name: x.target.dotted(),
                    span: x.target.span,
                };
                let mut d = def(None, DefKind::Record, &name, span);
                for f in &x.fields {
                    let mut c = def(
                        owner
                            .clone()
                            .map(|o| SymbolId::Field(o, f.name.name.clone())),
                        DefKind::Field,
                        &f.name,
                        f.name.span.to(f.ty.span),
                    );
                    c.doc = f.doc.clone();
                    c.detail = Some(type_text(&f.ty));
                    d.children.push(c);
                }
                d
            }
            ItemKind::Enum(e) => {
                let mut d = def(data(&e.name), DefKind::Enum, &e.name, span);
                let owner = DefId::new(module, &e.name.name);
                for v in &e.variants {
                    let mut c = def(
                        Some(SymbolId::Variant(owner.clone(), v.name.name.clone())),
                        DefKind::Variant,
                        &v.name,
                        v.name.span,
                    );
                    c.doc = v.doc.clone();
                    d.children.push(c);
                }
                d
            }
            ItemKind::Record(r) | ItemKind::Event(r) => {
                let kind = if matches!(item.kind, ItemKind::Event(_)) {
                    DefKind::Event
                } else {
                    DefKind::Record
                };
                let mut d = def(data(&r.name), kind, &r.name, span);
                let owner = DefId::new(module, &r.name.name);
                for f in &r.fields {
                    let mut c = def(
                        Some(SymbolId::Field(owner.clone(), f.name.name.clone())),
                        DefKind::Field,
                        &f.name,
                        f.name.span.to(f.ty.span),
                    );
                    c.doc = f.doc.clone();
                    c.detail = Some(type_text(&f.ty));
                    d.children.push(c);
                }
                d
            }
            ItemKind::Table(t) => {
                let mut d = def(data(&t.name), DefKind::Record, &t.name, span);
                d.detail = Some(format!("from \"{}\" key {}", t.file.value, t.key.name));
                let owner = DefId::new(module, &t.name.name);
                for f in &t.columns {
                    let mut c = def(
                        Some(SymbolId::Field(owner.clone(), f.name.name.clone())),
                        DefKind::Field,
                        &f.name,
                        f.name.span.to(f.ty.span),
                    );
                    c.doc = f.doc.clone();
                    c.detail = Some(type_text(&f.ty));
                    d.children.push(c);
                }
                d
            }
            ItemKind::Aggregate(a) => {
                let mut d = def(data(&a.name), DefKind::Record, &a.name, span);
                d.detail = Some(aggregate_head(a));
                let owner = DefId::new(module, &a.name.name);
                for f in &a.fields {
                    let n = &f.field.name;
                    let mut c = def(
                        Some(SymbolId::Field(owner.clone(), n.name.clone())),
                        DefKind::Field,
                        n,
                        f.span,
                    );
                    c.doc = f.field.doc.clone();
                    c.detail = Some(type_text(&f.field.ty));
                    d.children.push(c);
                }
                d
            }
            ItemKind::Let(l) => {
                let mut d = def(data(&l.name), DefKind::Let, &l.name, span);
                d.detail = l.ty.as_ref().map(type_text);
                d
            }
            ItemKind::Fn(f) => {
                let mut d = def(data(&f.name), DefKind::Fn, &f.name, span);
                d.detail = Some(format!(
                    "({}) -> {}",
                    params_text(&f.params),
                    type_text(&f.ret)
                ));
                for p in &f.params {
                    let mut c = def(
                        Some(SymbolId::Local {
                            file: file.clone(),
                            span: p.name.span,
                        }),
                        DefKind::Param,
                        &p.name,
                        p.name.span.to(p.ty.span),
                    );
                    c.detail = Some(type_text(&p.ty));
                    d.children.push(c);
                }
                d
            }
            ItemKind::Fixture(f) => {
                let mut d = def(data(&f.name), DefKind::Fixture, &f.name, span);
                d.detail = f.ty.as_ref().map(type_text);
                d
            }
            ItemKind::Calendar(c) => def(
                op(OpKind::Calendar, &c.name),
                DefKind::Calendar,
                &c.name,
                span,
            ),
            ItemKind::Team(t) => def(op(OpKind::Team, &t.name), DefKind::Team, &t.name, span),
            ItemKind::Route(r) => def(op(OpKind::Route, &r.name), DefKind::Route, &r.name, span),
            ItemKind::Sla(s) => def(op(OpKind::Sla, &s.name), DefKind::Sla, &s.name, span),
            ItemKind::Gate(g) => def(op(OpKind::Gate, &g.name), DefKind::Gate, &g.name, span),
            ItemKind::Automation(a) => def(
                op(OpKind::Automation, &a.name),
                DefKind::Automation,
                &a.name,
                span,
            ),
            ItemKind::Connector(c) => {
                let mut d = def(
                    op(OpKind::Connector, &c.name),
                    DefKind::Connector,
                    &c.name,
                    span,
                );
                for a in &c.actions {
                    let mut child = def(
                        Some(SymbolId::Action(c.name.name.clone(), a.name.name.clone())),
                        DefKind::Action,
                        &a.name,
                        a.span,
                    );
                    child.doc = a.doc.clone();
                    child.detail = Some(format!("({})", params_text(&a.params)));
                    d.children.push(child);
                }
                d
            }
            ItemKind::Classify(c) => {
                let name = Ident {
                    name: format!("classify {}", c.enum_name.dotted()),
                    span: c.enum_name.span,
                };
                def(None, DefKind::Classify, &name, span)
            }
            ItemKind::Owners(o) => {
                let name = Ident {
                    name: "owners".into(),
                    span: o.keyword,
                };
                def(None, DefKind::Owners, &name, span)
            }
            ItemKind::Test(t) => {
                let name = Ident {
                    name: format!("test \"{}\"", t.name.value),
                    span: t.name.span,
                };
                def(None, DefKind::Test, &name, span)
            }
            ItemKind::Acceptance(a) => def(None, DefKind::Acceptance, &a.name, span),
            // Shown in outlines as the `owners` block is: one unnamed rule block.
            ItemKind::Lifecycle(l) => {
                let name = Ident {
                    name: "lifecycle".into(),
                    span: l.keyword,
                };
                def(None, DefKind::Owners, &name, span)
            }
        };
        d.doc = item.doc.clone();
        out.push(d);
    }
    out
}

/// A duration in the largest whole unit that divides it (`30d`, `90m`, `45s`).
pub(crate) fn duration_text(s: i64) -> String {
    for (unit, n) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s >= n && s % n == 0 {
            return format!("{}{unit}", s / n);
        }
    }
    format!("{s}s")
}

/// An aggregate's head after its name: `[client_id: String] over 30d keep 500 keys`
/// (docs/language.md §5.6).
fn aggregate_head(a: &ast::AggregateDecl) -> String {
    let mut out = format!("[{}: {}]", a.key.name.name, type_text(&a.key.ty));
    if let Some((d, _)) = a.window {
        out.push_str(&format!(" over {}", duration_text(d)));
    }
    if let Some((n, _)) = a.keep {
        out.push_str(&format!(" keep {n} keys"));
    }
    if !a.cases.is_empty() {
        out.push_str(" of open cases");
    }
    out
}
