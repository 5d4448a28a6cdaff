//! Placing comments: the formatter walks the AST in source order and, at each point where a
//! line break is allowed, asks this cursor for the comments that come before that point.
//!
//! - A comment that starts its line in the source (an *own-line* comment, including `///`
//!   docs) is printed on its own line before the next node, at that node's indentation.
//!   One blank line before it, or between it and the node, is kept.
//! - A comment that follows code on its line (a *trailing* comment) stays at the end of the
//!   line of the node before it, after any separator.
//!
//! Every comment is printed exactly once: [`Comments::rest`] flushes what is left at the end
//! of the file, and `format_source` re-parses the output and checks the comment list.

use super::doc::{Doc, concat, text};
use crate::syntax::ast::Comment;

pub(super) struct Comments<'a> {
    src: &'a str,
    list: &'a [Comment],
    next: usize,
}

impl<'a> Comments<'a> {
    pub(super) fn new(src: &'a str, list: &'a [Comment]) -> Self {
        Comments { src, list, next: 0 }
    }

    fn peek(&self) -> Option<&'a Comment> {
        self.list.get(self.next)
    }

    /// Is the comment the first thing on its source line?
    fn own_line(&self, c: &Comment) -> bool {
        let start = c.span.start as usize;
        let line_start = self.src[..start].rfind('\n').map_or(0, |i| i + 1);
        self.src[line_start..start].trim().is_empty()
    }

    /// Does the source between `from` and `to` contain a blank line?
    pub(super) fn blank_between(&self, from: u32, to: u32) -> bool {
        let (from, to) = (from as usize, to as usize);
        if from >= to || to > self.src.len() {
            return false;
        }
        let gap = &self.src[from..to];
        let lines: Vec<&str> = gap.split('\n').collect();
        lines.len() > 2
            && lines[1..lines.len() - 1]
                .iter()
                .any(|l| l.trim().is_empty())
    }

    fn comment_text(c: &Comment) -> String {
        c.text.trim_end().to_string()
    }

    /// The next comment, if it is a trailing one before `limit`: printed at the end of the
    /// current line. Only one: a second comment (moved here from inside the node) is left
    /// for [`leading`](Self::leading), which puts it on its own line.
    pub(super) fn trailing(&mut self, limit: u32) -> Doc {
        match self.peek() {
            Some(c) if c.span.start < limit && !self.own_line(c) => {
                self.next += 1;
                Doc::LineSuffix(format!(" {}", Self::comment_text(c)))
            }
            _ => concat(Vec::new()),
        }
    }

    /// Every comment before `pos`, each on its own line, to print before the node at `pos`.
    /// `prev_end` is where the previous sibling ended (for keeping blank lines), or `None`
    /// at the start of a block, where no blank line is kept before the first comment.
    pub(super) fn leading(&mut self, pos: u32, prev_end: Option<u32>) -> Doc {
        let mut out = Vec::new();
        let mut last = prev_end;
        while let Some(c) = self.peek() {
            if c.span.start >= pos {
                break;
            }
            if let Some(l) = last
                && !out.is_empty()
                && self.blank_between(l, c.span.start)
            {
                out.push(Doc::HardLine);
            }
            out.push(text(Self::comment_text(c)));
            out.push(Doc::HardLine);
            last = Some(c.span.end);
            self.next += 1;
        }
        if !out.is_empty()
            && let Some(l) = last
            && self.blank_between(l, pos)
        {
            out.push(Doc::HardLine);
        }
        concat(out)
    }

    /// Comments before `pos` that follow the last element of a block or list (before its
    /// closing bracket): each on its own line, without a line break after the last.
    pub(super) fn dangling(&mut self, pos: u32) -> Option<Doc> {
        if !self.any_before(pos) {
            return None;
        }
        let mut out = Vec::new();
        let mut last: Option<u32> = None;
        while let Some(c) = self.peek() {
            if c.span.start >= pos {
                break;
            }
            if let Some(l) = last {
                out.push(Doc::HardLine);
                if self.blank_between(l, c.span.start) {
                    out.push(Doc::HardLine);
                }
            }
            out.push(text(Self::comment_text(c)));
            last = Some(c.span.end);
            self.next += 1;
        }
        Some(concat(out))
    }

    /// Where the next thing to print before `pos` starts: its first leading comment, or `pos`.
    pub(super) fn first_before(&self, pos: u32) -> u32 {
        match self.peek() {
            Some(c) if c.span.start < pos => c.span.start,
            _ => pos,
        }
    }

    /// Where a node really ends: pest spans can run over the whitespace and comments that
    /// follow the node, so step back over them.
    pub(super) fn real_end(&self, start: u32, end: u32) -> u32 {
        let mut end = end;
        loop {
            let trimmed = self.src[start as usize..end as usize].trim_end().len() as u32;
            end = start + trimmed;
            let idx = self.list.partition_point(|c| c.span.end < end);
            match self.list.get(idx) {
                Some(c) if c.span.end == end && c.span.start > start => end = c.span.start,
                _ => return end,
            }
        }
    }

    /// Is there a comment before `pos` still to print?
    pub(super) fn any_before(&self, pos: u32) -> bool {
        self.peek().is_some_and(|c| c.span.start < pos)
    }

    /// The comments not printed yet (at the end of the file), each on its own line.
    pub(super) fn rest(&mut self) -> Vec<&'a Comment> {
        let rest = &self.list[self.next..];
        self.next = self.list.len();
        rest.iter().collect()
    }
}
