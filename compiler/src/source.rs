//! Byte spans and line indexes.
//!
//! INVARIANT: every span inside the compiler is a half-open byte range into one file's text,
//! with `start <= end <= text.len()` and both ends on UTF-8 character boundaries. Positions
//! for people (1-based line/column in characters), for LSP and SARIF (UTF-16 code units)
//! are computed only at the edges, through [`LineIndex`].

use serde::Serialize;

/// A half-open byte range `start..end` in one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        let end = u32::try_from(end).unwrap_or(u32::MAX).max(start);
        Span { start, end }
    }
    /// An empty span at `offset`.
    pub fn at(offset: usize) -> Span {
        Span::new(offset, offset)
    }
    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
    pub fn shift(self, by: usize) -> Span {
        Span::new(self.start as usize + by, self.end as usize + by)
    }
    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
    pub fn contains(self, offset: usize) -> bool {
        self.start as usize <= offset && offset <= self.end as usize
    }
    /// Clamp to a text of `len` bytes, snapping to character boundaries of `text`.
    pub fn clamp_to(self, text: &str) -> Span {
        let fix = |mut o: usize| {
            o = o.min(text.len());
            while o > 0 && !text.is_char_boundary(o) {
                o -= 1;
            }
            o
        };
        Span::new(fix(self.start as usize), fix(self.end as usize))
    }
}

/// A 0-based line and a 0-based column in some unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// Line starts of a text, for converting byte offsets into line/column positions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        LineIndex { starts }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 0-based line that contains `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        match self.starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(0) as usize
    }

    /// 0-based line and column in Unicode scalar values (what people count).
    pub fn char_pos(&self, text: &str, offset: usize) -> LineCol {
        self.pos_with(text, offset, |s| s.chars().count())
    }

    /// 0-based line and column in UTF-16 code units (LSP and SARIF default).
    pub fn utf16_pos(&self, text: &str, offset: usize) -> LineCol {
        self.pos_with(text, offset, |s| s.encode_utf16().count())
    }

    /// 0-based line and column in bytes.
    pub fn byte_pos(&self, text: &str, offset: usize) -> LineCol {
        self.pos_with(text, offset, str::len)
    }

    fn pos_with(&self, text: &str, offset: usize, count: impl Fn(&str) -> usize) -> LineCol {
        let offset = Span::at(offset).clamp_to(text).start as usize;
        let line = self.line_of(offset);
        let start = self.line_start(line).min(offset);
        let col = count(&text[start..offset]);
        LineCol {
            line: line as u32,
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }

    /// Byte offset of a 0-based line and UTF-16 column (LSP positions), clamped to the line.
    pub fn offset_of_utf16(&self, text: &str, pos: LineCol) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let start = self.line_start(line);
        let end = self
            .starts
            .get(line + 1)
            .map(|e| *e as usize)
            .unwrap_or(text.len());
        let mut units = 0u32;
        for (i, ch) in text[start..end].char_indices() {
            if units >= pos.col || ch == '\n' {
                return start + i;
            }
            units += ch.len_utf16() as u32;
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_in_three_units() {
        let text = "ab\né€😀x\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(idx.byte_pos(text, x), LineCol { line: 1, col: 9 });
        assert_eq!(idx.char_pos(text, x), LineCol { line: 1, col: 3 });
        assert_eq!(idx.utf16_pos(text, x), LineCol { line: 1, col: 4 });
        assert_eq!(idx.offset_of_utf16(text, LineCol { line: 1, col: 4 }), x);
    }

    #[test]
    fn clamps_out_of_range_and_mid_char() {
        let text = "é";
        assert_eq!(Span::new(1, 9).clamp_to(text), Span::new(0, 2));
    }
}
