//! Embeds the standard library (`../stdlib/std/**/*.mesh`) into the compiler as a sorted
//! table of (module name, path, text), so the `meshline` binary needs no files at run time.

use std::fs;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "mesh") {
            out.push(path);
        }
    }
}

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir.join("../stdlib");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root.join("std"), &mut files);
    files.sort();
    let mut table = String::from(
        "/// (module, path, text) of every standard-library file, sorted by path.\npub static STDLIB: &[(&str, &str, &str)] = &[\n",
    );
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let rel = path.strip_prefix(&root).expect("collected under root");
        let rel_str = rel.to_string_lossy().replace('\\', "/");
        let module = rel_str.trim_end_matches(".mesh").replace('/', ".");
        table.push_str(&format!(
            "    ({module:?}, {rel_str:?}, include_str!({abs:?})),\n",
            abs = path
                .canonicalize()
                .expect("stdlib file exists")
                .display()
                .to_string()
        ));
    }
    table.push_str("];\n");
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("stdlib.rs");
    fs::write(out, table).expect("write stdlib table");
}
