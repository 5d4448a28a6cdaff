//! `meshline new NAME`: scaffold a project that checks clean: a manifest and a rules file
//! with a class, owners, a route, an SLA, a gate, an automation and a test.

use std::path::Path;
use std::process::ExitCode;

const RULES: &str = include_str!("../templates/rules.mesh");

pub(crate) fn run(name: &str) -> ExitCode {
    if !is_package_name(name) {
        eprintln!(
            "error: `{name}` is not a valid project name: use lower-case letters, digits, `-` and `_`"
        );
        return ExitCode::from(2);
    }
    let root = Path::new(name);
    if root.exists() {
        eprintln!("error: {name} already exists");
        return ExitCode::from(2);
    }
    let manifest = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n\n[build]\nsources = \"rules\"\n"
    );
    let result = std::fs::create_dir_all(root.join("rules"))
        .and_then(|()| std::fs::write(root.join("meshline.toml"), manifest))
        .and_then(|()| {
            std::fs::write(
                root.join("rules/main.mesh"),
                RULES.replace("{{name}}", name),
            )
        });
    if let Err(e) = result {
        eprintln!("error: cannot create {name}: {e}");
        return ExitCode::from(2);
    }
    eprintln!("created {name}/ (meshline.toml, rules/main.mesh)\nnext: meshline check {name}");
    ExitCode::SUCCESS
}

fn is_package_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}
