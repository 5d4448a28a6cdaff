//! Lexical passes that run beside the pest grammar: collecting comments (the grammar skips
//! them) and bounding nesting before pest sees the text.
//!
//! Comments: every `//` outside a string literal, with its span; those that start with `///`
//! are doc comments and attach to the declaration, variant, field or action that follows
//! them with nothing but whitespace in between.
//!
//! Limits: pest's rules and our lowering are recursive, so a file of a million `(` would
//! overflow the stack. [`oversized_chunks`] finds each top-level chunk (the text between
//! two recovery sync points) whose bracket depth or operator count passes a bound that no
//! real rule comes near; the parser blanks such a chunk and reports it instead of parsing it.

use super::ast::Comment;
use crate::source::Span;

/// Bracket nesting allowed inside one declaration.
pub const MAX_DEPTH: usize = 128;
/// Operators and prefix keywords allowed inside one declaration (bounds the AST depth).
pub const MAX_OPERATORS: usize = 4000;

/// All `//` comments outside string literals, in order.
pub fn comments(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let end = trim_cr(text, i, end);
            out.push(Comment {
                text: text[i..end].to_string(),
                span: Span::new(i, end),
            });
            i = end;
            continue;
        }
        i += 1;
    }
    out
}

fn trim_cr(text: &str, start: usize, mut end: usize) -> usize {
    while end > start && text.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    end
}

/// Doc comments indexed by the position they document.
#[derive(Debug, Default)]
pub struct DocIndex {
    /// `(end of the doc block, text)`, sorted by end.
    blocks: Vec<(usize, String)>,
}

impl DocIndex {
    pub fn new(text: &str, comments: &[Comment]) -> DocIndex {
        let mut blocks: Vec<(usize, String)> = Vec::new();
        let mut last_end: Option<usize> = None;
        for c in comments
            .iter()
            .filter(|c| c.text.starts_with("///") && !c.text.starts_with("////"))
        {
            let line = c.text[3..]
                .strip_prefix(' ')
                .unwrap_or(&c.text[3..])
                .trim_end();
            let start = c.span.start as usize;
            let joins = last_end.is_some_and(|e| text[e..start].chars().all(char::is_whitespace))
                && blocks.last().is_some();
            if joins {
                let block = blocks.last_mut().expect("checked above");
                block.0 = c.span.end as usize;
                block.1.push('\n');
                block.1.push_str(line);
            } else {
                blocks.push((c.span.end as usize, line.to_string()));
            }
            last_end = Some(c.span.end as usize);
        }
        DocIndex { blocks }
    }

    /// The doc comment block that ends right before `start` (only whitespace between).
    pub fn doc_before(&self, text: &str, start: usize) -> Option<String> {
        let idx = self.blocks.partition_point(|(end, _)| *end <= start);
        let (end, doc) = self.blocks.get(idx.checked_sub(1)?)?;
        text.get(*end..start)?
            .chars()
            .all(char::is_whitespace)
            .then(|| doc.clone())
    }
}

/// Byte ranges of top-level chunks that are too deep or too long to parse safely.
pub fn oversized_chunks(text: &str) -> Vec<(Span, &'static str)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut chunk_start = 0;
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut ops = 0usize;
    let mut i = 0;
    let mut in_string = false;
    let flush = |start: usize, end: usize, max_depth: usize, ops: usize, out: &mut Vec<_>| {
        if max_depth > MAX_DEPTH {
            out.push((Span::new(start, end), "brackets nested too deeply"));
        } else if ops > MAX_OPERATORS {
            out.push((Span::new(start, end), "declaration has too many operators"));
        }
    };
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' | b'\n' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'\n' if starts_declaration(&text[i + 1..]) => {
                flush(chunk_start, i + 1, max_depth, ops, &mut out);
                chunk_start = i + 1;
                depth = 0;
                max_depth = 0;
                ops = 0;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'+' | b'-' | b'*' | b'/' | b'!' | b'?' | b'<' | b'>' | b'=' | b'|' => ops += 1,
            b'a'..=b'z' if i == 0 || !is_ident_byte(bytes[i - 1]) => {
                let end = bytes[i..]
                    .iter()
                    .position(|c| !is_ident_byte(*c))
                    .map_or(bytes.len(), |n| i + n);
                if matches!(
                    &text[i..end],
                    "if" | "not" | "and" | "or" | "match" | "in" | "contains"
                ) {
                    ops += 1;
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    flush(chunk_start, text.len(), max_depth, ops, &mut out);
    out
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Does `rest` start with a declaration keyword or a doc comment (a recovery sync point)?
pub fn starts_declaration(rest: &str) -> bool {
    if rest.starts_with("///") {
        return true;
    }
    let word_end = rest
        .bytes()
        .position(|b| !is_ident_byte(b))
        .unwrap_or(rest.len());
    DECL_KEYWORDS.contains(&&rest[..word_end])
}

/// The keyword and name of the declaration that `text` starts (after doc comments and
/// blanks), read from its first words: `sla first_reply for` → (`sla`, `first_reply`).
/// `classify`, `owners` and `test` have no name here; `import` names its module.
pub fn broken_head(text: &str) -> super::ast::BrokenDecl {
    let mut rest = text.trim_start();
    while rest.starts_with("//") {
        rest = rest.find('\n').map_or("", |i| &rest[i + 1..]).trim_start();
    }
    let word = |s: &str| -> usize { s.bytes().position(|b| !is_ident_byte(b)).unwrap_or(s.len()) };
    let kw_len = word(rest);
    let keyword = &rest[..kw_len];
    if !DECL_KEYWORDS.contains(&keyword) {
        return super::ast::BrokenDecl::default();
    }
    let after = rest[kw_len..].trim_start_matches([' ', '\t']);
    let name_len = match keyword {
        "classify" | "owners" | "test" => 0,
        "import" => after
            .bytes()
            .position(|b| !(is_ident_byte(b) || b == b'.'))
            .unwrap_or(after.len()),
        _ => word(after),
    };
    let name = after[..name_len].trim_end_matches('.');
    let is_name = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    super::ast::BrokenDecl {
        keyword: Some(keyword.to_string()),
        name: is_name.then(|| name.to_string()),
    }
}

/// The words that start a top-level declaration (brief §7.2).
pub const DECL_KEYWORDS: &[&str] = &[
    "import",
    "enum",
    "record",
    "event",
    "let",
    "fn",
    "calendar",
    "team",
    "classify",
    "owners",
    "route",
    "sla",
    "connector",
    "gate",
    "automation",
    "fixture",
    "test",
    "acceptance",
    "table",
    "aggregate",
    "extend",
];

/// The words reserved everywhere (brief §7.2): never a name.
pub const RESERVED_WORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "contains",
    "matches",
    "starts_with",
    "if",
    "then",
    "else",
    "match",
    "true",
    "false",
    "none",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_skip_strings_and_keep_docs() {
        let text = "/// Doc one\n/// two\nlet a = \"x // not\" // real\n";
        let cs = comments(text);
        assert_eq!(
            cs.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            ["/// Doc one", "/// two", "// real"]
        );
        let docs = DocIndex::new(text, &cs);
        let let_at = text.find("let").unwrap();
        assert_eq!(
            docs.doc_before(text, let_at).as_deref(),
            Some("Doc one\ntwo")
        );
        assert_eq!(docs.doc_before(text, text.find("a =").unwrap()), None);
    }

    #[test]
    fn broken_heads() {
        let head = |t: &str| {
            let b = broken_head(t);
            (b.keyword, b.name)
        };
        let s = |x: &str| Some(x.to_string());
        assert_eq!(
            head("sla first_reply for A {"),
            (s("sla"), s("first_reply"))
        );
        assert_eq!(head("/// Doc\n// c\nteam ops {"), (s("team"), s("ops")));
        assert_eq!(head("owners {\n  A -> b"), (s("owners"), None));
        assert_eq!(
            head("import std.helpdesk.{X"),
            (s("import"), s("std.helpdesk"))
        );
        assert_eq!(head("let = 1"), (s("let"), None));
        assert_eq!(head("let 1x = 1"), (s("let"), None));
        assert_eq!(head("foo bar"), (None, None));
        assert_eq!(head(""), (None, None));
    }

    #[test]
    fn finds_deep_chunks() {
        let deep = format!("let ok = 1\nlet bad = {}1\nlet fine = 2\n", "(".repeat(500));
        let found = oversized_chunks(&deep);
        assert_eq!(found.len(), 1);
        assert!(deep[found[0].0.range()].starts_with("let bad"));
    }
}
