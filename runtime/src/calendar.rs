//! Business calendars: open hours, holidays and business-time arithmetic (brief §3.3, §3.6,
//! §7.11, §7.14; reference `docs/language.md` §7.1 and §10).
//!
//! # Model
//!
//! A calendar is a set of **open instants** on the UTC time line, defined in one IANA zone:
//!
//! * Every local date `D` owns the intervals of its weekday (`hours` clauses), kept as
//!   *local offsets in seconds from `D` 00:00*: `from` in `[0, 86400)`, `to` in
//!   `(from, 172800)`. `24:00` is offset 86400 (the next midnight); an interval whose end is
//!   earlier than its start (`22:00-06:00`) crosses midnight and ends at `86400 + end`, still
//!   **belonging to the day it starts on**. Intervals of the same weekday that overlap or
//!   touch are merged once, when the calendar is loaded.
//! * A **holiday** date owns no intervals: it closes the intervals that *start* on it, so a
//!   Friday `22:00-06:00` interval is wholly closed when Friday is a holiday and wholly open
//!   when only Saturday is. Holidays are single dates, inclusive ranges and yearly `MM-DD`
//!   (a yearly `02-29` exists, and so applies, only in leap years).
//! * Each endpoint `D + offset` is turned into an instant with the zone's rules for that
//!   date, **compatibly**: a local time in a spring-forward gap moves forward by the gap's
//!   length, a repeated local time (fall-back) takes the earlier instant. An interval that
//!   this leaves empty (`start >= end`) is skipped; a day all of whose intervals are empty
//!   has no open hours.
//! * The open set is the union of all days' resolved intervals (intervals of neighbouring
//!   days may overlap, e.g. an overnight tail and an early shift: the union counts once).
//!
//! Precision is the second: inputs are floored to the whole second and every computed
//! instant is a whole second (an input returned unchanged, by `next_open` on an open
//! instant, keeps its sub-second part). Intervals are half-open: an interval is open at its
//! start and closed at its end.
//!
//! # Invariants the algorithms rely on
//!
//! * Compatible resolution is monotonic in local time, and within a day the merged intervals
//!   are sorted, so walking the days in order yields resolved intervals in non-decreasing
//!   **start** order (a day's intervals start before the next local midnight, the next
//!   day's at or after it). Their ends are not sorted (an overnight tail may outlast an
//!   early shift), so consumers clip against a cursor instead of assuming disjointness.
//! * No interval of a day before `local_date(t) - 1` can contain or follow `t`, so every
//!   forward query starts walking at the day before `t`'s local date.
//! * Closed days (no intervals for the weekday, or a holiday) cost one weekday lookup and one
//!   binary search; open intervals are consumed whole. Nothing steps minute by minute.
//! * A forward search that finds no open interval for [`SEARCH_LIMIT_DAYS`] consecutive
//!   days (about ten years) gives up and returns `None`, so a calendar whose holidays close
//!   everything cannot loop forever.
//!
//! # Business time (brief §3.6 "Business time, precisely")
//!
//! * `N business hours/minutes` = the earliest instant at which `N` hours of open time have
//!   elapsed since the counting start ([`Calendar::add_open_seconds`]); a deadline landing
//!   exactly on a closing time is that closing instant, because it is the earliest one.
//! * `N business days` ([`Calendar::add_business_days`]): the same local time of day on the
//!   `N`th following open day (a day owning at least one non-empty interval). Before that
//!   day's opening or in a gap → the next open instant that day; after its close → its
//!   closing time; exactly on one of its closing times → that closing time. When the
//!   counting start lies in the after-midnight tail of the previous day's overnight
//!   interval, that previous day is day 0 and the time of day is counted past 24:00 (Friday
//!   05:00 inside Thursday's `22:00-06:00` shift is "Thursday 29:00"), so a night shift moves
//!   by whole shifts.
//! * A zero target is due at the counting start, the first open instant ([`Calendar::next_open`]).
//! * Pauses: the engine sums [`Calendar::open_seconds_between`] over running spans; a
//!   business-days deadline is pushed later with `add_open_seconds(deadline, paused_open)`.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

mod bulk;

const DAY: i64 = 86_400;

/// Spans shorter than this are always walked day by day (bulk.rs counts longer ones in
/// closed form from 28 days between its walked ends, plus 5 days of margin and 1 of offset).
const SHORT_SPAN: i64 = 31 * DAY;

/// How many consecutive days without any open interval a forward search walks before it
/// gives up (ten years and a few days).
pub const SEARCH_LIMIT_DAYS: u32 = 3_660;

/// Weekly open intervals and holidays in one IANA zone, as the compiler lowers a `calendar`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarSpec {
    pub name: String,
    /// IANA name, already validated by the compiler.
    pub timezone: String,
    /// One per (weekday, interval) of every `hours` clause.
    pub hours: Vec<Interval>,
    pub holidays: Vec<HolidaySpec>,
}

impl CalendarSpec {
    /// `std.calendars.always`: `timezone "UTC"`, `hours mon-sun 00:00-24:00`, no holidays.
    pub fn always() -> CalendarSpec {
        CalendarSpec {
            name: "always".to_string(),
            timezone: "UTC".to_string(),
            hours: (0..7)
                .map(|weekday| Interval {
                    weekday,
                    from_minute: 0,
                    to_minute: 1440,
                })
                .collect(),
            holidays: Vec::new(),
        }
    }
}

/// One open interval of one weekday, in local minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// `0..1440`.
    pub from_minute: u16,
    /// `1..=1440` (`1440` is `24:00`). `to < from` crosses midnight into the next day; the
    /// interval still belongs to `weekday`. (`0` is accepted as a synonym of `1440`.)
    pub to_minute: u16,
}

/// A `holidays` entry. Each closes whole local days (the intervals that start on them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HolidaySpec {
    Date {
        year: i16,
        month: i8,
        day: i8,
    },
    /// Inclusive on both ends.
    Range {
        from: (i16, i8, i8),
        to: (i16, i8, i8),
    },
    /// `every MM-DD`; `every 02-29` applies in leap years only.
    Yearly {
        month: i8,
        day: i8,
    },
}

/// One merged interval of a weekday: local seconds from that day's midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct LocalSpan {
    from: i64,
    to: i64,
}

/// Holidays, normalised for lookups: disjoint sorted date ranges (single dates are
/// one-day ranges) and a per-month bitmask of yearly days.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Holidays {
    ranges: Vec<(Date, Date)>,
    yearly: [u32; 13],
}

impl Holidays {
    fn contains(&self, d: Date) -> bool {
        if self.yearly[d.month() as usize] & (1u32 << d.day()) != 0 {
            return true;
        }
        let i = self.ranges.partition_point(|r| r.0 <= d);
        i > 0 && self.ranges[i - 1].1 >= d
    }

    fn is_empty(&self) -> bool {
        self.ranges.is_empty() && self.yearly.iter().all(|m| *m == 0)
    }
}

/// A loaded calendar, ready for fast queries: the zone is resolved once and each weekday's
/// intervals are merged and sorted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    name: String,
    tz: TimeZone,
    /// Indexed by weekday, 0 = Monday.
    week: [Vec<LocalSpan>; 7],
    holidays: Holidays,
    /// Every local day is wholly covered and there are no holidays: every instant is open.
    always_open: bool,
}

/// Why a calendar could not be loaded (the compiler never emits such a calendar; a bundle
/// built by hand or damaged can hold one).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CalendarError {
    /// The zone is not in the time zone database (jiff's message, when it gave one).
    UnknownZone {
        calendar: String,
        zone: String,
        error: Option<String>,
    },
    NoOpenHours {
        calendar: String,
    },
    /// An interval out of range or empty (its debug form).
    InvalidInterval {
        calendar: String,
        interval: String,
    },
    /// A holiday that is not a date (year, month, day; jiff's message).
    InvalidHoliday {
        calendar: String,
        date: (i16, i8, i8),
        error: String,
    },
    /// A holiday range whose end is before its start.
    ReversedRange {
        calendar: String,
        from: Date,
        to: Date,
    },
}

impl std::fmt::Display for CalendarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CalendarError::UnknownZone {
                calendar,
                zone,
                error: Some(e),
            } => write!(f, "calendar {calendar}: unknown time zone {zone:?}: {e}"),
            CalendarError::UnknownZone {
                calendar,
                zone,
                error: None,
            } => write!(f, "calendar {calendar}: unknown time zone {zone:?}"),
            CalendarError::NoOpenHours { calendar } => {
                write!(f, "calendar {calendar} has no open hours")
            }
            CalendarError::InvalidInterval { calendar, interval } => {
                write!(f, "calendar {calendar}: invalid interval {interval}")
            }
            CalendarError::InvalidHoliday {
                calendar,
                date: (y, m, d),
                error,
            } => write!(
                f,
                "calendar {calendar}: invalid holiday date {y:04}-{m:02}-{d:02}: {error}"
            ),
            CalendarError::ReversedRange { calendar, from, to } => write!(
                f,
                "calendar {calendar}: holiday range ends before it starts ({from}..{to})"
            ),
        }
    }
}

impl std::error::Error for CalendarError {}

fn date_of(name: &str, (y, m, d): (i16, i8, i8)) -> Result<Date, CalendarError> {
    Date::new(y, m, d).map_err(|e| CalendarError::InvalidHoliday {
        calendar: name.to_string(),
        date: (y, m, d),
        error: e.to_string(),
    })
}

/// Floors a timestamp to the whole second.
fn floor_secs(t: Timestamp) -> i64 {
    let s = t.as_second();
    if t.subsec_nanosecond() < 0 { s - 1 } else { s }
}

fn ts(s: i64) -> Option<Timestamp> {
    Timestamp::from_second(s).ok()
}

impl Calendar {
    /// Loads a calendar. Errors on an unknown zone, a calendar without open hours, or a
    /// malformed interval or holiday (which the compiler never emits).
    pub fn new(spec: &CalendarSpec) -> Result<Calendar, CalendarError> {
        let unknown = |error: Option<String>| CalendarError::UnknownZone {
            calendar: spec.name.clone(),
            zone: spec.timezone.clone(),
            error,
        };
        let tz = TimeZone::get(&spec.timezone).map_err(|e| unknown(Some(e.to_string())))?;
        if tz.is_unknown() {
            return Err(unknown(None));
        }
        Calendar::with_zone(spec, tz)
    }

    /// `std.calendars.always`: open 24×7 in UTC.
    pub fn always() -> Calendar {
        Calendar::with_zone(&CalendarSpec::always(), TimeZone::UTC)
            .expect("the always calendar is well formed")
    }

    fn with_zone(spec: &CalendarSpec, tz: TimeZone) -> Result<Calendar, CalendarError> {
        let name = &spec.name;
        if spec.hours.is_empty() {
            return Err(CalendarError::NoOpenHours {
                calendar: name.clone(),
            });
        }
        let mut raw: [Vec<LocalSpan>; 7] = Default::default();
        for iv in &spec.hours {
            let (w, f, t) = (iv.weekday, iv.from_minute, iv.to_minute);
            if w > 6 || f >= 1440 || t > 1440 || f == t || (f == 0 && t == 0) {
                return Err(CalendarError::InvalidInterval {
                    calendar: name.clone(),
                    interval: format!("{iv:?}"),
                });
            }
            let from = i64::from(f) * 60;
            let to = if t == 0 || t < f {
                DAY + i64::from(t) * 60
            } else {
                i64::from(t) * 60
            };
            raw[w as usize].push(LocalSpan { from, to });
        }
        let week = raw.map(|mut spans| {
            spans.sort_by_key(|s| (s.from, s.to));
            let mut merged: Vec<LocalSpan> = Vec::with_capacity(spans.len());
            for s in spans {
                match merged.last_mut() {
                    Some(last) if s.from <= last.to => last.to = last.to.max(s.to),
                    _ => merged.push(s),
                }
            }
            merged
        });

        let mut holidays = Holidays::default();
        for h in &spec.holidays {
            match *h {
                HolidaySpec::Date { year, month, day } => {
                    let d = date_of(name, (year, month, day))?;
                    holidays.ranges.push((d, d));
                }
                HolidaySpec::Range { from, to } => {
                    let (a, b) = (date_of(name, from)?, date_of(name, to)?);
                    if a > b {
                        return Err(CalendarError::ReversedRange {
                            calendar: name.clone(),
                            from: a,
                            to: b,
                        });
                    }
                    holidays.ranges.push((a, b));
                }
                HolidaySpec::Yearly { month, day } => {
                    // 2000 is a leap year, so `every 02-29` validates.
                    date_of(name, (2000, month, day))?;
                    holidays.yearly[month as usize] |= 1u32 << day;
                }
            }
        }
        holidays.ranges.sort();
        let mut ranges: Vec<(Date, Date)> = Vec::with_capacity(holidays.ranges.len());
        for (a, b) in holidays.ranges.drain(..) {
            match ranges.last_mut() {
                Some(last) if a <= last.1 => last.1 = last.1.max(b),
                _ => ranges.push((a, b)),
            }
        }
        holidays.ranges = ranges;

        let always_open = holidays.is_empty()
            && week
                .iter()
                .all(|d| d.first().is_some_and(|s| s.from == 0 && s.to >= DAY));
        Ok(Calendar {
            name: name.clone(),
            tz,
            week,
            holidays,
            always_open,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// Whether `t` is inside an open interval (intervals are open at their start, closed at
    /// their end).
    pub fn is_open(&self, t: Timestamp) -> bool {
        if self.always_open {
            return true;
        }
        let s = floor_secs(t);
        let Some(d) = self.local_date(s) else {
            return false;
        };
        // Only `d - 1` (its overnight tail) and `d` can own an interval containing `s`.
        [d.yesterday().ok(), Some(d)]
            .into_iter()
            .flatten()
            .any(|day| self.day_intervals(day).any(|(a, b)| a <= s && s < b))
    }

    /// The first open instant at or after `t` (`t` itself if open). `None` when nothing opens
    /// within [`SEARCH_LIMIT_DAYS`] days.
    pub fn next_open(&self, t: Timestamp) -> Option<Timestamp> {
        if self.always_open {
            return Some(t);
        }
        let s = floor_secs(t);
        // Starts are non-decreasing, so the first interval ending after `s` holds the answer.
        let (a, _) = self.intervals_from(s, None).find(|&(_, b)| b > s)?;
        if a <= s { Some(t) } else { ts(a) }
    }

    /// Open time, in seconds, in `[from, to)` (0 when `to <= from`).
    pub fn open_seconds_between(&self, from: Timestamp, to: Timestamp) -> i64 {
        self.open_seconds_between_secs(floor_secs(from), floor_secs(to))
    }

    fn open_seconds_between_secs(&self, f: i64, t: i64) -> i64 {
        if t <= f {
            return 0;
        }
        if self.always_open {
            return t - f;
        }
        // Long spans are counted per weekday, not walked (bulk.rs). A span shorter than
        // `SHORT_SPAN` cannot be long there (whatever the zone's offset), so the usual case
        // skips the two date conversions that test it.
        if t - f >= SHORT_SPAN
            && let Some(n) = self.open_seconds_long(f, t)
        {
            return n;
        }
        // Bounded by `to`, not by the search limit: walk up to the day after `to`'s date.
        let end = self.local_date(t).and_then(|d| d.tomorrow().ok());
        Calendar::clipped(self.intervals_from(f, end), f, t)
    }

    /// The measure of the union of `intervals` (in non-decreasing start order) within
    /// `[f, t)`.
    fn clipped(intervals: impl Iterator<Item = (i64, i64)>, f: i64, t: i64) -> i64 {
        let (mut cursor, mut total) = (f, 0);
        for (a, b) in intervals {
            if a >= t {
                break;
            }
            let (a, b) = (a.max(cursor), b.min(t));
            if b > a {
                total += b - a;
                cursor = b;
            }
        }
        total
    }

    /// The earliest instant at which `secs` seconds of open time have elapsed counting from
    /// `from` (`N business hours/minutes`). A deadline landing exactly on a closing time is
    /// that closing instant. `secs <= 0` → [`Calendar::next_open`]`(from)` (a zero target is
    /// due at the counting start). `None` when the calendar stays closed for
    /// [`SEARCH_LIMIT_DAYS`] days on the way.
    pub fn add_open_seconds(&self, from: Timestamp, secs: i64) -> Option<Timestamp> {
        if secs <= 0 {
            return self.next_open(from);
        }
        let mut cursor = floor_secs(from);
        if self.always_open {
            return ts(cursor.checked_add(secs)?);
        }
        let mut remaining = secs;
        // Most targets (hours, a few days) end within a few weeks: walk those as before, and
        // only a deadline further off than that takes the closed-form path below.
        let near = self
            .local_date(cursor)
            .and_then(|d| d.checked_add(jiff::Span::new().days(SHORT_SPAN / DAY)).ok());
        if near.is_some()
            && let Some(due) = self.walk_deadline(cursor, remaining, near)
        {
            return ts(due);
        }
        // A long target moves forward in closed form between holiday ranges (bulk.rs) and
        // walks the rest: the last stretch, and each range with a few days around it.
        'skip: loop {
            let resume;
            (cursor, remaining, resume) = self.skip_open_seconds(cursor, remaining);
            for (a, b) in self.intervals_from(cursor, None) {
                let a = a.max(cursor);
                if b <= a {
                    continue;
                }
                if b - a >= remaining {
                    return ts(a + remaining);
                }
                remaining -= b - a;
                cursor = b;
                if cursor >= resume {
                    continue 'skip;
                }
            }
            return None;
        }
    }

    /// `N business days` from a counting start (brief §3.6): the same local time of day on
    /// the `days`th following open day; before that day's opening or in a gap → the next
    /// open instant that day; after its close → its closing time. `start` should already be
    /// an open instant (it is moved to [`Calendar::next_open`] otherwise); `days <= 0` →
    /// the counting start. `None` when no open day comes within [`SEARCH_LIMIT_DAYS`] days.
    pub fn add_business_days(&self, start: Timestamp, days: i64) -> Option<Timestamp> {
        let start = self.next_open(start)?;
        if days <= 0 {
            return Some(start);
        }
        let s = floor_secs(start);
        let (mut day, offset) = self.day_position(s)?;
        let (mut counted, mut closed_run) = (0i64, 0u32);
        while counted < days {
            day = day.tomorrow().ok()?;
            if self.day_intervals(day).next().is_some() {
                counted += 1;
                closed_run = 0;
            } else {
                closed_run += 1;
                if closed_run > SEARCH_LIMIT_DAYS {
                    return None;
                }
            }
        }
        let target = self.resolve(day, offset)?;
        let mut last_close = None;
        for (a, b) in self.day_intervals(day) {
            if target < a {
                return ts(a); // before the opening, or in a gap
            }
            if target <= b {
                return ts(target); // open, or exactly on a closing time
            }
            last_close = Some(b);
        }
        ts(last_close?) // the day closes earlier
    }

    /// [`Calendar::open_seconds_between`] by walking every day, for tests of the closed form.
    #[cfg(test)]
    fn open_seconds_walked(&self, from: Timestamp, to: Timestamp) -> i64 {
        let (f, t) = (floor_secs(from), floor_secs(to));
        let end = self.local_date(t).and_then(|d| d.tomorrow().ok());
        Calendar::clipped(self.intervals_from(f, end), f, t.max(f))
    }

    /// [`Calendar::add_open_seconds`] by walking every day (`secs > 0`), for tests.
    #[cfg(test)]
    fn add_open_seconds_walked(&self, from: Timestamp, secs: i64) -> Option<Timestamp> {
        ts(self.walk_deadline(floor_secs(from), secs, None)?)
    }

    /// The instant `remaining` open seconds after `cursor`, walking interval by interval up
    /// to `end` (a local date; `None`: the search limit); `None` if it is not reached.
    fn walk_deadline(&self, mut cursor: i64, mut remaining: i64, end: Option<Date>) -> Option<i64> {
        for (a, b) in self.intervals_from(cursor, end) {
            let a = a.max(cursor);
            if b <= a {
                continue;
            }
            if b - a >= remaining {
                return Some(a + remaining);
            }
            remaining -= b - a;
            cursor = b;
        }
        None
    }

    // ---- internals ----------------------------------------------------------------------

    fn local_date(&self, s: i64) -> Option<Date> {
        Some(self.tz.to_datetime(ts(s)?).date())
    }

    /// The merged local spans a date owns: none on a holiday.
    fn spans(&self, d: Date) -> &[LocalSpan] {
        let spans = &self.week[d.weekday().to_monday_zero_offset() as usize];
        if spans.is_empty() || self.holidays.contains(d) {
            &[]
        } else {
            spans
        }
    }

    /// `d` 00:00 local plus `offset` seconds (possibly past midnight), as a Unix second:
    /// gap times move forward by the gap's length, repeated times take the earlier instant.
    fn resolve(&self, mut d: Date, mut offset: i64) -> Option<i64> {
        while offset >= DAY {
            d = d.tomorrow().ok()?;
            offset -= DAY;
        }
        let time = Time::new(
            (offset / 3600) as i8,
            (offset / 60 % 60) as i8,
            (offset % 60) as i8,
            0,
        )
        .ok()?;
        let t = self
            .tz
            .to_ambiguous_timestamp(DateTime::from_parts(d, time))
            .compatible()
            .ok()?;
        Some(t.as_second())
    }

    /// The resolved, non-empty intervals a date owns, in start order.
    fn day_intervals(&self, d: Date) -> impl Iterator<Item = (i64, i64)> + '_ {
        self.spans(d)
            .iter()
            .filter_map(move |&sp| self.resolve_span(d, sp))
    }

    /// One span of date `d` as Unix seconds `[start, end)`; `None` if DST left it empty.
    fn resolve_span(&self, d: Date, sp: LocalSpan) -> Option<(i64, i64)> {
        let a = self.resolve(d, sp.from)?;
        let b = self.resolve(d, sp.to)?;
        (a < b).then_some((a, b))
    }

    /// Resolved intervals, in non-decreasing start order, of the days from the day before
    /// `s`'s local date on: through `end` (a date) if given, else until
    /// [`SEARCH_LIMIT_DAYS`] consecutive days without any interval.
    fn intervals_from(&self, s: i64, end: Option<Date>) -> OpenIntervals<'_> {
        let first = self.local_date(s).and_then(|d| d.yesterday().ok());
        OpenIntervals {
            cal: self,
            day: first,
            spans: first.map_or(&[][..], |d| self.spans(d)),
            idx: 0,
            found: false,
            closed_run: 0,
            end,
        }
    }

    /// The day that counts as day 0 for `N business days` from the open instant `s`, and
    /// `s`'s local time of day counted from that day's midnight: `s`'s own local date when
    /// one of that date's intervals contains `s`, else the previous date (whose overnight
    /// interval runs into `s`'s date) with the time of day counted past 24:00.
    fn day_position(&self, s: i64) -> Option<(Date, i64)> {
        let dt = self.tz.to_datetime(ts(s)?);
        let d = dt.date();
        let offset =
            i64::from(dt.hour()) * 3600 + i64::from(dt.minute()) * 60 + i64::from(dt.second());
        let contains = |day: Date| self.day_intervals(day).any(|(a, b)| a <= s && s < b);
        if !contains(d)
            && let Ok(prev) = d.yesterday()
            && contains(prev)
        {
            return Some((prev, offset + DAY));
        }
        Some((d, offset))
    }
}

/// A lazy walk over the days' resolved intervals (see [`Calendar::intervals_from`]).
struct OpenIntervals<'a> {
    cal: &'a Calendar,
    day: Option<Date>,
    spans: &'a [LocalSpan],
    idx: usize,
    /// Whether the current day yielded an interval.
    found: bool,
    closed_run: u32,
    end: Option<Date>,
}

impl Iterator for OpenIntervals<'_> {
    type Item = (i64, i64);

    fn next(&mut self) -> Option<(i64, i64)> {
        loop {
            let d = self.day?;
            while self.idx < self.spans.len() {
                let sp = self.spans[self.idx];
                self.idx += 1;
                if let Some(iv) = self.cal.resolve_span(d, sp) {
                    self.found = true;
                    return Some(iv);
                }
            }
            if self.found {
                self.closed_run = 0;
            } else {
                self.closed_run += 1;
            }
            let next = d.tomorrow().ok();
            let stop = match self.end {
                Some(end) => next.is_none_or(|n| n > end),
                None => self.closed_run > SEARCH_LIMIT_DAYS,
            };
            self.day = if stop { None } else { next };
            self.spans = self.day.map_or(&[][..], |n| self.cal.spans(n));
            self.idx = 0;
            self.found = false;
        }
    }
}

#[cfg(test)]
#[path = "calendar_tests/mod.rs"]
mod tests;
