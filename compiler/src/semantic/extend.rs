//! `extend record std.crm.Contract { region: Region?, … }` (docs/language.md §14.8): a
//! project adds optional fields to a record of the standard library instead of redeclaring
//! the events that carry it. The index appends the fields to the record
//! (`ProjectIndex::build`); this checks what it skipped or must refuse.

use std::collections::BTreeSet;

use super::expr::Cx;
use super::index::DataKind;
use super::sig::TypeRef;
use crate::diagnostics::Code;
use crate::syntax::ast::ExtendDecl;

impl Cx<'_> {
    pub(crate) fn check_extend(&mut self, e: &ExtendDecl) {
        let names: Vec<String> = e.target.segments.iter().map(|s| s.name.clone()).collect();
        let found = if names.len() == 1 {
            self.index.lookup_data(self.module, &names[0])
        } else {
            self.index.lookup_qualified(self.module, &names)
        };
        let def = match found {
            Some((def, DataKind::Record))
                if def.module.starts_with("std.")
                    && !crate::semantic::tables::is_table(self.index, &def) =>
            {
                self.uses.insert(super::expr::Use::Data(def.clone()));
                self.note_import(&def, names.len() > 1);
                Some(def)
            }
            other => {
                let what = match &other {
                    Some((def, kind)) => format!(
                        "`{}` is {} of module `{}`",
                        e.target.dotted(),
                        kind.describe(),
                        def.module
                    ),
                    None => format!("unknown record `{}`", e.target.dotted()),
                };
                self.error(
                    Code::BadExtension,
                    e.target.span,
                    format!("only records of the standard library can be extended: {what}"),
                    "not a standard record",
                )
                .help = Some(
                    "extend a record such as `std.crm.Contract` or `std.helpdesk.Ticket`; add \
                     fields to your own records where they are declared"
                        .into(),
                );
                None
            }
        };
        let mut seen = BTreeSet::new();
        for f in &e.fields {
            let tref = TypeRef::from_ast(&f.ty);
            match self.index.resolve_type(self.module, &tref) {
                Err(msg) => {
                    self.error(Code::UnknownType, f.ty.span, msg, "not a known type");
                }
                Ok(ty) => {
                    self.note_type_use(&ty, &[]);
                    if !ty.is_optional() && !ty.is_error() {
                        self.error(
                            Code::ExtensionNotOptional,
                            f.ty.span,
                            format!(
                                "field `{}` added to a standard record must be optional, found `{ty}`",
                                f.name.name
                            ),
                            "not optional",
                        )
                        .help = Some(format!(
                            "events from the help desk or CRM may not carry it: write `{}: {ty}?` and give it a meaning with `??` where it is read",
                            f.name.name
                        ));
                    }
                }
            }
            let Some(def) = &def else { continue };
            let ours = self.index.extended.get(def).is_some_and(|fs| {
                fs.iter()
                    .any(|(n, m)| *n == f.name.name && m == self.module)
            });
            if !seen.insert(f.name.name.as_str()) || !ours {
                let from = self
                    .index
                    .extended
                    .get(def)
                    .and_then(|fs| fs.iter().find(|(n, _)| *n == f.name.name))
                    .map(|(_, m)| m.clone());
                let whose = match from {
                    Some(m) if m != self.module => format!("module `{m}` already adds it"),
                    Some(_) => "it is given twice here".to_string(),
                    None => format!("`{}` already has it", def.name),
                };
                self.error(
                    Code::ExtensionClash,
                    f.name.span,
                    format!("`{}` cannot add field `{}`: {whose}", def.name, f.name.name),
                    "clashes",
                )
                .help = Some("give the field another name".into());
            }
        }
    }
}
