//! Deciding one conjunction of literals, variable by variable, and picking witness values.
//!
//! Every "unsat" answer here is a proof (two literals that cannot both hold); every "sat"
//! answer comes with values that were checked against every literal. Anything in between
//! is unknown.

use rust_decimal::Decimal;

use super::{Const, Kind, Lit, Model, Op, StrPred, VarId, Vars};

#[derive(Debug)]
pub enum Solve {
    Unsat,
    Sat(Model),
    Unknown,
}

enum VarOutcome {
    Unsat,
    Value(Const),
    Unknown,
}

/// Decide a conjunction. With `want_model` false only contradictions matter (a cheaper
/// pruning step); the answer is then `Unsat` or `Unknown`.
pub fn solve(lits: &[&Lit], vars: &Vars, want_model: bool) -> Solve {
    let mut sorted: Vec<&Lit> = lits.to_vec();
    sorted.sort_by_key(|l| match l {
        Lit::Opaque(k, _) => (1, *k),
        other => (0, other.var().unwrap_or(0)),
    });
    let mut model = Model::new();
    let mut unknown = false;
    let mut i = 0;
    while i < sorted.len() {
        let l = sorted[i];
        let mut j = i + 1;
        match l {
            Lit::Opaque(k, p) => {
                unknown = true;
                while j < sorted.len() && matches!(sorted[j], Lit::Opaque(q, _) if q == k) {
                    if matches!(sorted[j], Lit::Opaque(_, b) if b != p) {
                        return Solve::Unsat;
                    }
                    j += 1;
                }
            }
            other => {
                let v = other.var().expect("a variable literal");
                while j < sorted.len() && sorted[j].var() == Some(v) {
                    j += 1;
                }
                match solve_var(vars, v, &sorted[i..j], want_model) {
                    VarOutcome::Unsat => return Solve::Unsat,
                    VarOutcome::Unknown => unknown = true,
                    VarOutcome::Value(c) => {
                        model.insert(v, c);
                    }
                }
            }
        }
        i = j;
    }
    if unknown || !want_model {
        Solve::Unknown
    } else {
        Solve::Sat(model)
    }
}

fn solve_var(vars: &Vars, v: VarId, lits: &[&Lit], want_model: bool) -> VarOutcome {
    let info = vars.info(v);
    let must_none = lits.iter().any(|l| matches!(l, Lit::IsNone(_, true)));
    let must_some = lits.iter().any(|l| !matches!(l, Lit::IsNone(_, true)));
    // A case fact may be unset whatever its type, and `fact == none` then holds
    // (docs/language.md §6.1): only a field below it, or a parameter, is never none.
    let may_be_unset =
        info.path.len() == 1 && info.path[0] != "class" && !info.path[0].starts_with("param:");
    if must_none && (must_some || !(info.optional || may_be_unset)) {
        return VarOutcome::Unsat;
    }
    if must_none {
        return VarOutcome::Value(Const::None);
    }
    let rest: Vec<&Lit> = lits
        .iter()
        .copied()
        .filter(|l| !matches!(l, Lit::IsNone(..)))
        .collect();
    match &info.kind {
        Kind::Bool => finite(&[Const::Bool(false), Const::Bool(true)], &rest),
        Kind::Enum(vs) => {
            let all: Vec<Const> = vs.iter().map(|s| Const::Enum(s.clone())).collect();
            finite(&all, &rest)
        }
        Kind::Int | Kind::Dec | Kind::Money | Kind::Pct => numeric(&info.kind, &rest, want_model),
        Kind::Str | Kind::Person => string(&rest, want_model),
        Kind::List => list(&rest),
        Kind::Other => {
            if rest.is_empty() {
                VarOutcome::Unknown
            } else {
                // Only equalities with one value are contradictory for sure.
                let eqs: Vec<&Const> = rest
                    .iter()
                    .filter_map(|l| match l {
                        Lit::Cmp(_, Op::Eq, c) => Some(c),
                        _ => None,
                    })
                    .collect();
                if eqs.windows(2).any(|w| w[0] != w[1]) {
                    VarOutcome::Unsat
                } else {
                    VarOutcome::Unknown
                }
            }
        }
    }
}

/// Booleans and enums: a set of possible values.
fn finite(all: &[Const], lits: &[&Lit]) -> VarOutcome {
    let mut allowed: Vec<&Const> = all.iter().collect();
    let mut unknown = false;
    for l in lits {
        match l {
            Lit::Cmp(_, Op::Eq, c) => allowed.retain(|a| *a == c),
            Lit::Cmp(_, Op::Ne, c) => allowed.retain(|a| *a != c),
            _ => unknown = true,
        }
    }
    match allowed.first() {
        None => VarOutcome::Unsat,
        Some(_) if unknown => VarOutcome::Unknown,
        Some(c) => VarOutcome::Value((*c).clone()),
    }
}

fn num_of(c: &Const) -> Option<Decimal> {
    match c {
        Const::Int(i) => Some(Decimal::from(*i)),
        Const::Dec(d) | Const::Pct(d) | Const::Money(d, _) => Some(*d),
        _ => None,
    }
}

type Bound = Option<(Decimal, bool)>;

/// Integers, decimals, money and percentages: an interval, excluded values, a currency.
fn numeric(kind: &Kind, lits: &[&Lit], want_model: bool) -> VarOutcome {
    let int = *kind == Kind::Int;
    let (mut lo, mut hi): (Bound, Bound) = (None, None);
    let mut ne: Vec<Decimal> = Vec::new();
    let mut cur: Option<&str> = None;
    let mut not_cur: Vec<&str> = Vec::new();
    for l in lits {
        match l {
            Lit::Cmp(_, op, c) => {
                let Some(n) = num_of(c) else {
                    return VarOutcome::Unknown;
                };
                if let Const::Money(_, c) = c {
                    if cur.is_some_and(|x| x != c) {
                        return VarOutcome::Unsat;
                    }
                    cur = Some(c);
                }
                match op {
                    Op::Eq => {
                        lo = tighter_lo(lo, (n, true));
                        hi = tighter_hi(hi, (n, true));
                    }
                    Op::Ne => ne.push(n),
                    Op::Gt => lo = tighter_lo(lo, (n, false)),
                    Op::Ge => lo = tighter_lo(lo, (n, true)),
                    Op::Lt => hi = tighter_hi(hi, (n, false)),
                    Op::Le => hi = tighter_hi(hi, (n, true)),
                }
            }
            Lit::Currency(_, c, true) => {
                if cur.is_some_and(|x| x != c) {
                    return VarOutcome::Unsat;
                }
                cur = Some(c);
            }
            Lit::Currency(_, c, false) => not_cur.push(c),
            _ => return VarOutcome::Unknown,
        }
    }
    if cur.is_some_and(|c| not_cur.contains(&c)) {
        return VarOutcome::Unsat;
    }
    if int {
        // Integers: make both bounds closed and integral.
        lo = lo.map(|(n, closed)| {
            let f = n.floor();
            (
                if closed && f == n {
                    n
                } else {
                    f + Decimal::ONE
                },
                true,
            )
        });
        hi = hi.map(|(n, closed)| {
            let c = n.ceil();
            (
                if closed && c == n {
                    n
                } else {
                    c - Decimal::ONE
                },
                true,
            )
        });
    }
    if let (Some((l, lc)), Some((h, hc))) = (lo, hi) {
        if l > h || (l == h && !(lc && hc)) {
            return VarOutcome::Unsat;
        }
        if int && h - l < Decimal::from(ne.len() as i64) {
            // A small integer range: unsat when every value in it is excluded.
            let mut x = l;
            let mut all_excluded = true;
            while x <= h {
                if !ne.contains(&x) {
                    all_excluded = false;
                    break;
                }
                x += Decimal::ONE;
            }
            if all_excluded {
                return VarOutcome::Unsat;
            }
        } else if l == h && ne.contains(&l) {
            return VarOutcome::Unsat;
        }
    }
    if !want_model {
        return VarOutcome::Unknown;
    }
    let ok = |x: &Decimal| {
        (!int || x.fract().is_zero())
            && lo.is_none_or(|(l, c)| if c { *x >= l } else { *x > l })
            && hi.is_none_or(|(h, c)| if c { *x <= h } else { *x < h })
            && !ne.contains(x)
    };
    let k = ne.len() as i64 + 2;
    let mut cands: Vec<Decimal> = Vec::new();
    match (lo, hi) {
        (Some((l, _)), Some((h, _))) => {
            cands.push(l);
            cands.push(h);
            for i in 1..k {
                if int {
                    cands.push(l + Decimal::from(i));
                } else {
                    cands.push(l + (h - l) * Decimal::from(i) / Decimal::from(k));
                }
            }
        }
        (Some((l, _)), None) => (0..=k).for_each(|i| cands.push(l + Decimal::from(i))),
        (None, Some((h, _))) => (0..=k).for_each(|i| cands.push(h - Decimal::from(i))),
        (None, None) => (0..=k).for_each(|i| cands.push(Decimal::from(i))),
    }
    let Some(x) = cands.into_iter().find(ok) else {
        return VarOutcome::Unknown;
    };
    let x = x.normalize();
    VarOutcome::Value(match kind {
        Kind::Int => match i64::try_from(x) {
            Ok(i) => Const::Int(i),
            Err(_) => return VarOutcome::Unknown,
        },
        Kind::Dec => Const::Dec(x),
        Kind::Pct => Const::Pct(x),
        _ => {
            let c = cur.map(str::to_string).or_else(|| {
                ["USD", "EUR", "GBP", "JPY", "CHF"]
                    .iter()
                    .find(|c| !not_cur.contains(c))
                    .map(|c| c.to_string())
            });
            match c {
                Some(c) => Const::Money(x, c),
                None => return VarOutcome::Unknown,
            }
        }
    })
}

fn tighter_lo(a: Bound, b: (Decimal, bool)) -> Bound {
    match a {
        Some((n, c)) if n > b.0 || (n == b.0 && !c) => Some((n, c)),
        _ => Some(b),
    }
}

fn tighter_hi(a: Bound, b: (Decimal, bool)) -> Bound {
    match a {
        Some((n, c)) if n < b.0 || (n == b.0 && !c) => Some((n, c)),
        _ => Some(b),
    }
}

/// Strings and persons: equal / not equal, and substring, prefix and regex facts.
fn string(lits: &[&Lit], want_model: bool) -> VarOutcome {
    let mut eq: Option<&str> = None;
    let mut ne: Vec<&str> = Vec::new();
    let mut preds: Vec<(StrPred, &str, bool)> = Vec::new();
    let mut unknown = false;
    for l in lits {
        match l {
            Lit::Cmp(_, Op::Eq, Const::Str(s)) => {
                if eq.is_some_and(|e| e != s) {
                    return VarOutcome::Unsat;
                }
                eq = Some(s);
            }
            Lit::Cmp(_, Op::Ne, Const::Str(s)) => ne.push(s),
            Lit::Str(_, p, s, b) => preds.push((*p, s, *b)),
            _ => unknown = true,
        }
    }
    // Provable contradictions between the predicates themselves.
    for (i, (p, s, b)) in preds.iter().enumerate() {
        for (q, t, c) in &preds[i + 1..] {
            let (pos, neg) = match (b, c) {
                (true, false) => ((p, s), (q, t)),
                (false, true) => ((q, t), (p, s)),
                (true, true) => {
                    if *p == StrPred::StartsWith
                        && *q == StrPred::StartsWith
                        && !s.starts_with(*t)
                        && !t.starts_with(*s)
                    {
                        return VarOutcome::Unsat;
                    }
                    continue;
                }
                (false, false) => continue,
            };
            let implied = match (pos.0, neg.0) {
                (StrPred::Contains | StrPred::StartsWith, StrPred::Contains) => {
                    pos.1.contains(*neg.1)
                }
                (StrPred::StartsWith, StrPred::StartsWith) => pos.1.starts_with(*neg.1),
                (a, b) => a == b && pos.1 == neg.1,
            };
            if implied {
                return VarOutcome::Unsat;
            }
        }
    }
    if !want_model && eq.is_none() {
        return VarOutcome::Unknown;
    }
    let check = |x: &str| -> Option<bool> {
        if ne.contains(&x) {
            return Some(false);
        }
        for (p, s, b) in &preds {
            let holds = match p {
                StrPred::Contains => x.contains(*s),
                StrPred::StartsWith => x.starts_with(*s),
                StrPred::Matches => regex_match(s, x)?,
            };
            if holds != *b {
                return Some(false);
            }
        }
        Some(true)
    };
    if let Some(e) = eq {
        return match check(e) {
            Some(true) if !unknown => VarOutcome::Value(Const::Str(e.to_string())),
            Some(true) => VarOutcome::Unknown,
            // A fixed value that breaks a fact is a contradiction (the regex compiled).
            Some(false) => VarOutcome::Unsat,
            None => VarOutcome::Unknown,
        };
    }
    if unknown {
        return VarOutcome::Unknown;
    }
    // Build a candidate: the longest required prefix, then every required substring.
    let mut base = preds
        .iter()
        .filter(|(p, _, b)| *p == StrPred::StartsWith && *b)
        .map(|(_, s, _)| *s)
        .max_by_key(|s| s.len())
        .unwrap_or("")
        .to_string();
    for (p, s, b) in &preds {
        if *p == StrPred::Contains && *b && !base.contains(*s) {
            base.push_str(s);
        }
    }
    let suffixes = ["", "x", "w", "0", "-1", "_q", "Z9"];
    for suf in suffixes {
        let cand = format!("{base}{suf}");
        if check(&cand) == Some(true) {
            return VarOutcome::Value(Const::Str(cand));
        }
    }
    VarOutcome::Unknown
}

/// Lists: elements they must and must not contain.
fn list(lits: &[&Lit]) -> VarOutcome {
    let mut has: Vec<&Const> = Vec::new();
    let mut lacks: Vec<&Const> = Vec::new();
    for l in lits {
        match l {
            Lit::Has(_, c, true) => {
                if !has.contains(&c) {
                    has.push(c)
                }
            }
            Lit::Has(_, c, false) => lacks.push(c),
            _ => return VarOutcome::Unknown,
        }
    }
    if has.iter().any(|h| lacks.contains(h)) {
        return VarOutcome::Unsat;
    }
    VarOutcome::Value(Const::List(has.into_iter().cloned().collect()))
}

thread_local! {
    static REGEXES: std::cell::RefCell<std::collections::HashMap<String, Option<regex::Regex>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// Does `text` match the pattern (as the runtime's `matches`)? `None` if it is invalid.
fn regex_match(pattern: &str, text: &str) -> Option<bool> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        let re = cache
            .entry(pattern.to_string())
            .or_insert_with(|| regex::Regex::new(pattern).ok());
        re.as_ref().map(|r| r.is_match(text))
    })
}
