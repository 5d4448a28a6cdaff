//! The program's sections: IR data added after the first release, carried after the core
//! program so that bundles built before it existed decode unchanged (bundle.rs, "Adding to
//! the IR without breaking stored bundles"; docs/deploy.md, "Bundle compatibility").
//!
//! Each tag's layout is frozen once released: more data is a new tag.

use serde::{Deserialize, Serialize};

use super::{AggregateDef, FieldDef, Lifecycle, Lit, Notice, OpenCases, Program, Stages, StepKind};
use crate::bundle::{Payload, Section, unknown_section};

/// `tables`: the reference tables (docs/language.md, "Reference tables").
const TABLES: &str = "tables";
/// `lifecycle`: the program's `lifecycle` declaration (docs/runtime.md, "Case lifecycle").
const LIFECYCLE: &str = "lifecycle";
/// `steps`: (automation, step, kind) of every saga step that is not an action call (waits
/// and notifications, docs/language.md §11.3).
const STEPS: &str = "steps";
/// `route_notices`: (route, its `notify` clauses), for the routes that have any.
const ROUTE_NOTICES: &str = "route_notices";
/// `gate_flow`: (gate, `release when clear`, its `notify` clauses), for the gates that
/// have either.
const GATE_FLOW: &str = "gate_flow";

/// `aggregates`: the aggregates over history (docs/runtime.md, "Aggregates").
const AGGREGATES: &str = "aggregates";
/// `gate_scope`: (gate, the automations `on automation NAME` names), for the gates that
/// name any (docs/language.md §11.2).
const GATE_SCOPE: &str = "gate_scope";
/// `rollout_stages`: (automation, its `rollout { … }` block), for the automations that
/// have one (docs/language.md §11.3, "Staged rollout").
const ROLLOUT_STAGES: &str = "rollout_stages";
/// `once_per_case`: the automations declared `once per case` (docs/language.md §11.3).
const ONCE_PER_CASE: &str = "once_per_case";
/// `open_cases`: (aggregate, its `open cases by` clause), for the aggregates the case
/// lifecycle feeds (docs/language.md §5.6); written after `aggregates`.
const OPEN_CASES: &str = "open_cases";

type Steps = Vec<(u32, u32, StepKind)>;
type GateScope = Vec<(u32, Vec<u32>)>;
type RolloutStages = Vec<(u32, Stages)>;
type RouteNotices = Vec<(u32, Vec<Notice>)>;
type GateFlow = Vec<(u32, bool, Vec<Notice>)>;

fn index(i: usize) -> Result<u32, String> {
    u32::try_from(i).map_err(|_| "too many declarations for a bundle".to_string())
}

/// The declaration a section entry names, or why the bundle is damaged.
fn at<'a, T>(items: &'a mut [T], i: u32, tag: &str) -> Result<&'a mut T, String> {
    let n = items.len();
    items
        .get_mut(i as usize)
        .ok_or_else(|| format!("section `{tag}` names item {i} of {n}"))
}

/// A reference table compiled into the bundle: its rows, typed, in file order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableDef {
    pub name: String,
    /// The row's columns, in declared order (the key column among them).
    pub columns: Vec<FieldDef>,
    /// The index of the key column in `columns`.
    pub key: u32,
    /// One literal per column; keys are distinct (the compiler checked).
    pub rows: Vec<Vec<Lit>>,
    /// The file it was read from, as the project names it.
    pub file: String,
    /// SHA-256 (hex) of the file's bytes: the manifest lists it.
    pub hash: String,
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_allocvec(value).map_err(|e| e.to_string())
}

fn decode<T: for<'de> Deserialize<'de>>(tag: &str, bytes: &[u8]) -> Result<T, String> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        Ok((_, rest)) => Err(format!(
            "section `{tag}` has {} unexpected bytes at its end",
            rest.len()
        )),
        Err(e) => Err(format!("section `{tag}` is unreadable: {e}")),
    }
}

impl Payload for Program {
    fn sections(&self) -> Result<Vec<Section>, String> {
        let mut out = Vec::new();
        if !self.tables.is_empty() {
            out.push((TABLES.to_string(), encode(&self.tables)?));
        }
        if self.lifecycle.is_declared() {
            out.push((LIFECYCLE.to_string(), encode(&self.lifecycle)?));
        }
        let mut steps: Steps = Vec::new();
        for (a, auto) in self.automations.iter().enumerate() {
            for (i, step) in auto.steps.iter().enumerate() {
                if step.kind != StepKind::Action {
                    steps.push((index(a)?, index(i)?, step.kind.clone()));
                }
            }
        }
        if !steps.is_empty() {
            out.push((STEPS.to_string(), encode(&steps)?));
        }
        let mut notices: RouteNotices = Vec::new();
        for (r, route) in self.routes.iter().enumerate() {
            if !route.notify.is_empty() {
                notices.push((index(r)?, route.notify.clone()));
            }
        }
        if !notices.is_empty() {
            out.push((ROUTE_NOTICES.to_string(), encode(&notices)?));
        }
        let mut gates: GateFlow = Vec::new();
        for (g, gate) in self.gates.iter().enumerate() {
            if gate.release_when_clear || !gate.notify.is_empty() {
                gates.push((index(g)?, gate.release_when_clear, gate.notify.clone()));
            }
        }
        if !gates.is_empty() {
            out.push((GATE_FLOW.to_string(), encode(&gates)?));
        }
        if !self.aggregates.is_empty() {
            out.push((AGGREGATES.to_string(), encode(&self.aggregates)?));
        }
        let mut scope: GateScope = Vec::new();
        for (g, gate) in self.gates.iter().enumerate() {
            if !gate.automations.is_empty() {
                scope.push((index(g)?, gate.automations.clone()));
            }
        }
        if !scope.is_empty() {
            out.push((GATE_SCOPE.to_string(), encode(&scope)?));
        }
        let mut stages: RolloutStages = Vec::new();
        for (a, auto) in self.automations.iter().enumerate() {
            if let Some(s) = &auto.stages {
                stages.push((index(a)?, s.clone()));
            }
        }
        if !stages.is_empty() {
            out.push((ROLLOUT_STAGES.to_string(), encode(&stages)?));
        }
        let mut once: Vec<u32> = Vec::new();
        for (a, auto) in self.automations.iter().enumerate() {
            if auto.once_per_case {
                once.push(index(a)?);
            }
        }
        if !once.is_empty() {
            out.push((ONCE_PER_CASE.to_string(), encode(&once)?));
        }
        let mut open: Vec<(u32, OpenCases)> = Vec::new();
        for (a, agg) in self.aggregates.iter().enumerate() {
            if let Some(c) = &agg.cases {
                open.push((index(a)?, c.clone()));
            }
        }
        if !open.is_empty() {
            out.push((OPEN_CASES.to_string(), encode(&open)?));
        }
        Ok(out)
    }

    fn read_section(&mut self, tag: &str, bytes: &[u8]) -> Result<(), String> {
        match tag {
            TABLES => self.tables = decode(tag, bytes)?,
            LIFECYCLE => self.lifecycle = decode::<Lifecycle>(tag, bytes)?,
            STEPS => {
                for (a, i, kind) in decode::<Steps>(tag, bytes)? {
                    let auto = at(&mut self.automations, a, tag)?;
                    at(&mut auto.steps, i, tag)?.kind = kind;
                }
            }
            ROUTE_NOTICES => {
                for (r, notify) in decode::<RouteNotices>(tag, bytes)? {
                    at(&mut self.routes, r, tag)?.notify = notify;
                }
            }
            GATE_FLOW => {
                for (g, release, notify) in decode::<GateFlow>(tag, bytes)? {
                    let gate = at(&mut self.gates, g, tag)?;
                    gate.release_when_clear = release;
                    gate.notify = notify;
                }
            }
            AGGREGATES => self.aggregates = decode::<Vec<AggregateDef>>(tag, bytes)?,
            GATE_SCOPE => {
                let n = self.automations.len();
                for (g, autos) in decode::<GateScope>(tag, bytes)? {
                    if let Some(a) = autos.iter().find(|a| **a as usize >= n) {
                        return Err(format!("section `{tag}` names automation {a} of {n}"));
                    }
                    at(&mut self.gates, g, tag)?.automations = autos;
                }
            }
            ROLLOUT_STAGES => {
                for (a, stages) in decode::<RolloutStages>(tag, bytes)? {
                    at(&mut self.automations, a, tag)?.stages = Some(stages);
                }
            }
            ONCE_PER_CASE => {
                for a in decode::<Vec<u32>>(tag, bytes)? {
                    at(&mut self.automations, a, tag)?.once_per_case = true;
                }
            }
            OPEN_CASES => {
                for (a, cases) in decode::<Vec<(u32, OpenCases)>>(tag, bytes)? {
                    at(&mut self.aggregates, a, tag)?.cases = Some(cases);
                }
            }
            _ => return Err(unknown_section(tag)),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::{self, BundleError, Manifest};
    use crate::ir::WireTy;

    fn manifest() -> Manifest {
        Manifest {
            package: "p".into(),
            version: "1.0.0".into(),
            compiler_version: "0".into(),
            source_hash: "00".into(),
            tzdb_version: "x".into(),
            automations: Vec::new(),
            sources: Default::default(),
            tables: Default::default(),
        }
    }

    fn table() -> TableDef {
        TableDef {
            name: "contracts".into(),
            columns: vec![FieldDef {
                name: "client_id".into(),
                ty: WireTy::String,
            }],
            key: 0,
            rows: vec![vec![Lit::Str("c1".into())]],
            file: "rules/data/contracts.csv".into(),
            hash: "ab".into(),
        }
    }

    #[test]
    fn tables_round_trip_in_their_section() {
        let program = Program {
            tables: vec![table()],
            ..Program::default()
        };
        let bytes = bundle::encode(&manifest(), &program).unwrap();
        let (_, decoded, _) = bundle::decode::<Program>(&bytes).unwrap();
        assert_eq!(decoded, program);
        // The core alone (what an older runtime's layout reads) is the program without
        // its tables; the section follows it.
        let core = postcard::to_allocvec(&program).unwrap();
        let plain = Program::default();
        assert_eq!(core, postcard::to_allocvec(&plain).unwrap());
    }

    /// `once per case` lives in its section: the core program is the one an older runtime
    /// reads, and a bundle without the section has no such automation.
    #[test]
    fn once_per_case_round_trips_in_its_section() {
        let auto = |name: &str, once| crate::ir::AutomationDef {
            name: name.into(),
            version: 1,
            owner: 0,
            events: Vec::new(),
            cond: None,
            steps: Vec::new(),
            rollout: crate::ir::Rollout::Live,
            breaker: None,
            stages: None,
            once_per_case: once,
        };
        let program = Program {
            automations: vec![auto("a", false), auto("legal_alert", true)],
            ..Program::default()
        };
        let bytes = bundle::encode(&manifest(), &program).unwrap();
        let (_, decoded, _) = bundle::decode::<Program>(&bytes).unwrap();
        assert_eq!(decoded, program);
        let plain = Program {
            automations: vec![auto("a", false), auto("legal_alert", false)],
            ..Program::default()
        };
        assert_eq!(
            postcard::to_allocvec(&program).unwrap(),
            postcard::to_allocvec(&plain).unwrap()
        );
        let (_, without, _) =
            bundle::decode::<Program>(&bundle::encode(&manifest(), &plain).unwrap()).unwrap();
        assert!(without.automations.iter().all(|a| !a.once_per_case));
    }

    #[test]
    fn unknown_or_unordered_sections_are_refused() {
        struct With(Vec<Section>);
        impl Serialize for With {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                Program::default().serialize(s)
            }
        }
        impl<'de> Deserialize<'de> for With {
            fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
                Err(serde::de::Error::custom("write-only"))
            }
        }
        impl Payload for With {
            fn sections(&self) -> Result<Vec<Section>, String> {
                Ok(self.0.clone())
            }
        }
        let tables = encode(&vec![table()]).unwrap();
        let future = bundle::encode(
            &manifest(),
            &With(vec![("zzz_later".into(), vec![1, 2, 3])]),
        )
        .unwrap();
        match bundle::decode::<Program>(&future) {
            Err(BundleError::Payload(m)) => assert!(m.contains("zzz_later"), "{m}"),
            other => panic!("{other:?}"),
        }
        // A section whose bytes do not read as its type.
        let bad = bundle::encode(&manifest(), &With(vec![(TABLES.into(), vec![9])])).unwrap();
        assert!(matches!(
            bundle::decode::<Program>(&bad),
            Err(BundleError::Payload(_))
        ));
        let good = bundle::encode(&manifest(), &With(vec![(TABLES.into(), tables)])).unwrap();
        assert_eq!(
            bundle::decode::<Program>(&good).unwrap().1.tables,
            vec![table()]
        );
    }
}
