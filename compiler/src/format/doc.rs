//! A small Wadler/Prettier-style document and its printer.
//!
//! A [`Doc`] describes text with optional line breaks. A [`Doc::Group`] is printed flat (every
//! [`Doc::Line`] a space, every [`Doc::SoftLine`] nothing) when it fits in what is left of the
//! line, and broken (every line a newline at the current indentation) otherwise. Fitting
//! looks at the group's flat width plus the text that follows it up to the next possible line
//! break, so a group never pushes a closing ` {` past the limit.
//!
//! [`Doc::HardLine`] and [`Doc::LineSuffix`] (a trailing `//` comment) never fit flat: any
//! group containing one breaks, and so do the groups around it. Line suffixes wait for the
//! next newline, so a trailing comment lands at the end of its line, after any `,`.
//! Indentation is written lazily, so blank lines carry no trailing spaces.

/// The maximum line width the formatter aims for.
pub const WIDTH: usize = 100;
/// Spaces per indentation level.
pub const INDENT: usize = 2;

#[derive(Clone, Debug)]
pub enum Doc {
    Text(String),
    /// A space when flat, a newline when broken.
    Line,
    /// Nothing when flat, a newline when broken.
    SoftLine,
    /// Always a newline; breaks every enclosing group.
    HardLine,
    /// Indent the lines inside by this many more spaces.
    Nest(usize, Box<Doc>),
    Group(Box<Doc>),
    Concat(Vec<Doc>),
    /// The first text when the enclosing group is broken, the second when it is flat.
    IfBreak(&'static str, &'static str),
    /// Text written just before the next newline (a trailing comment).
    LineSuffix(String),
    /// Short items separated by `, `; when the enclosing group is broken, as many items per
    /// line as fit, each line ending with `,` (the caller adds the last comma).
    Fill(Vec<String>),
}

pub fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

pub fn concat(parts: Vec<Doc>) -> Doc {
    Doc::Concat(parts)
}

pub fn group(d: Doc) -> Doc {
    Doc::Group(Box::new(d))
}

pub fn nest(d: Doc) -> Doc {
    Doc::Nest(INDENT, Box::new(d))
}

pub fn nil() -> Doc {
    Doc::Concat(Vec::new())
}

/// `items` separated by `sep` followed by a line break.
pub fn join(items: Vec<Doc>, sep: &str, line: Doc) -> Doc {
    let mut out = Vec::new();
    for (i, d) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(text(sep));
            out.push(line.clone());
        }
        out.push(d);
    }
    concat(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// Render `doc` within [`WIDTH`] columns. The result has no trailing spaces on any line.
pub fn render(doc: &Doc) -> String {
    let mut out = String::new();
    let mut col = 0usize;
    // Indentation owed to the current line, written before its first text.
    let mut pending_indent: Option<usize> = None;
    let mut suffixes: Vec<String> = Vec::new();
    // The indentation of the line being written (for a second trailing comment on it).
    let mut line_indent = 0usize;
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(0, Mode::Break, doc)];
    let newline = |out: &mut String,
                   col: &mut usize,
                   pending: &mut Option<usize>,
                   suffixes: &mut Vec<String>,
                   line_indent: &mut usize,
                   indent: usize| {
        flush_suffixes(out, suffixes, *line_indent);
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
        *pending = Some(indent);
        *col = indent;
        *line_indent = indent;
    };
    while let Some((indent, mode, d)) = stack.pop() {
        match d {
            Doc::Text(s) => {
                if s.is_empty() {
                    continue;
                }
                if let Some(n) = pending_indent.take() {
                    out.extend(std::iter::repeat_n(' ', n));
                }
                out.push_str(s);
                col += s.chars().count();
            }
            Doc::Line | Doc::SoftLine if mode == Mode::Flat => {
                if matches!(d, Doc::Line) {
                    out.push(' ');
                    col += 1;
                }
            }
            Doc::Line | Doc::SoftLine | Doc::HardLine => newline(
                &mut out,
                &mut col,
                &mut pending_indent,
                &mut suffixes,
                &mut line_indent,
                indent,
            ),
            Doc::Nest(n, inner) => stack.push((indent + n, mode, inner)),
            Doc::Group(inner) => {
                let m = if mode == Mode::Flat || fits(WIDTH.saturating_sub(col), inner, &stack) {
                    Mode::Flat
                } else {
                    Mode::Break
                };
                stack.push((indent, m, inner));
            }
            Doc::Concat(parts) => {
                for p in parts.iter().rev() {
                    stack.push((indent, mode, p));
                }
            }
            Doc::IfBreak(broken, flat) => {
                let s = if mode == Mode::Break { broken } else { flat };
                if !s.is_empty() {
                    if let Some(n) = pending_indent.take() {
                        out.extend(std::iter::repeat_n(' ', n));
                    }
                    out.push_str(s);
                    col += s.len();
                }
            }
            Doc::LineSuffix(s) => suffixes.push(s.clone()),
            Doc::Fill(items) => {
                for (i, item) in items.iter().enumerate() {
                    let w = item.chars().count();
                    if i > 0 {
                        out.push(',');
                        col += 1;
                        // Room for a space, the item and the comma after it.
                        if mode == Mode::Flat || col + w + 2 <= WIDTH {
                            out.push(' ');
                            col += 1;
                        } else {
                            newline(
                                &mut out,
                                &mut col,
                                &mut pending_indent,
                                &mut suffixes,
                                &mut line_indent,
                                indent,
                            );
                        }
                    }
                    if let Some(n) = pending_indent.take() {
                        out.extend(std::iter::repeat_n(' ', n));
                    }
                    out.push_str(item);
                    col += w;
                }
            }
        }
    }
    flush_suffixes(&mut out, &mut suffixes, 0);
    out
}

/// Write waiting trailing comments. A second one on the same line would merge into the
/// first, so each further one goes on its own line, at the indentation of the line it
/// follows.
fn flush_suffixes(out: &mut String, suffixes: &mut Vec<String>, indent: usize) {
    for (i, s) in suffixes.drain(..).enumerate() {
        if i > 0 {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', indent));
            out.push_str(s.trim_start());
        } else {
            out.push_str(&s);
        }
    }
}

/// Does `doc`, printed flat, and what follows it up to the next line break fit in `width`?
fn fits(width: usize, doc: &Doc, rest: &[(usize, Mode, &Doc)]) -> bool {
    let mut remaining = width as isize;
    let mut stack: Vec<(Mode, &Doc)> = vec![(Mode::Flat, doc)];
    let mut rest_idx = rest.len();
    loop {
        let (mode, d) = match stack.pop() {
            Some(x) => x,
            None => {
                if rest_idx == 0 {
                    return true;
                }
                rest_idx -= 1;
                (rest[rest_idx].1, rest[rest_idx].2)
            }
        };
        match d {
            Doc::Text(s) => remaining -= s.chars().count() as isize,
            Doc::Line if mode == Mode::Flat => remaining -= 1,
            Doc::SoftLine if mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine => return true,
            Doc::HardLine | Doc::LineSuffix(_) => return mode == Mode::Break,
            Doc::Nest(_, inner) => stack.push((mode, inner)),
            // A group in the rest is measured flat up to its first break: optimistic, as usual.
            Doc::Group(inner) => stack.push((mode, inner)),
            Doc::Concat(parts) => {
                for p in parts.iter().rev() {
                    stack.push((mode, p));
                }
            }
            Doc::IfBreak(broken, flat) => {
                let s = if mode == Mode::Break { broken } else { flat };
                remaining -= s.len() as isize;
            }
            Doc::Fill(items) if mode == Mode::Flat => {
                let w: usize = items.iter().map(|i| i.chars().count() + 2).sum();
                remaining -= w.saturating_sub(2) as isize;
            }
            // Broken, it can wrap after its first item.
            Doc::Fill(items) => {
                let first = items.first().map_or(0, |i| i.chars().count());
                return remaining >= first as isize;
            }
        }
        if remaining < 0 {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(n: usize, w: usize) -> Doc {
        let items = (0..n).map(|i| text(format!("{i:0w$}"))).collect();
        group(concat(vec![
            text("["),
            nest(concat(vec![Doc::SoftLine, join(items, ",", Doc::Line)])),
            Doc::IfBreak(",", ""),
            Doc::SoftLine,
            text("]"),
        ]))
    }

    #[test]
    fn short_groups_stay_flat() {
        assert_eq!(render(&list(3, 1)), "[0, 1, 2]");
    }

    #[test]
    fn long_groups_break_with_trailing_comma() {
        let out = render(&list(30, 5));
        assert!(out.starts_with("[\n  00000,\n  00001,"), "{out}");
        assert!(out.ends_with("00029,\n]"), "{out}");
    }

    #[test]
    fn fills_lines_when_broken() {
        let items: Vec<String> = (0..30).map(|i| format!("item{i:02}")).collect();
        let d = group(concat(vec![
            text("["),
            nest(concat(vec![Doc::SoftLine, Doc::Fill(items)])),
            Doc::IfBreak(",", ""),
            Doc::SoftLine,
            text("]"),
        ]));
        let out = render(&d);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 5, "{out}");
        assert!(lines[1].starts_with("  item00, item01,"), "{out}");
        assert!(lines.iter().all(|l| l.len() <= WIDTH), "{out}");
        assert!(lines[3].ends_with("item29,"), "{out}");
        assert_eq!(render(&Doc::Fill(vec!["a".into(), "b".into()])), "a, b");
    }

    #[test]
    fn hard_lines_and_suffixes_break_groups() {
        let d = group(concat(vec![
            text("a"),
            Doc::LineSuffix(" // c".into()),
            Doc::Line,
            text("b"),
        ]));
        assert_eq!(render(&d), "a // c\nb");
    }

    #[test]
    fn blank_lines_have_no_indentation() {
        let d = nest(concat(vec![
            text("a"),
            Doc::HardLine,
            Doc::HardLine,
            text("b"),
        ]));
        assert_eq!(render(&d), "a\n\n  b");
    }
}
