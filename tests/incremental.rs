//! Salsa incrementality: an edit re-executes only the queries that depend on it.
//!
//! The project has three modules: `billing` (A) declares a constant and a route, `reports`
//! (B) imports the constant, and `ownership` (C) declares the classes, teams and owners and
//! imports nothing from A. Editing the body of A's route leaves A's signature equal, so
//! salsa backdates it: the project index and the other modules' checks are reused. Editing
//! what A declares changes the signature and re-runs the index and every module check.

use std::sync::{Arc, Mutex};

use meshline_compiler::db::{self, Database, ProjectInput, SourceFile};

use crate::common;

const BILLING: &str = r#"import std.helpdesk.{TicketCreated}

/// Refunds above this go to the managers.
let refund_limit = 250 USD

route big_refunds on TicketCreated when ticket.tags contains "refund" {
  assign billing_ops
  priority 5
}
"#;

const REPORTS: &str = r#"import billing.{refund_limit}

let _report_threshold: Money = refund_limit * 2
"#;

const OWNERSHIP: &str = r#"import std.helpdesk.{TicketCreated}

enum TicketClass { Billing, Triage }

classify TicketClass on TicketCreated {
  Billing when ticket.tags contains "refund"
  otherwise Triage
}

team billing_ops   { members ["ana@agency.io"] }
team support_leads { members ["sam@agency.io"] }

owners {
  Billing -> billing_ops   escalate support_leads
  Triage  -> support_leads escalate support_leads
}
"#;

struct Session {
    db: Database,
    log: Arc<Mutex<Vec<String>>>,
    project: ProjectInput,
    files: Vec<SourceFile>,
    /// The log key of `module_inference` for each file, in the order of `files`.
    check_keys: Vec<String>,
}

impl Session {
    fn new() -> Session {
        let log = Arc::new(Mutex::new(Vec::new()));
        let db = Database::with_log(log.clone());
        let files = common::project_files(&[
            ("billing", BILLING),
            ("reports", REPORTS),
            ("ownership", OWNERSHIP),
        ]);
        let project = db::load_project(&db, &files);
        let own: Vec<SourceFile> = project
            .files(&db)
            .iter()
            .copied()
            .filter(|f| !f.is_std(&db))
            .collect();
        assert_eq!(own.len(), 3);
        // Learn each module's `module_inference` key by running them one at a time.
        let mut check_keys = Vec::new();
        for f in &own {
            log.lock().unwrap().clear();
            let _ = db::module_inference(&db, project, *f);
            let keys: Vec<String> = log
                .lock()
                .unwrap()
                .iter()
                .filter(|e| e.starts_with("module_inference"))
                .cloned()
                .collect();
            assert_eq!(keys.len(), 1, "one module_inference per call: {keys:?}");
            check_keys.push(keys[0].clone());
        }
        let mut s = Session {
            db,
            log,
            project,
            files: own,
            check_keys,
        };
        // Everything computed once, and clean.
        let diags = s.check_all();
        assert!(diags.is_empty(), "{diags:#?}");
        s
    }

    fn file(&self, module: &str) -> SourceFile {
        *self
            .files
            .iter()
            .find(|f| f.module(&self.db) == module)
            .expect("module exists")
    }

    fn key(&self, module: &str) -> &str {
        let i = self
            .files
            .iter()
            .position(|f| f.module(&self.db) == module)
            .expect("module exists");
        &self.check_keys[i]
    }

    /// Check the whole project (as the CLI does) and return what was executed.
    fn check_all(&mut self) -> Vec<meshline_compiler::diagnostics::Diagnostic> {
        self.log.lock().unwrap().clear();
        db::project_diagnostics(&self.db, self.project)
    }

    fn edit(&mut self, module: &str, text: &str) {
        let f = self.file(module);
        db::set_text(&mut self.db, f, text.to_string());
    }

    fn executed(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    fn ran(&self, prefix: &str) -> bool {
        self.executed().iter().any(|e| e.starts_with(prefix))
    }

    fn ran_check(&self, module: &str) -> bool {
        let key = self.key(module).to_string();
        self.executed().contains(&key)
    }
}

#[test]
fn editing_a_rule_body_rechecks_only_its_module() {
    let mut s = Session::new();
    // A new condition and a new priority: the route's body, not what the module declares.
    let edited = BILLING
        .replace(
            r#"ticket.tags contains "refund""#,
            r#"ticket.tags contains "refund" and ticket.priority == Urgent"#,
        )
        .replace("priority 5", "priority 7");
    assert_ne!(edited, BILLING);
    s.edit("billing", &edited);
    let diags = s.check_all();
    assert!(diags.is_empty(), "{diags:#?}");
    let log = s.executed();
    assert!(s.ran("parsed"), "billing is re-parsed: {log:#?}");
    assert!(
        s.ran_check("billing"),
        "billing's module_inference re-runs: {log:#?}"
    );
    assert!(
        !s.ran("project_index"),
        "billing's signature is unchanged, so the index is reused: {log:#?}"
    );
    assert!(
        !s.ran_check("ownership"),
        "ownership does not import billing: its module_inference must not re-run: {log:#?}"
    );
    assert!(
        !s.ran_check("reports"),
        "reports depends on billing's signature only, which did not change: {log:#?}"
    );
}

#[test]
fn an_error_in_a_rule_body_appears_and_disappears() {
    let mut s = Session::new();
    let broken = BILLING.replace("ticket.tags contains", "ticket.tagz contains");
    s.edit("billing", &broken);
    let diags = s.check_all();
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(codes, ["E0107"], "{diags:#?}");
    assert!(!s.ran_check("ownership"));
    let billing = s.file("billing");
    let per_file = db::file_diagnostics(&s.db, s.project, billing);
    assert_eq!(per_file.len(), 1);
    // Back to the original text: clean again, and still no work for the other modules.
    s.edit("billing", BILLING);
    let diags = s.check_all();
    assert!(diags.is_empty(), "{diags:#?}");
    assert!(!s.ran_check("ownership"));
    assert!(!s.ran_check("reports"));
}

#[test]
fn editing_a_signature_reruns_the_index() {
    let mut s = Session::new();
    // A new constant changes what billing declares.
    let edited = format!("{BILLING}\nlet _manager_limit = 1000 USD\n");
    s.edit("billing", &edited);
    let diags = s.check_all();
    assert!(diags.is_empty(), "{diags:#?}");
    let log = s.executed();
    assert!(s.ran("module_sig"), "{log:#?}");
    assert!(
        s.ran("project_index"),
        "a new declaration re-runs the index: {log:#?}"
    );
    assert!(s.ran_check("billing"), "{log:#?}");
    assert!(
        s.ran_check("ownership"),
        "every module check depends on the index: {log:#?}"
    );
}

#[test]
fn editing_a_constant_type_reaches_its_importers() {
    let mut s = Session::new();
    // The constant's type changes from Money to Int: reports' use of it is now an error.
    s.edit("billing", &BILLING.replace("250 USD", "250"));
    let diags = s.check_all();
    let codes: Vec<&str> = diags.iter().map(|d| d.code.as_str()).collect();
    assert!(s.ran("project_index"));
    assert!(s.ran_check("reports"));
    assert_eq!(codes, ["E0201"], "{diags:#?}");
    assert_eq!(&*diags[0].primary.file, "rules/reports.mesh");
}

#[test]
fn an_unchanged_text_executes_nothing() {
    let mut s = Session::new();
    s.edit("ownership", OWNERSHIP);
    let _ = s.check_all();
    let log = s.executed();
    assert!(
        !log.iter().any(|e| e.starts_with("module_inference")),
        "setting the same text must not re-run checks: {log:#?}"
    );
}

#[test]
fn a_build_runs_the_checker_once_per_module() {
    let before = meshline_compiler::semantic::checker_runs();
    // Check (each own module's inference once), then what an editor asks about a file.
    let s = Session::new();
    let billing = s.file("billing");
    let _ = meshline_compiler::ide::file_analysis(&s.db, s.project, billing);
    let _ = meshline_compiler::ide::hover::hover(&s.db, s.project, billing, 40);
    assert_eq!(
        meshline_compiler::semantic::checker_runs() - before,
        s.files.len() as u64,
        "checking and the editor features share one checker run per module"
    );
    // Lowering reads the memoized results: it checks only the standard library's modules,
    // which `check` does not report on, and none of the project's a second time.
    let manifest = s.project.manifest(&s.db).clone();
    s.log.lock().unwrap().clear();
    let (program, _, _) = db::lower_with_tests(&s.db, s.project, &manifest);
    assert!(!program.routes.is_empty(), "the project lowers");
    for module in ["billing", "reports", "ownership"] {
        assert!(!s.ran_check(module), "lowering re-ran {module}'s inference");
    }
    assert_eq!(
        meshline_compiler::semantic::checker_runs() - before,
        s.project.files(&s.db).len() as u64,
        "a build runs the checker once per module, standard library included"
    );
}
