//! Signed bundles and change history (docs/deploy.md, "Signed bundles", "Change history"):
//! `meshline keygen`, `build --sign`, `sign`, `inspect`; a server with trusted keys refuses
//! unsigned, untrusted and tampered bundles, at start and over HTTP, takes either of two
//! keys (rotation), and records who deployed and the signer in the `deployed` entry, which
//! `meshline report --deployments` lists and `meshline run` replays byte for byte.

#![allow(
    clippy::unwrap_used,
    unreachable_pub,
    reason = "test code: a panic is a failing test, and helpers are `pub` for the test modules"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

mod serve_support;
use serve_support::root;
use serve_support::server::{Server, http, post_bundle, variant};

const BIN: &str = env!("CARGO_BIN_EXE_meshline");

fn meshline(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn keygen(dir: &Path, name: &str) {
    let out = meshline(&[
        "keygen".as_ref(),
        name.as_ref(),
        "--dir".as_ref(),
        dir.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `bundle` signed by `DIR/NAME.key`, written to `DIR/OUT`.
fn signed(dir: &Path, bundle: &Path, name: &str, out: &str) -> PathBuf {
    let to = dir.join(out);
    let r = meshline(&[
        "sign".as_ref(),
        bundle.as_os_str(),
        "--key".as_ref(),
        dir.join(format!("{name}.key")).as_os_str(),
        "-o".as_ref(),
        to.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    to
}

fn inspect(bundle: &Path) -> (bool, String) {
    let out = meshline(&["inspect".as_ref(), bundle.as_os_str()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// The signed bundle with its content changed and its hash trailer recomputed, as someone
/// who can write the file but has no key would do: only the signature gives it away.
fn tampered(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let block = bytes
        .windows(8)
        .rposition(|w| w == b"MESHSIG1")
        .expect("a signed bundle");
    let mut content = bytes[..block - 32].to_vec();
    let at = content
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .expect("text to change");
    content[at..at + from.len()].copy_from_slice(to.as_bytes());
    let hash = Sha256::digest(&content);
    content.extend_from_slice(&hash);
    content.extend_from_slice(&bytes[block..]);
    content
}

#[test]
fn keygen_sign_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(d, "alice");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("alice.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the private key is its owner's only");
    }
    assert!(
        std::fs::read_to_string(d.join("alice.pub"))
            .unwrap()
            .starts_with("meshline-public-key-v1 alice ")
    );
    // Never over an existing key.
    let again = meshline(&[
        "keygen".as_ref(),
        "alice".as_ref(),
        "--dir".as_ref(),
        d.as_os_str(),
    ]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("never replaces a key"));

    let project = root().join("examples/agency-support");
    let (plain, signed_path) = (d.join("plain.meshb"), d.join("signed.meshb"));
    let b = meshline(&[
        "build".as_ref(),
        project.as_os_str(),
        "-o".as_ref(),
        plain.as_os_str(),
    ]);
    assert!(b.status.success());
    let b = meshline(&[
        "build".as_ref(),
        project.as_os_str(),
        "-o".as_ref(),
        signed_path.as_os_str(),
        "--sign".as_ref(),
        d.join("alice.key").as_os_str(),
    ]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    assert!(String::from_utf8_lossy(&b.stderr).contains("signed by alice"));

    let (ok, unsigned) = inspect(&plain);
    assert!(
        ok && unsigned.contains("signature:        none (unsigned)"),
        "{unsigned}"
    );
    let (ok, text) = inspect(&signed_path);
    assert!(ok, "{text}");
    assert!(text.contains("signed by:        alice"), "{text}");
    assert!(text.contains("signature:        valid"), "{text}");
    // Signing does not change the content hash.
    let hash = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("content hash:"))
            .unwrap()
            .to_string()
    };
    assert_eq!(hash(&unsigned), hash(&text));

    let bad = d.join("bad.meshb");
    std::fs::write(
        &bad,
        tampered(&std::fs::read(&signed_path).unwrap(), "1.4.0", "1.4.9"),
    )
    .unwrap();
    let (ok, text) = inspect(&bad);
    assert!(!ok);
    assert!(text.contains("signature:        INVALID"), "{text}");
    assert!(text.contains("changed after signing"), "{text}");
}

fn config(s: &Server, keys: &[&str]) {
    let list: Vec<String> = keys
        .iter()
        .map(|k| format!("{:?}", s.path(&format!("{k}.pub")).display().to_string()))
        .collect();
    std::fs::write(
        s.path("serve.toml"),
        format!(
            "wall_clock = false\nadmin_token_env = \"MESHLINE_TEST_ADMIN\"\n\
             trusted_keys = [{}]\n[admins.ops]\ntoken = \"ops-token-0123456789\"\n",
            list.join(", ")
        ),
    )
    .unwrap();
}

fn start_refused(s: &Server, bundle: &Path) -> String {
    let out = Command::new(BIN)
        .arg("serve")
        .arg("--bundle")
        .arg(bundle)
        .arg("--state")
        .arg(s.path("state.sqlite"))
        .arg("--config")
        .arg(s.path("serve.toml"))
        .arg("--listen")
        .arg(format!("127.0.0.1:{}", s.port))
        .env("MESHLINE_TEST_ADMIN", "adm1n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn refused(port: u16, token: &str, bytes: &[u8], why: &str) {
    let (code, out) = post_bundle(port, token, bytes);
    assert_eq!(code, 409, "{out}");
    assert!(out.contains(why), "{why}: {out}");
}

#[test]
fn serve_deploys_only_trusted_signed_bundles_and_records_who() {
    let s = Server::new("");
    let d = s.dir.path();
    for k in ["alice", "bob", "carol"] {
        keygen(d, k);
    }
    config(&s, &["alice"]);
    let env = [("MESHLINE_TEST_ADMIN".to_string(), "adm1n".to_string())];
    let newer = variant(d, "newer", "meshline.toml", "1.4.0", "1.4.1");
    let first = signed(d, &s.bundle, "alice", "first-alice.meshb");

    // At start: unsigned, untrusted and tampered bundles are refused with the reason.
    let err = start_refused(&s, &s.bundle);
    assert!(err.contains("--bundle: the bundle is not signed"), "{err}");
    let err = start_refused(&s, &signed(d, &s.bundle, "carol", "first-carol.meshb"));
    assert!(err.contains("signed by carol with key"), "{err}");
    assert!(
        err.contains("not one of this server's trusted_keys"),
        "{err}"
    );
    let forged = d.join("forged.meshb");
    std::fs::write(
        &forged,
        tampered(&std::fs::read(&first).unwrap(), "1.4.0", "1.4.9"),
    )
    .unwrap();
    let err = start_refused(&s, &forged);
    assert!(err.contains("signature does not verify"), "{err}");

    let child = s.start_with(&first, &env);
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let (code, _) = http(s.port, "POST", "/events", lines[..8].join("\n").as_bytes()).unwrap();
    assert_eq!(code, 202);

    // Over HTTP: the same refusals; nothing is deployed. A plan says so too.
    let newer_bytes = std::fs::read(&newer).unwrap();
    let (code, plan) = serve_support::request(
        s.port,
        "POST",
        "/admin/bundle?plan",
        "Authorization: Bearer adm1n\r\n",
        &newer_bytes,
    )
    .unwrap();
    assert_eq!(code, 200, "{plan}");
    let plan: Json = serde_json::from_str(&plan).unwrap();
    assert!(
        plan["refused"].as_str().unwrap().contains("not signed"),
        "{plan}"
    );
    refused(s.port, "adm1n", &newer_bytes, "the bundle is not signed");
    let by_bob = std::fs::read(signed(d, &newer, "bob", "newer-bob.meshb")).unwrap();
    refused(s.port, "adm1n", &by_bob, "signed by bob with key");
    let by_alice = std::fs::read(signed(d, &newer, "alice", "newer-alice.meshb")).unwrap();
    refused(
        s.port,
        "adm1n",
        &tampered(&by_alice, "1.4.1", "1.4.7"),
        "signature does not verify",
    );
    let mut flipped = by_alice.clone();
    let last = flipped.len() - 3; // inside the signature's hex
    flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
    refused(s.port, "adm1n", &flipped, "signature does not verify");
    assert_eq!(post_bundle(s.port, "ops-token-wrong", &by_alice).0, 401);
    s.stop(child);

    // Rotation: bob's key added beside alice's; a named admin deploys bob's bundle.
    config(&s, &["alice", "bob"]);
    let child = s.start_with(&first, &env);
    let (code, out) = post_bundle(s.port, "ops-token-0123456789", &by_bob);
    assert_eq!(code, 200, "{out}");
    // Then alice's key retired: her bundle is refused, the deciding one still starts.
    s.stop(child);
    config(&s, &["bob"]);
    let child = s.start_with(&d.join("newer-bob.meshb"), &env);
    let first_bytes = std::fs::read(&first).unwrap();
    refused(s.port, "adm1n", &first_bytes, "signed by alice with key");
    let (code, _) = http(s.port, "POST", "/events", lines[8..].join("\n").as_bytes()).unwrap();
    assert!(code == 202 || code == 400);
    s.stop(child);

    let (_, ledger, msg) = s.export();
    assert!(msg.contains(" 1 deployments"), "{msg}");
    let deployed: Vec<Json> = ledger
        .lines()
        .map(|l| serde_json::from_str::<Json>(l).unwrap())
        .filter(|e| e["kind"] == "deployed")
        .collect();
    assert_eq!(deployed.len(), 1, "refused bundles leave no entry");
    let detail = &deployed[0]["detail"];
    assert_eq!(detail["by"], "ops");
    assert_eq!(detail["signer"]["name"], "bob");
    assert_eq!(detail["version"], "1.4.1");
    assert_eq!(detail["package"], "agency-support");
    assert_eq!(detail["source_hash"].as_str().unwrap().len(), 64);
    assert!(
        detail["signer"]["signed_at"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    // The note travels with the deployment input: replay writes the same entry.
    assert_eq!(s.run(None), ledger);

    // The change history, from the ledger alone.
    let ledger_path = s.path("ledger.jsonl");
    let report = |format: &str| {
        let out = meshline(&[
            "report".as_ref(),
            "--deployments".as_ref(),
            "--format".as_ref(),
            format.as_ref(),
            ledger_path.as_os_str(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = report("text");
    let row = text.lines().nth(1).unwrap();
    let at = deployed[0]["at"].as_str().unwrap();
    assert!(row.starts_with(at), "{text}");
    assert!(row.contains(" ops "), "{text}");
    assert!(row.contains("bob ("), "{text}");
    assert!(row.contains("agency-support 1.4.1"), "{text}");
    let json: Json = serde_json::from_str(&report("json")).unwrap();
    assert_eq!(json[0]["by"], "ops");
    assert_eq!(json[0]["signer"], "bob");
    assert_eq!(json[0]["to"], deployed[0]["detail"]["to"]);
    assert_eq!(report("csv").lines().count(), 2);
}

/// Deployment plans: `POST /admin/bundle?plan` and `meshline deploy plan --state` give the
/// same plan — the declaration diff, running clocks a calendar change reschedules (and by
/// how much) — and apply nothing; an incompatible bundle's plan says why it would be refused.
#[test]
fn deployment_plans_show_what_would_change_and_apply_nothing() {
    let s = Server::new("wall_clock = false\nadmin_token_env = \"MESHLINE_TEST_ADMIN\"\n");
    let env = [("MESHLINE_TEST_ADMIN".to_string(), "adm1n".to_string())];
    let d = s.dir.path();
    let shorter = variant(
        d,
        "shorter",
        "rules/teams.mesh",
        "timezone \"Europe/London\"",
        "timezone \"America/New_York\"",
    );
    // A kept event that changes its fields cannot be carried by name (docs/deploy.md,
    // "Migrations by name"): refused.
    let reordered = variant(
        d,
        "channels",
        "rules/data.mesh",
        "event ReplySent { by: Person, public: Bool }",
        "event ReplySent { by: Person, public: Bool, internal: Bool? }",
    );
    let child = s.start_with(&s.bundle, &env);
    let sample =
        std::fs::read_to_string(root().join("examples/agency-support/events/sample.jsonl"))
            .unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let (code, _) = http(s.port, "POST", "/events", lines[..8].join("\n").as_bytes()).unwrap();
    assert_eq!(code, 202);
    let (code, out) = serve_support::request(
        s.port,
        "POST",
        "/admin/bundle?plan",
        "Authorization: Bearer adm1n\r\n",
        &std::fs::read(&shorter).unwrap(),
    )
    .unwrap();
    assert_eq!(code, 200, "{out}");
    let over_http: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(over_http["status"], "plan");
    assert_eq!(over_http["refused"], Json::Null);
    assert_eq!(
        over_http["declarations"]["calendars"]["changed"][0],
        "london"
    );
    let clocks = over_http["clocks"].as_array().unwrap();
    assert!(!clocks.is_empty(), "{over_http}");
    assert!(
        clocks
            .iter()
            .all(|c| c["by_seconds"].as_i64().unwrap() != 0),
        "{over_http}"
    );
    s.stop(child);

    let plan = |bundle: &Path, format: &str| {
        meshline(&[
            "deploy".as_ref(),
            "plan".as_ref(),
            bundle.as_os_str(),
            "--state".as_ref(),
            s.path("state.sqlite").as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ])
    };
    let out = plan(&shorter, "json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Json = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["declarations", "clocks", "held", "rollouts", "to", "from"] {
        assert_eq!(cli[key], over_http[key], "{key}");
    }
    let text = String::from_utf8(plan(&shorter, "text").stdout).unwrap();
    assert!(text.contains("calendars changed: london"), "{text}");
    assert!(
        text.contains(&format!("running SLA clocks rescheduled: {}", clocks.len())),
        "{text}"
    );
    let out = plan(&reordered, "text");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("REFUSED: the new bundle changes declarations"),
        "{text}"
    );
    assert!(
        text.contains("event ReplySent changes its fields"),
        "{text}"
    );
    assert!(text.contains("facts added: internal"), "{text}");

    // Nothing was deployed.
    let (_, ledger, msg) = s.export();
    assert!(msg.contains(" 0 deployments"), "{msg}");
    assert!(!ledger.contains("\"kind\":\"deployed\""));
}
