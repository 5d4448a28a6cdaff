//! What happened to each case, for comparing two runs of one history (`meshline replay`):
//! its final class, owner, assignee and route, the actions executed, held and shadowed,
//! each SLA policy's last outcome, the decisions people took on held actions, and the
//! first entries of its story.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::read::Entry;

/// How many entries of a case's story are kept (the rest is in the ledger).
const STORY: usize = 24;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CaseOutcome {
    pub class: Option<String>,
    pub owner: Option<String>,
    pub assignee: Option<String>,
    pub route: Option<String>,
    /// `automation: connector.action` of every `executed` entry.
    pub executed: BTreeSet<String>,
    /// `automation: connector.action by gate, …` of every `held` entry.
    pub held: BTreeSet<String>,
    /// `automation: connector.action` of every `shadowed` entry.
    pub shadowed: BTreeSet<String>,
    /// Automations that issued, held or shadowed anything on the case.
    pub acted: BTreeSet<String>,
    /// SLA policy → its last outcome (`met`, `breached`), or `running` while it runs.
    pub sla: BTreeMap<String, String>,
    /// Automation → what a person decided on its held action (true: approved).
    #[serde(skip)]
    pub decided: BTreeMap<String, bool>,
    /// The first entries, one line each: `at kind rule detail`.
    pub story: Vec<String>,
}

impl CaseOutcome {
    pub(crate) fn push(&mut self, e: &Entry<'_>, line: &str) {
        let d = &e.detail;
        let rule = e.rule.as_deref().unwrap_or("");
        let action = || d.action.as_deref().unwrap_or("?").to_string();
        match &*e.kind {
            "classified" => self.class = d.class.as_deref().map(str::to_string),
            "owned" => self.owner = d.owner.as_deref().map(str::to_string),
            "assigned" => {
                self.assignee = d.assignee.as_deref().map(str::to_string);
                if let Some(r) = d.route.as_deref() {
                    self.route = Some(r.to_string());
                }
            }
            "executed" => {
                self.executed.insert(format!("{rule}: {}", action()));
                self.acted.insert(rule.to_string());
            }
            "shadowed" => {
                self.shadowed.insert(format!("{rule}: {}", action()));
                self.acted.insert(rule.to_string());
            }
            "held" => {
                let auto = d.automation.as_deref().unwrap_or(rule);
                let gates: Vec<&str> = d.gates.iter().map(|g| &**g).collect();
                self.held
                    .insert(format!("{auto}: {} by {}", action(), gates.join(", ")));
                self.acted.insert(auto.to_string());
            }
            "sla_started" | "sla_reset" => {
                self.sla.insert(rule.to_string(), "running".into());
            }
            "sla_met" => {
                self.sla.insert(rule.to_string(), "met".into());
            }
            "sla_breached" => {
                self.sla.insert(rule.to_string(), "breached".into());
            }
            _ => {}
        }
        if self.story.len() < STORY {
            self.story.push(story_line(e, line));
        }
    }

    /// What differs from `other` (the baseline), one line each, in a fixed order.
    pub fn differences(&self, baseline: &CaseOutcome) -> Vec<String> {
        let mut out = Vec::new();
        let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        for (what, a, b) in [
            ("class", &baseline.class, &self.class),
            ("owner", &baseline.owner, &self.owner),
            ("assignee", &baseline.assignee, &self.assignee),
            ("route", &baseline.route, &self.route),
        ] {
            if a != b {
                out.push(format!("{what}: {} → {}", opt(a), opt(b)));
            }
        }
        for (what, a, b) in [
            ("executes", &baseline.executed, &self.executed),
            ("holds", &baseline.held, &self.held),
            ("shadows", &baseline.shadowed, &self.shadowed),
        ] {
            for x in b.difference(a) {
                out.push(format!("newly {what} {x}"));
            }
            for x in a.difference(b) {
                out.push(format!("no longer {what} {x}"));
            }
        }
        let policies: BTreeSet<&String> = baseline.sla.keys().chain(self.sla.keys()).collect();
        for p in policies {
            let a = baseline.sla.get(p).map_or("not started", String::as_str);
            let b = self.sla.get(p).map_or("not started", String::as_str);
            if a != b {
                out.push(format!("SLA {p}: {a} → {b}"));
            }
        }
        out
    }
}

/// One entry as a story line: its instant, kind, rule and detail (the ledger's own JSON).
fn story_line(e: &Entry<'_>, line: &str) -> String {
    // The detail object as written: from `"detail":` to `,"bundle":`.
    let detail = line
        .find(",\"detail\":")
        .and_then(|i| {
            let rest = &line[i + 10..];
            rest.rfind(",\"bundle\":").map(|j| &rest[..j])
        })
        .unwrap_or("{}");
    let mut detail = detail.to_string();
    if detail.len() > 160 {
        let mut cut = 157;
        while !detail.is_char_boundary(cut) {
            cut -= 1;
        }
        detail.truncate(cut);
        detail.push('…');
    }
    format!(
        "{} {} {} {}",
        e.at,
        e.kind,
        e.rule.as_deref().unwrap_or("-"),
        detail
    )
}
