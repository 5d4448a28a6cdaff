//! Syntax: the pest grammar, the parser's entry, building the owned AST (`build/`),
//! comments and syntax errors.

pub mod ast;
mod ast_expr;
mod ast_flow;
mod ast_leaf;
mod ast_rollout;
mod build;
mod errors;
mod grammar;
mod parser;
pub mod trivia;

pub use parser::{parse, parse_expr};
