//! Editor knowledge of aggregates (docs/language.md §5.6): hover on an aggregate's name
//! shows its key, window and fields; completion after `NAME[key].` offers the fields.

use super::complete;
use super::*;
use crate::db::Database;

const RULES: &str = "\
import std.billing.{RefundRequested}
/// Refund requests per customer.
aggregate refunds_by_customer[customer: String] over 30d keep 500 keys {
  on RefundRequested by charge.customer
  requests: Int = count
  requested: Money? = sum(amount)
}
";

fn setup(rules: &str) -> (Database, ProjectInput, SourceFile, usize) {
    super::test_project::setup(rules, Vec::new())
}

#[test]
fn hover_on_an_aggregate_shows_its_key_window_and_fields() {
    let rules = format!(
        "{RULES}route r on RefundRequested when refunds_by_cus$0tomer[charge.customer].requests > 3 {{\n  assign \"a@b.io\"\n}}\n"
    );
    let (db, project, file, offset) = setup(&rules);
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(
        md.contains("aggregate refunds_by_customer[customer: String] over 30d keep 500 keys")
            && md.contains("Refund requests per customer")
            && md.contains("`requests: Int` (count), `requested: Money?` (sum)")
            && md.contains("in 30 buckets of 1d")
            && md.contains("Keys: at most 500"),
        "{md}"
    );
}

#[test]
fn hover_on_an_aggregate_of_open_cases_says_what_it_counts() {
    let rules = "\
import std.helpdesk.{TicketCreated}
/// Open tickets per organization.
aggregate org_cases[org: String] {
  open cases by ticket.organization
  open: Int = count
}
route r on TicketCreated when org_ca$0ses[ticket.organization].open > 3 {
  assign \"a@b.io\"
}
";
    let (db, project, file, offset) = setup(rules);
    let md = hover::hover(&db, project, file, offset)
        .expect("hover")
        .markdown;
    assert!(
        md.contains("aggregate org_cases[org: String] of open cases")
            && md.contains("`open: Int` (count)")
            && md.contains("Counts the cases open now")
            && !md.contains("Window:"),
        "{md}"
    );
}

#[test]
fn completion_after_a_lookup_offers_the_fields() {
    let rules = format!(
        "{RULES}route r on RefundRequested when refunds_by_customer[charge.customer].$0 > 3 {{\n  assign \"a@b.io\"\n}}\n"
    );
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
    for field in ["requests", "requested"] {
        assert!(labels.iter().any(|l| l == field), "{field}: {labels:?}");
    }
}
