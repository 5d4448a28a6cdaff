//! Business time across daylight-saving changes (Europe/London, America/New_York) and
//! pauses that span closed hours.

use super::*;

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
