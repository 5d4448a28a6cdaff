//! The IR: what a bundle carries and the engine executes (brief §5–§6).
//!
//! Everything is resolved to numeric ids and slots: no name lookups and no field access by
//! name on the hot path. Expressions are trees here (serializable); `Engine::load` compiles
//! them into closures. Rules are indexed by event type, and routes additionally by the value
//! of an enum field they test for equality, so an event only visits rules that can match.
//!
//! Determinism: only `Vec`s (no hash maps) and no floats; the same program always encodes to
//! the same bytes.

use serde::{Deserialize, Serialize};

pub use crate::calendar::{CalendarSpec, HolidaySpec, Interval};

mod aggregates;
mod rollout;
mod sections;
pub use aggregates::{AggFeed, AggField, AggOp, AggregateDef, BUCKETS, DEFAULT_KEEP, OpenCases};
pub use rollout::{Agreement, Cmp, Criterion, Metric, Promotion, Rollback, Stage, Stages};
pub use sections::TableDef;

pub type EnumId = u32;
pub type RecordId = u32;
pub type EventId = u32;
pub type SlotId = u32;
pub type TeamId = u32;
pub type CalId = u32;
pub type ActionId = u32;
pub type GateId = u32;
pub type SlaId = u32;
pub type RouteId = u32;
pub type AutoId = u32;
pub type FnId = u32;
pub type ConstId = u32;
pub type TableId = u32;
pub type AggId = u32;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Program {
    pub package: String,
    pub version: String,
    pub enums: Vec<EnumDef>,
    pub records: Vec<RecordDef>,
    /// Receivable events; the envelope's `type` is the name.
    pub events: Vec<EventDef>,
    /// One slot per distinct top-level event field name. Slots of fact-updating events'
    /// fields are the case facts.
    pub slots: Vec<SlotDef>,
    pub consts: Vec<ConstDef>,
    pub functions: Vec<FnDef>,
    pub calendars: Vec<CalendarSpec>,
    pub teams: Vec<TeamDef>,
    pub classify: Option<Classify>,
    /// Indexed by class variant.
    pub owners: Vec<OwnerDef>,
    pub acknowledge_within: Option<DurationSpec>,
    pub routes: Vec<RouteDef>,
    pub slas: Vec<SlaDef>,
    pub actions: Vec<ActionDef>,
    pub gates: Vec<GateDef>,
    pub automations: Vec<AutomationDef>,
    /// The default calendar (`std.calendars.always`) when a team has none.
    pub default_calendar: Option<CalId>,
    // Fields below are sections, not part of the core encoding (ir/sections.rs): bundles
    // built before them decode with them empty. New data goes here, never above.
    /// Reference tables, by [`TableId`].
    #[serde(skip)]
    pub tables: Vec<TableDef>,
    /// When cases are solved, reopened and closed, and how long closed cases stay in the
    /// engine's working set (docs/runtime.md, "Case lifecycle"). Section `lifecycle`.
    #[serde(skip)]
    pub lifecycle: Lifecycle,
    /// Aggregates over history, by [`AggId`] (docs/runtime.md, "Aggregates"). Section
    /// `aggregates`.
    #[serde(skip)]
    pub aggregates: Vec<AggregateDef>,
    // Also carried in sections, though kept in their declarations: `Step::kind`,
    // `RouteDef::notify`, `GateDef::release_when_clear`, `GateDef::notify`,
    // `GateDef::automations`, `AutomationDef::stages` and `AutomationDef::once_per_case`.
}

/// A `lifecycle` declaration: the events that solve, reopen and close a case. Empty (no
/// declaration): cases stay open for ever, as before lifecycles existed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub solved: Vec<EventId>,
    pub reopened: Vec<EventId>,
    pub closed: Vec<EventId>,
    /// `reopened on E within D`: a solved case not reopened within D is closed.
    pub reopen_within: Option<DurationSpec>,
    /// `retain closed for D`: a closed case leaves the working set D after it closed.
    pub retain_closed: Option<DurationSpec>,
}

impl Lifecycle {
    pub fn is_declared(&self) -> bool {
        !(self.solved.is_empty() && self.reopened.is_empty() && self.closed.is_empty())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumDef {
    pub name: String,
    pub variants: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordDef {
    pub name: String,
    pub fields: Vec<FieldDef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub ty: WireTy,
}

/// Built-in events whose semantics the engine implements (§7.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Builtin {
    OwnerAcknowledged,
    ApprovalGranted,
    ApprovalDenied,
    BreakerReset,
    ActionSucceeded,
    ActionFailed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDef {
    pub name: String,
    pub fields: Vec<FieldDef>,
    /// The slot each field binds to (same order as `fields`).
    pub slots: Vec<SlotId>,
    /// Whether the event's fields update the case facts (§7.6).
    pub updates_facts: bool,
    pub builtin: Option<Builtin>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotDef {
    pub name: String,
    pub ty: WireTy,
    /// A case fact (set by fact-updating events) rather than only an event field.
    pub fact: bool,
}

/// Types as the wire encoding (§7.13) needs them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireTy {
    Bool,
    Int,
    Decimal,
    Money,
    Percent,
    Duration,
    BusinessDuration,
    Date,
    TimeOfDay,
    Time,
    String,
    Person,
    Team,
    Calendar,
    Assignee,
    Enum(EnumId),
    Record(RecordId),
    List(Box<WireTy>),
    Optional(Box<WireTy>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstDef {
    pub name: String,
    /// May refer to earlier constants only (the compiler orders them).
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnDef {
    pub name: String,
    pub params: u32,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamDef {
    pub name: String,
    pub members: Vec<String>,
    pub calendar: Option<CalId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Classify {
    pub enum_id: EnumId,
    pub events: Vec<EventId>,
    /// (variant, condition), tried in order.
    pub arms: Vec<(u32, Expr)>,
    pub otherwise: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnerDef {
    pub owner: TeamId,
    pub escalate: TeamId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BusinessUnit {
    Minutes,
    Hours,
    Days,
}

/// A wall-clock or business duration (SLA targets, TTLs, expiry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DurationSpec {
    Wall(i64),
    Business(i64, BusinessUnit),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Target {
    Team(TeamId),
    Person(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Strategy {
    Queue,
    RoundRobin,
    LeastOpen,
    // The three above with `rebalance` (docs/language.md §8.3): choose again each time the
    // route fires instead of keeping an assignee who is a member of the target team.
    // Appended, so that bundles built before `rebalance` existed decode unchanged.
    QueueRebalance,
    RoundRobinRebalance,
    LeastOpenRebalance,
}

impl Strategy {
    /// The strategy with `rebalance` added.
    pub fn rebalancing(self) -> Strategy {
        match self {
            Strategy::Queue | Strategy::QueueRebalance => Strategy::QueueRebalance,
            Strategy::RoundRobin | Strategy::RoundRobinRebalance => Strategy::RoundRobinRebalance,
            Strategy::LeastOpen | Strategy::LeastOpenRebalance => Strategy::LeastOpenRebalance,
        }
    }

    /// Whether the route chooses again even when the case's assignee is already a member
    /// of the target team.
    pub fn rebalances(self) -> bool {
        matches!(
            self,
            Strategy::QueueRebalance | Strategy::RoundRobinRebalance | Strategy::LeastOpenRebalance
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteDef {
    pub name: String,
    pub events: Vec<EventId>,
    pub cond: Option<Expr>,
    pub target: Target,
    pub strategy: Strategy,
    pub key: Vec<Expr>,
    pub priority: i64,
    /// An equality on an enum slot that the condition requires (`class == Access`,
    /// `ticket.priority == Urgent`), for indexing: (discriminant, variant).
    pub requires: Option<(Discriminant, u32)>,
    /// `notify …` clauses: told when the route assigns the case. Section `route_notices`.
    #[serde(skip)]
    pub notify: Vec<Notice>,
}

/// A notification a route or gate sends (`notify TARGET [with template "t"]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub to: Recipient,
    pub template: Option<String>,
}

/// What a route index keys on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Discriminant {
    Class,
    /// A path of field indices from a slot: `ticket.priority` is (slot of ticket, [priority]).
    Path(SlotId, Vec<u32>),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    pub event: EventId,
    pub cond: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlaTarget {
    Fixed(DurationSpec),
    /// `target by FIELD { … }`: per variant of the field's enum.
    By {
        field: Expr,
        arms: Vec<DurationSpec>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    Escalate,
    Deny,
    Notify(Recipient),
    Assign(Target),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recipient {
    Assignee,
    Owner,
    Target(Target),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaDef {
    pub name: String,
    /// Class variants the policy applies to.
    pub classes: Vec<u32>,
    pub start: Vec<Trigger>,
    pub stop: Vec<Trigger>,
    pub reset: Vec<Trigger>,
    pub pause: Option<Expr>,
    pub target: SlaTarget,
    pub calendar: Option<CalId>,
    /// Percent in hundredths (75% = 7500).
    pub warn: Option<(u32, Vec<Action>)>,
    pub breach: Vec<Action>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effect {
    None,
    Money,
    Destructive,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionDef {
    pub connector: String,
    pub name: String,
    pub params: Vec<FieldDef>,
    pub effect: Effect,
    /// The money amount, over the parameters (`Param(i)`).
    pub amount: Option<Expr>,
    pub compensate: Option<ActionId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Requirement {
    Approval(TeamId),
    Confirmation,
    Review(TeamId),
    /// `require N approvals from TEAM`, N ≥ 2: N distinct members, none a requester
    /// (docs/runtime.md, "Gates and approvals"). Appended, so older bundles decode unchanged.
    Quorum(TeamId, u32),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateDef {
    pub name: String,
    /// Actions selected by name or effect (resolved by the compiler).
    pub actions: Vec<ActionId>,
    /// `on automation`: every action an automation issues.
    pub all_automation_actions: bool,
    /// Over slots (facts) and, for action gates, `Param(i)` by the name's position in
    /// `param_names` (the parameters common to the selected actions).
    pub cond: Option<Expr>,
    pub param_names: Vec<String>,
    pub require: Vec<Requirement>,
    pub expire: Option<(DurationSpec, Vec<Action>)>,
    /// `release when clear`: a request this gate holds is released once `cond` no longer
    /// holds over the case facts (docs/runtime.md, "Gates, approvals, dual control").
    /// Section `gate_flow`.
    #[serde(skip)]
    pub release_when_clear: bool,
    /// `notify …` clauses: told when the gate holds a step. Section `gate_flow`.
    #[serde(skip)]
    pub notify: Vec<Notice>,
    /// `on automation NAME`: every action these automations issue (docs/language.md
    /// §11.2). Section `gate_scope`.
    #[serde(skip)]
    pub automations: Vec<AutoId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The action a `StepKind::Action` step calls; [`NO_ACTION`] for the other kinds.
    pub action: ActionId,
    /// One per parameter of the action, in parameter order (`Lit(None)` when omitted).
    pub args: Vec<Expr>,
    pub waiver: Option<String>,
    /// What the step does (docs/runtime.md, "Automations as sagas"); the other kinds leave
    /// the action call's fields empty. Section `steps` (an action call is the default).
    #[serde(skip)]
    pub kind: StepKind,
}

/// The `action` of a step that calls no action (a wait or a notification).
pub const NO_ACTION: ActionId = ActionId::MAX;

/// A saga step: an action call, a wait on a durable timer, or a notification
/// (docs/language.md §11.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum StepKind {
    /// `connector.action(...)`: `Step::action` with `Step::args`.
    #[default]
    Action,
    /// `wait 24h`, `wait 2 business days`: the saga goes on when the duration has passed
    /// (business time on the case owner's team calendar).
    Wait(DurationSpec),
    /// `wait until COND within DURATION`: the saga goes on once the condition (over the
    /// case facts) holds; when the duration passes first, the run stops and the owner gets
    /// a reconciliation task.
    WaitUntil { cond: Expr, within: DurationSpec },
    /// `notify TARGET [with template "..."]`: a `notify` command through the outbox.
    Notify {
        to: Recipient,
        template: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Rollout {
    Live,
    /// Percent in hundredths; `None` is "all".
    Shadow {
        sample: Option<u32>,
        key: Vec<Expr>,
    },
    Percent {
        percent: u32,
        key: Vec<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    /// Failure rate threshold in hundredths of a percent.
    pub threshold: u32,
    pub window: u32,
    pub halt: bool,
    pub assign: Option<Target>,
    pub notify: Vec<Recipient>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutomationDef {
    pub name: String,
    pub version: u32,
    pub owner: TeamId,
    pub events: Vec<EventId>,
    pub cond: Option<Expr>,
    pub steps: Vec<Step>,
    pub rollout: Rollout,
    pub breaker: Option<Breaker>,
    /// `rollout { … }`: the stages the automation promotes itself through; `rollout`
    /// then holds the start stage and the bucket key. Section `rollout_stages`.
    #[serde(skip)]
    pub stages: Option<Stages>,
    /// `once per case`: at most one run per case (docs/language.md §11.3). Section
    /// `once_per_case`.
    #[serde(skip)]
    pub once_per_case: bool,
}

// ---------------------------------------------------------------------------------------
// Expressions

/// A literal value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lit {
    None,
    Bool(bool),
    Int(i64),
    /// Exact decimal text.
    Decimal(String),
    Money {
        amount: String,
        currency: String,
    },
    Percent(String),
    Duration(i64),
    Business(i64, BusinessUnit),
    Date {
        year: i16,
        month: i8,
        day: i8,
    },
    TimeOfDay(u16),
    /// RFC 3339.
    Time(String),
    Str(String),
    Person(String),
    Variant(EnumId, u32),
    Team(TeamId),
    Calendar(CalId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ctx {
    /// `event`: a record of id, at, type.
    Event,
    EventId,
    EventAt,
    EventType,
    /// `case`: a record of id, opened_at.
    Case,
    CaseId,
    CaseOpenedAt,
    Class,
    Assignee,
    Now,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BuiltinFn {
    Len,
    Lower,
    Upper,
    Min,
    Max,
    Since,
    HourOf,
    /// Appended (docs/language.md §4.4): bundles built before them never name them.
    CurrencyOf,
    AmountOf,
    /// Appended: `convert(m, "USD", rate)`.
    Convert,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    StartsWith,
    Coalesce,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expr {
    Lit(Lit),
    /// A slot: the triggering event's field if it has one, else the case fact.
    Slot(SlotId),
    /// A function or action parameter.
    Param(u32),
    Const(ConstId),
    Ctx(Ctx),
    /// Field `index` of a record.
    Field(Box<Expr>, u32),
    /// `?.`: none when the base is none.
    OptField(Box<Expr>, u32),
    Unwrap(Box<Expr>),
    Not(Box<Expr>),
    Neg(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `matches` with its pattern (compiled at load).
    Matches(Box<Expr>, String),
    Call(FnId, Vec<Expr>),
    Builtin(BuiltinFn, Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Arms: (variants, value); `default` for `_`.
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<(Vec<u32>, Expr)>,
        default: Option<Box<Expr>>,
    },
    List(Vec<Expr>),
    /// Fields in declared order; `None` keeps the spread base's field (or none).
    Record {
        base: Option<Box<Expr>>,
        fields: Vec<Option<Expr>>,
    },
    // Variants below were appended after the first release (bundle.rs: never reorder).
    /// `table[key]`: the row whose key column equals the key, or none.
    Lookup(TableId, Box<Expr>),
    /// `x is set`: whether the value is not none, reading an unset case fact (and fields
    /// of one) as none instead of failing.
    IsSet(Box<Expr>),
    /// `aggregate[key]`: the aggregate's fields for the key, over its window at the clock
    /// (zero counts and sums, none for what it never saw).
    Aggregate(AggId, Box<Expr>),
    /// `previous(x)`: a case fact, or a path of fields on one, as it was before the event
    /// being applied wrote it (none when it was unset); `x` itself where that event did
    /// not write the fact (docs/language.md §6.4).
    Previous(Box<Expr>),
    /// `changed(x)`: whether the event being applied wrote the fact and `x` now differs
    /// from `previous(x)` (docs/language.md §6.4).
    Changed(Box<Expr>),
    /// `all x in list: body` (`all`) / `any x in list: body`: the body is evaluated with
    /// each element bound, in order, stopping at the first that decides (docs/language.md
    /// §4.6).
    Quant {
        all: bool,
        list: Box<Expr>,
        body: Box<Expr>,
    },
    /// The element bound by an enclosing quantifier: 0 the innermost, 1 the one around
    /// it, ...
    Elem(u32),
}

impl Expr {
    /// Whether the expression reads `class` (function bodies cannot: they see only their
    /// parameters and top-level names). On an event that changes the class, the routes
    /// whose condition reads it are evaluated beside those that list the event
    /// (docs/language.md §8.3).
    pub fn reads_class(&self) -> bool {
        match self {
            Expr::Ctx(c) => *c == Ctx::Class,
            Expr::Lit(_) | Expr::Slot(_) | Expr::Param(_) | Expr::Const(_) | Expr::Elem(_) => false,
            Expr::Quant { list, body, .. } => list.reads_class() || body.reads_class(),
            Expr::Field(b, _)
            | Expr::OptField(b, _)
            | Expr::Unwrap(b)
            | Expr::Not(b)
            | Expr::Neg(b)
            | Expr::Matches(b, _)
            | Expr::Lookup(_, b)
            | Expr::Aggregate(_, b)
            | Expr::IsSet(b)
            | Expr::Previous(b)
            | Expr::Changed(b) => b.reads_class(),
            Expr::Binary(_, l, r) => l.reads_class() || r.reads_class(),
            Expr::Call(_, args) | Expr::Builtin(_, args) | Expr::List(args) => {
                args.iter().any(Expr::reads_class)
            }
            Expr::If(c, t, e) => c.reads_class() || t.reads_class() || e.reads_class(),
            Expr::Match {
                scrutinee,
                arms,
                default,
            } => {
                scrutinee.reads_class()
                    || arms.iter().any(|(_, e)| e.reads_class())
                    || default.as_ref().is_some_and(|d| d.reads_class())
            }
            Expr::Record { base, fields } => {
                base.as_ref().is_some_and(|b| b.reads_class())
                    || fields.iter().flatten().any(Expr::reads_class)
            }
        }
    }

    /// An enum equality this condition requires at its top level (through `and`s, the
    /// leftmost first): `ticket.queue == Q7 and …` requires (`ticket`.[queue], Q7). Routes
    /// are indexed by it.
    pub fn required_equality(&self) -> Option<(Discriminant, u32)> {
        match self {
            Expr::Binary(BinOp::And, l, r) => {
                l.required_equality().or_else(|| r.required_equality())
            }
            Expr::Binary(BinOp::Eq, l, r) => {
                let (subject, variant) = match (&**l, &**r) {
                    (s, Expr::Lit(Lit::Variant(_, v))) | (Expr::Lit(Lit::Variant(_, v)), s) => {
                        (s, *v)
                    }
                    _ => return None,
                };
                if let Expr::Ctx(Ctx::Class) = subject {
                    return Some((Discriminant::Class, variant));
                }
                let mut path = Vec::new();
                let mut cur = subject;
                loop {
                    match cur {
                        Expr::Field(b, i) => {
                            path.push(*i);
                            cur = b;
                        }
                        Expr::Slot(s) => {
                            path.reverse();
                            return Some((Discriminant::Path(*s, path), variant));
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    /// The condition without the conjunct [`required_equality`](Self::required_equality)
    /// names, for when that equality is already known to hold: `Some(None)` if nothing is
    /// left (always true), `None` if there is no such conjunct. Dropping a conjunct that is
    /// true leaves `and`'s meaning, short-circuits and errors included, as it was.
    pub fn without_required_equality(&self) -> Option<Option<Expr>> {
        let req = self.required_equality()?;
        Some(self.without(&req).unwrap_or_else(|| Some(self.clone())))
    }

    fn without(&self, req: &(Discriminant, u32)) -> Option<Option<Expr>> {
        match self {
            Expr::Binary(BinOp::And, l, r) => {
                if let Some(rest) = l.without(req) {
                    return Some(Some(match rest {
                        None => (**r).clone(),
                        Some(x) => Expr::Binary(BinOp::And, Box::new(x), r.clone()),
                    }));
                }
                let rest = r.without(req)?;
                Some(Some(match rest {
                    None => (**l).clone(),
                    Some(x) => Expr::Binary(BinOp::And, l.clone(), Box::new(x)),
                }))
            }
            Expr::Binary(BinOp::Eq, ..) if self.required_equality().as_ref() == Some(req) => {
                Some(None)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eq(path: Expr, v: u32) -> Expr {
        Expr::Binary(
            BinOp::Eq,
            Box::new(path),
            Box::new(Expr::Lit(Lit::Variant(0, v))),
        )
    }
    fn and(l: Expr, r: Expr) -> Expr {
        Expr::Binary(BinOp::And, Box::new(l), Box::new(r))
    }
    fn queue() -> Expr {
        Expr::Field(Box::new(Expr::Slot(2)), 5)
    }

    #[test]
    fn the_required_equality_is_the_leftmost_one() {
        let tier = Expr::Field(Box::new(Expr::Slot(2)), 1);
        let other = Expr::Binary(
            BinOp::Ne,
            Box::new(tier.clone()),
            Box::new(Expr::Lit(Lit::Variant(1, 2))),
        );
        let cond = and(other.clone(), and(eq(queue(), 7), eq(tier.clone(), 1)));
        assert_eq!(
            cond.required_equality(),
            Some((Discriminant::Path(2, vec![5]), 7))
        );
        // The rest keeps its order (and so its short-circuits and errors).
        assert_eq!(
            cond.without_required_equality(),
            Some(Some(and(other, eq(tier, 1))))
        );
        // Nothing left: always true.
        assert_eq!(eq(queue(), 7).without_required_equality(), Some(None));
        let class = eq(Expr::Ctx(Ctx::Class), 3);
        assert_eq!(class.required_equality(), Some((Discriminant::Class, 3)));
        // No required equality: nothing to drop.
        let or = Expr::Binary(
            BinOp::Or,
            Box::new(eq(queue(), 7)),
            Box::new(eq(queue(), 8)),
        );
        assert_eq!(or.required_equality(), None);
        assert_eq!(or.without_required_equality(), None);
    }
}
