//! The pest grammar (`mesh.pest`) and its `Rule` enum: the leaf every other syntax module
//! reads (the parser front, the CST → AST builders, the words of syntax errors).

#[derive(pest_derive::Parser)]
#[grammar = "syntax/mesh.pest"]
pub(super) struct MeshParser;
