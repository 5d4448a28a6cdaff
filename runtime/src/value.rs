//! Runtime values and their JSON wire encoding (brief §7.13).
//!
//! Money and decimals are exact (`rust_decimal`), never floats. Records are positional
//! (field order of the declaration), so field access is an index. Persons are stored lower
//! case: they compare case-insensitively.

use std::fmt::Write as _;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde_json::Value as Json;

use crate::ir::{BusinessUnit, Program, WireTy};

mod decode_error;
pub use decode_error::{DecodeError, PathStep, Problem};

#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    None,
    Bool(bool),
    Int(i64),
    Decimal(Decimal),
    Money(Decimal, [u8; 3]),
    Percent(Decimal),
    Duration(i64),
    Business(i64, BusinessUnit),
    Date(Date),
    TimeOfDay(u16),
    Time(Timestamp),
    Str(Arc<str>),
    Person(Arc<str>),
    Enum(u32, u32),
    Team(u32),
    Calendar(u32),
    List(Arc<[Value]>),
    Record(Arc<[Value]>),
}

impl Value {
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }
    pub fn person(s: &str) -> Value {
        Value::Person(Arc::from(s.to_lowercase().as_str()))
    }
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }
}

pub fn currency_str(c: &[u8; 3]) -> &str {
    std::str::from_utf8(c).unwrap_or("???")
}

/// `1h30m` style, the inverse of the duration literal.
pub fn format_duration(mut secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
        secs = -secs;
    }
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            let _ = write!(out, "{}{unit}", secs / size);
            secs %= size;
        }
    }
    out
}

pub fn parse_duration(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut num = String::new();
    let mut any = false;
    for ch in s.chars() {
        if ch.is_ascii_digit() {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        let n: i64 = num.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        num.clear();
        any = true;
    }
    (any && num.is_empty()).then_some(total)
}

fn parse_money(s: &str) -> Option<(Decimal, [u8; 3])> {
    let (amount, cur) = s.trim().rsplit_once(' ')?;
    let cur = cur.as_bytes();
    if cur.len() != 3 || !cur.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    Some((amount.trim().parse().ok()?, [cur[0], cur[1], cur[2]]))
}

fn decimal_from_json(v: &Json) -> Option<Decimal> {
    match v {
        Json::String(s) => s.trim().parse().ok(),
        // serde_json keeps the shortest text that round-trips; parse that text, not the f64.
        Json::Number(n) => n
            .to_string()
            .parse()
            .ok()
            .or_else(|| Decimal::from_scientific(&n.to_string()).ok()),
        _ => None,
    }
}

/// Decode a JSON value of a declared type. Errors say what was expected.
pub fn decode(program: &Program, ty: &WireTy, v: &Json) -> Result<Value, DecodeError> {
    let bad = |what: &str| {
        Err(DecodeError::new(Problem::Expected {
            what: what.to_string(),
            found: short(v),
        }))
    };
    match ty {
        WireTy::Optional(inner) => {
            if v.is_null() {
                Ok(Value::None)
            } else {
                decode(program, inner, v)
            }
        }
        _ if v.is_null() => bad("a value"),
        WireTy::Bool => v
            .as_bool()
            .map(Value::Bool)
            .map_or_else(|| bad("true or false"), Ok),
        WireTy::Int => v
            .as_i64()
            .map(Value::Int)
            .map_or_else(|| bad("a whole number"), Ok),
        WireTy::Decimal => decimal_from_json(v)
            .map(Value::Decimal)
            .map_or_else(|| bad("a decimal such as \"0.85\""), Ok),
        WireTy::Money => match v.as_str().and_then(parse_money) {
            Some((a, c)) => Ok(Value::Money(a, c)),
            None => bad("money such as \"250.00 USD\""),
        },
        WireTy::Percent => match v
            .as_str()
            .and_then(|s| s.trim().strip_suffix('%'))
            .and_then(|s| s.trim().parse().ok())
        {
            Some(p) => Ok(Value::Percent(p)),
            None => bad("a percentage such as \"85%\""),
        },
        WireTy::Duration => match v.as_str().and_then(parse_duration) {
            Some(d) => Ok(Value::Duration(d)),
            None => bad("a duration such as \"1h30m\""),
        },
        WireTy::BusinessDuration => {
            let parsed = v.as_str().and_then(|s| {
                let mut parts = s.split_whitespace();
                let n: i64 = parts.next()?.parse().ok()?;
                (parts.next()? == "business").then_some(())?;
                let unit = match parts.next()?.trim_end_matches('s') {
                    "minute" => BusinessUnit::Minutes,
                    "hour" => BusinessUnit::Hours,
                    "day" => BusinessUnit::Days,
                    _ => return None,
                };
                Some(Value::Business(n, unit))
            });
            parsed.map_or_else(
                || bad("a business duration such as \"4 business hours\""),
                Ok,
            )
        }
        WireTy::Date => match v.as_str().and_then(|s| s.parse::<Date>().ok()) {
            Some(d) => Ok(Value::Date(d)),
            None => bad("a date such as \"2026-12-25\""),
        },
        WireTy::TimeOfDay => {
            let parsed = v.as_str().and_then(|s| {
                let (h, m) = s.split_once(':')?;
                let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
                (h < 24 && m < 60).then_some(h * 60 + m)
            });
            parsed
                .map(Value::TimeOfDay)
                .map_or_else(|| bad("a time of day such as \"09:00\""), Ok)
        }
        WireTy::Time => match v.as_str().and_then(|s| s.parse::<Timestamp>().ok()) {
            Some(t) => Ok(Value::Time(t)),
            None => bad("an RFC 3339 timestamp such as \"2026-03-02T10:00:00Z\""),
        },
        WireTy::String => v
            .as_str()
            .map(Value::str)
            .map_or_else(|| bad("a string"), Ok),
        WireTy::Person | WireTy::Assignee => match v.as_str() {
            Some(s) if WireTy::Assignee == *ty && program.teams.iter().any(|t| t.name == s) => Ok(
                Value::Team(program.teams.iter().position(|t| t.name == s).unwrap_or(0) as u32),
            ),
            Some(s) if s.contains('@') => Ok(Value::person(s)),
            _ => bad("a person (an e-mail address)"),
        },
        WireTy::Team => match v
            .as_str()
            .and_then(|s| program.teams.iter().position(|t| t.name == s))
        {
            Some(i) => Ok(Value::Team(i as u32)),
            None => bad("a team name"),
        },
        WireTy::Calendar => match v
            .as_str()
            .and_then(|s| program.calendars.iter().position(|c| c.name == s))
        {
            Some(i) => Ok(Value::Calendar(i as u32)),
            None => bad("a calendar name"),
        },
        WireTy::Enum(id) => {
            let e = &program.enums[*id as usize];
            match v
                .as_str()
                .and_then(|s| e.variants.iter().position(|x| x == s))
            {
                Some(i) => Ok(Value::Enum(*id, i as u32)),
                None => Err(DecodeError::new(Problem::NotAVariant {
                    enum_name: e.name.clone(),
                    variants: e.variants.clone(),
                    found: short(v),
                })),
            }
        }
        WireTy::List(elem) => match v.as_array() {
            Some(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(
                        decode(program, elem, item).map_err(|e| e.within(PathStep::Index(i)))?,
                    );
                }
                Ok(Value::List(out.into()))
            }
            None => bad("a list"),
        },
        WireTy::Record(id) => {
            let r = &program.records[*id as usize];
            let Some(obj) = v.as_object() else {
                return bad(&format!("a {} object", r.name));
            };
            decode_fields(program, &r.fields, obj).map(|vs| Value::Record(vs.into()))
        }
    }
}

/// Decode an object's fields in declaration order; unknown keys are an error.
pub fn decode_fields(
    program: &Program,
    fields: &[crate::ir::FieldDef],
    obj: &serde_json::Map<String, Json>,
) -> Result<Vec<Value>, DecodeError> {
    if let Some(k) = obj.keys().find(|k| !fields.iter().any(|f| f.name == **k)) {
        return Err(DecodeError::new(Problem::UnknownField {
            field: k.clone(),
            fields: fields.iter().map(|f| f.name.clone()).collect(),
        }));
    }
    let mut out = Vec::with_capacity(fields.len());
    for f in fields {
        let v = obj.get(&f.name).unwrap_or(&Json::Null);
        if v.is_null() && !matches!(f.ty, WireTy::Optional(_)) {
            return Err(DecodeError::new(Problem::MissingField(f.name.clone())));
        }
        out.push(decode(program, &f.ty, v).map_err(|e| e.within(PathStep::Field(f.name.clone())))?);
    }
    Ok(out)
}

fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

/// Encode a value as JSON (for the ledger and commands). Self-describing except records,
/// which are encoded as arrays unless `fields` names them.
pub fn encode(program: &Program, v: &Value) -> Json {
    match v {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Decimal(d) => Json::String(d.to_string()),
        Value::Money(a, c) => Json::String(format!("{:.2} {}", a, currency_str(c))),
        Value::Percent(p) => Json::String(format!("{}%", p.normalize())),
        Value::Duration(s) => Json::String(format_duration(*s)),
        Value::Business(n, u) => Json::String(format!(
            "{n} business {}",
            match u {
                BusinessUnit::Minutes => "minutes",
                BusinessUnit::Hours => "hours",
                BusinessUnit::Days => "days",
            }
        )),
        Value::Date(d) => Json::String(d.to_string()),
        Value::TimeOfDay(m) => Json::String(format!("{:02}:{:02}", m / 60, m % 60)),
        Value::Time(t) => Json::String(format_time(*t)),
        Value::Str(s) | Value::Person(s) => Json::String(s.to_string()),
        Value::Enum(e, i) => Json::String(
            program
                .enums
                .get(*e as usize)
                .and_then(|e| e.variants.get(*i as usize))
                .cloned()
                .unwrap_or_default(),
        ),
        Value::Team(t) => Json::String(
            program
                .teams
                .get(*t as usize)
                .map(|t| t.name.clone())
                .unwrap_or_default(),
        ),
        Value::Calendar(c) => Json::String(
            program
                .calendars
                .get(*c as usize)
                .map(|c| c.name.clone())
                .unwrap_or_default(),
        ),
        Value::List(items) | Value::Record(items) => {
            Json::Array(items.iter().map(|i| encode(program, i)).collect())
        }
    }
}

/// RFC 3339 at second precision, UTC.
pub fn format_time(t: Timestamp) -> String {
    let mut out = String::with_capacity(20);
    write_time(t, &mut out);
    out
}

/// [`format_time`] into a buffer. Years 0–9999 take a direct path (days to a civil date by
/// Howard Hinnant's algorithm); others go through jiff's `strftime`, as they always did.
pub fn write_time(t: Timestamp, out: &mut String) {
    let secs = t.as_second();
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        let text = Timestamp::from_second(secs).map_or_else(
            |_| t.to_string(),
            |t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        );
        out.push_str(&text);
        return;
    }
    let (h, m, sec) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    let mut buf = *b"0000-00-00T00:00:00Z";
    let mut put = |at: usize, v: i64, width: usize| {
        let mut v = v;
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, h, 2);
    put(14, m, 2);
    put(17, sec, 2);
    out.push_str(std::str::from_utf8(&buf).unwrap_or("1970-01-01T00:00:00Z"));
}

/// The canonical JSON of a value for hashing (rollout buckets): keys sorted, no spaces.
pub fn canonical_json(program: &Program, values: &[Value]) -> String {
    let j = if values.len() == 1 {
        encode(program, &values[0])
    } else {
        Json::Array(values.iter().map(|v| encode(program, v)).collect())
    };
    j.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoding error says where (outermost first) and what, typed; its text is the one
    /// `rejected` entries have always had.
    #[test]
    fn decode_errors_carry_their_path() {
        let program = Program::default();
        let fields = [crate::ir::FieldDef {
            name: "tags".into(),
            ty: WireTy::List(Box::new(WireTy::String)),
        }];
        let data = serde_json::json!({ "tags": ["a", 7] });
        let e = decode_fields(&program, &fields, data.as_object().unwrap()).unwrap_err();
        assert_eq!(e.path, [PathStep::Field("tags".into()), PathStep::Index(1)]);
        assert_eq!(
            e.problem,
            Problem::Expected {
                what: "a string".into(),
                found: "7".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "field `tags`: [1]: expected a string, found 7"
        );
        let empty = serde_json::Map::new();
        let e = decode_fields(&program, &fields, &empty).unwrap_err();
        assert_eq!(e.to_string(), "missing field `tags`");
    }

    proptest::proptest! {
        /// The direct formatter agrees with jiff's `strftime` over jiff's whole range.
        #[test]
        fn times_format_as_jiff_does(secs in -377_705_116_800i64..=253_402_207_200i64) {
            let t = Timestamp::from_second(secs).unwrap();
            proptest::prop_assert_eq!(
                format_time(t),
                t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(format_duration(5400), "1h30m");
        assert_eq!(parse_duration("2d"), Some(172_800));
        assert_eq!(parse_duration("h"), None);
        assert_eq!(parse_duration("5"), None);
    }

    #[test]
    fn money_is_exact() {
        assert_eq!(
            parse_money("250.00 USD"),
            Some((Decimal::new(25000, 2), *b"USD"))
        );
        assert_eq!(parse_money("250 usd"), None);
        let n: Json = serde_json::from_str("0.1").unwrap();
        assert_eq!(decimal_from_json(&n), Some(Decimal::new(1, 1)));
    }
}
