//! The generic HTTP connector's action mapping (docs/connectors.md, "Generic HTTP"): an
//! action of a `vendor = "http"` connector can be mapped to a method, a URL template and a
//! JSON body template over the command — `{args.NAME}`, `{key}`, `{case}`, `{automation}`,
//! `{step}` — so a small internal API needs no code. The step's key is still sent as
//! `Idempotency-Key`, and the answer is classified as for every HTTP connector
//! (docs/deploy.md, "What is retried").

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::transport::{self, Attempt, Deliver, Delivered, Policy};

/// `[connectors.NAME.actions.ACTION]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionMap {
    /// `POST` (default), `PUT` or `GET` (no body).
    #[serde(default = "default_method")]
    pub method: String,
    /// The URL; placeholders in it are percent-encoded.
    pub url: String,
    /// The JSON body: a string that is one placeholder takes the value as it is (a number
    /// stays a number); placeholders inside longer strings are replaced by their text.
    #[serde(default)]
    pub body: Option<toml::Value>,
}

fn default_method() -> String {
    "POST".into()
}

pub struct Mapped {
    pub actions: BTreeMap<String, ActionMap>,
    /// Extra headers (`env:VAR` values read at send time).
    pub headers: BTreeMap<String, String>,
    /// Actions without a mapping: Meshline's command JSON POSTed to `url`, when set.
    pub fallback: Option<crate::http_connector::Client>,
    pub agent: ureq::Agent,
    pub policy: Policy,
    pub timeout_ms: u64,
}

impl ActionMap {
    pub fn check(&self, action: &str) -> Result<(), String> {
        if !matches!(self.method.as_str(), "GET" | "POST" | "PUT") {
            return Err(format!(
                "actions.{action}: method {:?} is not GET, POST or PUT",
                self.method
            ));
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(format!(
                "actions.{action}: url {:?} is not an http:// or https:// URL",
                self.url
            ));
        }
        Ok(())
    }
}

/// The value a placeholder names in the command, or None.
fn lookup<'a>(cmd: &'a Json, name: &str) -> Option<&'a Json> {
    match name.strip_prefix("args.") {
        Some(arg) => cmd["args"].get(arg),
        None if matches!(name, "key" | "case" | "automation" | "step") => cmd.get(name),
        None => None,
    }
}

fn as_text(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replace every `{NAME}` in `template`; `encode` percent-encodes the values (URLs).
pub fn fill(template: &str, cmd: &Json, encode: bool) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("unclosed placeholder in {template:?}"))?;
        let name = &after[..close];
        let value = lookup(cmd, name)
            .filter(|v| !v.is_null())
            .ok_or_else(|| format!("the command has no {name} for {template:?}"))?;
        let text = as_text(value);
        if encode {
            out.extend(
                form_urlencoded::byte_serialize(text.as_bytes()).map(|s| s.replace('+', "%20")),
            );
        } else {
            out.push_str(&text);
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The JSON a body template builds from the command.
pub fn body(template: &toml::Value, cmd: &Json) -> Result<Json, String> {
    Ok(match template {
        toml::Value::String(s) => {
            let whole = s
                .strip_prefix('{')
                .and_then(|r| r.strip_suffix('}'))
                .filter(|n| !n.contains(['{', '}']));
            match whole.and_then(|n| lookup(cmd, n)) {
                Some(v) => v.clone(),
                None => Json::String(fill(s, cmd, false)?),
            }
        }
        toml::Value::Table(t) => Json::Object(
            t.iter()
                .map(|(k, v)| Ok((k.clone(), body(v, cmd)?)))
                .collect::<Result<Map<_, _>, String>>()?,
        ),
        toml::Value::Array(a) => {
            Json::Array(a.iter().map(|v| body(v, cmd)).collect::<Result<_, _>>()?)
        }
        other => crate::mapping::literal(other),
    })
}

impl Deliver for Mapped {
    fn attempt(&self, cmd: &Json, line: &str) -> Delivered {
        let action = cmd["action"].as_str().unwrap_or_default();
        let Some(map) = self.actions.get(action) else {
            return match &self.fallback {
                Some(c) => c.attempt(cmd, line),
                None => Attempt::Refused(format!(
                    "no mapping for action `{action}` and no `url` (docs/connectors.md)"
                ))
                .into(),
            };
        };
        let url = match fill(&map.url, cmd, true) {
            Ok(u) => u,
            Err(e) => return Attempt::Refused(e).into(),
        };
        let payload = match map.body.as_ref().map(|b| body(b, cmd)).transpose() {
            Ok(b) => b,
            Err(e) => return Attempt::Refused(e).into(),
        };
        let mut headers = vec![(
            "Idempotency-Key",
            cmd["key"].as_str().unwrap_or_default().to_string(),
        )];
        for (k, v) in &self.headers {
            let value = match v.strip_prefix("env:") {
                Some(var) => match std::env::var(var) {
                    Ok(x) => x,
                    Err(_) => {
                        return Attempt::Refused(format!("header {k}: {var} is not set")).into();
                    }
                },
                None => v.clone(),
            };
            headers.push((k.as_str(), value));
        }
        let body = payload.map(|p| ("application/json", p.to_string()));
        match transport::call(
            &self.agent,
            &map.method,
            &url,
            &headers,
            body,
            &[],
            self.timeout_ms,
        ) {
            Ok(r) => {
                let a = transport::status(r.status);
                match a {
                    Attempt::Retry(reason) => transport::retry(&r, reason).into(),
                    other => other.into(),
                }
            }
            Err(a) => a.into(),
        }
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_fill_from_the_command() {
        let cmd = json!({ "key": "k1", "case": "T 1", "step": 0,
                          "args": { "customer": "c/9", "amount": "12.50 EUR", "n": 3 } });
        assert_eq!(
            fill(
                "https://x/api/customers/{args.customer}/credits?case={case}",
                &cmd,
                true
            )
            .unwrap(),
            "https://x/api/customers/c%2F9/credits?case=T%201"
        );
        let t: toml::Table = toml::from_str(
            r#"b = { customer = "{args.customer}", n = "{args.n}", note = "case {case}, step {step}", key = "{key}", fixed = 7, list = ["{args.n}"] }"#,
        )
        .unwrap();
        assert_eq!(
            body(&t["b"], &cmd).unwrap(),
            json!({ "customer": "c/9", "n": 3, "note": "case T 1, step 0", "key": "k1", "fixed": 7, "list": [3] })
        );
        assert!(fill("{args.missing}", &cmd, false).is_err());
        assert!(fill("{password}", &cmd, false).is_err());
        assert!(fill("{args.customer", &cmd, false).is_err());
    }
}
