//! A generator of large, realistic Meshline projects for benchmarks and scale tests.
//!
//! The project has one `core` module (the ticket model, events, classes, classify and
//! owners) and `accounts` modules, one per client account, each with its calendar, teams,
//! helper functions, routes, SLA policies, a connector, gates, automations, fixtures and
//! tests, the way an agency's playbooks grow. Every generated project checks clean.

use std::fmt::Write as _;

/// Number of ticket classes (each account gets its own SLA per class group).
const CLASSES: &[&str] = &[
    "Billing",
    "Access",
    "Implementation",
    "Incident",
    "ScopeChange",
    "Triage",
];

/// `(relative path, text)` of every file of a generated project with `accounts` account
/// modules (each about 250 lines).
pub fn generate(accounts: usize) -> Vec<(String, String)> {
    let mut files = vec![
        (
            "meshline.toml".to_string(),
            "[package]\nname = \"generated\"\nversion = \"1.0.0\"\n".to_string(),
        ),
        ("rules/core.mesh".to_string(), core()),
    ];
    for i in 0..accounts {
        files.push((format!("rules/accounts/a{i:04}.mesh"), account(i)));
    }
    files
}

fn core() -> String {
    let mut s = String::from(
        "// The shared ticket model of every account.\n\n\
         /// Service tier of a client.\nenum Tier { Gold, Silver, Bronze }\n\
         /// Ticket priority.\nenum Priority { Low, Normal, High, Urgent }\n\
         /// Ticket status.\nenum Status { New, Open, Pending, Solved }\n\
         /// Channel.\nenum Channel { Email, Chat, Phone }\n\n",
    );
    let _ = writeln!(
        s,
        "/// Ticket classes.\nenum TicketClass {{ {} }}\n",
        CLASSES.join(", ")
    );
    s.push_str(
        "/// A ticket as every help desk reports it.\nrecord Ticket {\n  id: String\n  type: String\n  subject: String\n  tags: List<String>\n  tier: Tier\n  priority: Priority\n  status: Status\n  client_id: String\n  account: String\n  charge_id: String?\n  refund_amount: Money?\n}\n\n\
         /// A new ticket.\nevent TicketCreated { ticket: Ticket, channel: Channel }\n\
         /// A changed ticket.\nevent TicketUpdated { ticket: Ticket }\n\
         /// An agent replied.\nevent ReplySent { by: Person, public: Bool }\n\n\
         classify TicketClass on TicketCreated, TicketUpdated {\n\
         \x20 Billing        when ticket.tags contains \"refund\" or ticket.tags contains \"invoice\"\n\
         \x20 Access         when ticket.type == \"access\"\n\
         \x20 Incident       when ticket.priority == Urgent\n\
         \x20 Implementation when ticket.type == \"implementation\"\n\
         \x20 ScopeChange    when ticket.subject matches \"(?i)scope change|change order\"\n\
         \x20 otherwise      Triage\n}\n\n\
         owners {\n",
    );
    for c in CLASSES {
        let _ = writeln!(s, "  {c} -> core_desk escalate core_leads");
    }
    s.push_str(
        "  acknowledge within 30m\n}\n\n\
         /// Everyone's default calendar.\ncalendar core_hours {\n  timezone \"Europe/London\"\n  hours mon-fri 09:00-17:30\n  holidays [2026-12-25, 2026-12-28, every 01-01]\n}\n\n\
         /// The central desk.\nteam core_desk {\n  members [\"desk1@agency.io\", \"desk2@agency.io\"]\n  calendar core_hours\n}\n\n\
         /// Leads.\nteam core_leads {\n  members [\"lead@agency.io\"]\n  calendar core_hours\n}\n",
    );
    s
}

fn account(i: usize) -> String {
    let a = format!("a{i:04}");
    let zones = [
        "Europe/London",
        "America/New_York",
        "Europe/Berlin",
        "Asia/Singapore",
        "Australia/Sydney",
    ];
    let tz = zones[i % zones.len()];
    let cur = ["USD", "EUR", "GBP"][i % 3];
    let mut s = String::new();
    let _ = write!(
        s,
        "// Playbook for client account {a}.\n\n\
         import core.{{Ticket, TicketCreated, TicketUpdated, ReplySent, Tier, Priority, Status, Channel}}\n\n\
         /// Refunds above this need a manager.\nlet {a}_refund_limit = {limit} {cur}\n\
         /// Refunds below this are automatic.\nlet {a}_small_refund = {small} {cur}\n\
         /// Acknowledgement window.\nlet {a}_ack: Duration = 45m\n\n\
         /// Is this a VIP ticket of {a}?\nfn {a}_is_vip(t: Ticket) -> Bool = t.tier == Gold and t.tags contains \"vip\"\n\
         /// Does this ticket belong to {a}?\nfn {a}_mine(t: Ticket) -> Bool = t.account == \"{a}\"\n\
         /// Is the refund small enough to automate?\nfn {a}_small(t: Ticket) -> Bool = (t.refund_amount ?? 0 {cur}) <= {a}_small_refund\n\
         /// Urgency score.\nfn {a}_score(t: Ticket) -> Int = match t.priority {{ Urgent -> 4, High -> 3, Normal -> 2, Low -> 1 }}\n\n\
         /// {a}'s office hours.\ncalendar {a}_hours {{\n  timezone \"{tz}\"\n  hours mon-fri 08:30-12:30\n  hours mon-fri 13:30-18:00\n  hours sat 10:00-14:00\n  holidays [2026-12-24..2026-12-26, every 01-01, every 05-01]\n}}\n\n\
         /// {a}'s account team.\nteam {a}_team {{\n  members [\"{a}.one@agency.io\", \"{a}.two@agency.io\", \"{a}.three@agency.io\"]\n  calendar {a}_hours\n}}\n\n\
         /// {a}'s managers.\nteam {a}_managers {{\n  members [\"{a}.boss@agency.io\", \"{a}.deputy@agency.io\"]\n  calendar {a}_hours\n}}\n\n",
        limit = 200 + (i % 7) * 50,
        small = 20 + (i % 5) * 10,
    );
    for (k, (class, extra)) in [
        ("Billing", "ticket.tags contains \"invoice\""),
        ("Access", "ticket.type == \"access\""),
        ("Incident", "ticket.priority == Urgent"),
        ("Implementation", "ticket.tags contains \"onboarding\""),
        ("ScopeChange", "ticket.subject contains \"scope\""),
    ]
    .iter()
    .enumerate()
    {
        let _ = write!(
            s,
            "/// {class} tickets of {a}.\nroute {a}_{k}_{lower} on TicketCreated, TicketUpdated when {a}_mine(ticket) and class == {class} and {extra} {{\n  assign {a}_team by {strategy}\n  key ticket.client_id, ticket.type\n  priority {prio}\n}}\n\n",
            lower = class.to_lowercase(),
            strategy = if k % 2 == 0 {
                "round_robin"
            } else {
                "least_open"
            },
            prio = 10 + k,
        );
    }
    let _ = write!(
        s,
        "/// VIPs of {a} go to the managers.\nroute {a}_vip on TicketCreated when {a}_mine(ticket) and {a}_is_vip(ticket) and {a}_score(ticket) >= 2 {{\n  assign {a}_managers\n  priority 50\n}}\n\n\
         /// First reply for {a}.\nsla {a}_first_reply for Billing, Access, Incident, Triage {{\n  start on TicketCreated when {a}_mine(ticket)\n  pause when ticket.status == Pending\n  stop on ReplySent when public\n  target by ticket.tier {{\n    Gold   -> 1h\n    Silver -> 4 business hours\n    Bronze -> 2 business days\n  }}\n  calendar {a}_hours\n  warn at 75% -> notify assignee\n  breach -> escalate, notify {a}_managers\n}}\n\n\
         /// Resolution for {a}.\nsla {a}_resolution for Implementation, ScopeChange {{\n  start on TicketCreated when {a}_mine(ticket)\n  stop on TicketUpdated when ticket.status == Solved\n  target 5 business days\n  calendar {a}_hours\n  breach -> escalate\n}}\n\n\
         /// {a}'s billing system.\nconnector {a}_billing {{\n  /// Refund a charge.\n  action refund(charge: String, amount: Money) effect money(amount) compensate void_refund\n  /// Undo a refund.\n  action void_refund(charge: String, amount: Money)\n  /// Tell the client.\n  action notify_client(template: String)\n  /// Remove a user.\n  action remove_user(user: String) effect destructive\n}}\n\n\
         /// Large refunds of {a} need a manager.\ngate {a}_refund_approval on {a}_billing.refund when amount > {a}_refund_limit {{\n  require approval from {a}_managers\n  expire after {a}_ack -> escalate\n}}\n\n\
         /// Removing users of {a} needs a second person.\ngate {a}_removal on {a}_billing.remove_user {{\n  require confirmation\n  expire after 4 business hours -> deny\n}}\n\n\
         /// Small refunds of {a} run automatically.\nautomation {a}_refund_small {{\n  version {v}\n  owner {a}_team\n  on TicketCreated when {a}_mine(ticket) and class == Billing and ticket.refund_amount != none and {a}_small(ticket)\n  do {{\n    {a}_billing.refund(charge: ticket.charge_id!, amount: ticket.refund_amount!)\n    {a}_billing.notify_client(template: \"refund_done\")\n  }}\n  rollout {pct}% by ticket.client_id\n  breaker failures > 5% over 50 runs -> halt, assign {a}_managers\n}}\n\n\
         /// Acknowledge access requests of {a} (in trial).\nautomation {a}_access_ack {{\n  version 1\n  owner {a}_team\n  on TicketCreated when {a}_mine(ticket) and class == Access\n  do {{\n    {a}_billing.notify_client(template: \"access_received\")\n  }}\n  rollout shadow sample 25% by ticket.client_id\n}}\n\n\
         fixture {a}_gold = Ticket {{ id: \"{a}-T-1\", type: \"billing\", subject: \"Refund please\", tags: [\"refund\", \"vip\"],\n  tier: Gold, priority: Normal, status: New, client_id: \"c-{i}\", account: \"{a}\", charge_id: \"ch_{i}\", refund_amount: 400 {cur} }}\n\
         fixture {a}_small_one = {{ ..{a}_gold, refund_amount: 10 {cur}, tags: [\"refund\"] }}\n\n\
         test \"{a}: a large refund waits for a manager\" {{\n  at 2026-03-02T10:00:00Z\n  given TicketCreated {{ case: \"{a}-T-1\", ticket: {a}_gold, channel: Email }}\n  expect class Billing\n  expect held {a}_billing.refund by {a}_refund_approval\n  advance 25h\n  expect escalated {a}_refund_approval\n}}\n\n\
         test \"{a}: a small refund runs\" {{\n  at 2026-03-02T10:00:00Z\n  given TicketCreated {{ case: \"{a}-T-2\", ticket: {a}_small_one, channel: Chat }}\n  expect executed {a}_billing.refund\n  expect sla {a}_first_reply running\n}}\n",
        v = 1 + i % 4,
        pct = [10, 50, 100][i % 3],
    );
    s
}

/// A project of `files` files (one of them `core`) holding `accounts` account playbooks
/// between them: several accounts share a file when there are more accounts than files.
/// (The language-server benchmark asks for 200 files and about 50,000 lines.)
pub fn generate_in_files(files: usize, accounts: usize) -> Vec<(String, String)> {
    let per_file = files.saturating_sub(1).max(1);
    let mut out = vec![
        (
            "meshline.toml".to_string(),
            "[package]\nname = \"generated\"\nversion = \"1.0.0\"\n".to_string(),
        ),
        ("rules/core.mesh".to_string(), core()),
    ];
    let mut texts: Vec<String> = vec![String::new(); per_file.min(accounts.max(1))];
    for i in 0..accounts {
        let slot = i % texts.len();
        let text = account(i);
        if texts[slot].is_empty() {
            texts[slot] = text;
        } else {
            // One import of the core names per file.
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with("import core."))
                .map(|l| format!("{l}\n"))
                .collect();
            texts[slot].push('\n');
            texts[slot].push_str(&body);
        }
    }
    for (k, text) in texts.into_iter().enumerate() {
        out.push((format!("rules/accounts/f{k:04}.mesh"), text));
    }
    out
}

/// Total number of lines in a generated project.
pub fn line_count(files: &[(String, String)]) -> usize {
    files.iter().map(|(_, t)| t.lines().count()).sum()
}
pub mod agency_gen;
pub mod ledger_floor;
pub mod runtime_gen;
