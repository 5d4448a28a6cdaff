//! Why a JSON value does not fit its declared type (an envelope's `data`, an action's
//! arguments): where in the value, and what was wrong. `Display` is the text a `rejected`
//! entry records (docs/runtime.md, "Applying an event").

use std::fmt;

/// One step into a value: a record field or a list element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathStep {
    Field(String),
    Index(usize),
}

/// What was wrong at the place the path leads to.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// Not a value of the type: what was expected, and the JSON found (shortened).
    Expected { what: String, found: String },
    /// Not one of an enum's variants.
    NotAVariant {
        enum_name: String,
        variants: Vec<String>,
        found: String,
    },
    /// A key the record or event does not declare (and the fields it does).
    UnknownField { field: String, fields: Vec<String> },
    /// A required field is absent or `null`.
    MissingField(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    /// Outermost step first.
    pub path: Vec<PathStep>,
    pub problem: Problem,
}

impl DecodeError {
    pub(crate) fn new(problem: Problem) -> DecodeError {
        DecodeError {
            path: Vec::new(),
            problem,
        }
    }

    /// The same error, one step further out.
    pub(crate) fn within(mut self, step: PathStep) -> DecodeError {
        self.path.insert(0, step);
        self
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for step in &self.path {
            match step {
                PathStep::Field(name) => write!(f, "field `{name}`: ")?,
                PathStep::Index(i) => write!(f, "[{i}]: ")?,
            }
        }
        match &self.problem {
            Problem::Expected { what, found } => write!(f, "expected {what}, found {found}"),
            Problem::NotAVariant {
                enum_name,
                variants,
                found,
            } => write!(
                f,
                "expected one of {} ({enum_name}), found {found}",
                variants.join(", ")
            ),
            Problem::UnknownField { field, fields } => {
                write!(f, "unknown field `{field}` (fields: {})", fields.join(", "))
            }
            Problem::MissingField(name) => write!(f, "missing field `{name}`"),
        }
    }
}

impl std::error::Error for DecodeError {}
