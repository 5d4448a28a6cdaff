//! Loading calendars: holiday ranges, leap days, and the guards on what a calendar may say.

use super::*;

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
            .to_string()
            .contains("unknown time zone")
    );
    assert!(Calendar::new(&spec("Etc/Unknown", &[("mon", "09:00", "17:00")], vec![])).is_err());
    // Zone names are matched without regard to ASCII case, as jiff's database does.
    assert!(Calendar::new(&spec("europe/london", &[("mon", "09:00", "17:00")], vec![])).is_ok());
    let no_hours = spec("UTC", &[], vec![]);
    assert_eq!(
        Calendar::new(&no_hours).unwrap_err().to_string(),
        "calendar test has no open hours"
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

/// Each load error is a typed value whose message names the calendar and what is wrong.
#[test]
fn load_errors_are_typed() {
    let err = |s: CalendarSpec| Calendar::new(&s).unwrap_err();
    let hours = &[("mon", "09:00", "17:00")];
    let e = err(spec("Etc/Unknown", hours, vec![]));
    assert!(matches!(&e, CalendarError::UnknownZone { zone, .. } if zone == "Etc/Unknown"));
    assert!(
        e.to_string()
            .starts_with("calendar test: unknown time zone \"Etc/Unknown\""),
        "{e}"
    );
    assert_eq!(
        err(spec("UTC", &[], vec![])),
        CalendarError::NoOpenHours {
            calendar: "test".into()
        }
    );
    let empty = CalendarSpec {
        hours: vec![Interval {
            weekday: 0,
            from_minute: 600,
            to_minute: 600,
        }],
        ..spec("UTC", &[], vec![])
    };
    assert_eq!(
        err(empty).to_string(),
        "calendar test: invalid interval Interval { weekday: 0, from_minute: 600, to_minute: 600 }"
    );
    let e = err(spec("UTC", hours, vec![date(2026, 2, 30)]));
    assert!(matches!(
        e,
        CalendarError::InvalidHoliday {
            date: (2026, 2, 30),
            ..
        }
    ));
    assert!(
        e.to_string()
            .starts_with("calendar test: invalid holiday date 2026-02-30: "),
        "{e}"
    );
    let reversed = HolidaySpec::Range {
        from: (2026, 3, 5),
        to: (2026, 3, 1),
    };
    assert_eq!(
        err(spec("UTC", hours, vec![reversed])).to_string(),
        "calendar test: holiday range ends before it starts (2026-03-05..2026-03-01)"
    );
}
