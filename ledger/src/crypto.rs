//! ed25519 keys and signatures. Every signature in Waybill is over
//! [`crate::encoding::signing_bytes`] of a [`Canonical`] object: there is no API to sign raw bytes.

use std::fmt;

use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};

use crate::encoding::{signing_bytes, Canonical};
use crate::hash::hex_array;

pub const PUBLIC_KEY_LEN: usize = 32;
pub const SECRET_KEY_LEN: usize = 32;
pub const SIGNATURE_LEN: usize = 64;

/// An ed25519 public key: hex in text, 32 raw bytes in canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PublicKey(#[serde(with = "hex_array")] pub [u8; PUBLIC_KEY_LEN]);

/// An ed25519 signature: hex in text, 64 raw bytes in canonical encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "hex_array")] pub [u8; SIGNATURE_LEN]);

/// Why a signature did not verify.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("public key {key} is not a valid ed25519 point")]
    InvalidPublicKey { key: String },
    #[error("signature by {key} over a {domain} does not verify")]
    BadSignature { key: String, domain: &'static str },
    #[error("batch of {count} {domain} signatures does not verify")]
    BadBatch { count: usize, domain: &'static str },
    #[error("invalid hex key material: {reason}")]
    BadEncoding { reason: String },
}

impl PublicKey {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(s: &str) -> Result<Self, CryptoError> {
        let bytes =
            crate::encoding_helpers::decode_hex(s).map_err(|e| CryptoError::BadEncoding {
                reason: format!("public key {s:?}: {e}"),
            })?;
        let arr: [u8; PUBLIC_KEY_LEN] =
            bytes
                .try_into()
                .map_err(|b: Vec<u8>| CryptoError::BadEncoding {
                    reason: format!(
                        "public key has {} bytes, expected {PUBLIC_KEY_LEN}",
                        b.len()
                    ),
                })?;
        let key = PublicKey(arr);
        key.to_dalek()?;
        Ok(key)
    }

    /// Whether these bytes are an ed25519 public key at all (a point on the curve). Decoding
    /// does not ask, so that transactions decode cheaply; a key that is not a point can never
    /// have signed anything, and configuration that names one is refused with this.
    pub fn check_point(&self) -> Result<(), CryptoError> {
        self.to_dalek().map(|_| ())
    }

    fn to_dalek(self) -> Result<ed25519_dalek::VerifyingKey, CryptoError> {
        ed25519_dalek::VerifyingKey::from_bytes(&self.0)
            .map_err(|_| CryptoError::InvalidPublicKey { key: self.to_hex() })
    }

    /// Checks `sig` over the canonical signing bytes of `msg`. Uses strict verification (rejects
    /// small-order keys and non-canonical signatures) so that every validator agrees on validity.
    pub fn verify<T: Canonical>(&self, msg: &T, sig: &Signature) -> Result<(), CryptoError> {
        let vk = self.to_dalek()?;
        let s = ed25519_dalek::Signature::from_bytes(&sig.0);
        vk.verify_strict(&signing_bytes(msg), &s)
            .map_err(|_| CryptoError::BadSignature {
                key: self.to_hex(),
                domain: T::DOMAIN,
            })
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", &self.to_hex()[..16])
    }
}

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Signature({}..)", &hex::encode(&self.0[..8]))
    }
}

/// Verifies many signatures at once with ed25519 batch verification (roughly twice as fast per
/// signature as one by one). All items share one domain because they are all `T`.
/// On failure the caller learns only that some signature is bad; fall back to [`PublicKey::verify`]
/// per item to find which.
pub fn verify_batch<T: Canonical>(
    items: &[(&PublicKey, &T, &Signature)],
) -> Result<(), CryptoError> {
    if items.is_empty() {
        return Ok(());
    }
    let mut keys = Vec::with_capacity(items.len());
    let mut sigs = Vec::with_capacity(items.len());
    let mut msgs = Vec::with_capacity(items.len());
    for (pk, msg, sig) in items {
        let key = pk.to_dalek()?;
        // The batch equation holds for some signatures the strict single check refuses: a
        // small-order key or R (the identity key with R = identity and s = 0 "signs" every
        // message) or a non-canonical R. Such an item fails the batch, so the caller's one-by-one
        // check gives the verdict, and both paths agree.
        if key.is_weak() || !strict_r(&sig.0) {
            return Err(CryptoError::BadBatch {
                count: items.len(),
                domain: T::DOMAIN,
            });
        }
        keys.push(key);
        sigs.push(ed25519_dalek::Signature::from_bytes(&sig.0));
        msgs.push(signing_bytes(*msg));
    }
    let msg_refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    ed25519_dalek::verify_batch(&msg_refs, &sigs, &keys).map_err(|_| CryptoError::BadBatch {
        count: items.len(),
        domain: T::DOMAIN,
    })
}

/// Whether a signature's R (its first 32 bytes) passes what `verify_strict` asks of it before
/// the equation: a canonical encoding (y below the field prime; the sign bit is only set on
/// points with x = 0, which are small-order) of a point that is not of small order. Compares
/// bytes only: decompressing R here would cost a fifth of a batch verification.
fn strict_r(signature: &[u8; SIGNATURE_LEN]) -> bool {
    let mut y = [0u8; 32];
    y.copy_from_slice(&signature[..32]);
    y[31] &= 0x7f;
    // y >= p = 2^255 - 19, little-endian: [0xed, 0xff x 30, 0x7f] and above.
    let not_canonical = y[31] == 0x7f && y[1..31].iter().all(|b| *b == 0xff) && y[0] >= 0xed;
    !not_canonical && !small_order_ys().contains(&y)
}

/// The y coordinates (sign bit cleared) of the eight points of small order: an R with one of
/// them decodes, whatever its sign bit, to a small-order point.
fn small_order_ys() -> &'static [[u8; 32]; 8] {
    static YS: std::sync::OnceLock<[[u8; 32]; 8]> = std::sync::OnceLock::new();
    YS.get_or_init(|| {
        curve25519_dalek::constants::EIGHT_TORSION.map(|p| {
            let mut y = p.compress().0;
            y[31] &= 0x7f;
            y
        })
    })
}

/// An ed25519 key pair. The secret never appears in `Debug` output.
pub struct KeyPair {
    signing: ed25519_dalek::SigningKey,
}

impl KeyPair {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut rng = rand_core::OsRng;
        KeyPair {
            signing: ed25519_dalek::SigningKey::generate(&mut rng),
        }
    }

    /// A key from 32 secret bytes (a seed). Deterministic: tests and simulations use this.
    pub fn from_secret(secret: [u8; SECRET_KEY_LEN]) -> Self {
        KeyPair {
            signing: ed25519_dalek::SigningKey::from_bytes(&secret),
        }
    }

    pub fn secret_bytes(&self) -> [u8; SECRET_KEY_LEN] {
        self.signing.to_bytes()
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs the canonical signing bytes of `msg` (domain tag included).
    pub fn sign<T: Canonical>(&self, msg: &T) -> Signature {
        Signature(self.signing.sign(&signing_bytes(msg)).to_bytes())
    }
}

impl Clone for KeyPair {
    fn clone(&self) -> Self {
        KeyPair::from_secret(self.secret_bytes())
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({:?})", self.public())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Msg(u32);
    impl Canonical for Msg {
        const DOMAIN: &'static str = "waybill/test-msg/v1";
    }

    #[test]
    fn sign_verify_and_batch() {
        let keys: Vec<KeyPair> = (0..5u8).map(|i| KeyPair::from_secret([i; 32])).collect();
        let msgs: Vec<Msg> = (0..5).map(Msg).collect();
        let sigs: Vec<Signature> = keys.iter().zip(&msgs).map(|(k, m)| k.sign(m)).collect();
        let pks: Vec<PublicKey> = keys.iter().map(KeyPair::public).collect();
        for i in 0..5 {
            pks[i].verify(&msgs[i], &sigs[i]).unwrap();
        }
        assert!(pks[0].verify(&msgs[1], &sigs[0]).is_err());
        let items: Vec<_> = (0..5).map(|i| (&pks[i], &msgs[i], &sigs[i])).collect();
        verify_batch(&items).unwrap();
        let mut bad = items.clone();
        bad[3].2 = &sigs[2];
        assert!(matches!(
            verify_batch(&bad),
            Err(CryptoError::BadBatch { count: 5, .. })
        ));
    }

    /// Every small-order R, and a non-canonical one, sends the batch to the strict check.
    #[test]
    fn small_order_and_non_canonical_r_are_not_batched() {
        for p in curve25519_dalek::constants::EIGHT_TORSION {
            let mut sig = [0u8; SIGNATURE_LEN];
            sig[..32].copy_from_slice(&p.compress().0);
            assert!(!strict_r(&sig));
            sig[31] ^= 0x80;
            assert!(!strict_r(&sig), "sign bit flipped");
        }
        let mut above_p = [0xffu8; SIGNATURE_LEN];
        above_p[31] = 0x7f;
        assert!(!strict_r(&above_p));
        let good = KeyPair::from_secret([3; 32]).sign(&Msg(7));
        assert!(strict_r(&good.0));
    }

    #[test]
    fn keys_round_trip_in_text_and_bytes() {
        let pk = KeyPair::from_secret([9; 32]).public();
        assert_eq!(PublicKey::from_hex(&pk.to_hex()).unwrap(), pk);
        let json = serde_json::to_string(&pk).unwrap();
        assert_eq!(json, format!("\"{}\"", pk.to_hex()));
        assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), pk);
        assert_eq!(bcs::to_bytes(&pk).unwrap(), pk.0.to_vec());
        let sig = KeyPair::from_secret([9; 32]).sign(&Msg(1));
        let b = bcs::to_bytes(&sig).unwrap();
        assert_eq!(b.len(), 64);
        assert_eq!(bcs::from_bytes::<Signature>(&b).unwrap(), sig);
        assert!(PublicKey::from_hex("00").is_err());
    }
}
