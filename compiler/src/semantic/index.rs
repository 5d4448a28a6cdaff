//! The project index: every module's signature plus the project-wide tables that name
//! resolution needs (operational names, the classify enum, case facts, receivable events).
//!
//! Built from signatures only, so it carries no spans and is rebuilt (and compared equal)
//! cheaply after an edit. Name-resolution rules (brief §1, §7.4): operational names are
//! project-wide; data and helpers are per module and cross modules through imports; a
//! project's operational declaration replaces a standard-library one of the same name.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::sig::{ActionSig, GateSel, ModuleSig, TeamSig, TypeRef};
use super::types::{DefId, Ty};

/// Events that built-in semantics consume: always receivable (§7.5).
pub const BUILTIN_EVENTS: &[(&str, &str)] = &[
    ("std.helpdesk", "OwnerAcknowledged"),
    ("std.approvals", "ApprovalGranted"),
    ("std.approvals", "ApprovalDenied"),
    ("std.approvals", "BreakerReset"),
    ("std.actions", "ActionSucceeded"),
    ("std.actions", "ActionFailed"),
];

/// Kinds of data/helper declarations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataKind {
    Enum,
    Record,
    Event,
    Let,
    Fn,
    Fixture,
}

impl DataKind {
    pub fn describe(self) -> &'static str {
        match self {
            DataKind::Enum => "an enum",
            DataKind::Record => "a record",
            DataKind::Event => "an event",
            DataKind::Let => "a constant",
            DataKind::Fn => "a function",
            DataKind::Fixture => "a fixture",
        }
    }
}

/// Kinds of operational (project-wide) names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    Team,
    Calendar,
    Connector,
    Route,
    Sla,
    Gate,
    Automation,
}

impl OpKind {
    pub fn describe(self) -> &'static str {
        match self {
            OpKind::Team => "a team",
            OpKind::Calendar => "a calendar",
            OpKind::Connector => "a connector",
            OpKind::Route => "a route",
            OpKind::Sla => "an SLA policy",
            OpKind::Gate => "a gate",
            OpKind::Automation => "an automation",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassifyInfo {
    pub module: String,
    pub enum_def: DefId,
    pub variants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProjectIndex {
    pub modules: BTreeMap<String, Arc<ModuleSig>>,
    /// Operational name → (kind, defining module).
    pub ops: BTreeMap<(OpKind, String), String>,
    pub classify: Option<ClassifyInfo>,
    /// Case facts: field name → type (first declaration wins; conflicts are diagnosed).
    pub facts: BTreeMap<String, Ty>,
    /// Receivable events by name (first wins; duplicates are diagnosed).
    pub receivable: BTreeMap<String, DefId>,
    /// Fields added to standard records by `extend record`: (field, module that adds it),
    /// in the order they were appended (docs/language.md §14.8).
    pub extended: BTreeMap<DefId, Vec<(String, String)>>,
}

impl ProjectIndex {
    pub fn build(sigs: Vec<Arc<ModuleSig>>) -> ProjectIndex {
        let mut index = ProjectIndex::default();
        // std first, so project declarations replace std operational names.
        let mut ordered = sigs;
        ordered.sort_by(|a, b| (!a.is_std, &a.module).cmp(&(!b.is_std, &b.module)));
        for sig in &ordered {
            index.modules.insert(sig.module.clone(), sig.clone());
        }
        extend_std_records(&mut index, &ordered);
        for sig in &ordered {
            let m = &sig.module;
            let mut add = |kind, name: &String| {
                let slot = index
                    .ops
                    .entry((kind, name.clone()))
                    .or_insert_with(|| m.clone());
                // A project module replaces std; among project modules the first (sorted) wins.
                if index_is_std(&index.modules, slot) && !sig.is_std {
                    *slot = m.clone();
                }
            };
            sig.teams.keys().for_each(|n| add(OpKind::Team, n));
            sig.calendars.iter().for_each(|n| add(OpKind::Calendar, n));
            sig.connectors
                .keys()
                .for_each(|n| add(OpKind::Connector, n));
            sig.routes.iter().for_each(|n| add(OpKind::Route, n));
            sig.slas.iter().for_each(|n| add(OpKind::Sla, n));
            sig.gates.keys().for_each(|n| add(OpKind::Gate, n));
            sig.automations
                .iter()
                .for_each(|n| add(OpKind::Automation, n));
        }
        // The classify enum (the first project classify; duplicates are diagnosed).
        for sig in ordered.iter().filter(|s| !s.is_std) {
            if let Some(path) = sig.classify.first()
                && let Ok(Ty::Enum(def)) =
                    index.resolve_type(&sig.module, &TypeRef::Named(path.clone()))
            {
                let variants = index.enum_variants(&def).cloned().unwrap_or_default();
                index.classify = Some(ClassifyInfo {
                    module: sig.module.clone(),
                    enum_def: def,
                    variants,
                });
                break;
            }
        }
        // Receivable events and case facts (§3.10, §7.5, §7.6).
        let mut fact_events: Vec<DefId> = Vec::new();
        for sig in ordered.iter().filter(|s| !s.is_std) {
            for name in sig.events.keys() {
                fact_events.push(DefId::new(&sig.module, name));
            }
            for imp in &sig.imports {
                if let (true, Some(names)) = (imp.module.starts_with("std."), &imp.names) {
                    for n in names {
                        if index
                            .modules
                            .get(&imp.module)
                            .is_some_and(|m| m.events.contains_key(n))
                        {
                            fact_events.push(DefId::new(&imp.module, n));
                        }
                    }
                }
            }
        }
        fact_events.sort();
        fact_events.dedup();
        for def in &fact_events {
            index
                .receivable
                .entry(def.name.to_string())
                .or_insert_with(|| def.clone());
            for (field, tref) in index.event_fields(def).cloned().unwrap_or_default() {
                let ty = index.resolve_type(&def.module, &tref).unwrap_or(Ty::Error);
                index.facts.entry(field).or_insert(ty);
            }
        }
        for (module, name) in BUILTIN_EVENTS {
            if index
                .modules
                .get(*module)
                .is_some_and(|m| m.events.contains_key(*name))
            {
                index
                    .receivable
                    .entry((*name).to_string())
                    .or_insert_with(|| DefId::new(module, name));
            }
        }
        index
    }

    /// The project's declarations that did not parse (the standard library always parses).
    pub fn broken(&self) -> impl Iterator<Item = &crate::syntax::ast::BrokenDecl> {
        self.modules.values().flat_map(|m| m.broken.iter())
    }

    pub fn sig(&self, module: &str) -> Option<&ModuleSig> {
        self.modules.get(module).map(|m| &**m)
    }

    pub fn op(&self, kind: OpKind, name: &str) -> Option<&str> {
        self.ops.get(&(kind, name.to_string())).map(String::as_str)
    }

    /// Which kinds of operational declaration carry this name.
    pub fn op_kinds(&self, name: &str) -> Vec<OpKind> {
        self.ops
            .keys()
            .filter(|(_, n)| n == name)
            .map(|(k, _)| *k)
            .collect()
    }

    pub fn team(&self, name: &str) -> Option<&TeamSig> {
        let m = self.op(OpKind::Team, name)?;
        self.sig(m)?.teams.get(name)
    }

    pub fn action(&self, connector: &str, action: &str) -> Option<&ActionSig> {
        let m = self.op(OpKind::Connector, connector)?;
        self.sig(m)?.connectors.get(connector)?.get(action)
    }

    pub fn connector_actions(&self, connector: &str) -> Option<&BTreeMap<String, ActionSig>> {
        let m = self.op(OpKind::Connector, connector)?;
        self.sig(m)?.connectors.get(connector)
    }

    /// Every (connector, action, signature) in the project, in name order.
    pub fn all_actions(&self) -> Vec<(&str, &str, &ActionSig)> {
        let mut out = Vec::new();
        for ((kind, cname), module) in &self.ops {
            if *kind != OpKind::Connector {
                continue;
            }
            if let Some(actions) = self.sig(module).and_then(|s| s.connectors.get(cname)) {
                for (aname, a) in actions {
                    out.push((cname.as_str(), aname.as_str(), a));
                }
            }
        }
        out
    }

    pub fn gate_selectors(&self, gate: &str) -> Option<&Vec<GateSel>> {
        let m = self.op(OpKind::Gate, gate)?;
        self.sig(m)?.gates.get(gate)
    }

    pub fn enum_variants(&self, def: &DefId) -> Option<&Vec<String>> {
        self.sig(&def.module)?.enums.get(&*def.name)
    }

    pub fn record_fields(&self, def: &DefId) -> Option<&Vec<(String, TypeRef)>> {
        self.sig(&def.module)?.records.get(&*def.name)
    }

    pub fn event_fields(&self, def: &DefId) -> Option<&Vec<(String, TypeRef)>> {
        self.sig(&def.module)?.events.get(&*def.name)
    }

    /// Fields of a record or event type, resolved.
    pub fn fields_of(&self, ty: &Ty) -> Option<Vec<(String, Ty)>> {
        let (def, raw) = match ty {
            Ty::Record(d) => (d, self.record_fields(d)?),
            Ty::Event(d) => (d, self.event_fields(d)?),
            Ty::Envelope => {
                return Some(vec![
                    ("id".into(), Ty::String),
                    ("at".into(), Ty::Time),
                    ("type".into(), Ty::String),
                ]);
            }
            Ty::CaseInfo => {
                return Some(vec![
                    ("id".into(), Ty::String),
                    ("opened_at".into(), Ty::Time),
                ]);
            }
            _ => return None,
        };
        Some(
            raw.iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        self.resolve_type(&def.module, t).unwrap_or(Ty::Error),
                    )
                })
                .collect(),
        )
    }

    /// The module that `module` imports under the alias `alias` (`import billing.refunds`
    /// gives `refunds`), or a module named by its full path.
    pub fn module_alias(&self, module: &str, alias: &str) -> Option<String> {
        let sig = self.sig(module)?;
        sig.imports
            .iter()
            .filter(|i| i.names.is_none())
            .find(|i| i.module.rsplit('.').next() == Some(alias))
            .map(|i| i.module.clone())
            .filter(|m| self.modules.contains_key(m))
    }

    /// Look up a data/helper name visible in `module`: its own declarations, then names it
    /// imports with `import m.{name}`.
    pub fn lookup_data(&self, module: &str, name: &str) -> Option<(DefId, DataKind)> {
        let local = self.sig(module)?;
        if let Some(kind) = data_kind(local, name) {
            return Some((DefId::new(module, name), kind));
        }
        for imp in &local.imports {
            if imp
                .names
                .as_ref()
                .is_some_and(|ns| ns.iter().any(|n| n == name))
                && let Some(kind) = self.sig(&imp.module).and_then(|s| data_kind(s, name))
            {
                return Some((DefId::new(&imp.module, name), kind));
            }
        }
        None
    }

    /// Look up `alias.name` (module import) or a fully qualified `a.b.name`.
    pub fn lookup_qualified(&self, module: &str, path: &[String]) -> Option<(DefId, DataKind)> {
        let (name, prefix) = path.split_last()?;
        let target = if prefix.len() == 1 {
            self.module_alias(module, &prefix[0])
                .or_else(|| Some(prefix[0].clone()).filter(|m| self.modules.contains_key(m)))
        } else {
            Some(prefix.join(".")).filter(|m| self.modules.contains_key(m))
        }?;
        let kind = data_kind(self.sig(&target)?, name)?;
        Some((DefId::new(&target, name), kind))
    }

    /// Resolve a type reference written in `module`.
    pub(crate) fn resolve_type(&self, module: &str, t: &TypeRef) -> Result<Ty, String> {
        match t {
            TypeRef::Builtin(ty) => Ok(ty.clone()),
            TypeRef::Unknown => Ok(Ty::Error),
            TypeRef::List(e) => Ok(Ty::List(Box::new(self.resolve_type(module, e)?))),
            TypeRef::Optional(e) => Ok(self.resolve_type(module, e)?.optional()),
            TypeRef::Named(path) => {
                let found = if path.len() == 1 {
                    self.lookup_data(module, &path[0])
                } else {
                    self.lookup_qualified(module, path)
                };
                match found {
                    Some((def, DataKind::Enum)) => Ok(Ty::Enum(def)),
                    Some((def, DataKind::Record)) => Ok(Ty::Record(def)),
                    Some((def, DataKind::Event)) => Ok(Ty::Event(def)),
                    Some((_, kind)) => Err(format!(
                        "`{}` is {}, not a type",
                        path.join("."),
                        kind.describe()
                    )),
                    None => match (path.len(), Ty::builtin(&path[0])) {
                        (1, Some(ty)) => Ok(ty),
                        _ => Err(format!("unknown type `{}`", path.join("."))),
                    },
                }
            }
        }
    }

    /// The type of a data value name (`let` or fixture) visible in `module`.
    pub fn value_type(&self, def: &DefId, kind: DataKind) -> Ty {
        let Some(sig) = self.sig(&def.module) else {
            return Ty::Error;
        };
        let tref = match kind {
            DataKind::Let => sig.lets.get(&*def.name).map(|l| &l.ty),
            DataKind::Fixture => sig.fixtures.get(&*def.name),
            _ => None,
        };
        tref.and_then(|t| self.resolve_type(&def.module, t).ok())
            .unwrap_or(Ty::Error)
    }

    /// Is this event receivable under that name (so tests may send it)?
    pub fn is_receivable(&self, def: &DefId) -> bool {
        self.receivable.get(&*def.name) == Some(def)
    }
}

fn index_is_std(modules: &BTreeMap<String, Arc<ModuleSig>>, module: &str) -> bool {
    modules.get(module).is_some_and(|m| m.is_std)
}

fn data_kind(sig: &ModuleSig, name: &str) -> Option<DataKind> {
    if sig.enums.contains_key(name) {
        Some(DataKind::Enum)
    } else if sig.records.contains_key(name) {
        Some(DataKind::Record)
    } else if sig.events.contains_key(name) {
        Some(DataKind::Event)
    } else if sig.lets.contains_key(name) {
        Some(DataKind::Let)
    } else if sig.fns.contains_key(name) {
        Some(DataKind::Fn)
    } else if sig.fixtures.contains_key(name) {
        Some(DataKind::Fixture)
    } else {
        None
    }
}

/// `extend record` (docs/language.md §14.8): each project module's added fields, resolved
/// in that module, are appended to the standard record in module order, so every use of
/// the record — checking, lowering, the wire format — sees them after its own fields. A
/// field the record already has is left out (the checker reports it, E0583), as is any
/// extension of something that is not a standard record (E0582).
fn extend_std_records(index: &mut ProjectIndex, ordered: &[Arc<ModuleSig>]) {
    let mut adds: Vec<(DefId, String, String, TypeRef)> = Vec::new();
    for sig in ordered.iter().filter(|s| !s.is_std) {
        for (path, fields) in &sig.extends {
            let found = if path.len() == 1 {
                index.lookup_data(&sig.module, &path[0])
            } else {
                index.lookup_qualified(&sig.module, path)
            };
            let Some((def, DataKind::Record)) = found else {
                continue;
            };
            if !def.module.starts_with("std.") {
                continue;
            }
            for (name, tref) in fields {
                if let Ok(ty) = index.resolve_type(&sig.module, tref) {
                    adds.push((
                        def.clone(),
                        name.clone(),
                        sig.module.clone(),
                        TypeRef::Builtin(ty),
                    ));
                }
            }
        }
    }
    for (def, name, module, tref) in adds {
        let Some(m) = index.modules.get_mut(&*def.module) else {
            continue;
        };
        let Some(fields) = Arc::make_mut(m).records.get_mut(&*def.name) else {
            continue;
        };
        if fields.iter().any(|(n, _)| *n == name) {
            continue;
        }
        fields.push((name.clone(), tref));
        index.extended.entry(def).or_default().push((name, module));
    }
}
