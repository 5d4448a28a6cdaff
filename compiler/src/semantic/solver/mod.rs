//! A small decision procedure over rule conditions (issue 7).
//!
//! Conditions are translated ([`translate`]) into formulas over *literals*: facts about one
//! variable (a case fact or event field path such as `ticket.tier`, `class`, or a gate's
//! action parameter) compared with a constant. Every literal is exact at the value level:
//! `Cmp(x, >, 100 USD)` means "x is present, in USD, and greater than 100", so a literal's
//! negation is its exact complement ([`Vars::negate_lit`]). Anything the procedure cannot
//! model becomes an *opaque* literal: it may still make a conjunction contradictory
//! (`p and not p`), but it never appears in a witness.
//!
//! Formulas go to disjunctive normal form with a cap ([`DNF_CAP`]); past it, the answer is
//! *unknown*. A conjunction is decided per variable ([`domain`]): enum and boolean value
//! sets, numeric intervals with open or closed bounds, excluded values and a currency,
//! string equalities and substring / prefix / regex facts, list membership. *Disjoint* is
//! only answered when every conjunction is provably contradictory; *overlap* only with a
//! witness, a value for every constrained variable, that satisfies every literal.

pub mod domain;
pub mod translate;
pub mod witness;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use super::types::Ty;

pub type VarId = u32;

/// The most conjunctions a formula's normal form may have before the answer is unknown.
pub const DNF_CAP: usize = 256;
/// The most conjunctions one decision may examine (across the product of its parts).
pub const SEARCH_CAP: usize = 20_000;

/// A constant value, as the procedure compares and reports it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Const {
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Money(Decimal, String),
    Pct(Decimal),
    Str(String),
    /// An enum variant, by name (the variable's type says which enum).
    Enum(String),
    None,
    List(Vec<Const>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    /// The complement: `not (a < b)` is `a >= b`.
    pub fn negate(self) -> Op {
        match self {
            Op::Eq => Op::Ne,
            Op::Ne => Op::Eq,
            Op::Lt => Op::Ge,
            Op::Le => Op::Gt,
            Op::Gt => Op::Le,
            Op::Ge => Op::Lt,
        }
    }
    /// The same relation with its operands swapped: `a < b` is `b > a`.
    pub fn flip(self) -> Op {
        match self {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
            other => other,
        }
    }
    pub fn is_ordered(self) -> bool {
        !matches!(self, Op::Eq | Op::Ne)
    }
    pub fn holds(self, o: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::*;
        match self {
            Op::Eq => o == Equal,
            Op::Ne => o != Equal,
            Op::Lt => o == Less,
            Op::Le => o != Greater,
            Op::Gt => o == Greater,
            Op::Ge => o != Less,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StrPred {
    Contains,
    StartsWith,
    Matches,
}

/// One fact about one variable. All but `IsNone` imply the variable is present.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lit {
    /// `x` is none (`true`) or present (`false`).
    IsNone(VarId, bool),
    /// `x` is present, of the constant's currency (for money), and `x op c`.
    Cmp(VarId, Op, Const),
    /// `x` (money) is present and its currency is (`true`) / is not (`false`) this one.
    Currency(VarId, String, bool),
    /// `x` (a list) is present and does (`true`) / does not contain the element.
    Has(VarId, Const, bool),
    /// `x` (a string) is present and the predicate holds (`true`) / does not hold.
    Str(VarId, StrPred, String, bool),
    /// Something the procedure does not model, by identity, with its polarity.
    Opaque(u32, bool),
}

impl Lit {
    pub fn var(&self) -> Option<VarId> {
        match self {
            Lit::IsNone(v, _)
            | Lit::Cmp(v, _, _)
            | Lit::Currency(v, _, _)
            | Lit::Has(v, _, _)
            | Lit::Str(v, _, _, _) => Some(*v),
            Lit::Opaque(..) => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Formula {
    True,
    False,
    Lit(Lit),
    And(Vec<Formula>),
    Or(Vec<Formula>),
}

impl Formula {
    pub fn and(parts: Vec<Formula>) -> Formula {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Formula::True => {}
                Formula::False => return Formula::False,
                Formula::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Formula::True,
            1 => out.pop().expect("one"),
            _ => Formula::And(out),
        }
    }
    pub fn or(parts: Vec<Formula>) -> Formula {
        let mut out = Vec::new();
        for p in parts {
            match p {
                Formula::False => {}
                Formula::True => return Formula::True,
                Formula::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => Formula::False,
            1 => out.pop().expect("one"),
            _ => Formula::Or(out),
        }
    }
    pub fn lit(l: Lit) -> Formula {
        Formula::Lit(l)
    }
}

/// What the procedure knows about a variable's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    Enum(Vec<String>),
    Int,
    Dec,
    Money,
    Pct,
    Str,
    Person,
    List,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarInfo {
    /// Root (a fact or event field name, `class`, or `param:NAME`) then field names.
    pub path: Vec<String>,
    /// The semantic type, optional included.
    pub ty: Ty,
    pub kind: Kind,
    pub optional: bool,
}

/// The variables and opaque atoms of one analysis (shared by every rule in it, so that
/// `ticket.tier` in two routes is one variable).
#[derive(Debug, Default)]
pub struct Vars {
    pub infos: Vec<VarInfo>,
    by_path: HashMap<Vec<String>, VarId>,
    opaque: HashMap<String, u32>,
    /// Fields of record and event types, resolved once.
    fields: HashMap<Ty, Option<Fields>>,
}

impl Vars {
    pub fn intern(&mut self, path: Vec<String>, ty: Ty, kind: Kind) -> VarId {
        if let Some(v) = self.by_path.get(&path) {
            return *v;
        }
        let id = self.infos.len() as VarId;
        let optional = ty.is_optional();
        self.infos.push(VarInfo {
            path: path.clone(),
            ty,
            kind,
            optional,
        });
        self.by_path.insert(path, id);
        id
    }
    pub fn lookup(&self, path: &[String]) -> Option<VarId> {
        self.by_path.get(path).copied()
    }
    /// The fields of a record or event type (cached).
    pub fn fields(&mut self, index: &super::index::ProjectIndex, ty: &Ty) -> Option<Fields> {
        if let Some(f) = self.fields.get(ty) {
            return f.clone();
        }
        let f = index.fields_of(ty).map(std::rc::Rc::new);
        self.fields.insert(ty.clone(), f.clone());
        f
    }
    pub fn info(&self, v: VarId) -> &VarInfo {
        &self.infos[v as usize]
    }
    pub fn opaque(&mut self, key: String) -> u32 {
        let n = self.opaque.len() as u32;
        *self.opaque.entry(key).or_insert(n)
    }

    /// The exact complement of a literal, as a formula.
    pub fn negate_lit(&self, l: &Lit) -> Formula {
        let none_or = |v: VarId, f: Formula| {
            if self.info(v).optional {
                Formula::or(vec![f, Formula::lit(Lit::IsNone(v, true))])
            } else {
                f
            }
        };
        match l {
            Lit::IsNone(v, b) => Formula::lit(Lit::IsNone(*v, !b)),
            Lit::Cmp(v, op, c) => {
                let mut parts = vec![Formula::lit(Lit::Cmp(*v, op.negate(), c.clone()))];
                if let Const::Money(_, cur) = c {
                    parts.push(Formula::lit(Lit::Currency(*v, cur.clone(), false)));
                }
                none_or(*v, Formula::or(parts))
            }
            Lit::Currency(v, c, b) => none_or(*v, Formula::lit(Lit::Currency(*v, c.clone(), !b))),
            Lit::Has(v, c, b) => none_or(*v, Formula::lit(Lit::Has(*v, c.clone(), !b))),
            Lit::Str(v, p, s, b) => none_or(*v, Formula::lit(Lit::Str(*v, *p, s.clone(), !b))),
            Lit::Opaque(k, b) => Formula::lit(Lit::Opaque(*k, !b)),
        }
    }

    /// The exact complement of a formula ("not true").
    pub fn negate(&self, f: &Formula) -> Formula {
        match f {
            Formula::True => Formula::False,
            Formula::False => Formula::True,
            Formula::Lit(l) => self.negate_lit(l),
            Formula::And(ps) => Formula::or(ps.iter().map(|p| self.negate(p)).collect()),
            Formula::Or(ps) => Formula::and(ps.iter().map(|p| self.negate(p)).collect()),
        }
    }
}

/// The resolved fields of a record or event type.
pub type Fields = std::rc::Rc<Vec<(String, Ty)>>;

/// A conjunction of literals.
pub type Conj = Vec<Lit>;

/// Disjunctive normal form, or `None` past [`DNF_CAP`] conjunctions.
pub fn dnf(f: &Formula) -> Option<Vec<Conj>> {
    match f {
        Formula::True => Some(vec![Vec::new()]),
        Formula::False => Some(Vec::new()),
        Formula::Lit(l) => Some(vec![vec![l.clone()]]),
        Formula::Or(ps) => {
            let mut out = Vec::new();
            for p in ps {
                out.extend(dnf(p)?);
                if out.len() > DNF_CAP {
                    return None;
                }
            }
            Some(out)
        }
        Formula::And(ps) => {
            let mut acc: Vec<Conj> = vec![Vec::new()];
            for p in ps {
                let d = dnf(p)?;
                if acc.len() * d.len() > DNF_CAP {
                    return None;
                }
                let mut next = Vec::with_capacity(acc.len() * d.len());
                for a in &acc {
                    for b in &d {
                        let mut c = a.clone();
                        c.extend(b.iter().cloned());
                        if !trivially_false(&c) {
                            next.push(c);
                        }
                    }
                }
                acc = next;
            }
            Some(acc)
        }
    }
}

/// A literal and its direct opposite in one conjunction (a cheap pruning test).
fn trivially_false(c: &[Lit]) -> bool {
    let last = match c.last() {
        Some(l) => l,
        None => return false,
    };
    c[..c.len() - 1].iter().any(|l| match (l, last) {
        (Lit::Opaque(a, p), Lit::Opaque(b, q)) => a == b && p != q,
        (Lit::IsNone(a, p), Lit::IsNone(b, q)) => a == b && p != q,
        _ => false,
    })
}

/// A value for every variable a witness constrains.
pub type Model = BTreeMap<VarId, Const>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// No assignment makes every part true.
    Disjoint,
    /// This assignment makes every part true.
    Overlap(Model),
    /// Could not decide (an opaque literal, a cap, or a domain it does not solve).
    Unknown,
}

/// Decide whether all parts (each in normal form; `None` = over the cap) can hold at once.
pub fn decide(parts: &[Option<&[Conj]>], vars: &Vars) -> Outcome {
    let mut ps: Vec<&[Conj]> = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Some(p) => ps.push(p),
            None => return Outcome::Unknown,
        }
    }
    let mut budget = SEARCH_CAP;
    let mut unknown = false;
    let mut prefix: Vec<&Lit> = Vec::new();
    match search(&ps, 0, &mut prefix, vars, true, &mut budget, &mut unknown) {
        Some(m) => Outcome::Overlap(m),
        None if unknown => Outcome::Unknown,
        None => Outcome::Disjoint,
    }
}

/// Whether all parts provably cannot hold at once ([`decide`] without building a witness:
/// cheaper, for the questions that only need "disjoint or not").
pub fn disjoint(parts: &[Option<&[Conj]>], vars: &Vars) -> bool {
    let mut ps: Vec<&[Conj]> = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Some(p) => ps.push(p),
            None => return false,
        }
    }
    let mut budget = SEARCH_CAP;
    let mut unknown = false;
    let mut prefix: Vec<&Lit> = Vec::new();
    search(&ps, 0, &mut prefix, vars, false, &mut budget, &mut unknown).is_none() && !unknown
}

fn search<'l>(
    parts: &[&'l [Conj]],
    i: usize,
    prefix: &mut Vec<&'l Lit>,
    vars: &Vars,
    want_model: bool,
    budget: &mut usize,
    unknown: &mut bool,
) -> Option<Model> {
    if *budget == 0 {
        *unknown = true;
        return None;
    }
    *budget -= 1;
    let last = i == parts.len();
    match domain::solve(prefix, vars, last && want_model) {
        domain::Solve::Unsat => return None,
        domain::Solve::Sat(m) if last => return Some(m),
        // Not proved contradictory: enough when no witness is wanted.
        domain::Solve::Unknown if last && !want_model => return Some(Model::new()),
        domain::Solve::Unknown if last => {
            *unknown = true;
            return None;
        }
        _ => {}
    }
    let len = prefix.len();
    for conj in parts[i] {
        prefix.extend(conj.iter());
        let found = search(parts, i + 1, prefix, vars, want_model, budget, unknown);
        prefix.truncate(len);
        if found.is_some() {
            return found;
        }
        if *budget == 0 {
            *unknown = true;
            return None;
        }
    }
    None
}
