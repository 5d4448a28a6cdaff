//! The semantic model: module signatures, the project index, name resolution, type
//! checking and the project-wide safety checks. Plain functions over owned data; `db.rs`
//! wraps them as salsa queries.

pub mod actions;
pub mod aggregates;
pub mod builtins;
pub mod decls;
pub mod dependent;
pub mod expr;
pub mod extend;
pub mod facts;
pub mod flow;
pub mod index;
pub mod inference;
pub mod lifecycle;
pub mod operators;
pub mod project_checks;
pub mod quant;
pub mod rollout;
pub mod rules;
pub mod safety;
pub mod sig;
pub mod solver;
pub mod tables;
pub mod test_decls;
pub mod types;
pub mod values;

pub use expr::Use;
pub use inference::{ExprFacts, ModuleInference, checker_runs, infer_module};
