//! The console's HTML: one layout, server-rendered, CSS and the refresh script inline (no
//! network, no CDN). Every value from the ledger or a request is escaped.

use std::fmt::Write as _;

use meshline_report::render::page::{STYLE, automations as automation_figures, esc, sections};

use super::auth::Session;
use super::directory::{Found, Search};
use jiff::Timestamp;
use meshline_runtime::engine::DueClock;

use super::figures::{Figures, OpenHold, RunningClock};

/// A page: navigation, the signed-in user, `main` (which the script refreshes in place every
/// `refresh` seconds when `refresh > 0`).
pub fn layout(title: &str, session: Option<&Session>, main: &str, refresh: u64) -> String {
    let mut h = String::with_capacity(main.len() + 4096);
    h.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    let _ = write!(h, "<title>{} · Meshline</title><style>{STYLE}", esc(title));
    h.push_str(
        "nav{display:flex;flex-wrap:wrap;gap:.8rem;align-items:center;border-bottom:1px solid \
         #767676;padding-bottom:.5rem}nav a{color:#1f5fa8}nav .who{margin-left:auto}\
         .notice{border:2px solid #1f5fa8;padding:.5rem}.refused{border-color:#b3261e}\
         form.inline{display:inline}button{font:inherit;padding:.2rem .6rem}\
         input{font:inherit;padding:.2rem}label{display:block;margin:.4rem 0}",
    );
    h.push_str("</style></head><body>\n");
    if let Some(s) = session {
        let _ = writeln!(
            h,
            "<nav><strong>Meshline</strong><a href=\"/ui\">Overview</a><a href=\"/ui/at-risk\">At risk</a>\
             <a href=\"/ui/cases\">Cases</a><a href=\"/ui/automations\">Automations</a>\
             <a href=\"/ui/deployments\">Deployments</a><span class=\"who\">{} ({})</span>\
             <form class=\"inline\" method=\"post\" action=\"/ui/logout\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button>Sign out</button></form></nav>",
            esc(&s.user),
            s.role.as_str(),
            esc(&s.csrf)
        );
    }
    let _ = write!(
        h,
        "<h1>{}</h1>\n<main id=\"main\">{main}</main>\n",
        esc(title)
    );
    if refresh > 0 {
        let _ = write!(h, "<script>{}</script>", refresh_script(refresh));
    }
    h.push_str("</body></html>\n");
    h
}

/// Replaces `main` with the same page's fresh `main` every `seconds`; a failed fetch keeps
/// the old one. Its exact text is hashed into the Content-Security-Policy.
pub fn refresh_script(seconds: u64) -> String {
    format!(
        "setInterval(function(){{fetch(location.href,{{credentials:'same-origin'}})\
         .then(function(r){{return r.ok?r.text():null}}).then(function(t){{if(!t)return;\
         var d=new DOMParser().parseFromString(t,'text/html').getElementById('main');\
         if(d)document.getElementById('main').innerHTML=d.innerHTML}}).catch(function(){{}})}},{});",
        seconds * 1000
    )
}

pub fn login(error: Option<&str>) -> String {
    let mut m = String::new();
    if let Some(e) = error {
        let _ = write!(
            m,
            "<p class=\"notice refused\" role=\"alert\">{}</p>",
            esc(e)
        );
    }
    m.push_str(
        "<form method=\"post\" action=\"/ui/login\">\
         <label>E-mail <input name=\"user\" type=\"email\" autocomplete=\"username\" required></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
         <button>Sign in</button></form>",
    );
    layout("Sign in", None, &m, 0)
}

fn freshness(f: &Figures) -> String {
    match f.computed_at {
        None => "<p>Figures are being computed…</p>".to_string(),
        Some(t) => format!(
            "<p>Figures from {} ledger entries, computed at {} (UTC) in {} ms.</p>",
            f.entries,
            esc(&t.to_string()),
            f.took.as_millis()
        ),
    }
}

/// The overview: the KPIs of one window (`today`, `7 days`, `30 days`).
pub fn overview(f: &Figures, window: &str) -> String {
    let mut m = freshness(f);
    m.push_str("<p>Window: ");
    for (label, _) in &f.windows {
        let q = label.replace(' ', "");
        if *label == window {
            let _ = write!(m, "<strong>{}</strong> ", esc(label));
        } else {
            let _ = write!(m, "<a href=\"/ui?window={}\">{}</a> ", esc(&q), esc(label));
        }
    }
    let _ = write!(
        m,
        "· <a href=\"/ui/at-risk\">{} held action{} waiting</a></p>",
        f.holds.len(),
        if f.holds.len() == 1 { "" } else { "s" }
    );
    if let Some((_, r)) = f.windows.iter().find(|(l, _)| *l == window) {
        m.push_str(&sections(r));
    }
    m
}

/// Held actions, oldest first; `expiries[i]` is when `holds[i]`'s earliest pending gate
/// expires (from the engine; `None` when it did not answer).
fn holds_table(m: &mut String, holds: &[OpenHold], expiries: Option<&[Option<Timestamp>]>) {
    m.push_str(
        "<div class=\"wrap\"><table><tr><th>case</th><th>automation</th><th>action</th>\
         <th>amount</th><th>gates</th><th>held since (UTC)</th><th>expires (UTC)</th></tr>\n",
    );
    for (i, o) in holds.iter().enumerate() {
        let expires = match expiries.and_then(|e| e.get(i).copied()) {
            Some(Some(t)) => esc(&t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
            Some(None) => "never".to_string(),
            None => "-".to_string(),
        };
        let _ = writeln!(
            m,
            "<tr><td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{expires}</td></tr>",
            esc(&urlencode(&o.case)),
            esc(&o.case),
            esc(&o.automation),
            esc(&o.action),
            esc(o.amount.as_deref().unwrap_or("-")),
            esc(&o.gates.join(", ")),
            esc(&o.held_at)
        );
    }
    m.push_str("</table></div>\n");
}

/// Running clocks by deadline: due instant (UTC) and the open time of the clock's calendar
/// left until then, soonest first.
fn due_clocks(m: &mut String, running: usize, due: &[DueClock]) {
    let _ = write!(
        m,
        "<h2>Running SLA clocks ({running}): by deadline, with business time left</h2>"
    );
    if due.is_empty() {
        m.push_str("<p>None.</p>");
        return;
    }
    m.push_str(
        "<div class=\"wrap\"><table><tr><th>case</th><th>policy</th><th>due (UTC)</th>\
         <th>business time left</th><th>calendar</th><th>state</th></tr>\n",
    );
    for c in due {
        let _ = writeln!(
            m,
            "<tr><td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&urlencode(&c.case)),
            esc(&c.case),
            esc(&c.sla),
            esc(&c.due.strftime("%Y-%m-%d %H:%M").to_string()),
            business_left(c.business_left),
            esc(&c.calendar),
            if c.warned {
                "<strong>warned</strong>"
            } else {
                "running"
            },
        );
    }
    m.push_str("</table></div>\n");
}

/// Open seconds as hours and minutes ("0m" once due): business hours run past 24.
fn business_left(secs: i64) -> String {
    let mins = secs.max(0) / 60;
    match (mins / 60, mins % 60) {
        (0, m) => format!("{m}m"),
        (h, m) => format!("{h}h {m:02}m"),
    }
}

/// Clocks from the ledger: started, target, calendar and, once warned, the due time.
fn clocks_table(m: &mut String, title: &str, clocks: &[&RunningClock]) {
    let _ = write!(m, "<h2>{title} ({})</h2>", clocks.len());
    if clocks.is_empty() {
        m.push_str("<p>None.</p>");
        return;
    }
    m.push_str(
        "<div class=\"wrap\"><table><tr><th>case</th><th>policy</th><th>started (UTC)</th>\
         <th>target</th><th>calendar</th><th>state</th><th>due (UTC), once warned</th></tr>\n",
    );
    for c in clocks.iter().take(500) {
        let _ = writeln!(
            m,
            "<tr><td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&urlencode(&c.case)),
            esc(&c.case),
            esc(&c.policy),
            esc(&c.started),
            esc(&c.target),
            esc(&c.calendar),
            if c.paused {
                "paused"
            } else if c.warned_due.is_some() {
                "warned"
            } else {
                "running"
            },
            esc(c.warned_due.as_deref().unwrap_or("-"))
        );
    }
    m.push_str("</table></div>\n");
}

pub fn at_risk(
    f: &Figures,
    due: Option<&[DueClock]>,
    expiries: Option<&[Option<Timestamp>]>,
) -> String {
    let mut m = freshness(f);
    let _ = write!(
        m,
        "<h2>Held actions waiting for a decision ({})</h2>",
        f.holds.len()
    );
    if f.holds.is_empty() {
        m.push_str("<p>None.</p>");
    } else {
        holds_table(&mut m, &f.holds, expiries);
    }
    // At most 500 rows per table: the page stays light; the counts are whole.
    let paused: Vec<&RunningClock> = f.clocks.iter().filter(|c| c.paused).collect();
    match due {
        Some(due) => due_clocks(&mut m, f.clocks.len() - paused.len(), due),
        None => {
            m.push_str(
                "<p class=\"stale\">The engine did not answer in time: running clocks are \
                 listed by start, warned ones first.</p>",
            );
            let running: Vec<&RunningClock> = f.clocks.iter().filter(|c| !c.paused).collect();
            clocks_table(&mut m, "Running SLA clocks", &running);
        }
    }
    clocks_table(&mut m, "Paused SLA clocks", &paused);
    let _ = write!(
        m,
        "<h2>Owned, not yet acknowledged ({}): by deadline</h2>",
        f.unacknowledged.len()
    );
    if f.unacknowledged.is_empty() {
        m.push_str("<p>None.</p>");
    } else {
        m.push_str(
            "<div class=\"wrap\"><table><tr><th>case</th><th>owner</th><th>owned since (UTC)</th>\
             <th>acknowledge by (UTC)</th></tr>\n",
        );
        for u in f.unacknowledged.iter().take(500) {
            let _ = writeln!(
                m,
                "<tr><td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&urlencode(&u.case)),
                esc(&u.case),
                esc(&u.owner),
                esc(&u.owned_at),
                esc(&u.acknowledge_by)
            );
        }
        m.push_str("</table></div>\n");
    }
    m
}

/// Each automation of the deciding bundle (rollout, version, owner, breaker and its state),
/// then the report's outcomes per automation over the last 30 days.
pub fn automations(f: &Figures) -> String {
    let mut m = freshness(f);
    if f.automations.is_empty() {
        m.push_str("<p>The deciding bundle has no automation.</p>");
    } else {
        m.push_str(
            "<div class=\"wrap\"><table><tr><th>automation</th><th>version</th><th>owner</th>\
             <th>rollout</th><th>breaker</th><th>breaker state</th></tr>\n",
        );
        for a in &f.automations {
            let state = match &a.open_since {
                Some(at) => format!("<strong>open</strong> since {} (UTC)", esc(at)),
                None => "closed".to_string(),
            };
            let _ = writeln!(
                m,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{state}</td></tr>",
                esc(&a.name),
                a.version,
                esc(&a.owner),
                esc(&a.rollout),
                esc(&a.breaker)
            );
        }
        m.push_str("</table></div>\n");
    }
    m.push_str("<h2>Recent failures and compensations</h2>");
    if f.incidents.is_empty() {
        m.push_str("<p>None recorded.</p>");
    }
    for (automation, list) in &f.incidents {
        let _ = writeln!(
            m,
            "<h3>{}</h3><div class=\"wrap\"><table><tr><th>at (UTC)</th><th>case</th>\
             <th>what</th><th>action and reason</th></tr>",
            esc(automation)
        );
        for i in list {
            let _ = writeln!(
                m,
                "<tr><td>{}</td><td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td>{}</td></tr>",
                esc(&i.at),
                esc(&urlencode(&i.case)),
                esc(&i.case),
                esc(i.what),
                esc(&i.detail)
            );
        }
        m.push_str("</table></div>\n");
    }
    if let Some((label, r)) = f.windows.iter().find(|(l, _)| *l == "30 days") {
        let _ = write!(m, "<h2>Outcomes, last {}</h2>", esc(label));
        m.push_str(&automation_figures(r));
    }
    m
}

/// An error or refusal, announced to screen readers.
pub fn alert(text: &str) -> String {
    format!("<p class=\"error\" role=\"alert\">{}</p>", esc(text))
}

/// The "what would change" section: the replay report's body.
pub fn whatif(inputs: u64, took: std::time::Duration, report: &str) -> String {
    format!(
        "<h2 id=\"whatif\">What would change</h2><p>The candidate decided over the {inputs} stored \
         inputs in shadow ({:.1} s), compared with the ledger that was recorded.</p>{report}",
        took.as_secs_f64()
    )
}

/// The deciding bundle and the deployments recorded in the ledger, newest first; for an
/// admin, the form that replays a candidate bundle; then `section` (a replay's report).
pub fn deployments(f: &Figures, session: &Session, section: &str) -> String {
    let mut m = freshness(f);
    match &f.bundle {
        Some(b) => {
            let _ = write!(
                m,
                "<p>Deciding: <strong>{} {}</strong>, bundle <code>{}</code> (compiler {}).</p>",
                esc(&b.package),
                esc(&b.version),
                esc(&b.hash),
                esc(&b.compiler_version)
            );
        }
        None => m.push_str("<p>No bundle is stored yet.</p>"),
    }
    m.push_str(
        "<p>Deployments arrive through <code>POST /admin/bundle</code> (a named admin token) \
         or a restart with a new <code>--bundle</code>; rolling back is deploying the previous \
         bundle again. <em>By</em> is the admin token's name, <em>signed by</em> the bundle's \
         signer (docs/deploy.md, \"Change history\").</p>",
    );
    if f.deployments.is_empty() {
        m.push_str("<p>No deployment since the state was created.</p>");
    } else {
        m.push_str(
            "<div class=\"wrap\"><table><tr><th>at (UTC)</th><th>by</th><th>signed by</th>\
             <th>version</th><th>from</th><th>to</th></tr>\n",
        );
        let or = |v: &Option<String>, none: &'static str| v.clone().unwrap_or_else(|| none.into());
        for d in &f.deployments {
            let version = match (&d.package, &d.version) {
                (Some(p), Some(v)) => format!("{p} {v}"),
                _ => "—".to_string(),
            };
            let _ = writeln!(
                m,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td>\
                 <td><code>{}</code></td></tr>",
                esc(&d.at),
                esc(&or(&d.by, "—")),
                esc(&or(&d.signer, "unsigned")),
                esc(&version),
                esc(d.from.get(..12).unwrap_or(&d.from)),
                esc(d.to.get(..12).unwrap_or(&d.to))
            );
        }
        m.push_str("</table></div>\n");
    }
    if session.role == super::auth::Role::Admin {
        let _ = write!(
            m,
            "<h2>What would change</h2><form method=\"post\" action=\"/ui/deployments/whatif\" \
             enctype=\"multipart/form-data\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>Candidate bundle (.meshb) <input type=\"file\" name=\"bundle\" accept=\".meshb\" \
             required></label> <button>Replay in shadow</button></form><p>The candidate decides over \
             the stored history; nothing is sent anywhere and nothing is deployed (deploying stays \
             <code>POST /admin/bundle</code>).</p>",
            esc(&session.csrf)
        );
    }
    m.push_str(section);
    m
}

/// The search form (every field optional; all given must match) and up to 100 cases.
pub fn cases(q: &Search, found: &[Found]) -> String {
    let field = |name: &str, label: &str, value: &str| {
        format!(
            "<label>{label} <input name=\"{name}\" value=\"{}\"></label> ",
            esc(value)
        )
    };
    let mut m = format!(
        "<form method=\"get\" action=\"/ui/cases\">{}{}{}{}<button>Search</button></form>",
        field("q", "Case id starts with", &q.id_prefix),
        field("client", "Client", &q.client),
        field("class", "Class", &q.class),
        field("team", "Owner or assignee", &q.team),
    );
    if found.is_empty() {
        m.push_str("<p>No case found.</p>");
        return m;
    }
    m.push_str(
        "<div class=\"wrap\"><table><tr><th>case</th><th>client</th><th>class</th>\
         <th>owner</th><th>assignee</th></tr>\n",
    );
    for c in found {
        let _ = writeln!(
            m,
            "<tr><td><a href=\"/ui/cases/{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&urlencode(&c.case)),
            esc(&c.case),
            esc(&c.client),
            esc(&c.class),
            esc(&c.owner),
            esc(&c.assignee)
        );
    }
    m.push_str("</table></div>\n");
    if found.len() >= 100 {
        m.push_str("<p>The first 100 cases by id; narrow the search to see others.</p>");
    }
    m
}

/// A case: the notice of a decision just taken, decision forms for its open holds, its
/// state, then its story (the same explanation as `meshline explain`).
pub fn case(
    id: &str,
    session: &Session,
    notice: Option<(&str, bool)>,
    holds: &[OpenHold],
    state: &serde_json::Value,
    story: &str,
) -> String {
    let mut m = String::new();
    if let Some((text, refused)) = notice {
        let _ = write!(
            m,
            "<p class=\"notice{}\" role=\"status\">{}</p>",
            if refused { " refused" } else { "" },
            esc(text)
        );
    }
    let field = |k: &str| {
        state
            .get(k)
            .and_then(|v| v.as_str())
            .map_or("-".to_string(), esc)
    };
    let _ = write!(
        m,
        "<p>Class <strong>{}</strong> · owner <strong>{}</strong> · assignee <strong>{}</strong> · opened {} (UTC)</p>",
        field("class"),
        field("owner"),
        field("assignee"),
        field("opened_at")
    );
    for o in holds {
        for gate in &o.gates {
            let _ = write!(
                m,
                "<form method=\"post\" action=\"/ui/cases/{case}/decide\" class=\"notice\">\
                 <p>{action}{amount} by <strong>{auto}</strong> waits for <strong>{gate}</strong> \
                 (request {req}, held since {at} UTC).</p>\
                 <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"approval\" value=\"{gate}\">\
                 <button name=\"decision\" value=\"approve\">Approve as {me}</button> \
                 <button name=\"decision\" value=\"deny\">Deny</button></form>",
                case = esc(&urlencode(id)),
                action = esc(&o.action),
                amount = o
                    .amount
                    .as_deref()
                    .map(|a| format!(" of {}", esc(a)))
                    .unwrap_or_default(),
                auto = esc(&o.automation),
                gate = esc(gate),
                req = o.request,
                at = esc(&o.held_at),
                csrf = esc(&session.csrf),
                me = esc(&session.user),
            );
        }
    }
    m.push_str(story);
    layout(&format!("Case {id}"), Some(session), &m, 0)
}

/// Percent-encoding for a path segment (case ids are free text).
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::figures::Deployment;

    #[test]
    fn deployments_say_who_deployed_and_signed() {
        let signed = serde_json::json!({"at": "2026-12-07T10:00:00Z", "kind": "deployed",
            "detail": {"from": "a".repeat(64), "to": "b".repeat(64), "by": "ops",
                "package": "agency", "version": "1.4.1",
                "signer": {"name": "bob", "key": "0123456789abcdef"}}});
        let old = serde_json::json!({"at": "2026-12-01T10:00:00Z", "kind": "deployed",
            "detail": {"from": "c".repeat(64), "to": "a".repeat(64)}});
        let f = Figures {
            deployments: [signed, old]
                .iter()
                .filter_map(Deployment::from_entry)
                .collect(),
            ..Figures::default()
        };
        let sessions = crate::console::auth::Sessions::new(std::time::Duration::from_secs(60), 1);
        let (_, viewer) = sessions
            .start("dana@tallyhub.com", crate::console::auth::Role::Viewer)
            .unwrap();
        let page = deployments(&f, &viewer, "");
        assert!(
            page.contains(
                "<td>2026-12-07T10:00:00Z</td><td>ops</td><td>bob</td><td>agency 1.4.1</td>"
            ),
            "{page}"
        );
        assert!(
            page.contains("<td>2026-12-01T10:00:00Z</td><td>\u{2014}</td><td>unsigned</td>"),
            "{page}"
        );
    }
}
