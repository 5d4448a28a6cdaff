//! `cargo run -p meshline-benches --release --bin check_bench [ACCOUNTS]`
//!
//! Measures, on a generated project (default 300 accounts, about 52,000 lines):
//! - parse only (the baseline, in the same run), cold check, lines per second;
//! - re-check after a one-file edit through the salsa database, for an edit inside a rule
//!   (signatures unchanged) and an edit that adds a declaration (signature changes);
//! - the safety analysis alone (issue 7: route ambiguity and reachability, classify arms,
//!   gates) on the parsed project, and its share of the cold check.
//!
//! Prints medians and ratios; the numbers go to docs/performance.md.

use std::time::{Duration, Instant};

use meshline_compiler::db::{self, Database};
use meshline_compiler::diagnostics::FileName;
use meshline_compiler::project::{Manifest, ProjectFiles, SourceText};
use meshline_compiler::semantic::project_checks::ModuleView;
use meshline_compiler::semantic::safety::safety_checks;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let accounts = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let generated = meshline_benches::generate(accounts);
    let lines = meshline_benches::line_count(&generated);
    let files: Vec<SourceText> = generated
        .iter()
        .filter(|(p, _)| p.ends_with(".mesh"))
        .map(|(p, t)| SourceText {
            name: FileName::from(p.as_str()),
            module: p
                .trim_start_matches("rules/")
                .trim_end_matches(".mesh")
                .replace('/', "."),
            text: t.clone(),
        })
        .collect();
    let project = ProjectFiles {
        root: ".".into(),
        manifest: Manifest {
            name: "generated".into(),
            version: "1.0.0".into(),
            sources: "rules".into(),
        },
        files,
        manifest_text: None,
        diagnostics: Vec::new(),
        data: Vec::new(),
    };
    println!("project: {} files, {lines} lines", project.files.len());

    meshline_compiler::with_large_stack(|| {
        // Baseline: parsing alone.
        let runs = 5;
        let parse: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                for f in &project.files {
                    std::hint::black_box(meshline_compiler::syntax::parse(&f.name, &f.text));
                }
                t.elapsed()
            })
            .collect();
        let parse = median(parse);

        // Cold check: a fresh database each time (parse, index, check every module, project checks).
        let cold: Vec<Duration> = (0..runs)
            .map(|_| {
                let t = Instant::now();
                let database = Database::default();
                let handle = db::load_project(&database, &project);
                let diags = db::project_diagnostics(&database, handle);
                assert!(
                    diags.is_empty(),
                    "generated project must check clean: {:?}",
                    diags.first()
                );
                t.elapsed()
            })
            .collect();
        let cold = median(cold);
        println!(
            "parse only        : {:8.1} ms  ({:.0} lines/s)",
            ms(parse),
            lines as f64 / parse.as_secs_f64()
        );
        println!(
            "cold check        : {:8.1} ms  ({:.0} lines/s)  = {:.2}x parse",
            ms(cold),
            lines as f64 / cold.as_secs_f64(),
            cold.as_secs_f64() / parse.as_secs_f64()
        );

        // The safety analysis alone, on the already parsed and indexed project.
        let analysis = {
            let database = Database::default();
            let handle = db::load_project(&database, &project);
            let index = db::project_index(&database, handle);
            let files = handle.files(&database);
            let parsed: Vec<_> = files.iter().map(|f| db::parsed(&database, *f)).collect();
            let names: Vec<(String, FileName, bool)> = files
                .iter()
                .map(|f| (f.module(&database), f.name(&database), f.is_std(&database)))
                .collect();
            let views: Vec<ModuleView<'_>> = parsed
                .iter()
                .zip(&names)
                .map(|(p, (module, file, is_std))| ModuleView {
                    module,
                    file,
                    ast: &p.ast,
                    is_std: *is_std,
                })
                .collect();
            let own: Vec<&ModuleView<'_>> = views.iter().filter(|v| !v.is_std).collect();
            let routes = own
                .iter()
                .flat_map(|v| &v.ast.items)
                .filter(|i| matches!(i.kind, meshline_compiler::syntax::ast::ItemKind::Route(_)))
                .count();
            let times: Vec<Duration> = (0..runs)
                .map(|_| {
                    let t = Instant::now();
                    let d = safety_checks(&index, &views, &own);
                    assert!(d.is_empty(), "analysis findings: {:?}", d.first());
                    t.elapsed()
                })
                .collect();
            println!("safety analysis   : {routes} routes");
            median(times)
        };
        println!(
            "safety analysis   : {:8.1} ms  = {:.1}% of cold check, +{:.1}% over check without it",
            ms(analysis),
            100.0 * analysis.as_secs_f64() / cold.as_secs_f64(),
            100.0 * analysis.as_secs_f64() / (cold - analysis).as_secs_f64()
        );

        // Incremental: one database, edits to one file.
        let mut database = Database::default();
        let handle = db::load_project(&database, &project);
        let _ = db::project_diagnostics(&database, handle);
        let target = *handle
            .files(&database)
            .iter()
            .find(|f| f.name(&database).ends_with("a0007.mesh"))
            .expect("generated file");
        let original = target.text(&database).clone();
        let edits = 21;
        let mut body_edit = Vec::new();
        let mut body_edit_file = Vec::new();
        let mut sig_edit = Vec::new();
        for i in 0..edits {
            // An edit inside a rule: the route's condition changes, no declaration does.
            let text = original.replace(
                "ticket.tags contains \"invoice\"",
                &format!("ticket.tags contains \"invoice-{i}\""),
            );
            let t = Instant::now();
            db::set_text(&mut database, target, text);
            let d = db::file_diagnostics(&database, handle, target);
            body_edit_file.push(t.elapsed());
            let _ = db::project_diagnostics(&database, handle);
            body_edit.push(t.elapsed());
            assert!(d.is_empty());
        }
        for i in 0..edits {
            // An edit that changes the module's signature (a new constant each time).
            let text = format!("{original}\nlet _extra_{i}: Int = {i}\n");
            let t = Instant::now();
            db::set_text(&mut database, target, text);
            let _ = db::project_diagnostics(&database, handle);
            sig_edit.push(t.elapsed());
        }
        let (body_file, body, sig) = (median(body_edit_file), median(body_edit), median(sig_edit));
        println!(
            "re-check, rule-body edit (edited file's diagnostics): {:7.2} ms  = {:.4}x cold",
            ms(body_file),
            body_file.as_secs_f64() / cold.as_secs_f64()
        );
        println!(
            "re-check, rule-body edit (whole project)            : {:7.2} ms  = {:.4}x cold",
            ms(body),
            body.as_secs_f64() / cold.as_secs_f64()
        );
        println!(
            "re-check, signature edit (whole project)            : {:7.2} ms  = {:.4}x cold",
            ms(sig),
            sig.as_secs_f64() / cold.as_secs_f64()
        );
    });
}
