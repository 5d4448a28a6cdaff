//! Business time over long spans, counted in closed form (docs/runtime.md, "Business time
//! over long spans"): it equals the day-by-day walk over instants millennia apart. (How
//! long that takes is measured, not asserted: docs/performance.md.)

use proptest::prelude::*;

use super::*;

/// Weeks in 400 Gregorian years (146,097 days): the calendar repeats exactly.
const WEEKS_PER_400_YEARS: i64 = 20_871;

fn office_utc(holidays: Vec<HolidaySpec>) -> Calendar {
    cal("UTC", &[("mon-fri", "09:00", "17:00")], holidays)
}

#[test]
fn open_time_between_instants_9200_years_apart_is_exact() {
    let c = office_utc(Vec::new());
    // 23 × 400 years: exactly 23 × 20,871 weeks of 5 × 8 open hours.
    let open = c.open_seconds_between(t("-004400-01-01T00:00:00Z"), t("4800-01-01T00:00:00Z"));
    assert_eq!(open, 23 * WEEKS_PER_400_YEARS * 5 * 8 * H);
    // A yearly holiday removes its open weekdays: 01-01 falls on each weekday equally often
    // over 400 years except as the calendar dictates, so compare with a split count.
    let h = office_utc(vec![HolidaySpec::Yearly { month: 1, day: 1 }]);
    let (a, m, b) = (
        t("-004400-01-01T00:00:00Z"),
        t("0123-06-15T10:30:00Z"),
        t("4800-01-01T00:00:00Z"),
    );
    let whole = h.open_seconds_between(a, b);
    assert!(whole < open, "the holidays close something");
    assert_eq!(
        whole,
        h.open_seconds_between(a, m) + h.open_seconds_between(m, b)
    );
}

#[test]
fn long_spans_in_zones_with_daylight_saving_are_additive() {
    for c in [
        london(),
        cal(
            "America/New_York",
            &[("mon-thu", "22:00", "06:00"), ("fri", "00:00", "24:00")],
            vec![
                HolidaySpec::Range {
                    from: (2030, 12, 20),
                    to: (2031, 1, 5),
                },
                HolidaySpec::Yearly { month: 7, day: 4 },
            ],
        ),
    ] {
        let (a, m, b) = (
            t("-009000-03-01T00:00:00Z"),
            t("2031-01-02T03:04:05Z"),
            t("9000-03-01T00:00:00Z"),
        );
        let whole = c.open_seconds_between(a, b);
        assert_eq!(
            whole,
            c.open_seconds_between(a, m) + c.open_seconds_between(m, b)
        );
        // Counting that much open time forward from `a` lands where the open time ends.
        let back = c.add_open_seconds(a, whole);
        let back = back.expect("the deadline exists");
        assert!(back <= b);
        assert_eq!(c.open_seconds_between(a, back), whole);
        assert!(c.is_open(back - jiff::SignedDuration::from_secs(1)));
    }
}

#[test]
fn a_target_9000_years_away_is_found_without_walking() {
    let c = office_utc(Vec::new());
    let from = t("-004400-01-01T00:00:00Z");
    // Wednesday 4800-01-05 12:00 is open (4800-01-01 is a Saturday).
    let to = t("4800-01-05T12:00:00Z");
    let secs = c.open_seconds_between(from, to);
    assert_eq!(c.add_open_seconds(from, secs), Some(to));
}

#[test]
fn a_holiday_range_longer_than_the_search_limit_still_ends_the_search() {
    // 12 closed years in the way: the search gives up (as the walk always did) …
    let long = office_utc(vec![HolidaySpec::Range {
        from: (2000, 1, 1),
        to: (2011, 12, 31),
    }]);
    let from = t("1000-01-01T00:00:00Z");
    let before = long.open_seconds_between(from, t("2000-01-01T00:00:00Z"));
    assert_eq!(long.add_open_seconds(from, before + H), None);
    // … and a shorter one is crossed: the first open hour after it, 2005-01-03 (a Monday).
    let short = office_utc(vec![HolidaySpec::Range {
        from: (2000, 1, 1),
        to: (2005, 1, 2),
    }]);
    assert_eq!(
        (short.add_open_seconds(from, before + H)),
        Some(t("2005-01-03T10:00:00Z"))
    );
}

/// Zones with daylight saving at 02:00 and at midnight (Sao Paulo until 2019), half-hour
/// saving (Lord Howe) and none. (Not a zone that skipped a whole day, as Pacific/Apia did
/// on 2011-12-30: there the interval of the skipped date resolves after the next date's,
/// which the walk's start order does not expect either.)
fn zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "UTC",
        "Europe/London",
        "America/New_York",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "America/Sao_Paulo",
    ])
}

fn interval() -> impl Strategy<Value = Interval> {
    (0u8..7, 0u16..48, 0u16..=48)
        .prop_filter("a valid interval", |(_, f, t)| {
            f != t && !(*f == 0 && *t == 0)
        })
        .prop_map(|(weekday, f, t)| Interval {
            weekday,
            from_minute: f * 30,
            to_minute: t * 30,
        })
}

fn holiday() -> impl Strategy<Value = HolidaySpec> {
    let day = (2010i16..2014, 1i8..=12, 1i8..=28);
    prop_oneof![
        day.clone()
            .prop_map(|(year, month, day)| HolidaySpec::Date { year, month, day }),
        (day.clone(), day).prop_map(|(a, b)| HolidaySpec::Range {
            from: a.min(b),
            to: a.max(b),
        }),
        (1i8..=12, 1i8..=29).prop_map(|(month, day)| HolidaySpec::Yearly { month, day }),
    ]
}

fn calendar() -> impl Strategy<Value = Calendar> {
    (
        zone(),
        prop::collection::vec(interval(), 1..5),
        prop::collection::vec(holiday(), 0..4),
    )
        .prop_map(|(tz, hours, holidays)| {
            Calendar::new(&CalendarSpec {
                name: "prop".into(),
                timezone: tz.into(),
                hours,
                holidays,
            })
            .unwrap()
        })
}

/// An instant between 2010 and 2019 (the holidays are in 2010–2013), to the second.
fn instant() -> impl Strategy<Value = Timestamp> {
    (1_262_304_000i64..1_546_300_800).prop_map(|s| Timestamp::from_second(s).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Spans up to 500 days: the short ones walk, the longer ones use the closed form.
    #[test]
    fn open_time_in_closed_form_equals_the_walk(
        c in calendar(),
        from in instant(),
        span in 0i64..500 * 86_400,
    ) {
        let to = from + jiff::SignedDuration::from_secs(span);
        prop_assert_eq!(c.open_seconds_between(from, to), c.open_seconds_walked(from, to));
    }

    /// Targets up to 200 days of open time: the longer ones skip ahead in closed form.
    #[test]
    fn deadlines_in_closed_form_equal_the_walk(
        c in calendar(),
        from in instant(),
        secs in 1i64..200 * 86_400,
    ) {
        prop_assert_eq!(c.add_open_seconds(from, secs), c.add_open_seconds_walked(from, secs));
    }
}
