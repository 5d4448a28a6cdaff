//! `meshline import zendesk`: a Zendesk export (incremental tickets, incremental ticket events,
//! or ticket audits, as the API returns them) → canonical events, through the same
//! `[webhooks.NAME]` mapping that `POST /webhooks/NAME` uses (docs/adapters.md, "History from
//! Zendesk").
//!
//! Each ticket change in the export becomes the payload Zendesk's ticket-event webhook would
//! have sent for it (`zen:event-type:ticket.*`, the ticket as it was after the change in
//! `detail`, the change in `event`); the mapping then turns that payload into an envelope.
//! The ticket's state at each change is rebuilt from its final state (the tickets export)
//! by undoing the changes newest first, then replaying them.

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;
use serde_json::{Map, Value as Json, json};

use crate::webhooks::Source;

/// What an import produced: envelopes in time order, and what could not be mapped.
#[derive(Debug, Default)]
pub struct Import {
    pub events: Vec<Json>,
    /// Records or changes that became no event, counted by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Ticket records and audits read.
    pub tickets: u64,
    pub audits: u64,
}

/// One change of one audit, normalised from either export format.
#[derive(Debug)]
enum Change {
    /// A field set when the ticket was created, or changed later (`previous` absent on create).
    Field {
        id: String,
        field: String,
        value: Json,
        previous: Option<Json>,
    },
    Comment {
        id: String,
        body: Json,
        public: bool,
        author: Option<String>,
    },
    /// A child event that is no ticket change (notifications, SLA metrics, …).
    Other(String),
}

#[derive(Debug)]
struct Audit {
    id: String,
    ticket: String,
    at: Timestamp,
    author: Option<String>,
    create: bool,
    changes: Vec<Change>,
}

/// The ticket fields a change can name, with the name Zendesk's webhook `detail` uses.
const FIELDS: &[(&str, &str)] = &[
    ("status", "status"),
    ("priority", "priority"),
    ("type", "type"),
    ("subject", "subject"),
    ("description", "description"),
    ("tags", "tags"),
    ("assignee_id", "assignee_id"),
    ("group_id", "group_id"),
    ("organization_id", "organization_id"),
    ("requester_id", "requester_id"),
    ("submitter_id", "submitter_id"),
    ("brand_id", "brand_id"),
    ("ticket_form_id", "form_id"),
    ("external_id", "external_id"),
    ("custom_status_id", "custom_status"),
];

/// The webhook event type a changed field produces.
fn event_type(field: &str) -> Option<&'static str> {
    Some(match field {
        "status" => "status_changed",
        "priority" => "priority_changed",
        "type" => "type_changed",
        "subject" => "subject_changed",
        "description" => "description_changed",
        "tags" => "tags_changed",
        "assignee_id" => "agent_assignment_changed",
        "group_id" => "group_assignment_changed",
        "organization_id" => "organization_changed",
        "requester_id" => "requester_changed",
        "submitter_id" => "submitter_changed",
        "brand_id" => "brand_changed",
        "ticket_form_id" => "form_changed",
        "external_id" => "external_id_changed",
        "custom_status_id" => "custom_status_changed",
        _ => return None,
    })
}

/// An id as the webhook writes ids: a string.
fn id_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Zendesk's webhooks spell enumerations in capitals (`OPEN`, `HIGH`, `INCIDENT`); the REST
/// exports in lower case.
fn webhook_value(field: &str, v: &Json) -> Json {
    match (field, v) {
        ("status" | "priority" | "type", Json::String(s)) => Json::String(s.to_uppercase()),
        (
            "assignee_id" | "group_id" | "organization_id" | "requester_id" | "submitter_id"
            | "brand_id" | "ticket_form_id" | "custom_status_id" | "external_id",
            v,
        ) => id_text(v).map_or(Json::Null, Json::String),
        _ => v.clone(),
    }
}

fn time_of(v: Option<&Json>) -> Option<Timestamp> {
    match v? {
        Json::String(s) => s.parse().ok(),
        Json::Number(n) => n.as_i64().and_then(|s| Timestamp::from_second(s).ok()),
        _ => None,
    }
}

/// The changes of one child event (or audit event), in either format: Ticket Audits
/// (`type`, `field_name`, `value`, `previous_value`) or the incremental ticket-event export
/// (`event_type`, the field as a key, `previous_value`).
fn changes_of(child: &Json, create: &mut bool, out: &mut Vec<Change>) {
    let id = child.get("id").and_then(id_text).unwrap_or_default();
    let kind = child
        .get("event_type")
        .or_else(|| child.get("type"))
        .and_then(Json::as_str)
        .unwrap_or("");
    match kind {
        "Create" | "Change" => {
            *create |= kind == "Create";
            let previous = child.get("previous_value").cloned();
            if let Some(field) = child.get("field_name").and_then(Json::as_str) {
                out.push(Change::Field {
                    id,
                    field: field.to_string(),
                    value: child.get("value").cloned().unwrap_or(Json::Null),
                    previous: if kind == "Change" { previous } else { None },
                });
                return;
            }
            let mut any = false;
            for (field, _) in FIELDS {
                if let Some(value) = child.get(*field) {
                    any = true;
                    out.push(Change::Field {
                        id: id.clone(),
                        field: (*field).to_string(),
                        value: value.clone(),
                        previous: if kind == "Change" {
                            previous.clone()
                        } else {
                            None
                        },
                    });
                }
            }
            if !any {
                let keys: Vec<&str> = child
                    .as_object()
                    .map(|o| o.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let fields: Vec<&str> = keys
                    .into_iter()
                    .filter(|k| {
                        ![
                            "id",
                            "via",
                            "via_reference_id",
                            "event_type",
                            "type",
                            "previous_value",
                        ]
                        .contains(k)
                    })
                    .collect();
                out.push(Change::Other(format!(
                    "child event `{kind}` of {}: no ticket webhook carries it",
                    fields.join(", ")
                )));
            }
        }
        "Comment" => out.push(Change::Comment {
            id,
            body: child.get("body").cloned().unwrap_or(Json::Null),
            public: child
                .get("public")
                .or_else(|| child.get("comment_public"))
                .and_then(Json::as_bool)
                .unwrap_or(false),
            author: child.get("author_id").and_then(id_text),
        }),
        "" => out.push(Change::Other("a child event without a type".into())),
        other => out.push(Change::Other(format!(
            "child event `{other}`: not a ticket change"
        ))),
    }
}

/// Reads audits from a page's `ticket_events` (incremental export) or `audits` (Ticket Audits).
fn audits_of(page: &Json, skipped: &mut BTreeMap<String, u64>, out: &mut Vec<Audit>) {
    let records = ["ticket_events", "audits"]
        .iter()
        .filter_map(|k| page.get(*k).and_then(Json::as_array))
        .flatten();
    for r in records {
        // Incremental-export metric events (`type: "measure"`, SLA `apply_sla`, …) carry no
        // ticket change.
        let children = r
            .get("child_events")
            .or_else(|| r.get("events"))
            .and_then(Json::as_array);
        let Some(children) = children else {
            let kind = r.get("type").and_then(Json::as_str).unwrap_or("untyped");
            *skipped
                .entry(format!("ticket event `{kind}` without child events"))
                .or_default() += 1;
            continue;
        };
        let ticket = r.get("ticket_id").and_then(id_text);
        let at = time_of(r.get("created_at")).or_else(|| time_of(r.get("timestamp")));
        let (Some(ticket), Some(at)) = (ticket, at) else {
            *skipped
                .entry("ticket event without a ticket_id or a time".into())
                .or_default() += 1;
            continue;
        };
        let mut audit = Audit {
            id: r.get("id").and_then(id_text).unwrap_or_default(),
            ticket,
            at,
            author: r
                .get("updater_id")
                .or_else(|| r.get("author_id"))
                .and_then(id_text),
            create: r.get("event_type").and_then(Json::as_str) == Some("Create"),
            changes: Vec::new(),
        };
        for c in children {
            changes_of(c, &mut audit.create, &mut audit.changes);
        }
        out.push(audit);
    }
}

/// The ticket state a webhook's `detail` shows, from export fields.
fn detail(
    state: &Map<String, Json>,
    ticket: &str,
    at: Timestamp,
    actor: Option<&str>,
    users: &HashMap<String, Json>,
) -> Json {
    let mut d = Map::new();
    d.insert("id".into(), Json::String(ticket.to_string()));
    for (field, name) in FIELDS {
        let v = state.get(*field).unwrap_or(&Json::Null);
        d.insert((*name).to_string(), webhook_value(field, v));
    }
    for k in ["created_at", "via", "is_public"] {
        d.insert(k.into(), state.get(k).cloned().unwrap_or(Json::Null));
    }
    if let Some(Json::Object(via)) = state.get("via") {
        d.insert(
            "via".into(),
            json!({ "channel": via.get("channel").cloned().unwrap_or(Json::Null) }),
        );
    }
    d.insert("updated_at".into(), Json::String(at.to_string()));
    d.insert("actor_id".into(), actor.map_or(Json::Null, |a| json!(a)));
    // Beyond the webhook's fields: the people behind the ids, from the `users` sideload
    // (docs/adapters.md, "History from Zendesk").
    for (id_field, name) in [("requester_id", "requester"), ("assignee_id", "assignee")] {
        let person = state
            .get(id_field)
            .and_then(id_text)
            .and_then(|id| users.get(&id).cloned());
        d.insert(name.into(), person.unwrap_or(Json::Null));
    }
    Json::Object(d)
}

/// Converts export pages (each a JSON object as the API returns it) into envelopes through
/// the webhook source `name`'s mapping.
pub fn convert(pages: &[Json], source: &Source, name: &str) -> Import {
    let mut import = Import::default();
    let mut finals: HashMap<String, Map<String, Json>> = HashMap::new();
    let mut audits = Vec::new();
    // The `users` sideload (`include=users`): ids → the person as the webhook cannot say it.
    let mut users: HashMap<String, Json> = HashMap::new();
    for page in pages {
        for u in page
            .get("users")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = u.get("id").and_then(id_text) {
                let person = json!({
                    "id": id,
                    "email": u.get("email").cloned().unwrap_or(Json::Null),
                    "name": u.get("name").cloned().unwrap_or(Json::Null),
                    "role": u.get("role").cloned().unwrap_or(Json::Null),
                });
                users.insert(id, person);
            }
        }
    }
    for page in pages {
        if let Some(tickets) = page.get("tickets").and_then(Json::as_array) {
            for t in tickets {
                import.tickets += 1;
                match (t.get("id").and_then(id_text), t.as_object()) {
                    // A later page holds a later state of the same ticket.
                    (Some(id), Some(obj)) => {
                        finals.insert(id, obj.clone());
                    }
                    _ => {
                        *import
                            .skipped
                            .entry("ticket without an id".into())
                            .or_default() += 1
                    }
                }
            }
        }
        audits_of(page, &mut import.skipped, &mut audits);
    }
    // Pages overlap at their edges: one audit once.
    audits.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
    audits.dedup_by(|a, b| a.id == b.id && !a.id.is_empty());
    import.audits = audits.len() as u64;

    let mut by_ticket: BTreeMap<&str, Vec<&Audit>> = BTreeMap::new();
    for a in &audits {
        by_ticket.entry(a.ticket.as_str()).or_default().push(a);
    }
    let mut out: Vec<(Timestamp, usize, Json)> = Vec::new();
    for (ticket, list) in by_ticket {
        let mut state = finals.get(ticket).cloned().unwrap_or_default();
        // Undo newest first, so `state` is the ticket before its first change in the export.
        for a in list.iter().rev() {
            for c in a.changes.iter().rev() {
                if let Change::Field {
                    field,
                    previous: Some(p),
                    ..
                } = c
                {
                    state.insert(field.clone(), p.clone());
                }
            }
        }
        for a in list {
            for c in &a.changes {
                if let Change::Field { field, value, .. } = c {
                    state.insert(field.clone(), value.clone());
                }
            }
            if a.create && !state.contains_key("created_at") {
                state.insert("created_at".into(), Json::String(a.at.to_string()));
            }
            let detail = detail(&state, ticket, a.at, a.author.as_deref(), &users);
            // (id suffix, webhook event kind, the `event` object)
            let mut payloads: Vec<(String, &str, Json)> = Vec::new();
            if a.create {
                payloads.push((String::new(), "created", json!({})));
            }
            let requester = state.get("requester_id").and_then(id_text);
            for c in &a.changes {
                match c {
                    Change::Field { .. } if a.create => {}
                    Change::Field {
                        id,
                        field,
                        value,
                        previous,
                    } => match event_type(field) {
                        Some(kind) => payloads.push((
                            format!("-{id}"),
                            kind,
                            json!({
                                "current": webhook_value(field, value),
                                "previous": previous
                                    .as_ref()
                                    .map_or(Json::Null, |p| webhook_value(field, p)),
                            }),
                        )),
                        None => {
                            *import
                                .skipped
                                .entry(format!("change of `{field}`: no ticket webhook carries it"))
                                .or_default() += 1
                        }
                    },
                    Change::Comment {
                        id,
                        body,
                        public,
                        author,
                    } => {
                        // Staff by the user's role when the export has it, else: anyone but
                        // the requester.
                        let role = author
                            .as_ref()
                            .and_then(|a| users.get(a))
                            .and_then(|u| u.get("role"))
                            .and_then(Json::as_str);
                        let staff = match role {
                            Some(r) => r == "agent" || r == "admin",
                            None => author.is_some() && author.as_deref() != requester.as_deref(),
                        };
                        payloads.push((
                            format!("-{id}"),
                            "comment_added",
                            json!({ "comment": {
                                "id": id, "body": body, "is_public": public,
                                "author": {
                                    "id": author,
                                    "is_staff": staff,
                                    "email": author.as_ref().and_then(|a| users.get(a)).and_then(|u| u.get("email")).cloned(),
                                    "name": author.as_ref().and_then(|a| users.get(a)).and_then(|u| u.get("name")).cloned(),
                                },
                            }}),
                        ));
                    }
                    Change::Other(reason) => {
                        *import.skipped.entry(reason.clone()).or_default() += 1
                    }
                }
            }
            for (suffix, kind, event) in payloads {
                let payload = json!({
                    "type": format!("zen:event-type:ticket.{kind}"),
                    "id": format!("export-{}{suffix}", a.id),
                    "time": a.at.to_string(),
                    "zendesk_event_version": "2022-11-06",
                    "subject": format!("zen:ticket:{ticket}"),
                    "detail": detail,
                    "event": event,
                });
                match source.envelope(name, &payload, a.at) {
                    Ok(env) => out.push((a.at, out.len(), env)),
                    Err(reason) => {
                        *import
                            .skipped
                            .entry(format!("ticket.{kind}: {reason}"))
                            .or_default() += 1
                    }
                }
            }
        }
    }
    out.sort_by_key(|e| (e.0, e.1));
    import.events = out.into_iter().map(|(_, _, e)| e).collect();
    import
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that maps every ticket event to one canonical event carrying what the
    /// payload said, so the tests see the synthesised payloads.
    fn echo() -> Source {
        toml::from_str(
            r#"
            vendor = "zendesk"
            secret = "x"
            [[map]]
            event = "Seen"
            id = "/id"
            case = "/detail/id"
            at = "/time"
            data = { kind = "/type", status = "/detail/status", tags = "/detail/tags", event = "/event" }
            "#,
        )
        .unwrap()
    }

    #[test]
    fn ticket_audits_rebuild_the_state_at_each_change() {
        // The Ticket Audits format (`audits`, `events`, `field_name`/`value`/`previous_value`),
        // the ticket first seen after it was created, and the same page read twice.
        let page = json!({
            "tickets": [{"id": 7, "status": "solved", "tags": ["b"]}],
            "audits": [
                {"id": 2, "ticket_id": 7, "created_at": "2026-03-02T10:00:00Z", "author_id": 5,
                 "events": [{"id": 21, "type": "Change", "field_name": "status",
                             "value": "pending", "previous_value": "open"}]},
                {"id": 3, "ticket_id": 7, "created_at": "2026-03-02T11:00:00Z", "author_id": 5,
                 "events": [{"id": 31, "type": "Change", "field_name": "status",
                             "value": "solved", "previous_value": "pending"},
                            {"id": 32, "type": "Change", "field_name": "tags",
                             "value": ["b"], "previous_value": ["a"]}]}
            ]
        });
        let import = convert(&[page.clone(), page], &echo(), "zd");
        assert_eq!(import.audits, 2, "overlapping pages: each audit once");
        let seen: Vec<(String, Json, Json)> = import
            .events
            .iter()
            .map(|e| {
                (
                    e["id"].as_str().unwrap().to_string(),
                    e["data"]["status"].clone(),
                    e["data"]["tags"].clone(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            vec![
                ("zd:export-2-21".into(), json!("PENDING"), json!(["a"])),
                ("zd:export-3-31".into(), json!("SOLVED"), json!(["b"])),
                ("zd:export-3-32".into(), json!("SOLVED"), json!(["b"])),
            ]
        );
        assert_eq!(
            import.events[0]["data"]["event"],
            json!({"current": "PENDING", "previous": "OPEN"})
        );
        assert_eq!(
            import.events[2]["data"]["kind"],
            json!("zen:event-type:ticket.tags_changed")
        );
    }

    #[test]
    fn records_that_map_to_nothing_are_counted_with_their_reason() {
        let page = json!({
            "ticket_events": [
                {"id": 1, "ticket_id": 7, "created_at": "2026-03-02T10:00:00Z",
                 "child_events": [{"id": 2, "event_type": "VoiceComment"}]},
                {"id": 3, "created_at": "2026-03-02T10:00:00Z", "child_events": []},
                {"id": 4, "ticket_id": 7, "time": "2026-03-02T10:00:00Z", "type": "measure"}
            ],
            "tickets": [{"subject": "no id"}]
        });
        let import = convert(&[page], &echo(), "zd");
        assert!(import.events.is_empty());
        let reasons: Vec<(&str, u64)> = import
            .skipped
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        assert_eq!(
            reasons,
            vec![
                ("child event `VoiceComment`: not a ticket change", 1),
                ("ticket event `measure` without child events", 1),
                ("ticket event without a ticket_id or a time", 1),
                ("ticket without an id", 1),
            ]
        );
    }
}
