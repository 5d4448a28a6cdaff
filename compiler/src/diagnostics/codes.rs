//! Every diagnostic code, declared once: code, default severity, and a short title.
//!
//! Codes are stable and never reused. Ranges: E00xx syntax and input · E01xx names, imports
//! and duplicates · E02xx types and units · E03xx exhaustiveness and recursion · E04xx safety
//! (ownership, routes, gates) · E05xx SLA/automation/gate/test structure · E06xx literal
//! values (regex, time zones, dates, calendars) · W0xxx warnings.
//! `docs/diagnostics.md` has a section per code and `tests/` a fixture per code (a meta-test
//! enforces both).

use super::Severity;

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
            /// The code as written in output and docs, e.g. `E0101`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }
            /// A short title, used as the SARIF rule name and in `docs/diagnostics.md`.
            pub fn title(self) -> &'static str {
                match self { $( Code::$variant => $title, )* }
            }
            #[expect(clippy::should_implement_trait, reason = "an Option, not a Result with an error type")]
            pub fn from_str(s: &str) -> Option<Code> {
                match s { $( $code => Some(Code::$variant), )* _ => None }
            }
        }
    };
}

codes! {
    Syntax = "E0001", Error, "syntax error";
    TooDeep = "E0002", Error, "input too deeply nested or too long";
    InvalidLiteral = "E0003", Error, "invalid literal";
    InvalidFile = "E0004", Error, "unreadable source file";
    InvalidManifest = "E0005", Error, "invalid project manifest";

    DuplicateName = "E0101", Error, "duplicate name";
    UnknownName = "E0102", Error, "unknown name";
    UnknownType = "E0103", Error, "unknown type";
    UnknownModule = "E0104", Error, "unknown module";
    UnknownImport = "E0105", Error, "imported name not found";
    ImportConflict = "E0106", Error, "import conflicts with another name";
    UnknownField = "E0107", Error, "unknown field";
    UnknownVariant = "E0108", Error, "unknown enum variant";
    WrongKind = "E0109", Error, "name of the wrong kind";
    FactNameClash = "E0110", Error, "top-level name equals a case fact";
    DuplicateEvent = "E0111", Error, "two receivable events with one name";
    ClassifyCount = "E0112", Error, "a project needs exactly one classify and one owners";

    TypeMismatch = "E0201", Error, "type mismatch";
    CurrencyMismatch = "E0202", Error, "currency mismatch";
    BadOperands = "E0203", Error, "operator not defined for these types";
    FactTypeConflict = "E0204", Error, "case fact has different types in different events";
    OptionalMisuse = "E0205", Error, "optional value used where a value is required";
    BadArguments = "E0206", Error, "wrong arguments in call";
    MissingField = "E0207", Error, "missing record field";
    NeedsContext = "E0208", Error, "type cannot be inferred";

    NonExhaustive = "E0301", Error, "non-exhaustive match";
    MissingOtherwise = "E0302", Error, "classify without otherwise";
    Recursion = "E0303", Error, "recursive function";

    OwnershipNotTotal = "E0401", Error, "ownership is not total";
    UngatedAction = "E0403", Error, "ungated money or destructive action";
    MissingEscalation = "E0404", Error, "owner without escalation owner";
    EmptyWaiver = "E0405", Error, "waiver without a reason";
    AmbiguousRoute = "E0406", Error, "ambiguous routes";

    SlaWithoutBreach = "E0501", Error, "SLA without breach action";
    AutomationWithoutOwner = "E0502", Error, "automation without owner";
    AutomationWithoutVersion = "E0503", Error, "automation without version";
    SlaStructure = "E0504", Error, "SLA missing start or target";
    AutomationStructure = "E0505", Error, "automation missing trigger or steps";
    DuplicateClause = "E0506", Error, "clause given twice";
    GateStructure = "E0507", Error, "gate without requirement";
    TestStructure = "E0508", Error, "invalid test step";
    OutOfRange = "E0509", Error, "value out of range";
    TableFile = "E0520", Error, "table file missing or unreadable";
    TableRow = "E0521", Error, "table row does not match its columns";
    DuplicateKey = "E0522", Error, "two table rows with one key";
    TableDecl = "E0523", Error, "invalid table column";
    AlwaysSet = "E0524", Error, "`is set` on a value that is always set";
    WaitDuration = "E0540", Error, "wait without a fixed positive duration";
    WaitWithoutTimeout = "E0541", Error, "`wait until` without `within`";
    WaitCondition = "E0542", Error, "`wait until` condition is not a Bool";
    ReleaseWithoutCondition = "E0543", Error, "`release when clear` on a gate without a condition";
    AggregateStructure = "E0570", Error, "aggregate without events or fields";
    AggregateWindow = "E0571", Error, "aggregate window or key cap out of range";
    AggregateKey = "E0572", Error, "invalid aggregate key";
    AggregateLookupKey = "E0573", Error, "aggregate looked up with a key of another type";
    AggregateSum = "E0574", Error, "sum over a value that is not a number";
    AggregateFieldType = "E0575", Error, "aggregate field declared with the wrong type";
    OpenCasesShape = "E0576", Error, "aggregate of open cases with events, a window or a key cap";
    OpenCasesField = "E0577", Error, "aggregate of open cases with a field that is not `count`";
    NotAFact = "E0580", Error, "`changed`/`previous` on something that is not a case fact";
    NotAList = "E0581", Error, "`all`/`any` over something that is not a list";
    BadExtension = "E0582", Error, "extending something that is not a standard record";
    ExtensionClash = "E0583", Error, "an added field clashes with an existing one";
    ExtensionNotOptional = "E0584", Error, "an added field is not optional";
    StageUnreachable = "E0590", Error, "rollout stage unreachable";
    StageNotWider = "E0591", Error, "promotion does not widen the rollout";
    UnknownMetric = "E0592", Error, "unknown rollout metric";
    AgreementWithoutEvent = "E0593", Error, "`agreement` without an agreement event";
    MetricNotMeasured = "E0594", Error, "metric not measured in that stage";
    TripsWithoutBreaker = "E0595", Error, "`breaker trips` without a breaker";
    StageDuration = "E0596", Error, "rollout duration not fixed and positive";

    InvalidRegex = "E0601", Error, "invalid regular expression";
    InvalidTimezone = "E0602", Error, "unknown time zone";
    InvalidDate = "E0603", Error, "invalid date";
    InvalidTime = "E0604", Error, "invalid time of day or interval";
    NoOpenHours = "E0605", Error, "calendar has no open hours";
    InvalidDay = "E0606", Error, "invalid day name";
    InvalidPerson = "E0607", Error, "invalid person";

    Unused = "W0001", Warning, "unused declaration";
    UnusedImport = "W0002", Warning, "unused import";
    NeedlessUnwrap = "W0003", Warning, "`!` on a value that is not optional";
    UndecidedRouteOverlap = "W0004", Warning, "route overlap undecided: source order decides";
    UnreachableRoute = "W0005", Warning, "route can never win";
    ShadowedClassifyArm = "W0006", Warning, "classify arm shadowed by earlier arms";
    UnreachableMatchArm = "W0007", Warning, "unreachable match arm";
    NeverTrue = "W0008", Warning, "condition can never be true";
    ConflictingGates = "W0009", Warning, "gates with conflicting requirements";
}
