//! `meshline keygen NAME [--dir DIR]`, `meshline sign FILE --key KEY [-o OUT]` and the
//! signing step of `meshline build --sign KEY`
//! (docs/deploy.md, "Signed bundles").

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use meshline_runtime::bundle;
use meshline_runtime::signing::SecretKey;

/// Write `DIR/NAME.key` (private, mode 0600) and `DIR/NAME.pub`; never over existing files.
pub(crate) fn keygen(name: &str, dir: &Path) -> ExitCode {
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        eprintln!("error: no randomness from the OS: {e}");
        return ExitCode::from(2);
    }
    let key = match SecretKey::from_seed(name, seed) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (private, public) = (
        dir.join(format!("{name}.key")),
        dir.join(format!("{name}.pub")),
    );
    for p in [&private, &public] {
        if p.exists() {
            eprintln!(
                "error: {} exists; keygen never replaces a key (move it away first)",
                p.display()
            );
            return ExitCode::from(2);
        }
    }
    if let Err(e) = write_new(&private, key.to_text().as_bytes(), true)
        .and_then(|()| write_new(&public, key.public().to_text().as_bytes(), false))
    {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    eprintln!(
        "wrote {} (private: keep it secret; sign with `meshline build --sign {}`) and {} \
         (public: list it in serve's trusted_keys); key {}",
        private.display(),
        private.display(),
        public.display(),
        key.public().fingerprint()
    );
    ExitCode::SUCCESS
}

/// Create `path` (failing if it exists); private files are readable by their owner only
/// from the moment they exist.
fn write_new(path: &Path, bytes: &[u8], private: bool) -> Result<(), String> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut f = opts
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The bundle signed with the private key file at `key`, now.
pub(crate) fn sign(bytes: &[u8], key: &Path) -> Result<Vec<u8>, String> {
    let text = std::fs::read_to_string(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let secret = SecretKey::parse(&text).map_err(|e| format!("{}: {e}", key.display()))?;
    let now = jiff::Timestamp::now();
    let now = jiff::Timestamp::from_second(now.as_second()).unwrap_or(now);
    bundle::sign(bytes, &secret, &now.to_string()).map_err(|e| e.to_string())
}

/// `meshline sign`: sign a built bundle, over it or into `out`.
pub(crate) fn sign_file(file: &Path, key: &Path, out: Option<&Path>) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(2);
        }
    };
    let signed = match sign(&bytes, key) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            return ExitCode::from(1);
        }
    };
    let out = out.unwrap_or(file);
    if let Err(e) = std::fs::write(out, &signed) {
        eprintln!("error: {}: {e}", out.display());
        return ExitCode::from(2);
    }
    eprintln!("signed {} with {}", out.display(), key.display());
    ExitCode::SUCCESS
}
