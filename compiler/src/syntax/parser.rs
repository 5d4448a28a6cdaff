//! Parsing: pest grammar → owned AST, with per-declaration recovery.
//!
//! [`parse`] never fails and never panics: text that is not a declaration becomes an
//! [`ItemKind::Error`] item with an E0001 diagnostic (what was expected, in words), and the
//! declarations around it parse normally. Chunks too deep for a recursive parser are blanked
//! first (see `trivia.rs`).
//!
//! INVARIANT: pest `Pair`s never leave this module; each `lower_*` function turns one grammar
//! rule into AST. The grammar guarantees the shapes that the `expect("grammar: …")` calls
//! document.

use std::cell::RefCell;
use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use super::ast::*;
use super::errors;
use super::trivia::{self, DocIndex};
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/mesh.pest"]
pub struct MeshParser;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left)
            | Op::infix(Rule::op_in, Assoc::Left)
            | Op::infix(Rule::op_contains, Assoc::Left)
            | Op::infix(Rule::op_matches, Assoc::Left)
            | Op::infix(Rule::op_starts_with, Assoc::Left))
        .op(Op::infix(Rule::op_coalesce, Assoc::Right))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left) | Op::infix(Rule::op_div, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
});

/// Parse one module. Syntax errors come back as diagnostics; the module holds every
/// declaration that parsed.
pub fn parse(file: &FileName, text: &str) -> (Module, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    // Blank chunks that are too deep to parse safely; spans stay valid (same length).
    let oversized = trivia::oversized_chunks(text);
    let blanked;
    let src: &str = if oversized.is_empty() {
        text
    } else {
        let mut bytes = text.as_bytes().to_vec();
        for (span, why) in &oversized {
            for b in &mut bytes[span.range()] {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            diags.push(
                Diagnostic::new(
                    Code::TooDeep,
                    file,
                    Span::new(span.start as usize, span.start as usize + 1),
                    format!("declaration skipped: {why}"),
                    "this declaration",
                )
                .with_note(format!(
                    "Meshline accepts up to {} nested brackets and {} operators in one declaration",
                    trivia::MAX_DEPTH,
                    trivia::MAX_OPERATORS
                ))
                .with_help("split the expression into smaller `let` or `fn` declarations"),
            );
        }
        // Blanking replaced whole multi-byte characters only inside the chunk, with ASCII.
        blanked = String::from_utf8_lossy(&bytes).into_owned();
        &blanked
    };

    let comments = trivia::comments(src);
    let docs = DocIndex::new(src, &comments);
    let lower = Lower {
        file: file.clone(),
        text: src,
        docs,
        diags: RefCell::new(Vec::new()),
    };
    let mut items = Vec::new();
    match MeshParser::parse(Rule::file, src) {
        Ok(mut pairs) => {
            let file_pair = pairs.next().expect("grammar: file");
            let mut previous_item: Option<usize> = None;
            for pair in file_pair.into_inner() {
                match pair.as_rule() {
                    Rule::item => {
                        previous_item = Some(pair.as_span().start());
                        items.push(lower.item(pair));
                    }
                    Rule::junk => items.push(lower.junk(pair, previous_item.take())),
                    _ => {}
                }
            }
        }
        // `file` accepts any text through `junk`; this only happens on pest's call limit.
        Err(err) => diags.push(errors::to_diagnostic(file, src, 0, &err)),
    }
    diags.extend(lower.diags.into_inner());
    (Module { items, comments }, diags)
}

/// Parse a standalone expression (used by tests and the language server).
pub fn parse_expr(file: &FileName, text: &str) -> (Option<Expr>, Vec<Diagnostic>) {
    if !trivia::oversized_chunks(text).is_empty() {
        let d = Diagnostic::new(
            Code::TooDeep,
            file,
            Span::at(0),
            "expression too deeply nested",
            "here",
        );
        return (None, vec![d]);
    }
    let lower = Lower {
        file: file.clone(),
        text,
        docs: DocIndex::default(),
        diags: RefCell::new(Vec::new()),
    };
    match MeshParser::parse(Rule::expr_only, text) {
        Ok(mut pairs) => {
            let top = pairs.next().expect("grammar: expr_only");
            let expr = top.into_inner().next().map(|p| lower.expr(p));
            (expr, lower.diags.into_inner())
        }
        Err(_) => {
            let err = errors::with_detail(|| MeshParser::parse(Rule::expr_only, text).err());
            let d = err.map(|e| errors::to_diagnostic(file, text, 0, &e));
            (None, d.into_iter().collect())
        }
    }
}

struct Lower<'t> {
    file: FileName,
    text: &'t str,
    docs: DocIndex,
    diags: RefCell<Vec<Diagnostic>>,
}

fn span(p: &Pair<'_, Rule>) -> Span {
    // pest includes the whitespace skipped before a failed repetition; drop it.
    let s = p.as_span();
    let trimmed = p.as_str().trim_end().len();
    Span::new(s.start(), s.start() + trimmed)
}

fn strip_underscores(s: &str) -> String {
    s.chars().filter(|c| *c != '_').collect()
}

impl<'t> Lower<'t> {
    fn error(&self, code: Code, at: Span, message: impl Into<String>, label: impl Into<String>) {
        self.diags
            .borrow_mut()
            .push(Diagnostic::new(code, &self.file, at, message, label));
    }

    fn doc(&self, at: Span) -> Option<String> {
        self.docs.doc_before(self.text, at.start as usize)
    }

    /// Text that is not a declaration. `previous_item` is where the declaration right before
    /// it starts, if there is one.
    fn junk(&self, pair: Pair<'_, Rule>, previous_item: Option<usize>) -> Item {
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
                        kind: ItemKind::Error,
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
            kind: ItemKind::Error,
            span: sp,
        }
    }

    fn item(&self, pair: Pair<'_, Rule>) -> Item {
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
            _ => ItemKind::Error,
        };
        Item {
            doc,
            kind,
            span: sp,
        }
    }

    // --- words -------------------------------------------------------------------------

    fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: span(&p),
        }
    }

    fn path(&self, p: Pair<'_, Rule>) -> Path {
        let sp = span(&p);
        let segments = p.into_inner().map(|s| self.ident(s)).collect();
        Path { segments, span: sp }
    }

    fn string(&self, p: Pair<'_, Rule>) -> StrLit {
        let sp = span(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        StrLit {
            value: self.unescape(raw, sp),
            span: sp,
        }
    }

    fn unescape(&self, raw: &str, at: Span) -> String {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some('u') => {
                    // Exactly `\u{` 1–6 hex digits `}`; anything else is reported, not guessed.
                    let rest = chars.as_str();
                    let hex = rest
                        .strip_prefix('{')
                        .and_then(|r| r.find('}').map(|end| &r[..end]))
                        .filter(|h| {
                            (1..=6).contains(&h.len()) && h.chars().all(|c| c.is_ascii_hexdigit())
                        });
                    let Some(hex) = hex else {
                        self.error(
                            Code::InvalidLiteral,
                            at,
                            "invalid unicode escape: write `\\u{` with 1 to 6 hex digits and `}`, e.g. `\\u{1F600}`",
                            "in this string",
                        );
                        continue;
                    };
                    chars.nth(hex.len() + 1);
                    match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                        Some(ch) => out.push(ch),
                        None => self.error(
                            Code::InvalidLiteral,
                            at,
                            format!(
                                "invalid unicode escape `\\u{{{hex}}}`: not a Unicode character"
                            ),
                            "in this string",
                        ),
                    }
                }
                other => {
                    let shown = other.map(String::from).unwrap_or_default();
                    self.error(
                        Code::InvalidLiteral,
                        at,
                        format!("unknown escape `\\{shown}`"),
                        "in this string",
                    );
                    out.push_str(&shown);
                }
            }
        }
        out
    }

    fn int(&self, p: &Pair<'_, Rule>) -> i64 {
        let text = strip_underscores(p.as_str());
        text.parse::<i64>().unwrap_or_else(|_| {
            self.error(
                Code::InvalidLiteral,
                span(p),
                format!("integer `{}` is too large", p.as_str()),
                "does not fit in 64 bits",
            );
            0
        })
    }

    fn type_expr(&self, p: Pair<'_, Rule>) -> TypeExpr {
        let sp = span(&p);
        let mut inner = p.into_inner();
        let atom = inner.next().expect("grammar: type_expr has an atom");
        let base = match atom.as_rule() {
            Rule::list_type => {
                let elem = atom.clone().into_inner().next().expect("grammar: List<T>");
                TypeExpr {
                    kind: TypeExprKind::List(Box::new(self.type_expr(elem))),
                    span: span(&atom),
                }
            }
            _ => {
                let path = atom
                    .clone()
                    .into_inner()
                    .next()
                    .expect("grammar: named_type has a path");
                TypeExpr {
                    kind: TypeExprKind::Named(self.path(path)),
                    span: span(&atom),
                }
            }
        };
        if inner.next().is_some() {
            TypeExpr {
                kind: TypeExprKind::Optional(Box::new(base)),
                span: sp,
            }
        } else {
            base
        }
    }

    fn param(&self, p: Pair<'_, Rule>) -> Param {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: param name"));
        let ty = self.type_expr(i.next().expect("grammar: param type"));
        Param { name, ty }
    }

    fn target(&self, p: Pair<'_, Rule>) -> Target {
        let inner = p.into_inner().next().expect("grammar: target");
        match inner.as_rule() {
            Rule::string => Target::Person(self.string(inner)),
            _ => Target::Name(self.ident(inner)),
        }
    }

    fn event_list(&self, p: Pair<'_, Rule>) -> Vec<Path> {
        p.into_inner().map(|x| self.path(x)).collect()
    }

    // --- data ----------------------------------------------------------------------------

    fn import(&self, p: Pair<'_, Rule>) -> ImportDecl {
        let mut i = p.into_inner();
        let module = self.path(i.next().expect("grammar: import path"));
        let names = i
            .next()
            .map(|n| n.into_inner().map(|x| self.ident(x)).collect());
        ImportDecl { module, names }
    }

    fn enum_decl(&self, p: Pair<'_, Rule>) -> EnumDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: enum name"));
        let variants = i
            .map(|v| {
                let id = self.ident(v.into_inner().next().expect("grammar: variant"));
                Variant {
                    doc: self.doc(id.span),
                    name: id,
                }
            })
            .collect();
        EnumDecl { name, variants }
    }

    fn record(&self, p: Pair<'_, Rule>) -> RecordDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: record name"));
        let fields = i
            .map(|f| {
                let mut fi = f.into_inner();
                let name = self.ident(fi.next().expect("grammar: field name"));
                let ty = self.type_expr(fi.next().expect("grammar: field type"));
                FieldDecl {
                    doc: self.doc(name.span),
                    name,
                    ty,
                }
            })
            .collect();
        RecordDecl { name, fields }
    }

    fn let_decl(&self, p: Pair<'_, Rule>) -> LetDecl {
        let mut name = None;
        let mut ty = None;
        let mut value = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => name = Some(self.ident(x)),
                Rule::type_expr => ty = Some(self.type_expr(x)),
                _ => value = Some(self.expr(x)),
            }
        }
        LetDecl {
            name: name.expect("grammar: let name"),
            ty,
            value: value.expect("grammar: let value"),
        }
    }

    fn fn_decl(&self, p: Pair<'_, Rule>) -> FnDecl {
        let mut name = None;
        let mut params = Vec::new();
        let mut ret = None;
        let mut body = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => name = Some(self.ident(x)),
                Rule::param => params.push(self.param(x)),
                Rule::type_expr => ret = Some(self.type_expr(x)),
                _ => body = Some(self.expr(x)),
            }
        }
        FnDecl {
            name: name.expect("grammar: fn name"),
            params,
            ret: ret.expect("grammar: fn return type"),
            body: body.expect("grammar: fn body"),
        }
    }

    fn fixture(&self, p: Pair<'_, Rule>) -> FixtureDecl {
        let mut name = None;
        let mut ty = None;
        let mut value = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::ident => name = Some(self.ident(x)),
                Rule::type_expr => ty = Some(self.type_expr(x)),
                _ => value = Some(self.expr(x)),
            }
        }
        FixtureDecl {
            name: name.expect("grammar: fixture name"),
            ty,
            value: value.expect("grammar: fixture value"),
        }
    }

    // --- calendars and teams ------------------------------------------------------------

    fn time_lit(&self, p: &Pair<'_, Rule>) -> TimeLit {
        let s = p.as_str();
        let hour = s[0..2].parse().unwrap_or(99);
        let minute = s[3..5].parse().unwrap_or(99);
        TimeLit {
            hour,
            minute,
            span: span(p),
        }
    }

    fn date_lit(&self, p: &Pair<'_, Rule>) -> DateLit {
        let s = p.as_str();
        DateLit {
            year: s[0..4].parse().unwrap_or(0),
            month: s[5..7].parse().unwrap_or(0),
            day: s[8..10].parse().unwrap_or(0),
            span: span(p),
        }
    }

    fn calendar(&self, p: Pair<'_, Rule>) -> CalendarDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: calendar name"));
        let mut clauses = Vec::new();
        for c in i {
            match c.as_rule() {
                Rule::timezone_clause => {
                    let s = c.into_inner().next().expect("grammar: timezone string");
                    clauses.push(CalendarClause::Timezone(self.string(s)));
                }
                Rule::hours_clause => {
                    let sp = span(&c);
                    let mut days = Vec::new();
                    let mut times = Vec::new();
                    for x in c.into_inner() {
                        match x.as_rule() {
                            Rule::day_spec => {
                                let dsp = span(&x);
                                let mut di = x.into_inner();
                                let first = self.ident(di.next().expect("grammar: day"));
                                let last = di.next().map(|d| self.ident(d));
                                days.push(DaySpec {
                                    first,
                                    last,
                                    span: dsp,
                                });
                            }
                            _ => times.push(self.time_lit(&x)),
                        }
                    }
                    let (from, to) = (times[0], times[1]);
                    clauses.push(CalendarClause::Hours(HoursClause {
                        days,
                        from,
                        to,
                        span: sp,
                    }));
                }
                Rule::holidays_clause => {
                    let mut hs = Vec::new();
                    for h in c.into_inner() {
                        let inner = h.into_inner().next().expect("grammar: holiday");
                        match inner.as_rule() {
                            Rule::date_range => {
                                let mut d = inner.into_inner();
                                let a = self.date_lit(&d.next().expect("grammar: range start"));
                                let b = self.date_lit(&d.next().expect("grammar: range end"));
                                hs.push(Holiday::Range(a, b));
                            }
                            Rule::yearly_holiday => {
                                let md = inner.into_inner().next().expect("grammar: month-day");
                                let s = md.as_str();
                                hs.push(Holiday::Yearly {
                                    month: s[0..2].parse().unwrap_or(0),
                                    day: s[3..5].parse().unwrap_or(0),
                                    span: span(&md),
                                });
                            }
                            _ => hs.push(Holiday::Date(self.date_lit(&inner))),
                        }
                    }
                    clauses.push(CalendarClause::Holidays(hs));
                }
                _ => {}
            }
        }
        CalendarDecl { name, clauses }
    }

    fn team(&self, p: Pair<'_, Rule>) -> TeamDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: team name"));
        let clauses = i
            .map(|c| match c.as_rule() {
                Rule::members_clause => {
                    TeamClause::Members(c.into_inner().map(|s| self.string(s)).collect())
                }
                _ => TeamClause::Calendar(
                    self.ident(c.into_inner().next().expect("grammar: calendar name")),
                ),
            })
            .collect();
        TeamDecl { name, clauses }
    }

    // --- classify, owners, routes ---------------------------------------------------------

    fn classify(&self, p: Pair<'_, Rule>) -> ClassifyDecl {
        let sp = span(&p);
        let mut i = p.into_inner();
        let enum_name = self.path(i.next().expect("grammar: classify enum"));
        let events = self.event_list(i.next().expect("grammar: classify events"));
        let mut arms = Vec::new();
        let mut otherwise = None;
        for a in i {
            match a.as_rule() {
                Rule::classify_arm => {
                    let asp = span(&a);
                    let mut ai = a.into_inner();
                    let variant = self.ident(ai.next().expect("grammar: arm variant"));
                    let cond = self.expr(ai.next().expect("grammar: arm condition"));
                    arms.push(ClassifyArm {
                        variant,
                        cond,
                        span: asp,
                    });
                }
                _ => {
                    otherwise = a
                        .into_inner()
                        .find(|v| v.as_rule() == Rule::ident)
                        .map(|v| self.ident(v))
                }
            }
        }
        let header_end = arms.first().map_or(sp.end, |a| a.span.start);
        ClassifyDecl {
            enum_name,
            events,
            arms,
            otherwise,
            span_header: Span {
                start: sp.start,
                end: header_end,
            },
        }
    }

    fn owners(&self, p: Pair<'_, Rule>) -> OwnersDecl {
        let mut keyword = Span::default();
        let mut arms = Vec::new();
        let mut acknowledge = None;
        for a in p.into_inner() {
            match a.as_rule() {
                Rule::kw_owners => keyword = span(&a),
                Rule::owner_arm => {
                    let asp = span(&a);
                    let mut ai = a.into_inner();
                    let variant = self.ident(ai.next().expect("grammar: owner variant"));
                    let owner = self.ident(ai.next().expect("grammar: owner team"));
                    let escalate = ai.next().map(|e| self.ident(e));
                    arms.push(OwnerArm {
                        variant,
                        owner,
                        escalate,
                        span: asp,
                    });
                }
                _ => {
                    acknowledge = a
                        .into_inner()
                        .find(|e| e.as_rule() == Rule::expr)
                        .map(|e| self.expr(e))
                }
            }
        }
        OwnersDecl {
            arms,
            acknowledge,
            keyword,
        }
    }

    fn route(&self, p: Pair<'_, Rule>) -> RouteDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: route name"));
        let events = self.event_list(i.next().expect("grammar: route events"));
        let mut cond = None;
        let mut clauses = Vec::new();
        for c in i {
            match c.as_rule() {
                Rule::expr => cond = Some(self.expr(c)),
                Rule::assign_clause => {
                    let sp = span(&c);
                    let mut ci = c.into_inner();
                    let target = self.target(ci.next().expect("grammar: assign target"));
                    let strategy = ci.next().map(|s| self.ident(s));
                    clauses.push(RouteClause::Assign(AssignTarget {
                        target,
                        strategy,
                        span: sp,
                    }));
                }
                Rule::key_clause => clauses.push(RouteClause::Key(
                    c.into_inner().map(|e| self.expr(e)).collect(),
                )),
                Rule::priority_clause => {
                    let n = c.into_inner().next().expect("grammar: priority value");
                    clauses.push(RouteClause::Priority {
                        value: self.int(&n),
                        span: span(&n),
                    });
                }
                _ => {}
            }
        }
        RouteDecl {
            name,
            events,
            cond,
            clauses,
        }
    }

    // --- SLA ---------------------------------------------------------------------------

    fn trigger(&self, p: Pair<'_, Rule>) -> Trigger {
        let t = p.into_inner().next().expect("grammar: trigger");
        let sp = span(&t);
        let mut i = t.into_inner();
        let event = self.path(i.next().expect("grammar: trigger event"));
        let cond = i.next().map(|e| self.expr(e));
        Trigger {
            event,
            cond,
            span: sp,
        }
    }

    fn actions(&self, p: Pair<'_, Rule>) -> Vec<SlaAction> {
        p.into_inner()
            .map(|a| {
                let inner = a.into_inner().next().expect("grammar: action");
                match inner.as_rule() {
                    Rule::act_escalate => SlaAction::Escalate(span(&inner)),
                    Rule::act_deny => SlaAction::Deny(span(&inner)),
                    Rule::act_notify => SlaAction::Notify(
                        self.target(inner.into_inner().next().expect("grammar: notify target")),
                    ),
                    _ => SlaAction::Assign(
                        self.target(inner.into_inner().next().expect("grammar: assign target")),
                    ),
                }
            })
            .collect()
    }

    fn sla(&self, p: Pair<'_, Rule>) -> SlaDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: sla name"));
        let mut classes = Vec::new();
        let mut clauses = Vec::new();
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::ident => classes.push(self.ident(c)),
                Rule::start_clause => clauses.push(SlaClause::Start(self.trigger(c))),
                Rule::stop_clause => clauses.push(SlaClause::Stop(self.trigger(c))),
                Rule::reset_clause => clauses.push(SlaClause::Reset(self.trigger(c))),
                Rule::pause_clause => {
                    let cond = self.expr(c.into_inner().next().expect("grammar: pause condition"));
                    clauses.push(SlaClause::Pause { cond, span: sp });
                }
                Rule::target_clause => {
                    let t = c.into_inner().next().expect("grammar: target");
                    if t.as_rule() == Rule::target_by {
                        let tsp = span(&t);
                        let mut ti = t.into_inner();
                        let field = self.expr(ti.next().expect("grammar: target by field"));
                        let arms = ti.map(|a| self.target_arm(a)).collect();
                        clauses.push(SlaClause::Target(SlaTarget::By {
                            field,
                            arms,
                            span: tsp,
                        }));
                    } else {
                        clauses.push(SlaClause::Target(SlaTarget::Fixed(self.expr(t))));
                    }
                }
                Rule::sla_calendar => {
                    clauses.push(SlaClause::Calendar(
                        self.ident(c.into_inner().next().expect("grammar: calendar")),
                    ));
                }
                Rule::warn_clause => {
                    let mut ci = c.into_inner();
                    let at = self.expr(ci.next().expect("grammar: warn at"));
                    let actions = self.actions(ci.next().expect("grammar: warn actions"));
                    clauses.push(SlaClause::Warn {
                        at,
                        actions,
                        span: sp,
                    });
                }
                Rule::breach_clause => {
                    let actions =
                        self.actions(c.into_inner().next().expect("grammar: breach actions"));
                    clauses.push(SlaClause::Breach { actions, span: sp });
                }
                _ => {}
            }
        }
        SlaDecl {
            name,
            classes,
            clauses,
        }
    }

    fn target_arm(&self, p: Pair<'_, Rule>) -> TargetArm {
        let sp = span(&p);
        let mut i = p.into_inner();
        let pattern = self.pattern(i.next().expect("grammar: arm pattern"));
        let value = self.expr(i.next().expect("grammar: arm value"));
        TargetArm {
            pattern,
            value,
            span: sp,
        }
    }

    fn pattern(&self, p: Pair<'_, Rule>) -> Pattern {
        let sp = span(&p);
        let mut i = p.into_inner().peekable();
        if i.peek().is_some_and(|x| x.as_rule() == Rule::wildcard) {
            return Pattern::Wildcard(sp);
        }
        Pattern::Alternatives(i.map(|x| self.path(x)).collect())
    }

    // --- connectors, gates, automations ---------------------------------------------------

    fn connector(&self, p: Pair<'_, Rule>) -> ConnectorDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: connector name"));
        let actions = i.map(|a| self.action_decl(a)).collect();
        ConnectorDecl { name, actions }
    }

    fn action_decl(&self, p: Pair<'_, Rule>) -> ActionDecl {
        let sp = span(&p);
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: action name"));
        let mut params = Vec::new();
        let mut effect = None;
        let mut compensate = None;
        for x in i {
            match x.as_rule() {
                Rule::param => params.push(self.param(x)),
                Rule::effect => {
                    let e = x.into_inner().next().expect("grammar: effect kind");
                    effect = Some(match e.as_rule() {
                        Rule::effect_money => Effect::Money(
                            self.expr(e.into_inner().next().expect("grammar: money expr")),
                        ),
                        _ => Effect::Destructive(span(&e)),
                    });
                }
                _ => compensate = Some(self.ident(x)),
            }
        }
        ActionDecl {
            doc: self.doc(sp),
            name,
            params,
            effect,
            compensate,
            span: sp,
        }
    }

    fn gate(&self, p: Pair<'_, Rule>) -> GateDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: gate name"));
        let mut selectors = Vec::new();
        let mut cond = None;
        let mut clauses = Vec::new();
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::gate_selector => {
                    let s = c.into_inner().next().expect("grammar: selector");
                    selectors.push(match s.as_rule() {
                        Rule::sel_effect_money => GateSelector::EffectMoney(sp),
                        Rule::sel_effect_destructive => GateSelector::EffectDestructive(sp),
                        Rule::sel_automation => GateSelector::Automation(sp),
                        _ => GateSelector::Action(self.path(s)),
                    });
                }
                Rule::expr => cond = Some(self.expr(c)),
                Rule::require_approval => {
                    let team = self.ident(c.into_inner().next().expect("grammar: approval team"));
                    clauses.push(GateClause::RequireApproval { team, span: sp });
                }
                Rule::require_confirmation => clauses.push(GateClause::RequireConfirmation(sp)),
                Rule::require_review => {
                    let team = self.ident(c.into_inner().next().expect("grammar: review team"));
                    clauses.push(GateClause::RequireReview { team, span: sp });
                }
                Rule::expire_clause => {
                    let mut ci = c.into_inner();
                    let after = self.expr(ci.next().expect("grammar: expire after"));
                    let actions = self.actions(ci.next().expect("grammar: expire actions"));
                    clauses.push(GateClause::Expire {
                        after,
                        actions,
                        span: sp,
                    });
                }
                _ => {}
            }
        }
        GateDecl {
            name,
            selectors,
            cond,
            clauses,
        }
    }

    fn automation(&self, p: Pair<'_, Rule>) -> AutomationDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: automation name"));
        let mut clauses = Vec::new();
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::version_clause => {
                    let n = c.into_inner().next().expect("grammar: version");
                    clauses.push(AutomationClause::Version {
                        value: self.int(&n),
                        span: sp,
                    });
                }
                Rule::owner_clause => {
                    clauses.push(AutomationClause::Owner(
                        self.ident(c.into_inner().next().expect("grammar: owner")),
                    ));
                }
                Rule::on_clause => {
                    let mut ci = c.into_inner();
                    let events = self.event_list(ci.next().expect("grammar: on events"));
                    let cond = ci.next().map(|e| self.expr(e));
                    clauses.push(AutomationClause::On {
                        events,
                        cond,
                        span: sp,
                    });
                }
                Rule::do_clause => {
                    let steps = c.into_inner().map(|s| self.step(s)).collect();
                    clauses.push(AutomationClause::Do { steps, span: sp });
                }
                Rule::rollout_clause => {
                    let r = c.into_inner().next().expect("grammar: rollout kind");
                    let shadow = r.as_rule() == Rule::rollout_shadow;
                    let mut percent = None;
                    let mut by = Vec::new();
                    for x in r.into_inner() {
                        match x.as_rule() {
                            Rule::rollout_by => by = x.into_inner().map(|e| self.expr(e)).collect(),
                            _ => percent = Some(self.expr(x)),
                        }
                    }
                    clauses.push(AutomationClause::Rollout(Rollout {
                        shadow,
                        percent,
                        by,
                        span: sp,
                    }));
                }
                Rule::breaker_clause => {
                    let mut ci = c.into_inner();
                    let threshold = self.expr(ci.next().expect("grammar: breaker threshold"));
                    let window = self.int(&ci.next().expect("grammar: breaker window"));
                    let actions =
                        ci.next()
                            .expect("grammar: breaker actions")
                            .into_inner()
                            .map(|a| {
                                let inner = a.into_inner().next().expect("grammar: breaker action");
                                match inner.as_rule() {
                                    Rule::act_halt => BreakerAction::Halt(span(&inner)),
                                    Rule::act_notify => BreakerAction::Notify(self.target(
                                        inner.into_inner().next().expect("grammar: target"),
                                    )),
                                    _ => BreakerAction::Assign(self.target(
                                        inner.into_inner().next().expect("grammar: target"),
                                    )),
                                }
                            })
                            .collect();
                    clauses.push(AutomationClause::Breaker(Breaker {
                        threshold,
                        window,
                        actions,
                        span: sp,
                    }));
                }
                _ => {}
            }
        }
        AutomationDecl { name, clauses }
    }

    fn step(&self, p: Pair<'_, Rule>) -> Step {
        let sp = span(&p);
        let mut waiver = None;
        let mut call = None;
        for x in p.into_inner() {
            match x.as_rule() {
                Rule::waiver => waiver = x.into_inner().next().map(|s| self.string(s)),
                _ => call = Some(self.postfix_expr(x)),
            }
        }
        Step {
            waiver,
            call: call.expect("grammar: step has a call"),
            span: sp,
        }
    }

    // --- tests ---------------------------------------------------------------------------

    fn test(&self, p: Pair<'_, Rule>) -> TestDecl {
        let mut i = p.into_inner();
        let name = self.string(i.next().expect("grammar: test name"));
        let steps = i.map(|s| self.test_step(s)).collect();
        TestDecl { name, steps }
    }

    fn test_step(&self, p: Pair<'_, Rule>) -> TestStep {
        let sp = span(&p);
        match p.as_rule() {
            Rule::at_step => TestStep::At {
                time: self.expr(p.into_inner().next().expect("grammar: at")),
                span: sp,
            },
            Rule::advance_step => TestStep::Advance {
                by: self.expr(p.into_inner().next().expect("grammar: advance")),
                span: sp,
            },
            Rule::given_step => TestStep::Given {
                event: self.primary(p.into_inner().next().expect("grammar: given record")),
                span: sp,
            },
            Rule::stub_step => {
                let mut i = p.into_inner();
                let action = self.path(i.next().expect("grammar: stub action"));
                TestStep::Stub {
                    action,
                    retryable: i.next().is_some(),
                    span: sp,
                }
            }
            _ => {
                let e = p.into_inner().next().expect("grammar: expectation");
                let esp = span(&e);
                let rule = e.as_rule();
                let mut i = e.into_inner();
                let expectation = match rule {
                    Rule::exp_assigned => {
                        Expectation::Assigned(self.target(i.next().expect("grammar: target")))
                    }
                    Rule::exp_owner => {
                        Expectation::Owner(self.target(i.next().expect("grammar: target")))
                    }
                    Rule::exp_class => {
                        Expectation::Class(self.ident(i.next().expect("grammar: class")))
                    }
                    Rule::exp_held => {
                        let action = self.path(i.next().expect("grammar: held action"));
                        Expectation::Held {
                            action,
                            gate: i.next().map(|g| self.ident(g)),
                        }
                    }
                    Rule::exp_executed => {
                        Expectation::Executed(self.path(i.next().expect("grammar: action")))
                    }
                    Rule::exp_shadowed => {
                        Expectation::Shadowed(self.path(i.next().expect("grammar: action")))
                    }
                    Rule::exp_escalated => Expectation::Escalated(i.next().map(|g| self.ident(g))),
                    Rule::exp_notified => {
                        Expectation::Notified(self.target(i.next().expect("grammar: target")))
                    }
                    Rule::exp_sla => {
                        let name = self.ident(i.next().expect("grammar: sla name"));
                        let state = self.ident(i.next().expect("grammar: sla state"));
                        Expectation::Sla { name, state }
                    }
                    _ => Expectation::NoAction(esp),
                };
                TestStep::Expect {
                    expectation,
                    span: sp,
                }
            }
        }
    }

    fn acceptance(&self, p: Pair<'_, Rule>) -> AcceptanceDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: acceptance name"));
        let clauses = i
            .map(|c| {
                let sp = span(&c);
                if c.as_rule() == Rule::samples_clause {
                    AcceptanceClause::Samples(
                        self.string(c.into_inner().next().expect("grammar: samples path")),
                    )
                } else {
                    let mut ci = c.into_inner();
                    let metric = self.ident(ci.next().expect("grammar: metric"));
                    let op = match ci.next().expect("grammar: comparison").as_rule() {
                        Rule::op_ge => BinOp::Ge,
                        Rule::op_le => BinOp::Le,
                        Rule::op_gt => BinOp::Gt,
                        _ => BinOp::Lt,
                    };
                    let value = self.expr(ci.next().expect("grammar: threshold"));
                    AcceptanceClause::Threshold {
                        metric,
                        op,
                        value,
                        span: sp,
                    }
                }
            })
            .collect();
        AcceptanceDecl { name, clauses }
    }

    // --- expressions ---------------------------------------------------------------------

    fn expr(&self, p: Pair<'_, Rule>) -> Expr {
        if p.as_rule() != Rule::expr {
            return self.postfix_expr(p);
        }
        PRATT
            .map_primary(|x| self.postfix_expr(x))
            .map_prefix(|op, rhs| {
                let sp = span(&op).to(rhs.span);
                let op = if op.as_rule() == Rule::op_not {
                    UnaryOp::Not
                } else {
                    UnaryOp::Neg
                };
                Expr {
                    kind: ExprKind::Unary {
                        op,
                        operand: Box::new(rhs),
                    },
                    span: sp,
                }
            })
            .map_infix(|lhs, op, rhs| {
                let sp = lhs.span.to(rhs.span);
                let op = match op.as_rule() {
                    Rule::op_or => BinOp::Or,
                    Rule::op_and => BinOp::And,
                    Rule::op_eq => BinOp::Eq,
                    Rule::op_ne => BinOp::Ne,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_in => BinOp::In,
                    Rule::op_contains => BinOp::Contains,
                    Rule::op_matches => BinOp::Matches,
                    Rule::op_starts_with => BinOp::StartsWith,
                    Rule::op_coalesce => BinOp::Coalesce,
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    _ => BinOp::Div,
                };
                Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span: sp,
                }
            })
            .parse(p.into_inner())
    }

    fn postfix_expr(&self, p: Pair<'_, Rule>) -> Expr {
        if p.as_rule() != Rule::postfix_expr {
            return self.primary(p);
        }
        let mut i = p.into_inner();
        let mut e = self.primary(i.next().expect("grammar: postfix_expr has a primary"));
        for post in i {
            let sp = e.span.to(span(&post));
            let kind = match post.as_rule() {
                Rule::unwrap_op => ExprKind::Unwrap(Box::new(e)),
                Rule::opt_field | Rule::field_access => {
                    let optional = post.as_rule() == Rule::opt_field;
                    let field = self.ident(post.into_inner().next().expect("grammar: field name"));
                    ExprKind::Field {
                        base: Box::new(e),
                        field,
                        optional,
                    }
                }
                _ => {
                    let args = post
                        .into_inner()
                        .map(|a| {
                            let mut ai = a.into_inner().peekable();
                            let label = if ai.peek().is_some_and(|x| x.as_rule() == Rule::word) {
                                ai.next().map(|w| self.ident(w))
                            } else {
                                None
                            };
                            let value = self.expr(ai.next().expect("grammar: argument value"));
                            Arg { label, value }
                        })
                        .collect();
                    ExprKind::Call {
                        callee: Box::new(e),
                        args,
                    }
                }
            };
            e = Expr { kind, span: sp };
        }
        e
    }

    fn primary(&self, p: Pair<'_, Rule>) -> Expr {
        let sp = span(&p);
        let kind = match p.as_rule() {
            Rule::expr => return self.expr(p),
            Rule::postfix_expr => return self.postfix_expr(p),
            Rule::paren => return self.expr(p.into_inner().next().expect("grammar: paren")),
            Rule::name => ExprKind::Name(self.ident(p.into_inner().next().expect("grammar: name"))),
            Rule::bool_lit => ExprKind::Bool(p.as_str() == "true"),
            Rule::none_lit => ExprKind::None,
            Rule::integer => ExprKind::Int(self.int(&p)),
            Rule::decimal => ExprKind::Decimal(strip_underscores(p.as_str())),
            Rule::percent => {
                let n = p.into_inner().next().expect("grammar: percent number");
                ExprKind::Percent(strip_underscores(n.as_str()))
            }
            Rule::money => {
                let mut i = p.into_inner();
                let amount = strip_underscores(i.next().expect("grammar: money amount").as_str());
                let currency = i.next().expect("grammar: currency").as_str().to_string();
                ExprKind::Money { amount, currency }
            }
            Rule::duration => ExprKind::Duration(self.duration(&p)),
            Rule::business_duration => {
                let mut i = p.into_inner();
                let n = i.next().expect("grammar: business amount");
                let amount = self.int(&n);
                let unit = match i.next().expect("grammar: business unit").as_str() {
                    u if u.starts_with("minute") => BusinessUnit::Minutes,
                    u if u.starts_with("hour") => BusinessUnit::Hours,
                    _ => BusinessUnit::Days,
                };
                ExprKind::BusinessDuration { amount, unit }
            }
            Rule::date => ExprKind::Date(self.date_lit(&p)),
            Rule::time_of_day => ExprKind::TimeOfDay(self.time_lit(&p)),
            Rule::timestamp => ExprKind::Timestamp(p.as_str().to_string()),
            Rule::string => ExprKind::Str(self.string(p).value),
            Rule::list_lit => ExprKind::List(p.into_inner().map(|e| self.expr(e)).collect()),
            Rule::record_lit | Rule::anon_record => {
                let typed = p.as_rule() == Rule::record_lit;
                let mut ty = None;
                let mut spread = None;
                let mut fields = Vec::new();
                for x in p.into_inner() {
                    match x.as_rule() {
                        Rule::path if typed => ty = Some(self.path(x)),
                        Rule::spread => {
                            spread = Some(Box::new(
                                self.expr(x.into_inner().next().expect("grammar: spread")),
                            ));
                        }
                        _ => {
                            let mut fi = x.into_inner();
                            let name = self.ident(fi.next().expect("grammar: field name"));
                            let value = self.expr(fi.next().expect("grammar: field value"));
                            fields.push(FieldInit { name, value });
                        }
                    }
                }
                ExprKind::Record { ty, spread, fields }
            }
            Rule::if_expr => {
                let mut i = p.into_inner().filter(|x| x.as_rule() == Rule::expr);
                let cond = self.expr(i.next().expect("grammar: if condition"));
                let then = self.expr(i.next().expect("grammar: then branch"));
                let otherwise = self.expr(i.next().expect("grammar: else branch"));
                ExprKind::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                }
            }
            Rule::match_expr => {
                let mut i = p.into_inner().filter(|x| x.as_rule() != Rule::kw_match);
                let scrutinee = self.expr(i.next().expect("grammar: match scrutinee"));
                let arms = i
                    .map(|a| {
                        let asp = span(&a);
                        let mut ai = a.into_inner();
                        let pattern = self.pattern(ai.next().expect("grammar: pattern"));
                        let value = self.expr(ai.next().expect("grammar: arm value"));
                        MatchArm {
                            pattern,
                            value,
                            span: asp,
                        }
                    })
                    .collect();
                ExprKind::Match {
                    scrutinee: Box::new(scrutinee),
                    arms,
                }
            }
            _ => ExprKind::Error,
        };
        Expr { kind, span: sp }
    }

    fn duration(&self, p: &Pair<'_, Rule>) -> i64 {
        let mut total: i64 = 0;
        let mut num = String::new();
        for ch in p.as_str().chars() {
            if ch.is_ascii_digit() {
                num.push(ch);
                continue;
            }
            let unit: i64 = match ch {
                'w' => 7 * 86_400,
                'd' => 86_400,
                'h' => 3_600,
                'm' => 60,
                _ => 1,
            };
            let n: Option<i64> = num.parse().ok();
            match n
                .and_then(|n| n.checked_mul(unit))
                .and_then(|v| total.checked_add(v))
            {
                Some(t) => total = t,
                None => {
                    self.error(
                        Code::InvalidLiteral,
                        span(p),
                        format!("duration `{}` is too long", p.as_str()),
                        "too long",
                    );
                    return 0;
                }
            }
            num.clear();
        }
        total
    }
}
