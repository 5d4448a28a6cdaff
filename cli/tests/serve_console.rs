//! The console under `/ui` over HTTP (docs/console.md): nothing for an anonymous client,
//! sign-in with hashed passwords, CSRF on every form, and approvals that go through the
//! engine's dual control with `by` the signed-in person.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

mod serve_support;
use serve_support::console::{call, console_server, csrf_of, form_for, held_refund, sign_in};

#[test]
fn anonymous_clients_see_nothing_and_are_sent_to_sign_in() {
    let (s, _child) = console_server();
    held_refund(s.port, "T-7001", "olivia@brightlane.co");
    for path in [
        "/ui",
        "/ui/at-risk",
        "/ui/cases",
        "/ui/cases/T-7001",
        "/ui?window=7days",
    ] {
        let a = call(s.port, "GET", path, None, "");
        assert_eq!(a.status, 303, "{path}: {}", a.body);
        assert_eq!(a.header("location"), Some("/ui/login"), "{path}");
        assert!(!a.body.contains("T-7001"), "{path}");
    }
    // A forged session cookie is no session.
    let a = call(
        s.port,
        "GET",
        "/ui/cases/T-7001",
        Some("meshline_session=00"),
        "",
    );
    assert_eq!(a.status, 303);
    // A decision without a session changes nothing.
    let a = call(
        s.port,
        "POST",
        "/ui/cases/T-7001/decide",
        None,
        "csrf=x&approval=manager_approval&decision=approve",
    );
    assert_eq!(a.status, 303);
    // Wrong passwords, known user or not, get the same answer.
    for (user, pw) in [("luis@tallyhub.com", "nope"), ("eve@example.com", "nope")] {
        let a = call(
            s.port,
            "POST",
            "/ui/login",
            None,
            &format!("user={user}&password={pw}"),
        );
        assert_eq!(a.status, 401);
        assert!(a.body.contains("Wrong e-mail or password."));
        assert!(a.header("set-cookie").is_none());
    }
    let page = call(s.port, "GET", "/ui/login", None, "");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'sha256-"),
        "{csp}"
    );
    let (_, ledger, _) = s.export();
    assert!(!ledger.contains("ApprovalGranted") && !ledger.contains("\"kind\":\"approved\""));
}

#[test]
fn approvals_from_the_console_keep_dual_control() {
    let (s, _child) = console_server();
    held_refund(s.port, "T-7002", "dana@tallyhub.com");

    // Dana asked for the refund: her own approval is refused, with the engine's reason.
    let dana = sign_in(s.port, "dana@tallyhub.com", "dana-pass");
    // At risk: the hold, the case's running clocks and its unacknowledged ownership.
    let page = form_for(s.port, &dana, "T-7002");
    assert!(page.contains("name=\"decision\""), "{page}");
    let risk = call(s.port, "GET", "/ui/at-risk", Some(&dana), "").body;
    // The hold's expiry comes from the engine: the gate expires 24 h after the hold.
    let row = risk
        .lines()
        .find(|l| l.contains("/ui/cases/T-7002") && l.contains("stripe.refund"))
        .unwrap_or_default();
    let cells: Vec<&str> = row.split("<td>").collect();
    let (held, expires) = (cells[cells.len() - 2], cells[cells.len() - 1]);
    let parse = |c: &str| {
        c.split("</td>")
            .next()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
    };
    assert_eq!(
        parse(expires).as_second() - parse(held).as_second(),
        24 * 3600,
        "{row}"
    );
    for want in [
        "<th>expires (UTC)</th>",
        "Held actions waiting for a decision (1)",
        "<td>refund_turnaround</td>",
        "Owned, not yet acknowledged (1)",
        "/ui/cases/T-7002",
    ] {
        assert!(risk.contains(want), "{want}\n{risk}");
    }
    let page = form_for(s.port, &dana, "T-7002");
    assert!(
        page.contains("waits for <strong>manager_approval</strong>"),
        "{page}"
    );
    assert!(page.contains("stripe.refund of 480.00 USD"), "{page}");
    let csrf = csrf_of(&page);
    // A form without the session's CSRF token is refused and records nothing.
    let a = call(
        s.port,
        "POST",
        "/ui/cases/T-7002/decide",
        Some(&dana),
        "csrf=0000&approval=manager_approval&decision=approve",
    );
    assert_eq!(a.status, 403);
    let a = call(
        s.port,
        "POST",
        "/ui/cases/T-7002/decide",
        Some(&dana),
        &format!("csrf={csrf}&approval=manager_approval&decision=approve"),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(
        a.body
            .contains("Refused: dual control: the requester cannot approve their own request"),
        "{}",
        a.body
    );

    // Luis, the other manager, approves: the refund executes.
    let luis = sign_in(s.port, "luis@tallyhub.com", "luis-pass");
    let page = form_for(s.port, &luis, "T-7002");
    let csrf = csrf_of(&page);
    let a = call(
        s.port,
        "POST",
        "/ui/cases/T-7002/decide",
        Some(&luis),
        &format!("csrf={csrf}&approval=manager_approval&decision=approve"),
    );
    assert!(
        a.body.contains("Approved by luis@tallyhub.com."),
        "{}",
        a.body
    );
    let (_, ledger, _) = s.export();
    let approved = ledger
        .lines()
        .find(|l| l.contains("\"kind\":\"approved\"") && l.contains("T-7002"))
        .unwrap();
    assert!(
        approved.contains("\"by\":\"luis@tallyhub.com\""),
        "{approved}"
    );
    assert!(
        ledger.lines().any(|l| l.contains("\"kind\":\"executed\"")
            && l.contains("T-7002")
            && l.contains("stripe.refund")),
        "the approved refund executes"
    );
    assert!(ledger.contains("dual control: the requester cannot approve their own request"));

    // The story names where each rule is declared (the stored bundle's source map).
    let story = call(s.port, "GET", "/ui/cases/T-7002", Some(&luis), "").body;
    assert!(story.contains("rules/billing/refunds.mesh:"), "{story}");
    // Automations: the deciding bundle's, with rollout and breaker, then their outcomes.
    let autos = call(s.port, "GET", "/ui/automations", Some(&luis), "").body;
    assert!(autos.contains("<td>refund_and_sync</td>"), "{autos}");
    assert!(autos.contains("Outcomes, last 30 days"), "{autos}");
    let deploys = call(s.port, "GET", "/ui/deployments", Some(&luis), "").body;
    assert!(deploys.contains("Deciding: <strong>refunds "), "{deploys}");

    // Signing out ends the session.
    let overview = call(s.port, "GET", "/ui", Some(&luis), "");
    assert_eq!(overview.status, 200);
    let csrf = csrf_of(&overview.body);
    let a = call(
        s.port,
        "POST",
        "/ui/logout",
        Some(&luis),
        &format!("csrf={csrf}"),
    );
    assert_eq!(a.status, 303);
    assert_eq!(call(s.port, "GET", "/ui", Some(&luis), "").status, 303);
}

/// A flood of sign-ins is answered (wrong password, or `429` when the password checks are
/// all busy), never with an error, and the server keeps answering other requests.
#[test]
fn a_flood_of_sign_ins_is_answered_and_bounded() {
    let (s, _child) = console_server();
    let port = s.port;
    let handles: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                call(
                    port,
                    "POST",
                    "/ui/login",
                    None,
                    &format!("user=luis%40tallyhub.com&password=guess{i}"),
                )
                .status
            })
        })
        .collect();
    let started = std::time::Instant::now();
    let health = call(port, "GET", "/healthz", None, "");
    assert_eq!(health.status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    for h in handles {
        let status = h.join().unwrap();
        assert!(status == 401 || status == 429, "{status}");
    }
}

/// At risk lists running clocks by deadline with the business time left (read from the
/// engine), and the cases page finds cases by client, class and owner.
#[test]
fn clocks_by_deadline_and_cases_by_client_class_and_team() {
    let (s, _child) = console_server();
    let ticket = |case: &str, back: i64, org: &str| {
        let at = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(back)).to_string();
        format!(
            "{{\"id\":\"{case}-1\",\"type\":\"TicketCreated\",\"at\":\"{at}\",\"case\":\"{case}\",\"data\":{{\"ticket\":{{\"id\":\"{case}\",\"type\":\"billing\",\"subject\":\"Refund\",\"tags\":[\"refund\"],\"status\":\"New\",\"priority\":\"Normal\",\"requester\":\"olivia@brightlane.co\",\"organization\":\"{org}\"}},\"channel\":\"Web\"}}}}\n"
        )
    };
    // The older ticket's first-response clock falls due first.
    let lines = ticket("T-7101", 600, "brightlane") + &ticket("T-7102", 60, "tallyhub");
    let (code, body) =
        serve_support::server::http(s.port, "POST", "/events", lines.as_bytes()).unwrap();
    assert_eq!(code, 202, "{body}");
    let dana = sign_in(s.port, "dana@tallyhub.com", "dana-pass");
    let risk = call(s.port, "GET", "/ui/at-risk", Some(&dana), "").body;
    assert!(
        risk.contains("Running SLA clocks (")
            && risk.contains("by deadline, with business time left"),
        "{risk}"
    );
    let first = risk.find("/ui/cases/T-7101").unwrap();
    let second = risk.find("/ui/cases/T-7102").unwrap();
    assert!(first < second, "{risk}");
    assert!(risk.contains("<td>eastern</td>"), "{risk}");

    // The directory follows the ledger and the stored events: wait for it.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let search = |query: &str| {
        call(
            s.port,
            "GET",
            &format!("/ui/cases?{query}"),
            Some(&dana),
            "",
        )
        .body
    };
    while !search("client=brightlane").contains("/ui/cases/T-7101")
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let by_client = search("client=brightlane");
    assert!(by_client.contains("/ui/cases/T-7101"), "{by_client}");
    assert!(!by_client.contains("/ui/cases/T-7102"), "{by_client}");
    let by_class = search("class=refund");
    assert!(
        by_class.contains("/ui/cases/T-7101") && by_class.contains("/ui/cases/T-7102"),
        "{by_class}"
    );
    let by_team_and_client = search("team=billing_agents&client=tallyhub");
    assert!(
        by_team_and_client.contains("/ui/cases/T-7102")
            && !by_team_and_client.contains("/ui/cases/T-7101"),
        "{by_team_and_client}"
    );
    assert!(search("class=Dispute").contains("No case found."));
    assert!(search("q=T-71").contains("<td>brightlane</td>"));
}

/// An admin uploads a candidate bundle on the deployments page: it runs in shadow over the
/// stored history and the page shows what it would change; viewers and bad uploads are
/// refused.
#[test]
fn an_admin_sees_what_a_candidate_bundle_would_change() {
    use serve_support::console::{call_with, multipart};
    let (s, _child) = console_server();
    // 480 USD is over the 250 USD manager limit: held.
    held_refund(s.port, "T-7201", "olivia@brightlane.co");
    // The candidate raises the limit to 1000 USD: the same refund would execute at once.
    let project = s.path("candidate");
    copy_tree(&serve_support::root().join("examples/refunds"), &project);
    let policy = project.join("rules/billing/policy.mesh");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("let manager_approval_limit = 250 USD"));
    std::fs::write(
        &policy,
        text.replace(
            "manager_approval_limit = 250 USD",
            "manager_approval_limit = 1000 USD",
        ),
    )
    .unwrap();
    let candidate = s.path("candidate.meshb");
    let built = std::process::Command::new(env!("CARGO_BIN_EXE_meshline"))
        .arg("build")
        .arg(&project)
        .arg("-o")
        .arg(&candidate)
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let bytes = std::fs::read(&candidate).unwrap();

    let rachel = sign_in(s.port, "rachel@tallyhub.com", "rachel-pass");
    let page = call(s.port, "GET", "/ui/deployments", Some(&rachel), "").body;
    assert!(page.contains("action=\"/ui/deployments/whatif\""), "{page}");
    let csrf = csrf_of(&page);
    let upload = |cookie: &str, csrf: &str, bundle: &[u8]| {
        let (ct, body) = multipart(&[
            ("csrf", None, csrf.as_bytes()),
            ("bundle", Some("candidate.meshb"), bundle),
        ]);
        call_with(
            s.port,
            "POST",
            "/ui/deployments/whatif",
            Some(cookie),
            &ct,
            &body,
        )
    };
    let a = upload(&rachel, &csrf, &bytes);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("What would change"), "{}", a.body);
    assert!(
        a.body.contains("<strong>1 would change</strong>"),
        "{}",
        a.body
    );
    assert!(a.body.contains("T-7201"), "{}", a.body);
    // Nothing was deployed: the engine still holds the refund.
    let (_, ledger, _) = s.export();
    assert!(!ledger.contains("\"kind\":\"deployed\""));
    assert!(
        !ledger
            .lines()
            .any(|l| l.contains("\"kind\":\"executed\"") && l.contains("T-7201"))
    );

    // Not a bundle: refused with the reason. A stale form: refused.
    let a = upload(&rachel, &csrf, b"not a bundle");
    assert_eq!(a.status, 422, "{}", a.body);
    assert!(a.body.contains("not a loadable bundle"), "{}", a.body);
    assert_eq!(upload(&rachel, "0000", &bytes).status, 403);
    // A viewer sees no form and may not replay.
    let dana = sign_in(s.port, "dana@tallyhub.com", "dana-pass");
    let page = call(s.port, "GET", "/ui/deployments", Some(&dana), "").body;
    assert!(!page.contains("/ui/deployments/whatif"), "{page}");
    let a = upload(&dana, &csrf_of(&page), &bytes);
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("Only an admin"), "{}", a.body);
}

fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
