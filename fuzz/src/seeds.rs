//! Seed corpora, generated at start-up from the repository instead of committed.
//!
//! libFuzzer takes corpus folders as its positional arguments and reads them after
//! `LLVMFuzzerInitialize` (the targets' `init:` block) has run, so writing the seeds there
//! makes `fuzz/run.sh TARGET` and `cargo fuzz run TARGET` start from them. Files are named by
//! their SHA-1, as libFuzzer names the inputs it adds, so a seed is never stored twice.

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

/// The repository's root (the fuzz crate lives in `fuzz/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Write `make()`'s seeds into the first corpus folder on the command line (created when
/// missing). Nothing happens when the first positional argument is a file (reproducing a
/// crash) or when there is none.
pub fn install(make: impl FnOnce() -> Vec<Vec<u8>>) {
    let Some(dir) = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
    else {
        return;
    };
    if dir.is_file() || std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    for seed in make() {
        let name: String = Sha1::digest(&seed)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let path = dir.join(name);
        if !path.exists() {
            // A seed that cannot be written only makes the start slower; not worth failing.
            let _ = std::fs::write(path, &seed);
        }
    }
}

/// Every file under `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every `.mesh` file of the examples, the checker's and formatter's fixtures and the
/// standard library.
pub fn mesh_sources() -> Vec<Vec<u8>> {
    let root = repo();
    [
        "examples",
        "tests/check",
        "tests/fmt",
        "stdlib",
        "cli/tests/fixtures",
    ]
    .iter()
    .flat_map(|d| files(&root.join(d), ".mesh"))
    .filter_map(|p| std::fs::read(p).ok())
    .collect()
}
