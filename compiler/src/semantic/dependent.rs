//! Errors that depend on a declaration that did not parse are not reported.
//!
//! A declaration with a syntax error is skipped by the checks; what it would have declared
//! or used is unknown. Reporting the consequences ("the project has no `owners` block",
//! "unknown SLA policy `first_reply`", "team `ops` is never used") would bury the one error
//! that matters under errors that go away with it. The parser records each broken
//! declaration's keyword and name ([`crate::syntax::ast::BrokenDecl`]), the project index
//! collects them, and [`suppress`] drops the diagnostics they make unreliable. The rules are
//! listed in docs/diagnostics.md, "Declarations that did not parse".

use super::index::ProjectIndex;
use crate::diagnostics::{Code, Diagnostic};

/// What the broken declarations of a project make unreliable.
#[derive(Debug, Default)]
struct Unreliable {
    /// Any declaration did not parse: it may be the one that uses a name or an import.
    usage: bool,
    /// An `owners` or `classify` did not parse: the ownership checks cannot be trusted.
    ownership: bool,
    /// Names declared by broken declarations: "unknown" reports about them are knock-ons.
    names: Vec<String>,
}

impl Unreliable {
    fn of(index: &ProjectIndex) -> Unreliable {
        let mut u = Unreliable::default();
        for b in index.broken() {
            u.usage = true;
            if matches!(b.keyword.as_deref(), Some("owners" | "classify")) {
                u.ownership = true;
            }
            if let Some(n) = &b.name {
                u.names.push(n.clone());
            }
        }
        u
    }

    /// Is `d` (in a file whose text is `text`) a consequence of a broken declaration?
    fn explains(&self, d: &Diagnostic, text: &str) -> bool {
        match d.code {
            Code::Unused | Code::UnusedImport => self.usage,
            Code::OwnershipNotTotal | Code::ClassifyCount => self.ownership,
            Code::UnknownName | Code::UnknownType | Code::UnknownImport | Code::UnknownVariant => {
                let named = text.get(d.primary.span.range()).unwrap_or("");
                !named.is_empty()
                    && self
                        .names
                        .iter()
                        .any(|n| named == n || named.split('.').any(|seg| seg.trim() == n.as_str()))
            }
            _ => false,
        }
    }
}

/// `diags` (of the file whose text is `text`) without those that depend on a declaration
/// that did not parse. Syntax errors themselves are never dropped.
pub fn suppress(index: &ProjectIndex, text: &str, diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let u = Unreliable::of(index);
    if !u.usage {
        return diags;
    }
    diags
        .into_iter()
        .filter(|d| matches!(d.code, Code::Syntax | Code::TooDeep) || !u.explains(d, text))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::{Code, FileName};
    use crate::project::{Manifest, ProjectFiles, SourceText};

    /// Every diagnostic code of an in-memory one-module project.
    fn codes(text: &str) -> Vec<(Code, String)> {
        let project = ProjectFiles {
            root: "mem".into(),
            manifest: Manifest {
                name: "mem".into(),
                version: "0.0.0".into(),
                sources: "rules".into(),
            },
            files: vec![SourceText {
                name: FileName::from("rules/main.mesh"),
                module: "main".into(),
                text: text.into(),
            }],
            manifest_text: None,
            diagnostics: Vec::new(),
            data: Vec::new(),
        };
        let db = crate::db::Database::default();
        let handle = crate::db::load_project(&db, &project);
        crate::db::project_diagnostics(&db, handle)
            .into_iter()
            .map(|d| (d.code, d.message))
            .collect()
    }

    const BASE: &str = "import std.helpdesk.{TicketCreated}\n\
        enum TicketClass { Billing, Triage }\n\
        classify TicketClass on TicketCreated {\n  Billing when ticket.tags contains \"r\"\n  otherwise Triage\n}\n\
        team ops { members [\"ana@agency.io\"] }\n";

    #[test]
    fn a_broken_owners_block_reports_only_its_syntax_error() {
        let text = format!(
            "{BASE}owners {{\n  Billing -> ops escalate ops\n  Triage -> ops escalate ops\n  acknowledge within 30 minutes\n}}\n"
        );
        let found = codes(&text);
        assert_eq!(
            found.iter().map(|(c, _)| *c).collect::<Vec<_>>(),
            [Code::Syntax],
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_owners_block_is_still_reported() {
        let found = codes(BASE);
        assert!(
            found.iter().any(|(c, _)| *c == Code::OwnershipNotTotal),
            "{found:?}"
        );
    }

    #[test]
    fn names_of_broken_declarations_are_not_unknown() {
        let text = format!(
            "{BASE}owners {{\n  Billing -> ops escalate ops\n  Triage -> ops escalate ops\n}}\n\
             let limit 250 USD\n\
             fn over(a: Money) -> Bool = a > limit\n\
             fn typo(a: Money) -> Bool = a > limt\n"
        );
        let found = codes(&text);
        let unknown: Vec<&String> = found
            .iter()
            .filter(|(c, _)| *c == Code::UnknownName)
            .map(|(_, m)| m)
            .collect();
        // `limt` is a typo, not a knock-on: still reported.
        assert_eq!(unknown.len(), 1, "{found:?}");
        assert!(unknown[0].contains("limt"), "{found:?}");
    }
}
