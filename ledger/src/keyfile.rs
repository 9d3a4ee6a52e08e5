//! Key files: TOML with the public key and the 32-byte secret in hex, written with mode 0600 and
//! refused on load if group or others can read them. A private key is never printed.

use std::fs;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::crypto::{CryptoError, KeyPair, PublicKey};

#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read key file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("cannot write key file {path}: {reason}")]
    Write { path: String, reason: String },
    #[error("key file {path} exists; refusing to overwrite it")]
    Exists { path: String },
    #[error(
        "key file {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}"
    )]
    Permissions { path: String, mode: u32 },
    #[error("key file {path} is malformed: {reason}")]
    Malformed { path: String, reason: String },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    /// What the key is for: "consensus", "network" or "account". Informational.
    kind: String,
    public_key: String,
    secret_key: String,
}

/// Writes `key` to `path` with mode 0600. Never overwrites an existing file.
pub fn write_key_file(path: &Path, kind: &str, key: &KeyPair) -> Result<(), KeyFileError> {
    let shown = path.display().to_string();
    let body = key_file_text(kind, key);
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => KeyFileError::Exists {
            path: shown.clone(),
        },
        _ => KeyFileError::Write {
            path: shown.clone(),
            reason: e.to_string(),
        },
    })?;
    f.write_all(body.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| KeyFileError::Write {
            path: shown,
            reason: e.to_string(),
        })
}

/// Loads a key file, refusing one that group or others can read.
pub fn read_key_file(path: &Path) -> Result<KeyPair, KeyFileError> {
    let shown = path.display().to_string();
    let read_err = |e: std::io::Error| KeyFileError::Read {
        path: shown.clone(),
        reason: e.to_string(),
    };
    let meta = fs::metadata(path).map_err(read_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyFileError::Permissions { path: shown, mode });
        }
    }
    if meta.len() > 4096 {
        return Err(KeyFileError::Malformed {
            path: shown,
            reason: format!("{} bytes is too large for a key file", meta.len()),
        });
    }
    let text = fs::read_to_string(path).map_err(read_err)?;
    parse_key_file(&text).map_err(|e| KeyFileError::Malformed {
        path: shown,
        reason: e.to_string(),
    })
}

/// Why key file text is not a key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyTextError {
    #[error("{reason}")]
    Toml { reason: String },
    #[error("secret_key is not hex: {reason}")]
    SecretNotHex { reason: String },
    #[error("secret_key must be 32 bytes (64 hex digits), found {len} bytes")]
    SecretLength { len: usize },
    #[error(transparent)]
    PublicKey(#[from] CryptoError),
    #[error("public_key {public} does not match the secret key (which gives {derived})")]
    Mismatch {
        public: PublicKey,
        derived: PublicKey,
    },
}

/// The text of a key file for `key` (what [`write_key_file`] writes).
pub fn key_file_text(kind: &str, key: &KeyPair) -> String {
    let body = toml::to_string(&KeyFile {
        kind: kind.to_string(),
        public_key: key.public().to_hex(),
        secret_key: hex::encode(key.secret_bytes()),
    })
    .expect("key file serialises");
    format!("# Waybill {kind} key. Secret: keep this file private (mode 0600).\n{body}")
}

/// The key in a key file's text: the secret, checked against the public key written beside it.
pub fn parse_key_file(text: &str) -> Result<KeyPair, KeyTextError> {
    let kf: KeyFile = toml::from_str(text).map_err(|e| KeyTextError::Toml {
        reason: e.to_string(),
    })?;
    let secret = hex::decode(kf.secret_key.trim()).map_err(|e| KeyTextError::SecretNotHex {
        reason: e.to_string(),
    })?;
    let secret: [u8; 32] = secret
        .try_into()
        .map_err(|b: Vec<u8>| KeyTextError::SecretLength { len: b.len() })?;
    let key = KeyPair::from_secret(secret);
    let public = PublicKey::from_hex(kf.public_key.trim())?;
    if public != key.public() {
        return Err(KeyTextError::Mismatch {
            public,
            derived: key.public(),
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_0600_and_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        let key = KeyPair::from_secret([5; 32]);
        write_key_file(&path, "consensus", &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        assert_eq!(read_key_file(&path).unwrap().public(), key.public());
        assert!(matches!(
            write_key_file(&path, "consensus", &key),
            Err(KeyFileError::Exists { .. })
        ));
    }

    #[test]
    fn text_round_trips_and_mismatches_are_typed() {
        let key = KeyPair::from_secret([7; 32]);
        let text = key_file_text("account", &key);
        assert_eq!(parse_key_file(&text).unwrap().public(), key.public());
        let other = KeyPair::from_secret([8; 32]).public();
        let swapped = text.replace(&key.public().to_hex(), &other.to_hex());
        assert_eq!(
            parse_key_file(&swapped).err(),
            Some(KeyTextError::Mismatch {
                public: other,
                derived: key.public()
            })
        );
        let short = text.replace(&hex::encode(key.secret_bytes()), "abcd");
        assert_eq!(
            parse_key_file(&short).err(),
            Some(KeyTextError::SecretLength { len: 2 })
        );
    }

    #[cfg(unix)]
    #[test]
    fn world_readable_and_malformed_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        write_key_file(&path, "account", &KeyPair::from_secret([6; 32])).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            read_key_file(&path),
            Err(KeyFileError::Permissions { mode: 0o644, .. })
        ));
        let bad = dir.path().join("bad.toml");
        fs::write(&bad, "kind = 1").unwrap();
        fs::set_permissions(&bad, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(matches!(
            read_key_file(&bad),
            Err(KeyFileError::Malformed { .. })
        ));
        assert!(matches!(
            read_key_file(&dir.path().join("none")),
            Err(KeyFileError::Read { .. })
        ));
    }
}
