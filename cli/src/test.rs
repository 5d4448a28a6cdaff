//! `meshline test [DIR] [--filter TEXT] [--junit FILE] [--format human|json] [--coverage]`:
//! run a project's `test` blocks and acceptance sets (see docs/testing.md).

use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use meshline_compiler::diagnostics::render_ariadne;
use meshline_compiler::harness::{self, acceptance, report};
use serde_json::json;

use crate::TestFormat;

pub(crate) fn run(
    path: &Path,
    filter: Option<&str>,
    junit: Option<&Path>,
    format: TestFormat,
    coverage: bool,
) -> ExitCode {
    let suite = match harness::load(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let sources = suite.project.source_map();
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let Some(program) = suite.program.clone() else {
        if format == TestFormat::Json {
            let diags =
                meshline_compiler::diagnostics::json::to_json_lines(&suite.diagnostics, &sources);
            print!("{diags}");
            println!(
                "{}",
                json!({ "passed": 0, "failed": 0, "error": "the project does not check: no tests ran" })
            );
            return ExitCode::from(1);
        }
        eprint!(
            "{}",
            render_ariadne::render_all(&suite.diagnostics, &sources, color)
        );
        eprintln!("the project does not check: no tests ran");
        return ExitCode::from(1);
    };
    let selected: Vec<_> = suite
        .tests
        .iter()
        .filter(|t| filter.is_none_or(|f| t.name.contains(f)))
        .collect();
    if let Some(f) = filter
        && selected.is_empty()
        && !suite.acceptance.iter().any(|a| a.automation.contains(f))
    {
        eprintln!("error: no test or acceptance set matches `{f}`");
        return ExitCode::from(1);
    }
    let mut outcomes = harness::run_all(&program, &selected);
    harness::locate(&mut outcomes, &sources);
    let reports: Vec<_> = suite
        .acceptance
        .iter()
        .filter(|a| filter.is_none_or(|f| a.automation.contains(f)))
        .map(|a| acceptance::run(&program, &suite.project.root, a))
        .collect();
    let mut out = std::io::stdout().lock();
    let passed = outcomes.iter().filter(|o| o.passed()).count()
        + reports.iter().filter(|r| r.passed()).count();
    let failed = outcomes.len() + reports.len() - passed;
    let mut text = String::new();
    match format {
        TestFormat::Json => {
            for o in &outcomes {
                let f = o.failure.as_ref();
                let line = json!({ "test": o.name, "file": &*o.file, "passed": o.passed(), "millis": o.millis,
                    "message": f.map(|f| f.message.clone()), "location": f.map(|f| f.location.clone()), "ledger": f.map(|f| f.ledger.clone()) });
                text.push_str(&format!("{line}\n"));
            }
            for r in &reports {
                let confusion: Vec<_> = r
                    .confusion
                    .iter()
                    .map(|((e, p), n)| json!({ "expected": e, "predicted": p, "count": n }))
                    .collect();
                let line = json!({ "acceptance": r.automation, "passed": r.passed(), "samples": r.samples, "precision": r.precision,
                    "recall": r.recall, "false_positive_rate": r.false_positive_rate, "confusion": confusion, "failures": r.failures });
                text.push_str(&format!("{line}\n"));
            }
            text.push_str(&format!(
                "{}\n",
                json!({ "passed": passed, "failed": failed })
            ));
        }
        TestFormat::Human => {
            for o in &outcomes {
                text.push_str(&format!(
                    "{} {} ({})\n",
                    if o.passed() { "ok  " } else { "FAIL" },
                    o.name,
                    o.file
                ));
            }
            for r in &reports {
                text.push_str(&format!(
                    "{} acceptance {}\n",
                    if r.passed() { "ok  " } else { "FAIL" },
                    r.automation
                ));
            }
            for o in outcomes.iter().filter(|o| !o.passed()) {
                text.push('\n');
                text.push_str(&report::render_failure(o, &sources, color));
            }
            for r in &reports {
                text.push('\n');
                text.push_str(&report::acceptance_summary(r));
            }
            if coverage {
                text.push('\n');
                text.push_str(&coverage_report(&program, &outcomes, &reports));
            }
            text.push_str(&format!("\n{passed} passed, {failed} failed\n"));
        }
    }
    if let Err(e) = out.write_all(text.as_bytes()) {
        eprintln!("error: cannot write output: {e}");
        return ExitCode::from(2);
    }
    if let Some(j) = junit
        && let Err(e) = std::fs::write(
            j,
            report::junit(&suite.project.manifest.name, &outcomes, &reports),
        )
    {
        eprintln!("error: cannot write {}: {e}", j.display());
        return ExitCode::from(2);
    }
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Routes, classify arms, SLA policies, gates and automations no test exercised.
fn coverage_report(
    p: &meshline_runtime::ir::Program,
    outcomes: &[harness::Outcome],
    reports: &[acceptance::Report],
) -> String {
    let seen: BTreeSet<&str> = outcomes
        .iter()
        .flat_map(|o| o.rules.iter().map(String::as_str))
        .collect();
    let accepted: BTreeSet<&str> = reports.iter().map(|r| r.automation.as_str()).collect();
    let mut missing: Vec<String> = Vec::new();
    if let Some(cl) = &p.classify {
        let variants = &p.enums[cl.enum_id as usize].variants;
        for (v, _) in &cl.arms {
            let name = format!("classify.{}", variants[*v as usize]);
            if !seen.contains(name.as_str()) {
                missing.push(format!("classify arm {}", variants[*v as usize]));
            }
        }
    }
    missing.extend(
        p.routes
            .iter()
            .filter(|r| !seen.contains(r.name.as_str()))
            .map(|r| format!("route {}", r.name)),
    );
    missing.extend(
        p.slas
            .iter()
            .filter(|s| !seen.contains(s.name.as_str()))
            .map(|s| format!("sla {}", s.name)),
    );
    missing.extend(
        p.gates
            .iter()
            .filter(|g| !seen.contains(g.name.as_str()))
            .map(|g| format!("gate {}", g.name)),
    );
    missing.extend(
        p.automations
            .iter()
            .filter(|a| !seen.contains(a.name.as_str()) && !accepted.contains(a.name.as_str()))
            .map(|a| format!("automation {}", a.name)),
    );
    if missing.is_empty() {
        "coverage: every route, classify arm, SLA policy, gate and automation was exercised\n"
            .to_string()
    } else {
        format!(
            "coverage: not exercised by any test:\n{}\n",
            missing
                .iter()
                .map(|m| format!("  {m}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}
