//! What the engine records: ledger entries (through the one-pass writer, with a reusable
//! `detail` builder) and outbox commands.

use serde_json::{Value as Json, json};

use super::{AssignWhy, Assignee, Command, Engine, RejectReason};
use crate::eval::EvalError;
use crate::ledger::Detail;
use crate::value;

impl Engine {
    /// The clock as RFC 3339, formatted once per instant (every ledger entry needs it).
    fn refresh_clock_text(&mut self) {
        if self.clock_text.0 != self.clock {
            self.clock_text.1.clear();
            match self.clock {
                Some(t) => value::write_time(t, &mut self.clock_text.1),
                None => self.clock_text.1.push_str("1970-01-01T00:00:00Z"),
            }
            self.clock_text.0 = self.clock;
        }
    }

    pub(crate) fn now_str(&mut self) -> String {
        self.refresh_clock_text();
        self.clock_text.1.clone()
    }

    /// An empty `detail` builder (reusing the last one's memory): fill it in canonical key
    /// order and hand it to [`log_detail`](Self::log_detail).
    pub(crate) fn detail(&mut self) -> Detail {
        match self.scratch.take() {
            Some(mut d) => {
                d.clear();
                d
            }
            None => Detail::new(),
        }
    }

    pub(crate) fn log_detail(
        &mut self,
        case: Option<&str>,
        kind: &str,
        rule: Option<&str>,
        mut detail: Detail,
    ) {
        self.refresh_clock_text();
        self.ledger.append_detail(
            &self.clock_text.1,
            case,
            kind,
            rule,
            &mut detail,
            &self.bundle,
        );
        self.scratch = Some(detail);
    }

    /// Record an entry whose `detail` is a JSON value (the less frequent kinds).
    pub(crate) fn log(&mut self, case: Option<&str>, kind: &str, rule: Option<&str>, detail: Json) {
        let d = Detail::from_json(detail);
        self.log_detail(case, kind, rule, d);
    }

    pub(crate) fn command(&mut self, body: Json) {
        self.command_seq += 1;
        let at = self.now_str();
        self.commands.push(Command {
            seq: self.command_seq,
            at,
            body,
        });
    }

    pub(super) fn reject(
        &mut self,
        id: Option<&str>,
        case: Option<&str>,
        reason: RejectReason,
    ) -> super::ApplyOutcome {
        // A reason quotes the input (an unknown type, a bad value): bounded, so a rejected
        // line costs a small entry however large it is (docs/deploy.md, "Limits").
        let mut detail = json!({ "reason": reason.recorded() });
        if let Some(id) = id {
            detail["id"] = json!(clip(id, MAX_REASON_BYTES / 2));
        }
        // §7.13: an unknown type or an unparsable line has `case: null`.
        self.log(case, "rejected", None, detail);
        super::ApplyOutcome::Rejected(reason)
    }

    /// A rule could not be evaluated (docs/language.md §4.5, docs/runtime.md "Applying an
    /// event"): write `eval_error`, once per case, rule and part while the error stays the
    /// same (a `pause` that fails on every event is one entry, not one per event), and,
    /// when `how` says so, send the case to its owner team's exception queue.
    ///
    /// `part` names which of the rule's expressions failed (`when`, `key`, `pause`, ...): a
    /// rule whose parts fail differently keeps one memory per part, and the ledger's `rule`
    /// stays the rule's name.
    pub(crate) fn eval_error(
        &mut self,
        case: &str,
        rule: &str,
        part: &'static str,
        err: &EvalError,
        how: OnError,
    ) {
        let text = err.to_string();
        let Some(c) = self.cases.get_mut(case) else {
            return;
        };
        match c
            .errors
            .iter_mut()
            .find(|m| m.rule == rule && m.part == part)
        {
            Some(m) if m.error == text => return,
            Some(m) => m.error = text.clone(),
            None => c.errors.push(super::case::ErrorMemo {
                rule: rule.to_string(),
                part: part.to_string(),
                error: text.clone(),
            }),
        }
        self.log(
            Some(case),
            "eval_error",
            Some(rule),
            json!({ "error": text }),
        );
        // §6.7: a classify arm or route that fails sends the case to its owner's exception
        // queue. An SLA, gate or automation condition never changes the assignee: its
        // `eval_error` entry is the exception (docs/runtime.md).
        if how == OnError::Reassign
            && let Some(owner) = self.cases.get(case).and_then(|c| c.owner)
        {
            self.set_assignee(
                case,
                Assignee::Team(owner),
                "exception",
                AssignWhy::Flag("exception"),
            );
        }
    }

    /// A rule's part evaluated: a later failure of it is news again.
    pub(crate) fn eval_ok(&mut self, case: &str, rule: &str, part: &str) {
        if let Some(c) = self.cases.get_mut(case)
            && !c.errors.is_empty()
        {
            c.errors.retain(|m| !(m.rule == rule && m.part == part));
        }
    }
}

/// What an evaluation error does to the case besides the `eval_error` entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnError {
    /// Classify arms and routes: the owner team becomes the assignee (`exception: true`).
    Reassign,
    /// SLA, gate and automation conditions, keys and arguments: the assignee is kept.
    Keep,
}

/// The most bytes of reason text a `rejected` entry records.
pub(crate) const MAX_REASON_BYTES: usize = 512;

/// `s` cut to at most `max` bytes (on a character boundary), marked with `…` when cut.
pub(super) fn clip(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max {
        return s.into();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end]).into()
}
