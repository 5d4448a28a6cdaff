//! Small statistics the figures share: percentiles by nearest rank, the ledger's duration
//! texts (`8h15m50s`) in seconds, duration histograms, and rejection reasons grouped by
//! their words.

/// The p-th percentile (0 < p ≤ 100) of `values` by the nearest-rank method: the smallest
/// value with at least p% of the values at or below it. `None` for no values.
pub(crate) fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // rank = ceil(p/100 · n), at least 1.
    let rank = (usize::try_from(p).unwrap_or(100) * n).div_ceil(100).max(1);
    sorted.get(rank.min(n) - 1).copied()
}

/// p50, p90 and max of a sample (sorted here).
pub(crate) fn summary(values: &mut [i64]) -> Spread {
    values.sort_unstable();
    Spread {
        count: values.len() as u64,
        p50: percentile(values, 50),
        p90: percentile(values, 90),
        max: values.last().copied(),
    }
}

/// A distribution summary, in seconds.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Spread {
    pub count: u64,
    pub p50: Option<i64>,
    pub p90: Option<i64>,
    pub max: Option<i64>,
}

/// Seconds in a ledger duration text: digits followed by `w`, `d`, `h`, `m` or `s`, any
/// number of times (`1h30m`, `28s`, `2d`). `None` for anything else.
pub(crate) fn duration_seconds(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut number: i64 = 0;
    let mut digits = false;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = number.checked_mul(10)?.checked_add(i64::from(d))?;
            digits = true;
            continue;
        }
        let unit = match c {
            'w' => 604_800,
            'd' => 86_400,
            'h' => 3_600,
            'm' => 60,
            's' => 1,
            _ => return None,
        };
        if !digits {
            return None;
        }
        total = total.checked_add(number.checked_mul(unit)?)?;
        number = 0;
        digits = false;
    }
    (!digits && !text.is_empty()).then_some(total)
}

/// Seconds as a duration text, largest unit first (`90061` → `1d1h1m1s`; `0` → `0s`).
pub fn format_seconds(mut s: i64) -> String {
    if s <= 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= size {
            out.push_str(&(s / size).to_string());
            out.push_str(unit);
            s %= size;
        }
    }
    out
}

/// `part / whole` as a percentage with one decimal, `None` when `whole` is 0.
pub(crate) fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_seconds("8h15m50s"), Some(29_750));
        assert_eq!(duration_seconds("28s"), Some(28));
        assert_eq!(duration_seconds("2d"), Some(172_800));
        assert_eq!(duration_seconds("1 business day"), None);
        assert_eq!(duration_seconds("15"), None);
        assert_eq!(duration_seconds(""), None);
        assert_eq!(format_seconds(90_061), "1d1h1m1s");
        assert_eq!(format_seconds(0), "0s");
    }

    #[test]
    fn percents() {
        assert_eq!(percent(1, 3), Some(33.3));
        assert_eq!(percent(2, 3), Some(66.7));
        assert_eq!(percent(0, 0), None);
    }
}

/// Time-to-ownership buckets, as an operations lead reads them.
pub(crate) fn histogram(seconds: impl Iterator<Item = i64>) -> Vec<(String, u64)> {
    const BUCKETS: [(&str, i64); 7] = [
        ("< 5m", 300),
        ("5-15m", 900),
        ("15-30m", 1_800),
        ("30m-1h", 3_600),
        ("1-4h", 14_400),
        ("4-24h", 86_400),
        ("> 24h", i64::MAX),
    ];
    let mut counts = [0u64; 7];
    for s in seconds {
        let i = BUCKETS.iter().position(|&(_, max)| s < max).unwrap_or(6);
        counts[i] += 1;
    }
    BUCKETS
        .iter()
        .zip(counts)
        .map(|(&(label, _), n)| (label.to_string(), n))
        .collect()
}

/// A reason's class: the text before the first `: ` or ` (` (with the next part when the
/// first is one name, such as an event type), with quoted names (between backticks),
/// addresses and numbers left out, so `unknown event type `Foo`` and `… `Bar`` count together.
pub(crate) fn reason_class(reason: &str) -> String {
    // The words before the first `: ` (and before a parenthesis); when they are one name
    // (an event type: `TicketCreated: field …`), the next part too.
    let mut parts = reason.split(": ");
    let first = parts.next().unwrap_or(reason);
    let head = match parts.next() {
        Some(second) if !first.contains(' ') => format!("{first}: {second}"),
        _ => first.to_string(),
    };
    let head = head.split(" (").next().unwrap_or(&head);
    // People's addresses are names too: `ana@x.io is not a member …` → `… is not a member …`.
    let head: String = head
        .split(' ')
        .map(|w| if w.contains('@') { "`@`" } else { w })
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = String::with_capacity(head.len());
    let mut quoted = false;
    for ch in head.chars() {
        match ch {
            '`' => {
                if !quoted {
                    out.push('…');
                }
                quoted = !quoted;
            }
            _ if quoted => {}
            c if c.is_ascii_digit() => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            c => out.push(c),
        }
    }
    let out = out.trim().to_string();
    if out.is_empty() {
        "(no reason)".into()
    } else {
        out
    }
}

#[cfg(test)]
mod reason_tests {
    use super::reason_class;

    #[test]
    fn reasons_group_by_their_words() {
        assert_eq!(
            reason_class("not valid JSON: expected value at line 1 column 1"),
            "not valid JSON"
        );
        assert_eq!(
            reason_class("unknown event type `Foo`"),
            "unknown event type …"
        );
        assert_eq!(
            reason_class("not valid UTF-8 (at byte 17)"),
            "not valid UTF-#"
        );
        assert_eq!(reason_class(""), "(no reason)");
        assert_eq!(
            reason_class("TicketCreated: field `ticket`: missing field `type`"),
            "TicketCreated: field …"
        );
        assert_eq!(
            reason_class("unknown event type `X` (this bundle receives: A, B)"),
            "unknown event type …"
        );
        assert_eq!(
            reason_class("li@agency.io is not a member of finance_managers"),
            "… is not a member of finance_managers"
        );
    }
}
