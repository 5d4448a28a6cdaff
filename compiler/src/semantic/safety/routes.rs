//! Routes: ambiguity (equal priority, different targets, overlapping conditions) with a
//! witness event, "source order decides" when undecided, and routes that can never win.
//!
//! Pairs are found through a partition: the variable that most routes pin to one value
//! (`ticket.account == "a0007"`) splits them into buckets, and only routes in one bucket
//! (or with no pinned value) are compared, so a project with many accounts' routes costs
//! about linear time.

use std::collections::{BTreeMap, HashMap};

use super::{SafetyContext, never_true, never_true_diag};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::semantic::project_checks::ModuleView;
use crate::semantic::solver::witness::render_event;
use crate::semantic::solver::{self, Conj, Const, Formula, Lit, Op, Outcome, VarId};
use crate::semantic::types::DefId;
use crate::syntax::ast::*;

/// Higher-priority routes considered when proving that a route can never win.
const MAX_SHADOWERS: usize = 8;

struct RouteInfo<'a> {
    file: &'a FileName,
    module: &'a str,
    decl: &'a RouteDecl,
    events: Vec<DefId>,
    priority: i64,
    target: Option<String>,
    t: Formula,
    dnf: Option<Vec<Conj>>,
    /// Every event it lists is one the classify runs on, so `class` is the classify's
    /// verdict on this very event.
    class_is_fresh: bool,
    /// The condition with `class == V` expanded (computed on demand).
    expanded: Option<Option<(Option<Vec<Conj>>, bool)>>,
    /// The condition reads `class`: on an event that changes the class the route is
    /// evaluated even if it does not list the event (docs/language.md §8.3).
    reads_class: bool,
}

/// Whether an expression reads `class` (function bodies cannot).
fn reads_class(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Name(id) => id.name == "class",
        ExprKind::List(items) => items.iter().any(reads_class),
        ExprKind::Record { spread, fields, .. } => {
            spread.as_deref().is_some_and(reads_class)
                || fields.iter().any(|f| reads_class(&f.value))
        }
        ExprKind::Field { base, .. } => reads_class(base),
        ExprKind::Index { index, .. } => reads_class(index),
        ExprKind::IsSet { operand, .. } => reads_class(operand),
        ExprKind::Quant { list, body, .. } => reads_class(list) || reads_class(body),
        ExprKind::Unwrap(x) | ExprKind::Unary { operand: x, .. } => reads_class(x),
        ExprKind::Call { args, .. } => args.iter().any(|a| reads_class(&a.value)),
        ExprKind::Binary { lhs, rhs, .. } => reads_class(lhs) || reads_class(rhs),
        ExprKind::If {
            cond,
            then,
            otherwise,
        } => reads_class(cond) || reads_class(then) || reads_class(otherwise),
        ExprKind::Match { scrutinee, arms } => {
            reads_class(scrutinee) || arms.iter().any(|a| reads_class(&a.value))
        }
        _ => false,
    }
}

/// An event on which both routes are evaluated, if there is one: one both list, else (a
/// class change) an event one lists that the classify runs on while the other's condition
/// reads `class`, else any classify event when both read it (docs/language.md §8.3).
fn meeting_event(a: &RouteInfo<'_>, b: &RouteInfo<'_>, classify: &[DefId]) -> Option<DefId> {
    if let Some(e) = a.events.iter().find(|e| b.events.contains(e)) {
        return Some(e.clone());
    }
    let changes_class = |x: &RouteInfo<'_>, y: &RouteInfo<'_>| {
        if !y.reads_class {
            return None;
        }
        x.events.iter().find(|e| classify.contains(e)).cloned()
    };
    changes_class(a, b)
        .or_else(|| changes_class(b, a))
        .or_else(|| (a.reads_class && b.reads_class).then(|| classify.first().cloned())?)
}

/// Whether `hi` is evaluated on every event `lo` is: it lists all of `lo`'s events, and if
/// `lo` is also evaluated on class changes (it reads `class`), so is `hi`.
fn covers(hi: &RouteInfo<'_>, lo: &RouteInfo<'_>, classify: &[DefId]) -> bool {
    lo.events.iter().all(|e| hi.events.contains(e))
        && (!lo.reads_class || hi.reads_class || classify.iter().all(|e| hi.events.contains(e)))
}

fn target_of(r: &RouteDecl) -> Option<String> {
    r.clauses.iter().find_map(|c| match c {
        RouteClause::Assign(a) => {
            let t = match &a.target {
                Target::Name(i) => i.name.clone(),
                Target::Person(s) => format!("{:?}", s.value),
            };
            let t = match &a.strategy {
                Some(s) => format!("{t} by {}", s.name),
                None => t,
            };
            // Two routes that differ only in `rebalance` still assign differently.
            let rebalance = r
                .clauses
                .iter()
                .any(|c| matches!(c, RouteClause::Rebalance(_)));
            Some(if rebalance {
                format!("{t} rebalance")
            } else {
                t
            })
        }
        _ => None,
    })
}

fn priority_of(r: &RouteDecl) -> i64 {
    r.clauses
        .iter()
        .find_map(|c| match c {
            RouteClause::Priority { value, .. } => Some(*value),
            _ => None,
        })
        .unwrap_or(0)
}

pub(super) fn routes(
    an: &mut SafetyContext<'_>,
    project: &[&ModuleView<'_>],
    out: &mut Vec<Diagnostic>,
) {
    let mut rs: Vec<RouteInfo<'_>> = Vec::new();
    for m in project {
        for item in &m.ast.items {
            let ItemKind::Route(r) = &item.kind else {
                continue;
            };
            let events = an.events(m.module, &r.events);
            let scope = an.scope(m.module, &events, true);
            let ((t, _), _) = an.translate(&scope, r.cond.as_ref(), false);
            let dnf = solver::dnf(&t);
            let class_is_fresh = an
                .classify
                .as_ref()
                .is_some_and(|c| !events.is_empty() && events.iter().all(|e| c.events.contains(e)));
            rs.push(RouteInfo {
                file: m.file,
                module: m.module,
                decl: r,
                events,
                priority: priority_of(r),
                target: target_of(r),
                t,
                dnf,
                class_is_fresh,
                expanded: None,
                reads_class: r.cond.as_ref().is_some_and(reads_class),
            });
        }
    }
    let mut dead = vec![false; rs.len()];
    for (i, r) in rs.iter().enumerate() {
        if let Some(c) = &r.decl.cond
            && never_true(an, &r.dnf)
        {
            dead[i] = true;
            out.push(never_true_diag(
                r.file,
                c,
                &format!("route `{}`", r.decl.name.name),
            ));
        }
    }
    let classify_events: Vec<DefId> = an
        .classify
        .as_ref()
        .map(|c| c.events.clone())
        .unwrap_or_default();
    let mut shadowers: Vec<Vec<usize>> = vec![Vec::new(); rs.len()];
    for (i, j) in candidate_pairs(&rs) {
        if dead[i] || dead[j] {
            continue;
        }
        let Some(event) = meeting_event(&rs[i], &rs[j], &classify_events) else {
            continue;
        };
        let (a, b) = (&rs[i], &rs[j]);
        if a.priority == b.priority {
            if a.target != b.target {
                ambiguity(an, &mut rs, i, j, &event, out);
            }
            continue;
        }
        if an.disjoint(&[&a.dnf, &b.dnf]) {
            continue;
        }
        let (lo, hi) = if a.priority < b.priority {
            (i, j)
        } else {
            (j, i)
        };
        if covers(&rs[hi], &rs[lo], &classify_events) {
            shadowers[lo].push(hi);
        }
    }
    for (i, hs) in shadowers.iter().enumerate() {
        if hs.is_empty() || hs.len() > MAX_SHADOWERS || dead[i] {
            continue;
        }
        let nts: Vec<Option<Vec<Conj>>> = hs.iter().map(|h| an.not_true(&rs[*h].t)).collect();
        let mut parts = vec![&rs[i].dnf];
        parts.extend(nts.iter());
        if !an.disjoint(&parts) {
            continue;
        }
        let r = &rs[i];
        let mut d = Diagnostic::new(
            Code::UnreachableRoute,
            r.file,
            r.decl.name.span,
            format!(
                "route `{}` can never win: every event it matches is taken by a higher-priority route",
                r.decl.name.name
            ),
            format!("priority {}, never chosen", r.priority),
        );
        let mut hs = hs.clone();
        hs.sort_by_key(|h| (rs[*h].file.clone(), rs[*h].decl.name.span.start));
        for h in hs {
            let hr = &rs[h];
            d = d.with_label(
                hr.file,
                hr.decl.name.span,
                format!(
                    "`{}` (priority {}) matches first",
                    hr.decl.name.name, hr.priority
                ),
            );
        }
        out.push(
            d.with_note("among the routes that match an event, the highest priority wins")
                .with_help(
                    "raise this route's priority above the routes that shadow it, or remove it",
                ),
        );
    }
}

/// The condition with `class == V` expanded to the classify's own condition.
fn expanded<'r>(
    an: &mut SafetyContext<'_>,
    r: &'r mut RouteInfo<'_>,
) -> &'r Option<(Option<Vec<Conj>>, bool)> {
    if r.expanded.is_none() {
        let value = r.class_is_fresh.then(|| expand_now(an, r));
        r.expanded = Some(value);
    }
    r.expanded.as_ref().expect("just set")
}

/// The condition with `class == V` expanded, whatever the route's own events: for two
/// routes that meet on a class change, where `class` is the classify's verdict on it.
fn expand_now(an: &mut SafetyContext<'_>, r: &RouteInfo<'_>) -> (Option<Vec<Conj>>, bool) {
    let scope = an.scope(r.module, &r.events, true);
    let ((t, _), raw) = an.translate(&scope, r.decl.cond.as_ref(), true);
    (solver::dnf(&t), raw)
}

fn ambiguity(
    an: &mut SafetyContext<'_>,
    rs: &mut [RouteInfo<'_>],
    i: usize,
    j: usize,
    event: &DefId,
    out: &mut Vec<Diagnostic>,
) {
    let mut outcome = an.decide(&[&rs[i].dnf, &rs[j].dnf]);
    if outcome == Outcome::Disjoint {
        return;
    }
    // With the classify's verdict instead of a free `class`: an overlap then holds for one
    // event, and some "overlaps" disappear.
    let mut free_class = true;
    // Met on a class change (one does not list the event): both see the fresh class.
    let on_class_change = !(rs[i].events.contains(event) && rs[j].events.contains(event));
    let (ei, ej) = if on_class_change {
        (Some(expand_now(an, &rs[i])), Some(expand_now(an, &rs[j])))
    } else {
        (
            expanded(an, &mut rs[i]).clone(),
            expanded(an, &mut rs[j]).clone(),
        )
    };
    if let (Some((di, raw_i)), Some((dj, raw_j))) = (ei, ej) {
        outcome = match an.decide(&[&di, &dj]) {
            Outcome::Overlap(_) if raw_i || raw_j => Outcome::Unknown,
            o => o,
        };
        free_class = false;
    }
    // Report at the route declared later (source order breaks ties at run time).
    let (first, second) = order(rs, i, j);
    let (a, b) = (&rs[first], &rs[second]);
    match outcome {
        Outcome::Disjoint => {}
        Outcome::Overlap(model) => {
            let w = render_event(an.index, event, &model, &an.vars);
            let mut d = Diagnostic::new(
                Code::AmbiguousRoute,
                b.file,
                b.decl.name.span,
                format!(
                    "routes `{}` and `{}` (priority {}) assign different targets and both match {}",
                    a.decl.name.name, b.decl.name.name, a.priority, w.event
                ),
                format!("assigns {}", b.target.as_deref().unwrap_or("nobody")),
            )
            .with_label(a.file, a.decl.name.span, format!("assigns {}", a.target.as_deref().unwrap_or("nobody")))
            .with_note("paste the event into a test's `given` to replay it; at run time source order would break the tie (the route declared first wins)");
            if !w.other_facts.is_empty() {
                d = d.with_note(format!(
                    "with these case facts: {}",
                    w.other_facts.join(", ")
                ));
            }
            if free_class && let Some(c) = w.class {
                d = d.with_note(format!("on a case whose class is {c}"));
            }
            out.push(
                d.with_help("give one route a higher priority, or make the conditions exclusive"),
            );
        }
        Outcome::Unknown => {
            out.push(
                Diagnostic::new(
                    Code::UndecidedRouteOverlap,
                    b.file,
                    b.decl.name.span,
                    format!(
                        "cannot tell whether routes `{}` and `{}` (priority {}) can match the same event",
                        a.decl.name.name, b.decl.name.name, a.priority
                    ),
                    "may overlap",
                )
                .with_label(a.file, a.decl.name.span, "declared first: wins a tie")
                .with_note("if both match, source order decides: the route declared first wins")
                .with_help("give the routes different priorities, or conditions that visibly exclude each other (e.g. different values of one field)"),
            );
        }
    }
}

/// The pair in source order (module file, then position).
fn order(rs: &[RouteInfo<'_>], i: usize, j: usize) -> (usize, usize) {
    let key = |k: usize| (rs[k].file.clone(), rs[k].decl.name.span.start);
    if key(i) <= key(j) { (i, j) } else { (j, i) }
}

/// Equalities every conjunction of a condition requires (`x == c`).
fn pins(dnf: &Option<Vec<Conj>>) -> Vec<(VarId, Const)> {
    let Some(d) = dnf else { return Vec::new() };
    let Some((first, rest)) = d.split_first() else {
        return Vec::new();
    };
    let mut out: Vec<(VarId, Const)> = first
        .iter()
        .filter_map(|l| match l {
            Lit::Cmp(v, Op::Eq, c) => Some((*v, c.clone())),
            _ => None,
        })
        .collect();
    out.retain(|p| {
        rest.iter().all(|c| {
            c.iter()
                .any(|l| matches!(l, Lit::Cmp(v, Op::Eq, x) if *v == p.0 && *x == p.1))
        })
    });
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Pairs of routes that may overlap: same bucket of the partition variable, or unpinned.
fn candidate_pairs(rs: &[RouteInfo<'_>]) -> Vec<(usize, usize)> {
    let pinned: Vec<Vec<(VarId, Const)>> = rs.iter().map(|r| pins(&r.dnf)).collect();
    let mut count: HashMap<VarId, usize> = HashMap::new();
    for p in &pinned {
        for (v, _) in p {
            *count.entry(*v).or_default() += 1;
        }
    }
    let part = count
        .into_iter()
        .max_by_key(|(v, n)| (*n, std::cmp::Reverse(*v)))
        .map(|(v, _)| v);
    let mut buckets: BTreeMap<&Const, Vec<usize>> = BTreeMap::new();
    let mut wild = Vec::new();
    for (i, p) in pinned.iter().enumerate() {
        match p.iter().find(|(v, _)| Some(*v) == part) {
            Some((_, c)) => buckets.entry(c).or_default().push(i),
            None => wild.push(i),
        }
    }
    let mut pairs = Vec::new();
    let all_pairs = |xs: &[usize], pairs: &mut Vec<(usize, usize)>| {
        for (k, a) in xs.iter().enumerate() {
            for b in &xs[k + 1..] {
                pairs.push((*a, *b));
            }
        }
    };
    for b in buckets.values() {
        all_pairs(b, &mut pairs);
        for x in b {
            for w in &wild {
                pairs.push((*x, *w));
            }
        }
    }
    all_pairs(&wild, &mut pairs);
    pairs
}
