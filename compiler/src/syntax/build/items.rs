//! Declarations and their parts: names, paths, strings, numbers, types, parameters,
//! imports, enums, records and events, constants, functions, fixtures, calendars, teams.

use pest::iterators::Pair;

use super::{Builder, span, strip_underscores};
use crate::diagnostics::Code;
use crate::source::Span;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Builder<'_> {
    // --- words -------------------------------------------------------------------------

    pub(super) fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            name: p.as_str().to_string(),
            span: span(&p),
        }
    }

    pub(super) fn path(&self, p: Pair<'_, Rule>) -> Path {
        let sp = span(&p);
        let segments = p.into_inner().map(|s| self.ident(s)).collect();
        Path { segments, span: sp }
    }

    pub(super) fn string(&self, p: Pair<'_, Rule>) -> StrLit {
        let sp = span(&p);
        let raw = p.into_inner().next().map_or("", |i| i.as_str());
        StrLit {
            value: self.unescape(raw, sp),
            span: sp,
        }
    }

    pub(super) fn unescape(&self, raw: &str, at: Span) -> String {
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

    pub(super) fn int(&self, p: &Pair<'_, Rule>) -> i64 {
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

    pub(super) fn type_expr(&self, p: Pair<'_, Rule>) -> TypeExpr {
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

    pub(super) fn param(&self, p: Pair<'_, Rule>) -> Param {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: param name"));
        let ty = self.type_expr(i.next().expect("grammar: param type"));
        Param { name, ty }
    }

    pub(super) fn target(&self, p: Pair<'_, Rule>) -> Target {
        let inner = p.into_inner().next().expect("grammar: target");
        match inner.as_rule() {
            Rule::string => Target::Person(self.string(inner)),
            _ => Target::Name(self.ident(inner)),
        }
    }

    pub(super) fn event_list(&self, p: Pair<'_, Rule>) -> Vec<Path> {
        p.into_inner().map(|x| self.path(x)).collect()
    }

    // --- data ----------------------------------------------------------------------------

    pub(super) fn import(&self, p: Pair<'_, Rule>) -> ImportDecl {
        let mut i = p.into_inner();
        let module = self.path(i.next().expect("grammar: import path"));
        let names = i
            .next()
            .map(|n| n.into_inner().map(|x| self.ident(x)).collect());
        ImportDecl { module, names }
    }

    pub(super) fn enum_decl(&self, p: Pair<'_, Rule>) -> EnumDecl {
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

    pub(super) fn record(&self, p: Pair<'_, Rule>) -> RecordDecl {
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

    pub(super) fn extend(&self, p: Pair<'_, Rule>) -> ExtendDecl {
        let mut i = p.into_inner();
        let target = self.path(i.next().expect("grammar: extended record"));
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
        ExtendDecl { target, fields }
    }

    pub(super) fn let_decl(&self, p: Pair<'_, Rule>) -> LetDecl {
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

    pub(super) fn fn_decl(&self, p: Pair<'_, Rule>) -> FnDecl {
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

    pub(super) fn fixture(&self, p: Pair<'_, Rule>) -> FixtureDecl {
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

    pub(super) fn time_lit(&self, p: &Pair<'_, Rule>) -> TimeLit {
        let s = p.as_str();
        let hour = s[0..2].parse().unwrap_or(99);
        let minute = s[3..5].parse().unwrap_or(99);
        TimeLit {
            hour,
            minute,
            span: span(p),
        }
    }

    pub(super) fn date_lit(&self, p: &Pair<'_, Rule>) -> DateLit {
        let s = p.as_str();
        DateLit {
            year: s[0..4].parse().unwrap_or(0),
            month: s[5..7].parse().unwrap_or(0),
            day: s[8..10].parse().unwrap_or(0),
            span: span(p),
        }
    }

    pub(super) fn calendar(&self, p: Pair<'_, Rule>) -> CalendarDecl {
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

    pub(super) fn team(&self, p: Pair<'_, Rule>) -> TeamDecl {
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
}
