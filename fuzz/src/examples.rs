//! The example projects, built once per fuzzing process: their programs and bundles are the
//! fixed programs the event, bundle and snapshot targets run against.

use std::sync::OnceLock;

use meshline_runtime::ir::Program;
use serde_json::Value as Json;

use crate::seeds;

pub struct Example {
    pub name: String,
    pub program: Program,
    /// The bundle's bytes and its content hash.
    pub bundle: Vec<u8>,
    pub hash: String,
    /// Event lines: `events/*.jsonl` and the events of `acceptance/*.jsonl`.
    pub events: Vec<String>,
}

/// Every example that builds, in name order (the order inputs select them by).
pub fn all() -> &'static [Example] {
    static ALL: OnceLock<Vec<Example>> = OnceLock::new();
    ALL.get_or_init(load)
}

/// The example an input's selector byte picks.
pub fn pick(selector: u8) -> Option<&'static Example> {
    let all = all();
    all.get(usize::from(selector) % all.len().max(1))
}

fn load() -> Vec<Example> {
    let root = seeds::repo().join("examples");
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.retain(|d| d.join("meshline.toml").is_file());
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let Ok(built) = meshline_compiler::build_path(&dir) else {
            continue;
        };
        let (Some(program), Some(bundle)) = (built.program, built.bundle) else {
            continue;
        };
        let Ok((_, hash)) = meshline_runtime::bundle::read_manifest(&bundle) else {
            continue;
        };
        let mut events = Vec::new();
        for f in seeds::files(&dir.join("events"), ".jsonl") {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            events.extend(text.lines().map(str::to_string));
        }
        for f in seeds::files(&dir.join("acceptance"), ".jsonl") {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            for line in text.lines() {
                let Ok(v) = serde_json::from_str::<Json>(line) else {
                    continue;
                };
                if let Some(Json::Array(evs)) = v.get("events") {
                    events.extend(evs.iter().map(Json::to_string));
                }
            }
        }
        out.push(Example {
            name: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            program,
            bundle,
            hash,
            events,
        });
    }
    assert!(!out.is_empty(), "no example project built");
    out
}
