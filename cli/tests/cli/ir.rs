//! `meshline build --emit ir`: the readable IR listing of the refunds example.

use crate::common;

#[test]
fn emit_ir_refunds() {
    let cwd = common::tempdir();
    let project = common::example("refunds");
    let out = common::meshline_in(
        cwd.path(),
        [
            "build".as_ref(),
            project.as_os_str(),
            "--emit".as_ref(),
            "ir".as_ref(),
        ],
    );
    out.assert_code(0, "build --emit ir");
    assert_eq!(out.stderr, "", "no diagnostics or progress on stderr");
    // --emit ir prints instead of writing a bundle.
    assert_eq!(
        std::fs::read_dir(cwd.path()).expect("read cwd").count(),
        0,
        "--emit ir must not write a bundle"
    );
    // The listing is the in-process renderer's output.
    let built = meshline_compiler::build_path(&project).expect("load");
    let program = built.program.expect("refunds builds");
    assert_eq!(out.stdout, meshline_runtime::ir_print::render(&program));
    // Rules are indexed by event: the route and automation triggers name their events.
    assert!(
        out.stdout
            .contains("large_refunds on RefundRequested priority 10")
    );
    assert!(
        out.stdout
            .contains("refund_and_sync v2 owner billing_agents on RefundRequested")
    );
    insta::with_settings!({
        snapshot_path => "../snapshots",
        prepend_module_to_snapshot => false,
        omit_expression => true,
        description => "meshline build examples/refunds --emit ir",
    }, {
        insta::assert_snapshot!("ir_refunds", out.stdout);
    });
}

/// `--emit` accepts only `ir`.
#[test]
fn emit_rejects_unknown_formats() {
    let project = common::example("refunds");
    let out = common::meshline([
        "build".as_ref(),
        project.as_os_str(),
        "--emit".as_ref(),
        "wasm".as_ref(),
    ]);
    out.assert_code(2, "build --emit wasm");
    assert!(out.stderr.contains("wasm"), "{}", out.stderr);
}
