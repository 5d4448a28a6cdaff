//! The owned abstract syntax tree of one `.mesh` module.
//!
//! The pest `Pair` tree never leaves `syntax/`: `build/` converts it into these plain,
//! `Send + Sync + Eq` values at once, so they can be stored in salsa and used by the checker,
//! the formatter and the language server. Every node carries a byte [`Span`] into its file.
//! Syntax that failed to parse becomes an [`ItemKind::Error`] item (the declaration was
//! skipped) or an [`ExprKind::Error`] node, so later stages can keep going.

use crate::source::Span;

// The names and literals every node uses, and the expressions, live in leaf modules of
// their own; their paths under `ast::` stay the same.
pub use super::ast_expr::*;
pub use super::ast_flow::{DoStep, NotifyStep, Step, Target, WaitKind, WaitStep};
pub use super::ast_leaf::{DateLit, Ident, Path, StrLit, TimeLit};
pub use super::ast_rollout::{
    StageAgreement, StageCmp, StageCriterion, StageLit, StagePromotion, StageRollback, Stages,
};

/// One parsed module (file).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Module {
    pub items: Vec<Item>,
    /// Every `//` comment (not doc comments), in source order, for the formatter.
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Comment {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The `///` lines before the declaration, joined with `\n`, without the slashes.
    pub doc: Option<String>,
    pub kind: ItemKind,
    /// The whole declaration, doc comment excluded.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Import(ImportDecl),
    Enum(EnumDecl),
    Record(RecordDecl),
    Event(RecordDecl),
    Let(LetDecl),
    Fn(FnDecl),
    Calendar(CalendarDecl),
    Team(TeamDecl),
    Classify(ClassifyDecl),
    Owners(OwnersDecl),
    Route(RouteDecl),
    Sla(SlaDecl),
    Connector(ConnectorDecl),
    Gate(GateDecl),
    Automation(AutomationDecl),
    Fixture(FixtureDecl),
    Test(TestDecl),
    Acceptance(AcceptanceDecl),
    Lifecycle(LifecycleDecl),
    Table(TableDecl),
    Aggregate(AggregateDecl),
    Extend(ExtendDecl),
    /// A declaration that did not parse; the syntax error was reported for it.
    Error(BrokenDecl),
}

/// What the first words of a declaration that did not parse say about it, so that the
/// checks can stay quiet about what depends on it (docs/diagnostics.md, "Declarations that
/// did not parse").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct BrokenDecl {
    /// The declaration keyword (`owners`, `sla`, ...), when the text starts with one.
    pub keyword: Option<String>,
    /// The declared name (`first_reply` in `sla first_reply for …`), when there is one.
    pub name: Option<String>,
}

impl ItemKind {
    /// The declaration keyword, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            ItemKind::Import(_) => "import",
            ItemKind::Enum(_) => "enum",
            ItemKind::Record(_) => "record",
            ItemKind::Event(_) => "event",
            ItemKind::Let(_) => "let",
            ItemKind::Fn(_) => "fn",
            ItemKind::Calendar(_) => "calendar",
            ItemKind::Team(_) => "team",
            ItemKind::Classify(_) => "classify",
            ItemKind::Owners(_) => "owners",
            ItemKind::Route(_) => "route",
            ItemKind::Sla(_) => "sla",
            ItemKind::Connector(_) => "connector",
            ItemKind::Gate(_) => "gate",
            ItemKind::Automation(_) => "automation",
            ItemKind::Fixture(_) => "fixture",
            ItemKind::Test(_) => "test",
            ItemKind::Acceptance(_) => "acceptance",
            ItemKind::Lifecycle(_) => "lifecycle",
            ItemKind::Table(_) => "table",
            ItemKind::Aggregate(_) => "aggregate",
            ItemKind::Extend(_) => "extend record",
            ItemKind::Error(_) => "<error>",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Imports and data

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportDecl {
    /// `billing.refunds` in `import billing.refunds.{a, b}`.
    pub module: Path,
    /// `None` for `import billing.refunds` (module import); the listed names otherwise.
    pub names: Option<Vec<Ident>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnumDecl {
    pub name: Ident,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variant {
    pub doc: Option<String>,
    pub name: Ident,
}

/// `record` and `event` declarations share this shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

/// `extend record PATH { fields }`: optional fields added to a standard record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtendDecl {
    pub target: Path,
    pub fields: Vec<FieldDecl>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TypeExpr {
    pub kind: TypeExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeExprKind {
    /// `Money`, `Ticket`, `billing.Tier`.
    Named(Path),
    /// `List<T>`.
    List(Box<TypeExpr>),
    /// `T?`.
    Optional(Box<TypeExpr>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LetDecl {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnDecl {
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
}

// ---------------------------------------------------------------------------------------
// Calendars and teams

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarDecl {
    pub name: Ident,
    pub clauses: Vec<CalendarClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalendarClause {
    Timezone(StrLit),
    Hours(HoursClause),
    Holidays(Vec<Holiday>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoursClause {
    pub days: Vec<DaySpec>,
    pub from: TimeLit,
    pub to: TimeLit,
    pub span: Span,
}

/// `mon` or `mon-fri`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaySpec {
    pub first: Ident,
    pub last: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holiday {
    Date(DateLit),
    Range(DateLit, DateLit),
    /// `every 05-01`: month and day, checked later.
    Yearly {
        month: u32,
        day: u32,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamDecl {
    pub name: Ident,
    pub clauses: Vec<TeamClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeamClause {
    Members(Vec<StrLit>),
    Calendar(Ident),
}

// ---------------------------------------------------------------------------------------
// Classification, ownership, routing

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassifyDecl {
    pub enum_name: Path,
    pub events: Vec<Path>,
    pub arms: Vec<ClassifyArm>,
    pub otherwise: Option<Ident>,
    pub span_header: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClassifyArm {
    pub variant: Ident,
    pub cond: Expr,
    pub span: Span,
}

/// `lifecycle { solved on E, reopened on E within D, closed on E, retain closed for D }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleDecl {
    pub clauses: Vec<LifecycleClause>,
    /// The `lifecycle` keyword, for diagnostics about the block as a whole.
    pub keyword: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LifecycleClause {
    pub kind: LifecycleKind,
    /// The events (none for `retain`).
    pub events: Vec<Path>,
    /// `within D` of `reopened`, `for D` of `retain`.
    pub duration: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleKind {
    Solved,
    Reopened,
    Closed,
    Retain,
}

impl LifecycleKind {
    pub fn word(self) -> &'static str {
        match self {
            LifecycleKind::Solved => "solved",
            LifecycleKind::Reopened => "reopened",
            LifecycleKind::Closed => "closed",
            LifecycleKind::Retain => "retain",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnersDecl {
    pub arms: Vec<OwnerArm>,
    pub acknowledge: Option<Expr>,
    /// The `owners` keyword, for diagnostics about the block as a whole.
    pub keyword: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnerArm {
    pub variant: Ident,
    pub owner: Ident,
    pub escalate: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteDecl {
    pub name: Ident,
    pub events: Vec<Path>,
    pub cond: Option<Expr>,
    pub clauses: Vec<RouteClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RouteClause {
    Assign(AssignTarget),
    Key(Vec<Expr>),
    Priority {
        value: i64,
        span: Span,
    },
    /// `rebalance`: choose again each time the route fires, instead of keeping an
    /// assignee who is a member of the target team (docs/language.md §8.3).
    Rebalance(Span),
    /// `notify TARGET [with template "t"]`: told when the route assigns the case.
    Notify(NotifyStep),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssignTarget {
    pub target: Target,
    pub strategy: Option<Ident>,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------
// SLA

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlaDecl {
    pub name: Ident,
    pub classes: Vec<Ident>,
    pub clauses: Vec<SlaClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlaClause {
    Start(Trigger),
    Stop(Trigger),
    Reset(Trigger),
    Pause {
        cond: Expr,
        span: Span,
    },
    Target(SlaTarget),
    Calendar(Ident),
    Warn {
        at: Expr,
        actions: Vec<SlaAction>,
        span: Span,
    },
    Breach {
        actions: Vec<SlaAction>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub event: Path,
    pub cond: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlaTarget {
    Fixed(Expr),
    By {
        field: Expr,
        arms: Vec<TargetArm>,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetArm {
    pub pattern: Pattern,
    pub value: Expr,
    pub span: Span,
}

/// What an SLA warning, breach or gate expiry does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlaAction {
    Escalate(Span),
    Notify(Target),
    Assign(Target),
    Deny(Span),
}

// ---------------------------------------------------------------------------------------
// Connectors, gates, automations

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectorDecl {
    pub name: Ident,
    pub actions: Vec<ActionDecl>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub effect: Option<Effect>,
    pub compensate: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    Money(Expr),
    Destructive(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateDecl {
    pub name: Ident,
    pub selectors: Vec<GateSelector>,
    pub cond: Option<Expr>,
    pub clauses: Vec<GateClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateSelector {
    /// `stripe.refund`
    Action(Path),
    /// `effect money`
    EffectMoney(Span),
    /// `effect destructive`
    EffectDestructive(Span),
    /// `automation`: every action an automation issues.
    Automation(Span),
    /// `automation NAME`: every action that automation issues (appended).
    AutomationNamed(Ident, Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GateClause {
    RequireApproval {
        team: Ident,
        /// `require N approvals from TEAM`: how many distinct approvers, and where N is.
        /// `None` is one approval (`require approval from TEAM`).
        quorum: Option<(i64, Span)>,
        span: Span,
    },
    RequireConfirmation(Span),
    RequireReview {
        team: Ident,
        span: Span,
    },
    Expire {
        after: Expr,
        actions: Vec<SlaAction>,
        span: Span,
    },
    /// `release when clear`: the gate releases what it holds once its condition no longer
    /// holds over the case facts.
    ReleaseWhenClear(Span),
    /// `notify TARGET [with template "t"]`: told when the gate holds a step.
    Notify(NotifyStep),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutomationDecl {
    pub name: Ident,
    pub clauses: Vec<AutomationClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AutomationClause {
    Version {
        value: i64,
        span: Span,
    },
    Owner(Ident),
    On {
        events: Vec<Path>,
        cond: Option<Expr>,
        span: Span,
    },
    Do {
        steps: Vec<DoStep>,
        span: Span,
    },
    Rollout(Rollout),
    Breaker(Breaker),
    /// `once per case` (docs/language.md §11.3).
    OncePerCase(Span),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rollout {
    pub shadow: bool,
    /// `sample P` for shadow, or the live percentage.
    pub percent: Option<Expr>,
    pub by: Vec<Expr>,
    pub span: Span,
    /// `rollout { … }`: a staged rollout; `shadow`/`percent` then say nothing (its `by`
    /// is `by`).
    pub stages: Option<Box<Stages>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breaker {
    /// The failure-rate threshold (`5%`).
    pub threshold: Expr,
    /// The window size in runs.
    pub window: i64,
    pub actions: Vec<BreakerAction>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakerAction {
    Halt(Span),
    Assign(Target),
    Notify(Target),
}

// ---------------------------------------------------------------------------------------
// Fixtures, tests, acceptance sets

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureDecl {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestDecl {
    pub name: StrLit,
    pub steps: Vec<TestStep>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TestStep {
    At {
        time: Expr,
        span: Span,
    },
    Advance {
        by: Expr,
        span: Span,
    },
    /// `given Event { .. }`: the expression is a typed record literal.
    Given {
        event: Expr,
        span: Span,
    },
    Stub {
        action: Path,
        retryable: bool,
        span: Span,
    },
    Expect {
        expectation: Expectation,
        span: Span,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expectation {
    Assigned(Target),
    Owner(Target),
    Class(Ident),
    /// `held [C.A] [by GATE]`: at least one of the two is given.
    Held {
        action: Option<Path>,
        gate: Option<Ident>,
    },
    Executed(Path),
    /// `not executed C.A`: no `executed` entry for that action.
    NotExecuted(Path),
    /// `refused [GATE]`: a `refused` entry (for that gate).
    Refused(Option<Ident>),
    /// `released [C.A]`: a held step (of that action) was later executed.
    Released(Option<Path>),
    Shadowed(Path),
    /// `escalated` optionally naming the gate, SLA or `owners` that escalated.
    Escalated(Option<Ident>),
    Notified(Target),
    Sla {
        name: Ident,
        state: Ident,
    },
    /// `status open|solved|closed`: the case's lifecycle status.
    Status(Ident),
    NoAction(Span),
    /// `stage AUTOMATION STAGE`: the automation's current rollout stage (appended).
    Stage {
        automation: Ident,
        stage: StageLit,
    },
    /// `executed C.A once`, `executed C.A N times`: exactly N `executed` entries for it.
    ExecutedTimes(Path, u32),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptanceDecl {
    pub name: Ident,
    pub clauses: Vec<AcceptanceClause>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptanceClause {
    Samples(StrLit),
    /// `precision >= 95%`, `recall >= 80%`, `false_positive_rate <= 2%`.
    Threshold {
        metric: Ident,
        op: BinOp,
        value: Expr,
        span: Span,
    },
}

/// `table NAME from "FILE" key COLUMN { column: Type, … }` (docs/language.md §5.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDecl {
    pub name: Ident,
    /// The CSV file, relative to the declaring module's file.
    pub file: StrLit,
    pub key: Ident,
    pub columns: Vec<FieldDecl>,
}

/// `aggregate NAME[key: T] [over D] [keep N keys] { on E by KEY [when C]  field: T = op … }`
/// (docs/language.md §5.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateDecl {
    pub name: Ident,
    /// The key's name (for people) and type: `[client_id: String]`.
    pub key: FieldDecl,
    /// `over D`: the window, in seconds, and where it is written.
    pub window: Option<(i64, Span)>,
    /// `keep N keys`.
    pub keep: Option<(i64, Span)>,
    pub feeds: Vec<AggFeedDecl>,
    /// `open cases by KEY [when COND]` (at most one; the checker says so).
    pub cases: Vec<AggCasesDecl>,
    pub fields: Vec<AggFieldDecl>,
}

/// `open cases by KEY [when COND]`: the case lifecycle feeds the aggregate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggCasesDecl {
    pub key: Expr,
    pub when: Option<Expr>,
    pub span: Span,
}

/// `on E, F by KEY [when COND]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggFeedDecl {
    pub events: Vec<Path>,
    pub key: Expr,
    pub when: Option<Expr>,
    pub span: Span,
}

/// `name: Type = count | sum(EXPR) | latest(EXPR)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggFieldDecl {
    pub field: FieldDecl,
    pub op: AggOpDecl,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AggOpDecl {
    Count(Span),
    Sum(Expr),
    Latest(Expr),
}
