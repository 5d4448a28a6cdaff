//! Module signatures: what one module declares, without spans or bodies.
//!
//! A signature depends only on its own file's declarations and compares equal after an edit
//! that moves text or changes a rule's body, so salsa can stop there and keep every other
//! module's checks (the "backdating" that makes a one-file edit cheap). Type references stay
//! unresolved here ([`TypeRef`]); the project index (`ProjectIndex`, index.rs) resolves them.

use std::collections::{BTreeMap, BTreeSet};

use super::types::Ty;
use crate::syntax::ast::{self, ExprKind, ItemKind, TypeExprKind};

/// A type as written, to be resolved in its module's scope.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeRef {
    Named(Vec<String>),
    /// A type known without resolution (from a literal).
    Builtin(Ty),
    List(Box<TypeRef>),
    Optional(Box<TypeRef>),
    /// Could not be determined from the declaration alone.
    Unknown,
}

impl TypeRef {
    pub fn from_ast(t: &ast::TypeExpr) -> TypeRef {
        match &t.kind {
            TypeExprKind::Named(p) => {
                TypeRef::Named(p.segments.iter().map(|s| s.name.clone()).collect())
            }
            TypeExprKind::List(e) => TypeRef::List(Box::new(TypeRef::from_ast(e))),
            TypeExprKind::Optional(e) => TypeRef::Optional(Box::new(TypeRef::from_ast(e))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImportSig {
    pub module: String,
    pub names: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FnSig {
    pub params: Vec<(String, TypeRef)>,
    pub ret: TypeRef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EffectKind {
    None,
    Money,
    Destructive,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActionSig {
    pub params: Vec<(String, TypeRef)>,
    pub effect: EffectKind,
    pub compensate: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TeamSig {
    pub members: Vec<String>,
    pub calendar: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum GateSel {
    Action(String, String),
    Money,
    Destructive,
    Automation,
    /// `automation NAME`: one automation's actions.
    AutomationNamed(String),
}

/// What a let's value tells about its type without a full check.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LetSig {
    pub ty: TypeRef,
    /// The currency of a money constant, for compile-time currency checks.
    pub currency: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ModuleSig {
    pub module: String,
    pub is_std: bool,
    pub imports: Vec<ImportSig>,
    pub enums: BTreeMap<String, Vec<String>>,
    pub records: BTreeMap<String, Vec<(String, TypeRef)>>,
    pub events: BTreeMap<String, Vec<(String, TypeRef)>>,
    pub lets: BTreeMap<String, LetSig>,
    pub fns: BTreeMap<String, FnSig>,
    pub fixtures: BTreeMap<String, TypeRef>,
    pub teams: BTreeMap<String, TeamSig>,
    pub calendars: BTreeSet<String>,
    pub connectors: BTreeMap<String, BTreeMap<String, ActionSig>>,
    pub routes: BTreeSet<String>,
    pub slas: BTreeSet<String>,
    pub gates: BTreeMap<String, Vec<GateSel>>,
    pub automations: BTreeSet<String>,
    /// `classify ENUM on …`: the enum as written.
    pub classify: Vec<Vec<String>>,
    /// Declarations that did not parse (with a keyword): the checks of what depends on them
    /// stay quiet.
    pub broken: Vec<ast::BrokenDecl>,
    /// Reference tables; each also declares the record type of its rows, under its name
    /// (in `records`).
    pub tables: BTreeMap<String, TableSig>,
    /// Aggregates over history; each also declares the record type of a lookup, under its
    /// name (in `records`).
    pub aggregates: BTreeMap<String, AggSig>,
    /// `extend record PATH { … }`: the record as written and the fields it adds
    /// (docs/language.md §14.8).
    pub extends: Vec<Extension>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AggSig {
    /// The key's name and type as declared (`[client_id: String]`).
    pub key: String,
    pub key_ty: TypeRef,
    /// `over D`, in seconds.
    pub window: Option<i64>,
}

/// An `extend record`: the record's path as written and the fields it adds.
pub type Extension = (Vec<String>, Vec<(String, TypeRef)>);

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TableSig {
    /// The key column.
    pub key: String,
    /// The CSV file as written (relative to the module's file).
    pub file: String,
}

impl ModuleSig {
    /// Is `name` declared in this module's data/helper namespace?
    pub fn has_data(&self, name: &str) -> bool {
        self.enums.contains_key(name)
            || self.records.contains_key(name)
            || self.events.contains_key(name)
            || self.lets.contains_key(name)
            || self.fns.contains_key(name)
            || self.fixtures.contains_key(name)
    }
}

/// Build the signature of one parsed module. The first declaration of a name wins;
/// duplicates are reported by the checks that have spans.
pub fn module_sig(module_name: &str, is_std: bool, module: &ast::Module) -> ModuleSig {
    let mut sig = ModuleSig {
        module: module_name.to_string(),
        is_std,
        ..ModuleSig::default()
    };
    for item in &module.items {
        match &item.kind {
            ItemKind::Import(i) => sig.imports.push(ImportSig {
                module: i.module.dotted(),
                names: i
                    .names
                    .as_ref()
                    .map(|ns| ns.iter().map(|n| n.name.clone()).collect()),
            }),
            ItemKind::Enum(e) => {
                let variants = e.variants.iter().map(|v| v.name.name.clone()).collect();
                sig.enums.entry(e.name.name.clone()).or_insert(variants);
            }
            ItemKind::Extend(x) => sig.extends.push((
                x.target.segments.iter().map(|s| s.name.clone()).collect(),
                x.fields
                    .iter()
                    .map(|f| (f.name.name.clone(), TypeRef::from_ast(&f.ty)))
                    .collect(),
            )),
            ItemKind::Record(r) => {
                sig.records
                    .entry(r.name.name.clone())
                    .or_insert_with(|| fields(r));
            }
            ItemKind::Event(r) => {
                sig.events
                    .entry(r.name.name.clone())
                    .or_insert_with(|| fields(r));
            }
            ItemKind::Let(l) => {
                let ty =
                    l.ty.as_ref()
                        .map(TypeRef::from_ast)
                        .unwrap_or_else(|| shallow_type(&l.value, module, 0));
                let currency = match &l.value.kind {
                    ExprKind::Money { currency, .. } => Some(currency.clone()),
                    _ => None,
                };
                sig.lets
                    .entry(l.name.name.clone())
                    .or_insert(LetSig { ty, currency });
            }
            ItemKind::Fn(f) => {
                let params = f
                    .params
                    .iter()
                    .map(|p| (p.name.name.clone(), TypeRef::from_ast(&p.ty)))
                    .collect();
                sig.fns.entry(f.name.name.clone()).or_insert(FnSig {
                    params,
                    ret: TypeRef::from_ast(&f.ret),
                });
            }
            ItemKind::Fixture(fx) => {
                let ty = fx
                    .ty
                    .as_ref()
                    .map(TypeRef::from_ast)
                    .unwrap_or_else(|| shallow_type(&fx.value, module, 0));
                sig.fixtures.entry(fx.name.name.clone()).or_insert(ty);
            }
            ItemKind::Team(t) => {
                let mut team = TeamSig {
                    members: Vec::new(),
                    calendar: None,
                };
                for c in &t.clauses {
                    match c {
                        ast::TeamClause::Members(ms) => {
                            team.members.extend(ms.iter().map(|m| m.value.clone()))
                        }
                        ast::TeamClause::Calendar(c) => team.calendar = Some(c.name.clone()),
                    }
                }
                sig.teams.entry(t.name.name.clone()).or_insert(team);
            }
            ItemKind::Calendar(c) => {
                sig.calendars.insert(c.name.name.clone());
            }
            ItemKind::Connector(c) => {
                let actions = c
                    .actions
                    .iter()
                    .map(|a| {
                        let effect = match a.effect {
                            None => EffectKind::None,
                            Some(ast::Effect::Money(_)) => EffectKind::Money,
                            Some(ast::Effect::Destructive(_)) => EffectKind::Destructive,
                        };
                        let params = a
                            .params
                            .iter()
                            .map(|p| (p.name.name.clone(), TypeRef::from_ast(&p.ty)))
                            .collect();
                        (
                            a.name.name.clone(),
                            ActionSig {
                                params,
                                effect,
                                compensate: a.compensate.as_ref().map(|c| c.name.clone()),
                            },
                        )
                    })
                    .rev() // the first declaration of an action wins
                    .collect();
                sig.connectors.entry(c.name.name.clone()).or_insert(actions);
            }
            ItemKind::Route(r) => {
                sig.routes.insert(r.name.name.clone());
            }
            ItemKind::Sla(s) => {
                sig.slas.insert(s.name.name.clone());
            }
            ItemKind::Gate(g) => {
                let sels = g
                    .selectors
                    .iter()
                    .map(|s| match s {
                        ast::GateSelector::Action(p) if p.segments.len() == 2 => {
                            GateSel::Action(p.segments[0].name.clone(), p.segments[1].name.clone())
                        }
                        ast::GateSelector::Action(p) => GateSel::Action(p.dotted(), String::new()),
                        ast::GateSelector::EffectMoney(_) => GateSel::Money,
                        ast::GateSelector::EffectDestructive(_) => GateSel::Destructive,
                        ast::GateSelector::Automation(_) => GateSel::Automation,
                        ast::GateSelector::AutomationNamed(n, _) => {
                            GateSel::AutomationNamed(n.name.clone())
                        }
                    })
                    .collect();
                sig.gates.entry(g.name.name.clone()).or_insert(sels);
            }
            ItemKind::Automation(a) => {
                sig.automations.insert(a.name.name.clone());
            }
            ItemKind::Classify(c) => sig.classify.push(
                c.enum_name
                    .segments
                    .iter()
                    .map(|s| s.name.clone())
                    .collect(),
            ),
            ItemKind::Error(b) => {
                if b.keyword.is_some() {
                    sig.broken.push(b.clone());
                }
            }
            ItemKind::Table(t) => {
                if !sig.records.contains_key(&t.name.name) {
                    sig.records.insert(t.name.name.clone(), row_fields(t));
                    sig.tables.insert(
                        t.name.name.clone(),
                        TableSig {
                            key: t.key.name.clone(),
                            file: t.file.value.clone(),
                        },
                    );
                }
            }
            ItemKind::Aggregate(a) => {
                if !sig.records.contains_key(&a.name.name) {
                    let fields = a
                        .fields
                        .iter()
                        .map(|f| (f.field.name.name.clone(), TypeRef::from_ast(&f.field.ty)))
                        .collect();
                    sig.records.insert(a.name.name.clone(), fields);
                    sig.aggregates.insert(
                        a.name.name.clone(),
                        AggSig {
                            key: a.key.name.name.clone(),
                            key_ty: TypeRef::from_ast(&a.key.ty),
                            window: a.window.map(|(d, _)| d),
                        },
                    );
                }
            }
            ItemKind::Owners(_)
            | ItemKind::Test(_)
            | ItemKind::Acceptance(_)
            | ItemKind::Lifecycle(_) => {}
        }
    }
    sig
}

fn fields(r: &ast::RecordDecl) -> Vec<(String, TypeRef)> {
    let mut seen = BTreeSet::new();
    r.fields
        .iter()
        .filter(|f| seen.insert(f.name.name.clone()))
        .map(|f| (f.name.name.clone(), TypeRef::from_ast(&f.ty)))
        .collect()
}

/// The type of a constant or fixture from its value's shape: literals, typed record
/// literals, lists, negation and spreads of fixtures in the same module.
pub fn shallow_type(e: &ast::Expr, module: &ast::Module, depth: usize) -> TypeRef {
    let b = |t| TypeRef::Builtin(t);
    match &e.kind {
        ExprKind::Bool(_) => b(Ty::Bool),
        ExprKind::Int(_) => b(Ty::Int),
        ExprKind::Decimal(_) => b(Ty::Decimal),
        ExprKind::Money { .. } => b(Ty::Money),
        ExprKind::Percent(_) => b(Ty::Percent),
        ExprKind::Duration(_) => b(Ty::Duration),
        ExprKind::BusinessDuration { .. } => b(Ty::BusinessDuration),
        ExprKind::Date(_) => b(Ty::Date),
        ExprKind::TimeOfDay(_) => b(Ty::TimeOfDay),
        ExprKind::Timestamp(_) => b(Ty::Time),
        ExprKind::Str(_) => b(Ty::String),
        ExprKind::Unary { operand, .. } => shallow_type(operand, module, depth + 1),
        ExprKind::List(items) => match items.first() {
            Some(first) => TypeRef::List(Box::new(shallow_type(first, module, depth + 1))),
            None => TypeRef::Unknown,
        },
        ExprKind::Record { ty: Some(p), .. } => {
            TypeRef::Named(p.segments.iter().map(|s| s.name.clone()).collect())
        }
        ExprKind::Record {
            ty: None,
            spread: Some(base),
            ..
        } if depth < 16 => shallow_type(base, module, depth + 1),
        ExprKind::Name(n) if depth < 16 => module
            .items
            .iter()
            .find_map(|i| match &i.kind {
                ItemKind::Fixture(f) if f.name.name == n.name => Some(
                    f.ty.as_ref()
                        .map(TypeRef::from_ast)
                        .unwrap_or_else(|| shallow_type(&f.value, module, depth + 1)),
                ),
                ItemKind::Let(l) if l.name.name == n.name => Some(
                    l.ty.as_ref()
                        .map(TypeRef::from_ast)
                        .unwrap_or_else(|| shallow_type(&l.value, module, depth + 1)),
                ),
                _ => None,
            })
            .unwrap_or(TypeRef::Unknown),
        ExprKind::Binary { op, lhs, rhs } => {
            if op.is_comparison()
                || matches!(
                    op,
                    ast::BinOp::And
                        | ast::BinOp::Or
                        | ast::BinOp::In
                        | ast::BinOp::Contains
                        | ast::BinOp::Matches
                        | ast::BinOp::StartsWith
                )
            {
                return b(Ty::Bool);
            }
            let (l, r) = (
                shallow_type(lhs, module, depth + 1),
                shallow_type(rhs, module, depth + 1),
            );
            if l == r { l } else { TypeRef::Unknown }
        }
        _ => TypeRef::Unknown,
    }
}

/// The row record's fields: the declared columns, after the key column (as `String`) when
/// it is not declared. A column declared twice keeps its first type.
pub fn row_fields(t: &ast::TableDecl) -> Vec<(String, TypeRef)> {
    let mut out: Vec<(String, TypeRef)> = Vec::new();
    if !t.columns.iter().any(|c| c.name.name == t.key.name) {
        out.push((t.key.name.clone(), TypeRef::Builtin(Ty::String)));
    }
    for c in &t.columns {
        if !out.iter().any(|(n, _)| *n == c.name.name) {
            out.push((c.name.name.clone(), TypeRef::from_ast(&c.ty)));
        }
    }
    out
}
