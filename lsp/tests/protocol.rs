//! Protocol-level tests: the server runs in-process behind JSON-RPC over an in-memory
//! pipe, driven through initialize, didOpen, didChange and each request on the
//! agency-support example. Responses are insta snapshots with the project path replaced
//! by `file:///ROOT`; the asserts next to them say what each snapshot must show.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

mod support;

use serde_json::{Value, json};
use support::{Client, example_root, pos};

const OWNERSHIP: &str = "rules/ownership.mesh";
const REFUNDS: &str = "rules/billing/refunds.mesh";
const SLAS: &str = "rules/service_levels.mesh";

async fn client() -> Client {
    Client::start(example_root()).await
}

/// `text` without its first line that contains every one of `parts`.
fn drop_line(text: &str, parts: &[&str]) -> String {
    let mut dropped = false;
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if !dropped && parts.iter().all(|p| line.contains(p)) {
            dropped = true;
            continue;
        }
        out.push_str(line);
    }
    assert!(dropped, "no line with {parts:?}");
    out
}

/// The first line of `text` that contains `part` (without its newline).
fn line_with(text: &str, part: &str) -> String {
    text.lines()
        .find(|l| l.contains(part))
        .unwrap_or_else(|| panic!("no line with {part}"))
        .to_string()
}

fn labels(items: &Value) -> Vec<String> {
    items
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["label"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn initialize_announces_the_capabilities_and_shutdown_answers() {
    let mut c = client().await;
    insta::assert_snapshot!(c.show(&c.initialize_result));
    let again = c
        .request(
            "initialize",
            json!({ "processId": null, "capabilities": {} }),
        )
        .await;
    assert!(
        again.get("error").is_some(),
        "a second initialize is refused: {again}"
    );
    let bye = c.request("shutdown", Value::Null).await;
    assert_eq!(bye["result"], Value::Null, "{bye}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diagnostics_on_open_and_change_with_codes_and_related_information() {
    let mut c = client().await;
    let clean = c.open(OWNERSHIP, None).await;
    assert_eq!(clean["diagnostics"], json!([]), "the example checks clean");
    // Drop an owners arm and give a class twice: E0401 names the class; E0101 points back
    // at the first arm (related information).
    let text = c.text(OWNERSHIP);
    let billing = line_with(&text, "-> billing_ops");
    let triage = line_with(&text, "-> support_inbox");
    let edited = drop_line(&text, &["ScopeChange", "->"]).replacen(
        &triage,
        &format!("{billing}\n{triage}"),
        1,
    );
    let d = c.change(OWNERSHIP, &edited).await;
    let codes: Vec<&str> = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"E0401"), "{codes:?}");
    insta::assert_snapshot!(c.show(&d));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_in_one_file_republishes_another() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    c.open("rules/teams.mesh", None).await;
    // Renaming the team `billing_ops` breaks its uses in ownership.mesh.
    let teams = c
        .text("rules/teams.mesh")
        .replace("team billing_ops", "team billing_ops2");
    c.change("rules/teams.mesh", &teams).await;
    let uri = c.file_uri(OWNERSHIP);
    // Earlier (clean) publications for ownership.mesh may still be queued: wait for the
    // one that reflects the edit.
    let mut msgs: Vec<String> = Vec::new();
    for _ in 0..10 {
        let d = c.diagnostics(&uri).await;
        msgs = d["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["message"].as_str().unwrap_or("").to_string())
            .collect();
        if !msgs.is_empty() {
            break;
        }
    }
    assert!(msgs.iter().any(|m| m.contains("billing_ops")), "{msgs:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hover_shows_types_docs_and_resolved_values() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    c.open(SLAS, None).await;
    c.open(REFUNDS, None).await;
    let own = c.text(OWNERSHIP);
    let team = c
        .at(
            "textDocument/hover",
            OWNERSHIP,
            pos(&own, "billing_ops", 0, 2),
            json!({}),
        )
        .await;
    let team_md = team["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        team_md.contains("ana@agency.io") && team_md.contains("Europe/London"),
        "{team_md}"
    );
    insta::assert_snapshot!("hover_team", c.show(&team["result"]));

    let slas = c.text(SLAS);
    let sla = c
        .at(
            "textDocument/hover",
            SLAS,
            pos(&slas, "first_reply", 0, 1),
            json!({}),
        )
        .await;
    let sla_md = sla["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(sla_md.contains("Gold") && sla_md.contains("1h"), "{sla_md}");
    insta::assert_snapshot!("hover_sla", c.show(&sla["result"]));

    let cal = c
        .at(
            "textDocument/hover",
            SLAS,
            pos(&slas, "calendar london", 0, 10),
            json!({}),
        )
        .await;
    insta::assert_snapshot!("hover_calendar", c.show(&cal["result"]));

    let refunds = c.text(REFUNDS);
    let field = c
        .at(
            "textDocument/hover",
            REFUNDS,
            pos(&refunds, "ticket.refund_amount", 0, 8),
            json!({}),
        )
        .await;
    let field_md = field["result"]["contents"]["value"].as_str().unwrap_or("");
    assert!(field_md.contains("Money"), "{field_md}");
    insta::assert_snapshot!("hover_field", c.show(&field["result"]));

    let action = c
        .at(
            "textDocument/hover",
            REFUNDS,
            pos(&refunds, "stripe.refund", 0, 8),
            json!({}),
        )
        .await;
    insta::assert_snapshot!("hover_action", c.show(&action["result"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn definition_and_references_cross_files() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    let own = c.text(OWNERSHIP);
    let def = c
        .at(
            "textDocument/definition",
            OWNERSHIP,
            pos(&own, "billing_ops", 0, 0),
            json!({}),
        )
        .await;
    assert!(
        def["result"]["uri"]
            .as_str()
            .unwrap_or("")
            .ends_with("rules/teams.mesh"),
        "{def}"
    );
    insta::assert_snapshot!("definition_team", c.show(&def["result"]));

    let event = c
        .at(
            "textDocument/definition",
            OWNERSHIP,
            pos(&own, "TicketCreated", 1, 0),
            json!({}),
        )
        .await;
    assert!(
        event["result"]["uri"]
            .as_str()
            .unwrap_or("")
            .ends_with("rules/data.mesh"),
        "{event}"
    );

    let refs = c
        .at(
            "textDocument/references",
            OWNERSHIP,
            pos(&own, "billing_ops", 0, 0),
            json!({ "context": { "includeDeclaration": true } }),
        )
        .await;
    let files: std::collections::BTreeSet<String> = refs["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| c.show(&l["uri"]))
        .collect();
    assert!(files.len() >= 3, "used in several files: {files:?}");
    insta::assert_snapshot!("references_team", c.show(&refs["result"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completion_knows_its_context() {
    let mut c = client().await;
    c.open(REFUNDS, None).await;
    let refunds = c.text(REFUNDS);
    let ask = async |c: &mut Client, text: &str, needle: &str, shift: usize| {
        c.change(REFUNDS, text).await;
        let r = c
            .at(
                "textDocument/completion",
                REFUNDS,
                pos(text, needle, 0, shift),
                json!({}),
            )
            .await;
        r["result"].clone()
    };
    // Fields after `.`.
    let t = refunds.replace("ticket.refund_amount != none", "ticket. != none");
    let fields = ask(&mut c, &t, "ticket. != none", 7).await;
    assert!(
        labels(&fields).contains(&"refund_amount".to_string()),
        "{:?}",
        labels(&fields)
    );
    insta::assert_snapshot!("completion_fields", labels(&fields).join("\n"));
    // Event names after `on`.
    let t = refunds.replace("on TicketCreated when", "on  when");
    let events = ask(&mut c, &t, "on  when", 3).await;
    assert!(
        labels(&events).contains(&"TicketCreated".to_string()),
        "{:?}",
        labels(&events)
    );
    // Teams after `assign`.
    let t = refunds.replace("assign automation_review", "assign ");
    let teams = ask(&mut c, &t, "assign ", 7).await;
    assert!(
        labels(&teams).contains(&"billing_ops".to_string()),
        "{:?}",
        labels(&teams)
    );
    // Enum variants where an enum is expected.
    let t = refunds.replace("class == Billing", "class == ");
    let variants = ask(&mut c, &t, "class == ", 9).await;
    assert!(
        labels(&variants).contains(&"Incident".to_string()),
        "{:?}",
        labels(&variants)
    );
    insta::assert_snapshot!("completion_variants", labels(&variants).join("\n"));
    // `connector.action` with argument snippets in a `do` block.
    let t = refunds.replace(
        "    helpdesk.reply(template: \"refund_confirmed\")\n",
        "    \n",
    );
    let actions = ask(&mut c, &t, "!)\n    \n", 7).await;
    let refund = actions
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["label"] == "stripe.refund")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        refund["insertText"],
        "stripe.refund(charge: ${1:charge}, amount: ${2:amount})"
    );
    // Actions of one connector after `stripe.`.
    let t = refunds.replace("stripe.refund(charge", "stripe.(charge");
    let one = ask(&mut c, &t, "stripe.(", 7).await;
    assert!(
        labels(&one).contains(&"void_refund".to_string()),
        "{:?}",
        labels(&one)
    );
    // Declaration keywords at the top level.
    let t = format!("{refunds}\n");
    let kws = ask(&mut c, &t, "\n\n", 1).await;
    let _ = kws;
    let t = format!("{refunds}\nau");
    let kws = ask(&mut c, &t, "\nau", 3).await;
    assert!(
        labels(&kws).contains(&"automation".to_string()),
        "{:?}",
        labels(&kws)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_help_for_actions_and_functions() {
    let mut c = client().await;
    c.open(REFUNDS, None).await;
    let refunds = c.text(REFUNDS);
    let r = c
        .at(
            "textDocument/signatureHelp",
            REFUNDS,
            pos(&refunds, "amount: ticket", 0, 0),
            json!({}),
        )
        .await;
    assert_eq!(r["result"]["activeParameter"], 1, "{r}");
    insta::assert_snapshot!(c.show(&r["result"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_and_workspace_symbols() {
    let mut c = client().await;
    // The project at the root URI is loaded at initialize: workspace symbols need no
    // open file.
    let w = c
        .request("workspace/symbol", json!({ "query": "refund" }))
        .await;
    let names = labels_of(&w["result"], "name");
    assert!(names.contains(&"refund_small".to_string()), "{names:?}");
    insta::assert_snapshot!("workspace_symbols", c.show(&w["result"]));
    c.open("rules/data.mesh", None).await;
    let r = c
        .request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": c.file_uri("rules/data.mesh") } }),
        )
        .await;
    let names: Vec<String> = labels_of(&r["result"], "name");
    assert!(names.contains(&"Ticket".to_string()), "{names:?}");
    insta::assert_snapshot!("document_symbols", c.show(&r["result"]));
    // Opening a file of the preloaded project does not load it a second time.
    let again = c
        .request("workspace/symbol", json!({ "query": "refund_small" }))
        .await;
    assert_eq!(labels_of(&again["result"], "name").len(), 1, "{again}");
}

fn labels_of(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|i| i[key].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rename_across_files_and_refuses_invalid_names() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    let own = c.text(OWNERSHIP);
    let at = pos(&own, "billing_ops", 0, 0);
    let prep = c
        .at(
            "textDocument/prepareRename",
            OWNERSHIP,
            at.clone(),
            json!({}),
        )
        .await;
    assert!(prep["result"]["start"].is_object(), "{prep}");
    let r = c
        .at(
            "textDocument/rename",
            OWNERSHIP,
            at.clone(),
            json!({ "newName": "billing_team" }),
        )
        .await;
    let changes = r["result"]["changes"].as_object().expect("edits");
    assert!(
        changes.len() >= 3,
        "edits in several files: {:?}",
        changes.keys()
    );
    let mut sorted: Vec<(String, Value)> = changes
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    insta::assert_snapshot!("rename_team", c.show(&json!(sorted)));
    let bad = c
        .at(
            "textDocument/rename",
            OWNERSHIP,
            at,
            json!({ "newName": "and" }),
        )
        .await;
    assert!(
        bad["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("not a valid name"),
        "{bad}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn semantic_tokens_and_folding() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    let doc = json!({ "textDocument": { "uri": c.file_uri(OWNERSHIP) } });
    let t = c
        .request("textDocument/semanticTokens/full", doc.clone())
        .await;
    let data = t["result"]["data"].as_array().expect("tokens");
    assert!(data.len() % 5 == 0 && data.len() > 50, "{}", data.len());
    insta::assert_snapshot!(
        "semantic_tokens",
        serde_json::to_string(&t["result"]["data"]).unwrap()
    );
    let f = c.request("textDocument/foldingRange", doc).await;
    insta::assert_snapshot!("folding", c.show(&f["result"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_actions_fix_ownership_classify_and_ungated_actions() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    let own = c.text(OWNERSHIP);
    let edited = drop_line(
        &drop_line(&own, &["ScopeChange", "->"]),
        &["otherwise", "Triage"],
    );
    let d = c.change(OWNERSHIP, &edited).await;
    let diags = d["diagnostics"].clone();
    let whole =
        json!({ "start": { "line": 0, "character": 0 }, "end": { "line": 200, "character": 0 } });
    let r = c
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": c.file_uri(OWNERSHIP) },
                "range": whole,
                "context": { "diagnostics": diags }
            }),
        )
        .await;
    let titles = labels_of(&r["result"], "title");
    assert!(
        titles.iter().any(|t| t.contains("ScopeChange")),
        "{titles:?}"
    );
    assert!(titles.iter().any(|t| t.contains("otherwise")), "{titles:?}");
    insta::assert_snapshot!("code_actions_ownership", c.show(&r["result"]));

    c.open(REFUNDS, None).await;
    let refunds = c
        .text(REFUNDS)
        .replace("stripe.refund(", "stripe.void_refund(");
    // void_refund has no effect; make refund ungated instead by waiving nothing: call a
    // money action the gates do not cover.
    let refunds = refunds.replace("stripe.void_refund(", "stripe.refund(");
    let gates = "rules/billing/gates.mesh";
    c.open(gates, None).await;
    let no_gate = c.text(gates).replace(
        "gate refund_approval on stripe.refund when amount > refund_limit",
        "gate refund_approval on helpdesk.reply",
    );
    c.change(gates, &no_gate).await;
    let d = c.change(REFUNDS, &format!("{refunds} ")).await;
    let r = c
        .request(
            "textDocument/codeAction",
            json!({
                "textDocument": { "uri": c.file_uri(REFUNDS) },
                "range": whole,
                "context": { "diagnostics": d["diagnostics"] }
            }),
        )
        .await;
    let titles = labels_of(&r["result"], "title");
    assert!(
        titles.iter().any(|t| t.contains("gate")),
        "{titles:?} {}",
        d
    );
    insta::assert_snapshot!("code_actions_gate", c.show(&r["result"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_input_keeps_the_rest_of_the_file_working() {
    let mut c = client().await;
    c.open(REFUNDS, None).await;
    let refunds = c.text(REFUNDS);
    // A half-typed declaration before the automation: unbalanced braces.
    let broken = refunds.replace(
        "/// Refunds what the client",
        "route half on TicketCreated {\n  assign \n\nteam {\n\n/// Refunds what the client",
    );
    let d = c.change(REFUNDS, &broken).await;
    let codes: Vec<&str> = d["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(codes.contains(&"E0001"), "{codes:?}");
    let hover = c
        .at(
            "textDocument/hover",
            REFUNDS,
            pos(&broken, "billing_ops", 0, 1),
            json!({}),
        )
        .await;
    assert!(
        hover["result"]["contents"]["value"]
            .as_str()
            .unwrap_or("")
            .contains("team billing_ops"),
        "{hover}"
    );
    let fields = c
        .at(
            "textDocument/completion",
            REFUNDS,
            pos(&broken, "ticket.refund_amount", 1, 7),
            json!({}),
        )
        .await;
    assert!(
        labels(&fields["result"]).contains(&"charge_id".to_string()),
        "{fields}"
    );
    // No request crashes the server, wherever the cursor is.
    for line in 0..broken.lines().count() as u32 + 2 {
        for ch in [0u32, 3, 9, 200] {
            let p = json!({ "line": line, "character": ch });
            for m in [
                "textDocument/hover",
                "textDocument/completion",
                "textDocument/definition",
                "textDocument/signatureHelp",
            ] {
                let r = c.at(m, REFUNDS, p.clone(), json!({})).await;
                assert!(
                    r.get("error").is_none() || r["error"]["code"] == -32801,
                    "{m} {p}: {r}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formatting_uses_the_formatter_and_refuses_broken_files() {
    let mut c = client().await;
    let rel = "rules/policy.mesh";
    let clean = c.text(rel);
    c.open(rel, None).await;
    let doc = json!({ "textDocument": { "uri": c.file_uri(rel) }, "options": { "tabSize": 2, "insertSpaces": true } });
    let same = c.request("textDocument/formatting", doc.clone()).await;
    assert_eq!(
        same["result"],
        json!([]),
        "the example is formatted already: {same}"
    );
    let messy = clean.replace("let refund_limit = 250 USD", "let   refund_limit=250 USD");
    c.change(rel, &messy).await;
    let r = c.request("textDocument/formatting", doc.clone()).await;
    assert_eq!(
        r["result"][0]["newText"].as_str(),
        Some(clean.as_str()),
        "{r}"
    );
    insta::assert_snapshot!(c.show(&r["result"][0]["range"]));
    c.change(rel, &format!("{clean}\nteam {{\n")).await;
    let broken = c.request("textDocument/formatting", doc).await;
    assert_eq!(broken["error"]["code"], -32803, "{broken}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_a_document_restores_its_text_on_disk() {
    let mut c = client().await;
    c.open(OWNERSHIP, None).await;
    c.open("rules/teams.mesh", None).await;
    let teams = c
        .text("rules/teams.mesh")
        .replace("team billing_ops", "team billing_ops2");
    c.change("rules/teams.mesh", &teams).await;
    let own = c.file_uri(OWNERSHIP);
    let mut broken = false;
    for _ in 0..10 {
        if c.diagnostics(&own).await["diagnostics"] != json!([]) {
            broken = true;
            break;
        }
    }
    assert!(broken, "the rename breaks ownership.mesh");
    // Closed without saving: ownership.mesh is clean again.
    c.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": c.file_uri("rules/teams.mesh") } }),
    )
    .await;
    let mut last = Value::Null;
    for _ in 0..10 {
        last = c.diagnostics(&own).await;
        if last["diagnostics"] == json!([]) {
            break;
        }
    }
    assert_eq!(last["diagnostics"], json!([]), "{last}");
}
