//! Comparisons and membership tests of one variable with constants: the atoms of the
//! translation (see the parent module).

use super::{Term, Translator, TrueFalse, tf_const};
use crate::semantic::solver::{Const, Formula, Kind, Lit, Op, StrPred};
use crate::semantic::types::Ty;
use crate::syntax::ast::BinOp;

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

impl Translator<'_, '_> {
    /// `a op b` for two terms, or `None` if it is not modelled.
    pub(super) fn cmp_terms(&mut self, a: &Term, op: Op, b: &Term) -> Option<TrueFalse> {
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
                let c = match b {
                    Term::Const(c) => c.clone(),
                    Term::Bare(n) => Const::Enum(n.clone()),
                    _ => return None,
                };
                self.path_cmp(path, ty, *unwrapped, op, c)
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

    pub(super) fn note_class(&mut self, path: &[String]) {
        if self.class_defs.is_some() && path.len() == 1 && path[0] == "class" {
            self.raw_class = true;
        }
    }

    pub(super) fn path_cmp(
        &mut self,
        path: &[String],
        ty: &Ty,
        unwrapped: bool,
        op: Op,
        c: Const,
    ) -> Option<TrueFalse> {
        if path.len() == 1
            && path[0] == "class"
            && !op.is_ordered()
            && let (Some(defs), Const::Enum(v)) = (self.class_defs, &c)
        {
            let (t, f) = defs.get(v)?.clone();
            return Some(if op == Op::Eq { (t, f) } else { (f, t) });
        }
        self.note_class(path);
        let v = self.var(path, ty);
        let kind = &self.vars.info(v).kind;
        let c = match c {
            Const::Str(s) if *kind == Kind::Person => Const::Str(s.to_lowercase()),
            c => c,
        };
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
    pub(super) fn membership(&mut self, op: BinOp, a: &Term, b: &Term) -> Option<TrueFalse> {
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
                let optional = ty.is_optional() && !unwrapped;
                let v = self.var(path, ty);
                let kind = &self.vars.info(v).kind;
                let (t, f) = match (op, kind, c) {
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
