//! Bundles as the store keeps them: decoding one, and loading a stored one by content hash.
//! A leaf: the writer, recovery, plans and the console read bundles through it.

use meshline_runtime::bundle::BundleError;
use meshline_runtime::ir::Program;

use crate::store::{Store, StoreError};

/// Why a stored bundle could not be loaded.
#[derive(Debug)]
pub enum StoredBundleError {
    Store(StoreError),
    /// No bundle with this content hash is stored.
    Missing(String),
    Bundle(BundleError),
}

impl std::fmt::Display for StoredBundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoredBundleError::Store(e) => e.fmt(f),
            StoredBundleError::Missing(hash) => write!(f, "bundle {hash} is not stored"),
            StoredBundleError::Bundle(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StoredBundleError {}

/// Within `serve`, where the other reasons to stop are text (the same message).
impl From<StoredBundleError> for String {
    fn from(e: StoredBundleError) -> String {
        e.to_string()
    }
}

/// A stored bundle's program.
pub fn load_stored(store: &dyn Store, hash: &str) -> Result<Program, StoredBundleError> {
    let bytes = store
        .get_bundle(hash)
        .map_err(StoredBundleError::Store)?
        .ok_or_else(|| StoredBundleError::Missing(hash.to_string()))?;
    decode(&bytes)
        .map(|(p, _)| p)
        .map_err(StoredBundleError::Bundle)
}

/// A bundle's program and content hash.
pub fn decode(bytes: &[u8]) -> Result<(Program, String), BundleError> {
    meshline_runtime::bundle::decode::<Program>(bytes).map(|(_, p, h)| (p, h))
}
