//! Building the owned AST from pest's parse tree (CST → AST): one method per grammar rule,
//! on [`Builder`]. Declarations and their parts are in `items.rs`, the operational rules
//! (classify, owners, routes, SLAs, connectors, gates, automations, tests) in `rules.rs`,
//! expressions in `expr.rs`. `parser.rs` is the entry that runs pest and hands pairs here.
//!
//! Not to be confused with `lower/` (AST → IR). The grammar guarantees the shapes that the
//! `expect("grammar: …")` calls document.

use std::cell::{Cell, RefCell};

use pest::Parser;
use pest::iterators::Pair;

use super::ast::*;
use super::errors;
use super::grammar::{MeshParser, Rule};
use super::trivia::{self, DocIndex};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;

mod aggregate;
mod expr;
mod items;
mod lifecycle;
mod rollout;
mod rules;
mod table;

pub(in crate::syntax) struct Builder<'t> {
    pub(super) file: FileName,
    pub(super) text: &'t str,
    pub(super) docs: DocIndex,
    pub(super) diags: RefCell<Vec<Diagnostic>>,
    /// The next expression's [`ExprId`]: expressions are numbered as they are built.
    pub(super) next_expr: Cell<u32>,
}

pub(super) fn span(p: &Pair<'_, Rule>) -> Span {
    // pest includes the whitespace skipped before a failed repetition; drop it.
    let s = p.as_span();
    let trimmed = p.as_str().trim_end().len();
    Span::new(s.start(), s.start() + trimmed)
}

pub(super) fn strip_underscores(s: &str) -> String {
    s.chars().filter(|c| *c != '_').collect()
}

impl<'t> Builder<'t> {
    pub(in crate::syntax) fn new(file: &FileName, text: &'t str, docs: DocIndex) -> Builder<'t> {
        Builder {
            file: file.clone(),
            text,
            docs,
            diags: RefCell::new(Vec::new()),
            next_expr: Cell::new(0),
        }
    }

    /// The diagnostics found while building (bad literals, escapes, recovered junk).
    pub(in crate::syntax) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diags.into_inner()
    }

    pub(super) fn error(
        &self,
        code: Code,
        at: Span,
        message: impl Into<String>,
        label: impl Into<String>,
    ) {
        self.diags
            .borrow_mut()
            .push(Diagnostic::new(code, &self.file, at, message, label));
    }

    pub(super) fn doc(&self, at: Span) -> Option<String> {
        self.docs.doc_before(self.text, at.start as usize)
    }

    /// Text that is not a declaration. `previous_item` is where the declaration right before
    /// it starts, if there is one.
    pub(in crate::syntax) fn junk(
        &self,
        pair: Pair<'_, Rule>,
        previous_item: Option<usize>,
    ) -> Item {
        let sp = span(&pair);
        let slice = pair.as_str();
        // Junk that does not start a declaration usually continues the one before it
        // (`let a = 1 +`, `a or or b`): re-parse both together, so the error says what that
        // declaration expected where it broke.
        if let Some(start) = previous_item
            && !trivia::starts_declaration(slice)
        {
            let end = pair.as_span().end();
            let whole = &self.text[start..end];
            if let Err(err) = errors::with_detail(|| MeshParser::parse(Rule::item_only, whole)) {
                let diag = errors::to_diagnostic(&self.file, self.text, start, &err);
                if diag.primary.span.start >= sp.start {
                    self.diags.borrow_mut().push(diag);
                    return Item {
                        doc: None,
                        kind: ItemKind::Error(trivia::broken_head(whole)),
                        span: sp,
                    };
                }
            }
        }
        let diag = match errors::with_detail(|| MeshParser::parse(Rule::item_only, slice)) {
            Err(err) => errors::to_diagnostic(&self.file, self.text, sp.start as usize, &err),
            Ok(_) => Diagnostic::new(
                Code::Syntax,
                &self.file,
                sp,
                "unexpected text",
                "not part of any declaration",
            ),
        };
        self.diags.borrow_mut().push(diag);
        Item {
            doc: None,
            kind: ItemKind::Error(trivia::broken_head(slice)),
            span: sp,
        }
    }

    pub(in crate::syntax) fn item(&self, pair: Pair<'_, Rule>) -> Item {
        let decl = pair
            .into_inner()
            .next()
            .expect("grammar: item has a declaration");
        let sp = span(&decl);
        let doc = self.doc(sp);
        let kind = match decl.as_rule() {
            Rule::import_decl => ItemKind::Import(self.import(decl)),
            Rule::enum_decl => ItemKind::Enum(self.enum_decl(decl)),
            Rule::record_decl => ItemKind::Record(self.record(decl)),
            Rule::event_decl => ItemKind::Event(self.record(decl)),
            Rule::let_decl => ItemKind::Let(self.let_decl(decl)),
            Rule::fn_decl => ItemKind::Fn(self.fn_decl(decl)),
            Rule::calendar_decl => ItemKind::Calendar(self.calendar(decl)),
            Rule::team_decl => ItemKind::Team(self.team(decl)),
            Rule::classify_decl => ItemKind::Classify(self.classify(decl)),
            Rule::owners_decl => ItemKind::Owners(self.owners(decl)),
            Rule::route_decl => ItemKind::Route(self.route(decl)),
            Rule::sla_decl => ItemKind::Sla(self.sla(decl)),
            Rule::connector_decl => ItemKind::Connector(self.connector(decl)),
            Rule::gate_decl => ItemKind::Gate(self.gate(decl)),
            Rule::automation_decl => ItemKind::Automation(self.automation(decl)),
            Rule::fixture_decl => ItemKind::Fixture(self.fixture(decl)),
            Rule::test_decl => ItemKind::Test(self.test(decl)),
            Rule::acceptance_decl => ItemKind::Acceptance(self.acceptance(decl)),
            Rule::lifecycle_decl => ItemKind::Lifecycle(self.lifecycle(decl)),
            Rule::table_decl => ItemKind::Table(self.table(decl)),
            Rule::aggregate_decl => ItemKind::Aggregate(self.aggregate(decl)),
            Rule::extend_decl => ItemKind::Extend(self.extend(decl)),
            _ => ItemKind::Error(BrokenDecl::default()),
        };
        Item {
            doc,
            kind,
            span: sp,
        }
    }
}
