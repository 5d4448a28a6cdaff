//! The replay format: what `meshline serve --export-events` writes and `meshline run` reads.
//!
//! One line per stored input, in the order applied. An event is its envelope line, as
//! stored. A wall-clock tick and a deployment are *control lines*, JSON objects with a
//! top-level `meshline` key:
//!
//! ```text
//! {"meshline":"tick","at":"2026-11-24T10:15:00Z"}     advance the clock (timers due fire)
//! {"meshline":"deploy","bundle":"<content hash>"}     the bundle with this hash decides from here
//!     (optionally with "note":{…}: what its `deployed` entry records besides from and to)
//! {"meshline":"event","line":"<envelope text>"}       apply this text as an event line
//! ```
//!
//! No envelope can carry a top-level `meshline` key (an unknown envelope key is rejected,
//! §6.1), so every line is one or the other. The `event` form exists for the stored lines
//! that could not be written as they are: a line that itself looks like a control line (an
//! envelope someone posted with a `meshline` key, which serve recorded as rejected), or one
//! that would not survive as one line. Replaying an export therefore applies exactly what
//! serve applied.

use jiff::Timestamp;
use serde_json::{Map, Value as Json};

use crate::store::{Deploy, Input};

/// A control line, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Control {
    /// Advance the clock to this instant (timers due by then fire).
    Tick(Timestamp),
    /// Deploy the bundle with this content hash (lower-case hex), with its note.
    Deploy(Deploy),
    /// Apply this text as an event line.
    Event(String),
}

/// `Ok(None)` for an ordinary line (an envelope, or anything else the engine will reject
/// and record); `Ok(Some(_))` for a control line; `Err` for a control line that is not
/// well-formed, with the reason.
pub fn control(line: &[u8]) -> Result<Option<Control>, String> {
    let Some(obj) = control_object(line) else {
        return Ok(None);
    };
    let kind = obj.get("meshline");
    let text = |key: &str| -> Result<&str, String> {
        obj.get(key)
            .and_then(Json::as_str)
            .ok_or_else(|| format!("`{key}` (a string) is missing"))
    };
    let only = |keys: &[&str]| -> Result<(), String> {
        match obj.keys().find(|k| !keys.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown key `{k}`")),
            None => Ok(()),
        }
    };
    let c = match kind.and_then(Json::as_str) {
        Some("tick") => {
            only(&["meshline", "at"])?;
            let at = text("at")?;
            let t = at
                .parse::<Timestamp>()
                .map_err(|e| format!("`at` is not an RFC 3339 timestamp: {e}"))?;
            Control::Tick(t)
        }
        Some("deploy") => {
            only(&["meshline", "bundle", "note"])?;
            let hash = text("bundle")?;
            if hash.is_empty()
                || hash.len() > 128
                || !hash
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(format!(
                    "`bundle` must be a content hash (lower-case hex), not {hash:?}"
                ));
            }
            let note = match obj.get("note") {
                None => Map::new(),
                Some(Json::Object(m)) => m.clone(),
                Some(_) => return Err("`note` must be an object".to_string()),
            };
            Control::Deploy(Deploy {
                hash: hash.to_string(),
                note,
            })
        }
        Some("event") => {
            only(&["meshline", "line"])?;
            Control::Event(text("line")?.to_string())
        }
        _ => {
            return Err(format!(
                "unknown control line {}: `meshline` must be \"tick\", \"deploy\" or \"event\"",
                kind.map_or_else(|| "null".to_string(), Json::to_string)
            ));
        }
    };
    Ok(Some(c))
}

/// The JSON object of a line with a top-level `meshline` key. Lines that cannot hold that
/// key are not parsed (`meshline run` reads millions of lines): those where the word is
/// absent and no `\u` escape could spell it. One pass over 8-byte windows finds both: an
/// escaped letter of the key is followed by at least 8 bytes (`\uXXXX`, the rest of the
/// key, `":`, a value, `}`).
fn control_object(line: &[u8]) -> Option<Map<String, Json>> {
    let may = line
        .windows(8)
        .any(|w| w == b"meshline" || (w[0] == b'\\' && w[1] == b'u'));
    if !may {
        return None;
    }
    match serde_json::from_slice::<Json>(line) {
        Ok(Json::Object(m)) if m.contains_key("meshline") => Some(m),
        _ => None,
    }
}

/// One stored input as a line of the replay format (no newline). Control lines start with
/// their `meshline` key, so they stand out when reading the file.
pub fn export_line(input: &Input) -> String {
    let (kind, key, value) = match input {
        Input::Event(line) if verbatim(line) => return line.clone(),
        Input::Event(line) => ("event", "line", line),
        Input::Tick(at) => ("tick", "at", at),
        Input::Bundle(d) if d.note.is_empty() => ("deploy", "bundle", &d.hash),
        Input::Bundle(d) => {
            return format!(
                r#"{{"meshline":"deploy","bundle":{},"note":{}}}"#,
                Json::String(d.hash.clone()),
                meshline_runtime::ledger::canonical_json(&Json::Object(d.note.clone()))
            );
        }
    };
    format!(
        r#"{{"meshline":"{kind}","{key}":{}}}"#,
        Json::String(value.clone())
    )
}

/// Whether `meshline run` reads `line` back as exactly this event line: one line, not
/// blank (blank lines are skipped), no trailing CR (stripped), and not a control line.
fn verbatim(line: &str) -> bool {
    !line.contains('\n')
        && !line.ends_with('\r')
        && !line.bytes().all(|b| b.is_ascii_whitespace())
        && control_object(line.as_bytes()).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn back(input: &Input) -> Input {
        let line = export_line(input);
        assert!(!line.contains('\n'), "{line:?}");
        match control(line.as_bytes()) {
            Ok(None) => Input::Event(line),
            Ok(Some(Control::Event(l))) => Input::Event(l),
            Ok(Some(Control::Tick(t))) => Input::Tick(t.to_string()),
            Ok(Some(Control::Deploy(h))) => Input::Bundle(h),
            Err(e) => panic!("{line}: {e}"),
        }
    }

    #[test]
    fn every_stored_input_comes_back() {
        let inputs = [
            Input::Event(r#"{"id":"e1","type":"T","at":"2026-01-01T00:00:00Z","case":"c"}"#.into()),
            Input::Event(r#"{"meshline":"tick","at":"2026-01-01T00:00:00Z"}"#.into()),
            Input::Event(r#"{"id":"x","\u006deshline":"deploy"}"#.into()),
            Input::Event(r#"{"meshlin\u0065":7}"#.into()),
            Input::Event(r#"{"id":"x","data":{"meshline":1}}"#.into()),
            Input::Event("not json, mentions meshline".into()),
            Input::Event("two\nlines".into()),
            Input::Event("ends in CR\r".into()),
            Input::Event("   ".into()),
            Input::Event("  {\"id\":1}".into()),
            Input::Tick("2026-11-24T10:15:00Z".into()),
            Input::Bundle(Deploy::bare(&"ab12".repeat(16))),
            Input::Bundle(Deploy {
                hash: "cd34".repeat(16),
                note: serde_json::json!({"by": "alice", "signer": {"name": "ops"}})
                    .as_object()
                    .cloned()
                    .unwrap(),
            }),
        ];
        for i in &inputs {
            assert_eq!(&back(i), i);
        }
        // Keys spelled with escapes are still the key: wrapped, not written as they are.
        for i in &inputs[1..4] {
            assert!(
                export_line(i).starts_with(r#"{"meshline":"event","#),
                "{i:?}"
            );
        }
        assert_eq!(
            export_line(&inputs[10]),
            r#"{"meshline":"tick","at":"2026-11-24T10:15:00Z"}"#
        );
        assert_eq!(
            export_line(&inputs[6]),
            r#"{"meshline":"event","line":"two\nlines"}"#
        );
        // Ordinary lines are written as they are.
        assert_eq!(
            export_line(&inputs[0]),
            r#"{"id":"e1","type":"T","at":"2026-01-01T00:00:00Z","case":"c"}"#
        );
        assert_eq!(
            export_line(&inputs[4]),
            r#"{"id":"x","data":{"meshline":1}}"#
        );
    }

    #[test]
    fn malformed_control_lines_say_why() {
        let cases = [
            (
                r#"{"meshline":"rewind"}"#,
                "unknown control line \"rewind\"",
            ),
            (r#"{"meshline":7}"#, "unknown control line 7"),
            (r#"{"meshline":"tick"}"#, "`at` (a string) is missing"),
            (r#"{"meshline":"tick","at":"noon"}"#, "not an RFC 3339"),
            (
                r#"{"meshline":"tick","at":"2026-01-01T00:00:00Z","x":1}"#,
                "unknown key `x`",
            ),
            (
                r#"{"meshline":"deploy","bundle":"../../etc/passwd"}"#,
                "content hash",
            ),
            (r#"{"meshline":"deploy","bundle":""}"#, "content hash"),
            (
                r#"{"meshline":"deploy","bundle":"ab","note":"alice"}"#,
                "`note` must be an object",
            ),
            (r#"{"meshline":"event"}"#, "`line` (a string) is missing"),
        ];
        for (line, want) in cases {
            let e = control(line.as_bytes()).expect_err(line);
            assert!(e.contains(want), "{line}: {e}");
        }
        assert_eq!(control(b"\xff meshline \xfe"), Ok(None));
        assert_eq!(control(br#"["meshline"]"#), Ok(None));
    }
}
