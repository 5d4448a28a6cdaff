//! Built-in functions (docs/language.md §4.4): their arity and argument types, and what
//! they return. The money ones (`currency_of`, `amount_of`, `convert`) are how a playbook
//! works across currencies without an implicit conversion.

use super::expr::{Cx, Scope};
use super::types::Ty;
use crate::diagnostics::Code;
use crate::syntax::ast::{Arg, Expr, ExprKind};

impl Cx<'_> {
    pub(crate) fn builtin_call(&mut self, e: &Expr, name: &str, args: &[Arg], scope: &Scope) -> Ty {
        let arity = match name {
            "min" | "max" | "hour_of" => 2,
            "convert" => 3,
            _ => 1,
        };
        if args.len() != arity {
            self.error(
                Code::BadArguments,
                e.span,
                format!("`{name}` takes {arity} argument(s), found {}", args.len()),
                "wrong number of arguments",
            );
            for a in args {
                self.check(&a.value, None, scope);
            }
            return Ty::Error;
        }
        let a0 = &args[0].value;
        match name {
            "changed" | "previous" => self.check_change(name, a0, scope),
            "len" => {
                let t = self.check(a0, None, scope);
                if !matches!(t, Ty::List(_) | Ty::EmptyList | Ty::String | Ty::Error) {
                    self.error(
                        Code::TypeMismatch,
                        a0.span,
                        format!("`len` needs a list or a string, found `{t}`"),
                        "here",
                    );
                }
                Ty::Int
            }
            "lower" | "upper" => {
                self.expect(a0, &Ty::String, scope);
                Ty::String
            }
            // An enum variant's name as a string (docs/language.md §4.4).
            "name_of" => {
                let t = self.check(a0, None, scope);
                if !matches!(t, Ty::Enum(_) | Ty::Error) {
                    self.error(
                        Code::TypeMismatch,
                        a0.span,
                        format!("`name_of` needs an enum value, found `{t}`"),
                        "not an enum value",
                    )
                    .help = Some(match t {
                        Ty::Optional(_) => "unwrap it first: `name_of(x!)` or `name_of(x ?? Default)`".into(),
                        _ => "`name_of` gives the name of an enum variant, e.g. `name_of(ticket.priority)` is \"Urgent\"".into(),
                    });
                }
                Ty::String
            }
            // An amount's currency code and its number (docs/language.md §4.4): thresholds
            // per currency are written with them.
            "currency_of" | "amount_of" => {
                let t = self.check(a0, None, scope);
                if !matches!(t, Ty::Money | Ty::Error) {
                    self.error(
                        Code::TypeMismatch,
                        a0.span,
                        format!("`{name}` needs a money amount, found `{t}`"),
                        "not money",
                    )
                    .help = Some(match t {
                        Ty::Optional(_) => {
                            format!("unwrap it first: `{name}(x!)` or `{name}(x ?? 0 USD)`")
                        }
                        _ => format!(
                            "`{name}` reads a `Money` value, e.g. `{name}(ticket.refund_amount)`"
                        ),
                    });
                }
                if name == "currency_of" {
                    Ty::String
                } else {
                    Ty::Decimal
                }
            }
            // An explicit conversion at a rate the playbook names (docs/language.md §4.4,
            // "Money across currencies"): the rate usually comes from an FX table.
            "convert" => {
                self.expect(a0, &Ty::Money, scope);
                let to = &args[1].value;
                self.expect(to, &Ty::String, scope);
                if let ExprKind::Str(code) = &to.kind
                    && !crate::semantic::values::is_currency(code)
                {
                    self.error(
                        Code::TypeMismatch,
                        to.span,
                        format!("`{code}` is not an ISO 4217 currency code"),
                        "not a currency",
                    )
                    .help = Some("write the target currency as in money, e.g. \"USD\"".into());
                }
                let rate = &args[2].value;
                let t = self.check(rate, None, scope);
                if !matches!(t, Ty::Decimal | Ty::Int | Ty::Error) {
                    self.error(
                        Code::TypeMismatch,
                        rate.span,
                        format!("`convert` needs a rate (a `Decimal`), found `{t}`"),
                        "not a rate",
                    )
                    .help = Some(match t {
                        Ty::Optional(_) => "a table lookup may find no row: unwrap it, e.g. `fx[currency_of(m)]!.rate`".into(),
                        _ => "the rate is how many units of the target currency one unit of the amount's currency buys, e.g. `1.08`".into(),
                    });
                }
                Ty::Money
            }
            "since" => {
                self.expect(a0, &Ty::Time, scope);
                Ty::Duration
            }
            "hour_of" => {
                self.expect(a0, &Ty::Time, scope);
                self.expect(&args[1].value, &Ty::Calendar, scope);
                Ty::Int
            }
            _ => {
                let t = self.check(a0, None, scope);
                if !t.is_ordered() {
                    self.error(
                        Code::TypeMismatch,
                        a0.span,
                        format!("`{name}` needs ordered values, found `{t}`"),
                        "here",
                    );
                    return Ty::Error;
                }
                self.expect(&args[1].value, &t, scope);
                if t == Ty::Money {
                    self.currency_check(a0, &args[1].value);
                }
                t
            }
        }
    }
}
