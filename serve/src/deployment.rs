//! Who may deploy and which bundles (docs/deploy.md, "Signed bundles" and "Change
//! history"): named admin tokens, the trusted signing keys, and the note a deployment's
//! `deployed` ledger entry records — who deployed, the bundle's signer, version and source
//! hash. The note is stored with the deployment input, so replay writes the same entry.

use std::collections::BTreeMap;
use std::path::PathBuf;

use meshline_runtime::bundle;
use meshline_runtime::signing::{PublicKey, Signature};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use sha2::{Digest, Sha256};

/// `[admins.NAME]`: one person's (or system's) admin token.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// The bearer token, or `token_env`: the environment variable holding it.
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub token_env: Option<String>,
}

/// The name a token given as `admin_token` / `admin_token_env` deploys under.
pub const UNNAMED_ADMIN: &str = "admin";
/// The `by` of a deployment made at start with `--bundle`.
pub const AT_START: &str = "--bundle at start";

/// The admin tokens by name (their SHA-256: compared in constant time).
#[derive(Debug)]
pub struct Admins {
    tokens: Vec<(String, [u8; 32])>,
}

fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Admins {
    /// From `[admins.NAME]` and the unnamed `admin_token(_env)`; `None` when there is none
    /// (admin endpoints off).
    pub fn load(
        named: &BTreeMap<String, AdminToken>,
        unnamed: (Option<&str>, Option<&str>),
    ) -> Result<Option<Admins>, String> {
        let read = |what: &str, token: Option<&str>, env: Option<&str>| match (token, env) {
            (Some(t), _) => Ok(Some(t.to_string())),
            (None, Some(var)) => std::env::var(var)
                .map(Some)
                .map_err(|_| format!("{what}: {var} is not set")),
            (None, None) => Ok(None),
        };
        let mut tokens = Vec::new();
        if let Some(t) = read("admin_token_env", unnamed.0, unnamed.1)? {
            tokens.push((UNNAMED_ADMIN.to_string(), digest(&t)));
        }
        for (name, a) in named {
            let what = format!("admins.{name}");
            let Some(t) = read(&what, a.token.as_deref(), a.token_env.as_deref())? else {
                return Err(format!("{what}: give token_env (or token)"));
            };
            if t.len() < 16 {
                return Err(format!("{what}: the token must be at least 16 bytes"));
            }
            if tokens.iter().any(|(n, _)| n == name) {
                return Err(format!(
                    "{what}: the name {name:?} is already the unnamed admin_token's"
                ));
            }
            tokens.push((name.clone(), digest(&t)));
        }
        Ok((!tokens.is_empty()).then_some(Admins { tokens }))
    }

    /// Whose token this is. Every token is compared, each in constant time.
    pub fn who(&self, given: &str) -> Option<&str> {
        let given = digest(given);
        let mut found = None;
        for (name, d) in &self.tokens {
            let diff = d.iter().zip(&given).fold(0u8, |acc, (x, y)| acc | (x ^ y));
            if diff == 0 && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

/// The public key files of `trusted_keys` (none: signatures are checked when present but
/// not required).
pub fn load_trusted(paths: &[PathBuf]) -> Result<Vec<PublicKey>, crate::error::ServeError> {
    let bad = |p: &PathBuf, e: &dyn std::fmt::Display| {
        crate::error::ServeError::Config(format!("trusted_keys: {}: {e}", p.display()))
    };
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).map_err(|e| bad(p, &e))?;
            PublicKey::parse(&text).map_err(|e| bad(p, &e))
        })
        .collect()
}

/// Whether `bytes` may be deployed under this trust (a signature present must verify; with
/// trusted keys, one of theirs is required), and what its `deployed` entry records:
/// `by`, `package`, `version`, `source_hash` and, for a signed bundle, `signer` (`name`,
/// `key` fingerprint, `signed_at`). `Err` is the reason, for the operator.
pub fn note(bytes: &[u8], by: &str, trusted: &[PublicKey]) -> Result<Map<String, Json>, String> {
    let (manifest, hash) = bundle::read_manifest(bytes).map_err(|e| e.to_string())?;
    let sig = bundle::read_signature(bytes).map_err(|e| e.to_string())?;
    let signed = Signature::check(sig.as_ref(), &hash, trusted).map_err(|e| e.to_string())?;
    let mut note = Map::new();
    note.insert("by".into(), json!(by));
    note.insert("package".into(), json!(manifest.package));
    note.insert("version".into(), json!(manifest.version));
    note.insert("source_hash".into(), json!(manifest.source_hash));
    if let Some(s) = signed {
        note.insert(
            "signer".into(),
            json!({ "name": s.signer, "key": s.fingerprint(), "signed_at": s.signed_at }),
        );
    }
    Ok(note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_tokens_are_named_and_checked() {
        let named = BTreeMap::from([
            (
                "alice".to_string(),
                AdminToken {
                    token: Some("alice-token-0123456789".into()),
                    token_env: None,
                },
            ),
            (
                "bob".to_string(),
                AdminToken {
                    token: Some("bob-token-0123456789".into()),
                    token_env: None,
                },
            ),
        ]);
        let admins = Admins::load(&named, (Some("legacy"), None))
            .unwrap()
            .unwrap();
        assert_eq!(admins.who("alice-token-0123456789"), Some("alice"));
        assert_eq!(admins.who("bob-token-0123456789"), Some("bob"));
        assert_eq!(admins.who("legacy"), Some(UNNAMED_ADMIN));
        assert_eq!(admins.who("alice-token-012345678"), None);
        assert_eq!(admins.who(""), None);
        assert!(
            Admins::load(&BTreeMap::new(), (None, None))
                .unwrap()
                .is_none()
        );
        let short = BTreeMap::from([(
            "eve".to_string(),
            AdminToken {
                token: Some("short".into()),
                token_env: None,
            },
        )]);
        assert!(
            Admins::load(&short, (None, None))
                .unwrap_err()
                .contains("16 bytes")
        );
        let none = BTreeMap::from([("eve".to_string(), AdminToken::default())]);
        assert!(
            Admins::load(&none, (None, None))
                .unwrap_err()
                .contains("token_env")
        );
    }
}
