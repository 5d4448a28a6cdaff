//! Safety analysis over rule conditions (brief §3.5, §4; issue 7), on top of the decision
//! procedure in [`super::solver`]: ambiguous routes (with a witness event), routes that can
//! never win, `classify` arms shadowed by earlier arms, conditions that can never be true,
//! and gates that hold one action with different requirements.
//!
//! Only provable findings are reported: an error or a "shadowed" warning needs a proof
//! (a witness, or a contradiction); what the procedure cannot decide is either silent or,
//! for routes of equal priority, the "source order decides" warning.

mod gates;
mod routes;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use super::index::ProjectIndex;
use super::project_checks::ModuleView;
use super::solver::translate::{Decls, Scope, Translator, TrueFalse};
use super::solver::{self, Conj, Formula, Outcome, Vars};
use super::types::{DefId, Ty};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::syntax::ast::*;

/// Variable roots by name: (root, type).
pub(crate) type Roots = Rc<BTreeMap<String, (String, Ty)>>;

/// Shared state of one analysis: the variables, declarations and the classify.
pub(crate) struct SafetyContext<'a> {
    pub index: &'a ProjectIndex,
    pub decls: Decls<'a>,
    pub vars: Vars,
    pub classify: Option<ClassifyModel>,
    /// Variable roots by the events a rule listens to.
    pub roots: HashMap<Vec<DefId>, Roots>,
}

/// The classify, translated: its events and, per variant, when a case gets it.
pub(crate) struct ClassifyModel {
    pub events: Vec<DefId>,
    pub defs: BTreeMap<String, TrueFalse>,
}

pub fn safety_checks(
    index: &ProjectIndex,
    all: &[ModuleView<'_>],
    project: &[&ModuleView<'_>],
) -> Vec<Diagnostic> {
    let mut decls = Decls::default();
    for m in all {
        for item in &m.ast.items {
            match &item.kind {
                ItemKind::Let(l) => {
                    decls.lets.insert(DefId::new(m.module, &l.name.name), l);
                }
                ItemKind::Fn(f) => {
                    decls.fns.insert(DefId::new(m.module, &f.name.name), f);
                }
                _ => {}
            }
        }
    }
    let mut an = SafetyContext {
        index,
        decls,
        vars: Vars::default(),
        classify: None,
        roots: HashMap::new(),
    };
    let mut out = Vec::new();
    classify(&mut an, project, &mut out);
    routes::routes(&mut an, project, &mut out);
    gates::gates(&mut an, project, &mut out);
    automation_triggers(&mut an, project, &mut out);
    out
}

impl<'a> SafetyContext<'a> {
    /// Resolve the events a rule lists.
    pub(crate) fn events(&self, module: &str, paths: &[Path]) -> Vec<DefId> {
        paths
            .iter()
            .filter_map(|p| {
                let segs: Vec<String> = p.segments.iter().map(|s| s.name.clone()).collect();
                let found = if segs.len() == 1 {
                    self.index.lookup_data(module, &segs[0])
                } else {
                    self.index.lookup_qualified(module, &segs)
                };
                match found {
                    Some((def, super::index::DataKind::Event)) => Some(def),
                    _ => None,
                }
            })
            .collect()
    }

    /// What a rule triggered by `events` sees: the case facts, the events' own fields
    /// (which shadow facts of the same name) and `class`.
    pub(crate) fn scope<'m>(
        &mut self,
        module: &'m str,
        events: &[DefId],
        class: bool,
    ) -> Scope<'m> {
        let roots = match self.roots.get(events) {
            Some(r) => r.clone(),
            None => {
                let mut roots: BTreeMap<String, (String, Ty)> = self
                    .index
                    .facts
                    .iter()
                    .map(|(n, t)| (n.clone(), (n.clone(), t.clone())))
                    .collect();
                for e in events {
                    for (n, t) in self
                        .index
                        .fields_of(&Ty::Event(e.clone()))
                        .unwrap_or_default()
                    {
                        roots.insert(n.clone(), (n, t));
                    }
                }
                let r = Rc::new(roots);
                self.roots.insert(events.to_vec(), r.clone());
                r
            }
        };
        let class = match (&self.index.classify, class) {
            (Some(c), true) => Some(Ty::Enum(c.enum_def.clone())),
            _ => None,
        };
        Scope {
            module,
            roots,
            class,
        }
    }

    /// Translate a condition (`None`: always true). With `expand_class`, `class == V` is
    /// replaced by the classify's condition for `V`; the flag says if `class` was still
    /// used freely.
    pub(crate) fn translate(
        &mut self,
        scope: &Scope<'_>,
        cond: Option<&Expr>,
        expand_class: bool,
    ) -> (TrueFalse, bool) {
        let Some(e) = cond else {
            return ((Formula::True, Formula::False), false);
        };
        let defs = if expand_class {
            self.classify.as_ref().map(|c| &c.defs)
        } else {
            None
        };
        let mut tr = Translator {
            index: self.index,
            decls: &self.decls,
            vars: &mut self.vars,
            class_defs: defs,
            raw_class: false,
        };
        let tf = tr.condition(scope, e);
        let raw = tr.raw_class;
        (tf, raw)
    }

    pub(crate) fn decide(&self, parts: &[&Option<Vec<Conj>>]) -> Outcome {
        let ps: Vec<Option<&[Conj]>> = parts.iter().map(|p| p.as_deref()).collect();
        solver::decide(&ps, &self.vars)
    }

    /// Provably no values make every part true.
    pub(crate) fn disjoint(&self, parts: &[&Option<Vec<Conj>>]) -> bool {
        let ps: Vec<Option<&[Conj]>> = parts.iter().map(|p| p.as_deref()).collect();
        solver::disjoint(&ps, &self.vars)
    }

    pub(crate) fn not_true(&self, f: &Formula) -> Option<Vec<Conj>> {
        solver::dnf(&self.vars.negate(f))
    }
}

/// Is a condition in normal form provably never true?
pub(crate) fn never_true(an: &SafetyContext<'_>, dnf: &Option<Vec<Conj>>) -> bool {
    an.disjoint(&[dnf])
}

pub(crate) fn never_true_diag(file: &FileName, e: &Expr, what: &str) -> Diagnostic {
    Diagnostic::new(
        Code::NeverTrue,
        file,
        e.span,
        format!("the condition of {what} can never be true"),
        "never true",
    )
    .with_note("its parts contradict each other, so the rule never applies")
    .with_help("fix the comparison that contradicts the others, or remove the rule")
}

fn classify(an: &mut SafetyContext<'_>, project: &[&ModuleView<'_>], out: &mut Vec<Diagnostic>) {
    let Some((m, decl)) = project.iter().find_map(|m| {
        m.ast.items.iter().find_map(|i| match &i.kind {
            ItemKind::Classify(c) => Some((*m, c)),
            _ => None,
        })
    }) else {
        return;
    };
    let events = an.events(m.module, &decl.events);
    let scope = an.scope(m.module, &events, false);
    let arms: Vec<TrueFalse> = decl
        .arms
        .iter()
        .map(|a| an.translate(&scope, Some(&a.cond), false).0)
        .collect();
    // When a case gets variant V: an arm for V holds and no earlier arm does (an arm whose
    // condition fails to evaluate counts as not holding).
    let mut defs: BTreeMap<String, Vec<Formula>> = BTreeMap::new();
    let mut earlier: Vec<Formula> = Vec::new();
    for (arm, (t, _)) in decl.arms.iter().zip(&arms) {
        let mut parts = earlier.clone();
        parts.push(t.clone());
        defs.entry(arm.variant.name.clone())
            .or_default()
            .push(Formula::and(parts));
        earlier.push(an.vars.negate(t));
    }
    if let Some(o) = &decl.otherwise {
        defs.entry(o.name.clone())
            .or_default()
            .push(Formula::and(earlier.clone()));
    }
    let defs = defs
        .into_iter()
        .map(|(v, fs)| {
            let t = Formula::or(fs);
            let f = an.vars.negate(&t);
            (v, (t, f))
        })
        .collect();
    // Findings on the arms themselves.
    let dnfs: Vec<Option<Vec<Conj>>> = arms.iter().map(|(t, _)| solver::dnf(t)).collect();
    for (i, arm) in decl.arms.iter().enumerate() {
        if never_true(an, &dnfs[i]) {
            out.push(never_true_diag(
                m.file,
                &arm.cond,
                &format!("classify arm `{}`", arm.variant.name),
            ));
            continue;
        }
        if i == 0 {
            continue;
        }
        let nts: Vec<Option<Vec<Conj>>> = arms[..i].iter().map(|(t, _)| an.not_true(t)).collect();
        let mut parts: Vec<&Option<Vec<Conj>>> = vec![&dnfs[i]];
        parts.extend(nts.iter());
        if !an.disjoint(&parts) {
            continue;
        }
        let mut d = Diagnostic::new(
            Code::ShadowedClassifyArm,
            m.file,
            arm.span,
            format!(
                "classify arm `{}` can never be chosen: earlier arms take every ticket it matches",
                arm.variant.name
            ),
            "shadowed",
        );
        for (j, earlier) in decl.arms[..i].iter().enumerate() {
            if !an.disjoint(&[&dnfs[i], &dnfs[j]]) {
                d = d.with_label(
                    m.file,
                    earlier.span,
                    format!("`{}` is tried first", earlier.variant.name),
                );
            }
        }
        out.push(d
            .with_note("arms are tried in order and the first that holds gives the class")
            .with_help("move the arm above the arms that shadow it, or make its condition narrower than theirs"));
    }
    an.classify = Some(ClassifyModel { events, defs });
}

fn automation_triggers(
    an: &mut SafetyContext<'_>,
    project: &[&ModuleView<'_>],
    out: &mut Vec<Diagnostic>,
) {
    for m in project {
        for item in &m.ast.items {
            let ItemKind::Automation(a) = &item.kind else {
                continue;
            };
            for c in &a.clauses {
                let AutomationClause::On {
                    events,
                    cond: Some(cond),
                    ..
                } = c
                else {
                    continue;
                };
                let evs = an.events(m.module, events);
                let scope = an.scope(m.module, &evs, true);
                let ((t, _), _) = an.translate(&scope, Some(cond), false);
                let dnf = solver::dnf(&t);
                if never_true(an, &dnf) {
                    out.push(never_true_diag(
                        m.file,
                        cond,
                        &format!("automation `{}`", a.name.name),
                    ));
                }
            }
        }
    }
}
