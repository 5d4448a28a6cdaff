//! `aggregate` declarations (docs/language.md §5.6).

use pest::iterators::Pair;

use super::{Builder, span};
use crate::syntax::ast::*;
use crate::syntax::grammar::Rule;

impl Builder<'_> {
    pub(super) fn aggregate(&self, p: Pair<'_, Rule>) -> AggregateDecl {
        let mut i = p.into_inner();
        let name = self.ident(i.next().expect("grammar: aggregate name"));
        let mut k = i.next().expect("grammar: aggregate key").into_inner();
        let key_name = self.ident(k.next().expect("grammar: key name"));
        let key = FieldDecl {
            doc: None,
            name: key_name,
            ty: self.type_expr(k.next().expect("grammar: key type")),
        };
        let mut decl = AggregateDecl {
            name,
            key,
            window: None,
            keep: None,
            feeds: Vec::new(),
            cases: Vec::new(),
            fields: Vec::new(),
        };
        for c in i {
            let sp = span(&c);
            match c.as_rule() {
                Rule::agg_over => {
                    let d = c.into_inner().next().expect("grammar: window");
                    decl.window = Some((self.duration(&d), span(&d)));
                }
                Rule::agg_keep => {
                    let n = c.into_inner().next().expect("grammar: keep count");
                    decl.keep = Some((self.int(&n), span(&n)));
                }
                Rule::agg_on => {
                    let mut ci = c.into_inner();
                    let events = self.event_list(ci.next().expect("grammar: aggregate events"));
                    let key = self.expr(ci.next().expect("grammar: aggregate key"));
                    let when = ci.next().map(|w| self.expr(w));
                    decl.feeds.push(AggFeedDecl {
                        events,
                        key,
                        when,
                        span: sp,
                    });
                }
                Rule::agg_cases => {
                    let mut ci = c.into_inner().filter(|x| x.as_rule() == Rule::expr);
                    let key = self.expr(ci.next().expect("grammar: open cases key"));
                    let when = ci.next().map(|w| self.expr(w));
                    decl.cases.push(AggCasesDecl {
                        key,
                        when,
                        span: sp,
                    });
                }
                Rule::agg_field => {
                    let mut ci = c.into_inner();
                    let name = self.ident(ci.next().expect("grammar: field name"));
                    let ty = self.type_expr(ci.next().expect("grammar: field type"));
                    let op = ci.next().expect("grammar: aggregate operation");
                    let op = match op.as_rule() {
                        Rule::agg_sum => AggOpDecl::Sum(
                            self.expr(op.into_inner().next().expect("grammar: sum value")),
                        ),
                        Rule::agg_latest => AggOpDecl::Latest(
                            self.expr(op.into_inner().next().expect("grammar: latest value")),
                        ),
                        _ => AggOpDecl::Count(span(&op)),
                    };
                    decl.fields.push(AggFieldDecl {
                        field: FieldDecl {
                            doc: self.doc(name.span),
                            name,
                            ty,
                        },
                        op,
                        span: sp,
                    });
                }
                _ => {}
            }
        }
        decl
    }
}
