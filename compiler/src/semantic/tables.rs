//! Reference tables (docs/language.md §5.5): the declaration's checks, `table[key]` in
//! expressions, and the CSV file's rows typed against the declared columns.
//!
//! A table declares the record type of its rows under its own name (its columns, the key
//! column first when it is not among them, as `String`), so `?.column`, hover and
//! completion work as for any record. The rows are read by `db::module_tables`, which
//! tracks the CSV file as an input.

use std::collections::BTreeMap;

use super::expr::{Cx, Scope, Use};
use super::index::{DataKind, ProjectIndex};
use super::sig::row_fields;
use super::types::{DefId, Ty};
use super::values;
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, TableDecl};

/// What a column may hold: scalar values a spreadsheet cell can spell.
fn cell_type_ok(t: &Ty) -> bool {
    matches!(
        t,
        Ty::Bool
            | Ty::Int
            | Ty::Decimal
            | Ty::Money
            | Ty::Percent
            | Ty::Duration
            | Ty::Date
            | Ty::Time
            | Ty::String
            | Ty::Person
            | Ty::Team
            | Ty::Enum(_)
            | Ty::Error
    )
}

/// What a key column may hold (compared exactly; persons case-insensitively).
fn key_type_ok(t: &Ty) -> bool {
    matches!(
        t,
        Ty::Int | Ty::String | Ty::Person | Ty::Enum(_) | Ty::Error
    )
}

impl Cx<'_> {
    pub(crate) fn check_table(&mut self, t: &TableDecl) {
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for c in &t.columns {
            if let Some(first) = seen.insert(&c.name.name, c.name.span) {
                self.duplicate(
                    c.name.span,
                    first,
                    format!("column `{}` is declared twice", c.name.name),
                    "first declared here",
                );
            }
            let ty = self.resolve_type_expr(&c.ty);
            if !cell_type_ok(ty.strip_optional()) {
                self.error(
                    Code::TableDecl,
                    c.ty.span,
                    format!("a table column cannot be `{ty}`"),
                    "not a cell type",
                )
                .help = Some(
                    "columns hold one value a cell can spell: Bool, Int, Decimal, Money, \
                     Percent, Duration, Date, Time, String, Person, Team or an enum (`T?` \
                     allows empty cells)"
                        .into(),
                );
            }
            if c.name.name == t.key.name && !key_type_ok(&ty) {
                self.error(
                    Code::TableDecl,
                    c.ty.span,
                    format!("the key column `{}` cannot be `{ty}`", t.key.name),
                    "not a key type",
                )
                .help = Some(
                    "a key is an Int, a String, a Person or an enum, and every row has one".into(),
                );
            }
        }
        if t.file.value.starts_with('/') || t.file.value.contains('\\') {
            self.error(
                Code::TableFile,
                t.file.span,
                format!("`{}` is not a relative path", t.file.value),
                "here",
            )
            .help = Some(
                "name the CSV file relative to this module's file, with `/`, e.g. \
                 `\"data/contracts.csv\"`"
                    .into(),
            );
        }
    }

    /// `base[index]`: a row of a reference table, or none.
    pub(crate) fn check_index(&mut self, base: &Expr, index: &Expr, scope: &Scope) -> Ty {
        if let Some(t) = self.check_aggregate_index(base, index, scope) {
            return t;
        }
        let table = match &base.kind {
            ExprKind::Name(n) if !scope.locals.contains_key(&n.name) => self
                .index
                .lookup_data(self.module, &n.name)
                .filter(|(d, k)| *k == DataKind::Record && is_table(self.index, d)),
            _ => None,
        };
        let Some((def, _)) = table else {
            let ty = self.check(base, None, scope);
            self.check(index, None, scope);
            if !ty.is_error() {
                self.error(
                    Code::WrongKind,
                    base.span,
                    format!("`[…]` looks a row up in a table, and this is `{ty}`"),
                    "not a table",
                )
                .help = Some(
                    "declare a table (`table NAME from \"FILE.csv\" key COLUMN { … }`) and \
                     write `NAME[key]`; lists have `contains` and `in`"
                        .into(),
                );
            }
            return Ty::Error;
        };
        self.uses.insert(Use::Data(def.clone()));
        self.note_import(&def, false);
        let row = Ty::Record(def.clone());
        self.record_fact(base, row.clone());
        let key_ty = self
            .index
            .fields_of(&row)
            .and_then(|fs| {
                let key = &self.index.sig(&def.module)?.tables.get(&*def.name)?.key;
                fs.into_iter().find(|(n, _)| n == key).map(|(_, t)| t)
            })
            .unwrap_or(Ty::Error);
        self.expect(index, &key_ty.optional(), scope);
        row.optional()
    }

    /// Records the type of an expression the checker did not `check` (a table's name).
    pub(crate) fn record_fact(&mut self, e: &Expr, ty: Ty) {
        let i = e.id.index();
        if i >= self.exprs.len() {
            self.exprs.resize_with(i + 1, Default::default);
        }
        if let Some(f) = self.exprs.get_mut(i) {
            f.span = e.span;
            f.ty = Some(ty);
        }
    }
}

/// Whether the record `def` is a table's row type.
pub fn is_table(index: &ProjectIndex, def: &DefId) -> bool {
    index
        .sig(&def.module)
        .is_some_and(|s| s.tables.contains_key(&*def.name))
}

// ---------------------------------------------------------------------------------------
// The CSV file

/// A cell's value, typed (lowering turns enum and team names into ids).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cell {
    None,
    Bool(bool),
    Int(i64),
    Decimal(String),
    Money { amount: String, currency: String },
    Percent(String),
    Duration(i64),
    Date { year: i16, month: i8, day: i8 },
    Time(String),
    Str(String),
    Person(String),
    Team(String),
    Variant(DefId, u32),
}

/// One table's rows as read from its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableRows {
    pub name: String,
    /// The CSV file, as the project names it.
    pub file: FileName,
    /// SHA-256 (hex) of the file's text.
    pub hash: String,
    /// The index of the key column among the row record's fields.
    pub key: u32,
    /// One cell per row-record field, in the record's order.
    pub rows: Vec<Vec<Cell>>,
}

/// The tables of one module.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleTables {
    pub tables: Vec<TableRows>,
    pub diagnostics: Vec<Diagnostic>,
}

/// The project-relative name of the file `path` names, relative to the module `module_file`
/// (`rules/onboarding.mesh` + `data/c.csv` → `rules/data/c.csv`); `None` if it climbs out
/// of the project.
pub fn resolve_path(module_file: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = module_file.split('/').collect();
    parts.pop();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// Reads a table's rows from its CSV file's text (`None`: no such file), typing each cell
/// by its column. Every problem is a diagnostic naming the file and the line.
pub fn load_rows(
    index: &ProjectIndex,
    module: &str,
    mesh_file: &FileName,
    decl: &TableDecl,
    csv_name: &str,
    text: Option<&str>,
) -> (Option<TableRows>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let Some(text) = text else {
        diags.push(
            Diagnostic::new(
                Code::TableFile,
                mesh_file,
                decl.file.span,
                format!("table file `{}` not found", decl.file.value),
                format!("looked for `{csv_name}`"),
            )
            .with_help(
                "the path is relative to this module's file, and the file must be a `.csv` \
                 under the source folder",
            ),
        );
        return (None, diags);
    };
    let fields = row_fields(decl);
    let def = DefId::new(module, &decl.name.name);
    let types: Vec<Ty> = match index.fields_of(&Ty::Record(def)) {
        Some(fs) => fs.into_iter().map(|(_, t)| t).collect(),
        None => return (None, diags),
    };
    let key = fields
        .iter()
        .position(|(n, _)| *n == decl.key.name)
        .unwrap_or(0);
    let file: FileName = FileName::from(csv_name);
    let decl_span = |col: &str| {
        decl.columns
            .iter()
            .find(|c| c.name.name == col)
            .map_or(decl.key.span, |c| c.name.span.to(c.ty.span))
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_string).collect(),
        Err(e) => {
            diags.push(Diagnostic::new(
                Code::TableFile,
                &file,
                Span::at(0),
                format!("`{csv_name}` is not a CSV file: {e}"),
                "here",
            ));
            return (None, diags);
        }
    };
    let header_span = line_span(text, 0);
    let mut columns = Vec::with_capacity(fields.len());
    for (name, _) in &fields {
        match header.iter().position(|h| h == name) {
            Some(i) => columns.push(i),
            None => {
                diags.push(
                    Diagnostic::new(
                        Code::TableRow,
                        &file,
                        header_span,
                        format!("`{csv_name}` has no column `{name}`"),
                        "the header row",
                    )
                    .with_label(mesh_file, decl_span(name), "declared here")
                    .with_help(format!(
                        "the header row names the columns; it has {}",
                        header
                            .iter()
                            .map(|h| format!("`{h}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                );
            }
        }
    }
    if columns.len() < fields.len() {
        return (None, diags);
    }
    let mut rows = Vec::new();
    let mut keys: BTreeMap<Cell, (u64, Span)> = BTreeMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let (line, at) = e
                    .position()
                    .map_or((0, 0), |p| (p.line(), p.byte() as usize));
                diags.push(Diagnostic::new(
                    Code::TableRow,
                    &file,
                    line_span(text, at),
                    format!("`{csv_name}` line {line} is not a CSV row: {e}"),
                    "this line",
                ));
                continue;
            }
        };
        let (line, at) = record
            .position()
            .map_or((0, 0), |p| (p.line(), p.byte() as usize));
        let span = line_span(text, at);
        if record.len() != header.len() {
            diags.push(Diagnostic::new(
                Code::TableRow,
                &file,
                span,
                format!(
                    "`{csv_name}` line {line} has {} cells; the header row has {}",
                    record.len(),
                    header.len()
                ),
                "this row",
            ));
            continue;
        }
        let mut row = Vec::with_capacity(fields.len());
        let mut ok = true;
        for (((name, _), ty), col) in fields.iter().zip(&types).zip(&columns) {
            let raw = record.get(*col).unwrap_or("");
            match cell(index, ty, raw) {
                Ok(c) => row.push(c),
                Err(why) => {
                    ok = false;
                    diags.push(
                        Diagnostic::new(
                            Code::TableRow,
                            &file,
                            span,
                            format!("`{csv_name}` line {line}, column `{name}`: {why}"),
                            "this row",
                        )
                        .with_label(
                            mesh_file,
                            decl_span(name),
                            "declared here",
                        ),
                    );
                }
            }
        }
        if !ok {
            continue;
        }
        let k = row.get(key).cloned().unwrap_or(Cell::None);
        if let Some((first_line, first)) = keys.get(&k) {
            diags.push(
                Diagnostic::new(
                    Code::DuplicateKey,
                    &file,
                    span,
                    format!(
                        "`{csv_name}` line {line} repeats the key `{}` of line {first_line}",
                        record.get(columns[key]).unwrap_or("")
                    ),
                    "a second row with this key",
                )
                .with_label(&file, *first, "first row with this key")
                .with_help("a lookup finds one row per key: merge the rows or remove one"),
            );
            continue;
        }
        keys.insert(k, (line, span));
        rows.push(row);
    }
    let hash = {
        use sha2::{Digest, Sha256};
        Sha256::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let table = TableRows {
        name: decl.name.name.clone(),
        file,
        hash,
        key: key as u32,
        rows,
    };
    (Some(table), diags)
}

/// The line of `text` that starts at byte `at` (without its line break).
fn line_span(text: &str, at: usize) -> Span {
    let at = at.min(text.len());
    let end = text[at..].find(['\r', '\n']).map_or(text.len(), |n| at + n);
    Span::new(at, end)
}

/// One cell's text as a value of `ty` (`Err`: why it is not one).
fn cell(index: &ProjectIndex, ty: &Ty, raw: &str) -> Result<Cell, String> {
    if raw.is_empty() {
        return if ty.is_optional() {
            Ok(Cell::None)
        } else {
            Err(format!(
                "the cell is empty, and the column is `{ty}` (declare it `{ty}?` to allow \
                 empty cells)"
            ))
        };
    }
    let not = |what: &str| format!("`{raw}` is not {what}");
    Ok(match ty.strip_optional() {
        Ty::Bool => match raw {
            "true" => Cell::Bool(true),
            "false" => Cell::Bool(false),
            _ => return Err(not("`true` or `false`")),
        },
        Ty::Int => Cell::Int(raw.parse().map_err(|_| not("a whole number (an `Int`)"))?),
        Ty::Decimal => {
            raw.parse::<rust_decimal::Decimal>()
                .map_err(|_| not("a decimal number"))?;
            Cell::Decimal(raw.to_string())
        }
        Ty::Percent => {
            let n = raw
                .strip_suffix('%')
                .ok_or_else(|| not("a percentage such as `95%`"))?;
            n.trim()
                .parse::<rust_decimal::Decimal>()
                .map_err(|_| not("a percentage such as `95%`"))?;
            Cell::Percent(n.trim().to_string())
        }
        Ty::Money => {
            let bad = || not("an amount of money such as `250.00 USD`");
            let (amount, currency) = raw.rsplit_once(' ').ok_or_else(bad)?;
            amount
                .trim()
                .parse::<rust_decimal::Decimal>()
                .map_err(|_| bad())?;
            if !values::is_currency(currency) {
                return Err(format!("`{currency}` is not an ISO 4217 currency code"));
            }
            Cell::Money {
                amount: amount.trim().to_string(),
                currency: currency.to_string(),
            }
        }
        Ty::Duration => Cell::Duration(
            meshline_runtime::value::parse_duration(raw)
                .ok_or_else(|| not("a duration such as `48h` or `1d12h`"))?,
        ),
        Ty::Date => {
            let d: jiff::civil::Date = raw
                .parse()
                .map_err(|_| not("a date such as `2026-03-02`"))?;
            Cell::Date {
                year: d.year(),
                month: d.month(),
                day: d.day(),
            }
        }
        Ty::Time => {
            values::check_timestamp(raw)
                .map_err(|_| not("a timestamp such as `2026-03-02T10:00:00Z`"))?;
            Cell::Time(raw.to_string())
        }
        Ty::String => Cell::Str(raw.to_string()),
        Ty::Person => {
            if !values::is_person(raw) {
                return Err(not("a person (an e-mail address such as `ana@agency.io`)"));
            }
            Cell::Person(raw.to_lowercase())
        }
        Ty::Team => {
            if index.team(raw).is_none() {
                return Err(not("a team of the project"));
            }
            Cell::Team(raw.to_string())
        }
        Ty::Enum(def) => {
            let variants = index.enum_variants(def).cloned().unwrap_or_default();
            match variants.iter().position(|v| v == raw) {
                Some(i) => Cell::Variant(def.clone(), i as u32),
                None => {
                    return Err(format!(
                        "`{raw}` is not a variant of `{}` (its variants are {})",
                        def.name,
                        variants
                            .iter()
                            .map(|v| format!("`{v}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        // Reported on the declaration.
        _ => Cell::None,
    })
}
