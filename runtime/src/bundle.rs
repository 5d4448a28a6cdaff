//! The bundle container (brief §5): deterministic, versioned, content-hashed.
//!
//! **Layout** (all integers little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 8 | [`MAGIC`] `MESHBNDL` |
//! | 2 | format version, u16 ([`FORMAT_VERSION`]) |
//! | 4 | manifest length M, u32 |
//! | M | manifest: canonical JSON of [`Manifest`], as [`crate::ledger::canonical_json`] |
//! | 8 | payload length P, u64 |
//! | P | payload: postcard encoding of the IR |
//! | 32 | SHA-256 of every byte before it |
//!
//! The **content hash** is that trailer as lower-case hex (`head -c -32 FILE | sha256sum`
//! reproduces it for an unsigned bundle); the ledger's `bundle` field carries it.
//!
//! A **signed** bundle has one more block after the trailer, outside the content hash
//! ([`crate::signing`], docs/deploy.md "Signed bundles"): 8 bytes `MESHSIG1`, a u32 length
//! L, and L bytes of canonical JSON `{key, signature, signed_at, signer}`. Signing never
//! changes the content hash; bytes after the trailer that are not exactly one such block
//! are `TrailingData`.
//!
//! **Determinism.** The same manifest and payload give the same bytes: no timestamps, the
//! manifest's `automations` are sorted by [`encode`], and postcard is a deterministic
//! encoding of a value. Payload types must make the value itself deterministic: use `Vec`,
//! `BTreeMap`, `BTreeSet`, never `HashMap`/`HashSet` (their iteration order changes from run
//! to run). postcard is not self-describing, so payload types must not need
//! `deserialize_any` either: no `serde_json::Value`, `#[serde(untagged)]` or `flatten`.
//!
//! **Adding to the IR without breaking stored bundles.** `serve` keeps the bundles it was
//! deployed with, and a new release must read every bundle the previous one built. postcard
//! is positional, so a field added to an existing struct would make older payloads end too
//! early. Two rules keep older bundles readable, with no change of format version:
//!
//! - A new *variant* may be appended to an existing enum (older bundles never use it);
//!   variants are never reordered or removed.
//! - New *data* goes in a **section** ([`Payload`]): the payload is the postcard encoding of
//!   the core value, then — only when there is at least one section — the postcard encoding
//!   of a list of `(tag, bytes)` pairs in strictly increasing tag order, each `bytes` the
//!   postcard encoding of that section's value. A payload that ends after its core value
//!   has no sections: every section reads as absent (empty). A section's layout is frozen
//!   once released; more data is a new section under a new tag. A tag this runtime does
//!   not know is refused (the bundle was built by a newer release).
//!
//! A project that uses nothing a section carries therefore builds the same bytes (and the
//! same content hash) as it did before the section existed. `cli/tests/fixtures/compat`
//! holds a bundle built by an earlier release, which every later one must run unchanged.
//!
//! **Reading** ([`decode`], [`read_manifest`]) checks, in order: the magic (an input that
//! does not start like one is [`BundleError::NotABundle`], the empty input included), the
//! header length, the version (before anything else is interpreted: a later format may lay
//! out the rest differently), the declared lengths against the actual length (too short:
//! `Truncated`; bytes after the end: `TrailingData`, treated as corruption), the hash, and
//! only then parses the manifest and the payload (which must be consumed exactly). It never
//! panics, whatever the input.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ledger::{canonical_json, hex};
use crate::signing::{self, SecretKey, Signature};

pub const MAGIC: [u8; 8] = *b"MESHBNDL";
pub const FORMAT_VERSION: u16 = 1;
/// Magic, version, manifest length.
const HEADER: usize = 14;
const HASH_LEN: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub package: String,
    pub version: String,
    pub compiler_version: String,
    /// SHA-256 (hex) of the sources.
    pub source_hash: String,
    /// IANA time-zone database version (§7.14).
    pub tzdb_version: String,
    /// (automation name, version), sorted.
    pub automations: Vec<(String, u32)>,
    /// Rule name as the ledger records it → `file:line` of its declaration, for
    /// `meshline explain`. Absent in bundles built before it existed (read as empty).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, String>,
    /// The data files the bundle's reference tables were compiled from (as the project
    /// names them) → SHA-256 (hex) of each. Absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tables: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BundleError {
    NotABundle,
    UnsupportedVersion {
        found: u16,
        supported: u16,
    },
    /// The input is `found` bytes long; it should be at least `expected`.
    Truncated {
        expected: usize,
        found: usize,
    },
    /// The input has bytes after the bundle's end (`expected` bytes long, `found` actual).
    TrailingData {
        expected: usize,
        found: usize,
    },
    /// `expected` is the hash recorded in the bundle, `found` the hash of its content.
    HashMismatch {
        expected: String,
        found: String,
    },
    Manifest(String),
    Payload(String),
    Encode(String),
    /// A framed signature block whose contents are not a signature.
    Signature(String),
}

impl fmt::Display for BundleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BundleError::NotABundle => write!(
                f,
                "this is not a Meshline bundle (it does not start with \"MESHBNDL\") — pass the \
                 file written by `meshline build`"
            ),
            BundleError::UnsupportedVersion { found, supported } => write!(
                f,
                "bundle was built by format version {found}; this runtime reads version \
                 {supported} — rebuild it with a matching `meshline build` or upgrade the runtime"
            ),
            BundleError::Truncated { expected, found } => write!(
                f,
                "bundle is truncated: it is {found} bytes long but should be at least {expected} \
                 — the file was cut short (an interrupted copy?); copy it again or rebuild it"
            ),
            BundleError::TrailingData { expected, found } => write!(
                f,
                "bundle is corrupt: it ends after {expected} bytes but the file has {found} — \
                 something was appended to it; copy it again or rebuild it"
            ),
            BundleError::HashMismatch { expected, found } => write!(
                f,
                "bundle is corrupt: its content hashes to {found} but it was sealed as {expected} \
                 — the file was changed or damaged after `meshline build`; rebuild it"
            ),
            BundleError::Manifest(e) => write!(
                f,
                "bundle manifest is unreadable: {e} — rebuild it with a matching `meshline build`"
            ),
            BundleError::Payload(e) => write!(
                f,
                "bundle contents do not match what this runtime expects: {e} — rebuild it with \
                 the `meshline build` of this release"
            ),
            BundleError::Encode(e) => write!(f, "cannot build the bundle: {e}"),
            BundleError::Signature(e) => write!(
                f,
                "bundle signature block is unreadable: {e} — sign the bundle again"
            ),
        }
    }
}

impl std::error::Error for BundleError {}

/// One section of a payload: its tag and its postcard bytes.
pub type Section = (String, Vec<u8>);

/// What a bundle carries: a core value and its sections (module doc, "Adding to the IR
/// without breaking stored bundles"). A type without sections implements it with the
/// default methods.
pub trait Payload: Serialize + DeserializeOwned {
    /// The sections to write after the core value; an empty section is left out, so a
    /// payload that uses none encodes exactly as before sections existed.
    fn sections(&self) -> Result<Vec<Section>, String> {
        Ok(Vec::new())
    }

    /// Reads one present section into the decoded core value.
    fn read_section(&mut self, tag: &str, _bytes: &[u8]) -> Result<(), String> {
        Err(unknown_section(tag))
    }
}

/// The error for a section tag the reader does not know.
pub fn unknown_section(tag: &str) -> String {
    format!(
        "it has a section `{tag}` that this runtime does not know (it was built by a newer \
         release)"
    )
}

/// Raw values (tests reseal arbitrary payloads with them).
impl<T: Serialize + DeserializeOwned> Payload for Vec<T> {}
impl Payload for u8 {}

/// Encodes a bundle. Deterministic: the same arguments always give the same bytes.
pub fn encode<P: Payload>(manifest: &Manifest, payload: &P) -> Result<Vec<u8>, BundleError> {
    let mut manifest = manifest.clone();
    manifest.automations.sort();
    let json = serde_json::to_value(&manifest).map_err(|e| BundleError::Encode(e.to_string()))?;
    let mut bytes =
        postcard::to_allocvec(payload).map_err(|e| BundleError::Encode(e.to_string()))?;
    let mut sections = payload.sections().map_err(BundleError::Encode)?;
    sections.retain(|(_, b)| !b.is_empty());
    sections.sort_by(|a, b| a.0.cmp(&b.0));
    if sections.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(BundleError::Encode("two sections have the same tag".into()));
    }
    if !sections.is_empty() {
        let tail =
            postcard::to_allocvec(&sections).map_err(|e| BundleError::Encode(e.to_string()))?;
        bytes.extend_from_slice(&tail);
    }
    assemble(FORMAT_VERSION, canonical_json(&json).as_bytes(), &bytes)
}

/// Lays out and seals the parts (no validation of their contents).
fn assemble(version: u16, manifest: &[u8], payload: &[u8]) -> Result<Vec<u8>, BundleError> {
    let m_len = u32::try_from(manifest.len())
        .map_err(|_| BundleError::Encode("the manifest is larger than 4 GiB".into()))?;
    let mut out = Vec::with_capacity(HEADER + manifest.len() + 8 + payload.len() + HASH_LEN);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&m_len.to_le_bytes());
    out.extend_from_slice(manifest);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(payload);
    let hash = Sha256::digest(&out);
    out.extend_from_slice(&hash);
    Ok(out)
}

/// Decodes a bundle: its manifest, its payload and its content hash (hex).
pub fn decode<P: Payload>(bytes: &[u8]) -> Result<(Manifest, P, String), BundleError> {
    let (manifest, payload, hash, _) = open(bytes)?;
    let (mut value, rest) =
        postcard::take_from_bytes::<P>(payload).map_err(|e| BundleError::Payload(e.to_string()))?;
    if rest.is_empty() {
        return Ok((manifest, value, hash));
    }
    let (sections, after) = postcard::take_from_bytes::<Vec<Section>>(rest).map_err(|_| {
        BundleError::Payload(format!("{} unexpected bytes after the payload", rest.len()))
    })?;
    if !after.is_empty() {
        let n = after.len();
        return Err(BundleError::Payload(format!(
            "{n} unexpected bytes after the payload"
        )));
    }
    if sections.is_empty() || sections.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(BundleError::Payload(
            "its sections are not in strictly increasing tag order".into(),
        ));
    }
    for (tag, b) in &sections {
        value.read_section(tag, b).map_err(BundleError::Payload)?;
    }
    Ok((manifest, value, hash))
}

/// The manifest and content hash, after every check but the payload's parse
/// (for `meshline inspect`).
pub fn read_manifest(bytes: &[u8]) -> Result<(Manifest, String), BundleError> {
    open(bytes).map(|(manifest, _, hash, _)| (manifest, hash))
}

/// The bundle's signature, if it is signed (after every check [`read_manifest`] makes; the
/// signature itself is not verified here: [`Signature::verify`]).
pub fn read_signature(bytes: &[u8]) -> Result<Option<Signature>, BundleError> {
    let (_, _, _, block) = open(bytes)?;
    block
        .map(|b| signing::parse_block(b).map_err(|e| BundleError::Signature(e.to_string())))
        .transpose()
}

/// The bundle signed by `key` at `signed_at` (RFC 3339): the same content (and content
/// hash), any earlier signature replaced.
pub fn sign(bytes: &[u8], key: &SecretKey, signed_at: &str) -> Result<Vec<u8>, BundleError> {
    let (_, _, hash, block) = open(bytes)?;
    let content = &bytes[..bytes.len() - block.map_or(0, <[u8]>::len)];
    let block = key
        .sign(&hash, signed_at)
        .to_block()
        .map_err(|e| BundleError::Encode(e.to_string()))?;
    let mut out = Vec::with_capacity(content.len() + block.len());
    out.extend_from_slice(content);
    out.extend_from_slice(&block);
    Ok(out)
}

/// Little-endian unsigned integer of `len` bytes at `at` (the caller checked the bounds).
fn le(bytes: &[u8], at: usize, len: usize) -> u64 {
    bytes[at..at + len]
        .iter()
        .rev()
        .fold(0, |acc, b| acc << 8 | u64::from(*b))
}

/// The manifest, the payload's bytes, the content hash and the signature block (if any).
type Opened<'a> = (Manifest, &'a [u8], String, Option<&'a [u8]>);

fn open(bytes: &[u8]) -> Result<Opened<'_>, BundleError> {
    let full = bytes.len();
    let head = &bytes[..full.min(MAGIC.len())];
    if head.is_empty() || head != &MAGIC[..head.len()] {
        return Err(BundleError::NotABundle);
    }
    let n = full;
    let truncated = |expected: u128| BundleError::Truncated {
        expected: usize::try_from(expected).unwrap_or(usize::MAX),
        found: n,
    };
    if n < HEADER {
        return Err(truncated((HEADER + 8 + HASH_LEN) as u128));
    }
    let version = le(bytes, 8, 2) as u16;
    if version != FORMAT_VERSION {
        return Err(BundleError::UnsupportedVersion {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    let m_len = le(bytes, 10, 4) as u128;
    let fixed = (HEADER + 8 + HASH_LEN) as u128;
    if (n as u128) < fixed + m_len {
        return Err(truncated(fixed + m_len));
    }
    let p_at = HEADER + m_len as usize; // fits: m_len < n
    let total = fixed + m_len + le(bytes, p_at, 8) as u128;
    if (n as u128) < total {
        return Err(truncated(total));
    }
    // What follows the trailer: nothing, or exactly one signature block.
    let mut block = None;
    if (n as u128) > total {
        let rest = &bytes[total as usize..];
        if !signing::is_block(rest) {
            return Err(BundleError::TrailingData {
                expected: total as usize,
                found: n,
            });
        }
        block = Some(rest);
    }
    let body = total as usize - HASH_LEN;
    let (stored, computed) = (
        hex(&bytes[body..body + HASH_LEN]),
        hex(&Sha256::digest(&bytes[..body])),
    );
    if stored != computed {
        return Err(BundleError::HashMismatch {
            expected: stored,
            found: computed,
        });
    }
    let manifest = serde_json::from_slice(&bytes[HEADER..p_at])
        .map_err(|e| BundleError::Manifest(e.to_string()))?;
    Ok((manifest, &bytes[p_at + 8..body], stored, block))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Ir {
        rules: Vec<String>,
        table: BTreeMap<String, u32>,
        flag: Option<bool>,
        n: i64,
    }

    impl Payload for Ir {}

    fn sample() -> (Manifest, Ir) {
        let manifest = Manifest {
            package: "refunds".into(),
            version: "1.2.0".into(),
            compiler_version: "0.1.0".into(),
            source_hash: "ab".repeat(32),
            tzdb_version: "2025b".into(),
            automations: vec![("z_close".into(), 2), ("a_refund".into(), 3)],
            sources: BTreeMap::new(),
            tables: BTreeMap::new(),
        };
        let table = BTreeMap::from([("b".to_owned(), 2), ("a".to_owned(), 1)]);
        let rules = vec!["classify".into(), "route é".into()];
        (
            manifest,
            Ir {
                rules,
                table,
                flag: Some(true),
                n: -7,
            },
        )
    }

    fn rnd(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    #[test]
    fn round_trip_is_deterministic_and_hashed() {
        let (manifest, ir) = sample();
        let bytes = encode(&manifest, &ir).unwrap();
        assert_eq!(
            bytes,
            encode(&manifest, &ir).unwrap(),
            "same input, same bytes"
        );
        assert_eq!(&bytes[..10], b"MESHBNDL\x01\x00");
        let m_len = le(&bytes, 10, 4) as usize;
        let json = std::str::from_utf8(&bytes[14..14 + m_len]).unwrap();
        assert!(json.starts_with(r#"{"automations":[["a_refund",3],["z_close",2]],"compiler_"#));
        let (m, p, hash): (Manifest, Ir, String) = decode(&bytes).unwrap();
        let mut sorted = manifest.clone();
        sorted.automations.sort();
        assert_eq!((m, p), (sorted.clone(), ir));
        assert_eq!(hash, hex(&Sha256::digest(&bytes[..bytes.len() - 32])));
        assert_eq!(hash, hex(&bytes[bytes.len() - 32..]));
        assert_eq!(read_manifest(&bytes), Ok((sorted.clone(), hash)));
        // Unsorted and sorted automations give the same bundle.
        assert_eq!(encode(&sorted, &sample().1).unwrap(), bytes);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let (manifest, ir) = sample();
        let bytes = encode(&manifest, &ir).unwrap();
        assert_eq!(decode::<Ir>(&[]), Err(BundleError::NotABundle));
        for len in 1..bytes.len() {
            match decode::<Ir>(&bytes[..len]) {
                Err(BundleError::Truncated { expected, found }) => {
                    assert_eq!(found, len);
                    assert!(
                        expected > len && expected <= bytes.len(),
                        "{len}: {expected}"
                    );
                }
                other => panic!("length {len}: {other:?}"),
            }
            assert!(read_manifest(&bytes[..len]).is_err());
        }
    }

    #[test]
    fn every_flipped_byte_is_an_error() {
        let (manifest, ir) = sample();
        let bytes = encode(&manifest, &ir).unwrap();
        let mut state = 42;
        for round in 0..1000 {
            let mut b = bytes.clone();
            let at = if round < 200 {
                round % 60
            } else {
                rnd(&mut state) as usize % b.len()
            };
            b[at] ^= 1 + (rnd(&mut state) % 255) as u8;
            let err = decode::<Ir>(&b).expect_err("a flipped byte must not decode");
            let ok = match at {
                0..8 => err == BundleError::NotABundle,
                8..10 => matches!(err, BundleError::UnsupportedVersion { supported: 1, .. }),
                _ => matches!(
                    err,
                    BundleError::Truncated { .. }
                        | BundleError::TrailingData { .. }
                        | BundleError::HashMismatch { .. }
                ),
            };
            assert!(ok, "byte {at}: {err:?}");
            assert!(read_manifest(&b).is_err());
        }
    }

    #[test]
    fn random_input_never_panics() {
        let mut state = 7;
        for round in 0..3000 {
            let len = (rnd(&mut state) % 200) as usize;
            let mut b: Vec<u8> = (0..len).map(|_| rnd(&mut state) as u8).collect();
            if round % 2 == 0 {
                b.splice(0..0, *b"MESHBNDL\x01\x00");
            }
            if round % 4 == 0 && b.len() >= 14 {
                let m_len = (b.len() as u32).saturating_sub(60);
                b[10..14].copy_from_slice(&m_len.to_le_bytes());
            }
            assert!(decode::<Ir>(&b).is_err());
        }
    }

    #[test]
    fn header_errors_are_named() {
        let (manifest, ir) = sample();
        let bytes = encode(&manifest, &ir).unwrap();
        let mut v3 = bytes.clone();
        v3[8] = 3;
        let err = decode::<Ir>(&v3).unwrap_err();
        assert_eq!(
            err,
            BundleError::UnsupportedVersion {
                found: 3,
                supported: 1
            }
        );
        assert_eq!(
            err.to_string(),
            "bundle was built by format version 3; this runtime reads version 1 — rebuild it with \
             a matching `meshline build` or upgrade the runtime"
        );
        // A well-sealed bundle of another version is refused before its hash is looked at.
        let sealed_v2 = assemble(2, b"{}", b"").unwrap();
        assert!(matches!(
            read_manifest(&sealed_v2),
            Err(BundleError::UnsupportedVersion { .. })
        ));
        for not_a_bundle in [
            &b""[..],
            b"MESHBNDX\x01\x00",
            b"PK\x03\x04",
            b"{\"package\":1}",
        ] {
            assert_eq!(decode::<Ir>(not_a_bundle), Err(BundleError::NotABundle));
        }
        assert!(matches!(
            decode::<Ir>(b"MESH"),
            Err(BundleError::Truncated { found: 4, .. })
        ));
        let mut trailing = bytes.clone();
        trailing.push(0);
        let (expected, found) = (bytes.len(), bytes.len() + 1);
        assert_eq!(
            decode::<Ir>(&trailing),
            Err(BundleError::TrailingData { expected, found })
        );
    }

    #[test]
    fn sealed_but_unreadable_contents_are_named() {
        let (manifest, ir) = sample();
        let bad_manifest = assemble(1, b"{\"package\":", b"").unwrap();
        assert!(matches!(
            read_manifest(&bad_manifest),
            Err(BundleError::Manifest(_))
        ));
        let bytes = encode(&manifest, &ir).unwrap();
        // The same payload read as another type: wrong shape, or bytes left over.
        assert!(matches!(
            decode::<Vec<u64>>(&bytes),
            Err(BundleError::Payload(_))
        ));
        assert!(matches!(
            decode::<Vec<String>>(&bytes),
            Err(BundleError::Payload(_))
        ));
        let err = decode::<u8>(&bytes).unwrap_err();
        assert!(
            err.to_string()
                .contains("unexpected bytes after the payload"),
            "{err}"
        );
    }

    #[test]
    fn a_signature_follows_the_trailer_and_keeps_the_content_hash() {
        let (manifest, ir) = sample();
        let bytes = encode(&manifest, &ir).unwrap();
        let (_, hash) = read_manifest(&bytes).unwrap();
        assert_eq!(read_signature(&bytes), Ok(None));
        let alice = SecretKey::from_seed("alice", [3; 32]).unwrap();
        let signed = sign(&bytes, &alice, "2026-12-07T16:00:00Z").unwrap();
        assert_eq!(&signed[..bytes.len()], &bytes[..]);
        let (_, ir2, hash2): (Manifest, Ir, String) = decode(&signed).unwrap();
        assert_eq!((ir2, hash2), (ir, hash.clone()));
        let sig = read_signature(&signed).unwrap().unwrap();
        assert_eq!(sig.signer, "alice");
        assert_eq!(sig.verify(&hash), Ok(()));
        // Signing again replaces the signature.
        let bob = SecretKey::from_seed("bob", [4; 32]).unwrap();
        let resigned = sign(&signed, &bob, "2026-12-08T16:00:00Z").unwrap();
        assert_eq!(
            resigned.len(),
            sign(&bytes, &bob, "2026-12-08T16:00:00Z").unwrap().len()
        );
        assert_eq!(read_signature(&resigned).unwrap().unwrap().signer, "bob");
        // A cut or extended block is trailing data; a framed block that is not a signature
        // is named.
        let cut = &signed[..signed.len() - 1];
        assert!(matches!(
            decode::<Ir>(cut),
            Err(BundleError::TrailingData { .. })
        ));
        let mut framed = bytes.clone();
        framed.extend_from_slice(b"MESHSIG1\x02\x00\x00\x00{}");
        assert!(decode::<Ir>(&framed).is_ok());
        assert!(matches!(
            read_signature(&framed),
            Err(BundleError::Signature(_))
        ));
        // Every flipped byte of the block fails to parse or to verify.
        for at in bytes.len()..signed.len() {
            let mut b = signed.clone();
            b[at] ^= 0x20;
            let ok = match read_signature(&b) {
                Ok(Some(s)) => s.verify(&hash).is_ok(),
                Ok(None) => true,
                Err(_) => false,
            };
            assert!(!ok, "byte {at} flipped still verifies");
        }
    }
}
