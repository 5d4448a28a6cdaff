//! Lowering expressions to IR: names to slots, parameters, constants and literals; fields
//! to indices; bare variants to `(enum, index)`. Runs only on programs that checked
//! without errors, and reads the checker's type of every expression (by `ExprId`, from the
//! module's inference result), so it never re-infers types.

use meshline_runtime::ir::{self, Ctx, Expr as IrExpr, Lit};

use super::Ids;
use crate::semantic::index::{DataKind, OpKind, ProjectIndex};
use crate::semantic::types::Ty;
use crate::syntax::ast::{self, BinOp, Expr, ExprKind, Pattern};

/// Which names are local where an expression is lowered.
#[derive(Clone, Debug)]
pub enum LScope {
    /// Top-level only (constants, fixtures, test values).
    None,
    /// Rule scope: `event`, `case`, `class`, `assignee`, `now`, then slots.
    Rule,
    /// Function or action parameters by position.
    Params(Vec<String>),
    /// Gate condition: common action parameters, then the rule scope.
    Gate(Vec<String>),
}

pub struct LowerExpr<'a> {
    pub index: &'a ProjectIndex,
    pub ids: &'a Ids,
    pub module: &'a str,
    /// The module's semantic model: the type of each expression, by its id.
    pub inference: &'a crate::semantic::ModuleInference,
    pub scope: LScope,
    /// Names bound by the enclosing quantifiers (`all x in …`), outermost first.
    pub bound: Vec<String>,
}

impl LowerExpr<'_> {
    fn ty(&self, e: &Expr) -> Ty {
        self.inference.ty(e.id)
    }

    fn param(&self, name: &str) -> Option<u32> {
        match &self.scope {
            LScope::Params(ps) | LScope::Gate(ps) => {
                ps.iter().position(|p| p == name).map(|i| i as u32)
            }
            _ => None,
        }
    }

    fn rule_scope(&self) -> bool {
        matches!(self.scope, LScope::Rule | LScope::Gate(_))
    }

    fn local(&self, name: &str) -> Option<IrExpr> {
        if let Some(i) = self.bound.iter().rev().position(|b| b == name) {
            return Some(IrExpr::Elem(i as u32));
        }
        if let Some(i) = self.param(name) {
            return Some(IrExpr::Param(i));
        }
        if !self.rule_scope() {
            return None;
        }
        let ctx = match name {
            "event" => Ctx::Event,
            "case" => Ctx::Case,
            "class" => Ctx::Class,
            "assignee" => Ctx::Assignee,
            "now" => Ctx::Now,
            _ => return self.ids.slots.get(name).map(|s| IrExpr::Slot(*s)),
        };
        Some(IrExpr::Ctx(ctx))
    }

    pub fn lower(&self, e: &Expr) -> IrExpr {
        match &e.kind {
            ExprKind::Bool(b) => IrExpr::Lit(Lit::Bool(*b)),
            ExprKind::Int(i) => IrExpr::Lit(Lit::Int(*i)),
            ExprKind::Decimal(d) => IrExpr::Lit(Lit::Decimal(d.clone())),
            ExprKind::Money { amount, currency } => IrExpr::Lit(Lit::Money {
                amount: amount.clone(),
                currency: currency.clone(),
            }),
            ExprKind::Percent(p) => IrExpr::Lit(Lit::Percent(p.clone())),
            ExprKind::Duration(s) => IrExpr::Lit(Lit::Duration(*s)),
            ExprKind::BusinessDuration { amount, unit } => {
                IrExpr::Lit(Lit::Business(*amount, super::unit(*unit)))
            }
            ExprKind::Date(d) => IrExpr::Lit(Lit::Date {
                year: d.year as i16,
                month: d.month as i8,
                day: d.day as i8,
            }),
            ExprKind::TimeOfDay(t) => IrExpr::Lit(Lit::TimeOfDay((t.hour * 60 + t.minute) as u16)),
            ExprKind::Timestamp(t) => IrExpr::Lit(Lit::Time(t.clone())),
            ExprKind::Str(s) => match self.ty(e) {
                Ty::Person => IrExpr::Lit(Lit::Person(s.to_lowercase())),
                _ => IrExpr::Lit(Lit::Str(s.clone())),
            },
            ExprKind::None => IrExpr::Lit(Lit::None),
            ExprKind::List(items) => IrExpr::List(items.iter().map(|i| self.lower(i)).collect()),
            ExprKind::Record { spread, fields, .. } => self.record(e, spread.as_deref(), fields),
            ExprKind::Name(id) => self.name(e, &id.name),
            ExprKind::Field {
                base,
                field,
                optional,
            } => {
                if !optional && let Some(v) = self.static_member(e) {
                    return v;
                }
                let base_ty = self.ty(base);
                let idx = self.field_index(base_ty.strip_optional(), &field.name);
                let b = Box::new(self.lower(base));
                if *optional {
                    IrExpr::OptField(b, idx)
                } else {
                    IrExpr::Field(b, idx)
                }
            }
            ExprKind::Unwrap(inner) => IrExpr::Unwrap(Box::new(self.lower(inner))),
            ExprKind::Quant {
                all,
                var,
                list,
                body,
            } => {
                let mut bound = self.bound.clone();
                bound.push(var.name.clone());
                let inner = LowerExpr {
                    scope: self.scope.clone(),
                    bound,
                    ..*self
                };
                IrExpr::Quant {
                    all: *all,
                    list: Box::new(self.lower(list)),
                    body: Box::new(inner.lower(body)),
                }
            }
            ExprKind::IsSet { operand, negated } => {
                let test = IrExpr::IsSet(Box::new(self.lower(operand)));
                if *negated {
                    IrExpr::Not(Box::new(test))
                } else {
                    test
                }
            }
            ExprKind::Index { base, index } => {
                // The checker typed the table's name as its row record.
                let table = match self.ty(base) {
                    Ty::Record(def) => {
                        if let Some(a) = self.ids.aggregates.get(&def) {
                            // An aggregate's lookup (docs/language.md §5.6).
                            return IrExpr::Aggregate(*a, Box::new(self.lower(index)));
                        }
                        self.ids.tables.get(&def).copied()
                    }
                    _ => None,
                };
                match table {
                    Some(t) => IrExpr::Lookup(t, Box::new(self.lower(index))),
                    None => IrExpr::Lit(Lit::None),
                }
            }
            ExprKind::Call { callee, args } => self.call(callee, args),
            ExprKind::Unary {
                op: ast::UnaryOp::Not,
                operand,
            } => IrExpr::Not(Box::new(self.lower(operand))),
            ExprKind::Unary {
                op: ast::UnaryOp::Neg,
                operand,
            } => IrExpr::Neg(Box::new(self.lower(operand))),
            ExprKind::Binary {
                op: BinOp::Matches,
                lhs,
                rhs,
            } => {
                let pattern = match &rhs.kind {
                    ExprKind::Str(s) => s.clone(),
                    _ => String::new(),
                };
                IrExpr::Matches(Box::new(self.lower(lhs)), pattern)
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let op = match op {
                    BinOp::Or => ir::BinOp::Or,
                    BinOp::And => ir::BinOp::And,
                    BinOp::Eq => ir::BinOp::Eq,
                    BinOp::Ne => ir::BinOp::Ne,
                    BinOp::Lt => ir::BinOp::Lt,
                    BinOp::Le => ir::BinOp::Le,
                    BinOp::Gt => ir::BinOp::Gt,
                    BinOp::Ge => ir::BinOp::Ge,
                    BinOp::In => ir::BinOp::In,
                    BinOp::Contains => ir::BinOp::Contains,
                    BinOp::StartsWith => ir::BinOp::StartsWith,
                    BinOp::Coalesce => ir::BinOp::Coalesce,
                    BinOp::Add => ir::BinOp::Add,
                    BinOp::Sub => ir::BinOp::Sub,
                    BinOp::Mul => ir::BinOp::Mul,
                    BinOp::Div | BinOp::Matches => ir::BinOp::Div,
                };
                IrExpr::Binary(op, Box::new(self.lower(lhs)), Box::new(self.lower(rhs)))
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => IrExpr::If(
                Box::new(self.lower(cond)),
                Box::new(self.lower(then)),
                Box::new(self.lower(otherwise)),
            ),
            ExprKind::Match { scrutinee, arms } => {
                let st = self.ty(scrutinee);
                let mut out = Vec::new();
                let mut default = None;
                for arm in arms {
                    match &arm.pattern {
                        Pattern::Wildcard(_) => default = Some(Box::new(self.lower(&arm.value))),
                        Pattern::Alternatives(ps) => {
                            let vs = ps
                                .iter()
                                .filter_map(|p| self.variant_index(&st, &p.last().name))
                                .collect();
                            out.push((vs, self.lower(&arm.value)));
                        }
                    }
                }
                IrExpr::Match {
                    scrutinee: Box::new(self.lower(scrutinee)),
                    arms: out,
                    default,
                }
            }
            ExprKind::Error => IrExpr::Lit(Lit::None),
        }
    }

    /// `name_of(x)`: a `match` of the enum value on its variants, each giving its name; no
    /// runtime built-in is needed (docs/language.md §4.4).
    fn name_of(&self, arg: &Expr) -> IrExpr {
        let ty = self.ty(arg);
        let variants = ty
            .enum_def()
            .and_then(|d| self.index.enum_variants(d))
            .cloned()
            .unwrap_or_default();
        let arms = variants
            .iter()
            .enumerate()
            .map(|(i, v)| (vec![i as u32], IrExpr::Lit(Lit::Str(v.clone()))))
            .collect();
        IrExpr::Match {
            scrutinee: Box::new(self.lower(arg)),
            arms,
            default: None,
        }
    }

    pub fn variant_index(&self, ty: &Ty, name: &str) -> Option<u32> {
        let def = ty.enum_def()?;
        self.index
            .enum_variants(def)?
            .iter()
            .position(|v| v == name)
            .map(|i| i as u32)
    }

    fn field_index(&self, ty: &Ty, name: &str) -> u32 {
        self.index
            .fields_of(ty)
            .and_then(|fs| fs.iter().position(|(n, _)| n == name))
            .map_or(0, |i| i as u32)
    }

    fn name(&self, e: &Expr, name: &str) -> IrExpr {
        if let Some(l) = self.local(name) {
            return l;
        }
        if let Some((def, kind)) = self.index.lookup_data(self.module, name)
            && matches!(kind, DataKind::Let | DataKind::Fixture)
            && let Some(id) = self.ids.consts.get(&def)
        {
            return IrExpr::Const(*id);
        }
        let ty = self.ty(e);
        if let (Ty::Enum(def), Some(i)) = (&ty, self.variant_index(&ty, name)) {
            return IrExpr::Lit(Lit::Variant(self.ids.enums[def], i));
        }
        if self.index.op(OpKind::Team, name).is_some() {
            return IrExpr::Lit(Lit::Team(self.ids.teams[name]));
        }
        if self.index.op(OpKind::Calendar, name).is_some() {
            return IrExpr::Lit(Lit::Calendar(self.ids.calendars[name]));
        }
        IrExpr::Lit(Lit::None)
    }

    /// `Enum.Variant`, `alias.Enum.Variant`, `alias.value` (when the head is not a value).
    fn static_member(&self, e: &Expr) -> Option<IrExpr> {
        let mut path = Vec::new();
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Field {
                    base,
                    field,
                    optional: false,
                } => {
                    path.push(field.name.clone());
                    cur = base;
                }
                ExprKind::Name(id) => {
                    path.push(id.name.clone());
                    break;
                }
                _ => return None,
            }
        }
        path.reverse();
        if self.local(&path[0]).is_some()
            || self
                .index
                .lookup_data(self.module, &path[0])
                .is_some_and(|(_, k)| matches!(k, DataKind::Let | DataKind::Fixture))
        {
            return None;
        }
        let ty = self.ty(e);
        if let Ty::Enum(def) = &ty
            && let Some(i) = self.variant_index(&ty, path.last()?)
        {
            return Some(IrExpr::Lit(Lit::Variant(self.ids.enums[def], i)));
        }
        let (def, _) = self.index.lookup_qualified(self.module, &path)?;
        self.ids.consts.get(&def).map(|id| IrExpr::Const(*id))
    }

    fn call(&self, callee: &Expr, args: &[ast::Arg]) -> IrExpr {
        let mut path = Vec::new();
        let mut cur = callee;
        while let ExprKind::Field { base, field, .. } = &cur.kind {
            path.push(field.name.clone());
            cur = base;
        }
        if let ExprKind::Name(id) = &cur.kind {
            path.push(id.name.clone());
        }
        path.reverse();
        let found = if path.len() == 1 {
            self.index.lookup_data(self.module, &path[0])
        } else {
            self.index.lookup_qualified(self.module, &path)
        };
        if let Some((def, DataKind::Fn)) = found {
            let params: Vec<String> = self
                .index
                .sig(&def.module)
                .and_then(|m| m.fns.get(&*def.name))
                .map(|f| f.params.iter().map(|(n, _)| n.clone()).collect())
                .unwrap_or_default();
            let lowered = order_args(&params, args, |e| self.lower(e));
            return IrExpr::Call(self.ids.fns[&def], lowered);
        }
        if path.first().map(String::as_str) == Some("name_of")
            && let Some(arg) = args.first()
        {
            return self.name_of(&arg.value);
        }
        // docs/language.md §6.4: the checker made the argument a path on a case fact.
        match (path.first().map(String::as_str), args.first()) {
            (Some("changed"), Some(a)) => return IrExpr::Changed(Box::new(self.lower(&a.value))),
            (Some("previous"), Some(a)) => {
                return IrExpr::Previous(Box::new(self.lower(&a.value)));
            }
            _ => {}
        }
        let f = match path.first().map(String::as_str) {
            Some("len") => ir::BuiltinFn::Len,
            Some("lower") => ir::BuiltinFn::Lower,
            Some("upper") => ir::BuiltinFn::Upper,
            Some("min") => ir::BuiltinFn::Min,
            Some("max") => ir::BuiltinFn::Max,
            Some("since") => ir::BuiltinFn::Since,
            Some("currency_of") => ir::BuiltinFn::CurrencyOf,
            Some("amount_of") => ir::BuiltinFn::AmountOf,
            Some("convert") => ir::BuiltinFn::Convert,
            _ => ir::BuiltinFn::HourOf,
        };
        IrExpr::Builtin(f, args.iter().map(|a| self.lower(&a.value)).collect())
    }

    fn record(&self, e: &Expr, spread: Option<&Expr>, fields: &[ast::FieldInit]) -> IrExpr {
        let mut ty = self.ty(e);
        // A typed literal the checker did not record by span (a test's `given`): use its path.
        if let (Ty::Error, ExprKind::Record { ty: Some(p), .. }) = (&ty, &e.kind) {
            let names = p.segments.iter().map(|s| s.name.clone()).collect();
            ty = self
                .index
                .resolve_type(self.module, &crate::semantic::sig::TypeRef::Named(names))
                .unwrap_or(Ty::Error);
        }
        let declared = self
            .index
            .fields_of(ty.strip_optional())
            .unwrap_or_default();
        let lowered = declared
            .iter()
            .map(|(name, _)| {
                fields
                    .iter()
                    .find(|f| f.name.name == *name)
                    .map(|f| self.lower(&f.value))
            })
            .collect();
        IrExpr::Record {
            base: spread.map(|s| Box::new(self.lower(s))),
            fields: lowered,
        }
    }
}

/// Arguments in parameter order (labelled or positional); `none` for omitted ones.
pub fn order_args(
    params: &[String],
    args: &[ast::Arg],
    mut lower: impl FnMut(&Expr) -> IrExpr,
) -> Vec<IrExpr> {
    let mut out: Vec<Option<IrExpr>> = vec![None; params.len()];
    for (i, a) in args.iter().enumerate() {
        let pos = match &a.label {
            Some(l) => params.iter().position(|p| *p == l.name),
            None => Some(i),
        };
        if let Some(p) = pos
            && p < out.len()
        {
            out[p] = Some(lower(&a.value));
        }
    }
    out.into_iter()
        .map(|x| x.unwrap_or(IrExpr::Lit(Lit::None)))
        .collect()
}
