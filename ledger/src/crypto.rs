//! ed25519 keys and signatures. Every signature in Waybill is over
//! [`crate::encoding::signing_bytes`] of a [`Canonical`] object: there is no API to sign raw bytes.

use std::fmt;

use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::Signer;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};

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

    /// Checks `sig` over the canonical signing bytes of `msg`, by Waybill's one verification
    /// rule ([`verify_batch`] applies the same one, so the two always agree).
    pub fn verify<T: Canonical>(&self, msg: &T, sig: &Signature) -> Result<(), CryptoError> {
        let bad = || CryptoError::BadSignature {
            key: self.to_hex(),
            domain: T::DOMAIN,
        };
        let item = Terms::of(self, &signing_bytes(msg), sig).ok_or_else(bad)?;
        // [8]([s]B - [k]A - R) = 0
        let r = EdwardsPoint::vartime_double_scalar_mul_basepoint(&item.k, &-item.a, &item.s);
        if (r - item.r).mul_by_cofactor().is_identity() {
            Ok(())
        } else {
            Err(bad())
        }
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
///
/// # The verification rule
///
/// One rule decides every signature, in a batch or alone, so that validators whose batches
/// differ never disagree on a transaction (docs/SIGNING.md, "Signatures"):
/// - the key A and the signature's R are canonical encodings of points that are not of small
///   order, and s is a canonical scalar (below the group order L);
/// - the *cofactored* equation holds: [8]([s]B - [k]A - R) = 0, with k = SHA-512(R || A || M).
///
/// The cofactor is what lets the batch agree with the single check. A batch checks a random
/// combination of the equations; without the cofactor, a small-order component added to R
/// cancels in it for some random coefficients and not others, so the same signature passed or
/// failed by chance (`ledger/tests/batch_torsion.rs`). With it, such a component vanishes in
/// both checks. Every signature RFC 8032's signing makes passes, and so does one whose R
/// carries a small-order component: verifiers that use the cofactorless equation (libsodium,
/// for one) would refuse those, so Waybill's own verifiers in other languages apply this rule.
pub fn verify_batch<T: Canonical>(
    items: &[(&PublicKey, &T, &Signature)],
) -> Result<(), CryptoError> {
    if items.is_empty() {
        return Ok(());
    }
    let bad_batch = || CryptoError::BadBatch {
        count: items.len(),
        domain: T::DOMAIN,
    };
    let mut terms = Vec::with_capacity(items.len());
    for (pk, msg, sig) in items {
        terms.push(Terms::of(pk, &signing_bytes(*msg), sig).ok_or_else(bad_batch)?);
    }
    // 128-bit random coefficients, as in every ed25519 batch verifier: a forger who cannot
    // predict them cannot make bad equations cancel.
    let mut random = vec![0u8; 16 * terms.len()];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut random);
    let zs: Vec<Scalar> = random
        .chunks_exact(16)
        .map(|c| {
            let mut z = [0u8; 32];
            z[..16].copy_from_slice(c);
            Scalar::from_bytes_mod_order(z)
        })
        .collect();
    let b_coefficient: Scalar = terms.iter().zip(&zs).map(|(t, z)| t.s * z).sum();
    let scalars = std::iter::once(-b_coefficient)
        .chain(zs.iter().copied())
        .chain(terms.iter().zip(&zs).map(|(t, z)| t.k * z));
    let points = std::iter::once(curve25519_dalek::constants::ED25519_BASEPOINT_POINT)
        .chain(terms.iter().map(|t| t.r))
        .chain(terms.iter().map(|t| t.a));
    // [8](-[sum z s]B + sum [z]R + sum [z k]A) = 0
    let sum = EdwardsPoint::vartime_multiscalar_mul(scalars, points);
    if sum.mul_by_cofactor().is_identity() {
        Ok(())
    } else {
        Err(bad_batch())
    }
}

/// One signature's terms in the verification equation, once its encodings pass the rule.
struct Terms {
    a: EdwardsPoint,
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
}

impl Terms {
    /// `None` where an encoding breaks the rule (see [`verify_batch`]).
    fn of(key: &PublicKey, msg: &[u8], sig: &Signature) -> Option<Terms> {
        let (r_bytes, s_bytes) = sig.0.split_at(32);
        let r_bytes: [u8; 32] = r_bytes.try_into().ok()?;
        let s_bytes: [u8; 32] = s_bytes.try_into().ok()?;
        if !strict_point_encoding(&key.0) || !strict_point_encoding(&r_bytes) {
            return None;
        }
        let a = crate::key_cache::KeyCache::global().decompress(&key.0)?;
        let r = CompressedEdwardsY(r_bytes).decompress()?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes))?;
        let mut h = Sha512::new();
        h.update(r_bytes);
        h.update(key.0);
        h.update(msg);
        let k = Scalar::from_hash(h);
        Some(Terms { a, r, s, k })
    }
}

/// Whether 32 bytes are a canonical point encoding (y below the field prime; the sign bit is
/// only set on points with x = 0, which are small-order) of a point that is not of small order.
/// Compares bytes only: it runs before decompressing, which costs a fifth of a batch check.
fn strict_point_encoding(point: &[u8; 32]) -> bool {
    let mut y = *point;
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

    /// Every small-order point, with either sign bit, and a non-canonical encoding break the
    /// rule, as R or as the key.
    #[test]
    fn small_order_and_non_canonical_points_break_the_rule() {
        for p in curve25519_dalek::constants::EIGHT_TORSION {
            let mut y = p.compress().0;
            assert!(!strict_point_encoding(&y));
            y[31] ^= 0x80;
            assert!(!strict_point_encoding(&y), "sign bit flipped");
        }
        let mut above_p = [0xffu8; 32];
        above_p[31] = 0x7f;
        assert!(!strict_point_encoding(&above_p));
        let good = KeyPair::from_secret([3; 32]).sign(&Msg(7));
        assert!(strict_point_encoding(&good.0[..32].try_into().unwrap()));
        // The identity key with R = identity and s = 0 satisfies every equation, for any
        // message: both checks refuse it on the encodings.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let key = PublicKey(identity);
        let mut sig = [0u8; SIGNATURE_LEN];
        sig[..32].copy_from_slice(&identity);
        let sig = Signature(sig);
        assert!(key.verify(&Msg(1), &sig).is_err());
        assert!(verify_batch(&[(&key, &Msg(1), &sig)]).is_err());
    }

    /// A signature whose s is not reduced below the group order is refused, alone and batched,
    /// though s + L satisfies the same equation.
    #[test]
    fn a_non_canonical_s_is_refused_both_ways() {
        let key = KeyPair::from_secret([4; 32]);
        let mut sig = key.sign(&Msg(9));
        let s = Scalar::from_canonical_bytes(sig.0[32..].try_into().unwrap()).unwrap();
        // s + L as a 256-bit integer, when it fits.
        // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
        let l: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9,
            0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        let mut sum = [0u8; 32];
        for i in 0..32 {
            let v = s.as_bytes()[i] as u16 + l[i] as u16 + carry;
            sum[i] = v as u8;
            carry = v >> 8;
        }
        assert_eq!(carry, 0);
        sig.0[32..].copy_from_slice(&sum);
        assert!(key.public().verify(&Msg(9), &sig).is_err());
        assert!(verify_batch(&[(&key.public(), &Msg(9), &sig)]).is_err());
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
