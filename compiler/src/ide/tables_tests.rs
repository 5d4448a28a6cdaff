//! Editor knowledge of reference tables (docs/language.md §5.5): hover shows the columns
//! and the rows the file has now, completion after `?.` offers the columns, and an edit of
//! the CSV file re-checks the table.

use super::complete;
use super::*;
use crate::db::Database;
use crate::project::SourceText;

const RULES: &str = "\
enum Tier { Gold, Silver }
/// Accounts from the CRM.
table accounts from \"data/accounts.csv\" key account_id {
  tier: Tier
  csm: Person?
}
fn _gold(id: String) -> Bool = accounts[id]?.tier == Gold
";

const CSV: &str = "account_id,tier,csm\nacc_1,Gold,ana@x.io\nacc_2,Silver,\n";

fn setup(rules: &str) -> (Database, ProjectInput, SourceFile, usize) {
    let csv = SourceText {
        name: "rules/data/accounts.csv".into(),
        module: String::new(),
        text: CSV.into(),
    };
    super::test_project::setup(rules, vec![csv])
}

#[test]
fn hover_on_a_table_shows_its_columns_and_rows_and_follows_the_file() {
    let rules = RULES.replace(
        "fn _gold(id: String) -> Bool = accounts[",
        "fn _gold(id: String) -> Bool = acc$0ounts[",
    );
    let (mut db, project, file, offset) = setup(&rules);
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(
        md.contains("table accounts from \"data/accounts.csv\" key account_id")
            && md.contains("Accounts from the CRM")
            && md.contains("`account_id: String` (key), `tier: Tier`, `csm: Person?`")
            && md.contains("Rows: 2 from `rules/data/accounts.csv`"),
        "{md}"
    );
    assert!(db::file_diagnostics(&db, project, file).is_empty());
    // The CSV is an input: a new row and a bad one are seen without reloading.
    let data = project.data(&db)[0];
    db::set_data_text(&mut db, data, format!("{CSV}acc_3,Gold,\nacc_4,Bronze,\n"));
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(md.contains("Rows: 3 from"), "{md}");
    let diags = db::file_diagnostics(&db, project, file);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_eq!(diags[0].code, crate::diagnostics::Code::TableRow);
    assert_eq!(&*diags[0].primary.file, "rules/data/accounts.csv");
}

#[test]
fn completion_after_a_lookup_offers_the_columns() {
    let rules = format!("{RULES}fn _csm(id: String) -> Bool = accounts[id]?.$0 == none\n");
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
    for column in ["account_id", "tier", "csm"] {
        assert!(labels.iter().any(|l| l == column), "{column}: {labels:?}");
    }
}
