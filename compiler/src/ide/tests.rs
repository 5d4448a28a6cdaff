//! Engine-level tests of the editor knowledge, with the cursor drawn as `$0` in the source
//! (no protocol involved; `meshline-lsp` has the protocol tests).

use super::complete::{self, CandidateKind};
use super::signature;
use super::*;
use crate::db::{Database, load_project};
use crate::project::{Manifest, ProjectFiles, SourceText};

const DATA: &str = "\
/// Service tier.
enum Tier { Gold, Silver }
enum TicketClass { Billing, Triage }
/// A ticket.
record Ticket { id: String, tier: Tier }
event TicketCreated { ticket: Ticket }
classify TicketClass on TicketCreated {
  Billing when ticket.tier == Gold
  otherwise Triage
}
/// Pays people back.
team billing { members [\"a@x.io\"] }
team triage { members [\"b@x.io\"] }
owners {
  Billing -> billing escalate triage
  Triage -> triage escalate billing
}
/// Is this a gold ticket?
fn gold(t: Ticket) -> Bool = t.tier == Gold
";

/// A project of `data` plus `rules` (with the cursor marker removed); the cursor offset.
fn setup(rules: &str) -> (Database, ProjectInput, SourceFile, usize) {
    let offset = rules.find("$0").expect("cursor marker");
    let text = rules.replace("$0", "");
    let files = ProjectFiles {
        root: ".".into(),
        manifest: Manifest {
            name: "t".into(),
            version: "0.1.0".into(),
            sources: "rules".into(),
        },
        files: vec![
            SourceText {
                name: "rules/data.mesh".into(),
                module: "data".into(),
                text: DATA.into(),
            },
            SourceText {
                name: "rules/rules.mesh".into(),
                module: "rules".into(),
                text,
            },
        ],
        manifest_text: None,
        diagnostics: Vec::new(),
        data: Vec::new(),
    };
    let db = Database::default();
    let project = load_project(&db, &files);
    let file = file_by_name(&db, project, "rules/rules.mesh").expect("file");
    (db, project, file, offset)
}

fn labels(
    db: &Database,
    project: ProjectInput,
    file: SourceFile,
    offset: usize,
) -> Vec<(String, CandidateKind)> {
    let index = db::project_index(db, project);
    complete::complete(
        &index,
        &file.module(db),
        &file.name(db),
        file.text(db),
        offset,
    )
    .into_iter()
    .map(|c| (c.label, c.kind))
    .collect()
}

fn has(labels: &[(String, CandidateKind)], label: &str) -> bool {
    labels.iter().any(|(l, _)| l == label)
}

#[test]
fn resolves_names_to_their_declarations_across_files() {
    let (db, project, file, offset) = setup(
        "import data.{TicketCreated, gold}\nroute r on TicketCreated when gold(tick$0et) {\n  assign billing\n}\n",
    );
    let analysis = file_analysis(&db, project, file);
    let occ = analysis
        .occurrence_at(offset)
        .expect("a name at the cursor");
    assert_eq!(
        occ.id,
        SymbolId::Field(DefId::new("data", "TicketCreated"), "ticket".into())
    );
    let (def_file, def) = definition(&db, project, &occ.id).expect("declared");
    assert_eq!(&*def_file.name(&db), "rules/data.mesh");
    assert_eq!(def.name, "ticket");
    // The team is used here and in data.mesh's owners block, and declared there.
    let team = SymbolId::Op(OpKind::Team, "billing".into());
    let refs = references(&db, project, &team);
    assert_eq!(refs.iter().filter(|(_, o)| o.is_def).count(), 1);
    assert!(refs.iter().any(|(f, _)| *f == file), "{refs:?}");
    assert!(refs.len() >= 4, "{refs:?}");
}

#[test]
fn parameters_are_local_to_their_function() {
    let (db, project, file, offset) =
        setup("import data.{Ticket}\nfn g(t: Ticket) -> Bool = $0t.id == \"x\"\n");
    let analysis = file_analysis(&db, project, file);
    let occ = analysis.occurrence_at(offset).expect("the parameter");
    assert!(matches!(occ.id, SymbolId::Local { .. }), "{occ:?}");
    assert_eq!(references(&db, project, &occ.id).len(), 2);
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(md.contains("t: Ticket"), "{md}");
}

#[test]
fn hover_gives_doc_comments_and_team_members() {
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\nroute r on TicketCreated {\n  assign bil$0ling\n}\n");
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(
        md.contains("team billing") && md.contains("Pays people back") && md.contains("a@x.io"),
        "{md}"
    );
}

#[test]
fn completion_after_a_dot_offers_fields_and_variants() {
    let (db, project, file, offset) = setup(
        "import data.{TicketCreated, Tier}\nroute r on TicketCreated when ticket.$0 {\n  assign billing\n}\n",
    );
    let l = labels(&db, project, file, offset);
    assert!(has(&l, "tier") && has(&l, "id"), "{l:?}");
    let (db, project, file, offset) = setup(
        "import data.{TicketCreated, Tier}\nroute r on TicketCreated when ticket.tier == Tier.$0 {\n  assign billing\n}\n",
    );
    let l = labels(&db, project, file, offset);
    assert_eq!(
        l,
        vec![
            ("Gold".into(), CandidateKind::Variant),
            ("Silver".into(), CandidateKind::Variant)
        ]
    );
}

#[test]
fn completion_knows_teams_events_variants_and_keywords() {
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\nroute r on TicketCreated {\n  assign $0\n}\n");
    let l = labels(&db, project, file, offset);
    assert!(
        has(&l, "billing") && has(&l, "triage") && !has(&l, "Gold"),
        "{l:?}"
    );
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\nroute r on $0 {\n  assign billing\n}\n");
    assert!(has(&labels(&db, project, file, offset), "TicketCreated"));
    let (db, project, file, offset) = setup(
        "import data.{TicketCreated}\nroute r on TicketCreated when ticket.tier == $0 {\n  assign billing\n}\n",
    );
    let l = labels(&db, project, file, offset);
    assert!(
        has(&l, "Gold") && has(&l, "Silver") && !has(&l, "billing"),
        "{l:?}"
    );
    let (db, project, file, offset) = setup("import data.{TicketCreated}\n$0\n");
    assert!(has(&labels(&db, project, file, offset), "automation"));
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\nroute r on TicketCreated {\n  $0\n}\n");
    let l = labels(&db, project, file, offset);
    assert!(has(&l, "assign") && has(&l, "priority"), "{l:?}");
}

#[test]
fn completion_offers_waits_notify_and_self_release() {
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\nautomation a {\n  do {\n    $0\n  }\n}\n");
    let l = labels(&db, project, file, offset);
    assert!(
        has(&l, "wait") && has(&l, "wait until") && has(&l, "notify"),
        "{l:?}"
    );
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\nautomation a {\n  do {\n    notify $0\n  }\n}\n");
    assert!(has(&labels(&db, project, file, offset), "billing"));
    let (db, project, file, offset) =
        setup("import data.{TicketCreated}\ngate g on automation when true {\n  $0\n}\n");
    assert!(has(
        &labels(&db, project, file, offset),
        "release when clear"
    ));
}

#[test]
fn signature_help_counts_arguments() {
    let (db, project, file, offset) =
        setup("import data.{Ticket, gold}\nlet _x: Bool = gold($0)\n");
    let index = db::project_index(&db, project);
    let sig = signature::signature_at(&index, &file.module(&db), file.text(&db), offset)
        .expect("signature");
    assert_eq!(sig.label, "gold(t: Ticket)");
    assert_eq!(sig.active, 0);
}

#[test]
fn fixes_add_otherwise() {
    let (db, project, _, _) = setup("$0\n");
    let data = file_by_name(&db, project, "rules/data.mesh").expect("data");
    let mut db = db;
    crate::db::set_text(&mut db, data, DATA.replace("  otherwise Triage\n", ""));
    let diags = crate::db::file_diagnostics(&db, project, data);
    let d = diags
        .iter()
        .find(|d| d.code == crate::diagnostics::Code::MissingOtherwise)
        .expect("E0302");
    let fixes = fixes::fixes(&db, project, data, d);
    assert_eq!(fixes.len(), 1);
    assert_eq!(fixes[0].edits[0].2, "  otherwise Triage\n");
}

const SCOPED: &str = "import data.{TicketCreated}\n\
/// Replies to billing tickets.\n\
automation reply_billing {\n  version 1\n  owner billing\n  on TicketCreated\n  do {\n    helpdesk.reply(template: \"x\")\n  }\n\
  rollout {\n    start shadow\n    agreement when TicketCreated within 2d\n    shadow -> 10% after 14d when agreement >= 95% over 20 runs\n  }\n}\n";

#[test]
fn a_scoped_gate_names_an_automation_hover_and_completion_know_it() {
    let rules = format!(
        "{SCOPED}gate g on automation reply_bi$0lling {{\n  require review by billing\n}}\n"
    );
    let (db, project, file, offset) = setup(&rules);
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(md.contains("reply_billing"), "{md}");
    let rules = format!("{SCOPED}gate g on automation $0\n");
    let (db, project, file, offset) = setup(&rules);
    assert!(has(&labels(&db, project, file, offset), "reply_billing"));
}

#[test]
fn a_rollout_block_completes_its_clauses() {
    let rules = SCOPED.replace("    start shadow\n", "    start shadow\n    $0\n");
    let (db, project, file, offset) = setup(&rules);
    let l = labels(&db, project, file, offset);
    assert!(
        has(&l, "agreement when") && has(&l, "rollback to shadow when breaker trips"),
        "{l:?}"
    );
    // The agreement event resolves like any event name.
    let rules = SCOPED.replace(
        "agreement when TicketCreated",
        "agreement when Ticket$0Created",
    );
    let (db, project, file, offset) = setup(&rules);
    let analysis = file_analysis(&db, project, file);
    assert!(analysis.occurrence_at(offset).is_some());
}
