//! Folding ranges: every declaration that spans lines, and runs of comment lines.

use meshline_compiler::db::{self, SourceFile};
use meshline_compiler::ide::{self, Def};
use tower_lsp_server::ls_types::{FoldingRange, FoldingRangeKind};

use crate::analysis::Snapshot;
use crate::convert::TextPos;

pub(crate) fn ranges(s: &Snapshot, file: SourceFile) -> Vec<FoldingRange> {
    let text = TextPos::new(file.text(&s.db));
    let mut out = Vec::new();
    fn walk(defs: &[Def], text: &TextPos<'_>, out: &mut Vec<FoldingRange>) {
        for d in defs {
            let r = text.range(d.full_span);
            if r.end.line > r.start.line {
                out.push(FoldingRange {
                    start_line: r.start.line,
                    end_line: r.end.line,
                    kind: Some(FoldingRangeKind::Region),
                    ..Default::default()
                });
            }
            walk(&d.children, text, out);
        }
    }
    walk(
        &ide::file_analysis(&s.db, s.project, file).defs,
        &text,
        &mut out,
    );
    // Consecutive comment lines.
    let parsed = db::parsed(&s.db, file);
    let mut run: Option<(u32, u32)> = None;
    for c in &parsed.ast.comments {
        let line = text.position(c.span.start as usize).line;
        run = match run {
            Some((start, end)) if end + 1 == line => Some((start, line)),
            Some((start, end)) => {
                if end > start {
                    out.push(comment_range(start, end));
                }
                Some((line, line))
            }
            None => Some((line, line)),
        };
    }
    if let Some((start, end)) = run
        && end > start
    {
        out.push(comment_range(start, end));
    }
    out.sort_by_key(|r| (r.start_line, r.end_line));
    out
}

fn comment_range(start: u32, end: u32) -> FoldingRange {
    FoldingRange {
        start_line: start,
        end_line: end,
        kind: Some(FoldingRangeKind::Comment),
        ..Default::default()
    }
}
