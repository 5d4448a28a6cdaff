//! `meshline fmt`: in-place writes only when a file changes, `--check` lists what would
//! change and exits 1, syntax errors are reported and leave the file alone, `-` formats
//! standard input, and the repository's own `.mesh` files pass `--check`.

use std::path::Path;

use crate::common::{meshline, meshline_in, meshline_stdin, repo, tempdir};

const MESSY: &str = "// keep me\nenum   Tier{Gold,Silver}\nlet   limit=250   USD // trailing\n";
const CANONICAL: &str =
    "// keep me\nenum Tier { Gold, Silver }\n\nlet limit = 250 USD // trailing\n";

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(&path, text).expect("write");
    path
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).expect("read")
}

#[test]
fn formats_files_in_place() {
    let dir = tempdir();
    let messy = write(dir.path(), "rules/a.mesh", MESSY);
    let clean = write(dir.path(), "rules/sub/b.mesh", CANONICAL);
    let before = std::fs::metadata(&clean).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let out = meshline_in(dir.path(), ["fmt"]);
    out.assert_code(0, "meshline fmt");
    assert_eq!(read(&messy), CANONICAL);
    assert_eq!(read(&clean), CANONICAL);
    // An unchanged file is not rewritten.
    let after = std::fs::metadata(&clean).unwrap().modified().unwrap();
    assert_eq!(before, after, "a canonical file was rewritten");
    assert!(
        out.stderr.contains("formatted 1 of 2 file(s)"),
        "{}",
        out.stderr
    );
    // A second run changes nothing.
    meshline_in(dir.path(), ["fmt", "--check"]).assert_code(0, "fmt --check after fmt");
}

#[test]
fn check_lists_files_and_writes_nothing() {
    let dir = tempdir();
    let messy = write(dir.path(), "a.mesh", MESSY);
    write(dir.path(), "b.mesh", CANONICAL);
    let out = meshline(["fmt".as_ref(), "--check".as_ref(), dir.path().as_os_str()]);
    out.assert_code(1, "fmt --check on a messy file");
    assert_eq!(out.stdout.trim(), messy.display().to_string());
    assert_eq!(read(&messy), MESSY, "--check wrote the file");
    assert!(
        out.stderr.contains("1 of 2 file(s) would be reformatted"),
        "{}",
        out.stderr
    );
}

#[test]
fn single_file_path() {
    let dir = tempdir();
    let messy = write(dir.path(), "a.mesh", MESSY);
    meshline(["fmt".as_ref(), "--check".as_ref(), messy.as_os_str()]).assert_code(1, "check");
    meshline(["fmt".as_ref(), messy.as_os_str()]).assert_code(0, "fmt");
    assert_eq!(read(&messy), CANONICAL);
}

#[test]
fn syntax_errors_leave_the_file_alone() {
    let dir = tempdir();
    let bad_text = "let a =  1\nlet b = (\n";
    let bad = write(dir.path(), "bad.mesh", bad_text);
    let messy = write(dir.path(), "messy.mesh", MESSY);
    let out = meshline(["fmt".as_ref(), dir.path().as_os_str()]);
    out.assert_code(1, "fmt with a syntax error");
    assert_eq!(
        read(&bad),
        bad_text,
        "a file with syntax errors was changed"
    );
    assert!(out.stderr.contains("E0001"), "{}", out.stderr);
    assert!(out.stderr.contains("not formatted"), "{}", out.stderr);
    // The other files are still formatted.
    assert_eq!(read(&messy), CANONICAL);
}

#[test]
fn standard_input() {
    let out = meshline_stdin(["fmt", "-"], MESSY.as_bytes());
    out.assert_code(0, "fmt -");
    assert_eq!(out.stdout, CANONICAL);
    let out = meshline_stdin(["fmt", "--stdin"], MESSY.as_bytes());
    out.assert_code(0, "fmt --stdin");
    assert_eq!(out.stdout, CANONICAL);
    meshline_stdin(["fmt", "--stdin", "--check"], MESSY.as_bytes()).assert_code(1, "check");
    meshline_stdin(["fmt", "--stdin", "--check"], CANONICAL.as_bytes()).assert_code(0, "ok");
    let out = meshline_stdin(["fmt", "-"], b"let a = (\n");
    out.assert_code(1, "fmt - with a syntax error");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn missing_path_is_a_usage_error() {
    meshline(["fmt", "/no/such/path.mesh"]).assert_code(2, "missing path");
}

/// The repository's own rules are canonical (also a step of `.ci/run`).
#[test]
fn examples_and_stdlib_are_formatted() {
    let root = repo();
    let out = meshline([
        "fmt".as_ref(),
        "--check".as_ref(),
        root.join("examples").as_os_str(),
        root.join("stdlib").as_os_str(),
    ]);
    out.assert_code(0, "fmt --check examples stdlib");
}

/// A project made by `meshline new` is already formatted.
#[test]
fn new_projects_are_formatted() {
    let dir = tempdir();
    meshline_in(dir.path(), ["new", "desk"]).assert_code(0, "meshline new");
    meshline_in(dir.path(), ["fmt", "--check", "desk"]).assert_code(0, "fmt --check a new project");
}
