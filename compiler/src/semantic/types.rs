//! Semantic types and the compatibility rules of the brief's §2 and §7.3.
//!
//! There are no implicit conversions; the only places a value of one type is accepted
//! where another is expected are listed in [`accepts`]: `T` for `T?`, `none` and `[]` taking
//! their type from context, a team or person for `Assignee`, and the error type (already
//! reported) for anything, so that one mistake is reported once.

use std::fmt;

/// A declaration of the data namespace: (module, name), e.g. (`std.helpdesk`, `Ticket`).
/// Shared text: types are copied into every expression's inference result, and a copy
/// must not allocate (docs/performance.md, "one inference result per module").
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId {
    pub module: std::sync::Arc<str>,
    pub name: std::sync::Arc<str>,
}

impl DefId {
    pub fn new(module: &str, name: &str) -> DefId {
        DefId {
            module: module.into(),
            name: name.into(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
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
    /// A team or a person (`assignee`).
    Assignee,
    Enum(DefId),
    Record(DefId),
    Event(DefId),
    List(Box<Ty>),
    Optional(Box<Ty>),
    /// `none` before its context gives it a type.
    NoneLit,
    /// `[]` before its context gives it a type.
    EmptyList,
    /// `event`: the triggering envelope (`id`, `at`, `type`).
    Envelope,
    /// `case`: `id`, `opened_at`.
    CaseInfo,
    /// Already reported; accepted everywhere so one mistake gives one diagnostic.
    Error,
}

impl Ty {
    /// Built-in type names usable in type positions.
    pub fn builtin(name: &str) -> Option<Ty> {
        Some(match name {
            "Bool" => Ty::Bool,
            "Int" => Ty::Int,
            "Decimal" => Ty::Decimal,
            "Money" => Ty::Money,
            "Percent" => Ty::Percent,
            "Duration" => Ty::Duration,
            "BusinessDuration" => Ty::BusinessDuration,
            "Date" => Ty::Date,
            "TimeOfDay" => Ty::TimeOfDay,
            "Time" => Ty::Time,
            "String" => Ty::String,
            "Person" => Ty::Person,
            "Team" => Ty::Team,
            "Calendar" => Ty::Calendar,
            "Assignee" => Ty::Assignee,
            _ => return None,
        })
    }

    pub fn optional(self) -> Ty {
        match self {
            Ty::Optional(_) | Ty::NoneLit | Ty::Error => self,
            other => Ty::Optional(Box::new(other)),
        }
    }

    /// `T` for `T?`, else itself.
    pub fn strip_optional(&self) -> &Ty {
        match self {
            Ty::Optional(inner) => inner,
            other => other,
        }
    }

    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_) | Ty::NoneLit)
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    /// Types with `<`, `<=`, `>`, `>=`.
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Ty::Int
                | Ty::Decimal
                | Ty::Money
                | Ty::Percent
                | Ty::Duration
                | Ty::BusinessDuration
                | Ty::Date
                | Ty::TimeOfDay
                | Ty::Time
                | Ty::String
                | Ty::Error
        )
    }

    /// Durations of either kind (SLA targets, TTLs, expiry).
    pub fn is_duration_like(&self) -> bool {
        matches!(self, Ty::Duration | Ty::BusinessDuration | Ty::Error)
    }

    pub fn enum_def(&self) -> Option<&DefId> {
        match self.strip_optional() {
            Ty::Enum(d) => Some(d),
            _ => None,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Bool => f.write_str("Bool"),
            Ty::Int => f.write_str("Int"),
            Ty::Decimal => f.write_str("Decimal"),
            Ty::Money => f.write_str("Money"),
            Ty::Percent => f.write_str("Percent"),
            Ty::Duration => f.write_str("Duration"),
            Ty::BusinessDuration => f.write_str("BusinessDuration"),
            Ty::Date => f.write_str("Date"),
            Ty::TimeOfDay => f.write_str("TimeOfDay"),
            Ty::Time => f.write_str("Time"),
            Ty::String => f.write_str("String"),
            Ty::Person => f.write_str("Person"),
            Ty::Team => f.write_str("Team"),
            Ty::Calendar => f.write_str("Calendar"),
            Ty::Assignee => f.write_str("Assignee"),
            Ty::Enum(d) | Ty::Record(d) | Ty::Event(d) => f.write_str(&d.name),
            Ty::List(t) => write!(f, "List<{t}>"),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::NoneLit => f.write_str("none"),
            Ty::EmptyList => f.write_str("List<_>"),
            Ty::Envelope => f.write_str("Envelope"),
            Ty::CaseInfo => f.write_str("Case"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

/// Is a value of type `actual` accepted where `expected` is required?
pub fn accepts(expected: &Ty, actual: &Ty) -> bool {
    if expected == actual || expected.is_error() || actual.is_error() {
        return true;
    }
    match (expected, actual) {
        (Ty::Optional(_), Ty::NoneLit) => true,
        (Ty::Optional(e), Ty::Optional(a)) => accepts(e, a),
        (Ty::Optional(e), a) => accepts(e, a),
        (Ty::List(_), Ty::EmptyList) => true,
        (Ty::List(e), Ty::List(a)) => accepts(e, a),
        (Ty::Assignee, Ty::Team | Ty::Person) => true,
        _ => false,
    }
}

/// The common type of two branches or list elements, if there is one.
pub fn unify(a: &Ty, b: &Ty) -> Option<Ty> {
    if accepts(a, b) {
        return Some(if a.is_error() { b.clone() } else { a.clone() });
    }
    if accepts(b, a) {
        return Some(b.clone());
    }
    match (a, b) {
        (Ty::NoneLit, other) | (other, Ty::NoneLit) => Some(other.clone().optional()),
        (Ty::Optional(x), y) | (y, Ty::Optional(x)) => unify(x, y).map(Ty::optional),
        _ => None,
    }
}

/// Can values of these types be compared with `==` / `!=`?
pub fn comparable(a: &Ty, b: &Ty) -> bool {
    accepts(a, b) || accepts(b, a) || accepts(a.strip_optional(), b.strip_optional())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optional_and_context_rules() {
        assert!(accepts(&Ty::Money.optional(), &Ty::Money));
        assert!(accepts(&Ty::Money.optional(), &Ty::NoneLit));
        assert!(!accepts(&Ty::Money, &Ty::Money.optional()));
        assert!(accepts(&Ty::List(Box::new(Ty::String)), &Ty::EmptyList));
        assert!(accepts(&Ty::Assignee, &Ty::Team));
        assert!(!accepts(&Ty::Int, &Ty::Decimal));
        assert_eq!(unify(&Ty::NoneLit, &Ty::Int), Some(Ty::Int.optional()));
        assert!(comparable(&Ty::Int.optional(), &Ty::Int));
        assert_eq!(
            Ty::List(Box::new(Ty::Money.optional())).to_string(),
            "List<Money?>"
        );
    }
}
