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

use super::{Const, Formula, Kind, Lit, Op, StrPred, VarId, Vars};
use crate::semantic::index::{DataKind, ProjectIndex};
use crate::semantic::types::{DefId, Ty};
use crate::syntax::ast::{BinOp, Expr, ExprKind, FnDecl, LetDecl, Pattern, UnaryOp};

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
    pub roots: BTreeMap<String, (String, Ty)>,
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

fn fold(a: &Const, op: Op, b: &Const) -> Option<bool> {
    use Const::*;
    let ord = match (a, b) {
        (Int(x), Int(y)) => x.cmp(y),
        (Dec(x), Dec(y)) | (Pct(x), Pct(y)) => x.cmp(y),
        (Money(x, c), Money(y, d)) if c == d => x.cmp(y),
        (Str(x), Str(y)) => x.cmp(y),
        (Bool(x), Bool(y)) if !op.is_ordered() => x.cmp(y),
        (Enum(x), Enum(y)) if !op.is_ordered() => x.cmp(y),
        (None, None) if !op.is_ordered() => std::cmp::Ordering::Equal,
        _ => return Option::None,
    };
    Some(op.holds(ord))
}

fn tf_const(b: Option<bool>) -> TrueFalse {
    match b {
        Some(true) => (Formula::True, Formula::False),
        Some(false) => (Formula::False, Formula::True),
        // An evaluation error (money of two currencies): neither true nor false.
        None => (Formula::False, Formula::False),
    }
}

fn compatible(kind: &Kind, c: &Const) -> bool {
    matches!(
        (kind, c),
        (Kind::Bool, Const::Bool(_))
            | (Kind::Int, Const::Int(_))
            | (Kind::Dec, Const::Dec(_))
            | (Kind::Money, Const::Money(..))
            | (Kind::Pct, Const::Pct(_))
            | (Kind::Str | Kind::Person, Const::Str(_))
    ) || matches!((kind, c), (Kind::Enum(vs), Const::Enum(v)) if vs.contains(v))
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
        Some((*decl, key.module.as_str(), params))
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
                    let Some(fields) = self.index.fields_of(&ty) else {
                        return Term::Opaque;
                    };
                    match fields.into_iter().find(|(n, _)| *n == field.name) {
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
        let kind = kind_of(self.index, ty);
        self.vars.intern(path.to_vec(), ty.clone(), kind)
    }

    /// `a op b` for two terms, or `None` if it is not modelled.
    fn cmp_terms(&mut self, a: &Term, op: Op, b: &Term) -> Option<TrueFalse> {
        match (a, b) {
            (Term::Const(x), Term::Const(y)) => Some(tf_const(fold(x, op, y))),
            (Term::Const(_) | Term::Bare(_), _) if !matches!(b, Term::Const(_) | Term::Bare(_)) => {
                self.cmp_terms(b, op.flip(), a)
            }
            (
                Term::Path {
                    path,
                    ty,
                    unwrapped,
                },
                Term::Const(_) | Term::Bare(_),
            ) => {
                let kind = kind_of(self.index, ty);
                let c = match b {
                    Term::Const(Const::Str(s)) if kind == Kind::Person => {
                        Const::Str(s.to_lowercase())
                    }
                    Term::Const(c) => c.clone(),
                    Term::Bare(n) => Const::Enum(n.clone()),
                    _ => return None,
                };
                self.path_cmp(path, ty, &kind, *unwrapped, op, c)
            }
            (Term::Coalesce(p, d), Term::Const(_) | Term::Bare(_)) => {
                let Term::Path { path, ty, .. } = &**p else {
                    return None;
                };
                let unwrapped = Term::Path {
                    path: path.clone(),
                    ty: ty.clone(),
                    unwrapped: true,
                };
                let (ts, fs) = self.cmp_terms(&unwrapped, op, b)?;
                let (td, fd) = self.cmp_terms(&Term::Const(d.clone()), op, b)?;
                let v = self.var(path, ty);
                let none = Formula::lit(Lit::IsNone(v, true));
                Some((
                    Formula::or(vec![Formula::and(vec![none.clone(), td]), ts]),
                    Formula::or(vec![Formula::and(vec![none, fd]), fs]),
                ))
            }
            (Term::Match(s, arms), Term::Const(_) | Term::Bare(_)) => {
                let Term::Path { path, ty, .. } = &**s else {
                    return None;
                };
                let v = self.var(path, ty);
                self.note_class(path);
                let mut covered: Vec<String> = Vec::new();
                let (mut t, mut f) = (Vec::new(), Vec::new());
                for (pat, value) in arms {
                    let guard = match pat {
                        Some(vs) => {
                            covered.extend(vs.iter().cloned());
                            Formula::or(
                                vs.iter()
                                    .map(|x| {
                                        Formula::lit(Lit::Cmp(v, Op::Eq, Const::Enum(x.clone())))
                                    })
                                    .collect(),
                            )
                        }
                        None => Formula::and(
                            covered
                                .iter()
                                .map(|x| Formula::lit(Lit::Cmp(v, Op::Ne, Const::Enum(x.clone()))))
                                .collect(),
                        ),
                    };
                    let (ti, fi) = self.cmp_terms(value, op, b)?;
                    t.push(Formula::and(vec![guard.clone(), ti]));
                    f.push(Formula::and(vec![guard, fi]));
                    if pat.is_none() {
                        break;
                    }
                }
                Some((Formula::or(t), Formula::or(f)))
            }
            _ => None,
        }
    }

    fn note_class(&mut self, path: &[String]) {
        if self.class_defs.is_some() && path.len() == 1 && path[0] == "class" {
            self.raw_class = true;
        }
    }

    fn path_cmp(
        &mut self,
        path: &[String],
        ty: &Ty,
        kind: &Kind,
        unwrapped: bool,
        op: Op,
        c: Const,
    ) -> Option<TrueFalse> {
        if path.len() == 1 && path[0] == "class" && !op.is_ordered() {
            if let (Some(defs), Const::Enum(v)) = (self.class_defs, &c) {
                let (t, f) = defs.get(v)?.clone();
                return Some(if op == Op::Eq { (t, f) } else { (f, t) });
            }
        }
        self.note_class(path);
        let v = self.var(path, ty);
        let optional = ty.is_optional() && !unwrapped;
        if c == Const::None {
            return match op {
                Op::Eq => Some((
                    Formula::lit(Lit::IsNone(v, true)),
                    Formula::lit(Lit::IsNone(v, false)),
                )),
                Op::Ne => Some((
                    Formula::lit(Lit::IsNone(v, false)),
                    Formula::lit(Lit::IsNone(v, true)),
                )),
                _ => None,
            };
        }
        if !compatible(kind, &c)
            || (op.is_ordered()
                && !matches!(
                    kind,
                    Kind::Int | Kind::Dec | Kind::Money | Kind::Pct | Kind::Str
                ))
        {
            return None;
        }
        if optional && op.is_ordered() {
            return None;
        }
        let mut t = Formula::lit(Lit::Cmp(v, op, c.clone()));
        let mut f = Formula::lit(Lit::Cmp(v, op.negate(), c));
        if optional {
            let none = Formula::lit(Lit::IsNone(v, true));
            if op == Op::Eq {
                f = Formula::or(vec![f, none]);
            } else {
                t = Formula::or(vec![t, none]);
            }
        }
        Some((t, f))
    }

    /// `in`, `contains`, `matches`, `starts_with`.
    fn membership(&mut self, op: BinOp, a: &Term, b: &Term) -> Option<TrueFalse> {
        match (op, a, b) {
            (BinOp::In, _, Term::Const(Const::List(items))) => {
                let mut t = Vec::new();
                for i in items {
                    t.push(self.cmp_terms(a, Op::Eq, &Term::Const(i.clone()))?.0);
                }
                let t = Formula::or(t);
                let f = self.vars.negate(&t);
                Some((t, f))
            }
            (BinOp::In, Term::Const(c), Term::Path { .. }) => {
                self.membership(BinOp::Contains, b, &Term::Const(c.clone()))
            }
            (
                _,
                Term::Path {
                    path,
                    ty,
                    unwrapped,
                },
                Term::Const(c),
            ) => {
                let kind = kind_of(self.index, ty);
                let optional = ty.is_optional() && !unwrapped;
                let v = self.var(path, ty);
                let (t, f) = match (op, &kind, c) {
                    (BinOp::Contains, Kind::List, c) if !optional && *c != Const::None => {
                        (Lit::Has(v, c.clone(), true), Lit::Has(v, c.clone(), false))
                    }
                    (BinOp::Contains | BinOp::StartsWith, Kind::Str, Const::Str(s))
                        if !optional =>
                    {
                        let p = if op == BinOp::Contains {
                            StrPred::Contains
                        } else {
                            StrPred::StartsWith
                        };
                        (
                            Lit::Str(v, p, s.clone(), true),
                            Lit::Str(v, p, s.clone(), false),
                        )
                    }
                    (BinOp::Matches, Kind::Str, Const::Str(s)) => {
                        let t = Formula::lit(Lit::Str(v, StrPred::Matches, s.clone(), true));
                        let f = self.vars.negate(&t);
                        return Some((t, f));
                    }
                    _ => return None,
                };
                Some((Formula::lit(t), Formula::lit(f)))
            }
            _ => None,
        }
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
