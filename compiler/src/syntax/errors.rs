//! Syntax errors in words an ops engineer understands.
//!
//! pest reports the grammar rules and literal tokens it tried at the furthest position. This
//! module turns them into "expected a duration such as `30m` or `4 business hours`, found
//! `soon`" instead of raw rule names. Keep [`describe`] in sync with `mesh.pest`.

use std::collections::BTreeSet;
use std::sync::Mutex;

use pest::error::{Error, ErrorVariant, InputLocation};

use super::grammar::Rule;
use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;

/// Run `f` with pest's tracking of parse attempts turned on.
///
/// Tracking makes every parse about 1.8x slower, so it is off for ordinary parsing and on
/// only while a broken declaration is re-parsed to word its error. The flag is
/// process-wide: the lock keeps re-parses from switching it off under each other; a parse
/// on another thread that starts meanwhile only runs slower.
pub(super) fn with_detail<T>(f: impl FnOnce() -> T) -> T {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pest::set_error_detail(true);
    let out = f();
    pest::set_error_detail(false);
    out
}

/// Build an E0001 diagnostic from a pest error raised while parsing `text[base..]`.
pub(super) fn to_diagnostic(
    file: &FileName,
    text: &str,
    base: usize,
    err: &Error<Rule>,
) -> Diagnostic {
    let pos = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut expected: BTreeSet<(u8, String)> = BTreeSet::new();
    let mut at = pos;
    if let Some(attempts) = err.parse_attempts() {
        at = attempts.max_position.max(pos);
        let contexts = context_of(text, (base + at).min(text.len()));
        for stack in attempts.call_stacks.iter() {
            let rule = stack.deepest.get_rule().copied().or(stack.parent);
            if let Some(r) = rule
                && let Some(words) = describe(r, &contexts)
            {
                expected.insert(words);
            }
        }
        for token in attempts.expected_tokens().into_iter() {
            // `ParsingToken` is not exported by pest; its Display is the literal token.
            if let Some(w) = describe_token(&token.to_string()) {
                expected.insert(w);
            }
        }
    }
    if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
        // `item` is the outermost rule of any error inside a declaration: naming it next to
        // what the attempts found ("a declaration, `:` or `=`") misleads.
        let attempts_found = !expected.is_empty();
        for r in positives {
            if attempts_found && matches!(r, Rule::item | Rule::item_only) {
                continue;
            }
            if let Some(w) = describe(*r, &[]) {
                expected.insert(w);
            }
        }
    }
    let abs = (base + at).min(text.len());
    let mut abs = Span::at(abs).clamp_to(text).start as usize;
    // pest may stop before the blanks that precede the offending token.
    abs += text[abs..].len() - text[abs..].trim_start_matches([' ', '\t']).len();
    // `a or or b`: pest looks past the reserved word it rejected and reports the operand
    // after it, which would satisfy what it expects. The mistake is the reserved word.
    if let Some(start) = reserved_word_before(text, abs)
        && text[abs..].starts_with(|c: char| c.is_alphabetic() || c == '_')
        && reserved_word_before(text, abs + word_len(&text[abs..])).is_none()
        && expected
            .iter()
            .any(|(_, s)| s == "a name" || s == "an expression")
    {
        abs = start;
        expected.retain(|(_, s)| s != "a name");
        expected.insert((2, "an expression".to_string()));
    }
    let mut found = found_text(text, abs);
    // A declaration cut short (`let a = 1 +` and then the next declaration): say so at the
    // end of the cut line, not at the keyword of the next declaration.
    if text[..abs].ends_with('\n') && super::trivia::starts_declaration(&text[abs..]) {
        abs = code_before(text, abs).len();
        found = ("the end of the line".to_string(), 0);
    }
    // A specific kind of expression (rank 0: "a duration …") replaces "an expression".
    if expected.iter().any(|(rank, _)| *rank == 0) {
        expected.retain(|(_, s)| s != "an expression");
    }
    // Right after a complete operand (`1`, `"x"`, `f(a)`), pest's attempts to continue the
    // expression were operators.
    if ends_with_operand(&text[..abs]) && expected.remove(&(2, "an expression".to_string())) {
        expected.insert((2, "an operator".to_string()));
    }
    // Tokens that only start an expression add noise next to any of these.
    if expected
        .iter()
        .any(|(rank, s)| *rank == 0 || s == "an expression" || s == "an operator")
    {
        expected.retain(|(_, s)| !matches!(s.as_str(), "`(`" | "`[`" | "`{`" | "`-`"));
    }
    // Inside a list or an argument list (a `,` would continue it), the clause around it has
    // already started: pest's name for that clause ("a team clause") only misleads.
    if expected.contains(&(5, "`,`".to_string())) {
        expected.retain(|(rank, _)| *rank != 3);
    }
    // After a number, `business` (`4 business hours`) and a currency (`250 USD`) help only
    // when a word follows (`busines`, `usd`), not before an operator or a bracket.
    let word_follows = text[abs..].starts_with(|c: char| c.is_alphabetic());
    if !word_follows {
        expected.remove(&(4, "`business`".to_string()));
        expected.retain(|(_, s)| !s.starts_with("a currency code"));
    }
    // Inside the file, the end that a re-parsed declaration expected is its own end.
    if abs < text.len() && expected.remove(&(6, "the end of the file".to_string())) {
        expected.insert((6, "the end of the declaration".to_string()));
    }
    // `30 minutes`, `2 days`: a number and a unit word is not a duration. Say so where it
    // is written, whether pest stopped at the word or after it (docs/language.md §2.3).
    if let Some(d) = unit_word_duration(file, text, base, abs) {
        return d;
    }
    let end = (abs + found.1).min(text.len());
    let list = join_expected(&expected);
    let message = if list.is_empty() {
        format!("unexpected {}", found.0)
    } else {
        format!("expected {list}, found {}", found.0)
    };
    let label = if list.is_empty() {
        "not valid here".to_string()
    } else {
        format!("expected {}", first_words(&expected))
    };
    let mut d = Diagnostic::new(Code::Syntax, file, Span::new(abs, end), message, label);
    if let Some(h) = hint(&expected, text, abs) {
        d = d.with_help(h);
    }
    d
}

/// The units people write after a number instead of a duration's letter.
fn time_unit(word: &str) -> Option<char> {
    Some(match word.to_ascii_lowercase().as_str() {
        "second" | "seconds" | "sec" | "secs" => 's',
        "minute" | "minutes" | "min" | "mins" => 'm',
        "hour" | "hours" | "hr" | "hrs" => 'h',
        "day" | "days" => 'd',
        "week" | "weeks" => 'w',
        _ => return None,
    })
}

/// A syntax error at or right after `N unit` (`30 minutes`, `2 days`), at byte `abs` of a
/// declaration that starts at `base`: an E0001 on the `N unit` with the durations to write.
fn unit_word_duration(file: &FileName, text: &str, base: usize, abs: usize) -> Option<Diagnostic> {
    let at_word = word_len(&text[abs..]);
    // Either the error is at the unit word (`30 minutes`: a currency was one of the
    // things expected after `30`) or right after it (`_ -> 2 days` then `}`).
    let (word_start, word_end) = if at_word > 0 && time_unit(&text[abs..abs + at_word]).is_some() {
        (abs, abs + at_word)
    } else {
        let before = code_before(text, abs);
        let start = before.len() - word_len_back(before);
        (start, before.len())
    };
    let unit = time_unit(&text[word_start..word_end])?;
    let gap = text[..word_start].trim_end_matches([' ', '\t']);
    if gap.len() == word_start || gap.len() < base {
        return None;
    }
    let digits = gap.len()
        - gap
            .trim_end_matches(|c: char| c.is_ascii_digit() || c == '_')
            .len();
    let num_start = gap.len() - digits;
    let preceded_ok = text[..num_start]
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
    if digits == 0 || num_start < base || !preceded_ok {
        return None;
    }
    let written = &text[num_start..word_end];
    let n: u64 = text[num_start..gap.len()].replace('_', "").parse().ok()?;
    let help = match unit {
        's' => format!("write `{n}s`"),
        'm' => format!("write `{n}m` or `{n} business minutes`"),
        'h' => format!("write `{n}h` or `{n} business hours`"),
        'd' => match n.checked_mul(24) {
            Some(h) => format!("write `{n} business days` or `{h}h`"),
            None => format!("write `{n} business days` or `{n}d`"),
        },
        _ => format!("write `{n}w`"),
    };
    let shown: String = written.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(
        Diagnostic::new(
            Code::Syntax,
            file,
            Span::new(num_start, word_end),
            format!("expected a duration such as `30m` or `4 business hours`, found `{shown}`"),
            "not a duration",
        )
        .with_help(help),
    )
}

/// The length of the word that ends `s`.
fn word_len_back(s: &str) -> usize {
    s.len()
        - s.trim_end_matches(|c: char| c.is_alphanumeric() || c == '_')
            .len()
}

fn word_len(s: &str) -> usize {
    s.find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len())
}

/// The start of the reserved word that ends `text[..at]` (blanks allowed after it).
fn reserved_word_before(text: &str, at: usize) -> Option<usize> {
    let before = text[..at].trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(before.len(), |(i, _)| i);
    super::trivia::RESERVED_WORDS
        .contains(&&before[start..])
        .then_some(start)
}

/// Does `before` end with something that completes an operand (a number, a string, a
/// percentage, a closing bracket)? Identifiers are left out: many clause words end in one.
fn ends_with_operand(before: &str) -> bool {
    code_before(before, before.len())
        .chars()
        .next_back()
        .is_some_and(|c| c.is_ascii_digit() || matches!(c, ')' | ']' | '"' | '%'))
}

/// `text[..at]` without the blanks and `//` comments at its end.
fn code_before(text: &str, at: usize) -> &str {
    let mut before = text[..at].trim_end();
    loop {
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&before[line_start..]) {
            Some(i) => before = before[..line_start + i].trim_end(),
            None => return before,
        }
    }
}

/// Where a `//` comment starts in one line, outside string literals.
fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && b.get(i + 1) == Some(&b'/') => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A short description of what is at `at`, and how many bytes it spans.
fn found_text(text: &str, at: usize) -> (String, usize) {
    let rest = &text[at..];
    let Some(first) = rest.chars().next() else {
        return ("the end of the file".to_string(), 0);
    };
    if first == '\n' || first == '\r' {
        return ("the end of the line".to_string(), first.len_utf8());
    }
    let word_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let len = if word_len > 0 {
        word_len
    } else {
        first.len_utf8()
    };
    let shown: String = rest[..len].chars().take(30).collect();
    if first.is_control() {
        (format!("the character U+{:04X}", first as u32), len)
    } else {
        (format!("`{shown}`"), len)
    }
}

fn join_expected(set: &BTreeSet<(u8, String)>) -> String {
    // Lower rank first; at most six alternatives, or the message stops helping.
    let items: Vec<&str> = set.iter().map(|(_, s)| s.as_str()).take(6).collect();
    match items.len() {
        0 => String::new(),
        1 => items[0].to_string(),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn first_words(set: &BTreeSet<(u8, String)>) -> String {
    set.iter()
        .next()
        .map(|(_, s)| s.clone())
        .unwrap_or_default()
}

fn hint(set: &BTreeSet<(u8, String)>, text: &str, at: usize) -> Option<String> {
    let wants_close = set.iter().any(|(_, s)| s == "`}`");
    if wants_close && text[at..].trim().is_empty() {
        return Some("a `{` is not closed: add the missing `}`".into());
    }
    None
}

/// A literal token the grammar tried, when it is worth naming.
fn describe_token(token: &str) -> Option<(u8, String)> {
    match token {
        // Keywords and punctuation people type.
        "{" | "}" | "(" | ")" | "[" | "]" | "," | ":" | "=" | "->" | "|" | ".." | "-" => {
            Some((5, format!("`{token}`")))
        }
        "when" | "on" | "for" | "by" | "escalate" | "within" | "after" | "then" | "else"
        | "from" | "over" | "runs" | "fails" | "action" | "require" | "effect" | "compensate"
        | "otherwise" | "acknowledge" | "business" => Some((4, format!("`{token}`"))),
        _ => None,
    }
}

/// The clause an error sits in, judged from the words right before it (`acknowledge within`
/// → a duration is expected). pest's call stacks are too coarse for this.
fn context_of(text: &str, at: usize) -> Vec<Rule> {
    let at = Span::at(at).clamp_to(text).start as usize;
    let before = text[..at].trim_end();
    let mut words = before
        .rsplit(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty());
    let last = words.next().unwrap_or("");
    let prev = words.next().unwrap_or("");
    let ctx = match (prev, last) {
        (_, "within") | ("expire", "after") | (_, "advance") => Rule::acknowledge_clause,
        (_, "target") => Rule::target_clause,
        ("warn", "at") => Rule::warn_clause,
        (_, "at") => Rule::at_step,
        _ => return Vec::new(),
    };
    vec![ctx]
}

/// Words for a grammar rule, possibly depending on the enclosing rules (`contexts`).
/// The number orders the alternatives in the message (most specific first).
fn describe(rule: Rule, contexts: &[Rule]) -> Option<(u8, String)> {
    let in_ctx = |r: Rule| contexts.contains(&r);
    let duration = "a duration such as `30m` or `4 business hours`";
    let s: (u8, &str) = match rule {
        Rule::expr | Rule::postfix_expr | Rule::name | Rule::paren => {
            if in_ctx(Rule::acknowledge_clause)
                || in_ctx(Rule::expire_clause)
                || in_ctx(Rule::advance_step)
            {
                (0, duration)
            } else if in_ctx(Rule::target_clause) {
                (
                    0,
                    "a target such as `4h`, `2 business days` or `by ticket.tier { … }`",
                )
            } else if in_ctx(Rule::at_step) {
                (0, "a timestamp such as `2026-03-02T10:00:00Z`")
            } else if in_ctx(Rule::warn_clause) {
                (0, "a percentage such as `75%`")
            } else {
                (2, "an expression")
            }
        }
        Rule::duration | Rule::business_duration => (1, duration),
        Rule::item | Rule::item_only => (
            3,
            "a declaration (`enum`, `record`, `event`, `let`, `fn`, `calendar`, `team`, `classify`, `owners`, `route`, `sla`, `connector`, `gate`, `automation`, `fixture`, `test`, `acceptance` or `lifecycle`)",
        ),
        Rule::ident | Rule::path | Rule::word | Rule::import_path => (1, "a name"),
        Rule::type_expr | Rule::named_type | Rule::list_type => {
            (1, "a type such as `String`, `Money?` or `List<String>`")
        }
        Rule::string => (1, "a string in double quotes"),
        Rule::time_of_day => (1, "a time of day such as `09:00`"),
        Rule::day_spec => (1, "a day such as `mon`, or a range such as `mon-fri`"),
        Rule::holiday | Rule::date | Rule::date_range | Rule::yearly_holiday => (
            1,
            "a date such as `2026-12-25`, a range `2026-07-08..2026-09-01`, or `every 05-01`",
        ),
        Rule::month_day => (1, "a month and day such as `05-01`"),
        Rule::integer | Rule::signed_int => (1, "a whole number"),
        Rule::timestamp => (1, "a timestamp such as `2026-03-02T10:00:00Z`"),
        Rule::percent => (1, "a percentage such as `75%`"),
        Rule::currency => (1, "a currency code such as `USD`"),
        Rule::target => (1, "a team name or a person such as `\"ana@agency.io\"`"),
        Rule::field_decl => (1, "a field such as `id: String`"),
        Rule::variant => (1, "a variant name"),
        Rule::param => (1, "a parameter such as `amount: Money`"),
        Rule::classify_arm => (1, "a class arm such as `Billing when …`"),
        Rule::otherwise_arm => (1, "`otherwise` and a class"),
        Rule::owner_arm => (
            1,
            "an owner line such as `Billing -> billing_ops escalate finance_managers`",
        ),
        Rule::acknowledge_clause => (3, "`acknowledge within` and a duration"),
        Rule::lc_solved | Rule::lc_reopened | Rule::lc_closed | Rule::lc_retain => (
            3,
            "a lifecycle clause (`solved on`, `reopened on`, `closed on` or `retain closed for`)",
        ),
        Rule::timezone_clause | Rule::hours_clause | Rule::holidays_clause => {
            (3, "a calendar clause (`timezone`, `hours` or `holidays`)")
        }
        Rule::members_clause | Rule::team_calendar => {
            (3, "a team clause (`members` or `calendar`)")
        }
        Rule::assign_clause | Rule::key_clause | Rule::priority_clause | Rule::rebalance_clause => {
            (
                3,
                "a route clause (`assign`, `key`, `priority` or `rebalance`)",
            )
        }
        Rule::start_clause
        | Rule::stop_clause
        | Rule::reset_clause
        | Rule::pause_clause
        | Rule::target_clause
        | Rule::sla_calendar
        | Rule::warn_clause
        | Rule::breach_clause => (
            3,
            "an SLA clause (`start`, `stop`, `reset`, `pause`, `target`, `calendar`, `warn` or `breach`)",
        ),
        Rule::action_list | Rule::sla_action => (
            1,
            "an action (`escalate`, `notify …`, `assign …` or `deny`)",
        ),
        Rule::action_decl => (3, "an action such as `action refund(charge: String)`"),
        Rule::effect => (3, "`effect money(…)` or `effect destructive`"),
        Rule::gate_selector => (
            1,
            "an action such as `stripe.refund`, `effect money`, `effect destructive` or `automation`",
        ),
        Rule::require_approval
        | Rule::require_confirmation
        | Rule::require_review
        | Rule::expire_clause => (3, "a gate clause (`require …` or `expire after …`)"),
        Rule::version_clause
        | Rule::owner_clause
        | Rule::on_clause
        | Rule::do_clause
        | Rule::rollout_clause
        | Rule::breaker_clause => (
            3,
            "an automation clause (`version`, `owner`, `on`, `do`, `rollout` or `breaker`)",
        ),
        Rule::step => (3, "an action call such as `stripe.refund(charge: …)`"),
        Rule::at_step
        | Rule::advance_step
        | Rule::given_step
        | Rule::stub_step
        | Rule::expect_step => (
            3,
            "a test step (`at`, `advance`, `given`, `stub` or `expect`)",
        ),
        Rule::samples_clause | Rule::threshold_clause => (
            3,
            "`samples \"…\"` or a threshold such as `precision >= 95%`",
        ),
        Rule::match_arm | Rule::target_arm | Rule::pattern => {
            (1, "an arm such as `Gold -> 1h` or `_ -> …`")
        }
        Rule::import_names => (4, "`.{` and names to import"),
        Rule::EOI => (6, "the end of the file"),
        _ => return None,
    };
    Some((s.0, s.1.to_string()))
}

#[cfg(test)]
mod tests {
    use crate::syntax::parse;
    use std::sync::Arc;

    fn first_error(src: &str) -> String {
        let file: crate::diagnostics::FileName = Arc::from("t.mesh");
        let (_, diags) = parse(&file, src);
        diags.first().map(|d| d.message.clone()).unwrap_or_default()
    }

    #[test]
    fn duration_in_words() {
        let msg = first_error("owners {\n  A -> a escalate b\n  acknowledge within\n}\n");
        assert!(
            msg.contains("a duration such as `30m` or `4 business hours`"),
            "{msg}"
        );
        assert!(msg.contains("found `}`"), "{date}", date = msg);
    }

    #[test]
    fn missing_brace_at_eof() {
        let msg = first_error("team ops {\n  members [\"a@b.io\"]\n");
        assert!(msg.contains("`}`"), "{msg}");
        assert!(msg.contains("end of the file"), "{msg}");
    }
}
