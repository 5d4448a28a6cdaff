//! The formatter: one canonical layout for `.mesh` files (`meshline fmt`, LSP formatting).
//!
//! The pipeline is parse → [`Doc`](doc::Doc) → text. `items.rs` (the file, blocks, data
//! declarations), `rules.rs` (rule declarations) and `expr.rs` (expressions) build a
//! Wadler-style document from the owned AST; `doc.rs` prints it within [`doc::WIDTH`]
//! columns; `comments.rs` places the `//` comments, which the AST keeps by position only.
//! Literals are printed as written, so only layout, optional commas and parentheses change.
//! The layout rules are listed in `docs/language.md` §19.
//!
//! Soundness: [`format_file`] refuses text with syntax errors, and re-parses its own output
//! and compares it with the input (the AST without spans, plus the list of comments) before
//! returning it, so a formatter bug is reported as [`FormatError::Unsound`] instead of
//! changing a program or losing a comment.

mod aggregate;
mod comments;
pub mod doc;
mod expr;
mod items;
mod lifecycle;
mod rollout;
mod rules;

use std::fmt;
use std::sync::LazyLock;

use crate::diagnostics::{Diagnostic, FileName};
use crate::syntax::{self, ast::Module};
use comments::Comments;

/// Why a file was not formatted.
#[derive(Debug, Clone)]
pub enum FormatError {
    /// The file has syntax errors (the diagnostics); it was left alone.
    Syntax(Vec<Diagnostic>),
    /// The formatted text would not parse to the same program or would lose a comment.
    /// This is a formatter bug; the file was left alone.
    Unsound(String),
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FormatError::Syntax(diags) => {
                let first = diags.first().map_or("", |d| d.message.as_str());
                write!(f, "cannot format a file with syntax errors: {first}")
            }
            FormatError::Unsound(why) => write!(f, "formatter bug, file left unchanged: {why}"),
        }
    }
}

impl std::error::Error for FormatError {}

impl FormatError {
    /// The syntax errors, if that is why formatting was refused.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            FormatError::Syntax(d) => d,
            FormatError::Unsound(_) => &[],
        }
    }
}

/// Format one `.mesh` file. Refuses (leaves alone) text with syntax errors.
pub fn format_source(text: &str) -> Result<String, FormatError> {
    format_file(&FileName::from("<input>"), text)
}

/// [`format_source`], with `file` as the file name in syntax-error diagnostics.
pub fn format_file(file: &FileName, text: &str) -> Result<String, FormatError> {
    crate::with_large_stack(|| {
        let (module, diags) = syntax::parse(file, text);
        if diags.iter().any(Diagnostic::is_error) {
            return Err(FormatError::Syntax(diags));
        }
        let out = print_module(text, &module);
        let (again, diags) = syntax::parse(file, &out);
        if diags.iter().any(Diagnostic::is_error) {
            let first = diags.first().map_or(String::new(), |d| d.message.clone());
            return Err(FormatError::Unsound(format!(
                "the formatted text does not parse: {first}"
            )));
        }
        if program_fingerprint(&module) != program_fingerprint(&again) {
            return Err(FormatError::Unsound(
                "the formatted text parses to a different program".into(),
            ));
        }
        if comment_texts(&module) != comment_texts(&again) {
            return Err(FormatError::Unsound(
                "the formatted text does not keep every comment".into(),
            ));
        }
        Ok(out)
    })
}

fn print_module(text: &str, module: &Module) -> String {
    let mut p = Printer {
        src: text,
        c: Comments::new(text, &module.comments),
    };
    let d = p.module(module);
    let mut out = doc::render(&d);
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The declarations of a module (docs included) with every span removed: two texts with
/// the same fingerprint are the same program.
pub fn program_fingerprint(module: &Module) -> String {
    strip_spans(&format!("{:?}", module.items))
}

/// The text of every comment, in order, without trailing whitespace.
pub fn comment_texts(module: &Module) -> Vec<String> {
    module
        .comments
        .iter()
        .map(|c| c.text.trim_end().to_string())
        .collect()
}

/// Remove `Span { start: N, end: M }` from a `Debug` rendering. Strings in the AST are
/// rendered escaped (`{:?}`), so a string literal cannot contain this pattern unescaped.
fn strip_spans(debug: &str) -> String {
    static SPAN: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"Span \{ start: \d+, end: \d+ \}").expect("valid regex")
    });
    SPAN.replace_all(debug, "Span").into_owned()
}

/// The document builder: the source (for literals as written) and the comment cursor.
pub(crate) struct Printer<'a> {
    src: &'a str,
    c: Comments<'a>,
}

#[cfg(test)]
mod tests;
