//! The values of a webhook mapping's `data` (docs/adapters.md, "Mapping values"): shared by
//! `POST /webhooks/{source}` and `meshline import`, so history and live traffic go through
//! one mapping.

use serde_json::{Map, Value as Json, json};

/// The JSON a `data` entry builds from a payload:
/// - a string starting with `/` is a JSON pointer into the payload (absent → `null`);
/// - a string starting with `=` is the literal text after it; any other string is literal;
/// - a table with a `from` key is a lookup: the value at the pointer `from`, translated by
///   `map` (keyed by the value's text) when given; a value `map` lacks becomes `default`
///   when given, else stays as it is (so the event's declaration rejects it by name);
/// - any other table builds an object, an array a list, each entry mapped the same way;
/// - numbers, booleans and dates are literals.
pub fn value(payload: &Json, spec: &toml::Value) -> Json {
    match spec {
        toml::Value::String(s) if s.starts_with('/') => {
            payload.pointer(s).cloned().unwrap_or(Json::Null)
        }
        toml::Value::String(s) => Json::String(s.strip_prefix('=').unwrap_or(s).to_string()),
        toml::Value::Table(t) => match t.get("from") {
            Some(from) => lookup(payload, from, t.get("map"), t.get("default")),
            None => Json::Object(
                t.iter()
                    .map(|(k, v)| (k.clone(), value(payload, v)))
                    .collect::<Map<_, _>>(),
            ),
        },
        toml::Value::Array(a) => Json::Array(a.iter().map(|v| value(payload, v)).collect()),
        other => literal(other),
    }
}

fn lookup(
    payload: &Json,
    from: &toml::Value,
    map: Option<&toml::Value>,
    default: Option<&toml::Value>,
) -> Json {
    let found = value(payload, from);
    let Some(toml::Value::Table(map)) = map else {
        return found;
    };
    let key = match &found {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match key.and_then(|k| map.get(&k)) {
        Some(to) => literal(to),
        None => default.map(literal).unwrap_or(found),
    }
}

/// A TOML value as JSON, as written (no pointers): `match` values and lookup results.
pub fn literal(v: &toml::Value) -> Json {
    match v {
        toml::Value::String(s) => Json::String(s.clone()),
        toml::Value::Integer(i) => json!(i),
        toml::Value::Float(f) => json!(f),
        toml::Value::Boolean(b) => json!(b),
        toml::Value::Datetime(d) => Json::String(d.to_string()),
        toml::Value::Array(a) => Json::Array(a.iter().map(literal).collect()),
        toml::Value::Table(t) => {
            Json::Object(t.iter().map(|(k, v)| (k.clone(), literal(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> toml::Value {
        let t: toml::Table = toml::from_str(&format!("v = {text}")).unwrap();
        t["v"].clone()
    }

    #[test]
    fn pointers_literals_and_nested_records() {
        let p = json!({"detail": {"id": "35436", "tags": ["vip"], "subject": "Refund"}});
        assert_eq!(value(&p, &spec(r#""/detail/id""#)), json!("35436"));
        assert_eq!(value(&p, &spec(r#""/detail/missing""#)), Json::Null);
        assert_eq!(
            value(&p, &spec(r#""=/not-a-pointer""#)),
            json!("/not-a-pointer")
        );
        assert_eq!(value(&p, &spec("3")), json!(3));
        assert_eq!(
            value(
                &p,
                &spec(r#"{ id = "/detail/id", tags = "/detail/tags", kind = "billing" }"#)
            ),
            json!({"id": "35436", "tags": ["vip"], "kind": "billing"})
        );
        assert_eq!(
            value(&p, &spec(r#"["/detail/id", "=x"]"#)),
            json!(["35436", "x"])
        );
    }

    #[test]
    fn lookups_translate_with_a_default_or_pass_the_value_through() {
        let p = json!({"detail": {"status": "HOLD", "priority": "LOW", "form_id": 360001}});
        let status =
            spec(r#"{ from = "/detail/status", map = { HOLD = "OnHold", OPEN = "Open" } }"#);
        assert_eq!(value(&p, &status), json!("OnHold"));
        // Numbers are looked up by their text.
        let form = spec(
            r#"{ from = "/detail/form_id", map = { "360001" = "billing" }, default = "general" }"#,
        );
        assert_eq!(value(&p, &form), json!("billing"));
        let other = json!({"detail": {"form_id": 7}});
        assert_eq!(value(&other, &form), json!("general"));
        // No entry and no default: the value as it came, for the declaration to reject.
        let prio = spec(r#"{ from = "/detail/priority", map = { HIGH = "High" } }"#);
        assert_eq!(value(&p, &prio), json!("LOW"));
        // A missing pointer with a default.
        let dflt = spec(r#"{ from = "/nope", map = {}, default = "Web" }"#);
        assert_eq!(value(&p, &dflt), json!("Web"));
    }
}
