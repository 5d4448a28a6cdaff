//! Who may use the console (docs/console.md, "Access"): users from the configuration with
//! argon2 password hashes, sessions held in memory behind a random cookie, a CSRF token per
//! session for every form.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use serde::Deserialize;

/// What a user may do: everyone signed in reads every page and may approve or deny held
/// actions (the engine decides whether they are eligible); `admin` is reserved for the
/// deployment actions.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Admin => "admin",
        }
    }
}

/// `[console.users."ana@agency.io"]`: the key is the person (their e-mail address), which
/// is what an approval's `by` records.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    pub role: Role,
    /// An argon2 PHC string (`meshline password-hash` prints one); never the password.
    pub password_hash: String,
}

/// `[console]` in the serve configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsoleConfig {
    pub users: BTreeMap<String, UserConfig>,
    /// Mark the cookie `Secure` (set when a TLS proxy serves the console).
    pub secure_cookie: bool,
    /// A session ends this long after sign-in.
    pub session_minutes: u64,
    /// At most this many live sessions; the oldest is ended for a new one.
    pub max_sessions: usize,
    /// How often the overview's figures are recomputed from the ledger (at least).
    pub refresh_seconds: u64,
    /// JSON pointers into a stored event where its client is named, tried in order; the
    /// cases page searches by client with them (the ledger does not record a client).
    pub client_fields: Vec<String>,
    /// The most stored inputs a "what would change" replay runs over.
    pub whatif_max_inputs: u64,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        ConsoleConfig {
            users: BTreeMap::new(),
            secure_cookie: false,
            session_minutes: 12 * 60,
            max_sessions: 1000,
            refresh_seconds: 15,
            client_fields: [
                "/data/ticket/client_id",
                "/data/ticket/organization",
                "/data/contract/client_id",
                "/data/client_id",
                "/data/client",
            ]
            .map(String::from)
            .to_vec(),
            whatif_max_inputs: 200_000,
        }
    }
}

impl ConsoleConfig {
    /// Refuses hashes that are not argon2 PHC strings, at start-up rather than at sign-in.
    pub fn check(&self) -> Result<(), String> {
        if let Some(bad) = self.client_fields.iter().find(|p| !p.starts_with('/')) {
            return Err(format!(
                "console: client_fields: `{bad}` is not a JSON pointer (it starts with `/`, e.g. `/data/ticket/client_id`)"
            ));
        }
        for (user, u) in &self.users {
            let parsed = PasswordHash::new(&u.password_hash)
                .map_err(|e| format!("console user `{user}`: password_hash: {e}"))?;
            if !parsed.algorithm.as_str().starts_with("argon2") {
                return Err(format!(
                    "console user `{user}`: password_hash is not an argon2 hash (use `meshline password-hash`)"
                ));
            }
        }
        Ok(())
    }
}

/// An argon2id PHC string for `password`, with a random salt.
pub fn hash_password(password: &str) -> Result<String, crate::error::ServeError> {
    use crate::error::{ServeError, io};
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ServeError::Io(format!("no randomness: {e}")))?;
    let salt = SaltString::encode_b64(&salt).map_err(io)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(io)
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// 32 random bytes, hex: session ids, CSRF tokens, approval event ids.
pub fn token() -> Result<String, String> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| format!("no randomness: {e}"))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

#[derive(Clone, Debug)]
pub struct Session {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    started: Instant,
}

/// Live sessions by id.
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    ttl: Duration,
    max: usize,
}

impl Sessions {
    pub fn new(ttl: Duration, max: usize) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            ttl,
            max: max.max(1),
        }
    }

    /// A new session for `user`: its id (the cookie) and the session.
    pub fn start(&self, user: &str, role: Role) -> Result<(String, Session), String> {
        let id = token()?;
        let session = Session {
            user: user.to_string(),
            role,
            csrf: token()?,
            started: Instant::now(),
        };
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        let ttl = self.ttl;
        map.retain(|_, s| s.started.elapsed() < ttl);
        if map.len() >= self.max
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.started)
                .map(|(k, _)| k.clone())
        {
            map.remove(&oldest);
        }
        map.insert(id.clone(), session.clone());
        Ok((id, session))
    }

    pub fn get(&self, id: &str) -> Option<Session> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(id) {
            Some(s) if s.started.elapsed() < self.ttl => Some(s.clone()),
            Some(_) => {
                map.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn end(&self, id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// The session cookie's name.
pub const COOKIE: &str = "meshline_session";

/// The session id from a `Cookie` header, if it carries ours.
pub fn cookie_value(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

/// Constant-time comparison of two tokens.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horse "));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn sessions_expire_and_are_bounded() {
        let s = Sessions::new(Duration::from_secs(3600), 2);
        let (a, _) = s.start("a@x.io", Role::Viewer).unwrap();
        let (b, _) = s.start("b@x.io", Role::Admin).unwrap();
        let (c, _) = s.start("c@x.io", Role::Viewer).unwrap();
        assert!(s.get(&a).is_none(), "the oldest made room");
        assert_eq!(s.get(&b).map(|x| x.role), Some(Role::Admin));
        assert!(s.get(&c).is_some());
        s.end(&c);
        assert!(s.get(&c).is_none());
        let gone = Sessions::new(Duration::ZERO, 2);
        let (d, _) = gone.start("d@x.io", Role::Viewer).unwrap();
        assert!(gone.get(&d).is_none(), "expired");
    }

    #[test]
    fn cookies_and_tokens() {
        assert_eq!(cookie_value("a=1; meshline_session=abc; b=2"), Some("abc"));
        assert_eq!(cookie_value("meshline_sessionx=abc"), None);
        assert!(same("abc", "abc") && !same("abc", "abd") && !same("abc", "ab"));
        assert_eq!(token().unwrap().len(), 64);
    }
}
