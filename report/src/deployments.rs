//! The change history (`meshline report --deployments`, the console's deployments page):
//! every `deployed` ledger entry — when, from which bundle to which, who deployed, who
//! signed the bundle, its package, version and source hash (docs/deploy.md, "Change
//! history"). Entries written before `serve` recorded who deployed
//! have only `at`, `from` and `to`; the other fields are then empty.

use std::fmt::Write as _;
use std::io::BufRead;

use serde::Serialize;
use serde_json::Value as Json;

use crate::ReportError;

/// One deployment, as its `deployed` entry records it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Deployment {
    pub at: String,
    pub from: String,
    pub to: String,
    /// The admin token's name, or `--bundle at start`.
    pub by: Option<String>,
    /// The signer's name, key fingerprint and signing time, for a signed bundle.
    pub signer: Option<String>,
    pub key: Option<String>,
    pub signed_at: Option<String>,
    pub package: Option<String>,
    pub version: Option<String>,
    pub source_hash: Option<String>,
}

impl Deployment {
    /// The deployment a ledger entry records, if it is a `deployed` entry.
    pub fn from_entry(v: &Json) -> Option<Deployment> {
        if v.get("kind").and_then(Json::as_str) != Some("deployed") {
            return None;
        }
        let d = v.get("detail").unwrap_or(&Json::Null);
        let s = d.get("signer").unwrap_or(&Json::Null);
        let text = |x: &Json, k: &str| x.get(k).and_then(Json::as_str).map(str::to_string);
        Some(Deployment {
            at: text(v, "at").unwrap_or_default(),
            from: text(d, "from").unwrap_or_default(),
            to: text(d, "to").unwrap_or_default(),
            by: text(d, "by"),
            signer: text(s, "name"),
            key: text(s, "key"),
            signed_at: text(s, "signed_at"),
            package: text(d, "package"),
            version: text(d, "version"),
            source_hash: text(d, "source_hash"),
        })
    }
}

/// Every deployment in a ledger, in ledger order. Only lines naming the kind are parsed.
pub fn read<R: BufRead>(
    name: &str,
    input: R,
    into: &mut Vec<Deployment>,
) -> Result<(), ReportError> {
    crate::lines(name, input, |number, _, text| {
        if !text.contains("\"deployed\"") {
            return Ok(());
        }
        let v: Json = serde_json::from_str(text).map_err(|e| ReportError::Entry {
            file: name.to_string(),
            line: number,
            message: e.to_string(),
        })?;
        into.extend(Deployment::from_entry(&v));
        Ok(())
    })
}

fn or_dash(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("-")
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// A table, one deployment a line (hashes shortened to 12 digits).
pub fn text(list: &[Deployment]) -> String {
    if list.is_empty() {
        return "no deployments in these ledgers\n".to_string();
    }
    let mut out = String::from(
        "at                    by                  signer (key)                    version               from          to            source\n",
    );
    for d in list {
        let signer = match (&d.signer, &d.key) {
            (Some(s), Some(k)) => format!("{s} ({k})"),
            (Some(s), None) => s.clone(),
            _ => "unsigned".to_string(),
        };
        let version = match (&d.package, &d.version) {
            (Some(p), Some(v)) => format!("{p} {v}"),
            _ => "-".to_string(),
        };
        let _ = writeln!(
            out,
            "{:<21} {:<19} {:<31} {:<21} {:<13} {:<13} {}",
            d.at,
            or_dash(&d.by),
            signer,
            version,
            short(&d.from),
            short(&d.to),
            d.source_hash.as_deref().map_or("-", short)
        );
    }
    out
}

/// A JSON array of the deployments, every field (hashes in full).
pub fn json(list: &[Deployment]) -> String {
    let mut s = serde_json::to_string_pretty(list).unwrap_or_else(|_| "[]".to_string());
    s.push('\n');
    s
}

/// CSV with a header row, every field (hashes in full).
pub fn csv(list: &[Deployment]) -> String {
    let mut out = String::from("at,by,signer,key,signed_at,package,version,from,to,source_hash\n");
    let cell = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    };
    for d in list {
        let fields = [
            d.at.as_str(),
            d.by.as_deref().unwrap_or(""),
            d.signer.as_deref().unwrap_or(""),
            d.key.as_deref().unwrap_or(""),
            d.signed_at.as_deref().unwrap_or(""),
            d.package.as_deref().unwrap_or(""),
            d.version.as_deref().unwrap_or(""),
            d.from.as_str(),
            d.to.as_str(),
            d.source_hash.as_deref().unwrap_or(""),
        ];
        let row: Vec<String> = fields.iter().map(|f| cell(f)).collect();
        let _ = writeln!(out, "{}", row.join(","));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deployed_entries_old_and_new_are_listed() {
        let ledger = concat!(
            r#"{"seq":1,"at":"2026-01-01T00:00:00Z","case":"c","kind":"received","detail":{"type":"deployed"},"bundle":"a","prev":"","hash":""}"#,
            "\n",
            r#"{"seq":2,"at":"2026-01-02T00:00:00Z","case":null,"kind":"deployed","detail":{"from":"aaaaaaaaaaaaaaaa","to":"bbbbbbbbbbbbbbbb"},"bundle":"b","prev":"","hash":""}"#,
            "\n",
            r#"{"seq":3,"at":"2026-01-03T00:00:00Z","case":null,"kind":"deployed","detail":{"from":"bbbbbbbbbbbbbbbb","to":"cccccccccccccccc","by":"ops","package":"agency","version":"1.4.1","source_hash":"dddddddddddddddd","signer":{"name":"bob","key":"0123456789abcdef","signed_at":"2026-01-02T12:00:00Z"}},"bundle":"c","prev":"","hash":""}"#,
            "\n"
        );
        let mut list = Vec::new();
        read("l", ledger.as_bytes(), &mut list).unwrap();
        assert_eq!(
            list.len(),
            2,
            "a received event of type `deployed` is not one"
        );
        assert_eq!(list[0].by, None);
        assert_eq!(list[1].by.as_deref(), Some("ops"));
        assert_eq!(list[1].signer.as_deref(), Some("bob"));
        let t = text(&list);
        assert!(t.lines().nth(1).unwrap().contains(" -  "), "{t}");
        assert!(t.contains("unsigned"), "{t}");
        assert!(t.contains("bob (0123456789abcdef)"), "{t}");
        assert!(t.contains("agency 1.4.1"), "{t}");
        let c = csv(&list);
        assert!(
            c.lines()
                .nth(2)
                .unwrap()
                .starts_with("2026-01-03T00:00:00Z,ops,bob,"),
            "{c}"
        );
        assert!(json(&list).contains("\"signed_at\": \"2026-01-02T12:00:00Z\""));
        assert!(read("l", &b"{\"kind\":\"deployed\""[..], &mut list).is_err());
    }
}
