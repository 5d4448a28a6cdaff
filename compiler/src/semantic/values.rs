//! Checks on literal values that the grammar accepts by shape only: calendars (time zones,
//! day names, opening intervals, holidays), dates, times of day, timestamps, regular
//! expressions, persons and ISO 4217 currency codes (spec §2, §3.3, §7.1, §7.3, §7.14).
//!
//! Time zones are looked up in the IANA database that jiff bundles into the binary, so a
//! check gives the same answer on every machine. The small `check_*` functions return a
//! one-line reason that callers put into their own diagnostics; [`check_calendar`] builds
//! the diagnostics for a whole `calendar` declaration (E0602–E0606, E0506).

use crate::diagnostics::{Code, Diagnostic, FileName};
use crate::source::Span;
use crate::syntax::ast::*;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const DAY_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];
#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];

/// A day name (`mon` … `sun`, or `monday` … `sunday`, lower case) as 0 = Monday … 6 = Sunday.
pub fn parse_day(name: &str) -> Option<u8> {
    let i = DAYS.iter().position(|d| *d == name);
    let i = i.or_else(|| DAY_NAMES.iter().position(|d| *d == name))?;
    u8::try_from(i).ok()
}

/// A real calendar date (leap years included).
pub(crate) fn check_date(d: &DateLit) -> Result<(), String> {
    let text = format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
    let bad = |why: String| Err(format!("{text} is not a date: {why}"));
    let (Ok(year), Ok(month)) = (i16::try_from(d.year), i8::try_from(d.month)) else {
        return bad("it is out of range".into());
    };
    if !(1..=12).contains(&month) {
        return bad(format!("there is no month {}", d.month));
    }
    let first = match jiff::civil::Date::new(year, month, 1) {
        Ok(first) => first,
        Err(_) => return bad(format!("year {} is out of range", d.year)),
    };
    let days = first.days_in_month();
    match i8::try_from(d.day) {
        Ok(day) if (1..=days).contains(&day) => Ok(()),
        _ if d.day == 0 => bad("there is no day 0".into()),
        _ => bad(format!(
            "{} {} has {days} days",
            MONTHS[month as usize - 1],
            d.year
        )),
    }
}

/// A time of day: `hh` < 24, `mm` < 60; `24:00` only when `allow_24` (the end of an interval).
pub(crate) fn check_time(t: &TimeLit, allow_24: bool) -> Result<(), String> {
    let text = format!("{:02}:{:02}", t.hour, t.minute);
    if t.hour == 24 && t.minute == 0 {
        return if allow_24 {
            Ok(())
        } else {
            Err(format!("{text} can only end an interval"))
        };
    }
    if t.minute >= 60 {
        return Err(format!("{text} is not a time of day: minutes go up to 59"));
    }
    if t.hour >= 24 {
        let also = if allow_24 {
            " (24:00 may end an interval)"
        } else {
            ""
        };
        return Err(format!(
            "{text} is not a time of day: hours go up to 23{also}"
        ));
    }
    Ok(())
}

/// An RFC 3339 timestamp with a `Z` or `±hh:mm` offset and at least second precision,
/// e.g. `2026-03-02T10:00:00Z` or `2026-03-02T11:00:00.250+01:00`.
pub(crate) fn check_timestamp(text: &str) -> Result<(), String> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let at = |i: usize, set: &[u8]| b.get(i).is_some_and(|c| set.contains(c));
    let shape_ok = digits(0..4) && at(4, b"-") && digits(5..7) && at(7, b"-") && digits(8..10);
    let time_ok = at(10, b"Tt") && digits(11..13) && at(13, b":") && digits(14..16);
    let example = "expected RFC 3339 such as 2026-03-02T10:00:00Z";
    if !shape_ok || !time_ok {
        return Err(format!("`{text}` is not a timestamp: {example}"));
    }
    if !(at(16, b":") && digits(17..19)) {
        return Err(format!(
            "`{text}` is not a timestamp: seconds are required ({example})"
        ));
    }
    let mut i = 19;
    if at(i, b".") {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            let why = if n == 0 {
                "digits must follow `.`"
            } else {
                "at most 9 fractional digits"
            };
            return Err(format!("`{text}` is not a timestamp: {why}"));
        }
        i += 1 + n;
    }
    let rest = &b[i..];
    let numeric = at(i, b"+-") && digits(i + 1..i + 3) && at(i + 3, b":") && digits(i + 4..i + 6);
    let offset_ok = matches!(rest, [b'Z' | b'z']) || (rest.len() == 6 && numeric);
    if !offset_ok {
        return Err(format!(
            "`{text}` is not a timestamp: it needs a `Z` or `±hh:mm` offset"
        ));
    }
    if rest.len() == 6 && (&text[i + 1..i + 3] > "23" || &text[i + 4..i + 6] > "59") {
        return Err(format!(
            "`{text}` is not a timestamp: offsets go from -23:59 to +23:59"
        ));
    }
    match text.parse::<jiff::Timestamp>() {
        Ok(_) => Ok(()),
        Err(e) => Err(format!(
            "`{text}` is not a timestamp: {}",
            one_line(&e.to_string())
        )),
    }
}

/// A regular expression as the runtime compiles it (the `regex` crate's syntax).
pub(crate) fn check_regex(pattern: &str) -> Result<(), String> {
    match regex::Regex::new(pattern) {
        Ok(_) => Ok(()),
        Err(regex::Error::Syntax(text)) => {
            let lines: Vec<&str> = text.lines().collect();
            let msg = lines.iter().rev().find_map(|l| l.strip_prefix("error: "));
            let msg = msg.map_or_else(|| one_line(&text), str::to_string);
            // For one-line patterns the formatter shows the pattern indented by 4 and a caret line.
            let caret = lines
                .iter()
                .find(|l| !l.trim().is_empty() && l.trim().chars().all(|c| c == '^'));
            match caret.map(|l| l.len() - l.trim_start().len()) {
                Some(col) if !pattern.contains('\n') && col >= 4 => {
                    Err(format!("{msg} (at character {})", col - 3))
                }
                _ => Err(msg),
            }
        }
        Err(regex::Error::CompiledTooBig(limit)) => Err(format!(
            "the pattern is too large once compiled (limit {limit} bytes)"
        )),
        Err(e) => Err(one_line(&e.to_string())),
    }
}

/// An e-mail-like identity: `local@domain`, one `@`, a dot inside the domain, no spaces.
pub fn is_person(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[],;:\"\\".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        let edge = l.starts_with('-') || l.ends_with('-');
        !l.is_empty() && !edge && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let domain_ok = labels.len() >= 2 && labels.iter().all(label_ok);
    local_ok && domain_ok
}

/// Active ISO 4217 codes (List One, 2025), less `XTS` (testing) and `XXX` (no currency);
/// `ANG` and `BGN` stay while they are being withdrawn (2025–2026). Sorted: binary-searched.
static CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUP", "CVE",
    "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
    "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD",
    "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK",
    "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO",
    "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON",
    "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD",
    "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES", "VND", "VUV",
    "WST", "XAF", "XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XCD", "XCG", "XDR", "XOF", "XPD",
    "XPF", "XPT", "XSU", "XUA", "YER", "ZAR", "ZMW", "ZWG",
];

/// Whether `code` is an active ISO 4217 currency code (upper case, as written in money).
pub fn is_currency(code: &str) -> bool {
    CURRENCIES.binary_search(&code).is_ok()
}

/// Check a `calendar` declaration: one valid time zone, valid days, times, intervals and
/// holidays, and at least one usable opening interval.
pub fn check_calendar(file: &FileName, cal: &CalendarDecl) -> Vec<Diagnostic> {
    let name = &cal.name.name;
    let mut out = Vec::new();
    let mut timezone: Option<&StrLit> = None;
    let (mut hours_lines, mut open) = (0, false);
    for clause in &cal.clauses {
        match clause {
            CalendarClause::Timezone(tz) => {
                if let Some(first) = timezone {
                    let msg = format!("calendar `{name}` has more than one `timezone` clause");
                    let d = Diagnostic::new(Code::DuplicateClause, file, tz.span, msg, "second");
                    let d = d.with_label(file, first.span, "first given here");
                    out.push(d.with_help("keep a single `timezone` line"));
                    continue;
                }
                timezone = Some(tz);
                out.extend(check_timezone(file, tz));
            }
            CalendarClause::Hours(h) => {
                hours_lines += 1;
                check_days(file, &h.days, &mut out);
                open |= check_interval(file, h, &mut out);
            }
            CalendarClause::Holidays(list) => list.iter().for_each(|h| holiday(file, h, &mut out)),
        }
    }
    if timezone.is_none() {
        let msg = format!("calendar `{name}` has no timezone");
        let d = Diagnostic::new(
            Code::InvalidTimezone,
            file,
            cal.name.span,
            msg,
            "needs a time zone",
        );
        out.push(d.with_help("add a line such as `timezone \"Europe/London\"` (an IANA name)"));
    }
    if !open {
        let msg = format!("calendar `{name}` has no open hours");
        let help =
            "add a line such as `hours mon-fri 09:00-17:00` (`std.calendars.always` is 24×7)";
        let mut d = Diagnostic::new(Code::NoOpenHours, file, cal.name.span, msg, "never open");
        d = d.with_help(help);
        if hours_lines > 0 {
            d = d.with_note("every `hours` interval of this calendar is invalid or empty");
        }
        out.push(d);
    }
    out
}

/// E0602 unless `tz` names a zone of the bundled IANA database, spelled exactly.
fn check_timezone(file: &FileName, tz: &StrLit) -> Option<Diagnostic> {
    let found = jiff::tz::db().get(&tz.value).ok();
    let canonical = found
        .as_ref()
        .and_then(|z| z.iana_name())
        .map(str::to_string);
    if canonical.as_deref() == Some(tz.value.as_str()) {
        return None;
    }
    let msg = format!("unknown time zone `{}`", tz.value);
    let d = Diagnostic::new(
        Code::InvalidTimezone,
        file,
        tz.span,
        msg,
        "not an IANA time zone name",
    );
    Some(match canonical.or_else(|| closest_timezone(&tz.value)) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help("use an IANA name such as `Europe/London` or `America/New_York`"),
    })
}

/// The IANA name closest to `name` (case-insensitively, spaces read as `_`); a name without
/// `/` is also compared with the city part (`london` → `Europe/London`).
fn closest_timezone(name: &str) -> Option<String> {
    let wanted = name.trim().replace(' ', "_").to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    let limit = (wanted.chars().count() / 4).clamp(1, 3);
    let mut best: Option<(usize, String)> = None;
    for zone in jiff::tz::db().available() {
        let zone = zone.as_str();
        let lower = zone.to_lowercase();
        let mut dist = edit_distance(&wanted, &lower);
        if !wanted.contains('/') {
            let city = lower.rsplit('/').next().unwrap_or(&lower);
            dist = dist.min(edit_distance(&wanted, city));
        }
        if dist <= limit && best.as_ref().is_none_or(|(d, _)| dist < *d) {
            best = Some((dist, zone.to_string()));
        }
    }
    best.map(|(_, zone)| zone)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = cur;
        }
    }
    row[b.len()]
}

/// E0606 for each unknown day name. Ranges may wrap around the week (`fri-mon`).
fn check_days(file: &FileName, days: &[DaySpec], out: &mut Vec<Diagnostic>) {
    for day in days
        .iter()
        .flat_map(|d| std::iter::once(&d.first).chain(d.last.as_ref()))
    {
        if parse_day(&day.name).is_none() {
            let lower = day.name.to_lowercase();
            let msg = format!("unknown day `{}`", day.name);
            let d = Diagnostic::new(Code::InvalidDay, file, day.span, msg, "not a day name");
            out.push(match parse_day(&lower) {
                Some(_) => d.with_help(format!("day names are lower case: `{lower}`")),
                None => d.with_help("days are mon tue wed thu fri sat sun (or monday … sunday)"),
            });
        }
    }
}

/// E0604 for invalid times or an empty interval; true when the interval opens the calendar.
fn check_interval(file: &FileName, h: &HoursClause, out: &mut Vec<Diagnostic>) -> bool {
    let mut ok = true;
    for (t, allow_24) in [(&h.from, false), (&h.to, true)] {
        if let Err(why) = check_time(t, allow_24) {
            let mut d =
                Diagnostic::new(Code::InvalidTime, file, t.span, why, "invalid time of day");
            if t.hour == 24 && t.minute == 0 {
                d = d.with_help("a day starts at 00:00; 24:00 is only the end of one");
            }
            out.push(d);
            ok = false;
        }
    }
    if ok && (h.from.hour, h.from.minute) == (h.to.hour, h.to.minute) {
        let text = format!("{:02}:{:02}", h.from.hour, h.from.minute);
        let msg = format!("empty interval {text}-{text}");
        let d = Diagnostic::new(
            Code::InvalidTime,
            file,
            interval_span(h),
            msg,
            "starts and ends here",
        );
        out.push(d.with_help("for the whole day write `00:00-24:00`"));
        ok = false;
    }
    ok
}

fn interval_span(h: &HoursClause) -> Span {
    h.from.span.to(h.to.span)
}

/// E0603 for an invalid holiday date, a reversed range or an impossible yearly date.
fn holiday(file: &FileName, h: &Holiday, out: &mut Vec<Diagnostic>) {
    let mut date = |d: &DateLit| match check_date(d) {
        Ok(()) => true,
        Err(why) => {
            out.push(Diagnostic::new(
                Code::InvalidDate,
                file,
                d.span,
                why,
                "not a date",
            ));
            false
        }
    };
    match h {
        Holiday::Date(d) => {
            date(d);
        }
        Holiday::Range(a, b) => {
            let (a_ok, b_ok) = (date(a), date(b));
            if a_ok && b_ok && (b.year, b.month, b.day) < (a.year, a.month, a.day) {
                let show = |d: &DateLit| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day);
                let (a, b, span) = (show(a), show(b), a.span.to(b.span));
                let (msg, label) = ("holiday range ends before it starts", format!("{b} < {a}"));
                let d = Diagnostic::new(Code::InvalidDate, file, span, msg, label);
                out.push(d.with_help(format!("write the earlier date first: `{b}..{a}`")));
            }
        }
        Holiday::Yearly { month, day, span } => {
            let text = format!("{month:02}-{day:02}");
            // Any leap year: `every 02-29` is allowed (it applies in leap years).
            let leap = DateLit {
                year: 2000,
                month: *month,
                day: *day,
                span: *span,
            };
            let why = match check_date(&leap) {
                Ok(()) => return,
                Err(_) if !(1..=12).contains(month) => format!("there is no month {month}"),
                Err(_) if *day == 0 => "there is no day 0".to_string(),
                Err(_) => {
                    let most = jiff::civil::date(2000, *month as i8, 1).days_in_month();
                    format!("{} has at most {most} days", MONTHS[*month as usize - 1])
                }
            };
            let msg = format!("`every {text}` is not a day of the year: {why}");
            out.push(Diagnostic::new(
                Code::InvalidDate,
                file,
                *span,
                msg,
                "not a month and day",
            ));
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> FileName {
        FileName::from("rules/cal.mesh")
    }
    fn sp(n: usize) -> Span {
        Span::new(n, n + 1)
    }
    fn id(name: &str) -> Ident {
        Ident {
            name: name.into(),
            span: sp(0),
        }
    }
    fn time(hour: u32, minute: u32) -> TimeLit {
        TimeLit {
            hour,
            minute,
            span: sp(20),
        }
    }
    fn date(year: i32, month: u32, day: u32) -> DateLit {
        DateLit {
            year,
            month,
            day,
            span: sp(30),
        }
    }
    fn hours(first: &str, last: Option<&str>, from: (u32, u32), to: (u32, u32)) -> CalendarClause {
        let days = vec![DaySpec {
            first: id(first),
            last: last.map(id),
            span: sp(10),
        }];
        let (from, to) = (time(from.0, from.1), time(to.0, to.1));
        CalendarClause::Hours(HoursClause {
            days,
            from,
            to,
            span: sp(10),
        })
    }
    fn mon() -> CalendarClause {
        hours("mon", None, (9, 0), (17, 0))
    }
    fn tz(name: &str) -> CalendarClause {
        CalendarClause::Timezone(StrLit {
            value: name.into(),
            span: sp(5),
        })
    }
    fn diags(clauses: Vec<CalendarClause>) -> Vec<Diagnostic> {
        check_calendar(
            &file(),
            &CalendarDecl {
                name: id("london"),
                clauses,
            },
        )
    }
    fn codes(clauses: Vec<CalendarClause>) -> Vec<Code> {
        diags(clauses).iter().map(|d| d.code).collect()
    }

    #[test]
    fn valid_calendar_has_no_diagnostics() {
        let c = vec![
            tz("Europe/London"),
            hours("mon", Some("fri"), (9, 0), (17, 30)),
            hours("sat", None, (0, 0), (24, 0)),
            CalendarClause::Holidays(vec![
                Holiday::Date(date(2026, 12, 25)),
                Holiday::Range(date(2026, 7, 8), date(2026, 9, 1)),
                Holiday::Yearly {
                    month: 2,
                    day: 29,
                    span: sp(40),
                },
            ]),
        ];
        assert_eq!(codes(c), vec![]);
        for zone in [
            "America/Sao_Paulo",
            "Asia/Tehran",
            "UTC",
            "Etc/UTC",
            "America/New_York",
        ] {
            assert_eq!(codes(vec![tz(zone), mon()]), vec![], "{zone}");
        }
    }

    #[test]
    fn timezones() {
        let d = diags(vec![tz("Europe/Londn"), mon()]);
        assert_eq!(
            (d.len(), d[0].code, d[0].primary.span),
            (1, Code::InvalidTimezone, sp(5))
        );
        assert_eq!(d[0].help.as_deref(), Some("did you mean `Europe/London`?"));
        let help = |name: &str| {
            let d = check_timezone(
                &file(),
                &StrLit {
                    value: name.into(),
                    span: sp(5),
                },
            );
            d.map(|d| d.help.unwrap_or_default())
        };
        assert_eq!(
            help("europe/london").as_deref(),
            Some("did you mean `Europe/London`?")
        );
        assert_eq!(
            help("Sao Paulo").as_deref(),
            Some("did you mean `America/Sao_Paulo`?")
        );
        assert!(help("Mars/Olympus_Mons").is_some_and(|h| h.starts_with("use an IANA name")));
        assert!(help("Etc/Unknown").is_some() && help("").is_some());
        // Missing and repeated timezone clauses.
        let missing = diags(vec![mon()]);
        assert_eq!(missing[0].message, "calendar `london` has no timezone");
        assert_eq!((missing.len(), missing[0].primary.span), (1, sp(0)));
        assert_eq!(
            codes(vec![tz("UTC"), tz("Europe/Paris"), mon()]),
            vec![Code::DuplicateClause]
        );
    }

    #[test]
    fn days() {
        assert_eq!(
            (parse_day("mon"), parse_day("sunday"), parse_day("Mon")),
            (Some(0), Some(6), None)
        );
        assert_eq!(
            codes(vec![tz("UTC"), hours("fri", Some("mon"), (9, 0), (17, 0))]),
            vec![]
        );
        let full = hours("friday", Some("monday"), (9, 0), (17, 0));
        assert_eq!(codes(vec![tz("UTC"), full]), vec![]);
        let d = diags(vec![tz("UTC"), hours("mun", Some("Fri"), (9, 0), (17, 0))]);
        let helps: Vec<_> = d
            .iter()
            .map(|d| (d.code, d.help.clone().unwrap_or_default()))
            .collect();
        assert_eq!(helps.len(), 2);
        assert!(helps[0].0 == Code::InvalidDay && helps[0].1.contains("mon tue wed"));
        assert_eq!(
            helps[1],
            (
                Code::InvalidDay,
                "day names are lower case: `fri`".to_string()
            )
        );
    }

    #[test]
    fn times_and_intervals() {
        assert!(check_time(&time(23, 59), false).is_ok() && check_time(&time(24, 0), true).is_ok());
        assert_eq!(
            check_time(&time(24, 0), false),
            Err("24:00 can only end an interval".into())
        );
        assert!(check_time(&time(24, 1), true).is_err() && check_time(&time(25, 0), true).is_err());
        let err = check_time(&time(9, 60), false).unwrap_err();
        assert_eq!(err, "09:60 is not a time of day: minutes go up to 59");
        // Crossing midnight is fine; 24:00 at the start, an empty interval and bad times are not.
        assert_eq!(
            codes(vec![tz("UTC"), hours("mon", None, (22, 0), (6, 0))]),
            vec![]
        );
        let start24 = codes(vec![tz("UTC"), hours("mon", None, (24, 0), (6, 0))]);
        assert_eq!(start24, vec![Code::InvalidTime, Code::NoOpenHours]);
        let empty = diags(vec![tz("UTC"), hours("mon", None, (9, 0), (9, 0))]);
        assert_eq!(empty[0].message, "empty interval 09:00-09:00");
        let empty: Vec<_> = empty.iter().map(|d| d.code).collect();
        assert_eq!(empty, vec![Code::InvalidTime, Code::NoOpenHours]);
        let mixed = vec![tz("UTC"), hours("mon", None, (9, 75), (17, 0)), mon()];
        assert_eq!(codes(mixed), vec![Code::InvalidTime]);
    }

    #[test]
    fn no_hours() {
        let d = diags(vec![tz("UTC")]);
        assert_eq!((d.len(), d[0].code), (1, Code::NoOpenHours));
        assert_eq!(d[0].message, "calendar `london` has no open hours");
        assert!(d[0].notes.is_empty());
    }

    #[test]
    fn dates_and_holidays() {
        let err = |y, m, d| check_date(&date(y, m, d)).unwrap_err();
        assert!(check_date(&date(2024, 2, 29)).is_ok() && check_date(&date(2000, 2, 29)).is_ok());
        assert_eq!(
            err(1900, 2, 29),
            "1900-02-29 is not a date: February 1900 has 28 days"
        );
        assert_eq!(
            err(2026, 2, 30),
            "2026-02-30 is not a date: February 2026 has 28 days"
        );
        assert_eq!(
            err(2026, 13, 1),
            "2026-13-01 is not a date: there is no month 13"
        );
        assert_eq!(
            err(2026, 1, 0),
            "2026-01-00 is not a date: there is no day 0"
        );
        assert!(check_date(&date(2026, 4, 31)).is_err());
        let hol = |h| codes(vec![tz("UTC"), mon(), CalendarClause::Holidays(vec![h])]);
        assert_eq!(
            hol(Holiday::Date(date(2026, 2, 29))),
            vec![Code::InvalidDate]
        );
        let reversed = hol(Holiday::Range(date(2026, 9, 1), date(2026, 7, 8)));
        assert_eq!(reversed, vec![Code::InvalidDate]);
        assert_eq!(
            hol(Holiday::Range(date(2026, 7, 8), date(2026, 7, 8))),
            vec![]
        );
        for (month, day) in [(2, 30), (13, 1), (4, 31), (1, 0), (0, 1)] {
            let yearly = hol(Holiday::Yearly {
                month,
                day,
                span: sp(40),
            });
            assert_eq!(yearly, vec![Code::InvalidDate], "{month}-{day}");
        }
    }

    #[test]
    fn timestamps() {
        let ok = "2026-03-02T10:00:00Z 2026-03-02T11:00:00+01:00 2026-03-02T05:30:00.125-04:30
            2024-02-29T00:00:00z 2026-03-02T10:00:00.123456789Z";
        for ok in ok.split_whitespace() {
            assert!(
                check_timestamp(ok).is_ok(),
                "{ok}: {:?}",
                check_timestamp(ok)
            );
        }
        let bad = "2026-03-02T10:00Z 2026-03-02T10:00:00 2026-02-30T10:00:00Z 2026-03-02T25:00:00Z
            2026-03-02T10:00:00+0100 2026-03-02T10:00:00+24:00 2026-03-02T10:00:00.1234567890Z
            2026-03-02T10:00:00.Z 2026-03-02T10:00:00Z[Europe/London] 2026-03-02 26-03-02";
        for bad in bad.split_whitespace().chain(["2026-03-02 10:00:00Z", ""]) {
            assert!(check_timestamp(bad).is_err(), "{bad}");
        }
        assert!(
            check_timestamp("2026-03-02T10:00")
                .unwrap_err()
                .contains("seconds are required")
        );
    }

    #[test]
    fn regexes() {
        assert!(check_regex(r"^(refund|chargeback)\b").is_ok());
        assert_eq!(
            check_regex("(abc"),
            Err("unclosed group (at character 1)".into())
        );
        assert!(check_regex("a{2,1}").is_err() && check_regex("ab\ncd(").is_err());
    }

    #[test]
    fn persons() {
        assert!(is_person("ana@agency.io") && is_person("li.wu+ops@mail.agency.co.uk"));
        let bad = "ana ana@agency @agency.io ana@@agency.io ana@agency..io ana@.io ana@-x.io";
        for bad in bad.split(' ').chain(["ana @agency.io", "ana@agency.io "]) {
            assert!(!is_person(bad), "{bad}");
        }
    }

    #[test]
    fn currencies() {
        assert!(
            CURRENCIES.windows(2).all(|w| w[0] < w[1]),
            "CURRENCIES must be sorted and unique"
        );
        assert!(CURRENCIES.len() > 150);
        for ok in "USD EUR GBP JPY CHF AED XOF XAF ZAR BRL ZWG XCG SLE VES INR".split(' ') {
            assert!(is_currency(ok), "{ok}");
        }
        for bad in ["usd", "ABC", "HRK", "XXX", "XTS", "US", "EURO", ""] {
            assert!(!is_currency(bad), "{bad}");
        }
    }
}
