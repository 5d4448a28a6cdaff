//! Name resolution in expressions: values by name (locals, constants, fixtures, imports,
//! teams, calendars, enum variants of the expected type), static members and field access,
//! type paths, the "unknown name" diagnostics and their did-you-mean help.

use super::*;

impl Cx<'_> {
    /// Resolve a type written as a path in an expression (record literal head).
    pub fn resolve_type_path(&mut self, names: &[String], span: Span) -> Option<Ty> {
        match self.index.resolve_type(
            self.module,
            &crate::semantic::sig::TypeRef::Named(names.to_vec()),
        ) {
            Ok(t) => {
                self.note_type_use(&t, names);
                Some(t)
            }
            Err(_) if self.from_failed_import(names) => None,
            Err(msg) => {
                self.error(Code::UnknownType, span, msg, "not a known type");
                None
            }
        }
    }

    /// Record that a type (and the import that brought it) is used.
    pub fn note_type_use(&mut self, t: &Ty, names: &[String]) {
        match t {
            Ty::Enum(d) | Ty::Record(d) | Ty::Event(d) => {
                self.uses.insert(Use::Data(d.clone()));
                self.note_import(d, names.len() > 1);
            }
            Ty::List(inner) | Ty::Optional(inner) => self.note_type_use(inner, names),
            _ => {}
        }
    }

    pub fn note_import(&mut self, d: &DefId, via_alias: bool) {
        if *d.module != *self.module {
            let key = if via_alias {
                (d.module.to_string(), None)
            } else {
                (d.module.to_string(), Some(d.name.to_string()))
            };
            self.used_imports.insert(key);
        }
    }

    pub(crate) fn name(&mut self, id: &Ident, expected: Option<&Ty>, scope: &Scope) -> Ty {
        if let Some(t) = scope.locals.get(&id.name) {
            return t.clone();
        }
        if let Some((def, kind)) = self.index.lookup_data(self.module, &id.name) {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, false);
            return match kind {
                DataKind::Let | DataKind::Fixture => self.index.value_type(&def, kind),
                DataKind::Fn => {
                    self.error(
                        Code::WrongKind,
                        id.span,
                        format!("`{}` is a function", id.name),
                        "not called",
                    )
                    .help = Some(format!("call it: `{}(…)`", id.name));
                    Ty::Error
                }
                DataKind::Record if crate::semantic::aggregates::is_aggregate(self.index, &def) => {
                    self.error(
                        Code::WrongKind,
                        id.span,
                        format!("`{}` is an aggregate, not a value", id.name),
                        "an aggregate",
                    )
                    .help = Some(format!("look a key up: `{}[key].field`", id.name));
                    Ty::Error
                }
                DataKind::Record if crate::semantic::tables::is_table(self.index, &def) => {
                    self.error(
                        Code::WrongKind,
                        id.span,
                        format!("`{}` is a table, not a value", id.name),
                        "a table",
                    )
                    .help = Some(format!(
                        "look a row up by its key: `{}[key]?.column`",
                        id.name
                    ));
                    Ty::Error
                }
                _ => {
                    if let Some(t) = expected.and_then(|t| self.variant_of(t, &id.name)) {
                        return t;
                    }
                    self.error(
                        Code::WrongKind,
                        id.span,
                        format!("`{}` is {}, not a value", id.name, kind.describe()),
                        "a type",
                    )
                    .help = Some("name one of its variants or fields instead".into());
                    Ty::Error
                }
            };
        }
        if let Some(t) = expected.and_then(|t| self.variant_of(t, &id.name)) {
            return t;
        }
        if self.index.op(OpKind::Team, &id.name).is_some() {
            self.uses.insert(Use::Op(OpKind::Team, id.name.clone()));
            return Ty::Team;
        }
        if self.index.op(OpKind::Calendar, &id.name).is_some() {
            self.uses.insert(Use::Op(OpKind::Calendar, id.name.clone()));
            return Ty::Calendar;
        }
        if let Some(kind) = self.index.op_kinds(&id.name).first() {
            self.error(
                Code::WrongKind,
                id.span,
                format!("`{}` is {}, not a value", id.name, kind.describe()),
                "not a value",
            );
            return Ty::Error;
        }
        // A bare variant compared with a value whose type is already in error (`t.prio ==
        // Urgent` with no field `prio`): the first mistake was reported; do not add a second.
        if expected.is_some_and(Ty::is_error) && id.name.starts_with(|c: char| c.is_uppercase())
            || self.from_failed_import(std::slice::from_ref(&id.name))
        {
            return Ty::Error;
        }
        self.unknown_name(id, expected, scope);
        Ty::Error
    }

    /// The enum type `t` (or `t?`) if `name` is one of its variants.
    pub(crate) fn variant_of(&mut self, t: &Ty, name: &str) -> Option<Ty> {
        let def = t.enum_def()?;
        let variants = self.index.enum_variants(def)?;
        if variants.iter().any(|v| v == name) {
            let def = def.clone();
            self.uses.insert(Use::Data(def.clone()));
            // §7.4: an import of an enum counts as used when any of its variants is used.
            self.note_import(&def, false);
            Some(Ty::Enum(def))
        } else {
            None
        }
    }

    pub(crate) fn unknown_name(&mut self, id: &Ident, expected: Option<&Ty>, scope: &Scope) {
        if let Some(def) = expected.and_then(Ty::enum_def) {
            let variants = self.index.enum_variants(def).cloned().unwrap_or_default();
            let names: Vec<&str> = variants.iter().map(String::as_str).collect();
            let d = self.error(
                Code::UnknownVariant,
                id.span,
                format!("`{}` has no variant `{}`", def.name, id.name),
                "unknown variant",
            );
            d.help = Some(did_you_mean(&id.name, &names, "its variants are"));
            return;
        }
        let mut candidates: Vec<String> = scope.locals.keys().cloned().collect();
        if let Some(sig) = self.index.sig(self.module) {
            candidates.extend(sig.lets.keys().cloned());
            candidates.extend(sig.fixtures.keys().cloned());
        }
        candidates.extend(
            self.index
                .ops
                .keys()
                .filter(|(k, _)| matches!(k, OpKind::Team | OpKind::Calendar))
                .map(|(_, n)| n.clone()),
        );
        let names: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let hint = self.import_hint(&id.name);
        let d = self.error(
            Code::UnknownName,
            id.span,
            format!("unknown name `{}`", id.name),
            "not found in this scope",
        );
        d.help = hint.or_else(|| suggest(&id.name, &names).map(|s| format!("did you mean `{s}`?")));
        // A bare variant with no expected type: say which enum has it.
        if d.help.is_none() {
            let owners: Vec<String> = self
                .index
                .modules
                .values()
                .flat_map(|m| {
                    m.enums
                        .iter()
                        .filter(|(_, vs)| vs.contains(&id.name))
                        .map(|(n, _)| n.clone())
                })
                .collect();
            if let Some(e) = owners.first() {
                let d = self.diags.last_mut().expect("just pushed");
                d.help = Some(format!("if you mean the variant, write `{e}.{}`", id.name));
            }
        }
    }

    /// Does `names` (a name or `alias.name`) come from an import that is already reported
    /// as broken (E0104 unknown module, E0105 name not found)? Such uses are not reported
    /// again: one mistake, one diagnostic.
    pub fn from_failed_import(&self, names: &[String]) -> bool {
        let Some(sig) = self.index.sig(self.module) else {
            return false;
        };
        let missing = |module: &str, name: Option<&str>| match self.index.sig(module) {
            None => true,
            Some(m) => name.is_some_and(|n| !m.has_data(n)),
        };
        sig.imports.iter().any(|imp| match (&imp.names, names) {
            (Some(list), [name]) => list.contains(name) && missing(&imp.module, Some(name)),
            (None, [alias, ..]) if names.len() > 1 => {
                imp.module.rsplit('.').next() == Some(alias.as_str()) && missing(&imp.module, None)
            }
            _ => false,
        })
    }

    /// "import it" help when another module declares this data name.
    pub fn import_hint(&self, name: &str) -> Option<String> {
        let m = self
            .index
            .modules
            .values()
            .find(|m| m.module != self.module && m.has_data(name))?;
        Some(format!(
            "`{name}` is declared in `{}`: add `import {}.{{{name}}}`",
            m.module, m.module
        ))
    }

    /// A dotted path of plain names (`Tier.Gold`, `refunds.limit`), if `e` is one.
    pub(crate) fn static_path(e: &Expr) -> Option<Vec<&Ident>> {
        match &e.kind {
            ExprKind::Name(id) => Some(vec![id]),
            ExprKind::Field {
                base,
                field,
                optional: false,
            } => {
                let mut p = Self::static_path(base)?;
                p.push(field);
                Some(p)
            }
            _ => None,
        }
    }

    /// Resolve `Enum.Variant`, `alias.value`, `alias.Enum.Variant` when the head is not a value.
    pub(crate) fn static_member(&mut self, e: &Expr, scope: &Scope) -> Option<Ty> {
        let path = Self::static_path(e)?;
        let head = &path[0].name;
        if scope.locals.contains_key(head) {
            return None;
        }
        if self
            .index
            .lookup_data(self.module, head)
            .is_some_and(|(_, k)| matches!(k, DataKind::Let | DataKind::Fixture))
        {
            return None;
        }
        let names: Vec<String> = path.iter().map(|i| i.name.clone()).collect();
        let (last, prefix) = names.split_last()?;
        // Enum.Variant (possibly module-qualified).
        if let Ok(Ty::Enum(def)) = self.index.resolve_type(
            self.module,
            &crate::semantic::sig::TypeRef::Named(prefix.to_vec()),
        ) {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, prefix.len() > 1);
            let variants = self.index.enum_variants(&def).cloned().unwrap_or_default();
            if !variants.contains(last) {
                let vs: Vec<&str> = variants.iter().map(String::as_str).collect();
                let span = path[path.len() - 1].span;
                let d = self.error(
                    Code::UnknownVariant,
                    span,
                    format!("`{}` has no variant `{last}`", def.name),
                    "unknown variant",
                );
                d.help = Some(did_you_mean(last, &vs, "its variants are"));
                return Some(Ty::Error);
            }
            return Some(Ty::Enum(def));
        }
        // alias.value
        if let Some((def, kind)) = self.index.lookup_qualified(self.module, &names) {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, true);
            return Some(match kind {
                DataKind::Let | DataKind::Fixture => self.index.value_type(&def, kind),
                _ => {
                    self.error(
                        Code::WrongKind,
                        e.span,
                        format!("`{}` is {}, not a value", names.join("."), kind.describe()),
                        "not a value",
                    );
                    Ty::Error
                }
            });
        }
        if self.index.module_alias(self.module, head).is_some() {
            self.error(
                Code::UnknownName,
                path[1].span,
                format!("module `{head}` has no `{}`", path[1].name),
                "not declared there",
            );
            return Some(Ty::Error);
        }
        if self.index.op(OpKind::Connector, head).is_some() && path.len() == 2 {
            self.error(
                Code::WrongKind,
                e.span,
                format!("`{}` is an action", names.join(".")),
                "an action",
            )
            .help = Some("actions run only as steps of an automation's `do` block".into());
            return Some(Ty::Error);
        }
        None
    }

    pub(crate) fn field(
        &mut self,
        e: &Expr,
        base: &Expr,
        field: &Ident,
        optional: bool,
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        let _ = expected;
        if !optional && let Some(t) = self.static_member(e, scope) {
            return t;
        }
        let base_ty = self.check(base, None, scope);
        if base_ty.is_error() {
            return Ty::Error;
        }
        let (target, was_optional) = match &base_ty {
            Ty::Optional(inner) => (inner.as_ref().clone(), true),
            other => (other.clone(), false),
        };
        if was_optional && !optional {
            self.error(
                Code::OptionalMisuse,
                e.span,
                format!(
                    "`{base_ty}` may be none: `.{}` needs `?.` or `!`",
                    field.name
                ),
                "may be none",
            )
            .help = Some(format!(
                "write `?.{}` (gives none when it is none) or unwrap with `!`",
                field.name
            ));
            return Ty::Error;
        }
        let Some(fields) = self.index.fields_of(&target) else {
            self.error(
                Code::UnknownField,
                field.span,
                format!("`{target}` has no fields"),
                format!("`.{}` on a `{target}`", field.name),
            );
            return Ty::Error;
        };
        match fields.iter().find(|(n, _)| *n == field.name) {
            Some((_, t)) => {
                if optional {
                    t.clone().optional()
                } else {
                    t.clone()
                }
            }
            None => {
                let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
                let d = self.error(
                    Code::UnknownField,
                    field.span,
                    format!("`{target}` has no field `{}`", field.name),
                    "unknown field",
                );
                d.help = Some(did_you_mean(&field.name, &names, "its fields are"));
                Ty::Error
            }
        }
    }
}

/// Help for an unknown name: the likely typo's fix, or the whole list (`intro: a, b, c`).
pub fn did_you_mean(name: &str, candidates: &[&str], intro: &str) -> String {
    suggest(name, candidates).map_or_else(
        || format!("{intro}: {}", candidates.join(", ")),
        |s| format!("did you mean `{s}`?"),
    )
}

/// The closest candidate by edit distance, if it is close enough to be a likely typo.
pub fn suggest<'n>(name: &str, candidates: &[&'n str]) -> Option<&'n str> {
    let limit = (name.len() / 3).max(1);
    candidates
        .iter()
        .map(|c| (levenshtein(&name.to_lowercase(), &c.to_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
