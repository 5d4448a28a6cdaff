//! `table` declarations (docs/language.md §5.5).

use pest::iterators::Pair;

use super::Builder;
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Builder<'_> {
    pub(super) fn table(&self, p: Pair<'_, Rule>) -> TableDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: table name"));
        let file = self.string(i.next().expect("grammar: table file"));
        let key = self.ident(i.next().expect("grammar: table key"));
        let columns = i
            .map(|f| {
                let mut fi = f.into_inner();
                let name = self.ident(fi.next().expect("grammar: column name"));
                let ty = self.type_expr(fi.next().expect("grammar: column type"));
                FieldDecl {
                    doc: self.doc(name.span),
                    name,
                    ty,
                }
            })
            .collect();
        TableDecl {
            name,
            file,
            key,
            columns,
        }
    }
}
