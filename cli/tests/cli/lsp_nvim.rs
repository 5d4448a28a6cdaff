//! `meshline lsp` with a real editor client: headless Neovim runs
//! `tests/fixtures/nvim/lsp_e2e.lua` against the agency-support example (diagnostics,
//! hover, definition, diagnostics after an edit) and writes what it received to a file.
//!
//! Skipped, with a message, when `nvim` is not installed; under CI (`CI` set) a missing
//! `nvim` is a failure, because `.ci/run` installs it.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn nvim_available() -> bool {
    Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn neovim_gets_diagnostics_hover_and_definition() {
    if !nvim_available() {
        assert!(
            std::env::var_os("CI").is_none_or(|v| v.is_empty()),
            "CI must install Neovim (see .ci/run)"
        );
        eprintln!(
            "SKIPPED neovim_gets_diagnostics_hover_and_definition: `nvim` is not installed (apt-get install neovim)"
        );
        return;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = manifest
        .join("../examples/agency-support")
        .canonicalize()
        .expect("example");
    let script = manifest.join("tests/fixtures/nvim/lsp_e2e.lua");
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("result.json");
    let mut child = Command::new("nvim")
        .args(["--headless", "-n", "-i", "NONE", "-u", "NONE", "-c"])
        .arg(format!("luafile {}", script.display()))
        .env("MESHLINE_BIN", env!("CARGO_BIN_EXE_meshline"))
        .env("MESHLINE_ROOT", &root)
        .env("MESHLINE_OUT", &out)
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .env("XDG_CACHE_HOME", dir.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nvim starts");
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("nvim did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = std::fs::read_to_string(&out).unwrap_or_else(|e| {
        let mut stderr = String::new();
        if let Some(mut s) = child.stderr.take() {
            use std::io::Read as _;
            let _ = s.read_to_string(&mut stderr);
        }
        panic!("nvim wrote no results ({e}); stderr: {stderr}")
    });
    let v: serde_json::Value = serde_json::from_str(&text).expect("json from nvim");
    assert!(v.get("error").is_none(), "the Lua script failed: {v}");
    assert_eq!(
        v["initial_diagnostics"],
        serde_json::json!([]),
        "the example is clean: {v}"
    );
    let hover = v["hover"]["contents"]["value"].as_str().unwrap_or("");
    assert!(
        hover.contains("team billing_ops") && hover.contains("ana@agency.io"),
        "hover: {v}"
    );
    let def_uri = v["definition"]["uri"]
        .as_str()
        .or_else(|| v["definition"][0]["uri"].as_str())
        .unwrap_or("");
    assert!(def_uri.ends_with("/rules/teams.mesh"), "definition: {v}");
    let codes: Vec<&str> = v["edited_diagnostics"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["code"].as_str()).collect())
        .unwrap_or_default();
    assert!(codes.contains(&"E0201"), "diagnostics after the edit: {v}");
}
