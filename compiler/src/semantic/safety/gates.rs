//! Gates: a condition that can never be true, and two gates that hold one action with
//! different requirements (both then hold it, and each must release it in declaration
//! order, §7.9 — usually one was meant to replace the other).

use std::collections::{BTreeSet, HashMap};

use super::{SafetyContext, never_true, never_true_diag};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::semantic::index::OpKind;
use crate::semantic::project_checks::ModuleView;
use crate::semantic::sig::EffectKind;
use crate::semantic::solver::witness::render_assignments;
use crate::semantic::solver::{self, Conj, Outcome};
use crate::semantic::types::Ty;
use crate::syntax::ast::*;

struct GateInfo<'a> {
    file: &'a FileName,
    decl: &'a GateDecl,
    /// `connector.action` of every action it can hold (by name or by effect).
    actions: BTreeSet<String>,
    /// Its requirements and expiry, normalised for comparison.
    policy: Vec<String>,
    dnf: Option<Vec<Conj>>,
}

fn policy(g: &GateDecl) -> Vec<String> {
    let mut p: Vec<String> = g
        .clauses
        .iter()
        .map(|c| match c {
            GateClause::RequireApproval {
                team,
                quorum: Some((n, _)),
                ..
            } => format!("{n} approvals from {}", team.name),
            GateClause::RequireApproval { team, .. } => format!("approval from {}", team.name),
            GateClause::RequireConfirmation(_) => "confirmation".into(),
            GateClause::ReleaseWhenClear(_) => "release when clear".into(),
            GateClause::Notify(_) => "notify".into(),
            GateClause::RequireReview { team, .. } => format!("review by {}", team.name),
            GateClause::Expire { actions, .. } => {
                let a: Vec<&str> = actions
                    .iter()
                    .map(|a| match a {
                        SlaAction::Deny(_) => "deny",
                        SlaAction::Escalate(_) => "escalate",
                        SlaAction::Notify(_) => "notify",
                        SlaAction::Assign(_) => "assign",
                    })
                    .collect();
                format!("expiry -> {}", a.join(", "))
            }
        })
        .collect();
    p.sort();
    p
}

pub(super) fn gates(
    an: &mut SafetyContext<'_>,
    project: &[&ModuleView<'_>],
    out: &mut Vec<Diagnostic>,
) {
    // Every action once: `connector.action` → (effect, parameters with resolved types).
    let mut acts: HashMap<String, (EffectKind, Vec<(String, Ty)>)> = HashMap::new();
    for (c, a, sig) in an.index.all_actions() {
        let module = an.index.op(OpKind::Connector, c).unwrap_or_default();
        let params = sig
            .params
            .iter()
            .filter_map(|(n, t)| Some((n.clone(), an.index.resolve_type(module, t).ok()?)))
            .collect();
        acts.insert(format!("{c}.{a}"), (sig.effect, params));
    }
    let by_effect = |e: EffectKind| -> BTreeSet<String> {
        acts.iter()
            .filter(|(_, (eff, _))| *eff == e)
            .map(|(n, _)| n.clone())
            .collect()
    };
    let (money, destructive) = (
        by_effect(EffectKind::Money),
        by_effect(EffectKind::Destructive),
    );
    let mut gs: Vec<GateInfo<'_>> = Vec::new();
    for m in project {
        for item in &m.ast.items {
            let ItemKind::Gate(g) = &item.kind else {
                continue;
            };
            let mut actions = BTreeSet::new();
            for sel in &g.selectors {
                match sel {
                    GateSelector::Action(p) => {
                        let name = p.dotted();
                        if acts.contains_key(&name) {
                            actions.insert(name);
                        }
                    }
                    GateSelector::EffectMoney(_) => actions.extend(money.iter().cloned()),
                    GateSelector::EffectDestructive(_) => {
                        actions.extend(destructive.iter().cloned())
                    }
                    GateSelector::Automation(_) | GateSelector::AutomationNamed(..) => {}
                }
            }
            // The parameters every held action has (same name and type) are in scope.
            let mut scope = an.scope(m.module, &[], true);
            let mut common: Option<Vec<(String, Ty)>> = None;
            for a in &actions {
                let ps = &acts[a].1;
                common = Some(match common {
                    None => ps.clone(),
                    Some(prev) => prev.into_iter().filter(|p| ps.contains(p)).collect(),
                });
            }
            for (n, t) in common.unwrap_or_default() {
                std::rc::Rc::make_mut(&mut scope.roots)
                    .insert(n.clone(), (format!("param:{n}"), t));
            }
            let ((t, _), _) = an.translate(&scope, g.cond.as_ref(), false);
            let dnf = solver::dnf(&t);
            if let Some(c) = &g.cond
                && never_true(an, &dnf)
            {
                out.push(never_true_diag(
                    m.file,
                    c,
                    &format!("gate `{}`", g.name.name),
                ));
                continue;
            }
            gs.push(GateInfo {
                file: m.file,
                decl: g,
                actions,
                policy: policy(g),
                dnf,
            });
        }
    }
    // Only gates that share an action are compared.
    let mut by_action: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, g) in gs.iter().enumerate() {
        for a in &g.actions {
            by_action.entry(a.as_str()).or_default().push(i);
        }
    }
    let mut pairs: BTreeSet<(usize, usize)> = BTreeSet::new();
    for list in by_action.values() {
        for (k, i) in list.iter().enumerate() {
            for j in &list[k + 1..] {
                pairs.insert((*i, *j));
            }
        }
    }
    for (i, j) in pairs {
        let (a, b) = (&gs[i], &gs[j]);
        let Some(action) = a.actions.intersection(&b.actions).next() else {
            continue;
        };
        if a.policy == b.policy {
            continue;
        }
        // Reported only with a witness: both conditions hold for one call.
        let Outcome::Overlap(model) = an.decide(&[&a.dnf, &b.dnf]) else {
            continue;
        };
        let when = render_assignments(&model, &an.vars);
        let example = if when.is_empty() {
            format!("every call of `{action}`")
        } else {
            format!("`{action}` with {when}")
        };
        out.push(
            Diagnostic::new(
                Code::ConflictingGates,
                b.file,
                b.decl.name.span,
                format!(
                    "gates `{}` and `{}` both hold `{action}` with different requirements",
                    a.decl.name.name, b.decl.name.name
                ),
                b.policy.join("; "),
            )
            .with_label(a.file, a.decl.name.span, a.policy.join("; "))
            .with_note(format!(
                "both hold, for example, {example}; each must then release it, in declaration order"
            ))
            .with_help("merge the two gates, or make their conditions exclusive"),
        );
    }
}
