//! The cases page's directory (docs/console.md, "Cases"): each case's class, owner and
//! assignee as the ledger last recorded them, and each client's cases as its events name
//! them. Kept up to date by the figures thread from what was written since its last pass,
//! so a search reads memory, never the whole ledger.
//!
//! The ledger does not record a case's client (docs/kpis.md), so the client is read from the
//! stored events at the configured JSON pointers (`[console] client_fields`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::RwLock;

use serde_json::Value as Json;

use crate::reader::Reader;

/// What a search asks: every given part must match.
#[derive(Clone, Debug, Default)]
pub struct Search {
    /// The case id starts with this.
    pub id_prefix: String,
    /// Exactly this client.
    pub client: String,
    /// This class (ASCII case ignored).
    pub class: String,
    /// This team or person as owner or assignee (ASCII case ignored).
    pub team: String,
}

/// A case found: its id, class, owner and assignee (empty when not recorded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub case: String,
    pub class: String,
    pub owner: String,
    pub assignee: String,
    pub client: String,
}

/// Indices into `Directory::names` (0 is "none").
#[derive(Clone, Copy, Default)]
struct Tags {
    class: u32,
    owner: u32,
    assignee: u32,
    client: u32,
}

pub struct Directory {
    client_fields: Vec<String>,
    ledger_after: u64,
    inputs_after: u64,
    names: Vec<String>,
    ids: HashMap<String, u32>,
    cases: BTreeMap<String, Tags>,
    clients: BTreeMap<u32, BTreeSet<String>>,
}

/// Rows read per query while catching up.
const CHUNK: u64 = 10_000;

impl Directory {
    pub fn new(client_fields: Vec<String>) -> Directory {
        Directory {
            client_fields,
            ledger_after: 0,
            inputs_after: 0,
            names: vec![String::new()],
            ids: HashMap::new(),
            cases: BTreeMap::new(),
            clients: BTreeMap::new(),
        }
    }

    fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(s.to_string());
        self.ids.insert(s.to_string(), i);
        i
    }

    /// Read what was written since the last call, a chunk at a time: the lock is held only
    /// to fold a chunk already read, so searches never wait for the database.
    pub fn follow(lock: &RwLock<Directory>, reader: &Reader) -> Result<(), String> {
        let read = || lock.read().unwrap_or_else(|e| e.into_inner());
        let write = || lock.write().unwrap_or_else(|e| e.into_inner());
        loop {
            let after = read().ledger_after;
            let rows = reader.ledger_after(after, CHUNK)?;
            let Some(last) = rows.last().map(|(seq, _)| *seq) else {
                break;
            };
            let mut d = write();
            for (_, line) in &rows {
                d.push_ledger(line);
            }
            d.ledger_after = last;
        }
        loop {
            let after = read().inputs_after;
            let rows = reader.events_after(after, CHUNK)?;
            let Some(last) = rows.last().map(|(seq, _)| *seq) else {
                break;
            };
            let mut d = write();
            for (_, body) in &rows {
                d.push_event(body);
            }
            d.inputs_after = last;
        }
        Ok(())
    }

    fn push_ledger(&mut self, line: &str) {
        let which = if line.contains("\"kind\":\"classified\"") {
            "class"
        } else if line.contains("\"kind\":\"owned\"") {
            "owner"
        } else if line.contains("\"kind\":\"assigned\"") {
            "assignee"
        } else if line.contains("\"kind\":\"received\"") {
            // Every case with an event is listed, classified or not.
            "received"
        } else {
            return;
        };
        let Ok(v) = serde_json::from_str::<Json>(line) else {
            return;
        };
        let Some(case) = v.get("case").and_then(Json::as_str) else {
            return;
        };
        let value = v
            .get("detail")
            .and_then(|d| d.get(which))
            .and_then(Json::as_str)
            .unwrap_or("");
        let id = self.intern(value);
        let tags = self.cases.entry(case.to_string()).or_default();
        match which {
            "class" => tags.class = id,
            "owner" => tags.owner = id,
            "assignee" => tags.assignee = id,
            _ => {}
        }
    }

    fn push_event(&mut self, body: &str) {
        let Ok(v) = serde_json::from_str::<Json>(body) else {
            return;
        };
        let Some(case) = v.get("case").and_then(Json::as_str) else {
            return;
        };
        let client = self.client_fields.iter().find_map(|p| match v.pointer(p) {
            Some(Json::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Json::Number(n)) => Some(n.to_string()),
            _ => None,
        });
        let Some(client) = client else { return };
        let id = self.intern(&client);
        let tags = self.cases.entry(case.to_string()).or_default();
        let before = std::mem::replace(&mut tags.client, id);
        if before != id {
            if let Some(set) = self.clients.get_mut(&before) {
                set.remove(case);
            }
            self.clients.entry(id).or_default().insert(case.to_string());
        }
    }

    /// At most `limit` cases matching `q`, by id.
    pub fn search(&self, q: &Search, limit: usize) -> Vec<Found> {
        let name = |i: u32| self.names.get(i as usize).cloned().unwrap_or_default();
        let same = |i: u32, want: &str| {
            self.names
                .get(i as usize)
                .is_some_and(|n| !n.is_empty() && n.eq_ignore_ascii_case(want))
        };
        let matches = |id: &str, t: &Tags| {
            id.starts_with(&q.id_prefix)
                && (q.class.is_empty() || same(t.class, &q.class))
                && (q.team.is_empty() || same(t.owner, &q.team) || same(t.assignee, &q.team))
        };
        let found = |(id, t): (&String, &Tags)| Found {
            case: id.clone(),
            class: name(t.class),
            owner: name(t.owner),
            assignee: name(t.assignee),
            client: name(t.client),
        };
        if q.client.is_empty() {
            self.cases
                .range(q.id_prefix.clone()..)
                .take_while(|(id, _)| id.starts_with(&q.id_prefix))
                .filter(|(id, t)| matches(id, t))
                .take(limit)
                .map(found)
                .collect()
        } else {
            let Some(set) = self.ids.get(&q.client).and_then(|c| self.clients.get(c)) else {
                return Vec::new();
            };
            set.iter()
                .filter_map(|id| self.cases.get_key_value(id))
                .filter(|(id, t)| matches(id, t))
                .take(limit)
                .map(found)
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        let mut d = Directory::new(vec!["/data/ticket/client_id".into(), "/data/client".into()]);
        let entry = |case: &str, kind: &str, key: &str, value: &str| {
            format!(
                "{{\"case\":\"{case}\",\"detail\":{{\"{key}\":\"{value}\"}},\"kind\":\"{kind}\"}}"
            )
        };
        d.push_ledger(&entry("T-1", "classified", "class", "Billing"));
        d.push_ledger(&entry("T-1", "owned", "owner", "billing_ops"));
        d.push_ledger(&entry("T-1", "assigned", "assignee", "ana@agency.io"));
        d.push_ledger(&entry("T-2", "classified", "class", "Incident"));
        d.push_ledger(&entry("T-2", "owned", "owner", "oncall"));
        d.push_ledger(&entry("X-3", "classified", "class", "Billing"));
        d.push_event(r#"{"case":"T-1","data":{"ticket":{"client_id":"c-9"}}}"#);
        d.push_event(r#"{"case":"T-2","data":{"client":"c-9"}}"#);
        d.push_event(r#"{"case":"X-3","data":{"ticket":{"client_id":"c-7"}}}"#);
        // A later event moves a case to another client.
        d.push_event(r#"{"case":"T-2","data":{"client":"c-8"}}"#);
        d
    }

    fn ids(found: Vec<Found>) -> Vec<String> {
        found.into_iter().map(|f| f.case).collect()
    }

    #[test]
    fn each_part_of_a_search_narrows_it() {
        let d = directory();
        let q = |id: &str, client: &str, class: &str, team: &str| Search {
            id_prefix: id.into(),
            client: client.into(),
            class: class.into(),
            team: team.into(),
        };
        assert_eq!(ids(d.search(&q("T-", "", "", ""), 10)), ["T-1", "T-2"]);
        assert_eq!(ids(d.search(&q("", "", "billing", ""), 10)), ["T-1", "X-3"]);
        assert_eq!(ids(d.search(&q("", "c-9", "", ""), 10)), ["T-1"]);
        assert_eq!(ids(d.search(&q("", "c-8", "", ""), 10)), ["T-2"]);
        assert_eq!(ids(d.search(&q("", "", "", "ANA@agency.io"), 10)), ["T-1"]);
        assert_eq!(ids(d.search(&q("", "", "", "oncall"), 10)), ["T-2"]);
        assert_eq!(
            ids(d.search(&q("T-", "", "Billing", "billing_ops"), 10)),
            ["T-1"]
        );
        assert!(d.search(&q("", "nobody", "", ""), 10).is_empty());
        assert_eq!(d.search(&q("", "", "", ""), 1).len(), 1);
        let t1 = &d.search(&q("T-1", "", "", ""), 10)[0];
        assert_eq!(
            (t1.class.as_str(), t1.owner.as_str(), t1.client.as_str()),
            ("Billing", "billing_ops", "c-9")
        );
    }
}
