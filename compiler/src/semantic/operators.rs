//! Type checking of calls and operators (brief §2): function and action arguments,
//! built-in functions, comparisons (with compile-time currency checks), unit-safe
//! arithmetic, `match` and pattern exhaustiveness.

use std::collections::BTreeSet;

use super::expr::{BUILTIN_FNS, Cx, Scope, Use, did_you_mean, suggest};
use super::index::{DataKind, OpKind};
use super::types::{Ty, comparable};
use super::values;
use crate::diagnostics::Code;
use crate::source::Span;
use crate::syntax::ast::{Arg, BinOp, Expr, ExprKind, MatchArm, Pattern};

impl Cx<'_> {
    pub(crate) fn call(&mut self, e: &Expr, callee: &Expr, args: &[Arg], scope: &Scope) -> Ty {
        let path = Self::static_path(callee);
        let names: Option<Vec<String>> = path
            .as_ref()
            .map(|p| p.iter().map(|i| i.name.clone()).collect());
        let Some(names) = names else {
            self.error(
                Code::WrongKind,
                callee.span,
                "only functions can be called",
                "not a function",
            );
            return Ty::Error;
        };
        // A user function (local, imported, or module-qualified).
        let found = if names.len() == 1 {
            self.index.lookup_data(self.module, &names[0])
        } else {
            self.index.lookup_qualified(self.module, &names)
        };
        if let Some((def, kind)) = found {
            self.uses.insert(Use::Data(def.clone()));
            self.note_import(&def, names.len() > 1);
            if kind != DataKind::Fn {
                self.error(
                    Code::WrongKind,
                    callee.span,
                    format!(
                        "`{}` is {}, not a function",
                        names.join("."),
                        kind.describe()
                    ),
                    "cannot be called",
                );
                return Ty::Error;
            }
            let sig = self
                .index
                .sig(&def.module)
                .and_then(|m| m.fns.get(&*def.name))
                .cloned();
            let Some(sig) = sig else { return Ty::Error };
            let params: Vec<(String, Ty)> = sig
                .params
                .iter()
                .map(|(n, t)| {
                    (
                        n.clone(),
                        self.index.resolve_type(&def.module, t).unwrap_or(Ty::Error),
                    )
                })
                .collect();
            self.check_args(e.span, &names.join("."), &params, args, scope, false);
            return self
                .index
                .resolve_type(&def.module, &sig.ret)
                .unwrap_or(Ty::Error);
        }
        if names.len() == 1 && BUILTIN_FNS.contains(&names[0].as_str()) {
            return self.builtin_call(e, &names[0], args, scope);
        }
        if names.len() == 2 && self.index.op(OpKind::Connector, &names[0]).is_some() {
            self.error(
                Code::WrongKind,
                callee.span,
                format!("`{}` is an action, not a function", names.join(".")),
                "an action",
            )
            .help = Some("actions run only as steps of an automation's `do` block".into());
            for a in args {
                self.check(&a.value, None, scope);
            }
            return Ty::Error;
        }
        if self.from_failed_import(&names) {
            for a in args {
                self.check(&a.value, None, scope);
            }
            return Ty::Error;
        }
        let id = path
            .and_then(|p| p.last().copied())
            .expect("static path is non-empty");
        let mut fns: Vec<&str> = BUILTIN_FNS.to_vec();
        let local_fns: Vec<String> = self
            .index
            .sig(self.module)
            .map(|m| m.fns.keys().cloned().collect())
            .unwrap_or_default();
        fns.extend(local_fns.iter().map(String::as_str));
        let hint = self.import_hint(&id.name);
        let d = self.error(
            Code::UnknownName,
            callee.span,
            format!("unknown function `{}`", names.join(".")),
            "not found",
        );
        d.help = hint.or_else(|| suggest(&id.name, &fns).map(|s| format!("did you mean `{s}`?")));
        for a in args {
            self.check(&a.value, None, scope);
        }
        Ty::Error
    }

    /// Check call arguments against parameters. Functions take positional or labelled
    /// arguments; actions (`labelled_only`) take labelled ones.
    pub fn check_args(
        &mut self,
        span: Span,
        what: &str,
        params: &[(String, Ty)],
        args: &[Arg],
        scope: &Scope,
        labelled_only: bool,
    ) {
        let mut given: BTreeSet<&str> = BTreeSet::new();
        for (i, a) in args.iter().enumerate() {
            let param = match &a.label {
                Some(l) => match params.iter().find(|(n, _)| *n == l.name) {
                    Some(p) => Some(p),
                    None => {
                        let names: Vec<&str> = params.iter().map(|(n, _)| n.as_str()).collect();
                        let d = self.error(
                            Code::BadArguments,
                            l.span,
                            format!("`{what}` has no parameter `{}`", l.name),
                            "unknown parameter",
                        );
                        d.help = Some(did_you_mean(&l.name, &names, "its parameters are"));
                        None
                    }
                },
                None if labelled_only => {
                    let d = self.error(
                        Code::BadArguments,
                        a.value.span,
                        format!("arguments of `{what}` need names"),
                        "unnamed argument",
                    );
                    d.help = params.get(i).map(|(n, _)| format!("write `{n}: …`"));
                    None
                }
                None => params.get(i),
            };
            match param {
                Some((name, ty)) => {
                    if !given.insert(name.as_str()) {
                        self.error(
                            Code::BadArguments,
                            a.value.span,
                            format!("parameter `{name}` given twice"),
                            "again here",
                        );
                    }
                    let ty = ty.clone();
                    self.expect(&a.value, &ty, scope);
                }
                None => {
                    if a.label.is_none() && !labelled_only {
                        self.error(
                            Code::BadArguments,
                            a.value.span,
                            format!("`{what}` takes {} argument(s)", params.len()),
                            "extra argument",
                        );
                    }
                    self.check(&a.value, None, scope);
                }
            }
        }
        let missing: Vec<String> = params
            .iter()
            .filter(|(n, t)| !given.contains(n.as_str()) && !t.is_optional())
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        if !missing.is_empty() {
            self.error(
                Code::BadArguments,
                span,
                format!("`{what}` is missing {}", missing.join(", ")),
                "missing arguments",
            );
        }
    }

    /// Is `e` something whose type must come from context (`none`, `[]`, a bare name that
    /// is not in scope, an untyped record)?
    pub(crate) fn needs_context(&self, e: &Expr, scope: &Scope) -> bool {
        match &e.kind {
            ExprKind::None => true,
            ExprKind::List(items) => items.is_empty(),
            ExprKind::Record { ty: None, .. } => true,
            ExprKind::Name(id) => {
                !scope.locals.contains_key(&id.name)
                    && self.index.lookup_data(self.module, &id.name).is_none()
                    && self.index.op_kinds(&id.name).is_empty()
            }
            _ => false,
        }
    }

    /// A case fact named directly (not a parameter or local of that name): it may be
    /// unset, so `?.`, `??` and `== none` read it as optional (docs/language.md §6.1).
    pub(crate) fn is_fact(&self, e: &Expr, scope: &Scope) -> bool {
        matches!(&e.kind, ExprKind::Name(id)
            if self.index.facts.get(&id.name).is_some_and(|t| scope.locals.get(&id.name) == Some(t)))
    }

    /// Check two operands that must have one type: the one that needs context goes second.
    pub(crate) fn pair(&mut self, lhs: &Expr, rhs: &Expr, scope: &Scope) -> (Ty, Ty) {
        if self.needs_context(lhs, scope) && !self.needs_context(rhs, scope) {
            let r = self.check(rhs, None, scope);
            let l = self.check(lhs, Some(&r.strip_optional().clone()), scope);
            (l, r)
        } else {
            let l = self.check(lhs, None, scope);
            let r = self.check(rhs, Some(&l.strip_optional().clone()), scope);
            (l, r)
        }
    }

    /// The currency of a money expression when it is known at compile time.
    pub fn known_currency(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Money { currency, .. } => Some(currency.clone()),
            ExprKind::Name(id) => {
                let (def, kind) = self.index.lookup_data(self.module, &id.name)?;
                if kind != DataKind::Let {
                    return None;
                }
                self.index
                    .sig(&def.module)?
                    .lets
                    .get(&*def.name)?
                    .currency
                    .clone()
            }
            ExprKind::Binary {
                op: BinOp::Add | BinOp::Sub,
                lhs,
                ..
            } => self.known_currency(lhs),
            ExprKind::Binary {
                op: BinOp::Mul | BinOp::Div,
                lhs,
                rhs,
            } => self
                .known_currency(lhs)
                .or_else(|| self.known_currency(rhs)),
            ExprKind::Unary { operand, .. } => self.known_currency(operand),
            // `convert(m, "USD", rate)` is in USD whatever `m` was.
            ExprKind::Call { callee, args }
                if matches!(&callee.kind, ExprKind::Name(f) if f.name == "convert"
                    && self.index.lookup_data(self.module, "convert").is_none())
                    && args.len() == 3 =>
            {
                match &args[1].value.kind {
                    // An invalid code is reported once, by `convert` itself.
                    ExprKind::Str(code) if crate::semantic::values::is_currency(code) => {
                        Some(code.clone())
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `amount > 250`: money compared with a bare number. The help writes the number with
    /// the money's currency (USD when it is not known), as `let limit: Money = 250` does.
    fn money_number_help(&self, l: &Ty, r: &Ty, lhs: &Expr, rhs: &Expr) -> Option<String> {
        let (money, number) = match (l, r) {
            (Ty::Money, Ty::Int | Ty::Decimal) => (lhs, rhs),
            (Ty::Int | Ty::Decimal, Ty::Money) => (rhs, lhs),
            _ => return None,
        };
        let currency = self
            .known_currency(money)
            .unwrap_or_else(|| "USD".to_string());
        Some(match &number.kind {
            ExprKind::Int(v) => format!("money needs a currency: write `{v} {currency}`"),
            ExprKind::Decimal(v) => format!("money needs a currency: write `{v} {currency}`"),
            _ => format!("money compares only with money, e.g. `250 {currency}`"),
        })
    }

    pub(crate) fn currency_check(&mut self, lhs: &Expr, rhs: &Expr) {
        if let (Some(a), Some(b)) = (self.known_currency(lhs), self.known_currency(rhs))
            && a != b
        {
            let file = self.file.clone();
            let d = self.error(
                Code::CurrencyMismatch,
                rhs.span,
                format!("currency mismatch: `{a}` and `{b}`"),
                format!("this is {b}"),
            );
            d.secondary.push(crate::diagnostics::Label::new(
                &file,
                lhs.span,
                format!("this is {a}"),
            ));
            d.help = Some(
                "money of different currencies cannot be compared or added; convert explicitly"
                    .into(),
            );
        }
    }

    pub(crate) fn binary(
        &mut self,
        e: &Expr,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        match op {
            BinOp::And | BinOp::Or => {
                self.expect(lhs, &Ty::Bool, scope);
                self.expect(rhs, &Ty::Bool, scope);
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                let (l, r) = self.pair(lhs, rhs, scope);
                // A case fact may be unset whatever its type: `fact == none` asks whether
                // it is set (docs/language.md §6.1).
                let unset_test = (r == Ty::NoneLit && self.is_fact(lhs, scope))
                    || (l == Ty::NoneLit && self.is_fact(rhs, scope));
                if !unset_test && !comparable(&l, &r) {
                    let help = self.money_number_help(&l, &r, lhs, rhs).unwrap_or_else(|| {
                        "values of different types are never equal; compare like with like".into()
                    });
                    self.error(
                        Code::TypeMismatch,
                        e.span,
                        format!("cannot compare `{l}` with `{r}`"),
                        "different types",
                    )
                    .help = Some(help);
                } else if l == Ty::Money || r == Ty::Money {
                    self.currency_check(lhs, rhs);
                }
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let (l, r) = self.pair(lhs, rhs, scope);
                if l.is_optional() || r.is_optional() {
                    let which = if l.is_optional() { lhs.span } else { rhs.span };
                    self.error(
                        Code::OptionalMisuse,
                        which,
                        format!("`{}` needs values, not optionals", op.as_str()),
                        "may be none",
                    )
                    .help = Some("unwrap with `!` or give a default with `?? value`".into());
                } else if !comparable(&l, &r) {
                    let money = self.money_number_help(&l, &r, lhs, rhs);
                    let d = self.error(
                        Code::TypeMismatch,
                        e.span,
                        format!("cannot compare `{l}` with `{r}`"),
                        "different types",
                    );
                    if matches!((&l, &r), (Ty::Percent, _) | (_, Ty::Percent)) {
                        d.help = Some("a percent compares only with a percent, e.g. `85%`".into());
                    } else if money.is_some() {
                        d.help = money;
                    }
                } else if !l.is_ordered() {
                    self.error(
                        Code::BadOperands,
                        e.span,
                        format!("`{l}` values have no order"),
                        format!("`{}` on `{l}`", op.as_str()),
                    );
                } else if l == Ty::Money {
                    self.currency_check(lhs, rhs);
                }
                Ty::Bool
            }
            BinOp::In => {
                let l = self.check(lhs, None, scope);
                let want = Ty::List(Box::new(l.strip_optional().clone()));
                self.expect(rhs, &want, scope);
                Ty::Bool
            }
            BinOp::Contains => {
                let l = self.check(lhs, None, scope);
                match l.strip_optional() {
                    Ty::List(elem) => {
                        let elem = (**elem).clone();
                        self.expect(rhs, &elem, scope);
                    }
                    Ty::String => {
                        self.expect(rhs, &Ty::String, scope);
                    }
                    Ty::Error => {
                        self.check(rhs, None, scope);
                    }
                    other => {
                        self.error(
                            Code::BadOperands,
                            lhs.span,
                            format!("`contains` needs a list or a string, found `{other}`"),
                            "here",
                        );
                        self.check(rhs, None, scope);
                    }
                }
                if l.is_optional() {
                    self.error(
                        Code::OptionalMisuse,
                        lhs.span,
                        format!("`{l}` may be none"),
                        "may be none",
                    )
                    .help = Some("unwrap with `!` or give a default with `?? []`".into());
                }
                Ty::Bool
            }
            BinOp::Matches => {
                self.expect(lhs, &Ty::String, scope);
                match &rhs.kind {
                    ExprKind::Str(pattern) => {
                        if let Err(msg) = values::check_regex(pattern) {
                            self.error(Code::InvalidRegex, rhs.span, format!("invalid regular expression: {msg}"), "this pattern")
                                .help = Some("patterns use Rust `regex` syntax; escape special characters with `\\\\`".into());
                        }
                    }
                    _ => {
                        self.error(
                            Code::TypeMismatch,
                            rhs.span,
                            "`matches` takes a string literal pattern",
                            "not a literal",
                        )
                        .help = Some(
                            "write the regular expression in quotes, e.g. `matches \"(?i)refund\"`"
                                .into(),
                        );
                        self.check(rhs, None, scope);
                    }
                }
                Ty::Bool
            }
            BinOp::StartsWith => {
                self.expect(lhs, &Ty::String, scope);
                self.expect(rhs, &Ty::String, scope);
                Ty::Bool
            }
            BinOp::Coalesce => {
                let l = self.check(lhs, expected.map(|t| t.clone().optional()).as_ref(), scope);
                let inner = l.strip_optional().clone();
                let want = if inner == Ty::NoneLit {
                    expected.cloned()
                } else {
                    Some(inner.clone())
                };
                match want {
                    Some(w) => {
                        self.expect(rhs, &w, scope);
                        w
                    }
                    None => self.check(rhs, None, scope),
                }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => self.arith(e, op, lhs, rhs, scope),
        }
    }

    pub(crate) fn arith(
        &mut self,
        e: &Expr,
        op: BinOp,
        lhs: &Expr,
        rhs: &Expr,
        scope: &Scope,
    ) -> Ty {
        let l = self.check(lhs, None, scope);
        let r = self.check(rhs, None, scope);
        if l.is_error() || r.is_error() {
            return Ty::Error;
        }
        use Ty::*;
        let result = match (op, &l, &r) {
            (BinOp::Add | BinOp::Sub, Int, Int) => Some(Int),
            (BinOp::Add | BinOp::Sub, Decimal, Decimal) => Some(Decimal),
            (BinOp::Add | BinOp::Sub, Money, Money) => {
                self.currency_check(lhs, rhs);
                Some(Money)
            }
            (BinOp::Add | BinOp::Sub, Percent, Percent) => Some(Percent),
            (BinOp::Add | BinOp::Sub, Duration, Duration) => Some(Duration),
            (BinOp::Add | BinOp::Sub, BusinessDuration, BusinessDuration) => Some(BusinessDuration),
            (BinOp::Add | BinOp::Sub, Time, Duration) => Some(Time),
            (BinOp::Add, Duration, Time) => Some(Time),
            (BinOp::Sub, Time, Time) => Some(Duration),
            (BinOp::Mul, Int, Int) => Some(Int),
            (BinOp::Mul, Decimal, Decimal) => Some(Decimal),
            (BinOp::Mul, Money, Decimal | Int | Percent)
            | (BinOp::Mul, Decimal | Int | Percent, Money) => Some(Money),
            (BinOp::Mul, Duration, Int) | (BinOp::Mul, Int, Duration) => Some(Duration),
            (BinOp::Mul, Percent, Int | Decimal) | (BinOp::Mul, Int | Decimal, Percent) => {
                Some(Percent)
            }
            (BinOp::Div, Int, Int) => Some(Int),
            (BinOp::Div, Decimal, Decimal | Int) => Some(Decimal),
            (BinOp::Div, Money, Decimal | Int) => Some(Money),
            (BinOp::Div, Money, Money) => {
                self.currency_check(lhs, rhs);
                Some(Decimal)
            }
            (BinOp::Div, Duration, Int) => Some(Duration),
            _ => None,
        };
        result.unwrap_or_else(|| {
            let d = self.error(Code::BadOperands, e.span, format!("`{l} {} {r}` is not defined", op.as_str()), "unit error");
            if l.is_optional() || r.is_optional() {
                d.code = Code::OptionalMisuse;
                d.help = Some("unwrap optionals with `!` or give a default with `??` before arithmetic".into());
            } else {
                d.help = Some("arithmetic is unit-safe: Money ± Money, Money * Decimal, Time ± Duration, Time - Time, Int ± * Int".into());
            }
            Ty::Error
        })
    }

    pub(crate) fn match_expr(
        &mut self,
        e: &Expr,
        scrutinee: &Expr,
        arms: &[MatchArm],
        expected: Option<&Ty>,
        scope: &Scope,
    ) -> Ty {
        let st = self.check(scrutinee, None, scope);
        let mut result: Option<Ty> = expected.cloned();
        let mut first_ty: Option<Ty> = None;
        for arm in arms {
            let t = match &result {
                Some(r) => {
                    let r = r.clone();
                    self.expect(&arm.value, &r, scope)
                }
                None => self.check(&arm.value, None, scope),
            };
            if first_ty.is_none() {
                first_ty = Some(t.clone());
                result = result.or(Some(t));
            }
        }
        self.patterns(
            e.span,
            &st,
            arms.iter().map(|a| &a.pattern).collect(),
            "match",
        );
        result.unwrap_or(Ty::Error)
    }

    /// Check arm patterns against an enum type and report missing variants (E0301).
    pub fn patterns(&mut self, span: Span, scrutinee: &Ty, patterns: Vec<&Pattern>, what: &str) {
        if scrutinee.is_error() {
            return;
        }
        let Some(def) = scrutinee.enum_def().cloned() else {
            self.error(
                Code::TypeMismatch,
                span,
                format!("`{what}` needs an enum value, found `{scrutinee}`"),
                "not an enum",
            );
            return;
        };
        if scrutinee.is_optional() {
            self.error(
                Code::OptionalMisuse,
                span,
                format!("`{what}` on `{scrutinee}`, which may be none"),
                "may be none",
            )
            .help = Some("unwrap it with `!` or give a default with `??`".into());
        }
        self.uses.insert(Use::Data(def.clone()));
        self.note_import(&def, false);
        let variants = self.index.enum_variants(&def).cloned().unwrap_or_default();
        let mut covered: BTreeSet<String> = BTreeSet::new();
        let mut wildcard = false;
        let mut catch_all: Option<Span> = None;
        for p in patterns {
            if let Some(first) = catch_all {
                let file = self.file;
                let d = self.error(
                    Code::UnreachableMatchArm,
                    p.span(),
                    format!("this `{what}` arm can never be reached"),
                    "unreachable",
                );
                d.secondary.push(crate::diagnostics::Label::new(
                    file,
                    first,
                    "the catch-all `_` takes every value",
                ));
                d.help = Some("remove the arm, or move it above the `_` arm".into());
            } else if let Pattern::Alternatives(paths) = p
                && !paths.is_empty()
                && paths.iter().all(|path| covered.contains(&path.last().name))
            {
                self.error(
                    Code::UnreachableMatchArm,
                    p.span(),
                    format!("this `{what}` arm can never be reached"),
                    "already covered",
                )
                .help = Some("earlier arms cover every variant it names; remove it".into());
            }
            match p {
                Pattern::Wildcard(s) => {
                    wildcard = true;
                    catch_all = catch_all.or(Some(*s));
                }
                Pattern::Alternatives(paths) => {
                    for path in paths {
                        let last = path.last();
                        let qualified_ok = path.segments.len() == 1
                            || matches!(self.index.resolve_type(self.module, &super::sig::TypeRef::Named(path.segments[..path.segments.len() - 1].iter().map(|s| s.name.clone()).collect())), Ok(Ty::Enum(ref d)) if *d == def);
                        if !variants.contains(&last.name) || !qualified_ok {
                            let vs: Vec<&str> = variants.iter().map(String::as_str).collect();
                            let d = self.error(
                                Code::UnknownVariant,
                                path.span,
                                format!("`{}` has no variant `{}`", def.name, path.dotted()),
                                "unknown variant",
                            );
                            d.help = Some(did_you_mean(&last.name, &vs, "its variants are"));
                        } else {
                            covered.insert(last.name.clone());
                        }
                    }
                }
            }
        }
        if !wildcard {
            let missing: Vec<&String> = variants.iter().filter(|v| !covered.contains(*v)).collect();
            if !missing.is_empty() {
                let list = missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                self.error(
                    Code::NonExhaustive,
                    span,
                    format!("`{what}` does not cover {list}"),
                    "not exhaustive",
                )
                .help = Some(format!("add arms for {list}, or a catch-all `_ -> …`"));
            }
        }
    }
}
