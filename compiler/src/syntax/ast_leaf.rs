//! The leaves of the syntax tree: identifiers, dotted paths, string, time and date
//! literals, each with its span. Every other AST module uses them (read them through `ast::`).

use crate::source::Span;

/// An identifier with its location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name such as `billing.refunds` or `Tier.Gold`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Path {
    pub segments: Vec<Ident>,
    pub span: Span,
}

impl Path {
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
    pub fn last(&self) -> &Ident {
        self.segments
            .last()
            .expect("grammar: a path has at least one segment")
    }
}

/// A string literal: its decoded value and the span of the quoted text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A time of day as written (`09:00`, `24:00`). Range validation happens in the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeLit {
    pub hour: u32,
    pub minute: u32,
    pub span: Span,
}

/// A calendar date as written (`2026-12-25`). Validation happens in the checker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DateLit {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub span: Span,
}
