//! Property test over examples/refunds: random sequences of valid and invalid event
//! lines (late, duplicated, truncated, mistyped, unknown), approvals by anyone, action
//! outcomes for issued and made-up keys, and clock advances. Whatever the sequence:
//! no panic; the ledger verifies; every line gets exactly one intake entry, in order; the
//! ledger's clock never goes back; no refund over the limit executes without a manager's
//! approval; and the same sequence replays to the same bytes.
//!
//! Deterministic: a fixed seed and no failure-persistence file.

use meshline_runtime::ledger::{self, Entry};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use serde_json::{Value, json};

use crate::common::{self, Lab, envelope};

const CASES: &[&str] = &["T-1", "T-2", "T-3", "ch_9"];
const PEOPLE: &[&str] = &[
    "dana@tallyhub.com",
    "luis@tallyhub.com",
    "marcus@tallyhub.com",
    "olivia@brightlane.co",
    "DANA@TallyHub.com",
    "x@y.z",
];
const MANAGERS: &[&str] = &["dana@tallyhub.com", "luis@tallyhub.com"];
const AMOUNTS: &[&str] = &[
    "79.00 USD",
    "250.00 USD",
    "250.01 USD",
    "480.00 USD",
    "5000.00 USD",
    "12.00 EUR",
    "0.00 USD",
];
const TAGS: &[&[&str]] = &[
    &["refund"],
    &["invoice"],
    &["dispute"],
    &[],
    &["refund", "dispute"],
];
const PRIORITIES: &[&str] = &["Low", "Normal", "High", "Urgent"];
const STATUSES: &[&str] = &["New", "Open", "Pending", "OnHold", "Solved"];
const JUNK: &[&str] = &[
    "null",
    "42",
    "\"str\"",
    "[]",
    "{}",
    "true",
    "1e308",
    "-1",
    "\"2026-13-45T00:00:00Z\"",
    "\"999999999999999999999999999.00 USD\"",
    "\"12 %\"",
    "[\"refund\", 3]",
];

fn pick<'a, T: ?Sized>(xs: &'a [&'a T], n: u32) -> &'a T {
    xs[n as usize % xs.len()]
}

/// What the interpreter needs between steps.
struct State {
    clock: i64,
    fresh: u32,
    ids: Vec<String>,
}

enum Step {
    Line(String),
    Advance(jiff::Timestamp),
}

fn at(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .expect("in range")
        .to_string()
}

fn ticket(case: &str, op: &[u32; 6]) -> Value {
    let mut t = common::ticket(
        case,
        pick(TAGS, op[2]),
        pick(PRIORITIES, op[3]),
        pick(STATUSES, op[4]),
    );
    t["requester"] = json!(pick(PEOPLE, op[4] >> 8));
    t
}

/// A valid line for `op` (the caller may damage it).
fn valid(op: &[u32; 6], st: &mut State, lab: &Lab) -> String {
    // Time: mostly forward by up to 6h, sometimes back by up to 2h (a late event).
    let dt = if op[1] % 100 < 8 {
        -((op[1] % 7200) as i64)
    } else {
        (op[1] % 21_600) as i64
    };
    let t = st.clock + dt;
    st.clock = st.clock.max(t);
    let id = if op[5].is_multiple_of(10) && !st.ids.is_empty() {
        st.ids[(op[5] / 10) as usize % st.ids.len()].clone()
    } else {
        st.fresh += 1;
        let id = format!("p-{}", st.fresh);
        st.ids.push(id.clone());
        id
    };
    let case = pick(CASES, op[2] >> 4);
    let when = at(t);
    match op[0] % 17 {
        0..=2 => envelope(
            &id,
            "TicketCreated",
            &when,
            case,
            json!({ "ticket": ticket(case, op), "channel": "Email" }),
        ),
        3 => envelope(
            &id,
            "TicketUpdated",
            &when,
            case,
            json!({ "ticket": ticket(case, op) }),
        ),
        4 | 5 => {
            common::refund_requested(&id, &when, case, pick(AMOUNTS, op[3]), pick(PEOPLE, op[4]))
        }
        6 | 7 => {
            let gate = if op[3].is_multiple_of(8) {
                "bogus_gate"
            } else {
                "manager_approval"
            };
            common::approval(&id, &when, case, true, gate, pick(PEOPLE, op[4]))
        }
        8 => common::approval(
            &id,
            &when,
            case,
            false,
            "manager_approval",
            pick(PEOPLE, op[4]),
        ),
        9 => envelope(
            &id,
            "OwnerAcknowledged",
            &when,
            case,
            json!({ "by": pick(PEOPLE, op[4]) }),
        ),
        10 => envelope(
            &id,
            "ReplySent",
            &when,
            case,
            json!({ "by": pick(PEOPLE, op[4]), "public": op[3].is_multiple_of(2) }),
        ),
        11 => envelope(
            &id,
            "RefundIssued",
            &when,
            case,
            json!({ "refund": { "id": "re_1", "charge_id": format!("ch_{case}"),
                                "amount": pick(AMOUNTS, op[3]), "reason": "Duplicate" } }),
        ),
        12 => envelope(
            &id,
            "PaymentFailed",
            &when,
            case,
            json!({
                "charge": { "id": format!("ch_{case}"), "customer": format!("cus_{}", op[3] % 5),
                            "amount": "10.00 USD", "amount_refunded": "0.00 USD", "status": "Failed",
                            "created_at": "2026-03-01T00:00:00Z" },
                "failure_code": if op[3].is_multiple_of(3) { "card_declined" } else { "processing_error" },
                "attempt": op[4] % 3,
            }),
        ),
        13 | 14 => {
            // An outcome for an issued action (by index), or for a made-up key.
            let keys: Vec<(String, String, String)> = lab
                .commands
                .iter()
                .filter(|c| c.body["kind"] == "action")
                .filter_map(|c| {
                    Some((
                        c.body["case"].as_str()?.to_string(),
                        format!(
                            "{}.{}",
                            c.body["connector"].as_str()?,
                            c.body["action"].as_str()?
                        ),
                        c.body["key"].as_str()?.to_string(),
                    ))
                })
                .collect();
            let (case, action, key) = if keys.is_empty() || op[3].is_multiple_of(7) {
                (
                    case.to_string(),
                    "stripe.refund".to_string(),
                    format!("{:064x}", op[4]),
                )
            } else {
                keys[op[3] as usize % keys.len()].clone()
            };
            if op[0] % 17 == 13 {
                common::action_succeeded(&id, &when, &case, &key, &action)
            } else {
                envelope(
                    &id,
                    "ActionFailed",
                    &when,
                    &case,
                    json!({ "key": key, "action": action, "retryable": op[5].is_multiple_of(3), "reason": "boom" }),
                )
            }
        }
        15 => envelope(
            &id,
            "BreakerReset",
            &when,
            case,
            json!({ "automation": if op[3].is_multiple_of(2) { "refund_and_sync" } else { "nope" }, "by": pick(PEOPLE, op[4]) }),
        ),
        _ => envelope(&id, "CustomerReplied", &when, case, json!({ "body": null })),
    }
}

fn step(op: &[u32; 6], st: &mut State, lab: &Lab) -> Step {
    match op[5] % 16 {
        // Advance the clock by up to 3 days.
        0 => {
            st.clock += (op[1] % 259_200) as i64;
            Step::Advance(jiff::Timestamp::from_second(st.clock).expect("in range"))
        }
        // Truncated at a random byte (kept on a char boundary).
        1 => {
            let mut l = valid(op, st, lab);
            let mut cut = op[3] as usize % l.len().max(1);
            while !l.is_char_boundary(cut) {
                cut -= 1;
            }
            l.truncate(cut);
            Step::Line(l)
        }
        // A field (of the envelope or of its data) replaced by junk.
        2 | 3 => {
            let mut v: Value = serde_json::from_str(&valid(op, st, lab)).expect("valid JSON");
            let junk: Value = serde_json::from_str(pick(JUNK, op[4])).expect("junk is JSON");
            let env_keys = ["id", "type", "at", "case", "data"];
            let data_keys: Vec<String> = v["data"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            if op[3].is_multiple_of(2) || data_keys.is_empty() {
                v[pick(&env_keys, op[3] >> 1)] = junk;
            } else {
                let k = &data_keys[(op[3] >> 1) as usize % data_keys.len()];
                v["data"][k] = junk;
            }
            Step::Line(v.to_string())
        }
        // Not JSON, or an event type nobody declared.
        4 => Step::Line(match op[3] % 3 {
            0 => format!("garbage {} \u{1F600} \"", op[4]),
            1 => envelope(
                &format!("u-{}", op[4]),
                "Unheard",
                &at(st.clock),
                "T-1",
                json!({}),
            ),
            _ => String::from("{\"id\":"),
        }),
        _ => Step::Line(valid(op, st, lab)),
    }
}

/// Runs the ops; returns the lab and the lines applied.
fn play(ops: &[[u32; 6]]) -> (Lab, Vec<String>) {
    let mut lab = Lab::refunds();
    let mut st = State {
        clock: common::ts("2026-03-02T13:00:00Z").as_second(),
        fresh: 0,
        ids: Vec::new(),
    };
    let mut lines = Vec::new();
    for op in ops {
        match step(op, &mut st, &lab) {
            Step::Advance(t) => {
                lab.engine.advance_to(t);
                let (e, c) = lab.engine.drain();
                lab.entries.extend(e);
                lab.commands.extend(c);
            }
            Step::Line(l) => {
                let before = lab.entries.len();
                let out = lab.send(&l);
                let intake: Vec<&Entry> =
                    out.iter().filter(|e| common::is_intake(&e.kind)).collect();
                assert_eq!(
                    intake.len(),
                    1,
                    "line {l} gave {:?}",
                    common::kind_list(&out)
                );
                assert_eq!(lab.entries.len(), before + out.len());
                lines.push(l);
            }
        }
    }
    (lab, lines)
}

fn check(ops: &[[u32; 6]]) {
    let (lab, lines) = play(ops);
    let text = lab.ledger_text();
    if let Err(e) = ledger::verify(&text) {
        panic!("the ledger does not verify: {e}\n{}", lab.dump());
    }
    for w in lab.entries.windows(2) {
        assert!(
            w[0].at <= w[1].at,
            "clock went back at seq {}\n{}",
            w[1].seq,
            lab.dump()
        );
    }
    assert!(
        lab.entries
            .iter()
            .filter(|e| common::is_intake(&e.kind))
            .count()
            == lines.len()
    );
    // Safety: a USD refund over 250 executes only after a manager approved it on that case.
    for case in CASES {
        let approved: Vec<&Entry> = lab
            .entries
            .iter()
            .filter(|e| e.case.as_deref() == Some(*case) && e.kind == "approved")
            .collect();
        for a in &approved {
            let by = a.detail["by"].as_str().unwrap_or_default();
            assert!(
                MANAGERS.contains(&by),
                "approved by a non-manager {by}\n{}",
                lab.dump()
            );
        }
        let large = lab
            .entries
            .iter()
            .filter(|e| e.case.as_deref() == Some(*case) && e.kind == "executed")
            .filter(|e| e.detail["action"] == "stripe.refund")
            .filter(|e| {
                let amount = e.detail["args"]["amount"].as_str().unwrap_or_default();
                amount.ends_with(" USD")
                    && amount
                        .trim_end_matches(" USD")
                        .parse::<f64>()
                        .is_ok_and(|a| a > 250.0)
            })
            .count();
        assert!(
            large <= approved.len(),
            "{case}: {large} large refunds executed, {} approvals\n{}",
            approved.len(),
            lab.dump()
        );
    }
    // The same lines replay to the same bytes (with the same advances).
    let (again, _) = play(ops);
    assert_eq!(again.ledger_text(), text, "replay differs");
    let cmds = |l: &Lab| l.commands.iter().map(|c| c.to_line()).collect::<Vec<_>>();
    assert_eq!(cmds(&again), cmds(&lab), "replayed commands differ");
}

proptest! {
    #![proptest_config(Config {
        cases: 96,
        rng_seed: RngSeed::Fixed(0x6d65_7368_6c69_6e65),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn random_streams_never_panic_and_always_verify(
        ops in prop::collection::vec(any::<[u32; 6]>(), 1..80)
    ) {
        check(&ops);
    }
}

/// A long fixed stream through the same checks (cheap, and independent of proptest).
#[test]
fn a_long_pseudo_random_stream() {
    // xorshift, fixed seed.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u32
    };
    let ops: Vec<[u32; 6]> = (0..1500)
        .map(|_| [next(), next(), next(), next(), next(), next()])
        .collect();
    check(&ops);
}
