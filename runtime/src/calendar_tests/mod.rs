//! Known-answer tests for business-calendar arithmetic. Expected instants are written by
//! hand in UTC; the comment beside each shows the local-time reasoning. Dates are 2026
//! unless said otherwise; 2 March 2026 is a Monday. London is on GMT (UTC+0) until
//! 29 March 01:00 UTC and on BST (UTC+1) until 25 October 01:00 UTC; New York is on EST
//! (UTC-5) until 8 March, EDT (UTC-4) until 1 November.

use super::*;

mod daylight_saving;
mod loading;
mod long_spans;

fn t(s: &str) -> Timestamp {
    s.parse()
        .unwrap_or_else(|e| panic!("bad timestamp {s}: {e}"))
}

fn minute(s: &str) -> u16 {
    let (h, m) = s.split_once(':').unwrap();
    h.parse::<u16>().unwrap() * 60 + m.parse::<u16>().unwrap()
}

fn weekdays(spec: &str) -> Vec<u8> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let idx = |n: &str| NAMES.iter().position(|x| *x == n.trim()).unwrap() as u8;
    let mut out = Vec::new();
    for part in spec.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (mut i, j) = (idx(a), idx(b));
                loop {
                    out.push(i);
                    if i == j {
                        break;
                    }
                    i = (i + 1) % 7;
                }
            }
            None => out.push(idx(part)),
        }
    }
    out
}

/// `hours` lines as `("mon-fri", "09:00", "17:30")`.
fn spec(tz: &str, hours: &[(&str, &str, &str)], holidays: Vec<HolidaySpec>) -> CalendarSpec {
    let mut ivs = Vec::new();
    for (days, from, to) in hours {
        for weekday in weekdays(days) {
            ivs.push(Interval {
                weekday,
                from_minute: minute(from),
                to_minute: minute(to),
            });
        }
    }
    CalendarSpec {
        name: "test".into(),
        timezone: tz.into(),
        hours: ivs,
        holidays,
    }
}

fn cal(tz: &str, hours: &[(&str, &str, &str)], holidays: Vec<HolidaySpec>) -> Calendar {
    Calendar::new(&spec(tz, hours, holidays)).unwrap()
}

fn date(y: i16, m: i8, d: i8) -> HolidaySpec {
    HolidaySpec::Date {
        year: y,
        month: m,
        day: d,
    }
}

fn london_holidays() -> Vec<HolidaySpec> {
    vec![
        date(2026, 12, 25),
        date(2026, 12, 28),
        HolidaySpec::Yearly { month: 1, day: 1 },
    ]
}

/// mon-fri 09:00-17:30 + sat 10:00-14:00, Europe/London, holidays 25 & 28 Dec + every 01-01.
fn london() -> Calendar {
    cal(
        "Europe/London",
        &[("mon-fri", "09:00", "17:30"), ("sat", "10:00", "14:00")],
        london_holidays(),
    )
}

/// The same without Saturday.
fn london_weekdays() -> Calendar {
    cal(
        "Europe/London",
        &[("mon-fri", "09:00", "17:30")],
        london_holidays(),
    )
}

const H: i64 = 3600;
const M: i64 = 60;

// ---- business hours and minutes ---------------------------------------------------------

#[test]
fn four_business_hours_from_friday_with_saturday_shift() {
    let c = london();
    // Fri 6 Mar 16:00 GMT: Fri 16:00-17:30 = 1h30, Sat 10:00-12:30 = 2h30 → Sat 12:30 GMT.
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T16:00:00Z"), 4 * H),
        Some(t("2026-03-07T12:30:00Z"))
    );
    // 75% = 3h: 1h30 Friday + 1h30 Saturday → Sat 11:30.
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T16:00:00Z"), 3 * H),
        Some(t("2026-03-07T11:30:00Z"))
    );
}

#[test]
fn four_business_hours_across_a_weekend() {
    let c = london_weekdays();
    // Fri 16:00-17:30 = 1h30; weekend closed; Mon 09:00-11:30 = 2h30 → Mon 9 Mar 11:30 GMT.
    let due = c.add_open_seconds(t("2026-03-06T16:00:00Z"), 4 * H);
    assert_eq!(due, Some(t("2026-03-09T11:30:00Z")));
    assert_eq!(
        c.open_seconds_between(t("2026-03-06T16:00:00Z"), due.unwrap()),
        4 * H
    );
    // The whole weekend is closed and the clock gains nothing there.
    assert_eq!(
        c.open_seconds_between(t("2026-03-06T17:30:00Z"), t("2026-03-09T09:00:00Z")),
        0
    );
}

#[test]
fn counting_starts_at_the_next_opening() {
    let c = london_weekdays();
    // Example 1: Sat 7 Mar 08:00 → counting starts Mon 09:00; 2h → Mon 11:00.
    assert_eq!(
        c.add_open_seconds(t("2026-03-07T08:00:00Z"), 2 * H),
        Some(t("2026-03-09T11:00:00Z"))
    );
    // Example 5: 90 min from Fri 17:00: 30 min Friday, 60 min Monday → Mon 10:00.
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T17:00:00Z"), 90 * M),
        Some(t("2026-03-09T10:00:00Z"))
    );
    // Started overnight (Mon 20:00 GMT): Tue 09:00 + 1h.
    assert_eq!(
        c.add_open_seconds(t("2026-03-02T20:00:00Z"), H),
        Some(t("2026-03-03T10:00:00Z"))
    );
}

#[test]
fn four_business_hours_across_christmas() {
    // Thu 24 Dec 16:00 GMT: 1h30 Thursday; Fri 25 holiday, weekend closed, Mon 28 holiday;
    // Tue 29 09:00-11:30 = 2h30 → Tue 29 Dec 11:30 GMT.
    let lw = london_weekdays();
    assert_eq!(
        lw.add_open_seconds(t("2026-12-24T16:00:00Z"), 4 * H),
        Some(t("2026-12-29T11:30:00Z"))
    );
    // With the Saturday shift: Sat 26 Dec is no holiday, 10:00-12:30 → Sat 26 Dec 12:30.
    let l = london();
    assert_eq!(
        l.add_open_seconds(t("2026-12-24T16:00:00Z"), 4 * H),
        Some(t("2026-12-26T12:30:00Z"))
    );
    assert!(!lw.is_open(t("2026-12-25T10:00:00Z")));
    assert!(!lw.is_open(t("2026-12-28T10:00:00Z")));
    assert_eq!(
        lw.open_seconds_between(t("2026-12-24T00:00:00Z"), t("2026-12-30T00:00:00Z")),
        17 * H
    );
}

#[test]
fn yearly_new_year_holiday() {
    let l = london();
    // Fri 1 Jan 2027 (every 01-01) closed; Thu 31 Dec 17:00 + 1h: 30 min Thu, Sat 2 Jan
    // 10:00-10:30 → Sat 2 Jan 2027 10:30 GMT.
    assert_eq!(
        l.add_open_seconds(t("2026-12-31T17:00:00Z"), H),
        Some(t("2027-01-02T10:30:00Z"))
    );
    // Sat 1 Jan 2028 is a holiday too (yearly), Sat 8 Jan 2028 is not.
    assert!(!l.is_open(t("2028-01-01T11:00:00Z")));
    assert!(l.is_open(t("2028-01-08T11:00:00Z")));
    // 1 business day from Thu 31 Dec 10:00 (weekdays only): Fri 1 Jan holiday → Mon 4 Jan 10:00.
    let lw = london_weekdays();
    assert_eq!(
        lw.add_business_days(t("2026-12-31T10:00:00Z"), 1),
        Some(t("2027-01-04T10:00:00Z"))
    );
}

#[test]
fn deadline_on_a_closing_time_is_that_closing_instant() {
    let c = london_weekdays();
    // Example 6: Fri 16:00 + 90 min = exactly Fri 17:30, the closing time (not Mon 09:00).
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T16:00:00Z"), 90 * M),
        Some(t("2026-03-06T17:30:00Z"))
    );
    assert!(!c.is_open(t("2026-03-06T17:30:00Z")));
    // One second more goes to Monday 09:00:01.
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T16:00:00Z"), 90 * M + 1),
        Some(t("2026-03-09T09:00:01Z"))
    );
}

#[test]
fn open_interval_boundaries_and_seconds() {
    let c = london_weekdays();
    assert!(c.is_open(t("2026-03-02T09:00:00Z")));
    assert!(!c.is_open(t("2026-03-02T08:59:59Z")));
    assert!(!c.is_open(t("2026-03-02T08:59:59.999Z")));
    assert!(c.is_open(t("2026-03-02T17:29:59.5Z")));
    assert!(!c.is_open(t("2026-03-02T17:30:00Z")));
    // An open instant is its own next opening, sub-second part included.
    assert_eq!(
        c.next_open(t("2026-03-02T10:00:00.25Z")),
        Some(t("2026-03-02T10:00:00.25Z"))
    );
    // Precision is the second: sub-second inputs are floored.
    assert_eq!(
        c.add_open_seconds(t("2026-03-02T10:00:00.75Z"), 90),
        Some(t("2026-03-02T10:01:30Z"))
    );
    assert_eq!(
        c.open_seconds_between(t("2026-03-02T10:00:00.9Z"), t("2026-03-02T10:00:02.1Z")),
        2
    );
    assert_eq!(
        c.open_seconds_between(t("2026-03-02T12:00:00Z"), t("2026-03-02T10:00:00Z")),
        0
    );
}

// ---- business days -------------------------------------------------------------------------

#[test]
fn business_days_same_local_time() {
    let c = london_weekdays();
    // Thu 5 Mar 15:00: Fri = day 1, Mon 9 = day 2 → Mon 15:00.
    assert_eq!(
        c.add_business_days(t("2026-03-05T15:00:00Z"), 2),
        Some(t("2026-03-09T15:00:00Z"))
    );
    // Example 7: Tue 3 Mar 14:00 → Wed day 1, Thu day 2 → Thu 14:00.
    assert_eq!(
        c.add_business_days(t("2026-03-03T14:00:00Z"), 2),
        Some(t("2026-03-05T14:00:00Z"))
    );
    // Example 8: Fri 6 Mar 16:00 → Mon day 1, Tue day 2 → Tue 10 Mar 16:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T16:00:00Z"), 2),
        Some(t("2026-03-10T16:00:00Z"))
    );
    // Example 9: from Sat 7 Mar 11:00 the counting start is Mon 09:00 (day 0) → Wed 09:00.
    let start = c.next_open(t("2026-03-07T11:00:00Z")).unwrap();
    assert_eq!(start, t("2026-03-09T09:00:00Z"));
    assert_eq!(
        c.add_business_days(start, 2),
        Some(t("2026-03-11T09:00:00Z"))
    );
    // A closed start is normalised to the counting start first.
    assert_eq!(
        c.add_business_days(t("2026-03-06T18:00:00Z"), 2),
        Some(t("2026-03-11T09:00:00Z"))
    );
    // Example 12: Thu 24 Dec 16:00; 25, 28 holidays, weekend closed → Tue 29 Dec 16:00.
    assert_eq!(
        c.add_business_days(t("2026-12-24T16:00:00Z"), 1),
        Some(t("2026-12-29T16:00:00Z"))
    );
    // Ten business days: two calendar weeks.
    assert_eq!(
        c.add_business_days(t("2026-03-02T10:00:00Z"), 10),
        Some(t("2026-03-16T10:00:00Z"))
    );
}

#[test]
fn business_days_on_a_short_day() {
    let c = london();
    // Example 10: Fri 6 Mar 16:00, 2 days: Sat day 1, Mon day 2 → Mon 9 Mar 16:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T16:00:00Z"), 2),
        Some(t("2026-03-09T16:00:00Z"))
    );
    // 1 day from Fri 16:00 lands on Sat 16:00, after Saturday's 14:00 close → Sat 14:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T16:00:00Z"), 1),
        Some(t("2026-03-07T14:00:00Z"))
    );
    // 1 day from Fri 09:30 lands on Sat 09:30, before the 10:00 opening → Sat 10:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T09:30:00Z"), 1),
        Some(t("2026-03-07T10:00:00Z"))
    );
    // From Sat 12:00 (day 0 is Saturday): Mon 12:00.
    assert_eq!(
        c.add_business_days(t("2026-03-07T12:00:00Z"), 1),
        Some(t("2026-03-09T12:00:00Z"))
    );
}

#[test]
fn zero_targets_are_due_at_the_counting_start() {
    let c = london_weekdays();
    // Example 13: Sat 7 Mar 08:00 → Mon 9 Mar 09:00.
    assert_eq!(
        c.add_open_seconds(t("2026-03-07T08:00:00Z"), 0),
        Some(t("2026-03-09T09:00:00Z"))
    );
    assert_eq!(
        c.add_business_days(t("2026-03-07T08:00:00Z"), 0),
        Some(t("2026-03-09T09:00:00Z"))
    );
    // Started while open: due at once.
    assert_eq!(
        c.add_open_seconds(t("2026-03-04T11:00:00Z"), 0),
        Some(t("2026-03-04T11:00:00Z"))
    );
    assert_eq!(
        c.add_business_days(t("2026-03-04T11:00:00Z"), 0),
        Some(t("2026-03-04T11:00:00Z"))
    );
    // Negative amounts behave like zero.
    assert_eq!(
        c.add_open_seconds(t("2026-03-07T08:00:00Z"), -5),
        Some(t("2026-03-09T09:00:00Z"))
    );
}

/// Example 11: mon-thu 08:00-12:00 + 13:00-17:00, fri 08:00-15:00 (London, GMT in March).
fn split() -> Calendar {
    cal(
        "Europe/London",
        &[
            ("mon-thu", "08:00", "12:00"),
            ("mon-thu", "13:00", "17:00"),
            ("fri", "08:00", "15:00"),
        ],
        vec![],
    )
}

#[test]
fn split_day() {
    let c = split();
    // Mon 9 Mar 10:00 + 4h: 10:00-12:00 (2h), lunch, 13:00-15:00 (2h) → Mon 15:00.
    assert_eq!(
        c.add_open_seconds(t("2026-03-09T10:00:00Z"), 4 * H),
        Some(t("2026-03-09T15:00:00Z"))
    );
    // + 2h lands exactly on the 12:00 end of the morning interval → 12:00, not 13:00.
    assert_eq!(
        c.add_open_seconds(t("2026-03-09T10:00:00Z"), 2 * H),
        Some(t("2026-03-09T12:00:00Z"))
    );
    assert!(!c.is_open(t("2026-03-09T12:30:00Z")));
    assert_eq!(
        c.next_open(t("2026-03-09T12:30:00Z")),
        Some(t("2026-03-09T13:00:00Z"))
    );
    assert_eq!(
        c.open_seconds_between(t("2026-03-09T00:00:00Z"), t("2026-03-10T00:00:00Z")),
        8 * H
    );
    // 1 business day from Fri 6 Mar 12:30 lands on Mon 12:30, in the lunch gap → Mon 13:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T12:30:00Z"), 1),
        Some(t("2026-03-09T13:00:00Z"))
    );
    // From Thu 5 Mar 16:00 it lands on Fri 16:00, after Friday's 15:00 close → Fri 15:00.
    assert_eq!(
        c.add_business_days(t("2026-03-05T16:00:00Z"), 1),
        Some(t("2026-03-06T15:00:00Z"))
    );
    // From Fri 12:00 it lands exactly on Monday's 12:00 closing time → Mon 12:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T12:00:00Z"), 1),
        Some(t("2026-03-09T12:00:00Z"))
    );
    // From Fri 07:00 (closed) the counting start is Fri 08:00 → Mon 08:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T07:00:00Z"), 1),
        Some(t("2026-03-09T08:00:00Z"))
    );
}

#[test]
fn overlapping_and_touching_intervals_merge() {
    let c = cal(
        "UTC",
        &[
            ("mon", "09:00", "12:00"),
            ("mon", "11:00", "14:00"),
            ("mon", "14:00", "15:00"),
        ],
        vec![],
    );
    assert_eq!(
        c.week[0],
        vec![LocalSpan {
            from: 9 * H,
            to: 15 * H
        }]
    );
    // Monday 2 Mar: 09:00-15:00 counted once = 6h (not 3 + 3 + 1 = 7h).
    assert_eq!(
        c.open_seconds_between(t("2026-03-02T00:00:00Z"), t("2026-03-03T00:00:00Z")),
        6 * H
    );
    // A business day landing at 14:00 is not "in a gap".
    assert_eq!(
        c.add_business_days(t("2026-03-02T14:00:00Z"), 1),
        Some(t("2026-03-09T14:00:00Z"))
    );
    // An overnight interval merges with an overlapping same-day one: 18:00-21:00 + 20:00-02:00.
    let n = cal(
        "UTC",
        &[("tue", "20:00", "02:00"), ("tue", "18:00", "21:00")],
        vec![],
    );
    assert_eq!(
        n.week[1],
        vec![LocalSpan {
            from: 18 * H,
            to: DAY + 2 * H
        }]
    );
    assert_eq!(
        n.open_seconds_between(t("2026-03-03T00:00:00Z"), t("2026-03-05T00:00:00Z")),
        8 * H
    );
    // 24:00 ends the day: 00:00-24:00 on Wednesday only.
    let w = cal("UTC", &[("wed", "00:00", "24:00")], vec![]);
    assert_eq!(
        w.open_seconds_between(t("2026-03-02T00:00:00Z"), t("2026-03-09T00:00:00Z")),
        24 * H
    );
    assert!(!w.is_open(t("2026-03-05T00:00:00Z")));
}

#[test]
fn night_shift_and_holidays() {
    // Example 21: mon-fri 22:00-06:00, holiday Fri 6 Mar (London, GMT).
    let c = cal(
        "Europe/London",
        &[("mon-fri", "22:00", "06:00")],
        vec![date(2026, 3, 6)],
    );
    // Thursday's interval (Thu 22:00 → Fri 06:00) runs into the holiday morning.
    assert!(c.is_open(t("2026-03-06T05:30:00Z")));
    // Friday's own interval (Fri 22:00 → Sat 06:00) is closed, all of it.
    assert!(!c.is_open(t("2026-03-06T23:00:00Z")));
    assert!(!c.is_open(t("2026-03-07T03:00:00Z")));
    // 3h from Fri 05:00: 1h to 06:00, closed until Mon 22:00, + 2h → Tue 10 Mar 00:00.
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T05:00:00Z"), 3 * H),
        Some(t("2026-03-10T00:00:00Z"))
    );
    // Business days: Fri 05:00 lies in Thursday's shift, so day 0 is Thursday at "29:00";
    // Friday is a holiday, Sat/Sun own nothing, Monday is day 1 → Mon + 29:00 = Tue 05:00.
    assert_eq!(
        c.add_business_days(t("2026-03-06T05:00:00Z"), 1),
        Some(t("2026-03-10T05:00:00Z"))
    );
    // Mon 9 Mar 23:00 (Monday's shift) → Tue 23:00.
    assert_eq!(
        c.add_business_days(t("2026-03-09T23:00:00Z"), 1),
        Some(t("2026-03-10T23:00:00Z"))
    );

    // Holiday on Saturday instead: Friday's interval (starting Friday) stays open into Saturday.
    let s = cal(
        "Europe/London",
        &[("mon-fri", "22:00", "06:00")],
        vec![date(2026, 3, 7)],
    );
    assert!(s.is_open(t("2026-03-06T23:00:00Z")));
    assert!(s.is_open(t("2026-03-07T03:00:00Z")));
    assert!(!s.is_open(t("2026-03-07T06:00:00Z")));
    assert_eq!(
        s.open_seconds_between(t("2026-03-06T00:00:00Z"), t("2026-03-08T00:00:00Z")),
        6 * H + 8 * H
    );
}

#[test]
fn overnight_tail_overlapping_next_days_shift_counts_once() {
    // mon-fri 20:00-04:00 plus sat 00:00-12:00 (UTC): Fri 20:00 → Sat 04:00 overlaps Sat 00:00-12:00.
    let c = cal(
        "UTC",
        &[("mon-fri", "20:00", "04:00"), ("sat", "00:00", "12:00")],
        vec![],
    );
    // Fri 6 Mar 20:00 → Sat 7 Mar 12:00 is one open stretch of 16h.
    assert_eq!(
        c.open_seconds_between(t("2026-03-06T12:00:00Z"), t("2026-03-07T23:00:00Z")),
        16 * H
    );
    assert_eq!(
        c.add_open_seconds(t("2026-03-06T21:00:00Z"), 10 * H),
        Some(t("2026-03-07T07:00:00Z"))
    );
    // With Friday a holiday only Saturday's own 00:00-12:00 remains.
    let h = cal(
        "UTC",
        &[("mon-fri", "20:00", "04:00"), ("sat", "00:00", "12:00")],
        vec![date(2026, 3, 6)],
    );
    assert_eq!(
        h.open_seconds_between(t("2026-03-06T12:00:00Z"), t("2026-03-07T23:00:00Z")),
        12 * H
    );
    assert_eq!(
        h.next_open(t("2026-03-06T21:00:00Z")),
        Some(t("2026-03-07T00:00:00Z"))
    );
}
