//! Business time over long spans without walking every day (docs/runtime.md, "Business
//! time over long spans").
//!
//! Day by day, open time costs one zone lookup per interval: linear in the span, which is
//! seconds of CPU for instants millennia apart (a hostile timestamp, or a clock restored from
//! a snapshot). Over a long span the open time is instead counted per weekday:
//!
//! * Day `d` owns the intervals `I(d)`, which end before `d + 2` begins, so only consecutive
//!   days' intervals can overlap, and the open time of days `A..=B` is
//!   `Σ |I(d)| − Σ |I(d−1) ∩ I(d)|` (inclusion–exclusion with no triple overlaps).
//! * While the zone's offset does not change, `|I(d)|` and `|I(d−1) ∩ I(d)|` depend only on
//!   `d`'s weekday and on whether `d` and `d − 1` are holidays: whole weeks are summed at
//!   once, and holidays are subtracted run by run (a range holiday costs O(1), a yearly one
//!   O(1) per year).
//! * Days next to an offset change of the zone are computed exactly, by
//!   resolving their intervals, and replace their weekday value. Extra exact days are
//!   harmless, so the margin only has to be wide enough.
//! * The few days at each end, which the span cuts, are walked as before.

use jiff::civil::Date;

use super::{Calendar, DAY, OpenIntervals, floor_secs, ts};

/// Spans shorter than this many days are walked interval by interval.
const WALK_DAYS: i64 = 28;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(super) fn day_number(d: Date) -> i64 {
    let (m, dd) = (i64::from(d.month()), i64::from(d.day()));
    let y = i64::from(d.year()) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + dd - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`day_number`]); `None` outside jiff's range.
fn date_of_day(z: i64) -> Option<Date> {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    Date::new(i16::try_from(y).ok()?, m as i8, d as i8).ok()
}

/// Monday = 0 (1970-01-01 was a Thursday).
fn weekday(day: i64) -> usize {
    (day + 3).rem_euclid(7) as usize
}

/// Per weekday: the open seconds of a day, and their overlap with the previous day's
/// intervals, in local time (what a day away from offset changes and holidays counts).
struct Week {
    len: [i64; 7],
    overlap: [i64; 7],
}

impl Week {
    /// `Σ arr[weekday(d)]` for `d` in `first..=last`.
    fn sum(arr: &[i64; 7], first: i64, last: i64) -> i64 {
        let n = last - first + 1;
        if n <= 0 {
            return 0;
        }
        let w0 = weekday(first);
        let whole: i64 = arr.iter().sum::<i64>() * (n / 7);
        whole
            + (0..(n % 7) as usize)
                .map(|i| arr[(w0 + i) % 7])
                .sum::<i64>()
    }
}

/// Overlap of two sorted lists of disjoint half-open intervals.
fn overlap(xs: &[(i64, i64)], ys: &[(i64, i64)]) -> i64 {
    let mut total = 0;
    for &(a, b) in xs {
        for &(c, d) in ys {
            total += (b.min(d) - a.max(c)).max(0);
        }
    }
    total
}

impl Calendar {
    fn week(&self) -> Week {
        let local = |w: usize, shift: i64| -> Vec<(i64, i64)> {
            self.week[w]
                .iter()
                .map(|s| (s.from + shift, s.to + shift))
                .collect()
        };
        let mut week = Week {
            len: [0; 7],
            overlap: [0; 7],
        };
        for w in 0..7 {
            week.len[w] = self.week[w].iter().map(|s| s.to - s.from).sum();
            week.overlap[w] = overlap(&local((w + 6) % 7, 0), &local(w, DAY));
        }
        week
    }

    /// Resolved intervals of a day number (none on a holiday or outside jiff's range).
    fn resolved(&self, day: i64) -> Vec<(i64, i64)> {
        date_of_day(day).map_or_else(Vec::new, |d| self.day_intervals(d).collect())
    }

    /// `|I(d)| − |I(d−1) ∩ I(d)|` as the weekday table counts it (exact away from offset
    /// changes).
    fn table_share(&self, week: &Week, day: i64) -> i64 {
        let hol = |d: i64| date_of_day(d).is_none_or(|d| self.holidays.contains(d));
        if hol(day) {
            return 0;
        }
        let w = weekday(day);
        week.len[w] - if hol(day - 1) { 0 } else { week.overlap[w] }
    }

    /// Holiday dates in `lo..=hi` as maximal runs of consecutive days, in order.
    fn holiday_runs(&self, lo: i64, hi: i64, mut each: impl FnMut(i64, i64)) {
        let mut ranges = self
            .holidays
            .ranges
            .iter()
            .map(|&(a, b)| (day_number(a).max(lo), day_number(b).min(hi)))
            .filter(|(a, b)| a <= b)
            .peekable();
        let yearly_days: Vec<(i8, i8)> = (1..=12i8)
            .flat_map(|m| {
                let bits = self.holidays.yearly[m as usize];
                (1..=31i8)
                    .filter(move |d| bits & (1u32 << d) != 0)
                    .map(move |d| (m, d))
            })
            .collect();
        let (y0, y1) = match (date_of_day(lo), date_of_day(hi)) {
            (Some(a), Some(b)) => (a.year(), b.year()),
            _ => (1, 0),
        };
        let mut yearly = (y0..=y1)
            .flat_map(|y| {
                yearly_days
                    .iter()
                    .filter_map(move |&(m, d)| Date::new(y, m, d).ok())
            })
            .map(day_number)
            .filter(|d| (lo..=hi).contains(d))
            .map(|d| (d, d))
            .peekable();
        let mut run: Option<(i64, i64)> = None;
        loop {
            let next = match (ranges.peek(), yearly.peek()) {
                (Some(r), Some(y)) if r.0 <= y.0 => ranges.next(),
                (Some(_), Some(_)) | (None, Some(_)) => yearly.next(),
                (Some(_), None) => ranges.next(),
                (None, None) => None,
            };
            match (next, run) {
                (Some((a, b)), Some((s, e))) if a <= e + 1 => run = Some((s, e.max(b))),
                (Some(n), Some(r)) => {
                    each(r.0, r.1);
                    run = Some(n);
                }
                (Some(n), None) => run = Some(n),
                (None, r) => {
                    if let Some((s, e)) = r {
                        each(s, e);
                    }
                    return;
                }
            }
        }
    }

    /// `Σ (|I(d)| − |I(d−1) ∩ I(d)|)` over the days `a..=b`, exactly.
    fn shares(&self, a: i64, b: i64) -> Option<i64> {
        let week = self.week();
        let mut total = Week::sum(&week.len, a, b) - Week::sum(&week.overlap, a, b);
        self.holiday_runs(a - 1, b, |s, e| {
            total -= Week::sum(&week.len, s.max(a), e.min(b));
            total += Week::sum(&week.overlap, s.max(a), (e + 1).min(b));
        });
        // Days near an offset change of the zone: exact value instead of the table's.
        let start = self.resolve(date_of_day(a - 4)?, 0)?;
        let end = self.resolve(date_of_day(b + 4)?, 0)?;
        // A day's share depends on the local dates d − 1 ..= d + 1 only: exact for the days
        // whose dates reach those of the last instant before a transition and of the
        // transition itself (up to two days apart: Pacific/Apia skipped 2011-12-30).
        let mut next = a;
        let mut prev: Option<(i64, Vec<(i64, i64)>)> = None;
        for tr in self.tz.following(ts(start)?) {
            let at = tr.timestamp().as_second();
            if at > end {
                break;
            }
            let (d0, d1) = (
                day_number(self.local_date(at - 1)?),
                day_number(self.local_date(at)?),
            );
            let (lo, hi) = (d0.min(d1) - 1, d0.max(d1) + 1);
            for day in lo.max(next)..=hi.min(b) {
                let before = match prev.take() {
                    Some((p, iv)) if p == day - 1 => iv,
                    _ => self.resolved(day - 1),
                };
                let own = self.resolved(day);
                let len: i64 = own.iter().map(|(x, y)| y - x).sum();
                total += len - overlap(&before, &own) - self.table_share(&week, day);
                prev = Some((day, own));
            }
            next = next.max(hi + 1);
        }
        Some(total)
    }

    /// Open seconds in `[f, t)` of the intervals owned by the dates `first..=last`, merged as
    /// [`Calendar::open_seconds_between`] merges them.
    fn walk_days(&self, first: i64, last: i64, f: i64, t: i64) -> i64 {
        let day = date_of_day(first);
        let walk = OpenIntervals {
            cal: self,
            day,
            spans: day.map_or(&[][..], |d| self.spans(d)),
            idx: 0,
            found: false,
            closed_run: 0,
            end: date_of_day(last),
        };
        Calendar::clipped(walk, f, t)
    }

    /// Open seconds in `[f, t)` in closed form, or `None` when the span is short (or at the
    /// edge of the representable dates): then the caller walks it.
    pub(super) fn open_seconds_long(&self, f: i64, t: i64) -> Option<i64> {
        let df = day_number(self.local_date(f)?);
        let dt = day_number(self.local_date(t)?);
        // Days a..=b own intervals wholly inside [f, t); the days around them are walked.
        let (a, b) = (df + 2, dt - 3);
        if b - a < WALK_DAYS {
            return None;
        }
        let low = self.walk_days(df - 1, a - 1, f, t);
        let high = self.walk_days(b + 1, dt + 1, f, t);
        // `shares` subtracts I(a−1) ∩ I(a); subtract I(b) ∩ I(b+1) here (each is in [f, t)).
        let seam = overlap(&self.resolved(b), &self.resolved(b + 1));
        Some(low + self.shares(a, b)? + high - seam)
    }

    /// Moves a long `add_open_seconds` forward in closed form. Returns a later cursor, what
    /// remains to count from it (the deadline is after the cursor), and the instant until
    /// which the caller must walk before asking again. Stops 4 days short of a holiday
    /// range, which the caller then walks (to 4 days past its end), so that a closed stretch
    /// longer than [`super::SEARCH_LIMIT_DAYS`] days is still found the way the walk finds it:
    /// without ranges no closed stretch lasts more than a year and a week.
    pub(super) fn skip_open_seconds(&self, mut cursor: i64, mut remaining: i64) -> (i64, i64, i64) {
        let step = WALK_DAYS * 2 * DAY;
        let max = floor_secs(jiff::Timestamp::MAX);
        let Some(today) = self.local_date(cursor).map(day_number) else {
            return (cursor, remaining, max);
        };
        let instant = |day: i64, fallback: i64| {
            date_of_day(day)
                .and_then(|d| self.resolve(d, 0))
                .unwrap_or(fallback)
        };
        let (limit, resume) = match self
            .holidays
            .ranges
            .iter()
            .find(|r| day_number(r.1) >= today - 1)
        {
            Some(r) => (
                instant(day_number(r.0) - 4, cursor).min(max),
                instant(day_number(r.1) + 4, max),
            ),
            None => (max, max),
        };
        // Gallop: move on by doubling spans, up to the limit, until one covers the rest.
        let mut span = step;
        let hi = loop {
            if limit - cursor <= step {
                return (cursor, remaining, resume);
            }
            let end = cursor.saturating_add(span).min(limit);
            let open = self.open_seconds_between_secs(cursor, end);
            if open >= remaining {
                break end;
            }
            (cursor, remaining) = (end, remaining - open);
            if end == limit {
                return (cursor, remaining, resume);
            }
            span = span.saturating_mul(2);
        };
        // Narrow: keep the deadline in (cursor, hi] while halving.
        let mut hi = hi;
        while hi - cursor > step {
            let mid = cursor + (hi - cursor) / 2;
            let open = self.open_seconds_between_secs(cursor, mid);
            if open >= remaining {
                hi = mid;
            } else {
                cursor = mid;
                remaining -= open;
            }
        }
        (cursor, remaining, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_across_the_range() {
        for d in [
            Date::constant(1970, 1, 1),
            Date::constant(2000, 2, 29),
            Date::constant(-9999, 1, 1),
            Date::constant(9999, 12, 31),
            Date::constant(1600, 3, 1),
        ] {
            let n = day_number(d);
            assert_eq!(date_of_day(n), Some(d));
            assert_eq!(weekday(n), d.weekday().to_monday_zero_offset() as usize);
        }
        assert_eq!(day_number(Date::constant(1970, 1, 1)), 0);
        assert_eq!(
            date_of_day(day_number(Date::constant(9999, 12, 31)) + 1),
            None
        );
    }
}
