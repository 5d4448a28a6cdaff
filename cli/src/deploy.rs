//! `meshline deploy plan (--state FILE [--config FILE] | --url URL [--token-env VAR]) NEW
//! [--format text|json]`: what deploying NEW over a stored state or a running server would
//! do (docs/deploy.md, "Deployment plans").

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde_json::Value as Json;

/// Where the live state is.
pub(crate) enum From {
    State(PathBuf),
    /// The server's base URL and the variable holding the admin token.
    Url(String, String),
}

pub(crate) fn plan(from: &From, config: Option<&Path>, bundle: &Path, format: &str) -> ExitCode {
    if format != "text" && format != "json" {
        eprintln!("meshline deploy plan: --format: `{format}` is not text or json");
        return ExitCode::from(2);
    }
    let (trusted, project) = match config.map(meshline_serve::Config::load).transpose() {
        Ok(c) => c
            .map(|c| (c.trusted_keys, c.cluster.project))
            .unwrap_or_else(|| (Vec::new(), meshline_serve::state::DEFAULT_PROJECT.into())),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let trusted = match meshline_serve::deployment::load_trusted(&trusted) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let bytes = match crate::run::bundle_bytes(bundle) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let result = match from {
        From::State(state) => meshline_serve::state::Location::parse(state, &project)
            .and_then(|state| meshline_serve::plan::plan_state(&state, &bytes, &trusted)),
        From::Url(url, var) => match std::env::var(var) {
            Ok(token) => meshline_serve::plan::plan_url(url, &token, &bytes),
            Err(_) => Err(meshline_serve::error::ServeError::Config(format!(
                "--token-env: {var} is not set"
            ))),
        },
    };
    let plan = match result {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).unwrap_or_default()
        );
    } else {
        print!("{}", text(&plan));
    }
    if plan["refused"].is_null() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn list(v: &Json) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The plan for a person: the verdict, the declaration diff, then the live effects.
pub(crate) fn text(p: &Json) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let s = |v: &Json| v.as_str().unwrap_or("").to_string();
    let short = |v: &Json| s(v).chars().take(12).collect::<String>();
    let _ = writeln!(
        out,
        "deploy {} {} ({}) over {}",
        s(&p["package"]),
        s(&p["version"]),
        short(&p["to"]),
        short(&p["from"])
    );
    if p["unchanged"] == true {
        let _ = writeln!(out, "it is the deciding bundle: nothing would change");
    }
    match p["refused"].as_str() {
        Some(why) => {
            let _ = writeln!(out, "REFUSED: {why}");
        }
        None => {
            let _ = writeln!(out, "would be deployed");
        }
    }
    let _ = writeln!(out, "declarations:");
    let decls = p["declarations"].as_object().cloned().unwrap_or_default();
    if decls.is_empty() {
        let _ = writeln!(out, "  none changed");
    }
    for (kind, d) in &decls {
        if kind == "rules" {
            let _ = writeln!(out, "  rules changed: {}", list(d));
            continue;
        }
        for what in ["added", "removed", "changed"] {
            if d[what].as_array().is_some_and(|a| !a.is_empty()) {
                let _ = writeln!(out, "  {kind} {what}: {}", list(&d[what]));
            }
        }
    }
    for m in p["migrated"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "case {} migrated: {m}", s(&m["case"]));
    }
    for r in p["rollouts"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "rollout of {}: {} -> {}",
            s(&r["automation"]),
            r["from"],
            r["to"]
        );
    }
    if let Some(clocks) = p["clocks"].as_array() {
        let _ = writeln!(out, "running SLA clocks rescheduled: {}", clocks.len());
        for c in clocks {
            let _ = writeln!(
                out,
                "  {} {}: {} -> {} ({:+} s)",
                s(&c["case"]),
                s(&c["sla"]),
                s(&c["from"]),
                s(&c["to"]),
                c["by_seconds"].as_i64().unwrap_or(0)
            );
        }
    }
    if let Some(held) = p["held"].as_array() {
        let _ = writeln!(
            out,
            "held actions whose automation or gate changes: {}",
            held.len()
        );
        for h in held {
            // What a removal does to it (docs/deploy.md, "Migrations by name").
            let mut what = String::new();
            if h["automation_removed"] == true {
                what.push_str(" (automation removed: the run is cancelled)");
            } else if h["automation_changed"] == true {
                what.push_str(" (automation changed)");
            }
            let gone = h["gates_removed"].as_array().map_or(&[][..], Vec::as_slice);
            if !gone.is_empty() && h["automation_removed"] != true {
                let names: Vec<&str> = gone.iter().filter_map(Json::as_str).collect();
                let _ = write!(what, " (gate {} removed: still held)", names.join(", "));
            }
            let _ = writeln!(
                out,
                "  {} {} step {}{what}",
                s(&h["case"]),
                s(&h["automation"]),
                h["step"],
            );
        }
    }
    if let Some(n) = p["cases"].as_u64() {
        let _ = writeln!(
            out,
            "{n} live cases keep their class, owner and assignee until their next event, which the new rules decide"
        );
    }
    out
}
