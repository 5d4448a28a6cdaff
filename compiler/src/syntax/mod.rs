//! Syntax: the pest grammar, lowering to the owned AST, comments and syntax errors.

pub mod ast;
mod errors;
mod grammar;
mod lower_expr;
mod lower_rules;
mod parser;
pub mod trivia;

pub use parser::{parse, parse_expr};
