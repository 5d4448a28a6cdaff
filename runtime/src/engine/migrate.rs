//! Carrying live state into a new program by name (docs/deploy.md, "Migrations by name"):
//! enum variants (classes), case facts, events, teams and SLA policies may be added,
//! removed or reordered; the numbers live state holds are mapped through their names.
//!
//! Removals: a removed class leaves its cases unclassified (re-classified on their next
//! classify event); a removed fact is forgotten; a removed SLA policy's running or paused
//! clocks end as cancelled (their timers are dropped); a finished run (done, failed or
//! cancelled) whose trigger names a removed event, variant or team forgets its trigger's
//! data and keeps the rest — its trigger's id, which `once per case` reports, and its
//! automation (a finished run of a removed automation leaves the case, `migrate_flow.rs`).
//! Each affected case gets one `migrated` entry. A removal live state cannot do without (a
//! fact value or a live run's trigger naming a removed variant, team or event; a case
//! owned by or assigned to a removed team) and a change of what a kept declaration means
//! (a fact's or field's type, a record's fields) refuse the deployment with the reason.
//! Calendars, gates, connector actions and automations are carried by name in
//! `migrate_flow.rs`.

use std::sync::Arc;

use serde_json::json;

use super::Engine;
use super::actions::{Saga, SagaState};
use super::assignee::Assignee;
use super::sla::ClockState;
use crate::ir::{Program, WireTy};
use crate::value::Value;

/// Old number → new number (or `None`: removed), per kind of declaration.
pub(super) struct Carry {
    /// Per old enum: its new id and its variants' new numbers.
    enums: Vec<Option<(u32, Vec<Option<u32>>)>>,
    slots: Vec<Option<u32>>,
    events: Vec<Option<u32>>,
    teams: Vec<Option<u32>>,
    pub(super) slas: Vec<Option<u32>>,
    /// Per old automation: the new one of its name, if kept.
    automations: Vec<Option<u32>>,
    /// Per old automation kept: the event its runs' forgotten triggers name (its first
    /// trigger event in the new program) and that event's number of fields.
    forget_as: Vec<Option<(u32, usize)>>,
    old_autos: Vec<String>,
    old_events: Vec<String>,
    /// The old classify enum's variant names, to say which class was removed.
    old_classes: Vec<String>,
    old_slas: Vec<String>,
    identity: bool,
}

/// Old index → new index by name. Names need not be unique in a program (a std record and
/// a project's may share one, in module order): the k-th of a name maps to the k-th.
pub(super) fn by_name<T>(old: &[T], new: &[T], name: impl Fn(&T) -> &str) -> Vec<Option<u32>> {
    old.iter()
        .enumerate()
        .map(|(i, o)| {
            let k = old[..i].iter().filter(|x| name(x) == name(o)).count();
            new.iter()
                .enumerate()
                .filter(|(_, n)| name(n) == name(o))
                .nth(k)
                .map(|(j, _)| j as u32)
        })
        .collect()
}

/// The pairs (old, new) of declarations kept, by [`by_name`].
fn kept<'a, T>(
    old: &'a [T],
    new: &'a [T],
    name: impl Fn(&T) -> &str,
) -> impl Iterator<Item = (&'a T, &'a T)> {
    by_name(old, new, name)
        .into_iter()
        .enumerate()
        .filter_map(move |(i, j)| Some((old.get(i)?, new.get(j? as usize)?)))
}

/// Whether two types mean the same, comparing enums and records by name.
fn same_ty(op: &Program, a: &WireTy, np: &Program, b: &WireTy) -> bool {
    match (a, b) {
        (WireTy::Enum(x), WireTy::Enum(y)) => {
            by_name(&op.enums, &np.enums, |e| &e.name).get(*x as usize) == Some(&Some(*y))
        }
        (WireTy::Record(x), WireTy::Record(y)) => {
            by_name(&op.records, &np.records, |r| &r.name).get(*x as usize) == Some(&Some(*y))
        }
        (WireTy::List(x), WireTy::List(y)) | (WireTy::Optional(x), WireTy::Optional(y)) => {
            same_ty(op, x, np, y)
        }
        _ => a == b,
    }
}

pub(super) fn same_fields(
    op: &Program,
    a: &[crate::ir::FieldDef],
    np: &Program,
    b: &[crate::ir::FieldDef],
) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.name == y.name && same_ty(op, &x.ty, np, &y.ty))
}

impl Carry {
    /// The mapping from `old` to `new`, or why the declarations live state depends on
    /// changed in meaning (each reason a phrase).
    pub(super) fn between(old: &Program, new: &Program) -> Result<Carry, Vec<String>> {
        let mut why = Vec::new();
        for (r, n) in kept(&old.records, &new.records, |r| &r.name) {
            if !same_fields(old, &r.fields, new, &n.fields) {
                why.push(format!("record {} changes its fields", r.name));
            }
        }
        for (e, n) in kept(&old.events, &new.events, |e| &e.name) {
            if !same_fields(old, &e.fields, new, &n.fields) || e.builtin != n.builtin {
                why.push(format!("event {} changes its fields", e.name));
            }
        }
        for (s, n) in kept(&old.slots, &new.slots, |s| &s.name) {
            if !same_ty(old, &s.ty, new, &n.ty) {
                why.push(format!("case fact {} changes its type", s.name));
            }
        }
        let class_enum = |p: &Program| {
            p.classify
                .as_ref()
                .and_then(|c| p.enums.get(c.enum_id as usize))
                .map(|e| e.name.clone())
        };
        if class_enum(old) != class_enum(new) {
            why.push("the classification's enum".to_string());
        }
        if !why.is_empty() {
            return Err(why);
        }
        let enums = by_name(&old.enums, &new.enums, |e| &e.name)
            .into_iter()
            .zip(&old.enums)
            .map(|(j, e)| {
                let n = new.enums.get(j? as usize)?;
                Some((j?, by_name(&e.variants, &n.variants, String::as_str)))
            })
            .collect();
        let old_classes = old
            .classify
            .as_ref()
            .and_then(|c| old.enums.get(c.enum_id as usize))
            .map(|e| e.variants.clone())
            .unwrap_or_default();
        let identity = old.enums == new.enums
            && old.slots == new.slots
            && old.events == new.events
            && old.slas.len() == new.slas.len()
            && old
                .slas
                .iter()
                .zip(&new.slas)
                .all(|(a, b)| a.name == b.name)
            && old.teams.len() == new.teams.len()
            && old
                .teams
                .iter()
                .zip(&new.teams)
                .all(|(a, b)| a.name == b.name);
        let automations = by_name(&old.automations, &new.automations, |a| &a.name);
        let forget_as = automations
            .iter()
            .map(|n| {
                let ev = *new.automations.get((*n)? as usize)?.events.first()?;
                Some((ev, new.events.get(ev as usize)?.fields.len()))
            })
            .collect();
        Ok(Carry {
            enums,
            automations,
            forget_as,
            old_autos: old.automations.iter().map(|a| a.name.clone()).collect(),
            old_events: old.events.iter().map(|e| e.name.clone()).collect(),
            slots: by_name(&old.slots, &new.slots, |s| &s.name),
            events: by_name(&old.events, &new.events, |e| &e.name),
            teams: by_name(&old.teams, &new.teams, |t| &t.name),
            slas: by_name(&old.slas, &new.slas, |s| &s.name),
            old_classes,
            old_slas: old.slas.iter().map(|s| s.name.clone()).collect(),
            identity,
        })
    }

    fn value(&self, v: &Value) -> Result<Value, String> {
        Ok(match v {
            Value::Enum(e, x) => match self.enums.get(*e as usize).and_then(Option::as_ref) {
                Some((ne, vars)) => match vars.get(*x as usize).copied().flatten() {
                    Some(nx) => Value::Enum(*ne, nx),
                    None => return Err("a variant the new bundle removes".into()),
                },
                None => return Err("an enum the new bundle removes".into()),
            },
            Value::Team(t) => match self.teams.get(*t as usize).copied().flatten() {
                Some(n) => Value::Team(n),
                None => return Err("a team the new bundle removes".into()),
            },
            Value::List(items) => Value::List(
                items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<Result<Vec<_>, _>>()?
                    .into(),
            ),
            Value::Record(items) => Value::Record(
                items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<Result<Vec<_>, _>>()?
                    .into(),
            ),
            other => other.clone(),
        })
    }

    pub(super) fn team(&self, t: u32) -> Option<u32> {
        self.teams.get(t as usize).copied().flatten()
    }

    /// Why the run's trigger and executed arguments cannot be carried (a removed event,
    /// variant or team), if they cannot.
    fn saga_gone(&self, s: &Saga) -> Option<String> {
        if self
            .events
            .get(s.trigger.event as usize)
            .copied()
            .flatten()
            .is_none()
        {
            return Some("was triggered by an event the new bundle removes".into());
        }
        s.trigger
            .values
            .iter()
            .chain(s.executed.iter().flat_map(|e| &e.1))
            .find_map(|v| self.value(v).err())
            .map(|e| format!("holds {e}"))
    }
}

/// A run that will never advance again: only its automation and its trigger's id are
/// read after it ends (`once per case`, docs/language.md §11.3).
fn finished(s: &SagaState) -> bool {
    matches!(
        s,
        SagaState::Done | SagaState::Failed | SagaState::Cancelled
    )
}

impl Engine {
    /// Whether the live state can be carried into `new`: every number it holds maps to a
    /// declaration of `new`, or is one whose removal is defined. `Err` names the first
    /// case (in id order) that cannot, and why.
    pub(super) fn carry_check(&self, carry: &Carry) -> Result<(), String> {
        if carry.identity {
            return Ok(());
        }
        for id in self.case_ids() {
            let Some(c) = self.cases.get(id) else {
                continue;
            };
            for (slot, f) in c.facts.iter().enumerate() {
                if let Some(v) = f
                    && carry.slots.get(slot).copied().flatten().is_some()
                    && let Err(e) = carry.value(v)
                {
                    let name = &self.program.slots[slot].name;
                    return Err(format!("case {id}: its fact {name} holds {e}"));
                }
            }
            let owner_gone = c.owner.is_some_and(|t| carry.team(t).is_none());
            let assignee_gone =
                matches!(c.assignee, Some(Assignee::Team(t)) if carry.team(t).is_none());
            if owner_gone || assignee_gone {
                return Err(format!(
                    "case {id} is owned by or assigned to a team the new bundle removes"
                ));
            }
            for s in &c.sagas {
                let kept = carry
                    .automations
                    .get(s.automation as usize)
                    .copied()
                    .flatten()
                    .is_some();
                // A run of a removed automation leaves the case or is refused for what it
                // waits for (`migrate_flow.rs`): its trigger is moot. A finished run of a
                // kept one forgets what cannot be carried (`carry_apply`).
                if !kept {
                    continue;
                }
                let forgettable = finished(&s.state)
                    && carry
                        .forget_as
                        .get(s.automation as usize)
                        .copied()
                        .flatten()
                        .is_some();
                if let Some(why) = carry.saga_gone(s)
                    && !forgettable
                {
                    let name = carry
                        .old_autos
                        .get(s.automation as usize)
                        .map_or("", String::as_str);
                    return Err(format!("case {id}: a live run of automation {name} {why}"));
                }
            }
        }
        Ok(())
    }

    /// Move the live state (already in `self`, under the new program) to the new numbers.
    /// Returns, in case order, what a removal changed per case (for its `migrated` entry).
    /// Run after `carry_check`.
    pub(super) fn carry_apply(&mut self, carry: &Carry) -> Vec<(Arc<str>, serde_json::Value)> {
        if carry.identity {
            return Vec::new();
        }
        let slots = self.program.slots.len();
        let slas = self.program.slas.len();
        let mut notes: Vec<(Arc<str>, serde_json::Value)> = Vec::new();
        for c in self.cases.values_mut() {
            let mut facts = vec![None; slots];
            for (old, f) in std::mem::take(&mut c.facts).into_iter().enumerate() {
                if let (Some(new), Some(v)) = (carry.slots.get(old).copied().flatten(), f) {
                    facts[new as usize] = carry.value(&v).ok();
                }
            }
            c.facts = facts;
            let mut note = serde_json::Map::new();
            if let Some(class) = c.class {
                let new = class_map(carry, &self.program, class);
                if new.is_none() {
                    let name = carry.old_classes.get(class as usize).cloned();
                    note.insert("unclassified".into(), json!(name));
                }
                c.class = new;
            }
            c.owner = c.owner.and_then(|t| carry.team(t));
            if let Some(Assignee::Team(t)) = c.assignee {
                c.assignee = carry.team(t).map(Assignee::Team);
            }
            let mut clocks = vec![None; slas];
            let mut cancelled = Vec::new();
            for (old, k) in std::mem::take(&mut c.clocks).into_iter().enumerate() {
                match (carry.slas.get(old).copied().flatten(), k) {
                    (Some(new), k) => clocks[new as usize] = k,
                    (None, Some(k))
                        if matches!(k.state, ClockState::Running | ClockState::Paused) =>
                    {
                        cancelled.push(carry.old_slas.get(old).cloned().unwrap_or_default());
                    }
                    (None, _) => {}
                }
            }
            c.clocks = clocks;
            if !cancelled.is_empty() {
                note.insert("cancelled_clocks".into(), json!(cancelled));
            }
            let mut forgotten = Vec::new();
            for s in &mut c.sagas {
                let kept = carry
                    .automations
                    .get(s.automation as usize)
                    .copied()
                    .flatten();
                if kept.is_some()
                    && finished(&s.state)
                    && let Some(why) = carry.saga_gone(s)
                    && let Some((event, fields)) = carry
                        .forget_as
                        .get(s.automation as usize)
                        .copied()
                        .flatten()
                {
                    // Nothing reads a finished run's trigger data again; its id stays
                    // (`once per case` names it), and its event becomes one of the new
                    // program's so that a snapshot keeps a well-formed trigger.
                    let was = carry
                        .old_events
                        .get(s.trigger.event as usize)
                        .cloned()
                        .unwrap_or_default();
                    forgotten.push(json!({
                        "automation": carry.old_autos.get(s.automation as usize),
                        "trigger": s.trigger.id,
                        "event": was,
                        "reason": why,
                    }));
                    s.trigger.event = event;
                    s.trigger.values = vec![Value::None; fields];
                    for (_, args, _) in &mut s.executed {
                        for v in args {
                            *v = carry.value(v).unwrap_or(Value::None);
                        }
                    }
                    continue;
                }
                if let Some(e) = carry
                    .events
                    .get(s.trigger.event as usize)
                    .copied()
                    .flatten()
                {
                    s.trigger.event = e;
                }
                for v in &mut s.trigger.values {
                    if let Ok(n) = carry.value(v) {
                        *v = n;
                    }
                }
                for (_, args, _) in &mut s.executed {
                    for v in args {
                        if let Ok(n) = carry.value(v) {
                            *v = n;
                        }
                    }
                }
            }
            if !forgotten.is_empty() {
                note.insert("forgotten_triggers".into(), json!(forgotten));
            }
            if !note.is_empty() {
                notes.push((c.id.clone(), serde_json::Value::Object(note)));
            }
        }
        // SLA timers follow their policy's new number; a removed policy's are dropped.
        let timers = std::mem::take(&mut self.timers);
        for (k, mut t) in timers {
            let keep = match &mut t.kind {
                super::TimerKind::SlaWarn { sla, .. } | super::TimerKind::SlaBreach { sla, .. } => {
                    match carry.slas.get(*sla as usize).copied().flatten() {
                        Some(n) => {
                            *sla = n;
                            true
                        }
                        None => false,
                    }
                }
                _ => true,
            };
            if keep {
                self.timers.insert(k, t);
            }
        }
        // Round-robin cursors by team name; new teams start at their first member.
        let old_cursor = std::mem::take(&mut self.rr_cursor);
        self.rr_cursor = vec![0; self.program.teams.len()];
        for (old, cur) in old_cursor.into_iter().enumerate() {
            if let Some(n) = carry.team(old as u32) {
                self.rr_cursor[n as usize] = cur;
            }
        }
        notes.sort_by(|a, b| a.0.cmp(&b.0));
        notes
    }
}

/// A class (variant of the old classify enum) in the new classify enum.
fn class_map(carry: &Carry, new: &Program, class: u32) -> Option<u32> {
    let cl = new.classify.as_ref()?;
    let (_, vars) = carry
        .enums
        .iter()
        .flatten()
        .find(|(ne, _)| *ne == cl.enum_id)?;
    vars.get(class as usize).copied().flatten()
}
