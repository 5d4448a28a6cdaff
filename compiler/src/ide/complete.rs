//! What may be typed at a cursor, and the signature of the call around it.
//!
//! The context comes from two sources. The text before the cursor says where we are: after
//! `.`, after `on`, `assign`, `notify`, `owner`, `escalate`, `->` or `calendar`, inside a
//! `do { }` block, or at the start of a clause of some declaration. For types, the file is
//! re-parsed and re-checked with a placeholder name at the cursor (the trick IntelliJ and
//! rust-analyzer use), so `ticket.` knows `ticket` is a `Ticket` and `tier == ` knows a
//! `Tier` is expected, even while the rest of the line is unfinished.

use crate::syntax::trivia::{DECL_KEYWORDS, RESERVED_WORDS};
use std::collections::BTreeSet;

use crate::diagnostics::FileName;
use crate::semantic::index::{OpKind, ProjectIndex};
use crate::semantic::sig::{ActionSig, EffectKind};
use crate::semantic::types::Ty;
use crate::source::Span;

use super::resolve::type_ref_text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CandidateKind {
    Keyword,
    Field,
    Variant,
    Event,
    Team,
    Calendar,
    Action,
    Connector,
    Function,
    Value,
    Type,
    Module,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Candidate {
    pub label: String,
    pub kind: CandidateKind,
    pub detail: Option<String>,
    /// LSP snippet syntax (`$1`, `${1:name}`), when the insertion is more than the label.
    pub snippet: Option<String>,
}

fn cand(label: &str, kind: CandidateKind, detail: Option<String>) -> Candidate {
    Candidate {
        label: label.to_string(),
        kind,
        detail,
        snippet: None,
    }
}

const PLACEHOLDER: &str = "__meshline_cursor";

fn clause_keywords(block: &str) -> &'static [&'static str] {
    match block {
        "automation" => &[
            "version",
            "owner",
            "on",
            "do",
            "rollout",
            "breaker",
            "once per case",
        ],
        "sla" => &[
            "start on",
            "stop on",
            "reset on",
            "pause when",
            "target",
            "calendar",
            "warn at",
            "breach",
        ],
        "route" => &["assign", "key", "priority", "rebalance"],
        "team" => &["members", "calendar"],
        "calendar" => &["timezone", "hours", "holidays"],
        "gate" => &[
            "require approval by",
            "require confirmation",
            "require review by",
            "expire after",
            "release when clear",
        ],
        "owners" => &["acknowledge within"],
        // A staged rollout (docs/language.md §11.3).
        "rollout" => &[
            "start shadow",
            "by",
            "agreement when",
            "shadow -> 10% after 14d when agreement >= 95% over 200 runs",
            "rollback to shadow when breaker trips",
        ],
        "connector" => &["action"],
        "test" => &["at", "advance", "given", "stub", "expect"],
        "acceptance" => &["samples", "precision", "recall", "false_positive_rate"],
        _ => &[],
    }
}

/// The start of the identifier that ends at `offset`.
pub fn word_start(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = offset.min(text.len());
    while i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        i -= 1;
    }
    i
}

/// The word before `at`, skipping blanks (not newlines).
fn previous_word(text: &str, at: usize) -> &str {
    let before = text[..at].trim_end_matches([' ', '\t']);
    let start = word_start(before, before.len());
    if start == before.len() {
        // Not a word: return the punctuation (`->`, `,`).
        return before.get(before.len().saturating_sub(2)..).unwrap_or("");
    }
    &before[start..]
}

/// The header words of the innermost unclosed `{` before `offset` ("automation", "do", …).
fn enclosing_blocks(text: &str, offset: usize) -> Vec<String> {
    let mut stack: Vec<String> = Vec::new();
    let mut in_str = false;
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut line_start = 0;
    while i < offset.min(text.len()) {
        let b = bytes[i];
        if b == b'\n' {
            line_start = i + 1;
            in_str = false;
        } else if in_str {
            if b == b'\\' {
                i += 1;
            } else if b == b'"' {
                in_str = false;
            }
        } else if b == b'"' {
            in_str = true;
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'/') {
            while i < offset && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        } else if b == b'{' {
            let line = &text[line_start..i];
            let word = line.split_whitespace().next().unwrap_or("").to_string();
            // A top-level declaration always starts in column 0 (error recovery relies on it).
            if line_start < i && !line.starts_with([' ', '\t']) {
                stack.clear();
            }
            stack.push(word);
        } else if b == b'}' {
            stack.pop();
        }
        i += 1;
    }
    stack
}

/// The candidates at `offset` in `text` (the file's current text).
pub fn complete(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    text: &str,
    offset: usize,
) -> Vec<Candidate> {
    let offset = Span::at(offset).clamp_to(text).start as usize;
    let start = word_start(text, offset);
    let mut out: BTreeSet<Candidate> = BTreeSet::new();
    let before = &text[..start];
    if before.ends_with('.') {
        member_candidates(index, module, file, text, start, offset, &mut out);
        return out.into_iter().collect();
    }
    let blocks = enclosing_blocks(text, start);
    let prev = previous_word(text, start);
    let outer = blocks.first().map(String::as_str);
    let teams = |out: &mut BTreeSet<Candidate>| {
        for ((k, n), m) in &index.ops {
            if *k == OpKind::Team {
                out.insert(cand(n, CandidateKind::Team, Some(format!("team in {m}"))));
            }
        }
    };
    match prev {
        "on" => {
            for (name, def) in &index.receivable {
                out.insert(cand(
                    name,
                    CandidateKind::Event,
                    Some(format!("event in {}", def.module)),
                ));
            }
            if let Some(sig) = index.sig(module) {
                for name in sig.events.keys() {
                    out.insert(cand(
                        name,
                        CandidateKind::Event,
                        Some(format!("event in {module}")),
                    ));
                }
            }
            return out.into_iter().collect();
        }
        // `assign … by round_robin` in a route.
        "by" if outer == Some("route") => {
            for s in ["round_robin", "least_open"] {
                out.insert(cand(
                    s,
                    CandidateKind::Keyword,
                    Some("assignment strategy".into()),
                ));
            }
            return out.into_iter().collect();
        }
        // Teams: `assign`, `notify`, `owner`, `escalate`, an owners arm's `->`, a gate's
        // `require approval from` / `require review by`. (Other `->` and `by` are
        // followed by expressions.)
        "assign" | "notify" | "owner" | "escalate" | "from" => {
            teams(&mut out);
            return out.into_iter().collect();
        }
        "->" if outer == Some("owners") => {
            teams(&mut out);
            return out.into_iter().collect();
        }
        "by" if outer == Some("gate") => {
            teams(&mut out);
            return out.into_iter().collect();
        }
        // `gate … on automation NAME`, `expect stage NAME`: the automations.
        "automation" | "stage"
            if (prev == "stage" && outer == Some("test"))
                || (blocks.is_empty()
                    && text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start]
                        .starts_with("gate ")) =>
        {
            for ((k, n), m) in &index.ops {
                if *k == OpKind::Automation {
                    out.insert(cand(
                        n,
                        CandidateKind::Value,
                        Some(format!("automation in {m}")),
                    ));
                }
            }
            return out.into_iter().collect();
        }
        "calendar" => {
            for ((k, n), m) in &index.ops {
                if *k == OpKind::Calendar {
                    out.insert(cand(
                        n,
                        CandidateKind::Calendar,
                        Some(format!("calendar in {m}")),
                    ));
                }
            }
            return out.into_iter().collect();
        }
        "for" if blocks.is_empty() => {
            class_variants(index, &mut out);
            return out.into_iter().collect();
        }
        _ => {}
    }
    // At the start of a line: a declaration keyword, a clause keyword, an owners arm.
    let line_before = &text[text[..start].rfind('\n').map_or(0, |i| i + 1)..start];
    if line_before.trim().is_empty() {
        match blocks.last().map(String::as_str) {
            None => {
                for k in DECL_KEYWORDS {
                    out.insert(cand(k, CandidateKind::Keyword, None));
                }
                return out.into_iter().collect();
            }
            Some("do") => {
                action_snippets(index, &mut out);
                // The steps that are not calls (docs/language.md §11.3).
                for (k, what) in [
                    ("wait", "wait 24h / wait 2 business days"),
                    ("wait until", "wait until CONDITION within DURATION"),
                    (
                        "notify",
                        "notify TEAM|assignee|owner [with template \"name\"]",
                    ),
                ] {
                    out.insert(cand(k, CandidateKind::Keyword, Some(what.into())));
                }
                return out.into_iter().collect();
            }
            Some("owners") => class_variants(index, &mut out),
            Some("classify") => class_variants(index, &mut out),
            Some(block) => {
                for k in clause_keywords(block) {
                    out.insert(cand(k, CandidateKind::Keyword, None));
                }
            }
        }
        if !out.is_empty() {
            return out.into_iter().collect();
        }
    }
    if blocks.last().map(String::as_str) == Some("do") {
        action_snippets(index, &mut out);
    }
    expression_candidates(index, module, file, text, start, offset, &mut out);
    out.into_iter().collect()
}

fn class_variants(index: &ProjectIndex, out: &mut BTreeSet<Candidate>) {
    if let Some(c) = &index.classify {
        for v in &c.variants {
            out.insert(cand(
                v,
                CandidateKind::Variant,
                Some(c.enum_def.name.to_string()),
            ));
        }
    }
}

fn action_snippets(index: &ProjectIndex, out: &mut BTreeSet<Candidate>) {
    for (c, a, sig) in index.all_actions() {
        out.insert(action_candidate(&format!("{c}.{a}"), sig, true));
    }
}

/// An action call as a completion: `label(param: ${1:param}, …)` to insert, the parameters
/// with their types (and the action's effect, when asked) as the detail.
fn action_candidate(label: &str, sig: &ActionSig, with_effect: bool) -> Candidate {
    let args: Vec<String> = sig
        .params
        .iter()
        .enumerate()
        .map(|(i, (n, _))| format!("{n}: ${{{}:{n}}}", i + 1))
        .collect();
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|(n, t)| format!("{n}: {}", type_ref_text(t)))
        .collect();
    let effect = match sig.effect {
        _ if !with_effect => "",
        EffectKind::Money => " effect money",
        EffectKind::Destructive => " effect destructive",
        EffectKind::None => "",
    };
    Candidate {
        label: label.to_string(),
        kind: CandidateKind::Action,
        detail: Some(format!("({}){effect}", params.join(", "))),
        snippet: Some(format!("{label}({})", args.join(", "))),
    }
}

/// Parse and check the file with a placeholder name in place of the word at the cursor.
fn with_placeholder(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    text: &str,
    start: usize,
    offset: usize,
) -> (crate::semantic::ModuleInference, Span) {
    // The whole word at the cursor is replaced, also the part after it.
    let bytes = text.as_bytes();
    let mut end = offset;
    while end < text.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_') {
        end += 1;
    }
    let patched = format!("{}{PLACEHOLDER}{}", &text[..start], &text[end..]);
    let (ast, _) = crate::syntax::parse(file, &patched);
    // The checker on a copy of the text (not the project's revision, so not the query).
    let types = crate::semantic::infer_module(index, module, file, &ast);
    (types, Span::new(start, start + PLACEHOLDER.len()))
}

fn member_candidates(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    text: &str,
    start: usize,
    offset: usize,
    out: &mut BTreeSet<Candidate>,
) {
    let dot = start - 1;
    let base_start = {
        let mut s = dot;
        loop {
            let w = word_start(text, s);
            if w > 0 && text.as_bytes()[w - 1] == b'.' && w < s {
                s = w - 1;
            } else {
                break w;
            }
        }
    };
    let base = &text[base_start..dot];
    // Connectors, enums and module aliases by name.
    if !base.contains('.') {
        if let Some(actions) = index.connector_actions(base)
            && index.lookup_data(module, base).is_none()
        {
            for (a, sig) in actions {
                out.insert(action_candidate(a, sig, false));
            }
            return;
        }
        if let Some((def, crate::semantic::index::DataKind::Enum)) = index.lookup_data(module, base)
        {
            for v in index.enum_variants(&def).into_iter().flatten() {
                out.insert(cand(v, CandidateKind::Variant, Some(def.name.to_string())));
            }
            return;
        }
        if let Some(target) = index.module_alias(module, base)
            && let Some(sig) = index.sig(&target)
        {
            for n in sig
                .enums
                .keys()
                .chain(sig.records.keys())
                .chain(sig.events.keys())
            {
                out.insert(cand(n, CandidateKind::Type, Some(format!("in {target}"))));
            }
            for n in sig.lets.keys().chain(sig.fixtures.keys()) {
                out.insert(cand(n, CandidateKind::Value, Some(format!("in {target}"))));
            }
            for n in sig.fns.keys() {
                out.insert(cand(
                    n,
                    CandidateKind::Function,
                    Some(format!("in {target}")),
                ));
            }
            return;
        }
    }
    let (types, _) = with_placeholder(index, module, file, text, start, offset);
    // After `?.` the base ends before the `?`, and may be any expression (a table lookup,
    // `accounts[id]?.`): the smallest one ending there.
    let ty = if dot > 0 && text.as_bytes()[dot - 1] == b'?' {
        types
            .typed_spans()
            .filter(|(s, _)| s.end as usize == dot - 1)
            .min_by_key(|(s, _)| s.len())
            .map(|(_, t)| t.strip_optional().clone())
    } else if dot > 0 && text.as_bytes()[dot - 1] == b']' {
        // `refunds[id].`: the lookup ending at the dot (an aggregate's fields,
        // docs/language.md §5.6).
        types
            .typed_spans()
            .filter(|(s, _)| s.end as usize == dot)
            .min_by_key(|(s, _)| s.len())
            .map(|(_, t)| t.strip_optional().clone())
    } else {
        types
            .typed_spans()
            .filter(|(s, _)| s.end as usize == dot && s.start as usize >= base_start)
            .max_by_key(|(s, _)| s.len())
            .map(|(_, t)| t.strip_optional().clone())
    };
    match ty {
        Some(Ty::Enum(def)) => {
            for v in index.enum_variants(&def).into_iter().flatten() {
                out.insert(cand(v, CandidateKind::Variant, Some(def.name.to_string())));
            }
        }
        Some(t) => {
            for (n, fty) in index.fields_of(&t).unwrap_or_default() {
                out.insert(cand(&n, CandidateKind::Field, Some(fty.to_string())));
            }
        }
        None => {}
    }
}

fn expression_candidates(
    index: &ProjectIndex,
    module: &str,
    file: &FileName,
    text: &str,
    start: usize,
    offset: usize,
    out: &mut BTreeSet<Candidate>,
) {
    let (types, placeholder) = with_placeholder(index, module, file, text, start, offset);
    if let Some(def) = types
        .expected_spans()
        .find(|(s, _)| *s == placeholder)
        .and_then(|(_, t)| t.strip_optional().enum_def())
    {
        // An enum is expected: its variants, nothing else.
        for v in index.enum_variants(def).into_iter().flatten() {
            out.insert(cand(v, CandidateKind::Variant, Some(def.name.to_string())));
        }
        return;
    }
    for k in RESERVED_WORDS {
        out.insert(cand(k, CandidateKind::Keyword, None));
    }
    for (n, t) in &index.facts {
        out.insert(cand(n, CandidateKind::Field, Some(t.to_string())));
    }
    for n in ["event", "case", "class", "assignee", "now"] {
        out.insert(cand(n, CandidateKind::Value, Some("rule context".into())));
    }
    if let Some(sig) = index.sig(module) {
        for n in sig.lets.keys().chain(sig.fixtures.keys()) {
            out.insert(cand(n, CandidateKind::Value, None));
        }
        for (n, f) in &sig.fns {
            let ps: Vec<String> = f
                .params
                .iter()
                .map(|(n, t)| format!("{n}: {}", type_ref_text(t)))
                .collect();
            out.insert(cand(
                n,
                CandidateKind::Function,
                Some(format!("({}) -> {}", ps.join(", "), type_ref_text(&f.ret))),
            ));
        }
        for n in sig.enums.keys() {
            out.insert(cand(n, CandidateKind::Type, None));
        }
        for imp in &sig.imports {
            for n in imp.names.iter().flatten() {
                out.insert(cand(
                    n,
                    CandidateKind::Value,
                    Some(format!("from {}", imp.module)),
                ));
            }
        }
    }
    for b in crate::semantic::expr::BUILTIN_FNS {
        out.insert(cand(b, CandidateKind::Function, Some("built-in".into())));
    }
}
