//! The embedding surface (docs/embedding.md): envelopes built by field names, and an SLA's
//! target and the gates that would hold an action evaluated for a case without applying
//! anything (no ledger entry, no state change).
//!
//! Envelopes go through the same validation as a JSON line (`envelope.rs`), so a built
//! envelope is exactly one `apply_line` would have accepted.

use jiff::Timestamp;
use serde_json::{Map, Value as Json};

use super::{Engine, Envelope, RejectReason, envelope, sla};
use crate::eval::EvalError;
use crate::ir::{DurationSpec, SlaTarget};
use crate::value::{self, DecodeError, Value};

/// An envelope under construction: fields are set by name, in their JSON wire form
/// (docs/runtime.md, "Applying an event"): an enum value is its variant's name, money
/// `"12.50 EUR"`, a record an object, an optional field `null` or absent.
#[derive(Clone)]
pub struct EnvelopeBuilder<'e> {
    engine: &'e Engine,
    head: Map<String, Json>,
    data: Map<String, Json>,
}

impl EnvelopeBuilder<'_> {
    /// Set the field `name` (a later call for the same name replaces the value).
    pub fn field(mut self, name: &str, value: impl Into<Json>) -> Self {
        self.data.insert(name.to_string(), value.into());
        self
    }

    /// Validate against the event's declaration: the envelope, or why `apply_line` would
    /// reject it.
    pub fn build(self) -> Result<Envelope, RejectReason> {
        let mut obj = self.head;
        obj.insert("data".into(), Json::Object(self.data));
        envelope::parse(self.engine, &Json::Object(obj)).map_err(|(_, _, reason)| reason)
    }
}

/// Why a question to an engine could not be answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueryError {
    UnknownCase(String),
    UnknownSla(String),
    /// No action `connector.name` is declared.
    UnknownAction(String),
    /// The arguments do not fit the action's parameters (what is wrong).
    BadArguments {
        action: String,
        error: DecodeError,
    },
    /// The SLA's `target by` field could not be evaluated.
    Eval(EvalError),
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QueryError::UnknownCase(c) => write!(f, "no case `{c}`"),
            QueryError::UnknownSla(s) => write!(f, "no SLA policy `{s}`"),
            QueryError::UnknownAction(a) => write!(f, "no action `{a}`"),
            QueryError::BadArguments { action, error } => write!(f, "{action}: {error}"),
            QueryError::Eval(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for QueryError {}

/// An SLA policy's target for a case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaTargetValue {
    pub target: DurationSpec,
    /// As people write it: `4h`, `2 business days`.
    pub text: String,
}

/// A gate that would hold an action call, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldBy {
    pub gate: String,
    /// Set when the gate's condition could not be evaluated: such a gate holds (safety
    /// first, docs/runtime.md "Applying an event").
    pub error: Option<EvalError>,
}

impl Engine {
    /// Start an envelope for the event named `event_type` (docs/embedding.md).
    pub fn envelope(
        &self,
        event_type: &str,
        id: &str,
        case: &str,
        at: Timestamp,
    ) -> EnvelopeBuilder<'_> {
        let mut head = Map::new();
        head.insert("id".into(), Json::from(id));
        head.insert("type".into(), Json::from(event_type));
        head.insert("at".into(), Json::from(value::format_time(at)));
        head.insert("case".into(), Json::from(case));
        EnvelopeBuilder {
            engine: self,
            head,
            data: Map::new(),
        }
    }

    /// The target the SLA policy `sla` gives the case now (a `target by` evaluated over the
    /// case's facts), without starting a clock. `None` when the field's value has no arm.
    pub fn sla_target(&self, case: &str, sla: &str) -> Result<Option<SlaTargetValue>, QueryError> {
        let c = self
            .cases
            .get(case)
            .ok_or_else(|| QueryError::UnknownCase(case.to_string()))?;
        let s = self
            .program
            .slas
            .iter()
            .position(|p| p.name == sla)
            .ok_or_else(|| QueryError::UnknownSla(sla.to_string()))?;
        let target = match &self.program.slas[s].target {
            SlaTarget::Fixed(d) => Some(*d),
            SlaTarget::By { arms, .. } => {
                let Some(code) = self.code.sla_target_field[s].as_ref() else {
                    return Ok(None);
                };
                match self.eval(code, c, None, &[]).map_err(QueryError::Eval)? {
                    Value::Enum(_, v) => arms.get(v as usize).copied(),
                    _ => None,
                }
            }
        };
        Ok(target.map(|target| SlaTargetValue {
            text: sla::spec_text(&target),
            target,
        }))
    }

    /// The gates that would hold a call of `action` (`connector.name`) with these
    /// arguments (by parameter name, in their JSON wire form) on the case now, in
    /// declaration order. Nothing is requested or recorded.
    pub fn gates_holding(
        &self,
        case: &str,
        action: &str,
        args: &Map<String, Json>,
    ) -> Result<Vec<HeldBy>, QueryError> {
        let c = self
            .cases
            .get(case)
            .ok_or_else(|| QueryError::UnknownCase(case.to_string()))?;
        let a = self
            .program
            .actions
            .iter()
            .position(|d| format!("{}.{}", d.connector, d.name) == action)
            .ok_or_else(|| QueryError::UnknownAction(action.to_string()))?;
        let params = &self.program.actions[a].params;
        let values = value::decode_fields(&self.program, params, args).map_err(|error| {
            QueryError::BadArguments {
                action: action.to_string(),
                error,
            }
        })?;
        // The same decision `apply` takes (`decision::gates`), with no triggering event.
        let calls = super::decision::gates(
            &self.program,
            &self.code,
            a as u32,
            None,
            &values,
            |cond, gp| self.eval(cond, c, None, gp),
        );
        let held = calls
            .into_iter()
            .filter(|(_, call)| call.holds())
            .map(|(g, call)| HeldBy {
                gate: self.program.gates[g as usize].name.clone(),
                error: match call {
                    super::decision::GateCall::Fails(e) => Some(e),
                    _ => None,
                },
            })
            .collect();
        Ok(held)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{HeldBy, QueryError, SlaTargetValue};
    use crate::engine::{ApplyOutcome, Engine, RejectReason};
    use crate::ir::{
        ActionDef, DurationSpec, Effect, EventDef, FieldDef, GateDef, Program, SlaDef, SlaTarget,
        SlotDef, WireTy,
    };

    fn engine() -> Engine {
        let field = |name: &str, ty: WireTy| FieldDef {
            name: name.into(),
            ty,
        };
        let program = Program {
            events: vec![EventDef {
                name: "Paid".into(),
                fields: vec![field("amount", WireTy::Int), field("note", WireTy::String)],
                slots: vec![0, 1],
                updates_facts: true,
                builtin: None,
            }],
            slots: vec![
                SlotDef {
                    name: "amount".into(),
                    ty: WireTy::Int,
                    fact: true,
                },
                SlotDef {
                    name: "note".into(),
                    ty: WireTy::String,
                    fact: true,
                },
            ],
            slas: vec![SlaDef {
                name: "reply".into(),
                classes: Vec::new(),
                start: Vec::new(),
                stop: Vec::new(),
                reset: Vec::new(),
                pause: None,
                target: SlaTarget::Fixed(DurationSpec::Wall(4 * 3600)),
                calendar: None,
                warn: None,
                breach: Vec::new(),
            }],
            actions: vec![ActionDef {
                connector: "pay".into(),
                name: "refund".into(),
                params: vec![field("amount", WireTy::Int)],
                effect: Effect::None,
                amount: None,
                compensate: None,
            }],
            gates: vec![GateDef {
                name: "always".into(),
                actions: vec![0],
                all_automation_actions: false,
                cond: None,
                param_names: vec!["amount".into()],
                require: Vec::new(),
                expire: None,
                release_when_clear: false,
                notify: Vec::new(),
                automations: Vec::new(),
            }],
            ..Default::default()
        };
        Engine::new(program, "h").unwrap()
    }

    const AT: &str = "2026-01-05T10:00:00Z";

    #[test]
    fn a_built_envelope_is_the_one_its_json_line_gives() {
        let mut e = engine();
        let at = AT.parse().unwrap();
        let built = e
            .envelope("Paid", "e1", "c", at)
            .field("note", "hi")
            .field("amount", 3)
            .build()
            .unwrap();
        let line =
            json!({"id":"e1","type":"Paid","at":AT,"case":"c","data":{"amount":3,"note":"hi"}});
        assert_eq!(Ok(built.clone()), e.parse_envelope(&line));
        assert_eq!(e.apply(built), ApplyOutcome::Accepted);
        // Refused as the line would be: a value of the wrong type, an unknown event type.
        let bad = e
            .envelope("Paid", "e2", "c", at)
            .field("amount", "x")
            .build();
        assert!(matches!(bad, Err(RejectReason::BadData { .. })), "{bad:?}");
        let missing = e.envelope("Paid", "e2", "c", at).field("amount", 1).build();
        assert_eq!(
            missing.unwrap_err().to_string(),
            "Paid: missing field `note`"
        );
        let unknown = e.envelope("Lost", "e2", "c", at).build();
        assert!(matches!(unknown, Err(RejectReason::UnknownType { .. })));
    }

    #[test]
    fn targets_and_gates_without_applying() {
        let mut e = engine();
        let line = format!(
            r#"{{"id":"e1","type":"Paid","at":"{AT}","case":"c","data":{{"amount":3,"note":"n"}}}}"#
        );
        assert_eq!(e.apply_line(&line), ApplyOutcome::Accepted);
        let before = e.pending_entries();
        assert_eq!(
            e.sla_target("c", "reply"),
            Ok(Some(SlaTargetValue {
                target: DurationSpec::Wall(4 * 3600),
                text: "4h".into()
            }))
        );
        assert_eq!(
            e.sla_target("nope", "reply"),
            Err(QueryError::UnknownCase("nope".into()))
        );
        assert_eq!(
            e.sla_target("c", "nope"),
            Err(QueryError::UnknownSla("nope".into()))
        );
        let args = json!({ "amount": 5 }).as_object().cloned().unwrap();
        assert_eq!(
            e.gates_holding("c", "pay.refund", &args),
            Ok(vec![HeldBy {
                gate: "always".into(),
                error: None
            }])
        );
        assert_eq!(
            e.gates_holding("c", "pay.charge", &args),
            Err(QueryError::UnknownAction("pay.charge".into()))
        );
        let wrong = json!({ "amount": "five" }).as_object().cloned().unwrap();
        assert!(matches!(
            e.gates_holding("c", "pay.refund", &wrong),
            Err(QueryError::BadArguments { .. })
        ));
        // Nothing was written.
        assert_eq!(e.pending_entries(), before);
    }
}
