//! A deployment plan (docs/deploy.md, "Deployment plans"): what deploying a bundle over
//! live state would do, without doing it — the bundle diff by declaration, whether the
//! deployment would be refused and why, running SLA clocks it reschedules (and by how
//! much), held actions of automations or gates it changes, and automations whose rollout
//! changes. `meshline deploy plan --state FILE|--url URL` and `POST /admin/bundle?plan` share
//! it.
//!
//! The live effects are measured on a copy of the engine (restored from its snapshot) that
//! takes the deployment; the engine itself is not touched.

use std::collections::BTreeSet;

use meshline_runtime::Engine;
use meshline_runtime::ir::Program;
use serde_json::{Map, Value as Json, json};

use crate::error::{self, ServeError};
use crate::state::Location;

/// Declarations by name, old against new: `{added, removed, changed}` (names, sorted).
fn diff<T: PartialEq>(old: &[T], new: &[T], name: impl Fn(&T) -> String) -> Json {
    let find = |list: &[T], n: &str| list.iter().find(|x| name(x) == n).map(|_| ());
    let (mut added, mut removed, mut changed) = (Vec::new(), Vec::new(), Vec::new());
    for n in new.iter().map(&name).collect::<BTreeSet<_>>() {
        match old.iter().find(|x| name(x) == n) {
            None => added.push(n),
            Some(o) => {
                if new.iter().find(|x| name(x) == n) != Some(o) {
                    changed.push(n);
                }
            }
        }
    }
    for n in old.iter().map(&name).collect::<BTreeSet<_>>() {
        if find(new, &n).is_none() {
            removed.push(n);
        }
    }
    json!({ "added": added, "removed": removed, "changed": changed })
}

/// The bundle diff by declaration kind (kinds with no difference left out), and the
/// unnamed rules that changed (`classify`, `owners`, …).
pub fn declarations(old: &Program, new: &Program) -> Json {
    let mut out = Map::new();
    let mut put = |kind: &str, d: Json| {
        let empty = ["added", "removed", "changed"]
            .iter()
            .all(|k| d[k].as_array().is_some_and(Vec::is_empty));
        if !empty {
            out.insert(kind.to_string(), d);
        }
    };
    put("enums", diff(&old.enums, &new.enums, |x| x.name.clone()));
    put(
        "records",
        diff(&old.records, &new.records, |x| x.name.clone()),
    );
    put("events", diff(&old.events, &new.events, |x| x.name.clone()));
    put("facts", diff(&old.slots, &new.slots, |x| x.name.clone()));
    put(
        "constants",
        diff(&old.consts, &new.consts, |x| x.name.clone()),
    );
    put(
        "functions",
        diff(&old.functions, &new.functions, |x| x.name.clone()),
    );
    put(
        "calendars",
        diff(&old.calendars, &new.calendars, |x| x.name.clone()),
    );
    put("teams", diff(&old.teams, &new.teams, |x| x.name.clone()));
    put("routes", diff(&old.routes, &new.routes, |x| x.name.clone()));
    put("slas", diff(&old.slas, &new.slas, |x| x.name.clone()));
    put(
        "actions",
        diff(&old.actions, &new.actions, |x| {
            format!("{}.{}", x.connector, x.name)
        }),
    );
    put("gates", diff(&old.gates, &new.gates, |x| x.name.clone()));
    put(
        "automations",
        diff(&old.automations, &new.automations, |x| x.name.clone()),
    );
    let mut rules = Vec::new();
    if old.classify != new.classify {
        rules.push("classify");
    }
    if old.owners != new.owners {
        rules.push("owners");
    }
    if old.acknowledge_within != new.acknowledge_within {
        rules.push("acknowledge_within");
    }
    if old.default_calendar != new.default_calendar {
        rules.push("default_calendar");
    }
    if old.lifecycle != new.lifecycle {
        rules.push("lifecycle");
    }
    if !rules.is_empty() {
        out.insert("rules".into(), json!(rules));
    }
    Json::Object(out)
}

/// Seconds between two RFC 3339 instants (`after − before`), if both parse.
fn seconds(before: &Json, after: &Json) -> Option<i64> {
    let t = |v: &Json| v.as_str()?.parse::<jiff::Timestamp>().ok();
    Some(t(after)?.as_second() - t(before)?.as_second())
}

/// The plan for deploying `bytes` over `engine`'s live state. `signature` is why the
/// bundle's signature would be refused, if it would (the caller checks it).
pub fn plan(engine: &Engine, bytes: &[u8], signature: Option<String>) -> Result<Json, String> {
    let (manifest, program, hash) =
        meshline_runtime::bundle::decode::<Program>(bytes).map_err(|e| e.to_string())?;
    let old = engine.program();
    let mut out = json!({
        "from": engine.bundle_hash(),
        "to": hash,
        "package": manifest.package,
        "version": manifest.version,
        "declarations": declarations(old, &program),
        "refused": Json::Null,
    });
    let rollouts: Vec<Json> = program
        .automations
        .iter()
        .filter_map(|a| {
            let was = old.automations.iter().find(|o| o.name == a.name)?;
            (was.rollout != a.rollout).then(|| {
                json!({
                    "automation": a.name,
                    "from": serde_json::to_value(&was.rollout).unwrap_or(Json::Null),
                    "to": serde_json::to_value(&a.rollout).unwrap_or(Json::Null),
                })
            })
        })
        .collect();
    out["rollouts"] = json!(rollouts);
    if hash == engine.bundle_hash() {
        // Deploying the deciding bundle again does nothing.
        out["refused"] = json!(signature);
        out["unchanged"] = json!(true);
        return Ok(out);
    }
    if let Some(why) = signature.or_else(|| engine.reload_incompatibility(&program)) {
        out["refused"] = json!(why);
        return Ok(out);
    }
    let snapshot = engine.snapshot().map_err(|e| e.to_string())?;
    let mut copy =
        Engine::restore(old.clone(), engine.bundle_hash(), &snapshot).map_err(|e| e.to_string())?;
    copy.reload(program.clone(), &hash)
        .map_err(|e| e.to_string())?;
    // What the migration by name does to each case a removal changes (docs/deploy.md,
    // "Migrations by name"): the `migrated` entries the deployment would write.
    let (entries, _) = copy.drain();
    let migrated: Vec<Json> = entries
        .iter()
        .filter(|e| e.kind == "migrated")
        .map(|e| {
            let mut m = e.detail.clone();
            m["case"] = json!(e.case);
            m
        })
        .collect();
    out["migrated"] = json!(migrated);
    let changed_autos: BTreeSet<&str> = program
        .automations
        .iter()
        .filter(|a| old.automations.iter().find(|o| o.name == a.name) != Some(*a))
        .map(|a| a.name.as_str())
        .collect();
    let changed_gates: BTreeSet<&str> = program
        .gates
        .iter()
        .filter(|g| old.gates.iter().find(|o| o.name == g.name) != Some(*g))
        .map(|g| g.name.as_str())
        .collect();
    // Removed ones (docs/deploy.md, "Migrations by name"): a removed gate keeps holding
    // its steps (retired), a removed automation's held runs are cancelled.
    let removed_autos: BTreeSet<&str> = old
        .automations
        .iter()
        .map(|a| a.name.as_str())
        .filter(|n| !program.automations.iter().any(|a| a.name == *n))
        .collect();
    let removed_gates: BTreeSet<&str> = old
        .gates
        .iter()
        .map(|g| g.name.as_str())
        .filter(|n| !program.gates.iter().any(|g| g.name == *n))
        .collect();
    let (mut clocks, mut held) = (Vec::new(), Vec::new());
    for id in engine.case_ids() {
        let (Some(before), Some(after)) = (engine.case_json(id), copy.case_json(id)) else {
            continue;
        };
        let empty = Vec::new();
        let after_clocks = after["clocks"].as_array().unwrap_or(&empty);
        for b in before["clocks"].as_array().unwrap_or(&empty) {
            let a = after_clocks.iter().find(|a| a["sla"] == b["sla"]);
            if let Some(a) = a.filter(|a| a["due"] != b["due"]) {
                clocks.push(json!({
                    "case": id, "sla": b["sla"], "from": b["due"], "to": a["due"],
                    "by_seconds": seconds(&b["due"], &a["due"]),
                }));
            }
        }
        for h in before["held"].as_array().unwrap_or(&empty) {
            let auto = h["automation"].as_str().unwrap_or("");
            let pending = || h["gates"].as_array().unwrap_or(&empty).iter();
            let gates: Vec<&str> = pending()
                .filter_map(Json::as_str)
                .filter(|g| changed_gates.contains(g))
                .collect();
            let gone: Vec<&str> = pending()
                .filter_map(Json::as_str)
                .filter(|g| removed_gates.contains(g))
                .collect();
            let auto_gone = removed_autos.contains(auto);
            if changed_autos.contains(auto) || !gates.is_empty() || auto_gone || !gone.is_empty() {
                held.push(json!({
                    "case": id, "automation": auto, "step": h["step"],
                    "automation_changed": changed_autos.contains(auto), "gates_changed": gates,
                    "automation_removed": auto_gone, "gates_removed": gone,
                }));
            }
        }
    }
    out["clocks"] = json!(clocks);
    out["held"] = json!(held);
    out["cases"] = json!(engine.case_ids().len());
    Ok(out)
}

/// The plan over a stored state: a back-up copy or a stopped server's file (only read;
/// a running server commits while it is read, so ask it with [`plan_url`]).
pub fn plan_state(
    state: &Location,
    bytes: &[u8],
    trusted: &[meshline_runtime::signing::PublicKey],
) -> Result<Json, ServeError> {
    let store = state.open_existing().map_err(ServeError::State)?;
    let first = store.bundle().map_err(error::state)?.ok_or_else(|| {
        ServeError::State(format!("{}: the state holds no bundle yet", state.show()))
    })?;
    let program = crate::stored::load_stored(&*store, &first).map_err(error::state)?;
    // On PostgreSQL a leader may commit while this reads: what replay wrote is checked.
    let recover = if state.is_postgres() {
        crate::recovery::recover_shared
    } else {
        crate::recovery::recover
    };
    // Commands are not part of a plan: the assignment setting does not matter here.
    let r = recover(&*store, program, &first, true, false, false)
        .map_err(|e| ServeError::State(format!("{}: {e}", state.show())))?;
    let signature = crate::deployment::note(bytes, "plan", trusted).err();
    plan(&r.engine, bytes, signature).map_err(ServeError::Bundle)
}

/// The plan from a running server: `POST URL/admin/bundle?plan` with the admin token.
pub fn plan_url(url: &str, token: &str, bytes: &[u8]) -> Result<Json, ServeError> {
    let config = ureq::Agent::config_builder()
        // A refusal's body says why: read it rather than fail on the status.
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(std::time::Duration::from_secs(300)))
        .user_agent(concat!("meshline/", env!("CARGO_PKG_VERSION")))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let endpoint = format!("{}/admin/bundle?plan", url.trim_end_matches('/'));
    let mut resp = agent
        .post(&endpoint)
        .header("Authorization", format!("Bearer {token}"))
        .send(bytes)
        .map_err(|e| ServeError::Io(format!("{endpoint}: {e}")))?;
    let code = resp.status().as_u16();
    let body = resp
        .body_mut()
        .read_to_string()
        .map_err(|e| ServeError::Io(format!("{endpoint}: {e}")))?;
    let parsed: Option<Json> = serde_json::from_str(&body).ok();
    match (code, parsed) {
        (200, Some(mut v)) => {
            if let Some(o) = v.as_object_mut() {
                o.remove("status");
            }
            Ok(v)
        }
        (_, Some(v)) => {
            let why = ["reason", "error"]
                .iter()
                .find_map(|k| v.get(*k).and_then(Json::as_str))
                .map_or_else(|| v.to_string(), str::to_string);
            Err(refused(code, format!("{endpoint}: HTTP {code}: {why}")))
        }
        (_, None) => Err(refused(code, format!("{endpoint}: HTTP {code}: {body}"))),
    }
}

/// A server's refusal: the token (401, 403) is a setting; anything else is about the bundle.
fn refused(code: u16, why: String) -> ServeError {
    match code {
        401 | 403 => ServeError::Config(why),
        _ => ServeError::Bundle(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use meshline_runtime::ir::EventDef;

    fn program(events: &[(&str, bool)]) -> Program {
        Program {
            events: events
                .iter()
                .map(|(n, facts)| EventDef {
                    name: n.to_string(),
                    fields: Vec::new(),
                    slots: Vec::new(),
                    updates_facts: *facts,
                    builtin: None,
                })
                .collect(),
            ..Default::default()
        }
    }

    const RULES: &str = r#"
enum Klass { Refund, Other }
event RefundRequested { amount: Money, agent: Person }
team desk { members ["ana@x.io"] }
team finance { members ["fay@x.io"] }
classify Klass on RefundRequested {
  Refund when amount > 0 USD
  otherwise Other
}
owners {
  Refund -> desk escalate finance
  Other -> desk escalate finance
}
gate big_refund on stripe.refund when amount >= 250 USD {
  require approval from finance
}
gate any_refund on stripe.refund {
  require approval from finance
}
automation refunds {
  version 1
  owner desk
  on RefundRequested
  do {
    stripe.refund(charge: "ch_1", amount: amount)
  }
}
"#;

    fn build(text: &str) -> Vec<u8> {
        let text = text.to_string();
        let out = meshline_compiler::with_large_stack(move || {
            meshline_compiler::build_sources("plan", [("main.mesh", text)])
        });
        out.bundle.expect("builds")
    }

    /// docs/deploy.md, "Deployment plans": a held step whose gate or automation the bundle
    /// removes is listed, and the `migrated` entries say what the removal does to it.
    #[test]
    fn held_steps_of_removed_gates_and_automations_are_listed() {
        let (_, program, hash) =
            meshline_runtime::bundle::decode::<Program>(&build(RULES)).expect("decodes");
        let mut engine = Engine::new(program, &hash).expect("loads");
        engine.apply_line(r#"{"id":"r1","type":"RefundRequested","at":"2026-03-02T10:00:00Z","case":"T-1","data":{"amount":"300.00 USD","agent":"ana@x.io"}}"#);
        engine.drain();
        let no_gate = RULES.replace("gate big_refund on", "gate other_refund on");
        let p = plan(&engine, &build(&no_gate), None).expect("a plan");
        assert_eq!(p["refused"], Json::Null, "{p}");
        assert_eq!(p["held"][0]["gates_removed"], json!(["big_refund"]), "{p}");
        assert_eq!(p["held"][0]["automation_removed"], false, "{p}");
        assert_eq!(
            p["migrated"][0]["retired_gates"][0]["gates"],
            json!(["big_refund"]),
            "{p}"
        );
        let no_auto = RULES.replace("automation refunds {", "automation refunds_v2 {");
        let p = plan(&engine, &build(&no_auto), None).expect("a plan");
        assert_eq!(p["held"][0]["automation"], "refunds", "{p}");
        assert_eq!(p["held"][0]["automation_removed"], true, "{p}");
        assert_eq!(
            p["migrated"][0]["cancelled_runs"],
            json!([{"automation": "refunds", "step": 0, "was": "held"}]),
            "{p}"
        );
        // Nothing was applied.
        assert_eq!(engine.bundle_hash(), hash);
        assert_eq!(
            engine.case_json("T-1").expect("case")["held"][0]["request"],
            1
        );
    }

    #[test]
    fn declarations_are_added_removed_or_changed_by_name() {
        let old = program(&[("A", false), ("B", false), ("C", false)]);
        let new = program(&[("B", true), ("C", false), ("D", false)]);
        assert_eq!(
            declarations(&old, &new),
            json!({"events": {"added": ["D"], "removed": ["A"], "changed": ["B"]}})
        );
        assert_eq!(declarations(&old, &old), json!({}));
    }
}
