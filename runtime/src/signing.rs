//! Bundle signatures (docs/deploy.md, "Signed bundles"): an Ed25519 signature over a
//! bundle's content hash, the signer's name and the signing time, kept in a block after the
//! bundle's hash trailer (outside the content hash: signing does not change what the ledger
//! calls the bundle). Key files and the block's layout are documented there.
//!
//! The signed message is the text `meshline bundle signature v1\n{content hash}\n{signer}\n
//! {signed_at}\n`: the name and time are signed with the hash, so neither can be swapped.

use std::fmt;

use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ledger::{canonical_json, hex};

/// The signature block's magic, after the bundle's hash trailer.
pub const BLOCK_MAGIC: [u8; 8] = *b"MESHSIG1";
/// Magic and the u32 length of the JSON that follows.
const BLOCK_HEADER: usize = 12;
const DOMAIN: &str = "meshline bundle signature v1";
const SECRET_TAG: &str = "meshline-secret-key-v1";
const PUBLIC_TAG: &str = "meshline-public-key-v1";

/// A bundle's signature, as its block holds it (canonical JSON).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Who signed: the key's name (`meshline keygen NAME`).
    pub signer: String,
    /// The public key, hex (64 digits).
    pub key: String,
    /// When, RFC 3339 UTC.
    pub signed_at: String,
    /// The Ed25519 signature, hex (128 digits).
    pub signature: String,
}

/// Why a signature, a key file or a bundle's signing was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature does not verify: the bundle or the block changed after signing.
    Invalid { signer: String, key: String },
    /// It verifies, but with a key this server does not trust.
    Untrusted { signer: String, key: String },
    /// No signature, and signatures are required.
    Unsigned,
    /// A key file or a signer name is not in the documented format.
    BadKey(String),
    /// A signature block is framed but its contents are not a signature.
    BadBlock(String),
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignatureError::Invalid { signer, key } => write!(
                f,
                "the bundle's signature does not verify (signed by {signer}, key {key}): the \
                 bundle or its signature was changed after signing; rebuild and sign it again"
            ),
            SignatureError::Untrusted { signer, key } => write!(
                f,
                "the bundle is signed by {signer} with key {key}, which is not one of this \
                 server's trusted_keys"
            ),
            SignatureError::Unsigned => write!(
                f,
                "the bundle is not signed, and this server deploys only bundles signed by one of \
                 its trusted_keys: sign it with `meshline build --sign KEY`"
            ),
            SignatureError::BadKey(e) => write!(f, "{e}"),
            SignatureError::BadBlock(e) => write!(f, "the bundle's signature block: {e}"),
        }
    }
}

impl std::error::Error for SignatureError {}

/// A key's short identity: the first 16 hex digits of the SHA-256 of the public key.
pub fn fingerprint(public: &[u8; 32]) -> String {
    hex(&Sha256::digest(public)[..8])
}

fn message(content_hash: &str, signer: &str, signed_at: &str) -> Vec<u8> {
    format!("{DOMAIN}\n{content_hash}\n{signer}\n{signed_at}\n").into_bytes()
}

/// A signer's name: 1 to 64 of `A-Z a-z 0-9 . _ @ -` (it is a word in key files and a
/// line of the signed message).
pub fn check_name(name: &str) -> Result<(), SignatureError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._@-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(SignatureError::BadKey(format!(
            "a signer name is 1 to 64 letters, digits, `.`, `_`, `@` or `-`, not {name:?}"
        )))
    }
}

/// Lower-case hex only: one spelling per key and signature.
fn unhex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let lower = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    if text.len() != 2 * N || !text.as_bytes().iter().all(lower) {
        return None;
    }
    let mut out = [0u8; N];
    for (i, pair) in text.as_bytes().chunks(2).enumerate() {
        let s = std::str::from_utf8(pair).ok()?;
        out[i] = u8::from_str_radix(s, 16).ok()?;
    }
    Some(out)
}

/// `TAG NAME HEX` on one line (a trailing newline allowed).
fn parse_line<'a>(text: &'a str, tag: &str, what: &str) -> Result<(&'a str, &'a str), String> {
    let mut words = text.trim_end_matches(['\n', '\r']).split(' ');
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(t), Some(name), Some(hex), None) if t == tag => Ok((name, hex)),
        _ => Err(format!(
            "not a Meshline {what} key file (expected one line `{tag} NAME HEX`)"
        )),
    }
}

/// A private signing key and its signer name.
pub struct SecretKey {
    pub name: String,
    key: SigningKey,
}

impl SecretKey {
    /// The key from 32 random bytes (the caller draws them from the OS).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SecretKey, SignatureError> {
        check_name(name)?;
        Ok(SecretKey {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads a private key file: `meshline-secret-key-v1 NAME SEED` (SEED: 64 hex digits).
    pub fn parse(text: &str) -> Result<SecretKey, SignatureError> {
        let (name, seed) =
            parse_line(text, SECRET_TAG, "private").map_err(SignatureError::BadKey)?;
        let seed = unhex::<32>(seed).ok_or_else(|| {
            SignatureError::BadKey("the private key is not 64 hex digits".to_string())
        })?;
        SecretKey::from_seed(name, seed)
    }

    /// The private key file's text.
    pub fn to_text(&self) -> String {
        format!("{SECRET_TAG} {} {}\n", self.name, hex(&self.key.to_bytes()))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Sign a bundle's content hash as this key's signer, at `signed_at` (RFC 3339).
    pub fn sign(&self, content_hash: &str, signed_at: &str) -> Signature {
        let sig = self.key.sign(&message(content_hash, &self.name, signed_at));
        Signature {
            signer: self.name.clone(),
            key: hex(self.key.verifying_key().as_bytes()),
            signed_at: signed_at.to_string(),
            signature: hex(&sig.to_bytes()),
        }
    }
}

/// A public key a server may trust, and its signer name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    pub name: String,
    key: VerifyingKey,
}

impl PublicKey {
    /// Reads a public key file: `meshline-public-key-v1 NAME KEY` (KEY: 64 hex digits).
    pub fn parse(text: &str) -> Result<PublicKey, SignatureError> {
        let (name, key) = parse_line(text, PUBLIC_TAG, "public").map_err(SignatureError::BadKey)?;
        check_name(name)?;
        let key = unhex::<32>(key)
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(|| {
                SignatureError::BadKey("the public key is not a valid Ed25519 key".to_string())
            })?;
        Ok(PublicKey {
            name: name.to_string(),
            key,
        })
    }

    /// The public key file's text.
    pub fn to_text(&self) -> String {
        format!("{PUBLIC_TAG} {} {}\n", self.name, hex(self.key.as_bytes()))
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(self.key.as_bytes())
    }
}

impl Signature {
    /// The signing key's fingerprint (or the key text as given if it is not a key).
    pub fn fingerprint(&self) -> String {
        unhex::<32>(&self.key).map_or_else(|| self.key.clone(), |k| fingerprint(&k))
    }

    /// Whether the signature verifies, with the key it names, for this content hash.
    pub fn verify(&self, content_hash: &str) -> Result<(), SignatureError> {
        let invalid = || SignatureError::Invalid {
            signer: self.signer.clone(),
            key: self.fingerprint(),
        };
        check_name(&self.signer).map_err(|_| invalid())?;
        let key = unhex::<32>(&self.key)
            .and_then(|k| VerifyingKey::from_bytes(&k).ok())
            .ok_or_else(invalid)?;
        let sig = unhex::<64>(&self.signature).ok_or_else(invalid)?;
        let sig = ed25519_dalek::Signature::from_bytes(&sig);
        key.verify_strict(&message(content_hash, &self.signer, &self.signed_at), &sig)
            .map_err(|_| invalid())
    }

    /// The deployment policy: a signature present must verify; with trusted keys, one is
    /// required and its key must be among them. The signature that passed, if any.
    pub fn check<'a>(
        sig: Option<&'a Signature>,
        content_hash: &str,
        trusted: &[PublicKey],
    ) -> Result<Option<&'a Signature>, SignatureError> {
        let Some(sig) = sig else {
            return if trusted.is_empty() {
                Ok(None)
            } else {
                Err(SignatureError::Unsigned)
            };
        };
        sig.verify(content_hash)?;
        if !trusted.is_empty() && !trusted.iter().any(|k| hex(k.key.as_bytes()) == sig.key) {
            return Err(SignatureError::Untrusted {
                signer: sig.signer.clone(),
                key: sig.fingerprint(),
            });
        }
        Ok(Some(sig))
    }

    /// The block that follows a signed bundle's hash trailer.
    pub fn to_block(&self) -> Result<Vec<u8>, SignatureError> {
        let json =
            serde_json::to_value(self).map_err(|e| SignatureError::BadBlock(e.to_string()))?;
        let json = canonical_json(&json);
        let len = u32::try_from(json.len())
            .map_err(|_| SignatureError::BadBlock("larger than 4 GiB".into()))?;
        let mut out = Vec::with_capacity(BLOCK_HEADER + json.len());
        out.extend_from_slice(&BLOCK_MAGIC);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(json.as_bytes());
        Ok(out)
    }
}

/// Whether `rest` (what follows a bundle's hash trailer) is exactly one signature block by
/// its framing: the magic and a length that ends where `rest` ends.
pub fn is_block(rest: &[u8]) -> bool {
    rest.len() >= BLOCK_HEADER
        && rest[..8] == BLOCK_MAGIC
        && u32::from_le_bytes([rest[8], rest[9], rest[10], rest[11]]) as usize
            == rest.len() - BLOCK_HEADER
}

/// The signature in a block that [`is_block`] accepted.
pub fn parse_block(rest: &[u8]) -> Result<Signature, SignatureError> {
    let json = rest.get(BLOCK_HEADER..).unwrap_or_default();
    serde_json::from_slice(json).map_err(|e| SignatureError::BadBlock(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str, byte: u8) -> SecretKey {
        SecretKey::from_seed(name, [byte; 32]).unwrap()
    }

    #[test]
    fn key_files_round_trip_and_bad_ones_are_named() {
        let k = key("alice", 7);
        let again = SecretKey::parse(&k.to_text()).unwrap();
        assert_eq!(again.public(), k.public());
        assert!(k.to_text().starts_with("meshline-secret-key-v1 alice "));
        let p = PublicKey::parse(&k.public().to_text()).unwrap();
        assert_eq!(p, k.public());
        for bad in [
            "",
            "meshline-public-key-v1 alice",
            "x alice 00",
            "meshline-public-key-v1 a b c",
        ] {
            assert!(PublicKey::parse(bad).is_err(), "{bad:?}");
        }
        // A private key file is not a public one.
        assert!(PublicKey::parse(&k.to_text()).is_err());
        assert!(SecretKey::from_seed("al ice", [1; 32]).is_err());
        assert!(SecretKey::from_seed("", [1; 32]).is_err());
    }

    #[test]
    fn signatures_verify_and_refuse_tampering_and_untrusted_keys() {
        let (alice, bob) = (key("alice", 1), key("bob", 2));
        let hash = "ab".repeat(32);
        let sig = alice.sign(&hash, "2026-12-07T16:00:00Z");
        assert_eq!(sig.verify(&hash), Ok(()));
        assert!(matches!(
            sig.verify(&"cd".repeat(32)),
            Err(SignatureError::Invalid { .. })
        ));
        let mut renamed = sig.clone();
        renamed.signer = "bob".into();
        assert!(renamed.verify(&hash).is_err(), "the name is signed");
        let mut later = sig.clone();
        later.signed_at = "2026-12-08T16:00:00Z".into();
        assert!(later.verify(&hash).is_err(), "the time is signed");
        let mut other_key = sig.clone();
        other_key.key = hex(bob.public().key.as_bytes());
        assert!(other_key.verify(&hash).is_err());

        let trusted = [bob.public()];
        assert_eq!(
            Signature::check(Some(&sig), &hash, &trusted),
            Err(SignatureError::Untrusted {
                signer: "alice".into(),
                key: alice.public().fingerprint()
            })
        );
        assert_eq!(
            Signature::check(None, &hash, &trusted),
            Err(SignatureError::Unsigned)
        );
        assert_eq!(Signature::check(None, &hash, &[]), Ok(None));
        // Rotation: either of two trusted keys.
        let both = [bob.public(), alice.public()];
        assert_eq!(Signature::check(Some(&sig), &hash, &both), Ok(Some(&sig)));
        // A bad signature is refused even with no trusted keys.
        assert!(Signature::check(Some(&renamed), &hash, &[]).is_err());
    }

    #[test]
    fn blocks_are_framed_exactly() {
        let sig = key("alice", 1).sign(&"ab".repeat(32), "2026-12-07T16:00:00Z");
        let block = sig.to_block().unwrap();
        assert!(is_block(&block));
        assert_eq!(parse_block(&block), Ok(sig));
        assert!(!is_block(&block[..block.len() - 1]));
        let mut longer = block.clone();
        longer.push(b' ');
        assert!(!is_block(&longer));
        assert!(!is_block(b"MESHSIG1"));
    }
}
