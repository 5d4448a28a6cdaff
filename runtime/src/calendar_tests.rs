//! Known-answer tests for business-calendar arithmetic. Expected instants are written by
//! hand in UTC; the comment beside each shows the local-time reasoning. Dates are 2026
//! unless said otherwise; 2 March 2026 is a Monday. London is on GMT (UTC+0) until
//! 29 March 01:00 UTC and on BST (UTC+1) until 25 October 01:00 UTC; New York is on EST
//! (UTC-5) until 8 March, EDT (UTC-4) until 1 November.

use super::*;

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

// ---- daylight saving -----------------------------------------------------------------------

#[test]
fn london_spring_forward_business_clock() {
    let c = london_weekdays();
    // Example 17: Fri 27 Mar 16:00 GMT + 4h: 1h30 Friday; Monday 30 Mar is BST, opens 09:00
    // BST = 08:00 UTC; 2h30 more → 11:30 BST = 10:30 UTC.
    let due = c
        .add_open_seconds(t("2026-03-27T16:00:00Z"), 4 * H)
        .unwrap();
    assert_eq!(due, t("2026-03-30T10:30:00Z"));
    // 66h30 of wall time, an hour less than the same clock in early March (67h30).
    assert_eq!(
        due.as_second() - t("2026-03-27T16:00:00Z").as_second(),
        66 * H + 30 * M
    );
    // Opening hours are local: 09:00 BST = 08:00 UTC, 09:00 GMT = 09:00 UTC.
    assert!(c.is_open(t("2026-03-30T08:00:00Z")));
    assert!(!c.is_open(t("2026-03-27T08:30:00Z")));
    assert!(!c.is_open(t("2026-03-30T16:45:00Z"))); // 17:45 BST
    // Example 19: 1 business day from Fri 27 Mar 10:00 GMT → Mon 30 Mar 10:00 BST = 09:00 UTC.
    assert_eq!(
        c.add_business_days(t("2026-03-27T10:00:00Z"), 1),
        Some(t("2026-03-30T09:00:00Z"))
    );
    // A full week across the change still has 5 × 8h30 open.
    assert_eq!(
        c.open_seconds_between(t("2026-03-23T00:00:00Z"), t("2026-04-06T00:00:00Z")),
        10 * (8 * H + 30 * M)
    );
}

#[test]
fn london_fall_back_business_clock() {
    let c = london_weekdays();
    // Example 20: Fri 23 Oct 16:00 BST (15:00 UTC) + 4h: 1h30 Friday; Mon 26 Oct is GMT,
    // 09:00-11:30 GMT → 11:30 UTC.
    assert_eq!(
        c.add_open_seconds(t("2026-10-23T15:00:00Z"), 4 * H),
        Some(t("2026-10-26T11:30:00Z"))
    );
    // 1 business day from Fri 23 Oct 16:00 BST → Mon 26 Oct 16:00 GMT.
    assert_eq!(
        c.add_business_days(t("2026-10-23T15:00:00Z"), 1),
        Some(t("2026-10-26T16:00:00Z"))
    );
}

#[test]
fn london_local_day_lengths_across_dst() {
    // Sunday only, the whole local day.
    let c = cal("Europe/London", &[("sun", "00:00", "24:00")], vec![]);
    // Sun 29 Mar: 00:00 GMT (00:00 UTC) to Mon 00:00 BST (Sun 23:00 UTC) = 23h.
    assert_eq!(
        c.open_seconds_between(t("2026-03-28T00:00:00Z"), t("2026-03-30T12:00:00Z")),
        23 * H
    );
    assert!(!c.is_open(t("2026-03-29T23:30:00Z"))); // Mon 00:30 BST
    // Sun 25 Oct: 00:00 BST (Sat 23:00 UTC) to Mon 00:00 GMT (00:00 UTC) = 25h.
    assert_eq!(
        c.open_seconds_between(t("2026-10-24T00:00:00Z"), t("2026-10-26T12:00:00Z")),
        25 * H
    );
    assert!(c.is_open(t("2026-10-24T23:30:00Z"))); // Sun 00:30 BST

    // A 24x7 London calendar (always open): 24 business hours are 24 real hours, 1 business
    // day is the same local time the next day. Sat 28 Mar 12:00 GMT → Sun 29 12:00 BST = 11:00 UTC.
    let all = cal("Europe/London", &[("mon-sun", "00:00", "24:00")], vec![]);
    assert!(all.always_open);
    assert_eq!(
        all.add_open_seconds(t("2026-03-28T12:00:00Z"), 24 * H),
        Some(t("2026-03-29T12:00:00Z"))
    );
    assert_eq!(
        all.add_business_days(t("2026-03-28T12:00:00Z"), 1),
        Some(t("2026-03-29T11:00:00Z"))
    );
}

#[test]
fn london_intervals_in_the_spring_gap() {
    // Sun 29 Mar 2026, London: local 01:00-02:00 does not exist (01:00 GMT → 02:00 BST).
    // 00:30-03:00: 00:30 GMT (00:30 UTC) to 03:00 BST (02:00 UTC) = 1h30.
    let a = cal("Europe/London", &[("sun", "00:30", "03:00")], vec![]);
    assert_eq!(
        a.open_seconds_between(t("2026-03-28T12:00:00Z"), t("2026-03-30T00:00:00Z")),
        90 * M
    );
    assert_eq!(
        a.add_open_seconds(t("2026-03-29T00:30:00Z"), H),
        Some(t("2026-03-29T01:30:00Z"))
    );
    // 01:30-04:00: 01:30 moves forward by the gap → 02:30 BST (01:30 UTC); 04:00 BST = 03:00 UTC.
    let b = cal("Europe/London", &[("sun", "01:30", "04:00")], vec![]);
    assert_eq!(
        b.next_open(t("2026-03-28T12:00:00Z")),
        Some(t("2026-03-29T01:30:00Z"))
    );
    assert_eq!(
        b.open_seconds_between(t("2026-03-28T12:00:00Z"), t("2026-03-30T00:00:00Z")),
        90 * M
    );
    // 01:10-02:00: 01:10 → 02:10 BST (01:10 UTC), 02:00 BST = 01:00 UTC: empty, skipped.
    // The next opening is Sun 5 Apr 01:10 BST = 00:10 UTC.
    let e = cal(
        "Europe/London",
        &[("sun", "01:10", "02:00"), ("sat", "10:00", "11:00")],
        vec![],
    );
    assert!(!e.is_open(t("2026-03-29T01:05:00Z")));
    assert_eq!(
        e.next_open(t("2026-03-28T12:00:00Z")),
        Some(t("2026-04-04T09:00:00Z"))
    ); // Sat 10:00 BST
    assert_eq!(
        e.next_open(t("2026-04-04T10:00:00Z")),
        Some(t("2026-04-05T00:10:00Z"))
    );
    // Sunday 29 Mar has no open hours, so it is not an open day: 1 business day from Sat
    // 28 Mar 10:30 GMT skips it and lands on Sat 4 Apr 10:30 BST = 09:30 UTC.
    assert_eq!(
        e.add_business_days(t("2026-03-28T10:30:00Z"), 1),
        Some(t("2026-04-04T09:30:00Z"))
    );
}

#[test]
fn new_york_fall_back_repeated_hour() {
    // Sun 1 Nov 2026: 02:00 EDT → 01:00 EST; local 01:00-02:00 happens twice.
    // sun 00:30-03:00: 00:30 EDT (04:30 UTC) to 03:00 EST (08:00 UTC) = 3h30.
    let c = cal("America/New_York", &[("sun", "00:30", "03:00")], vec![]);
    assert_eq!(
        c.open_seconds_between(t("2026-10-31T12:00:00Z"), t("2026-11-02T12:00:00Z")),
        3 * H + 30 * M
    );
    assert_eq!(
        c.next_open(t("2026-10-31T12:00:00Z")),
        Some(t("2026-11-01T04:30:00Z"))
    );
    // 3 business hours from the opening: 04:30 + 3h = 07:30 UTC (02:30 EST).
    assert_eq!(
        c.add_open_seconds(t("2026-11-01T04:30:00Z"), 3 * H),
        Some(t("2026-11-01T07:30:00Z"))
    );
    // The next Sunday is an ordinary 2h30 (00:30-03:00 EST = 05:30-08:00 UTC).
    assert_eq!(
        c.open_seconds_between(t("2026-11-07T12:00:00Z"), t("2026-11-09T12:00:00Z")),
        2 * H + 30 * M
    );
    // Ending in the fold takes the earlier 01:30 (EDT, 05:30 UTC): 00:30-01:30 is 1h.
    let e = cal("America/New_York", &[("sun", "00:30", "01:30")], vec![]);
    assert_eq!(
        e.open_seconds_between(t("2026-10-31T12:00:00Z"), t("2026-11-02T12:00:00Z")),
        H
    );
    // Starting in the fold: 01:30 EDT (05:30 UTC) to 02:30 EST (07:30 UTC) = 2h.
    let s = cal("America/New_York", &[("sun", "01:30", "02:30")], vec![]);
    assert_eq!(
        s.open_seconds_between(t("2026-10-31T12:00:00Z"), t("2026-11-02T12:00:00Z")),
        2 * H
    );
    assert!(s.is_open(t("2026-11-01T06:30:00Z"))); // 01:30 EST, the second 01:30
}

#[test]
fn new_york_spring_forward_gap() {
    // Sun 8 Mar 2026: 02:00 EST → 03:00 EDT.
    // sun 02:10-03:00 → 03:10-03:00 EDT, empty: that Sunday has no open hours.
    let c = cal("America/New_York", &[("sun", "02:10", "03:00")], vec![]);
    assert!(!c.is_open(t("2026-03-08T07:05:00Z")));
    // Next opening: Sun 15 Mar 02:10 EDT = 06:10 UTC.
    assert_eq!(
        c.next_open(t("2026-03-07T12:00:00Z")),
        Some(t("2026-03-15T06:10:00Z"))
    );
    // A week earlier (EST) it was open 02:10-03:00 EST = 07:10-08:00 UTC.
    assert!(c.is_open(t("2026-03-01T07:30:00Z")));
    // sun 02:30-05:00: 02:30 → 03:30 EDT (07:30 UTC); 05:00 EDT = 09:00 UTC → 1h30.
    let d = cal("America/New_York", &[("sun", "02:30", "05:00")], vec![]);
    assert_eq!(
        d.next_open(t("2026-03-07T12:00:00Z")),
        Some(t("2026-03-08T07:30:00Z"))
    );
    assert_eq!(
        d.open_seconds_between(t("2026-03-07T12:00:00Z"), t("2026-03-09T00:00:00Z")),
        90 * M
    );
}

#[test]
fn new_york_24x7_short_day() {
    // Example 18: a 24x7 New York calendar; from Sat 7 Mar 12:00 EST (17:00 UTC):
    // 24 business hours → Sun 8 Mar 17:00 UTC (13:00 EDT); 1 business day → Sun 12:00 EDT
    // (16:00 UTC), 23 real hours later.
    let fast = cal("America/New_York", &[("mon-sun", "00:00", "24:00")], vec![]);
    assert!(fast.always_open);
    // The same calendar with a far-off holiday takes the general path; answers must agree.
    let slow = cal(
        "America/New_York",
        &[("mon-sun", "00:00", "24:00")],
        vec![date(2030, 1, 1)],
    );
    assert!(!slow.always_open);
    for c in [&fast, &slow] {
        let start = t("2026-03-07T17:00:00Z");
        assert_eq!(
            c.add_open_seconds(start, 24 * H),
            Some(t("2026-03-08T17:00:00Z"))
        );
        assert_eq!(
            c.add_business_days(start, 1),
            Some(t("2026-03-08T16:00:00Z"))
        );
        assert_eq!(
            c.open_seconds_between(start, t("2026-03-09T17:00:00Z")),
            48 * H
        );
        assert!(c.is_open(t("2026-03-08T07:30:00Z")));
        assert_eq!(
            c.next_open(t("2026-03-08T06:59:59Z")),
            Some(t("2026-03-08T06:59:59Z"))
        );
    }
    assert!(!slow.is_open(t("2030-01-01T12:00:00Z")));
    assert_eq!(
        slow.next_open(t("2030-01-01T12:00:00Z")),
        Some(t("2030-01-02T05:00:00Z"))
    );
}

// ---- pauses ----------------------------------------------------------------------------------

#[test]
fn pause_spanning_closed_hours() {
    let c = london_weekdays();
    // Running from Mon 2 Mar 15:00, paused Mon 16:00 → Tue 10:00, now Tue 12:00.
    let (start, pause, resume, now) = (
        t("2026-03-02T15:00:00Z"),
        t("2026-03-02T16:00:00Z"),
        t("2026-03-03T10:00:00Z"),
        t("2026-03-03T12:00:00Z"),
    );
    // Elapsed: Mon 15:00-16:00 (1h) + Tue 10:00-12:00 (2h) = 3h; the night adds nothing.
    let elapsed = c.open_seconds_between(start, pause) + c.open_seconds_between(resume, now);
    assert_eq!(elapsed, 3 * H);
    // = all open time (Mon 2h30 + Tue 3h) minus the pause's open time (Mon 1h30 + Tue 1h).
    assert_eq!(
        c.open_seconds_between(start, now) - c.open_seconds_between(pause, resume),
        3 * H
    );
}

#[test]
fn pauses_push_deadlines_by_the_open_time_they_span() {
    let c = london_weekdays();
    // Example 14: 4h from Mon 2 Mar 09:00; Pending 10:00-14:00: 1h used, 3h remain from
    // 14:00 → Mon 17:00.
    let used = c.open_seconds_between(t("2026-03-02T09:00:00Z"), t("2026-03-02T10:00:00Z"));
    assert_eq!(
        c.add_open_seconds(t("2026-03-02T14:00:00Z"), 4 * H - used),
        Some(t("2026-03-02T17:00:00Z"))
    );
    // Example 15: 2 business days from Mon 2 Mar 10:00 → Wed 10:00; a pause Mon 15:00 → Tue
    // 11:00 spans 2h30 + 2h = 4h30 open; Wed 10:00 + 4h30 open → Wed 14:30.
    let due = c.add_business_days(t("2026-03-02T10:00:00Z"), 2).unwrap();
    assert_eq!(due, t("2026-03-04T10:00:00Z"));
    let paused = c.open_seconds_between(t("2026-03-02T15:00:00Z"), t("2026-03-03T11:00:00Z"));
    assert_eq!(paused, 4 * H + 30 * M);
    assert_eq!(
        c.add_open_seconds(due, paused),
        Some(t("2026-03-04T14:30:00Z"))
    );
    // Example 16: 2 days from Tue 3 Mar 14:00 → Thu 14:00; 3h30 + 8h30 + 5h = 17h open;
    // 75% = 12h45 → Tue 3h30, Wed 8h30, Thu 09:00 + 45 min → Thu 09:45.
    let start = t("2026-03-03T14:00:00Z");
    let due = c.add_business_days(start, 2).unwrap();
    let size = c.open_seconds_between(start, due);
    assert_eq!(size, 17 * H);
    assert_eq!(
        c.add_open_seconds(start, size * 75 / 100),
        Some(t("2026-03-05T09:45:00Z"))
    );
}

// ---- loading, holidays, guard ----------------------------------------------------------------

#[test]
fn holidays_ranges_and_leap_days() {
    // Inclusive range across a year end, and a yearly Feb 29.
    let c = cal(
        "UTC",
        &[("mon-fri", "09:00", "17:00")],
        vec![
            HolidaySpec::Range {
                from: (2026, 12, 24),
                to: (2027, 1, 4),
            },
            HolidaySpec::Yearly { month: 2, day: 29 },
        ],
    );
    assert!(!c.is_open(t("2026-12-24T10:00:00Z")));
    assert!(!c.is_open(t("2027-01-04T10:00:00Z"))); // Monday, last day of the range
    assert_eq!(
        c.next_open(t("2026-12-23T18:00:00Z")),
        Some(t("2027-01-05T09:00:00Z"))
    );
    // Tue 29 Feb 2028 is closed; 2027 has no Feb 29 and Mon 1 Mar 2027 is open.
    assert!(!c.is_open(t("2028-02-29T10:00:00Z")));
    assert!(c.is_open(t("2028-02-28T10:00:00Z")));
    assert!(c.is_open(t("2027-03-01T10:00:00Z")));
    // Overlapping ranges and duplicate dates normalise.
    let d = cal(
        "UTC",
        &[("mon-sun", "09:00", "10:00")],
        vec![
            HolidaySpec::Range {
                from: (2026, 3, 1),
                to: (2026, 3, 10),
            },
            HolidaySpec::Range {
                from: (2026, 3, 5),
                to: (2026, 3, 12),
            },
            date(2026, 3, 3),
            date(2026, 3, 3),
        ],
    );
    assert_eq!(d.holidays.ranges.len(), 1);
    assert_eq!(
        d.next_open(t("2026-02-28T12:00:00Z")),
        Some(t("2026-03-13T09:00:00Z"))
    );
}

#[test]
fn closed_for_years_gives_up() {
    // Everything is a holiday from 2026 to 2040: no answer within ten years.
    let c = cal(
        "Europe/London",
        &[("mon-fri", "09:00", "17:30")],
        vec![HolidaySpec::Range {
            from: (2026, 1, 1),
            to: (2040, 12, 31),
        }],
    );
    let t0 = t("2026-03-02T10:00:00Z");
    assert_eq!(c.next_open(t0), None);
    assert_eq!(c.add_open_seconds(t0, H), None);
    assert_eq!(c.add_business_days(t0, 1), None);
    assert!(!c.is_open(t0));
    assert_eq!(c.open_seconds_between(t0, t("2027-03-02T10:00:00Z")), 0);
    // Closed until the end of 2030 only: Wed 1 Jan 2031 09:00 GMT is found.
    let d = cal(
        "Europe/London",
        &[("mon-fri", "09:00", "17:30")],
        vec![HolidaySpec::Range {
            from: (2026, 1, 1),
            to: (2030, 12, 31),
        }],
    );
    assert_eq!(d.next_open(t0), Some(t("2031-01-01T09:00:00Z")));
    assert_eq!(d.add_business_days(t0, 1), Some(t("2031-01-02T09:00:00Z")));
    // open_seconds_between is bounded by `to`, not by the search limit: it sees 2041.
    let e = c.open_seconds_between(t0, t("2041-01-03T00:00:00Z"));
    assert_eq!(e, 2 * (8 * H + 30 * M)); // Tue 1 and Wed 2 Jan 2041 (GMT)
}

#[test]
fn load_errors() {
    let bad_zone = spec("Mars/Olympus_Mons", &[("mon", "09:00", "17:00")], vec![]);
    assert!(
        Calendar::new(&bad_zone)
            .unwrap_err()
            .contains("unknown time zone")
    );
    assert!(Calendar::new(&spec("Etc/Unknown", &[("mon", "09:00", "17:00")], vec![])).is_err());
    // Zone names are matched without regard to ASCII case, as jiff's database does.
    assert!(Calendar::new(&spec("europe/london", &[("mon", "09:00", "17:00")], vec![])).is_ok());
    let no_hours = spec("UTC", &[], vec![]);
    assert!(
        Calendar::new(&no_hours)
            .unwrap_err()
            .contains("no open hours")
    );
    let empty = CalendarSpec {
        hours: vec![Interval {
            weekday: 0,
            from_minute: 600,
            to_minute: 600,
        }],
        ..spec("UTC", &[], vec![])
    };
    assert!(Calendar::new(&empty).is_err());
    let bad_day = CalendarSpec {
        hours: vec![Interval {
            weekday: 7,
            from_minute: 600,
            to_minute: 700,
        }],
        ..spec("UTC", &[], vec![])
    };
    assert!(Calendar::new(&bad_day).is_err());
    assert!(
        Calendar::new(&spec(
            "UTC",
            &[("mon", "09:00", "17:00")],
            vec![date(2026, 2, 30)]
        ))
        .is_err()
    );
    assert!(
        Calendar::new(&spec(
            "UTC",
            &[("mon", "09:00", "17:00")],
            vec![HolidaySpec::Yearly { month: 4, day: 31 }]
        ))
        .is_err()
    );
    let reversed = HolidaySpec::Range {
        from: (2026, 3, 5),
        to: (2026, 3, 1),
    };
    assert!(Calendar::new(&spec("UTC", &[("mon", "09:00", "17:00")], vec![reversed])).is_err());
    // `to_minute == 0` is read as 24:00.
    let midnight = CalendarSpec {
        hours: vec![Interval {
            weekday: 0,
            from_minute: 1320,
            to_minute: 0,
        }],
        ..spec("UTC", &[], vec![])
    };
    let m = Calendar::new(&midnight).unwrap();
    assert_eq!(
        m.week[0],
        vec![LocalSpan {
            from: 22 * H,
            to: DAY
        }]
    );
}

#[test]
fn always_calendar() {
    let c = Calendar::always();
    assert_eq!(c, Calendar::new(&CalendarSpec::always()).unwrap());
    assert_eq!(c.name(), "always");
    assert!(c.always_open);
    let t0 = t("2026-03-07T08:00:00Z");
    assert!(c.is_open(t0));
    assert_eq!(c.next_open(t0), Some(t0));
    assert_eq!(
        c.add_open_seconds(t0, 90 * M),
        Some(t("2026-03-07T09:30:00Z"))
    );
    assert_eq!(c.add_business_days(t0, 2), Some(t("2026-03-09T08:00:00Z")));
    assert_eq!(
        c.open_seconds_between(t0, t("2026-03-09T08:00:00Z")),
        48 * H
    );
}

#[test]
fn spec_serde_round_trip() {
    let mut s = spec(
        "Europe/London",
        &[("mon-fri", "09:00", "17:30"), ("fri", "22:00", "06:00")],
        london_holidays(),
    );
    s.holidays.push(HolidaySpec::Range {
        from: (2026, 7, 8),
        to: (2026, 9, 1),
    });
    let json = serde_json::to_string(&s).unwrap();
    let back: CalendarSpec = serde_json::from_str(&json).unwrap();
    assert_eq!(back, s);
    assert_eq!(Calendar::new(&back).unwrap(), Calendar::new(&s).unwrap());
}

// ---- properties ------------------------------------------------------------------------------

/// xorshift64*: a deterministic pseudo-random sequence.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: i64) -> i64 {
        (self.next() % n as u64) as i64
    }
}

fn property_calendars() -> Vec<Calendar> {
    vec![
        london(),
        london_weekdays(),
        split(),
        cal(
            "Europe/London",
            &[("mon-fri", "22:00", "06:00")],
            vec![date(2026, 3, 6), date(2026, 10, 23)],
        ),
        cal(
            "America/New_York",
            &[
                ("sun", "00:30", "03:00"),
                ("sun", "02:10", "03:00"),
                ("wed", "01:30", "02:30"),
            ],
            vec![],
        ),
        cal(
            "America/New_York",
            &[("mon-fri", "20:00", "04:00"), ("sat", "00:00", "12:00")],
            vec![],
        ),
        cal(
            "Australia/Lord_Howe",
            &[("mon-sun", "01:00", "03:00"), ("mon-sun", "23:30", "02:15")],
            vec![],
        ),
        Calendar::always(),
    ]
}

#[test]
fn add_and_count_are_consistent() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // 2026-01-01 .. 2027-01-01 covers both DST changes in both hemispheres.
    let (lo, span) = (t("2026-01-01T00:00:00Z").as_second(), 365 * DAY);
    for c in property_calendars() {
        for _ in 0..400 {
            let from = Timestamp::from_second(lo + rng.below(span)).unwrap();
            let to = Timestamp::from_second(from.as_second() + rng.below(20 * DAY)).unwrap();
            let open = c.open_seconds_between(from, to);
            assert!(open >= 0 && open <= to.as_second() - from.as_second());
            if open > 0 {
                let back = c.add_open_seconds(from, open).unwrap();
                assert!(
                    back <= to,
                    "{}: add({from}, {open}) = {back} > {to}",
                    c.name
                );
                assert_eq!(c.open_seconds_between(from, back), open);
            }
            let secs = rng.below(60 * H);
            let due = c.add_open_seconds(from, secs).unwrap();
            assert_eq!(
                c.open_seconds_between(from, due),
                secs,
                "{}: from {from} secs {secs}",
                c.name
            );
            if secs > 0 {
                // Earliest: one second less of elapsed time is not enough.
                assert_eq!(
                    c.open_seconds_between(
                        from,
                        Timestamp::from_second(due.as_second() - 1).unwrap()
                    ),
                    secs - 1
                );
                // Splitting the amount gives the same deadline.
                let part = rng.below(secs) + 1;
                let mid = c.add_open_seconds(from, part).unwrap();
                if part < secs {
                    assert_eq!(c.add_open_seconds(mid, secs - part), Some(due));
                }
            }
            let next = c.next_open(from).unwrap();
            assert!(next >= from && c.is_open(next));
            assert_eq!(c.open_seconds_between(from, next), 0);
            // Additivity over a split point.
            let mid = Timestamp::from_second(
                from.as_second() + rng.below(to.as_second() - from.as_second() + 1),
            )
            .unwrap();
            assert_eq!(
                c.open_seconds_between(from, mid) + c.open_seconds_between(mid, to),
                open
            );
            // Business days land on open instants or closing times, never earlier than the start.
            let days = rng.below(4);
            let bd = c.add_business_days(next, days).unwrap();
            assert!(bd >= next);
            let bd_ok =
                c.is_open(bd) || c.is_open(Timestamp::from_second(bd.as_second() - 1).unwrap());
            assert!(bd_ok, "{}: {days} days from {next} = {bd}", c.name);
        }
    }
}

#[test]
fn matches_a_minute_by_minute_oracle() {
    // UTC (no DST), so local time = UTC and a naive civil-time oracle is exact.
    let hours = [
        ("mon-thu", "08:00", "12:00"),
        ("mon-thu", "11:30", "17:00"),
        ("fri", "21:00", "03:00"),
        ("sat", "02:00", "05:00"),
    ];
    let holidays = vec![
        date(2026, 3, 13),
        HolidaySpec::Range {
            from: (2026, 3, 18),
            to: (2026, 3, 19),
        },
    ];
    let c = cal("UTC", &hours, holidays);
    let holiday = |d: Date| {
        d == Date::constant(2026, 3, 13)
            || (d >= Date::constant(2026, 3, 18) && d <= Date::constant(2026, 3, 19))
    };
    let spans: Vec<(u8, i64, i64)> = hours
        .iter()
        .flat_map(|(days, f, to)| {
            let (f, to) = (i64::from(minute(f)) * 60, i64::from(minute(to)) * 60);
            let to = if to < f { to + DAY } else { to };
            weekdays(days).into_iter().map(move |w| (w, f, to))
        })
        .collect();
    let oracle = |s: i64| {
        let day = s.div_euclid(DAY);
        (day - 1..=day).any(|d| {
            let date = TimeZone::UTC
                .to_datetime(Timestamp::from_second(d * DAY).unwrap())
                .date();
            let w = date.weekday().to_monday_zero_offset() as u8;
            !holiday(date)
                && spans
                    .iter()
                    .any(|&(sw, f, to)| sw == w && d * DAY + f <= s && s < d * DAY + to)
        })
    };
    let lo = t("2026-03-01T00:00:00Z").as_second();
    let mut total = 0;
    let mut next_opening: Option<i64> = None;
    // Walk backwards so that the next opening is known at every minute.
    let minutes: Vec<i64> = (0..28 * 24 * 60).map(|m| lo + m * 60).collect();
    let open: Vec<bool> = minutes.iter().map(|&s| oracle(s)).collect();
    for i in (0..minutes.len()).rev() {
        let s = minutes[i];
        if open[i] {
            next_opening = Some(s);
        }
        let ts = Timestamp::from_second(s).unwrap();
        assert_eq!(c.is_open(ts), open[i], "is_open at {ts}");
        if let Some(n) = next_opening {
            assert_eq!(
                c.next_open(ts),
                Some(Timestamp::from_second(n).unwrap()),
                "next_open at {ts}"
            );
        }
    }
    for (i, &s) in minutes.iter().enumerate() {
        let ts = Timestamp::from_second(s).unwrap();
        assert_eq!(
            c.open_seconds_between(t("2026-03-01T00:00:00Z"), ts),
            total * 60,
            "open until {ts}"
        );
        if open[i] {
            total += 1;
        }
    }
}
