//! Editor knowledge of issue 18's facts features: a field added by `extend record`
//! (docs/language.md §14.8) hovers with its doc comment and is offered after `.`; a name
//! bound by `all`/`any` (§4.6) hovers with its type; `changed`/`previous` are offered as
//! built-ins.

use super::complete;
use super::*;
use crate::db::Database;

const RULES: &str = "\
import std.crm.{ContractSigned}
enum Region { Dach, Nordics }
extend record std.crm.Contract {
  /// The client's region, from the CRM.
  region: Region?
}
enum Kind { Regional, Other }
classify Kind on ContractSigned {
  Regional when contract.region == Nordics
  otherwise Other
}
team onboarding { members [\"a@x.io\"] }
owners {
  Regional -> onboarding escalate onboarding
  Other -> onboarding escalate onboarding
}
";

fn setup(rules: &str) -> (Database, ProjectInput, SourceFile, usize) {
    super::test_project::setup(rules, Vec::new())
}

#[test]
fn an_added_field_hovers_with_its_doc_and_is_completed() {
    let rules = RULES.replace(
        "Regional when contract.region",
        "Regional when contract.reg$0ion",
    );
    let (db, project, file, offset) = setup(&rules);
    assert!(db::file_diagnostics(&db, project, file).is_empty());
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(md.contains("The client's region, from the CRM"), "{md}");
    let rules = format!("{RULES}fn _r(c: std.crm.Contract) -> Bool = c.$0region == none\n");
    let (db, project, file, offset) = setup(&rules);
    let index = db::project_index(&db, project);
    let labels: Vec<String> = complete::complete(
        &index,
        &file.module(&db),
        &file.name(&db),
        file.text(&db),
        offset,
    )
    .into_iter()
    .map(|c| c.label)
    .collect();
    for field in ["region", "plan", "attachments"] {
        assert!(labels.iter().any(|l| l == field), "{field}: {labels:?}");
    }
}

#[test]
fn a_bound_name_hovers_with_its_type_and_builtins_are_offered() {
    let rules = format!("{RULES}fn _all(xs: List<String>) -> Bool = all x in xs: x$0 != \"\"\n");
    let (db, project, file, offset) = setup(&rules);
    assert!(db::file_diagnostics(&db, project, file).is_empty());
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(md.contains("String"), "{md}");
    let rules = format!("{RULES}fn _c(xs: List<String>) -> Bool = ch$0\n");
    let (db, project, file, offset) = setup(&rules);
    let index = db::project_index(&db, project);
    let labels: Vec<String> = complete::complete(
        &index,
        &file.module(&db),
        &file.name(&db),
        file.text(&db),
        offset,
    )
    .into_iter()
    .map(|c| c.label)
    .collect();
    for b in ["changed", "previous"] {
        assert!(labels.iter().any(|l| l == b), "{b}: {labels:?}");
    }
}
