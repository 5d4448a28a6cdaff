//! From a condition's syntax to a pair of formulas: where it is *true* and where it is
//! *false* (both exact; an evaluation error — a `none` unwrapped, money of two currencies —
//! is in neither, which is why "false" is not simply "not true").
//!
//! `and` and `or` short-circuit left to right as in the runtime. Calls to `fn`s are
//! inlined (to a fixed depth), `let` constants are folded, enum variants resolved through
//! the variable they are compared with, and a `match` on an enum whose arms give values is
//! split by arm. Everything else is an opaque literal.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::{Const, Formula, Kind, Lit, Op, VarId, Vars};
use crate::semantic::index::{DataKind, ProjectIndex};
use crate::semantic::types::{DefId, Ty};
use crate::syntax::ast::{BinOp, Expr, ExprKind, FnDecl, LetDecl, Pattern, UnaryOp};

mod atoms;

/// How deep `fn` calls and `let` constants are followed.
const MAX_DEPTH: usize = 8;

/// The `let` and `fn` declarations of every module, by definition.
#[derive(Default)]
pub struct Decls<'a> {
    pub lets: HashMap<DefId, &'a LetDecl>,
    pub fns: HashMap<DefId, &'a FnDecl>,
}

/// What a condition can see: variable roots (case facts, event fields, action
/// parameters) by name, and whether `class` is in scope.
pub struct Scope<'a> {
    pub module: &'a str,
    /// name → (variable root, type).
    pub roots: std::rc::Rc<BTreeMap<String, (String, Ty)>>,
    pub class: Option<Ty>,
}

/// `(true set, false set)` of a condition.
pub type TrueFalse = (Formula, Formula);

pub struct Translator<'a, 'v> {
    pub index: &'a ProjectIndex,
    pub decls: &'a Decls<'a>,
    pub vars: &'v mut Vars,
    /// When set, `class == V` is replaced by the classify's own condition for `V`.
    pub class_defs: Option<&'a BTreeMap<String, TrueFalse>>,
    /// Set when, with `class_defs`, `class` was used other than in `==`/`!=` (so a witness
    /// would have to pick the class freely, which one event cannot do).
    pub raw_class: bool,
}

#[derive(Clone, Debug)]
enum Term {
    Path {
        path: Vec<String>,
        ty: Ty,
        unwrapped: bool,
    },
    Coalesce(Box<Term>, Const),
    Const(Const),
    /// A bare name that may be an enum variant (resolved against the other operand).
    Bare(String),
    EnumType(DefId),
    Match(Box<Term>, Vec<(Option<Vec<String>>, Term)>),
    Opaque,
}

struct Cx<'s> {
    module: &'s str,
    roots: Option<&'s BTreeMap<String, (String, Ty)>>,
    class: Option<&'s Ty>,
    params: BTreeMap<String, Term>,
    depth: usize,
}

pub fn kind_of(index: &ProjectIndex, ty: &Ty) -> Kind {
    match ty.strip_optional() {
        Ty::Bool => Kind::Bool,
        Ty::Int => Kind::Int,
        Ty::Decimal => Kind::Dec,
        Ty::Money => Kind::Money,
        Ty::Percent => Kind::Pct,
        Ty::String => Kind::Str,
        Ty::Person => Kind::Person,
        Ty::List(_) => Kind::List,
        Ty::Enum(d) => Kind::Enum(index.enum_variants(d).cloned().unwrap_or_default()),
        _ => Kind::Other,
    }
}

fn tf_const(b: Option<bool>) -> TrueFalse {
    match b {
        Some(true) => (Formula::True, Formula::False),
        Some(false) => (Formula::False, Formula::True),
        // An evaluation error (money of two currencies): neither true nor false.
        None => (Formula::False, Formula::False),
    }
}

impl<'a, 'v> Translator<'a, 'v> {
    /// The true and false sets of a condition written in `scope`.
    pub fn condition(&mut self, scope: &Scope<'_>, e: &Expr) -> TrueFalse {
        let cx = Cx {
            module: scope.module,
            roots: Some(&scope.roots),
            class: scope.class.as_ref(),
            params: BTreeMap::new(),
            depth: 0,
        };
        self.tf(&cx, e)
    }

    fn opaque(&mut self, cx: &Cx<'_>, e: &Expr) -> TrueFalse {
        let key = format!(
            "{}:{}:{}|{:?}",
            cx.module, e.span.start, e.span.end, cx.params
        );
        let k = self.vars.opaque(key);
        (
            Formula::lit(Lit::Opaque(k, true)),
            Formula::lit(Lit::Opaque(k, false)),
        )
    }

    fn tf(&mut self, cx: &Cx<'_>, e: &Expr) -> TrueFalse {
        match &e.kind {
            ExprKind::Bool(b) => tf_const(Some(*b)),
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => {
                let (t, f) = self.tf(cx, operand);
                (f, t)
            }
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinOp::And => {
                    let (tl, fl) = self.tf(cx, lhs);
                    let (tr, fr) = self.tf(cx, rhs);
                    (
                        Formula::and(vec![tl.clone(), tr]),
                        Formula::or(vec![fl, Formula::and(vec![tl, fr])]),
                    )
                }
                BinOp::Or => {
                    let (tl, fl) = self.tf(cx, lhs);
                    let (tr, fr) = self.tf(cx, rhs);
                    (
                        Formula::or(vec![tl, Formula::and(vec![fl.clone(), tr])]),
                        Formula::and(vec![fl, fr]),
                    )
                }
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                    let op = match op {
                        BinOp::Eq => Op::Eq,
                        BinOp::Ne => Op::Ne,
                        BinOp::Lt => Op::Lt,
                        BinOp::Le => Op::Le,
                        BinOp::Gt => Op::Gt,
                        _ => Op::Ge,
                    };
                    let (a, b) = (self.term(cx, lhs), self.term(cx, rhs));
                    self.cmp_terms(&a, op, &b)
                        .unwrap_or_else(|| self.opaque(cx, e))
                }
                BinOp::In | BinOp::Contains | BinOp::Matches | BinOp::StartsWith => {
                    let (a, b) = (self.term(cx, lhs), self.term(cx, rhs));
                    self.membership(*op, &a, &b)
                        .unwrap_or_else(|| self.opaque(cx, e))
                }
                _ => self.opaque(cx, e),
            },
            ExprKind::Call { callee, args } => match self.inline(cx, callee, args) {
                Some((decl, module, params)) if decl.ret_is_bool() => {
                    let inner = Cx {
                        module,
                        roots: None,
                        class: None,
                        params,
                        depth: cx.depth + 1,
                    };
                    self.tf(&inner, &decl.body)
                }
                _ => self.opaque(cx, e),
            },
            _ => {
                let t = self.term(cx, e);
                match t {
                    Term::Path { .. } => self
                        .cmp_terms(&t, Op::Eq, &Term::Const(Const::Bool(true)))
                        .unwrap_or_else(|| self.opaque(cx, e)),
                    Term::Const(Const::Bool(b)) => tf_const(Some(b)),
                    _ => self.opaque(cx, e),
                }
            }
        }
    }

    /// The declaration and parameter bindings of a call to a user `fn`, within depth.
    fn inline(
        &mut self,
        cx: &Cx<'_>,
        callee: &Expr,
        args: &[crate::syntax::ast::Arg],
    ) -> Option<(&'a FnDecl, &'a str, BTreeMap<String, Term>)> {
        if cx.depth >= MAX_DEPTH {
            return None;
        }
        let segs = segments(callee)?;
        let found = if segs.len() == 1 {
            self.index.lookup_data(cx.module, &segs[0])
        } else {
            self.index.lookup_qualified(cx.module, &segs)
        };
        let (def, DataKind::Fn) = found? else {
            return None;
        };
        let (key, decl) = self.decls.fns.get_key_value(&def)?;
        if args.len() != decl.params.len() {
            return None;
        }
        let mut params = BTreeMap::new();
        for (i, a) in args.iter().enumerate() {
            let name = match &a.label {
                Some(l) => l.name.clone(),
                None => decl.params[i].name.name.clone(),
            };
            let t = self.term(cx, &a.value);
            params.insert(name, t);
        }
        Some((*decl, &*key.module, params))
    }

    fn term(&mut self, cx: &Cx<'_>, e: &Expr) -> Term {
        match &e.kind {
            ExprKind::Bool(b) => Term::Const(Const::Bool(*b)),
            ExprKind::Int(i) => Term::Const(Const::Int(*i)),
            ExprKind::Decimal(s) => dec(s).map_or(Term::Opaque, |d| Term::Const(Const::Dec(d))),
            ExprKind::Percent(s) => dec(s).map_or(Term::Opaque, |d| Term::Const(Const::Pct(d))),
            ExprKind::Money { amount, currency } => dec(amount).map_or(Term::Opaque, |d| {
                Term::Const(Const::Money(d, currency.clone()))
            }),
            ExprKind::Str(s) => Term::Const(Const::Str(s.clone())),
            ExprKind::None => Term::Const(Const::None),
            ExprKind::List(items) => {
                let mut out = Vec::new();
                for i in items {
                    match self.term(cx, i) {
                        Term::Const(c) => out.push(c),
                        // A bare variant; checked against the enum it is compared with.
                        Term::Bare(n) => out.push(Const::Enum(n)),
                        _ => return Term::Opaque,
                    }
                }
                Term::Const(Const::List(out))
            }
            ExprKind::Name(id) => self.name(cx, &id.name),
            ExprKind::Field {
                base,
                field,
                optional: false,
            } => match self.term(cx, base) {
                Term::Path {
                    path,
                    ty,
                    unwrapped: false,
                } if !ty.is_optional() => {
                    let Some(fields) = self.vars.fields(self.index, &ty) else {
                        return Term::Opaque;
                    };
                    match fields.iter().find(|(n, _)| *n == field.name).cloned() {
                        Some((_, fty)) if !fty.is_error() => {
                            let mut path = path;
                            path.push(field.name.clone());
                            Term::Path {
                                path,
                                ty: fty,
                                unwrapped: false,
                            }
                        }
                        _ => Term::Opaque,
                    }
                }
                Term::EnumType(def) => {
                    let ok = self
                        .index
                        .enum_variants(&def)
                        .is_some_and(|vs| vs.contains(&field.name));
                    if ok {
                        Term::Const(Const::Enum(field.name.clone()))
                    } else {
                        Term::Opaque
                    }
                }
                Term::Bare(_) => match segments(e) {
                    Some(segs) => match self.index.lookup_qualified(cx.module, &segs) {
                        Some((def, DataKind::Let)) => self.let_value(cx, &def),
                        Some((def, DataKind::Enum)) => Term::EnumType(def),
                        _ => Term::Opaque,
                    },
                    None => Term::Opaque,
                },
                _ => Term::Opaque,
            },
            ExprKind::Unwrap(inner) => match self.term(cx, inner) {
                Term::Path { path, ty, .. } => Term::Path {
                    path,
                    ty,
                    unwrapped: true,
                },
                Term::Const(Const::None) => Term::Opaque,
                c @ Term::Const(_) => c,
                _ => Term::Opaque,
            },
            ExprKind::Binary {
                op: BinOp::Coalesce,
                lhs,
                rhs,
            } => match (self.term(cx, lhs), self.term(cx, rhs)) {
                (
                    p @ Term::Path {
                        unwrapped: false, ..
                    },
                    Term::Const(d),
                ) if d != Const::None => Term::Coalesce(Box::new(p), d),
                (Term::Const(Const::None), r) => r,
                (c @ Term::Const(_), _) => c,
                _ => Term::Opaque,
            },
            ExprKind::Match { scrutinee, arms } => {
                let s = self.term(cx, scrutinee);
                if !matches!(&s, Term::Path { ty, .. } if ty.strip_optional().enum_def().is_some())
                {
                    return Term::Opaque;
                }
                let mut out = Vec::new();
                for a in arms {
                    let pat = match &a.pattern {
                        Pattern::Wildcard(_) => None,
                        Pattern::Alternatives(ps) => {
                            Some(ps.iter().map(|p| p.last().name.clone()).collect())
                        }
                    };
                    out.push((pat, self.term(cx, &a.value)));
                }
                Term::Match(Box::new(s), out)
            }
            ExprKind::Call { callee, args } => match self.inline(cx, callee, args) {
                Some((decl, module, params)) if !decl.ret_is_bool() => {
                    let inner = Cx {
                        module,
                        roots: None,
                        class: None,
                        params,
                        depth: cx.depth + 1,
                    };
                    self.term(&inner, &decl.body)
                }
                _ => Term::Opaque,
            },
            _ => Term::Opaque,
        }
    }

    fn name(&mut self, cx: &Cx<'_>, name: &str) -> Term {
        if let Some(t) = cx.params.get(name) {
            return t.clone();
        }
        if let Some((root, ty)) = cx.roots.and_then(|r| r.get(name)) {
            return Term::Path {
                path: vec![root.clone()],
                ty: ty.clone(),
                unwrapped: false,
            };
        }
        if name == "class"
            && let Some(ty) = cx.class
        {
            return Term::Path {
                path: vec!["class".into()],
                ty: ty.clone(),
                unwrapped: false,
            };
        }
        match self.index.lookup_data(cx.module, name) {
            Some((def, DataKind::Let)) => self.let_value(cx, &def),
            Some((def, DataKind::Enum)) => Term::EnumType(def),
            Some(_) => Term::Opaque,
            None => Term::Bare(name.to_string()),
        }
    }

    fn let_value(&mut self, cx: &Cx<'_>, def: &DefId) -> Term {
        if cx.depth >= MAX_DEPTH {
            return Term::Opaque;
        }
        let Some(decl) = self.decls.lets.get(def) else {
            return Term::Opaque;
        };
        let inner = Cx {
            module: &def.module,
            roots: None,
            class: None,
            params: BTreeMap::new(),
            depth: cx.depth + 1,
        };
        match self.term(&inner, &decl.value) {
            c @ Term::Const(_) => c,
            _ => Term::Opaque,
        }
    }

    fn var(&mut self, path: &[String], ty: &Ty) -> VarId {
        if let Some(v) = self.vars.lookup(path) {
            return v;
        }
        let kind = kind_of(self.index, ty);
        self.vars.intern(path.to_vec(), ty.clone(), kind)
    }
}

trait RetBool {
    fn ret_is_bool(&self) -> bool;
}

impl RetBool for FnDecl {
    fn ret_is_bool(&self) -> bool {
        matches!(&self.ret.kind, crate::syntax::ast::TypeExprKind::Named(p) if p.segments.len() == 1 && p.segments[0].name == "Bool")
    }
}

fn dec(s: &str) -> Option<Decimal> {
    s.replace('_', "").parse().ok()
}

/// `a.b.c` as names, if the expression is only names and fields.
fn segments(e: &Expr) -> Option<Vec<String>> {
    match &e.kind {
        ExprKind::Name(id) => Some(vec![id.name.clone()]),
        ExprKind::Field {
            base,
            field,
            optional: false,
        } => {
            let mut s = segments(base)?;
            s.push(field.name.clone());
            Some(s)
        }
        _ => None,
    }
}
