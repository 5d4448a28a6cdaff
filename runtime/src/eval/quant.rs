//! `all x in list: body` and `any x in list: body` (docs/language.md §4.6).
//!
//! The body runs once per element, in list order, with the element bound (a link on the
//! evaluation context's stack of bound elements, on the stack: nothing is allocated), and
//! stops at the first element that decides: `all` at the first false, `any` at the first
//! true. An empty list makes `all` true and `any` false. A list is at most as long as an
//! envelope can make it, so the cost is bounded by the input.

use super::{Code, CtxVals, EvalError, Expr, Frame, Program, Value, compile, truthy};

/// One bound element and the ones bound around it.
#[derive(Clone, Copy, Debug)]
pub struct Bound<'a> {
    pub value: &'a Value,
    pub outer: Option<&'a Bound<'a>>,
}

pub(super) fn quant(all: bool, list: &Expr, body: &Expr, program: &Program) -> Code {
    let (list, body) = (compile(list, program), compile(body, program));
    Box::new(move |f| {
        let items = match list(f)? {
            Value::List(items) => items,
            Value::None => return Err(EvalError::NoneUnwrapped),
            other => return Err(EvalError::ty(format!("a quantifier over {other:?}"))),
        };
        for item in items.iter() {
            let bound = Bound {
                value: item,
                outer: f.ctx.bound,
            };
            let ctx = CtxVals {
                bound: Some(&bound),
                ..f.ctx.clone()
            };
            let frame = Frame {
                facts: f.facts,
                event: f.event,
                params: f.params,
                ctx: &ctx,
                env: f.env,
            };
            if truthy(&body(&frame)?)? != all {
                return Ok(Value::Bool(!all));
            }
        }
        Ok(Value::Bool(all))
    })
}

pub(super) fn elem(depth: u32) -> Code {
    Box::new(move |f| {
        let mut at = f.ctx.bound;
        for _ in 0..depth {
            at = at.and_then(|b| b.outer);
        }
        at.map(|b| b.value.clone())
            .ok_or_else(|| EvalError::ty("an element outside its quantifier"))
    })
}
